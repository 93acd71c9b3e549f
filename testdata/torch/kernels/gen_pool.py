#!/usr/bin/python3
"""Generate PyTorch reference cases for exec's pool, upsample and pad kernels.

Run from the repository root with Debian's python3-torch:

    /usr/bin/python3 testdata/torch/kernels/gen_pool.py

It writes pool.json, upsample.json and pad.json beside itself. Each file is
{"torch": VERSION, "cases": [CASE, ...]} where a case holds the op name, its
arguments, the input shape and data (small multiples of 1/32, exact in
float32) and PyTorch's output shape and data (8 significant digits).
"""
import json
import os
import warnings

import torch
import torch.nn.functional as F

warnings.filterwarnings("ignore")
torch.manual_seed(0)
HERE = os.path.dirname(os.path.abspath(__file__))


def rand(*shape):
    # Multiples of 1/32 in [-4, 4): exact in float32, short in JSON, few ties.
    return torch.randint(-128, 128, shape).float() / 32


def short(t):
    return [float("%.8g" % v) for v in t.flatten().tolist()]


def case(name, op, x, y, **args):
    c = {"name": name, "op": op}
    c.update(args)
    c["input_shape"] = list(x.shape)
    c["input"] = short(x)
    c["output_shape"] = list(y.shape)
    c["output"] = short(y)
    return c


MAXF = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVGF = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
AMAXF = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}
AAVGF = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}


def pool_cases():
    cases = []
    # (input shape, kernel, stride, padding, dilation, ceil_mode)
    maxp = [
        ((1, 2, 11), [3], [2], [1], [1], False),
        ((1, 2, 11), [3], [2], [1], [2], True),
        ((1, 1, 10), [4], [3], [2], [1], True),
        ((2, 3, 7, 8), [3, 3], [2, 2], [1, 1], [1, 1], True),
        ((1, 2, 8, 8), [3, 3], [3, 3], [0, 0], [1, 1], True),
        ((1, 2, 9, 7), [2, 3], [2, 1], [1, 0], [2, 1], False),
        ((1, 2, 9, 10), [3, 2], [2, 3], [1, 1], [2, 2], True),
        ((1, 2, 5, 6, 7), [2, 3, 3], [2, 2, 1], [1, 1, 1], [1, 2, 1], True),
        ((1, 1, 4, 5, 6), [3, 3, 3], [1, 2, 2], [0, 1, 1], [1, 1, 1], False),
    ]
    for i, (shape, k, s, p, d, ceil) in enumerate(maxp):
        x = rand(*shape)
        y = MAXF[len(k)](x, k, s, p, d, ceil_mode=ceil)
        cases.append(case("max%d" % i, "maxpool", x, y, kernel=k, stride=s, padding=p,
                          dilation=d, ceil_mode=ceil))
    # (input shape, kernel, stride, padding, ceil_mode)
    avgp = [
        ((1, 2, 11), [3], [2], [1], False),
        ((1, 2, 10), [3], [2], [1], True),
        ((1, 1, 10), [4], [3], [2], True),
        ((2, 3, 7, 8), [3, 3], [2, 2], [1, 1], True),
        ((1, 2, 6, 5), [3, 2], [2, 2], [1, 1], True),
        ((1, 2, 5, 5), [2, 2], [2, 2], [0, 0], True),
        ((1, 2, 8, 8), [3, 3], [3, 3], [1, 1], True),
        ((1, 2, 9, 7), [3, 3], [2, 1], [1, 0], False),
        ((1, 2, 5, 6, 7), [3, 3, 3], [2, 2, 2], [1, 1, 1], True),
        ((1, 1, 4, 5, 6), [2, 3, 2], [1, 2, 2], [0, 1, 1], True),
    ]
    for i, (shape, k, s, p, ceil) in enumerate(avgp):
        x = rand(*shape)
        for cip in (True, False):
            y = AVGF[len(k)](x, k, s, p, ceil_mode=ceil, count_include_pad=cip)
            cases.append(case("avg%d_%s" % (i, "cip" if cip else "nocip"), "avgpool", x, y,
                              kernel=k, stride=s, padding=p, ceil_mode=ceil,
                              count_include_pad=cip))
    # (input shape, output size)
    adapt = [
        ((1, 2, 10), [3]),
        ((1, 2, 7), [5]),
        ((1, 2, 5), [8]),
        ((1, 3, 7, 9), [3, 4]),
        ((2, 2, 5, 5), [7, 3]),
        ((1, 2, 6, 6), [1, 1]),
        ((1, 2, 5, 7, 6), [2, 3, 4]),
        ((1, 1, 3, 4, 5), [5, 3, 2]),
    ]
    for i, (shape, o) in enumerate(adapt):
        x = rand(*shape)
        y = AAVGF[len(o)](x, o)
        cases.append(case("adaptiveavg%d" % i, "adaptiveavgpool", x, y, output_size=o))
        y = AMAXF[len(o)](x, o)
        cases.append(case("adaptivemax%d" % i, "adaptivemaxpool", x, y, output_size=o))
    return cases


def upsample_cases():
    cases = []
    shapes = {1: (1, 2, 5), 2: (1, 2, 5, 6), 3: (1, 2, 3, 4, 5)}
    modes = [("nearest", None), ("nearest-exact", None), ("linear", 1), ("bilinear", 2),
             ("bicubic", 2), ("trilinear", 3)]
    for mode, only in modes:
        ranks = [only] if only else [1, 2, 3]
        for rank in ranks:
            x = rand(*shapes[rank])
            aligns = [False, True] if mode in ("linear", "bilinear", "bicubic", "trilinear") else [None]
            # scale factors: uniform, fractional up, fractional down, mixed,
            # one just over 2 (output exactly twice the input)
            scales = [2.0, 1.7, 0.6, 3.0, 2.1, 1.1]
            mixed = [[1.7, 0.6, 2.5][3 - rank:][:rank], [0.75, 1.5, 1.3][3 - rank:][:rank]]
            sizes = [[7, 4, 9][3 - rank:], [2, 11, 3][3 - rank:], [1, 1, 1][3 - rank:]]
            for ac in aligns:
                kw = {} if ac is None else {"align_corners": ac}
                acn = "" if ac is None else ("_ac" if ac else "_noac")
                for s in scales + mixed:
                    sl = [float(s)] * rank if not isinstance(s, list) else [float(v) for v in s]
                    y = F.interpolate(x, scale_factor=sl if rank > 1 else sl[0], mode=mode, **kw)
                    cases.append(case("%s%dd%s_scale%s" % (mode, rank, acn, "x".join("%g" % v for v in sl)),
                                      "upsample", x, y, mode=mode, align_corners=bool(ac),
                                      scale=sl))
                for sz in sizes:
                    y = F.interpolate(x, size=sz, mode=mode, **kw)
                    cases.append(case("%s%dd%s_size%s" % (mode, rank, acn, "x".join(map(str, sz))),
                                      "upsample", x, y, mode=mode, align_corners=bool(ac),
                                      scale=None))
    # A longer axis, where float32 index arithmetic matters: at scale 0.6,
    # output 3 of nearest is floor(3 * float32(1/0.6)) = floor(5.0) = 5 in
    # float32, but 4 in float64.
    x = rand(1, 2, 10)
    for mode in ("nearest", "nearest-exact", "linear"):
        for s in (0.6, 0.3, 1.3):
            y = F.interpolate(x, scale_factor=s, mode=mode)
            cases.append(case("%s1d_len10_scale%g" % (mode, s), "upsample", x, y, mode=mode,
                              align_corners=False, scale=[s]))
    # One channel: a rank 4 or 5 tensor with C == 1 is channels-last
    # contiguous too, and PyTorch's nearest mode then takes its channels-last
    # kernel, whose nearest_idx copies when out == in and halves when
    # out == 2*in, whatever the scale_factor.
    for shape in ((2, 1, 5, 6), (1, 1, 3, 4, 5)):
        rank = len(shape) - 2
        x = rand(*shape)
        for mode in ("nearest", "nearest-exact"):
            for s in (2.1, 1.1, 1.7, 0.6):
                y = F.interpolate(x, scale_factor=[s] * rank, mode=mode)
                cases.append(case("%s%dd_c1_scale%g" % (mode, rank, s), "upsample", x, y,
                                  mode=mode, align_corners=False, scale=[s] * rank))
            sz = [10, 5, 12][3 - rank:] if rank == 2 else [6, 4, 7]
            y = F.interpolate(x, size=sz, mode=mode)
            cases.append(case("%s%dd_c1_size%s" % (mode, rank, "x".join(map(str, sz))), "upsample",
                              x, y, mode=mode, align_corners=False, scale=None))
    return cases


def pad_cases():
    cases = []
    # (input shape, pad in PyTorch order: last axis first)
    pads = [
        ((1, 2, 5), [2, 1]),
        ((1, 2, 5), [-1, 2]),
        ((1, 2, 5), [-2, -1]),
        ((1, 2, 4, 5), [1, 2, 0, 3]),
        ((1, 2, 4, 5), [-1, 2, 1, -2]),
        ((2, 1, 4, 5), [0, 0, -1, -1]),
        ((1, 2, 4, 5), [3, -2]),
        ((1, 2, 3, 4, 5), [1, 0, -1, 2, 1, 1]),
        ((1, 1, 3, 4, 5), [-2, -2, 0, 0, 2, -1]),
    ]
    for i, (shape, p) in enumerate(pads):
        x = rand(*shape)
        y = F.pad(x, p, mode="constant", value=0.0)
        cases.append(case("pad%d" % i, "zeropad", x, y, pad=p))
    return cases


def main():
    for name, fn in (("pool", pool_cases), ("upsample", upsample_cases), ("pad", pad_cases)):
        cases = fn()
        path = os.path.join(HERE, name + ".json")
        with open(path, "w") as f:
            json.dump({"torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
            f.write("\n")
        print("%s: %d cases, %d bytes" % (path, len(cases), os.path.getsize(path)))


if __name__ == "__main__":
    main()
