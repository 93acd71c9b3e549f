package onnx

import (
	"errors"
	"fmt"
	"math"

	"github.com/cnncalc/cnncalc/onnx/onnxpb"
)

// Constant folding: the shape computations exporters write (torch.onnx's
// x.view(x.size(0), -1) is Shape, Gather, Unsqueeze, Concat, Reshape) are
// evaluated on the sizes cnncalc knows, so that the layer they feed sees
// a constant.

// errNotConst says a node's inputs are not all constant: it is converted
// to layers instead.
var errNotConst = errors.New("not constant")

// MaxFoldElements bounds a constant cnncalc computes with.
const MaxFoldElements = 1 << 20

// folder computes a node's outputs from constant inputs. ins holds every
// input (nil where absent).
type folder func(c *converter, n *onnxpb.NodeProto, ins []*konst) ([]*konst, error)

var folders map[string]folder

func init() {
	folders = map[string]folder{
		"Constant":        foldConstant,
		"Shape":           nil, // folds a runtime input too: see fold
		"Identity":        func(c *converter, n *onnxpb.NodeProto, ins []*konst) ([]*konst, error) { return ins[:1], nil },
		"Cast":            foldCast,
		"Gather":          foldGather,
		"Unsqueeze":       foldUnsqueeze,
		"Squeeze":         foldSqueeze,
		"Concat":          foldConcat,
		"Slice":           foldSlice,
		"Reshape":         foldReshape,
		"ConstantOfShape": foldConstantOfShape,
		"Add":             arith(func(a, b float64) float64 { return a + b }),
		"Sub":             arith(func(a, b float64) float64 { return a - b }),
		"Mul":             arith(func(a, b float64) float64 { return a * b }),
		"Div":             arith(func(a, b float64) float64 { return a / b }),
		"Floor":           unaryArith(math.Floor),
		"Ceil":            unaryArith(math.Ceil),
		"Sqrt":            unaryArith(math.Sqrt),
		"Neg":             unaryArith(func(a float64) float64 { return -a }),
		"Range":           foldRange,
		"Transpose":       foldTranspose,
	}
}

// fold evaluates n when its inputs are constant (errNotConst otherwise),
// binding its outputs.
func (c *converter) fold(n *onnxpb.NodeProto) (bool, error) {
	op := n.GetOpType()
	f, ok := folders[op]
	if !ok {
		return false, errNotConst
	}
	if c.folding[n] {
		return false, errNotConst
	}
	c.folding[n] = true
	defer delete(c.folding, n)
	if op == "Shape" {
		v := c.in(n, 0)
		if v == nil {
			return false, errNotConst
		}
		shape := v.shape
		if v.konst != nil {
			shape = v.konst.dims
		}
		if shape == nil {
			return false, errNotConst
		}
		r := int64(len(shape))
		start, end := attrInt(n, "start", 0), attrInt(n, "end", r)
		start, end = clampAxis(start, r), clampAxis(end, r)
		dims := []int64{}
		if end > start {
			dims = append(dims, shape[start:end]...)
		}
		c.bind(n, 0, &value{name: n.Output[0], konst: &konst{dims: []int64{int64(len(dims))}, ints: dims, loaded: true}, node: n})
		return true, nil
	}
	// Room for every optional input a folder reads (absent ones are nil).
	ins := make([]*konst, max(len(n.Input), 5))
	for i := range n.Input {
		if n.Input[i] == "" {
			continue
		}
		v := c.in(n, i)
		if v == nil || v.konst == nil {
			return false, errNotConst
		}
		ins[i] = v.konst
	}
	if op != "Constant" && (len(ins) == 0 || ins[0] == nil) {
		return false, errNotConst
	}
	// Tensors that are parameters (initializers of more than a few
	// values, such as a layer scale's gamma) fold only where the op is a
	// pure shape op; arithmetic on them is a layer.
	for _, k := range ins {
		if k == nil {
			continue
		}
		if k.noData {
			return false, errNotConst
		}
		if n, _ := count(k.dims); n > MaxFoldElements {
			return false, errNotConst
		}
	}
	if isArith(op) {
		for _, k := range ins {
			if k != nil && k.init != nil && !k.isSmallInt() && numel(k.dims) > 1 {
				return false, errNotConst
			}
		}
	}
	for _, k := range ins {
		if k != nil {
			if err := c.load(k); err != nil {
				return false, c.errorf(n, "%v", err)
			}
		}
	}
	outs, err := f(c, n, ins)
	if err != nil {
		return false, c.errorf(n, "%v", err)
	}
	for i, k := range outs {
		k.loaded = true
		c.bind(n, i, &value{name: n.Output[i], konst: k, node: n})
	}
	return true, nil
}

func isArith(op string) bool {
	switch op {
	case "Add", "Sub", "Mul", "Div":
		return true
	}
	return false
}

func (k *konst) isSmallInt() bool {
	if k.init == nil {
		return !k.float
	}
	switch onnxpb.TensorProto_DataType(k.init.GetDataType()) {
	case onnxpb.TensorProto_INT64, onnxpb.TensorProto_INT32:
		return true
	}
	return false
}

func numel(dims []int64) int64 {
	n, _ := count(dims)
	return n
}

func count(dims []int64) (int64, error) {
	n := int64(1)
	for _, d := range dims {
		if d < 0 || (d > 0 && n > math.MaxInt64/d) {
			return math.MaxInt64, fmt.Errorf("dims %v overflow", dims)
		}
		n *= d
	}
	return n, nil
}

// load reads a constant's values.
func (c *converter) load(k *konst) error {
	if k.loaded {
		return nil
	}
	if k.noData {
		return fmt.Errorf("the tensor has no data in this model")
	}
	t := k.init
	switch onnxpb.TensorProto_DataType(t.GetDataType()) {
	case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_DOUBLE, onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16:
		f, err := c.m.Floats(t)
		if err != nil {
			return err
		}
		k.float = true
		k.floats = make([]float64, len(f))
		for i, v := range f {
			k.floats[i] = float64(v)
		}
	default:
		v, err := c.m.Ints(t)
		if err != nil {
			return err
		}
		k.ints = v
	}
	k.loaded = true
	return nil
}

// scalar returns a one-element constant's value.
func (c *converter) scalar(k *konst) (float64, bool) {
	if numel(k.dims) != 1 || k.noData {
		return 0, false
	}
	if c.load(k) != nil {
		return 0, false
	}
	if k.float {
		return k.floats[0], true
	}
	return float64(k.ints[0]), true
}

// intsOf returns a constant's values as integers.
func (c *converter) intsOf(k *konst) ([]int64, error) {
	if err := c.load(k); err != nil {
		return nil, err
	}
	if !k.float {
		return k.ints, nil
	}
	out := make([]int64, len(k.floats))
	for i, v := range k.floats {
		out[i] = int64(v)
	}
	return out, nil
}

// floatsOf returns a constant's values as floats.
func (c *converter) floatsOf(k *konst) ([]float64, error) {
	if err := c.load(k); err != nil {
		return nil, err
	}
	if k.float {
		return k.floats, nil
	}
	out := make([]float64, len(k.ints))
	for i, v := range k.ints {
		out[i] = float64(v)
	}
	return out, nil
}

// constInts returns input i of n as constant integers (ok false when it
// is absent or not constant).
func (c *converter) constInts(n *onnxpb.NodeProto, i int) ([]int64, bool, error) {
	v := c.in(n, i)
	if v == nil {
		return nil, false, nil
	}
	if v.konst == nil {
		return nil, false, c.errorf(n, "input %d (%q) must be a constant that cnncalc can compute", i, n.Input[i])
	}
	out, err := c.intsOf(v.konst)
	if err != nil {
		return nil, false, c.errorf(n, "input %d: %v", i, err)
	}
	return out, true, nil
}

// constFloats is constInts for floats.
func (c *converter) constFloats(n *onnxpb.NodeProto, i int) ([]float64, bool, error) {
	v := c.in(n, i)
	if v == nil {
		return nil, false, nil
	}
	if v.konst == nil {
		return nil, false, c.errorf(n, "input %d (%q) must be a constant that cnncalc can compute", i, n.Input[i])
	}
	out, err := c.floatsOf(v.konst)
	if err != nil {
		return nil, false, c.errorf(n, "input %d: %v", i, err)
	}
	return out, true, nil
}

func clampAxis(a, r int64) int64 {
	if a < 0 {
		a += r
	}
	return max(0, min(a, r))
}

func foldConstant(c *converter, n *onnxpb.NodeProto, _ []*konst) ([]*konst, error) {
	for _, a := range n.Attribute {
		switch a.GetName() {
		case "value":
			t := a.GetT()
			if t == nil {
				return nil, fmt.Errorf("a Constant whose value is not a tensor")
			}
			k := &konst{dims: t.Dims, init: t}
			if numel(t.Dims) > MaxFoldElements {
				return []*konst{k}, nil
			}
			if err := c.load(k); err != nil {
				return nil, err
			}
			return []*konst{k}, nil
		case "value_float":
			return []*konst{{dims: nil, floats: []float64{float64(a.GetF())}, float: true}}, nil
		case "value_floats":
			f := make([]float64, len(a.Floats))
			for i, v := range a.Floats {
				f[i] = float64(v)
			}
			return []*konst{{dims: []int64{int64(len(f))}, floats: f, float: true}}, nil
		case "value_int":
			return []*konst{{dims: nil, ints: []int64{a.GetI()}}}, nil
		case "value_ints":
			return []*konst{{dims: []int64{int64(len(a.Ints))}, ints: append([]int64(nil), a.Ints...)}}, nil
		}
	}
	return nil, fmt.Errorf("a Constant without a value cnncalc reads")
}

func foldCast(c *converter, n *onnxpb.NodeProto, ins []*konst) ([]*konst, error) {
	k := ins[0]
	to := onnxpb.TensorProto_DataType(attrInt(n, "to", 1))
	out := &konst{dims: k.dims}
	switch to {
	case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_DOUBLE, onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16:
		out.float = true
		out.floats, _ = c.floatsOf(k)
	default:
		out.ints, _ = c.intsOf(k)
	}
	return []*konst{out}, nil
}

// values returns k's values as float64 (and whether they are floats).
func (k *konst) values() []float64 {
	if k.float {
		return k.floats
	}
	out := make([]float64, len(k.ints))
	for i, v := range k.ints {
		out[i] = float64(v)
	}
	return out
}

func fromValues(dims []int64, vals []float64, float bool) *konst {
	k := &konst{dims: dims, float: float}
	if float {
		k.floats = vals
	} else {
		k.ints = make([]int64, len(vals))
		for i, v := range vals {
			k.ints[i] = int64(v)
		}
	}
	return k
}

func foldGather(c *converter, n *onnxpb.NodeProto, ins []*konst) ([]*konst, error) {
	data, idx := ins[0], ins[1]
	if idx == nil {
		return nil, fmt.Errorf("Gather needs indices")
	}
	axis := attrInt(n, "axis", 0)
	r := int64(len(data.dims))
	if axis < 0 {
		axis += r
	}
	if axis < 0 || axis >= r {
		return nil, fmt.Errorf("axis %d is out of range for rank %d", attrInt(n, "axis", 0), r)
	}
	vals := data.values()
	ids, _ := c.intsOf(idx)
	outer := numel(data.dims[:axis])
	size := data.dims[axis]
	inner := numel(data.dims[axis+1:])
	var out []float64
	for o := int64(0); o < outer; o++ {
		for _, id := range ids {
			if id < 0 {
				id += size
			}
			if id < 0 || id >= size {
				return nil, fmt.Errorf("index %d is out of range for an axis of %d", id, size)
			}
			base := (o*size + id) * inner
			out = append(out, vals[base:base+inner]...)
		}
	}
	dims := append(append(append([]int64(nil), data.dims[:axis]...), idx.dims...), data.dims[axis+1:]...)
	return []*konst{fromValues(dims, out, data.float)}, nil
}

// axesOf returns the axes of Unsqueeze/Squeeze/Reduce: an attribute
// before opset 13, an input from 13.
func (c *converter) axesOf(n *onnxpb.NodeProto, ins []*konst) []int64 {
	if a := attrInts(n, "axes"); a != nil {
		return a
	}
	if len(ins) > 1 && ins[1] != nil {
		v, _ := c.intsOf(ins[1])
		return v
	}
	return nil
}

func foldUnsqueeze(c *converter, n *onnxpb.NodeProto, ins []*konst) ([]*konst, error) {
	k := ins[0]
	axes := c.axesOf(n, ins)
	r := int64(len(k.dims) + len(axes))
	set := map[int64]bool{}
	for _, a := range axes {
		if a < 0 {
			a += r
		}
		if a < 0 || a >= r || set[a] {
			return nil, fmt.Errorf("axes %v are invalid for rank %d", axes, len(k.dims))
		}
		set[a] = true
	}
	var dims []int64
	j := 0
	for i := int64(0); i < r; i++ {
		if set[i] {
			dims = append(dims, 1)
		} else {
			dims = append(dims, k.dims[j])
			j++
		}
	}
	return []*konst{fromValues(dims, k.values(), k.float)}, nil
}

func foldSqueeze(c *converter, n *onnxpb.NodeProto, ins []*konst) ([]*konst, error) {
	k := ins[0]
	axes := c.axesOf(n, ins)
	r := int64(len(k.dims))
	set := map[int64]bool{}
	for _, a := range axes {
		if a < 0 {
			a += r
		}
		set[a] = true
	}
	var dims []int64
	for i, d := range k.dims {
		if (len(axes) == 0 && d == 1) || set[int64(i)] {
			if d != 1 {
				return nil, fmt.Errorf("cannot squeeze axis %d of size %d", i, d)
			}
			continue
		}
		dims = append(dims, d)
	}
	return []*konst{fromValues(dims, k.values(), k.float)}, nil
}

func foldConcat(c *converter, n *onnxpb.NodeProto, ins []*konst) ([]*konst, error) {
	axis := attrInt(n, "axis", 0)
	first := ins[0]
	r := int64(len(first.dims))
	if axis < 0 {
		axis += r
	}
	if r == 0 || axis < 0 || axis >= r {
		return nil, fmt.Errorf("axis %d is out of range", attrInt(n, "axis", 0))
	}
	float := false
	for _, k := range ins {
		if k != nil && k.float {
			float = true
		}
	}
	outer := numel(first.dims[:axis])
	var out []float64
	dims := append([]int64(nil), first.dims...)
	dims[axis] = 0
	for _, k := range ins {
		if k == nil {
			continue
		}
		if int64(len(k.dims)) != r {
			return nil, fmt.Errorf("inputs of ranks %d and %d", r, len(k.dims))
		}
		dims[axis] += k.dims[axis]
	}
	for o := int64(0); o < outer; o++ {
		for _, k := range ins {
			if k == nil {
				continue
			}
			chunk := numel(k.dims[axis:])
			out = append(out, k.values()[o*chunk:(o+1)*chunk]...)
		}
	}
	return []*konst{fromValues(dims, out, float)}, nil
}

func foldSlice(c *converter, n *onnxpb.NodeProto, ins []*konst) ([]*konst, error) {
	k := ins[0]
	r := int64(len(k.dims))
	var starts, ends, axes, steps []int64
	if a := attrInts(n, "starts"); a != nil {
		starts, ends, axes = a, attrInts(n, "ends"), attrInts(n, "axes")
	} else {
		if len(ins) < 3 || ins[1] == nil || ins[2] == nil {
			return nil, fmt.Errorf("Slice needs starts and ends")
		}
		starts, _ = c.intsOf(ins[1])
		ends, _ = c.intsOf(ins[2])
		if len(ins) > 3 && ins[3] != nil {
			axes, _ = c.intsOf(ins[3])
		}
		if len(ins) > 4 && ins[4] != nil {
			steps, _ = c.intsOf(ins[4])
		}
	}
	if axes == nil {
		for i := range starts {
			axes = append(axes, int64(i))
		}
	}
	if len(ends) != len(starts) || len(axes) != len(starts) || (steps != nil && len(steps) != len(starts)) {
		return nil, fmt.Errorf("Slice starts %v, ends %v, axes %v, steps %v differ in length", starts, ends, axes, steps)
	}
	// Per axis: the first index, the step and the count.
	first := make([]int64, r)
	step := make([]int64, r)
	cnt := append([]int64(nil), k.dims...)
	for i := range step {
		step[i] = 1
	}
	for i, a := range axes {
		if a < 0 {
			a += r
		}
		if a < 0 || a >= r {
			return nil, fmt.Errorf("Slice axis %d of a rank-%d constant", axes[i], r)
		}
		st := int64(1)
		if steps != nil {
			st = steps[i]
		}
		if st == 0 {
			return nil, fmt.Errorf("Slice step 0")
		}
		size := k.dims[a]
		b, e := starts[i], ends[i]
		if b < 0 {
			b += size
		}
		if e < 0 {
			e += size
		}
		var num int64
		if st > 0 {
			b, e = max(0, min(b, size)), max(0, min(e, size))
			if e > b {
				num = (e - b + st - 1) / st
			}
		} else {
			b, e = max(-1, min(b, size-1)), max(-1, min(e, size-1))
			if b > e {
				num = (b - e - st - 1) / -st
			}
		}
		first[a], step[a], cnt[a] = b, st, num
	}
	vals := k.values()
	stride := make([]int64, r)
	acc := int64(1)
	for i := r - 1; i >= 0; i-- {
		stride[i] = acc
		acc *= k.dims[i]
	}
	total := numel(cnt)
	out := make([]float64, 0, total)
	idx := make([]int64, r)
	for range total {
		src := int64(0)
		for i := range r {
			src += (first[i] + idx[i]*step[i]) * stride[i]
		}
		out = append(out, vals[src])
		for i := r - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < cnt[i] {
				break
			}
			idx[i] = 0
		}
	}
	return []*konst{fromValues(cnt, out, k.float)}, nil
}

func foldReshape(c *converter, n *onnxpb.NodeProto, ins []*konst) ([]*konst, error) {
	k := ins[0]
	if len(ins) < 2 || ins[1] == nil {
		return nil, fmt.Errorf("Reshape needs a shape")
	}
	target, _ := c.intsOf(ins[1])
	dims, err := reshapeDims(k.dims, target, attrInt(n, "allowzero", 0) != 0)
	if err != nil {
		return nil, err
	}
	return []*konst{fromValues(dims, k.values(), k.float)}, nil
}

// reshapeDims resolves an ONNX Reshape target (0 copies the input's size
// unless allowzero, -1 takes the rest).
func reshapeDims(in, target []int64, allowZero bool) ([]int64, error) {
	total, err := count(in)
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(target))
	known, infer := int64(1), -1
	for i, t := range target {
		switch {
		case t == 0 && !allowZero:
			if i >= len(in) {
				return nil, fmt.Errorf("shape %v: 0 at axis %d copies an axis the input %v does not have", target, i, in)
			}
			out[i] = in[i]
		case t == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("shape %v has two -1", target)
			}
			infer = i
			continue
		case t < -1:
			return nil, fmt.Errorf("shape %v: size %d is invalid", target, t)
		default:
			out[i] = t
		}
		if out[i] > 0 && known > math.MaxInt64/out[i] {
			return nil, fmt.Errorf("shape %v overflows", target)
		}
		known *= out[i]
	}
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v (%d elements) to %v", in, total, target)
		}
		out[infer] = total / known
		known = total
	}
	if known != total {
		return nil, fmt.Errorf("cannot reshape %v (%d elements) to %v (%d)", in, total, target, known)
	}
	return out, nil
}

func foldConstantOfShape(c *converter, n *onnxpb.NodeProto, ins []*konst) ([]*konst, error) {
	dims, _ := c.intsOf(ins[0])
	total, err := count(dims)
	if err != nil || total > MaxFoldElements {
		return nil, fmt.Errorf("ConstantOfShape %v is larger than cnncalc folds", dims)
	}
	val, float := 0.0, true
	if a := attr(n, "value"); a != nil && a.GetT() != nil {
		k := &konst{dims: a.GetT().Dims, init: a.GetT()}
		if err := c.load(k); err != nil {
			return nil, err
		}
		if v := k.values(); len(v) > 0 {
			val, float = v[0], k.float
		}
	}
	out := make([]float64, total)
	for i := range out {
		out[i] = val
	}
	return []*konst{fromValues(dims, out, float)}, nil
}

func foldRange(c *converter, n *onnxpb.NodeProto, ins []*konst) ([]*konst, error) {
	if len(ins) < 3 || ins[1] == nil || ins[2] == nil {
		return nil, fmt.Errorf("Range needs start, limit and delta")
	}
	s, l, d := ins[0].values(), ins[1].values(), ins[2].values()
	if len(s) != 1 || len(l) != 1 || len(d) != 1 || d[0] == 0 {
		return nil, fmt.Errorf("Range takes scalars and a non-zero delta")
	}
	m := math.Ceil((l[0] - s[0]) / d[0])
	if m < 0 {
		m = 0
	}
	if m > MaxFoldElements {
		return nil, fmt.Errorf("Range of %v elements is larger than cnncalc folds", m)
	}
	out := make([]float64, int(m))
	for i := range out {
		out[i] = s[0] + float64(i)*d[0]
	}
	return []*konst{fromValues([]int64{int64(len(out))}, out, ins[0].float)}, nil
}

// arith folds a broadcasting binary op.
func arith(f func(a, b float64) float64) folder {
	return func(c *converter, n *onnxpb.NodeProto, ins []*konst) ([]*konst, error) {
		a, b := ins[0], ins[1]
		if b == nil {
			return nil, fmt.Errorf("%s needs two inputs", n.GetOpType())
		}
		dims, err := broadcast(a.dims, b.dims)
		if err != nil {
			return nil, err
		}
		av, bv := a.values(), b.values()
		total := numel(dims)
		out := make([]float64, total)
		for i := range out {
			out[i] = f(av[bindex(int64(i), dims, a.dims)], bv[bindex(int64(i), dims, b.dims)])
		}
		float := a.float || b.float
		if !float && n.GetOpType() == "Div" {
			for i := range out {
				out[i] = math.Trunc(out[i])
			}
		}
		return []*konst{fromValues(dims, out, float)}, nil
	}
}

func unaryArith(f func(float64) float64) folder {
	return func(c *converter, n *onnxpb.NodeProto, ins []*konst) ([]*konst, error) {
		v := ins[0].values()
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = f(x)
		}
		return []*konst{fromValues(ins[0].dims, out, ins[0].float)}, nil
	}
}

// broadcast is numpy's broadcast of two shapes.
func broadcast(a, b []int64) ([]int64, error) {
	r := max(len(a), len(b))
	out := make([]int64, r)
	for i := range r {
		x, y := int64(1), int64(1)
		if j := i - (r - len(a)); j >= 0 {
			x = a[j]
		}
		if j := i - (r - len(b)); j >= 0 {
			y = b[j]
		}
		switch {
		case x == y, y == 1:
			out[i] = x
		case x == 1:
			out[i] = y
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// bindex maps a flat index of the broadcast shape to one of in's.
func bindex(i int64, out, in []int64) int64 {
	idx, stride := int64(0), int64(1)
	for k := len(out) - 1; k >= 0; k-- {
		coord := i % out[k]
		i /= out[k]
		if j := k - (len(out) - len(in)); j >= 0 {
			if in[j] != 1 {
				idx += coord * stride
			}
			stride *= in[j]
		}
	}
	return idx
}

// foldTranspose transposes a constant (old exports transpose a Linear's
// weight in the graph).
func foldTranspose(c *converter, n *onnxpb.NodeProto, ins []*konst) ([]*konst, error) {
	k := ins[0]
	r := len(k.dims)
	perm := attrInts(n, "perm")
	if perm == nil {
		for i := r - 1; i >= 0; i-- {
			perm = append(perm, int64(i))
		}
	}
	if len(perm) != r {
		return nil, fmt.Errorf("perm %v for a rank-%d tensor", perm, r)
	}
	dims := make([]int64, r)
	for i, p := range perm {
		if p < 0 || int(p) >= r {
			return nil, fmt.Errorf("perm %v is invalid", perm)
		}
		dims[i] = k.dims[p]
	}
	in := k.values()
	out := make([]float64, len(in))
	// Strides of the input, then each output index mapped back.
	stride := make([]int64, r)
	acc := int64(1)
	for i := r - 1; i >= 0; i-- {
		stride[i] = acc
		acc *= k.dims[i]
	}
	idx := make([]int64, r)
	for o := range out {
		src := int64(0)
		for i := range r {
			src += idx[i] * stride[perm[i]]
		}
		out[o] = in[src]
		for i := r - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < dims[i] {
				break
			}
			idx[i] = 0
		}
	}
	return []*konst{fromValues(dims, out, k.float)}, nil
}
