#!/usr/bin/python3
"""End-to-end check of exec against PyTorch on torchvision models with
random batchnorm statistics (so that fusing a batchnorm into the conv before
it changes numbers), through the command line:

    /usr/bin/python3 testdata/torch/exec/tv_live_check.py CNNCALC NAME...

e.g. `go build -o /tmp/cnncalc ./cmd/cnncalc && /usr/bin/python3
testdata/torch/exec/tv_live_check.py /tmp/cnncalc resnet18 mobilenet_v2`.
For each torchvision builder NAME (random init, eval mode, running statistics
and affine terms drawn at random) it writes the state_dict as safetensors and
a 1x3x224x224 input to a temporary folder, runs `cnncalc exec NAME --weights
... --input ... --save-output ... --no-rf` with the zoo spec of that name, and
prints the largest difference from PyTorch's output against its largest
value. Needs torch and torchvision; nothing in CI runs it.
"""
import json, os, struct, subprocess, sys, tempfile
import numpy as np, torch, torchvision
torch.manual_seed(0)
def save_st(path, sd):
    header, blobs, off = {}, [], 0
    for k, v in sd.items():
        if k.endswith("num_batches_tracked"):
            continue
        a = v.detach().contiguous().numpy().astype("<f4")
        b = a.tobytes()
        header[k] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b); off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h))); f.write(h)
        for b in blobs: f.write(b)
cnncalc, nets = sys.argv[1], sys.argv[2:]
tmp = tempfile.mkdtemp(prefix="tvcheck")
for n in nets:
    m = getattr(torchvision.models, n)().eval()
    for mod in m.modules():
        if isinstance(mod, torch.nn.modules.batchnorm._BatchNorm):
            mod.running_mean.uniform_(-0.5, 0.5); mod.running_var.uniform_(0.5, 2.0)
            if mod.weight is not None:
                mod.weight.data.uniform_(0.5, 1.5); mod.bias.data.uniform_(-0.3, 0.3)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        y = m(x)
    if isinstance(y, tuple) or not torch.is_tensor(y):
        y = y[0] if isinstance(y, tuple) else y.logits
    save_st(f"{tmp}/{n}.safetensors", m.state_dict())
    np.save(f"{tmp}/{n}.x.npy", x.numpy())
    r = subprocess.run([cnncalc, "exec", n, "--weights", f"{tmp}/{n}.safetensors", "--input", f"{tmp}/{n}.x.npy", "--save-output", f"{tmp}/{n}.y.npy", "--no-rf"], capture_output=True, text=True)
    if r.returncode != 0:
        print(n, "exit", r.returncode, r.stderr.strip()[:300]); continue
    g = np.load(f"{tmp}/{n}.y.npy").reshape(-1)
    w = y.numpy().reshape(-1)
    d = np.abs(g - w).max(); s = np.abs(w).max()
    fw = [l for l in r.stdout.splitlines() if l.startswith("forward pass")]
    print(f"{n}: max |diff| {d:.3g} of max |y| {s:.3g} (rel {d/s:.2g}); {fw[0] if fw else ''}")
