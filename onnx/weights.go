package onnx

import (
	"fmt"

	"github.com/cnncalc/cnncalc/exec"
	"github.com/cnncalc/cnncalc/onnx/onnxpb"
)

// Weights reads the state_dict of every item from the model, in the
// layouts PyTorch holds them (a MatMul's weight transposed). Only the
// tensors the items use are read.
func (net *Net) Weights(m *Model) ([]exec.Weights, error) {
	out := make([]exec.Weights, len(net.Items))
	// Exporters share one initializer between parameters of equal values
	// (torch.onnx's Identity nodes): read each once.
	cache := map[*onnxpb.TensorProto][]float32{}
	for i, it := range net.Items {
		for k, p := range it.Params {
			if p == nil {
				continue
			}
			t, err := p.read(m, cache)
			if err != nil {
				return nil, fmt.Errorf("%s: layer %s (%s), %s: %w", m.File, it.Name, it.Layer.Type, exec.TensorNames[k], err)
			}
			*out[i].Slot(k) = t
		}
	}
	return out, nil
}

// HasWeights says whether the model holds the data of every parameter
// (an export with export_params=False holds none).
func (net *Net) HasWeights() bool {
	for _, it := range net.Items {
		for _, p := range it.Params {
			if p != nil && p.NoData {
				return false
			}
		}
	}
	return true
}

func (p *Param) read(m *Model, cache map[*onnxpb.TensorProto][]float32) (*exec.Tensor, error) {
	if p.NoData {
		return nil, ErrNoData
	}
	vals := p.Values
	if p.Tensor != nil {
		if c := cache[p.Tensor]; c != nil {
			// A copy: exec and fold may change a layer's tensors.
			vals = append([]float32(nil), c...)
		} else {
			var err error
			if vals, err = m.Floats(p.Tensor); err != nil {
				return nil, err
			}
			cache[p.Tensor] = vals
		}
	}
	n := int64(1)
	shape := make([]int, len(p.Shape))
	for i, d := range p.Shape {
		n *= d
		shape[i] = int(d)
	}
	if int64(len(vals)) != n {
		return nil, fmt.Errorf("the tensor holds %d values, PyTorch's shape %v needs %d", len(vals), p.Shape, n)
	}
	if p.Transpose {
		// Stored (in, out); PyTorch holds (out, in).
		out, in := shape[0], shape[1]
		t := make([]float32, len(vals))
		for o := range out {
			for i := range in {
				t[o*in+i] = vals[i*out+o]
			}
		}
		vals = t
	}
	if p.Scale != 0 && p.Scale != 1 {
		if !p.Transpose {
			vals = append([]float32(nil), vals...) // the cache's, or Values: not scaled twice
		}
		for i := range vals {
			vals[i] *= p.Scale
		}
	}
	return exec.FromData(vals, shape...), nil
}
