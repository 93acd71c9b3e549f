package verify

import (
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/exec"
	"github.com/cnncalc/cnncalc/spec"
)

func analyseSrc(t *testing.T, src string) *spec.Analysis {
	t.Helper()
	s, err := spec.Parse("net.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Evaluate(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func fieldsOf(a *spec.Analysis) []*calc.RF {
	rfs := make([]*calc.RF, len(a.Result.Layers))
	for i := range rfs {
		rfs[i] = a.Result.Layers[i].RF
	}
	return rfs
}

// allocatedBy returns the bytes f allocates on the heap.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestProbeWithinForward: the probe of issue 11's runs the forward pass
// fits (one conv over 3x1024x1024, refused before as needing 24.6 GB of
// probe; a dilated max pool over 1x1000x1000, 15 GB before for a forward
// pass of a few MiB) is estimated within the forward pass's activations,
// allocates no more than its estimate, and measures the field.
func TestProbeWithinForward(t *testing.T) {
	for _, src := range []string{
		"input: [3, 1024, 1024]\nlayers:\n  - conv2d: {out: 8, kernel: 3, padding: 1}\n",
		"input: [1, 1000, 1000]\nlayers:\n  - maxpool2d: {kernel: 2, stride: 2, padding: 1, dilation: 2}\n",
	} {
		a := analyseSrc(t, src)
		plan, err := exec.NewPlan(&a.Net)
		if err != nil {
			t.Fatal(err)
		}
		fwd, probe, err := CrossCheckMemory(plan, a.Result)
		if err != nil {
			t.Fatal(err)
		}
		if probe <= 0 || probe > plan.PeakBytes {
			t.Errorf("%s: probe estimate %d bytes, forward pass %d (activations %d)", src, probe, fwd, plan.PeakBytes)
		}
		var meas []*MeasuredRF
		n := allocatedBy(func() { meas, err = MeasureRFWithin(&a.Net, fieldsOf(a), plan.PeakBytes) })
		if err != nil {
			t.Fatal(err)
		}
		if n > uint64(probe)+1<<20 {
			t.Errorf("%s: the probe allocated %d bytes, estimated %d", src, n, probe)
		}
		rf, m := a.Result.Layers[0].RF, meas[0]
		for ax := range rf.Size {
			if !m.OK[ax] || !m.JumpOK[ax] || m.Size[ax] != rf.Size[ax] || m.Jump[ax] != rf.Jump[ax] || m.Start[ax] != rf.Start[ax] {
				t.Errorf("%s axis %d: measured %+v, calc %d/%d/%v", src, ax, m, rf.Size[ax], rf.Jump[ax], rf.Start[ax])
			}
		}
	}
}

// TestProbeOverBudget: a probe that does not fit its budget allocates
// nothing per position (before, a 3x2048x2048 input's impulses were
// allocated before the memory check) and says why in every field: at
// least a byte for each of the 2048x2048 positions of the input and of
// the conv's output (the relu passes the conv's on), 8 MiB.
func TestProbeOverBudget(t *testing.T) {
	a := analyseSrc(t, "input: [3, 2048, 2048]\nlayers:\n  - conv2d: {out: 8, kernel: 3, padding: 1}\n  - relu\n")
	var meas []*MeasuredRF
	var err error
	n := allocatedBy(func() { meas, err = MeasureRFWithin(&a.Net, fieldsOf(a), 1<<20) })
	if err != nil {
		t.Fatal(err)
	}
	if n > 256<<10 {
		t.Errorf("refusing allocated %d bytes", n)
	}
	for i, m := range meas {
		for ax := range m.OK {
			if m.OK[ax] || !strings.Contains(m.Unmeasured[ax], "the probe needs 8.0 MiB, above its budget of 1.0 MiB") {
				t.Errorf("node %d axis %d: %v %q", i, ax, m.OK[ax], m.Unmeasured[ax])
			}
		}
	}
}

// TestProbeWork: on resnet50 the probe marks far fewer positions than the
// forward pass performs MACs (it was 448 impulse images through a
// one-channel copy, more work than the forward pass), in few sweeps, and
// measures as many fields as that probe did.
func TestProbeWork(t *testing.T) {
	a := loadZoo(t, "resnet50")
	plan, err := exec.NewPlan(&a.Net)
	if err != nil {
		t.Fatal(err)
	}
	meas, st, err := measureRF(&a.Net, fieldsOf(a), plan.PeakBytes)
	if err != nil {
		t.Fatal(err)
	}
	var macs int64
	for _, l := range a.Result.Layers {
		macs += l.MACs
	}
	if st.Taps <= 0 || st.Taps > macs/100 {
		t.Errorf("%d marks, %d forward MACs: want under 1%%", st.Taps, macs)
	}
	if st.Sweeps > 32 {
		t.Errorf("%d sweeps", st.Sweeps)
	}
	ok := 0
	for _, m := range meas {
		if m != nil && m.OK[0] && m.OK[1] {
			ok++
		}
	}
	if ok < 113 {
		t.Errorf("%d layers measured, the forward probe measured 113", ok)
	}
	t.Logf("%d sweeps, %d marks (forward %d MACs), %d layers measured", st.Sweeps, st.Taps, macs, ok)
}

func loadZoo(t *testing.T, name string) *spec.Analysis {
	t.Helper()
	path := "../../testdata/zoo/" + name + ".yaml"
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
	return a
}

// TestProbeDilatedPastMap: deeplabv3's ASPP conv of dilation 36 on a
// 28-unit map reads only its central tap inside the map; the span its
// central unit sees lies well inside the input, yet the field calc gives
// (the outer taps' too) reaches past it. Every unit read padding on the
// way: the field is unmeasured, not a disagreement (it once was one).
func TestProbeDilatedPastMap(t *testing.T) {
	a := analyseSrc(t, "input: [1, 200]\nlayers:\n  - conv1d: {out: 2, kernel: 5, stride: 4}\n  - conv1d: {out: 2, kernel: 3, dilation: 30, padding: 30}\n")
	meas, err := MeasureRF(&a.Net, fieldsOf(a))
	if err != nil {
		t.Fatal(err)
	}
	if m := meas[0]; !m.OK[0] || m.Size[0] != 5 {
		t.Errorf("first conv: %+v, want a field of 5", m)
	}
	if m := meas[1]; m.OK[0] || m.Unmeasured[0] != "field reaches past the input's border" {
		t.Errorf("dilated conv: %+v, want unmeasured", m)
	}
}
