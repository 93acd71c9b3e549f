package verify

import (
	"math"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/exec"
)

// MeasuredRF is a receptive field measured by execution, per spatial axis.
// OK[a] is false where the field could not be measured on this input: no
// output unit (or pair of units, for the jump) has a field strictly inside
// the input.
type MeasuredRF struct {
	Size, Jump []int64
	Start      []float64
	OK         []bool // size and start measured
	JumpOK     []bool
}

// MeasureRF measures the receptive field of every node calc gives one
// (rfs[i] != nil), by execution. It runs a probe copy of the network: every
// conv has one output channel, weights of 1 and no bias, so that influence
// can only add up; max pooling becomes average pooling (max pooling is kept
// where it is dilated: on non-negative values it hides no influence either);
// norms, activations and dropout are the identity; a clamp at 1 after each
// conv keeps values finite. The probe's batch holds one image per position
// along each spatial axis, each a single 1 at that position (and the centre
// of the other axes); an output unit's field along an axis is the span of
// positions whose image reaches it. The field of an interior unit k (whose
// field lies strictly inside the input) gives size and start, the next
// unit's gives the jump.
func MeasureRF(net *calc.Network, rfs []*calc.RF) ([]*MeasuredRF, error) {
	pr, err := newProbe(net, rfs)
	if err != nil || pr == nil {
		return make([]*MeasuredRF, len(net.Nodes)), err
	}
	out := make([]*MeasuredRF, len(net.Nodes))
	err = forwardProbe(pr.plan, pr.weights(), pr.impulses(), func(pi int, y *exec.Tensor) {
		// A permuted tensor's spatial axes are not at 2...: its field is
		// carried on, not read off.
		if o := pr.origin[pi]; rfs[o].Layout == nil {
			out[o] = measure(y, pr.win)
		}
	})
	return out, err
}

// ProbeMemory estimates the peak memory of MeasureRF's probe run, in bytes
// (at most math.MaxInt64), from the probe's plan alone: nothing
// proportional to the input is allocated, nor work done per position.
func ProbeMemory(net *calc.Network, rfs []*calc.RF) (int64, error) {
	pr, err := newProbe(net, rfs)
	if err != nil || pr == nil {
		return 0, err
	}
	impulses := satMul(4, satMul(int64(pr.batch), numel(pr.in[2:])))
	return satAdd(pr.plan.Memory(), impulses), nil
}

// satMul and satAdd work on non-negative sizes, saturating at math.MaxInt64.
func satMul(a, b int64) int64 {
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}

func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// probeRun is the probe network (its impulse input and weights are made by
// impulses and weights, after the memory estimate) and where each probe
// node came from.
type probeRun struct {
	plan   *exec.Plan
	in     []int // the network's input shape
	batch  int   // impulse images: the window's positions along each axis
	win    [][2]int
	origin []int
}

func newProbe(net *calc.Network, rfs []*calc.RF) (*probeRun, error) {
	in := toInts(net.Input)
	nsp := len(in) - 2
	if nsp < 1 {
		return nil, nil
	}
	// The probe network: the nodes with a receptive field, in order.
	probe := &calc.Network{Name: net.Name + " (probe)"}
	index := make([]int, len(net.Nodes)) // node -> probe node, -2 when absent
	var origin []int
	for i := range net.Nodes {
		index[i] = -2
		if rfs[i] == nil {
			continue
		}
		n := net.Nodes[i]
		ok := true
		from := make([]int, len(n.From))
		for k, f := range n.From {
			if f == calc.Input {
				from[k] = calc.Input
			} else if index[f] >= 0 {
				from[k] = index[f]
			} else {
				ok = false
			}
		}
		if !ok {
			continue
		}
		l, keep := exec.ProbeLayer(n.Layer, len(net.Input))
		if !keep {
			continue
		}
		index[i] = len(probe.Nodes)
		origin = append(origin, i)
		probe.Nodes = append(probe.Nodes, calc.Node{Layer: l, Name: n.Name, From: from})
	}
	// One impulse image per position of a window along each axis: the
	// whole axis, or its central maxProbeWindow positions.
	win := make([][2]int, nsp)
	batch := 0
	for a := 0; a < nsp; a++ {
		ws := max(0, (in[2+a]-maxProbeWindow)/2)
		win[a] = [2]int{ws, min(in[2+a], ws+maxProbeWindow)}
		batch += win[a][1] - win[a][0]
	}
	// The probe has one channel throughout: its input, every conv and every
	// merge (a channel concat becomes a sum: on non-negative values the
	// support of a sum is the union of the supports).
	probe.Input = append(calc.Shape{int64(batch), 1}, net.Input[2:]...)
	plan, err := exec.NewPlan(probe)
	if err != nil {
		return nil, err
	}
	return &probeRun{plan: plan, in: in, batch: batch, win: win, origin: origin}, nil
}

// impulses is the probe's input: one image per position of each axis's
// window, a single 1 at that position (and the centre of the other axes).
func (pr *probeRun) impulses() *exec.Tensor {
	in, win := pr.in, pr.win
	nsp := len(in) - 2
	x := exec.New(append([]int{pr.batch, 1}, in[2:]...)...)
	img := int(numel(in[2:]))
	b := 0
	for a := 0; a < nsp; a++ {
		for pos := win[a][0]; pos < win[a][1]; pos++ {
			idx := 0
			for ax := 0; ax < nsp; ax++ {
				coord := in[2+ax] / 2
				if ax == a {
					coord = pos
				}
				idx = idx*in[2+ax] + coord
			}
			x.Data[b*img+idx] = 1
			b++
		}
	}
	return x
}

// weights gives every probe layer with a weight (the convs) weights of 1.
func (pr *probeRun) weights() []exec.Weights {
	params := make([]exec.Weights, len(pr.plan.Net.Nodes))
	for i := range params {
		if shapes, _ := pr.plan.TensorShapes(i); shapes[0] != nil {
			w := exec.New(shapes[0]...)
			for j := range w.Data {
				w.Data[j] = 1
			}
			params[i].Weight = w
		}
	}
	return params
}

// maxProbeWindow bounds the impulse positions per axis, so that a long
// input (16,000 audio samples) costs a window, not the square of its length.
const maxProbeWindow = 1024

// forwardProbe runs the probe, clamping the outputs of weighted layers (the
// convs) at 1, hands every
// output to seen and frees it after its last use.
func forwardProbe(p *exec.Plan, params []exec.Weights, x *exec.Tensor, seen func(int, *exec.Tensor)) error {
	outs := make([]*exec.Tensor, len(p.Net.Nodes))
	for i := range p.Net.Nodes {
		n := &p.Net.Nodes[i]
		ins := make([]*exec.Tensor, len(n.From))
		for k, f := range n.From {
			if f == calc.Input {
				ins[k] = x
			} else {
				ins[k] = outs[f]
			}
		}
		out, err := p.RunNode(i, &params[i], ins, nil)
		if err != nil {
			return err
		}
		if params[i].Weight != nil {
			for j, v := range out.Data {
				out.Data[j] = min(v, 1)
			}
		}
		seen(i, out)
		outs[i] = out
		for _, f := range n.From {
			if f != calc.Input && p.LastUse(f) == i {
				outs[f] = nil
			}
		}
	}
	return nil
}

// measure reads the fields off a probe output (B, C, spatial...), whose
// batch holds the impulse images of each axis's window in turn.
func measure(y *exec.Tensor, win [][2]int) *MeasuredRF {
	nsp := len(win)
	m := &MeasuredRF{Size: make([]int64, nsp), Jump: make([]int64, nsp), Start: make([]float64, nsp), OK: make([]bool, nsp), JumpOK: make([]bool, nsp)}
	osp := y.Shape[2:]
	c := y.Shape[1]
	per := int(numel(osp))
	b0 := 0
	for a := 0; a < nsp; a++ {
		units := osp[a]
		lo, hi := make([]int, units), make([]int, units)
		for u := range lo {
			lo[u], hi[u] = -1, -1
		}
		inner := int(numel(osp[a+1:]))
		ws, we := win[a][0], win[a][1]
		for pos := ws; pos < we; pos++ {
			img := y.Data[(b0+pos-ws)*c*per : (b0+pos-ws+1)*c*per]
			for j, v := range img {
				if v == 0 {
					continue
				}
				u := (j % per) / inner % units
				if lo[u] < 0 {
					lo[u] = pos
				}
				hi[u] = pos
			}
		}
		b0 += we - ws
		// A unit is interior when its field lies strictly inside the window.
		// With dilation a field has gaps, and a unit whose outer taps fall
		// in the padding can look interior but smaller: clipping only ever
		// shrinks a field, so take the widest fields, and a run of three
		// neighbours that agree.
		inside := func(u int) bool { return u >= 0 && u < units && lo[u] > ws && hi[u] < we-1 }
		widest := 0
		for u := 0; u < units; u++ {
			if inside(u) {
				widest = max(widest, hi[u]-lo[u]+1)
			}
		}
		full := func(u int) bool { return inside(u) && hi[u]-lo[u]+1 == widest }
		for k := 1; k+1 < units; k++ {
			if !full(k-1) || !full(k) || !full(k+1) {
				continue
			}
			jump := lo[k+1] - lo[k]
			if lo[k]-lo[k-1] != jump || hi[k+1]-hi[k] != jump {
				continue
			}
			m.OK[a], m.JumpOK[a] = true, true
			m.Size[a] = int64(widest)
			m.Jump[a] = int64(jump)
			m.Start[a] = float64(lo[k]+hi[k])/2 - float64(k)*float64(jump)
			break
		}
	}
	return m
}

func toInts(s calc.Shape) []int {
	out := make([]int, len(s))
	for i, v := range s {
		out[i] = int(v)
	}
	return out
}

func numel(s []int) int64 {
	n := int64(1)
	for _, v := range s {
		n *= int64(v)
	}
	return n
}
