package exec

import "math"

// Slow, obviously right references of the activation kernels (act.go), in
// float64 from the textbook formulas, written independently of the kernels
// (sigmoid through tanh, GELU through erfc, ELU through exp - 1, softmax
// through multi-indices).

func refUnary(out, x *Tensor, f func(v float64) float64) {
	for i, a := range x.Data {
		out.Data[i] = float32(f(float64(a)))
	}
}

func refSigmoid(v float64) float64 { return 0.5 * (1 + math.Tanh(v/2)) }

var refActs = map[string]func(v float64) float64{
	"relu":        func(v float64) float64 { return math.Max(v, 0) },
	"relu6":       func(v float64) float64 { return math.Min(math.Max(v, 0), 6) },
	"sigmoid":     refSigmoid,
	"tanh":        math.Tanh,
	"silu":        func(v float64) float64 { return v * refSigmoid(v) },
	"hardswish":   func(v float64) float64 { return v * math.Min(math.Max(v+3, 0), 6) / 6 },
	"hardsigmoid": func(v float64) float64 { return math.Min(math.Max(v+3, 0), 6) / 6 },
	"gelu":        func(v float64) float64 { return v * 0.5 * math.Erfc(-v/math.Sqrt2) },
	"gelu_tanh": func(v float64) float64 {
		return 0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*math.Pow(v, 3))))
	},
}

func refLeakyReLU(slope float64) func(v float64) float64 {
	return func(v float64) float64 {
		if v > 0 {
			return v
		}
		return slope * v
	}
}

func refELU(alpha float64) func(v float64) float64 {
	return func(v float64) float64 {
		if v > 0 {
			return v
		}
		return alpha * (math.Exp(v) - 1)
	}
}

// refSoftmax walks every element by its multi-index and sums along dim.
func refSoftmax(out, x *Tensor, dim int) {
	strides := make([]int, len(x.Shape))
	st := 1
	for a := len(x.Shape) - 1; a >= 0; a-- {
		strides[a] = st
		st *= x.Shape[a]
	}
	for i := range x.Data {
		k := i / strides[dim] % x.Shape[dim]
		first := i - k*strides[dim] // the element with index 0 along dim
		m := math.Inf(-1)
		for j := 0; j < x.Shape[dim]; j++ {
			m = math.Max(m, float64(x.Data[first+j*strides[dim]]))
		}
		var sum float64
		for j := 0; j < x.Shape[dim]; j++ {
			sum += math.Exp(float64(x.Data[first+j*strides[dim]]) - m)
		}
		out.Data[i] = float32(math.Exp(float64(x.Data[i])-m) / sum)
	}
}
