#!/usr/bin/python3
"""gen_memory: what PyTorch's autograd saves for backward, per layer, and the
peak memory of a training step and of an inference pass, for cnncalc's memory
command to be checked against.

    /usr/bin/python3 testdata/torch/gen_memory.py [--merge] [NAME ...]   (from the repository root)

Writes testdata/torch/memory.json (with NAMEs, prints those cases instead;
with --merge and NAMEs, replaces or adds them in memory.json). Every network is built from its cnncalc spec
by spec2torch.py (an independent implementation of the format), converted with
model.to(dtype) (float32 and bfloat16), put in train mode, and run on a random
input of shape [batch] + input that does not require grad (as a training batch).

Saved tensors: torch.autograd.graph.saved_tensors_hooks; the pack hook records
every tensor autograd saves, by the data_ptr and nbytes of its storage, against
the spec node (one row of spec2torch's program) that is running. Parameters and
buffers are left out (they are counted as parameters); a storage saved twice,
or by two layers (a view, an in-place op, a conv saving the relu output that
the relu saved too), is one storage. Per layer the JSON lists the storages that
layer saves ([nbytes, dtype] each); "total_saved" is the bytes of the distinct
storages of the whole network.

Optimizer state (first batch size): the bytes of the tensors SGD, SGD with
momentum, Adam and AdamW hold after one step on the trainable parameters.

Peaks (float32 and bfloat16, the first batch size only; unset .grad before): torch.profiler with
profile_memory=True records every CPU allocation and free; the running sum of
them, from just before the forward pass to the end of backward, gives
"peak_train" (forward, then y.backward(ones), with .grad unset beforehand so
that the parameters' gradients are allocated during backward) and "peak_eval"
(a torch.no_grad() forward in eval mode). Intermediate outputs are dropped after
their last use, as an nn.Module's locals go out of scope (and as cnncalc's exec
plans them). The input tensor, the parameters and the buffers exist before and
are not part of either figure.
"""
import gc
import json
import os
import sys

import torch

sys.dont_write_bytecode = True  # keep testdata free of __pycache__
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import spec2torch  # noqa: E402
import yaml  # noqa: E402

TESTDATA = os.path.dirname(HERE)
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}

# One small net per layer kind: a leading conv (so that the kind's input
# requires grad, as inside a network), the kind, and a conv after it when the
# kind's output can feed one (to show storages shared with the next layer).
R = {1: [4, 9], 2: [4, 6, 6], 3: [4, 4, 4, 4]}


def lead(r, out=4):
    return {"conv%dd" % r: {"out": out, "kernel": 1}}


def tail(r, out=3):
    return {"conv%dd" % r: {"out": out, "kernel": 1}}


def net(name, r, layers, inp=None):
    return name, {"name": name, "input": inp or R[r], "layers": layers}


def kinds():
    out = []
    for r in (1, 2, 3):
        d = "%dd" % r
        out += [
            net("conv" + d, r, [lead(r), {"conv" + d: {"out": 5, "kernel": 3, "padding": 1}}, tail(r)]),
            net("conv%s_nobias_stride2" % d, r, [lead(r), {"conv" + d: {"out": 6, "kernel": 3, "stride": 2, "bias": False}}]),
            net("conv%s_first" % d, r, [{"conv" + d: {"out": 5, "kernel": 3}}]),
            net("conv%s_reflect" % d, r, [lead(r), {"conv" + d: {"out": 5, "kernel": 3, "padding": 1, "padding_mode": "reflect"}}]),
            net("conv%s_same" % d, r, [lead(r), {"conv" + d: {"out": 5, "kernel": 2, "padding": "same"}}]),
            net("conv%s_same3" % d, r, [lead(r), {"conv" + d: {"out": 5, "kernel": 3, "padding": "same"}}]),
            net("conv%s_same4_dil" % d, r, [lead(r), {"conv" + d: {"out": 5, "kernel": 2, "dilation": 3, "padding": "same"}}]),
            net("conv%s_same_stride2" % d, r, [lead(r), {"conv" + d: {"out": 5, "kernel": 3, "stride": 2, "padding": "same"}}]),
            net("conv%s_replicate" % d, r, [lead(r), {"conv" + d: {"out": 5, "kernel": 3, "padding": 2, "padding_mode": "replicate"}}]),
            net("conv%s_circular" % d, r, [lead(r), {"conv" + d: {"out": 5, "kernel": 3, "padding": 1, "padding_mode": "circular"}}]),
            net("conv%s_reflect_first" % d, r, [{"conv" + d: {"out": 5, "kernel": 3, "padding": 1, "padding_mode": "reflect"}}]),
            net("convtranspose" + d, r, [lead(r), {"convtranspose" + d: {"out": 5, "kernel": 3, "stride": 2}}, tail(r)]),
            net("maxpool" + d, r, [lead(r), {"maxpool" + d: 2}, tail(r)]),
            net("avgpool" + d, r, [lead(r), {"avgpool" + d: 2}, tail(r)]),
            net("adaptiveavgpool" + d, r, [lead(r), {"adaptiveavgpool" + d: 2}, tail(r)]),
            net("adaptivemaxpool" + d, r, [lead(r), {"adaptivemaxpool" + d: 2}, tail(r)]),
            net("batchnorm" + d, r, [lead(r), {"batchnorm" + d: None}, tail(r)]),
            net("batchnorm%s_first" % d, r, [{"batchnorm" + d: None}, tail(r)]),
            net("batchnorm%s_noaffine" % d, r, [lead(r), {"batchnorm" + d: {"affine": False}}, tail(r)]),
            net("batchnorm%s_nostats" % d, r, [lead(r), {"batchnorm" + d: {"track_running_stats": False}}, tail(r)]),
            net("instancenorm" + d, r, [lead(r), {"instancenorm" + d: None}, tail(r)]),
            net("instancenorm%s_affine_only" % d, r, [lead(r), {"instancenorm" + d: {"affine": True}}, tail(r)]),
            net("instancenorm%s_track_only" % d, r, [lead(r), {"instancenorm" + d: {"track_running_stats": True}}, tail(r)]),
            net("instancenorm%s_affine" % d, r, [lead(r), {"instancenorm" + d: {"affine": True, "track_running_stats": True}}, tail(r)]),
            net("zeropad" + d, r, [lead(r), {"zeropad" + d: 1}, tail(r)]),
            net("dropout" + d, r, [lead(r), {"dropout" + d: 0.5}, tail(r)]),
        ]
    acts = ["relu", "relu6", "silu", "hardswish", "hardsigmoid", "sigmoid", "tanh", "identity", "leakyrelu", "elu",
            "gelu", "selu", "celu", "softplus", "hardtanh", "mish", "prelu"]
    inplace = {"relu", "relu6", "silu", "hardswish", "hardsigmoid", "leakyrelu", "elu", "selu", "celu", "hardtanh",
               "mish"}
    for a in acts:
        out.append(net(a, 2, [lead(2), {"batchnorm2d": None}, a, tail(2)]))
        out.append(net(a + "_first", 2, [a, tail(2)]))
        out.append(net(a + "_after_conv", 2, [lead(2), a, tail(2)]))
        if a in inplace:
            out.append(net(a + "_inplace", 2, [lead(2), {"batchnorm2d": None}, {a: {"inplace": True}}, tail(2)]))
            out.append(net(a + "_inplace_after_conv", 2, [lead(2), {a: {"inplace": True}}, tail(2)]))
    out += [
        net("gelu_tanh", 2, [lead(2), {"gelu": {"approximate": "tanh"}}, tail(2)]),
        net("prelu_channels", 2, [lead(2), {"prelu": 4}, tail(2)]),
        net("softmax", 2, [lead(2), {"softmax": {"dim": 1}}, tail(2)]),
        net("logsoftmax", 2, [lead(2), {"logsoftmax": 1}, tail(2)]),
        net("dropout", 2, [lead(2), {"dropout": 0.3}, tail(2)]),
        net("dropout_inplace", 2, [lead(2), {"dropout": {"p": 0.3, "inplace": True}}, tail(2)]),
        net("dropout_p0", 2, [lead(2), {"dropout": 0.0}, tail(2)]),
        net("dropout_p1", 2, [lead(2), {"dropout": 1.0}, tail(2)]),
        net("dropout2d_p1", 2, [lead(2), {"dropout2d": 1.0}, tail(2)]),
        net("stochasticdepth_p1", 2, [lead(2), {"stochasticdepth": 1.0}, tail(2)]),
        net("zeropad_crop", 2, [lead(2), {"zeropad2d": [-1, 1, 0, -2]}, tail(2)]),
        net("chunk_batch1_linear", 2, [lead(2), {"chunk": {"chunks": 2, "index": 1}}, {"linear": 3}], inp=[4, 6, 6]),
        net("maxpool2d_ceil_dilated", 2, [lead(2), {"maxpool2d": {"kernel": 2, "stride": 2, "dilation": 2, "ceil_mode": True}}, tail(2)]),
        net("upsample_bicubic", 2, [lead(2), {"upsample": {"scale": 2, "mode": "bicubic"}}, tail(2)]),
        net("batchnorm1d_2d_input", 1, [{"linear": 6}, "batchnorm1d", {"linear": 3}], inp=[5]),
        net("linear", 2, [lead(2), "flatten", {"linear": 7}, {"linear": 5}]),
        net("linear_nobias_first", 1, [{"linear": {"out": 3, "bias": False}}], inp=[6]),
        net("linear_3d", 1, [lead(1), {"linear": 5}, {"linear": 2}]),
        net("flatten", 2, [lead(2), "flatten", {"linear": 3}]),
        net("unflatten", 2, [lead(2), "flatten", {"linear": 12}, {"unflatten": {"dim": 1, "sizes": [3, 2, 2]}},
                             {"conv2d": {"out": 2, "kernel": 1}}]),
        net("constantpad", 2, [lead(2), {"constantpad2d": {"padding": [1, 0, 0, 2], "value": 0.5}}, tail(2)]),
        net("layernorm", 2, [lead(2), {"layernorm": 6}, tail(2)]),
        net("layernorm_all", 2, [lead(2), {"layernorm": None}, tail(2)]),
        net("layernorm_noaffine", 2, [lead(2), {"layernorm": {"shape": 6, "elementwise_affine": False}}, tail(2)]),
        net("groupnorm", 2, [lead(2), {"groupnorm": 2}, tail(2)]),
        net("groupnorm_noaffine", 2, [lead(2), {"groupnorm": {"groups": 2, "affine": False}}, tail(2)]),
        net("upsample_nearest", 2, [lead(2), {"upsample": 2}, tail(2)]),
        net("upsample_bilinear", 2, [lead(2), {"upsample": {"scale": 2, "mode": "bilinear", "align_corners": False}}, tail(2)]),
        net("upsample_size_of", 2, [lead(2), {"maxpool2d": 2}, {"upsample": {"size_of": "input", "mode": "bilinear"}}, tail(2)]),
        net("add", 2, [lead(2), {"residual": [tail(2, 4), "relu"]}, tail(2)]),
        net("add_shortcut", 2, [lead(2), {"residual": [tail(2, 4)], "shortcut": [tail(2, 4)]}, tail(2)]),
        net("concat", 2, [lead(2), {"concat": [[tail(2, 2)], [tail(2, 3)], []]}, tail(2)]),
        net("mul_gate", 2, [lead(2), {"gate": [{"adaptiveavgpool2d": 1}, tail(2, 4), "sigmoid"]}, tail(2)]),
        net("mul_gate_first", 2, [{"gate": [{"adaptiveavgpool2d": 1}, tail(2, 4), "sigmoid"]}, tail(2)]),
        net("add_input", 2, [{"residual": [tail(2, 4)]}, tail(2)]),
        net("chunk_linear", 2, [lead(2), {"chunk": {"chunks": 2, "index": 1}}, {"linear": 3}]),
        net("chunk_batch1", 2, [lead(2), {"chunk": {"chunks": 2, "index": 0, "dim": 2}}, {"linear": 3}]),
        net("permute_flatten", 2, [lead(2), {"permute": [0, 2, 3, 1]}, "flatten", {"linear": 3}]),
        net("permute_relu_linear", 2, [lead(2), {"permute": [0, 2, 3, 1]}, "relu", {"linear": 3}]),
        net("permute_layernorm", 2, [lead(2), {"permute": [0, 2, 3, 1]}, {"layernorm": 4}, {"linear": 3}]),
        net("chunk", 2, [lead(2), {"chunk": {"chunks": 2, "index": 1}}, tail(2)]),
        net("split", 2, [lead(2), {"split": {"sections": [1, 3], "index": 0}}, tail(2)]),
        net("channelshuffle", 2, [lead(2), {"channelshuffle": 2}, tail(2)]),
        net("permute", 2, [lead(2), {"permute": [0, 2, 3, 1]}, {"linear": 3}]),
        net("layernorm2d", 2, [lead(2), "layernorm2d", tail(2)]),
        net("layerscale", 2, [lead(2), {"layerscale": 0.1}, tail(2)]),
        net("stochasticdepth", 2, [lead(2), {"stochasticdepth": 0.2}, tail(2)]),
        net("stochasticdepth_batch", 2, [lead(2), {"stochasticdepth": {"p": 0.2, "mode": "batch"}}, tail(2)]),
        net("stochasticdepth_p0", 2, [lead(2), {"stochasticdepth": 0.0}, tail(2)]),
        # trainable: false (fine-tuning): frozen parameters need no gradient, so a frozen layer whose
        # input needs none has no backward and saves nothing, and the layers after it save as usual
        net("frozen_first_conv", 2, [{"conv2d": {"out": 4, "kernel": 3}, "trainable": False}, "batchnorm2d", "relu", tail(2)]),
        net("frozen_bn", 2, [lead(2), {"batchnorm2d": None, "trainable": False}, "relu", tail(2)]),
        net("frozen_backbone", 2, [{"repeat": 2, "layers": [{"conv2d": {"out": 4, "kernel": 3, "padding": 1}}, "batchnorm2d", "relu",
                                                           {"maxpool2d": 2}], "trainable": False},
                                  "flatten", {"linear": 5}]),
        net("frozen_residual", 2, [lead(2), {"residual": [tail(2, 4), "batchnorm2d", "relu", tail(2, 4)], "trainable": False},
                                  "relu", tail(2)]),
        net("frozen_layerscale", 2, [lead(2), {"layerscale": 0.1, "trainable": False}, tail(2)]),
        net("frozen_prelu", 2, [lead(2), {"prelu": 4, "trainable": False}, tail(2)]),
        net("frozen_layernorm", 2, [lead(2), {"layernorm": 6, "trainable": False}, tail(2)]),
        net("frozen_groupnorm", 2, [lead(2), {"groupnorm": 2, "trainable": False}, tail(2)]),
        net("frozen_instancenorm", 2, [lead(2), {"instancenorm2d": {"affine": True}, "trainable": False}, tail(2)]),
        net("frozen_convtranspose", 2, [lead(2), {"convtranspose2d": {"out": 4, "kernel": 2, "stride": 2}, "trainable": False}, tail(2)]),
        net("frozen_layernorm2d", 2, [lead(2), {"layernorm2d": None, "trainable": False}, tail(2)]),
        net("frozen_linear_3d", 1, [lead(1), {"linear": 5, "trainable": False}, {"linear": 2}]),
        net("frozen_linear_permuted", 2, [lead(2), {"permute": [0, 2, 3, 1]}, {"linear": 3, "trainable": False}, {"linear": 2}]),
        net("frozen_head", 2, [lead(2), "relu", "flatten", {"linear": 5, "trainable": False}]),
        net("hardsigmoid_ab", 2, [lead(2), {"hardsigmoid": {"alpha": 0.2, "beta": 0.5}}, tail(2)]),
    ]
    return out


ZOO = ["resnet18", "mobilenet_v2", "densenet121", "efficientnet_b0", "vgg11_bn", "resnet50", "mobilenet_v3_small",
       "shufflenet_v2_x0_5", "convnext_tiny", "googlenet"]
KIND_BATCHES = (2, 3)
ZOO_BATCHES = {"resnet50": (1, 2, 32)}  # others (1, 2); resnet50 also at the batch of the README's example


def last_uses(prog):
    last = {}
    for step, (_, _, ins, _) in enumerate(prog):
        for i in ins:
            last[i] = step
    return last


def run(net, x, hook=None, outs=None):
    """spec2torch's Net.forward, with the current step in hook[0] and values
    dropped after their last use; with outs (a list), every value is kept
    and each step's output tensor appended to outs."""
    prog = net.prog
    last = last_uses(prog)
    vals = {0: x}
    out = 0
    for step, (kind, arg, ins, o) in enumerate(prog):
        if hook is not None:
            hook[0] = step
        if kind == "layer":
            v = net.mods[arg](*[vals[i] for i in ins])
        elif kind in ("add", "mul"):
            v = vals[ins[0]]
            for i in ins[1:]:
                v = v + vals[i] if kind == "add" else v * vals[i]
        else:
            v = torch.cat([vals[i] for i in ins], dim=arg)
        vals[o] = v
        out = o
        if outs is not None:
            outs.append(v)
            continue
        for i in set(ins):
            if last[i] == step and i != 0:
                del vals[i]
    return vals[out]


def stor(t):
    s = t.storage()
    return s.data_ptr(), s.nbytes()


def saved(net, x):
    """Per program step, the distinct non-parameter storages autograd saves,
    each [nbytes, dtype, origin]; and the bytes of all distinct storages.
    origin is the step whose output first had that storage, -1 for the
    network input, or null for a storage that no step output has (made
    inside the layer: pooling indices, a dropout mask, batchnorm statistics)."""
    params = {stor(p)[0] for p in net.parameters()} | {stor(b)[0] for b in net.buffers()}
    cur = [None]
    keep = []  # holds every saved tensor, so that no storage is freed and its address reused
    per = [dict() for _ in net.prog]

    def pack(t):
        keep.append(t)
        ptr, nb = stor(t)
        if ptr not in params:
            per[cur[0]][ptr] = [nb, str(t.dtype).replace("torch.", "")]
        return t

    outs = []
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        run(net, x, cur, outs)
    origin = {stor(x)[0]: -1}
    for step, v in enumerate(outs):
        origin.setdefault(stor(v)[0], step)
    seen = {}
    for d in per:
        seen.update(d)
    layers = [sorted((v + [origin.get(p)] for p, v in d.items()), key=lambda v: (-v[0], v[1], str(v[2])))
              for d in per]
    del outs, keep
    return layers, sum(v[0] for v in seen.values())


def peak(fn):
    """The highest running sum of CPU allocations minus frees while fn runs."""
    from torch.profiler import profile, ProfilerActivity
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    mem = [(e.start_us(), i, e.nbytes()) for i, e in enumerate(prof.profiler.kineto_results.events())
           if e.name() == "[memory]"]
    mem.sort()
    cur = top = 0
    for _, _, b in mem:
        cur += b
        top = max(top, cur)
    return top


def peaks(net, x):
    """peak_train and peak_eval. The .grad of every parameter is unset
    before the measurement starts (freeing them inside it would count their
    frees against allocations made before it)."""
    def train():
        y = run(net, x)
        y.backward(torch.ones_like(y))
        del y

    def infer():
        with torch.no_grad():
            run(net, x)

    def unset():
        for p in net.parameters():
            p.grad = None
        gc.collect()

    net.train()
    train()  # warm up: first-call allocations (oneDNN primitives, thread pools) out of the measurement
    unset()
    t = peak(train)
    unset()
    net.eval()
    infer()
    e = peak(infer)
    net.train()
    return t, e


OPTIMIZERS = {"sgd": lambda ps: torch.optim.SGD(ps, lr=0.1),
              "momentum": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
              "adam": lambda ps: torch.optim.Adam(ps), "adamw": lambda ps: torch.optim.AdamW(ps)}


def optimizer_state(net, x):
    """The bytes of the state each optimizer holds after one step on the
    trainable parameters (its own tensors: momentum buffers, exp_avg,
    exp_avg_sq, step)."""
    out = {}
    for name, make in OPTIMIZERS.items():
        ps = [p for p in net.parameters() if p.requires_grad]
        if not ps:
            out[name] = 0
            continue
        opt = make(ps)
        for p in ps:
            p.grad = None
        y = run(net, x)
        y.backward(torch.ones_like(y))
        saved = {stor(p)[0]: None for p in net.parameters()}
        opt.step()
        seen = {}
        for st in opt.state.values():
            for v in st.values():
                if torch.is_tensor(v) and stor(v)[0] not in saved:
                    seen[stor(v)[0]] = stor(v)[1]
        out[name] = sum(seen.values())
        del opt, y
    for p in net.parameters():
        p.grad = None
    return out


def case(name, spec, batches, dtypes, with_peak, src=None):
    rows = []
    for dt in dtypes:
        for bi, b in enumerate(batches):
            torch.manual_seed(0)
            # the spec's top-level expect: is gen_zoo.py's business (and holds at batch 1 only)
            res, model, _ = spec2torch.compile_spec(spec, b)
            model = model.to(DTYPES[dt])
            model.train()
            torch.manual_seed(1)
            x = torch.randn(res["input"]).to(DTYPES[dt])
            row = {"batch": b, "dtype": dt}
            try:
                layers, total = saved(model, x)
            except RuntimeError as e:  # an op without a kernel for this dtype on CPU
                row["unsupported"] = str(e).splitlines()[0]
                rows.append(row)
                print("  %s %s batch %d: unsupported: %s" % (name, dt, b, row["unsupported"]), file=sys.stderr)
                continue
            row["types"] = [r["type"] for r in res["layers"]]
            row["saved"] = layers
            row["total_saved"] = total
            if with_peak and bi == 0:
                try:
                    row["peak_train"], row["peak_eval"] = peaks(model, x)
                except RuntimeError as e:  # a backward kernel missing for this dtype on CPU
                    row["peak_unsupported"] = str(e).splitlines()[0]
                if "peak_unsupported" not in row:
                    row["optimizer_state"] = optimizer_state(model, x)
            rows.append(row)
    out = {"name": name, "runs": rows}
    if src:
        out["file"] = src
    else:
        out["spec"] = spec
    return out


# zoo specs that are torchvision builders: torchvision's own model (in-place
# ReLU/ReLU6/SiLU, functional pools in forward) must save the same bytes
TORCHVISION = ("resnet18", "resnet50", "mobilenet_v2", "densenet121", "efficientnet_b0", "vgg11_bn",
               "mobilenet_v3_small", "shufflenet_v2_x0_5", "convnext_tiny")


def torchvision_saved(name, batch):
    """The bytes of the distinct non-parameter storages autograd saves in torchvision's model."""
    import torchvision.models as tvm
    torch.manual_seed(0)
    m = getattr(tvm, name)().train()
    x = torch.randn([batch, 3, 224, 224])
    params = {stor(p)[0] for p in m.parameters()} | {stor(b)[0] for b in m.buffers()}
    keep, seen = [], {}

    def pack(t):
        keep.append(t)
        ptr, nb = stor(t)
        if ptr not in params:
            seen[ptr] = nb
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        m(x)
    return sum(seen.values())


def main():
    args = sys.argv[1:]
    merge = "--merge" in args  # with names: replace or add those cases in memory.json
    only = set(a for a in args if a != "--merge")
    torch.set_num_threads(1)
    cases = []
    for name, spec in kinds():
        if only and name not in only:
            continue
        print(name, file=sys.stderr)
        cases.append(case(name, spec, KIND_BATCHES, DTYPES, True))
    for name in ZOO:
        if only and name not in only:
            continue
        print(name, file=sys.stderr)
        rel = "testdata/zoo/%s.yaml" % name
        spec = spec2torch.load_spec(os.path.join(TESTDATA, "zoo", name + ".yaml"))
        c = case(name, spec, ZOO_BATCHES.get(name, (1, 2)), DTYPES, True, rel)
        if name in TORCHVISION:
            c["torchvision_saved"] = {"batch": 2, "dtype": "float32", "total_saved": torchvision_saved(name, 2)}
        cases.append(c)
    path = os.path.join(HERE, "memory.json")
    if only and not merge:
        json.dump(cases, sys.stdout, indent=1)
        return 0
    if merge:
        with open(path) as f:
            old = json.load(f)["cases"]
        new = {c["name"]: c for c in cases}
        cases = [new.pop(c["name"], c) for c in old] + list(new.values())
    doc = {"torch": torch.__version__,
           "doc": "written by testdata/torch/gen_memory.py; see its docstring and testdata/torch/README.md",
           "cases": cases}
    with open(path + ".tmp", "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    os.replace(path + ".tmp", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
