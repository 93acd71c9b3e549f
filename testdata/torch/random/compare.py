#!/usr/bin/python3
"""Compare cnncalc with the PyTorch references written by gen_random.py.

    /usr/bin/python3 testdata/torch/random/compare.py [--cnncalc /tmp/cnncalc] [--dir DIR] [--exec-dir EDIR]

valid/: `cnncalc shapes NAME.yaml --format json [--batch B]` row by row against
NAME.json / NAME.bB.json (type, input, output, params, buffers, macs; totals).
bad/:   `cnncalc shapes` must exit 2.
exec/:  `cnncalc exec NAME.yaml --weights W --input NAME.input.npy --save-output`
        for both safetensors files; output within 1e-4 of max |output|.
Prints every disagreement; exit 1 if any.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = ("type", "input", "output", "params", "buffers", "macs")


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def cmp_json(want, got):
    probs = []
    wl, gl = want["layers"], got["layers"]
    if len(wl) != len(gl):
        probs.append("row count torch %d cnncalc %d" % (len(wl), len(gl)))
    for i, (w, g) in enumerate(zip(wl, gl)):
        for k in KEYS:
            if w[k] != g.get(k):
                probs.append("row %d (%s %s) %s: torch %s cnncalc %s" % (i, w["type"], g.get("name"), k, w[k], g.get(k)))
    if want["input"] != got["input"]:
        probs.append("input: torch %s cnncalc %s" % (want["input"], got["input"]))
    for k in ("params", "buffers", "macs", "output"):
        if want["total"][k] != got["total"].get(k):
            probs.append("total %s: torch %s cnncalc %s" % (k, want["total"][k], got["total"].get(k)))
    return probs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cnncalc", default="/tmp/cnncalc")
    ap.add_argument("--dir", default=HERE)
    ap.add_argument("--exec-dir", default=None)
    a = ap.parse_args()
    nbad = 0
    counts = {"valid": 0, "batch": 0, "bad": 0, "exec": 0}
    for js in sorted(glob.glob(os.path.join(a.dir, "valid", "*.json"))):
        base = os.path.basename(js)[:-5]
        parts = base.split(".")
        yml = os.path.join(a.dir, "valid", parts[0] + ".yaml")
        cmd = [a.cnncalc, "shapes", yml, "--format", "json"]
        if len(parts) > 1:
            cmd += ["--batch", parts[1][1:]]
            counts["batch"] += 1
        else:
            counts["valid"] += 1
        rc, out, err = run(cmd)
        want = json.load(open(js))
        if rc != 0:
            print("FAIL %s: cnncalc exit %d: %s" % (base, rc, err.strip()[:400]))
            nbad += 1
            continue
        probs = cmp_json(want, json.loads(out))
        if probs:
            nbad += 1
            print("FAIL %s:\n  %s" % (base, "\n  ".join(probs[:8])))
    for yml in sorted(glob.glob(os.path.join(a.dir, "bad", "*.yaml"))):
        counts["bad"] += 1
        rc, out, err = run([a.cnncalc, "shapes", yml, "--format", "json"])
        if rc != 2:
            nbad += 1
            terr = open(yml[:-5] + ".err").read().strip()
            print("FAIL %s: cnncalc exit %d (want 2); torch: %s; cnncalc stderr: %s" % (
                os.path.basename(yml), rc, terr, err.strip()[:300]))
    edir = a.exec_dir or os.path.join(a.dir, "exec")
    tmp = tempfile.mkdtemp()
    for yml in sorted(glob.glob(os.path.join(edir, "*.yaml"))):
        base = yml[:-5]
        name = os.path.basename(base)
        y = np.load(base + ".output.npy").astype(np.float64)
        for w in (base + ".safetensors", base + ".sorted.safetensors"):
            counts["exec"] += 1
            outp = os.path.join(tmp, name + ".npy")
            if os.path.exists(outp):
                os.remove(outp)
            rc, out, err = run([a.cnncalc, "exec", yml, "--weights", w, "--input", base + ".input.npy",
                                "--save-output", outp])
            tag = "%s (%s)" % (name, os.path.basename(w))
            if not os.path.exists(outp):
                nbad += 1
                print("FAIL exec %s: exit %d, no output; stderr: %s\n%s" % (tag, rc, err.strip()[:500], out[-1500:]))
                continue
            g = np.load(outp).astype(np.float64)
            if g.shape != y.shape:
                nbad += 1
                print("FAIL exec %s: shape %s torch %s (exit %d)" % (tag, g.shape, y.shape, rc))
                continue
            diff = float(np.abs(g - y).max()) if y.size else 0.0
            scale = max(float(np.abs(y).max()), 1e-6)
            if diff > 1e-4 * scale or not np.isfinite(g).all():
                nbad += 1
                print("FAIL exec %s: max|diff| %.3g, max|y| %.3g (exit %d)" % (tag, diff, scale, rc))
            elif rc != 0:
                nbad += 1
                print("FAIL exec %s: output ok but exit %d; stderr: %s\n%s" % (tag, rc, err.strip()[:500], out[-3000:]))
    print("checked: %(valid)d specs, %(batch)d extra-batch refs, %(bad)d rejected specs, %(exec)d exec runs" % counts)
    print("disagreements: %d" % nbad)
    return 1 if nbad else 0


if __name__ == "__main__":
    sys.exit(main())
