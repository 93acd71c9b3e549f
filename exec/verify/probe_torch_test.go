package verify

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/exec"
	"github.com/cnncalc/cnncalc/spec"
)

// probeCase is one network of testdata/torch/probe/probe.json: the input
// span every output unit sees along each axis through the central unit,
// and the receptive field at the central unit, as PyTorch measured them
// (gen_probe.py: impulse images through real modules, reflect, replicate
// and circular padding included).
type probeCase struct {
	Name   string          `json:"name"`
	Input  []int64         `json:"input"`
	Layers json.RawMessage `json:"layers"`
	Output []int           `json:"output"`
	Centre []int           `json:"centre"`
	Spans  [][]*[2]int     `json:"spans"`
	RF     *struct {
		Size, Jump []int64
		Start      []float64
	} `json:"rf"`
}

func loadProbeCases(t *testing.T) []probeCase {
	t.Helper()
	data, err := os.ReadFile("../../testdata/torch/probe/probe.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []probeCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

func (c *probeCase) analyse(t *testing.T) *spec.Analysis {
	t.Helper()
	src, _ := json.Marshal(map[string]any{"name": c.Name, "input": c.Input, "layers": c.Layers})
	s, err := spec.Parse(c.Name+".yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Evaluate(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestSupportTorch: the support sweep sees, for every unit along each axis
// through the centre (border units too, whose reflected, replicated or
// wrapped taps land on other pixels), the span PyTorch's modules read.
func TestSupportTorch(t *testing.T) {
	for _, c := range loadProbeCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			a := c.analyse(t)
			rfs := make([]*calc.RF, len(a.Result.Layers))
			for i := range rfs {
				rfs[i] = a.Result.Layers[i].RF
			}
			pr, err := newProbe(&a.Net, rfs)
			if err != nil || pr == nil {
				t.Fatalf("probe: %v", err)
			}
			last := len(pr.plan.Net.Nodes) - 1
			var units []exec.Unit
			for ax := range c.Spans {
				for k := range c.Spans[ax] {
					coord := append([]int{0, 0}, c.Centre...)
					coord[2+ax] = k
					units = append(units, exec.Unit{Node: last, Coord: coord})
				}
			}
			for _, word := range exec.SupportWords {
				sup, _, err := pr.plan.Supports(units, word)
				if err != nil {
					t.Fatal(err)
				}
				u := 0
				for ax := range c.Spans {
					for k, want := range c.Spans[ax] {
						s := sup[u]
						u++
						got := [2]int{s.Lo[2+ax], s.Hi[2+ax]}
						if want == nil && got[0] != -1 || want != nil && got != *want {
							t.Errorf("%d-byte words: axis %d unit %d sees %v, PyTorch %v", word, ax, k, got, want)
						}
					}
				}
			}
		})
	}
}

// TestMeasureRFTorch: where PyTorch shows a receptive field at the central
// unit, the probe measures it and calc computes it; elsewhere the probe
// measures nothing that disagrees with calc. These are issue 11's false
// alarms (a dilated conv1d and maxpool1d wider than the old 1,024-position
// window, reflect padding wider than the kernel's reach).
func TestMeasureRFTorch(t *testing.T) {
	for _, c := range loadProbeCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			a := c.analyse(t)
			rfs := make([]*calc.RF, len(a.Result.Layers))
			for i := range rfs {
				rfs[i] = a.Result.Layers[i].RF
			}
			meas, err := MeasureRF(&a.Net, rfs)
			if err != nil {
				t.Fatal(err)
			}
			i := len(rfs) - 1
			m, rf := meas[i], rfs[i]
			if c.RF != nil {
				for ax := range c.RF.Size {
					if rf.Size[ax] != c.RF.Size[ax] || rf.Jump[ax] != c.RF.Jump[ax] || rf.Start[ax] != c.RF.Start[ax] {
						t.Errorf("axis %d: calc %d/%d/%v, PyTorch %d/%d/%v", ax, rf.Size[ax], rf.Jump[ax], rf.Start[ax], c.RF.Size[ax], c.RF.Jump[ax], c.RF.Start[ax])
					}
					if !m.OK[ax] || !m.JumpOK[ax] {
						t.Errorf("axis %d: unmeasured (%s), PyTorch shows %d/%d/%v", ax, m.Unmeasured[ax], c.RF.Size[ax], c.RF.Jump[ax], c.RF.Start[ax])
						continue
					}
					if m.Size[ax] != c.RF.Size[ax] || m.Jump[ax] != c.RF.Jump[ax] || m.Start[ax] != c.RF.Start[ax] {
						t.Errorf("axis %d: measured %d/%d/%v, PyTorch %d/%d/%v", ax, m.Size[ax], m.Jump[ax], m.Start[ax], c.RF.Size[ax], c.RF.Jump[ax], c.RF.Start[ax])
					}
				}
			}
			for ax := range rf.Size {
				if m.OK[ax] && (m.Size[ax] != rf.Size[ax] || m.Start[ax] != rf.Start[ax] || m.JumpOK[ax] && m.Jump[ax] != rf.Jump[ax]) {
					t.Errorf("axis %d: measured %d/%d/%v, calc %d/%d/%v", ax, m.Size[ax], m.Jump[ax], m.Start[ax], rf.Size[ax], rf.Jump[ax], rf.Start[ax])
				}
				if !m.OK[ax] && m.Unmeasured[ax] == "" {
					t.Errorf("axis %d: unmeasured without a reason", ax)
				}
			}
		})
	}
}

// TestSupportRFJSON: on the 150 random conv/pool stacks of
// testdata/torch/rf.json (1-, 2- and 3-D, same padding, zeropad, ceil
// mode, dilation), the unit PyTorch's gradient measured sees the span it
// saw, and the probe measures the field PyTorch's contract gives there or
// nothing that disagrees with it.
func TestSupportRFJSON(t *testing.T) {
	data, err := os.ReadFile("../../testdata/torch/rf.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Input  []int64          `json:"input"`
		Layers json.RawMessage  `json:"layers"`
		RF     map[string][]any `json:"rf"`
		Probe  struct {
			Unit, Lo, Hi []int
		} `json:"probe"`
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	measured := 0
	for n, c := range cases {
		pc := probeCase{Name: fmt.Sprintf("rf%d", n), Input: c.Input, Layers: c.Layers}
		a := pc.analyse(t)
		rfs := make([]*calc.RF, len(a.Result.Layers))
		for i := range rfs {
			rfs[i] = a.Result.Layers[i].RF
		}
		pr, err := newProbe(&a.Net, rfs)
		if err != nil || pr == nil {
			t.Fatalf("case %d: probe: %v", n, err)
		}
		last := len(pr.plan.Net.Nodes) - 1
		sup, _, err := pr.plan.Supports([]exec.Unit{{Node: last, Coord: append([]int{0, 0}, c.Probe.Unit...)}}, 8)
		if err != nil {
			t.Fatal(err)
		}
		for ax := range c.Probe.Unit {
			if got := [2]int{sup[0].Lo[2+ax], sup[0].Hi[2+ax]}; got != [2]int{c.Probe.Lo[ax], c.Probe.Hi[ax]} {
				t.Errorf("case %d %s axis %d: unit %v sees %v, PyTorch [%d %d]", n, c.Layers, ax, c.Probe.Unit, got, c.Probe.Lo[ax], c.Probe.Hi[ax])
			}
		}
		meas, err := MeasureRF(&a.Net, rfs)
		if err != nil {
			t.Fatal(err)
		}
		m := meas[len(meas)-1]
		for ax := range c.Probe.Unit {
			if !m.OK[ax] {
				continue
			}
			measured++
			size, jump, start := c.RF["size"][ax].(float64), c.RF["jump"][ax].(float64), c.RF["start"][ax].(float64)
			if float64(m.Size[ax]) != size || m.JumpOK[ax] && float64(m.Jump[ax]) != jump || m.Start[ax] != start {
				t.Errorf("case %d %s axis %d: measured %d/%d/%v, PyTorch %v/%v/%v", n, c.Layers, ax, m.Size[ax], m.Jump[ax], m.Start[ax], size, jump, start)
			}
		}
	}
	if measured < 150 {
		t.Errorf("%d axes measured over 150 networks", measured)
	}
	t.Logf("%d axes measured over %d networks", measured, len(cases))
}
