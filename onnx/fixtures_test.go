package onnx

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/exec/tensorio"
)

// The fixtures of testdata/onnx are torch.onnx exports written by
// testdata/onnx/gen_onnx.py; every expected figure comes from the
// PyTorch module, not from the ONNX file.
const fixtures = "../testdata/onnx"

type smallNet struct {
	Net, File, Training   string
	Opset                 int64
	InputNpy              string `json:"input_npy"`
	OutputNpy             string `json:"output_npy"`
	Batch                 int64
	Params, Buffers, Macs int64
	Output                []int64
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// refusedNets are the exports cnncalc cannot express, with the error
// that says why (none today).
var refusedNets = map[string]string{}

// TestSmallNets runs every small export with its weights through exec
// and compares with PyTorch's output; the counts are PyTorch's module's.
// With BatchNorm folded into the convs (the default eval export) the
// parameter count is the folded network's, which the test says.
func TestSmallNets(t *testing.T) {
	var d struct{ Nets []smallNet }
	readJSON(t, "small.json", &d)
	if len(d.Nets) < 50 {
		t.Fatalf("small.json lists %d nets", len(d.Nets))
	}
	for _, n := range d.Nets {
		t.Run(n.Net, func(t *testing.T) {
			m, err := Open(filepath.Join(fixtures, n.File))
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			x, err := tensorio.ReadNpy(filepath.Join(fixtures, n.InputNpy))
			if err != nil {
				t.Fatal(err)
			}
			want, err := tensorio.ReadNpy(filepath.Join(fixtures, n.OutputNpy))
			if err != nil {
				t.Fatal(err)
			}
			got, a, err := runModel(m, x)
			if why, ok := refusedNets[n.Net]; ok {
				if err == nil || !strings.Contains(err.Error(), why) {
					t.Fatalf("want the refusal %q, got %v", why, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Shape, want.Shape) {
				t.Fatalf("output %v, PyTorch's %v", got.Shape, want.Shape)
			}
			if abs, rel := maxDiff(got, want); rel > 1e-4 && abs > 1e-5 {
				t.Errorf("output differs from PyTorch's by %.3g (%.3g relative)", abs, rel)
			}
			tot := a.Result.Total
			if n.Training == "EVAL" {
				// Folded: the batchnorms' weights are in the convs.
				if tot.Buffers != 0 || tot.MACs != n.Macs {
					t.Errorf("folded export: buffers %d (want 0), MACs %d (PyTorch %d)", tot.Buffers, tot.MACs, n.Macs)
				}
				return
			}
			if tot.Params != n.Params || tot.Buffers != n.Buffers || tot.MACs != n.Macs {
				t.Errorf("params %d, buffers %d, MACs %d; PyTorch %d, %d, %d", tot.Params, tot.Buffers, tot.MACs, n.Params, n.Buffers, n.Macs)
			}
		})
	}
}
