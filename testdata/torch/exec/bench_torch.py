#!/usr/bin/python3
"""PyTorch's CPU forward time for torchvision resnet18, resnet50, vgg16 and
mobilenet_v2, at batch B and at batch 8.

    /usr/bin/python3 testdata/torch/exec/bench_torch.py [--runs N] [--threads T] [--batch B]

Input 1x3x224x224 (batch B), torch.set_num_threads(T) (default 2), eval mode,
torch.no_grad(), random weights (no download), warm-up runs, then the median
wall time of N forward passes. Prints one JSON line (NAME_bK_s: at batch K):

    {"resnet18_s": 0.031, "resnet50_s": 0.083, ..., "resnet18_b8_s": 0.3, ..., "torch": "1.13.0", "threads": 2, "runs": 10, "batch": 1}

Exit 2 if torch or torchvision cannot be imported (the Go benchmark skips then).
"""
import argparse
import json
import statistics
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=1)
    a = ap.parse_args()
    try:
        import torch
        import torchvision
    except ImportError as e:
        print("bench_torch: %s" % e, file=sys.stderr)
        return 2
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    out = {}
    nets = ("resnet18", "resnet50", "vgg16", "mobilenet_v2")
    cases = [(n, a.batch, n + "_s") for n in nets]
    cases += [(n, 8, n + "_b8_s") for n in nets]
    for name, batch, key in cases:
        x = torch.randn(batch, 3, 224, 224)
        model = getattr(torchvision.models, name)()  # random init, no weights download
        model.eval()
        times = []
        with torch.no_grad():
            for _ in range(a.warmup):
                model(x)
            for _ in range(a.runs):
                t0 = time.perf_counter()
                model(x)
                times.append(time.perf_counter() - t0)
        out[key] = round(statistics.median(times), 6)
    out.update({"torch": torch.__version__, "threads": a.threads, "runs": a.runs, "batch": a.batch})
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
