"""The contract's closed-form shape rules (spec-format.md), independent of torch.
Used only to cross-check the torch-measured reference data."""
import math

from torchcase import split, rank_of, tup


def pool_out(n, k, s, p, d, ceil):
    num = n + 2 * p - d * (k - 1) - 1
    o = (-(-num // s) if ceil else num // s) + 1
    if ceil and (o - 1) * s >= n + p:
        o -= 1
    return o


def shape(layer, x):
    """x includes the batch axis; returns the output shape."""
    typ, a = split(layer)
    r = rank_of(typ)
    N, C, sp = x[0], x[1] if len(x) > 1 else None, x[2:]
    if typ.startswith("convtranspose"):
        k, s, p = tup(a["kernel"], r), tup(a.get("stride", 1), r), tup(a.get("padding", 0), r)
        op, d = tup(a.get("output_padding", 0), r), tup(a.get("dilation", 1), r)
        return [N, a["out"]] + [(n - 1) * s_ - 2 * p_ + d_ * (k_ - 1) + o_ + 1
                                for n, k_, s_, p_, d_, o_ in zip(sp, k, s, p, d, op)]
    if typ.startswith("conv"):
        k, s, d = tup(a["kernel"], r), tup(a.get("stride", 1), r), tup(a.get("dilation", 1), r)
        pad = a.get("padding", 0)
        out = []
        for i, n in enumerate(sp):
            if pad == "same":
                if s[i] == 1:
                    out.append(n)
                else:
                    out.append(math.ceil(n / s[i]))
                continue
            p = 0 if pad == "valid" else tup(pad, r)[i]
            out.append((n + 2 * p - d[i] * (k[i] - 1) - 1) // s[i] + 1)
        return [N, a["out"]] + out
    if typ.startswith("maxpool") or typ.startswith("avgpool"):
        k = tup(a["kernel"], r)
        s = tup(a.get("stride", a["kernel"]), r)
        p = tup(a.get("padding", 0), r)
        d = tup(a.get("dilation", 1), r) if typ.startswith("max") else (1,) * r
        return [N, C] + [pool_out(n, *z, a.get("ceil_mode", False)) for n, *z in zip(sp, k, s, p, d)]
    if typ.startswith("adaptive"):
        o = tup(a["output"], r)
        return [N, C] + [n if v is None else v for n, v in zip(sp, o)]
    if typ in ("linear", "fc", "dense"):
        return x[:-1] + [a["out"]]
    if typ == "flatten":
        nd = len(x)
        sd, ed = a.get("start_dim", 1) % nd, a.get("end_dim", -1) % nd
        return x[:sd] + [math.prod(x[sd:ed + 1])] + x[ed + 1:]
    if typ.startswith("zeropad"):
        p = a["padding"]
        p = [p] * (2 * r) if isinstance(p, int) else p
        out = list(x)
        for i in range(r):
            ax = len(x) - 1 - i
            out[ax] += p[2 * i] + p[2 * i + 1]
        return out
    if typ == "upsample":
        if "size" in a:
            return [N, C] + list(tup(a["size"], len(sp)))
        sc = tup(a["scale"], len(sp))
        return [N, C] + [math.floor(n * float(f)) for n, f in zip(sp, sc)]
    return list(x)


def params_buffers(layer, x):
    typ, a = split(layer)
    r = rank_of(typ)
    C = x[1] if len(x) > 1 else None
    if typ.startswith("conv"):
        k = math.prod(tup(a["kernel"], r))
        g = a.get("groups", 1)
        if typ.startswith("convtranspose"):
            w = C * (a["out"] // g) * k
        else:
            w = a["out"] * (C // g) * k
        return w + (a["out"] if a.get("bias", True) else 0), 0
    if typ in ("linear", "fc", "dense"):
        return x[-1] * a["out"] + (a["out"] if a.get("bias", True) else 0), 0
    if typ.startswith("batchnorm"):
        return (2 * C if a.get("affine", True) else 0), (2 * C if a.get("track_running_stats", True) else 0)
    if typ.startswith("instancenorm"):
        return (2 * C if a.get("affine", False) else 0), (2 * C if a.get("track_running_stats", False) else 0)
    if typ == "groupnorm":
        return (2 * C if a.get("affine", True) else 0), 0
    if typ == "layernorm":
        sh = a.get("shape", x[1:])
        n = sh if isinstance(sh, int) else math.prod(sh)
        return (2 * n if a.get("elementwise_affine", True) else 0), 0
    return 0, 0
