package exec_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/exec"
	"github.com/cnncalc/cnncalc/spec"
)

// backwardCases hold every kind with a backward pass, in small networks
// whose input gradient TestBackwardFiniteDifferences checks.
var backwardCases = []struct{ name, yaml string }{
	{"conv2d", `input: [4, 9, 9]
layers:
  - conv2d: {out: 6, kernel: 3, stride: 2, padding: 2, dilation: 2, groups: 2}
  - conv2d: {out: 6, kernel: 3, padding: 1, groups: 6}
  - conv2d: {out: 3, kernel: 1}`},
	{"conv1d_3d", `input: [2, 5, 6, 7]
layers:
  - conv3d: {out: 3, kernel: [2, 3, 3], stride: [1, 2, 1], padding: 1}
  - maxpool3d: {kernel: 2, stride: 1}
  - avgpool3d: {kernel: 2, padding: 1}
  - adaptiveavgpool3d: [2, 2, 1]
  - flatten
  - linear: 5`},
	{"conv1d", `input: [3, 17]
layers:
  - conv1d: {out: 4, kernel: 4, stride: 3, padding: 1}
  - batchnorm1d
  - maxpool1d: {kernel: 3, stride: 2, ceil_mode: true}
  - avgpool1d: {kernel: 2}
  - zeropad1d: [2, 1]
  - dropout1d: 0.5`},
	{"convtranspose2d", `input: [4, 5, 6]
layers:
  - convtranspose2d: {out: 6, kernel: 3, stride: 2, padding: 1, output_padding: 1, groups: 2}`},
	{"convtranspose_dil", `input: [4, 5, 6]
layers:
  - convtranspose2d: {out: 2, kernel: 2, stride: 1, dilation: 2}`},
	{"convtranspose_relu", `input: [4, 5, 6]
layers:
  - convtranspose2d: {out: 6, kernel: 3, stride: 2, padding: 1, output_padding: 1, groups: 2}
  - relu`},
	{"pools", `input: [3, 11, 10]
layers:
  - maxpool2d: {kernel: 3, stride: 2, padding: 1, dilation: 2}
  - avgpool2d: {kernel: 3, stride: 2, padding: 1, count_include_pad: false, ceil_mode: true}
  - zeropad2d: [1, 2, 0, 3]
  - avgpool2d: {kernel: 2, stride: 1, padding: 1}
  - adaptivemaxpool2d: [3, 2]
  - adaptiveavgpool2d: [2, 1]`},
	{"activations", `input: [4, 6, 6]
layers:
  - batchnorm2d
  - relu6
  - conv2d: {out: 4, kernel: 1}
  - leakyrelu: 0.2
  - elu: 0.7
  - gelu
  - gelu: {approximate: tanh}
  - silu
  - sigmoid
  - tanh
  - hardswish
  - hardsigmoid
  - relu
  - identity
  - dropout
  - selu
  - celu: 0.5
  - softplus: {beta: 2, threshold: 1}
  - mish
  - hardtanh: {min_val: -0.5, max_val: 0.7}
  - prelu: 4
  - prelu
  - permute: [0, 2, 3, 1]
  - linear: 3
  - permute: [0, 3, 1, 2]`},
	{"merges", `input: [4, 8, 8]
layers:
  - residual:
      - conv2d: {out: 4, kernel: 3, padding: 1}
      - relu
  - concat:
      - [conv2d: {out: 2, kernel: 1}]
      - [chunk: {chunks: 2, index: 1}]
      - [split: {sections: [1, 3], index: 0}]
  - conv2d: {out: 6, kernel: 1}
  - channelshuffle: 3
  - gate:
      - adaptiveavgpool2d: 1
      - conv2d: {out: 6, kernel: 1}
      - sigmoid
  - layerscale: 0.5
  - stochasticdepth: {p: 0.2, mode: row}`},
}

// TestBackwardFiniteDifferences: for a random seed s on the output and a
// random direction v on the input, <Backward(s), v> equals the directional
// derivative of <s, f(x)> along v by central differences, in float64
// arithmetic on float32 passes.
func TestBackwardFiniteDifferences(t *testing.T) {
	for _, c := range backwardCases {
		t.Run(c.name, func(t *testing.T) {
			s, err := spec.Parse(c.name+".yaml", []byte(c.yaml))
			if err != nil {
				t.Fatal(err)
			}
			a, err := s.Evaluate(2, nil)
			if err != nil {
				t.Fatal(err)
			}
			p, err := exec.NewPlan(&a.Net)
			if err != nil {
				t.Fatal(err)
			}
			params := p.Init(1)
			r := rand.New(rand.NewPCG(7, 9))
			for i := range params {
				if w := params[i].Var; w != nil {
					for j := range w.Data {
						w.Data[j] = 0.5 + r.Float32()
						params[i].Mean.Data[j] = r.Float32() - 0.5
						params[i].Weight.Data[j] = 0.5 + r.Float32()
					}
				}
			}
			x := exec.New(toInts(a.Net.Input)...)
			v := exec.New(x.Shape...)
			for j := range x.Data {
				x.Data[j] = float32(r.NormFloat64())
				v.Data[j] = float32(r.NormFloat64())
			}
			last := len(a.Net.Nodes) - 1
			run, err := p.Forward(params, x, exec.Options{KeepAll: true})
			if err != nil {
				t.Fatal(err)
			}
			seed := exec.New(p.Shapes[last]...)
			for j := range seed.Data {
				seed.Data[j] = float32(r.NormFloat64())
			}
			gx, err := p.Backward(params, run, x, last, seed)
			if err != nil {
				t.Fatal(err)
			}
			var analytic float64
			for j := range gx.Data {
				analytic += float64(gx.Data[j]) * float64(v.Data[j])
			}
			f := func(eps float64) float64 {
				xe := exec.New(x.Shape...)
				for j := range xe.Data {
					xe.Data[j] = x.Data[j] + float32(eps)*v.Data[j]
				}
				out, err := p.Forward(params, xe, exec.Options{})
				if err != nil {
					t.Fatal(err)
				}
				var s float64
				for j := range out.Output.Data {
					s += float64(seed.Data[j]) * float64(out.Output.Data[j])
				}
				return s
			}
			const eps = 1e-4
			numeric := (f(eps) - f(-eps)) / (2 * eps)
			if d := math.Abs(numeric - analytic); d > 2e-2*max(1, math.Abs(numeric)) {
				t.Errorf("<grad, v> = %.6g, finite differences %.6g (difference %.3g)", analytic, numeric, d)
			}
		})
	}
}

// A kind without a backward pass is named in the error.
func TestBackwardUnavailable(t *testing.T) {
	s, err := spec.Parse("soft.yaml", []byte("input: [3, 4, 4]\nlayers:\n  - conv2d: {out: 2, kernel: 1}\n  - softmax: 1\n  - relu\n"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Evaluate(1, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := exec.NewPlan(&a.Net)
	params := p.Init(1)
	x := exec.New(toInts(a.Net.Input)...)
	run, err := p.Forward(params, x, exec.Options{KeepAll: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Backward(params, run, x, 2, exec.New(p.Shapes[2]...))
	if err == nil || !strings.Contains(err.Error(), "effective field not available for softmax") {
		t.Errorf("error %v, want one naming softmax", err)
	}
	// The kinds without a backward pass, so that a new kind makes a choice.
	without := map[calc.Op]bool{calc.Softmax: true, calc.LogSoftmax: true, calc.LayerNorm: true, calc.GroupNorm: true,
		calc.LayerNorm2d: true, calc.InstanceNorm1d: true, calc.InstanceNorm2d: true, calc.InstanceNorm3d: true, calc.Upsample: true}
	for op := calc.Op(1); int(op) < calc.NumOps; op++ {
		if exec.BackwardAvailable(op) == without[op] {
			t.Errorf("%s: backward available %v, want %v", op, exec.BackwardAvailable(op), !without[op])
		}
	}
}
