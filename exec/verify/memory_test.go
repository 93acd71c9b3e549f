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
	if want := int64(4 * 1024 * calc.MaxDim); probe < want {
		t.Errorf("probe estimate %d bytes, below its impulses' %d", probe, want)
	}
	if got, want := plan.Shapes[0][2], calc.MaxDim-2; got != want {
		t.Errorf("conv output %d positions, want %d", got, want)
	}
}

// TestMemoryEstimateSaturates: a probe whose impulse batch makes sizes
// beyond int64 is estimated at math.MaxInt64, not at a wrapped-around
// (negative or small) size that would pass any limit.
func TestMemoryEstimateSaturates(t *testing.T) {
	// 3 axes of 2^19: the network is 2^57 values (calc accepts it); the
	// probe's 1,024 x 3 impulse images of it are 2^68.5 bytes.
	a := analyse(t, "input: [1, 4, 4, 4]\nlayers:\n  - conv3d: {out: 1, kernel: 1}\n", []int64{1, 1 << 19, 1 << 19, 1 << 19})
	plan, err := exec.NewPlan(&a.Net)
	if err != nil {
		t.Fatal(err)
	}
	_, probe, err := verify.CrossCheckMemory(plan, a.Result)
	if err != nil {
		t.Fatal(err)
	}
	if probe != math.MaxInt64 {
		t.Errorf("probe estimate %d, want math.MaxInt64", probe)
	}
	if m := plan.Memory(); m <= 0 {
		t.Errorf("forward estimate %d", m)
	}
}
