package verify

import (
	"fmt"
	"slices"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/exec"
)

// MeasuredRF is a receptive field measured by execution, per spatial axis.
// OK[a] is false where the field could not be measured, and Unmeasured[a]
// then says why, in words ("field wider than the input").
type MeasuredRF struct {
	Size, Jump []int64
	Start      []float64
	OK         []bool // size and start measured
	JumpOK     []bool
	Unmeasured []string
}

// MeasureRF measures the receptive field of every node calc gives one
// (rfs[i] != nil), by execution, within the memory of the network's own
// forward pass (MeasureRFWithin).
func MeasureRF(net *calc.Network, rfs []*calc.RF) ([]*MeasuredRF, error) {
	plan, err := exec.NewPlan(net)
	if err != nil {
		return nil, err
	}
	return MeasureRFWithin(net, rfs, plan.PeakBytes)
}

// MeasureRFWithin measures the receptive field of every node calc gives
// one (rfs[i] != nil), by execution, in at most budget bytes. It builds a
// probe copy of the network: one channel throughout, every conv summing
// its input with weights of 1, max pooling and average pooling their
// windows, a channel concat a sum, norms, activations and dropout the
// identity (exec.ProbeLayer). It then walks the probe backward from the
// units to measure (exec's support sweep, the adjoint of a forward
// impulse probe): from a node's central output unit and up to
// probeReach units on each side of it along each spatial axis, the input
// positions each can see, through the
// index maps the kernels execute (a reflect-padded conv's tap in the
// padding reads the input pixel it mirrors). Three neighbouring units'
// fields, shifted copies of each other, give size, start and jump. A unit that read padding on the way (its field
// reaches past the input's border: clipped, or folded by reflect
// padding) does not count; where none counts the field is unmeasured,
// and says why.
func MeasureRFWithin(net *calc.Network, rfs []*calc.RF, budget int64) ([]*MeasuredRF, error) {
	out, _, err := measureRF(net, rfs, budget)
	return out, err
}

// measureRF is MeasureRFWithin, with the sweep's work.
func measureRF(net *calc.Network, rfs []*calc.RF, budget int64) ([]*MeasuredRF, exec.SupportStats, error) {
	var st exec.SupportStats
	out := make([]*MeasuredRF, len(net.Nodes))
	pr, err := newProbe(net, rfs)
	if err != nil || pr == nil {
		return out, st, err
	}
	word := pr.word(budget)
	if word == 0 {
		why := fmt.Sprintf("the probe needs %s, above its budget of %s", mib(pr.plan.SupportMemory(1)), mib(budget))
		for _, o := range pr.origin {
			out[o] = unmeasured(len(pr.in)-2, why)
		}
		return out, st, nil
	}
	// The units: a root's central unit and up to probeReach units on each
	// side of it along each axis.
	type seeded struct {
		first []int   // per axis: the run's first unit coordinate
		at    [][]int // per axis: the unit index of each coordinate of the run
	}
	seeds := make(map[int]*seeded)
	var units []exec.Unit
	nsp := len(pr.in) - 2
	for pi := range pr.origin {
		r := pr.root[pi]
		if seeds[r] != nil {
			continue
		}
		sh := pr.plan.Shapes[r]
		c := make([]int, len(sh))
		for t, n := range sh {
			c[t] = (n - 1) / 2
		}
		centre := len(units)
		units = append(units, exec.Unit{Node: r, Coord: c})
		s := &seeded{first: make([]int, nsp), at: make([][]int, nsp)}
		for a := 0; a < nsp; a++ {
			ta := pr.tensorAxis(pr.origin[r], a)
			lo, hi := max(0, c[ta]-probeReach), min(sh[ta]-1, c[ta]+probeReach)
			s.first[a] = lo
			for k := lo; k <= hi; k++ {
				if k == c[ta] {
					s.at[a] = append(s.at[a], centre)
					continue
				}
				s.at[a] = append(s.at[a], len(units))
				units = append(units, exec.Unit{Node: r, Coord: shifted(c, ta, k-c[ta])})
			}
		}
		seeds[r] = s
	}
	sup, st, err := pr.plan.Supports(units, word)
	if err != nil {
		return out, st, err
	}
	for pi, o := range pr.origin {
		r := pr.root[pi]
		s := seeds[r]
		m := unmeasured(nsp, "")
		for a := 0; a < nsp; a++ {
			ta := pr.tensorAxis(pr.origin[r], a)
			row := make([]*exec.Support, len(s.at[a]))
			for k, ui := range s.at[a] {
				row[k] = &sup[ui]
			}
			readAxis(m, a, 2+a, pr.in[2+a], s.first[a], (pr.plan.Shapes[r][ta]-1)/2, row)
		}
		out[o] = m
	}
	return out, st, nil
}

// probeReach is how many units on each side of a node's central unit the
// probe measures along each axis: the central unit's field need not be the
// one most central in the input, nor the only one inside it.
const probeReach = 3

// unmeasured is a field with no axis measured, for the reason why.
func unmeasured(nsp int, why string) *MeasuredRF {
	m := &MeasuredRF{Size: make([]int64, nsp), Jump: make([]int64, nsp), Start: make([]float64, nsp), OK: make([]bool, nsp), JumpOK: make([]bool, nsp), Unmeasured: make([]string, nsp)}
	for a := range m.Unmeasured {
		m.Unmeasured[a] = why
	}
	return m
}

// readAxis reads axis a's field (input axis ia, of n positions) off the
// supports of a run of units along it (row[k] is unit first+k's; centre
// is the node's central unit). A unit counts when no position it depends
// on read a tap in padding on that axis, anywhere on the way back (a tap
// past a border would have been dropped, or mirrored, wrapped or
// clamped onto another pixel): its span is then its whole field. Three
// neighbouring such units that are shifted copies of each other (two, or
// one, on an axis that has no more) give size and start (the middle one,
// nearest the centre) and the jump (their spacing).
func readAxis(m *MeasuredRF, a, ia, n, first, centre int, row []*exec.Support) {
	clear := func(k int) bool {
		return k >= 0 && k < len(row) && row[k].Lo[ia] >= 0 && !row[k].Padded[ia]
	}
	size := func(k int) int { return row[k].Hi[ia] - row[k].Lo[ia] + 1 }
	shift := func(k int) (int, bool) { // from unit k to k+1
		d := row[k+1].Lo[ia] - row[k].Lo[ia]
		return d, d == row[k+1].Hi[ia]-row[k].Hi[ia] && size(k) == size(k+1)
	}
	best, jump, found, anyClear := -1, 0, false, false
	for k := range row {
		if !clear(k) {
			continue
		}
		anyClear = true
		var j int
		switch {
		case clear(k-1) && clear(k+1):
			j1, ok1 := shift(k - 1)
			j2, ok2 := shift(k)
			if !ok1 || !ok2 || j1 != j2 {
				continue
			}
			j = j1
		case len(row) == 2 && clear(1-k):
			jj, ok := shift(0)
			if !ok {
				continue
			}
			j = jj
		case len(row) == 1:
		default:
			continue
		}
		if !found || abs(first+k-centre) < abs(first+best-centre) {
			best, jump, found = k, j, true
		}
	}
	if !found {
		c := row[centre-first]
		switch {
		case c.Lo[ia] < 0:
			m.Unmeasured[a] = "no input position reaches the unit"
		case !anyClear && c.Lo[ia] < max(1, c.Gap[ia]) && c.Hi[ia] > n-1-max(1, c.Gap[ia]):
			// It spans the input, up to the gaps between its taps.
			m.Unmeasured[a] = "field wider than the input"
		case !anyClear:
			m.Unmeasured[a] = "field reaches past the input's border"
		default:
			m.Unmeasured[a] = "neighbouring units' fields reach past the input's border"
			for k := 0; k+1 < len(row); k++ {
				if clear(k) && clear(k+1) {
					if _, ok := shift(k); !ok {
						m.Unmeasured[a] = "neighbouring units' fields are not shifted copies of each other"
					}
				}
			}
		}
		return
	}
	m.Unmeasured[a] = ""
	m.OK[a], m.JumpOK[a] = true, len(row) > 1
	m.Size[a] = int64(size(best))
	m.Jump[a] = int64(jump)
	k := first + best
	m.Start[a] = float64(row[best].Lo[ia]+row[best].Hi[ia])/2 - float64(k)*float64(jump)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func shifted(c []int, axis, by int) []int {
	s := append([]int(nil), c...)
	s[axis] += by
	return s
}

// mib prints a size in MiB.
func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// ProbeMemory estimates the peak memory of MeasureRFWithin's probe with
// this budget, in bytes (0 when it would measure nothing), from the
// probe's plan alone: nothing proportional to the input is allocated, nor
// work done per position.
func ProbeMemory(net *calc.Network, rfs []*calc.RF, budget int64) (int64, error) {
	pr, err := newProbe(net, rfs)
	if err != nil || pr == nil {
		return 0, err
	}
	if w := pr.word(budget); w > 0 {
		return pr.plan.SupportMemory(w), nil
	}
	return 0, nil
}

// probeRun is the probe network and, per probe node, the network node it
// came from and the probe node whose units it shares (itself, or for an
// identity the node it passes on).
type probeRun struct {
	plan   *exec.Plan
	in     []int // the network's input shape
	origin []int
	root   []int
	rfs    []*calc.RF
}

// word is the widest word of marks whose sweep fits in budget bytes (0
// when none does).
func (pr *probeRun) word(budget int64) int {
	for _, w := range exec.SupportWords {
		if pr.plan.SupportMemory(w) <= budget {
			return w
		}
	}
	return 0
}

// tensorAxis is the tensor axis holding spatial axis a of node o's field
// (moved by a permute).
func (pr *probeRun) tensorAxis(o, a int) int {
	if l := pr.rfs[o].Layout; l != nil {
		return int(l[a])
	}
	return 2 + a
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
	var origin, root []int
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
		pi := len(probe.Nodes)
		index[i] = pi
		origin = append(origin, i)
		r := pi
		if l.Type == calc.Identity && len(from) == 1 && from[0] >= 0 && slices.Equal(rfs[i].Layout, rfs[origin[from[0]]].Layout) {
			r = root[from[0]] // the identity's units are its input's
		}
		root = append(root, r)
		probe.Nodes = append(probe.Nodes, calc.Node{Layer: l, Name: n.Name, From: from})
	}
	if len(probe.Nodes) == 0 {
		return nil, nil
	}
	// One image, one channel: a concat of channels becomes a sum (the
	// support of a sum is the union of the supports).
	probe.Input = append(calc.Shape{1, 1}, net.Input[2:]...)
	plan, err := exec.NewPlan(probe)
	if err != nil {
		return nil, err
	}
	return &probeRun{plan: plan, in: toInts(probe.Input), origin: origin, root: root, rfs: rfs}, nil
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
