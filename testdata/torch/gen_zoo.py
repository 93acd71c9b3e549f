#!/usr/bin/python3
"""gen_zoo: regenerate the PyTorch reference JSON for every spec under testdata.

    /usr/bin/python3 testdata/torch/gen_zoo.py [--update-expect] [NAME ...]

For each testdata/zoo/NAME.yaml and testdata/specs/NAME.yaml:
  1. build it with spec2torch (an independent PyTorch implementation of the format);
  2. for the torchvision networks, cross-check the spec-built model against the real
     torchvision model: total params and buffers equal, the sequence of
     (type, output shape) of the leaf conv/batchnorm/linear/pool modules seen by
     forward hooks equal, and -- after copying torchvision's weights and random
     running statistics into the spec model in hook order -- equal logits;
  3. check the spec's top-level `expect:` (output, params, buffers, macs at batch 1)
     against PyTorch, or rewrite it with --update-expect;
  4. write testdata/torch/zoo/NAME.json or testdata/torch/specs/NAME.json (batch 1).
Prints PASS/FAIL per file; exits 1 if anything failed.
"""
import argparse
import glob
import os
import re
import sys

import torch
import torch.nn as nn

sys.dont_write_bytecode = True  # keep testdata free of __pycache__
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import spec2torch  # noqa: E402

TESTDATA = os.path.dirname(HERE)


def torchvision_model(name):
    import torchvision.models as tvm
    return {
        "alexnet": lambda: tvm.alexnet(),
        "vgg16": lambda: tvm.vgg16(),
        "resnet18": lambda: tvm.resnet18(),
        "resnet50": lambda: tvm.resnet50(),
        "mobilenet_v2": lambda: tvm.mobilenet_v2(),
        "googlenet": lambda: tvm.googlenet(aux_logits=False, transform_input=False, init_weights=False),
        "densenet121": lambda: tvm.densenet121(),
    }.get(name, lambda: None)()


# PyTorch names -> canonical cnncalc names of the hooked module types
HOOKED = {
    nn.Conv1d: "conv1d", nn.Conv2d: "conv2d", nn.Conv3d: "conv3d",
    nn.ConvTranspose1d: "convtranspose1d", nn.ConvTranspose2d: "convtranspose2d",
    nn.ConvTranspose3d: "convtranspose3d",
    nn.BatchNorm1d: "batchnorm1d", nn.BatchNorm2d: "batchnorm2d", nn.BatchNorm3d: "batchnorm3d",
    nn.Linear: "linear",
    nn.MaxPool1d: "maxpool1d", nn.MaxPool2d: "maxpool2d", nn.MaxPool3d: "maxpool3d",
    nn.AvgPool1d: "avgpool1d", nn.AvgPool2d: "avgpool2d", nn.AvgPool3d: "avgpool3d",
    nn.AdaptiveAvgPool1d: "adaptiveavgpool1d", nn.AdaptiveAvgPool2d: "adaptiveavgpool2d",
    nn.AdaptiveAvgPool3d: "adaptiveavgpool3d", nn.AdaptiveMaxPool1d: "adaptivemaxpool1d",
    nn.AdaptiveMaxPool2d: "adaptivemaxpool2d", nn.AdaptiveMaxPool3d: "adaptivemaxpool3d",
}


def trace(model, x):
    """Forward x; returns ([(type, output shape)], [modules with state, in execution order], output)."""
    seq, stateful, handles = [], [], []
    for m in model.modules():
        if type(m) in HOOKED:
            def hook(mod, inp, out):
                seq.append((HOOKED[type(mod)], tuple(out.shape)))
                if any(True for _ in mod.parameters(recurse=False)) or any(True for _ in mod.buffers(recurse=False)):
                    if mod not in stateful:
                        stateful.append(mod)
            handles.append(m.register_forward_hook(hook))
    with torch.no_grad():
        y = model(x)
    for h in handles:
        h.remove()
    return seq, stateful, y


def cross_check(name, net, input_shape):
    """Compares the spec-built net with torchvision's model. Returns a list of problems ([] = PASS)."""
    tv = torchvision_model(name)
    if tv is None:
        return None
    tv.eval()
    net.eval()
    problems = []
    torch.manual_seed(1)
    # random running statistics, so that the numeric comparison sees them
    for m in tv.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
    tp, sp = spec2torch.n_params(tv), spec2torch.n_params(net)
    tb, sb = spec2torch.n_buffers(tv), spec2torch.n_buffers(net)
    if tp != sp:
        problems.append("params: torchvision %d, spec %d" % (tp, sp))
    if tb != sb:
        problems.append("buffers: torchvision %d, spec %d" % (tb, sb))
    x = torch.randn([1] + list(input_shape))
    tseq, tstate, ty = trace(tv, x)
    sseq, sstate, _ = trace(net, x)
    if not any("adaptive" in t for t, _ in tseq):
        # torchvision calls F.adaptive_avg_pool2d in forward (densenet, mobilenet_v2):
        # no module, no hook; the final output shape still covers it.
        sseq = [e for e in sseq if "adaptive" not in e[0]]
    if tseq != sseq:
        for i, (a, b) in enumerate(zip(tseq + [None] * len(sseq), sseq + [None] * len(tseq))):
            if a != b:
                problems.append("hooked layer %d: torchvision %s, spec %s (of %d vs %d)"
                                % (i, a, b, len(tseq), len(sseq)))
                break
    # weights: copy torchvision's state into the spec model, module by module in execution order
    if not problems:
        if len(tstate) != len(sstate):
            problems.append("stateful modules: torchvision %d, spec %d" % (len(tstate), len(sstate)))
        else:
            with torch.no_grad():
                for a, b in zip(tstate, sstate):
                    sa, sb_ = a.state_dict(), b.state_dict()
                    if {k: v.shape for k, v in sa.items()} != {k: v.shape for k, v in sb_.items()}:
                        problems.append("state of %s vs %s differs" % (a, b))
                        break
                    b.load_state_dict(sa)
                sy = net(x)
            if not problems:
                diff = (sy - ty).abs().max().item()
                scale = ty.abs().max().item()
                if not diff <= 1e-4 * max(1.0, scale):
                    problems.append("outputs differ: max |diff| %.3g (max |y| %.3g)" % (diff, scale))
                else:
                    print("    %d hooked layers equal, logits max |diff| %.2g" % (len(tseq), diff))
    return problems


EXPECT_RE = re.compile(r"^expect:[ \t]*\n(?:[ \t]+\S.*\n?|[ \t]*\n)*", re.M)


def expect_text(total):
    return "expect:\n  output: [%s]\n  params: %d\n  buffers: %d\n  macs: %d\n" % (
        ", ".join(str(v) for v in total["output"][1:]), total["params"], total["buffers"], total["macs"])


def update_expect(path, total):
    with open(path) as f:
        s = f.read()
    new = expect_text(total)
    if EXPECT_RE.search(s):
        s2 = EXPECT_RE.sub(lambda m: new, s, count=1)
    else:
        s2 = s.rstrip("\n") + "\n" + new
    if s2 != s:
        with open(path, "w") as f:
            f.write(s2)
        return True
    return False


def main():
    ap = argparse.ArgumentParser(description="regenerate testdata/torch/{zoo,specs}/*.json")
    ap.add_argument("--update-expect", action="store_true",
                    help="rewrite each spec's top-level expect: block with PyTorch's values")
    ap.add_argument("names", nargs="*", help="only these spec names (default: all)")
    a = ap.parse_args()
    torch.set_grad_enabled(False)
    failed = []
    for kind in ("zoo", "specs"):
        os.makedirs(os.path.join(HERE, kind), exist_ok=True)
        for path in sorted(glob.glob(os.path.join(TESTDATA, kind, "*.yaml"))):
            name = os.path.splitext(os.path.basename(path))[0]
            if a.names and name not in a.names:
                continue
            label = "%s/%s" % (kind, name)
            try:
                spec = spec2torch.load_spec(path)
                res, net, problems = spec2torch.compile_spec(spec, 1)
            except Exception as e:  # noqa: BLE001
                print("FAIL %-28s %s" % (label, e))
                failed.append(label)
                continue
            if kind == "zoo":
                cc = cross_check(name, net, spec["input"])
                if cc is not None:
                    if cc:
                        print("FAIL %-28s torchvision cross-check: %s" % (label, "; ".join(cc)))
                        failed.append(label)
                        continue
                    print("PASS %-28s torchvision cross-check: params %d, buffers %d"
                          % (label, res["total"]["params"], res["total"]["buffers"]))
            if problems:
                if a.update_expect:
                    update_expect(path, res["total"])
                    print("     %-28s expect: rewritten" % label)
                else:
                    print("FAIL %-28s %s (run with --update-expect to rewrite)" % (label, "; ".join(problems)))
                    failed.append(label)
                    continue
            elif "expect" not in spec and a.update_expect:
                update_expect(path, res["total"])
                print("     %-28s expect: added" % label)
            out = os.path.join(HERE, kind, name + ".json")
            with open(out, "w") as f:
                f.write(spec2torch.dumps(res))
            t = res["total"]
            print("PASS %-28s params %d, buffers %d, macs %d, output %s"
                  % (label, t["params"], t["buffers"], t["macs"], t["output"]))
    if failed:
        print("FAILED: %s" % ", ".join(failed))
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
