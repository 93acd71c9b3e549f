import sys, json, random, subprocess, yaml
sys.path.insert(0, "/work/main/testdata/torch")
import spec2torch
rnd = random.Random(5)
bad = 0; n = 0
def check(spec):
    global bad, n
    try:
        res, _, _ = spec2torch.compile_spec(spec)
        want = "ok"
    except spec2torch.SpecError as e:
        want = "err"; res = None; errmsg = str(e)
    open("s.yaml", "w").write(yaml.safe_dump(spec))
    p = subprocess.run(["/tmp/cnncalc", "shapes", "s.yaml", "--format", "json"], capture_output=True, text=True)
    n += 1
    if want == "err":
        if p.returncode != 2:
            bad += 1; print("cnncalc accepts", spec["input"], spec["layers"], "rc", p.returncode, "| torch:", errmsg[:160])
        return
    if p.returncode != 0:
        bad += 1; print("cnncalc rejects", spec["layers"], p.stderr.strip()[:200]); return
    g = json.loads(p.stdout)
    if g["total"]["output"] != res["total"]["output"]:
        bad += 1; print("DIFF", spec, g["total"]["output"], res["total"]["output"])
for _ in range(400):
    nd = rnd.choice([1, 2, 3])
    sp = [rnd.randint(1, 13) for _ in range(nd)]
    fam = rnd.choice(["maxpool", "avgpool"])
    k = rnd.randint(1, 5); s = rnd.randint(1, 4); pd = rnd.randint(0, 3)
    a = {"kernel": k, "stride": s, "padding": pd, "ceil_mode": rnd.random() < 0.7}
    if fam == "maxpool": a["dilation"] = rnd.randint(1, 3)
    else: a["count_include_pad"] = rnd.random() < 0.5
    check({"input": [2] + sp, "layers": [{"%s%dd" % (fam, nd): a}]})
for _ in range(300):
    nd = rnd.choice([1, 2, 3])
    sp = [rnd.randint(1, 120) for _ in range(nd)]
    sc = rnd.choice([0.29, 0.3, 0.1, 1.1, 0.7, 1.7, 2.3, 0.33, 0.49, 0.51, 1.01, 0.9, 3.3, 0.15, 0.45, 0.55])
    mode = rnd.choice(["nearest", {1: "linear", 2: "bilinear", 3: "trilinear"}[nd]])
    check({"input": [1] + sp, "layers": [{"upsample": {"scale": sc, "mode": mode}}]})
for _ in range(300):
    nd = rnd.choice([1, 2, 3])
    sp = [rnd.randint(1, 12) for _ in range(nd)]
    a = {"out": 2, "kernel": rnd.randint(1, 5), "stride": rnd.randint(1, 4), "padding": rnd.choice(["same", "valid", rnd.randint(0, 3)]), "dilation": rnd.randint(1, 3), "padding_mode": rnd.choice(["zeros", "reflect", "replicate", "circular"])}
    check({"input": [2] + sp, "layers": [{"conv%dd" % nd: a}]})
for _ in range(300):
    nd = rnd.choice([1, 2, 3])
    sp = [rnd.randint(1, 8) for _ in range(nd)]
    a = {"out": 2, "kernel": rnd.randint(1, 5), "stride": rnd.randint(1, 4), "padding": rnd.randint(0, 3), "dilation": rnd.randint(1, 3), "output_padding": rnd.randint(0, 3)}
    check({"input": [2] + sp, "layers": [{"convtranspose%dd" % nd: a}]})
for _ in range(200):
    nd = rnd.choice([1, 2, 3])
    sp = [rnd.randint(1, 6) for _ in range(nd)]
    check({"input": [2] + sp, "layers": [{"zeropad%dd" % nd: [rnd.randint(-4, 3) for _ in range(2 * nd)]}]})
for _ in range(200):
    r = rnd.randint(1, 4)
    shp = [rnd.randint(1, 4) for _ in range(r)]
    L = rnd.choice([{"flatten": {"start_dim": rnd.randint(-r - 2, r + 1), "end_dim": rnd.randint(-r - 2, r + 1)}},
                    {"softmax": {"dim": rnd.randint(-r - 2, r + 1)}},
                    {"batchnorm1d": {"track_running_stats": rnd.random() < 0.5}},
                    {"groupnorm": rnd.randint(1, 4)}, {"instancenorm1d": None},
                    {"layernorm": [rnd.randint(1, 4) for _ in range(rnd.randint(1, 2))]}])
    check({"input": shp, "batch": rnd.randint(1, 2), "layers": [L]})
print("cases", n, "disagreements", bad)
