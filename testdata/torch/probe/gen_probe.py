#!/usr/bin/python3
"""Generate probe.json: which input positions each output unit sees, MEASURED with PyTorch.

Run:  /usr/bin/python3 testdata/torch/probe/gen_probe.py   (from the repo root)

Each case is a small network in the spec format (JSON is YAML). It is built
from real torch.nn modules: convs with every weight 1 and no bias (their
padding_mode as given: reflect, replicate and circular padding read mirrored,
edge or wrapped pixels), max pooling as it is. The input batch holds one
impulse image per input position (a single 1 among zeros, float64): output
unit u sees input position p when image p's output at u is not zero (weights
of 1 and non-negative values cancel nothing; max pooling passes the 1 exactly
when its window holds it). For every spatial axis, every output unit along
that axis through the central unit (the other axes at their centres) is
recorded with the first and last input coordinate it sees on that axis.

"rf" is the receptive field PyTorch shows at the central unit c = (n-1)//2 of
each axis: when units c-1, c, c+1 see spans strictly inside the input that are
shifted copies of each other, size = hi-lo+1, jump = the shift, start =
(lo+hi)/2 - c*jump; null when not (the field reaches the input's border).
"""
import json
import os

import torch
import torch.nn as nn

CASES = [
    # Issue 11's false alarms: a dilated conv1d and a dilated maxpool1d whose
    # fields (1,491 and 1,991) are wider than the old probe's 1,024-position
    # window; a 1x1 conv with reflect padding wider than its reach.
    ("dilated_conv1d", [1, 3000], [{"conv1d": {"out": 1, "kernel": 150, "stride": 10, "padding": 70, "dilation": 10}}]),
    ("dilated_maxpool1d", [1, 3000], [{"maxpool1d": {"kernel": 200, "stride": 10, "dilation": 10}}]),
    ("reflect_k1_p3", [1, 8, 8], [{"conv2d": {"out": 1, "kernel": 1, "padding": 3, "padding_mode": "reflect"}}]),
    ("reflect_k1_p2", [1, 8, 8], [{"conv2d": {"out": 1, "kernel": 1, "padding": 2, "padding_mode": "reflect"}}]),
    ("reflect_k3_p2_s2", [1, 9, 9], [{"conv2d": {"out": 1, "kernel": 3, "stride": 2, "padding": 2, "padding_mode": "reflect"}}]),
    ("replicate_k3_p2", [1, 9, 9], [{"conv2d": {"out": 1, "kernel": 3, "padding": 2, "padding_mode": "replicate"}}]),
    ("circular_k3_p2_d2", [1, 12, 12], [{"conv2d": {"out": 1, "kernel": 3, "padding": 2, "dilation": 2, "padding_mode": "circular"}}]),
    ("reflect_stack", [1, 16, 16], [{"conv2d": {"out": 2, "kernel": 1, "padding": 3, "padding_mode": "reflect"}},
                                    {"conv2d": {"out": 1, "kernel": 3, "stride": 2}}]),
    # The ONNX suite's dilated, padded, strided max pool (there on a larger input).
    ("dilated_maxpool2d", [1, 20, 20], [{"maxpool2d": {"kernel": 2, "stride": 2, "padding": 1, "dilation": 2}}]),
    ("maxpool1d_ceil", [1, 50], [{"maxpool1d": {"kernel": 3, "stride": 2, "padding": 1, "ceil_mode": True}}]),
    ("rect_dilated", [1, 40, 30], [{"conv2d": {"out": 1, "kernel": [3, 2], "dilation": [4, 3], "stride": [2, 3], "padding": [1, 2]}},
                                   {"maxpool2d": {"kernel": 2, "stride": 1}}]),
]


def build(input_shape, layers):
    c = input_shape[0]
    mods = []
    for item in layers:
        (kind, a), = item.items()
        nd = int(kind[-2])
        if kind.startswith("conv"):
            cls = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[nd]
            m = cls(c, a["out"], a["kernel"], stride=a.get("stride", 1), padding=a.get("padding", 0),
                    dilation=a.get("dilation", 1), padding_mode=a.get("padding_mode", "zeros"), bias=False)
            nn.init.ones_(m.weight)
            c = a["out"]
        elif kind.startswith("maxpool"):
            cls = {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d}[nd]
            m = cls(a["kernel"], stride=a.get("stride"), padding=a.get("padding", 0),
                    dilation=a.get("dilation", 1), ceil_mode=a.get("ceil_mode", False))
        else:
            raise ValueError(kind)
        mods.append(m)
    return nn.Sequential(*mods).double().eval()


def main():
    torch.set_num_threads(1)
    out = []
    for name, shape, layers in CASES:
        net = build(shape, layers)
        spatial = shape[1:]
        npos = 1
        for n in spatial:
            npos *= n
        x = torch.zeros([npos, shape[0]] + spatial, dtype=torch.float64)
        for p in range(npos):
            x.view(npos, shape[0], npos)[p, :, p] = 1
        with torch.no_grad():
            y = net(x)  # (npos, C, out...)
        seen = (y != 0).any(dim=1)  # (npos, out...)
        osp = list(y.shape[2:])
        centre = [(n - 1) // 2 for n in osp]
        axes, rf = [], {"size": [], "jump": [], "start": []}
        for a in range(len(osp)):
            spans = []
            for k in range(osp[a]):
                unit = list(centre)
                unit[a] = k
                hits = seen[(slice(None),) + tuple(unit)].nonzero().flatten().tolist()
                coords = sorted({(p // _inner(spatial, a)) % spatial[a] for p in hits})
                spans.append([coords[0], coords[-1]] if coords else None)
            axes.append(spans)
            c = centre[a]
            inside = lambda s: s is not None and s[0] > 0 and s[1] < spatial[a] - 1  # noqa: E731
            ok = 0 < c < osp[a] - 1 and all(inside(spans[k]) for k in (c - 1, c, c + 1))
            if ok:
                j1, j2 = spans[c][0] - spans[c - 1][0], spans[c + 1][0] - spans[c][0]
                ok = j1 == j2 == spans[c][1] - spans[c - 1][1] == spans[c + 1][1] - spans[c][1]
            if not ok:
                rf = None
                continue
            if rf is not None:
                rf["size"].append(spans[c][1] - spans[c][0] + 1)
                rf["jump"].append(j1)
                rf["start"].append((spans[c][0] + spans[c][1]) / 2 - c * j1)
        out.append({"name": name, "input": shape, "layers": layers, "output": osp, "centre": centre,
                    "spans": axes, "rf": rf, "module": " ".join(str(net).split())})
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "probe.json")
    with open(path, "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(c) for c in out) + "\n]\n")
    print("wrote", path, len(out), "cases")


def _inner(spatial, a):
    n = 1
    for v in spatial[a + 1:]:
        n *= v
    return n


if __name__ == "__main__":
    main()
