package fold

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/cnncalc/cnncalc/exec"
	"github.com/cnncalc/cnncalc/exec/tensorio"
)

// TestFoldTorchvision folds torchvision's resnet18, mobilenet_v2 and
// densenet121 checkpoints (random batchnorm statistics; written outside
// the repository by testdata/torch/fold/gen_torchvision_fold.py into the
// directory $CNNCALC_TV_FOLD), writes the folded checkpoint, reads it back
// into the folded spec's network and requires torchvision's output of the
// unfolded model within 1e-5 relative.
func TestFoldTorchvision(t *testing.T) {
	dir := os.Getenv("CNNCALC_TV_FOLD")
	if dir == "" {
		t.Skip("set CNNCALC_TV_FOLD to the directory gen_torchvision_fold.py wrote")
	}
	for _, name := range []string{"resnet18", "mobilenet_v2", "densenet121"} {
		base := filepath.Join(dir, name)
		a := zoo(t, name)
		r, err := Spec(a)
		if err != nil {
			t.Fatal(err)
		}
		plan, _ := exec.NewPlan(&a.Net)
		params, modules, err := tensorio.LoadSafetensorsNamed(plan, base+".safetensors", func(i int) string { return a.Net.Nodes[i].Name })
		if err != nil {
			t.Fatal(err)
		}
		folded, err := Weights(&a.Net, r.Decisions, params, r.Index)
		if err != nil {
			t.Fatal(err)
		}
		names := make([]string, len(folded))
		for i, k := range r.Index {
			if k >= 0 {
				names[k] = modules[i]
			}
		}
		var buf bytes.Buffer
		if err := tensorio.WriteSafetensors(&buf, tensorio.StateDict(folded, names)); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "folded.safetensors")
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		fplan, _ := exec.NewPlan(&r.Analysis.Net)
		back, err := tensorio.LoadSafetensors(fplan, path, func(i int) string { return r.Analysis.Net.Nodes[i].Name })
		if err != nil {
			t.Fatal(err)
		}
		x, err := tensorio.ReadNpy(base + ".input.npy")
		if err != nil {
			t.Fatal(err)
		}
		want, err := tensorio.ReadNpy(base + ".output.npy")
		if err != nil {
			t.Fatal(err)
		}
		run, err := fplan.Forward(back, x, exec.Options{})
		if err != nil {
			t.Fatal(err)
		}
		rel := maxRel(run.Output.Data, want.Data)
		if rel > 1e-5 || math.IsNaN(rel) {
			t.Errorf("%s: the folded checkpoint's output differs from torchvision's by %.3g relative", name, rel)
		}
		t.Logf("%s: %d of %d fold; folded checkpoint within %.2g of torchvision", name, r.Count(), len(r.Decisions), rel)
	}
}
