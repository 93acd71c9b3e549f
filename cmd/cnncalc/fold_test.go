package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/exec"
	"github.com/cnncalc/cnncalc/exec/tensorio"
	"github.com/cnncalc/cnncalc/fold"
)

type foldJSON struct {
	Before, After struct {
		Layers                int
		Params, Buffers, MACs int64
	}
	RemovedParams  int64 `json:"removed_params"`
	RemovedBuffers int64 `json:"removed_buffers"`
	AddedBias      int64 `json:"added_bias"`
	Normalizations []struct {
		Name, Type, Path, Into, Reason, Formula string
		Folds, Forward                          bool
	}
	MaxRelDiff float64 `json:"max_rel_diff"`
	Agree      bool
	Written    []string
}

// TestFoldResNet18: the figures through the command line.
func TestFoldResNet18(t *testing.T) {
	out, errOut, code := runCmd(t, "", "fold", "resnet18", "--input", "3x64x64", "--format", "json", "--explain")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var r foldJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Before.Params != 11_689_512 || r.After.Params != 11_684_712 || r.Before.Buffers != 9_600 || r.After.Buffers != 0 ||
		r.RemovedParams != 9_600 || r.RemovedBuffers != 9_600 || r.AddedBias != 4_800 || len(r.Normalizations) != 20 || !r.Agree || r.After.Layers != 49 {
		t.Errorf("unexpected report: %s", out)
	}
	for _, n := range r.Normalizations {
		if !n.Folds || !strings.HasPrefix(n.Formula, "s[0] = gamma[0]/sqrt(var[0] + eps) = 1/sqrt(1 + 1e-05) = 0.999995\n") {
			t.Errorf("%s: folds %v, formula %q", n.Name, n.Folds, n.Formula)
		}
	}
}

// TestFoldCheckpoint folds a PyTorch checkpoint (random running
// statistics) and runs the folded spec and checkpoint it wrote through
// exec: the output is PyTorch's output of the unfolded network.
func TestFoldCheckpoint(t *testing.T) {
	base := "../../testdata/torch/exec/tiny_densenet"
	dir := t.TempDir()
	spec, weights, saved := filepath.Join(dir, "f.yaml"), filepath.Join(dir, "f.safetensors"), filepath.Join(dir, "y.npy")
	out, errOut, code := runCmd(t, "", "fold", base+".yaml", "--weights", base+".safetensors", "--input", base+".input.npy", "-o", spec, "--weights-out", weights, "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var r foldJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	folds := 0
	for _, n := range r.Normalizations {
		if n.Folds {
			folds++
		}
	}
	if folds != 7 || len(r.Normalizations) != 15 || !r.Agree || r.MaxRelDiff > 1e-5 || len(r.Written) != 2 {
		t.Errorf("unexpected report: %s", out)
	}
	// The folded checkpoint keeps torchvision's module names, less the
	// folded batchnorms'.
	list, err := tensorio.ReadSafetensors(weights, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if list[0].Name != "features.conv0.weight" || list[1].Name != "features.conv0.bias" {
		t.Errorf("folded checkpoint starts with %s, %s", list[0].Name, list[1].Name)
	}
	out, errOut, code = runCmd(t, "", "exec", spec, "--weights", weights, "--input", base+".input.npy", "--save-output", saved)
	if code != 0 {
		t.Fatalf("exec of the folded spec: exit %d\n%s%s", code, out, errOut)
	}
	got, err := tensorio.ReadNpy(saved)
	if err != nil {
		t.Fatal(err)
	}
	want, err := tensorio.ReadNpy(base + ".output.npy")
	if err != nil {
		t.Fatal(err)
	}
	_, rel := outputDiff(got.Data, want.Data)
	if rel > 1e-5 || math.IsNaN(rel) {
		t.Errorf("the folded checkpoint's output differs from PyTorch's by %.3g relative", rel)
	}
}

// TestFoldDiffers: a fold that changes the output fails with exit 1 and
// writes nothing.
func TestFoldDiffers(t *testing.T) {
	defer func(f func(*calc.Network, []fold.Decision, []exec.Weights, []int) ([]exec.Weights, error)) {
		foldWeights = f
	}(foldWeights)
	foldWeights = func(net *calc.Network, ds []fold.Decision, params []exec.Weights, index []int) ([]exec.Weights, error) {
		w, err := fold.Weights(net, ds, params, index)
		if err == nil {
			for _, x := range w {
				if x.Bias != nil {
					x.Bias.Data[0] += 1e-3
					break
				}
			}
		}
		return w, err
	}
	dir := t.TempDir()
	spec := filepath.Join(dir, "f.yaml")
	out, errOut, code := runCmd(t, "", "fold", "resnet18", "--input", "3x32x32", "-o", spec)
	if code != 1 || !strings.Contains(out, "outputs DIFFER: the folded network is not written") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(spec); err == nil {
		t.Errorf("%s written", spec)
	}
}

// TestFoldBadInput: refusals exit 2 with a message and write nothing.
func TestFoldBadInput(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "f.yaml")
	bad := filepath.Join(dir, "bad.safetensors")
	os.WriteFile(bad, []byte("not a checkpoint at all"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"fold", "resnet18", "--format", "csv"}, "fold --format is table or json"},
		{[]string{"fold", "resnet18", "-o", spec, "--weights-out", spec}, "name the same file"},
		{[]string{"fold", "resnet18", "--weights", bad, "-o", spec}, "not a safetensors file"},
		{[]string{"fold", "resnet18", "--max-memory", "1MiB", "-o", spec}, "above --max-memory"},
	} {
		out, errOut, code := runCmd(t, "", c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) || out != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and %q", c.args, code, out, errOut, c.want)
		}
	}
	if _, err := os.Stat(spec); err == nil {
		t.Errorf("%s written", spec)
	}
}

// TestFoldSpecToStdout: -o - prints the folded spec alone on standard
// output (the report goes to standard error).
func TestFoldSpecToStdout(t *testing.T) {
	out, errOut, code := runCmd(t, "", "fold", "resnet18", "--input", "3x32x32", "-o", "-")
	if code != 0 || strings.Contains(out, "batchnorm") || !strings.HasPrefix(out, "# ResNet-18") || !strings.Contains(errOut, "20 of 20 normalizations fold") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// execMS masks the timings of fold's table (the exec ms row), the one
// thing in it that changes run to run.
var execMS = regexp.MustCompile(`(?m)^( exec ms \(best of 2\) \|)\s+\S+ \|\s+\S+ \|\s+\S+$`)

// TestFoldGolden: fold's table with --explain, on the README's demo with
// its PyTorch checkpoint, and norms' table, against golden files.
func TestFoldGolden(t *testing.T) {
	d := "../../testdata/torch/fold/demo"
	for _, c := range []struct {
		name string
		args []string
	}{
		{"fold_demo_explain", []string{"fold", d + ".yaml", "--weights", d + ".safetensors", "--input", d + ".input.npy", "--explain"}},
		{"fold_resnet18_json_masked", []string{"fold", "resnet18", "--input", "3x32x32", "--format", "json"}},
		{"norms_lecture", []string{"norms", "8x64x32x32", "--groups", "32"}},
		{"norms_fc", []string{"norms", "16x100", "--groups", "4"}},
	} {
		out, errOut, code := runCmd(t, "", c.args...)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", c.name, code, out, errOut)
		}
		out = execMS.ReplaceAllString(out, "$1 (ms) | (ms) | (ms)")
		// Timings, and the last bits of float32 sums, which a faster
		// kernel may change.
		out = regexp.MustCompile(`"(seconds|max_abs_diff|max_rel_diff|exec_max_diff)": [0-9.e+-]+`).ReplaceAllString(out, `"$1": 0`)
		out = regexp.MustCompile(`max \|difference\| \S+, relative \S+ \(`).ReplaceAllString(out, "max |difference| (d), relative (r) (")
		out = regexp.MustCompile(`give its output within \S+`).ReplaceAllString(out, "give its output within (d)")
		golden(t, c.name, strings.ReplaceAll(out, "../../", ""))
	}
}
