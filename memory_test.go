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
	// TorchvisionSaved is what torchvision's own model of a zoo builder
	// (in-place activations, functional pools) saves.
	TorchvisionSaved *struct {
		Batch      int64  `json:"batch"`
		DType      string `json:"dtype"`
		TotalSaved int64  `json:"total_saved"`
	} `json:"torchvision_saved"`
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
		// OptimizerState: bytes each optimizer holds after a step
		OptimizerState map[string]int64 `json:"optimizer_state"`
		PeakEval       *int64           `json:"peak_eval"`
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

// TestMemorySavedTorchvision: the zoo specs of torchvision builders save
// what torchvision's own models save (their ReLUs, ReLU6s and SiLUs are
// in place, the specs' are not: in PyTorch 1.13 both save the same bytes).
func TestMemorySavedTorchvision(t *testing.T) {
	n := 0
	for _, c := range loadMemoryCases(t) {
		tv := c.TorchvisionSaved
		if tv == nil {
			continue
		}
		n++
		a, err := c.parse(t).Evaluate(tv.Batch, nil)
		if err != nil {
			t.Fatal(err)
		}
		dt, _ := calc.ParseDType(tv.DType)
		m, err := calc.MemoryOf(&a.Net, a.Result, calc.MemoryOptions{DType: dt})
		if err != nil {
			t.Fatal(err)
		}
		if m.SavedBytes != tv.TotalSaved {
			t.Errorf("%s batch %d: saved %d bytes, torchvision's model %d", c.Name, tv.Batch, m.SavedBytes, tv.TotalSaved)
		}
	}
	if n < 5 {
		t.Errorf("%d torchvision models in memory.json", n)
	}
}

// peakTolerance bounds the difference between cnncalc's training-step peak
// and the one PyTorch's profiler measured on the zoo networks, by dtype:
// cnncalc accounts for tensors, not for the transient buffers of the
// kernels (oneDNN's in float32; in bfloat16, PyTorch 1.13's CPU convs are
// slow_conv2d, whose im2col columns are larger; README, "cnncalc memory").
var peakTolerance = map[string]float64{"float32": 0.03, "bfloat16": 0.10}

// TestMemoryPeakTorch: the peak of a training step (forward, then
// backward with the parameters' gradients allocated as they come) is
// within peakTolerance of what torch.profiler measured, for the zoo
// networks in float32 and bfloat16 (the one-kind nets of a few KiB are
// left out: there the kernels' buffers are the larger part).
func TestMemoryPeakTorch(t *testing.T) {
	n := 0
	for _, c := range loadMemoryCases(t) {
		if c.File == "" {
			continue
		}
		s := c.parse(t)
		for _, r := range c.Runs {
			if r.PeakTrain == nil {
				continue
			}
			dt, _ := calc.ParseDType(r.DType)
			a, err := s.Evaluate(r.Batch, nil)
			if err != nil {
				t.Fatal(err)
			}
			m, err := calc.MemoryOf(&a.Net, a.Result, calc.MemoryOptions{DType: dt})
			if err != nil {
				t.Fatal(err)
			}
			n++
			d := float64(m.StepPeak-*r.PeakTrain) / float64(*r.PeakTrain)
			t.Logf("%-20s %-8s batch %d: step peak %11d, PyTorch %11d (%+.1f%%); forward peak %10d, PyTorch %10d",
				c.Name, r.DType, r.Batch, m.StepPeak, *r.PeakTrain, 100*d, m.ForwardPeak, *r.PeakEval)
			if tol := peakTolerance[r.DType]; d > tol || d < -tol {
				t.Errorf("%s %s batch %d: step peak %d, PyTorch measured %d (%+.1f%%)", c.Name, r.DType, r.Batch, m.StepPeak, *r.PeakTrain, 100*d)
			}
		}
	}
	if n < 10 {
		t.Errorf("%d measured peaks", n)
	}
}

// TestMemoryOptimizerTorch: the optimizer state is what torch.optim's SGD
// (none), SGD with momentum, Adam and AdamW hold after a step on the
// trainable parameters, frozen layers left out.
func TestMemoryOptimizerTorch(t *testing.T) {
	n := 0
	for _, c := range loadMemoryCases(t) {
		s := c.parse(t)
		for _, r := range c.Runs {
			if r.OptimizerState == nil {
				continue
			}
			dt, _ := calc.ParseDType(r.DType)
			a, err := s.Evaluate(r.Batch, nil)
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range r.OptimizerState {
				opt, ok := calc.ParseOptimizer(name)
				if !ok {
					t.Fatalf("optimizer %q", name)
				}
				m, err := calc.MemoryOf(&a.Net, a.Result, calc.MemoryOptions{DType: dt, Optimizer: opt})
				if err != nil {
					t.Fatal(err)
				}
				n++
				if m.OptimizerBytes != want {
					t.Errorf("%s %s batch %d %s: optimizer state %d bytes, torch.optim %d", c.Name, r.DType, r.Batch, name, m.OptimizerBytes, want)
				}
			}
		}
	}
	if n < 100 {
		t.Errorf("%d optimizer states in memory.json", n)
	}
}
