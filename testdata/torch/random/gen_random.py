#!/usr/bin/python3
"""Random cnncalc specs with PyTorch reference results.

    /usr/bin/python3 testdata/torch/random/gen_random.py [--modern] [--seed S] [--n N] [--nbad M] [--nexec E]
                                                         [--out DIR] [--exec-dir EDIR]

Deterministic for a given seed. Every spec is grown item by item: each candidate
item is compiled (with all earlier items) by ../spec2torch.py, i.e. built from
real torch.nn modules and run; a candidate PyTorch (or the contract) rejects is
dropped and another is drawn. The YAML written uses random alias spellings
(out_channels, kernel_size, fc, dense, PyTorch class names like Conv2d), which
are mapped back to canonical names before spec2torch sees them (spec2torch does
not know class names; the contract allows them as an extension, cnncalc
accepts them).

Writes into DIR (default: this directory):
  valid/rNNN.yaml         a spec PyTorch accepts
  valid/rNNN.json         spec2torch's JSON at the spec's batch
  valid/rNNN.bB.json      the same at --batch B (for some specs)
  bad/eNNN.yaml           a spec PyTorch (or the contract) rejects
  bad/eNNN.err            spec2torch's error message
  exec/xNNN.*             numerical cases (the first --nexec small, well-conditioned
                          specs; into --exec-dir, default DIR/exec): spec, state_dict
                          safetensors (state_dict order and sorted), input.npy,
                          output.npy
Defaults: --n 300 --nbad 36 --nexec 60.

--modern additionally draws the modern constructs, and writes valid/mNNN.*,
bad/fNNN.* and exec/yNNN.* instead (nothing of the default set is touched;
defaults --n 100 --nbad 30 --nexec 20). The default mode's random stream is
unchanged by it: the same seed gives the same r/e/x files as before. It draws:
  - gate: [...] with a squeeze-excitation body (adaptive pool, 1x1 convs,
    sigmoid / hardsigmoid), a spatial one (1 x H x W), a pooled one (C x 1 x 1,
    1 x 1 x 1), any shape-keeping body (x * x when empty), linear for [C] nets;
  - mul from: [a, b] (and three names) of a named output with branches of the
    same shape, C x 1 x 1, 1 x H x W and 1 x 1 x 1, sometimes with the inputs
    shuffled (kept only where the first input keeps its shape);
  - chunk and split (size, split_size, sections incl. an empty section) along
    the channels and spatial axes, dims positive or negative, indices in range
    (torch.chunk's fewer pieces included); pieces named and merged again
    (concat along their axis, add, mul), a ShuffleNetV2 unit (chunk / split,
    concat, channelshuffle 2), a spatial piece brought back by upsample size_of;
  - channelshuffle with a dividing group; permute to channels-last and back
    with layernorm / linear MLP / activations between, ConvNeXt's block
    (depthwise conv, that, layerscale, stochasticdepth) as a residual, and
    random permutations keeping the batch first (negative dims too);
  - layernorm2d (4-D only), layerscale, stochasticdepth (p, mode), prelu with 1
    or C parameters, selu, celu, softplus, logsoftmax, hardtanh (min/max,
    min_val/max_val), mish, hardsigmoid with alpha/beta, each with random
    arguments and shorthands;
  - upsample size_of (or like) an earlier name or input of the same rank, in
    every mode of that rank incl. nearest-exact; FCN-style: down, upsample to
    the fork point's size, merge with it;
  - blocks se, shuf, cnx and uphead (size_of: input inside a block) next to
    the default blocks;
  - the kinds' PyTorch class names (PReLU, SELU, CELU, Softplus, LogSoftmax,
    Hardtanh, Mish, Hardsigmoid, ChannelShuffle, LayerNorm2d, LayerScale,
    StochasticDepth) and aliases (clip, log_softmax, shuffle, channel_shuffle,
    layer_scale, stochastic_depth, droppath, drop_path), mapped back to
    canonical names before spec2torch sees them (CANON_OF_CLASS);
  - item-level expect: on the last item of some candidates (the default mode's
    markers never survive: spec2torch rejects them before they are filled);
and bad cases misusing them (MODERN_BAD: a gate or mul whose shapes do not
broadcast, or that would broadcast the first input to a higher rank, split
sections not adding up, split / chunk index out of range, chunk along the
batch, permute that is not a permutation or moves the batch, shuffle groups
not dividing or a rank-2 input, prelu with the wrong number of parameters,
layernorm2d off 4-D, celu alpha 0, hardtanh bounds not ordered, stochasticdepth
p or mode, size_of of another rank or a later name, ...). The exec cases are
chosen to cover every construct a kept spec uses first, then in order. It
prints how many specs use each new kind and wiring.
"""
import argparse
import copy
import json
import os
import random
import sys
import warnings

import numpy as np
import torch
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "exec"))
import spec2torch  # noqa: E402
import gen_exec  # noqa: E402

warnings.filterwarnings("ignore")

CLASS = {"conv": "Conv%dd", "convtranspose": "ConvTranspose%dd", "maxpool": "MaxPool%dd", "avgpool": "AvgPool%dd",
         "adaptiveavgpool": "AdaptiveAvgPool%dd", "adaptivemaxpool": "AdaptiveMaxPool%dd",
         "batchnorm": "BatchNorm%dd", "instancenorm": "InstanceNorm%dd", "zeropad": "ZeroPad%dd"}
CLASS_PLAIN = {"linear": "Linear", "relu": "ReLU", "relu6": "ReLU6", "leakyrelu": "LeakyReLU", "elu": "ELU",
               "gelu": "GELU", "silu": "SiLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "hardswish": "Hardswish",
               "hardsigmoid": "Hardsigmoid", "softmax": "Softmax", "identity": "Identity", "dropout": "Dropout",
               "flatten": "Flatten", "layernorm": "LayerNorm", "groupnorm": "GroupNorm", "upsample": "Upsample"}
CANON_OF_CLASS = {}
for _f, _c in CLASS.items():
    for _d in (1, 2, 3):
        CANON_OF_CLASS[_c % _d] = "%s%dd" % (_f, _d)
for _f, _c in CLASS_PLAIN.items():
    CANON_OF_CLASS[_c] = _f
CANON_OF_CLASS["Dropout2d"] = "dropout2d"
CANON_OF_CLASS["Dropout3d"] = "dropout3d"
# --modern: the new kinds' PyTorch class names and the contract's aliases
# (spec2torch knows the aliases itself; mapping them too keeps what it sees
# canonical)
MODERN_CLASS = {"prelu": "PReLU", "selu": "SELU", "celu": "CELU", "softplus": "Softplus", "logsoftmax": "LogSoftmax",
                "hardtanh": "Hardtanh", "mish": "Mish", "hardsigmoid": "Hardsigmoid",
                "channelshuffle": "ChannelShuffle", "layernorm2d": "LayerNorm2d", "layerscale": "LayerScale",
                "stochasticdepth": "StochasticDepth"}
MODERN_ALIASES = {"hardtanh": ["clip"], "logsoftmax": ["log_softmax"],
                  "channelshuffle": ["shuffle", "channel_shuffle"], "layerscale": ["layer_scale"],
                  "stochasticdepth": ["stochastic_depth", "droppath", "drop_path"]}
for _f, _c in MODERN_CLASS.items():
    CANON_OF_CLASS[_c] = _f
for _f, _al in MODERN_ALIASES.items():
    for _a in _al:
        CANON_OF_CLASS[_a] = _f


class Flow(list):
    """A list dumped in YAML flow style."""


def _flow_repr(dumper, data):
    return dumper.represent_sequence("tag:yaml.org,2002:seq", list(data), flow_style=True)


class Dumper(yaml.SafeDumper):
    pass


Dumper.add_representer(Flow, _flow_repr)


def _dict_repr(dumper, data):
    # small argument maps in flow style
    flow = all(not isinstance(v, (dict, list)) or isinstance(v, Flow) for v in data.values()) and len(data) <= 8
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


Dumper.add_representer(dict, _dict_repr)


def dump(spec):
    return yaml.dump(spec, Dumper=Dumper, sort_keys=False, width=200)


def canonicalise(obj):
    """Class names -> canonical names (for spec2torch)."""
    if isinstance(obj, list):
        return [canonicalise(v) for v in obj]
    if isinstance(obj, str):
        return CANON_OF_CLASS.get(obj, obj)
    if isinstance(obj, dict):
        return {CANON_OF_CLASS.get(k, k): canonicalise(v) for k, v in obj.items()}
    return obj


def torch_compile(spec, batch=None):
    s = yaml.safe_load(dump(spec))  # exactly what the YAML file says
    return spec2torch.compile_spec(canonicalise(s), batch)


# ---------------------------------------------------------------- random items

class Gen:
    def __init__(self, rnd, modern=False):
        self.r = rnd
        self.modern = modern  # also draw the modern kinds (ModernGen); the default stream is untouched
        self.names = {}  # visible top-level names -> shape (batch excluded), kept by grow()

    def ch(self, *xs):
        return self.r.choice(xs)

    def maybe(self, p=0.5):
        return self.r.random() < p

    def sizes(self, nd, lo, hi, listp=0.4):
        if nd > 1 and self.maybe(listp):
            return Flow([self.r.randint(lo, hi) for _ in range(nd)])
        return self.r.randint(lo, hi)

    def tname(self, fam, nd, alias_ok=True):
        canon = "%s%dd" % (fam, nd) if nd else fam
        if alias_ok and self.maybe(0.15):
            if nd and fam in CLASS:
                return CLASS[fam] % nd
            if fam in CLASS_PLAIN:
                return CLASS_PLAIN[fam]
        if fam == "linear" and alias_ok and self.maybe(0.3):
            return self.ch("fc", "dense")
        return canon

    def conv(self, shape):
        nd = len(shape) - 1
        C = shape[0]
        r = self.r
        g = 1
        if self.maybe(0.3):
            g = self.ch(*[d for d in range(1, C + 1) if C % d == 0])
        out = g * r.randint(1, max(1, 8 // g))
        a = {}
        a["out_channels" if self.maybe(0.2) else "out"] = out
        a["kernel_size" if self.maybe(0.2) else "kernel"] = self.sizes(nd, 1, 5)
        if self.maybe(0.4):
            a["stride"] = self.sizes(nd, 1, 3)
        if self.maybe(0.6):
            a["padding"] = self.ch("same", "valid", self.sizes(nd, 0, 3), self.sizes(nd, 0, 2))
        if self.maybe(0.3):
            a["dilation"] = self.sizes(nd, 1, 3)
        if g > 1 or self.maybe(0.1):
            a["groups"] = g
        if self.maybe(0.2):
            a["bias"] = False
        if self.maybe(0.3):
            a["padding_mode"] = self.ch("zeros", "reflect", "replicate", "circular")
        if self.maybe(0.1):
            a["in_channels"] = C
        return {self.tname("conv", nd): a}

    def convt(self, shape):
        nd = len(shape) - 1
        C = shape[0]
        r = self.r
        g = 1
        if self.maybe(0.3):
            g = self.ch(*[d for d in range(1, C + 1) if C % d == 0])
        out = g * r.randint(1, max(1, 8 // g))
        a = {"out": out, "kernel": self.sizes(nd, 1, 4)}
        s = d = 1
        if self.maybe(0.6):
            s = r.randint(1, 3)
            a["stride"] = s
        if self.maybe(0.3):
            d = r.randint(1, 2)
            a["dilation"] = d
        if self.maybe(0.4):
            a["padding"] = self.sizes(nd, 0, 2)
        if max(s, d) > 1 and self.maybe(0.5):
            a["output_padding"] = r.randint(0, max(s, d) - 1)
        if g > 1:
            a["groups"] = g
        if self.maybe(0.2):
            a["bias"] = False
        return {self.tname("convtranspose", nd): a}

    def pool(self, shape, fam):
        nd = len(shape) - 1
        r = self.r
        k = self.sizes(nd, 1, 4)
        if self.maybe(0.3):
            return {self.tname(fam, nd): k}
        a = {"kernel_size" if self.maybe(0.2) else "kernel": k}
        kmin = min(k) if isinstance(k, list) else k
        if self.maybe(0.5):
            a["stride"] = self.sizes(nd, 1, 3)
        if self.maybe(0.5):
            a["padding"] = r.randint(0, kmin // 2)
        if fam == "maxpool" and self.maybe(0.3):
            a["dilation"] = self.sizes(nd, 1, 2)
        if self.maybe(0.4):
            a["ceil_mode"] = True
        if fam == "avgpool" and self.maybe(0.4):
            a["count_include_pad"] = self.maybe()
        return {self.tname(fam, nd): a}

    def adaptive(self, shape):
        nd = len(shape) - 1
        fam = self.ch("adaptiveavgpool", "adaptivemaxpool")
        if nd > 1 and self.maybe(0.5):
            o = Flow([None if self.maybe(0.3) else self.r.randint(1, 6) for _ in range(nd)])
        else:
            o = self.r.randint(1, 6)
        if self.maybe(0.5):
            return {self.tname(fam, nd): o}
        return {self.tname(fam, nd): {self.ch("output", "output_size"): o}}

    def linear(self, shape):
        out = self.r.randint(1, 12)
        t = self.tname("linear", 0)
        if self.maybe(0.4):
            return {t: out}
        a = {self.ch("out", "out_features"): out}
        if self.maybe(0.2):
            a["bias"] = False
        if self.maybe(0.1):
            a["in_features"] = shape[-1]
        return {t: a}

    def flatten(self, shape):
        R = len(shape) + 1
        if self.maybe(0.3):
            return self.tname("flatten", 0)
        sd = self.r.randint(1, R - 1)
        ed = self.r.randint(sd, R - 1)
        if self.maybe(0.5):
            sd -= R
        if self.maybe(0.5):
            ed -= R
        a = {}
        if sd not in (1, 1 - R) or self.maybe(0.3):
            a["start_dim"] = sd
        a["end_dim"] = ed
        return {"flatten": a}

    def batchnorm(self, shape):
        nd = len(shape) - 1
        if nd == 0:
            nd = 1
        a = {}
        if self.maybe(0.3):
            a["affine"] = self.maybe(0.3)
        if self.maybe(0.3):
            a["track_running_stats"] = self.maybe(0.3)
        if self.maybe(0.2):
            a["eps"] = self.ch(1e-3, 1e-5, 0.0001)
        if self.maybe(0.2):
            a["momentum"] = self.ch(0.1, 0.01, 0.3)
        if self.maybe(0.1):
            a["num_features"] = shape[0]
        t = self.tname("batchnorm", nd)
        return {t: a} if a else t

    def instancenorm(self, shape):
        nd = len(shape) - 1
        a = {}
        if self.maybe(0.4):
            a["affine"] = self.maybe()
        if self.maybe(0.4):
            a["track_running_stats"] = self.maybe()
        t = self.tname("instancenorm", nd)
        return {t: a} if a else t

    def layernorm(self, shape):
        t = self.tname("layernorm", 0)
        c = self.r.randint(0, 3)
        if c == 0:
            return t
        if c == 1:
            return {t: shape[-1]}
        k = self.r.randint(1, len(shape))
        a = {self.ch("shape", "normalized_shape"): Flow(shape[len(shape) - k:])}
        if self.maybe(0.3):
            a["elementwise_affine"] = False
        return {t: a}

    def groupnorm(self, shape):
        C = shape[0]
        g = self.ch(*[d for d in range(1, C + 1) if C % d == 0])
        t = self.tname("groupnorm", 0)
        if self.maybe(0.4):
            return {t: g}
        a = {self.ch("groups", "num_groups"): g}
        if self.maybe(0.3):
            a["affine"] = False
        return {t: a}

    def act(self, shape):
        R = len(shape) + 1
        f = self.ch("relu", "relu6", "leakyrelu", "elu", "gelu", "silu", "sigmoid", "tanh", "hardswish",
                    "hardsigmoid", "softmax", "identity", "dropout")
        t = self.tname(f, 0)
        if f == "leakyrelu" and self.maybe():
            return {t: {"negative_slope": self.ch(0.1, 0.2, 0.01)}}
        if f == "elu" and self.maybe():
            return {t: {"alpha": self.ch(0.5, 1.0, 2.0)}}
        if f == "gelu" and self.maybe():
            return {t: {"approximate": self.ch("none", "tanh")}}
        if f == "softmax" and self.maybe(0.8):
            return {t: {"dim": self.r.randint(-R, R - 1)}}
        if f == "dropout":
            nd = len(shape) - 1
            if nd in (2, 3) and self.maybe(0.5):
                t = "dropout%dd" % nd
            if self.maybe():
                return {t: self.ch(0.1, 0.5, 0.0)}
        return t

    def zeropad(self, shape):
        nd = len(shape) - 1
        t = self.tname("zeropad", nd)
        if self.maybe(0.4):
            return {t: self.r.randint(0, 3)}
        p = Flow([self.r.randint(-2, 3) for _ in range(2 * nd)])
        if self.maybe(0.5):
            return {t: p}
        return {t: {"padding": p}}

    def upsample(self, shape):
        nd = len(shape) - 1
        modes = ["nearest", {1: "linear", 2: "bilinear", 3: "trilinear"}[nd]]
        if nd == 2:
            modes.append("bicubic")
        mode = self.ch(*modes)
        a = {}
        if self.maybe(0.6):
            if nd > 1 and self.maybe(0.4):
                sc = Flow([self.ch(1, 2, 3, 0.5, 1.5, 2.5, 0.7) for _ in range(nd)])
            else:
                sc = self.ch(2, 3, 1.5, 2.0, 0.5, 0.75, 1.3)
            if mode == "nearest" and self.maybe(0.3):
                return {"upsample": sc}
            a[self.ch("scale", "scale_factor")] = sc
        else:
            a["size"] = self.sizes(nd, 1, 20)
        a["mode"] = mode
        if mode != "nearest" and self.maybe(0.6):
            a["align_corners"] = self.maybe()
        return {self.tname("upsample", 0): a}

    def plain(self, shape):
        if self.modern and self.maybe(0.4):
            return self.modern_plain(shape)
        nd = len(shape) - 1
        opts = ["linear", "act", "act", "layernorm", "flatten", "batchnorm"]
        if nd >= 1:
            opts += ["conv"] * 5 + ["convt", "maxpool", "avgpool", "adaptive", "instancenorm", "groupnorm",
                                    "zeropad", "upsample"] + ["batchnorm"] * 2
        else:
            opts += ["linear"] * 3
        k = self.ch(*opts)
        if k in ("maxpool", "avgpool"):
            return self.pool(shape, k)
        return getattr(self, {"convt": "convt"}.get(k, k))(shape)

    def preserving(self, shape):
        """An item that likely keeps the shape (for residual bodies / merges)."""
        if self.modern and self.maybe(0.35):
            return self.modern_preserving(shape)
        nd = len(shape) - 1
        C = shape[0]
        opts = ["act", "layernorm_full"]
        if nd >= 1:
            opts += ["conv_same", "conv_same", "bn", "pool_same", "gn"]
        else:
            opts += ["lin"]
        k = self.ch(*opts)
        if k == "act":
            a = self.act(shape)
            return a
        if k == "layernorm_full":
            return self.layernorm(shape)
        if k == "conv_same":
            kk = self.ch(1, 3, 5)
            a = {"out": C, "kernel": kk}
            if self.maybe():
                a["padding"] = "same"
            else:
                a["padding"] = kk // 2
            if self.maybe(0.3):
                a["dilation"] = 2
                a["padding"] = "same"
            if self.maybe(0.3):
                a["padding_mode"] = self.ch("reflect", "replicate", "circular")
            if self.maybe(0.3):
                a["groups"] = self.ch(*[d for d in range(1, C + 1) if C % d == 0])
            return {self.tname("conv", nd): a}
        if k == "bn":
            return self.batchnorm(shape)
        if k == "gn":
            return self.groupnorm(shape)
        if k == "pool_same":
            return {self.tname(self.ch("maxpool", "avgpool"), nd): {"kernel": 3, "stride": 1, "padding": 1}}
        if k == "lin":
            return {self.tname("linear", 0): shape[-1]}

    # ------------------------------------------------------------ --modern kinds
    # Only called when self.modern is set: the default mode draws exactly
    # what it drew before the modern kinds existed.

    def mname(self, canon):
        """A spelling of a modern kind: canonical, its PyTorch class name or an alias."""
        opts = ([MODERN_CLASS[canon]] if canon in MODERN_CLASS else []) + MODERN_ALIASES.get(canon, [])
        if opts and self.maybe(0.4):
            return self.ch(*opts)
        return canon

    def modern_act(self, shape):
        R = len(shape) + 1
        f = self.ch("selu", "celu", "prelu", "softplus", "logsoftmax", "hardtanh", "mish", "hardsigmoid")
        t = self.mname(f)
        if f == "celu":
            al = self.ch(0.5, 1.0, 2.0, 0.3, 1.7)
            c = self.r.randint(0, 2)
            return t if c == 0 else ({t: al} if c == 1 else {t: {"alpha": al}})
        if f == "prelu":
            return self.m_prelu(shape, t)
        if f == "softplus":
            a = {}
            if self.maybe(0.6):
                a["beta"] = self.ch(0.5, 1, 2, 3.0)
            if self.maybe(0.5):
                a["threshold"] = self.ch(1, 2.5, 5, 20)
            if not a:
                return t
            if list(a) == ["beta"] and self.maybe(0.5):
                return {t: a["beta"]}
            return {t: a}
        if f == "logsoftmax":
            if self.maybe(0.25):
                return t
            d = self.r.randint(-R, R - 1)
            return {t: d} if self.maybe(0.5) else {t: {"dim": d}}
        if f == "hardtanh":
            if self.maybe(0.2):
                return t
            lo = self.ch(-3, -1, -0.5, 0, 0.2, -2.5)
            hi = lo + self.ch(0.5, 1, 2, 6, 0.1)
            lk, hk = self.ch(("min_val", "max_val"), ("min", "max"))
            a = {}
            if self.maybe(0.8):
                a[lk] = lo
            if self.maybe(0.8) or not a:
                a[hk] = hi
            return {t: a}
        if f == "hardsigmoid":
            a = {}
            if self.maybe(0.7):
                a["alpha"] = self.ch(0.2, 0.25, 0.5, 1.0, 0.3)
            if self.maybe(0.6):
                a["beta"] = self.ch(0.5, 0.4, 0.0, 0.6)
            return {t: a} if a else t
        return t  # selu, mish

    def m_prelu(self, shape, t=None):
        t = t or self.mname("prelu")
        C = shape[0]
        n = self.ch(1, C) if self.maybe(0.8) else 1
        c = self.r.randint(0, 3)
        if c == 0 and n == 1:
            return t
        if c == 1:
            return {t: n}
        a = {self.ch("num_parameters", "n"): n}
        if self.maybe(0.4):
            a["init"] = self.ch(0.1, 0.25, 0.5, -0.2)
        return {t: a}

    def piece_axis(self, shape):
        R = len(shape) + 1
        ax = 1 if len(shape) == 1 or self.maybe(0.55) else self.r.randint(2, R - 1)
        return ax, R

    def dimarg(self, ax, R):
        return ax - R if self.maybe(0.3) else ax

    def m_chunk(self, shape, ax=None):
        R = len(shape) + 1
        if ax is None:
            ax, R = self.piece_axis(shape)
        n = shape[ax - 1]
        chunks = self.r.randint(1, min(n + 1, 6))
        size = -(-n // chunks)
        pieces = -(-n // size)  # torch.chunk may give fewer pieces than chunks
        a = {"chunks": chunks, "index": self.r.randint(0, pieces - 1)}
        if ax != 1 or self.maybe(0.3):
            a["dim"] = self.dimarg(ax, R)
        return {"chunk": a}

    def sections(self, n, k):
        cuts = sorted(self.r.sample(range(1, n), k - 1))
        secs = [b - a for a, b in zip([0] + cuts, cuts + [n])]
        if self.maybe(0.1):
            secs.insert(self.r.randint(0, len(secs)), 0)  # an empty section others may still pick around
        return secs

    def m_split(self, shape, ax=None):
        R = len(shape) + 1
        if ax is None:
            ax, R = self.piece_axis(shape)
        n = shape[ax - 1]
        if self.maybe(0.5):
            s = self.r.randint(1, n)
            a = {self.ch("size", "split_size"): s, "index": self.r.randint(0, -(-n // s) - 1)}
        else:
            secs = self.sections(n, self.r.randint(1, min(n, 4)))
            a = {"sections": Flow(secs), "index": self.ch(*[i for i, v in enumerate(secs) if v > 0])}
        if ax != 1 or self.maybe(0.3):
            a["dim"] = self.dimarg(ax, R)
        return {"split": a}

    def m_shuffle(self, shape):
        if len(shape) < 2:
            return None
        C = shape[0]
        divs = [d for d in range(2, C + 1) if C % d == 0]
        g = self.ch(*divs) if divs and self.maybe(0.9) else 1
        t = self.mname("channelshuffle")
        return {t: g} if self.maybe(0.6) else {t: {"groups": g}}

    def m_permute(self, shape):
        if len(shape) < 2:
            return None
        R = len(shape) + 1
        c = self.r.random()
        if c < 0.3:
            rest = list(range(2, R)) + [1]  # channels last
        elif c < 0.45:
            rest = [R - 1] + list(range(1, R - 1))  # the last axis to the channels
        else:
            rest = list(range(1, R))
            self.r.shuffle(rest)
        dims = [0] + rest
        if self.maybe(0.25):
            dims = [d - R if d > 0 and self.maybe() else d for d in dims]
        if self.maybe(0.05):
            dims[0] = -R  # the batch axis spelled from the end
        return {"permute": Flow(dims)} if self.maybe(0.6) else {"permute": {"dims": Flow(dims)}}

    def m_layernorm2d(self, shape):
        if len(shape) != 3:
            return None
        t = self.mname("layernorm2d")
        a = {}
        if self.maybe(0.3):
            a["eps"] = self.ch(1e-6, 1e-5, 1e-3)
        if self.maybe(0.2):
            a[self.ch("elementwise_affine", "affine")] = False
        if self.maybe(0.1):
            a["num_channels"] = shape[0]
        return {t: a} if a else t

    def m_layerscale(self, shape):
        t = self.mname("layerscale")
        init = self.ch(1e-6, 0.1, 0.5, 1.0, 1e-2)
        c = self.r.randint(0, 2)
        return t if c == 0 else ({t: init} if c == 1 else {t: {"init": init}})

    def m_stochasticdepth(self, shape):
        t = self.mname("stochasticdepth")
        p = self.ch(0.0, 0.1, 0.2, 0.5, 1.0)
        c = self.r.randint(0, 3)
        if c == 0:
            return t
        if c == 1:
            return {t: p}
        a = {"p": p}
        if self.maybe(0.7):
            a["mode"] = self.ch("row", "batch")
        return {t: a}

    def upsample_modes(self, nd):
        return ["nearest", "nearest-exact", {1: "linear", 2: "bilinear", 3: "trilinear"}[nd]] + (
            ["bicubic"] if nd == 2 else [])

    def m_upsample_like(self, shape, src=None):
        """upsample size_of an earlier name (or input) of the same rank."""
        if len(shape) < 2:
            return None
        if src is None:
            cands = sorted(n for n, s in self.names.items() if len(s) == len(shape))
            if not cands:
                return None
            src = self.ch(*cands)
        mode = self.ch(*self.upsample_modes(len(shape) - 1))
        a = {self.ch("size_of", "size_of", "like"): src, "mode": mode}
        if mode == "nearest" and self.maybe(0.4):
            del a["mode"]
        if "nearest" not in mode and self.maybe(0.5):
            a["align_corners"] = self.maybe()
        return {self.tname("upsample", 0): a}

    def modern_plain(self, shape):
        opts = ["act"] * 7 + ["chunk", "split", "layerscale", "stochasticdepth", "prelu"]
        if len(shape) >= 2:
            opts += ["shuffle", "shuffle", "permute", "permute", "upsample_like", "upsample_like"]
        if len(shape) == 3:
            opts += ["layernorm2d"] * 2
        k = self.ch(*opts)
        it = self.modern_act(shape) if k == "act" else getattr(self, "m_" + k)(shape)
        return it if it is not None else self.modern_act(shape)

    def modern_preserving(self, shape):
        """A modern item that likely keeps the shape."""
        opts = ["act", "act", "layerscale", "stochasticdepth", "prelu"]
        if len(shape) >= 2:
            opts += ["shuffle", "gate", "gate", "channels_last"]
        else:
            opts += ["gate"]
        if len(shape) == 3:
            opts += ["layernorm2d"]
        k = self.ch(*opts)
        if k == "act":
            f = self.modern_act(shape)
            return f
        if k == "gate":
            return {"gate": self.gate_body(shape)}
        if k == "channels_last":
            return {"repeat": 1, "layers": self.channels_last(shape)}
        it = getattr(self, "m_" + k)(shape)
        return it if it is not None else self.modern_act(shape)

    def gate_act(self):
        return self.ch("sigmoid", "sigmoid", "hardsigmoid", self.mname("hardsigmoid"), "tanh",
                       {self.mname("hardsigmoid"): {"alpha": 0.2, "beta": 0.5}})

    def gate_body(self, shape):
        """A gate body whose output broadcasts against shape (squeeze-excitation and others)."""
        nd = len(shape) - 1
        C = shape[0]
        k = self.ch("se", "se", "se", "spatial", "pool", "plain") if nd >= 1 else self.ch("lin", "lin", "plain")
        if k == "se":
            s = self.r.randint(1, max(1, C // 2))
            conv = self.tname("conv", nd)
            mid = self.ch("relu", "silu", "gelu", self.mname("prelu"), {self.mname("prelu"): s})
            pool = self.tname(self.ch("adaptiveavgpool", "adaptiveavgpool", "adaptivemaxpool"), nd)
            return [{pool: 1}, {conv: {"out": s, "kernel": 1}}, mid, {conv: {"out": C, "kernel": 1}}, self.gate_act()]
        if k == "spatial":  # 1 x H x W
            kk = self.ch(1, 3, 5, 7)
            return [{self.tname("conv", nd): {"out": 1, "kernel": kk, "padding": "same" if self.maybe() else kk // 2}},
                    self.gate_act()]
        if k == "pool":  # C x 1 x 1, or 1 x 1 x 1
            body = [{self.tname("adaptiveavgpool", nd): 1}]
            if self.maybe(0.4):
                body.append({self.tname("conv", nd): {"out": 1, "kernel": 1}})
            return body + [self.gate_act()]
        if k == "lin":
            s = self.r.randint(1, max(1, C // 2))
            return [{"linear": s}, "relu", {"linear": C}, self.gate_act()]
        n = 0 if self.maybe(0.1) else self.r.randint(1, 2)  # an empty body is x * x
        return [self.preserving(shape) for _ in range(n)]

    def channels_last(self, shape, mlp=None, out=None):
        """permute to channels-last, layernorm / linear on the channels, permute back."""
        R = len(shape) + 1
        C = shape[0]
        out = out or C
        to_last = [0] + list(range(2, R)) + [1]
        back = [0, R - 1] + list(range(1, R - 1))
        k = mlp or self.ch("ln", "mlp", "ln_mlp", "ln_mlp", "act", "lin")
        mids = []
        if k in ("ln", "ln_mlp"):
            c = self.r.randint(0, 3)
            ln = self.tname("layernorm", 0)
            if c == 0:
                mids.append({ln: C})
            elif c == 1:
                mids.append({ln: {self.ch("shape", "normalized_shape"): C, "eps": 1e-6}})
            elif c == 2:
                mids.append({ln: Flow([C])})
            else:
                mids.append({ln: {"shape": C, "elementwise_affine": self.maybe()}})
        if k in ("mlp", "ln_mlp"):
            mids += [{self.tname("linear", 0): self.ch(2, 4) * C}, self.ch("gelu", "relu", "silu"),
                     {self.tname("linear", 0): out}]
        elif k == "lin":
            mids.append({self.tname("linear", 0): out})
        elif k == "act":
            mids.append(self.ch({"softmax": {"dim": -1}}, {self.mname("logsoftmax"): -1}, self.modern_act(shape),
                                {"prelu": 1}))
        return [{"permute": Flow(to_last)}] + mids + [{"permute": Flow(back)}]

    def cnblock(self, shape):
        """ConvNeXt's block: depthwise conv, channels-last layernorm + MLP, layer scale, stochastic depth."""
        nd = len(shape) - 1
        C = shape[0]
        kk = self.ch(3, 5, 7)
        body = [{"conv%dd" % nd: {"out": C, "kernel": kk, "padding": kk // 2, "groups": C}}] + \
            self.channels_last(shape, mlp="ln_mlp") + [self.m_layerscale(shape)]
        if self.maybe(0.7):
            body.append(self.m_stochasticdepth(shape))
        return {"residual": body}


# ---------------------------------------------------------------- spec growth

BLOCK_TEMPLATES = [
    # (name, args, layers as a function of nd)
    ("cbr", {"out": 8, "k": 3, "s": 1},
     lambda nd: [{"conv%dd" % nd: {"out": "$out", "kernel": "$k", "stride": "$s", "padding": 1, "bias": False}},
                 "batchnorm%dd" % nd, "relu"]),
    ("resblk", {"c": 4, "n": 1},
     lambda nd: [{"repeat": "$n", "layers": [
         {"residual": [{"conv%dd" % nd: {"out": "$c", "kernel": 3, "padding": "same"}}, "relu",
                       {"conv%dd" % nd: {"out": "$c", "kernel": 1}}]}]}]),
    ("down", {"c": 6, "s": 2},
     lambda nd: [{"residual": [{"conv%dd" % nd: {"out": "$c", "kernel": 3, "stride": "$s", "padding": 1}},
                               "batchnorm%dd" % nd, "relu"],
                  "shortcut": [{"conv%dd" % nd: {"out": "$c", "kernel": 1, "stride": "$s"}}]}]),
    ("incept", {"a": 2, "b": 3},
     lambda nd: [{"concat": [[{"conv%dd" % nd: {"out": "$a", "kernel": 1}}],
                             [{"cbr": {"out": "$b", "k": 3, "s": 1}}],
                             [],
                             [{"maxpool%dd" % nd: {"kernel": 3, "stride": 1, "padding": 1}}]]}]),
]


def to_last(nd):
    return Flow([0] + list(range(2, nd + 2)) + [1])


def from_last(nd):
    return Flow([0, nd + 1] + list(range(1, nd + 1)))


# --modern: blocks with the new kinds (added to the spec with the others)
MODERN_BLOCK_TEMPLATES = [
    ("se", {"c": 4, "s": 2},
     lambda nd: [{"gate": [{"adaptiveavgpool%dd" % nd: 1}, {"conv%dd" % nd: {"out": "$s", "kernel": 1}}, "relu",
                           {"conv%dd" % nd: {"out": "$c", "kernel": 1}}, "hardsigmoid"]}]),
    ("shuf", {"half": 2, "g": 2},
     lambda nd: [{"concat": [[{"chunk": {"chunks": 2, "index": 0}}],
                             [{"chunk": {"chunks": 2, "index": 1}},
                              {"conv%dd" % nd: {"out": "$half", "kernel": 1, "bias": False}}, "batchnorm%dd" % nd,
                              "relu",
                              {"conv%dd" % nd: {"out": "$half", "kernel": 3, "padding": 1, "groups": "$half"}}]]},
                 {"channelshuffle": "$g"}]),
    ("cnx", {"c": 4, "h": 8, "ls": 1e-6},
     lambda nd: [{"residual": [{"conv%dd" % nd: {"out": "$c", "kernel": 3, "padding": 1, "groups": "$c"}},
                               {"permute": to_last(nd)}, {"layernorm": {"shape": "$c", "eps": 1e-6}},
                               {"linear": "$h"}, "gelu", {"linear": "$c"}, {"permute": from_last(nd)},
                               {"layerscale": "$ls"}, {"stochasticdepth": {"p": 0.1, "mode": "row"}}]}]),
    # a head back at the input's size: `input` names the network input inside blocks too
    ("uphead", {"c": 2, "s": 2},
     lambda nd: [{"conv%dd" % nd: {"out": "$c", "kernel": 3, "stride": "$s", "padding": 1}},
                 {"upsample": {"size_of": "input", "mode": "nearest"}}]),
]


def dictify(it):
    return dict({it: None} if isinstance(it, str) else it)


def fork_source(spec, items, newname):
    """The name of the current output: the previous item's name, or a new one
    given to it (a ("replace_last", item) entry in items), or input."""
    if spec["layers"] and "name" not in spec["layers"][-1]:
        last = dictify(copy.deepcopy(spec["layers"][-1]))
        last["name"] = newname()
        items.append(("replace_last", last))
        return last["name"]
    return spec["layers"][-1]["name"] if spec["layers"] else "input"


def branch(items, src, name):
    """items (a chain) fed from src, the last one named name."""
    items = [dictify(it) for it in items]
    items[0]["from"] = src
    items[-1]["name"] = name
    return items


def modern_items(rnd, g, spec, shape, newname, use_blocks):
    """Items of a modern wiring for the current output of shape (batch excluded)."""
    nd = len(shape) - 1
    C = shape[0]
    R = len(shape) + 1
    opts = ["gate", "gate", "mul", "mul", "mul3", "plain", "plain", "acts", "acts"]
    if nd >= 1:
        opts += ["pieces", "pieces", "shufflenet", "channels_last", "cnblock", "fcn", "fcn", "spatial_pieces"]
    if use_blocks and nd >= 1:
        opts += ["blocks", "blocks"]
    k = rnd.choice(opts)
    items = []
    if k == "gate":
        it = {"gate": g.gate_body(shape)}
        if rnd.random() < 0.2:
            it["from"] = rnd.choice(sorted(n for n, s in g.names.items() if s == shape) or ["input"])
        return [it]
    if k in ("mul", "mul3"):
        src = fork_source(spec, items, newname)
        cands = ["same", "same"]
        if nd >= 1:
            cands += ["chan", "chan", "spatial", "pool1"]
        else:
            cands += ["lin"]
        froms = [src]
        for _ in range(1 if k == "mul" else 2):
            b = newname()
            kind = rnd.choice(cands)
            conv = g.tname("conv", nd)
            if kind == "same":
                body = [g.preserving(shape)]
            elif kind == "chan":  # C x 1 x 1
                body = [{g.tname("adaptiveavgpool", nd): 1}] + (
                    [{conv: {"out": C, "kernel": 1}}] if rnd.random() < 0.5 else []) + [g.gate_act()]
            elif kind == "spatial":  # 1 x H x W
                body = [{conv: {"out": 1, "kernel": rnd.choice([1, 3]), "padding": "same"}}, g.gate_act()]
            elif kind == "pool1":  # 1 x 1 x 1
                body = [{g.tname("adaptivemaxpool", nd): 1}, {conv: {"out": 1, "kernel": 1}}]
            else:
                body = [{"linear": C}, g.gate_act()]
            items += branch(body, src, b)
            froms.append(b)
        if rnd.random() < 0.25:
            rnd.shuffle(froms)  # the first input must keep its shape: often rejected, then redrawn
        items.append({"mul": None, "from": Flow(froms)})
        return items
    if k == "plain":
        return [g.modern_plain(shape)]
    if k == "acts":
        return [g.modern_act(shape) for _ in range(rnd.randint(1, 3))]
    if k == "pieces":
        # split the current output into named pieces along an axis and merge them again
        src = fork_source(spec, items, newname)
        ax, _ = g.piece_axis(shape)
        n = shape[ax - 1]
        if n < 2:
            return [g.modern_plain(shape)]
        dim = g.dimarg(ax, R)
        if rnd.random() < 0.5:
            secs = g.sections(n, rnd.randint(2, min(n, 4)))
            pieces = [{"split": {"sections": Flow(secs), "index": i, "dim": dim}} for i in range(len(secs)) if secs[i]]
        else:
            chunks = rnd.randint(2, min(n, 4))
            size = -(-n // chunks)
            pieces = [{"chunk": {"chunks": chunks, "index": i, "dim": dim}} for i in range(-(-n // size))]
        names = []
        for p in pieces:
            nm = newname()
            body = [p] + ([g.modern_preserving(shape)] if rnd.random() < 0.2 else [])
            items += branch(body, src, nm)
            names.append(nm)
        m = rnd.random()
        if m < 0.6 or len(names) < 2:
            if rnd.random() < 0.2:
                rnd.shuffle(names)
            if len(names) < 2:
                names.append(src)
            items.append({"concat": {"dim": dim} if (ax != 1 or rnd.random() < 0.3) else None, "from": Flow(names)})
        else:
            items.append({rnd.choice(["add", "mul"]): None, "from": Flow(names[:2])})  # equal pieces only
        return items
    if k == "spatial_pieces":
        # a piece of a spatial axis, brought back to the full size by upsample size_of
        src = fork_source(spec, items, newname)
        ax = rnd.randint(2, R - 1)
        p = g.m_chunk(shape, ax) if rnd.random() < 0.5 else g.m_split(shape, ax)
        up = newname()
        items += branch([p, g.m_upsample_like(shape, src)], src, up)
        items.append({rnd.choice(["add", "mul", "concat"]): None, "from": Flow([src, up])})
        return items
    if k == "shufflenet":
        if C % 2:
            return [g.m_shuffle(shape)]
        h = C // 2
        conv = "conv%dd" % nd
        right = [{"chunk": {"chunks": 2, "index": 1}}, {conv: {"out": h, "kernel": 1, "bias": False}},
                 "batchnorm%dd" % nd, "relu", {conv: {"out": h, "kernel": 3, "padding": 1, "groups": h, "bias": False}},
                 "batchnorm%dd" % nd, {conv: {"out": h, "kernel": 1, "bias": False}}, "relu"]
        left = [{"split": {"sections": Flow([h, h]), "index": 0}}] if rnd.random() < 0.3 else \
            [{"chunk": {"chunks": 2, "index": 0}}]
        return [{"concat": [left, right]}, {g.mname("channelshuffle"): 2}]
    if k == "channels_last":
        out = C if rnd.random() < 0.7 else rnd.randint(1, 8)
        return g.channels_last(shape, out=out)
    if k == "cnblock":
        return [g.cnblock(shape)]
    if k == "fcn":
        # down, then upsample to the size of the fork point, merged with it (FCN / U-Net)
        src = fork_source(spec, items, newname)
        up = newname()
        conv = g.tname("conv", nd)
        down = rnd.choice([
            [{g.tname("maxpool", nd): 2}],
            [{conv: {"out": C, "kernel": 3, "stride": 2, "padding": 1}}, "relu"],
            [{conv: {"out": rnd.randint(1, 6), "kernel": 3, "stride": rnd.choice([2, 3])}}],
            [{g.tname("avgpool", nd): {"kernel": 2, "ceil_mode": True}}, {conv: {"out": 1, "kernel": 1}}]])
        items += branch(down + [g.m_upsample_like(shape, src)], src, up)
        m = rnd.choice(["concat", "add", "mul"])
        items.append({m: None, "from": Flow([src, up])})
        return items
    if k == "blocks":
        bn = rnd.choice(["se", "shuf", "cnx", "uphead"])
        if bn == "uphead":
            args = {"c": rnd.randint(1, 6), "s": rnd.choice([1, 2, 3])}
        elif bn == "se":
            args = {"c": C, "s": rnd.randint(1, max(1, C // 2))}
        elif bn == "shuf":
            if C % 2:
                return [g.m_shuffle(shape)]
            h = C // 2
            args = {"half": h, "g": rnd.choice([d for d in range(1, C + 1) if C % d == 0])}
        else:
            args = {"c": C, "h": rnd.choice([2, 4]) * C, "ls": rnd.choice([1e-6, 0.5])}
        args = {k2: v for k2, v in args.items() if rnd.random() < 0.85}
        return [{bn: args or None}]
    return [g.modern_plain(shape)]


def grow(rnd, idx, modern=False):
    g = Gen(rnd, modern)
    nd = rnd.choice([1, 2, 2, 3])
    if nd == 1:
        inp = [rnd.randint(1, 6), rnd.randint(6, 40)]
    elif nd == 2:
        inp = [rnd.randint(1, 6), rnd.randint(5, 24), rnd.randint(5, 24)]
    else:
        inp = [rnd.randint(1, 4), rnd.randint(3, 10), rnd.randint(3, 10), rnd.randint(3, 10)]
    if rnd.random() < 0.07:
        inp = [rnd.randint(2, 12)]  # [C] input: linear / batchnorm1d / layernorm nets
    spec = {"name": "random-%03d" % idx, "input": Flow(inp)}
    batch = rnd.choice([1, 1, 1, 2, 3])
    if batch != 1:
        spec["batch"] = batch
    use_blocks = rnd.random() < 0.25 and len(inp) >= 2
    if use_blocks:
        snd = len(inp) - 1
        bl = {}
        for name, args, f in BLOCK_TEMPLATES:
            bl[name] = {"args": dict(args), "layers": f(snd)}
        if modern:
            for name, args, f in MODERN_BLOCK_TEMPLATES:
                bl[name] = {"args": dict(args), "layers": f(snd)}
        spec["blocks"] = bl
    spec["layers"] = []
    names = {"input": list(inp)}
    nlay = rnd.randint(3, 12)
    fails = []
    tries = 0
    counter = [0]

    def newname():
        counter[0] += 1
        return "n%d" % counter[0]

    cur_shape = list(inp)
    while len(spec["layers"]) < nlay and tries < 120:
        tries += 1
        shape = cur_shape
        snd = len(shape) - 1
        g.names = names
        c = rnd.random()
        items = None
        if modern and rnd.random() < 0.4:
            items = modern_items(rnd, g, spec, shape, newname, use_blocks)
        elif c < 0.55:
            items = [g.plain(shape)]
        elif c < 0.63 and snd >= 1:
            body = [g.preserving(shape) for _ in range(rnd.randint(1, 3))]
            it = {"residual": body}
            if rnd.random() < 0.5:
                co = rnd.randint(1, 8)
                st = rnd.choice([1, 2])
                it["residual"] = [{"conv%dd" % snd: {"out": co, "kernel": 3, "stride": st, "padding": 1}}] + \
                    [g.preserving([co] + shape[1:]) for _ in range(rnd.randint(0, 2))]
                it["shortcut"] = [{"conv%dd" % snd: {"out": co, "kernel": 1, "stride": st}}]
                if rnd.random() < 0.3:
                    it["shortcut"].append(rnd.choice(["batchnorm%dd" % snd, "identity"]))
            elif rnd.random() < 0.3:
                it["shortcut"] = [] if rnd.random() < 0.5 else ["identity"]
            items = [it]
        elif c < 0.70 and snd >= 1:
            brs = []
            for _ in range(rnd.randint(1, 4)):
                k = rnd.random()
                if k < 0.2:
                    brs.append([])
                elif k < 0.6:
                    kk = rnd.choice([1, 3, 5])
                    brs.append([{"conv%dd" % snd: {"out": rnd.randint(1, 5), "kernel": kk, "padding": "same"}}] +
                               ([g.preserving(shape)] if rnd.random() < 0.3 else []))
                elif k < 0.8:
                    brs.append([{"maxpool%dd" % snd: {"kernel": 3, "stride": 1, "padding": 1}}])
                else:
                    brs.append([g.preserving(shape), g.preserving(shape)])
            items = [{"concat": brs}]
        elif c < 0.80:
            # fork and merge by name
            a, b = newname(), newname()
            pres = g.preserving(shape)
            if isinstance(pres, str):
                pres = {pres: None}
            pres = dict(pres)
            items = []
            if spec["layers"] and "name" not in spec["layers"][-1]:
                # name the previous output
                last = copy.deepcopy(spec["layers"][-1])
                if isinstance(last, str):
                    last = {last: None}
                last["name"] = a
                items.append(("replace_last", last))
                src = a
            else:
                src = spec["layers"][-1]["name"] if spec["layers"] else "input"
            pres["name"] = b
            pres["from"] = src
            items.append(pres)
            if rnd.random() < 0.3:
                p2 = g.preserving(shape)
                if isinstance(p2, str):
                    p2 = {p2: None}
                p2 = dict(p2)
                cname = newname()
                p2["name"] = cname
                p2["from"] = src
                items.append(p2)
                merge_from = Flow([src, b, cname])
            else:
                merge_from = Flow([src, b] if rnd.random() < 0.7 else [b, src])
            R = len(shape) + 1
            if rnd.random() < 0.5:
                items.append({"add": None, "from": merge_from})
            else:
                d = rnd.choice([None] + [x for x in range(-R, R) if x % R != 0])
                items.append({"concat": None if d is None else {"dim": d}, "from": merge_from})
        elif c < 0.84 and len(spec["layers"]) > 0:
            # from: input (restart on the network input) or from an earlier name
            avail = ["input"] + [it["name"] for it in spec["layers"] if isinstance(it, dict) and "name" in it]
            src = rnd.choice(avail)
            sh = names.get(src)
            if sh is None:
                continue
            it = g.plain(sh)
            if isinstance(it, str):
                it = {it: None}
            it = dict(it)
            it["from"] = src
            items = [it]
        elif c < 0.90:
            body = [g.plain(shape)]
            items = [{"repeat": rnd.randint(0, 3), "layers": body + ([g.preserving(shape)] if rnd.random() < 0.5
                                                                     else [])}]
        elif use_blocks and snd >= 1:
            bn = rnd.choice(["cbr", "resblk", "down", "incept"])
            if bn == "cbr":
                args = {k: v for k, v in {"out": rnd.randint(1, 8), "k": rnd.choice([1, 3]),
                                          "s": rnd.choice([1, 2])}.items() if rnd.random() < 0.7}
            elif bn == "resblk":
                args = {k: v for k, v in {"c": shape[0], "n": rnd.randint(0, 3)}.items() if k == "c" or rnd.random() < 0.7}
            elif bn == "down":
                args = {k: v for k, v in {"c": rnd.randint(1, 8), "s": rnd.choice([1, 2, 3])}.items() if rnd.random() < 0.7}
            else:
                args = {k: v for k, v in {"a": rnd.randint(1, 4), "b": rnd.randint(1, 4)}.items() if rnd.random() < 0.7}
            items = [bn if not args and rnd.random() < 0.5 else {bn: args or None}]
        else:
            items = [g.plain(shape)]
        cand = copy.deepcopy(spec)
        replaced = None
        for it in items:
            if isinstance(it, tuple):
                replaced = it[1]
                cand["layers"][-1] = it[1]
            else:
                if rnd.random() < 0.08 and isinstance(it, dict) and "name" not in it and not any(
                        k in it for k in ("add",)) and not (isinstance(it.get("concat"), (dict, type(None))) and "concat" in it):
                    it["expect"] = None  # filled below
                cand["layers"].append(it)
        probe = cand
        if modern:
            # the expect markers (None) are filled below; in the default mode
            # spec2torch sees them and rejects the candidate, so that no
            # r-spec has an item-level expect (kept for the committed set)
            probe = copy.deepcopy(cand)
            for it in probe["layers"]:
                if isinstance(it, dict) and "expect" in it and it["expect"] is None:
                    del it["expect"]
        try:
            res, _, _ = torch_compile(probe)
        except spec2torch.SpecError as e:
            fails.append((cand, str(e)))
            continue
        except Exception as e:  # noqa
            fails.append((cand, "python: %r" % e))
            continue
        # fill expect markers with the real shape (some with a ~ wildcard)
        need_fix = any(isinstance(it, dict) and "expect" in it and it["expect"] is None for it in cand["layers"])
        if need_fix:
            for it in cand["layers"]:
                if isinstance(it, dict) and "expect" in it and it["expect"] is None:
                    del it["expect"]
            # only the last item can carry a new expect: its output is the total output
            last = cand["layers"][-1]
            if isinstance(last, dict):
                e = list(res["total"]["output"][1:])
                if rnd.random() < 0.4:
                    e[rnd.randrange(len(e))] = None
                last["expect"] = Flow(e)
            try:
                res, _, _ = torch_compile(cand)
            except spec2torch.SpecError as e:
                fails.append((cand, str(e)))
                continue
        spec = cand
        cur_shape = res["total"]["output"][1:]
        for it in items:
            it2 = it[1] if isinstance(it, tuple) else it
            if isinstance(it2, dict) and "name" in it2:
                pass
        # recompute name shapes: names map to rows is not tracked; cheap approach: compile prefixes
        names = {"input": list(inp)}
        for i, it in enumerate(spec["layers"]):
            if isinstance(it, dict) and "name" in it:
                sub = dict(spec, layers=spec["layers"][:i + 1])
                r2, _, _ = torch_compile(sub)
                names[it["name"]] = r2["total"]["output"][1:]
    if rnd.random() < 0.2:
        res, _, _ = torch_compile(spec)
        tot = res["total"]
        b = spec.get("batch", 1)
        spec["expect"] = {"output": Flow(tot["output"][1:]), "params": tot["params"], "buffers": tot["buffers"],
                          "macs": tot["macs"]}
        del b
    return spec, fails


# ---------------------------------------------------------------- deliberate errors

def bad_cases(rnd, n):
    """Specs with one item PyTorch (or the contract) rejects."""
    g = Gen(rnd)
    kinds = ["conv_big_kernel", "pool_pad", "conv_groups", "convt_outpad", "instnorm_1", "add_mismatch",
             "concat_mismatch", "layernorm_shape", "zeropad_empty", "bn_batch1", "groupnorm_div", "flatten0",
             "softmax_dim", "linear_in", "conv_rank", "bilinear_rank", "avgpool_pad", "concat_dim0",
             "adaptive_len", "upsample_both", "maxpool_dilated", "bn_numfeat", "reflect_big", "circular_big",
             "gn_batch1", "conv_out_groups", "convt_empty", "conv_in_channels", "unknown_name", "dup_name",
             "block_cycle", "block_bad_arg", "maxpool_pad_dilated_ok", "avgpool3d_small", "zeropad_overcrop",
             "zeropad_overcrop2"]
    out = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        nd = rnd.choice([1, 2, 3])
        C = rnd.randint(2, 4) * 2
        sp = [rnd.randint(4, 9) for _ in range(nd)]
        inp = [C] + sp
        pre = [{"conv%dd" % nd: {"out": C, "kernel": 3, "padding": 1}}]
        L = list(pre)
        spec = {"name": "bad-%s" % kind, "input": Flow(inp)}
        if kind == "conv_big_kernel":
            L.append({"conv%dd" % nd: {"out": 2, "kernel": max(sp) + 3}})
        elif kind == "pool_pad":
            L.append({"maxpool%dd" % nd: {"kernel": 3, "padding": 2}})
        elif kind == "maxpool_pad_dilated_ok":
            # padding 2 with kernel 3 dilation 2: PyTorch compares with kernel/2 -> rejected
            L.append({"maxpool%dd" % nd: {"kernel": 3, "padding": 2, "dilation": 2}})
        elif kind == "conv_groups":
            L.append({"conv%dd" % nd: {"out": 6, "kernel": 1, "groups": C + 1 if C % 3 else 5}})
            if C % (C + 1) == 0:
                pass
        elif kind == "convt_outpad":
            L.append({"convtranspose%dd" % nd: {"out": 2, "kernel": 3, "stride": 2, "output_padding": 2}})
        elif kind == "instnorm_1":
            L += [{"adaptiveavgpool%dd" % nd: 1}, "instancenorm%dd" % nd]
        elif kind == "add_mismatch":
            L += [{"conv%dd" % nd: {"out": C + 1, "kernel": 1}, "name": "a"}, {"add": None, "from": Flow(["a", "input"])}]
        elif kind == "concat_mismatch":
            L += [{"maxpool%dd" % nd: 2, "name": "a"}, {"concat": None, "from": Flow(["a", "input"])}]
        elif kind == "layernorm_shape":
            L.append({"layernorm": Flow([sp[-1] + 1])})
        elif kind == "zeropad_empty":
            L.append({"zeropad%dd" % nd: Flow([-sp[-1], 0] + [0] * (2 * nd - 2))})
        elif kind == "bn_batch1":
            L += ["flatten", {"batchnorm1d": {"track_running_stats": False}}]
        elif kind == "groupnorm_div":
            L.append({"groupnorm": C + 1})
        elif kind == "flatten0":
            L.append({"flatten": {"start_dim": 0}})
        elif kind == "softmax_dim":
            L.append({"softmax": {"dim": nd + 2}})
        elif kind == "linear_in":
            L.append({"linear": {"out": 3, "in_features": sp[-1] + 1}})
        elif kind == "conv_rank":
            L.append({"conv%dd" % (nd % 3 + 1): {"out": 2, "kernel": 1}})
        elif kind == "bilinear_rank":
            L.append({"upsample": {"scale": 2, "mode": "trilinear" if nd != 3 else "bilinear"}})
        elif kind == "avgpool_pad":
            L.append({"avgpool%dd" % nd: {"kernel": 2, "padding": 2}})
        elif kind == "concat_dim0":
            L += [{"identity": None, "name": "a"}, {"concat": {"dim": 0}, "from": Flow(["a", "input"])}]
        elif kind == "adaptive_len":
            L.append({"adaptiveavgpool%dd" % nd: Flow([2] * (nd + 1))})
        elif kind == "upsample_both":
            L.append({"upsample": {"scale": 2, "size": 4}})
        elif kind == "maxpool_dilated":
            L.append({"maxpool%dd" % nd: {"kernel": 3, "dilation": max(sp), "stride": 1}})
        elif kind == "bn_numfeat":
            L.append({"batchnorm%dd" % nd: {"num_features": C + 1}})
        elif kind == "reflect_big":
            L.append({"conv%dd" % nd: {"out": 2, "kernel": 3, "padding": min(sp), "padding_mode": "reflect"}})
        elif kind == "circular_big":
            L.append({"conv%dd" % nd: {"out": 2, "kernel": 1, "padding": min(sp) + 1, "padding_mode": "circular"}})
        elif kind == "gn_batch1":
            L += ["flatten", {"groupnorm": C * int(np.prod(sp))}]
        elif kind == "conv_out_groups":
            L.append({"conv%dd" % nd: {"out": 3, "kernel": 1, "groups": 2}})
        elif kind == "convt_empty":
            L.append({"convtranspose%dd" % nd: {"out": 2, "kernel": 1, "padding": max(sp)}})
        elif kind == "conv_in_channels":
            L.append({"conv%dd" % nd: {"out": 2, "kernel": 1, "in_channels": C + 1}})
        elif kind == "unknown_name":
            L.append({"relu": None, "from": "nope"})
        elif kind == "dup_name":
            L += [{"relu": None, "name": "a"}, {"relu": None, "name": "a"}]
        elif kind == "avgpool3d_small":
            # PyTorch's avg_pool3d wants every unpadded input axis >= kernel
            spec["input"] = Flow([C, 2, 5, 5])
            L = [{"avgpool3d": {"kernel": 3, "padding": 1}}]
        elif kind == "zeropad_overcrop":
            # F.pad crops first: an axis may not lose more than its size to negative pads
            spec["input"] = Flow([C, 2])
            L = [{"zeropad1d": Flow([-3, 3])}]
        elif kind == "zeropad_overcrop2":
            spec["input"] = Flow([C, 2])
            L = [{"zeropad1d": Flow([3, -4])}]
        elif kind == "block_cycle":
            spec["blocks"] = {"b1": {"layers": ["relu", "b2"]}, "b2": {"layers": ["b1"]}, "b3": {"layers": ["relu"]}}
            L.append("b3")
        elif kind == "block_bad_arg":
            spec["blocks"] = {"b1": {"args": {"c": 2}, "layers": [{"conv%dd" % nd: {"out": "$c", "kernel": 1}}]}}
            L.append({"b1": {"c": 3, "d": 1}})
        spec["layers"] = L
        try:
            torch_compile(spec)
        except spec2torch.SpecError as e:
            out.append((spec, str(e)))
            continue
        except Exception as e:  # noqa
            out.append((spec, "python: %r" % e))
            continue
        print("note: bad case %s was accepted by torch; skipped" % kind, file=sys.stderr)
    return out


MODERN_BAD = ["gate_channels", "gate_flat", "gate_not_list", "mul_mismatch", "mul_first_rank", "mul_one_name",
              "mul_args", "split_sum", "split_index", "split_size0", "split_both", "chunk_index", "chunk_batch",
              "chunk_zero", "permute_notperm", "permute_batch", "permute_len", "shuffle_div", "shuffle_rank2",
              "prelu_count", "layernorm2d_rank", "layernorm2d_numch", "celu_zero", "hardtanh_order", "stochdepth_p",
              "stochdepth_mode", "sizeof_rank", "sizeof_unknown", "sizeof_and_scale", "logsoftmax_dim"]


def modern_bad_cases(rnd, n):
    """--modern: specs misusing one of the new kinds or wirings, which PyTorch (or the contract) rejects."""
    out = []
    for i in range(n):
        kind = MODERN_BAD[i % len(MODERN_BAD)]
        nd = rnd.choice([1, 2, 3])
        if kind in ("layernorm2d_rank",):
            nd = rnd.choice([1, 3])
        if kind in ("layernorm2d_numch",):
            nd = 2
        C = rnd.randint(2, 4) * 2
        sp = [rnd.randint(4, 9) for _ in range(nd)]
        if kind == "gate_flat":
            sp[-1] = C + rnd.randint(1, 3)  # (N, C) against (..., W): C and W must differ
        spec = {"name": "bad-%s" % kind, "input": Flow([C] + sp)}
        cv = "conv%dd" % nd
        L = [{cv: {"out": C, "kernel": 3, "padding": 1}}]
        R = nd + 2
        if kind == "gate_channels":  # the body's C+1 channels do not broadcast against C
            L.append({"gate": [{"adaptiveavgpool%dd" % nd: 1}, {cv: {"out": C + 1, "kernel": 1}}, "sigmoid"]})
        elif kind == "gate_flat":  # an SE with flatten + linear gives (N, C): aligned with the last axes
            L.append({"gate": [{"adaptiveavgpool%dd" % nd: 1}, "flatten", {"linear": C}, "sigmoid"]})
        elif kind == "gate_not_list":
            L.append({"gate": "sigmoid"})
        elif kind == "mul_mismatch":
            L += [{cv: {"out": C + 1, "kernel": 1}, "name": "a"}, {"mul": None, "from": Flow(["a", "input"])}]
        elif kind == "mul_first_rank":  # the first input would be broadcast to a higher rank
            L += [{"adaptiveavgpool%dd" % nd: 1}, {"flatten": None, "name": "a"},
                  {"mul": None, "from": Flow(["a", "input"])}]
        elif kind == "mul_one_name":
            L += [{"relu": None, "name": "a"}, {"mul": None, "from": Flow(["a"])}]
        elif kind == "mul_args":
            L += [{"relu": None, "name": "a"}, {"mul": {"dim": 1}, "from": Flow(["a", "input"])}]
        elif kind == "split_sum":
            L.append({"split": {"sections": Flow([1, C]), "index": 0}})
        elif kind == "split_index":
            L.append({"split": {"size": 2, "index": C // 2}})
        elif kind == "split_size0":
            L.append({"split": {"size": 0, "index": 0}})
        elif kind == "split_both":
            L.append({"split": {"size": 2, "sections": Flow([C - 1, 1]), "index": 0}})
        elif kind == "chunk_index":  # 6 in 4 chunks is 3 pieces of 2: index 3 does not exist
            spec["input"] = Flow([6] + sp)
            L = [{"chunk": {"chunks": 4, "index": 3}}]
        elif kind == "chunk_batch":
            L.append({"chunk": {"chunks": 2, "index": 0, "dim": rnd.choice([0, -R])}})
        elif kind == "chunk_zero":
            L.append({"chunk": {"chunks": 0, "index": 0}})
        elif kind == "permute_notperm":
            L.append({"permute": Flow([0, 1] + [1] * nd)})
        elif kind == "permute_batch":
            L.append({"permute": Flow([1, 0] + list(range(2, R)))})
        elif kind == "permute_len":
            L.append({"permute": Flow(list(range(R - 1)))})
        elif kind == "shuffle_div":
            L.append({"channelshuffle": C - 1})
        elif kind == "shuffle_rank2":
            spec["input"] = Flow([C])
            L = [{"linear": C}, {"channelshuffle": 2}]
        elif kind == "prelu_count":
            L.append({"prelu": {"num_parameters": C + 1}})
        elif kind == "layernorm2d_rank":
            L.append("layernorm2d")
        elif kind == "layernorm2d_numch":
            L.append({"layernorm2d": {"num_channels": C + 1}})
        elif kind == "celu_zero":
            L.append({"celu": 0.0})
        elif kind == "hardtanh_order":
            v = rnd.choice([0.5, 1.0, -1.0])
            L.append({"hardtanh": {"min_val": v, "max_val": v - rnd.choice([0, 0.5])}})
        elif kind == "stochdepth_p":
            L.append({"stochasticdepth": 1.5})
        elif kind == "stochdepth_mode":
            L.append({"stochasticdepth": {"p": 0.1, "mode": "col"}})
        elif kind == "sizeof_rank":  # size_of an item of another rank
            L += [{"adaptiveavgpool%dd" % nd: 1}, {"flatten": None, "name": "f"}, {"relu": None, "from": "input"},
                  {"upsample": {"size_of": "f"}}]
        elif kind == "sizeof_unknown":  # size_of a name defined only later
            L += [{"upsample": {"size_of": "later"}}, {"relu": None, "name": "later"}]
        elif kind == "sizeof_and_scale":
            L.append({"upsample": {"size_of": "input", "scale": 2}})
        elif kind == "logsoftmax_dim":
            L.append({"logsoftmax": R})
        spec["layers"] = L
        try:
            torch_compile(spec)
        except spec2torch.SpecError as e:
            out.append((spec, str(e)))
            continue
        except Exception as e:  # noqa
            out.append((spec, "python: %r" % e))
            continue
        print("note: bad case %s was accepted by torch; skipped" % kind, file=sys.stderr)
    return out


# ---------------------------------------------------------------- exec data

def make_exec(spec, name, outdir, seed):
    s = canonicalise(yaml.safe_load(dump(spec)))
    res, net, _ = spec2torch.compile_spec(s)
    net.eval()
    gen_exec.randomise(net, seed)
    gg = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(res["input"], generator=gg)
    net64 = copy.deepcopy(net).double().eval()
    with torch.no_grad():
        y = net(x)
        y64 = net64(x.double())
    # skip ill-conditioned networks (e.g. a norm over one element amplifies
    # rounding noise): PyTorch's own float32 result must match float64 closely
    if float((y.double() - y64).abs().max()) > 5e-6 * max(float(y.abs().max()), 1e-3):
        return False
    sd = list(net.state_dict().items())
    base = os.path.join(outdir, name)
    with open(base + ".yaml", "w") as f:
        f.write(dump(spec))
    gen_exec.write_safetensors(base + ".safetensors", sd)
    gen_exec.write_safetensors(base + ".sorted.safetensors", sd, sort=True)
    np.save(base + ".input.npy", np.ascontiguousarray(x.numpy(), dtype=np.float32))
    # a permute can leave the output in Fortran order; .npy readers want C order
    np.save(base + ".output.npy", np.ascontiguousarray(y.numpy(), dtype=np.float32))
    return True


# kinds and wirings --modern is meant to cover, for the summary it prints
MODERN_KINDS = ["chunk", "split", "channelshuffle", "permute", "layernorm2d", "layerscale", "stochasticdepth", "prelu",
                "selu", "celu", "softplus", "logsoftmax", "hardtanh", "mish", "hardsigmoid", "mul"]


def constructs(spec, res):
    """The modern kinds (PyTorch's rows) and wirings/spellings (the YAML: the
    layers and the blocks they use) a spec uses."""
    used = {r["type"] for r in res["layers"]}
    found = set()
    if any(r["type"] == "upsample" and len(r["input"]) == 2 for r in res["layers"]):
        found.add("upsample size_of")
    blocks = spec.get("blocks") or {}
    walked = set()

    def spelling(k):
        if isinstance(k, str) and CANON_OF_CLASS.get(k) in MODERN_KINDS and k != CANON_OF_CLASS.get(k):
            found.add("spelling " + k)
        if k in blocks and k not in walked:
            walked.add(k)
            walk(blocks[k]["layers"])

    def walk(o):
        if isinstance(o, list):
            for v in o:
                walk(v)
        elif isinstance(o, dict):
            if o.get("repeat") == 0:
                return  # its layers never run
            for k, v in o.items():
                if k == "gate":
                    found.add("gate")
                if k == "mul" and isinstance(o.get("from"), list):
                    found.add("mul from:")
                if CANON_OF_CLASS.get(k, k) == "hardsigmoid" and isinstance(v, dict) and ("alpha" in v or "beta" in v):
                    found.add("hardsigmoid alpha/beta")
                spelling(k)
                walk(v)
        elif isinstance(o, str):
            spelling(o)
    walk(spec["layers"])
    return {k for k in MODERN_KINDS if k in used} | found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--modern", action="store_true",
                    help="also draw the modern kinds and wirings; write valid/mNNN, bad/fNNN, exec/yNNN "
                         "(defaults --n 100 --nbad 30 --nexec 20)")
    ap.add_argument("--n", type=int, default=None, help="valid specs (300; --modern 100)")
    ap.add_argument("--nbad", type=int, default=None, help="rejected specs (36; --modern 30)")
    ap.add_argument("--nexec", type=int, default=None, help="exec cases (60; --modern 20)")
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--exec-dir", default=None, help="where exec data goes (default: OUT/exec)")
    a = ap.parse_args()
    for k, d, dm in (("n", 300, 100), ("nbad", 36, 30), ("nexec", 60, 20)):
        if getattr(a, k) is None:
            setattr(a, k, dm if a.modern else d)
    pv, pb, px = ("m", "f", "y") if a.modern else ("r", "e", "x")
    torch.set_num_threads(1)
    rnd = random.Random(a.seed)
    vdir, bdir = os.path.join(a.out, "valid"), os.path.join(a.out, "bad")
    edir = a.exec_dir or os.path.join(a.out, "exec")
    for d in (vdir, bdir, edir):
        os.makedirs(d, exist_ok=True)
    kept = []
    cover = {}
    i = 0
    while len(kept) < a.n:
        i += 1
        spec, _ = grow(rnd, i, a.modern)
        if not spec["layers"]:
            continue
        name = pv + "%03d" % len(kept)
        spec["name"] = "random-" + name
        try:
            res, _, problems = torch_compile(spec)
        except spec2torch.SpecError as e:
            print("skip", name, e, file=sys.stderr)
            continue
        if problems:
            print("skip", name, problems, file=sys.stderr)
            continue
        text = dump(spec)
        with open(os.path.join(vdir, name + ".yaml"), "w") as f:
            f.write(text)
        with open(os.path.join(vdir, name + ".json"), "w") as f:
            f.write(spec2torch.dumps(res))
        if rnd.random() < 0.3:
            b2 = rnd.choice([2, 3, 5])
            try:
                res2, _, _ = torch_compile(spec, b2)
                with open(os.path.join(vdir, "%s.b%d.json" % (name, b2)), "w") as f:
                    f.write(spec2torch.dumps(res2))
            except spec2torch.SpecError as e:
                print("batch %d rejected for %s: %s" % (b2, name, e), file=sys.stderr)
        kept.append((name, spec))
        for c in constructs(spec, res):
            cover.setdefault(c, []).append(name)
    bad = (modern_bad_cases if a.modern else bad_cases)(rnd, a.nbad)
    for j, (spec, err) in enumerate(bad):
        name = pb + "%03d" % j
        with open(os.path.join(bdir, name + ".yaml"), "w") as f:
            f.write(dump(spec))
        with open(os.path.join(bdir, name + ".err"), "w") as f:
            f.write(err + "\n")
    # exec: the first NEXEC kept specs that are small and well-conditioned;
    # --modern first takes, in order, those that use a construct no earlier
    # exec case uses, then the first others
    ne = 0
    ecover = {}
    order = list(kept)
    if a.modern:
        seen, first = set(), []
        for name, spec in kept:
            res, _, _ = torch_compile(spec)
            if int(np.prod(res["input"])) <= 20000 and res["total"]["params"] <= 200000 and \
                    constructs(spec, res) - seen:
                seen |= constructs(spec, res)
                first.append((name, spec))
        order = first + [k for k in kept if k not in first]
    done = []
    for name, spec in order:
        if ne >= a.nexec:
            break
        res, _, _ = torch_compile(spec)
        numel = int(np.prod(res["input"]))
        if numel > 20000 or res["total"]["params"] > 200000:
            continue
        if make_exec(spec, px + name[1:], edir, (3000 if a.modern else 1000) + int(name[1:])):
            ne += 1
            done.append(px + name[1:])
            for c in constructs(spec, res):
                ecover.setdefault(c, []).append(px + name[1:])
        else:
            print("exec: %s skipped, ill-conditioned in float32" % name, file=sys.stderr)
    if a.modern:
        print("exec cases:", " ".join(sorted(done)))
    print("valid %d (from %d attempts), bad %d, exec %d" % (len(kept), i, len(bad), ne))
    if a.modern:
        print("specs using each modern kind / wiring (valid, exec):")
        for c in sorted(set(cover) | set(MODERN_KINDS), key=lambda c: (c.startswith("spelling"), c)):
            print("  %-24s %3d %3d" % (c, len(cover.get(c, [])), len(ecover.get(c, []))))


if __name__ == "__main__":
    main()
