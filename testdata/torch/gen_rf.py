#!/usr/bin/python3
"""Generate rf.json: receptive fields of random conv/pool stacks, MEASURED with PyTorch.

Run:  /usr/bin/python3 testdata/torch/gen_rf.py   (from the repo root)

Measurement: every conv gets all-ones weights and no bias; a maxpool becomes an
avgpool of the same geometry with count_include_pad=True (a depthwise all-ones conv
when it is dilated); relu and batchnorm become identity; zeropad stays. In float64 on
an input large enough that a middle output unit's field lies inside the input, the
gradient d out[0,0,i..]/d input is nonzero exactly on the field, so its extent
[lo, hi] per axis gives size = hi-lo+1; the jump is the shift of that extent from
unit i to unit i+1 along the axis; start = (lo+hi)/2 - i*jump.
Each measurement is then compared with the contract's closed-form recursion.
"""
import json
import math
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

from formulas import shape as closed_shape  # noqa: E402
from torchcase import TFSamePad, split, tup  # noqa: E402

SEED = 20240612
rng = random.Random(SEED)


# ------------------------------------------------------------------ measurement model
def measure_module(layer, C, r):
    """(module, out_channels) used for measuring the field of `layer`."""
    if isinstance(layer, str):
        return nn.Identity(), C  # relu, batchnorm*: keep the field
    typ, a = split(layer)
    if typ.startswith("conv"):
        k, s, d = tup(a["kernel"], r), tup(a.get("stride", 1), r), tup(a.get("dilation", 1), r)
        pad = a.get("padding", 0)
        cls = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[r]
        if pad == "same" and any(x > 1 for x in s):
            conv = cls(C, a["out"], k, stride=s, dilation=d, padding=0, bias=False)
            m = nn.Sequential(TFSamePad(k, s, d), conv)
        else:
            conv = cls(C, a["out"], k, stride=s, dilation=d,
                       padding=tuple(pad) if isinstance(pad, list) else pad, bias=False)
            m = conv
        nn.init.ones_(conv.weight)
        return m, a["out"]
    if typ.startswith("maxpool") or typ.startswith("avgpool"):
        k = tup(a["kernel"], r)
        s = tup(a.get("stride", a["kernel"]), r)
        p = tup(a.get("padding", 0), r)
        d = tup(a.get("dilation", 1), r)
        if any(x > 1 for x in d):
            assert not a.get("ceil_mode", False)
            cls = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[r]
            conv = cls(C, C, k, stride=s, padding=p, dilation=d, groups=C, bias=False)
            nn.init.ones_(conv.weight)
            return conv, C
        cls = {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d}[r]
        return cls(k, s, p, ceil_mode=a.get("ceil_mode", False), count_include_pad=True), C
    if typ.startswith("zeropad"):
        cls = {1: nn.ConstantPad1d, 2: nn.ConstantPad2d, 3: nn.ConstantPad3d}[r]
        p = a["padding"]
        return cls(tuple(p) if isinstance(p, list) else p, 0.0), C
    raise KeyError(typ)


def build_measure(layers, C, r):
    mods = []
    for layer in layers:
        m, C = measure_module(layer, C, r)
        mods.append(m)
    return nn.Sequential(*mods).double()


def extent(model, inp, idx):
    x = torch.ones([1] + inp, dtype=torch.float64, requires_grad=True)
    y = model(x)
    y[(0, 0) + tuple(idx)].backward()
    g = x.grad[0].abs().sum(0)  # sum over channels
    nz = g.nonzero()
    lo = nz.min(0).values.tolist()
    hi = nz.max(0).values.tolist()
    return lo, hi, list(y.shape[2:])


def measure(layers, inp):
    r = len(inp) - 1
    model = build_measure(layers, inp[0], r)
    with torch.no_grad():
        osz = list(model(torch.zeros([1] + inp, dtype=torch.float64)).shape[2:])
    idx = [n // 2 for n in osz]
    if any(n < 2 for n in osz):
        return None
    lo, hi, _ = extent(model, inp, idx)
    for a in range(r):
        if lo[a] < 1 or hi[a] > inp[1 + a] - 2:
            return None  # touches the border: possibly truncated
    jump = []
    for a in range(r):
        idx2 = list(idx)
        idx2[a] += 1
        if idx2[a] >= osz[a]:
            idx2[a] -= 2
        lo2, hi2, _ = extent(model, inp, idx2)
        if lo2[a] < 1 or hi2[a] > inp[1 + a] - 2:
            return None
        step = idx2[a] - idx[a]
        j = (lo2[a] - lo[a]) * step
        if (hi2[a] - hi[a]) * step != j:
            raise AssertionError(f"lo and hi shift differently on axis {a}: {layers} {inp}")
        jump.append(j)
    size = [h - l + 1 for l, h in zip(lo, hi)]
    start = [(l + h) / 2 - i * j for l, h, i, j in zip(lo, hi, idx, jump)]
    return {"size": size, "jump": jump, "start": [num(s) for s in start],
            "padding": [num((sz - 1) / 2 - s) for sz, s in zip(size, start)]}, {"unit": idx, "lo": lo, "hi": hi,
                                                                             "output": osz}


def num(x):
    return int(x) if float(x).is_integer() else x


# ------------------------------------------------------------------ closed form (contract)
def closed_rf(layers, inp):
    r = len(inp) - 1
    x = [1] + list(inp)
    R, J, S = [1] * r, [1] * r, [0.0] * r
    for layer in layers:
        if isinstance(layer, str):
            x = closed_shape(layer, x) if not layer.startswith("batchnorm") else x
            continue
        typ, a = split(layer)
        sp = x[2:]
        if typ.startswith("zeropad"):
            p = a["padding"]
            p = [p] * (2 * r) if isinstance(p, int) else p
            for i in range(r):
                left = p[2 * (r - 1 - i)]  # torch order: last axis first
                S[i] = S[i] - left * J[i]
        else:
            k = tup(a["kernel"], r)
            s = tup(a.get("stride", 1 if typ.startswith("conv") else a["kernel"]), r)
            d = tup(a.get("dilation", 1), r) if not typ.startswith("avgpool") else (1,) * r
            pad = a.get("padding", 0)
            for i in range(r):
                keff = d[i] * (k[i] - 1) + 1
                if pad == "same":
                    if s[i] == 1:
                        total = keff - 1
                    else:
                        total = max((math.ceil(sp[i] / s[i]) - 1) * s[i] + keff - sp[i], 0)
                    left = total // 2
                elif pad == "valid":
                    left = 0
                else:
                    left = tup(pad, r)[i]
                S[i] = S[i] + ((keff - 1) / 2 - left) * J[i]
                R[i] = R[i] + (keff - 1) * J[i]
                J[i] = J[i] * s[i]
        x = closed_shape(layer, x)
    return {"size": R, "jump": J, "start": [num(s) for s in S],
            "padding": [num((sz - 1) / 2 - s) for sz, s in zip(R, S)]}


# ------------------------------------------------------------------ random stacks
def pa(r, lo, hi, p_list=0.3):
    if r > 1 and rng.random() < p_list:
        return [rng.randint(lo, hi) for _ in range(r)]
    return rng.randint(lo, hi)


def gen_stack(r):
    depth = {1: (2, 7), 2: (2, 6), 3: (2, 4)}[r]
    n = rng.randint(*depth)
    layers = []
    C = rng.randint(1, 3)
    for _ in range(n):
        u = rng.random()
        if u < 0.5:
            kmax = 7 if r < 3 else 4
            a = {"out": rng.randint(1, 3), "kernel": pa(r, 1, kmax)}
            s = pa(r, 1, 3 if r < 3 else 2)
            if s != 1:
                a["stride"] = s
            if rng.random() < 0.35:
                a["dilation"] = pa(r, 1, 3 if r < 3 else 2)
            v = rng.random()
            if v < 0.15:
                a["padding"] = "same"
            elif v < 0.2:
                a["padding"] = "valid"
            elif v < 0.8:
                a["padding"] = pa(r, 0, 3)
            layers.append({f"conv{r}d": a})
        elif u < 0.65:
            k = pa(r, 1, 4 if r < 3 else 3)
            kk = tup(k, r)
            a = {"kernel": k}
            if rng.random() < 0.6:
                a["stride"] = pa(r, 1, 3 if r < 3 else 2)
            if rng.random() < 0.5:
                a["padding"] = rng.randint(0, min(kk) // 2)
            if rng.random() < 0.25:
                a["dilation"] = pa(r, 1, 2)
            elif rng.random() < 0.4:
                a["ceil_mode"] = True
            layers.append({f"maxpool{r}d": a})
        elif u < 0.78:
            k = pa(r, 1, 4 if r < 3 else 3)
            kk = tup(k, r)
            a = {"kernel": k}
            if rng.random() < 0.6:
                a["stride"] = pa(r, 1, 3 if r < 3 else 2)
            if rng.random() < 0.5:
                a["padding"] = rng.randint(0, min(kk) // 2)
            if rng.random() < 0.3:
                a["ceil_mode"] = True
            if rng.random() < 0.3:
                a["count_include_pad"] = False
            layers.append({f"avgpool{r}d": a})
        elif u < 0.86:
            if rng.random() < 0.4:
                p = rng.randint(1, 2)
            else:
                p = [rng.randint(-1, 3) for _ in range(2 * r)]
            layers.append({f"zeropad{r}d": p})
        elif u < 0.94:
            layers.append("relu")
        else:
            layers.append(f"batchnorm{r}d")
    return C, layers


def size_bound(layers, r):
    """A generous input size per axis so that a middle unit's field lies inside."""
    J, R, P = [1] * r, [1] * r, [0] * r
    for layer in layers:
        if isinstance(layer, str):
            continue
        typ, a = split(layer)
        if typ.startswith("zeropad"):
            p = a["padding"]
            p = [p] * (2 * r) if isinstance(p, int) else p
            for i in range(r):
                P[i] += (abs(p[2 * (r - 1 - i)]) + abs(p[2 * (r - 1 - i) + 1])) * J[i]
            continue
        k = tup(a["kernel"], r)
        s = tup(a.get("stride", 1 if typ.startswith("conv") else a["kernel"]), r)
        d = tup(a.get("dilation", 1), r)
        for i in range(r):
            keff = d[i] * (k[i] - 1) + 1
            R[i] += (keff - 1) * J[i]
            P[i] += 2 * keff * J[i]
            J[i] *= s[i]
    return [R[i] + P[i] + 4 * J[i] + 6 for i in range(r)]


FIXED = [
    # ResNet stem
    ([3, 64, 64], [{"conv2d": {"out": 2, "kernel": 7, "stride": 2, "padding": 3}}, "batchnorm2d", "relu",
                   {"maxpool2d": {"kernel": 3, "stride": 2, "padding": 1}}]),
    # AlexNet start
    ([3, 160, 160], [{"conv2d": {"out": 2, "kernel": 11, "stride": 4, "padding": 2}}, "relu",
                   {"maxpool2d": {"kernel": 3, "stride": 2}},
                   {"conv2d": {"out": 2, "kernel": 5, "padding": 2}}, "relu",
                   {"maxpool2d": {"kernel": 3, "stride": 2}}]),
    # VGG block pair
    ([1, 48, 48], [{"conv2d": {"out": 1, "kernel": 3, "padding": 1}}, {"conv2d": {"out": 1, "kernel": 3, "padding": 1}},
                   {"maxpool2d": 2}, {"conv2d": {"out": 1, "kernel": 3, "padding": 1}},
                   {"conv2d": {"out": 1, "kernel": 3, "padding": 1}}, {"maxpool2d": 2}]),
    # TF-same strided convs on odd and even sizes
    ([1, 41], [{"conv1d": {"out": 1, "kernel": 3, "stride": 2, "padding": "same"}},
               {"conv1d": {"out": 1, "kernel": 4, "stride": 2, "padding": "same"}}]),
    ([1, 40], [{"conv1d": {"out": 1, "kernel": 3, "stride": 2, "padding": "same"}},
               {"conv1d": {"out": 1, "kernel": 4, "stride": 2, "padding": "same"}}]),
    ([1, 37, 38], [{"conv2d": {"out": 1, "kernel": [4, 5], "stride": [3, 2], "padding": "same"}},
                   {"conv2d": {"out": 1, "kernel": 2, "padding": "same"}}]),
    # dilated (WaveNet-like)
    ([1, 64], [{"conv1d": {"out": 1, "kernel": 2, "dilation": d}} for d in (1, 2, 4, 8)]),
    # even kernel same, stride 1
    ([1, 30], [{"conv1d": {"out": 1, "kernel": 4, "padding": "same"}},
               {"conv1d": {"out": 1, "kernel": 2, "padding": "same", "dilation": 3}}]),
    # zeropad asymmetric and crop
    ([1, 30, 30], [{"zeropad2d": [2, 0, 1, 3]}, {"conv2d": {"out": 1, "kernel": 3, "stride": 2}},
                   {"zeropad2d": [-1, 0, 0, -1]}, {"maxpool2d": {"kernel": 2, "ceil_mode": True}}]),
    # ceil_mode pools
    ([1, 33], [{"maxpool1d": {"kernel": 3, "stride": 2, "ceil_mode": True}},
               {"avgpool1d": {"kernel": 2, "padding": 1, "ceil_mode": True}}]),
    # 3-D
    ([1, 20, 20, 20], [{"conv3d": {"out": 1, "kernel": 3, "stride": 2, "padding": 1}},
                       {"maxpool3d": {"kernel": [1, 2, 2], "stride": [1, 2, 2]}}]),
]


def main():
    cases = []
    agree = 0
    disagree = []
    skipped = 0

    def run(inp, layers):
        nonlocal agree, skipped
        res = measure(layers, inp)
        if res is None:
            skipped += 1
            return False
        rf, probe = res
        cf = closed_rf(layers, inp)
        ok = cf == rf
        if ok:
            agree += 1
        else:
            disagree.append({"input": inp, "layers": layers, "measured": rf, "closed_form": cf, "probe": probe})
        cases.append({"input": inp, "layers": layers, "rf": rf, "probe": probe})
        return True

    for inp, layers in FIXED:
        run(inp, layers)
    target = 150
    while len(cases) < target:
        r = rng.choices([1, 2, 3], weights=[45, 45, 10])[0]
        C, layers = gen_stack(r)
        if not any(isinstance(x, dict) and not list(x)[0].startswith("zeropad") for x in layers):
            continue
        bound = size_bound(layers, r)
        if r == 3 and math.prod(bound) > 60 ** 3:
            continue
        if r == 2 and math.prod(bound) > 400 ** 2:
            continue
        inp = [C] + [b + rng.randint(0, 3) for b in bound]
        try:
            run(inp, layers)
        except RuntimeError as e:
            print("skip (torch error):", str(e).splitlines()[0], file=sys.stderr)
            skipped += 1

    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "rf.json"), "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(c) for c in cases) + "\n]\n")
    print(f"wrote rf.json: {len(cases)} stacks "
          f"({sum(len(c['input']) == 2 for c in cases)} 1-D, {sum(len(c['input']) == 3 for c in cases)} 2-D, "
          f"{sum(len(c['input']) == 4 for c in cases)} 3-D); skipped {skipped}")
    print(f"closed form agrees with measurement on {agree}/{len(cases)}")
    for d in disagree:
        print("DISAGREE:", json.dumps(d))


if __name__ == "__main__":
    main()
