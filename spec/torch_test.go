package spec

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/cnncalc/cnncalc/calc"
	"go.yaml.in/yaml/v3"
)

// torchCase is one single-layer case of testdata/torch/layers.json, whose
// numbers come from constructing and running the torch.nn module.
type torchCase struct {
	Input   []int64 `json:"input"`
	Batch   int64   `json:"batch"`
	Layer   any     `json:"layer"`
	Output  []int64 `json:"output"`
	Params  int64   `json:"params"`
	Buffers int64   `json:"buffers"`
	MACs    int64   `json:"macs"`
	Error   string  `json:"error"`
}

// singleLayerSpec renders a one-layer spec in the contract's YAML.
func singleLayerSpec(t *testing.T, input []int64, batch int64, layers []any) []byte {
	t.Helper()
	doc := map[string]any{"input": input, "batch": batch, "layers": layers}
	b, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTorchLayers(t *testing.T) {
	data, err := os.ReadFile("../testdata/torch/layers.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []torchCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 500 {
		t.Fatalf("only %d cases", len(cases))
	}
	for i, c := range cases {
		name := fmt.Sprintf("%d_%v", i, c.Layer)
		src := singleLayerSpec(t, c.Input, c.Batch, []any{c.Layer})
		s, err := Parse("case.yaml", src)
		var res *calc.Result
		if err == nil {
			var a *Analysis
			if a, err = s.Evaluate(0, nil); a != nil {
				res = a.Result
			}
		}
		if c.Error != "" {
			if err == nil {
				t.Errorf("%s: input %v: PyTorch fails (%s), cnncalc gives %v", name, c.Input, c.Error, res.Total.Output)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: input %v: %v\n%s", name, c.Input, err, src)
			continue
		}
		got := res.Layers[0]
		if fmt.Sprint(got.Output) != fmt.Sprint(c.Output) || got.Params != c.Params || got.Buffers != c.Buffers || got.MACs != c.MACs {
			t.Errorf("%s: input %v:\n got output %v params %d buffers %d macs %d\nwant output %v params %d buffers %d macs %d (PyTorch)",
				name, c.Input, got.Output, got.Params, got.Buffers, got.MACs, c.Output, c.Params, c.Buffers, c.MACs)
		}
	}
}

// rfCase is a conv/pool stack whose receptive field PyTorch measured by
// back-propagating one output unit to the input (testdata/torch/gen_rf.py).
type rfCase struct {
	Input  []int64 `json:"input"`
	Layers []any   `json:"layers"`
	RF     struct {
		Size  []int64   `json:"size"`
		Jump  []int64   `json:"jump"`
		Start []float64 `json:"start"`
	} `json:"rf"`
}

func TestTorchReceptiveFields(t *testing.T) {
	data, err := os.ReadFile("../testdata/torch/rf.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []rfCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 100 {
		t.Fatalf("only %d cases", len(cases))
	}
	for i, c := range cases {
		src := singleLayerSpec(t, c.Input, 1, c.Layers)
		s, err := Parse("rf.yaml", src)
		if err != nil {
			t.Errorf("case %d: %v", i, err)
			continue
		}
		a, err := s.Evaluate(0, nil)
		if err != nil {
			t.Errorf("case %d: %v\n%s", i, err, src)
			continue
		}
		res := a.Result
		rf := res.Layers[len(res.Layers)-1].RF
		if rf == nil {
			t.Errorf("case %d: no receptive field\n%s", i, src)
			continue
		}
		if fmt.Sprint(rf.Size, rf.Jump, rf.Start) != fmt.Sprint(c.RF.Size, c.RF.Jump, c.RF.Start) {
			t.Errorf("case %d: got size %v jump %v start %v, PyTorch measured size %v jump %v start %v\n%s",
				i, rf.Size, rf.Jump, rf.Start, c.RF.Size, c.RF.Jump, c.RF.Start, src)
		}
	}
}
