package cnncalc

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/spec"
)

// torchvisionModel is one builder as testdata/torch/gen_torchvision.py
// measured it on torchvision's own model.
type torchvisionModel struct {
	Builder string            `json:"builder"`
	Input   []int64           `json:"input"`
	Params  int64             `json:"params"`
	Buffers int64             `json:"buffers"`
	Output  []int64           `json:"output"`
	MACs    int64             `json:"macs"`
	Layers  []json.RawMessage `json:"layers"` // [type, output, macs]
	Error   string            `json:"error"`
	// NumParamsPublished is torchvision's documented num_params.
	NumParamsPublished *int64 `json:"num_params_published"`
}

func loadTorchvision(t *testing.T) []torchvisionModel {
	t.Helper()
	data, err := os.ReadFile("testdata/torch/torchvision.json")
	if err != nil {
		t.Fatalf("%v (run testdata/torch/gen_torchvision.py)", err)
	}
	var doc struct {
		Models []torchvisionModel `json:"models"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Models
}

// TestTorchvisionZoo: every torchvision CNN builder is in the zoo under its
// own name, and its spec is exact against torchvision's model built with
// weights=None: params and buffers equal, the output shape equal, and the
// ordered list of conv/linear layers (type, output shape, MACs) equal to
// what forward hooks saw; the documented num_params too where torchvision
// publishes it for this build.
func TestTorchvisionZoo(t *testing.T) {
	models := loadTorchvision(t)
	if len(models) < 77 {
		t.Fatalf("torchvision.json has %d builders, want 77", len(models))
	}
	for _, m := range models {
		t.Run(m.Builder, func(t *testing.T) {
			if m.Error != "" {
				t.Fatalf("the reference failed: %s", m.Error)
			}
			path := filepath.Join("testdata", "zoo", m.Builder+".yaml")
			src, err := os.ReadFile(path)
			if err != nil {
				t.Skipf("not in the zoo yet: %v", err)
			}
			s, err := spec.Parse(path, src)
			if err != nil {
				t.Fatal(err)
			}
			a, err := s.Evaluate(1, m.Input)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range a.Warnings {
				t.Errorf("warning: %v", w)
			}
			tot := a.Result.Total
			if tot.Params != m.Params || tot.Buffers != m.Buffers || tot.MACs != m.MACs || !slices.Equal(tot.Output[1:], calc.Shape(m.Output)) {
				t.Errorf("params %d buffers %d macs %d output %v; torchvision %d %d %d %v",
					tot.Params, tot.Buffers, tot.MACs, tot.Output[1:], m.Params, m.Buffers, m.MACs, m.Output)
			}
			var got []string
			for i, n := range a.Net.Nodes {
				if n.Type.RankOf(calc.Conv1d) > 0 || n.Type.RankOf(calc.ConvTranspose1d) > 0 || n.Type == calc.Linear {
					l := a.Result.Layers[i]
					got = append(got, fmt.Sprintf("%s %v %d", n.Type, []int64(l.Output[1:]), l.MACs))
				}
			}
			var want []string
			for _, raw := range m.Layers {
				var row []json.RawMessage
				var typ string
				var out []int64
				var macs int64
				if json.Unmarshal(raw, &row) != nil || len(row) != 3 || json.Unmarshal(row[0], &typ) != nil ||
					json.Unmarshal(row[1], &out) != nil || json.Unmarshal(row[2], &macs) != nil {
					t.Fatalf("bad layer row %s", raw)
				}
				want = append(want, fmt.Sprintf("%s %v %d", typ, out, macs))
			}
			for i := 0; i < max(len(got), len(want)); i++ {
				var g, w string
				if i < len(got) {
					g = got[i]
				}
				if i < len(want) {
					w = want[i]
				}
				if g != w {
					t.Errorf("conv/linear layer %d of %d (torchvision %d): got %q, torchvision %q", i+1, len(got), len(want), g, w)
					break
				}
			}
		})
	}
}

// TestTorchvisionReceptiveFields compares the zoo's receptive fields with
// the ones gen_torchvision.py measured on torchvision's models by autograd
// (rf_samples): the field of the last feature map before global pooling
// (the last node before the last adaptive pool: squeeze-excitation gates
// pool inside the blocks), at an input large
// enough that the field is not clipped. A network whose field is the whole
// input through a squeeze-excitation gate has none in cnncalc.
func TestTorchvisionReceptiveFields(t *testing.T) {
	data, err := os.ReadFile("testdata/torch/torchvision.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Samples []struct {
			Builder   string             `json:"builder"`
			Input     []int64            `json:"input"`
			Global    bool               `json:"global"`
			Native    map[string]any     `json:"native"`
			Unclipped map[string][]int64 `json:"unclipped"`
		} `json:"rf_samples"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Samples) < 8 {
		t.Fatalf("%d receptive-field samples, want 8", len(doc.Samples))
	}
	for _, s := range doc.Samples {
		t.Run(s.Builder, func(t *testing.T) {
			path := filepath.Join("testdata", "zoo", s.Builder+".yaml")
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			sp, err := spec.Parse(path, src)
			if err != nil {
				t.Fatal(err)
			}
			input, want := s.Input, int64(0)
			switch {
			case len(s.Unclipped["h"]) == 2:
				want = s.Unclipped["h"][0]
				input = []int64{s.Input[0], s.Unclipped["h"][1], s.Unclipped["h"][1]}
			case s.Native != nil:
				h, _ := s.Native["h"].([]any)
				if len(h) == 4 && h[3] == false {
					want = int64(h[2].(float64))
				}
			}
			a, err := sp.Evaluate(1, input)
			if err != nil {
				t.Fatal(err)
			}
			feat := -1
			for i, n := range a.Net.Nodes {
				if n.Type == calc.AdaptiveAvgPool2d || n.Type == calc.AdaptiveMaxPool2d {
					feat = i - 1
				}
			}
			if feat < 0 {
				t.Fatal("no global pool")
			}
			rf := a.Result.Layers[feat].RF
			if s.Global {
				if rf != nil {
					t.Errorf("torchvision's field is the whole input (a global gate); cnncalc gives %v", rf.Size)
				}
				return
			}
			if want == 0 {
				t.Fatalf("no unclipped measurement")
			}
			if rf == nil || rf.Size[0] != want || rf.Size[1] != want {
				t.Errorf("receptive field at %s (input %v): cnncalc %v, torchvision %d", a.Net.Nodes[feat].Name, input, rf, want)
			}
		})
	}
}
