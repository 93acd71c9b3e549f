package verify_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/exec"
	"github.com/cnncalc/cnncalc/exec/verify"
	"github.com/cnncalc/cnncalc/spec"
)

func load(t testing.TB, path string, batch int64, input []int64) *spec.Analysis {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := spec.Parse(path, data)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Evaluate(batch, input)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestCrossCheck runs every small spec and checks, layer by layer, that the
// shapes exec produces, the MACs its kernels count and the receptive fields
// it measures equal calc's.
func TestCrossCheck(t *testing.T) {
	specs, _ := filepath.Glob("../../testdata/specs/*.yaml")
	specs = append(specs, "../../testdata/zoo/lenet5.yaml", "../../testdata/zoo/audio1d.yaml", "../../testdata/zoo/unet.yaml")
	for _, path := range specs {
		t.Run(filepath.Base(path), func(t *testing.T) {
			a := load(t, path, 0, nil)
			res := a.Result
			plan, err := exec.NewPlan(&a.Net)
			if err != nil {
				t.Fatal(err)
			}
			run, err := plan.Forward(plan.Init(1), exec.New(toInts(a.Net.Input)...), exec.Options{})
			if err != nil {
				t.Fatal(err)
			}
			rfs := make([]*calc.RF, len(res.Layers))
			for i := range res.Layers {
				rfs[i] = res.Layers[i].RF
			}
			meas, err := verify.MeasureRF(&a.Net, rfs)
			if err != nil {
				t.Fatal(err)
			}
			measured := 0
			for i, l := range res.Layers {
				name := fmt.Sprintf("layer %d (%s %s)", i+1, a.Net.Nodes[i].Name, a.Spec.Info[i].Path)
				if got := fmt.Sprint(run.Layers[i].Shape); got != fmt.Sprint(l.Output) {
					t.Errorf("%s: exec shape %s, calc %v", name, got, l.Output)
				}
				if run.Layers[i].MACs != l.MACs {
					t.Errorf("%s: exec counted %d MACs, calc %d", name, run.Layers[i].MACs, l.MACs)
				}
				m := meas[i]
				if l.RF == nil || m == nil {
					continue
				}
				for a := range l.RF.Size {
					if m.OK[a] {
						measured++
						if m.Size[a] != l.RF.Size[a] {
							t.Errorf("%s axis %d: measured size %d, calc %d", name, a, m.Size[a], l.RF.Size[a])
						}
					}
					if m.JumpOK[a] && (m.Jump[a] != l.RF.Jump[a] || m.Start[a] != l.RF.Start[a]) {
						t.Errorf("%s axis %d: measured jump %d start %v, calc %d %v", name, a, m.Jump[a], m.Start[a], l.RF.Jump[a], l.RF.Start[a])
					}
				}
			}
			t.Logf("%d layers, %d receptive-field axes measured", len(res.Layers), measured)
		})
	}
}

func toInts(s calc.Shape) []int {
	out := make([]int, len(s))
	for i, v := range s {
		out[i] = int(v)
	}
	return out
}
