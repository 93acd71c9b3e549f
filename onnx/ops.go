package onnx

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/onnx/onnxpb"
)

// converters is the table of ONNX operators cnncalc reads, by op_type:
// each turns one node (or the pattern it starts) into items. An op that
// only computes constants (Shape, Gather, ...) is in folders instead.
var converters map[string]func(c *converter, n *onnxpb.NodeProto) error

func init() {
	converters = map[string]func(c *converter, n *onnxpb.NodeProto) error{
		"Conv":                  convConv,
		"ConvTranspose":         convConvTranspose,
		"MaxPool":               func(c *converter, n *onnxpb.NodeProto) error { return convPool(c, n, calc.MaxPool1d) },
		"AveragePool":           func(c *converter, n *onnxpb.NodeProto) error { return convPool(c, n, calc.AvgPool1d) },
		"GlobalAveragePool":     func(c *converter, n *onnxpb.NodeProto) error { return convGlobalPool(c, n, calc.AdaptiveAvgPool1d) },
		"GlobalMaxPool":         func(c *converter, n *onnxpb.NodeProto) error { return convGlobalPool(c, n, calc.AdaptiveMaxPool1d) },
		"BatchNormalization":    convBatchNorm,
		"InstanceNormalization": convInstanceNorm,
		"LayerNormalization":    convLayerNorm,
		"GroupNormalization":    convGroupNorm,
		"Gemm":                  convGemm,
		"MatMul":                convMatMul,
		"Flatten":               convFlatten,
		"Reshape":               convReshape,
		"Squeeze":               convSqueeze,
		"Transpose":             convTranspose,
		"Split":                 convSplit,
		"Slice":                 convSlice,
		"Concat":                convConcat,
		"Pad":                   convPad,
		"Resize":                convResize,
		"Upsample":              convResize,
		"Dropout":               convDropout,
		"Identity":              convIdentity,
		"ReduceMean":            func(c *converter, n *onnxpb.NodeProto) error { return convReduce(c, n, calc.AdaptiveAvgPool1d) },
		"ReduceMax":             func(c *converter, n *onnxpb.NodeProto) error { return convReduce(c, n, calc.AdaptiveMaxPool1d) },
		"Softmax":               func(c *converter, n *onnxpb.NodeProto) error { return convSoftmax(c, n, calc.Softmax) },
		"LogSoftmax":            func(c *converter, n *onnxpb.NodeProto) error { return convSoftmax(c, n, calc.LogSoftmax) },
		"PRelu":                 convPRelu,
		"Clip":                  convClip,
		"Add":                   func(c *converter, n *onnxpb.NodeProto) error { return c.binaryExpr(n, "add") },
		"Sub":                   func(c *converter, n *onnxpb.NodeProto) error { return c.binaryExpr(n, "sub") },
		"Mul":                   func(c *converter, n *onnxpb.NodeProto) error { return c.binaryExpr(n, "mul") },
		"Div":                   func(c *converter, n *onnxpb.NodeProto) error { return c.binaryExpr(n, "div") },
		"Pow":                   func(c *converter, n *onnxpb.NodeProto) error { return c.binaryExpr(n, "pow") },
		"Erf":                   func(c *converter, n *onnxpb.NodeProto) error { return c.unaryExpr(n, "erf", nil) },
		"Sqrt":                  func(c *converter, n *onnxpb.NodeProto) error { return c.unaryExpr(n, "sqrt", nil) },
		"Exp":                   func(c *converter, n *onnxpb.NodeProto) error { return c.unaryExpr(n, "exp", nil) },
		"Log":                   func(c *converter, n *onnxpb.NodeProto) error { return c.unaryExpr(n, "log", nil) },
		"Neg":                   func(c *converter, n *onnxpb.NodeProto) error { return c.unaryExpr(n, "neg", nil) },
		"Abs":                   func(c *converter, n *onnxpb.NodeProto) error { return c.unaryExpr(n, "abs", nil) },
		"Reciprocal":            func(c *converter, n *onnxpb.NodeProto) error { return c.unaryExpr(n, "recip", nil) },
	}
	// The activations: one calc layer each, from the node's attributes.
	for op, mk := range activations {
		converters[op] = func(c *converter, n *onnxpb.NodeProto) error {
			l, err := mk(c, n)
			if err != nil {
				return err
			}
			return c.unaryExpr(n, "act", &l)
		}
	}
}

// activations are the ONNX activations with a calc kind of their own.
var activations = map[string]func(c *converter, n *onnxpb.NodeProto) (calc.Layer, error){
	"Relu":    simpleAct(calc.ReLU),
	"Sigmoid": simpleAct(calc.Sigmoid),
	"Tanh":    simpleAct(calc.Tanh),
	"HardSwish": func(c *converter, n *onnxpb.NodeProto) (calc.Layer, error) {
		return calc.Layer{Type: calc.Hardswish}, nil
	},
	"Mish": simpleAct(calc.Mish),
	"LeakyRelu": func(c *converter, n *onnxpb.NodeProto) (calc.Layer, error) {
		return calc.Layer{Type: calc.LeakyReLU, NegativeSlope: attrF32(n, "alpha", 0.01)}, nil
	},
	"Elu": func(c *converter, n *onnxpb.NodeProto) (calc.Layer, error) {
		return calc.Layer{Type: calc.ELU, Alpha: attrF32(n, "alpha", 1)}, nil
	},
	"Celu": func(c *converter, n *onnxpb.NodeProto) (calc.Layer, error) {
		return calc.Layer{Type: calc.CELU, Alpha: attrF32(n, "alpha", 1)}, nil
	},
	"Selu": func(c *converter, n *onnxpb.NodeProto) (calc.Layer, error) {
		a, g := attrFloat(n, "alpha", 1.67326319217681884765625), attrFloat(n, "gamma", 1.05070102214813232421875)
		if math.Abs(a-1.6732632423543772) > 1e-6 || math.Abs(g-1.0507009873554805) > 1e-6 {
			return calc.Layer{}, c.errorf(n, "Selu with alpha %v and gamma %v: PyTorch's SELU has fixed ones (1.6732632, 1.0507010)", a, g)
		}
		return calc.Layer{Type: calc.SELU}, nil
	},
	"HardSigmoid": func(c *converter, n *onnxpb.NodeProto) (calc.Layer, error) {
		return calc.Layer{Type: calc.Hardsigmoid, Alpha: attrF32(n, "alpha", 0.2), Beta: attrF32(n, "beta", 0.5)}, nil
	},
	"Softplus": func(c *converter, n *onnxpb.NodeProto) (calc.Layer, error) {
		return calc.Layer{Type: calc.Softplus, Beta: 1, Threshold: 20}, nil
	},
	"Gelu": func(c *converter, n *onnxpb.NodeProto) (calc.Layer, error) {
		a := attrString(n, "approximate", "none")
		if a != "none" && a != "tanh" {
			return calc.Layer{}, c.errorf(n, "Gelu approximate %q: none or tanh", a)
		}
		return calc.Layer{Type: calc.GELU, Approximate: a}, nil
	},
}

func simpleAct(op calc.Op) func(c *converter, n *onnxpb.NodeProto) (calc.Layer, error) {
	return func(c *converter, n *onnxpb.NodeProto) (calc.Layer, error) { return calc.Layer{Type: op}, nil }
}

// attrF32 reads a float attribute as the shortest decimal that is the
// same float32 (0.2f reads 0.2, not 0.20000000298023224).
func attrF32(n *onnxpb.NodeProto, name string, def float64) float64 {
	if a := attr(n, name); a != nil && a.F != nil {
		return f32(a.GetF())
	}
	return def
}

func f32(v float32) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(float64(v), 'g', -1, 32), 64)
	return r
}

// rankOp is the 1-, 2- or 3-D kind of the family whose 1-D kind is first.
func (c *converter) rankOp(n *onnxpb.NodeProto, first calc.Op, x calc.Shape) (calc.Op, error) {
	r := len(x) - 2
	if r < 1 || r > 3 {
		return 0, c.errorf(n, "input of shape %v: cnncalc's %s layers take 1 to 3 spatial axes", []int64(x), first.Info().Torch[:len(first.Info().Torch)-2])
	}
	return first + calc.Op(r-1), nil
}

// param returns input i of n as a parameter tensor of PyTorch's shape.
func (c *converter) param(n *onnxpb.NodeProto, i int, what string) (*Param, *konst, error) {
	v := c.in(n, i)
	if v == nil {
		return nil, nil, c.errorf(n, "the %s (input %d) is missing", what, i)
	}
	if v.konst == nil {
		return nil, nil, c.errorf(n, "the %s %q is computed by the network; cnncalc layers hold their weights as constants", what, n.Input[i])
	}
	return &Param{Tensor: v.konst.init, Values: floats32(v.konst), Shape: v.konst.dims, NoData: v.konst.noData}, v.konst, nil
}

// floats32 returns a folded constant's values (for a constant that is
// no initializer).
func floats32(k *konst) []float32 {
	if k.init != nil || k.noData || !k.loaded {
		return nil
	}
	v := k.values()
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// windowPads returns the begin and end padding of each spatial axis of a
// conv or pool: the pads attribute, or what auto_pad computes.
func (c *converter) windowPads(n *onnxpb.NodeProto, in, k, s, d []int64) (begin, end []int64, err error) {
	r := len(in)
	begin, end = make([]int64, r), make([]int64, r)
	switch ap := attrString(n, "auto_pad", "NOTSET"); ap {
	case "NOTSET", "":
		p := attrInts(n, "pads")
		if len(p) == 0 {
			return begin, end, nil
		}
		if len(p) != 2*r {
			return nil, nil, c.errorf(n, "pads %v: want %d values (begin and end of each of %d axes)", p, 2*r, r)
		}
		for i := range r {
			begin[i], end[i] = p[i], p[r+i]
			if begin[i] < 0 || end[i] < 0 {
				return nil, nil, c.errorf(n, "pads %v: negative padding", p)
			}
		}
	case "VALID":
	case "SAME_UPPER", "SAME_LOWER":
		for i := range r {
			out := (in[i] + s[i] - 1) / s[i]
			total := max((out-1)*s[i]+(k[i]-1)*d[i]+1-in[i], 0)
			if ap == "SAME_UPPER" {
				begin[i] = total / 2
			} else {
				begin[i] = total - total/2
			}
			end[i] = total - begin[i]
		}
	default:
		return nil, nil, c.errorf(n, "auto_pad %q: NOTSET, VALID, SAME_UPPER or SAME_LOWER", ap)
	}
	return begin, end, nil
}

// torchPad is a pad list in PyTorch's order (last axis first).
func torchPad(begin, end []int64) []int64 {
	var p []int64
	for i := len(begin) - 1; i >= 0; i-- {
		p = append(p, begin[i], end[i])
	}
	return p
}

func perAxis(v []int64, r int, def int64) []int64 {
	if len(v) == 0 {
		out := make([]int64, r)
		for i := range out {
			out[i] = def
		}
		return out
	}
	return v
}

// zeroPad writes the padding of a window as a zeropad item before it
// when its two sides differ (PyTorch pads both sides alike).
func (c *converter) zeroPad(n *onnxpb.NodeProto, x *value, begin, end []int64, name string) (*value, []int64, error) {
	if slices.Equal(begin, end) {
		return x, begin, nil
	}
	rank, err := c.rankOp(n, calc.ZeroPad1d, x.shape)
	if err != nil {
		return nil, nil, err
	}
	v, err := c.emit(n, calc.Layer{Type: rank, Pad: torchPad(begin, end)}, []*value{x}, name+".pad")
	return v, make([]int64, len(begin)), err
}

func convConv(c *converter, n *onnxpb.NodeProto) error {
	xv := c.in(n, 0)
	if xv == nil {
		return c.errorf(n, "input 0 is missing")
	}
	w, wk, err := c.param(n, 1, "weight")
	if err != nil {
		return err
	}
	// A reflect or edge Pad before the conv is its padding_mode.
	var pending *pendingPad
	if xv.pad != nil {
		pending = xv.pad
		xv = pending.src
	}
	x, err := c.runtime(xv, n)
	if err != nil {
		return err
	}
	op, err := c.rankOp(n, calc.Conv1d, x.shape)
	if err != nil {
		return err
	}
	r := len(x.shape) - 2
	if len(wk.dims) != r+2 {
		return c.errorf(n, "weight %q has dims %v; a %d-D conv's weight has %d", n.Input[1], wk.dims, r, r+2)
	}
	k := attrInts(n, "kernel_shape")
	if k == nil {
		k = wk.dims[2:]
	}
	s, d := perAxis(attrInts(n, "strides"), r, 1), perAxis(attrInts(n, "dilations"), r, 1)
	if len(k) != r || len(s) != r || len(d) != r {
		return c.errorf(n, "kernel_shape %v, strides %v, dilations %v: want %d values each", k, s, d, r)
	}
	begin, end, err := c.windowPads(n, x.shape[2:], k, s, d)
	if err != nil {
		return err
	}
	g := attrInt(n, "group", 1)
	if g < 1 || wk.dims[1]*g != x.shape[1] {
		return c.errorf(n, "weight %q has dims %v: with group %d the input needs %d channels, it has %d", n.Input[1], wk.dims, g, wk.dims[1]*g, x.shape[1])
	}
	name := itemName(n, n.Input[1])
	l := calc.Layer{Type: op, Out: wk.dims[0], Kernel: k, Stride: s, Dilation: d, Groups: g, PaddingMode: "zeros"}
	if pending != nil {
		if slices.ContainsFunc(begin, func(p int64) bool { return p != 0 }) || slices.ContainsFunc(end, func(p int64) bool { return p != 0 }) || !slices.Equal(pending.begin, pending.end) {
			return c.errorf(n, "a %s Pad before a conv that pads too, or pads its sides unequally, has no cnncalc layer (a conv's padding_mode pads both sides alike)", pending.mode)
		}
		l.PaddingMode = pending.mode
		begin = pending.begin
	} else if x, begin, err = c.zeroPad(n, x, begin, end, name); err != nil {
		return err
	}
	l.Padding = begin
	var b *Param
	if c.in(n, 2) != nil {
		if b, err = c.vectorParam(n, 2, "bias", l.Out); err != nil {
			return err
		}
		l.Bias = true
	}
	return c.layer(n, l, []*value{x}, name, w, b)
}

func convConvTranspose(c *converter, n *onnxpb.NodeProto) error {
	x, err := c.data(n, 0)
	if err != nil {
		return err
	}
	w, wk, err := c.param(n, 1, "weight")
	if err != nil {
		return err
	}
	op, err := c.rankOp(n, calc.ConvTranspose1d, x.shape)
	if err != nil {
		return err
	}
	r := len(x.shape) - 2
	if len(wk.dims) != r+2 {
		return c.errorf(n, "weight %q has dims %v; want %d", n.Input[1], wk.dims, r+2)
	}
	g := attrInt(n, "group", 1)
	if g < 1 || wk.dims[0] != x.shape[1] {
		return c.errorf(n, "weight %q has dims %v: a transposed conv's weight starts with the %d input channels", n.Input[1], wk.dims, x.shape[1])
	}
	k := attrInts(n, "kernel_shape")
	if k == nil {
		k = wk.dims[2:]
	}
	s, d := perAxis(attrInts(n, "strides"), r, 1), perAxis(attrInts(n, "dilations"), r, 1)
	op0 := perAxis(attrInts(n, "output_padding"), r, 0)
	if len(k) != r || len(s) != r || len(d) != r || len(op0) != r {
		return c.errorf(n, "kernel_shape, strides, dilations and output_padding need %d values each", r)
	}
	begin, end := make([]int64, r), make([]int64, r)
	outShape := attrInts(n, "output_shape")
	ap := attrString(n, "auto_pad", "NOTSET")
	switch {
	case outShape != nil || ap == "SAME_UPPER" || ap == "SAME_LOWER":
		// ONNX: total padding = stride*(in-1) + output_padding + (k-1)*d + 1 - out.
		if len(outShape) == r+2 {
			outShape = outShape[2:]
		}
		for i := range r {
			want := x.shape[2+i] * s[i]
			if outShape != nil {
				if len(outShape) != r {
					return c.errorf(n, "output_shape %v: want %d spatial sizes", attrInts(n, "output_shape"), r)
				}
				want = outShape[i]
			}
			total := s[i]*(x.shape[2+i]-1) + op0[i] + (k[i]-1)*d[i] + 1 - want
			if total < 0 {
				// More output than the full transposed conv: PyTorch adds
				// it with output_padding.
				op0[i] -= total
				total = 0
			}
			if ap == "SAME_UPPER" || (ap != "SAME_LOWER" && outShape != nil) {
				begin[i], end[i] = total/2, total-total/2
			} else {
				begin[i], end[i] = total-total/2, total/2
			}
		}
	case ap == "VALID", ap == "NOTSET", ap == "":
		if p := attrInts(n, "pads"); len(p) > 0 {
			if len(p) != 2*r {
				return c.errorf(n, "pads %v: want %d values", p, 2*r)
			}
			for i := range r {
				begin[i], end[i] = p[i], p[r+i]
			}
		}
	default:
		return c.errorf(n, "auto_pad %q: NOTSET, VALID, SAME_UPPER or SAME_LOWER", ap)
	}
	// PyTorch crops padding from both sides and adds output_padding at
	// the end: a larger begin is padding begin and output_padding more.
	pad := make([]int64, r)
	for i := range r {
		if end[i] > begin[i] {
			return c.errorf(n, "pads end %d above begin %d on axis %d: PyTorch's transposed conv crops both sides alike, or the start less", end[i], begin[i], i)
		}
		pad[i] = begin[i]
		op0[i] += begin[i] - end[i]
	}
	name := itemName(n, n.Input[1])
	l := calc.Layer{Type: op, Out: wk.dims[1] * g, Kernel: k, Stride: s, Dilation: d, Groups: g, Padding: pad, OutputPadding: op0, PaddingMode: "zeros"}
	var b *Param
	if c.in(n, 2) != nil {
		if b, err = c.vectorParam(n, 2, "bias", l.Out); err != nil {
			return err
		}
		l.Bias = true
	}
	return c.layer(n, l, []*value{x}, name, w, b)
}

func convPool(c *converter, n *onnxpb.NodeProto, first calc.Op) error {
	if len(n.Output) > 1 && n.Output[1] != "" && len(c.consumers[n.Output[1]]) > 0 {
		return c.errorf(n, "the indices output of MaxPool is read: cnncalc's pools return the values only")
	}
	x, err := c.data(n, 0)
	if err != nil {
		return err
	}
	op, err := c.rankOp(n, first, x.shape)
	if err != nil {
		return err
	}
	r := len(x.shape) - 2
	k := attrInts(n, "kernel_shape")
	s, d := perAxis(attrInts(n, "strides"), r, 1), perAxis(attrInts(n, "dilations"), r, 1)
	if len(k) != r || len(s) != r || len(d) != r {
		return c.errorf(n, "kernel_shape %v, strides %v, dilations %v: want %d values each", k, s, d, r)
	}
	begin, end, err := c.windowPads(n, x.shape[2:], k, s, d)
	if err != nil {
		return err
	}
	name := itemName(n, "")
	l := calc.Layer{Type: op, Kernel: k, Stride: s, CeilMode: attrInt(n, "ceil_mode", 0) != 0}
	if first == calc.MaxPool1d {
		l.Dilation = d
		if !slices.Equal(begin, end) {
			return c.errorf(n, "MaxPool pads %v with unequal sides: PyTorch's max pooling pads both sides alike (a zero pad would change the maxima)", attrInts(n, "pads"))
		}
	} else {
		if slices.ContainsFunc(d, func(v int64) bool { return v != 1 }) {
			return c.errorf(n, "AveragePool dilations %v: PyTorch's average pooling has no dilation", d)
		}
		l.CountIncludePad = attrInt(n, "count_include_pad", 0) != 0
		if !slices.Equal(begin, end) {
			if !l.CountIncludePad {
				return c.errorf(n, "AveragePool pads %v with unequal sides and count_include_pad 0: PyTorch's average pooling pads both sides alike", attrInts(n, "pads"))
			}
			if x, begin, err = c.zeroPad(n, x, begin, end, name); err != nil {
				return err
			}
		}
	}
	l.Padding = begin
	return c.layer(n, l, []*value{x}, name)
}

func convGlobalPool(c *converter, n *onnxpb.NodeProto, first calc.Op) error {
	x, err := c.data(n, 0)
	if err != nil {
		return err
	}
	op, err := c.rankOp(n, first, x.shape)
	if err != nil {
		return err
	}
	return c.layer(n, calc.Layer{Type: op, OutputSize: []int64{1}}, []*value{x}, itemName(n, ""))
}

// axes are a Squeeze's or Reduce's axes: an attribute, or from opset 13
// (18 for Reduce) a constant input.
func (c *converter) axes(n *onnxpb.NodeProto) ([]int64, error) {
	if a := attrInts(n, "axes"); a != nil {
		return a, nil
	}
	a, _, err := c.constInts(n, 1)
	return a, err
}

// convReduce: a mean or max over every spatial axis is a global pool
// (keepdims 0 adds a flatten).
func convReduce(c *converter, n *onnxpb.NodeProto, first calc.Op) error {
	x, err := c.data(n, 0)
	if err != nil {
		return err
	}
	axes, err := c.axes(n)
	if err != nil {
		return err
	}
	r := int64(len(x.shape))
	var norm []int64
	for _, a := range axes {
		if a < 0 {
			a += r
		}
		norm = append(norm, a)
	}
	slices.Sort(norm)
	if first == calc.AdaptiveAvgPool1d {
		if ok, err := c.layerNormDecomposed(n, x, axes); ok || err != nil {
			return err
		}
	}
	want := []int64{}
	for i := int64(2); i < r; i++ {
		want = append(want, i)
	}
	if len(want) == 0 || !slices.Equal(norm, want) {
		return c.errorf(n, "%s over axes %v of a %v tensor: cnncalc reduces over all spatial axes only (a global pool)", n.GetOpType(), axes, []int64(x.shape))
	}
	op, err := c.rankOp(n, first, x.shape)
	if err != nil {
		return err
	}
	name := itemName(n, "")
	v, err := c.emit(n, calc.Layer{Type: op, OutputSize: []int64{1}}, []*value{x}, name)
	if err != nil {
		return err
	}
	if attrInt(n, "keepdims", 1) == 0 {
		if v, err = c.emit(n, calc.Layer{Type: calc.Flatten, StartDim: 1, EndDim: -1}, []*value{v}, name+".flatten"); err != nil {
			return err
		}
	}
	c.bind(n, 0, v)
	return nil
}

// normOp picks batchnorm1d/2d/3d (or instancenorm) by the input's rank:
// (N, C) and (N, C, L) are 1-D.
func (c *converter) normOp(n *onnxpb.NodeProto, first calc.Op, x calc.Shape) (calc.Op, error) {
	if len(x) == 2 && first == calc.BatchNorm1d {
		return first, nil
	}
	return c.rankOp(n, first, x)
}

func convBatchNorm(c *converter, n *onnxpb.NodeProto) error {
	for i := 1; i < len(n.Output); i++ {
		if n.Output[i] != "" && len(c.consumers[n.Output[i]]) > 0 {
			return c.errorf(n, "its running statistics outputs are read (a training-mode batchnorm): cnncalc networks are in eval mode")
		}
	}
	if attrInt(n, "training_mode", 0) != 0 {
		return c.errorf(n, "training_mode 1 (batch statistics): cnncalc networks are in eval mode, as torch.onnx exports them")
	}
	x, err := c.data(n, 0)
	if err != nil {
		return err
	}
	op, err := c.normOp(n, calc.BatchNorm1d, x.shape)
	if err != nil {
		return err
	}
	var ps [4]*Param
	for i, what := range []string{"scale", "bias", "mean", "variance"} {
		p, k, err := c.param(n, i+1, what)
		if err != nil {
			return err
		}
		if len(k.dims) != 1 || k.dims[0] != x.shape[1] {
			return c.errorf(n, "the %s %q has dims %v; the input has %d channels", what, n.Input[i+1], k.dims, x.shape[1])
		}
		ps[i] = p
	}
	l := calc.Layer{Type: op, Eps: attrF32(n, "epsilon", 1e-5), Momentum: roundSig(1-attrFloat(n, "momentum", 0.9), 6), Affine: true, TrackRunningStats: true}
	return c.layer(n, l, []*value{x}, itemName(n, n.Input[1]), ps[:]...)
}

// learnable says whether input i of n is a parameter (an initializer or
// a parameter input), not a constant computed or written in the graph:
// torch.onnx writes an InstanceNorm without affine as constant ones.
func (c *converter) learnable(n *onnxpb.NodeProto, i int) bool {
	v := c.in(n, i)
	if v == nil || v.konst == nil {
		return false
	}
	return v.konst.noData || (v.konst.init != nil && c.producer[n.Input[i]] == nil) || (v.node != nil && v.node.GetOpType() == "Identity")
}

func convInstanceNorm(c *converter, n *onnxpb.NodeProto) error {
	x, err := c.data(n, 0)
	if err != nil {
		return err
	}
	op, err := c.rankOp(n, calc.InstanceNorm1d, x.shape)
	if err != nil {
		return err
	}
	l := calc.Layer{Type: op, Eps: attrF32(n, "epsilon", 1e-5), Momentum: 0.1, Affine: c.learnable(n, 1) && c.learnable(n, 2)}
	var ps [4]*Param
	if l.Affine {
		for i, what := range []string{"scale", "bias"} {
			if ps[i], err = c.vectorParam(n, i+1, what, x.shape[1]); err != nil {
				return err
			}
		}
	} else if err := c.checkUnit(n); err != nil {
		return err
	}
	return c.layer(n, l, []*value{x}, itemName(n, n.Input[1]), ps[:]...)
}

// checkUnit checks that a normalization's constant scale and bias are
// ones and zeros (no affine transform).
func (c *converter) checkUnit(n *onnxpb.NodeProto) error {
	for i, want := range []float64{1, 0} {
		v, ok, err := c.constFloats(n, i+1)
		if err != nil || !ok {
			return err
		}
		for _, x := range v {
			if x != want {
				return c.errorf(n, "its constant %s holds %v: an affine normalization's scale and bias are parameters (initializers)", []string{"scale", "bias"}[i], x)
			}
		}
	}
	return nil
}

func convLayerNorm(c *converter, n *onnxpb.NodeProto) error {
	x, err := c.data(n, 0)
	if err != nil {
		return err
	}
	for i := 1; i < len(n.Output); i++ {
		if n.Output[i] != "" && len(c.consumers[n.Output[i]]) > 0 {
			return c.errorf(n, "its mean or inverse deviation output is read: cnncalc's layernorm returns the normalized tensor only")
		}
	}
	r := int64(len(x.shape))
	axis := attrInt(n, "axis", -1)
	if axis < 0 {
		axis += r
	}
	if axis < 1 || axis >= r {
		return c.errorf(n, "axis %d of a %v tensor: layernorm normalizes trailing axes after the batch", attrInt(n, "axis", -1), []int64(x.shape))
	}
	l := calc.Layer{Type: calc.LayerNorm, NormShape: append([]int64(nil), x.shape[axis:]...), Eps: attrF32(n, "epsilon", 1e-5), Affine: true}
	var ps [4]*Param
	size := numel(l.NormShape)
	for i, what := range []string{"scale", "bias"} {
		if i == 1 && c.in(n, 2) == nil {
			break
		}
		p, k, err := c.param(n, i+1, what)
		if err != nil {
			return err
		}
		if numel(k.dims) != size || len(k.dims) > len(l.NormShape) {
			return c.errorf(n, "the %s %q has dims %v; normalizing %v needs that shape", what, n.Input[i+1], k.dims, l.NormShape)
		}
		p.Shape = l.NormShape
		ps[i] = p
	}
	l.LayerNormBias = ps[1] != nil
	return c.layer(n, l, []*value{x}, itemName(n, n.Input[1]), ps[:]...)
}

func convGroupNorm(c *converter, n *onnxpb.NodeProto) error {
	x, err := c.data(n, 0)
	if err != nil {
		return err
	}
	g := attrInt(n, "num_groups", 0)
	l := calc.Layer{Type: calc.GroupNorm, Groups: g, Eps: attrF32(n, "epsilon", 1e-5), Affine: true}
	var ps [4]*Param
	for i, what := range []string{"scale", "bias"} {
		p, k, err := c.param(n, i+1, what)
		if err != nil {
			return err
		}
		if len(k.dims) != 1 || k.dims[0] != x.shape[1] {
			return c.errorf(n, "the %s has dims %v: cnncalc's groupnorm (PyTorch's) has one per channel (%d); opset 18's per-group scale is not expressible", what, k.dims, x.shape[1])
		}
		ps[i] = p
	}
	return c.layer(n, l, []*value{x}, itemName(n, n.Input[1]), ps[:]...)
}

func convPRelu(c *converter, n *onnxpb.NodeProto) error {
	x, err := c.data(n, 0)
	if err != nil {
		return err
	}
	p, k, err := c.param(n, 1, "slope")
	if err != nil {
		return err
	}
	num := numel(k.dims)
	if num != 1 && num != x.shape[1] {
		return c.errorf(n, "slope %q of dims %v: PyTorch's PReLU has 1 slope or one per channel (%d)", n.Input[1], k.dims, x.shape[1])
	}
	p.Shape = []int64{num}
	v, err := c.emit(n, calc.Layer{Type: calc.PReLU, NumParams: num, Init: 0.25}, []*value{x}, itemName(n, n.Input[1]))
	if err != nil {
		return err
	}
	c.net.Items[v.item].Params[0] = p
	c.bind(n, 0, v)
	return nil
}

func convClip(c *converter, n *onnxpb.NodeProto) error {
	lo, hi := math.Inf(-1), math.Inf(1)
	if c.m.Opset < 11 {
		lo, hi = attrF32(n, "min", lo), attrF32(n, "max", hi)
	} else {
		for i, p := range []*float64{&lo, &hi} {
			v, ok, err := c.constFloats(n, i+1)
			if err != nil {
				return err
			}
			if ok && len(v) == 1 {
				*p = f32(float32(v[0]))
			}
		}
	}
	var l calc.Layer
	switch {
	case lo == 0 && math.IsInf(hi, 1):
		l = calc.Layer{Type: calc.ReLU}
	case lo == 0 && hi == 6:
		l = calc.Layer{Type: calc.ReLU6}
	case !math.IsInf(lo, 0) && !math.IsInf(hi, 0):
		l = calc.Layer{Type: calc.Hardtanh, MinVal: lo, MaxVal: hi}
	default:
		return c.errorf(n, "Clip to [%v, %v]: cnncalc clips to finite bounds (hardtanh), or at 0 (relu)", lo, hi)
	}
	return c.unaryExpr(n, "act", &l)
}

func convGemm(c *converter, n *onnxpb.NodeProto) error {
	x, err := c.data(n, 0)
	if err != nil {
		return err
	}
	if attrInt(n, "transA", 0) != 0 {
		return c.errorf(n, "transA 1: a linear layer multiplies the input untransposed")
	}
	if len(x.shape) != 2 {
		return c.errorf(n, "Gemm on a %v tensor: Gemm takes (N, features)", []int64(x.shape))
	}
	w, wk, err := c.param(n, 1, "weight")
	if err != nil {
		return err
	}
	if len(wk.dims) != 2 {
		return c.errorf(n, "weight %q has dims %v; want 2", n.Input[1], wk.dims)
	}
	out, in := wk.dims[0], wk.dims[1]
	if attrInt(n, "transB", 0) == 0 {
		out, in = in, out
		w.Transpose = true
	}
	if in != x.shape[1] {
		return c.errorf(n, "weight %q has dims %v: the input has %d features", n.Input[1], wk.dims, x.shape[1])
	}
	w.Shape = []int64{out, in}
	if a := attrF32(n, "alpha", 1); a != 1 {
		w.Scale = float32(a)
	}
	l := calc.Layer{Type: calc.Linear, Out: out}
	var b *Param
	if c.in(n, 2) != nil {
		var bk *konst
		if b, bk, err = c.param(n, 2, "bias"); err != nil {
			return err
		}
		if numel(bk.dims) != out {
			return c.errorf(n, "bias %q has dims %v: a linear layer's bias has one value per output (%d)", n.Input[2], bk.dims, out)
		}
		b.Shape = []int64{out}
		if bt := attrF32(n, "beta", 1); bt != 1 {
			b.Scale = float32(bt)
		}
		l.Bias = true
	}
	return c.layer(n, l, []*value{x}, itemName(n, n.Input[1]), w, b)
}

// convMatMul: x @ W with a constant W (in, out) is a linear layer; an Add
// of a constant (out) right after it is its bias (torch.onnx writes a
// Linear on more than two axes so).
func convMatMul(c *converter, n *onnxpb.NodeProto) error {
	x, err := c.data(n, 0)
	if err != nil {
		return err
	}
	w, wk, err := c.param(n, 1, "weight")
	if err != nil {
		return err
	}
	if len(wk.dims) != 2 || wk.dims[0] != x.shape[len(x.shape)-1] {
		return c.errorf(n, "MatMul of %v by the constant of dims %v: a linear layer multiplies the last axis by a (in, out) matrix", []int64(x.shape), wk.dims)
	}
	in, out := wk.dims[0], wk.dims[1]
	w.Shape, w.Transpose = []int64{out, in}, true
	l := calc.Layer{Type: calc.Linear, Out: out}
	var b *Param
	final := n
	if cons := c.consumers[n.Output[0]]; len(cons) == 1 && !c.outputs[n.Output[0]] && cons[0].GetOpType() == "Add" {
		add := cons[0]
		other, _ := otherInput(add, n.Output[0])
		if v := c.value(other); other != "" && v != nil && v.konst != nil && numel(v.konst.dims) == out && v.konst.dims[len(v.konst.dims)-1] == out {
			b = &Param{Tensor: v.konst.init, Values: floats32(v.konst), Shape: []int64{out}, NoData: v.konst.noData}
			l.Bias = true
			c.done[add] = true
			final = add
		}
	}
	name := itemName(n, n.Input[1])
	v, err := c.emit(n, l, []*value{x}, name)
	if err != nil {
		return err
	}
	c.net.Items[v.item].Params = [4]*Param{w, b}
	c.bind(final, 0, v)
	return nil
}

func convFlatten(c *converter, n *onnxpb.NodeProto) error {
	x, err := c.data(n, 0)
	if err != nil {
		return err
	}
	r := int64(len(x.shape))
	axis := attrInt(n, "axis", 1)
	if axis < 0 {
		axis += r
	}
	if axis < 1 || axis > r {
		return c.errorf(n, "Flatten axis %d of a %v tensor folds the batch axis", attrInt(n, "axis", 1), []int64(x.shape))
	}
	for i := int64(1); i < axis; i++ {
		if x.shape[i] != 1 {
			return c.errorf(n, "Flatten axis %d of a %v tensor folds the batch axis with others", axis, []int64(x.shape))
		}
	}
	return c.flatten(n, x, 1, -1)
}

func (c *converter) flatten(n *onnxpb.NodeProto, x *value, start, end int) error {
	return c.layer(n, calc.Layer{Type: calc.Flatten, StartDim: start, EndDim: end}, []*value{x}, itemName(n, ""))
}

func convSqueeze(c *converter, n *onnxpb.NodeProto) error {
	x, err := c.data(n, 0)
	if err != nil {
		return err
	}
	axes, err := c.axes(n)
	if err != nil {
		return err
	}
	r := int64(len(x.shape))
	set := map[int64]bool{}
	for _, a := range axes {
		if a < 0 {
			a += r
		}
		set[a] = true
	}
	// Squeezing trailing axes of size 1 is a flatten from the first.
	first := r
	for i := r - 1; i >= 1; i-- {
		if (set[i] || (len(axes) == 0 && x.shape[i] == 1)) && x.shape[i] == 1 {
			first = i
			continue
		}
		break
	}
	if first == r || len(set) > 0 && int64(len(set)) != r-first || first < 2 {
		return c.errorf(n, "Squeeze of axes %v of a %v tensor: cnncalc squeezes trailing axes of size 1 only (a flatten)", axes, []int64(x.shape))
	}
	return c.flatten(n, x, int(first-1), -1)
}

// convReshape: a Reshape that merges adjacent axes is a flatten; one that
// splits the channels into groups, transposed and merged back, is a
// channel shuffle (torchvision's ShuffleNet).
func convReshape(c *converter, n *onnxpb.NodeProto) error {
	x, err := c.data(n, 0)
	if err != nil {
		return err
	}
	target, ok, err := c.constInts(n, 1)
	if err != nil {
		return err
	}
	if !ok {
		if t := attrInts(n, "shape"); t != nil {
			target = t
		} else {
			return c.errorf(n, "Reshape without a shape")
		}
	}
	dims, err := reshapeDims(x.shape, target, attrInt(n, "allowzero", 0) != 0)
	if err != nil {
		return c.errorf(n, "%v", err)
	}
	if slices.Equal(dims, x.shape) {
		c.bind(n, 0, x)
		return nil
	}
	if len(dims) > 0 && dims[0] == x.shape[0] {
		// A flatten of axes start..end.
		for s := 1; s < len(x.shape); s++ {
			for e := s + 1; e < len(x.shape); e++ {
				merged := append(append(slices.Clone([]int64(x.shape[:s])), numel(x.shape[s:e+1])), x.shape[e+1:]...)
				if slices.Equal(merged, dims) {
					end := e
					if e == len(x.shape)-1 {
						end = -1
					}
					return c.flatten(n, x, s, end)
				}
			}
		}
		// An unflatten of one axis.
		r := len(x.shape)
		for d := 1; d < r && len(dims) > r; d++ {
			k := len(dims) - (r - 1) // sizes the axis splits into
			if slices.Equal(dims[:d], x.shape[:d]) && slices.Equal(dims[d+k:], x.shape[d+1:]) && numel(dims[d:d+k]) == x.shape[d] {
				if ok, err := c.channelShuffle(n, x, dims); ok || err != nil {
					return err
				}
				if ok, err := c.groupNormDecomposed(n, x, dims); ok || err != nil {
					return err
				}
				v, err := c.emit(n, calc.Layer{Type: calc.Unflatten, Dim: d, Sizes: slices.Clone(dims[d : d+k])}, []*value{x}, itemName(n, ""))
				if err != nil {
					return err
				}
				c.bind(n, 0, v)
				return nil
			}
		}
		if ok, err := c.channelShuffle(n, x, dims); ok || err != nil {
			return err
		}
		if ok, err := c.groupNormDecomposed(n, x, dims); ok || err != nil {
			return err
		}
	}
	return c.errorf(n, "Reshape of %v to %v has no cnncalc layer (a flatten of adjacent axes, an unflatten of one axis, or a channel shuffle, has)", []int64(x.shape), dims)
}

// channelShuffle matches Reshape (N, g, C/g, ...), Transpose(0, 2, 1,
// ...), Reshape (N, C, ...).
func (c *converter) channelShuffle(n *onnxpb.NodeProto, x *value, dims []int64) (bool, error) {
	r := len(x.shape)
	if len(dims) != r+1 || dims[1]*dims[2] != x.shape[1] || !slices.Equal(dims[3:], x.shape[2:]) {
		return false, nil
	}
	tr := c.sole(n, 0, "Transpose")
	if tr == nil {
		return false, nil
	}
	want := []int64{0, 2, 1}
	for i := 3; i <= r; i++ {
		want = append(want, int64(i))
	}
	if !slices.Equal(attrInts(tr, "perm"), want) {
		return false, nil
	}
	back := c.sole(tr, 0, "Reshape")
	if back == nil {
		return false, nil
	}
	target, ok, err := c.constInts(back, 1)
	if err != nil || !ok {
		return false, err
	}
	shuffled := []int64{dims[0], dims[2], dims[1]}
	shuffled = append(shuffled, dims[3:]...)
	out, err := reshapeDims(shuffled, target, false)
	if err != nil || !slices.Equal(out, x.shape) {
		return false, nil
	}
	v, err := c.emit(n, calc.Layer{Type: calc.ChannelShuffle, Groups: dims[1]}, []*value{x}, itemName(n, "")+".shuffle")
	if err != nil {
		return true, err
	}
	c.done[tr], c.done[back] = true, true
	c.bind(back, 0, v)
	return true, nil
}

func convTranspose(c *converter, n *onnxpb.NodeProto) error {
	x, err := c.data(n, 0)
	if err != nil {
		return err
	}
	perm := attrInts(n, "perm")
	if perm == nil {
		for i := len(x.shape) - 1; i >= 0; i-- {
			perm = append(perm, int64(i))
		}
	}
	if len(perm) == 0 || perm[0] != 0 {
		return c.errorf(n, "Transpose perm %v moves the batch axis: cnncalc's permute keeps it first", perm)
	}
	identity := true
	for i, p := range perm {
		if p != int64(i) {
			identity = false
		}
	}
	if identity {
		c.bind(n, 0, x)
		return nil
	}
	if ok, err := c.layerNorm2d(n, x, perm); ok || err != nil {
		return err
	}
	return c.layer(n, calc.Layer{Type: calc.Permute, Perm: perm}, []*value{x}, itemName(n, ""))
}

// layerNorm2d matches Transpose(0, 2, 3, 1), LayerNormalization over the
// last axis, Transpose(0, 3, 1, 2): torchvision's LayerNorm2d (ConvNeXt).
func (c *converter) layerNorm2d(n *onnxpb.NodeProto, x *value, perm []int64) (bool, error) {
	if len(x.shape) != 4 || !slices.Equal(perm, []int64{0, 2, 3, 1}) {
		return false, nil
	}
	ln := c.sole(n, 0, "LayerNormalization")
	if ln == nil || (attrInt(ln, "axis", -1) != -1 && attrInt(ln, "axis", -1) != 3) || len(ln.Input) < 3 || ln.Input[2] == "" {
		return false, nil
	}
	for i := 1; i < len(ln.Output); i++ {
		if ln.Output[i] != "" && len(c.consumers[ln.Output[i]]) > 0 {
			return false, nil
		}
	}
	back := c.sole(ln, 0, "Transpose")
	if back == nil || !slices.Equal(attrInts(back, "perm"), []int64{0, 3, 1, 2}) {
		return false, nil
	}
	var ps [4]*Param
	for i, what := range []string{"scale", "bias"} {
		p, k, err := c.param(ln, i+1, what)
		if err != nil {
			return true, err
		}
		if numel(k.dims) != x.shape[1] {
			return false, nil
		}
		p.Shape = []int64{x.shape[1]}
		ps[i] = p
	}
	v, err := c.emit(ln, calc.Layer{Type: calc.LayerNorm2d, Eps: attrF32(ln, "epsilon", 1e-5), Affine: true}, []*value{x}, itemName(ln, ln.Input[1]))
	if err != nil {
		return true, err
	}
	c.net.Items[v.item].Params = ps
	c.done[ln], c.done[back] = true, true
	c.bind(back, 0, v)
	return true, nil
}

func convSplit(c *converter, n *onnxpb.NodeProto) error {
	x, err := c.data(n, 0)
	if err != nil {
		return err
	}
	r := int64(len(x.shape))
	axis := attrInt(n, "axis", 0)
	if axis < 0 {
		axis += r
	}
	if axis < 1 || axis >= r {
		return c.errorf(n, "Split along axis %d of a %v tensor: cnncalc splits axes after the batch", attrInt(n, "axis", 0), []int64(x.shape))
	}
	sizes := attrInts(n, "split")
	if sizes == nil {
		if s, ok, err := c.constInts(n, 1); err != nil {
			return err
		} else if ok {
			sizes = s
		}
	}
	if sizes == nil {
		k := int64(len(n.Output))
		if no := attrInt(n, "num_outputs", 0); no > 0 {
			k = no
		}
		size := (x.shape[axis] + k - 1) / k
		for left := x.shape[axis]; left > 0; left -= size {
			sizes = append(sizes, min(size, left))
		}
	}
	if len(sizes) != len(n.Output) {
		return c.errorf(n, "Split into %d pieces %v with %d outputs", len(sizes), sizes, len(n.Output))
	}
	base := itemName(n, "")
	for i, o := range n.Output {
		if o == "" || (len(c.consumers[o]) == 0 && !c.outputs[o]) {
			continue
		}
		l := calc.Layer{Type: calc.Split, Sections: slices.Clone(sizes), Index: int64(i), Dim: int(axis)}
		v, err := c.emit(n, l, []*value{x}, fmt.Sprintf("%s.%d", base, i))
		if err != nil {
			return err
		}
		c.bind(n, i, v)
	}
	return nil
}

func convConcat(c *converter, n *onnxpb.NodeProto) error {
	var ins []*value
	for i := range n.Input {
		if n.Input[i] == "" {
			continue
		}
		v, err := c.data(n, i)
		if err != nil {
			return err
		}
		ins = append(ins, v)
	}
	if len(ins) == 1 {
		c.bind(n, 0, ins[0])
		return nil
	}
	v, err := c.emit(n, calc.Layer{Type: calc.Concat, Dim: int(attrInt(n, "axis", 1))}, ins, itemName(n, ""))
	if err != nil {
		return err
	}
	c.bind(n, 0, v)
	return nil
}

func convDropout(c *converter, n *onnxpb.NodeProto) error {
	if len(n.Output) > 1 && n.Output[1] != "" && len(c.consumers[n.Output[1]]) > 0 {
		return c.errorf(n, "its mask output is read: cnncalc's dropout is the identity of eval mode")
	}
	if t, ok, err := c.constInts(n, 2); err != nil {
		return err
	} else if ok && len(t) == 1 && t[0] != 0 {
		return c.errorf(n, "training_mode is true (random dropout): cnncalc networks are in eval mode, where dropout is the identity")
	}
	if attrInt(n, "is_test", 1) == 0 && c.m.Opset < 7 {
		return c.errorf(n, "is_test 0 (random dropout): cnncalc networks are in eval mode")
	}
	v := c.in(n, 0)
	if v == nil {
		return c.errorf(n, "input 0 is missing")
	}
	c.bind(n, 0, v)
	return nil
}

func convIdentity(c *converter, n *onnxpb.NodeProto) error {
	v := c.in(n, 0)
	if v == nil {
		return c.errorf(n, "input 0 is missing")
	}
	c.bind(n, 0, v)
	return nil
}

func convSoftmax(c *converter, n *onnxpb.NodeProto, op calc.Op) error {
	x, err := c.data(n, 0)
	if err != nil {
		return err
	}
	r := int64(len(x.shape))
	def := int64(-1)
	if c.m.Opset < 13 {
		def = 1
	}
	axis := attrInt(n, "axis", def)
	if axis < 0 {
		axis += r
	}
	if axis < 1 || axis >= r {
		return c.errorf(n, "%s along axis %d of a %v tensor: cnncalc's acts on an axis after the batch", n.GetOpType(), attrInt(n, "axis", def), []int64(x.shape))
	}
	if c.m.Opset < 13 {
		// Before opset 13 the input is seen as 2-D, flattened from axis.
		for i := axis + 1; i < r; i++ {
			if x.shape[i] != 1 {
				return c.errorf(n, "%s (opset %d) over the axes from %d of a %v tensor at once: PyTorch's takes one axis", n.GetOpType(), c.m.Opset, axis, []int64(x.shape))
			}
		}
	}
	return c.layer(n, calc.Layer{Type: op, Dim: int(axis)}, []*value{x}, itemName(n, ""))
}

// vectorParam is input i of n as a 1-D parameter of size want.
func (c *converter) vectorParam(n *onnxpb.NodeProto, i int, what string, want int64) (*Param, error) {
	p, k, err := c.param(n, i, what)
	if err != nil {
		return nil, err
	}
	if len(k.dims) != 1 || k.dims[0] != want {
		return nil, c.errorf(n, "the %s %q has dims %v; the layer needs %d values", what, n.Input[i], k.dims, want)
	}
	return p, nil
}
