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
	{"groupnorm", "input: [6, 5, 4]\nlayers:\n  - conv2d: {out: 6, kernel: 1}\n  - groupnorm: {groups: 3}\n  - conv2d: {out: 6, kernel: 1}"},
	{"instancenorm", "input: [6, 5, 4]\nlayers:\n  - conv2d: {out: 6, kernel: 1}\n  - instancenorm2d: {affine: true}\n  - conv2d: {out: 6, kernel: 1}\n  - instancenorm2d: {track_running_stats: true}\n  - conv2d: {out: 6, kernel: 1}"},
	{"layernorm2d", "input: [6, 5, 4]\nlayers:\n  - conv2d: {out: 6, kernel: 1}\n  - layernorm2d\n  - conv2d: {out: 6, kernel: 1}"},
	{"layernorm", "input: [6, 5, 4]\nlayers:\n  - conv2d: {out: 6, kernel: 1}\n  - layernorm: [5, 4]\n  - conv2d: {out: 6, kernel: 1}\n  - permute: [0, 2, 3, 1]\n  - layernorm: 6\n  - linear: 3"},
	{"softmax", "input: [6, 5, 4]\nlayers:\n  - conv2d: {out: 6, kernel: 1}\n  - softmax: 1\n  - conv2d: {out: 6, kernel: 1}\n  - logsoftmax: 2\n  - conv2d: {out: 3, kernel: 1}"},
	{"upsample", `input: [3, 5, 4]
layers:
  - upsample: {scale: 2, mode: nearest}
  - conv2d: {out: 2, kernel: 1}
  - upsample: {size: [7, 9], mode: bilinear, align_corners: false}
  - upsample: {scale: 1.5, mode: bicubic, align_corners: true}
  - upsample: {size: [6, 5], mode: nearest-exact}`},
	{"upsample1d3d", `input: [2, 3, 4, 5]
layers:
  - upsample: {scale: [2, 1, 2], mode: trilinear}
  - conv3d: {out: 1, kernel: 1}
  - upsample: {scale: 2, mode: nearest}`},
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
				// Every weight and bias off its init (norms start at 1
				// and 0, which would hide a missing factor).
				if w := params[i].Weight; w != nil {
					for j := range w.Data {
						w.Data[j] *= 0.5 + r.Float32()
					}
				}
				if b := params[i].Bias; b != nil {
					for j := range b.Data {
						b.Data[j] += r.Float32() - 0.5
					}
				}
				if w := params[i].Var; w != nil {
					for j := range w.Data {
						w.Data[j] = 0.5 + r.Float32()
						params[i].Mean.Data[j] = r.Float32() - 0.5
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
			f := func(v *exec.Tensor, eps float64) float64 {
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
			// Two directions: a random one, where terms cancel and float32
			// rounding limits the check to 2%, and the gradient itself
			// (scaled to norm 1), where none cancel: there a wrong gradient
			// g' gives |g'|^2 against the true <g, g'>, checked to 0.2%.
			var norm float64
			for _, g := range gx.Data {
				norm += float64(g) * float64(g)
			}
			along := exec.New(x.Shape...)
			for j, g := range gx.Data {
				along.Data[j] = float32(float64(g) / math.Sqrt(max(norm, 1e-30)))
			}
			for _, d := range []struct {
				name string
				v    *exec.Tensor
				tol  float64
			}{{"random", v, 2e-2}, {"gradient", along, 5e-3}} { // 5e-3: the portable (non-FMA) GEMM kernel's rounding reached 4e-3 on "activations"
				var analytic float64
				for j := range gx.Data {
					analytic += float64(gx.Data[j]) * float64(d.v.Data[j])
				}
				// Central differences at several steps, the best of them:
				// a large step loses to curvature and kinks (relu, max
				// pool), a small one to float32 rounding.
				best, bestNum := math.Inf(1), 0.0
				for _, eps := range []float64{3e-2, 1e-2, 3e-3, 1e-3, 3e-4} {
					numeric := (f(d.v, eps) - f(d.v, -eps)) / (2 * eps)
					if e := math.Abs(numeric - analytic); e < best {
						best, bestNum = e, numeric
					}
				}
				if best > d.tol*max(1e-2, math.Abs(bestNum)) {
					t.Errorf("%s direction: <grad, v> = %.6g, finite differences %.6g (difference %.3g)", d.name, analytic, bestNum, best)
				}
			}
		})
	}
}

// A setting without a backward pass (batch statistics) is named in the
// error.
func TestBackwardUnavailable(t *testing.T) {
	s, err := spec.Parse("bn.yaml", []byte("input: [3, 4, 4]\nlayers:\n  - conv2d: {out: 2, kernel: 1}\n  - batchnorm2d: {track_running_stats: false}\n  - relu\n"))
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
	if err == nil || !strings.Contains(err.Error(), "effective field not available for batchnorm2d with batch statistics") {
		t.Errorf("error %v, want one naming batchnorm2d", err)
	}
	// Every kind has a backward pass (a new kind needs one).
	for op := calc.Op(1); int(op) < calc.NumOps; op++ {
		if !exec.BackwardAvailable(op) {
			t.Errorf("%s has no backward pass", op)
		}
	}
}
