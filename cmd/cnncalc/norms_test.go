package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// TestNorms: the lecture's example through the command line, every row
// confirmed by exec.
func TestNorms(t *testing.T) {
	out, errOut, code := runCmd(t, "", "norms", "8x64x32x32", "--groups", "32", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var r struct {
		Notation string
		Norms    []struct {
			Type            string
			Stat, Affine    []int64
			Count           int64
			Params, Buffers int64
			TrainDiffers    bool    `json:"train_differs"`
			TrainEvalDiff   float64 `json:"train_eval_diff"`
			ExecCount       int     `json:"exec_count"`
			Agree           bool
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Notation != "N x C x H x W" || len(r.Norms) != 4 {
		t.Fatalf("unexpected report: %s", out)
	}
	want := []string{"batchnorm2d 8192 128 128 true", "layernorm 65536 131072 0 false", "instancenorm2d 1024 0 0 false", "groupnorm 2048 128 0 false"}
	for i, n := range r.Norms {
		got := strings.Join([]string{n.Type, itoa64(n.Count), itoa64(n.Params), itoa64(n.Buffers), map[bool]string{true: "true", false: "false"}[n.TrainDiffers]}, " ")
		if got != want[i] || !n.Agree || int64(n.ExecCount) != n.Count || n.TrainDiffers != (n.TrainEvalDiff > 0.01) {
			t.Errorf("row %d: %s (agree %v, exec %d values, train/test %.3g), want %s", i, got, n.Agree, n.ExecCount, n.TrainEvalDiff, want[i])
		}
	}
	for _, bad := range [][]string{{"norms", "8"}, {"norms", "8x64x32x32", "--groups", "5"}, {"norms", "100000x100000x100"}, {"norms", "8x4", "--format", "csv"}} {
		out, errOut, code := runCmd(t, "", bad...)
		if code != 2 || out != "" || errOut == "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", bad, code, out, errOut)
		}
	}
}

func itoa64(v int64) string { return strconv.FormatInt(v, 10) }
