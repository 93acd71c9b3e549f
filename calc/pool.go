package calc

import (
	"fmt"
	"strings"
)

// PoolOutput is PyTorch's pooling output size along one axis:
// floor_or_ceil((in + 2*padding - dilation*(kernel-1) - 1)/stride) + 1, where
// with ceil_mode a last window that would start in the right padding is
// dropped, as torch's pooling_output_shape does.
func PoolOutput(in, kernel, stride, padding, dilation int64, ceilMode bool) int64 {
	num := in + 2*padding - effectiveKernel(kernel, dilation)
	if ceilMode {
		num += stride - 1
	}
	out := floorDiv(num, stride) + 1
	if ceilMode && (out-1)*stride >= in+padding {
		out--
	}
	return out
}

// poolAxes is the geometry of a pool's n spatial axes on input x, with the
// worked formula of each output size when explain is set (an error's
// formula is written always); it rejects what PyTorch rejects.
func poolAxes(l *Layer, x Shape, n int, explain bool) ([]convAxis, []string, *Error) {
	for _, a := range []struct {
		name string
		v    []int64
	}{{"kernel", l.Kernel}, {"stride", l.Stride}, {"padding", l.Padding}, {"dilation", l.Dilation}} {
		if err := checkArity(l, a.name, a.v, n); err != nil {
			return nil, nil, err
		}
	}
	if len(l.Kernel) == 0 {
		return nil, nil, errorf("kernel", "%s needs a kernel size", l.Type)
	}
	isMax := l.Type.RankOf(MaxPool1d) > 0
	names := AxisNames(n)
	axes := make([]convAxis, n)
	var formulas []string
	for i := range axes {
		k := axis(l.Kernel, i, 1)
		a := convAxis{in: x[2+i], k: k, s: axis(l.Stride, i, k), d: 1, pl: axis(l.Padding, i, 0)}
		if isMax {
			a.d = axis(l.Dilation, i, 1)
		}
		a.pr = a.pl
		switch {
		case a.k < 1:
			return nil, nil, errorf("kernel", "%s kernel must be positive, got %d", l.Type, a.k)
		case a.s < 1:
			return nil, nil, errorf("stride", "%s stride must be positive, got %d", l.Type, a.s)
		case a.d < 1:
			return nil, nil, errorf("dilation", "%s dilation must be positive, got %d", l.Type, a.d)
		case a.pl < 0:
			return nil, nil, errorf("padding", "%s padding must be non-negative, got %d", l.Type, a.pl)
		case a.pl > a.k/2:
			return nil, nil, &Error{Arg: "padding", Msg: fmt.Sprintf("%s padding %d should be at most half of kernel size %d on axis %s", l.Type, a.pl, a.k, names[i]),
				Formula: fmt.Sprintf("%d > %d/2 = %d", a.pl, a.k, a.k/2)}
		case l.Type == AvgPool3d && a.in < a.k:
			// PyTorch's avg_pool3d (alone among the pools) checks the
			// unpadded input against the kernel.
			return nil, nil, errorf("kernel", "avgpool3d input %s smaller than kernel size %d on axis %s (PyTorch's avg_pool3d compares before padding)", fmtShape(x), a.k, names[i])
		}
		a.out = PoolOutput(a.in, a.k, a.s, a.pl, a.d, l.CeilMode)
		axes[i] = a
		if !explain && a.out >= 1 {
			continue
		}
		f := a.formula(names[i])
		if l.CeilMode {
			f = strings.Replace(f, "floor", "ceil", 1)
			if ceilRaw := ceilDiv(a.in+2*a.pl-effectiveKernel(a.k, a.d), a.s) + 1; ceilRaw != a.out {
				f += fmt.Sprintf(" (the last window would start in the padding: %d-1 = %d >= %d+%d, so it is dropped)", ceilRaw, ceilRaw-1, a.in, a.pl)
			}
		}
		if a.out < 1 {
			return nil, nil, &Error{Arg: "kernel", Msg: fmt.Sprintf("%s output size %d is too small on axis %s (input %d, kernel %d)", l.Type, a.out, names[i], a.in, a.k), Formula: f}
		}
		formulas = append(formulas, f)
	}
	return axes, formulas, nil
}

// poolShape: per axis PoolOutput (floor, or ceil without a last window
// that starts in the padding).
func poolShape(l *Layer, lr *LayerResult) *Error {
	x := lr.Inputs[0]
	n := l.Type.Info().Rank
	if err := needRank(l, x, n+2); err != nil {
		return err
	}
	axes, formulas, err := poolAxes(l, x, n, lr.explain)
	if err != nil {
		return err
	}
	out := make(Shape, 2, 2+n)
	out[0], out[1] = x[0], x[1]
	for _, a := range axes {
		out = append(out, a.out)
	}
	if lr.explain {
		lr.Formulas = append(lr.Formulas, formulas...)
	}
	lr.Output = out
	return nil
}

// poolField carries the field through the pool's windows.
func poolField(l *Layer, lr *LayerResult, rfs []*RF) (*RF, string) {
	x := lr.Inputs[0]
	axes, _, err := poolAxes(l, x, len(x)-2, false)
	if err != nil {
		return nil, ""
	}
	return rfWindows(rfs[0], axes), ""
}

func adaptivePoolShape(l *Layer, lr *LayerResult) *Error {
	x := lr.Inputs[0]
	n := l.Type.Info().Rank
	if err := needRank(l, x, n+2); err != nil {
		return err
	}
	if err := checkArity(l, "output", l.OutputSize, n); err != nil {
		return err
	}
	if len(l.OutputSize) == 0 {
		return errorf("output", "%s needs an output size", l.Type)
	}
	names := AxisNames(n)
	out := Shape{x[0], x[1]}
	for i := 0; i < n; i++ {
		o := axis(l.OutputSize, i, -1)
		if o == -1 {
			o = x[2+i]
		}
		if o < 1 {
			return errorf("output", "%s output size must be positive, got %d on axis %s", l.Type, o, names[i])
		}
		out = append(out, o)
		if lr.explain {
			lr.Formulas = append(lr.Formulas, fmt.Sprintf("%s = %d (window i covers [floor(i*%d/%d), ceil((i+1)*%d/%d)))", names[i], o, x[2+i], o, x[2+i], o))
		}
	}
	lr.Output = out
	return nil
}
