package exec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// unaryActs are the elementwise activations by the op names of act.json,
// with their parameters bound (from c where it has them).
func unaryAct(c torchNormCase) (func(out, x *Tensor), bool) {
	switch c.Op {
	case "relu":
		return ReLU, true
	case "relu6":
		return ReLU6, true
	case "sigmoid":
		return Sigmoid, true
	case "tanh":
		return Tanh, true
	case "silu":
		return SiLU, true
	case "hardswish":
		return Hardswish, true
	case "hardsigmoid":
		return Hardsigmoid, true
	case "leakyrelu":
		return func(out, x *Tensor) { LeakyReLU(out, x, c.Slope) }, true
	case "elu":
		return func(out, x *Tensor) { ELU(out, x, c.Alpha) }, true
	case "gelu":
		return func(out, x *Tensor) { GELU(out, x, c.Approx == "tanh") }, true
	}
	return nil, false
}

func TestActMatchesTorch(t *testing.T) {
	cases := loadTorchNormCases(t, "act.json", map[string]int{
		"relu": 1, "relu6": 1, "sigmoid": 1, "tanh": 1, "silu": 1, "hardswish": 1, "hardsigmoid": 1,
		"leakyrelu": 2, "elu": 2, "gelu": 2, "softmax": 3,
	})
	for _, c := range cases {
		x := FromData(c.X, c.Shape...)
		out := New(c.Shape...)
		if c.Op == "softmax" {
			dim := c.Dim
			if dim < 0 {
				dim += len(c.Shape)
			}
			Softmax(out, x, dim)
		} else if f, ok := unaryAct(c); ok {
			f(out, x)
		} else {
			t.Errorf("%s: unknown op %q", c.Name, c.Op)
			continue
		}
		checkTensor(t, c.Name, out.Data, c.Out, normTorchTol)
		// In place gives the same numbers.
		in := x.Clone()
		if c.Op == "softmax" {
			dim := (c.Dim + len(c.Shape)) % len(c.Shape)
			Softmax(in, in, dim)
		} else {
			f, _ := unaryAct(c)
			f(in, in)
		}
		checkTensor(t, c.Name+" in place", in.Data, out.Data, 0)
	}
}

// actInput spans -20..20 with the kinks (0, +-3, 6) hit exactly.
func actInput(r *rand.Rand) *Tensor {
	var v []float32
	for i := -200; i <= 200; i++ {
		v = append(v, float32(i)/10)
	}
	v = append(v, 0, float32(math.Copysign(0, -1)), 1e-7, -1e-7, 3, -3, 6, 50, -50, 100, -100)
	for range 100 {
		v = append(v, float32(5*r.NormFloat64()))
	}
	return FromData(v, 1, len(v))
}

func TestActMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	x := actInput(r)
	type act struct {
		name string
		fast func(out, x *Tensor)
		ref  func(v float64) float64
	}
	acts := []act{
		{"relu", ReLU, refActs["relu"]},
		{"relu6", ReLU6, refActs["relu6"]},
		{"sigmoid", Sigmoid, refActs["sigmoid"]},
		{"tanh", Tanh, refActs["tanh"]},
		{"silu", SiLU, refActs["silu"]},
		{"hardswish", Hardswish, refActs["hardswish"]},
		{"hardsigmoid", Hardsigmoid, refActs["hardsigmoid"]},
		{"gelu", func(out, x *Tensor) { GELU(out, x, false) }, refActs["gelu"]},
		{"gelu tanh", func(out, x *Tensor) { GELU(out, x, true) }, refActs["gelu_tanh"]},
		{"leakyrelu 0.01", func(out, x *Tensor) { LeakyReLU(out, x, 0.01) }, refLeakyReLU(float64(float32(0.01)))},
		{"leakyrelu 0.3", func(out, x *Tensor) { LeakyReLU(out, x, 0.3) }, refLeakyReLU(float64(float32(0.3)))},
		{"elu 1", func(out, x *Tensor) { ELU(out, x, 1) }, refELU(1)},
		{"elu 0.7", func(out, x *Tensor) { ELU(out, x, 0.7) }, refELU(float64(float32(0.7)))},
	}
	for _, a := range acts {
		got, want := New(x.Shape...), New(x.Shape...)
		a.fast(got, x)
		refUnary(want, x, a.ref)
		checkTensor(t, a.name, got.Data, want.Data, normRefTol)
		in := x.Clone()
		a.fast(in, in)
		checkTensor(t, a.name+" in place", in.Data, got.Data, 0)
	}
}

func TestActNaN(t *testing.T) {
	nan := float32(math.NaN())
	x := FromData([]float32{nan}, 1, 1)
	for _, c := range []torchNormCase{{Op: "relu"}, {Op: "relu6"}, {Op: "sigmoid"}, {Op: "tanh"}, {Op: "silu"},
		{Op: "hardswish"}, {Op: "hardsigmoid"}, {Op: "leakyrelu", Slope: 0.01}, {Op: "elu", Alpha: 1}, {Op: "gelu"}} {
		f, _ := unaryAct(c)
		out := New(1, 1)
		f(out, x)
		if v := out.Data[0]; v == v {
			t.Errorf("%s(NaN) = %v, want NaN as PyTorch", c.Op, v)
		}
	}
}

func TestSoftmaxMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for trial := range 100 {
		rank := 1 + r.IntN(4)
		shape := make([]int, rank)
		for a := range shape {
			shape[a] = 1 + r.IntN(5)
		}
		dim := r.IntN(rank)
		x := randTensor(r, shape...)
		for i := range x.Data {
			x.Data[i] *= 3
		}
		got, want := New(shape...), New(shape...)
		Softmax(got, x, dim)
		refSoftmax(want, x, dim)
		name := fmt.Sprintf("trial %d softmax %v dim %d", trial, shape, dim)
		checkTensor(t, name, got.Data, want.Data, normRefTol)
		in := x.Clone()
		Softmax(in, in, dim)
		checkTensor(t, name+" in place", in.Data, got.Data, 0)
	}
}

// TestSoftmaxLarge: huge logits neither overflow nor give NaN.
func TestSoftmaxLarge(t *testing.T) {
	x := FromData([]float32{1e30, 1e30, -1e30, 3e38, 0, -3e38}, 2, 3)
	out := New(2, 3)
	Softmax(out, x, 1)
	checkTensor(t, "softmax large", out.Data, []float32{0.5, 0.5, 0, 1, 0, 0}, 0)
}
