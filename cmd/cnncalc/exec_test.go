package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/exec/tensorio"
)

func TestExecAgrees(t *testing.T) {
	out, errOut, code := runCmd(t, "", "exec", "lenet5", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var r struct {
		Agree  bool `json:"agree"`
		Layers []struct {
			Name, Shape, MACs, RF string
			Output                []int
		} `json:"layers"`
		Output []int `json:"output"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if !r.Agree || len(r.Layers) != 12 || len(r.Output) != 2 || r.Output[1] != 10 {
		t.Fatalf("unexpected report: %+v", r)
	}
	rfChecked := 0
	for _, l := range r.Layers {
		if l.Shape != "ok" || l.MACs != "ok" || l.RF == "FAIL" {
			t.Errorf("layer %s: shape %s, MACs %s, rf %s", l.Name, l.Shape, l.MACs, l.RF)
		}
		if l.RF == "ok" {
			rfChecked++
		}
	}
	if rfChecked != 6 {
		t.Errorf("%d receptive fields measured, want the 6 conv/pool/tanh layers", rfChecked)
	}
}

// TestExecCheckpoint runs a PyTorch checkpoint on PyTorch's input through
// the command line and compares the saved output with PyTorch's.
func TestExecCheckpoint(t *testing.T) {
	base := "../../testdata/torch/exec/inception2d"
	saved := filepath.Join(t.TempDir(), "y.npy")
	out, errOut, code := runCmd(t, "", "exec", base+".yaml", "--weights", base+".safetensors", "--input", base+".input.npy", "--save-output", saved)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	got, err := tensorio.ReadNpy(saved)
	if err != nil {
		t.Fatal(err)
	}
	want, err := tensorio.ReadNpy(base + ".output.npy")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Data) != len(want.Data) || len(got.Shape) != len(want.Shape) {
		t.Fatalf("saved %v, PyTorch %v", got.Shape, want.Shape)
	}
	worst := 0.0
	for i := range want.Data {
		worst = math.Max(worst, math.Abs(float64(got.Data[i]-want.Data[i]))/(1+math.Abs(float64(want.Data[i]))))
	}
	if worst > 1e-4 {
		t.Errorf("max relative error %.3g against PyTorch", worst)
	}
}

func TestExecRefusals(t *testing.T) {
	base := "../../testdata/torch/exec/bad_checkpoint"
	_, errOut, code := runCmd(t, "", "exec", base+".yaml", "--weights", base+".safetensors")
	if code != 2 || !strings.Contains(errOut, "mods.2.weight: checkpoint [4 4 5 5], spec needs [4 4 3 3]") {
		t.Errorf("bad checkpoint: exit %d, %q", code, errOut)
	}
	out, errOut, code := runCmd(t, "", "exec", "resnet50", "--max-memory", "64MiB")
	if code != 2 || out != "" || !strings.Contains(errOut, "above --max-memory 64.0 MiB") || !strings.Contains(errOut, "needs about") {
		t.Errorf("memory cap: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestCheckExec(t *testing.T) {
	out, errOut, code := runCmd(t, "", "check", "--exec", "../../testdata/specs", "lenet5")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if !strings.HasSuffix(out, " passed, 0 failed\n") || !strings.Contains(out, " not measured: receptive fields the probe could not measure (-v lists them)\n") {
		t.Errorf("summary: %q", out)
	}
	// A field the probe cannot measure is counted and, with -v, listed
	// with the reason, neither passing nor failing.
	out, _, code = runCmd(t, "", "check", "--exec", "-v", "../../testdata/torch/probe/dilated.yaml")
	if code != 0 || !strings.Contains(out, "skip ") || !strings.Contains(out, "measured receptive field unmeasured: field wider than the input") ||
		!strings.HasSuffix(out, "1 not measured: receptive fields the probe could not measure\n11 passed, 0 failed\n") {
		t.Errorf("check --exec -v on a field wider than the input: exit %d\n%s", code, out)
	}
}

// TestExecStdinWithNpy reads the spec from standard input and the input
// from a .npy file: the spec is read once (standard input cannot be read
// twice), and the batch is the file's.
func TestExecStdinWithNpy(t *testing.T) {
	base := "../../testdata/torch/exec/inception2d"
	src, err := os.ReadFile(base + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	x, err := tensorio.ReadNpy(base + ".input.npy")
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCmd(t, string(src), "exec", "-", "--weights", base+".safetensors", "--input", base+".input.npy", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var r struct {
		Input  []int `json:"input"`
		Agree  bool  `json:"agree"`
		Output []int `json:"output"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if !r.Agree || len(r.Input) == 0 || r.Input[0] != x.Shape[0] || r.Output[0] != x.Shape[0] {
		t.Errorf("input %v, output %v, agree %v; want the .npy's batch %d", r.Input, r.Output, r.Agree, x.Shape[0])
	}
}

// TestExecNoRF: --no-rf runs the forward pass alone: shapes and MACs are
// still checked, no receptive field is measured, and the summary says so.
func TestExecNoRF(t *testing.T) {
	out, errOut, code := runCmd(t, "", "exec", "lenet5", "--no-rf")
	if code != 0 || !strings.Contains(out, "rf not measured (--no-rf)") || !strings.Contains(out, "every check agrees with calc") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "| conv2d_1 ") && !strings.Contains(line, "| ok    | ok   | -  |") {
			t.Errorf("conv2d_1 row %q: want shape ok, MACs ok, rf -", line)
		}
	}
}

// TestExecProbe: issue 11's false alarms agree and exit 0 (a dilated conv1d
// and maxpool1d whose fields are wider than the old probe's 1,024-position
// window, a 1x1 conv with reflect padding wider than its reach); a field
// wider than the input is unmeasured and says so in the rf column and in
// the JSON; one conv over 3x1024x1024 (refused before as needing 24.6 GB
// of probe) runs and measures its field.
func TestExecProbe(t *testing.T) {
	for _, src := range []string{
		"input: [1, 3000]\nlayers:\n  - conv1d: {out: 1, kernel: 150, stride: 10, padding: 70, dilation: 10}\n",
		"input: [1, 3000]\nlayers:\n  - maxpool1d: {kernel: 200, stride: 10, dilation: 10}\n",
		"input: [1, 8, 8]\nlayers:\n  - conv2d: {out: 1, kernel: 1, padding: 3, padding_mode: reflect}\n",
		"input: [3, 1024, 1024]\nlayers:\n  - conv2d: {out: 2, kernel: 3, padding: 1}\n",
	} {
		out, errOut, code := runCmd(t, src, "exec", "-")
		if code != 0 || !strings.Contains(out, "every check agrees with calc") || strings.Contains(out, "unmeasured") {
			t.Errorf("%s: exit %d\n%s%s", src, code, out, errOut)
		}
		if !strings.Contains(out, "| ok    | ok   | ok |") {
			t.Errorf("%s: the field is not measured:\n%s", src, out)
		}
	}
	wide := "input: [1, 8]\nlayers:\n  - conv1d: {out: 1, kernel: 7}\n  - conv1d: {out: 1, kernel: 3, padding: 2}\n"
	out, errOut, code := runCmd(t, wide, "exec", "-")
	// A valid conv's units read no padding: its field of 7 on an input
	// of 8 is measured; the next conv's units all read padding.
	if code != 0 || !strings.Contains(out, "conv1d_1 | 1x2    | ok    | ok   | ok ") || !strings.Contains(out, "conv1d_2 | 1x4    | ok    | ok   | unmeasured: field wider than the input ") {
		t.Errorf("wide field: exit %d\n%s%s", code, out, errOut)
	}
	out, _, code = runCmd(t, wide, "exec", "-", "--format", "json")
	if code != 0 || !strings.Contains(out, `"rf_unmeasured": "field wider than the input"`) {
		t.Errorf("wide field, json: exit %d\n%s", code, out)
	}
}
