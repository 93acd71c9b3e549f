#!/usr/bin/python3
"""spec2torch: an independent PyTorch implementation of the cnncalc spec format.

Reads a cnncalc YAML spec, builds real torch.nn modules for it, runs a forward
pass in eval mode on a random tensor of shape [batch] + input, and prints the
contract's `--format json` object (without "name"/"from"/"rf" on the rows).

    spec2torch.py SPEC.yaml [--batch N] > OUT.json

Item-level `expect:` shapes are asserted (an error); a top-level `expect:` that
disagrees with what PyTorch computes is reported on stderr and the exit code is 3.
"""
import argparse
import json
import re
import sys

import yaml
import torch
import torch.nn as nn
import torch.nn.functional as F


class SpecError(Exception):
    pass


# ---------------------------------------------------------------- YAML loading

class Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 style floats (1e-5) and duplicate-key errors."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for knode, _ in node.value:
            key = self.construct_object(knode, deep=True)
            if key in seen:
                raise SpecError("line %d: duplicate key %r" % (knode.start_mark.line + 1, key))
            seen.add(key)
        return super().construct_mapping(node, deep)


Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"))


def load_spec(path):
    with open(path) as f:
        return yaml.load(f, Loader=Loader)


# ---------------------------------------------------------------- argument parsing

REQ = object()  # marks a required argument


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v):
    return (isinstance(v, (int, float))) and not isinstance(v, bool)


def per_axis(v, nd, what, allow_none=False):
    """An int for every axis, or a list with one int per spatial axis."""
    if is_int(v):
        return [v] * nd
    if isinstance(v, list) and len(v) == nd and all(is_int(e) or (allow_none and e is None) for e in v):
        return list(v)
    raise SpecError("%s: want an int or a list of %d ints, got %r" % (what, nd, v))


# family -> (arguments with defaults, aliases, checked input sizes, primary)
CONV_ARGS = dict(out=REQ, kernel=REQ, stride=1, padding=0, dilation=1, groups=1, bias=True, padding_mode="zeros")
TCONV_ARGS = dict(out=REQ, kernel=REQ, stride=1, padding=0, output_padding=0, dilation=1, groups=1, bias=True,
                  padding_mode="zeros")
FAMILIES = {
    "conv": (CONV_ARGS, {"out_channels": "out", "kernel_size": "kernel"}, ["in_channels"], None),
    "convtranspose": (TCONV_ARGS, {"out_channels": "out", "kernel_size": "kernel"}, ["in_channels"], None),
    "maxpool": (dict(kernel=REQ, stride=None, padding=0, dilation=1, ceil_mode=False),
                {"kernel_size": "kernel"}, [], "kernel"),
    "avgpool": (dict(kernel=REQ, stride=None, padding=0, ceil_mode=False, count_include_pad=True),
                {"kernel_size": "kernel"}, [], "kernel"),
    "adaptiveavgpool": (dict(output=REQ), {"output_size": "output"}, [], "output"),
    "adaptivemaxpool": (dict(output=REQ), {"output_size": "output"}, [], "output"),
    "linear": (dict(out=REQ, bias=True), {"out_features": "out"}, ["in_features"], "out"),
    "flatten": (dict(start_dim=1, end_dim=-1), {}, [], None),
    "batchnorm": (dict(eps=1e-5, momentum=0.1, affine=True, track_running_stats=True), {}, ["num_features"], None),
    "layernorm": (dict(shape=None, eps=1e-5, elementwise_affine=True), {"normalized_shape": "shape"}, [], "shape"),
    "instancenorm": (dict(eps=1e-5, momentum=0.1, affine=False, track_running_stats=False), {},
                     ["num_features"], None),
    "groupnorm": (dict(groups=REQ, eps=1e-5, affine=True), {"num_groups": "groups"}, ["num_channels"], "groups"),
    "relu": (dict(inplace=False), {}, [], None),
    "relu6": (dict(inplace=False), {}, [], None),
    "leakyrelu": (dict(negative_slope=0.01, inplace=False), {}, [], None),
    "elu": (dict(alpha=1.0, inplace=False), {}, [], None),
    "gelu": (dict(approximate="none"), {}, [], None),
    "silu": (dict(inplace=False), {}, [], None),
    "sigmoid": ({}, {}, [], None),
    "tanh": ({}, {}, [], None),
    "hardswish": (dict(inplace=False), {}, [], None),
    "hardsigmoid": (dict(alpha=1 / 6, beta=0.5, inplace=False), {}, [], None),
    "softmax": (dict(dim=1), {}, [], None),
    "identity": ({}, {}, [], None),
    "dropout": (dict(p=0.5, inplace=False), {}, [], "p"),
    "zeropad": (dict(padding=REQ, value=0.0), {}, [], "padding"),
    "unflatten": (dict(dim=REQ, sizes=REQ), {"unflattened_size": "sizes"}, [], None),
    "upsample": (dict(scale=None, size=None, mode="nearest", align_corners=None, size_of=None),
                 {"scale_factor": "scale", "like": "size_of"}, [], "scale"),
    "selu": (dict(inplace=False), {}, [], None),
    "celu": (dict(alpha=1.0, inplace=False), {}, [], "alpha"),
    "prelu": (dict(num_parameters=1, init=0.25), {"n": "num_parameters"}, [], "num_parameters"),
    "softplus": (dict(beta=1.0, threshold=20.0), {}, [], "beta"),
    "logsoftmax": (dict(dim=1), {}, [], "dim"),
    "hardtanh": (dict(min_val=-1.0, max_val=1.0, inplace=False), {"min": "min_val", "max": "max_val"}, [], None),
    "mish": (dict(inplace=False), {}, [], None),
    "chunk": (dict(chunks=REQ, index=REQ, dim=1), {}, [], None),
    "split": (dict(size=None, sections=None, index=REQ, dim=1), {"split_size": "size"}, [], None),
    "channelshuffle": (dict(groups=REQ), {}, [], "groups"),
    "permute": (dict(dims=REQ), {}, [], "dims"),
    "layernorm2d": (dict(eps=1e-5, elementwise_affine=True), {"affine": "elementwise_affine"}, ["num_channels"], None),
    "layerscale": (dict(init=1e-6), {}, [], "init"),
    "stochasticdepth": (dict(p=0.0, mode="row"), {}, [], "p"),
}

# canonical type name -> (family, spatial rank or None)
TYPES = {}
for _nd in (1, 2, 3):
    for _fam in ("conv", "convtranspose", "maxpool", "avgpool", "adaptiveavgpool", "adaptivemaxpool",
                 "batchnorm", "instancenorm", "zeropad"):
        TYPES["%s%dd" % (_fam, _nd)] = (_fam, _nd)
for _fam in FAMILIES:
    if _fam not in ("conv", "convtranspose", "maxpool", "avgpool", "adaptiveavgpool", "adaptivemaxpool",
                    "batchnorm", "instancenorm", "zeropad"):
        TYPES[_fam] = (_fam, None)
TYPES["dropout1d"] = ("dropout", 1)
TYPES["dropout2d"] = ("dropout", 2)
TYPES["dropout3d"] = ("dropout", 3)
TYPE_ALIASES = {"constantpad1d": "zeropad1d", "constantpad2d": "zeropad2d", "constantpad3d": "zeropad3d", "fc": "linear", "dense": "linear", "clip": "hardtanh", "log_softmax": "logsoftmax",
                "channel_shuffle": "channelshuffle", "shuffle": "channelshuffle", "layer_scale": "layerscale",
                "stochastic_depth": "stochasticdepth", "droppath": "stochasticdepth", "drop_path": "stochasticdepth"}
MERGES = ("add", "concat", "mul")
COMPOSITES = ("repeat", "residual", "concat", "add", "mul", "gate")
WIRING = ("name", "from", "expect", "trainable")


def parse_args(canon, fam, value, path):
    defaults, aliases, checks, primary = FAMILIES[fam]
    if value is None:
        given = {}
    elif isinstance(value, dict):
        given = {}
        for k, v in value.items():
            key = aliases.get(k, k)
            if key in checks:
                given[key] = v
                continue
            if key not in defaults:
                raise SpecError("%s (%s): unknown argument %r" % (path, canon, k))
            if key in given:
                raise SpecError("%s (%s): argument %r given twice (alias %r)" % (path, canon, key, k))
            given[key] = v
    else:
        if primary is None:
            raise SpecError("%s (%s): takes no scalar shorthand, got %r" % (path, canon, value))
        given = {primary: value}
    args = {}
    for k, d in defaults.items():
        v = given.get(k, d)
        if v is REQ:
            raise SpecError("%s (%s): missing required argument %r" % (path, canon, k))
        args[k] = v
    for k in checks:
        if k in given:
            args["__check_" + k] = given[k]
    return args


def check_input_size(args, key, actual, path, canon):
    want = args.get("__check_" + key)
    if want is not None and want != actual:
        raise SpecError("%s (%s): %s is %r but the input has %d" % (path, canon, key, want, actual))


def need_rank(x, ranks, path, canon):
    if x.dim() not in ranks:
        raise SpecError("%s (%s): needs an input of rank %s (batch included), got shape %s"
                        % (path, canon, " or ".join(map(str, ranks)), list(x.shape)))


# ---------------------------------------------------------------- helper modules

class PadThen(nn.Module):
    """Explicit (possibly asymmetric) padding, then the wrapped conv."""

    def __init__(self, pad, mode, conv):
        super().__init__()
        self.pad = pad  # F.pad order: last axis first, (left, right) pairs
        self.mode = mode
        self.conv = conv

    def forward(self, x):
        if any(self.pad):
            x = F.pad(x, self.pad, mode=self.mode)
        return self.conv(x)


class Pad(nn.Module):
    def __init__(self, pad, value=0.0):
        super().__init__()
        self.pad = pad
        self.value = value

    def forward(self, x):
        return F.pad(x, self.pad, value=self.value)


class Piece(nn.Module):
    """torch.chunk or torch.split along dim, then piece index."""

    def __init__(self, kind, arg, index, dim):
        super().__init__()
        self.kind, self.arg, self.index, self.dim = kind, arg, index, dim

    def forward(self, x):
        parts = torch.chunk(x, self.arg, self.dim) if self.kind == "chunk" else torch.split(x, self.arg, self.dim)
        return parts[self.index]


class Permute(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.dims = list(dims)

    def forward(self, x):
        return x.permute(self.dims)


class LayerScale(nn.Module):
    """A learnable per-channel multiply, gamma (C, 1, ...) as torchvision's ConvNeXt holds layer_scale."""

    def __init__(self, c, rank, init):
        super().__init__()
        self.weight = nn.Parameter(torch.ones([c] + [1] * (rank - 2)) * init)

    def forward(self, x):
        return self.weight * x


class HardSigmoidAB(nn.Module):
    def __init__(self, alpha, beta):
        super().__init__()
        self.alpha, self.beta = alpha, beta

    def forward(self, x):
        return torch.clamp(self.alpha * x + self.beta, 0, 1)


class UpsampleLike(nn.Module):
    """F.interpolate to the spatial size of a second tensor (FCN's, DeepLabV3's, LRASPP's upsampling)."""

    def __init__(self, mode, align_corners):
        super().__init__()
        self.mode, self.align_corners = mode, align_corners

    def forward(self, x, like):
        return F.interpolate(x, size=like.shape[2:], mode=self.mode, align_corners=self.align_corners)


def torch_pad_order(pairs):
    """[(l0, r0), (l1, r1), ...] per axis (first spatial axis first) -> F.pad's order (last axis first)."""
    out = []
    for l, r in reversed(pairs):
        out += [l, r]
    return out


# ---------------------------------------------------------------- layer building

def build_layer(canon, fam, nd, args, x, path):
    """Returns (module, macs_fn(x, y)). x is the real input tensor (batch first)."""
    C = x.shape[1] if x.dim() >= 2 else None
    zero = lambda x, y: 0
    if fam in ("conv", "convtranspose"):
        need_rank(x, [nd + 2], path, canon)
        check_input_size(args, "in_channels", C, path, canon)
        k = per_axis(args["kernel"], nd, path + " kernel")
        s = per_axis(args["stride"], nd, path + " stride")
        d = per_axis(args["dilation"], nd, path + " dilation")
        g, out = args["groups"], args["out"]
        if not (is_int(out) and out > 0 and is_int(g) and g > 0):
            raise SpecError("%s (%s): bad out/groups %r/%r" % (path, canon, out, g))
        if C % g or out % g:
            raise SpecError("%s (%s): channels %d -> %d do not divide by groups %d" % (path, canon, C, out, g))
        if fam == "conv":
            cls = [nn.Conv1d, nn.Conv2d, nn.Conv3d][nd - 1]
            mode = args["padding_mode"]
            if mode not in ("zeros", "reflect", "replicate", "circular"):
                raise SpecError("%s (%s): bad padding_mode %r" % (path, canon, mode))
            p = args["padding"]
            if p == "valid":
                p = 0
            if p == "same" and all(v == 1 for v in s):
                # PyTorch's own padding="same" (stride 1): symmetric padding inside the conv, and an
                # explicit pad of the one odd pixel on the right where the total padding is odd
                conv = mod = cls(C, out, k, s, "same", d, g, bool(args["bias"]), mode)
            elif p == "same":
                pairs = []
                for ax in range(nd):
                    n = x.shape[2 + ax]
                    total = max((-(-n // s[ax]) - 1) * s[ax] + d[ax] * (k[ax] - 1) + 1 - n, 0)
                    pairs.append((total // 2, total - total // 2))
                conv = cls(C, out, k, s, 0, d, g, bool(args["bias"]))
                mod = PadThen(torch_pad_order(pairs), "constant" if mode == "zeros" else mode, conv)
            else:
                p = per_axis(p, nd, path + " padding")
                conv = mod = cls(C, out, k, s, p, d, g, bool(args["bias"]), mode)

            def macs(x, y, conv=conv):
                sp = 1
                for v in y.shape[2:]:
                    sp *= v
                kk = 1
                for v in conv.kernel_size:
                    kk *= v
                return y.shape[0] * y.shape[1] * sp * (x.shape[1] // conv.groups) * kk
            return mod, macs
        else:
            if args["padding_mode"] != "zeros":
                raise SpecError("%s (%s): padding_mode must be zeros" % (path, canon))
            p = per_axis(args["padding"], nd, path + " padding")
            op = per_axis(args["output_padding"], nd, path + " output_padding")
            for ax in range(nd):
                if op[ax] >= max(s[ax], d[ax]):
                    raise SpecError("%s (%s): output_padding %d not below max(stride %d, dilation %d)"
                                    % (path, canon, op[ax], s[ax], d[ax]))
            cls = [nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d][nd - 1]
            conv = cls(C, out, k, s, p, op, g, bool(args["bias"]), d)

            def macs(x, y, conv=conv):
                sp = 1
                for v in x.shape[2:]:
                    sp *= v
                kk = 1
                for v in conv.kernel_size:
                    kk *= v
                return x.shape[0] * x.shape[1] * sp * (conv.out_channels // conv.groups) * kk
            return conv, macs
    if fam in ("maxpool", "avgpool"):
        need_rank(x, [nd + 2], path, canon)
        k = per_axis(args["kernel"], nd, path + " kernel")
        s = k if args["stride"] is None else per_axis(args["stride"], nd, path + " stride")
        p = per_axis(args["padding"], nd, path + " padding")
        for ax in range(nd):
            if p[ax] > k[ax] / 2:
                raise SpecError("%s (%s): padding %d above half the kernel %d" % (path, canon, p[ax], k[ax]))
        if fam == "maxpool":
            d = per_axis(args["dilation"], nd, path + " dilation")
            cls = [nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d][nd - 1]
            return cls(k, s, p, d, ceil_mode=bool(args["ceil_mode"])), zero
        cls = [nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d][nd - 1]
        return cls(k, s, p, ceil_mode=bool(args["ceil_mode"]),
                   count_include_pad=bool(args["count_include_pad"])), zero
    if fam in ("adaptiveavgpool", "adaptivemaxpool"):
        need_rank(x, [nd + 2], path, canon)
        o = per_axis(args["output"], nd, path + " output", allow_none=True)
        tab = {"adaptiveavgpool": [nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d],
               "adaptivemaxpool": [nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d]}
        return tab[fam][nd - 1](o[0] if nd == 1 else tuple(o)), zero
    if fam == "linear":
        if x.dim() < 2:
            raise SpecError("%s (%s): needs rank >= 2" % (path, canon))
        fin = x.shape[-1]
        check_input_size(args, "in_features", fin, path, canon)
        lin = nn.Linear(fin, args["out"], bias=bool(args["bias"]))

        def macs(x, y):
            lead = 1
            for v in x.shape[:-1]:
                lead *= v
            return lead * x.shape[-1] * y.shape[-1]
        return lin, macs
    if fam == "flatten":
        r = x.dim()
        sd, ed = args["start_dim"], args["end_dim"]
        if not (is_int(sd) and is_int(ed)) or not (-r <= sd < r and -r <= ed < r):
            raise SpecError("%s (flatten): dims %r..%r out of range for rank %d" % (path, sd, ed, r))
        if sd % r == 0:
            raise SpecError("%s (flatten): start_dim %d would fold the batch axis" % (path, sd))
        if ed % r < sd % r:
            raise SpecError("%s (flatten): end_dim before start_dim" % path)
        return nn.Flatten(sd, ed), zero
    if fam == "batchnorm":
        need_rank(x, [2, 3] if nd == 1 else [nd + 2], path, canon)
        check_input_size(args, "num_features", C, path, canon)
        cls = [nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d][nd - 1]
        return cls(C, eps=float(args["eps"]), momentum=args["momentum"], affine=bool(args["affine"]),
                   track_running_stats=bool(args["track_running_stats"])), zero
    if fam == "instancenorm":
        need_rank(x, [nd + 2], path, canon)
        check_input_size(args, "num_features", C, path, canon)
        sp = 1
        for v in x.shape[2:]:
            sp *= v
        if sp == 1:
            raise SpecError("%s (%s): instance norm over a single spatial element" % (path, canon))
        cls = [nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d][nd - 1]
        return cls(C, eps=float(args["eps"]), momentum=args["momentum"], affine=bool(args["affine"]),
                   track_running_stats=bool(args["track_running_stats"])), zero
    if fam == "layernorm":
        shp = args["shape"]
        if shp is None:
            shp = list(x.shape[1:])
        elif is_int(shp):
            shp = [shp]
        if list(x.shape[x.dim() - len(shp):]) != list(shp) or len(shp) >= x.dim():
            raise SpecError("%s (layernorm): shape %r does not match the trailing axes of %s"
                            % (path, shp, list(x.shape)))
        return nn.LayerNorm(shp, eps=float(args["eps"]), elementwise_affine=bool(args["elementwise_affine"])), zero
    if fam == "groupnorm":
        check_input_size(args, "num_channels", C, path, canon)
        g = args["groups"]
        if C % g:
            raise SpecError("%s (groupnorm): channels %d do not divide by groups %d" % (path, C, g))
        return nn.GroupNorm(g, C, eps=float(args["eps"]), affine=bool(args["affine"])), zero
    if fam == "dropout":
        if nd is not None:
            need_rank(x, [nd + 2], path, canon)
        cls = {None: nn.Dropout, 1: nn.Dropout1d, 2: nn.Dropout2d, 3: nn.Dropout3d}[nd]
        return cls(float(args["p"]), bool(args["inplace"])), zero
    if fam == "zeropad":
        need_rank(x, [nd + 2], path, canon)
        p = args["padding"]
        if is_int(p):
            pad = [p] * (2 * nd)
        elif isinstance(p, list) and len(p) == 2 * nd and all(is_int(v) for v in p):
            pad = list(p)  # already PyTorch's order: [left, right, top, bottom, front, back]
        else:
            raise SpecError("%s (%s): padding wants an int or %d ints" % (path, canon, 2 * nd))
        if not is_num(args["value"]):
            raise SpecError("%s (%s): value wants a number" % (path, canon))
        return Pad(pad, float(args["value"])), zero
    if fam == "unflatten":
        r = x.dim()
        d, sizes = args["dim"], args["sizes"]
        if not is_int(d) or not -r <= d < r or d % r == 0:
            raise SpecError("%s (unflatten): dim %r out of range or the batch axis" % (path, d))
        if not isinstance(sizes, list) or not all(is_int(v) and v >= 1 for v in sizes):
            raise SpecError("%s (unflatten): sizes wants a list of sizes" % path)
        n = 1
        for v in sizes:
            n *= v
        if n != x.shape[d]:
            raise SpecError("%s (unflatten): sizes %r multiply to %d, axis has %d" % (path, sizes, n, x.shape[d]))
        return nn.Unflatten(d, tuple(sizes)), zero
    if fam == "upsample":
        scale, size, mode = args["scale"], args["size"], args["mode"]
        if args.get("__like") is not None:
            if scale is not None or size is not None:
                raise SpecError("%s (upsample): give exactly one of scale, size or size_of" % path)
            return UpsampleLike(mode, args["align_corners"]), zero
        if (scale is None) == (size is None):
            raise SpecError("%s (upsample): give exactly one of scale or size" % path)
        ranks = {"nearest": [3, 4, 5], "nearest-exact": [3, 4, 5], "linear": [3], "bilinear": [4], "bicubic": [4], "trilinear": [5]}
        if mode not in ranks:
            raise SpecError("%s (upsample): bad mode %r" % (path, mode))
        need_rank(x, ranks[mode], path, canon)
        snd = x.dim() - 2
        kw = {}
        if scale is not None:
            if is_num(scale):
                kw["scale_factor"] = float(scale)
            elif isinstance(scale, list) and len(scale) == snd and all(is_num(v) for v in scale):
                kw["scale_factor"] = tuple(float(v) for v in scale)
            else:
                raise SpecError("%s (upsample): bad scale %r" % (path, scale))
        else:
            kw["size"] = tuple(per_axis(size, snd, path + " size"))
        return nn.Upsample(mode=mode, align_corners=args["align_corners"], **kw), zero
    if fam in ("chunk", "split"):
        dim = args["dim"]
        if not is_int(dim) or not -x.dim() <= dim < x.dim() or dim % x.dim() == 0:
            raise SpecError("%s (%s): dim %r (the batch axis is not allowed)" % (path, canon, dim))
        if fam == "chunk":
            return Piece("chunk", args["chunks"], args["index"], dim), zero
        if (args["size"] is None) == (args["sections"] is None):
            raise SpecError("%s (split): give exactly one of size or sections" % path)
        arg = args["size"] if args["size"] is not None else list(args["sections"])
        return Piece("split", arg, args["index"], dim), zero
    if fam == "channelshuffle":
        return nn.ChannelShuffle(args["groups"]), zero
    if fam == "permute":
        dims = args["dims"]
        if not isinstance(dims, list) or sorted(d % x.dim() for d in dims) != list(range(x.dim())) or dims[0] % x.dim():
            raise SpecError("%s (permute): dims %r must permute the axes and keep the batch first" % (path, dims))
        return Permute(dims), zero
    if fam == "layernorm2d":
        from torchvision.models.convnext import LayerNorm2d
        need_rank(x, [4], path, canon)
        check_input_size(args, "num_channels", C, path, canon)
        return LayerNorm2d(C, eps=float(args["eps"]), elementwise_affine=bool(args["elementwise_affine"])), zero
    if fam == "layerscale":
        return LayerScale(C, x.dim(), float(args["init"])), zero
    if fam == "stochasticdepth":
        from torchvision.ops import StochasticDepth
        return StochasticDepth(float(args["p"]), args["mode"]), zero
    if fam == "prelu":
        return nn.PReLU(args["num_parameters"], float(args["init"])), zero
    if fam == "hardsigmoid" and (args["alpha"] != 1 / 6 or args["beta"] != 0.5):
        return HardSigmoidAB(float(args["alpha"]), float(args["beta"])), zero
    # plain activations
    ip = lambda a: bool(a.get("inplace", False))  # inplace: true builds PyTorch's in-place module
    simple = {"selu": lambda a: nn.SELU(ip(a)), "celu": lambda a: nn.CELU(float(a["alpha"]), ip(a)),
              "softplus": lambda a: nn.Softplus(float(a["beta"]), float(a["threshold"])),
              "logsoftmax": lambda a: nn.LogSoftmax(dim=a["dim"]), "mish": lambda a: nn.Mish(ip(a)),
              "hardtanh": lambda a: nn.Hardtanh(float(a["min_val"]), float(a["max_val"]), ip(a)),
              "relu": lambda a: nn.ReLU(ip(a)), "relu6": lambda a: nn.ReLU6(ip(a)),
              "leakyrelu": lambda a: nn.LeakyReLU(float(a["negative_slope"]), ip(a)),
              "elu": lambda a: nn.ELU(float(a["alpha"]), ip(a)), "gelu": lambda a: nn.GELU(approximate=a["approximate"]),
              "silu": lambda a: nn.SiLU(ip(a)), "sigmoid": lambda a: nn.Sigmoid(), "tanh": lambda a: nn.Tanh(),
              "hardswish": lambda a: nn.Hardswish(ip(a)), "hardsigmoid": lambda a: nn.Hardsigmoid(ip(a)),
              "softmax": lambda a: nn.Softmax(dim=a["dim"]), "identity": lambda a: nn.Identity()}
    if fam == "softmax":
        if not is_int(args["dim"]) or not -x.dim() <= args["dim"] < x.dim():
            raise SpecError("%s (softmax): dim %r out of range" % (path, args["dim"]))
    return simple[fam](args), zero


# ---------------------------------------------------------------- the network

class Net(nn.Module):
    """Runs the compiled program: a list of (kind, module index or dim, input ids, output id)."""

    def __init__(self):
        super().__init__()
        self.mods = nn.ModuleList()
        self.prog = []

    def forward(self, x):
        vals = {0: x}
        out = 0
        for kind, arg, ins, o in self.prog:
            if kind == "layer":
                vals[o] = self.mods[arg](*[vals[i] for i in ins])
            elif kind == "mul":
                v = vals[ins[0]]
                for i in ins[1:]:
                    v = v * vals[i]
                vals[o] = v
            elif kind == "add":
                v = vals[ins[0]]
                for i in ins[1:]:
                    v = v + vals[i]
                vals[o] = v
            else:
                vals[o] = torch.cat([vals[i] for i in ins], dim=arg)
            out = o
        return vals[out]


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def n_buffers(m):
    return sum(b.numel() for n, b in m.named_buffers()
               if n.endswith("running_mean") or n.endswith("running_var"))


class Compiler:
    def __init__(self, spec, batch):
        self.blocks = spec.get("blocks") or {}
        if not isinstance(self.blocks, dict):
            raise SpecError("blocks: want a map")
        self.check_block_cycles()
        self.net = Net()
        self.rows = []
        self.vals = {}
        self.next_id = 1
        inp = spec.get("input")
        if not (isinstance(inp, list) and 1 <= len(inp) <= 4 and all(is_int(v) and v > 0 for v in inp)):
            raise SpecError("input: want [C], [C, L], [C, H, W] or [C, D, H, W], got %r" % (inp,))
        torch.manual_seed(0)
        self.vals[0] = torch.randn([batch] + inp)

    # -- blocks
    def block_refs(self, items, acc):
        if not isinstance(items, list):
            return
        for it in items:
            if isinstance(it, str):
                if it in self.blocks:
                    acc.add(it)
            elif isinstance(it, dict):
                for k, v in it.items():
                    if k in self.blocks:
                        acc.add(k)
                    if k in ("repeat",):
                        self.block_refs(it.get("layers"), acc)
                    if k in ("residual", "shortcut", "gate"):
                        self.block_refs(v, acc)
                    if k == "concat" and isinstance(v, list):
                        for br in v:
                            self.block_refs(br, acc)

    def check_block_cycles(self):
        for name, b in self.blocks.items():
            if name in TYPES or name in TYPE_ALIASES or name in COMPOSITES:
                raise SpecError("blocks.%s: shadows a built-in type" % name)
            if not isinstance(b, dict) or "layers" not in b or set(b) - {"args", "layers"}:
                raise SpecError("blocks.%s: want a map with layers and optional args" % name)
        graph = {}
        for name, b in self.blocks.items():
            acc = set()
            self.block_refs(b["layers"], acc)
            graph[name] = acc
        state = {}

        def visit(n, stack):
            if state.get(n) == 1:
                raise SpecError("blocks: cycle %s" % " -> ".join(stack + [n]))
            if state.get(n) == 2:
                return
            state[n] = 1
            for m in sorted(graph[n]):
                visit(m, stack + [n])
            state[n] = 2
        for n in self.blocks:
            visit(n, [])

    @staticmethod
    def substitute(obj, args, path):
        if isinstance(obj, str) and obj.startswith("$"):
            if obj[1:] not in args:
                raise SpecError("%s: %s is not an argument of the block" % (path, obj))
            return args[obj[1:]]
        if isinstance(obj, list):
            return [Compiler.substitute(v, args, path) for v in obj]
        if isinstance(obj, dict):
            return {k: Compiler.substitute(v, args, path) for k, v in obj.items()}
        return obj

    # -- values
    def new_val(self, t):
        i = self.next_id
        self.next_id += 1
        self.vals[i] = t
        return i

    def shape(self, i):
        return list(self.vals[i].shape)

    # -- items
    def items(self, items, cur, scope, path):
        if items is None:
            items = []
        if not isinstance(items, list):
            raise SpecError("%s: want a list of items" % path)
        for i, it in enumerate(items):
            cur = self.item(it, cur, scope, "%s[%d]" % (path, i))
        return cur

    def item(self, it, cur, scope, path):
        if isinstance(it, str):
            tkey, value, extra = it, None, {}
        elif isinstance(it, dict):
            keys = [k for k in it if k not in WIRING and k not in ("shortcut", "layers")]
            if len(keys) != 1:
                raise SpecError("%s: want exactly one type key, got %r" % (path, keys))
            tkey = keys[0]
            value = it[tkey]
            extra = it
            if "shortcut" in it and tkey != "residual":
                raise SpecError("%s: shortcut only goes with residual" % path)
            if "layers" in it and tkey != "repeat":
                raise SpecError("%s: layers only goes with repeat" % path)
        else:
            raise SpecError("%s: want a type name or a map, got %r" % (path, it))
        base = path
        path = "%s (%s)" % (path, tkey)
        first_mod = len(self.net.mods)  # trainable: false freezes the modules this item builds

        srcs = None
        if "from" in extra:
            f = extra["from"]
            names = [f] if isinstance(f, str) else f
            if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
                raise SpecError("%s: from wants a name or a list of names" % path)
            srcs = []
            for n in names:
                if n not in scope:
                    raise SpecError("%s: unknown name %r" % (path, n))
                srcs.append(scope[n])
        is_merge = tkey in ("add", "mul") or (tkey == "concat" and not isinstance(value, list))
        if is_merge:
            if srcs is None or len(srcs) < 2:
                raise SpecError("%s: a merge needs from: with two names or more" % path)
        elif srcs is not None:
            if len(srcs) != 1:
                raise SpecError("%s: only add/concat merges take more than one input" % path)
            cur = srcs[0]

        if tkey == "repeat":
            n = value
            if not is_int(n) or n < 0:
                raise SpecError("%s: repeat count %r" % (path, n))
            for r in range(n):
                cur = self.items(extra.get("layers"), cur, dict(scope), "%s.layers#%d" % (path, r + 1))
            out = cur
        elif tkey == "residual":
            if not isinstance(value, list):
                raise SpecError("%s: residual wants a list of items" % path)
            b = self.items(value, cur, scope, path + ".body")
            s = self.items(extra.get("shortcut") or [], cur, scope, path + ".shortcut")
            out = self.merge("add", 1, [b, s], path)
        elif tkey == "gate":
            if not isinstance(value, list):
                raise SpecError("%s: gate wants a list of items" % path)
            g = self.items(value, cur, scope, path + ".gate")
            out = self.merge("mul", 1, [cur, g], path)
        elif tkey == "concat" and isinstance(value, list):
            outs = []
            for bi, br in enumerate(value):
                if br is not None and not isinstance(br, list):
                    raise SpecError("%s: each concat branch is a list of items" % path)
                outs.append(self.items(br or [], cur, scope, "%s[%d]" % (path, bi)))
            if not outs:
                raise SpecError("%s: concat without branches" % path)
            out = self.merge("concat", 1, outs, path)
        elif is_merge:
            dim = 1
            if tkey in ("add", "mul"):
                if value not in (None, {}):
                    raise SpecError("%s: %s takes no arguments" % (path, tkey))
            else:
                if isinstance(value, dict):
                    if set(value) - {"dim"}:
                        raise SpecError("%s: concat takes only dim" % path)
                    dim = value.get("dim", 1)
                elif value is not None:
                    raise SpecError("%s: concat wants branches or {dim: D}" % path)
            out = self.merge(tkey, dim, srcs, path)
        elif tkey in self.blocks:
            blk = self.blocks[tkey]
            decl = blk.get("args") or {}
            if value is None:
                given = {}
            elif isinstance(value, dict):
                given = value
            else:
                raise SpecError("%s: block arguments want a map" % path)
            for k in given:
                if k not in decl:
                    raise SpecError("%s: %r is not an argument of block %s" % (path, k, tkey))
            args = dict(decl)
            args.update(given)
            body = self.substitute(blk["layers"], args, path)
            out = self.items(body, cur, dict(scope), path)
        else:
            canon = TYPE_ALIASES.get(tkey, tkey)
            if canon not in TYPES:
                raise SpecError("%s: unknown type %r" % (path, tkey))
            fam, nd = TYPES[canon]
            args = parse_args(canon, fam, value, base)
            extra_in = []
            if args.get("size_of") is not None:
                if args["size_of"] not in scope:
                    raise SpecError("%s: unknown name %r in size_of" % (path, args["size_of"]))
                extra_in = [scope[args["size_of"]]]
                args["__like"] = extra_in[0]
            out = self.layer(canon, fam, nd, args, cur, base, extra_in)

        if "trainable" in extra:
            if not isinstance(extra["trainable"], bool):
                raise SpecError("%s: trainable wants true or false" % path)
            if not extra["trainable"]:
                for m in self.net.mods[first_mod:]:
                    m.requires_grad_(False)
        if "name" in extra:
            nm = extra["name"]
            if not isinstance(nm, str) or nm == "input":
                raise SpecError("%s: bad name %r" % (path, nm))
            if nm in scope:
                raise SpecError("%s: name %r used twice" % (path, nm))
            scope[nm] = out
        if "expect" in extra:
            want = extra["expect"]
            got = self.shape(out)[1:]
            if not isinstance(want, list) or len(want) != len(got) or any(
                    w is not None and w != g for w, g in zip(want, got)):
                raise SpecError("%s: expect %r, got %r" % (path, want, got))
        return out

    def layer(self, canon, fam, nd, args, cur, path, extra_in=()):
        x = self.vals[cur]
        try:
            mod, macs = build_layer(canon, fam, nd, args, x, path)
            mod.eval()
            with torch.no_grad():
                y = mod(x, *[self.vals[i] for i in extra_in])
        except SpecError:
            raise
        except Exception as e:  # PyTorch's own complaint
            raise SpecError("%s (%s): PyTorch: %s" % (path, canon, str(e).splitlines()[0] if str(e) else repr(e)))
        if y.numel() == 0:
            raise SpecError("%s (%s): empty output %s" % (path, canon, list(y.shape)))
        idx = len(self.net.mods)
        self.net.mods.append(mod)
        o = self.new_val(y)
        self.net.prog.append(("layer", idx, [cur] + list(extra_in), o))
        self.rows.append({"type": canon, "input": [list(x.shape)] + [self.shape(i) for i in extra_in], "output": list(y.shape),
                          "params": n_params(mod), "buffers": n_buffers(mod), "macs": int(macs(x, y))})
        return o

    def merge(self, kind, dim, ins, path):
        ts = [self.vals[i] for i in ins]
        r = ts[0].dim()
        if kind == "add":
            for t in ts[1:]:
                if t.shape != ts[0].shape:
                    raise SpecError("%s: add of shapes %s" % (path, [list(t.shape) for t in ts]))
            y = ts[0]
            for t in ts[1:]:
                y = y + t
        elif kind == "mul":
            y = ts[0]
            try:
                for t in ts[1:]:
                    y = y * t
            except RuntimeError as e:  # shapes that do not broadcast
                raise SpecError("%s: mul of shapes %s: PyTorch: %s"
                                % (path, [list(t.shape) for t in ts], str(e).splitlines()[0]))
            if y.shape[0] != ts[0].shape[0] or y.dim() != ts[0].dim():
                raise SpecError("%s: mul broadcasts the first input %s to %s" % (path, list(ts[0].shape), list(y.shape)))
        else:
            if not is_int(dim) or not -r <= dim < r or dim % r == 0:
                raise SpecError("%s: concat dim %r (rank %d; the batch axis is not allowed)" % (path, dim, r))
            dim = dim % r
            for t in ts[1:]:
                if t.dim() != r or any(a != b for ax, (a, b) in enumerate(zip(t.shape, ts[0].shape)) if ax != dim):
                    raise SpecError("%s: concat of shapes %s on dim %d" % (path, [list(t.shape) for t in ts], dim))
            y = torch.cat(ts, dim=dim)
        o = self.new_val(y)
        self.net.prog.append((kind, dim, list(ins), o))
        self.rows.append({"type": kind, "input": [list(t.shape) for t in ts], "output": list(y.shape),
                          "params": 0, "buffers": 0, "macs": 0})
        return o


def compile_spec(spec, batch=None):
    """Returns (result dict in the contract's JSON form, Net, list of expectation problems)."""
    if not isinstance(spec, dict):
        raise SpecError("the file is not a map")
    known = {"name", "input", "batch", "layers", "blocks", "expect"}
    if set(spec) - known:
        raise SpecError("unknown top-level keys %s" % sorted(set(spec) - known))
    if batch is None:
        batch = spec.get("batch", 1)
    if not is_int(batch) or batch < 1:
        raise SpecError("batch: %r" % (batch,))
    if "layers" not in spec:
        raise SpecError("layers: required")
    c = Compiler(spec, batch)
    out = c.items(spec["layers"], 0, {"input": 0}, "layers")
    res = {"name": spec.get("name"), "input": c.shape(0), "layers": c.rows,
           "total": {"params": n_params(c.net), "buffers": n_buffers(c.net),
                     "macs": sum(r["macs"] for r in c.rows), "output": c.shape(out)}}
    problems = []
    exp = spec.get("expect") or {}
    tot = res["total"]
    for k in exp:
        if k not in ("output", "params", "buffers", "macs"):
            problems.append("expect.%s: unknown key" % k)
    if "output" in exp:
        want, got = exp["output"], tot["output"][1:]
        if not isinstance(want, list) or len(want) != len(got) or any(
                w is not None and w != g for w, g in zip(want, got)):
            problems.append("expect.output %r, got %r" % (want, got))
    for k in ("params", "buffers", "macs"):
        if k in exp and exp[k] != tot[k]:
            problems.append("expect.%s %r, got %r" % (k, exp[k], tot[k]))
    c.net.eval()
    return res, c.net, problems


def dumps(res):
    """The JSON, compact, one layer per line."""
    d = lambda v: json.dumps(v, separators=(", ", ": "))
    lines = ['{"name": %s, "input": %s,' % (d(res["name"]), d(res["input"])), ' "layers": [']
    rows = [d(r) for r in res["layers"]]
    lines += ["  " + r + ("," if i < len(rows) - 1 else "") for i, r in enumerate(rows)]
    lines.append(' ],')
    lines.append(' "total": %s}' % d(res["total"]))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("spec")
    ap.add_argument("--batch", type=int, default=None)
    a = ap.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    try:
        res, _, problems = compile_spec(load_spec(a.spec), a.batch)
    except (SpecError, yaml.YAMLError) as e:
        print("%s: %s" % (a.spec, e), file=sys.stderr)
        return 2
    sys.stdout.write(dumps(res))
    for p in problems:
        print("%s: %s" % (a.spec, p), file=sys.stderr)
    return 3 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
