package exec

import (
	"fmt"

	"github.com/cnncalc/cnncalc/calc"
)

// ProbeLayer turns a layer into its counterpart in the receptive-field
// probe (exec/verify) by its kind's rule in the kernel table: convs keep
// their geometry with one channel (the probe gives them weights of 1),
// max pooling becomes average pooling, a concat a sum, norms and
// activations the identity. keep is false for layers the probe cannot
// carry (none have a receptive field anyway).
func ProbeLayer(l calc.Layer, rank int) (probe calc.Layer, keep bool) {
	if k := kernelOf(l.Type); k.probe != nil {
		return k.probe(l, rank)
	}
	return l, false
}

// The probe rules of the kernel table (kernels.go).

// probeKeep carries the layer as it is (average pooling, zeropad, add):
// on non-negative values it hides no influence.
func probeKeep(l calc.Layer, _ int) (calc.Layer, bool) { return l, true }

// probeDrop leaves the layer out.
func probeDrop(l calc.Layer, _ int) (calc.Layer, bool) { return l, false }

// probeIdentity passes the input through (norms, activations, dropout).
func probeIdentity(calc.Layer, int) (calc.Layer, bool) { return calc.Layer{Type: calc.Identity}, true }

// probeConv keeps the geometry with one output channel and no bias; the
// probe gives it weights of 1.
func probeConv(l calc.Layer, _ int) (calc.Layer, bool) {
	l.Out, l.Groups, l.Bias, l.In = 1, 1, false, 0
	return l, true
}

// probeMaxPool becomes the average pool avg of the same geometry, except
// where it is dilated (on non-negative values max pooling hides no
// influence either, and average pooling has no dilation).
func probeMaxPool(avg calc.Op) func(calc.Layer, int) (calc.Layer, bool) {
	return func(l calc.Layer, _ int) (calc.Layer, bool) {
		if perAxisAll(l.Dilation, 1) {
			l.Type = avg
			l.CountIncludePad = true
		}
		return l, true
	}
}

// probeSum turns a concat into a sum: the probe has one channel, and on
// non-negative values the support of a sum is the union of the supports.
// Only channel concats carry a receptive field.
func probeSum(calc.Layer, int) (calc.Layer, bool) { return calc.Layer{Type: calc.Add}, true }

func perAxisAll(v []int64, want int64) bool {
	for _, x := range v {
		if x != want {
			return false
		}
	}
	return true
}

// probePiece: the probe has one channel, so a piece of the channels is the
// identity there; a piece along a spatial axis is kept.
func probePiece(l calc.Layer, rank int) (calc.Layer, bool) {
	if dimIndex(l.Dim, rank) == 1 {
		return calc.Layer{Type: calc.Identity}, true
	}
	return l, true
}

// The support rules of the probe's kinds: the index maps their kernels
// execute, read backward by the support sweep (support.go). A kind the
// probe keeps (ProbeLayer) has one; TestSupportRules checks it.

// supportRule gives a node's index maps per input (nil for an input that
// reads nothing), one axisMap per output axis; alias marks the identity,
// whose marks are its input's.
type supportRule struct {
	alias bool
	maps  func(l *calc.Layer, ins [][]int, out []int, g *ConvGeom) ([][]axisMap, error)
}

var supportRules [calc.NumOps]supportRule

// SupportRule reports whether the support sweep can pass through op.
func SupportRule(op calc.Op) bool {
	r := supportRules[op]
	return r.alias || r.maps != nil
}

func init() {
	for r := 0; r < 3; r++ {
		at := calc.Op(r)
		supportRules[calc.Conv1d+at] = supportRule{maps: convSupport}
		supportRules[calc.MaxPool1d+at] = supportRule{maps: poolSupport(true)}
		supportRules[calc.AvgPool1d+at] = supportRule{maps: poolSupport(false)}
		supportRules[calc.ZeroPad1d+at] = supportRule{maps: padSupport}
	}
	supportRules[calc.Identity] = supportRule{alias: true}
	supportRules[calc.Add] = supportRule{maps: mergeSupport}
	supportRules[calc.Chunk] = supportRule{maps: pieceSupport}
	supportRules[calc.Split] = supportRule{maps: pieceSupport}
	supportRules[calc.Permute] = supportRule{maps: permuteSupport}
}

// same is the identity map of axis a of size n.
func same(a, n int) axisMap { return axisMap{Src: a, N: n, K: 1, S: 1, D: 1} }

// convSupport: output position o of a spatial axis reads the taps
// o*stride - pad + t*dilation, through the padding mode (a reflected,
// replicated or wrapped tap reads the input pixel the padding copies);
// every output channel reads every input channel (groups of 1, as in the
// probe, or depthwise).
func convSupport(l *calc.Layer, ins [][]int, out []int, g *ConvGeom) ([][]axisMap, error) {
	x := ins[0]
	nsp := len(x) - 2
	m := make([]axisMap, len(out))
	m[0] = same(0, x[0])
	switch {
	case g.Groups == 1:
		m[1] = axisMap{Src: 1, N: x[1], K: x[1], S: 0, D: 1}
	case g.Groups == x[1] && out[1] == x[1]:
		m[1] = same(1, x[1])
	default:
		return nil, fmt.Errorf("support of a grouped conv (%d groups, %d to %d channels)", g.Groups, x[1], out[1])
	}
	for a := 0; a < nsp; a++ {
		gi := 3 - nsp + a
		m[2+a] = axisMap{Src: 2 + a, N: x[2+a], K: g.K[gi], S: g.S[gi], D: g.D[gi], PL: g.PL[gi], Mode: g.PadMode}
	}
	return [][]axisMap{m}, nil
}

// poolSupport: a pooling window's taps inside the input (max pooling pads
// with -inf, average pooling's padding adds nothing: neither reads a
// pixel there); dilated is false for average pooling.
func poolSupport(dilated bool) func(l *calc.Layer, ins [][]int, out []int, g *ConvGeom) ([][]axisMap, error) {
	return func(l *calc.Layer, ins [][]int, out []int, _ *ConvGeom) ([][]axisMap, error) {
		x := ins[0]
		nsp := len(x) - 2
		k, s, d, pad := perAxis(l.Kernel, nsp, 1), poolStride(l, nsp), perAxis(l.Dilation, nsp, 1), perAxis(l.Padding, nsp, 0)
		m := make([]axisMap, len(out))
		m[0], m[1] = same(0, x[0]), same(1, x[1])
		for a := 0; a < nsp; a++ {
			if !dilated {
				d[a] = 1
			}
			m[2+a] = axisMap{Src: 2 + a, N: x[2+a], K: k[a], S: s[a], D: d[a], PL: pad[a]}
		}
		return [][]axisMap{m}, nil
	}
}

// padSupport: output position o reads o - before (nothing in the padding;
// a negative padding crops).
func padSupport(l *calc.Layer, ins [][]int, out []int, _ *ConvGeom) ([][]axisMap, error) {
	x := ins[0]
	nsp := len(x) - 2
	pad := zeroPadList(l, nsp)
	m := make([]axisMap, len(out))
	m[0], m[1] = same(0, x[0]), same(1, x[1])
	for a := 0; a < nsp; a++ {
		m[2+a] = axisMap{Src: 2 + a, N: x[2+a], K: 1, S: 1, D: 1, PL: pad[2*(nsp-1-a)]}
	}
	return [][]axisMap{m}, nil
}

// mergeSupport: every input is read at the output's position (an axis of
// size 1 broadcast: at 0; the inputs aligned at their last axes).
func mergeSupport(l *calc.Layer, ins [][]int, out []int, _ *ConvGeom) ([][]axisMap, error) {
	maps := make([][]axisMap, len(ins))
	for k, x := range ins {
		m := make([]axisMap, len(out))
		lead := len(out) - len(x)
		if lead < 0 {
			return nil, fmt.Errorf("input %d has rank %d, the output %d", k+1, len(x), len(out))
		}
		for a := range out {
			switch {
			case a < lead:
				m[a] = axisMap{Src: -1, N: 1, K: 1}
			case x[a-lead] == 1 && out[a] != 1:
				m[a] = axisMap{Src: a - lead, N: 1, K: 1}
			default:
				m[a] = same(a-lead, x[a-lead])
			}
		}
		maps[k] = m
	}
	return maps, nil
}

// pieceSupport: the piece's position o reads o + start on its axis.
func pieceSupport(l *calc.Layer, ins [][]int, out []int, _ *ConvGeom) ([][]axisMap, error) {
	x := ins[0]
	d := dimIndex(l.Dim, len(x))
	start, _, err := pieceRange(l, x[d])
	if err != nil {
		return nil, err
	}
	m := make([]axisMap, len(out))
	for a := range out {
		m[a] = same(a, x[a])
	}
	m[d].PL = -start
	return [][]axisMap{m}, nil
}

// permuteSupport: output axis a is input axis perm[a].
func permuteSupport(l *calc.Layer, ins [][]int, out []int, _ *ConvGeom) ([][]axisMap, error) {
	x := ins[0]
	m := make([]axisMap, len(out))
	for a, p := range l.Perm {
		src := dimIndex(int(p), len(x))
		m[a] = same(src, x[src])
	}
	return [][]axisMap{m}, nil
}
