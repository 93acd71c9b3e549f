"""Shared helpers: build a torch.nn module from one item of the cnncalc YAML
vocabulary (see shared/docs/spec-format.md) and evaluate it.

A layer item is {"type": args} where args is an argument map (canonical short
names), a scalar (the type's primary argument), or None/{} for all defaults.
"""
import math
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

warnings.filterwarnings("ignore")

PRIMARY = {
    "maxpool1d": "kernel", "maxpool2d": "kernel", "maxpool3d": "kernel",
    "avgpool1d": "kernel", "avgpool2d": "kernel", "avgpool3d": "kernel",
    "adaptiveavgpool1d": "output", "adaptiveavgpool2d": "output", "adaptiveavgpool3d": "output",
    "adaptivemaxpool1d": "output", "adaptivemaxpool2d": "output", "adaptivemaxpool3d": "output",
    "linear": "out", "fc": "out", "dense": "out", "layernorm": "shape", "groupnorm": "groups",
    "dropout": "p", "dropout2d": "p", "dropout3d": "p",
    "zeropad1d": "padding", "zeropad2d": "padding", "zeropad3d": "padding",
    "upsample": "scale",
}

ACTIVATIONS = ["relu", "relu6", "leakyrelu", "elu", "gelu", "silu", "sigmoid", "tanh",
               "hardswish", "hardsigmoid", "softmax", "identity"]


class ContractError(Exception):
    """An error the contract demands where PyTorch itself raises nothing."""


def split(layer):
    """Return (type, args dict) of a layer item."""
    if isinstance(layer, str):
        return layer, {}
    (typ, val), = layer.items()
    if val is None:
        return typ, {}
    if isinstance(val, dict):
        return typ, dict(val)
    return typ, {PRIMARY[typ]: val}


def rank_of(typ):
    """Spatial rank encoded in a type name (conv2d -> 2), or None."""
    if typ[-2:] in ("1d", "2d", "3d") and not typ.startswith("dropout") and not typ.startswith("batchnorm1d"):
        return int(typ[-2])
    return None


def tup(v, n):
    if isinstance(v, (list, tuple)):
        return tuple(v)
    return (v,) * n


class TFSamePad(nn.Module):
    """TensorFlow-style 'same' padding for strided convs: smaller half on the left."""

    def __init__(self, kernel, stride, dilation):
        super().__init__()
        self.k, self.s, self.d = kernel, stride, dilation

    def pads(self, sizes):
        out = []
        for n, k, s, d in zip(sizes, self.k, self.s, self.d):
            total = max((math.ceil(n / s) - 1) * s + d * (k - 1) + 1 - n, 0)
            out.append((total // 2, total - total // 2))
        return out

    def forward(self, x):
        pads = self.pads(x.shape[2:])
        flat = []
        for lo, hi in reversed(pads):
            flat += [lo, hi]
        return F.pad(x, flat)


def contract_rank_error(typ, ndim):
    """Rank rules of the contract (ndim counts the batch axis)."""
    r = rank_of(typ)
    if typ == "batchnorm1d":
        if ndim not in (2, 3):
            return f"batchnorm1d expects a 2-D or 3-D input (N,C) or (N,C,L), got {ndim}-D"
        return None
    if r is not None and ndim != r + 2:
        return f"{typ} expects a {r + 2}-D input (batch, channels and {r} spatial axes), got {ndim}-D"
    if typ in ("dropout2d", "dropout3d"):
        r = int(typ[-2])
        if ndim != r + 2:
            return f"{typ} expects a {r + 2}-D input, got {ndim}-D"
    return None


def build(layer, xshape):
    """Build the module for `layer` fed an input of shape xshape (batch included)."""
    typ, a = split(layer)
    ndim = len(xshape)
    C = xshape[1] if ndim >= 2 else None
    r = rank_of(typ)

    if typ.startswith("conv") and not typ.startswith("convtranspose"):
        cls = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[r]
        k = tup(a["kernel"], r)
        s = tup(a.get("stride", 1), r)
        d = tup(a.get("dilation", 1), r)
        pad = a.get("padding", 0)
        mode = a.get("padding_mode", "zeros")
        kw = dict(stride=s, dilation=d, groups=a.get("groups", 1), bias=a.get("bias", True),
                  padding_mode=mode)
        if pad == "same" and any(x > 1 for x in s):
            assert mode == "zeros"
            return nn.Sequential(TFSamePad(k, s, d), cls(C, a["out"], k, padding=0, **kw))
        if isinstance(pad, list):
            pad = tuple(pad)
        return cls(C, a["out"], k, padding=pad, **kw)
    if typ.startswith("convtranspose"):
        cls = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}[r]
        k = tup(a["kernel"], r)
        return cls(C, a["out"], k, stride=tup(a.get("stride", 1), r), padding=tup(a.get("padding", 0), r),
                   output_padding=tup(a.get("output_padding", 0), r), dilation=tup(a.get("dilation", 1), r),
                   groups=a.get("groups", 1), bias=a.get("bias", True))
    if typ.startswith("maxpool"):
        cls = {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d}[r]
        k = tup(a["kernel"], r)
        st = tup(a["stride"], r) if "stride" in a else None
        return cls(k, stride=st, padding=tup(a.get("padding", 0), r), dilation=tup(a.get("dilation", 1), r),
                   ceil_mode=a.get("ceil_mode", False))
    if typ.startswith("avgpool"):
        cls = {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d}[r]
        k = tup(a["kernel"], r)
        st = tup(a["stride"], r) if "stride" in a else None
        return cls(k, stride=st, padding=tup(a.get("padding", 0), r), ceil_mode=a.get("ceil_mode", False),
                   count_include_pad=a.get("count_include_pad", True))
    if typ.startswith("adaptive"):
        cls = {"adaptiveavgpool1d": nn.AdaptiveAvgPool1d, "adaptiveavgpool2d": nn.AdaptiveAvgPool2d,
               "adaptiveavgpool3d": nn.AdaptiveAvgPool3d, "adaptivemaxpool1d": nn.AdaptiveMaxPool1d,
               "adaptivemaxpool2d": nn.AdaptiveMaxPool2d, "adaptivemaxpool3d": nn.AdaptiveMaxPool3d}[typ]
        o = a["output"]
        return cls(tuple(o) if isinstance(o, list) else o)
    if typ in ("linear", "fc", "dense"):
        return nn.Linear(xshape[-1], a["out"], bias=a.get("bias", True))
    if typ == "flatten":
        return nn.Flatten(a.get("start_dim", 1), a.get("end_dim", -1))
    if typ.startswith("batchnorm"):
        cls = {"batchnorm1d": nn.BatchNorm1d, "batchnorm2d": nn.BatchNorm2d, "batchnorm3d": nn.BatchNorm3d}[typ]
        return cls(C, eps=a.get("eps", 1e-5), momentum=a.get("momentum", 0.1), affine=a.get("affine", True),
                   track_running_stats=a.get("track_running_stats", True))
    if typ.startswith("instancenorm"):
        cls = {1: nn.InstanceNorm1d, 2: nn.InstanceNorm2d, 3: nn.InstanceNorm3d}[r]
        return cls(C, eps=a.get("eps", 1e-5), momentum=a.get("momentum", 0.1), affine=a.get("affine", False),
                   track_running_stats=a.get("track_running_stats", False))
    if typ == "layernorm":
        shape = a.get("shape", list(xshape[1:]))
        if isinstance(shape, list):
            shape = tuple(shape)
        return nn.LayerNorm(shape, eps=a.get("eps", 1e-5), elementwise_affine=a.get("elementwise_affine", True))
    if typ == "groupnorm":
        return nn.GroupNorm(a["groups"], C, eps=a.get("eps", 1e-5), affine=a.get("affine", True))
    if typ == "relu":
        return nn.ReLU()
    if typ == "relu6":
        return nn.ReLU6()
    if typ == "leakyrelu":
        return nn.LeakyReLU(a.get("negative_slope", 0.01))
    if typ == "elu":
        return nn.ELU(a.get("alpha", 1.0))
    if typ == "gelu":
        return nn.GELU(approximate=a.get("approximate", "none"))
    if typ == "silu":
        return nn.SiLU()
    if typ == "sigmoid":
        return nn.Sigmoid()
    if typ == "tanh":
        return nn.Tanh()
    if typ == "hardswish":
        return nn.Hardswish()
    if typ == "hardsigmoid":
        return nn.Hardsigmoid()
    if typ == "identity":
        return nn.Identity()
    if typ == "softmax":
        return nn.Softmax(dim=a.get("dim", 1))
    if typ == "dropout":
        return nn.Dropout(a.get("p", 0.5))
    if typ == "dropout2d":
        return nn.Dropout2d(a.get("p", 0.5))
    if typ == "dropout3d":
        return nn.Dropout3d(a.get("p", 0.5))
    if typ.startswith("zeropad"):
        p = a["padding"]
        # torch 1.13 has no ZeroPad1d/3d; ConstantPadNd(value=0) is the same module.
        cls = {1: nn.ConstantPad1d, 2: nn.ConstantPad2d, 3: nn.ConstantPad3d}[r]
        return cls(tuple(p) if isinstance(p, list) else p, 0.0)
    if typ == "upsample":
        size = a.get("size")
        scale = a.get("scale")
        kw = {}
        if "align_corners" in a:
            kw["align_corners"] = a["align_corners"]
        return nn.Upsample(size=tuple(size) if isinstance(size, list) else size,
                           scale_factor=tuple(float(x) for x in scale) if isinstance(scale, list)
                           else (float(scale) if scale is not None else None),
                           mode=a.get("mode", "nearest"), **kw)
    raise KeyError(typ)


def macs(layer, xshape, yshape, module):
    typ, a = split(layer)
    N = xshape[0]
    if typ.startswith("convtranspose"):
        m = module
        return N * m.in_channels * math.prod(xshape[2:]) * (m.out_channels // m.groups) * math.prod(m.kernel_size)
    if typ.startswith("conv"):
        m = module[-1] if isinstance(module, nn.Sequential) else module
        return N * m.out_channels * math.prod(yshape[2:]) * (m.in_channels // m.groups) * math.prod(m.kernel_size)
    if typ in ("linear", "fc", "dense"):
        return N * math.prod(xshape[1:-1]) * module.in_features * module.out_features
    return 0


def first_line(e):
    s = str(e).strip()
    return s.splitlines()[0] if s else type(e).__name__


def contract_extra(typ, a, xshape):
    """Contract errors checked before running torch (where torch itself may not raise)."""
    msg = contract_rank_error(typ, len(xshape))
    if msg:
        return msg
    if typ == "flatten":
        sd = a.get("start_dim", 1)
        if -len(xshape) <= sd < len(xshape) and sd % len(xshape) == 0:
            return f"flatten may not fold the batch axis (start_dim {sd})"
    return None


def evaluate(layer, input_shape, batch):
    """Return the result dict fields for one single-layer case."""
    typ, a = split(layer)
    xshape = [batch] + list(input_shape)
    # Torch first: when torch raises, its message is the reference.
    try:
        torch.manual_seed(0)
        m = build(layer, xshape)
        m.eval()
        with torch.no_grad():
            y = m(torch.randn(*xshape))
    except Exception as e:  # noqa: BLE001
        msg = first_line(e)
        return {"error": msg, "error_source": "torch", "error_kind": error_kind(typ, msg)}
    cmsg = contract_extra(typ, a, xshape)
    if cmsg:
        return {"error": cmsg, "error_source": "contract", "error_kind": error_kind(typ, cmsg)}
    if typ.startswith("instancenorm") and math.prod(xshape[2:]) == 1:
        return {"error": f"{typ}: expected more than 1 spatial element, got input size {xshape}",
                "error_source": "contract", "error_kind": "instancenorm_spatial"}
    if y.numel() == 0:
        return {"error": f"empty output {list(y.shape)}", "error_source": "contract", "error_kind": "empty_output"}
    params = sum(p.numel() for p in m.parameters())
    buffers = sum(b.numel() for n, b in m.named_buffers() if n.split(".")[-1] in ("running_mean", "running_var"))
    return {"output": list(y.shape), "params": params, "buffers": buffers,
            "macs": macs(layer, xshape, list(y.shape), m)}


ERROR_KINDS = [
    # (kind, substring of the message); first match wins
    ("pool_padding", "half of kernel size"),
    ("groups", "divisible by"),
    ("output_padding", "output padding must be smaller"),
    ("instancenorm_spatial", "spatial element"),
    ("single_value_stats", "more than 1 value per channel"),
    ("padding_mode", "Padding size should be less"),
    ("padding_mode", "wrapping around"),
    ("layernorm_shape", "normalized_shape"),
    ("flatten", "start_dim cannot come after end_dim"),
    ("flatten", "fold the batch axis"),
    ("rank", "expects a"),
    ("rank", "Expected 2D"),
    ("rank", "Expected 2 to 3 dimensions"),
    ("rank", "input (got"),
    ("rank", "mode needs"),
    ("rank", "Only 3D, 4D and 5D"),
    ("rank", "channels instead"),
    ("upsample_args", "only one of size or scale_factor"),
    ("upsample_args", "either size or scale_factor"),
    ("upsample_args", "align_corners option"),
    ("upsample_args", "same number of spatial dimensions"),
    ("empty_output", "Output size is too small"),
    ("empty_output", "Kernel size can't be greater"),
    ("empty_output", "smaller than kernel size"),
    ("empty_output", "empty output"),
    ("empty_output", "sizes should be greater than 0"),
    ("empty_output", "exceeds dimension size"),
    ("bad_argument", "dropout probability"),
    ("bad_argument", "approximate argument"),
]


def error_kind(typ, msg):
    if "Dimension out of range" in msg:
        return "flatten" if typ == "flatten" else "dim"
    for kind, sub in ERROR_KINDS:
        if sub in msg:
            return kind
    return "other"
