#!/usr/bin/python3
"""Generate end-to-end numerical reference cases for cnncalc's exec package.

Run from the repository root with Debian's python3-torch and python3-yaml:

    /usr/bin/python3 testdata/torch/exec/gen_exec.py [NAME ...]

For every testdata/torch/exec/NAME.yaml (NAME != bad_checkpoint) it builds the
network with spec2torch.py (the independent PyTorch implementation of the spec
format), sets EVERY parameter and buffer to random values (fixed seed per
network), runs one eval-mode forward pass on a random float32 input and writes
beside the spec:

    NAME.safetensors         the state_dict, tensors (header and data) in
                             state_dict order
    NAME.sorted.safetensors  the same tensors, header keys and data sorted by
                             key name (as the HF safetensors library writes)
    NAME.input.npy           the input, float32, batch axis included
    NAME.output.npy          the output in eval mode, float32
    NAME.json                shapes, per-row info and the state_dict keys

and, from bad_checkpoint.yaml, a checkpoint whose second conv has the wrong
kernel size (bad_checkpoint.safetensors, .input.npy, .json).

Every safetensors file is read back (header parsed here, not by a library),
loaded into a freshly built model and must reproduce the output bit for bit.
"""
import json
import os
import struct
import sys
import warnings
import zlib

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import spec2torch  # noqa: E402

warnings.filterwarnings("ignore")

# ---------------------------------------------------------------- safetensors

DTYPES = {torch.float32: ("F32", "<f4"), torch.int64: ("I64", "<i8"), torch.float64: ("F64", "<f8")}
NP_DTYPES = {"F32": "<f4", "I64": "<i8", "F64": "<f8"}


def write_safetensors(path, tensors, sort=False):
    """tensors: list of (name, tensor). Written in the given order, or sorted by name."""
    items = sorted(tensors, key=lambda kv: kv[0]) if sort else list(tensors)
    header, blobs, off = {}, [], 0
    for name, t in items:
        code, npd = DTYPES[t.dtype]
        b = t.detach().cpu().contiguous().numpy().astype(npd).tobytes()
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    meta = {"format": "pt"}
    if sort:
        header["__metadata__"] = meta
        hj = json.dumps(header, sort_keys=True, separators=(",", ":"))
    else:
        hj = json.dumps(dict([("__metadata__", meta)] + list(header.items())), separators=(",", ":"))
    hb = hj.encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """Returns (list of (name, tensor) in header order, header dict). Checks the layout."""
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    assert n % 8 == 0, "header length not a multiple of 8"
    hdr_text = buf[8:8 + n].decode("utf-8")
    pairs = json.loads(hdr_text, object_pairs_hook=list)
    data = buf[8 + n:]
    out, end = [], 0
    for name, info in pairs:
        if name == "__metadata__":
            continue
        info = dict(info)
        s, e = info["data_offsets"]
        assert s == end, "%s: data not contiguous (%d != %d)" % (name, s, end)
        npd = NP_DTYPES[info["dtype"]]
        cnt = int(np.prod(info["shape"])) if info["shape"] else 1
        assert e - s == cnt * np.dtype(npd).itemsize, name
        arr = np.frombuffer(data[s:e], dtype=npd).reshape(info["shape"]).copy()
        out.append((name, torch.from_numpy(arr)))
        end = e
    assert end == len(data), "trailing bytes"
    return out, [k for k, _ in pairs]


# ---------------------------------------------------------------- randomisation

def randomise(net, seed):
    """Every parameter and buffer gets fresh random values, scaled to keep activations O(1)."""
    g = torch.Generator().manual_seed(seed)
    mods = dict(net.named_modules())
    with torch.no_grad():
        for name, t in net.state_dict(keep_vars=True).items():
            prefix, _, suffix = name.rpartition(".")
            m = mods[prefix]
            shape = t.shape
            if suffix == "num_batches_tracked":
                t.fill_(int(torch.randint(1, 1000, (1,), generator=g)))
            elif suffix == "running_mean":
                t.copy_(torch.randn(shape, generator=g) * 0.5)
            elif suffix == "running_var":
                t.copy_(torch.rand(shape, generator=g) * 1.5 + 0.5)
            elif suffix == "weight" and isinstance(m, (nn.modules.conv._ConvNd, nn.Linear)):
                fan = t[0].numel()
                if isinstance(m, nn.modules.conv._ConvTransposeNd):
                    fan = max(1, t[0].numel() * m.groups // int(np.prod(m.stride)))
                t.copy_(torch.randn(shape, generator=g) * (1.5 / fan) ** 0.5)
            elif suffix == "weight":  # norm scale
                t.copy_(torch.rand(shape, generator=g) + 0.5)
            elif suffix == "bias":
                t.copy_(torch.rand(shape, generator=g) - 0.5)
            else:
                raise RuntimeError("unexpected state_dict entry %s" % name)


# ---------------------------------------------------------------- helpers

def build(spec_path, batch=None):
    res, net, problems = spec2torch.compile_spec(spec2torch.load_spec(spec_path), batch)
    if problems:
        raise RuntimeError("%s: %s" % (spec_path, problems))
    net.eval()
    return res, net


def row_prefixes(net):
    """For each row (net.prog entry), the state_dict prefix of its module or None (merges)."""
    out = []
    for kind, arg, ins, o in net.prog:
        if kind != "layer":
            out.append(None)
            continue
        p = "mods.%d" % arg
        if isinstance(net.mods[arg], spec2torch.PadThen):
            p += ".conv"
        out.append(p)
    return out


def run_rows(net, x):
    """Replays the program, returning the output of every row."""
    vals, outs = {0: x}, []
    for kind, arg, ins, o in net.prog:
        if kind == "layer":
            vals[o] = net.mods[arg](*[vals[i] for i in ins])
        elif kind == "add":
            v = vals[ins[0]]
            for i in ins[1:]:
                v = v + vals[i]
            vals[o] = v
        elif kind == "mul":
            v = vals[ins[0]]
            for i in ins[1:]:
                v = v * vals[i]
            vals[o] = v
        else:
            vals[o] = torch.cat([vals[i] for i in ins], dim=arg)
        outs.append(vals[o])
    return outs


def seed_of(name):
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


INPUT_SCALE = {"act": 3.0}


def gen(name):
    spec_path = os.path.join(HERE, name + ".yaml")
    res, net = build(spec_path)
    randomise(net, seed_of(name))
    batch_in = res["input"]
    g = torch.Generator().manual_seed(seed_of(name) + 1)
    x = torch.randn(batch_in, generator=g) * INPUT_SCALE.get(name, 1.0)
    with torch.no_grad():
        y = net(x)
        rows = run_rows(net, x)
        assert torch.equal(rows[-1], y)
        net64 = build(spec_path)[1]
        net64.load_state_dict(net.state_dict())
        net64.double().eval()
        y64 = net64(x.double())
    sd = net.state_dict()
    tensors = list(sd.items())
    base = os.path.join(HERE, name)
    write_safetensors(base + ".safetensors", tensors)
    write_safetensors(base + ".sorted.safetensors", tensors, sort=True)
    np.save(base + ".input.npy", x.numpy().astype(np.float32))
    np.save(base + ".output.npy", y.numpy().astype(np.float32))

    prefixes = row_prefixes(net)
    layers = []
    for r, p, t in zip(res["layers"], prefixes, rows):
        keys = [k for k in sd if p is not None and k.rpartition(".")[0] == p]
        layers.append({"type": r["type"], "output": list(t.shape), "module": p if keys else None,
                       "keys": keys, "sum": float(t.double().sum()), "abssum": float(t.double().abs().sum())})
    info = {"name": res["name"], "input": list(x.shape), "output": list(y.shape),
            "torch": torch.__version__,
            "f32_vs_f64_maxabs": float((y.double() - y64).abs().max()),
            "output_absmax": float(y.abs().max()),
            "layers": layers,
            "keys": [{"name": k, "shape": list(v.shape), "dtype": DTYPES[v.dtype][0]} for k, v in tensors]}
    write_json(base + ".json", info)

    # verify: both files read back, reload into a fresh model, same output bit for bit
    for suffix, sort in ((".safetensors", False), (".sorted.safetensors", True)):
        back, order = read_safetensors(base + suffix)
        names = [k for k, _ in back]
        want = sorted(sd) if sort else list(sd)
        assert names == want, (suffix, names, want)
        if sort:
            assert order == sorted(order), order
        fresh = build(spec_path)[1]
        fresh.load_state_dict(dict(back), strict=True)
        with torch.no_grad():
            y2 = fresh(torch.from_numpy(np.load(base + ".input.npy")))
        assert torch.equal(y2, torch.from_numpy(np.load(base + ".output.npy"))), name + suffix
        for k, v in back:
            assert torch.equal(v, sd[k]), k
    return info


def gen_bad():
    """A spec with conv kernel 3 and a checkpoint whose second conv has kernel 5."""
    name = "bad_checkpoint"
    spec_path = os.path.join(HERE, name + ".yaml")
    spec = spec2torch.load_spec(spec_path)
    res, net = build(spec_path)
    bad = json.loads(json.dumps(spec))
    bad["layers"][2]["conv2d"]["kernel"] = 5
    bad["layers"][2]["conv2d"]["padding"] = 2
    _, bnet, _ = spec2torch.compile_spec(bad)
    randomise(bnet, seed_of(name))
    sd = bnet.state_dict()
    good = net.state_dict()
    base = os.path.join(HERE, name)
    write_safetensors(base + ".safetensors", list(sd.items()))
    g = torch.Generator().manual_seed(seed_of(name) + 1)
    x = torch.randn(res["input"], generator=g)
    np.save(base + ".input.npy", x.numpy().astype(np.float32))
    wrong = [k for k in sd if sd[k].shape != good[k].shape]
    assert wrong == ["mods.2.weight"], wrong
    info = {"name": res["name"], "input": list(x.shape), "output": res["total"]["output"],
            "error": {"key": "mods.2.weight", "checkpoint": list(sd["mods.2.weight"].shape),
                      "spec": list(good["mods.2.weight"].shape)},
            "keys": [{"name": k, "shape": list(v.shape), "dtype": DTYPES[v.dtype][0]} for k, v in sd.items()]}
    write_json(base + ".json", info)
    back, _ = read_safetensors(base + ".safetensors")
    try:
        net.load_state_dict(dict(back))
    except RuntimeError as e:
        assert "mods.2.weight" in str(e)
    else:
        raise AssertionError("bad checkpoint loaded")
    return info


def write_json(path, info):
    d = lambda v: json.dumps(v, separators=(", ", ": "))
    lines = ["{"]
    for i, (k, v) in enumerate(info.items()):
        end = "," if i < len(info) - 1 else ""
        if k in ("layers", "keys"):
            lines.append("  %s: [" % d(k))
            lines += ["    " + d(r) + ("," if j < len(v) - 1 else "") for j, r in enumerate(v)]
            lines.append("  ]" + end)
        else:
            lines.append("  %s: %s%s" % (d(k), d(v), end))
    lines.append("}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    torch.set_num_threads(1)
    names = sys.argv[1:] or sorted(f[:-5] for f in os.listdir(HERE) if f.endswith(".yaml"))
    for name in names:
        if name == "bad_checkpoint":
            info = gen_bad()
            print("%-16s input %s, error on %s" % (name, info["input"], info["error"]["key"]))
            continue
        info = gen(name)
        print("%-16s input %-18s output %-18s %3d rows %3d keys  |y|max %.3g  f32-f64 %.2g" % (
            name, info["input"], info["output"], len(info["layers"]), len(info["keys"]),
            info["output_absmax"], info["f32_vs_f64_maxabs"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
