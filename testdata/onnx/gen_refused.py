#!/usr/bin/python3
"""Writes testdata/onnx/refused/topk.onnx: a torch.onnx export that uses
operators cnncalc cannot express (TopK twice, ArgMax), for the README's
example of the refusal and cmd's test of it. Run from the repository root:

    /usr/bin/python3 testdata/onnx/gen_refused.py
"""
import os

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))


class TopK(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)

    def forward(self, x):
        y = self.conv(x).flatten(1)
        v, _ = torch.topk(y, 16, dim=1)
        w, _ = torch.topk(v, 4, dim=1)
        return torch.argmax(w, dim=1, keepdim=True).float()


torch.manual_seed(0)
torch.onnx.export(TopK().eval(), torch.randn(1, 3, 8, 8), os.path.join(HERE, "refused", "topk.onnx"),
                  export_params=False, input_names=["input"], opset_version=14)
