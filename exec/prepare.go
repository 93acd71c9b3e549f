package exec

import (
	"fmt"
	"math"

	"github.com/cnncalc/cnncalc/calc"
)

// Fusion at inference, as PyTorch's inference paths do it. Before a
// forward pass the plan looks for chains
//
//	conv -> batchnorm (eval, running statistics) -> ReLU | ReLU6 | Hardtanh
//
// in which each node is the only reader of the one before, and runs each
// chain as one GEMM whose write-back (epilogue) adds the bias and clamps
// to the activation. Which batchnorm folds is calc.DecideFolds' decision,
// the one cnncalc fold makes. A Prepared folds it into the conv's weights
// and bias (FoldBatchNorm, fold's arithmetic) and packs the weights into
// the GEMM's panels once; a single pass, which reads each weight once,
// scales each output channel in the write-back instead (BatchNormAffine's
// s and t, the same arithmetic). A linear layer takes the batchnorm after
// it into its weights, and its activation in its write-back; a residual
// add takes the activation after it into its own loop. The nodes a chain absorbs
// still report their output shape (the chain's own, which they keep), the
// multiply-accumulates their kernels would count (none) and no time of
// their own: the chain's time is its first node's. Options.KeepAll, which
// asks for every node's own output, turns fusion off; Options.NoFuse too.

// fusion is a node's part in a fused chain.
type fusion struct {
	// head is the chain's first node (a conv, linear layer or add) for a
	// node the chain absorbs, -1 for the head and for nodes outside chains.
	head int
	// tail is, for a head, the chain's last node, whose output the head
	// writes; the node itself otherwise.
	tail int
	// bn is the batchnorm folded into a head, -1 for none.
	bn int
	// clamp, lo, hi: the activation fused into a head's write-back.
	clamp  bool
	lo, hi float32
}

// fusions finds the chains of the plan (the package comment above);
// params are the tensors the run uses (a batchnorm without running
// statistics does not fold).
func (p *Plan) fusions(params []Weights) []fusion {
	nodes := p.Net.Nodes
	fs := make([]fusion, len(nodes))
	readers := make([]int, len(nodes))
	for i := range nodes {
		fs[i] = fusion{head: -1, tail: i, bn: -1}
		for _, f := range nodes[i].From {
			if f != calc.Input {
				readers[f]++
			}
		}
	}
	// calc's decision needs the layers' shapes: exec's own.
	res := &calc.Result{Layers: make([]calc.LayerResult, len(nodes))}
	for i := range nodes {
		res.Layers[i].Output = calc.ShapeOf(p.Shapes[i])
		for _, s := range p.Inputs(i) {
			res.Layers[i].Inputs = append(res.Layers[i].Inputs, calc.ShapeOf(s))
		}
	}
	for _, d := range calc.DecideFolds(p.Net, res) {
		h := d.Into
		if !d.Folds() || d.Forward || !fusable(nodes[h].Type) || fs[h].bn >= 0 || params[d.Norm].Mean == nil {
			continue
		}
		fs[h].bn, fs[h].tail = d.Norm, d.Norm
		fs[d.Norm].head = h
	}
	for h := range nodes {
		if !fusable(nodes[h].Type) && nodes[h].Type != calc.Add || fs[h].head >= 0 {
			continue
		}
		t := fs[h].tail
		if readers[t] != 1 || t+1 >= len(nodes) {
			continue
		}
		// The activation is the tail's only reader; nodes run in order,
		// and a chain is consecutive nodes in every network the spec
		// builds, so it is the next one.
		a := &nodes[t+1]
		if len(a.From) != 1 || a.From[0] != t {
			continue
		}
		lo, hi, ok := clampOf(&a.Layer)
		if !ok {
			continue
		}
		fs[h].tail, fs[h].clamp, fs[h].lo, fs[h].hi = t+1, true, lo, hi
		fs[t+1].head = h
	}
	return fs
}

// fusable are the kinds that head a chain.
func fusable(op calc.Op) bool { return isConv(op) || op == calc.Linear }

// clampOf is the interval an activation clamps to, when it is a clamp.
func clampOf(l *calc.Layer) (lo, hi float32, ok bool) {
	inf := float32(math.Inf(1))
	switch l.Type {
	case calc.ReLU:
		return 0, inf, true
	case calc.ReLU6:
		return 0, 6, true
	case calc.Hardtanh:
		return float32(l.MinVal), float32(l.MaxVal), true
	}
	return 0, 0, false
}

// headOp makes the convOp of head h with the chain's batchnorm and
// clamp. For a Prepared (keep) the batchnorm is folded into the weights
// (FoldBatchNorm) and a conv's weights are packed for the GEMM, once; for
// a single pass a conv's GEMM scales its output channels in the
// write-back instead (BatchNormAffine's s, and bias b*s + t), and its
// weights are packed for this node only, or block by block as the GEMM
// goes where it would pack them only once anyway (packsOften).
func (p *Plan) headOp(h int, f *fusion, params []Weights, keep bool) (*convOp, error) {
	w := &params[h]
	l := &p.Net.Nodes[h].Layer
	op := &convOp{w: w.Weight, bias: data(w.Bias), clamp: f.clamp, lo: f.lo, hi: f.hi}
	if f.bn >= 0 {
		bn, bnw := &p.Net.Nodes[f.bn].Layer, &params[f.bn]
		if keep || !isConv(l.Type) {
			fw, err := FoldBatchNorm(l, w, bn, bnw)
			if err != nil {
				return nil, err
			}
			w = &fw
			op.w, op.bias = fw.Weight, fw.Bias.Data
		} else {
			scale, shift, err := BatchNormAffine(bn, bnw)
			if err != nil {
				return nil, err
			}
			if len(scale) != w.Weight.Shape[0] {
				return nil, fmt.Errorf("%s has %d output channels, %s normalises %d", l.Type, w.Weight.Shape[0], bn.Type, len(scale))
			}
			op.scale, op.bias = make([]float32, len(scale)), make([]float32, len(scale))
			for c := range scale {
				b := 0.0
				if w.Bias != nil {
					b = float64(w.Bias.Data[c])
				}
				op.scale[c], op.bias[c] = float32(scale[c]), float32(b*scale[c]+shift[c])
			}
		}
	}
	in := p.Inputs(h)[0]
	if g := p.geom[h]; (keep || packsOften(in[0], g)) && g != nil && isConv(l.Type) && !depthwise(in[1], g) {
		cog := w.Weight.Shape[0] / g.Groups
		k := int(numel(w.Weight.Shape[1:]))
		op.a = make([]operand, g.Groups)
		for gr := range op.a {
			op.a[gr] = pack(&dense{data: w.Weight.Data[gr*cog*k:], ld: k, w: gemmMR}, cog, k, gemmMR)
		}
	}
	return op, nil
}

// packsOften reports whether a single pass's GEMMs would pack a conv's
// weights more than once each (one GEMM an image, one packing of op(A) a
// block of gemmNC output positions): then packing them once first costs
// less.
func packsOften(images int, g *ConvGeom) bool {
	if g == nil {
		return false
	}
	p := g.OutShape[0] * g.OutShape[1] * g.OutShape[2]
	return images > 1 || p > gemmNC
}

// Prepared is a plan with its tensors made ready for forward passes: the
// chains found and folded, the conv weights packed, once. Forward on a
// Plan prepares as it goes and drops each node's packed weights after
// the node; a Prepared keeps them (about one more copy of the conv
// weights in memory) for runs after the first.
type Prepared struct {
	plan   *Plan
	params []Weights
	fs     []fusion
	ops    []*convOp // per head, with the tensors it runs with
}

// Prepare folds and packs params for repeated forward passes. The
// tensors must not change while the Prepared is in use.
func (p *Plan) Prepare(params []Weights) (*Prepared, error) {
	if len(params) != len(p.Net.Nodes) {
		return nil, fmt.Errorf("%d tensor sets for %d nodes", len(params), len(p.Net.Nodes))
	}
	q := &Prepared{plan: p, params: params, fs: p.fusions(params), ops: make([]*convOp, len(params))}
	for h := range q.fs {
		if q.fs[h].head >= 0 || !fusable(p.Net.Nodes[h].Type) || params[h].Weight == nil {
			continue
		}
		op, err := p.headOp(h, &q.fs[h], params, true)
		if err != nil {
			return nil, fmt.Errorf("node %d (%s): %w", h+1, p.Net.Nodes[h].Name, err)
		}
		q.ops[h] = op
	}
	return q, nil
}

// Forward runs the prepared plan on x (see Plan.Forward).
func (q *Prepared) Forward(x *Tensor, opt Options) (*Run, error) {
	return q.plan.forward(q.params, x, opt, q)
}
