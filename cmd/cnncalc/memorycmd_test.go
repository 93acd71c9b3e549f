package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

func TestMemoryGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
	}{
		{"memory_lenet5_table", []string{"memory", "lenet5"}},
		{"memory_lenet5_json", []string{"memory", "lenet5", "--format", "json"}},
		{"memory_lenet5_csv", []string{"memory", "lenet5", "--format", "csv"}},
		{"memory_lenet5_markdown", []string{"memory", "lenet5", "--format", "markdown", "--optimizer", "momentum"}},
		{"memory_lenet5_eval", []string{"memory", "lenet5", "--mode", "eval"}},
		{"memory_resnet18_adam_bf16", []string{"memory", "resnet18", "--batch", "4", "--optimizer", "adam", "--dtype", "bfloat16"}},
		{"memory_mobilenet_v2_fit", []string{"memory", "mobilenet_v2", "--optimizer", "adamw", "--fit", "8GiB"}},
		{"params_frozen", []string{"params", "testdata/frozen.yaml"}},
		{"memory_frozen_adam", []string{"memory", "testdata/frozen.yaml", "--optimizer", "adam"}},
		{"memory_frozen_json", []string{"memory", "testdata/frozen.yaml", "--format", "json"}},
		{"params_resnet18_bf16", []string{"params", "resnet18", "--dtype", "bfloat16"}},
		{"memory_mobilenet_v2_csv", []string{"memory", "mobilenet_v2", "--batch", "2", "--format", "csv"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := runCmd(t, "", c.args...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			golden(t, c.name, out)
		})
	}
}

// TestMemoryTableWidth: the table of a deep network fits 100 columns.
func TestMemoryTableWidth(t *testing.T) {
	for _, args := range [][]string{{"memory", "resnet50", "--batch", "32", "--optimizer", "adam"},
		{"memory", "densenet121", "--mode", "eval"}, {"memory", "efficientnet_b0", "--fit", "24GiB"}} {
		out, _, code := runCmd(t, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d", args, code)
		}
		for _, line := range strings.Split(out, "\n") {
			if n := len([]rune(line)); n > 100 {
				t.Errorf("%v: a line of %d columns: %q", args, n, line)
			}
		}
	}
}

// TestMemoryFit: the batch --fit prints is the largest whose train peak
// fits: its own peak is within the budget, the next batch's is not.
func TestMemoryFit(t *testing.T) {
	for _, dtype := range []string{"float32", "bfloat16"} {
		out, errOut, code := runCmd(t, "", "memory", "resnet50", "--optimizer", "adam", "--dtype", dtype, "--fit", "24GiB", "--format", "json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var got struct {
			Input []int64 `json:"input"`
			Total struct {
				Train int64 `json:"train_peak_bytes"`
			} `json:"total"`
			Fit memoryFit `json:"fit"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		const budget = 24 << 30
		f := got.Fit
		if f.Budget != budget || f.Batch < 2 || got.Input[0] != f.Batch || got.Total.Train != f.Peak {
			t.Fatalf("%s: fit %+v, report at batch %d with peak %d", dtype, f, got.Input[0], got.Total.Train)
		}
		if f.Peak > budget || f.NextPeak <= budget {
			t.Errorf("%s: batch %d peaks at %d, batch %d at %d: not the largest within %d", dtype, f.Batch, f.Peak, f.Batch+1, f.NextPeak, budget)
		}
		// the peak at the next batch, counted from scratch
		out, _, _ = runCmd(t, "", "memory", "resnet50", "--optimizer", "adam", "--dtype", dtype, "--batch", strconv.FormatInt(f.Batch+1, 10), "--format", "json")
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		if got.Total.Train != f.NextPeak {
			t.Errorf("%s: batch %d peaks at %d alone, %d in the fit", dtype, f.Batch+1, got.Total.Train, f.NextPeak)
		}
	}
	// a budget nothing fits: the answer, and exit 1
	out, errOut, code := runCmd(t, "", "memory", "resnet50", "--fit", "1MiB")
	if code != exitFail || errOut != "" || !strings.Contains(out, "no batch fits 1.0 MiB: batch 1 needs") {
		t.Errorf("exit %d, stderr %q, out ends %q", code, errOut, out[max(0, len(out)-200):])
	}
}

// TestMemoryFlagErrors: bad flags exit 2 with a message and no output.
func TestMemoryFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--dtype", "int8"}, `unknown --dtype "int8"`},
		{[]string{"--optimizer", "lion"}, `unknown --optimizer "lion": use none, sgd, momentum, adam, adamw`},
		{[]string{"--mode", "test"}, `unknown --mode "test"`},
		{[]string{"--fit", "lots"}, `--fit "lots": want a size`},
		{[]string{"--fit", "0"}, `--fit "0": want a size`},
		{[]string{"--fit", "24GiB", "--batch", "8"}, `--fit finds the batch size`},
		{[]string{"--batch", "0"}, `--batch must be between 1`},
		{[]string{"--format", "xml"}, `unknown --format "xml"`},
	} {
		if c.args[0] == "--dtype" {
			// params takes --dtype too, with the same refusal
			out, errOut, code := runCmd(t, "", append([]string{"params", "lenet5"}, c.args...)...)
			if code != exitError || out != "" || !strings.Contains(errOut, c.msg) {
				t.Errorf("params %v: exit %d, out %q, stderr %q", c.args, code, out, errOut)
			}
		}
		out, errOut, code := runCmd(t, "", append([]string{"memory", "lenet5"}, c.args...)...)
		if code != exitError || out != "" || !strings.Contains(errOut, c.msg) {
			t.Errorf("%v: exit %d, out %q, stderr %q; want exit 2 and %q", c.args, code, out, errOut, c.msg)
		}
	}
}

// TestTrainableErrors: trainable takes true or false, positioned; it is an
// item key, not a layer argument.
func TestTrainableErrors(t *testing.T) {
	for _, c := range []struct{ spec, msg string }{
		{"input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 3}\n    trainable: maybe\n", "<stdin>:4:16: layers[0]: trainable must be true or false, got \"maybe\""},
		{"input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 3, trainable: false}\n", "<stdin>:3:33: layers[0] (conv2d): conv2d has no argument \"trainable\""},
	} {
		out, errOut, code := runCmd(t, c.spec, "memory", "-")
		if code != exitError || out != "" || !strings.Contains(errOut, c.msg) {
			t.Errorf("exit %d, out %q, stderr %q; want exit 2 and %q", code, out, errOut, c.msg)
		}
	}
}
