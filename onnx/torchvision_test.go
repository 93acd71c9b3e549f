package onnx

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/spec"
)

type tvModel struct {
	Builder, File         string
	Gzip                  bool
	Opset                 int64
	Input                 []any
	Params, Buffers, Macs int64
	Output                []int64
	Nodes                 map[string][]int64
}

// openFixture reads a fixture model, gunzipped where the generator
// compressed it.
func openFixture(t testing.TB, file string, gz bool) *Model {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtures, file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if gz {
		z, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = z
	}
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(bytes.NewReader(data), int64(len(data)), strings.TrimSuffix(file, ".gz"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestTorchvisionONNX: every torchvision builder torch.onnx exports (the
// graph without its weights, batchnorms kept) converts to the network
// torchvision builds: PyTorch's params, buffers, MACs and output shape,
// and the output shape of every conv, linear, pool and batchnorm node as
// PyTorch's forward hooks recorded it. The conversion reads no weights.
func TestTorchvisionONNX(t *testing.T) {
	var d struct{ Models []tvModel }
	readJSON(t, "tv.json", &d)
	if len(d.Models) < 77 {
		t.Fatalf("tv.json lists %d builders", len(d.Models))
	}
	for _, tv := range d.Models {
		if tv.File == "" {
			continue
		}
		t.Run(tv.Builder, func(t *testing.T) {
			m := openFixture(t, tv.File, tv.Gzip)
			// The export's symbolic batch is 1; a fixed one is kept.
			net, err := Convert(m, Options{Batch: 1})
			if err != nil {
				t.Fatal(err)
			}
			s, err := spec.Parse(tv.Builder+".yaml", net.YAML(tv.File))
			if err != nil {
				t.Fatal(err)
			}
			a, err := s.Evaluate(0, nil)
			if err != nil {
				t.Fatal(err)
			}
			tot := a.Result.Total
			if tot.Params != tv.Params || tot.Buffers != tv.Buffers || tot.MACs != tv.Macs {
				t.Errorf("params %d, buffers %d, MACs %d; torchvision %d, %d, %d", tot.Params, tot.Buffers, tot.MACs, tv.Params, tv.Buffers, tv.Macs)
			}
			if !slices.Equal([]int64(tot.Output), tv.Output) {
				t.Errorf("output %v, PyTorch's %v", tot.Output, tv.Output)
			}
			seen := 0
			for i, it := range net.Items {
				want, ok := tv.Nodes[it.Node]
				if !ok {
					continue
				}
				seen++
				if got := a.Result.Layers[i].Output; !slices.Equal([]int64(got), want) {
					t.Errorf("node %s (%s): output %v, PyTorch's %v", it.Node, it.Name, got, want)
				}
			}
			// Every recorded node is one item (none is lost in a pattern).
			if seen != len(tv.Nodes) {
				t.Errorf("%d of the %d recorded nodes are items", seen, len(tv.Nodes))
			}
		})
	}
}
