#!/usr/bin/python3
"""Expected effective receptive fields (input gradients) from PyTorch's autograd.

Run from the repository root with Debian's python3-torch and python3-yaml:

    /usr/bin/python3 testdata/torch/erf/gen_erf.py

For each case below it builds the zoo network with spec2torch.py (the
independent PyTorch implementation of the spec format) at a small input,
fills every parameter, buffer and the input with values of a counter-based
rule that the Go test computes too (so that no checkpoint is committed),
runs the network in eval mode up to the case's layer, and takes the gradient
of the sum over channels of that layer's centre output unit (batch element
0) with respect to the input. It writes beside itself:

    NAME.json      the case (spec, input, layer row), the state_dict keys
                   with their shapes and the rule's range for each, and the
                   gradient's summary numbers
    NAME.grad.npy  the input gradient, float32, (C, spatial...)

The rule: element j of tensor t (t counts the state_dict entries from 0,
the input is t = 1000000) is lo + (hi - lo) * u(t, j), rounded to float32,
where u is the top 24 bits of splitmix64(t << 32 | j) over 2^24, computed
in float64; [lo, hi] is written per tensor.
"""
import json
import os
import sys
import warnings

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "exec"))
import spec2torch  # noqa: E402
from gen_exec import run_rows  # noqa: E402

warnings.filterwarnings("ignore")

INPUT_TENSOR = 1000000

# name: spec (from the repository root), input (without batch; None: the
# spec's), layer row (1-based, as the tables number them; cnncalc draw --rf
# takes it too). Two zoo networks, and exec's modern-constructs and U-Net
# networks for the kinds the zoo pair lacks (layer norms, GELU, permute,
# softmax, upsample, chunk, split, PReLU and the further activations).
CASES = {
    "resnet18": ("testdata/zoo/resnet18.yaml", [3, 64, 64], 34),
    "efficientnet_b0": ("testdata/zoo/efficientnet_b0.yaml", [3, 64, 64], 58),
    "exec_modern": ("testdata/torch/exec/modern.yaml", None, 46),
    "exec_unet2d": ("testdata/torch/exec/unet2d.yaml", None, 18),
}

M64 = (1 << 64) - 1


def u(t, n):
    """u(t, j) for j in [0, n): splitmix64 of t<<32 | j, top 24 bits / 2^24."""
    with np.errstate(over="ignore"):
        z = (np.uint64(t) << np.uint64(32)) | np.arange(n, dtype=np.uint64)
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float64) / float(1 << 24)


def fill(t, n, lo, hi):
    return (lo + (hi - lo) * u(t, n)).astype(np.float32)


def ranges(net):
    """The rule's [lo, hi] for each state_dict entry, None for counters."""
    mods = dict(net.named_modules())
    out = []
    for name, t in net.state_dict().items():
        prefix, _, suffix = name.rpartition(".")
        m = mods[prefix]
        if suffix == "num_batches_tracked":
            out.append(None)
        elif suffix == "running_mean":
            out.append((-0.25, 0.25))
        elif suffix == "running_var":
            out.append((0.5, 1.5))
        elif suffix == "weight" and isinstance(m, (nn.modules.conv._ConvNd, nn.Linear)):
            b = (3.0 / t[0].numel()) ** 0.5  # variance 1/fan_in
            out.append((-b, b))
        elif suffix == "weight":
            out.append((0.5, 1.5))
        elif suffix == "bias":
            out.append((-0.1, 0.1))
        else:
            raise RuntimeError("unexpected state_dict entry %s" % name)
    return out


class Shuffle(nn.Module):
    """nn.ChannelShuffle by reshape and transpose: PyTorch 1.13 has no
    derivative for channel_shuffle; this is the same permutation."""

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, x):
        n, c = x.shape[:2]
        rest = x.shape[2:]
        return x.reshape(n, self.groups, c // self.groups, *rest).transpose(1, 2).reshape(n, c, *rest)


def differentiable(net):
    """Swaps the modules autograd cannot pass for equivalents, checked equal."""
    for i, m in enumerate(net.mods):
        if isinstance(m, nn.ChannelShuffle):
            sub = Shuffle(m.groups)
            probe = torch.randn(2, 12, 3, 5)
            assert torch.equal(m(probe), sub(probe))
            net.mods[i] = sub


def strip_expect(v):
    """Drops every expect: (they hold the spec's own input size's shapes)."""
    if isinstance(v, dict):
        v.pop("expect", None)
        for w in v.values():
            strip_expect(w)
    elif isinstance(v, list):
        for w in v:
            strip_expect(w)


def gen(name):
    path, shape, row = CASES[name]
    spec = spec2torch.load_spec(os.path.join(ROOT, path))
    if shape is not None:
        spec["input"] = shape
        strip_expect(spec)
    shape = spec["input"]
    res, net, problems = spec2torch.compile_spec(spec, 1)
    assert not problems, problems
    differentiable(net)
    net.eval()
    sd = net.state_dict()
    keys = []
    with torch.no_grad():
        for t, ((k, v), r) in enumerate(zip(sd.items(), ranges(net))):
            entry = {"name": k, "shape": list(v.shape)}
            if r is not None:
                v.copy_(torch.from_numpy(fill(t, v.numel(), *r).reshape(v.shape)))
                entry["lo"], entry["hi"] = r
            else:
                v.fill_(1)
            keys.append(entry)
    n = int(np.prod([1] + shape))
    x = torch.from_numpy(fill(INPUT_TENSOR, n, -1.7, 1.7).reshape([1] + shape)).requires_grad_(True)
    rows = run_rows(net, x)
    y = rows[row - 1]
    centre = [(d - 1) // 2 for d in y.shape[2:]]
    unit = y[(0, slice(None)) + tuple(centre)].sum()
    unit.backward()
    g = x.grad[0].detach().numpy().astype(np.float32)
    np.save(os.path.join(HERE, name + ".grad.npy"), g)
    emap = np.abs(g.astype(np.float64)).sum(axis=0)
    info = {"name": name, "spec": path, "input": shape, "row": row,
            "layer_type": res["layers"][row - 1]["type"], "output": list(y.shape), "unit": centre,
            "torch": torch.__version__, "unit_value": float(unit),
            "grad_abs_sum": float(emap.sum()), "grad_abs_max": float(emap.max()),
            "input_rule": [-1.7, 1.7], "keys": keys}
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        json.dump(info, f, indent=1)
        f.write("\n")
    print("%s: row %d (%s) output %s, |grad| sum %.6g" % (name, row, info["layer_type"], info["output"], info["grad_abs_sum"]))


def main():
    names = sys.argv[1:] or list(CASES)
    for n in names:
        gen(n)


if __name__ == "__main__":
    main()
