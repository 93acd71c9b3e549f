package verify_test

import (
	"testing"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/exec"
	"github.com/cnncalc/cnncalc/exec/verify"
	"github.com/cnncalc/cnncalc/spec"
)

// BenchmarkProbe times the receptive-field probe (MeasureRF) alone, beside
// the forward pass of the same network (BenchmarkProbe/.../forward), on
// resnet50 at 3x224x224 and on one conv over 3x1024x1024; -benchmem's B/op
// is the probe's allocation.
func BenchmarkProbe(b *testing.B) {
	for _, c := range []struct {
		name, src string
		input     []int64
	}{
		{"resnet50", "", nil},
		{"conv1024", "input: [3, 1024, 1024]\nlayers:\n  - conv2d: {out: 8, kernel: 3, padding: 1}\n", nil},
	} {
		var net *calc.Network
		var rfs []*calc.RF
		setup := func(b *testing.B) {
			var a = loadOrParse(b, c.name, c.src)
			net = &a.Net
			rfs = make([]*calc.RF, len(a.Result.Layers))
			for i := range rfs {
				rfs[i] = a.Result.Layers[i].RF
			}
		}
		b.Run(c.name+"/probe", func(b *testing.B) {
			setup(b)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := verify.MeasureRF(net, rfs); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/forward", func(b *testing.B) {
			setup(b)
			plan, err := exec.NewPlan(net)
			if err != nil {
				b.Fatal(err)
			}
			params := plan.Init(1)
			x := exec.New(toInts(net.Input)...)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := plan.Forward(params, x, exec.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func loadOrParse(b *testing.B, name, src string) *spec.Analysis {
	if src == "" {
		return load(b, "../../testdata/zoo/"+name+".yaml", 0, nil)
	}
	s, err := spec.Parse(name+".yaml", []byte(src))
	if err != nil {
		b.Fatal(err)
	}
	a, err := s.Evaluate(0, nil)
	if err != nil {
		b.Fatal(err)
	}
	return a
}
