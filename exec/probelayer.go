package exec

import "github.com/cnncalc/cnncalc/calc"

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
