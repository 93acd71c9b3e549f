package exec

import (
	"fmt"
	"strings"
	"time"

	"github.com/cnncalc/cnncalc/calc"
)

// LayerRun is what running one node did.
type LayerRun struct {
	Shape   []int   // the output shape the kernels produced
	MACs    int64   // multiply-accumulates the kernels performed
	Seconds float64 // wall time of the node
}

// Result is a forward pass.
type Result struct {
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
func (p *Plan) Forward(params []Params, x *Tensor, opt Options) (*Result, error) {
	if want := toInts(p.Net.Input); fmt.Sprint(x.Shape) != fmt.Sprint(want) {
		return nil, fmt.Errorf("input is %v, the network takes %v", x.Shape, want)
	}
	nodes := p.Net.Nodes
	res := &Result{Layers: make([]LayerRun, len(nodes))}
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

// layer runs node i on its inputs.
func (p *Plan) layer(i int, w *Params, ins []*Tensor, st *Stats) (*Tensor, error) {
	l := &p.Net.Nodes[i].Layer
	x := ins[0]
	out := New(p.Shapes[i]...)
	nsp := len(x.Shape) - 2
	t := l.Type
	switch {
	case strings.HasPrefix(t, "convtranspose"):
		ConvTranspose(out, x, w.Weight, w.Bias, p.geom[i], st)
	case strings.HasPrefix(t, "conv"):
		Conv(out, x, w.Weight, w.Bias, p.geom[i], st)
	case strings.HasPrefix(t, "maxpool"):
		MaxPool(out, x, perAxis(l.Kernel, nsp, 1), poolStride(l, nsp), perAxis(l.Padding, nsp, 0), perAxis(l.Dilation, nsp, 1))
	case strings.HasPrefix(t, "avgpool"):
		AvgPool(out, x, perAxis(l.Kernel, nsp, 1), poolStride(l, nsp), perAxis(l.Padding, nsp, 0), l.CountIncludePad)
	case strings.HasPrefix(t, "adaptiveavgpool"):
		AdaptiveAvgPool(out, x)
	case strings.HasPrefix(t, "adaptivemaxpool"):
		AdaptiveMaxPool(out, x)
	case t == "linear":
		Linear(out, x, w.Weight, w.Bias, st)
	case t == "flatten", t == "identity", strings.HasPrefix(t, "dropout"):
		// Dropout is the identity in eval mode; flatten is a reshape.
		return x.Reshape(p.Shapes[i]...), nil
	case strings.HasPrefix(t, "batchnorm"):
		if w.Mean == nil {
			// Without running statistics PyTorch normalises with the
			// batch's own, even in eval mode.
			BatchNormTrain(out, x, nil, nil, data(w.Weight), data(w.Bias), float32(l.Eps), float32(l.Momentum))
			break
		}
		BatchNorm(out, x, w.Mean.Data, w.Var.Data, data(w.Weight), data(w.Bias), float32(l.Eps))
	case strings.HasPrefix(t, "instancenorm"):
		InstanceNorm(out, x, data(w.Mean), data(w.Var), data(w.Weight), data(w.Bias), float32(l.Eps))
	case t == "layernorm":
		size := int(numel(x.Shape[1:]))
		if l.NormShape != nil {
			size = int(numel(toInts(l.NormShape)))
		}
		LayerNorm(out, x, size, data(w.Weight), data(w.Bias), float32(l.Eps))
	case t == "groupnorm":
		GroupNorm(out, x, int(l.Groups), data(w.Weight), data(w.Bias), float32(l.Eps))
	case t == "relu":
		ReLU(out, x)
	case t == "relu6":
		ReLU6(out, x)
	case t == "leakyrelu":
		LeakyReLU(out, x, float32(l.NegativeSlope))
	case t == "elu":
		ELU(out, x, float32(l.Alpha))
	case t == "gelu":
		GELU(out, x, l.Approximate == "tanh")
	case t == "silu":
		SiLU(out, x)
	case t == "sigmoid":
		Sigmoid(out, x)
	case t == "tanh":
		Tanh(out, x)
	case t == "hardswish":
		Hardswish(out, x)
	case t == "hardsigmoid":
		Hardsigmoid(out, x)
	case t == "softmax":
		d := l.Dim
		if d < 0 {
			d += len(x.Shape)
		}
		Softmax(out, x, d)
	case strings.HasPrefix(t, "zeropad"):
		ZeroPad(out, x, zeroPadList(l, nsp))
	case t == "upsample":
		var scale []float64
		if len(l.Size) == 0 {
			scale = make([]float64, nsp)
			for a := range scale {
				scale[a] = l.Scale[0]
				if len(l.Scale) > 1 {
					scale[a] = l.Scale[a]
				}
			}
		}
		UpsampleMode(out, x, l, scale)
	case t == "add":
		Add(out, ins...)
	case t == "concat":
		d := l.Dim
		if d < 0 {
			d += len(x.Shape)
		}
		Concat(out, d, ins...)
	default:
		return nil, fmt.Errorf("no kernel for %s", t)
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

// RunNode runs node i alone on the given inputs into out (for benchmarks).
func (p *Plan) RunNode(i int, w *Params, ins []*Tensor, out *Tensor) error {
	got, err := p.layer(i, w, ins, nil)
	if err != nil {
		return err
	}
	copy(out.Data, got.Data)
	return nil
}
