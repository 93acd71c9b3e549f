#!/usr/bin/python3
"""Random cnncalc specs with PyTorch reference results.

    /usr/bin/python3 testdata/torch/random/gen_random.py [--seed S] [--n N] [--nbad M] [--nexec E] [--out DIR]

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
  exec/xNNN.*             (only with --nexec > 0 and --exec-dir) numerical cases:
                          spec, state_dict safetensors (state_dict order and
                          sorted), input.npy, output.npy
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
    def __init__(self, rnd):
        self.r = rnd

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


def grow(rnd, idx):
    g = Gen(rnd)
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
        c = rnd.random()
        items = None
        if c < 0.55:
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
        try:
            res, _, _ = torch_compile(cand)
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
    np.save(base + ".input.npy", x.numpy().astype(np.float32))
    np.save(base + ".output.npy", y.numpy().astype(np.float32))
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--nbad", type=int, default=36)
    ap.add_argument("--nexec", type=int, default=60)
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--exec-dir", default=None, help="where exec data goes (default: OUT/exec)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    rnd = random.Random(a.seed)
    vdir, bdir = os.path.join(a.out, "valid"), os.path.join(a.out, "bad")
    edir = a.exec_dir or os.path.join(a.out, "exec")
    for d in (vdir, bdir, edir):
        os.makedirs(d, exist_ok=True)
    kept = []
    i = 0
    while len(kept) < a.n:
        i += 1
        spec, _ = grow(rnd, i)
        if not spec["layers"]:
            continue
        name = "r%03d" % len(kept)
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
    for j, (spec, err) in enumerate(bad_cases(rnd, a.nbad)):
        name = "e%03d" % j
        with open(os.path.join(bdir, name + ".yaml"), "w") as f:
            f.write(dump(spec))
        with open(os.path.join(bdir, name + ".err"), "w") as f:
            f.write(err + "\n")
    # exec: the first NEXEC kept specs that are small and well-conditioned
    ne = 0
    for name, spec in kept:
        if ne >= a.nexec:
            break
        res, _, _ = torch_compile(spec)
        numel = int(np.prod(res["input"]))
        if numel > 20000 or res["total"]["params"] > 200000:
            continue
        if make_exec(spec, "x" + name[1:], edir, 1000 + int(name[1:])):
            ne += 1
        else:
            print("exec: %s skipped, ill-conditioned in float32" % name, file=sys.stderr)
    print("valid %d (from %d attempts), bad %d, exec %d" % (len(kept), i, len(os.listdir(bdir)) // 2, ne))


if __name__ == "__main__":
    main()
