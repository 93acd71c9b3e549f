package exec

import (
	"fmt"
	"slices"
	"time"

	"github.com/cnncalc/cnncalc/calc"
)

// LayerRun is what running one node did.
type LayerRun struct {
	Shape   []int   // the output shape the kernels produced
	MACs    int64   // multiply-accumulates the kernels performed
	Seconds float64 // wall time of the node
	// Head is, for a node a fused chain absorbed (prepare.go), the index
	// of the chain's first node, whose kernel computed this node's output
	// and whose Seconds include it; -1 for a node that ran its own kernel.
	Head int
}

// Run is a forward pass.
type Run struct {
	Layers  []LayerRun
	Output  *Tensor
	Seconds float64
	// Outputs holds every node's output when Options.KeepAll is set.
	Outputs []*Tensor
}

// Options steer a forward pass.
type Options struct {
	// KeepAll keeps every node's output instead of freeing each after its
	// last use.
	KeepAll bool
	// Progress, when set, is called after each node.
	Progress func(done, total int, name string)
	// NoFuse runs every node with its own kernel: no batchnorm folded into
	// the conv before it, no activation in a GEMM's write-back (see
	// prepare.go). KeepAll implies it.
	NoFuse bool
}

// Forward runs the plan on x with the given tensors (from Init or a
// checkpoint), in eval mode, fusing chains (prepare.go) unless opt says
// not to.
func (p *Plan) Forward(params []Weights, x *Tensor, opt Options) (*Run, error) {
	return p.forward(params, x, opt, nil)
}

// forward is Forward, with the heads' tensors from q when it is not nil
// (Prepared.Forward), else folded and packed node by node.
func (p *Plan) forward(params []Weights, x *Tensor, opt Options, q *Prepared) (*Run, error) {
	if want := toInts(p.Net.Input); !slices.Equal(x.Shape, want) {
		return nil, fmt.Errorf("input is %v, the network takes %v", x.Shape, want)
	}
	if len(params) != len(p.Net.Nodes) {
		return nil, fmt.Errorf("%d tensor sets for %d nodes", len(params), len(p.Net.Nodes))
	}
	nodes := p.Net.Nodes
	fuse := !opt.KeepAll && !opt.NoFuse
	var fs []fusion
	switch {
	case fuse && q != nil:
		fs = q.fs
	case fuse:
		fs = p.fusions(params)
	default:
		fs = make([]fusion, len(nodes))
		for i := range fs {
			fs[i] = fusion{head: -1, tail: i, bn: -1}
		}
	}
	res := &Run{Layers: make([]LayerRun, len(nodes))}
	outs := make([]*Tensor, len(nodes))
	var ar *arena
	if !opt.KeepAll {
		ar = newArena()
	}
	start := time.Now()
	for i := range nodes {
		n := &nodes[i]
		f := &fs[i]
		if f.head >= 0 {
			// Absorbed by the chain of node f.head, which wrote its output.
			res.Layers[i] = LayerRun{Shape: p.Shapes[i], Head: f.head}
			if opt.Progress != nil {
				opt.Progress(i+1, len(nodes), n.Name)
			}
			continue
		}
		ins := make([]*Tensor, len(n.From))
		for k, f := range n.From {
			if f == calc.Input {
				ins[k] = x
			} else {
				ins[k] = outs[f]
			}
		}
		var st Stats
		t0 := time.Now()
		var out *Tensor
		var err error
		if n.Type == calc.Add && f.clamp {
			out = ar.alloc(p.Shapes[i], false)
			addClamp(out, ins, f.lo, f.hi)
		} else if fusable(n.Type) && params[i].Weight != nil {
			var op *convOp
			if fuse && q != nil {
				op = q.ops[i]
			} else {
				op, err = p.headOp(i, f, params, false)
			}
			if err == nil {
				out, err = p.runHead(ar, i, op, ins, &st)
			}
		} else {
			out, err = p.layerIn(ar, i, &params[i], ins, &st)
		}
		if err != nil {
			return nil, fmt.Errorf("node %d (%s): %w", i+1, n.Name, err)
		}
		outs[f.tail] = out
		res.Layers[i] = LayerRun{Shape: out.Shape, MACs: st.MACs, Seconds: time.Since(t0).Seconds(), Head: -1}
		if ar != nil {
			ar.produced(out, ins)
			for _, f := range n.From {
				if f != calc.Input && p.lastUse[f] == i {
					ar.release(outs[f])
					outs[f] = nil
				}
			}
		}
		if opt.Progress != nil {
			opt.Progress(i+1, len(nodes), n.Name)
		}
	}
	res.Seconds = time.Since(start).Seconds()
	if len(nodes) > 0 {
		res.Output = outs[len(nodes)-1]
	} else {
		res.Output = x
	}
	if opt.KeepAll {
		res.Outputs = outs
	}
	return res, nil
}

// runHead runs conv or linear node i with its prepared op.
func (p *Plan) runHead(ar *arena, i int, op *convOp, ins []*Tensor, st *Stats) (*Tensor, error) {
	if len(ins) != 1 || ins[0] == nil {
		return nil, fmt.Errorf("%s takes one input", p.Net.Nodes[i].Type)
	}
	// The GEMM writes every element: no zeroing (ar nil: New).
	out := ar.alloc(p.Shapes[i], false)
	if p.Net.Nodes[i].Type == calc.Linear {
		linearRun(out, ins[0], op, st)
	} else {
		convRun(out, ins[0], op, p.geom[i], st)
	}
	return out, nil
}

// UpsampleMode runs Upsample with the layer's mode and align_corners.
func UpsampleMode(out, x *Tensor, l *calc.Layer, scale []float64) {
	mode := l.Mode
	if mode == "" {
		mode = "nearest"
	}
	Upsample(out, x, mode, l.AlignCorners != nil && *l.AlignCorners, scale)
}

func poolStride(l *calc.Layer, nsp int) []int {
	if len(l.Stride) == 0 {
		return perAxis(l.Kernel, nsp, 1)
	}
	return perAxis(l.Stride, nsp, 1)
}

func data(t *Tensor) []float32 {
	if t == nil {
		return nil
	}
	return t.Data
}
