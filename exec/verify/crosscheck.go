package verify

import (
	"fmt"
	"strings"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/exec"
)

// Verdict is the outcome of one check of one layer.
type Verdict int

const (
	Skipped Verdict = iota // not applicable, or not measurable on this input
	Agree
	Disagree
)

func (v Verdict) String() string {
	return [...]string{"-", "ok", "FAIL"}[v]
}

// LayerCheck compares, for one node, what calc claims with what execution did.
type LayerCheck struct {
	Shape, MACs, RF Verdict
	// Measured is the receptive field the probe measured (nil where calc
	// has none); RF compares the axes it could measure.
	Measured *MeasuredRF
	// Problems states each disagreement with both numbers.
	Problems []string
	// RFNote says why a field calc gives was not measured, on the axes
	// where it was not ("field wider than the input"; "H: ..." when the
	// axes differ).
	RFNote string
}

// CrossCheck runs the network once and compares every node's output shape,
// the MACs its kernels performed and its receptive field measured by a
// probe run (MeasureRF) with calc's result. x is the input; params the
// network's tensors.
func CrossCheck(plan *exec.Plan, res *calc.Result, params []exec.Weights, x *exec.Tensor, opt exec.Options) (*exec.Run, []LayerCheck, error) {
	return crossCheck(plan, res, params, x, opt, true)
}

// CrossCheckForward is CrossCheck without the receptive-field probe: the
// executed shapes and the MACs performed only (exec --no-rf), for users
// who want the forward pass alone.
func CrossCheckForward(plan *exec.Plan, res *calc.Result, params []exec.Weights, x *exec.Tensor, opt exec.Options) (*exec.Run, []LayerCheck, error) {
	return crossCheck(plan, res, params, x, opt, false)
}

func crossCheck(plan *exec.Plan, res *calc.Result, params []exec.Weights, x *exec.Tensor, opt exec.Options, probe bool) (*exec.Run, []LayerCheck, error) {
	run, err := plan.Forward(params, x, opt)
	if err != nil {
		return nil, nil, err
	}
	rfs := make([]*calc.RF, len(res.Layers))
	for i := range res.Layers {
		rfs[i] = res.Layers[i].RF
	}
	meas := make([]*MeasuredRF, len(res.Layers))
	if probe {
		// The probe gets the forward pass's activations and workspace,
		// which are free again: it never needs more than the run it checks.
		if meas, err = MeasureRFWithin(plan.Net, rfs, plan.PeakBytes); err != nil {
			return run, nil, fmt.Errorf("receptive-field probe: %w", err)
		}
	}
	checks := make([]LayerCheck, len(res.Layers))
	for i, l := range res.Layers {
		c := &checks[i]
		got := run.Layers[i]
		c.Shape = Agree
		if !sameShape64(got.Shape, l.Output) {
			c.Shape = Disagree
			c.Problems = append(c.Problems, fmt.Sprintf("shape: executed %v, calc %v", got.Shape, []int64(l.Output)))
		}
		c.MACs = Agree
		if got.MACs != l.MACs {
			c.MACs = Disagree
			c.Problems = append(c.Problems, fmt.Sprintf("MACs: kernels performed %s, calc %s", calc.Group(got.MACs), calc.Group(l.MACs)))
		}
		m := meas[i]
		c.Measured = m
		if l.RF == nil || m == nil {
			continue
		}
		names := calc.AxisNames(len(l.RF.Size))
		c.RFNote = rfNote(m, names)
		for a := range l.RF.Size {
			if !m.OK[a] {
				continue
			}
			if c.RF == Skipped {
				c.RF = Agree
			}
			if m.Size[a] != l.RF.Size[a] {
				c.RF = Disagree
				c.Problems = append(c.Problems, fmt.Sprintf("receptive field size on %s: measured %d, calc %d", names[a], m.Size[a], l.RF.Size[a]))
			}
			if m.Start[a] != l.RF.Start[a] {
				c.RF = Disagree
				c.Problems = append(c.Problems, fmt.Sprintf("receptive field start on %s: measured %v, calc %v", names[a], m.Start[a], l.RF.Start[a]))
			}
			if m.JumpOK[a] && m.Jump[a] != l.RF.Jump[a] {
				c.RF = Disagree
				c.Problems = append(c.Problems, fmt.Sprintf("receptive field jump on %s: measured %d, calc %d", names[a], m.Jump[a], l.RF.Jump[a]))
			}
		}
	}
	return run, checks, nil
}

// CrossCheckMemory estimates the peak memory of CrossCheck's two runs, in
// bytes: the forward pass (weights and live activations) and the probe,
// which runs within the forward pass's activations and workspace (so that
// the probe never makes a run that fits not fit).
func CrossCheckMemory(plan *exec.Plan, res *calc.Result) (forward, probe int64, err error) {
	rfs := make([]*calc.RF, len(res.Layers))
	for i := range res.Layers {
		rfs[i] = res.Layers[i].RF
	}
	probe, err = ProbeMemory(plan.Net, rfs, plan.PeakBytes)
	return plan.Memory(), probe, err
}

// rfNote joins the reasons of the unmeasured axes: one reason when all
// axes share it, else "H: reason; W: reason".
func rfNote(m *MeasuredRF, names []string) string {
	var parts []string
	same := true
	for a, why := range m.Unmeasured {
		if why == "" {
			continue
		}
		if len(parts) > 0 && why != m.Unmeasured[0] {
			same = false
		}
		parts = append(parts, names[a]+": "+why)
	}
	switch {
	case len(parts) == 0:
		return ""
	case same && len(parts) == len(m.Unmeasured):
		return m.Unmeasured[0]
	}
	return strings.Join(parts, "; ")
}

// sameShape64 compares a shape exec produced with one calc computed.
func sameShape64(got []int, want calc.Shape) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if int64(got[i]) != want[i] {
			return false
		}
	}
	return true
}
