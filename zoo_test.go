package cnncalc

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/internal/zoogen"
	"github.com/cnncalc/cnncalc/spec"
)

// torchNet is the JSON testdata/torch/spec2torch.py writes: the network the
// spec describes, built from torch.nn modules and run by PyTorch.
type torchNet struct {
	Input  []int64      `json:"input"`
	Layers []torchLayer `json:"layers"`
	Total  struct {
		Params  int64   `json:"params"`
		Buffers int64   `json:"buffers"`
		MACs    int64   `json:"macs"`
		Output  []int64 `json:"output"`
	} `json:"total"`
}

// torchLayer is one layer as PyTorch reported it.
type torchLayer = struct {
	Type    string    `json:"type"`
	Input   [][]int64 `json:"input"`
	Output  []int64   `json:"output"`
	Params  int64     `json:"params"`
	Buffers int64     `json:"buffers"`
	MACs    int64     `json:"macs"`
}

// sameLayer compares a layer's kind, shapes and counts with PyTorch's, as
// numbers.
func sameLayer(op calc.Op, g calc.LayerResult, w torchLayer) bool {
	if op.String() != w.Type || len(g.Inputs) != len(w.Input) || !slices.Equal(g.Output, calc.Shape(w.Output)) ||
		g.Params != w.Params || g.Buffers != w.Buffers || g.MACs != w.MACs {
		return false
	}
	for k := range g.Inputs {
		if !slices.Equal(g.Inputs[k], calc.Shape(w.Input[k])) {
			return false
		}
	}
	return true
}

func analyzeFile(t *testing.T, path string) (*spec.Spec, *calc.Result) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := spec.Parse(path, data)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Evaluate(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, a.Result
}

// TestAgainstPyTorch compares every layer of every example spec with the
// same network built and run by PyTorch (spec2torch). The zoo's generated
// torchvision builders are compared with torchvision's own models
// (TestTorchvisionZoo), and here too where gen_zoo.py has run them.
func TestAgainstPyTorch(t *testing.T) {
	for _, dir := range []string{"zoo", "specs"} {
		specs, _ := filepath.Glob(filepath.Join("testdata", dir, "*.yaml"))
		if len(specs) == 0 {
			t.Fatalf("no specs in testdata/%s", dir)
		}
		for _, path := range specs {
			name := strings.TrimSuffix(filepath.Base(path), ".yaml")
			ref := filepath.Join("testdata", "torch", dir, name+".json")
			if _, err := os.Stat(ref); err != nil {
				if src, _ := os.ReadFile(path); strings.HasPrefix(string(src), zoogen.Header) {
					continue // a generated builder without a spec2torch run: TestTorchvisionZoo has it
				}
			}
			t.Run(dir+"/"+name, func(t *testing.T) {
				data, err := os.ReadFile(filepath.Join("testdata", "torch", dir, name+".json"))
				if err != nil {
					t.Fatalf("no PyTorch reference: %v (run testdata/torch/gen_zoo.py)", err)
				}
				var want torchNet
				if err := json.Unmarshal(data, &want); err != nil {
					t.Fatal(err)
				}
				s, res := analyzeFile(t, path)
				if len(res.Layers) != len(want.Layers) {
					t.Fatalf("%d layers, PyTorch has %d", len(res.Layers), len(want.Layers))
				}
				for i, w := range want.Layers {
					g := res.Layers[i]
					n := s.Net.Nodes[i]
					if !sameLayer(n.Type, g, w) {
						t.Errorf("layer %d (%s, %s):\n got %v %v %v %d %d %d\nwant %s %v %v %d %d %d (PyTorch)", i+1, n.Name, s.Info[i].Path,
							n.Type, g.Inputs, g.Output, g.Params, g.Buffers, g.MACs, w.Type, w.Input, w.Output, w.Params, w.Buffers, w.MACs)
					}
				}
				tot := res.Total
				if tot.Params != want.Total.Params || tot.Buffers != want.Total.Buffers || tot.MACs != want.Total.MACs || !slices.Equal(tot.Output, want.Total.Output) {
					t.Errorf("totals: got %d %d %d %v, PyTorch %d %d %d %v", tot.Params, tot.Buffers, tot.MACs, tot.Output,
						want.Total.Params, want.Total.Buffers, want.Total.MACs, want.Total.Output)
				}
			})
		}
	}
}

// TestTorchvisionPublished checks the zoo against torchvision's published
// parameter counts and GFLOPS (torchvision counts multiply-adds, to the
// digits it publishes).
func TestTorchvisionPublished(t *testing.T) {
	for _, c := range []struct {
		name   string
		params int64
		gmacs  string
	}{
		{"alexnet", 61_100_840, "0.714"},
		{"vgg16", 138_357_544, "15.47"},
		{"resnet18", 11_689_512, "1.814"},
		{"resnet50", 25_557_032, "4.089"},
		{"mobilenet_v2", 3_504_872, "0.30"},
		{"googlenet", 6_624_904, "1.50"},
		{"densenet121", 7_978_856, "2.834"},
	} {
		_, res := analyzeFile(t, filepath.Join("testdata", "zoo", c.name+".yaml"))
		if res.Total.Params != c.params {
			t.Errorf("%s: params %d, torchvision publishes %d", c.name, res.Total.Params, c.params)
		}
		decimals := len(c.gmacs) - strings.Index(c.gmacs, ".") - 1
		if got := fmt.Sprintf("%.*f", decimals, float64(res.Total.MACs)/1e9); got != c.gmacs {
			t.Errorf("%s: %d MACs = %s G, torchvision publishes %s GFLOPS", c.name, res.Total.MACs, got, c.gmacs)
		}
	}
}

// TestRandomAgainstPyTorch checks 300 randomly generated specs (every layer
// type and wiring of the format, 1-D to 3-D) layer by layer against the
// networks PyTorch built from them, at the spec's batch and a second one,
// and that the specs PyTorch rejects are rejected
// (testdata/torch/random/gen_random.py).
func TestRandomAgainstPyTorch(t *testing.T) {
	refs, _ := filepath.Glob("testdata/torch/random/valid/*.json")
	if len(refs) < 300 {
		t.Fatalf("only %d references", len(refs))
	}
	for _, ref := range refs {
		base := filepath.Base(ref)
		name := strings.SplitN(base, ".", 2)[0]
		var batch int64
		if parts := strings.Split(base, "."); len(parts) == 3 {
			fmt.Sscanf(parts[1], "b%d", &batch)
		}
		data, _ := os.ReadFile(ref)
		var want torchNet
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatal(err)
		}
		src, err := os.ReadFile(filepath.Join("testdata/torch/random/valid", name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		s, err := spec.Parse(name+".yaml", src)
		if err != nil {
			t.Errorf("%s: %v", base, err)
			continue
		}
		a, err := s.Evaluate(batch, nil)
		if err != nil {
			t.Errorf("%s: %v", base, err)
			continue
		}
		res := a.Result
		if len(res.Layers) != len(want.Layers) {
			t.Errorf("%s: %d layers, PyTorch %d", base, len(res.Layers), len(want.Layers))
			continue
		}
		for i, w := range want.Layers {
			g := res.Layers[i]
			if n := s.Net.Nodes[i]; !sameLayer(n.Type, g, w) {
				t.Errorf("%s layer %d (%s):\n got %v %v %v %d %d %d\nwant %s %v %v %d %d %d (PyTorch)", base, i+1, s.Info[i].Path,
					n.Type, g.Inputs, g.Output, g.Params, g.Buffers, g.MACs, w.Type, w.Input, w.Output, w.Params, w.Buffers, w.MACs)
				break
			}
		}
	}
	bad, _ := filepath.Glob("testdata/torch/random/bad/*.yaml")
	if len(bad) < 30 {
		t.Fatalf("only %d rejected cases", len(bad))
	}
	for _, path := range bad {
		src, _ := os.ReadFile(path)
		why, _ := os.ReadFile(strings.TrimSuffix(path, ".yaml") + ".err")
		s, err := spec.Parse(path, src)
		if err == nil {
			_, err = s.Evaluate(0, nil)
		}
		if err == nil {
			t.Errorf("%s: accepted, but %s", path, strings.TrimSpace(string(why)))
		}
	}
}
