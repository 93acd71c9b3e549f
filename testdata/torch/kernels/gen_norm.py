#!/usr/bin/python3
"""Generate norm.json and act.json: normalisation and activation kernel cases
computed by real PyTorch, for exec's norm_test.go and act_test.go.

Run:  /usr/bin/python3 testdata/torch/kernels/gen_norm.py   (from anywhere)
Deterministic: fixed seed; rerunning rewrites both files byte-identically
(for the same torch version).

Each file is {"torch": VERSION, "cases": [CASE, ...]}. A case is

    {"name": str, "op": str, "shape": [...], "x": [...], "out": [...], ...args}

with every tensor flattened in row-major order. Norm args: "eps", "momentum",
"mean"/"var" (running statistics fed in), "weight", "bias" (absent when
affine is off), "norm_size" (layernorm: product of normalized_shape),
"normalized_shape" (as given to torch), "groups"; batchnorm_train cases
also carry "running_mean_out"/"running_var_out", the buffers after the
forward pass. Activation args: "slope", "alpha", "approx" ("none"/"tanh"),
"dim" (softmax, as given to torch, possibly negative).
"""
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 20250301
HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(SEED)


def flat(t):
    """A tensor as a flat list of floats, each printed as the shortest
    decimal that round-trips to the same float32."""
    return [float(str(np.float32(v))) for v in t.detach().reshape(-1).tolist()]


def randn(*shape, scale=1.0, shift=0.0):
    return torch.randn(*shape) * scale + shift


def randomise_running(m, c):
    with torch.no_grad():
        m.running_mean.copy_(randn(c, scale=0.5))
        m.running_var.copy_(torch.rand(c) * 1.5 + 0.25)


def randomise_affine(m):
    with torch.no_grad():
        if getattr(m, "weight", None) is not None:
            m.weight.copy_(randn(*m.weight.shape, scale=0.5, shift=1.0))
        if getattr(m, "bias", None) is not None:
            m.bias.copy_(randn(*m.bias.shape, scale=0.5))


def affine(case, m):
    if getattr(m, "weight", None) is not None:
        case["weight"] = flat(m.weight)
    if getattr(m, "bias", None) is not None:
        case["bias"] = flat(m.bias)


# ------------------------------------------------------------------- norms
def batchnorm_cases():
    out = []
    shapes = [
        (nn.BatchNorm1d, (4, 3)),
        (nn.BatchNorm1d, (2, 3, 5)),
        (nn.BatchNorm2d, (2, 3, 4, 5)),
        (nn.BatchNorm2d, (1, 4, 3, 3)),
        (nn.BatchNorm3d, (2, 2, 3, 2, 4)),
    ]
    for cls, shape in shapes:
        c = shape[1]
        for aff in (True, False):
            for eps in (1e-5, 1e-3):
                # eval: running statistics
                m = cls(c, eps=eps, affine=aff).eval()
                randomise_running(m, c)
                randomise_affine(m)
                x = randn(*shape, scale=2.0, shift=0.5)
                with torch.no_grad():
                    y = m(x)
                case = {"name": f"{cls.__name__}{list(shape)}_affine{aff}_eps{eps}_eval",
                        "op": "batchnorm", "shape": list(shape), "x": flat(x),
                        "eps": eps, "mean": flat(m.running_mean), "var": flat(m.running_var)}
                affine(case, m)
                case["out"] = flat(y)
                out.append(case)

                # train: batch statistics, running stats updated in place
                momentum = 0.1 if eps == 1e-5 else 0.3
                m = cls(c, eps=eps, momentum=momentum, affine=aff).train()
                randomise_running(m, c)
                randomise_affine(m)
                x = randn(*shape, scale=3.0, shift=-1.0)
                case = {"name": f"{cls.__name__}{list(shape)}_affine{aff}_eps{eps}_train",
                        "op": "batchnorm_train", "shape": list(shape), "x": flat(x),
                        "eps": eps, "momentum": momentum,
                        "mean": flat(m.running_mean), "var": flat(m.running_var)}
                affine(case, m)
                with torch.no_grad():
                    y = m(x)
                case["out"] = flat(y)
                case["running_mean_out"] = flat(m.running_mean)
                case["running_var_out"] = flat(m.running_var)
                out.append(case)
    return out


def layernorm_cases():
    out = []
    specs = [
        # (input shape, normalized_shape as given, kwargs)
        ((4, 6), 6, {}),
        ((2, 3, 5), 5, {}),
        ((2, 3, 5), [5], {}),
        ((2, 3, 5), [3, 5], {}),
        ((2, 3, 4, 5), [3, 4, 5], {}),
        ((2, 3, 4, 5), (4, 5), {"eps": 1e-3}),
        ((2, 3, 4, 5), [3, 4, 5], {"elementwise_affine": False}),
        ((2, 8), 8, {"elementwise_affine": False, "eps": 1e-6}),
        ((3, 4, 5), [4, 5], {"bias": False}),
        ((3, 7), 7, {"bias": False}),
        ((1, 1, 1), 1, {}),  # a single element: out = bias
        ((2, 4), 4, {}),     # constant rows: out = bias
    ]
    for shape, ns, kw in specs:
        kw = dict(kw)
        no_bias = kw.pop("bias", True) is False
        m = nn.LayerNorm(ns, **kw)
        randomise_affine(m)
        if no_bias:
            # torch 1.13's nn.LayerNorm has no bias=False (2.1+ has):
            # drop the parameter, as 2.1's module does, and let
            # F.layer_norm see bias=None.
            m.bias = None
        x = randn(*shape, scale=2.0, shift=3.0)
        if shape in ((1, 1, 1), (2, 4)):
            # PyTorch's CPU kernel computes x*rstd + (-mean*rstd) in float32,
            # rstd = 1/sqrt(eps) ~ 316 here, so a constant row comes out as
            # bias + O(|x|*316*2^-24), 1e-5 off for |x| ~ 2.6, rather than
            # exactly bias. Powers of two make that fold exact.
            x = torch.full(shape, 0.5)
            x[-1] = -2.0
        with torch.no_grad():
            y = F.layer_norm(x, m.normalized_shape, m.weight, m.bias, m.eps)
            if not no_bias:
                assert torch.equal(y, m(x))
        norm_size = int(np.prod(m.normalized_shape))
        if no_bias:
            kw["bias"] = False
        case = {"name": f"layernorm{list(shape)}_ns{ns}_{kw}", "op": "layernorm",
                "shape": list(shape), "x": flat(x), "eps": m.eps,
                "normalized_shape": ns if isinstance(ns, int) else list(ns),
                "norm_size": norm_size}
        affine(case, m)
        case["out"] = flat(y)
        out.append(case)
    # the default normalized_shape a spec gives: every non-batch axis
    for shape in [(2, 3, 4), (2, 3, 2, 2)]:
        m = nn.LayerNorm(list(shape[1:]))
        randomise_affine(m)
        x = randn(*shape)
        with torch.no_grad():
            y = m(x)
        case = {"name": f"layernorm{list(shape)}_default", "op": "layernorm",
                "shape": list(shape), "x": flat(x), "eps": m.eps,
                "normalized_shape": list(shape[1:]),
                "norm_size": int(np.prod(shape[1:]))}
        affine(case, m)
        case["out"] = flat(y)
        out.append(case)
    return out


def instancenorm_cases():
    out = []
    shapes = [
        (nn.InstanceNorm1d, (2, 3, 6)),
        (nn.InstanceNorm2d, (2, 3, 4, 5)),
        (nn.InstanceNorm3d, (1, 2, 3, 2, 4)),
    ]
    for cls, shape in shapes:
        c = shape[1]
        for aff in (False, True):
            for track in (False, True):
                m = cls(c, affine=aff, track_running_stats=track).eval()
                if track:
                    randomise_running(m, c)
                randomise_affine(m)
                x = randn(*shape, scale=2.0, shift=-0.5)
                with torch.no_grad():
                    y = m(x)
                case = {"name": f"{cls.__name__}{list(shape)}_affine{aff}_track{track}",
                        "op": "instancenorm", "shape": list(shape), "x": flat(x), "eps": m.eps}
                if track:
                    case["mean"] = flat(m.running_mean)
                    case["var"] = flat(m.running_var)
                affine(case, m)
                case["out"] = flat(y)
                out.append(case)
    return out


def groupnorm_cases():
    out = []
    specs = [
        ((2, 6, 4), 3, True),
        ((2, 6, 3, 3), 2, True),
        ((2, 6, 3, 3), 6, True),   # = instance norm
        ((2, 6, 3, 3), 1, False),  # = layer norm over (C,H,W)
        ((1, 4, 2, 3, 2), 2, True),
        ((3, 4), 2, True),         # no spatial axes
    ]
    for shape, g, aff in specs:
        m = nn.GroupNorm(g, shape[1], affine=aff)
        randomise_affine(m)
        x = randn(*shape, scale=1.5, shift=2.0)
        with torch.no_grad():
            y = m(x)
        case = {"name": f"groupnorm{list(shape)}_g{g}_affine{aff}", "op": "groupnorm",
                "shape": list(shape), "x": flat(x), "eps": m.eps, "groups": g}
        affine(case, m)
        case["out"] = flat(y)
        out.append(case)
    return out


# ------------------------------------------------------------- activations
def act_input():
    """Values spanning -20..20 with the interesting points exactly hit:
    0, +-1, +-3 (hard* kinks), +-6, small magnitudes and random values."""
    grid = torch.linspace(-20, 20, 81)
    special = torch.tensor([0.0, -0.0, 1e-7, -1e-7, 1e-3, -1e-3, 1.0, -1.0,
                            3.0, -3.0, 2.999, -2.999, 6.0, -6.0, 6.001,
                            9.5, -9.5, 15.0, -15.0, 88.0, -88.0, 100.0, -100.0])
    rnd = randn(40, scale=4.0)
    x = torch.cat([grid, special, rnd])
    return x.reshape(1, 2, -1)


def act_cases():
    out = []
    x = act_input()
    mods = [
        ("relu", nn.ReLU(), {}),
        ("relu6", nn.ReLU6(), {}),
        ("sigmoid", nn.Sigmoid(), {}),
        ("tanh", nn.Tanh(), {}),
        ("silu", nn.SiLU(), {}),
        ("hardswish", nn.Hardswish(), {}),
        ("hardsigmoid", nn.Hardsigmoid(), {}),
        ("leakyrelu", nn.LeakyReLU(), {"slope": 0.01}),
        ("leakyrelu", nn.LeakyReLU(0.2), {"slope": 0.2}),
        ("leakyrelu", nn.LeakyReLU(-1.5), {"slope": -1.5}),
        ("elu", nn.ELU(), {"alpha": 1.0}),
        ("elu", nn.ELU(0.5), {"alpha": 0.5}),
        ("gelu", nn.GELU(), {"approx": "none"}),
        ("gelu", nn.GELU(approximate="tanh"), {"approx": "tanh"}),
    ]
    for op, m, kw in mods:
        with torch.no_grad():
            y = m(x)
        case = {"name": f"{op}_{kw}" if kw else op, "op": op,
                "shape": list(x.shape), "x": flat(x)}
        case.update(kw)
        case["out"] = flat(y)
        out.append(case)
    for shape, dim, scale in [((2, 3, 4, 5), 1, 1.0), ((2, 3, 4, 5), -1, 1.0),
                              ((2, 3, 4, 5), 2, 1.0), ((2, 3, 4, 5), 1, 30.0),
                              ((2, 3, 4, 5), -1, 30.0), ((4, 10), 1, 5.0),
                              ((4, 10), 0, 1.0), ((2, 5, 3), -2, 8.0)]:
        xs = randn(*shape, scale=scale)
        with torch.no_grad():
            y = nn.Softmax(dim=dim)(xs)
        out.append({"name": f"softmax{list(shape)}_dim{dim}_scale{scale}", "op": "softmax",
                    "shape": list(shape), "x": flat(xs), "dim": dim, "out": flat(y)})
    # all equal values and a row with a huge spread: exp underflows to 0
    xs = torch.tensor([[1.0, 1.0, 1.0, 1.0], [-1000.0, 0.0, 1000.0, 999.0]])
    with torch.no_grad():
        y = torch.softmax(xs, dim=1)
    out.append({"name": "softmax_extremes", "op": "softmax", "shape": [2, 4],
                "x": flat(xs), "dim": 1, "out": flat(y)})
    return out


def write(name, cases):
    path = os.path.join(HERE, name)
    with open(path, "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
        f.write("\n")
    print(f"{path}: {len(cases)} cases, {os.path.getsize(path)} bytes")


def main():
    torch.set_num_threads(1)
    norms = batchnorm_cases() + layernorm_cases() + instancenorm_cases() + groupnorm_cases()
    write("norm.json", norms)
    write("act.json", act_cases())


if __name__ == "__main__":
    main()
