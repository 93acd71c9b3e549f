package calc

import (
	"fmt"
	"math"
	"strings"
)

func linear(l *Layer, x Shape, lr *LayerResult) *Error {
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
	if len(x) > 2 {
		lr.Warnings = append(lr.Warnings, fmt.Sprintf("linear on a %d-D tensor %s acts on the last axis only (%d features); did you forget flatten?", len(x), fmtShape(x), in))
	}
	out := append(x[:len(x)-1].Clone(), l.Out)
	lr.Output = out
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

func flatten(l *Layer, x Shape, lr *LayerResult) *Error {
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

func norm(l *Layer, x Shape, lr *LayerResult, rf *RF) *Error {
	n := spatialRank(l.Type)
	switch {
	case l.Type == "batchnorm1d":
		if err := needRank(l, x, 2, 3); err != nil {
			return err
		}
	case l.Type == "layernorm", l.Type == "groupnorm":
		if len(x) < 2 {
			return needRank(l, x, 2)
		}
	default:
		if err := needRank(l, x, n+2); err != nil {
			return err
		}
	}
	c := x[1]
	if l.In != 0 && l.In != c && l.Type != "layernorm" {
		return errorf("in", "%s expects %d channels (num_features), the input has %d", l.Type, l.In, c)
	}
	lr.Output = x.Clone()
	lr.RF = rf
	perChannel := func() {
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
	}
	switch {
	case strings.HasPrefix(l.Type, "batchnorm"):
		// Without running statistics PyTorch normalises with the batch's own,
		// even in eval mode, and needs more than one value per channel.
		if sp, _ := prod(x[2:]...); !l.TrackRunningStats && x[0]*sp == 1 {
			return errorf("track_running_stats", "%s without running statistics needs more than 1 value per channel, got input %s (batch %d)", l.Type, fmtShape(x), x[0])
		}
		perChannel()
	case strings.HasPrefix(l.Type, "instancenorm"):
		if sp, _ := prod(x[2:]...); sp == 1 {
			return errorf("", "%s needs more than 1 spatial element per channel, got input %s", l.Type, fmtShape(x))
		}
		perChannel()
	case l.Type == "groupnorm":
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
		if l.Affine {
			lr.Params = 2 * c
			if lr.explain {
				lr.Formulas = append(lr.Formulas, fmt.Sprintf("params = 2*%d (weight, bias) = %s", c, Group(lr.Params)))
			}
		}
	case l.Type == "layernorm":
		shape := l.NormShape
		if shape == nil {
			shape = x[1:]
		}
		if len(shape) == 0 || len(shape) > len(x)-1 || !equalInts(shape, x[len(x)-len(shape):]) {
			return errorf("shape", "layernorm normalized_shape %s does not match the trailing axes of the input %s", fmtShape(shape), fmtShape(x))
		}
		if l.Affine {
			p, _ := prod(shape...)
			k := int64(1)
			if l.LayerNormBias {
				k = 2
			}
			lr.Params = k * p
			if lr.explain {
				lr.Formulas = append(lr.Formulas, fmt.Sprintf("params = %d*%s = %s", k, joinInts(shape, "*"), Group(lr.Params)))
			}
		}
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

func zeroPad(l *Layer, x Shape, lr *LayerResult, rf *RF) *Error {
	n := spatialRank(l.Type)
	if err := needRank(l, x, n+2); err != nil {
		return err
	}
	if len(l.Pad) != 1 && len(l.Pad) != 2*n {
		return errorf("padding", "%s padding needs 1 or %d values, got %d", l.Type, 2*n, len(l.Pad))
	}
	names := AxisNames(n)
	out := Shape{x[0], x[1]}
	axes := make([]convAxis, n)
	for i := 0; i < n; i++ {
		left, right := l.Pad[0], l.Pad[0]
		if len(l.Pad) == 2*n {
			left, right = l.Pad[2*(n-1-i)], l.Pad[2*(n-1-i)+1]
		}
		o := x[2+i] + left + right
		f := fmt.Sprintf("%s = %d + %d + %d = %d", names[i], x[2+i], left, right, o)
		// PyTorch crops first: the negative sides alone must leave something.
		if crop := x[2+i] + min(left, 0) + min(right, 0); crop < 0 {
			return &Error{Arg: "padding", Msg: fmt.Sprintf("%s crops %d from an axis %s of %d", l.Type, -min(left, 0)-min(right, 0), names[i], x[2+i]),
				Formula: fmt.Sprintf("%d + %d + %d = %d < 0", x[2+i], min(left, 0), min(right, 0), crop)}
		}
		if o < 1 {
			return &Error{Arg: "padding", Msg: fmt.Sprintf("%s output size %d is too small on axis %s", l.Type, o, names[i]), Formula: f}
		}
		out = append(out, o)
		if lr.explain {
			lr.Formulas = append(lr.Formulas, f)
		}
		axes[i] = convAxis{in: x[2+i], k: 1, s: 1, d: 1, pl: left, pr: right, out: o}
	}
	lr.Output = out
	lr.RF = rfWindows(rf, axes)
	return nil
}

// upsampleModes maps each mode to the input rank it needs (0: any of 3..5).
var upsampleModes = map[string]int{"nearest": 0, "nearest-exact": 0, "linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}

func upsample(l *Layer, x Shape, lr *LayerResult) *Error {
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
	if (len(l.Scale) == 0) == (len(l.Size) == 0) {
		return errorf("scale", "upsample needs exactly one of scale and size")
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
		if len(l.Size) > 0 {
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

func addMerge(l *Layer, lr *LayerResult, rfs []*RF) *Error {
	x := lr.Inputs[0]
	for k, y := range lr.Inputs[1:] {
		if !equalInts(x, y) {
			return errorf("from", "add needs equal shapes, got %s (input 1) and %s (input %d)", fmtShape(x), fmtShape(y), k+2)
		}
	}
	lr.Output = x.Clone()
	var why string
	lr.RF, why = rfUnion(rfs)
	if why != "" {
		lr.Warnings = append(lr.Warnings, why)
	}
	return nil
}

func concatMerge(l *Layer, lr *LayerResult, rfs []*RF) *Error {
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
	if d >= 2 {
		return nil
	}
	var why string
	lr.RF, why = rfUnion(rfs)
	if why != "" {
		lr.Warnings = append(lr.Warnings, why)
	}
	return nil
}
