#!/usr/bin/python3
"""torchvision checkpoints for the optional test of cnncalc fold on real models
(fold/torchvision_test.go, TestFoldTorchvision). They are tens of MB, so they
are written outside the repository:

    /usr/bin/python3 testdata/torch/fold/gen_torchvision_fold.py [DIR]
    CNNCALC_TV_FOLD=DIR go test ./fold -run TestFoldTorchvision

DIR (default /tmp/cnncalc-tv-fold) receives, for resnet18, mobilenet_v2 and
densenet121: NAME.safetensors (torchvision's state_dict in its order, every
batchnorm given random running statistics, gamma and beta), NAME.input.npy (one
random 1x3x224x224 image) and NAME.output.npy (torchvision's eval-mode logits).
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "exec"))
from gen_exec import write_safetensors  # noqa: E402


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/cnncalc-tv-fold"
    os.makedirs(out, exist_ok=True)
    g = torch.Generator().manual_seed(21)
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
        x = torch.randn(1, 3, 224, 224, generator=g)
        with torch.no_grad():
            y = m(x)
        write_safetensors(os.path.join(out, name + ".safetensors"), list(m.state_dict().items()))
        np.save(os.path.join(out, name + ".input.npy"), x.numpy())
        np.save(os.path.join(out, name + ".output.npy"), y.numpy())
        print(name, "written to", out)


if __name__ == "__main__":
    main()
