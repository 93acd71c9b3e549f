#!/usr/bin/python3
"""Reference cases for folding an eval-mode batchnorm into a conv, transposed
conv or linear layer (exec.FoldBatchNorm, exec.FoldBatchNormForward, cnncalc fold).

Run from the repository root with Debian's python3-torch (1.13):

    /usr/bin/python3 testdata/torch/fold/gen_fold.py

For every case below it builds the torch.nn layer and batchnorm, gives every
tensor random values (running statistics too), and writes

    testdata/torch/fold/NAME.safetensors   layer.weight, layer.bias (if any),
                                           bn.weight, bn.bias (if affine),
                                           bn.running_mean, bn.running_var,
                                           want.weight, want.bias
    testdata/torch/fold/cases.json         each case's layer arguments

want.* are the folded tensors: torch.nn.utils.fusion.fuse_conv_bn_eval
(transpose=True for transposed convs) and fuse_linear_bn_eval where PyTorch
has them. PyTorch 1.13's fusion has no grouped transposed conv (it scales
dimension 1 as if it held every output channel) and fuse_linear_bn_eval no
affine=False batchnorm, and there is no forward fold (batchnorm before the
layer): for those the folded tensors are computed here by the formula, per
group. It also builds demo.yaml (the README's example) with spec2torch.py, gives it
random tensors and writes demo.safetensors, demo.input.npy and demo.output.npy
(PyTorch's eval-mode output of the unfolded network), checking the spec's
top-level expect: against PyTorch's counts.

Every case, PyTorch's or not, is then checked by running the folded
layer on a random input against the layer and the batchnorm in eval mode
(relative difference below 1e-5), so that want.* reproduce PyTorch's output
whoever computed them.
"""
import json
import os
import sys

import torch
import torch.nn as nn
from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "exec"))
from gen_exec import build as build_spec, randomise as randomise_net, write_safetensors  # noqa: E402
import numpy as np  # noqa: E402

CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
CONVT = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}
BN = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}

# name, kind, rank (spatial axes; 0 for linear), in, out, kernel, groups,
# bias, affine, eps, forward (batchnorm before the layer)
CASES = [
    ("conv2d", "conv", 2, 3, 8, 3, 1, False, True, 1e-5, False),
    ("conv2d_bias", "conv", 2, 4, 6, 3, 1, True, True, 1e-5, False),
    ("conv2d_groups", "conv", 2, 6, 9, 3, 3, False, True, 1e-3, False),
    ("conv2d_depthwise", "conv", 2, 5, 5, 3, 5, True, True, 1e-5, False),
    ("conv2d_noaffine", "conv", 2, 3, 4, 1, 1, False, False, 1e-5, False),
    ("conv1d", "conv", 1, 3, 5, 5, 1, True, True, 1e-5, False),
    ("conv3d", "conv", 3, 2, 4, 3, 2, False, True, 1e-5, False),
    ("convt2d", "convt", 2, 4, 6, 3, 1, False, True, 1e-5, False),
    ("convt2d_bias", "convt", 2, 3, 5, 2, 1, True, True, 1e-5, False),
    ("convt2d_groups", "convt", 2, 6, 4, 3, 2, True, True, 1e-5, False),
    ("convt1d_groups", "convt", 1, 6, 9, 3, 3, False, True, 1e-4, False),
    ("convt3d", "convt", 3, 2, 3, 2, 1, False, False, 1e-5, False),
    ("linear", "linear", 0, 7, 5, 0, 1, True, True, 1e-5, False),
    ("linear_nobias", "linear", 0, 6, 4, 0, 1, False, True, 1e-5, False),
    ("linear_noaffine", "linear", 0, 5, 3, 0, 1, True, False, 1e-5, False),
    ("forward_conv2d", "conv", 2, 4, 6, 3, 1, True, True, 1e-5, True),
    ("forward_conv2d_groups", "conv", 2, 6, 4, 1, 2, False, True, 1e-5, True),
    ("forward_linear", "linear", 0, 6, 3, 0, 1, False, True, 1e-5, True),
]


def build(kind, rank, cin, cout, kernel, groups, bias, affine, eps, forward):
    if kind == "conv":
        layer = CONV[rank](cin, cout, kernel, groups=groups, bias=bias)
    elif kind == "convt":
        layer = CONVT[rank](cin, cout, kernel, groups=groups, bias=bias, stride=2)
    else:
        layer = nn.Linear(cin, cout, bias=bias)
    bn = BN[max(rank, 1)](cin if forward else cout, eps=eps, affine=affine)
    return layer, bn


def randomise(layer, bn, g):
    with torch.no_grad():
        for p in layer.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
        if bn.affine:
            bn.weight.copy_(torch.rand(bn.weight.shape, generator=g) + 0.5)
            bn.bias.copy_(torch.rand(bn.bias.shape, generator=g) - 0.5)
        bn.running_mean.copy_(torch.randn(bn.running_mean.shape, generator=g))
        bn.running_var.copy_(torch.rand(bn.running_var.shape, generator=g) * 1.5 + 0.1)


def fold_formula(kind, layer, bn, forward):
    """The folded tensors by the formula, group by group (float64)."""
    w = layer.weight.detach().double()
    c = bn.running_mean.numel()
    gamma = bn.weight.detach().double() if bn.affine else torch.ones(c, dtype=torch.float64)
    beta = bn.bias.detach().double() if bn.affine else torch.zeros(c, dtype=torch.float64)
    s = gamma / torch.sqrt(bn.running_var.double() + bn.eps)
    t = beta - bn.running_mean.double() * s
    groups = getattr(layer, "groups", 1)
    if forward:
        out, per_in = w.shape[0], w.shape[1]
        b = layer.bias.detach().double() if layer.bias is not None else torch.zeros(out, dtype=torch.float64)
        fw = w.clone()
        fb = b.clone()
        per_out = out // groups
        for o in range(out):
            grp = o // per_out
            sl = slice(grp * per_in, (grp + 1) * per_in)
            ss = s[sl].reshape([-1] + [1] * (w.dim() - 2))
            tt = t[sl].reshape([-1] + [1] * (w.dim() - 2))
            fb[o] = b[o] + (w[o] * tt).sum()
            fw[o] = w[o] * ss
        return fw.float(), fb.float()
    b = layer.bias.detach().double() if layer.bias is not None else torch.zeros(c, dtype=torch.float64)
    if kind == "convt":
        cin, per_out = w.shape[0], w.shape[1]
        per_in = cin // groups
        fw = w.clone()
        for ci in range(cin):
            grp = ci // per_in
            ss = s[grp * per_out:(grp + 1) * per_out].reshape([-1] + [1] * (w.dim() - 2))
            fw[ci] = w[ci] * ss
    else:
        fw = w * s.reshape([-1] + [1] * (w.dim() - 1))
    fb = (b - bn.running_mean.double()) * s + beta
    return fw.float(), fb.float()


def main():
    cases = []
    for i, (name, kind, rank, cin, cout, kernel, groups, bias, affine, eps, forward) in enumerate(CASES):
        g = torch.Generator().manual_seed(1000 + i)
        layer, bn = build(kind, rank, cin, cout, kernel, groups, bias, affine, eps, forward)
        randomise(layer, bn, g)
        layer.eval()
        bn.eval()
        if forward:
            source = "formula"
            fw, fb = fold_formula(kind, layer, bn, True)
        elif kind == "linear" and affine:
            source = "fuse_linear_bn_eval"
            f = fuse_linear_bn_eval(layer, bn)
            fw, fb = f.weight.detach(), f.bias.detach()
        elif kind == "conv" or (kind == "convt" and groups == 1):
            source = "fuse_conv_bn_eval"
            f = fuse_conv_bn_eval(layer, bn, transpose=(kind == "convt"))
            fw, fb = f.weight.detach(), f.bias.detach()
        else:
            source = "formula"
            fw, fb = fold_formula(kind, layer, bn, False)
        # Whoever computed them, the folded tensors must give the output of
        # the layer and the batchnorm in eval mode; PyTorch's and the
        # formula's must agree where both exist.
        if source != "formula":
            rw, rb = fold_formula(kind, layer, bn, False)
            assert torch.allclose(rw, fw, rtol=1e-5, atol=1e-6), name
            assert torch.allclose(rb, fb, rtol=1e-5, atol=1e-6), name
        x = torch.randn([2, cin] + [6] * rank, generator=g)
        with torch.no_grad():
            want = layer(bn(x)) if forward else bn(layer(x))
            folded = build(kind, rank, cin, cout, kernel, groups, True, affine, eps, forward)[0]
            folded.weight.copy_(fw)
            folded.bias.copy_(fb)
            got = folded(x)
        rel = ((got - want).abs().max() / want.abs().max()).item()
        assert rel < 1e-5, "%s: folded output differs by %g relative" % (name, rel)
        tensors = [("layer.weight", layer.weight)]
        if layer.bias is not None:
            tensors.append(("layer.bias", layer.bias))
        if affine:
            tensors += [("bn.weight", bn.weight), ("bn.bias", bn.bias)]
        tensors += [("bn.running_mean", bn.running_mean), ("bn.running_var", bn.running_var),
                    ("want.weight", fw.contiguous()), ("want.bias", fb.contiguous())]
        write_safetensors(os.path.join(HERE, name + ".safetensors"), tensors)
        cases.append({"name": name, "layer": kind if kind == "linear" else "%s%dd" % ({"conv": "conv", "convt": "convtranspose"}[kind], rank),
                      "batchnorm": "batchnorm%dd" % max(rank, 1), "in": cin, "out": cout, "kernel": kernel,
                      "stride": 2 if kind == "convt" else 1, "groups": groups, "bias": bias, "affine": affine,
                      "eps": eps, "forward": forward, "source": source, "max_rel_diff": rel})
        print("%-22s %-20s folded output rel diff %.2e" % (name, source, rel))
    demo()
    with open(os.path.join(HERE, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")


def demo():
    path = os.path.join(HERE, "demo.yaml")
    res, net = build_spec(path)
    randomise_net(net, 77)
    g = torch.Generator().manual_seed(78)
    x = torch.randn(res["input"], generator=g)
    with torch.no_grad():
        y = net(x)
    write_safetensors(os.path.join(HERE, "demo.safetensors"), list(net.state_dict().items()))
    np.save(os.path.join(HERE, "demo.input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(HERE, "demo.output.npy"), y.numpy().astype(np.float32))
    print("demo: params %d, buffers %d, output %s" % (res["total"]["params"], res["total"]["buffers"], list(y.shape)))


if __name__ == "__main__":
    main()
