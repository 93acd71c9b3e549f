"""Writes tiny_densenet.*: torchvision's DenseNet class at a tiny size, its
state_dict with random weights and running statistics saved as safetensors in
name-sorted order (as the HF safetensors library writes it) and in state_dict
order, a random input and PyTorch's output. Run: /usr/bin/python3 gen_named.py"""
import os, sys
import numpy as np
import torch
import torchvision

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from gen_exec import write_safetensors  # noqa: E402

torch.manual_seed(7)
m = torchvision.models.DenseNet(growth_rate=4, block_config=(3, 3), num_init_features=8, bn_size=2, num_classes=5).eval()
for mod in m.modules():
    if isinstance(mod, torch.nn.BatchNorm2d):
        mod.running_mean.uniform_(-0.5, 0.5)
        mod.running_var.uniform_(0.5, 2.0)
        mod.weight.data.uniform_(0.5, 1.5)
        mod.bias.data.uniform_(-0.5, 0.5)
sd = list(m.state_dict().items())
base = os.path.join(here, "tiny_densenet")
write_safetensors(base + ".safetensors", sd)
write_safetensors(base + ".sorted.safetensors", sd, sort=True)
x = torch.randn(2, 3, 32, 32)
np.save(base + ".input.npy", x.numpy())
with torch.no_grad():
    np.save(base + ".output.npy", m(x).numpy())
print("tiny_densenet: %d tensors" % len(sd))
