package draw

import (
	"fmt"
	"strings"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/spec"
)

// Kind is the colour class of a box.
type Kind uint8

// The kinds of box, in legend order.
const (
	KindInput Kind = iota
	KindConv
	KindPool
	KindNorm
	KindAct
	KindLinear
	KindMerge
	KindShape // reshapes, dropout, padding, upsampling: no arithmetic of note
	KindBlock // a block use or repeat iteration drawn as one box (--depth)
	numKinds
)

// kindInfo is the table of kinds: legend name and colours.
var kindInfo = [numKinds]struct {
	Name         string
	Fill, Stroke string
}{
	KindInput:  {"input", "#ffffff", "#444444"},
	KindConv:   {"conv", "#cfe2f3", "#3d85c6"},
	KindPool:   {"pool", "#d9ead3", "#6aa84f"},
	KindNorm:   {"norm", "#fff2cc", "#bf9000"},
	KindAct:    {"activation", "#fce5cd", "#e69138"},
	KindLinear: {"linear", "#d9d2e9", "#674ea7"},
	KindMerge:  {"merge", "#f4cccc", "#cc0000"},
	KindShape:  {"reshape", "#eeeeee", "#888888"},
	KindBlock:  {"block", "#d0e0e3", "#45818e"},
}

func (k Kind) String() string { return kindInfo[k].Name }

// opKinds is the kind of every layer type; TestEveryOpHasKind fails when
// a calc.Op lacks one.
var opKinds = map[calc.Op]Kind{
	calc.Conv1d: KindConv, calc.Conv2d: KindConv, calc.Conv3d: KindConv,
	calc.ConvTranspose1d: KindConv, calc.ConvTranspose2d: KindConv, calc.ConvTranspose3d: KindConv,
	calc.MaxPool1d: KindPool, calc.MaxPool2d: KindPool, calc.MaxPool3d: KindPool,
	calc.AvgPool1d: KindPool, calc.AvgPool2d: KindPool, calc.AvgPool3d: KindPool,
	calc.AdaptiveAvgPool1d: KindPool, calc.AdaptiveAvgPool2d: KindPool, calc.AdaptiveAvgPool3d: KindPool,
	calc.AdaptiveMaxPool1d: KindPool, calc.AdaptiveMaxPool2d: KindPool, calc.AdaptiveMaxPool3d: KindPool,
	calc.BatchNorm1d: KindNorm, calc.BatchNorm2d: KindNorm, calc.BatchNorm3d: KindNorm,
	calc.InstanceNorm1d: KindNorm, calc.InstanceNorm2d: KindNorm, calc.InstanceNorm3d: KindNorm,
	calc.LayerNorm: KindNorm, calc.GroupNorm: KindNorm, calc.LayerNorm2d: KindNorm, calc.LayerScale: KindNorm,
	calc.ZeroPad1d: KindShape, calc.ZeroPad2d: KindShape, calc.ZeroPad3d: KindShape,
	calc.Dropout1d: KindShape, calc.Dropout2d: KindShape, calc.Dropout3d: KindShape, calc.Dropout: KindShape,
	calc.Flatten: KindShape, calc.Unflatten: KindShape, calc.Identity: KindShape, calc.Upsample: KindShape, calc.Chunk: KindShape,
	calc.Split: KindShape, calc.ChannelShuffle: KindShape, calc.Permute: KindShape, calc.StochasticDepth: KindShape,
	calc.Linear: KindLinear,
	calc.ReLU:   KindAct, calc.ReLU6: KindAct, calc.SiLU: KindAct, calc.Hardswish: KindAct, calc.Hardsigmoid: KindAct,
	calc.Sigmoid: KindAct, calc.Tanh: KindAct, calc.LeakyReLU: KindAct, calc.ELU: KindAct, calc.GELU: KindAct,
	calc.Softmax: KindAct, calc.SELU: KindAct, calc.CELU: KindAct, calc.PReLU: KindAct, calc.Softplus: KindAct,
	calc.LogSoftmax: KindAct, calc.Hardtanh: KindAct, calc.Mish: KindAct,
	calc.Add: KindMerge, calc.Concat: KindMerge, calc.Mul: KindMerge,
}

// Box is one drawn unit: a layer, the input, or a block instance.
type Box struct {
	Kind  Kind
	Title string
	// Lines are the box's further text lines: shapes, params.
	Lines []string
	// Nodes are the network nodes the box stands for (none for the input).
	Nodes []int
	// Params, MACs and Bytes are the box's sums (Bytes: float32 output
	// activations of its nodes).
	Params, MACs, Bytes int64
	// From are the boxes feeding this one, in input order, without repeats.
	From []int
}

// Graph is the network as boxes: Boxes[0] is the input, the rest in
// execution order (each box's inputs come before it).
type Graph struct {
	Name    string
	Boxes   []Box
	Caption string
	// Depth is the grouping depth the graph was built with.
	Depth int
}

// Build groups the analysed network into boxes. depth 0 draws every layer;
// depth d >= 1 draws each block use or repeat iteration at nesting depth d
// as one box, with the layers outside such groups as boxes of their own.
func Build(a *spec.Analysis, depth int) (*Graph, error) {
	if depth < 0 {
		return nil, fmt.Errorf("depth must be 0 or more, got %d", depth)
	}
	net, res := a.Net, a.Result
	g := &Graph{Name: net.Name, Depth: depth}
	if g.Name == "" {
		g.Name = a.Spec.File
	}
	g.Boxes = append(g.Boxes, Box{Kind: KindInput, Title: "input", Lines: []string{Dims(net.Input)}})
	boxOf := make([]int, len(net.Nodes))
	var cur *spec.Instance
	for i := range net.Nodes {
		var grp *spec.Instance
		if depth > 0 && i < len(a.Spec.Info) {
			if h := a.Spec.Info[i].Instance.At(depth); h != nil && h.Depth == depth {
				grp = h
			}
		}
		if grp == nil || grp != cur {
			g.Boxes = append(g.Boxes, Box{})
		}
		cur = grp
		b := len(g.Boxes) - 1
		boxOf[i] = b
		box := &g.Boxes[b]
		box.Nodes = append(box.Nodes, i)
		lr := &res.Layers[i]
		box.Params += lr.Params
		box.MACs += lr.MACs
		box.Bytes += lr.Bytes
		for _, f := range net.Nodes[i].From {
			src := 0
			if f != calc.Input {
				src = boxOf[f]
			}
			if src != b && !contains(box.From, src) {
				box.From = append(box.From, src)
			}
		}
		if grp != nil {
			box.Kind = KindBlock
			box.Title = groupTitle(grp, a.Spec.Info[i].Instance, depth)
		}
	}
	for b := 1; b < len(g.Boxes); b++ {
		box := &g.Boxes[b]
		last := box.Nodes[len(box.Nodes)-1]
		if box.Kind == KindBlock {
			first := box.Nodes[0]
			in := res.Layers[first].Inputs
			inText := "-"
			if len(in) > 0 {
				inText = Dims(in[0])
			}
			box.Lines = append(box.Lines, fmt.Sprintf("%s -> %s", inText, Dims(res.Layers[last].Output)))
			box.Lines = append(box.Lines, fmt.Sprintf("%d layers", len(box.Nodes)))
		} else {
			n := &net.Nodes[last]
			box.Kind = opKinds[n.Layer.Type]
			box.Title = nodeTitle(n)
			line := Dims(res.Layers[last].Output)
			if w := window(&n.Layer, len(res.Layers[last].Output)-2); w != "" {
				line = w + "  " + line
			}
			box.Lines = append(box.Lines, line)
		}
		if box.Params > 0 {
			box.Lines = append(box.Lines, calc.Group(box.Params)+" params")
		}
	}
	t := res.Total
	g.Caption = fmt.Sprintf("%s: input %s, %d layers, %s params, %s buffers, %s MACs, output %s",
		g.Name, Dims(net.Input), len(net.Nodes), calc.Group(t.Params), calc.Group(t.Buffers), calc.Human(t.MACs), Dims(t.Output))
	return g, nil
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// groupTitle names a block instance: the block's name; a repeat iteration
// is named after the one block it holds when it holds one, with its
// iteration number.
func groupTitle(g, inner *spec.Instance, depth int) string {
	if g.Block != "" {
		return g.Block
	}
	name := "repeat"
	if c := inner.At(depth + 1); c != nil && c.Parent == g && c.Block != "" {
		name = c.Block
	}
	return fmt.Sprintf("%s #%d", name, g.Iter+1)
}

// nodeTitle is a layer's name, with its type when the name does not say it.
func nodeTitle(n *calc.Node) string {
	t := n.Layer.Type.String()
	if n.Name == "" {
		return t
	}
	if strings.HasPrefix(n.Name, t) {
		return n.Name
	}
	return n.Name + ": " + t
}

// window is the kernel and stride of a conv or pool on nsp spatial axes:
// 3x3/2.
func window(l *calc.Layer, nsp int) string {
	if l.Type.Info().Arg("kernel") == nil || len(l.Kernel) == 0 {
		return ""
	}
	s := joinInts(perAxis(l.Kernel, nsp))
	st := l.Stride
	if len(st) == 0 && opKinds[l.Type] == KindPool {
		st = l.Kernel // a pool's stride defaults to its kernel
	}
	if len(st) > 0 && !allOne(st) {
		if allSame(st) {
			st = st[:1]
		}
		s += "/" + joinInts(st)
	}
	return s
}

// perAxis spells a one-value size out for each of nsp axes.
func perAxis(v []int64, nsp int) []int64 {
	if len(v) != 1 || nsp <= 1 {
		return v
	}
	out := make([]int64, nsp)
	for i := range out {
		out[i] = v[0]
	}
	return out
}

func allSame(v []int64) bool {
	for _, x := range v {
		if x != v[0] {
			return false
		}
	}
	return true
}

func allOne(v []int64) bool {
	for _, x := range v {
		if x != 1 {
			return false
		}
	}
	return true
}

func joinInts(v []int64) string {
	var b strings.Builder
	for i, x := range v {
		if i > 0 {
			b.WriteString("x")
		}
		fmt.Fprint(&b, x)
	}
	return b.String()
}

// Dims is a shape without its batch axis: 64x56x56.
func Dims(s calc.Shape) string {
	if len(s) < 2 {
		return "-"
	}
	return joinInts(s[1:])
}
