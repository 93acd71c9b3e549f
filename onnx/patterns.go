package onnx

import (
	"slices"
	"strings"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/onnx/onnxpb"
)

// Normalizations that exporters decompose before their operator exists:
// torch.onnx writes LayerNorm below opset 17 as ReduceMean, Sub, Pow,
// ReduceMean, Add, Sqrt, Div (then Mul and Add), and GroupNorm below
// opset 18 as Reshape, InstanceNormalization, Reshape (then Mul and Add).
// Each is matched at its first node and becomes one layer.

// sole returns the one node that reads node's output i, if exactly one
// does and it is not a graph output.
func (c *converter) sole(node *onnxpb.NodeProto, i int, op string) *onnxpb.NodeProto {
	if i >= len(node.Output) {
		return nil
	}
	o := node.Output[i]
	cons := c.consumers[o]
	if len(cons) != 1 || c.outputs[o] || cons[0].GetOpType() != op {
		return nil
	}
	return cons[0]
}

// otherInput returns the input of a two-input node that is not name.
func otherInput(n *onnxpb.NodeProto, name string) (string, bool) {
	if len(n.Input) != 2 {
		return "", false
	}
	switch name {
	case n.Input[0]:
		return n.Input[1], true
	case n.Input[1]:
		return n.Input[0], true
	}
	return "", false
}

// constScalar returns a named scalar constant's value.
func (c *converter) constScalar(name string) (float64, bool) {
	v := c.value(name)
	if v == nil || v.konst == nil {
		return 0, false
	}
	return c.scalar(v.konst)
}

// affineTail matches Mul by a constant and Add of a constant after node
// (each optional, the Add only after the Mul), each of numel size: the
// weight and bias of a normalization. It returns the last node and the
// two constants (nil where absent).
func (c *converter) affineTail(node *onnxpb.NodeProto, size int64) (last *onnxpb.NodeProto, w, b *konst, wn, bn string) {
	last = node
	param := func(n *onnxpb.NodeProto, from string) (*konst, string) {
		name, ok := otherInput(n, from)
		if !ok {
			return nil, ""
		}
		v := c.value(name)
		if v == nil || v.konst == nil || numel(v.konst.dims) != size {
			return nil, ""
		}
		return v.konst, name
	}
	if mul := c.sole(last, 0, "Mul"); mul != nil {
		if k, name := param(mul, last.Output[0]); k != nil {
			w, wn, last = k, name, mul
			if add := c.sole(last, 0, "Add"); add != nil {
				if k, name := param(add, last.Output[0]); k != nil {
					b, bn, last = k, name, add
				}
			}
		}
	}
	return last, w, b, wn, bn
}

// layerNormDecomposed matches the decomposed LayerNorm from its first
// ReduceMean over trailing axes of x.
func (c *converter) layerNormDecomposed(mean *onnxpb.NodeProto, x *value, axes []int64) (bool, error) {
	r := int64(len(x.shape))
	if len(axes) == 0 || attrInt(mean, "keepdims", 1) != 1 {
		return false, nil
	}
	norm := slices.Clone(axes)
	for i := range norm {
		if norm[i] < 0 {
			norm[i] += r
		}
	}
	slices.Sort(norm)
	for i, a := range norm {
		if a != r-int64(len(norm))+int64(i) || a < 1 {
			return false, nil
		}
	}
	xname := mean.Input[0]
	sub := c.sole(mean, 0, "Sub")
	if sub == nil || len(sub.Input) != 2 || sub.Input[0] != xname || sub.Input[1] != mean.Output[0] {
		return false, nil
	}
	// d = x - mean feeds Pow (or Mul d*d) and Div.
	cons := c.consumers[sub.Output[0]]
	if len(cons) != 2 || c.outputs[sub.Output[0]] {
		return false, nil
	}
	var sq, div *onnxpb.NodeProto
	for _, cn := range cons {
		if len(cn.Input) != 2 {
			continue
		}
		switch cn.GetOpType() {
		case "Pow":
			if e, ok := c.constScalar(cn.Input[1]); ok && e == 2 && cn.Input[0] == sub.Output[0] {
				sq = cn
			}
		case "Mul":
			if cn.Input[0] == sub.Output[0] && cn.Input[1] == sub.Output[0] {
				sq = cn
			}
		case "Div":
			if cn.Input[0] == sub.Output[0] {
				div = cn
			}
		}
	}
	if sq == nil || div == nil {
		return false, nil
	}
	mean2 := c.sole(sq, 0, "ReduceMean")
	if mean2 == nil || !slices.Equal(axesOr(c.axes(mean2)), axes) {
		return false, nil
	}
	addEps := c.sole(mean2, 0, "Add")
	if addEps == nil {
		return false, nil
	}
	epsName, _ := otherInput(addEps, mean2.Output[0])
	eps, ok := c.constScalar(epsName)
	if !ok {
		return false, nil
	}
	sqrt := c.sole(addEps, 0, "Sqrt")
	if sqrt == nil || div.Input[1] != sqrt.Output[0] || len(c.consumers[sqrt.Output[0]]) != 1 {
		return false, nil
	}
	shape := slices.Clone([]int64(x.shape[r-int64(len(norm)):]))
	last, w, b, wn, _ := c.affineTail(div, numel(shape))
	xv, err := c.runtime(x, mean)
	if err != nil {
		return true, err
	}
	l := calc.Layer{Type: calc.LayerNorm, NormShape: shape, Eps: roundSig(eps, 6), Affine: w != nil, LayerNormBias: b != nil}
	if w == nil {
		// elementwise_affine false has no bias either.
		l.LayerNormBias = false
	}
	v, err := c.emit(mean, l, []*value{xv}, normName(wn, mean))
	if err != nil {
		return true, err
	}
	if w != nil {
		c.net.Items[v.item].Params[0] = &Param{Tensor: w.init, Values: floats32(w), Shape: shape, NoData: w.noData}
	}
	if b != nil {
		c.net.Items[v.item].Params[1] = &Param{Tensor: b.init, Values: floats32(b), Shape: shape, NoData: b.noData}
	}
	for _, d := range []*onnxpb.NodeProto{sub, sq, div, mean2, addEps, sqrt} {
		c.done[d] = true
	}
	c.markChain(div, last)
	c.bind(last, 0, v)
	return true, nil
}

// markChain marks the nodes from after first up to last (a chain of sole
// consumers) as converted.
func (c *converter) markChain(first, last *onnxpb.NodeProto) {
	for n := first; n != last; {
		cons := c.consumers[n.Output[0]]
		if len(cons) != 1 {
			return
		}
		n = cons[0]
		c.done[n] = true
	}
}

// normName is a normalization's module path: from its weight's name, or
// the node's.
func normName(weight string, n *onnxpb.NodeProto) string {
	if p, ok := strings.CutSuffix(weight, ".weight"); ok && !strings.ContainsAny(p, ":/") && p != "" {
		return p
	}
	return itemName(n, "")
}

// groupNormDecomposed matches Reshape(x, (N, G, -1)),
// InstanceNormalization with constant unit scale and zero bias, Reshape
// back to x's shape, and the optional per-channel Mul and Add.
func (c *converter) groupNormDecomposed(r1 *onnxpb.NodeProto, x *value, dims []int64) (bool, error) {
	if len(x.shape) < 3 || len(dims) != 3 || dims[0] != x.shape[0] || x.shape[1]%dims[1] != 0 {
		return false, nil
	}
	g := dims[1]
	in := c.sole(r1, 0, "InstanceNormalization")
	if in == nil || len(in.Input) < 3 {
		return false, nil
	}
	for i, want := range []float64{1, 0} {
		v := c.value(in.Input[i+1])
		if v == nil || v.konst == nil || numel(v.konst.dims) != g {
			return false, nil
		}
		f, err := c.floatsOf(v.konst)
		if err != nil {
			return false, nil
		}
		for _, x := range f {
			if x != want {
				return false, nil
			}
		}
	}
	r2 := c.sole(in, 0, "Reshape")
	if r2 == nil {
		return false, nil
	}
	target, ok, err := c.constInts(r2, 1)
	if err != nil || !ok {
		return false, err
	}
	back, err := reshapeDims([]int64{x.shape[0], g, numel(x.shape[1:]) / g}, target, false)
	if err != nil || !slices.Equal(back, x.shape) {
		return false, nil
	}
	ch := x.shape[1]
	last, w, b, wn, _ := c.affineTail(r2, ch)
	if (w == nil) != (b == nil) {
		// A weight without a bias is not a PyTorch GroupNorm.
		return false, nil
	}
	l := calc.Layer{Type: calc.GroupNorm, Groups: g, Eps: attrF32(in, "epsilon", 1e-5), Affine: w != nil}
	v, err := c.emit(r1, l, []*value{x}, normName(wn, r1))
	if err != nil {
		return true, err
	}
	if w != nil {
		it := c.net.Items[v.item]
		it.Params[0] = &Param{Tensor: w.init, Values: floats32(w), Shape: []int64{ch}, NoData: w.noData}
		it.Params[1] = &Param{Tensor: b.init, Values: floats32(b), Shape: []int64{ch}, NoData: b.noData}
	}
	c.done[in], c.done[r2] = true, true
	c.markChain(r2, last)
	c.bind(last, 0, v)
	return true, nil
}

// axesOr drops the error of c.axes (a pattern that cannot read them does
// not match).
func axesOr(a []int64, err error) []int64 {
	if err != nil {
		return nil
	}
	return a
}
