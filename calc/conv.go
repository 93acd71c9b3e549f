package calc

import (
	"fmt"
	"strings"
)

// ConvOutput is PyTorch's conv output size along one axis with padding
// padLeft+padRight: floor((in + padLeft + padRight - dilation*(kernel-1) - 1)/stride) + 1.
func ConvOutput(in, kernel, stride, padLeft, padRight, dilation int64) int64 {
	return floorDiv(in+padLeft+padRight-effectiveKernel(kernel, dilation), stride) + 1
}

// SamePadding returns the left and right padding of padding "same": with
// stride 1 PyTorch's total dilation*(kernel-1); with stride > 1 TensorFlow's
// max((ceil(in/stride)-1)*stride + dilation*(kernel-1) + 1 - in, 0). The
// smaller half goes left.
func SamePadding(in, kernel, stride, dilation int64) (left, right int64) {
	total := dilation * (kernel - 1)
	if stride > 1 {
		total = max((ceilDiv(in, stride)-1)*stride+effectiveKernel(kernel, dilation)-in, 0)
	}
	return total / 2, total - total/2
}

// convAxis is the geometry of one spatial axis of a conv or pool.
type convAxis struct {
	in, k, s, pl, pr, d, out int64
}

func (a convAxis) formula(name string) string {
	pad := fmt.Sprintf("2*%d", a.pl)
	if a.pl != a.pr {
		pad = fmt.Sprintf("%d + %d", a.pl, a.pr)
	}
	return fmt.Sprintf("%s = floor((%d + %s - %d*(%d-1) - 1) / %d) + 1 = %d", name, a.in, pad, a.d, a.k, a.s, a.out)
}

func checkPositive(l *Layer, arg string, v []int64, n int, def int64) *Error {
	for i := 0; i < n; i++ {
		if axis(v, i, def) < 1 {
			return errorf(arg, "%s %s must be positive, got %d", l.Type, arg, axis(v, i, def))
		}
	}
	return nil
}

// checkArity makes sure a per-axis list has one value or one per axis.
func checkArity(l *Layer, arg string, v []int64, n int) *Error {
	if len(v) > 1 && len(v) != n {
		return errorf(arg, "%s %s needs 1 or %d values (one per spatial axis), got %d", l.Type, arg, n, len(v))
	}
	return nil
}

func convGeometry(l *Layer, x Shape) (int, *Error) {
	n := l.Type.Info().Rank
	if err := needRank(l, x, n+2); err != nil {
		return 0, err
	}
	for _, a := range []struct {
		name string
		v    []int64
	}{{"kernel", l.Kernel}, {"stride", l.Stride}, {"padding", l.Padding}, {"dilation", l.Dilation}, {"output_padding", l.OutputPadding}} {
		if err := checkArity(l, a.name, a.v, n); err != nil {
			return 0, err
		}
	}
	if len(l.Kernel) == 0 {
		return 0, errorf("kernel", "%s needs a kernel size", l.Type)
	}
	for _, a := range []struct {
		name string
		v    []int64
	}{{"kernel", l.Kernel}, {"stride", l.Stride}, {"dilation", l.Dilation}} {
		if err := checkPositive(l, a.name, a.v, n, 1); err != nil {
			return 0, err
		}
	}
	for i := 0; i < n; i++ {
		if axis(l.Padding, i, 0) < 0 {
			return 0, errorf("padding", "%s padding must be non-negative, got %d", l.Type, axis(l.Padding, i, 0))
		}
	}
	cin := x[1]
	if l.In != 0 && l.In != cin {
		return 0, errorf("in", "%s in_channels %d does not match the input's %d channels", l.Type, l.In, cin)
	}
	if l.Out < 1 {
		return 0, errorf("out", "%s out_channels must be positive, got %d", l.Type, l.Out)
	}
	g := max(l.Groups, 1)
	if l.Groups < 0 {
		return 0, errorf("groups", "%s groups must be positive, got %d", l.Type, l.Groups)
	}
	if cin%g != 0 {
		return 0, errorf("groups", "%s in_channels %d must be divisible by groups %d", l.Type, cin, g)
	}
	if l.Out%g != 0 {
		return 0, errorf("groups", "%s out_channels %d must be divisible by groups %d", l.Type, l.Out, g)
	}
	return n, nil
}

// maxWindowAxes is the most spatial axes a window kind (conv, pool) has.
const maxWindowAxes = 3

// convAxes is the geometry of a conv's n spatial axes on input x, padding
// resolved, in buf; it rejects padding the mode cannot take and a kernel
// wider than the padded input.
func convAxes(l *Layer, x Shape, n int, buf *[maxWindowAxes]convAxis) ([]convAxis, *Error) {
	names := AxisNames(n)
	axes := buf[:n]
	for i := range axes {
		a := convAxis{in: x[2+i], k: axis(l.Kernel, i, 1), s: axis(l.Stride, i, 1), d: axis(l.Dilation, i, 1)}
		switch l.PadMode {
		case PadSame:
			a.pl, a.pr = SamePadding(a.in, a.k, a.s, a.d)
		case PadValid:
		default:
			a.pl = axis(l.Padding, i, 0)
			a.pr = a.pl
		}
		switch l.PaddingMode {
		case "reflect":
			if a.pl >= a.in || a.pr >= a.in {
				return nil, errorf("padding", "%s reflect padding (%d, %d) must be below the input size %d on axis %s", l.Type, a.pl, a.pr, a.in, names[i])
			}
		case "circular":
			if a.pl > a.in || a.pr > a.in {
				return nil, errorf("padding", "%s circular padding (%d, %d) must not exceed the input size %d on axis %s", l.Type, a.pl, a.pr, a.in, names[i])
			}
		}
		a.out = ConvOutput(a.in, a.k, a.s, a.pl, a.pr, a.d)
		if ek := effectiveKernel(a.k, a.d); ek > a.in+a.pl+a.pr {
			return nil, &Error{Arg: "kernel", Msg: fmt.Sprintf("%s kernel %d (dilated %d) exceeds padded input %d on axis %s", l.Type, a.k, ek, a.in+a.pl+a.pr, names[i]),
				Formula: a.formula(names[i])}
		}
		axes[i] = a
	}
	return axes, nil
}

// convShape: per axis floor((in + pl + pr - dilation*(kernel-1) - 1)/stride) + 1.
func convShape(l *Layer, lr *LayerResult) *Error {
	x := lr.Inputs[0]
	n, err := convGeometry(l, x)
	if err != nil {
		return err
	}
	var buf [maxWindowAxes]convAxis
	axes, err := convAxes(l, x, n, &buf)
	if err != nil {
		return err
	}
	names := AxisNames(n)
	out := make(Shape, 2, 2+n)
	out[0], out[1] = x[0], l.Out
	for i, a := range axes {
		out = append(out, a.out)
		if lr.explain {
			lr.Formulas = append(lr.Formulas, a.formula(names[i]))
		}
	}
	lr.Output = out
	return nil
}

// convCount: weight Cout*(Cin/G)*prod(kernel) (+ Cout bias);
// MACs N*Cout*prod(out spatial)*(Cin/G)*prod(kernel).
func convCount(l *Layer, lr *LayerResult) *Error {
	x, out := lr.Inputs[0], lr.Output
	n := len(out) - 2
	cinG := x[1] / max(l.Groups, 1)
	k, _ := prod(l.kernelAll(n)...)
	return convCounts(l, lr, out, cinG, k, out[2:])
}

// convField carries the field through the conv's windows.
func convField(l *Layer, lr *LayerResult, rfs []*RF) (*RF, string) {
	x := lr.Inputs[0]
	var buf [maxWindowAxes]convAxis
	axes, err := convAxes(l, x, len(x)-2, &buf)
	if err != nil {
		return nil, ""
	}
	return rfWindows(rfs[0], axes), ""
}

// kernelAll returns the kernel size of every axis.
func (l *Layer) kernelAll(n int) []int64 {
	k := make([]int64, n)
	for i := range k {
		k[i] = axis(l.Kernel, i, 1)
	}
	return k
}

// convCounts fills params and MACs of a conv-like layer whose weight holds
// outC*inPerGroup*kernel values (kernel = product of kernel sizes) and whose
// MACs are N*outC*prod(spatial)*inPerGroup*kernel.
func convCounts(l *Layer, lr *LayerResult, out Shape, inPerGroup, k int64, spatial []int64) *Error {
	outC := out[1]
	w, err := prod(outC, inPerGroup, k)
	if err != nil {
		return errorf("", "%s weight count overflows int64", l.Type)
	}
	lr.Params = w
	bias := ""
	if l.Bias {
		lr.Params += outC
		bias = fmt.Sprintf(" + %d", outC)
	}
	if lr.Params < 0 {
		return errorf("", "%s parameter count overflows int64", l.Type)
	}
	if lr.explain {
		lr.Formulas = append(lr.Formulas, fmt.Sprintf("params = %d*(%d*%s)%s = %s", outC, inPerGroup, strings.Join(fmtInts(l.kernelAll(len(out)-2)), "*"), bias, Group(lr.Params)))
	}
	macs, err := prod(append([]int64{out[0], outC, inPerGroup, k}, spatial...)...)
	if err != nil {
		return errorf("", "%s MAC count overflows int64", l.Type)
	}
	lr.MACs = macs
	if lr.explain {
		lr.Formulas = append(lr.Formulas, fmt.Sprintf("macs = %d*%d*%s*(%d*%s) = %s", out[0], outC, joinInts(spatial, "*"), inPerGroup, strings.Join(fmtInts(l.kernelAll(len(out)-2)), "*"), Group(macs)))
	}
	return nil
}

// ConvTransposeOutput is PyTorch's transposed conv output size along one
// axis: (in-1)*stride - 2*padding + dilation*(kernel-1) + output_padding + 1.
func ConvTransposeOutput(in, kernel, stride, padding, outputPadding, dilation int64) int64 {
	return (in-1)*stride - 2*padding + dilation*(kernel-1) + outputPadding + 1
}

// convTransposeShape: per axis (in-1)*stride - 2*padding + dilation*(kernel-1) + output_padding + 1.
func convTransposeShape(l *Layer, lr *LayerResult) *Error {
	x := lr.Inputs[0]
	n, err := convGeometry(l, x)
	if err != nil {
		return err
	}
	if l.PadMode != PadExplicit {
		return errorf("padding", "%s does not take padding %q", l.Type, l.PadMode)
	}
	names := AxisNames(n)
	out := Shape{x[0], l.Out}
	for i := 0; i < n; i++ {
		in, k, s, p, d, op := x[2+i], axis(l.Kernel, i, 1), axis(l.Stride, i, 1), axis(l.Padding, i, 0), axis(l.Dilation, i, 1), axis(l.OutputPadding, i, 0)
		if op < 0 || op >= max(s, d) {
			return errorf("output_padding", "%s output_padding %d must be smaller than either stride %d or dilation %d", l.Type, op, s, d)
		}
		o := ConvTransposeOutput(in, k, s, p, op, d)
		f := fmt.Sprintf("%s = (%d-1)*%d - 2*%d + %d*(%d-1) + %d + 1 = %d", names[i], in, s, p, d, k, op, o)
		if o < 1 {
			return &Error{Arg: "padding", Msg: fmt.Sprintf("%s output size %d is too small on axis %s", l.Type, o, names[i]), Formula: f}
		}
		out = append(out, o)
		if lr.explain {
			lr.Formulas = append(lr.Formulas, f)
		}
	}
	lr.Output = out
	return nil
}

// convTransposeCount: the weight is (Cin, Cout/G, kernel...), counted as
// Cin*(Cout/G)*prod(kernel) (+ Cout bias); MACs
// N*Cin*prod(in spatial)*(Cout/G)*prod(kernel), one per tap written.
func convTransposeCount(l *Layer, lr *LayerResult) *Error {
	x := lr.Inputs[0]
	n := len(x) - 2
	g := max(l.Groups, 1)
	k, _ := prod(l.kernelAll(n)...)
	w, e := prod(x[1], l.Out/g, k)
	if e != nil {
		return errorf("", "%s weight count overflows int64", l.Type)
	}
	lr.Params = w
	bias := ""
	if l.Bias {
		lr.Params += l.Out
		bias = fmt.Sprintf(" + %d", l.Out)
	}
	kern := strings.Join(fmtInts(l.kernelAll(n)), "*")
	if lr.explain {
		lr.Formulas = append(lr.Formulas, fmt.Sprintf("params = %d*(%d*%s)%s = %s", x[1], l.Out/g, kern, bias, Group(lr.Params)))
	}
	macs, e := prod(append([]int64{x[0], x[1], l.Out / g, k}, x[2:]...)...)
	if e != nil {
		return errorf("", "%s MAC count overflows int64", l.Type)
	}
	lr.MACs = macs
	if lr.explain {
		lr.Formulas = append(lr.Formulas, fmt.Sprintf("macs = %d*%d*%s*(%d*%s) = %s", x[0], x[1], joinInts(x[2:], "*"), l.Out/g, kern, Group(macs)))
	}
	return nil
}

func fmtInts(v []int64) []string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return s
}

func joinInts(v []int64, sep string) string { return strings.Join(fmtInts(v), sep) }
