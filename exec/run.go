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
}

// Forward runs the plan on x with the given tensors (from Init or a
// checkpoint), in eval mode.
func (p *Plan) Forward(params []Weights, x *Tensor, opt Options) (*Run, error) {
	if want := toInts(p.Net.Input); !slices.Equal(x.Shape, want) {
		return nil, fmt.Errorf("input is %v, the network takes %v", x.Shape, want)
	}
	nodes := p.Net.Nodes
	res := &Run{Layers: make([]LayerRun, len(nodes))}
	outs := make([]*Tensor, len(nodes))
	start := time.Now()
	for i := range nodes {
		n := &nodes[i]
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
		out, err := p.layer(i, &params[i], ins, &st)
		if err != nil {
			return nil, fmt.Errorf("node %d (%s): %w", i+1, n.Name, err)
		}
		outs[i] = out
		res.Layers[i] = LayerRun{Shape: out.Shape, MACs: st.MACs, Seconds: time.Since(t0).Seconds()}
		if !opt.KeepAll {
			for _, f := range n.From {
				if f != calc.Input && p.lastUse[f] == i {
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
