#!/usr/bin/python3
"""gen_onnx: ONNX fixtures exported by torch.onnx from PyTorch itself, with PyTorch's own truth.

Run from the repository root (Debian's python3-torch 1.13, python3-torchvision 0.14,
python3-onnx 1.12; CPU only, nothing is downloaded):

    /usr/bin/python3 testdata/onnx/gen_onnx.py              # both sets
    /usr/bin/python3 testdata/onnx/gen_onnx.py tv           # testdata/onnx/tv/*.onnx + tv.json
    /usr/bin/python3 testdata/onnx/gen_onnx.py small        # testdata/onnx/small/* + small.json
    /usr/bin/python3 testdata/onnx/gen_onnx.py tv NAME ...  # only those builders (tv.json not rewritten)
    /usr/bin/python3 testdata/onnx/gen_onnx.py small NAME ...
    /usr/bin/python3 testdata/onnx/gen_onnx.py tv --update NAME ...  # re-measure those, replace their tv.json records

The output is deterministic (torch.manual_seed everywhere; no times in the JSON). See
testdata/onnx/README.md for what the files are and what torch.onnx does to the graphs.

tv/: one graph-only export (export_params=False) per torchvision builder of
testdata/torch/torchvision.json, model.eval(), training=TrainingMode.PRESERVE (keeps
BatchNormalization), do_constant_folding=True. Truth per builder in tv.json: params, buffers,
macs copied from testdata/torch/torchvision.json; output shape and per-node shapes measured
here in PyTorch (forward hooks), cross-checked with onnx.shape_inference. Near-duplicates of a
kept builder (GZIP below) are written as tv/NAME.onnx.gz to keep the folder small.

small/: small nets exported WITH weights, each with NAME.input.npy and NAME.output.npy
(PyTorch's output of the nn.Module), truth in small.json.
"""
import gzip
import io
import json
import math
import os
import sys
import warnings
from collections import Counter, OrderedDict

sys.dont_write_bytecode = True  # keep testdata free of __pycache__

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torchvision  # noqa: E402
from onnx import shape_inference  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "testdata", "torch"))
import gen_torchvision as gtv  # noqa: E402  (builders, kwargs, no-download guard)

TV_TRUTH = os.path.join(ROOT, "testdata", "torch", "torchvision.json")
TV_DIR = os.path.join(HERE, "tv")
SMALL_DIR = os.path.join(HERE, "small")

DEFAULT_OPSET = 14  # torch 1.13's torch.onnx default (torch.onnx._constants.ONNX_DEFAULT_OPSET)
OPSET_OVERRIDE = {  # builders that need a higher opset
    "convnext_tiny": 17, "convnext_small": 17, "convnext_base": 17, "convnext_large": 17,
}
FIXED_BATCH = ["alexnet", "squeezenet1_1", "shufflenet_v2_x0_5", "lraspp_mobilenet_v3_large", "r3d_18"]
# Near-duplicates of a kept builder of the same family are written gzipped (tv/NAME.onnx.gz, gzip -9,
# mtime 0: deterministic) to keep tv/ small: the graphs' long scoped names compress about 20x.
# Every other builder is a plain tv/NAME.onnx. Deep/wide variants and the bigger input sizes.
GZIP = set(
    ["resnet152", "resnext101_32x8d", "resnext101_64x4d", "wide_resnet101_2"]
    + ["densenet161", "densenet169", "densenet201"]
    + ["mnasnet1_0", "mnasnet1_3", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0"]
    + ["efficientnet_b%d" % i for i in range(1, 8)] + ["efficientnet_v2_m", "efficientnet_v2_l"]
    + ["regnet_x_" + s for s in ("800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf")]
    + ["regnet_y_" + s for s in ("800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf")]
    + ["convnext_small", "convnext_base", "convnext_large"]
    + ["fcn_resnet101", "deeplabv3_resnet101"]
)

# ONNX op_types whose outputs tv.json records per node
NODE_OPS = {"Conv", "ConvTranspose", "Gemm", "MatMul", "MaxPool", "AveragePool", "GlobalAveragePool",
            "GlobalMaxPool", "BatchNormalization", "LpPool", "GlobalLpPool"}
# PyTorch modules hooked for the per-node truth, with the ONNX op_types a call of one may export to
HOOKED = [
    ((nn.Conv1d, nn.Conv2d, nn.Conv3d), {"Conv"}),
    ((nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d), {"ConvTranspose"}),
    ((nn.Linear,), {"Gemm", "MatMul"}),
    ((nn.modules.batchnorm._BatchNorm,), {"BatchNormalization"}),
    ((nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d,
      nn.AdaptiveMaxPool3d), {"MaxPool", "GlobalMaxPool"}),
    ((nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d, nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d,
      nn.AdaptiveAvgPool3d), {"AveragePool", "GlobalAveragePool"}),
]


def hooked_ops(m):
    for classes, ops in HOOKED:
        if isinstance(m, classes):
            return ops
    return None


def scope_level(qualname):
    """The level a module call adds to torch 1.13's scoped node names: its qualified name from the
    last non-numeric atom on (torch.onnx.utils._setup_trace_module_map's _unqualified_variable_name):
    "features.1.block.0.0" -> "block.0.0", "classifier.0.convs.4" -> "convs.4", "layer4.1" ->
    "layer4.1", "fc" -> "fc". A node's name is "/" + the levels of the modules being called when it
    was traced (outermost first, the root module adds none; a module not called itself, such as a
    ModuleList, adds none either) + "/" + OpType (+ "_k" for the k-th repeat in that scope); a
    module called again in the same scope gets "_k" on its level ("/layer1/layer1.0/relu_1/Relu").
    Checked against the weight-input names of every Conv/ConvTranspose/Gemm/BatchNormalization node
    by node_truth (scope_errors)."""
    atoms = qualname.split(".")
    for i in range(len(atoms) - 1, -1, -1):
        if not atoms[i].isnumeric():
            return ".".join(atoms[i:])
    return qualname


def node_scope(node_name):
    """'/a/b/Conv_1' -> ('/a/b/', 'Conv', 1)."""
    i = node_name.rfind("/")
    scope, last = node_name[:i + 1], node_name[i + 1:]
    base, _, k = last.rpartition("_")
    if base and k.isdigit():
        return scope, base, int(k)
    return scope, last, 0


def dims(vi):
    out = []
    for d in vi.type.tensor_type.shape.dim:
        if d.HasField("dim_value"):
            out.append(d.dim_value)
        elif d.HasField("dim_param"):
            out.append(d.dim_param)
        else:
            out.append(None)
    return out


def randomize_constant_tensors(model, seed):
    """Give every constant-valued float parameter / buffer (BatchNorm weight=1, bias=0,
    running_mean=0, running_var=1, zero biases, ConvNeXt layer_scale=1e-6 ...) distinct random
    values, as a trained model has. Without it torch.onnx's initializer de-duplication
    (_jit_pass_onnx_deduplicate_initializers, by value) merges the equal tensors into one
    graph input and re-creates the others with Identity nodes. Shapes and counts are unchanged."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            if not t.is_floating_point() or t.numel() == 0:
                continue
            if t.numel() == 1 or bool(t.min() == t.max()):
                t.copy_(torch.rand(t.shape, generator=g) * 0.5 + 0.75)


def export(model, x, opset, dynamic, export_params, training=torch.onnx.TrainingMode.PRESERVE,
           output_names=("output",)):
    f = io.BytesIO()
    dyn = None
    if dynamic:
        dyn = {"input": {0: "N"}}
        for o in output_names:
            dyn[o] = {0: "N"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, x, f, export_params=export_params, training=training,
                          do_constant_folding=True, opset_version=opset, input_names=["input"],
                          output_names=list(output_names), dynamic_axes=dyn)
    return f.getvalue()


def infer_fixed(mp, batch):
    """onnx.shape_inference on a copy whose symbolic batch is set to batch."""
    m = onnx.ModelProto()
    m.CopyFrom(mp)
    for vi in list(m.graph.input) + list(m.graph.output):
        for d in vi.type.tensor_type.shape.dim:
            if d.HasField("dim_param") and d.dim_param == "N":
                d.dim_value = batch
    m = shape_inference.infer_shapes(m, strict_mode=False, data_prop=True)
    shapes = {}
    for vi in list(m.graph.value_info) + list(m.graph.output) + list(m.graph.input):
        shapes[vi.name] = dims(vi)
    return shapes


def hook_forward(model, x):
    """Run model(x) with forward hooks on every module; returns (output, calls) where calls maps a
    scope string ("/layer1/layer1.0/conv1/") to the [qualname, output shape] of each call of a hooked
    module (HOOKED) made in that scope, in call order."""
    calls = OrderedDict()
    stack = []  # scope strings of the active calls; "" for the root
    seen = Counter()  # (parent scope, level) -> calls so far
    handles = []
    for q, m in model.named_modules():
        def pre(mod, args, q=q):
            parent = stack[-1] if stack else ""
            if q == "":
                stack.append(parent)
                return
            level = scope_level(q)
            k = seen[(parent, level)]
            seen[(parent, level)] += 1
            stack.append(parent + "/" + (level if k == 0 else "%s_%d" % (level, k)))

        def post(mod, args, out, q=q):
            scope = stack.pop()
            if hooked_ops(mod) is not None:
                calls.setdefault(scope + "/", []).append([q, list(out.shape)])
        handles.append(m.register_forward_pre_hook(pre))
        handles.append(m.register_forward_hook(post))
    with torch.no_grad():
        out = model(x)
    for h in handles:
        h.remove()
    assert not stack, stack
    return out, calls


def node_truth(model, mp, calls, batch):
    """Per ONNX node (op_type in NODE_OPS): output shape from PyTorch's hooks where a module made
    it, else from onnx.shape_inference (functional calls: F.adaptive_avg_pool2d, F.max_pool2d ...)."""
    g = mp.graph
    inferred = infer_fixed(mp, batch)
    modules = dict(model.named_modules())
    nodes, from_infer, mismatch, scope_errors, infer_unknown = OrderedDict(), [], [], [], []
    used = Counter()
    for n in g.node:
        if n.op_type not in NODE_OPS:
            continue
        scope, base, k = node_scope(n.name)
        inf = inferred.get(n.output[0])
        shape = None
        i = used[scope]
        if scope in calls and i < len(calls[scope]) and n.op_type in hooked_ops(modules[calls[scope][i][0]]):
            q, shape = calls[scope][i]
            used[scope] += 1
            # the weight input must be the module's own state_dict entry (or a folded copy)
            if n.op_type in ("Conv", "ConvTranspose", "Gemm", "BatchNormalization"):
                w = n.input[1]
                if w != q + ".weight" and not w.startswith("onnx::"):
                    scope_errors.append("%s: weight input %s, module %s" % (n.name, w, q))
        if shape is None:
            shape = inf
            from_infer.append(n.name)
        elif not inf or any(not isinstance(v, int) for v in inf):
            infer_unknown.append(n.name)
        elif inf != shape:
            mismatch.append({"node": n.name, "pytorch": shape, "shape_inference": inf})
        nodes[n.name] = shape
    unused = [c[0] for sc in calls for c in calls[sc][used[sc]:]]
    return nodes, from_infer, mismatch, scope_errors, unused, infer_unknown


def graph_facts(mp):
    g = mp.graph
    inits = {i.name for i in g.initializer}
    inputs = [i for i in g.input if i.name not in inits]
    weights = [i for i in inputs if i.name != "input"]
    numel = sum(math.prod(dims(i)) for i in weights)
    graph_inputs = {i.name for i in g.input} | inits
    dedup = [n.output[0] for n in g.node if n.op_type == "Identity" and n.input[0] in graph_inputs]
    return {
        "weight_inputs": len(weights),
        "weight_inputs_numel": numel,
        "folded_inputs": sorted(i.name for i in weights if i.name.startswith("onnx::")),
        "initializers": len(g.initializer),
        "value_info": len(g.value_info),
        "dedup_identity": dedup,
    }


def tv_one(rec, fresh=False, gz=False):
    name = rec["builder"]
    opset = OPSET_OVERRIDE.get(name, DEFAULT_OPSET)
    dynamic = name not in FIXED_BATCH and not fresh
    model = gtv.build(name)
    if not fresh:
        randomize_constant_tensors(model, 1)
    torch.manual_seed(0)
    x = torch.rand([1] + rec["input"])
    out, calls = hook_forward(model, x)
    if isinstance(out, dict):
        out = out["out"]
    data = export(model, x, opset, dynamic, export_params=False)
    mp = onnx.load_from_string(data)
    nodes, from_infer, mismatch, scope_errors, unused, infer_unknown = node_truth(model, mp, calls, 1)
    fname = name + ("_fresh" if fresh else "") + ".onnx"
    path = os.path.join(TV_DIR, fname)
    for stale in (path, path + ".gz"):
        if os.path.exists(stale):
            os.remove(stale)
    if gz:
        fname += ".gz"
        path += ".gz"
        with open(path, "wb") as f:
            f.write(gzip.compress(data, compresslevel=9, mtime=0))
    else:
        with open(path, "wb") as f:
            f.write(data)
    facts = graph_facts(mp)
    ops = Counter(n.op_type for n in mp.graph.node)
    r = OrderedDict()
    r["builder"] = name
    r["file"] = "tv/" + fname
    r["gzip"] = gz
    r["bytes"] = len(data)
    r["file_bytes"] = os.path.getsize(path)
    r["opset"] = opset
    r["input"] = ["N" if dynamic else 1] + rec["input"]
    r["dynamic_batch"] = dynamic
    r["params"] = rec["params"]
    r["buffers"] = rec["buffers"]
    r["macs"] = rec["macs"]
    r["output"] = list(out.shape)
    r["onnx_output"] = dims(mp.graph.output[0])
    r["op_types"] = dict(sorted(ops.items()))
    r.update(facts)
    r["nodes_from_shape_inference"] = from_infer
    r["shape_mismatch"] = mismatch
    r["shape_inference_unknown"] = len(infer_unknown)
    r["scope_errors"] = scope_errors
    r["modules_unmatched"] = unused
    r["nodes"] = nodes
    return r


def tv_main(names, update=False):
    """names empty: every builder, tv.json rewritten. names given: those builders' files are
    written and their JSON goes to stdout, or with update=True replaces their records in tv.json."""
    os.makedirs(TV_DIR, exist_ok=True)
    truth = json.load(open(TV_TRUTH))
    recs = [m for m in truth["models"] if "error" not in m]
    if names:
        recs = [m for m in recs if m["builder"] in names]
    out, failed = [], []
    for rec in recs:
        name = rec["builder"]
        try:
            r = tv_one(rec, gz=name in GZIP)
            out.append(r)
            print("%-28s %7d B opset %d nodes %d infer %d mismatch %d scope_err %d unmatched %d dedup %d" % (
                name, r["bytes"], r["opset"], len(r["nodes"]), len(r["nodes_from_shape_inference"]),
                len(r["shape_mismatch"]), len(r["scope_errors"]), len(r["modules_unmatched"]),
                len(r["dedup_identity"])), file=sys.stderr, flush=True)
        except Exception as e:  # recorded, run continues
            failed.append({"builder": name, "error": "%s: %s" % (type(e).__name__, str(e).split("\n")[0])})
            print("%-28s FAILED %s" % (name, failed[-1]["error"]), file=sys.stderr, flush=True)
    if not names or "resnet18" in names:
        rec = next(m for m in truth["models"] if m["builder"] == "resnet18")
        r = tv_one(rec, fresh=True)
        r["note"] = ("resnet18 as built (weights=None init, NOT randomized), fixed batch 1: torch.onnx "
                     "de-duplicates equal-valued tensors (all BatchNorm weight/running_var of one shape are "
                     "ones, bias/running_mean zeros) into one graph input and re-creates the rest with "
                     "Identity nodes; dedup_identity lists their outputs")
        out.append(r)
    doc = OrderedDict()
    doc["generator"] = "testdata/onnx/gen_onnx.py"
    doc["torch"] = torch.__version__
    doc["torchvision"] = torchvision.__version__
    doc["onnx"] = onnx.__version__
    doc["truth_source"] = ("params, buffers, macs: copied from testdata/torch/torchvision.json (PyTorch, "
                           "gen_torchvision.py rules, batch 1); output and nodes: measured here in PyTorch "
                           "at batch 1 (forward hooks), nodes without a module (functional calls) from "
                           "onnx.shape_inference, listed in nodes_from_shape_inference")
    doc["export"] = ("torch.onnx.export(model.eval(), x, export_params=False, training=TrainingMode.PRESERVE, "
                     "do_constant_folding=True, opset_version=opset, input_names=['input'], "
                     "output_names=['output'], dynamic_axes={'input': {0: 'N'}, 'output': {0: 'N'}} unless "
                     "dynamic_batch is false)")
    doc["randomized"] = ("before export every constant-valued parameter/buffer got random values "
                         "(randomize_constant_tensors) so no initializer is de-duplicated; except "
                         "resnet18_fresh")
    doc["fields"] = OrderedDict([
        ("file", "tv/NAME.onnx, or tv/NAME.onnx.gz (gzip: true) for the near-duplicates of a kept builder"),
        ("bytes", "size of the ONNX model (uncompressed); file_bytes: of the file as committed"),
        ("input", "input shape with batch; 'N' = symbolic (dim_param N)"),
        ("output", "PyTorch's output shape at batch 1 (segmentation: the dict's 'out')"),
        ("onnx_output", "the graph output's declared shape"),
        ("weight_inputs", "graph inputs other than 'input' (export_params=False: every weight is one)"),
        ("weight_inputs_numel", "their total numel; == params + buffers unless dedup_identity is non-empty"),
        ("folded_inputs", "graph inputs made by constant folding (not state_dict names), e.g. the "
                          "transposed weight of a Linear exported as MatMul"),
        ("nodes", "output shape (batch 1) of every %s node, by ONNX node name" % "/".join(sorted(NODE_OPS))),
    ])
    doc["failed"] = failed
    doc["count"] = len(out)
    doc["models"] = out
    if update:
        old = json.load(open(os.path.join(HERE, "tv.json")), object_pairs_hook=OrderedDict)
        new = {r["file"]: r for r in out}
        old["models"] = [new.pop(r["file"], r) for r in old["models"]]
        assert not new, "not in tv.json: %s" % list(new)
        done = {r["builder"] for r in out} | {f["builder"] for f in failed}
        old["failed"] = [f for f in old["failed"] if f["builder"] not in done] + failed
        old["count"] = len(old["models"])
        doc = old
    if not names or update:
        with open(os.path.join(HERE, "tv.json"), "w") as f:
            f.write(dump(doc))
    else:
        sys.stdout.write(dump(doc))
    return 1 if failed else 0


def dump(doc):
    head = {k: v for k, v in doc.items() if k not in ("models", "nets")}
    s = json.dumps(head, indent=1)[:-2]
    for key in ("models", "nets"):
        if key in doc:
            s += ',\n"%s":[\n' % key + ",\n".join(json.dumps(r, separators=(",", ":")) for r in doc[key]) + "\n]"
    s += "\n}\n"
    json.loads(s)
    return s


# ------------------------------------------------------------------ small nets with weights
from torchvision.models.convnext import LayerNorm2d  # noqa: E402
from torchvision.models.shufflenetv2 import channel_shuffle  # noqa: E402
from torchvision.ops.misc import SqueezeExcitation  # noqa: E402


class Seq(nn.Sequential):
    pass


class Lambda(nn.Module):
    """A functional call inside a Sequential (named by what it does)."""

    def __init__(self, fn, label):
        super().__init__()
        self.fn = fn
        self.label = label

    def forward(self, x):
        return self.fn(x)

    def extra_repr(self):
        return self.label


class Branches(nn.Module):
    """The same input through every branch, outputs flattened to (N, -1) or kept, then cat on dim 1."""

    def __init__(self, *branches, flatten=False):
        super().__init__()
        self.branches = nn.ModuleList(branches)
        self.flatten = flatten

    def forward(self, x):
        ys = [b(x) for b in self.branches]
        if self.flatten:
            ys = [torch.flatten(y, 1) for y in ys]
        return torch.cat(ys, 1)


class ConvPadMode(nn.Module):
    def __init__(self):
        super().__init__()
        self.reflect = nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect")
        self.replicate = nn.Conv2d(4, 4, 3, padding=(2, 1), padding_mode="replicate")
        self.zeros = nn.Conv2d(4, 4, 3, stride=2, padding=1)

    def forward(self, x):
        return self.zeros(F.relu(self.replicate(self.reflect(x))))


class PadConv(nn.Module):
    """F.pad in front of a conv, as TF-ported models do ('SAME' stride 2: pad right/bottom only)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, stride=2)
        self.conv2 = nn.Conv2d(4, 4, 2)
        self.pad = nn.ZeroPad2d((1, 0, 1, 0))

    def forward(self, x):
        x = self.conv1(F.pad(x, (0, 1, 0, 1)))
        x = F.pad(x, (1, 2, 0, 1), value=0.5)
        return self.conv2(self.pad(x))


class BN1d(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 16)
        self.bn_nc = nn.BatchNorm1d(16)
        self.conv = nn.Conv1d(4, 4, 3, padding=1, bias=False)
        self.bn_ncl = nn.BatchNorm1d(4)

    def forward(self, x):
        x = F.relu(self.bn_nc(self.fc(x)))
        x = x.view(x.size(0), 4, 4)
        return self.bn_ncl(self.conv(x))


class LinearNLF(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 12)
        self.fc2 = nn.Linear(12, 4, bias=False)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


class FlattenFn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.fc = nn.Linear(4 * 4 * 4, 5)

    def forward(self, x):
        return self.fc(torch.flatten(F.relu(self.conv(x)), 1))


class FlattenView(FlattenFn):
    def forward(self, x):
        x = F.relu(self.conv(x))
        return self.fc(x.view(x.size(0), -1))


class FlattenModule(FlattenFn):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()

    def forward(self, x):
        return self.fc(self.flatten(F.relu(self.conv(x))))


class Permute(nn.Module):
    """channels-last Linear between two permutes (ConvNeXt's pointwise layers)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=1)
        self.fc = nn.Linear(6, 8)

    def forward(self, x):
        x = self.conv(x).permute(0, 2, 3, 1)
        return self.fc(x).permute(0, 3, 1, 2)


class Shuffle(nn.Module):
    """ShuffleNetV2's unit: chunk, branch, cat, channel_shuffle (view, transpose, view)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 1)
        self.branch = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1, groups=4, bias=False), nn.BatchNorm2d(4),
                                    nn.Conv2d(4, 4, 1, bias=False), nn.BatchNorm2d(4), nn.ReLU())

    def forward(self, x):
        x = self.conv(x)
        x1, x2 = x.chunk(2, dim=1)
        return channel_shuffle(torch.cat((x1, self.branch(x2)), dim=1), 2)


class SplitCat(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 1)
        self.a = nn.Conv2d(2, 2, 3, padding=1)
        self.b = nn.Conv2d(6, 4, 1)
        self.c = nn.Conv2d(3, 3, 1)

    def forward(self, x):
        x = self.conv(x)
        s1, s2 = torch.split(x, [2, 6], dim=1)
        c1, c2 = torch.chunk(x, 2, dim=1)
        e = torch.split(x, 3, dim=1)  # 3, 3, 2
        return torch.cat([self.a(s1), self.b(s2), c1 * c2, self.c(e[1]), e[2]], dim=1)


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(4)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + x)


class SE(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.se = SqueezeExcitation(8, 4)

    def forward(self, x):
        return self.se(F.relu(self.conv(x)))


class LayerScale(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1, groups=4)
        self.layer_scale = nn.Parameter(torch.rand(4, 1, 1) + 0.5)

    def forward(self, x):
        return x + self.layer_scale * self.conv(x)


class InterpSize(nn.Module):
    """FCN's head: F.interpolate(x, size=input_shape[-2:], mode='bilinear', align_corners=False)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.head = nn.Conv2d(4, 2, 1)

    def forward(self, x):
        size = x.shape[-2:]
        y = self.head(F.relu(self.conv(x)))
        return F.interpolate(y, size=size, mode="bilinear", align_corners=False)


class Softmaxes(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)

    def forward(self, x):
        y = self.conv(x)
        a = F.softmax(y, dim=1)
        b = F.softmax(y, dim=-1)
        c = F.log_softmax(y, dim=1)
        return torch.cat([a, b, c], 1)


class SoftmaxNC(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 6)
        self.sm = nn.Softmax(dim=1)
        self.lsm = nn.LogSoftmax(dim=-1)

    def forward(self, x):
        y = self.fc(x)
        return torch.cat([self.sm(y), self.lsm(y)], 1)


class MeanPool(nn.Module):
    """x.mean([2, 3]) (ShuffleNetV2, MobileNet-style heads) and keepdim=True."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        y = self.conv(x)
        return torch.cat([y.mean([2, 3]), torch.flatten(y.mean([2, 3], keepdim=True), 1)], 1)


class ResNetLike(nn.Module):
    """conv-bn-relu-maxpool, 2 basic blocks (the second downsamples, 1x1 conv shortcut), avgpool, fc."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.block1 = torchvision.models.resnet.BasicBlock(8, 8)
        down = nn.Sequential(nn.Conv2d(8, 16, 1, stride=2, bias=False), nn.BatchNorm2d(16))
        self.block2 = torchvision.models.resnet.BasicBlock(8, 16, stride=2, downsample=down)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.block2(self.block1(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def acts(*mods):
    return Branches(*mods)


def small_nets():
    """(name, builder, input shape with batch, options). options: opset, dynamic (default True),
    training (TrainingMode, default PRESERVE), external (save with external data), fresh (no
    randomisation of norm statistics), note."""
    A = nn
    C = lambda *a, **k: nn.Conv2d(*a, **k)  # noqa: E731
    nets = [
        # ---- convolutions
        ("conv2d", lambda: Seq(C(3, 8, 3, stride=2, padding=1, bias=False),
                               C(8, 8, 3, padding=2, dilation=2, groups=2),
                               C(8, 4, (3, 1), stride=(1, 2), padding=(1, 0))), [2, 3, 16, 16], {}),
        ("depthwise", lambda: Seq(C(4, 4, 3, padding=1, groups=4), C(4, 8, 1), A.ReLU(),
                                  C(8, 16, 3, stride=2, groups=8)), [2, 4, 12, 12], {}),
        ("conv1d", lambda: Seq(A.Conv1d(3, 8, 5, stride=2, padding=2), A.ReLU(),
                               A.Conv1d(8, 4, 3, dilation=2, groups=2, bias=False)), [2, 3, 32], {}),
        ("conv3d", lambda: Seq(A.Conv3d(2, 4, 3, stride=(1, 2, 2), padding=1), A.ReLU(),
                               A.Conv3d(4, 4, (1, 3, 3), groups=2, padding=(0, 1, 1), bias=False)),
         [2, 2, 6, 10, 10], {}),
        ("conv_padmode", ConvPadMode, [2, 3, 10, 10],
         {"note": "padding_mode reflect/replicate: Pad(mode=reflect|edge) + Conv with pads 0; the Pad's "
                  "pads input is computed by an unfolded constant subgraph (ConstantOfShape, Concat, "
                  "Reshape, Slice, Transpose, Reshape, Cast): evaluate it as constants"}),
        ("pad_conv", PadConv, [2, 3, 11, 11],
         {"note": "F.pad(x, (0,1,0,1)) -> Pad mode constant, pads [0,0,0,0, 0,0,1,1] (ONNX order: all begins, "
                  "then all ends; torch's pad tuple is last-axis-first); value=0.5 is Pad's 3rd input; "
                  "nn.ZeroPad2d the same Pad"}),
        ("convtranspose2d", lambda: Seq(A.ConvTranspose2d(4, 4, 3, stride=2, padding=1, output_padding=1, groups=2),
                                        A.ReLU(),
                                        A.ConvTranspose2d(4, 2, 4, stride=2, padding=1, dilation=2, bias=False)),
         [2, 4, 6, 6], {}),
        ("convtranspose1d", lambda: Seq(A.ConvTranspose1d(3, 4, 4, stride=2, padding=1),
                                        A.ConvTranspose1d(4, 2, 3, stride=3, padding=1, output_padding=2)),
         [2, 3, 9], {}),
        # ---- pooling
        ("maxpool2d", lambda: Seq(A.MaxPool2d(3, 2, padding=1), A.MaxPool2d(2, ceil_mode=True),
                                  A.MaxPool2d(3, stride=1, dilation=2), A.MaxPool2d((2, 1), stride=(1, 2))),
         [2, 3, 29, 29], {}),
        ("avgpool2d", lambda: Branches(A.AvgPool2d(3, 2, padding=1, count_include_pad=False),
                                       A.AvgPool2d(3, 2, padding=1, count_include_pad=True),
                                       A.AvgPool2d(3, 2, padding=1, ceil_mode=True, count_include_pad=True),
                                       A.AvgPool2d(3, 2, padding=1, ceil_mode=True, count_include_pad=False),
                                       flatten=True), [2, 3, 10, 10],
         {"note": "4 branches on one 10x10 input, flattened and concatenated; the ceil_mode ones give "
                  "6x6 (vs 5x5): the last window starts inside the padded input and is clipped"}),
        ("avgpool2d_ceil", lambda: Seq(A.AvgPool2d(2, ceil_mode=True), A.AvgPool2d((3, 2), stride=(2, 1))),
         [2, 3, 9, 9], {"note": "count_include_pad=True (the default) exports as Pad (zeros; here all 0) + "
                                "AveragePool(pads 0)"}),
        ("pool1d", lambda: Seq(A.MaxPool1d(3, 2, padding=1), A.AvgPool1d(3, 2, ceil_mode=True)), [2, 3, 20], {}),
        ("pool3d", lambda: Seq(A.AvgPool3d(2), A.MaxPool3d(3, stride=1, padding=1),
                               A.AvgPool3d(3, stride=2, padding=1, count_include_pad=False)),
         [2, 2, 8, 8, 8], {"note": "AvgPool3d(2) (count_include_pad=True, no padding) gets an all-zero Pad in "
                                   "front; count_include_pad=False keeps its pads on the AveragePool"}),
        ("adaptive_pool", lambda: Branches(A.AdaptiveAvgPool2d(1), A.AdaptiveAvgPool2d((2, 3)),
                                           A.AdaptiveMaxPool2d(1), A.AdaptiveMaxPool2d((4, 3)),
                                           Lambda(lambda x: x.amax((2, 3), keepdim=True), "amax((2,3))"),
                                           flatten=True),
         [2, 3, 8, 9], {"note": "AdaptiveAvgPool2d(1) -> GlobalAveragePool; AdaptiveAvgPool2d((2,3)) on 8x9 -> "
                                "AveragePool kernel=stride=(4,3) (only when the input divides: (3,3) on 8x8 "
                                "fails to export); AdaptiveMaxPool2d(1) -> MaxPool kernel=stride=input size "
                                "(8,9) with pads, NOT GlobalMaxPool; (4,3) -> MaxPool kernel (2,3); "
                                "x.amax((2,3), keepdim=True) -> ReduceMax(axes=[2,3])"}),
        ("mean_pool", MeanPool, [2, 3, 9, 9], {"note": "x.mean([2,3]) -> ReduceMean(axes=[2,3], keepdims=0); "
                                                       "keepdim=True -> keepdims=1"}),
        # ---- normalisation
        ("batchnorm1d", BN1d, [4, 8], {}),
        ("batchnorm2d", lambda: Seq(C(3, 6, 3, padding=1, bias=False), A.BatchNorm2d(6), A.ReLU(),
                                    A.BatchNorm2d(6, eps=1e-3)), [2, 3, 8, 8], {}),
        ("batchnorm3d", lambda: Seq(A.Conv3d(2, 4, 3, padding=1), A.BatchNorm3d(4)), [2, 2, 4, 6, 6], {}),
        ("instancenorm2d", lambda: Seq(C(3, 4, 3), A.InstanceNorm2d(4, affine=True), A.ReLU()), [2, 3, 10, 10], {}),
        ("layernorm", lambda: Seq(A.Linear(8, 12), A.LayerNorm(12), A.GELU()), [2, 5, 8], {"opset": 17}),
        ("layernorm_op13", lambda: Seq(A.Linear(8, 12), A.LayerNorm(12), A.GELU()), [2, 5, 8],
         {"opset": 13, "note": "LayerNormalization exists from opset 17; at 13 torch decomposes it "
                               "(ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add)"}),
        ("groupnorm", lambda: Seq(C(3, 8, 3, padding=1), A.GroupNorm(2, 8), A.ReLU()), [2, 3, 8, 8],
         {"opset": 13, "note": "no GroupNormalization before opset 18: torch exports Reshape to (N, G, -1), "
                               "InstanceNormalization with constant scale 1 / bias 0 of size G, Reshape back, "
                               "then Mul by weight and Add bias (Unsqueezed to (C,1,1))"}),
        ("layernorm2d", lambda: Seq(C(3, 8, 3, padding=1), LayerNorm2d(8), C(8, 4, 1)), [2, 3, 8, 8], {"opset": 17}),
        # ---- activations (each on the same input, concatenated on channels)
        ("act_a", lambda: acts(A.ReLU(), A.ReLU6(), A.LeakyReLU(0.1), A.PReLU(), A.PReLU(4), A.ELU(),
                               A.Hardtanh(-2.0, 3.0)), [2, 4, 6, 6],
         {"scale": 4.0, "note": "ReLU6 and Hardtanh(-2,3) -> Clip(x, min, max) with Constant inputs; PReLU's "
                                "slope becomes initializer onnx::PRelu_* of shape (1,1,1) / (4,1,1), not "
                                "the state_dict's (1,) / (4,)"}),
        ("act_b", lambda: acts(A.SELU(), A.CELU(0.5), A.Sigmoid(), A.Hardsigmoid(), A.Hardswish(), A.SiLU()),
         [2, 4, 6, 6], {"scale": 4.0, "note": "SiLU -> Sigmoid + Mul(x, sigmoid); Hardsigmoid -> HardSigmoid "
                                              "alpha 1/6 beta 0.5; the others are single ops"}),
        ("act_c", lambda: acts(A.Mish(), A.Tanh(), A.Softplus(), A.GELU(), A.GELU(approximate="tanh")),
         [2, 4, 6, 6], {"scale": 4.0, "note": "Mish -> Softplus, Tanh, Mul; GELU -> Div sqrt2, Erf, Add 1, Mul x, "
                                              "Mul 0.5; GELU(tanh) -> Mul, Mul, Mul 0.044715, Add, Mul sqrt(2/pi), "
                                              "Tanh, Add 1, Mul x, Mul 0.5 (no Gelu/Mish op before opset 18/20)"}),
        ("clip_op9", lambda: acts(A.ReLU6(), A.Hardtanh(-2.0, 3.0)), [2, 4, 6, 6],
         {"opset": 9, "scale": 4.0, "note": "opset < 11: Clip's min/max are attributes"}),
        ("softmax", Softmaxes, [2, 3, 4, 5], {}),
        ("softmax_nc", SoftmaxNC, [3, 8], {}),
        ("softmax_op11", Softmaxes, [2, 3, 4, 5],
         {"opset": 11, "note": "opset < 13: Softmax(axis) flattens to 2-D at axis; torch exports dim=1 "
                               "of a 4-D tensor as Transpose (swap axis 1 and last), Softmax(axis=3), "
                               "Transpose back; dim=-1 is a plain Softmax(axis=3)"}),
        # ---- tensor ops, linear
        ("linear", lambda: Seq(A.Linear(8, 16), A.ReLU(), A.Linear(16, 4, bias=False)), [3, 8],
         {"note": "Linear with bias on (N, F) -> Gemm(transB=1) with the state_dict weight; WITHOUT bias -> "
                  "MatMul with the transposed weight folded into onnx::MatMul_* (16, 4)"}),
        ("linear_nlf", LinearNLF, [2, 5, 8],
         {"note": "Linear on (N, L, F): MatMul with a constant-folded transposed weight (initializer "
                  "onnx::MatMul_*, shape (in, out)) then Add of the bias; without bias: MatMul only"}),
        ("flatten_fn", FlattenFn, [2, 3, 8, 8], {}),
        ("flatten_view", FlattenView, [2, 3, 8, 8], {}),
        ("flatten_view_fixed", FlattenView, [1, 3, 8, 8], {"dynamic": False}),
        ("flatten_module", FlattenModule, [2, 3, 8, 8], {}),
        ("permute", Permute, [2, 3, 5, 6], {}),
        ("shuffle", Shuffle, [2, 3, 6, 6],
         {"note": "x.chunk(2, 1) -> two Slices whose bounds come from Shape/Gather/Add/Div/Mul (not Split); "
                  "channel_shuffle -> Reshape (shape from Shape/Gather/Div/Cast/Unsqueeze/Concat), "
                  "Transpose [0,2,1,3,4], Reshape; torch could not name the output dims"}),
        ("split_cat", SplitCat, [2, 3, 6, 6],
         {"note": "torch.split -> Split(axis 1, sizes as an input Constant); torch.chunk -> Slices computed "
                  "from the shape (see shuffle)"}),
        ("split_op11", SplitCat, [2, 3, 6, 6], {"opset": 11, "note": "opset < 13: Split's sizes are the "
                                                                      "'split' attribute (13+: 2nd input)"}),
        ("residual", Residual, [2, 4, 8, 8], {}),
        ("squeeze_excitation", SE, [2, 3, 8, 8], {}),
        ("layer_scale", LayerScale, [2, 4, 6, 6], {}),
        ("upsample_nearest", lambda: Seq(C(3, 4, 3, padding=1), A.Upsample(scale_factor=2, mode="nearest")),
         [2, 3, 5, 6], {"note": "Resize(X, '', scales [1,1,2,2]) mode nearest, coordinate_transformation_mode "
                                "asymmetric, nearest_mode floor (PyTorch's nearest)"}),
        ("upsample_bilinear", lambda: Seq(C(3, 4, 3, padding=1),
                                          A.Upsample(scale_factor=2, mode="bilinear", align_corners=False)),
         [2, 3, 5, 6], {}),
        ("upsample_bilinear_ac", lambda: Seq(C(3, 4, 3, padding=1),
                                             A.Upsample(scale_factor=2, mode="bilinear", align_corners=True)),
         [2, 3, 5, 6], {}),
        ("upsample_bicubic", lambda: Seq(C(3, 4, 3, padding=1),
                                         A.Upsample(scale_factor=2, mode="bicubic", align_corners=False)),
         [2, 3, 5, 6], {"note": "Resize mode cubic, half_pixel, cubic_coeff_a -0.75 (PyTorch's A), "
                                "exclude_outside 0"}),
        ("interpolate_size", InterpSize, [2, 3, 9, 11],
         {"note": "F.interpolate(size=x.shape[-2:]) -> Resize(X, '', '', sizes) with sizes = Concat(Slice(Shape(X), "
                  "0, 2), Cast(Concat(Unsqueeze(Gather(Shape(input), 2)), Unsqueeze(Gather(Shape(input), 3))))): "
                  "evaluate the shape subgraph"}),
        ("upsample_nearest_op9", lambda: Seq(C(3, 4, 3, padding=1), A.Upsample(scale_factor=2, mode="nearest")),
         [2, 3, 5, 6], {"opset": 9, "note": "opset 9: Upsample(mode=nearest) with a scales input; 10: Resize(X, scales); 11+: Resize(X, roi, "
                              "scales[, sizes]); at opset 7 and 8 (Upsample with a scales attribute) torch 1.13 "
                              "fails to export (see failed)"}),
        ("dropout_identity", lambda: Seq(C(3, 4, 3), A.Dropout(0.5), A.Identity(), A.Dropout2d(0.2), A.ReLU()),
         [2, 3, 8, 8], {"note": "nn.Dropout / nn.Dropout2d in eval and nn.Identity leave no node at all "
                                "(torch removes them before export); Dropout/Identity nodes come from other "
                                "exporters or from initializer de-duplication (resnet_fresh)"}),
        # ---- per-opset forms of the same modules
        ("pad_conv_op9", PadConv, [2, 3, 11, 11], {"opset": 9, "note": "opset < 11: Pad's pads and value are "
                                                                        "attributes (11+: inputs)"}),
        ("flatten_view_op11", FlattenView, [2, 3, 8, 8], {"opset": 11, "note": "opset < 13: Unsqueeze's axes is "
                                                                               "an attribute (13+: 2nd input)"}),
        ("upsample_nearest_op10", lambda: Seq(C(3, 4, 3, padding=1), A.Upsample(scale_factor=2, mode="nearest")),
         [2, 3, 5, 6], {"opset": 10}),
        ("softmax_op9", Softmaxes, [2, 3, 4, 5], {"opset": 9}),
    ]
    for op in (7, 9, 11, 13, 17):
        nets.append(("resnet_op%d" % op, ResNetLike, [2, 3, 32, 32], {"opset": op}))
    nets += [
        ("resnet_bnfolded", ResNetLike, [2, 3, 32, 32],
         {"training": torch.onnx.TrainingMode.EVAL,
          "note": "default training mode (EVAL): every BatchNormalization after a Conv is folded into it "
                  "(the Conv gets a bias; the folded weights are new initializers named onnx::Conv_*); "
                  "params below are the nn.Module's (with BN), onnx_initializer_numel the file's"}),
        ("resnet_fresh", ResNetLike, [2, 3, 32, 32],
         {"fresh": True, "note": "BatchNorm at init (weight 1, bias 0, running_mean 0, running_var 1): torch.onnx "
                                 "de-duplicates equal tensors; one initializer per shape/value, the others "
                                 "are Identity nodes of it (dedup_identity)"}),
        ("resnet_external", ResNetLike, [2, 3, 32, 32],
         {"external": True, "note": "saved with external data: every initializer's bytes in "
                                    "resnet_external.onnx.data (data_location EXTERNAL, location/offset/length)"}),
    ]
    return nets


def randomize_norms(model, g):
    """Non-trivial BatchNorm/InstanceNorm/LayerNorm/GroupNorm affine and running statistics."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.modules.instancenorm._InstanceNorm,
                              nn.LayerNorm, nn.GroupNorm, LayerNorm2d)):
                if getattr(m, "weight", None) is not None:
                    m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.2)
                if getattr(m, "running_mean", None) is not None:
                    m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.2)
                    m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
            if isinstance(m, nn.PReLU):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) * 0.5)


def module_macs(model, x):
    rows = []

    def hook(m, args, out):
        rows.append(int(gtv.layer_macs(m, args[0], out)))
    hs = [m.register_forward_hook(hook) for m in model.modules() if gtv.layer_type(m) is not None]
    with torch.no_grad():
        out = model(x)
    for h in hs:
        h.remove()
    return out, sum(rows), len(rows)


def save_npy(path, a):
    np.save(path, np.ascontiguousarray(a.detach().numpy().astype(np.float32)))


def small_one(name, build, shape, opt):
    opset = opt.get("opset", DEFAULT_OPSET)
    dynamic = opt.get("dynamic", True)
    training = opt.get("training", torch.onnx.TrainingMode.PRESERVE)
    torch.manual_seed(0)
    model = build().eval()
    g = torch.Generator().manual_seed(1)
    if not opt.get("fresh"):
        randomize_norms(model, g)
    x = torch.randn(shape, generator=g) * opt.get("scale", 1.0)
    out, macs, nlayers = module_macs(model, x)
    with torch.no_grad():
        data = export(model, x, opset, dynamic, export_params=True, training=training)
    mp = onnx.load_from_string(data)
    onnx.checker.check_model(mp)
    path = os.path.join(SMALL_DIR, name + ".onnx")
    if opt.get("external"):
        loc = name + ".onnx.data"
        if os.path.exists(os.path.join(SMALL_DIR, loc)):
            os.remove(os.path.join(SMALL_DIR, loc))
        onnx.save_model(mp, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=loc, size_threshold=0)
    else:
        with open(path, "wb") as f:
            f.write(data)
    save_npy(os.path.join(SMALL_DIR, name + ".input.npy"), x)
    save_npy(os.path.join(SMALL_DIR, name + ".output.npy"), out)
    sd = [k for k in model.state_dict() if not k.endswith("num_batches_tracked")]
    inits = [i.name for i in mp.graph.initializer]
    params = sum(p.numel() for p in model.parameters())
    buffers = gtv.n_buffers(model)
    r = OrderedDict()
    r["net"] = name
    r["file"] = "small/" + name + ".onnx"
    if opt.get("external"):
        r["external_data"] = "small/" + name + ".onnx.data"
    r["bytes"] = os.path.getsize(path)
    r["opset"] = opset
    r["training"] = str(training).split(".")[-1]
    r["input"] = ["N" if dynamic else shape[0]] + shape[1:]
    r["input_npy"] = "small/%s.input.npy" % name
    r["output_npy"] = "small/%s.output.npy" % name
    r["batch"] = shape[0]
    r["params"] = params
    r["buffers"] = buffers
    r["macs"] = macs
    r["macs_layers"] = nlayers
    r["output"] = list(out.shape)
    r["onnx_output"] = dims(mp.graph.output[0])
    r["op_types"] = sorted(set(n.op_type for n in mp.graph.node))
    r["op_counts"] = dict(sorted(Counter(n.op_type for n in mp.graph.node).items()))
    r["onnx_initializer_numel"] = sum(math.prod(i.dims) for i in mp.graph.initializer)
    r["initializers_not_in_state_dict"] = [i for i in inits if i not in sd]
    r["state_dict_not_initializer"] = [k for k in sd if k not in inits]
    graph_inputs = {i.name for i in mp.graph.input} | set(inits)
    r["dedup_identity"] = [n.output[0] for n in mp.graph.node if n.op_type == "Identity" and n.input[0] in graph_inputs]
    r["module"] = repr(model).replace("\n", " ")
    r["module"] = " ".join(r["module"].split())
    if opt.get("note"):
        r["note"] = opt["note"]
    return r


def small_main(names):
    os.makedirs(SMALL_DIR, exist_ok=True)
    nets = small_nets()
    if names:
        nets = [n for n in nets if n[0] in names]
    out, failed = [], []
    for name, build, shape, opt in nets:
        try:
            r = small_one(name, build, shape, opt)
            out.append(r)
            print("%-24s %7d B opset %2d %s" % (name, r["bytes"], r["opset"], " ".join(r["op_types"])),
                  file=sys.stderr, flush=True)
        except Exception as e:
            failed.append({"net": name, "error": "%s: %s" % (type(e).__name__, str(e).split("\n")[0])})
            print("%-24s FAILED %s" % (name, failed[-1]["error"]), file=sys.stderr, flush=True)
    failed += export_failures()
    doc = OrderedDict()
    doc["generator"] = "testdata/onnx/gen_onnx.py"
    doc["torch"] = torch.__version__
    doc["onnx"] = onnx.__version__
    doc["export"] = ("torch.onnx.export(model.eval(), x, export_params=True, training=TrainingMode.PRESERVE "
                     "unless 'training' says EVAL, do_constant_folding=True, opset_version=opset, "
                     "input_names=['input'], output_names=['output'], dynamic_axes N on input and output "
                     "unless input[0] is a number)")
    doc["truth"] = ("params: sum(p.numel() for p in module.parameters()); buffers: BatchNorm running_mean/var "
                    "numel (num_batches_tracked excluded); macs: gen_torchvision.py's rule (Conv/ConvTranspose/"
                    "Linear modules, forward hooks, bias excluded) at the npy's batch; output/output_npy: "
                    "PyTorch's nn.Module output for input_npy (float32, batch included). Norm layers have "
                    "random affine and running statistics (except resnet_fresh); x = randn * scale")
    doc["failed"] = failed
    doc["count"] = len(out)
    doc["nets"] = out
    if not names:
        with open(os.path.join(HERE, "small.json"), "w") as f:
            f.write(dump(doc))
    else:
        sys.stdout.write(dump(doc))
    return 1 if failed and any("error" in f and "expected" not in f for f in failed) else 0


def export_failures():
    """Constructs torch 1.13 cannot export (recorded, not files)."""
    cases = [
        ("conv_padding_same", lambda: nn.Conv2d(3, 4, 3, padding="same"), [1, 3, 8, 8]),
        ("adaptive_avgpool_nondivisible", lambda: nn.AdaptiveAvgPool2d((3, 3)), [1, 3, 8, 8]),
        ("upsample_nearest_op7", lambda: nn.Upsample(scale_factor=2, mode="nearest"), [1, 3, 5, 6], 7),
        ("upsample_nearest_op8", lambda: nn.Upsample(scale_factor=2, mode="nearest"), [1, 3, 5, 6], 8),
        ("maxpool_dilation_op7", lambda: nn.MaxPool2d(3, stride=1, dilation=2), [1, 3, 9, 9], 7),
        ("gelu_op7", lambda: nn.GELU(), [1, 3, 4, 4], 7),
    ]
    res = []
    for case in cases:
        name, build, shape = case[:3]
        opset = case[3] if len(case) > 3 else DEFAULT_OPSET
        try:
            export(build().eval(), torch.rand(shape), opset, True, export_params=True)
            res.append({"net": name, "error": "none: it exported (update gen_onnx.py)"})
        except Exception as e:
            res.append({"net": name, "opset": opset, "expected": True,
                        "error": "%s: %s" % (type(e).__name__, str(e).split("\n")[0][:200])})
    return res


def main():
    args = sys.argv[1:]
    update = "--update" in args
    args = [a for a in args if a != "--update"]
    what = args[0] if args and args[0] in ("tv", "small") else None
    names = args[1:] if what else args
    if update and (what != "tv" or not names):
        sys.exit("--update needs tv and builder names")
    rc = 0
    if what in (None, "tv"):
        rc |= tv_main(names, update)
    if what in (None, "small"):
        rc |= small_main(names)
    return rc


if __name__ == "__main__":
    sys.exit(main())
