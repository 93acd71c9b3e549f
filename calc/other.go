package calc

import (
	"fmt"
	"math"
	"strings"
)

// linearShape: the last axis becomes out_features.
func linearShape(l *Layer, lr *LayerResult) *Error {
	x := lr.Inputs[0]
	if len(x) < 2 {
		return needRank(l, x, 2)
	}
	in := x[len(x)-1]
	if l.In != 0 && l.In != in {
		return errorf("in", "linear in_features %d does not match the input's last axis %d (input %s)", l.In, in, fmtShape(x))
	}
	if l.Out < 1 {
		return errorf("out", "linear out_features must be positive, got %d", l.Out)
	}
	if spatialLast(lr.Layout, len(x)) {
		lr.Warnings = append(lr.Warnings, fmt.Sprintf("linear on a %d-D tensor %s acts on the last axis only (%d features); did you forget flatten?", len(x), fmtShape(x), in))
	}
	lr.Output = append(x[:len(x)-1].Clone(), l.Out)
	return nil
}

// linearField: a linear on the channels of a channels-last tensor (after
// a permute) works position by position and keeps the field; on a spatial
// axis, or after flatten, there is none.
func linearField(l *Layer, lr *LayerResult, rfs []*RF) (*RF, string) {
	if rf := rfs[0]; rf != nil && rf.Layout != nil && !spatialLast(rf.Layout, len(lr.Inputs[0])) {
		return rf, ""
	}
	return nil, ""
}

// linearCount: weight in*out (+ out bias); MACs prod(input)*out.
func linearCount(l *Layer, lr *LayerResult) *Error {
	x := lr.Inputs[0]
	in := x[len(x)-1]
	w, err := mul(in, l.Out)
	if err != nil {
		return errorf("out", "linear weight count overflows int64")
	}
	lr.Params = w
	bias := ""
	if l.Bias {
		lr.Params += l.Out
		bias = fmt.Sprintf(" + %d", l.Out)
	}
	if lr.explain {
		lr.Formulas = append(lr.Formulas, fmt.Sprintf("params = %d*%d%s = %s", in, l.Out, bias, Group(lr.Params)))
	}
	macs, err := prod(append(x.Clone(), l.Out)...)
	if err != nil {
		return errorf("out", "linear MAC count overflows int64")
	}
	lr.MACs = macs
	if lr.explain {
		lr.Formulas = append(lr.Formulas, fmt.Sprintf("macs = %s*%d = %s", joinInts(x, "*"), l.Out, Group(macs)))
	}
	return nil
}

// flattenShape folds the axes start_dim..end_dim into one.
func flattenShape(l *Layer, lr *LayerResult) *Error {
	x := lr.Inputs[0]
	start, err := normDim(l.StartDim, len(x), "start_dim")
	if err != nil {
		return err
	}
	end, err := normDim(l.EndDim, len(x), "end_dim")
	if err != nil {
		return err
	}
	if start == 0 {
		return errorf("start_dim", "flatten start_dim %d folds the batch axis; start at 1 or later", l.StartDim)
	}
	if start > end {
		return errorf("start_dim", "flatten start_dim %d (axis %d) cannot come after end_dim %d (axis %d)", l.StartDim, start, l.EndDim, end)
	}
	p, e := prod(x[start : end+1]...)
	if e != nil {
		return errorf("", "flatten size overflows int64")
	}
	out := append(x[:start].Clone(), p)
	out = append(out, x[end+1:]...)
	lr.Output = out
	if lr.explain {
		lr.Formulas = append(lr.Formulas, fmt.Sprintf("flattened = %s = %s", joinInts(x[start:end+1], "*"), Group(p)))
	}
	return nil
}

// unflattenShape splits axis Dim into Sizes, whose product must be its
// size (nn.Unflatten; the batch axis stays).
func unflattenShape(l *Layer, lr *LayerResult) *Error {
	x := lr.Inputs[0]
	d, err := normDim(l.Dim, len(x), "dim")
	if err != nil {
		return err
	}
	if d == 0 {
		return errorf("dim", "unflatten dim %d splits the batch axis; split axis 1 or later", l.Dim)
	}
	if len(l.Sizes) == 0 {
		return errorf("sizes", "unflatten needs the sizes of the split axis")
	}
	for _, s := range l.Sizes {
		if s < 1 {
			return errorf("sizes", "unflatten sizes %v: every size must be at least 1", l.Sizes)
		}
	}
	p, e := prod(l.Sizes...)
	if e != nil || p != x[d] {
		return errorf("sizes", "unflatten sizes %v multiply to %d, axis %d has %d", l.Sizes, p, d, x[d])
	}
	out := append(x[:d].Clone(), l.Sizes...)
	lr.Output = append(out, x[d+1:]...)
	if lr.explain {
		lr.Formulas = append(lr.Formulas, fmt.Sprintf("%s = %s", Group(x[d]), joinInts(l.Sizes, "*")))
	}
	return nil
}

// normInput checks a norm's input rank and its channels against num_features.
func normInput(l *Layer, x Shape, ranks ...int) *Error {
	if err := needRank(l, x, ranks...); err != nil {
		return err
	}
	if l.In != 0 && l.In != x[1] {
		return errorf("in", "%s expects %d channels (num_features), the input has %d", l.Type, l.In, x[1])
	}
	return nil
}

// batchNormShape keeps the shape; batchnorm1d takes (N, C) or (N, C, L).
func batchNormShape(l *Layer, lr *LayerResult) *Error {
	x := lr.Inputs[0]
	n := l.Type.Info().Rank
	ranks := []int{n + 2}
	if n == 1 {
		ranks = []int{2, 3}
	}
	if err := normInput(l, x, ranks...); err != nil {
		return err
	}
	// Without running statistics PyTorch normalises with the batch's own,
	// even in eval mode, and needs more than one value per channel.
	if sp, _ := prod(x[2:]...); !l.TrackRunningStats && x[0]*sp == 1 {
		return errorf("track_running_stats", "%s without running statistics needs more than 1 value per channel, got input %s (batch %d)", l.Type, fmtShape(x), x[0])
	}
	lr.Output = x.Clone()
	return nil
}

// instanceNormShape keeps the shape; each channel of each sample needs more
// than one value.
func instanceNormShape(l *Layer, lr *LayerResult) *Error {
	x := lr.Inputs[0]
	if err := normInput(l, x, l.Type.Info().Rank+2); err != nil {
		return err
	}
	if sp, _ := prod(x[2:]...); sp == 1 {
		return errorf("", "%s needs more than 1 spatial element per channel, got input %s", l.Type, fmtShape(x))
	}
	lr.Output = x.Clone()
	return nil
}

// perChannelCount: affine weight and bias, 2*C params; running_mean and
// running_var, 2*C buffers (num_batches_tracked is not counted).
func perChannelCount(l *Layer, lr *LayerResult) *Error {
	c := lr.Inputs[0][1]
	if l.Affine {
		lr.Params = 2 * c
		if lr.explain {
			lr.Formulas = append(lr.Formulas, fmt.Sprintf("params = 2*%d (weight, bias) = %s", c, Group(lr.Params)))
		}
	}
	if l.TrackRunningStats {
		lr.Buffers = 2 * c
		if lr.explain {
			lr.Formulas = append(lr.Formulas, fmt.Sprintf("buffers = 2*%d (running_mean, running_var) = %s", c, Group(lr.Buffers)))
		}
	}
	return nil
}

// groupNormShape keeps the shape; channels divide into num_groups.
func groupNormShape(l *Layer, lr *LayerResult) *Error {
	x := lr.Inputs[0]
	if len(x) < 2 {
		return needRank(l, x, 2)
	}
	c := x[1]
	if l.In != 0 && l.In != c {
		return errorf("in", "%s expects %d channels (num_features), the input has %d", l.Type, l.In, c)
	}
	if l.Groups < 1 {
		return errorf("groups", "groupnorm num_groups must be positive, got %d", l.Groups)
	}
	if c%l.Groups != 0 {
		return errorf("groups", "groupnorm channels %d must be divisible by num_groups %d", c, l.Groups)
	}
	// PyTorch's check on the statistics: N*C/G*prod(spatial) > 1.
	if sp, _ := prod(x[2:]...); x[0]*(c/l.Groups)*sp <= 1 {
		return errorf("groups", "groupnorm needs more than 1 value per group over the batch, got input %s with %d groups", fmtShape(x), l.Groups)
	}
	lr.Output = x.Clone()
	return nil
}

// groupNormCount: affine weight and bias per channel, 2*C.
func groupNormCount(l *Layer, lr *LayerResult) *Error {
	c := lr.Inputs[0][1]
	if l.Affine {
		lr.Params = 2 * c
		if lr.explain {
			lr.Formulas = append(lr.Formulas, fmt.Sprintf("params = 2*%d (weight, bias) = %s", c, Group(lr.Params)))
		}
	}
	return nil
}

// layerNormShape keeps the shape; normalized_shape must be the input's
// trailing axes.
func layerNormShape(l *Layer, lr *LayerResult) *Error {
	x := lr.Inputs[0]
	if len(x) < 2 {
		return needRank(l, x, 2)
	}
	shape := layerNormAxes(l, x)
	if len(shape) == 0 || len(shape) > len(x)-1 || !equalInts(shape, x[len(x)-len(shape):]) {
		return errorf("shape", "layernorm normalized_shape %s does not match the trailing axes of the input %s", fmtShape(shape), fmtShape(x))
	}
	lr.Output = x.Clone()
	return nil
}

// layerNormAxes is normalized_shape, by default every axis but batch.
func layerNormAxes(l *Layer, x Shape) []int64 {
	if l.NormShape == nil {
		return x[1:]
	}
	return l.NormShape
}

// layerNormCount: elementwise weight (and bias) of prod(normalized_shape).
func layerNormCount(l *Layer, lr *LayerResult) *Error {
	if !l.Affine {
		return nil
	}
	shape := layerNormAxes(l, lr.Inputs[0])
	p, _ := prod(shape...)
	k := int64(1)
	if l.LayerNormBias {
		k = 2
	}
	lr.Params = k * p
	if lr.explain {
		lr.Formulas = append(lr.Formulas, fmt.Sprintf("params = %d*%s = %s", k, joinInts(shape, "*"), Group(lr.Params)))
	}
	return nil
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// zeroPadAxes is zeropad's geometry per axis: a window of 1 with the
// sides' padding (negative crops), and each size's formula when explain is
// set.
func zeroPadAxes(l *Layer, x Shape, n int, explain bool) ([]convAxis, []string, *Error) {
	if len(l.Pad) != 1 && len(l.Pad) != 2*n {
		return nil, nil, errorf("padding", "%s padding needs 1 or %d values, got %d", l.Type, 2*n, len(l.Pad))
	}
	names := AxisNames(n)
	axes := make([]convAxis, n)
	var formulas []string
	for i := 0; i < n; i++ {
		left, right := l.Pad[0], l.Pad[0]
		if len(l.Pad) == 2*n {
			left, right = l.Pad[2*(n-1-i)], l.Pad[2*(n-1-i)+1]
		}
		o := x[2+i] + left + right
		f := fmt.Sprintf("%s = %d + %d + %d = %d", names[i], x[2+i], left, right, o)
		// PyTorch crops first: the negative sides alone must leave something.
		if crop := x[2+i] + min(left, 0) + min(right, 0); crop < 0 {
			return nil, nil, &Error{Arg: "padding", Msg: fmt.Sprintf("%s crops %d from an axis %s of %d", l.Type, -min(left, 0)-min(right, 0), names[i], x[2+i]),
				Formula: fmt.Sprintf("%d + %d + %d = %d < 0", x[2+i], min(left, 0), min(right, 0), crop)}
		}
		if o < 1 {
			return nil, nil, &Error{Arg: "padding", Msg: fmt.Sprintf("%s output size %d is too small on axis %s", l.Type, o, names[i]), Formula: f}
		}
		axes[i] = convAxis{in: x[2+i], k: 1, s: 1, d: 1, pl: left, pr: right, out: o}
		if explain {
			formulas = append(formulas, f)
		}
	}
	return axes, formulas, nil
}

// zeroPadShape: per axis in + left + right.
func zeroPadShape(l *Layer, lr *LayerResult) *Error {
	x := lr.Inputs[0]
	n := l.Type.Info().Rank
	if err := needRank(l, x, n+2); err != nil {
		return err
	}
	axes, formulas, err := zeroPadAxes(l, x, n, lr.explain)
	if err != nil {
		return err
	}
	out := Shape{x[0], x[1]}
	for _, a := range axes {
		out = append(out, a.out)
	}
	if lr.explain {
		lr.Formulas = append(lr.Formulas, formulas...)
	}
	lr.Output = out
	return nil
}

// zeroPadField shifts the field by the left padding.
func zeroPadField(l *Layer, lr *LayerResult, rfs []*RF) (*RF, string) {
	x := lr.Inputs[0]
	axes, _, err := zeroPadAxes(l, x, len(x)-2, false)
	if err != nil {
		return nil, ""
	}
	return rfWindows(rfs[0], axes), ""
}

// upsampleModeNames are upsample's modes, in PyTorch's order.
var upsampleModeNames = []string{"nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear"}

// upsampleModes maps each mode to the input rank it needs (0: any of 3..5).
var upsampleModes = map[string]int{"nearest": 0, "nearest-exact": 0, "linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}

// upsampleShape: per axis the size given, or floor(in * scale).
func upsampleShape(l *Layer, lr *LayerResult) *Error {
	x := lr.Inputs[0]
	mode := l.Mode
	if mode == "" {
		mode = "nearest"
	}
	r, ok := upsampleModes[mode]
	if !ok {
		return errorf("mode", "upsample mode %q is not one of nearest, nearest-exact, linear, bilinear, bicubic, trilinear", mode)
	}
	if r == 0 {
		if err := needRank(l, x, 3, 4, 5); err != nil {
			return err
		}
	} else if len(x) != r {
		return errorf("mode", "upsample mode %s expects a %d-D input %s, got %d-D %s", mode, r, rankLayout(r), len(x), fmtShape(x))
	}
	if l.AlignCorners != nil && r == 0 {
		return errorf("align_corners", "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear")
	}
	n := len(x) - 2
	names := AxisNames(n)
	var like Shape // the spatial size of size_of's item, when given
	if len(lr.Inputs) == 2 {
		like = lr.Inputs[1]
		if len(like) != len(x) {
			return errorf("size_of", "upsample size_of needs an item of the input's rank %d, got %s", len(x), fmtShape(like))
		}
	}
	if given := btoi(len(l.Scale) > 0) + btoi(len(l.Size) > 0) + btoi(like != nil); given != 1 {
		return errorf("scale", "upsample needs exactly one of scale, size and size_of")
	}
	if len(l.Scale) > 1 && len(l.Scale) != n {
		return errorf("scale", "upsample scale needs 1 or %d values, got %d", n, len(l.Scale))
	}
	if len(l.Size) > 1 && len(l.Size) != n {
		return errorf("size", "upsample size needs 1 or %d values, got %d", n, len(l.Size))
	}
	out := Shape{x[0], x[1]}
	for i := 0; i < n; i++ {
		var o int64
		var f string
		if like != nil {
			o = like[2+i]
			f = fmt.Sprintf("%s = %d (size_of)", names[i], o)
		} else if len(l.Size) > 0 {
			o = axis(l.Size, i, 1)
			f = fmt.Sprintf("%s = %d (size)", names[i], o)
		} else {
			s := l.Scale[0]
			if len(l.Scale) == n {
				s = l.Scale[i]
			}
			if !(s > 0) || math.IsInf(s, 0) || s > MaxArg {
				return errorf("scale", "upsample scale must be positive and finite, got %s", fmtFloat(s))
			}
			o = int64(math.Floor(float64(x[2+i]) * s))
			f = fmt.Sprintf("%s = floor(%d * %s) = %d", names[i], x[2+i], fmtFloat(s), o)
		}
		if o < 1 {
			return &Error{Arg: "scale", Msg: fmt.Sprintf("upsample output size %d is too small on axis %s", o, names[i]), Formula: f}
		}
		out = append(out, o)
		if lr.explain {
			lr.Formulas = append(lr.Formulas, f)
		}
	}
	lr.Output = out
	return nil
}

// addShape: equal shapes, the same out.
func addShape(l *Layer, lr *LayerResult) *Error {
	x := lr.Inputs[0]
	for k, y := range lr.Inputs[1:] {
		if !equalInts(x, y) {
			return errorf("from", "add needs equal shapes, got %s (input 1) and %s (input %d)", fmtShape(x), fmtShape(y), k+2)
		}
	}
	lr.Output = x.Clone()
	return nil
}

// unionField is the union of the inputs' fields (undefined when jumps differ).
func unionField(l *Layer, lr *LayerResult, rfs []*RF) (*RF, string) { return rfUnion(rfs) }

// concatShape sums the inputs' sizes along dim; the other axes must agree.
func concatShape(l *Layer, lr *LayerResult) *Error {
	x := lr.Inputs[0]
	d, err := normDim(l.Dim, len(x), "dim")
	if err != nil {
		return err
	}
	if d == 0 {
		return errorf("dim", "concat along the batch axis (dim %d) is not allowed", l.Dim)
	}
	out := x.Clone()
	sizes := []string{fmt.Sprint(x[d])}
	for k, y := range lr.Inputs[1:] {
		if len(y) != len(x) {
			return errorf("from", "concat needs inputs of equal rank, got %s (input 1) and %s (input %d)", fmtShape(x), fmtShape(y), k+2)
		}
		for a := range y {
			if a != d && y[a] != x[a] {
				return errorf("from", "concat along dim %d needs equal sizes on the other axes, got %s (input 1) and %s (input %d): axis %d differs", d, fmtShape(x), fmtShape(y), k+2, a)
			}
		}
		out[d] += y[d]
		sizes = append(sizes, fmt.Sprint(y[d]))
	}
	lr.Output = out
	if lr.explain {
		lr.Formulas = append(lr.Formulas, fmt.Sprintf("axis %d = %s = %d", d, strings.Join(sizes, " + "), out[d]))
	}
	return nil
}

// concatField: a concat along channels unites the fields; along a spatial
// axis the output's units no longer map onto one input grid.
func concatField(l *Layer, lr *LayerResult, rfs []*RF) (*RF, string) {
	if d, _ := normDim(l.Dim, len(lr.Inputs[0]), "dim"); d >= 2 {
		return nil, ""
	}
	return rfUnion(rfs)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
