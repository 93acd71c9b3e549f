package exec

import (
	"fmt"
	"math"

	"github.com/cnncalc/cnncalc/calc"
)

// Folding an eval-mode batchnorm into the layer next to it. In eval mode a
// batchnorm with running statistics is a fixed affine map per channel c:
//
//	bn(x)[c] = x[c]*s[c] + t[c],  s[c] = gamma[c]/sqrt(var[c] + eps),  t[c] = beta[c] - mean[c]*s[c]
//
// (gamma 1 and beta 0 when affine=false), so that a conv, transposed conv
// or linear layer followed by it is one layer of the same kind with
//
//	W'[c] = W[c]*s[c]   (the weights of output channel c)
//	b'[c] = (b[c] - mean[c])*s[c] + beta[c]   (b = 0 when the layer has no bias)
//
// as torch.nn.utils.fusion.fuse_conv_bn_eval and fuse_linear_bn_eval
// compute them. Output channel c's weights are row c of a conv's
// (Cout, Cin/G, k...) or a linear's (out, in) weight; a transposed conv's
// weight is (Cin, Cout/G, k...), where output channel c = g*(Cout/G) + j
// is column j of the rows of group g. FoldBatchNorm is the one place this
// is computed: cnncalc fold uses it (through package fold), and so can a
// plan that fuses at run time, with calc.DecideFolds saying which
// batchnorm folds into which layer and calc.FoldNetwork giving the
// network without them.

// BatchNormAffine returns the per-channel scale s and shift t of an
// eval-mode batchnorm (l) with tensors w: s = gamma/sqrt(var + eps),
// t = beta - mean*s, in float64. It fails when the running statistics are
// absent (track_running_stats=false: batch statistics, no fixed map) or the
// tensors' sizes disagree.
func BatchNormAffine(l *calc.Layer, w *Weights) (scale, shift []float64, err error) {
	if w.Mean == nil || w.Var == nil {
		return nil, nil, fmt.Errorf("%s has no running statistics (track_running_stats=false): it normalises with each batch's own and is no fixed map", l.Type)
	}
	c := w.Mean.Len()
	if w.Var.Len() != c || (w.Weight != nil && w.Weight.Len() != c) || (w.Bias != nil && w.Bias.Len() != c) {
		return nil, nil, fmt.Errorf("%s: running_mean, running_var, weight and bias differ in size", l.Type)
	}
	scale, shift = make([]float64, c), make([]float64, c)
	for i := range c {
		s := 1 / math.Sqrt(float64(w.Var.Data[i])+float64(float32(l.Eps)))
		if w.Weight != nil {
			s *= float64(w.Weight.Data[i])
		}
		t := -float64(w.Mean.Data[i]) * s
		if w.Bias != nil {
			t += float64(w.Bias.Data[i])
		}
		scale[i], shift[i] = s, t
	}
	return scale, shift, nil
}

// FoldBatchNorm returns the tensors of the layer l (a conv, transposed
// conv or linear layer with tensors w) with the eval-mode batchnorm bn
// (tensors bnw) that follows it folded in: W' = W*s per output channel,
// b' = (b - mean)*s + beta (see the package comment above); the result
// always has a bias. w is not changed. It fails, rather than compute
// something else, when l is of another kind, the batchnorm's channels are
// not l's output channels, or a tensor's shape is not l's.
func FoldBatchNorm(l *calc.Layer, w *Weights, bn *calc.Layer, bnw *Weights) (Weights, error) {
	scale, shift, err := BatchNormAffine(bn, bnw)
	if err != nil {
		return Weights{}, err
	}
	if w.Weight == nil || len(w.Weight.Shape) < 2 {
		return Weights{}, fmt.Errorf("%s has no weight to fold %s into", l.Type, bn.Type)
	}
	ws := w.Weight.Shape
	groups := max(int(l.Groups), 1)
	var out int // output channels
	switch {
	case isConv(l.Type), l.Type == calc.Linear:
		out = ws[0]
	case isConvTranspose(l.Type):
		if ws[0]%groups != 0 {
			return Weights{}, fmt.Errorf("%s weight %v: %d input channels do not split into %d groups", l.Type, ws, ws[0], groups)
		}
		out = ws[1] * groups
	default:
		return Weights{}, fmt.Errorf("%s cannot take a batchnorm in: only conv, transposed conv and linear layers can", l.Type)
	}
	if out != len(scale) {
		return Weights{}, fmt.Errorf("%s has %d output channels, %s normalises %d", l.Type, out, bn.Type, len(scale))
	}
	if w.Bias != nil && (len(w.Bias.Shape) != 1 || w.Bias.Len() != out) {
		return Weights{}, fmt.Errorf("%s bias %v does not have its %d output channels", l.Type, w.Bias.Shape, out)
	}
	fw := w.Weight.Clone()
	if isConvTranspose(l.Type) {
		// (Cin, Cout/G, k...): row ci belongs to group ci/(Cin/G).
		perGroupIn, perGroupOut := ws[0]/groups, ws[1]
		k := int(numel(ws[2:]))
		for ci := range ws[0] {
			g := ci / perGroupIn
			for j := range perGroupOut {
				scaleRun(fw.Data[(ci*perGroupOut+j)*k:][:k], scale[g*perGroupOut+j])
			}
		}
	} else {
		k := int(numel(ws[1:]))
		for c := range out {
			scaleRun(fw.Data[c*k:][:k], scale[c])
		}
	}
	fb := New(out)
	for c := range out {
		b := 0.0
		if w.Bias != nil {
			b = float64(w.Bias.Data[c])
		}
		fb.Data[c] = float32(b*scale[c] + shift[c])
	}
	return Weights{Weight: fw, Bias: fb}, nil
}

// FoldBatchNormForward returns the tensors of the layer l (a conv that does
// not pad with zeros, or a linear layer on (N, features) inputs, with tensors w) with
// the eval-mode batchnorm bn (tensors bnw) that feeds it folded in: the
// input channel ci's weights scaled by s[ci], and b'[o] = b[o] +
// sum over ci and taps of W[o, ci, taps]*t[ci]. With zero padding the
// padded border would see 0 where the batchnorm's output is t: the fold
// would not be exact, and it fails.
func FoldBatchNormForward(bn *calc.Layer, bnw *Weights, l *calc.Layer, w *Weights) (Weights, error) {
	scale, shift, err := BatchNormAffine(bn, bnw)
	if err != nil {
		return Weights{}, err
	}
	if !isConv(l.Type) && l.Type != calc.Linear {
		return Weights{}, fmt.Errorf("a batchnorm folds forward into a conv or linear layer only, not %s", l.Type)
	}
	if isConv(l.Type) && calc.PadsWithZeros(l) {
		return Weights{}, fmt.Errorf("%s pads its input with zeros: the padding would be normalised differently", l.Type)
	}
	if w.Weight == nil || len(w.Weight.Shape) < 2 {
		return Weights{}, fmt.Errorf("%s has no weight to fold %s into", l.Type, bn.Type)
	}
	ws := w.Weight.Shape
	groups := 1
	if isConv(l.Type) {
		groups = max(int(l.Groups), 1)
	}
	out, perGroupIn := ws[0], ws[1]
	if out%groups != 0 || perGroupIn*groups != len(scale) {
		return Weights{}, fmt.Errorf("%s weight %v does not take the %d channels %s normalises", l.Type, ws, len(scale), bn.Type)
	}
	if w.Bias != nil && w.Bias.Len() != out {
		return Weights{}, fmt.Errorf("%s bias %v does not have its %d output channels", l.Type, w.Bias.Shape, out)
	}
	fw := w.Weight.Clone()
	fb := New(out)
	k := int(numel(ws[2:]))
	perGroupOut := out / groups
	for o := range out {
		g := o / perGroupOut
		b := 0.0
		if w.Bias != nil {
			b = float64(w.Bias.Data[o])
		}
		for i := range perGroupIn {
			ci := g*perGroupIn + i
			run := fw.Data[(o*perGroupIn+i)*k:][:k]
			for _, v := range run {
				b += float64(v) * shift[ci]
			}
			scaleRun(run, scale[ci])
		}
		fb.Data[o] = float32(b)
	}
	return Weights{Weight: fw, Bias: fb}, nil
}

// scaleRun multiplies v by s in place.
func scaleRun(v []float32, s float64) {
	for i, x := range v {
		v[i] = float32(float64(x) * s)
	}
}

func isConv(op calc.Op) bool { return op >= calc.Conv1d && op <= calc.Conv3d }

func isConvTranspose(op calc.Op) bool {
	return op >= calc.ConvTranspose1d && op <= calc.ConvTranspose3d
}
