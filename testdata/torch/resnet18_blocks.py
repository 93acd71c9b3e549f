"""Per-block parameter and buffer counts of torchvision's resnet18, for
spec.TestRowsResNet18 (the rows of cnncalc params resnet18 --depth N):

    /usr/bin/python3 testdata/torch/resnet18_blocks.py

prints, for layer1 (the spec's repeat: 2 of basic) and for each BasicBlock of
layer2-4 (the spec's basic_down and basic uses), params and buffers
(num_batches_tracked excluded, as cnncalc counts buffers).
"""
import torchvision


def count(mod):
    params = sum(p.numel() for p in mod.parameters())
    buffers = sum(b.numel() for k, b in mod.named_buffers() if "num_batches_tracked" not in k)
    return params, buffers


m = torchvision.models.resnet18()
print("layer1", *count(m.layer1))
for name in ["layer2", "layer3", "layer4"]:
    for i, block in enumerate(getattr(m, name)):
        print(f"{name}.{i}", *count(block))
