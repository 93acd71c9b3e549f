package calc

import (
	"fmt"
	"strings"
)

// Analyze computes every node's output shape, parameters, buffers, MACs,
// activation bytes and receptive field. It goes on past a failing node so
// that independent problems are all reported; a node whose input failed is
// skipped without an error of its own. Totals are filled only when there are
// no errors.
func Analyze(net *Network) (*Result, []*Error) {
	res := &Result{Layers: make([]LayerResult, len(net.Nodes))}
	var errs []*Error
	inRF := inputRF(net.Input)
	if err := checkInput(net.Input); err != nil {
		return res, []*Error{err}
	}
	for i := range net.Nodes {
		n := &net.Nodes[i]
		lr := &res.Layers[i]
		lr.explain = net.Explain
		var rfs []*RF
		ok := true
		for _, f := range n.From {
			if f == Input {
				lr.Inputs = append(lr.Inputs, net.Input)
				rfs = append(rfs, inRF)
				continue
			}
			if f < Input || f >= i {
				errs = append(errs, &Error{Node: i, Msg: fmt.Sprintf("input %d is not an earlier node", f)})
				ok = false
				break
			}
			if res.Layers[f].Output == nil {
				ok = false
				break
			}
			lr.Inputs = append(lr.Inputs, res.Layers[f].Output)
			rfs = append(rfs, res.Layers[f].RF)
		}
		if !ok {
			continue
		}
		if len(lr.Inputs) == 0 {
			errs = append(errs, &Error{Node: i, Msg: "node has no input"})
			continue
		}
		if f := n.From[0]; f != Input {
			lr.Layout = res.Layers[f].Layout
		}
		err := checkLimits(&n.Layer)
		if err == nil {
			err = layer(&n.Layer, lr, rfs)
		}
		if err == nil && len(lr.Output) != len(lr.Inputs[0]) {
			lr.Layout = nil
		}
		if err == nil {
			err = checkDims(lr.Output)
		}
		if err != nil {
			err.Node = i
			errs = append(errs, err)
			lr.Output = nil
			continue
		}
		b, e := lr.Output.Elements()
		if e == nil {
			b, e = mul(b, 4)
		}
		if e != nil {
			errs = append(errs, &Error{Node: i, Msg: fmt.Sprintf("output %s has more elements than int64 holds", fmtShape(lr.Output))})
			lr.Output = nil
			continue
		}
		lr.Bytes = b
	}
	if len(errs) > 0 {
		return res, errs
	}
	warnUnused(net, res)
	if err := totals(net, res); err != nil {
		return res, []*Error{err}
	}
	return res, nil
}

// warnUnused warns of every node but the last whose output nothing reads:
// a branch that ends nowhere is not part of the network (PyTorch would not
// run it), and usually means a merge is missing.
func warnUnused(net *Network, res *Result) {
	used := make([]bool, len(net.Nodes))
	for _, n := range net.Nodes {
		for _, f := range n.From {
			if f >= 0 {
				used[f] = true
			}
		}
	}
	for i := range len(net.Nodes) - 1 {
		if !used[i] {
			res.Layers[i].Warnings = append(res.Layers[i].Warnings,
				fmt.Sprintf("the output of %s is never used: nothing reads it and it is not the network's output (a merge such as mul, add or concat missing?)", net.Nodes[i].Name))
		}
	}
}

func totals(net *Network, res *Result) *Error {
	t := &res.Total
	t.Output = net.Input
	if len(res.Layers) > 0 {
		t.Output = res.Layers[len(res.Layers)-1].Output
	}
	var err error
	in, _ := net.Input.Elements()
	if t.InputBytes, err = mul(in, 4); err != nil {
		return &Error{Node: Input, Msg: "input bytes overflow int64"}
	}
	for i, l := range res.Layers {
		for _, p := range []struct {
			sum *int64
			v   int64
		}{{&t.Params, l.Params}, {&t.Buffers, l.Buffers}, {&t.MACs, l.MACs}, {&t.ActivationBytes, l.Bytes}, {&t.FrozenParams, frozen(net, i, l.Params)}} {
			if *p.sum, err = add(*p.sum, p.v); err != nil {
				return &Error{Node: i, Msg: "network totals overflow int64"}
			}
		}
	}
	if t.FLOPs, err = mul(t.MACs, 2); err != nil {
		return &Error{Node: len(res.Layers) - 1, Msg: "FLOPs overflow int64"}
	}
	return nil
}

// frozen is params when node i is frozen, else 0.
func frozen(net *Network, i int, params int64) int64 {
	if net.Nodes[i].Frozen {
		return params
	}
	return 0
}

// layer computes one node through its kind's table entry. It fills lr and
// returns an error without a node index.
func layer(l *Layer, lr *LayerResult, rfs []*RF) *Error {
	info := l.Type.Info()
	if info.Shape == nil {
		return errorf("", "unknown layer type %q", l.Type)
	}
	if !info.Merge && len(lr.Inputs) != 1 && !(info.SizeInput && len(lr.Inputs) == 2) {
		return errorf("from", "%s takes one input, got %d", l.Type, len(lr.Inputs))
	}
	if err := info.Shape(l, lr); err != nil {
		return err
	}
	if info.Count != nil {
		if err := info.Count(l, lr); err != nil {
			return err
		}
	}
	if info.Field != nil {
		var why string
		if lr.RF, why = info.Field(l, lr, rfs); why != "" {
			lr.Warnings = append(lr.Warnings, why)
		}
	}
	return nil
}

// sameShape keeps the input's shape element for element.
func sameShape(l *Layer, lr *LayerResult) *Error {
	lr.Output = lr.Inputs[0].Clone()
	return nil
}

// sameField keeps the input's receptive field.
func sameField(l *Layer, lr *LayerResult, rfs []*RF) (*RF, string) { return rfs[0], "" }

// softmaxShape keeps the shape; dim must be an axis.
func softmaxShape(l *Layer, lr *LayerResult) *Error {
	if _, err := normDim(l.Dim, len(lr.Inputs[0]), "dim"); err != nil {
		return err
	}
	return sameShape(l, lr)
}

// dropoutShape keeps the shape. dropout1d-3d zero whole channels of axis 1
// and warn on an input of another rank.
func dropoutShape(l *Layer, lr *LayerResult) *Error {
	x := lr.Inputs[0]
	if l.P < 0 || l.P > 1 {
		return errorf("p", "dropout probability has to be between 0 and 1, but got %s", fmtFloat(l.P))
	}
	if n := l.Type.Info().Rank; n > 0 && len(x) != n+2 {
		lr.Warnings = append(lr.Warnings, fmt.Sprintf("%s expects a %d-D input (N, C, %s), got %s; it zeroes whole channels of axis 1",
			l.Type, n+2, strings.Join(AxisNames(n), ", "), fmtShape(x)))
	}
	return sameShape(l, lr)
}

// needRank checks that a layer with n spatial axes gets (N, C, spatial...).
func needRank(l *Layer, x Shape, ranks ...int) *Error {
	for _, r := range ranks {
		if len(x) == r {
			return nil
		}
	}
	want := make([]string, len(ranks))
	for i, r := range ranks {
		want[i] = fmt.Sprintf("%d-D %s", r, rankLayout(r))
	}
	return errorf("", "%s expects a %s input, got %d-D %s", l.Type, strings.Join(want, " or "), len(x), fmtShape(x))
}

func rankLayout(r int) string {
	if r < 2 {
		return "(N)"
	}
	if r == 2 {
		return "(N, C)"
	}
	return "(N, C, " + strings.Join(AxisNames(r-2), ", ") + ")"
}

// normDim turns a PyTorch dim (negative counts from the end) into an index.
func normDim(d, rank int, arg string) (int, *Error) {
	if d < -rank || d >= rank {
		return 0, errorf(arg, "dimension out of range (expected to be in range of [%d, %d], but got %d)", -rank, rank-1, d)
	}
	if d < 0 {
		d += rank
	}
	return d, nil
}

func fmtShape(s Shape) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = fmt.Sprint(v)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func checkInput(in Shape) *Error {
	if len(in) < 2 {
		return &Error{Node: Input, Arg: "input", Msg: fmt.Sprintf("input %s needs at least the channel axis", fmtShape(in))}
	}
	for _, v := range in {
		if v < 1 || v > MaxDim {
			return &Error{Node: Input, Arg: "input", Msg: fmt.Sprintf("input %s: every size must be between 1 and %s", fmtShape(in), Group(MaxDim))}
		}
	}
	if _, err := in.Elements(); err != nil {
		return &Error{Node: Input, Arg: "input", Msg: fmt.Sprintf("input %s has more elements than int64 holds", fmtShape(in))}
	}
	return nil
}

// checkDims bounds every axis of a computed shape by MaxDim.
func checkDims(s Shape) *Error {
	for i, v := range s {
		if v > MaxDim {
			return errorf("", "output %s: axis %d exceeds the limit %s", fmtShape(s), i, Group(MaxDim))
		}
	}
	return nil
}

// checkLimits bounds the integer arguments of a layer by MaxArg, so that no
// formula can overflow.
func checkLimits(l *Layer) *Error {
	for _, a := range []struct {
		name string
		v    []int64
	}{{"out", []int64{l.Out}}, {"in", []int64{l.In}}, {"kernel", l.Kernel}, {"stride", l.Stride},
		{"padding", l.Padding}, {"dilation", l.Dilation}, {"output_padding", l.OutputPadding},
		{"groups", []int64{l.Groups}}, {"output", l.OutputSize}, {"padding", l.Pad}, {"size", l.Size}, {"shape", l.NormShape},
		{"num_parameters", []int64{l.NumParams}}, {"chunks", []int64{l.Chunks}}, {"index", []int64{l.Index}},
		{"size", []int64{l.SplitSize}}, {"sections", l.Sections}, {"dims", l.Perm}} {
		for _, v := range a.v {
			if v > MaxArg || v < -MaxArg {
				return errorf(a.name, "%s %s %d is beyond the limit %s", l.Type, a.name, v, Group(MaxArg))
			}
		}
	}
	return nil
}

// Infer computes one layer's output shape (batch first) from its inputs'
// shapes as Analyze does for a node, rejecting what PyTorch rejects;
// front ends that build a network layer by layer (the ONNX reader) use it.
func Infer(l *Layer, inputs []Shape) (Shape, error) {
	if len(inputs) == 0 {
		return nil, errorf("", "the layer has no input")
	}
	for _, in := range inputs {
		if err := checkDims(in); err != nil {
			return nil, err
		}
	}
	if err := checkLimits(l); err != nil {
		return nil, err
	}
	info := l.Type.Info()
	if info.Shape == nil {
		return nil, errorf("", "unknown layer type %q", l.Type)
	}
	if !info.Merge && len(inputs) != 1 && !(info.SizeInput && len(inputs) == 2) {
		return nil, errorf("from", "%s takes one input, got %d", l.Type, len(inputs))
	}
	lr := &LayerResult{Inputs: inputs}
	if err := info.Shape(l, lr); err != nil {
		return nil, err
	}
	if err := checkDims(lr.Output); err != nil {
		return nil, err
	}
	return lr.Output, nil
}
