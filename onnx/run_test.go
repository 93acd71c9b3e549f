package onnx

import (
	"fmt"
	"math"
	"os"

	"github.com/cnncalc/cnncalc/exec"
	"github.com/cnncalc/cnncalc/onnx/onnxpb"
	"github.com/cnncalc/cnncalc/spec"
	"google.golang.org/protobuf/proto"
)

// runModel converts m for x's shape, analyses the spec the conversion
// writes, and runs it through exec with the model's weights.
func runModel(m *Model, x *exec.Tensor) (*exec.Tensor, *spec.Analysis, error) {
	in := make([]int64, len(x.Shape)-1)
	for i, d := range x.Shape[1:] {
		in[i] = int64(d)
	}
	net, err := Convert(m, Options{Batch: int64(x.Shape[0]), Input: in})
	if err != nil {
		return nil, nil, err
	}
	s, err := spec.Parse(m.File, net.YAML(m.File))
	if err != nil {
		return nil, nil, fmt.Errorf("the converted spec does not parse: %v\n%s", err, net.YAML(m.File))
	}
	a, err := s.Evaluate(0, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("the converted spec does not analyse: %v", err)
	}
	plan, err := exec.NewPlan(&a.Net)
	if err != nil {
		return nil, nil, err
	}
	w, err := net.Weights(m)
	if err != nil {
		return nil, nil, err
	}
	if err := exec.CheckWeights(plan, w, func(i int) string { return a.Net.Nodes[i].Name }); err != nil {
		return nil, nil, err
	}
	run, err := plan.Forward(w, x, exec.Options{})
	if err != nil {
		return nil, nil, err
	}
	return run.Output, a, nil
}

// readTensorPB reads a TensorProto file (ONNX's test data).
func readTensorPB(path string) (*onnxpb.TensorProto, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t := &onnxpb.TensorProto{}
	if err := proto.Unmarshal(data, t); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return t, nil
}

// tensorOf reads a TensorProto as a float32 tensor.
func tensorOf(m *Model, t *onnxpb.TensorProto) (*exec.Tensor, error) {
	v, err := m.Floats(t)
	if err != nil {
		return nil, err
	}
	shape := make([]int, len(t.Dims))
	for i, d := range t.Dims {
		shape[i] = int(d)
	}
	return exec.FromData(v, shape...), nil
}

// maxDiff is the largest absolute difference, and the largest relative
// to the reference's largest magnitude.
func maxDiff(got, want *exec.Tensor) (abs, rel float64) {
	scale := 0.0
	for i := range want.Data {
		scale = math.Max(scale, math.Abs(float64(want.Data[i])))
		abs = math.Max(abs, math.Abs(float64(got.Data[i]-want.Data[i])))
	}
	return abs, abs / math.Max(scale, 1e-30)
}
