#!/usr/bin/python3
"""gen_torchvision: external truth for every torchvision 0.14 CNN builder, from PyTorch itself.

Run (from the repository root; Debian's python3-torch 1.13 and python3-torchvision 0.14,
CPU only, nothing is downloaded: every builder gets weights=None / weights_backbone=None
and torch.hub's downloader is replaced by one that raises):

    /usr/bin/python3 testdata/torch/gen_torchvision.py            # writes testdata/torch/torchvision.json
    /usr/bin/python3 testdata/torch/gen_torchvision.py NAME ...   # only those builders, JSON to stdout
    options: --out PATH (write there instead), --no-rf (skip rf_samples)

It takes a few minutes (the big ones are regnet_y_32gf, efficientnet_b7 at 600x600,
efficientnet_v2_l and the ResNet-101 segmentation models at 520x520). Progress and timings
go to stderr; the JSON itself is deterministic (no times, no random values in it).
Exit status 1 if any builder failed (it is then recorded with an "error" field).

Builders (77): alexnet; vgg11/13/16/19 (+_bn); resnet18/34/50/101/152; resnext50_32x4d,
resnext101_32x8d, resnext101_64x4d; wide_resnet50_2/101_2; squeezenet1_0/1_1;
densenet121/161/169/201; googlenet, inception_v3; mobilenet_v2, mobilenet_v3_small/large;
mnasnet0_5/0_75/1_0/1_3; shufflenet_v2_x0_5/x1_0/x1_5/x2_0; efficientnet_b0..b7,
efficientnet_v2_s/m/l; regnet_x_{400mf,800mf,1_6gf,3_2gf,8gf,16gf,32gf} and the same seven
regnet_y_*; convnext_tiny/small/base/large; segmentation fcn_resnet50/101,
deeplabv3_resnet50/101, deeplabv3_mobilenet_v3_large, lraspp_mobilenet_v3_large; video r3d_18,
mc3_18, r2plus1d_18, s3d. (Not included: regnet_y_128gf, the other 0.14 CNN classifier, and the
transformer / hybrid / detection / optical-flow / quantized builders.)

Build: builder(weights=None); segmentation also weights_backbone=None and (fcn_*, deeplabv3_*)
aux_loss=False, num_classes left at its default 21; googlenet and inception_v3 with
aux_logits=False, init_weights=False (the published eval path; transform_input stays at its
weights=None default False). torch.manual_seed(0) before every build, model.eval(),
torch.no_grad(), batch 1, float32, input torch.rand.

JSON ("models" holds one object per line, in the builder order above):
  builder        builder function name (torchvision.models[.segmentation|.video].NAME)
  task           "classification" | "segmentation" | "video"
  input          input shape without the batch axis: [C, H, W], video [C, T, H, W]
  input_source   where input came from. Classification: the DEFAULT weights'
                 transforms().crop_size (square). Segmentation: transforms().resize_size
                 (the SemanticSegmentation transform resizes the shorter side to it and does
                 not crop; a square input of that size is used). Video: transforms().crop_size
                 for H, W and T = 16 frames (the transform does not fix the clip length).
  params         sum(p.numel() for p in model.parameters())
  buffers        sum of buffer numel, num_batches_tracked excluded (running_mean/var ...)
  output         output shape without batch; segmentation: the dict's "out" tensor
  macs           sum of the "macs" column of layers
  layers         forward-execution order (forward hooks; a module called twice appears twice)
                 of every nn.Conv1d/2d/3d, nn.ConvTranspose1d/2d/3d, nn.Linear call, each a
                 compact array [type, output shape without batch, macs]; type is "conv1d",
                 "conv2d", "conv3d", "convtranspose1d/2d/3d" or "linear". macs, bias excluded:
                   conv:           N * Cout * prod(out spatial) * (Cin/groups) * prod(kernel)
                   convtranspose:  N * Cin * prod(in spatial) * (Cout/groups) * prod(kernel)
                   linear:         prod(all input dims but the last, N included) * in * out
                 (nn.Linear on a channels-last tensor, as in ConvNeXt, counts every position).
  weights        the DEFAULT weights enum whose meta gives the two published fields
  num_params_published  DEFAULT.meta["num_params"] (null if absent)
  gflops_published      DEFAULT.meta["_ops"] or ["_flops"]: torchvision 0.14 has neither key
                        in any meta (added in later releases), so null throughout
  params_with_aux       googlenet / inception_v3: params of the aux_logits=True build;
                        fcn_* / deeplabv3_*: params of the aux_loss=True build (the published
                        segmentation checkpoints include the aux classifier)
  error          only if the builder failed; then the other measured fields are absent

"rf_samples" (one object per line): receptive field of the last 2-D feature map before global
pooling, for alexnet, vgg16, resnet18, resnet50, mobilenet_v2, densenet121, efficientnet_b0,
convnext_tiny, at the native input above.
  Which feature map: the output of the last top-level child of the model (model.named_children()
  in forward order) whose output is 4-D with H*W > 1 and which is not an adaptive pool
  (alexnet/vgg16 "avgpool" is an adaptive pool to 6x6/7x7 and is skipped; the next thing is the
  classifier). "module" is that child's qualified name, "feature" its output shape (C, H, W).
  densenet121 applies F.relu after "features" and before pooling: same field.
  Method (structural dependence, measured by autograd): a float64 deep copy of the model with
    every Conv/ConvTranspose/Linear weight set to the positive constant 1/fan_in (fan_in = the
    weight's numel per output channel) and bias 0; every norm (BatchNorm, LayerNorm incl.
    ConvNeXt's LayerNorm2d, GroupNorm) and every activation module (ReLU, ReLU6, SiLU, GELU,
    Hardswish, Hardsigmoid, Sigmoid, ...) replaced by Identity; ConvNeXt's layer_scale set to 1;
    every MaxPool replaced by an AvgPool of the same kernel/stride/padding/ceil_mode with
    count_include_pad=True (a max pool's gradient reaches only the argmax; the avg pool
    reaches every element of the same window). Dropout / StochasticDepth are identity in eval.
    The input is all ones, so every value in the net is > 0 and the remaining functional
    F.relu calls (densenet's forward) pass gradient 1. The network is then a composition of
    linear maps with non-negative coefficients, so d(sum over channels of the centre
    unit)/d(input) is > 0 exactly on the positions the unit depends on (no cancellation;
    float64 keeps the smallest products, about (1/49)^20, far from underflow).
    A SqueezeExcitation gate is kept, but as x * sigmoid(fc2(fc1(avgpool(x)))) with fc1's
    activation removed and the gate's own activation a real Sigmoid (positive derivative, and
    it keeps values O(1); an identity gate would square them block after block).
    Centre unit: (H//2, W//2) of the feature map, summed over channels.
  Fields: input, module, feature, centre [h, w] (index into the feature map),
    native: {"h": [lo, hi, size, border], "w": [...], "whole_input": bool} -- lo/hi the
    first/last input row (column) with nonzero gradient, size = hi-lo+1, border = true when
    lo == 0 or hi == last index, i.e. the field was clipped by the input and size is only a
    lower bound; whole_input = true when the gradient is nonzero on every input pixel.
  unclipped: for each clipped axis, measured again on an input enlarged along that axis only
    (the conv/pool geometry is separable per axis, so the other axis is cut to 64 to save
    time), doubling its length until the field no longer reaches the border:
    {"h": [size, at_length], ...}; {} when nothing was clipped.
  global: true when the model contains a torchvision.ops.SqueezeExcitation (efficientnet_b0):
    its gate is a global average pool, so every unit depends on the whole input at any input
    size; unclipped is then null, and "without_se" repeats the measurement with every
    SqueezeExcitation replaced by Identity (the conv/pool path only: native and unclipped).
"""
import argparse
import copy
import inspect
import json
import math
import os
import sys
import time
import warnings

sys.dont_write_bytecode = True  # keep testdata free of __pycache__

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torchvision  # noqa: E402
import torchvision.models as tvm  # noqa: E402
from torchvision.models import get_model_weights  # noqa: E402
from torchvision.ops.misc import SqueezeExcitation  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "torchvision.json")

CLASSIFICATION = (
    ["alexnet"]
    + ["vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"]
    + ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]
    + ["resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d"]
    + ["wide_resnet50_2", "wide_resnet101_2"]
    + ["squeezenet1_0", "squeezenet1_1"]
    + ["densenet121", "densenet161", "densenet169", "densenet201"]
    + ["googlenet", "inception_v3"]
    + ["mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large"]
    + ["mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3"]
    + ["shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0"]
    + ["efficientnet_b%d" % i for i in range(8)]
    + ["efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l"]
    + ["regnet_x_" + s for s in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf")]
    + ["regnet_y_" + s for s in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf")]
    + ["convnext_tiny", "convnext_small", "convnext_base", "convnext_large"]
)
SEGMENTATION = ["fcn_resnet50", "fcn_resnet101", "deeplabv3_resnet50", "deeplabv3_resnet101",
                "deeplabv3_mobilenet_v3_large", "lraspp_mobilenet_v3_large"]
VIDEO = ["r3d_18", "mc3_18", "r2plus1d_18", "s3d"]
BUILDERS = CLASSIFICATION + SEGMENTATION + VIDEO
VIDEO_FRAMES = 16

RF_OTHER_AXIS = 64  # length of the other axis while one axis is enlarged (cost only)
RF_SAMPLES = ["alexnet", "vgg16", "resnet18", "resnet50", "mobilenet_v2", "densenet121",
              "efficientnet_b0", "convnext_tiny"]

LAYER_TYPES = [  # checked in order with isinstance
    (nn.Conv1d, "conv1d"), (nn.Conv2d, "conv2d"), (nn.Conv3d, "conv3d"),
    (nn.ConvTranspose1d, "convtranspose1d"), (nn.ConvTranspose2d, "convtranspose2d"),
    (nn.ConvTranspose3d, "convtranspose3d"), (nn.Linear, "linear"),
]


def no_download(*args, **kwargs):
    raise RuntimeError("gen_torchvision must not download anything (asked for %r)" % (args[:1],))


torch.hub.load_state_dict_from_url = no_download
torch.hub.download_url_to_file = no_download


def task_of(name):
    return "segmentation" if name in SEGMENTATION else "video" if name in VIDEO else "classification"


def builder_fn(name):
    mod = {"segmentation": tvm.segmentation, "video": tvm.video, "classification": tvm}[task_of(name)]
    return getattr(mod, name)


def build_kwargs(name, aux=False):
    kw = {"weights": None}
    if name in ("googlenet", "inception_v3"):
        kw.update(aux_logits=aux, init_weights=False)
    if task_of(name) == "segmentation":
        kw["weights_backbone"] = None
        if "aux_loss" in inspect.signature(builder_fn(name)).parameters:
            kw["aux_loss"] = aux
    return kw


def has_aux_variant(name):
    return name in ("googlenet", "inception_v3") or (
        task_of(name) == "segmentation" and "aux_loss" in inspect.signature(builder_fn(name)).parameters)


def build(name, aux=False):
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = builder_fn(name)(**build_kwargs(name, aux))
    return model.eval()


def default_weights(name):
    return get_model_weights(name).DEFAULT


def native_input(name, weights):
    t = weights.transforms()
    task = task_of(name)
    if task == "classification":
        c = list(t.crop_size)
        hw = c * 2 if len(c) == 1 else c
        return [3] + hw, "%s.transforms().crop_size=%s" % (weights, list(t.crop_size))
    if task == "segmentation":
        r = list(t.resize_size)
        assert len(r) == 1, r
        return [3, r[0], r[0]], ("%s.transforms().resize_size=%s (shorter side; square input used)"
                                 % (weights, r))
    c = list(t.crop_size)
    hw = c * 2 if len(c) == 1 else c
    return [3, VIDEO_FRAMES] + hw, ("%s.transforms().crop_size=%s; T=%d frames (not fixed by the transform)"
                                    % (weights, c, VIDEO_FRAMES))


def layer_type(m):
    for cls, t in LAYER_TYPES:
        if isinstance(m, cls):
            return t
    return None


def layer_macs(m, x, y):
    if isinstance(m, nn.Linear):
        return math.prod(x.shape[:-1]) * m.in_features * m.out_features
    k = math.prod(m.kernel_size)
    if isinstance(m, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
        return x.shape[0] * x.shape[1] * math.prod(x.shape[2:]) * (m.out_channels // m.groups) * k
    return y.shape[0] * y.shape[1] * math.prod(y.shape[2:]) * (x.shape[1] // m.groups) * k


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def n_buffers(model):
    return sum(b.numel() for n, b in model.named_buffers() if not n.endswith("num_batches_tracked"))


def measure(name):
    weights = default_weights(name)
    inp, src = native_input(name, weights)
    model = build(name)
    rows = []

    def hook(m, args, out):
        rows.append([m._cnn_type, list(out.shape[1:]), int(layer_macs(m, args[0], out))])

    handles = []
    for m in model.modules():
        t = layer_type(m)
        if t is not None:
            m._cnn_type = t
            handles.append(m.register_forward_hook(hook))
    torch.manual_seed(0)
    x = torch.rand([1] + inp)
    with torch.no_grad():
        out = model(x)
    for h in handles:
        h.remove()
    if isinstance(out, dict):
        out = out["out"]
    meta = weights.meta
    gf = meta.get("_ops", meta.get("_flops"))
    rec = {
        "builder": name, "task": task_of(name), "input": inp, "input_source": src,
        "params": n_params(model), "buffers": n_buffers(model), "output": list(out.shape[1:]),
        "macs": sum(r[2] for r in rows), "weights": str(weights),
        "num_params_published": meta.get("num_params"),
        "gflops_published": gf,
    }
    if has_aux_variant(name):
        rec["params_with_aux"] = n_params(build(name, aux=True))
    rec["layers"] = rows
    return rec


# ------------------------------------------------------------------ receptive fields
ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.SiLU, nn.GELU, nn.Hardswish, nn.Hardsigmoid, nn.Sigmoid,
               nn.Tanh, nn.LeakyReLU, nn.ELU, nn.PReLU, nn.Mish)
NORMS = (nn.modules.batchnorm._BatchNorm, nn.LayerNorm, nn.GroupNorm,
         nn.modules.instancenorm._InstanceNorm, nn.LocalResponseNorm)


def rf_model(model, drop_se):
    m = copy.deepcopy(model).double().eval()

    def replace(parent):
        for cname, child in list(parent.named_children()):
            new = None
            if isinstance(child, SqueezeExcitation):
                if drop_se:
                    new = nn.Identity()
                else:  # keep the gate, bounded: x * sigmoid(fc2(fc1(avg(x)))) stays O(x)
                    child.activation = nn.Identity()
                    child.scale_activation = nn.Sigmoid()
                    continue
            elif isinstance(child, NORMS) or isinstance(child, ACTIVATIONS):
                new = nn.Identity()
            elif isinstance(child, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)):
                d = child.dilation if isinstance(child.dilation, tuple) else (child.dilation,)
                assert all(v == 1 for v in d), "dilated max pool"
                cls = {nn.MaxPool1d: nn.AvgPool1d, nn.MaxPool2d: nn.AvgPool2d,
                       nn.MaxPool3d: nn.AvgPool3d}[type(child)]
                new = cls(child.kernel_size, child.stride, child.padding,
                          ceil_mode=child.ceil_mode, count_include_pad=True)
            elif isinstance(child, (nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)):
                cls = {nn.AdaptiveMaxPool1d: nn.AdaptiveAvgPool1d, nn.AdaptiveMaxPool2d: nn.AdaptiveAvgPool2d,
                       nn.AdaptiveMaxPool3d: nn.AdaptiveAvgPool3d}[type(child)]
                new = cls(child.output_size)
            if new is not None:
                setattr(parent, cname, new)
            else:
                replace(child)

    replace(m)
    with torch.no_grad():
        for mod in m.modules():
            if layer_type(mod) is not None:
                mod.weight.fill_(1.0 / mod.weight[0].numel())
                if mod.bias is not None:
                    mod.bias.zero_()
            if hasattr(mod, "layer_scale") and isinstance(mod.layer_scale, nn.Parameter):
                mod.layer_scale.fill_(1.0)
    for p in m.parameters():
        p.requires_grad_(False)
    return m


def feature_child(model, inp):
    """Name and output shape of the last top-level child giving a 4-D output with H*W > 1
    that is not an adaptive pool."""
    seen = []
    handles = [c.register_forward_hook(
        lambda mod, a, out, n=n: seen.append((n, mod, tuple(out.shape))))
        for n, c in model.named_children()]
    with torch.no_grad():
        model(torch.rand([1] + inp))
    for h in handles:
        h.remove()
    adaptive = (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)
    cands = [(n, s) for n, mod, s in seen
             if len(s) == 4 and s[2] * s[3] > 1 and not isinstance(mod, adaptive)]
    return cands[-1]


class _Stop(Exception):
    pass


def grad_extent(m, child, hw):
    """Backprop the centre unit of `child`'s output on an all-ones input of spatial size hw
    (the forward pass stops right after `child`)."""
    box = {}

    def grab(mod, a, out):
        box["y"] = out
        raise _Stop

    h = dict(m.named_children())[child].register_forward_hook(grab)
    x = torch.ones([1, 3] + list(hw), dtype=torch.float64, requires_grad=True)
    try:
        m(x)
    except _Stop:
        pass
    finally:
        h.remove()
    y = box["y"]
    ch, cw = y.shape[2] // 2, y.shape[3] // 2
    y[0, :, ch, cw].sum().backward()
    g = x.grad[0].abs().sum(0)
    res = {}
    for ax, key in ((0, "h"), (1, "w")):
        nz = torch.nonzero(g.sum(1 - ax) > 0).flatten().tolist()
        lo, hi = nz[0], nz[-1]
        res[key] = [lo, hi, hi - lo + 1, lo == 0 or hi == hw[ax] - 1]
    res["whole_input"] = bool((g > 0).all())
    return res, [ch, cw], list(y.shape[1:])


def rf_measure(model, child, inp, has_se):
    m = rf_model(model, drop_se=False)
    native, centre, feat = grad_extent(m, child, inp[1:])
    out = {"native": native}
    if has_se:  # a global average pool inside: the field is the whole input at any size
        out["global"] = True
        out["unclipped"] = None
    else:
        out["global"] = False
        out["unclipped"] = unclipped(m, child, inp, native)
    del m
    return out, centre, feat


def unclipped(m, child, inp, native):
    res = {}
    for ax, key in ((0, "h"), (1, "w")):
        if not native[key][3]:
            continue
        hw = list(inp[1:])
        hw[1 - ax] = min(hw[1 - ax], RF_OTHER_AXIS)
        while True:
            hw[ax] *= 2
            r, _, _ = grad_extent(m, child, hw)
            if not r[key][3]:
                res[key] = [r[key][2], hw[ax]]
                break
            if hw[ax] > 8192:
                res[key] = None
                break
    return res


def rf_sample(name):
    weights = default_weights(name)
    inp, _ = native_input(name, weights)
    model = build(name)
    torch.manual_seed(0)
    child, shape = feature_child(model, inp)
    has_se = any(isinstance(mod, SqueezeExcitation) for mod in model.modules())
    rf, centre, feat = rf_measure(model, child, inp, has_se)
    assert feat == list(shape[1:]), (feat, shape)
    rec = {"builder": name, "input": inp, "module": child, "feature": feat, "centre": centre}
    rec.update(rf)
    if has_se:
        m = rf_model(model, drop_se=True)
        native, _, _ = grad_extent(m, child, inp[1:])
        rec["without_se"] = {"native": native, "unclipped": unclipped(m, child, inp, native)}
    return rec


# ------------------------------------------------------------------ output
def published_notes(models):
    same, aux, other = [], [], []
    for r in models:
        pub = r.get("num_params_published")
        if pub is None or "params" not in r:
            continue
        if pub == r["params"]:
            same.append(r["builder"])
        elif pub == r.get("params_with_aux"):
            aux.append(r["builder"])
        else:
            other.append("%s (%d built, %d published)" % (r["builder"], r["params"], pub))
    return ["num_params_published == params for %d builders" % len(same),
            "num_params_published == params_with_aux (not params) for: %s" % (", ".join(aux) or "none"),
            "num_params_published matches neither for: %s" % (", ".join(other) or "none")]


def dump(doc):
    head = {k: v for k, v in doc.items() if k not in ("models", "rf_samples")}
    s = json.dumps(head, separators=(",", ":"))[:-1]
    for key in ("models", "rf_samples"):
        if key in doc:
            s += ',\n"%s":[\n' % key + ",\n".join(json.dumps(r, separators=(",", ":")) for r in doc[key]) + "\n]"
    return s + "}\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("names", nargs="*")
    ap.add_argument("--out")
    ap.add_argument("--no-rf", action="store_true")
    a = ap.parse_args()
    for n in a.names:
        if n not in BUILDERS:
            ap.error("unknown builder %s" % n)
    names = a.names or BUILDERS
    torch.set_grad_enabled(True)
    t_all = time.time()
    models, failed = [], []
    for n in names:
        t0 = time.time()
        try:
            r = measure(n)
            msg = "params %d buffers %d macs %.3fG" % (r["params"], r["buffers"], r["macs"] / 1e9)
        except Exception as e:  # recorded, run continues
            r = {"builder": n, "task": task_of(n), "error": "%s: %s" % (type(e).__name__, e)}
            failed.append(n)
            msg = "FAILED " + r["error"]
        models.append(r)
        print("%-30s %6.1fs %s" % (n, time.time() - t0, msg), file=sys.stderr, flush=True)
    rfs = []
    if not a.no_rf:
        for n in RF_SAMPLES:
            if a.names and n not in a.names:
                continue
            t0 = time.time()
            try:
                r = rf_sample(n)
            except Exception as e:
                r = {"builder": n, "error": "%s: %s" % (type(e).__name__, e)}
                failed.append("rf:" + n)
            rfs.append(r)
            print("rf %-27s %6.1fs %s" % (n, time.time() - t0, json.dumps({k: r.get(k) for k in (
                "module", "feature", "native", "unclipped", "error") if k in r})), file=sys.stderr, flush=True)
    doc = {
        "generator": "testdata/torch/gen_torchvision.py",
        "torch": torch.__version__, "torchvision": torchvision.__version__,
        "batch": 1, "dtype": "float32", "count": len(models),
        "layer_fields": ["type", "output", "macs"],
        "notes": [
            "input: DEFAULT weights transforms() (see input_source); efficientnet_b2 is 288 there "
            "(not 260) and s3d is 224x224 (at 112x112 its AvgPool3d (2,7,7) fails on a 3x3 map)",
            "gflops_published is null everywhere: no torchvision 0.14 weights meta has _ops/_flops",
        ] + published_notes(models),
        "models": models,
    }
    if not a.no_rf:
        doc["rf_samples"] = rfs
    text = dump(doc)
    json.loads(text)  # self-check
    out = a.out or (None if a.names else DEFAULT_OUT)
    if out:
        with open(out, "w") as f:
            f.write(text)
        print("wrote %s (%d bytes)" % (out, len(text)), file=sys.stderr)
    else:
        sys.stdout.write(text)
    print("total %.1fs, %d builders, failed: %s" % (time.time() - t_all, len(models), failed or "none"),
          file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
