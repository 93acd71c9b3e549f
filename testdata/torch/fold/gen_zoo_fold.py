#!/usr/bin/python3
"""What folding batchnorms does to torchvision's resnet18, mobilenet_v2 and
densenet121, by PyTorch's own fuser (torch.fx.experimental.optimization.fuse,
which folds every Conv1d/2d/3d -> BatchNorm pair whose conv output feeds
nothing else, with fuse_conv_bn_eval).

    /usr/bin/python3 testdata/torch/fold/gen_zoo_fold.py

writes testdata/torch/fold/zoo_fold.json: per network the batchnorms
before and after, the parameters and buffers (running_mean and running_var;
num_batches_tracked is not counted, as cnncalc does not) before and after,
and the largest relative difference between the outputs of the model and
its fused copy (random running statistics, eval mode, one 224x224 input).
"""
import json
import os

import torch
import torch.nn as nn
import torchvision
from torch.fx.experimental.optimization import fuse

HERE = os.path.dirname(os.path.abspath(__file__))


def counts(m):
    params = sum(p.numel() for p in m.parameters())
    buffers = sum(b.numel() for n, b in m.named_buffers() if not n.endswith("num_batches_tracked"))
    bns = sum(1 for x in m.modules() if isinstance(x, nn.modules.batchnorm._BatchNorm))
    return params, buffers, bns


def main():
    out = {}
    g = torch.Generator().manual_seed(12)
    for name in ["resnet18", "mobilenet_v2", "densenet121"]:
        m = getattr(torchvision.models, name)()
        with torch.no_grad():
            for x in m.modules():
                if isinstance(x, nn.modules.batchnorm._BatchNorm):
                    x.running_mean.copy_(torch.randn(x.running_mean.shape, generator=g) * 0.1)
                    x.running_var.copy_(torch.rand(x.running_var.shape, generator=g) + 0.5)
                    x.weight.copy_(torch.rand(x.weight.shape, generator=g) + 0.5)
                    x.bias.copy_(torch.randn(x.bias.shape, generator=g) * 0.1)
        m.eval()
        f = fuse(m)
        f.eval()
        x = torch.randn(1, 3, 224, 224, generator=g)
        with torch.no_grad():
            a, b = m(x), f(x)
        rel = ((a - b).abs().max() / a.abs().max()).item()
        p0, b0, n0 = counts(m)
        p1, b1, n1 = counts(f)
        out[name] = {"batchnorms": n0, "folded": n0 - n1, "params": p0, "buffers": b0,
                     "folded_params": p1, "folded_buffers": b1, "max_rel_diff": rel}
        print(name, out[name])
    with open(os.path.join(HERE, "zoo_fold.json"), "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()
