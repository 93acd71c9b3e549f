#!/usr/bin/python3
"""PyTorch's figures for cnncalc norms (calc.Norms, exec/verify.CheckNorm).

    /usr/bin/python3 testdata/torch/fold/gen_norms.py

For each input shape below it builds nn.BatchNormNd(C), nn.LayerNorm(shape[1:]),
nn.InstanceNormNd(C) (not for N x D) and nn.GroupNorm(G, C) at their defaults
and writes testdata/torch/fold/norms.json: per module its parameters, its
buffers (num_batches_tracked not counted), the number of statistics and the
values each averages (found by checking which grouping of the input -- per
channel over the batch, per sample, per sample and channel, per sample and
group -- reproduces the module's train-mode output), and whether its
train-mode and eval-mode outputs of one random input differ.
"""
import json
import os

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = [([8, 64, 32, 32], 32), ([16, 100], 4), ([4, 6, 10], 3), ([2, 6, 3, 4, 5], 2)]


def groupings(shape, g):
    n, c = shape[0], shape[1]
    s = 1
    for d in shape[2:]:
        s *= d
    return {
        "per channel": lambda x: x.reshape(n, c, s).transpose(0, 1).reshape(c, n * s),
        "per sample": lambda x: x.reshape(n, c * s),
        "per sample and channel": lambda x: x.reshape(n * c, s),
        "per sample and group": lambda x: x.reshape(n * g, (c // g) * s),
    }


def main():
    out = []
    torch.manual_seed(5)
    for shape, g in CASES:
        rank = len(shape) - 2
        c = shape[1]
        bn = {0: nn.BatchNorm1d, 1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}[rank]
        mods = [("batchnorm", bn(c)), ("layernorm", nn.LayerNorm(shape[1:]))]
        if rank > 0:
            mods.append(("instancenorm", {1: nn.InstanceNorm1d, 2: nn.InstanceNorm2d, 3: nn.InstanceNorm3d}[rank](c)))
        mods.append(("groupnorm", nn.GroupNorm(g, c)))
        x = torch.randn(shape) * 3 + torch.randn([shape[0], c] + [1] * rank) * 4
        for name, m in mods:
            m.train()
            with torch.no_grad():
                y = m(x)
                m.eval()
                z = m(x)
            found = None
            for gname, view in groupings(shape, g).items():
                v = view(x).double()
                want = (v - v.mean(1, keepdim=True)) / torch.sqrt(v.var(1, unbiased=False, keepdim=True) + 1e-5)
                if torch.allclose(view(y).double(), want, atol=1e-4):
                    found = (gname, v.shape[0], v.shape[1])
                    break
            assert found, name
            rec = {"shape": shape, "groups": g, "norm": name,
                   "params": sum(p.numel() for p in m.parameters()),
                   "buffers": sum(b.numel() for k, b in m.named_buffers() if not k.endswith("num_batches_tracked")),
                   "grouping": found[0], "stats": found[1], "count": found[2],
                   "train_differs": bool((y - z).abs().max().item() > 1e-3)}
            out.append(rec)
            print(rec)
    with open(os.path.join(HERE, "norms.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
