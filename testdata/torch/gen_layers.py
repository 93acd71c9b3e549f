#!/usr/bin/python3
"""Generate layers.json: single-layer reference cases computed by real PyTorch.

Run:  /usr/bin/python3 testdata/torch/gen_layers.py   (from the repo root)
Deterministic: fixed seed; the file is rewritten byte-identically on rerun
(for the same torch version).
"""
import json
import math
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402

from torchcase import evaluate  # noqa: E402

SEED = 20240611
rng = random.Random(SEED)
torch.use_deterministic_algorithms(False)


def ri(a, b):
    return rng.randint(a, b)


def spatial(r, lo, hi):
    return [ri(lo, hi) for _ in range(r)]


def per_axis(r, lo, hi, p_list=0.4):
    """An int, or (with probability p_list) a list with one value per axis."""
    if r > 1 and rng.random() < p_list:
        return [ri(lo, hi) for _ in range(r)]
    return ri(lo, hi)


def divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


# --------------------------------------------------------------------- generators
def gen_conv(r):
    C = ri(1, 6)
    hi = {1: 14, 2: 11, 3: 7}[r]
    inp = [C] + spatial(r, 3, hi)
    args = {"out": 0, "kernel": per_axis(r, 1, 5 if r < 3 else 3)}
    g = 1
    u = rng.random()
    if u < 0.15:
        g = C  # depthwise
        args["out"] = C * ri(1, 2)
    elif u < 0.35:
        g = rng.choice(divisors(C))
        args["out"] = g * ri(1, 3)
    else:
        args["out"] = ri(1, 8)
    if g != 1:
        args["groups"] = g
    if rng.random() < 0.5:
        args["stride"] = per_axis(r, 1, 3)
    if rng.random() < 0.4:
        args["dilation"] = per_axis(r, 1, 3)
    u = rng.random()
    if u < 0.15:
        args["padding"] = "same"
    elif u < 0.22:
        args["padding"] = "valid"
    elif u < 0.75:
        args["padding"] = per_axis(r, 0, 3)
    if rng.random() < 0.25:
        args["bias"] = False
    if rng.random() < 0.25 and not (args.get("padding") == "same" and args.get("stride", 1) != 1):
        args["padding_mode"] = rng.choice(["reflect", "replicate", "circular"])
    return inp, {f"conv{r}d": args}


def gen_convt(r):
    C = ri(1, 6)
    hi = {1: 10, 2: 7, 3: 5}[r]
    inp = [C] + spatial(r, 1, hi)
    g = rng.choice(divisors(C)) if rng.random() < 0.35 else 1
    args = {"out": g * ri(1, 3) if g > 1 else ri(1, 6), "kernel": per_axis(r, 1, 4 if r < 3 else 3)}
    if g > 1:
        args["groups"] = g
    s = per_axis(r, 1, 3) if rng.random() < 0.6 else 1
    d = per_axis(r, 1, 2) if rng.random() < 0.3 else 1
    if s != 1:
        args["stride"] = s
    if d != 1:
        args["dilation"] = d
    if rng.random() < 0.5:
        args["padding"] = per_axis(r, 0, 2)
    if rng.random() < 0.4:
        ss, dd = (s if isinstance(s, list) else [s] * r), (d if isinstance(d, list) else [d] * r)
        op = [ri(0, max(a, b) - 1) for a, b in zip(ss, dd)]
        args["output_padding"] = op if (r > 1 and rng.random() < 0.6) else min(op)
    if rng.random() < 0.25:
        args["bias"] = False
    return inp, {f"convtranspose{r}d": args}


def gen_maxpool(r):
    C = ri(1, 4)
    hi = {1: 14, 2: 10, 3: 7}[r]
    inp = [C] + spatial(r, 2, hi)
    k = per_axis(r, 1, 4 if r < 3 else 3)
    args = {"kernel": k}
    if rng.random() < 0.5:
        args["stride"] = per_axis(r, 1, 3)
    if rng.random() < 0.5:
        kk = k if isinstance(k, list) else [k] * r
        args["padding"] = ri(0, min(kk) // 2) if rng.random() < 0.5 else [ri(0, x // 2) for x in kk]
        if r == 1 and isinstance(args["padding"], list):
            args["padding"] = args["padding"][0]
    if rng.random() < 0.3:
        args["dilation"] = per_axis(r, 1, 3)
    if rng.random() < 0.5:
        args["ceil_mode"] = True
    if rng.random() < 0.15 and len(args) == 1:
        return inp, {f"maxpool{r}d": k}  # primary shorthand
    return inp, {f"maxpool{r}d": args}


def gen_avgpool(r):
    C = ri(1, 4)
    hi = {1: 14, 2: 10, 3: 7}[r]
    inp = [C] + spatial(r, 2, hi)
    k = per_axis(r, 1, 4 if r < 3 else 3)
    args = {"kernel": k}
    if rng.random() < 0.5:
        args["stride"] = per_axis(r, 1, 3)
    if rng.random() < 0.5:
        kk = k if isinstance(k, list) else [k] * r
        args["padding"] = [ri(0, x // 2) for x in kk] if r > 1 and rng.random() < 0.5 else ri(0, min(kk) // 2)
    if rng.random() < 0.5:
        args["ceil_mode"] = True
    if rng.random() < 0.3:
        args["count_include_pad"] = False
    if rng.random() < 0.15 and len(args) == 1:
        return inp, {f"avgpool{r}d": k}
    return inp, {f"avgpool{r}d": args}


def gen_adaptive(r):
    C = ri(1, 4)
    hi = {1: 13, 2: 9, 3: 6}[r]
    inp = [C] + spatial(r, 1, hi)
    kind = rng.choice(["avg", "max"])
    u = rng.random()
    if u < 0.3:
        out = ri(1, hi + 3)
    else:
        out = [ri(1, hi + 3) for _ in range(r)]
        if r > 1 and rng.random() < 0.4:
            out[ri(0, r - 1)] = None
    if rng.random() < 0.3:
        return inp, {f"adaptive{kind}pool{r}d": out}
    return inp, {f"adaptive{kind}pool{r}d": {"output": out}}


def rand_input(min_rank=1, max_rank=4, lo=1, hi=6):
    n = ri(min_rank, max_rank)
    return [ri(lo, hi) for _ in range(n)]


def gen_linear():
    inp = rand_input(1, 4, 1, 7)
    args = {"out": ri(1, 12)}
    if rng.random() < 0.3:
        args["bias"] = False
    name = rng.choice(["linear", "linear", "linear", "fc", "dense"])
    if rng.random() < 0.25 and "bias" not in args:
        return inp, {name: args["out"]}
    return inp, {name: args}


def gen_flatten():
    inp = rand_input(1, 4, 1, 5)
    nd = len(inp) + 1
    args = {}
    while True:
        sd = ri(1, nd - 1)
        ed = ri(sd, nd - 1)
        if rng.random() < 0.4:
            sd -= nd
        if rng.random() < 0.4:
            ed -= nd
        if rng.random() < 0.3:
            break  # defaults
        if rng.random() < 0.5 or sd != 1:
            args["start_dim"] = sd
        if rng.random() < 0.5 or ed != -1:
            args["end_dim"] = ed
        break
    return inp, {"flatten": args}


def gen_batchnorm():
    t = rng.choice(["1a", "1b", "2", "3"])
    C = ri(1, 8)
    inp = {"1a": [C], "1b": [C, ri(1, 6)], "2": [C, ri(1, 5), ri(1, 5)], "3": [C, ri(1, 4), ri(1, 4), ri(1, 4)]}[t]
    args = {}
    if rng.random() < 0.35:
        args["affine"] = False
    if rng.random() < 0.35:
        args["track_running_stats"] = False
    if rng.random() < 0.2:
        args["eps"] = 1e-3
    if rng.random() < 0.2:
        args["momentum"] = 0.01
    return inp, {f"batchnorm{t[0]}d": args}


def gen_layernorm():
    inp = rand_input(1, 4, 1, 6)
    u = rng.random()
    if u < 0.3:
        args = {"shape": inp[-1]}
    elif u < 0.7:
        n = ri(1, len(inp))
        args = {"shape": inp[-n:]}
    else:
        args = {}
    if rng.random() < 0.25:
        args["elementwise_affine"] = False
    if rng.random() < 0.15:
        args["eps"] = 1e-6
    if "shape" in args and len(args) == 1 and rng.random() < 0.3:
        return inp, {"layernorm": args["shape"]}
    return inp, {"layernorm": args}


def gen_instancenorm():
    r = ri(1, 3)
    C = ri(1, 6)
    inp = [C] + spatial(r, 2, {1: 8, 2: 5, 3: 4}[r])
    args = {}
    if rng.random() < 0.4:
        args["affine"] = True
    if rng.random() < 0.4:
        args["track_running_stats"] = True
    return inp, {f"instancenorm{r}d": args}


def gen_groupnorm():
    C = rng.choice([2, 4, 6, 8, 12])
    inp = [C] + rand_input(0, 3, 1, 5)
    g = rng.choice(divisors(C))
    args = {"groups": g}
    if rng.random() < 0.3:
        args["affine"] = False
    if rng.random() < 0.3 and len(args) == 1:
        return inp, {"groupnorm": g}
    return inp, {"groupnorm": args}


def gen_activation():
    inp = rand_input(1, 4, 1, 6)
    t = rng.choice(["relu", "relu6", "leakyrelu", "elu", "gelu", "silu", "sigmoid", "tanh",
                    "hardswish", "hardsigmoid", "identity"])
    args = {}
    if t == "leakyrelu" and rng.random() < 0.6:
        args["negative_slope"] = rng.choice([0.1, 0.2, 0.3])
    if t == "elu" and rng.random() < 0.6:
        args["alpha"] = rng.choice([0.5, 2.0])
    if t == "gelu" and rng.random() < 0.6:
        args["approximate"] = rng.choice(["none", "tanh"])
    return inp, {t: args}


def gen_softmax():
    inp = rand_input(1, 4, 1, 5)
    nd = len(inp) + 1
    args = {}
    if rng.random() < 0.8:
        d = ri(0, nd - 1)
        args["dim"] = d - nd if rng.random() < 0.4 else d
    return inp, {"softmax": args}


def gen_dropout():
    t = rng.choice(["dropout", "dropout2d", "dropout3d"])
    if t == "dropout":
        inp = rand_input(1, 4, 1, 5)
    elif t == "dropout2d":
        inp = [ri(1, 4), ri(1, 5), ri(1, 5)]
    else:
        inp = [ri(1, 4), ri(1, 4), ri(1, 4), ri(1, 4)]
    u = rng.random()
    if u < 0.3:
        return inp, {t: {}}
    p = rng.choice([0.0, 0.1, 0.25, 0.5, 0.9, 1.0])
    if u < 0.6:
        return inp, {t: p}
    return inp, {t: {"p": p}}


def gen_zeropad():
    r = ri(1, 3)
    C = ri(1, 3)
    inp = [C] + spatial(r, 2, {1: 8, 2: 6, 3: 4}[r])
    if rng.random() < 0.35:
        pad = ri(0, 3)
    else:
        pad = []
        for n in reversed(inp[1:]):  # torch order: last axis first
            lo = -((n - 1) // 2)
            pad += [ri(max(lo, -2), 3), ri(max(lo, -2), 3)]
    if rng.random() < 0.4:
        return inp, {f"zeropad{r}d": pad}
    return inp, {f"zeropad{r}d": {"padding": pad}}


def gen_upsample():
    r = ri(1, 3)
    C = ri(1, 3)
    inp = [C] + spatial(r, 1, {1: 11, 2: 7, 3: 4}[r])
    modes = {1: ["nearest", "linear"], 2: ["nearest", "bilinear", "bicubic"], 3: ["nearest", "trilinear"]}[r]
    mode = rng.choice(modes)
    args = {}
    if rng.random() < 0.6:
        u = rng.random()
        if u < 0.4:
            args["scale"] = rng.choice([2, 3])
        elif u < 0.75:
            args["scale"] = rng.choice([1.5, 0.7, 2.5, 0.5, 1.25, 0.3, 1.1, 0.29, 0.57])
        else:
            args["scale"] = [rng.choice([1, 2, 1.5, 0.7, 3]) for _ in range(r)] if r > 1 else [rng.choice([2, 1.5])]
    else:
        if rng.random() < 0.5:
            args["size"] = ri(1, 12)
        else:
            args["size"] = [ri(1, 12) for _ in range(r)]
    if mode != "nearest" or rng.random() < 0.3:
        args["mode"] = mode
    if mode != "nearest" and rng.random() < 0.5:
        args["align_corners"] = rng.random() < 0.5
    if list(args) == ["scale"] and rng.random() < 0.3:
        return inp, {"upsample": args["scale"]}
    return inp, {"upsample": args}


QUOTAS = [
    (lambda: gen_conv(1), 34), (lambda: gen_conv(2), 50), (lambda: gen_conv(3), 20),
    (lambda: gen_convt(1), 16), (lambda: gen_convt(2), 24), (lambda: gen_convt(3), 10),
    (lambda: gen_maxpool(1), 15), (lambda: gen_maxpool(2), 20), (lambda: gen_maxpool(3), 8),
    (lambda: gen_avgpool(1), 12), (lambda: gen_avgpool(2), 16), (lambda: gen_avgpool(3), 6),
    (lambda: gen_adaptive(1), 10), (lambda: gen_adaptive(2), 14), (lambda: gen_adaptive(3), 8),
    (gen_linear, 18), (gen_flatten, 18), (gen_batchnorm, 18), (gen_layernorm, 14),
    (gen_instancenorm, 12), (gen_groupnorm, 10), (gen_activation, 20), (gen_softmax, 7),
    (gen_dropout, 8), (gen_zeropad, 20), (gen_upsample, 36),
]


# --------------------------------------------------------------------- hand-picked
def ceil_drop_cases():
    """Pooling cases where ceil_mode's last window would start in the right padding."""
    out = []
    found = []
    for n in range(2, 12):
        for k in range(1, 5):
            for s in range(1, 4):
                for p in range(0, k // 2 + 1):
                    for d in (1, 2):
                        eff = d * (k - 1) + 1
                        num = n + 2 * p - eff
                        if num < 0:
                            continue
                        o = -(-num // s) + 1
                        if (o - 1) * s >= n + p:
                            found.append((n, k, s, p, d))
    r = random.Random(SEED + 1)
    r.shuffle(found)
    for n, k, s, p, d in found[:10]:
        args = {"kernel": k, "stride": s, "padding": p, "ceil_mode": True}
        if d > 1:
            args["dilation"] = d
        out.append(([2, n], 1, {"maxpool1d": args}))
    for n, k, s, p, d in [x for x in found if x[4] == 1][:6]:
        out.append(([2, n], 2, {"avgpool1d": {"kernel": k, "stride": s, "padding": p, "ceil_mode": True}}))
    # 2-D / 3-D with one dropping axis
    out.append(([1, 5, 6], 1, {"maxpool2d": {"kernel": 2, "stride": 2, "padding": 1, "ceil_mode": True}}))
    out.append(([1, 5, 7], 1, {"avgpool2d": {"kernel": 2, "stride": 2, "padding": 1, "ceil_mode": True}}))
    out.append(([1, 5, 5], 1, {"avgpool2d": {"kernel": 3, "stride": 2, "padding": 1, "ceil_mode": True,
                                              "count_include_pad": False}}))
    out.append(([1, 4, 5, 6], 1, {"maxpool3d": {"kernel": 2, "stride": 2, "padding": 1, "ceil_mode": True}}))
    out.append(([3, 6], 1, {"maxpool1d": {"kernel": 3, "stride": 2, "ceil_mode": True}}))
    out.append(([3, 6], 1, {"maxpool1d": {"kernel": 3, "stride": 2, "ceil_mode": False}}))
    out.append(([3, 5, 5], 1, {"maxpool2d": {"kernel": 2, "ceil_mode": True}}))
    out.append(([3, 112, 112], 1, {"maxpool2d": {"kernel": 3, "stride": 2, "padding": 1}}))
    out.append(([3, 13, 13], 1, {"maxpool2d": {"kernel": 3, "stride": 2, "ceil_mode": True}}))
    return out


def edge_cases():
    E = []
    a = E.append
    # conv: same / valid / tf-same / padding modes / depthwise
    a(([3, 10], 1, {"conv1d": {"out": 4, "kernel": 4, "padding": "same"}}))
    a(([3, 10], 1, {"conv1d": {"out": 4, "kernel": 4, "padding": "same", "dilation": 3}}))
    a(([3, 10], 2, {"conv1d": {"out": 4, "kernel": 3, "padding": "valid"}}))
    a(([3, 10], 1, {"conv1d": {"out": 4, "kernel": 3, "stride": 2, "padding": "same"}}))
    a(([3, 11], 1, {"conv1d": {"out": 4, "kernel": 4, "stride": 3, "padding": "same"}}))
    a(([3, 9, 10], 1, {"conv2d": {"out": 8, "kernel": [3, 5], "stride": [2, 1], "padding": "same"}}))
    a(([3, 224, 224], 1, {"conv2d": {"out": 32, "kernel": 3, "stride": 2, "padding": "same", "bias": False}}))
    a(([3, 7, 8], 1, {"conv2d": {"out": 2, "kernel": 5, "stride": 3, "dilation": 2, "padding": "same"}}))
    a(([2, 5, 6, 7], 1, {"conv3d": {"out": 3, "kernel": [3, 2, 4], "stride": [1, 2, 3], "padding": "same"}}))
    a(([2, 5, 6, 7], 1, {"conv3d": {"out": 3, "kernel": [3, 2, 4], "padding": "same"}}))
    a(([3, 32, 32], 1, {"conv2d": {"out": 16, "kernel": 3, "padding": 1}}))
    a(([3, 300, 300], 1, {"conv2d": {"out": 100, "kernel": 5}}))
    a(([8, 9, 9], 2, {"conv2d": {"out": 8, "kernel": 3, "groups": 8, "padding": 1}}))
    a(([8, 9, 9], 2, {"conv2d": {"out": 16, "kernel": 3, "groups": 8, "padding": 1, "bias": False}}))
    a(([6, 9], 1, {"conv1d": {"out": 4, "kernel": 3, "groups": 2, "padding_mode": "reflect", "padding": 2}}))
    a(([2, 5, 5], 1, {"conv2d": {"out": 3, "kernel": 3, "padding": [4, 1], "padding_mode": "replicate"}}))
    a(([2, 5, 5], 1, {"conv2d": {"out": 3, "kernel": 3, "padding": [5, 1], "padding_mode": "circular"}}))
    a(([2, 5, 5], 1, {"conv2d": {"out": 3, "kernel": 3, "padding": [4, 1], "padding_mode": "reflect"}}))
    a(([2, 6], 1, {"conv1d": {"out": 3, "kernel": 3, "padding": "same", "padding_mode": "reflect"}}))
    a(([2, 6], 1, {"conv1d": {"out": 3, "kernel": 4, "padding": "same", "padding_mode": "circular"}}))
    a(([1, 1], 1, {"conv1d": {"out": 1, "kernel": 1}}))
    a(([2, 3, 3, 3], 3, {"conv3d": {"out": 2, "kernel": 3}}))
    # convtranspose
    a(([4, 5], 1, {"convtranspose1d": {"out": 2, "kernel": 3, "stride": 2, "padding": 1, "output_padding": 1}}))
    a(([4, 7, 7], 1, {"convtranspose2d": {"out": 2, "kernel": 4, "stride": 2, "padding": 1}}))
    a(([4, 3, 3], 2, {"convtranspose2d": {"out": 6, "kernel": 3, "stride": 1, "dilation": 3,
                                           "output_padding": 2}}))
    a(([4, 3, 3], 1, {"convtranspose2d": {"out": 6, "kernel": [3, 2], "stride": [3, 1], "groups": 2,
                                           "output_padding": [2, 0], "bias": False}}))
    a(([2, 2, 3, 4], 1, {"convtranspose3d": {"out": 4, "kernel": 2, "stride": 2}}))
    a(([1, 1], 1, {"convtranspose1d": {"out": 1, "kernel": 1}}))
    # pools: dilation, big padding/k/2 boundary
    a(([2, 10], 1, {"maxpool1d": {"kernel": 3, "dilation": 2, "padding": 1}}))
    a(([2, 10, 10], 1, {"maxpool2d": {"kernel": [3, 2], "stride": [1, 2], "padding": [1, 1], "dilation": [3, 1]}}))
    a(([2, 10], 1, {"maxpool1d": {"kernel": 4, "padding": 2}}))
    a(([2, 10], 1, {"avgpool1d": {"kernel": 5, "padding": 2, "stride": 1, "count_include_pad": False}}))
    a(([2, 1, 1], 1, {"maxpool2d": {"kernel": 1}}))
    a(([2, 7, 7], 1, {"avgpool2d": 7}))
    # adaptive
    a(([2, 5], 1, {"adaptiveavgpool1d": 7}))
    a(([2, 7, 5], 1, {"adaptivemaxpool2d": {"output": [3, 3]}}))
    a(([2, 7, 5], 1, {"adaptiveavgpool2d": {"output": [None, 2]}}))
    a(([2, 7, 5], 1, {"adaptiveavgpool2d": {"output": [4, None]}}))
    a(([2, 3, 7, 5], 1, {"adaptivemaxpool3d": {"output": [None, 10, 1]}}))
    a(([2, 7, 7], 1, {"adaptiveavgpool2d": 1}))
    a(([512, 7, 7], 1, {"adaptiveavgpool2d": [1, 1]}))
    # linear
    a(([4], 3, {"linear": {"out": 5}}))
    a(([3, 4], 2, {"linear": {"out": 5}}))
    a(([2, 3, 4], 2, {"fc": {"out": 5, "bias": False}}))
    a(([2, 2, 3, 4], 1, {"dense": 7}))
    a(([400], 1, {"linear": 120}))
    # flatten
    a(([2, 3, 4], 1, {"flatten": {}}))
    a(([2, 3, 4], 1, {"flatten": {"start_dim": 2}}))
    a(([2, 3, 4], 1, {"flatten": {"start_dim": -2, "end_dim": -1}}))
    a(([2, 3, 4], 1, {"flatten": {"start_dim": 1, "end_dim": -2}}))
    a(([2, 3, 4], 1, {"flatten": {"start_dim": 2, "end_dim": 2}}))
    a(([2, 3, 4, 5], 2, {"flatten": {"start_dim": -3, "end_dim": 3}}))
    a(([5], 2, {"flatten": {}}))
    # norms
    a(([4], 2, {"batchnorm1d": {}}))
    a(([4, 5], 2, {"batchnorm1d": {"affine": False, "track_running_stats": False}}))
    a(([4, 5, 5], 1, {"batchnorm2d": {"track_running_stats": False}}))
    a(([4, 2, 2, 2], 1, {"batchnorm3d": {"affine": False}}))
    a(([3, 4, 5], 1, {"layernorm": 5}))
    a(([3, 4, 5], 1, {"layernorm": [5]}))
    a(([3, 4, 5], 1, {"layernorm": [4, 5]}))
    a(([3, 4, 5], 1, {"layernorm": {}}))
    a(([3, 4, 5], 1, {"layernorm": {"shape": [3, 4, 5], "elementwise_affine": False}}))
    a(([6], 1, {"layernorm": None}))
    a(([4, 5], 1, {"instancenorm1d": {"affine": True, "track_running_stats": True}}))
    a(([4, 2, 3], 1, {"instancenorm2d": {"track_running_stats": True}}))
    a(([4, 2, 1, 1], 1, {"instancenorm3d": {"affine": True}}))
    a(([6, 5, 5], 2, {"groupnorm": {"groups": 3}}))
    a(([6, 5, 5], 2, {"groupnorm": {"groups": 6, "affine": False}}))
    a(([6], 2, {"groupnorm": 2}))
    a(([6, 1], 2, {"groupnorm": 1}))
    # activations / softmax / dropout as bare (no-arg) items
    for t in ["relu", "relu6", "silu", "sigmoid", "tanh", "hardswish", "hardsigmoid", "identity", "gelu",
              "elu", "leakyrelu", "softmax"]:
        a(([3, 4], 1, {t: None}))
    a(([3, 4], 1, {"gelu": {"approximate": "tanh"}}))
    a(([3, 4], 1, {"softmax": {"dim": 0}}))
    a(([3, 4], 1, {"softmax": {"dim": -1}}))
    a(([3, 4, 2, 2], 1, {"dropout3d": 0.2}))
    # zeropad incl crops
    a(([2, 5], 1, {"zeropad1d": 2}))
    a(([2, 5], 1, {"zeropad1d": [1, 3]}))
    a(([2, 5], 1, {"zeropad1d": [-1, -3]}))
    a(([2, 5, 6], 1, {"zeropad2d": [1, 2, 3, 4]}))
    a(([2, 5, 6], 1, {"zeropad2d": [-1, 2, 0, -4]}))
    a(([2, 5, 6], 1, {"zeropad2d": {"padding": 1}}))
    a(([2, 3, 4, 5], 1, {"zeropad3d": [1, 0, -1, 2, 0, 3]}))
    a(([2, 3, 4, 5], 1, {"zeropad3d": 1}))
    # upsample: floor(in*scale) incl float64 rounding traps
    a(([1, 100], 1, {"upsample": 0.29}))          # 100*0.29 = 28.999999999999996 -> 28
    a(([1, 100], 1, {"upsample": {"scale": 0.57, "mode": "linear"}}))  # 56.99999999999999 -> 56
    a(([1, 10], 1, {"upsample": {"scale": 1.1}}))  # 11.000000000000002 -> 11
    a(([1, 3], 1, {"upsample": {"scale": 0.7}}))   # 2.0999999999999996 -> 2
    a(([1, 5, 5], 1, {"upsample": {"scale": 1.5, "mode": "bilinear", "align_corners": True}}))
    a(([1, 5, 5], 1, {"upsample": {"scale": [1.5, 0.7], "mode": "bicubic"}}))
    a(([1, 7, 5], 1, {"upsample": {"scale": 0.7, "mode": "bilinear", "align_corners": False}}))
    a(([1, 3, 4, 5], 1, {"upsample": {"scale": [2, 1.5, 0.5], "mode": "trilinear"}}))
    a(([1, 3, 4, 5], 1, {"upsample": {"size": [6, 6, 6], "mode": "trilinear", "align_corners": True}}))
    a(([1, 3, 4], 1, {"upsample": {"size": 9}}))
    a(([1, 3, 4], 1, {"upsample": {"size": [2, 9], "mode": "nearest"}}))
    a(([2, 4], 1, {"upsample": {"size": 3, "mode": "linear"}}))
    a(([2, 4, 4], 1, {"upsample": 2}))
    a(([2, 4, 4, 4], 1, {"upsample": {"scale": 2}}))
    return E


def error_cases():
    E = []
    a = E.append
    # output too small / kernel bigger than input
    a(([3, 4], 1, {"conv1d": {"out": 2, "kernel": 5}}))
    a(([3, 4, 4], 1, {"conv2d": {"out": 2, "kernel": 3, "dilation": 2}}))
    a(([3, 2, 2, 2], 1, {"conv3d": {"out": 2, "kernel": [1, 3, 1]}}))
    a(([3, 4, 4], 1, {"maxpool2d": {"kernel": 5}}))
    a(([3, 4], 1, {"maxpool1d": {"kernel": 3, "padding": 1, "dilation": 3}}))
    a(([3, 3, 3], 1, {"maxpool2d": {"kernel": 2, "dilation": 3}}))
    a(([3, 3], 1, {"avgpool1d": {"kernel": 4}}))
    a(([3, 2, 2, 2], 1, {"avgpool3d": {"kernel": 3}}))
    a(([3, 1], 1, {"convtranspose1d": {"out": 2, "kernel": 3, "padding": 3}}))
    a(([3, 1, 1], 1, {"convtranspose2d": {"out": 2, "kernel": 1, "padding": 1}}))
    # pool padding > kernel/2 (compared with the kernel, not the dilated kernel)
    a(([3, 9], 1, {"maxpool1d": {"kernel": 2, "padding": 2}}))
    a(([3, 9], 1, {"maxpool1d": {"kernel": 3, "padding": 2, "dilation": 3}}))
    a(([3, 9, 9], 1, {"maxpool2d": {"kernel": [3, 4], "padding": [1, 3]}}))
    a(([3, 9, 9, 9], 1, {"maxpool3d": {"kernel": 2, "padding": 2}}))
    a(([3, 9], 1, {"avgpool1d": {"kernel": 3, "padding": 2}}))
    a(([3, 9, 9], 1, {"avgpool2d": {"kernel": 1, "padding": 1}}))
    a(([3, 9, 9, 9], 1, {"avgpool3d": {"kernel": [4, 4, 2], "padding": [2, 2, 2]}}))
    # groups
    a(([3, 8], 1, {"conv1d": {"out": 4, "kernel": 3, "groups": 2}}))
    a(([4, 8, 8], 1, {"conv2d": {"out": 6, "kernel": 3, "groups": 4}}))
    a(([4, 8, 8, 8], 1, {"conv3d": {"out": 3, "kernel": 1, "groups": 2}}))
    a(([3, 8], 1, {"convtranspose1d": {"out": 4, "kernel": 3, "groups": 3}}))
    a(([4, 8, 8], 1, {"convtranspose2d": {"out": 3, "kernel": 3, "groups": 2}}))
    a(([5, 4, 4], 1, {"groupnorm": {"groups": 2}}))
    a(([6, 4], 1, {"groupnorm": 4}))
    # output_padding >= max(stride, dilation)
    a(([3, 5], 1, {"convtranspose1d": {"out": 2, "kernel": 3, "output_padding": 1}}))
    a(([3, 5], 1, {"convtranspose1d": {"out": 2, "kernel": 3, "stride": 2, "output_padding": 2}}))
    a(([3, 5, 5], 1, {"convtranspose2d": {"out": 2, "kernel": 3, "stride": [2, 1], "dilation": [1, 2],
                                           "output_padding": [1, 2]}}))
    a(([3, 5, 5, 5], 1, {"convtranspose3d": {"out": 2, "kernel": 3, "stride": 3, "output_padding": 3}}))
    # wrong rank
    a(([3, 8], 1, {"conv2d": {"out": 4, "kernel": 3}}))
    a(([3, 8, 8], 2, {"conv1d": {"out": 4, "kernel": 3}}))
    a(([3, 8, 8], 2, {"conv3d": {"out": 4, "kernel": 3}}))
    a(([3], 2, {"conv1d": {"out": 4, "kernel": 1}}))
    a(([3, 8, 8], 2, {"convtranspose1d": {"out": 4, "kernel": 3}}))
    a(([3, 8], 2, {"maxpool2d": 2}))
    a(([3, 8, 8], 2, {"maxpool1d": 2}))
    a(([3, 8, 8], 2, {"avgpool3d": 2}))
    a(([3, 8, 8], 2, {"adaptiveavgpool1d": 2}))
    a(([3, 8, 8], 2, {"adaptivemaxpool3d": 2}))
    a(([3, 8, 8], 2, {"batchnorm1d": {}}))
    a(([3, 8], 2, {"batchnorm2d": {}}))
    a(([3, 8, 8], 2, {"batchnorm3d": {}}))
    a(([3, 8, 8], 2, {"instancenorm1d": {}}))
    a(([3], 2, {"instancenorm1d": {}}))
    a(([3, 8], 2, {"zeropad2d": 1}))
    a(([3, 8, 8], 2, {"zeropad1d": 1}))
    a(([3, 8, 8], 2, {"zeropad3d": 1}))
    a(([3, 8], 2, {"upsample": {"scale": 2, "mode": "bilinear"}}))
    a(([3, 8, 8], 2, {"upsample": {"scale": 2, "mode": "linear"}}))
    a(([3, 8, 8], 2, {"upsample": {"scale": 2, "mode": "trilinear"}}))
    a(([3, 8, 8, 8], 2, {"upsample": {"scale": 2, "mode": "bicubic"}}))
    # padding modes
    a(([2, 3], 1, {"conv1d": {"out": 2, "kernel": 3, "padding": 3, "padding_mode": "reflect"}}))
    a(([2, 4, 4], 1, {"conv2d": {"out": 2, "kernel": 3, "padding": [1, 4], "padding_mode": "reflect"}}))
    a(([2, 3], 1, {"conv1d": {"out": 2, "kernel": 3, "padding": 4, "padding_mode": "circular"}}))
    a(([2, 3], 1, {"conv1d": {"out": 2, "kernel": 9, "padding": "same", "padding_mode": "reflect"}}))
    # flatten
    a(([2, 3, 4], 1, {"flatten": {"start_dim": 3, "end_dim": 2}}))
    a(([2, 3, 4], 1, {"flatten": {"start_dim": -1, "end_dim": 1}}))
    a(([2, 3, 4], 1, {"flatten": {"start_dim": 1, "end_dim": 4}}))
    a(([2, 3, 4], 1, {"flatten": {"start_dim": 0}}))
    a(([2, 3, 4], 1, {"flatten": {"start_dim": -4}}))
    a(([2, 3, 4], 1, {"flatten": {"start_dim": 0, "end_dim": 1}}))
    # instancenorm over a single spatial element
    a(([3, 1], 1, {"instancenorm1d": {}}))
    a(([3, 1, 1], 2, {"instancenorm2d": {"affine": True}}))
    a(([3, 1, 1, 1], 2, {"instancenorm3d": {}}))
    a(([3, 1, 1], 2, {"instancenorm2d": {"track_running_stats": True}}))
    # layernorm shape mismatch
    a(([3, 4, 5], 1, {"layernorm": 4}))
    a(([3, 4, 5], 1, {"layernorm": [3, 4]}))
    a(([3, 4, 5], 1, {"layernorm": [2, 3, 4, 5]}))
    # softmax dim
    a(([3, 4], 1, {"softmax": {"dim": 3}}))
    a(([3, 4], 1, {"softmax": {"dim": -4}}))
    # upsample
    a(([2, 5, 5], 1, {"upsample": {"scale": 2, "align_corners": True}}))
    a(([2, 5, 5], 1, {"upsample": {"scale": 2, "size": 10}}))
    a(([2, 5, 5], 1, {"upsample": {}}))
    a(([2, 2], 1, {"upsample": 0.3}))
    a(([2, 5, 5], 1, {"upsample": {"size": [3, 3, 3]}}))
    # empty output / crop to nothing
    a(([2, 5], 1, {"zeropad1d": [-3, -2]}))
    a(([2, 5, 5], 1, {"zeropad2d": [0, 0, -3, -3]}))
    a(([2, 5, 5], 1, {"adaptiveavgpool2d": 0}))
    a(([2, 5, 5], 1, {"adaptivemaxpool2d": [0, 2]}))
    a(([4], 1, {"linear": 0}))
    # misc
    # torch-only: statistics over a single value (not listed by the contract; batch-dependent)
    a(([3], 1, {"batchnorm1d": {"track_running_stats": False}}))
    a(([4, 1], 1, {"groupnorm": 4}))
    a(([4], 1, {"groupnorm": {"groups": 4, "affine": False}}))
    a(([2, 1], 1, {"groupnorm": 2}))
    a(([2, 5], 1, {"dropout": 1.5}))
    a(([2, 5], 1, {"gelu": {"approximate": "fast"}}))
    return E


def main():
    cases = []
    seen = set()
    stats = {"valid": 0, "error": 0}

    def add(inp, batch, layer, want=None):
        key = json.dumps([inp, batch, layer], sort_keys=True)
        if key in seen:
            return None
        res = evaluate(layer, inp, batch)
        if want == "ok" and "error" in res:
            return res
        seen.add(key)
        case = {"input": inp, "batch": batch, "layer": layer}
        case.update(res)
        cases.append(case)
        stats["error" if "error" in res else "valid"] += 1
        return res

    random_errors = []
    for gen, quota in QUOTAS:
        got = 0
        tries = 0
        while got < quota and tries < quota * 50:
            tries += 1
            inp, layer = gen()
            batch = rng.choice([1, 1, 2, 3])
            res = add(inp, batch, layer, want="ok")
            if res is None:
                continue
            if "error" in res:
                random_errors.append((inp, batch, layer))
            else:
                got += 1
    for inp, batch, layer in ceil_drop_cases() + edge_cases():
        add(inp, batch, layer)
    for inp, batch, layer in error_cases():
        res = add(inp, batch, layer)
        if res is not None and "error" not in res:
            print("NOTE: expected error but torch accepted:", inp, layer, res, file=sys.stderr)
    # torch checks groupnorm as N*C/G*prod(spatial) > 1, so batch 3 is accepted
    add([4], 3, {"groupnorm": {"groups": 4, "affine": False}})
    # a sample of the naturally failing random draws, for variety
    r = random.Random(SEED + 2)
    r.shuffle(random_errors)
    for inp, batch, layer in random_errors[:12]:
        add(inp, batch, layer)

    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "layers.json")
    with open(out, "w") as f:
        f.write("[\n")
        f.write(",\n".join(json.dumps(c) for c in cases))
        f.write("\n]\n")
    print(f"wrote {out}: {len(cases)} cases ({stats['valid']} valid, {stats['error']} errors), "
          f"torch {torch.__version__}")


if __name__ == "__main__":
    main()
