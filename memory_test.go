package cnncalc

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/spec"
)

// memoryCase is one network of testdata/torch/memory.json, measured in
// PyTorch by testdata/torch/gen_memory.py.
type memoryCase struct {
	Name string          `json:"name"`
	Spec json.RawMessage `json:"spec"` // the spec itself (JSON is YAML), or
	File string          `json:"file"` // a spec file of the repository
	Runs []struct {
		Batch       int64  `json:"batch"`
		DType       string `json:"dtype"`
		Unsupported string `json:"unsupported"`
		Types       []string
		// Saved per node: [nbytes, dtype, origin] per distinct storage;
		// origin is the node whose output had it first, -1 the input,
		// null a storage of the layer's own.
		Saved      [][][3]any `json:"saved"`
		TotalSaved int64      `json:"total_saved"`
		PeakTrain  *int64     `json:"peak_train"`
		PeakEval   *int64     `json:"peak_eval"`
	} `json:"runs"`
}

func loadMemoryCases(t *testing.T) []memoryCase {
	t.Helper()
	data, err := os.ReadFile("testdata/torch/memory.json")
	if err != nil {
		t.Fatalf("%v (run testdata/torch/gen_memory.py)", err)
	}
	var doc struct {
		Torch string       `json:"torch"`
		Cases []memoryCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.Torch, "1.13") {
		t.Fatalf("memory.json was written by torch %s; the rules are PyTorch 1.13's", doc.Torch)
	}
	return doc.Cases
}

func (c *memoryCase) parse(t *testing.T) *spec.Spec {
	t.Helper()
	path, src := c.File, []byte(c.Spec)
	if path != "" {
		var err error
		if src, err = os.ReadFile(path); err != nil {
			t.Fatal(err)
		}
	} else {
		path = c.Name + ".json"
	}
	s, err := spec.Parse(path, src)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// savedKey is one saved storage as both sides describe it.
func savedKey(bytes int64, dtype string, origin string) string {
	return fmt.Sprintf("%d %s @%s", bytes, dtype, origin)
}

// TestMemorySavedTorch: for every layer kind (a small net each) and for
// zoo networks at two batch sizes, in float32 and bfloat16, every layer
// saves exactly the storages PyTorch's autograd saved (bytes, dtype, and
// which node's output the storage is, or a storage of its own), and the
// distinct storages of the whole network add up to PyTorch's total.
func TestMemorySavedTorch(t *testing.T) {
	cases := loadMemoryCases(t)
	if len(cases) < 100 {
		t.Fatalf("memory.json has %d cases", len(cases))
	}
	kinds := map[calc.Op]bool{}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			s := c.parse(t)
			for _, r := range c.Runs {
				if r.Unsupported != "" {
					continue // PyTorch has no CPU kernel for this dtype: nothing to compare
				}
				dt, ok := calc.ParseDType(r.DType)
				if !ok {
					t.Fatalf("dtype %q", r.DType)
				}
				a, err := s.Evaluate(r.Batch, nil)
				if err != nil {
					t.Fatal(err)
				}
				m, err := calc.MemoryOf(&a.Net, a.Result, calc.MemoryOptions{DType: dt})
				if err != nil {
					t.Fatal(err)
				}
				if len(m.Layers) != len(r.Saved) {
					t.Fatalf("%s batch %d: %d layers, PyTorch %d", r.DType, r.Batch, len(m.Layers), len(r.Saved))
				}
				for i, lm := range m.Layers {
					typ := a.Net.Nodes[i].Type
					kinds[typ] = true
					if typ.String() != r.Types[i] {
						t.Fatalf("node %d is %s, PyTorch's row %s", i, typ, r.Types[i])
					}
					var got, want []string
					for _, sb := range lm.Saved {
						o := "new"
						if sb.Origin != calc.NewOrigin {
							o = fmt.Sprint(sb.Origin)
						}
						got = append(got, savedKey(sb.Bytes, sb.DType.String(), o))
					}
					for _, v := range r.Saved[i] {
						o := "new"
						if v[2] != nil {
							o = fmt.Sprint(v[2])
						}
						want = append(want, savedKey(int64(v[0].(float64)), v[1].(string), o))
					}
					slices.Sort(got)
					slices.Sort(want)
					if !slices.Equal(got, want) {
						t.Errorf("%s batch %d node %d (%s): saved %v, PyTorch %v", r.DType, r.Batch, i, typ, got, want)
					}
				}
				if m.SavedBytes != r.TotalSaved {
					t.Errorf("%s batch %d: saved %d bytes in all, PyTorch %d", r.DType, r.Batch, m.SavedBytes, r.TotalSaved)
				}
			}
		})
	}
	for _, op := range calc.Ops() {
		if !kinds[op] {
			t.Errorf("%s: no PyTorch measurement of what it saves in memory.json", op)
		}
	}
}
