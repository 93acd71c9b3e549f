package onnx

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/onnx/onnxpb"
)

// An expr is an elementwise function of one runtime tensor (its base),
// built from the unary activations and the arithmetic with scalar
// constants that exporters decompose activations into: torch.onnx writes
// GELU as Div, Erf, Add, Mul, Mul, SiLU as Sigmoid and Mul, Mish as
// Softplus, Tanh and Mul. An expr becomes layers only when something other
// than elementwise arithmetic reads it: then the whole function is
// recognised by its values (GELU, SiLU, Mish, Hardswish, Softplus with a
// beta) or written as one activation layer after another.
type expr struct {
	op   string // x, const, add, sub, mul, div, pow, erf, sqrt, exp, log, neg, abs, recip, act
	a, b *expr
	k    float64
	// act is the layer of an op "act" (an activation cnncalc has).
	act  *calc.Layer
	base *value
	node *onnxpb.NodeProto
	mat  *value // the runtime value once written as layers
}

func (e *expr) eval(x float64) float64 {
	switch e.op {
	case "x":
		return x
	case "const":
		return e.k
	case "add":
		return e.a.eval(x) + e.b.eval(x)
	case "sub":
		return e.a.eval(x) - e.b.eval(x)
	case "mul":
		return e.a.eval(x) * e.b.eval(x)
	case "div":
		return e.a.eval(x) / e.b.eval(x)
	case "pow":
		return math.Pow(e.a.eval(x), e.b.eval(x))
	case "erf":
		return math.Erf(e.a.eval(x))
	case "sqrt":
		return math.Sqrt(e.a.eval(x))
	case "exp":
		return math.Exp(e.a.eval(x))
	case "log":
		return math.Log(e.a.eval(x))
	case "neg":
		return -e.a.eval(x)
	case "abs":
		return math.Abs(e.a.eval(x))
	case "recip":
		return 1 / e.a.eval(x)
	case "act":
		return activation(e.act, e.a.eval(x))
	}
	return math.NaN()
}

// activation evaluates one activation layer at x (float64), as PyTorch
// defines it.
func activation(l *calc.Layer, x float64) float64 {
	sigmoid := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	softplus := func(v, beta, threshold float64) float64 {
		if beta*v > threshold {
			return v
		}
		return math.Log1p(math.Exp(beta*v)) / beta
	}
	switch l.Type {
	case calc.ReLU:
		return math.Max(x, 0)
	case calc.ReLU6:
		return math.Min(math.Max(x, 0), 6)
	case calc.Hardtanh:
		return math.Min(math.Max(x, l.MinVal), l.MaxVal)
	case calc.Sigmoid:
		return sigmoid(x)
	case calc.Tanh:
		return math.Tanh(x)
	case calc.LeakyReLU:
		if x < 0 {
			return l.NegativeSlope * x
		}
		return x
	case calc.ELU, calc.CELU:
		a := l.Alpha
		if x > 0 {
			return x
		}
		if l.Type == calc.CELU {
			return a * (math.Exp(x/a) - 1)
		}
		return a * (math.Exp(x) - 1)
	case calc.SELU:
		const alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
		if x > 0 {
			return scale * x
		}
		return scale * alpha * (math.Exp(x) - 1)
	case calc.Hardsigmoid:
		return math.Min(math.Max(l.Alpha*x+l.Beta, 0), 1)
	case calc.Hardswish:
		return x * math.Min(math.Max(x+3, 0), 6) / 6
	case calc.SiLU:
		return x * sigmoid(x)
	case calc.Mish:
		return x * math.Tanh(softplus(x, 1, 20))
	case calc.Softplus:
		return softplus(x, l.Beta, l.Threshold)
	case calc.GELU:
		if l.Approximate == "tanh" {
			return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
		}
		return 0.5 * x * (1 + math.Erf(x/math.Sqrt2))
	case calc.Identity:
		return x
	}
	return math.NaN()
}

// samples are the points where an expr is compared with a candidate.
var samples = []float64{-7.3, -4.1, -2.6, -1.3, -0.71, -0.23, 0.0, 0.17, 0.49, 0.93, 1.6, 2.9, 4.4, 8.2}

// candidates are the activations an expr may turn out to be. Softplus's
// beta is fitted from the value at 0 (ln 2 / beta).
func candidates(e *expr) []calc.Layer {
	out := []calc.Layer{
		{Type: calc.Identity},
		{Type: calc.GELU, Approximate: "none"},
		{Type: calc.GELU, Approximate: "tanh"},
		{Type: calc.SiLU},
		{Type: calc.Mish},
		{Type: calc.Hardswish},
		{Type: calc.ReLU},
		{Type: calc.Sigmoid},
		{Type: calc.Tanh},
	}
	if f0 := e.eval(0); f0 > 0 && !math.IsInf(f0, 0) {
		beta := roundSig(math.Ln2/f0, 6)
		out = append(out, calc.Layer{Type: calc.Softplus, Beta: beta, Threshold: 20})
	}
	return out
}

// roundSig rounds v to n significant digits (a float32 attribute read
// back as float64 carries noise past its seventh digit).
func roundSig(v float64, n int) float64 {
	if v == 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return v
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', n, 64), 64)
	return r
}

// recognise returns the activation e computes, if it is one of the
// candidates at every sample point.
func recognise(e *expr) (calc.Layer, bool) {
	for _, cand := range candidates(e) {
		ok := true
		for _, x := range samples {
			got, want := e.eval(x), activation(&cand, x)
			if math.IsNaN(got) || math.Abs(got-want) > 2e-6*(1+math.Abs(want)) {
				ok = false
				break
			}
		}
		if ok {
			return cand, true
		}
	}
	return calc.Layer{}, false
}

// exprOf is v as an expression: its own, or the identity of a runtime
// tensor. Constants that are scalars become const leaves; other
// constants give nil.
func (c *converter) exprOf(v *value) *expr {
	switch {
	case v.expr != nil:
		return v.expr
	case v.konst != nil:
		if k, ok := c.scalar(v.konst); ok {
			return &expr{op: "const", k: k}
		}
		return nil
	case v.pad != nil:
		return nil
	}
	return &expr{op: "x", base: v}
}

// baseOf is the runtime tensor an expr is a function of (nil for a
// constant expression).
func (e *expr) baseOf() *value {
	if e == nil {
		return nil
	}
	if e.op == "x" {
		return e.base
	}
	if b := e.a.baseOf(); b != nil {
		return b
	}
	return e.b.baseOf()
}

// unaryExpr binds the output of n to op applied to input 0, an expr.
func (c *converter) unaryExpr(n *onnxpb.NodeProto, op string, act *calc.Layer) error {
	v := c.in(n, 0)
	if v == nil {
		return c.errorf(n, "input 0 is missing")
	}
	a := c.exprOf(v)
	if a == nil {
		// A tensor constant or a pending pad: make it a runtime tensor.
		rv, err := c.runtime(v, n)
		if err != nil {
			return err
		}
		a = &expr{op: "x", base: rv}
	}
	base := a.baseOf()
	if base == nil {
		return c.errorf(n, "the input is a constant; cnncalc layers compute on the network input")
	}
	e := &expr{op: op, a: a, act: act, node: n}
	c.bind(n, 0, &value{name: n.Output[0], expr: e, shape: base.shape, node: n})
	return nil
}

// binaryExpr handles Add, Sub, Mul, Div and Pow: an expr when one side is
// a scalar constant or both are functions of the same tensor; a merge
// (add, mul) of two tensors; a layer scale for Mul by a learnable
// per-channel tensor.
func (c *converter) binaryExpr(n *onnxpb.NodeProto, op string) error {
	x, y := c.in(n, 0), c.in(n, 1)
	if x == nil || y == nil {
		return c.errorf(n, "it needs two inputs")
	}
	ex, ey := c.exprOf(x), c.exprOf(y)
	if ex != nil && ey != nil {
		bx, by := ex.baseOf(), ey.baseOf()
		if bx == nil || by == nil || bx == by {
			e := &expr{op: op, a: ex, b: ey, node: n}
			shape := calc.Shape(nil)
			if b := e.baseOf(); b != nil {
				shape = b.shape
			}
			c.bind(n, 0, &value{name: n.Output[0], expr: e, shape: shape, node: n})
			return nil
		}
	}
	// Two different tensors, or a tensor and a non-scalar constant.
	if x.konst != nil || y.konst != nil {
		t, k := x, y.konst
		if x.konst != nil {
			t, k = y, x.konst
		}
		if op == "mul" {
			return c.layerScale(n, t, k)
		}
		return c.errorf(n, "%s of a tensor and the constant %s of shape %v has no cnncalc layer (only a linear layer's bias is added to a tensor)", n.GetOpType(), c.constName(n, k), k.dims)
	}
	a, err := c.runtime(x, n)
	if err != nil {
		return err
	}
	b, err := c.runtime(y, n)
	if err != nil {
		return err
	}
	var l calc.Layer
	switch op {
	case "add":
		l.Type = calc.Add
	case "mul":
		l.Type = calc.Mul
	default:
		return c.errorf(n, "%s of two tensors has no cnncalc layer (add, mul and concat do)", n.GetOpType())
	}
	return c.layer(n, l, []*value{a, b}, itemName(n, ""))
}

func (c *converter) constName(n *onnxpb.NodeProto, k *konst) string {
	if k.init != nil {
		return fmt.Sprintf("%q", k.init.GetName())
	}
	return "tensor"
}

// materialize writes an expr as layers: recognised whole, or its outer
// activation over its materialised argument.
func (c *converter) materialize(e *expr) (*value, error) {
	if e.mat != nil {
		return e.mat, nil
	}
	if e.op == "x" {
		return e.base, nil
	}
	base := e.baseOf()
	if base == nil {
		return nil, c.errorf(e.node, "a constant expression where a tensor is needed")
	}
	name := ""
	if e.node != nil {
		name = itemName(e.node, "")
	}
	var v *value
	var err error
	switch {
	case e.op == "act" && e.a.op == "x":
		v, err = c.emit(e.node, *e.act, []*value{base}, name)
	default:
		l, ok := recognise(e)
		switch {
		case ok && l.Type == calc.Identity:
			v = base
		case ok:
			v, err = c.emit(e.node, l, []*value{base}, actName(e, l))
		case e.op == "act":
			var in *value
			if in, err = c.materialize(e.a); err == nil {
				v, err = c.emit(e.node, *e.act, []*value{in}, name)
			}
		default:
			return nil, c.errorf(e.node, "the elementwise function %s of %s is no activation cnncalc knows (GELU, SiLU, Mish, Hardswish, Softplus and the single activations are)", e, base.name)
		}
	}
	if err != nil {
		return nil, err
	}
	e.mat = v
	return v, nil
}

// actName names a recognised activation after the module its nodes share
// (/features/gelu/Erf, /features/gelu/Mul_1 give features.gelu).
func actName(e *expr, l calc.Layer) string {
	if e.node == nil {
		return l.Type.String()
	}
	name := itemName(e.node, "")
	if i := strings.LastIndexByte(name, '.'); i > 0 && !leafOp(e.node.GetOpType()) {
		return name[:i]
	}
	return name
}

func (e *expr) String() string {
	switch e.op {
	case "x":
		return "x"
	case "const":
		return fmt.Sprint(roundSig(e.k, 6))
	case "add", "sub", "mul", "div", "pow":
		sym := map[string]string{"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "^"}[e.op]
		return "(" + e.a.String() + " " + sym + " " + e.b.String() + ")"
	case "act":
		return e.act.Type.String() + "(" + e.a.String() + ")"
	}
	return e.op + "(" + e.a.String() + ")"
}

// layerScale is Mul by a constant tensor: a learnable per-channel scale
// (ConvNeXt's layer_scale, gamma of shape (C, 1, ...)) when the tensor is
// a parameter of that shape.
func (c *converter) layerScale(n *onnxpb.NodeProto, t *value, k *konst) error {
	x, err := c.runtime(t, n)
	if err != nil {
		return err
	}
	ch := x.shape[1]
	dims := k.dims
	// (C, 1, ..., 1) or (1, C, 1, ..., 1), as many axes as the tensor's
	// after batch at most.
	perChannel := len(dims) >= 1 && len(dims) <= len(x.shape)
	if perChannel {
		lead := 0
		if len(dims) == len(x.shape) {
			if dims[0] != 1 {
				perChannel = false
			}
			lead = 1
		}
		if perChannel && (len(dims)-lead != len(x.shape)-1 || dims[lead] != ch) {
			perChannel = false
		}
		for i := lead + 1; perChannel && i < len(dims); i++ {
			if dims[i] != 1 {
				perChannel = false
			}
		}
	}
	if !perChannel || k.init == nil && !k.noData {
		return c.errorf(n, "Mul by the constant %s of shape %v: cnncalc multiplies a tensor only by another tensor (mul) or by a learnable per-channel scale of shape (%d, 1, ...) (layerscale)", c.constName(n, k), dims, ch)
	}
	l := calc.Layer{Type: calc.LayerScale, Init: 1e-6}
	name := ""
	if k.init != nil {
		name = k.init.GetName()
	}
	v, err := c.emit(n, l, []*value{x}, scaleName(n, name))
	if err != nil {
		return err
	}
	it := c.net.Items[v.item]
	shape := make([]int64, len(x.shape)-1)
	shape[0] = ch
	for i := 1; i < len(shape); i++ {
		shape[i] = 1
	}
	it.Params[0] = &Param{Tensor: k.init, Shape: shape, NoData: k.noData}
	c.bind(n, 0, v)
	return nil
}

// scaleName is a layer scale's module path: torchvision's ConvNeXt names
// the parameter features.1.0.layer_scale.
func scaleName(n *onnxpb.NodeProto, param string) string {
	if param != "" && !strings.ContainsAny(param, ":/") {
		return param
	}
	return itemName(n, "")
}
