package onnx

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/onnx/onnxpb"
)

// Options choose the input a model is converted for.
type Options struct {
	// Batch replaces the input's batch size (0: the model's; a symbolic
	// batch is then 1).
	Batch int64
	// Input replaces the input's other sizes (channels first, no batch);
	// nil keeps the model's. A symbolic size not replaced is an error.
	Input []int64
}

// Net is an ONNX graph as cnncalc layers: a flat list of items, each a
// calc.Layer wired by From, with the model's tensors as its state_dict.
type Net struct {
	Name      string
	Producer  string
	Opset     int64
	InputName string
	// Input is the network input with its batch axis.
	Input calc.Shape
	Items []*Item
}

// Item is one layer of a converted network.
type Item struct {
	Layer calc.Layer
	// Name is unique; the PyTorch module path where the export tells it.
	Name string
	// From are the inputs, indexes into Net.Items (calc.Input for the
	// network input).
	From []int
	// SizeOf is upsample's size_of input (an index as From), or noRef.
	SizeOf int
	// Params are the state_dict tensors in exec.TensorNames order.
	Params [4]*Param
	// Node is the ONNX node the item comes from.
	Node string
	// Shape is the output shape, batch first.
	Shape calc.Shape
}

const noRef = -2

// Param is one state_dict tensor of an item: an ONNX tensor (read on
// demand, transposed and scaled as the PyTorch layout needs) or values
// cnncalc makes (a folded constant).
type Param struct {
	Tensor *onnxpb.TensorProto
	// Values stand in for Tensor when it is nil.
	Values []float32
	// Shape is PyTorch's shape of the tensor.
	Shape []int64
	// Transpose transposes a 2-D tensor (MatMul's and Gemm's B).
	Transpose bool
	// Scale multiplies every value (Gemm's alpha and beta); 0 means 1.
	Scale float32
	// NoData is set for a graph input that stands for a parameter (an
	// export without its weights): its shape is known, its values not.
	NoData bool
}

// value is what an ONNX tensor name stands for during a conversion.
type value struct {
	name string
	// item is the producing item (calc.Input: the network input) of a
	// runtime tensor; shape is its shape.
	item  int
	shape calc.Shape
	// konst is set for a constant (an initializer, a Constant node or a
	// folded shape computation).
	konst *konst
	// expr is set for an elementwise function of one runtime tensor not
	// yet written as a layer (see expr.go).
	expr *expr
	// pad is set for a reflect or edge Pad waiting for the conv it feeds.
	pad *pendingPad
	// node is the ONNX node that made the value, for errors and names.
	node *onnxpb.NodeProto
}

// konst is a constant tensor: its values (ints or floats) or an
// initializer whose data is read when needed.
type konst struct {
	dims   []int64
	ints   []int64
	floats []float64
	float  bool
	init   *onnxpb.TensorProto
	noData bool // a graph input standing for a parameter
	loaded bool
}

// Error is a conversion error: the node at fault and the message.
type Error struct {
	File, Node, OpType string
	Msg                string
}

func (e *Error) Error() string {
	if e.Node == "" && e.OpType == "" {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s: node %q (%s): %s", e.File, e.Node, e.OpType, e.Msg)
}

// UnsupportedError lists every operator a model uses that cnncalc cannot
// express, with its count and first node.
type UnsupportedError struct {
	File string
	Ops  []UnsupportedOp
}

// UnsupportedOp is one unsupported op_type.
type UnsupportedOp struct {
	OpType, Domain, First string
	Count                 int
}

func (e *UnsupportedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: the model uses %d operator type", e.File, len(e.Ops))
	if len(e.Ops) != 1 {
		b.WriteString("s")
	}
	b.WriteString(" cnncalc cannot express:")
	for _, o := range e.Ops {
		op := o.OpType
		if o.Domain != "" && o.Domain != "ai.onnx" {
			op = o.Domain + "." + op
		}
		fmt.Fprintf(&b, "\n  %s: %d node", op, o.Count)
		if o.Count != 1 {
			b.WriteString("s")
		}
		fmt.Fprintf(&b, ", the first %q", o.First)
	}
	return b.String()
}

// converter holds one conversion's state.
type converter struct {
	m      *Model
	g      *onnxpb.GraphProto
	net    *Net
	values map[string]*value
	// producer maps a tensor name to the node making it; consumers counts
	// the nodes (and graph outputs) reading it.
	producer  map[string]*onnxpb.NodeProto
	consumers map[string][]*onnxpb.NodeProto
	outputs   map[string]bool
	// done marks nodes consumed by a pattern ahead of their turn.
	done  map[*onnxpb.NodeProto]bool
	names map[string]int
	// folding guards the on-demand constant folding against cycles.
	folding map[*onnxpb.NodeProto]bool
}

// Convert turns the model's main graph into cnncalc layers for the input
// opt chooses. Every op_type without a conversion is listed in one
// UnsupportedError before any other work.
func Convert(m *Model, opt Options) (*Net, error) {
	g := m.Proto.GetGraph()
	c := &converter{m: m, g: g, values: map[string]*value{}, producer: map[string]*onnxpb.NodeProto{},
		consumers: map[string][]*onnxpb.NodeProto{}, outputs: map[string]bool{}, done: map[*onnxpb.NodeProto]bool{},
		names: map[string]int{"input": 1}, folding: map[*onnxpb.NodeProto]bool{}}
	c.net = &Net{Name: g.GetName(), Producer: strings.TrimSpace(m.Proto.GetProducerName() + " " + m.Proto.GetProducerVersion()), Opset: m.Opset}
	if err := c.unsupported(); err != nil {
		return nil, err
	}
	if m.Opset < 1 {
		return nil, c.errorf(nil, "the model imports no version of the default operator set")
	}
	order, err := c.sort()
	if err != nil {
		return nil, err
	}
	for _, t := range g.Initializer {
		if t.GetName() == "" {
			continue
		}
		c.values[t.GetName()] = &value{name: t.GetName(), konst: &konst{dims: t.Dims, init: t}}
	}
	if err := c.inputs(opt); err != nil {
		return nil, err
	}
	for _, n := range order {
		if c.done[n] {
			continue
		}
		if err := c.node(n); err != nil {
			return nil, err
		}
	}
	if len(g.Output) != 1 {
		return nil, c.errorf(nil, "the graph has %d outputs; cnncalc networks have one", len(g.Output))
	}
	out := c.values[g.Output[0].GetName()]
	if out == nil {
		return nil, c.errorf(nil, "the graph output %q is not computed by any node", g.Output[0].GetName())
	}
	v, err := c.runtime(out, nil)
	if err != nil {
		return nil, err
	}
	if len(c.net.Items) == 0 || v.item != len(c.net.Items)-1 {
		// The output is the input, or an earlier item: end with it.
		if _, err := c.emit(nil, calc.Layer{Type: calc.Identity}, []*value{v}, "output"); err != nil {
			return nil, err
		}
	}
	c.prune()
	return c.net, nil
}

func (c *converter) errorf(n *onnxpb.NodeProto, format string, a ...any) error {
	e := &Error{File: c.m.File, Msg: fmt.Sprintf(format, a...)}
	if n != nil {
		e.Node, e.OpType = n.GetName(), n.GetOpType()
		if e.Node == "" && len(n.Output) > 0 {
			e.Node = n.Output[0]
		}
	}
	return e
}

// unsupported lists the op_types that have no conversion.
func (c *converter) unsupported() error {
	byOp := map[string]*UnsupportedOp{}
	var order []string
	for _, n := range c.g.Node {
		d := n.GetDomain()
		_, ok := converters[n.GetOpType()]
		if _, folds := folders[n.GetOpType()]; folds {
			ok = true
		}
		if ok && (d == "" || d == "ai.onnx") {
			continue
		}
		key := d + "." + n.GetOpType()
		u := byOp[key]
		if u == nil {
			u = &UnsupportedOp{OpType: n.GetOpType(), Domain: d, First: n.GetName()}
			if u.First == "" && len(n.Output) > 0 {
				u.First = n.Output[0]
			}
			byOp[key] = u
			order = append(order, key)
		}
		u.Count++
	}
	if len(order) == 0 {
		return nil
	}
	e := &UnsupportedError{File: c.m.File}
	for _, k := range order {
		e.Ops = append(e.Ops, *byOp[k])
	}
	return e
}

// sort returns the nodes in an order where every input is made before
// it is read (ONNX requires it; a model that breaks it still converts),
// and refuses dangling inputs and cycles.
func (c *converter) sort() ([]*onnxpb.NodeProto, error) {
	known := map[string]bool{"": true}
	for _, t := range c.g.Initializer {
		known[t.GetName()] = true
	}
	for _, in := range c.g.Input {
		known[in.GetName()] = true
	}
	for _, n := range c.g.Node {
		if len(n.Output) == 0 || n.Output[0] == "" {
			return nil, c.errorf(n, "the node has no output")
		}
		for _, o := range n.Output {
			if o == "" {
				continue
			}
			if p := c.producer[o]; p != nil {
				return nil, c.errorf(n, "its output %q is also made by node %q", o, p.GetName())
			}
			c.producer[o] = n
		}
	}
	for _, n := range c.g.Node {
		for _, in := range n.Input {
			if in == "" {
				continue
			}
			if !known[in] && c.producer[in] == nil {
				return nil, c.errorf(n, "its input %q is made by no node, initializer or graph input", in)
			}
			c.consumers[in] = append(c.consumers[in], n)
		}
	}
	for _, o := range c.g.Output {
		c.outputs[o.GetName()] = true
	}
	// Kahn's algorithm, keeping the file's order among ready nodes.
	pending := map[*onnxpb.NodeProto]int{}
	index := map[*onnxpb.NodeProto]int{}
	var ready []int
	for i, n := range c.g.Node {
		index[n] = i
		k := 0
		for _, in := range n.Input {
			if c.producer[in] != nil {
				k++
			}
		}
		pending[n] = k
		if k == 0 {
			ready = append(ready, i)
		}
	}
	var order []*onnxpb.NodeProto
	for len(ready) > 0 {
		sort.Ints(ready)
		n := c.g.Node[ready[0]]
		ready = ready[1:]
		order = append(order, n)
		for _, o := range n.Output {
			if o == "" {
				continue
			}
			for _, cn := range c.consumers[o] {
				for _, in := range cn.Input {
					if in == o {
						pending[cn]--
					}
				}
				if pending[cn] == 0 {
					pending[cn] = -1
					ready = append(ready, index[cn])
				}
			}
		}
	}
	if len(order) < len(c.g.Node) {
		for _, n := range c.g.Node {
			if pending[n] > 0 {
				return nil, c.errorf(n, "the graph has a cycle through this node")
			}
		}
	}
	return order, nil
}

// inputs binds the graph inputs: the first one that is no initializer is
// the network input; the others stand for parameters (a model exported
// without its weights lists them as inputs).
func (c *converter) inputs(opt Options) error {
	inits := map[string]bool{}
	for _, t := range c.g.Initializer {
		inits[t.GetName()] = true
	}
	var data *onnxpb.ValueInfoProto
	for _, in := range c.g.Input {
		if inits[in.GetName()] {
			continue
		}
		if data == nil {
			data = in
			continue
		}
		dims, err := c.staticDims(in)
		if err != nil {
			return err
		}
		c.values[in.GetName()] = &value{name: in.GetName(), konst: &konst{dims: dims, noData: true}}
	}
	if data == nil {
		return c.errorf(nil, "the graph has no input")
	}
	tt := data.GetType().GetTensorType()
	if tt == nil || tt.Shape == nil {
		return c.errorf(nil, "input %q: its type is not a tensor of known rank", data.GetName())
	}
	if et := tt.GetElemType(); et != int32(onnxpb.TensorProto_FLOAT) && et != int32(onnxpb.TensorProto_FLOAT16) && et != int32(onnxpb.TensorProto_DOUBLE) && et != int32(onnxpb.TensorProto_BFLOAT16) {
		return c.errorf(nil, "input %q is of %s; cnncalc networks take a float tensor", data.GetName(), typeName(et))
	}
	dims := tt.Shape.Dim
	if len(dims) < 2 || len(dims) > 5 {
		return c.errorf(nil, "input %q has rank %d; cnncalc takes (N, C), (N, C, L), (N, C, H, W) or (N, C, D, H, W)", data.GetName(), len(dims))
	}
	if opt.Input != nil && len(opt.Input) != len(dims)-1 {
		return c.errorf(nil, "input %q is %s: --input gives %d sizes, the model takes %d (channels first, batch excluded)", data.GetName(), dimsText(dims), len(opt.Input), len(dims)-1)
	}
	shape := make(calc.Shape, len(dims))
	for i, d := range dims {
		switch {
		case i == 0 && opt.Batch > 0:
			shape[i] = opt.Batch
		case i > 0 && opt.Input != nil:
			shape[i] = opt.Input[i-1]
		case d.GetDimParam() != "" || d.Value == nil:
			if i == 0 {
				shape[i] = 1
				continue
			}
			name := d.GetDimParam()
			if name == "" {
				name = "?"
			}
			return c.errorf(nil, "input %q is %s: dimension %d (%s) is symbolic; give the sizes with --input", data.GetName(), dimsText(dims), i, name)
		default:
			shape[i] = d.GetDimValue()
		}
		if shape[i] < 1 || shape[i] > calc.MaxDim {
			return c.errorf(nil, "input %q: dimension %d is %d, outside 1 to %d", data.GetName(), i, shape[i], int64(calc.MaxDim))
		}
	}
	c.net.InputName = data.GetName()
	c.net.Input = shape
	c.values[data.GetName()] = &value{name: data.GetName(), item: calc.Input, shape: shape}
	return nil
}

func dimsText(dims []*onnxpb.TensorShapeProto_Dimension) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		if p := d.GetDimParam(); p != "" {
			parts[i] = p
		} else if d.Value == nil {
			parts[i] = "?"
		} else {
			parts[i] = fmt.Sprint(d.GetDimValue())
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func (c *converter) staticDims(in *onnxpb.ValueInfoProto) ([]int64, error) {
	tt := in.GetType().GetTensorType()
	if tt == nil || tt.Shape == nil {
		return nil, c.errorf(nil, "graph input %q: a second input, not of known shape (cnncalc networks take one input)", in.GetName())
	}
	dims := make([]int64, len(tt.Shape.Dim))
	for i, d := range tt.Shape.Dim {
		if d.Value == nil || d.GetDimValue() < 0 {
			return nil, c.errorf(nil, "graph input %q is %s: a second input (cnncalc networks take one input; a parameter input needs static dims)", in.GetName(), dimsText(tt.Shape.Dim))
		}
		dims[i] = d.GetDimValue()
	}
	return dims, nil
}

// node converts one node: constant folding when every input is constant
// and the op folds, its conversion otherwise.
func (c *converter) node(n *onnxpb.NodeProto) error {
	if _, err := c.fold(n); err != errNotConst {
		return err
	}
	conv := converters[n.GetOpType()]
	if conv == nil {
		return c.errorf(n, "its inputs are not constant, and %s is computed by cnncalc only on constants", n.GetOpType())
	}
	return conv(c, n)
}

// in returns input i of n (nil when absent or empty).
func (c *converter) in(n *onnxpb.NodeProto, i int) *value {
	if i >= len(n.Input) || n.Input[i] == "" {
		return nil
	}
	return c.value(n.Input[i])
}

// value returns what a tensor name stands for; a constant made by a node
// not yet converted is folded on demand.
func (c *converter) value(name string) *value {
	v := c.values[name]
	if v == nil {
		if p := c.producer[name]; p != nil {
			if _, err := c.fold(p); err == nil {
				v = c.values[name]
			}
		}
	}
	return v
}

// data returns input i of n as a runtime tensor, writing a pending
// expression as layers.
func (c *converter) data(n *onnxpb.NodeProto, i int) (*value, error) {
	v := c.in(n, i)
	if v == nil {
		return nil, c.errorf(n, "input %d is missing", i)
	}
	return c.runtime(v, n)
}

// runtime makes v a runtime tensor.
func (c *converter) runtime(v *value, n *onnxpb.NodeProto) (*value, error) {
	switch {
	case v.expr != nil:
		return c.materialize(v.expr)
	case v.pad != nil:
		return c.materializePad(v)
	case v.konst != nil:
		return nil, c.errorf(n, "input %q is a constant; cnncalc layers compute on the network input", v.name)
	}
	return v, nil
}

// bind names a node's output.
func (c *converter) bind(n *onnxpb.NodeProto, i int, v *value) {
	if i < len(n.Output) && n.Output[i] != "" {
		c.values[n.Output[i]] = v
	}
}

// emit appends an item computing l from the inputs and returns its value.
func (c *converter) emit(n *onnxpb.NodeProto, l calc.Layer, from []*value, name string) (*value, error) {
	it := &Item{Layer: l, SizeOf: noRef}
	var shapes []calc.Shape
	for _, v := range from {
		if v.konst != nil || v.expr != nil || v.pad != nil {
			return nil, c.errorf(n, "internal error: an item's input is not a runtime tensor")
		}
		it.From = append(it.From, v.item)
		shapes = append(shapes, v.shape)
	}
	for _, a := range l.Type.Info().Args {
		if a.Field == nil {
			continue
		}
		bad := false
		switch f := a.Field(&it.Layer).(type) {
		case *float64:
			bad = math.IsNaN(*f) || math.IsInf(*f, 0)
		case *[]float64:
			for _, v := range *f {
				bad = bad || math.IsNaN(v) || math.IsInf(v, 0)
			}
		}
		if bad {
			return nil, c.errorf(n, "%s's %s would be %v: not a finite number", l.Type, a.Name, a.Field(&it.Layer))
		}
		if a.Check != nil {
			if msg := a.Check(&it.Layer); msg != "" {
				return nil, c.errorf(n, "%s", msg)
			}
		}
	}
	out, err := calc.Infer(&it.Layer, shapes)
	if err != nil {
		return nil, c.errorf(n, "%s %s: %v", l.Type, shapesText(shapes), err)
	}
	it.Shape = out
	if n != nil {
		it.Node = n.GetName()
	}
	it.Name = c.unique(name)
	c.net.Items = append(c.net.Items, it)
	return &value{name: it.Name, item: len(c.net.Items) - 1, shape: out, node: n}, nil
}

// layer emits an item computing l from the inputs, with its state_dict
// tensors (in exec.TensorNames order), as n's output.
func (c *converter) layer(n *onnxpb.NodeProto, l calc.Layer, from []*value, name string, params ...*Param) error {
	v, err := c.emit(n, l, from, name)
	if err != nil {
		return err
	}
	copy(c.net.Items[v.item].Params[:], params)
	c.bind(n, 0, v)
	return nil
}

func shapesText(s []calc.Shape) string {
	parts := make([]string, len(s))
	for i, x := range s {
		parts[i] = fmt.Sprint([]int64(x))
	}
	return "on " + strings.Join(parts, " and ")
}

// unique makes a name unique among the items.
func (c *converter) unique(name string) string {
	// A leading $ would name a block argument in the spec.
	name = strings.TrimLeft(clean(name), "$")
	if name == "" {
		name = "layer"
	}
	k := c.names[name]
	c.names[name] = k + 1
	if k == 0 {
		return name
	}
	for {
		k++
		cand := fmt.Sprintf("%s_%d", name, k)
		if c.names[cand] == 0 {
			c.names[cand] = 1
			c.names[name] = k
			return cand
		}
	}
}

// itemName is the PyTorch module path a node comes from, when the export
// tells it: torch.onnx names nodes /layer1/layer1.0/conv1/Conv, a path of
// module names ending in the op, or the name of a weight it reads
// (layer1.0.conv1.weight).
func itemName(n *onnxpb.NodeProto, weight string) string {
	if p, ok := strings.CutSuffix(weight, ".weight"); ok && p != "" && !strings.Contains(p, "::") {
		return p
	}
	name := strings.Trim(n.GetName(), "/")
	if name == "" {
		return strings.ToLower(n.GetOpType())
	}
	parts := strings.Split(name, "/")
	if len(parts) == 1 {
		return strings.ToLower(strings.TrimRight(name, "_0123456789"))
	}
	// Each segment is a module's name in its parent; a segment that
	// extends the one before (layer1, layer1.0) is an index into it.
	path, prev := "", ""
	for _, seg := range parts[:len(parts)-1] {
		switch {
		case prev != "" && strings.HasPrefix(seg, prev+"."):
			path += seg[len(prev):]
		case path == "":
			path = seg
		default:
			path += "." + seg
		}
		prev = seg
	}
	// An op of a container module (the Add of a residual block): the
	// container's path and the op.
	op := strings.ToLower(strings.TrimRight(parts[len(parts)-1], "_0123456789"))
	if leafOp(n.GetOpType()) {
		return path
	}
	return path + "." + op
}

// leafOp says whether op is what a module of its own computes (a Conv
// node is the conv1 module), not a functional op inside a container.
func leafOp(op string) bool {
	switch op {
	case "Add", "Mul", "Concat", "Flatten", "Reshape", "Transpose", "Split", "Resize", "Upsample", "Pad", "Sub", "Div":
		return false
	}
	return true
}

// prune drops items nothing reads that do not lead to the output (a
// branch materialised but unused), renumbering From.
func (c *converter) prune() {
	items := c.net.Items
	live := make([]bool, len(items))
	live[len(items)-1] = true
	for i := len(items) - 1; i >= 0; i-- {
		if !live[i] {
			continue
		}
		for _, f := range items[i].From {
			if f >= 0 {
				live[f] = true
			}
		}
		if s := items[i].SizeOf; s >= 0 {
			live[s] = true
		}
	}
	renum := make([]int, len(items))
	var out []*Item
	for i, it := range items {
		if !live[i] {
			renum[i] = noRef
			continue
		}
		renum[i] = len(out)
		out = append(out, it)
	}
	for _, it := range out {
		for k, f := range it.From {
			if f >= 0 {
				it.From[k] = renum[f]
			}
		}
		if it.SizeOf >= 0 {
			it.SizeOf = renum[it.SizeOf]
		}
	}
	c.net.Items = out
}

// Attributes.

func attr(n *onnxpb.NodeProto, name string) *onnxpb.AttributeProto {
	for _, a := range n.Attribute {
		if a.GetName() == name {
			return a
		}
	}
	return nil
}

func attrInt(n *onnxpb.NodeProto, name string, def int64) int64 {
	if a := attr(n, name); a != nil && a.I != nil {
		return a.GetI()
	}
	return def
}

func attrFloat(n *onnxpb.NodeProto, name string, def float64) float64 {
	if a := attr(n, name); a != nil && a.F != nil {
		return float64(a.GetF())
	}
	return def
}

func attrInts(n *onnxpb.NodeProto, name string) []int64 {
	if a := attr(n, name); a != nil {
		return a.Ints
	}
	return nil
}

func attrString(n *onnxpb.NodeProto, name, def string) string {
	if a := attr(n, name); a != nil && a.S != nil {
		return string(a.S)
	}
	return def
}
