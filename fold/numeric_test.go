package fold

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/exec"
	"github.com/cnncalc/cnncalc/exec/tensorio"
)

// maxRel is the largest |a - b| over the largest |b|.
func maxRel(a, b []float32) float64 {
	var d, m float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
		m = math.Max(m, math.Abs(float64(b[i])))
	}
	return d / m
}

// TestFoldedCheckpointsAgainstPyTorch folds the PyTorch checkpoints of
// testdata/torch/exec that hold batchnorms (random running statistics,
// names as torchvision's modules give them) and runs the folded network
// on PyTorch's input: it must give PyTorch's output of the unfolded
// network. testdata/torch/fold/demo.yaml (the README's example) is one of
// them.
func TestFoldedCheckpointsAgainstPyTorch(t *testing.T) {
	specs, _ := filepath.Glob("../testdata/torch/exec/*.yaml")
	demo, _ := filepath.Glob("../testdata/torch/fold/*.yaml")
	specs = append(specs, demo...)
	if len(specs) == 0 {
		t.Skip("no testdata/torch/exec (run testdata/torch/exec/gen_exec.py)")
	}
	tried := 0
	for _, path := range specs {
		base := strings.TrimSuffix(path, ".yaml")
		if _, err := os.Stat(base + ".output.npy"); err != nil {
			continue
		}
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		x, err := tensorio.ReadNpy(base + ".input.npy")
		if err != nil {
			t.Fatal(err)
		}
		in := make([]int64, len(x.Shape)-1)
		for i, d := range x.Shape[1:] {
			in[i] = int64(d)
		}
		a, err := analyse(t, path, src).Spec.Evaluate(int64(x.Shape[0]), in)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Spec(a)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if r.Count() == 0 {
			continue
		}
		plan, err := exec.NewPlan(&a.Net)
		if err != nil {
			t.Fatal(err)
		}
		params, err := tensorio.LoadSafetensors(plan, base+".safetensors", func(i int) string { return a.Net.Nodes[i].Name })
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		folded, err := Weights(&a.Net, r.Decisions, params, r.Index)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		fplan, err := exec.NewPlan(&r.Analysis.Net)
		if err != nil {
			t.Fatal(err)
		}
		want, err := tensorio.ReadNpy(base + ".output.npy")
		if err != nil {
			t.Fatal(err)
		}
		run, err := fplan.Forward(folded, x, exec.Options{})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if rel := maxRel(run.Output.Data, want.Data); rel > 1e-4 || math.IsNaN(rel) {
			t.Errorf("%s: %d batchnorms folded, output differs from PyTorch's by %.3g relative", path, r.Count(), rel)
		}
		t.Logf("%s: %d of %d batchnorms folded, output within %.2g of PyTorch's", filepath.Base(path), r.Count(), len(r.Decisions), maxRel(run.Output.Data, want.Data))
		tried++
	}
	if tried < 8 {
		t.Errorf("only %d checkpoints with batchnorms to fold", tried)
	}
}

// TestFoldedZooMatchesUnfolded runs resnet18 (at 64x64), folded and not,
// with PyTorch's default init and random running statistics: the outputs
// agree within 1e-5 relative, the bound cnncalc fold enforces.
func TestFoldedZooMatchesUnfolded(t *testing.T) {
	if testing.Short() {
		t.Skip("a forward pass of resnet18 twice")
	}
	a := zoo(t, "resnet18")
	s := a.Spec
	a, err := s.Evaluate(1, []int64{3, 64, 64})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Spec(a)
	if err != nil {
		t.Fatal(err)
	}
	plan, _ := exec.NewPlan(&a.Net)
	params := plan.Init(3)
	rnd := rand.New(rand.NewPCG(3, 4))
	for _, d := range r.Decisions {
		w := &params[d.Norm]
		for c := range w.Mean.Data {
			w.Mean.Data[c] = float32(rnd.NormFloat64() * 0.1)
			w.Var.Data[c] = float32(0.5 + rnd.Float64())
			w.Weight.Data[c] = float32(0.5 + rnd.Float64())
			w.Bias.Data[c] = float32(rnd.NormFloat64() * 0.1)
		}
	}
	folded, err := Weights(&a.Net, r.Decisions, params, r.Index)
	if err != nil {
		t.Fatal(err)
	}
	x := exec.New(1, 3, 64, 64)
	for i := range x.Data {
		x.Data[i] = float32(rnd.NormFloat64())
	}
	fplan, _ := exec.NewPlan(&r.Analysis.Net)
	want, err := plan.Forward(params, x, exec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := fplan.Forward(folded, x, exec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rel := maxRel(got.Output.Data, want.Output.Data); rel > 1e-5 || math.IsNaN(rel) {
		t.Errorf("folded resnet18 differs by %.3g relative", rel)
	}
}

// TestFoldedKindsMatchUnfolded folds every kind of layer a batchnorm
// folds into, on either side (conv1d, grouped conv2d, conv3d, grouped
// transposed convs, linear; forward into a 1x1 conv, a reflect-padded conv
// and a linear layer), with random tensors and running statistics: the
// folded network gives the unfolded one's output within 1e-5 relative.
func TestFoldedKindsMatchUnfolded(t *testing.T) {
	for _, c := range []struct{ name, src string }{
		{"conv1d", "input: [4, 20]\nbatch: 2\nlayers:\n  - conv1d: {out: 6, kernel: 3, bias: false}\n  - batchnorm1d\n  - relu\n  - conv1d: {out: 6, kernel: 3, groups: 2}\n  - batchnorm1d: {eps: 0.001}\n"},
		{"conv3d", "input: [2, 5, 6, 6]\nbatch: 2\nlayers:\n  - conv3d: {out: 4, kernel: 3, padding: 1, groups: 2}\n  - batchnorm3d: {affine: false}\n"},
		{"convtranspose", "input: [6, 5, 5]\nbatch: 2\nlayers:\n  - convtranspose2d: {out: 9, kernel: 3, stride: 2, groups: 3, bias: false}\n  - batchnorm2d\n  - relu\n"},
		{"linear", "input: [12]\nbatch: 4\nlayers:\n  - linear: {out: 7, bias: false}\n  - batchnorm1d\n  - relu\n  - batchnorm1d\n  - linear: 3\n"},
		{"both sides", "input: [4, 6, 6]\nbatch: 2\nlayers:\n  - relu\n  - batchnorm2d\n  - conv2d: {out: 5, kernel: 1, bias: false}\n  - batchnorm2d\n  - relu\n"},
		{"forward", "input: [4, 9, 9]\nbatch: 2\nlayers:\n  - relu\n  - batchnorm2d\n  - conv2d: {out: 5, kernel: 1, groups: 1}\n  - relu\n  - batchnorm2d\n  - conv2d: {out: 5, kernel: 3, padding: 1, padding_mode: reflect}\n  - relu\n  - batchnorm2d\n  - conv2d: {out: 6, kernel: 3, padding: 1}\n"},
	} {
		a := analyse(t, c.name, []byte(c.src))
		r, err := Spec(a)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		plan, _ := exec.NewPlan(&a.Net)
		params := plan.Init(5)
		rnd := rand.New(rand.NewPCG(5, 6))
		for i := range params {
			for k := range exec.TensorNames {
				w := *params[i].Slot(k)
				if w == nil {
					continue
				}
				for j := range w.Data {
					switch k {
					case 2:
						w.Data[j] = float32(rnd.NormFloat64())
					case 3:
						w.Data[j] = float32(0.2 + 2*rnd.Float64())
					default:
						w.Data[j] += float32(rnd.NormFloat64() * 0.3)
					}
				}
			}
		}
		folded, err := Weights(&a.Net, r.Decisions, params, r.Index)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		x := exec.New(toShape(a.Net.Input)...)
		for i := range x.Data {
			x.Data[i] = float32(rnd.NormFloat64())
		}
		fplan, _ := exec.NewPlan(&r.Analysis.Net)
		want, err := plan.Forward(params, x, exec.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := fplan.Forward(folded, x, exec.Options{})
		if err != nil {
			t.Fatal(err)
		}
		rel := maxRel(got.Output.Data, want.Output.Data)
		if rel > 1e-5 || math.IsNaN(rel) {
			t.Errorf("%s: %d folded, output differs by %.3g relative", c.name, r.Count(), rel)
		}
		t.Logf("%s: %d of %d fold, %.2g", c.name, r.Count(), len(r.Decisions), rel)
	}
}

func toShape(s []int64) []int {
	out := make([]int, len(s))
	for i, v := range s {
		out[i] = int(v)
	}
	return out
}
