package exec_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/exec"
	"github.com/cnncalc/cnncalc/exec/tensorio"
	"github.com/cnncalc/cnncalc/exec/verify"
)

// TestAgainstPyTorch runs the networks of testdata/torch/exec with the
// weights PyTorch saved (in state_dict order and in sorted key order) on
// PyTorch's input, and requires PyTorch's output within 1e-4 relative.
func TestAgainstPyTorch(t *testing.T) {
	outs, _ := filepath.Glob("../testdata/torch/exec/*.output.npy")
	random, _ := filepath.Glob("../testdata/torch/random/exec/*.output.npy")
	if len(outs) < 10 || len(random) < 50 {
		t.Fatalf("only %d + %d reference outputs; run testdata/torch/exec/gen_exec.py and random/gen_random.py", len(outs), len(random))
	}
	for _, outPath := range append(outs, random...) {
		name := strings.TrimSuffix(filepath.Base(outPath), ".output.npy")
		base := filepath.Join(filepath.Dir(outPath), name)
		for _, weights := range []string{base + ".safetensors", base + ".sorted.safetensors"} {
			t.Run(filepath.Base(weights), func(t *testing.T) {
				x, err := tensorio.ReadNpy(base + ".input.npy")
				if err != nil {
					t.Fatal(err)
				}
				in := make([]int64, len(x.Shape)-1)
				for i, d := range x.Shape[1:] {
					in[i] = int64(d)
				}
				a := load(t, base+".yaml", int64(x.Shape[0]), in)
				s, res := a.Spec, a.Result
				plan, err := exec.NewPlan(&a.Net)
				if err != nil {
					t.Fatal(err)
				}
				params, err := tensorio.LoadSafetensors(plan, weights, func(i int) string { return s.Info[i].Path })
				if err != nil {
					t.Fatal(err)
				}
				// The cross-check runs the forward pass and the probe.
				run, checks, err := verify.CrossCheck(plan, res, params, x, exec.Options{})
				if err != nil {
					t.Fatal(err)
				}
				for i, c := range checks {
					for _, p := range c.Problems {
						t.Errorf("layer %d (%s): %s", i+1, s.Info[i].Path, p)
					}
				}
				want, err := tensorio.ReadNpy(outPath)
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(run.Output.Shape) != fmt.Sprint(want.Shape) {
					t.Fatalf("output %v, PyTorch %v", run.Output.Shape, want.Shape)
				}
				maxErr, worst := 0.0, 0
				for i, w := range want.Data {
					e := math.Abs(float64(run.Output.Data[i])-float64(w)) / (1 + math.Abs(float64(w)))
					if e > maxErr {
						maxErr, worst = e, i
					}
				}
				if maxErr > 1e-4 {
					t.Errorf("max relative error %.3g at %d: got %v, PyTorch %v", maxErr, worst, run.Output.Data[worst], want.Data[worst])
				}
			})
		}
	}
}

// TestCheckpointMismatch: a checkpoint whose conv has another kernel size is
// refused with both shapes.
func TestCheckpointMismatch(t *testing.T) {
	base := "../testdata/torch/exec/bad_checkpoint"
	if _, err := os.Stat(base + ".safetensors"); err != nil {
		t.Skip("no bad_checkpoint data")
	}
	a := load(t, base+".yaml", 0, nil)
	s := a.Spec
	plan, err := exec.NewPlan(&a.Net)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tensorio.LoadSafetensors(plan, base+".safetensors", func(i int) string { return s.Info[i].Path })
	if err == nil {
		t.Fatal("a mismatched checkpoint was accepted")
	}
	if !strings.Contains(err.Error(), "checkpoint [") || !strings.Contains(err.Error(), "spec needs [") {
		t.Errorf("the error does not show both shapes: %v", err)
	}
	t.Log(err)
}
