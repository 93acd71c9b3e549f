package verify_test

import (
	"math"
	"runtime"
	"testing"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/exec"
	"github.com/cnncalc/cnncalc/exec/verify"
	"github.com/cnncalc/cnncalc/spec"
)

// allocated returns the bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func analyse(t *testing.T, src string, input []int64) *spec.Analysis {
	t.Helper()
	s, err := spec.Parse("net.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Evaluate(0, input)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestMemoryEstimateLongAxis: a 1-D input of 2^36 positions (calc.MaxDim)
// is planned and estimated with a few KiB allocated and no work per
// position: before, counting its windows took 44 s and the probe's
// estimate allocated its 1,024 impulse images (256 TiB) to measure them.
// The probe's estimate stays within the forward pass's activations.
func TestMemoryEstimateLongAxis(t *testing.T) {
	a := analyse(t, "input: [1, 16]\nlayers:\n  - conv1d: {out: 1, kernel: 3}\n  - maxpool1d: {kernel: 3, ceil_mode: true}\n", []int64{1, calc.MaxDim})
	var plan *exec.Plan
	var fwd, probe int64
	var err error
	n := allocated(func() {
		if plan, err = exec.NewPlan(&a.Net); err != nil {
			return
		}
		fwd, probe, err = verify.CrossCheckMemory(plan, a.Result)
	})
	if err != nil {
		t.Fatal(err)
	}
	if n > 64<<10 {
		t.Errorf("planning and estimating allocated %d bytes", n)
	}
	if want := int64(4 * calc.MaxDim); fwd < want {
		t.Errorf("forward estimate %d bytes, below the input's %d", fwd, want)
	}
	if want := int64(calc.MaxDim); probe < want || probe > plan.PeakBytes {
		t.Errorf("probe estimate %d bytes: want at least a byte per input position (%d) and at most the forward pass's activations (%d)", probe, want, plan.PeakBytes)
	}
	if got, want := plan.Shapes[0][2], calc.MaxDim-2; got != want {
		t.Errorf("conv output %d positions, want %d", got, want)
	}
}

// TestMemoryEstimateSaturates: a network whose sizes go beyond int64 is
// estimated at math.MaxInt64, forward pass and probe, not at a wrapped-
// around (negative or small) size that would pass any limit; the probe of
// a large one that fits is estimated within the forward pass's
// activations, with nothing allocated per position.
func TestMemoryEstimateSaturates(t *testing.T) {
	huge := &calc.Network{Input: calc.Shape{1, 1, 1 << 30, 1 << 30, 1 << 30}, Nodes: []calc.Node{{Layer: calc.Layer{Type: calc.Conv3d, Out: 1, Kernel: []int64{1}}, From: []int{calc.Input}}}}
	plan, err := exec.NewPlan(huge)
	if err != nil {
		t.Fatal(err)
	}
	if m := plan.Memory(); m != math.MaxInt64 {
		t.Errorf("forward estimate %d, want math.MaxInt64", m)
	}
	for _, w := range exec.SupportWords {
		if m := plan.SupportMemory(w); m != math.MaxInt64 {
			t.Errorf("support sweep with %d-byte words: estimate %d, want math.MaxInt64", w, m)
		}
	}
	// 3 axes of 2^19: the network is 2^57 values (calc accepts it).
	a := analyse(t, "input: [1, 4, 4, 4]\nlayers:\n  - conv3d: {out: 1, kernel: 1}\n", []int64{1, 1 << 19, 1 << 19, 1 << 19})
	if plan, err = exec.NewPlan(&a.Net); err != nil {
		t.Fatal(err)
	}
	var fwd, probe int64
	n := allocated(func() { fwd, probe, err = verify.CrossCheckMemory(plan, a.Result) })
	if err != nil {
		t.Fatal(err)
	}
	if fwd <= 0 || probe <= 0 || probe > plan.PeakBytes {
		t.Errorf("forward estimate %d, probe %d: want the probe within the forward pass's activations %d", fwd, probe, plan.PeakBytes)
	}
	if n > 64<<10 {
		t.Errorf("estimating allocated %d bytes", n)
	}
}
