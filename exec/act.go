package exec

import "math"

// Activation kernels with PyTorch's forward semantics. x and out have the
// same shape, any rank; every kernel is elementwise except Softmax, and
// every one may run in place (out == x). Transcendental functions are
// evaluated in float64 and rounded once to float32.

// ReLU: out = max(x, 0); NaN stays NaN, as in PyTorch.
func ReLU(out, x *Tensor) {
	o := out.Data[:len(x.Data)]
	for i, a := range x.Data {
		o[i] = max(a, 0)
	}
}

// ReLU6: out = min(max(x, 0), 6).
func ReLU6(out, x *Tensor) {
	o := out.Data[:len(x.Data)]
	for i, a := range x.Data {
		o[i] = min(max(a, 0), 6)
	}
}

// LeakyReLU: out = x if x > 0, else slope*x (slope is negative_slope,
// PyTorch's default 0.01).
func LeakyReLU(out, x *Tensor, slope float32) {
	o := out.Data[:len(x.Data)]
	for i, a := range x.Data {
		if a > 0 {
			o[i] = a
		} else {
			o[i] = a * slope
		}
	}
}

// ELU: out = x if x > 0, else alpha*(exp(x) - 1).
func ELU(out, x *Tensor, alpha float32) {
	o := out.Data[:len(x.Data)]
	al := float64(alpha)
	for i, a := range x.Data {
		if a > 0 {
			o[i] = a
		} else {
			o[i] = float32(al * math.Expm1(float64(a)))
		}
	}
}

// sqrt2Pi is sqrt(2/pi), the constant of GELU's tanh approximation.
var sqrt2Pi = math.Sqrt(2 / math.Pi)

// GELU: out = x*Phi(x) = 0.5*x*(1 + erf(x/sqrt(2))), or with tanhApprox
// (approximate='tanh') 0.5*x*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x^3))).
func GELU(out, x *Tensor, tanhApprox bool) {
	o := out.Data[:len(x.Data)]
	if tanhApprox {
		for i, a := range x.Data {
			v := float64(a)
			o[i] = float32(0.5 * v * (1 + math.Tanh(sqrt2Pi*(v+0.044715*v*v*v))))
		}
		return
	}
	for i, a := range x.Data {
		v := float64(a)
		o[i] = float32(0.5 * v * (1 + math.Erf(v/math.Sqrt2)))
	}
}

// Sigmoid: out = 1/(1 + exp(-x)).
func Sigmoid(out, x *Tensor) {
	o := out.Data[:len(x.Data)]
	for i, a := range x.Data {
		o[i] = float32(1 / (1 + math.Exp(-float64(a))))
	}
}

// Tanh: out = tanh(x).
func Tanh(out, x *Tensor) {
	o := out.Data[:len(x.Data)]
	for i, a := range x.Data {
		o[i] = float32(math.Tanh(float64(a)))
	}
}

// SiLU (swish): out = x*sigmoid(x) = x/(1 + exp(-x)).
func SiLU(out, x *Tensor) {
	o := out.Data[:len(x.Data)]
	for i, a := range x.Data {
		v := float64(a)
		o[i] = float32(v / (1 + math.Exp(-v)))
	}
}

// Hardswish: out = x*min(max(x + 3, 0), 6)/6 (MobileNetV3's h-swish).
func Hardswish(out, x *Tensor) {
	o := out.Data[:len(x.Data)]
	for i, a := range x.Data {
		o[i] = a * min(max(a+3, 0), 6) / 6
	}
}

// Hardsigmoid: out = min(max(x + 3, 0), 6)/6.
func Hardsigmoid(out, x *Tensor) {
	o := out.Data[:len(x.Data)]
	for i, a := range x.Data {
		o[i] = min(max(a+3, 0), 6) / 6
	}
}

// Softmax normalises along axis dim (0 <= dim < rank):
// out[..., k, ...] = exp(x[..., k, ...] - m) / sum_k' exp(x[..., k', ...] - m)
// with m the maximum along dim (which makes it overflow-free). x and out are
// viewed as (outer, K, inner) with K = x.Shape[dim]; the loops run over
// inner innermost, keeping the row maxima and sums in two (inner) buffers
// allocated once per call.
func Softmax(out, x *Tensor, dim int) {
	outer, k, inner := axisView(x.Shape, dim)
	if k == 0 || inner == 0 {
		return
	}
	mx := make([]float32, inner)
	sum := make([]float64, inner)
	for o := 0; o < outer; o++ {
		base := o * k * inner
		axisMax(mx, x.Data[base:base+k*inner], k)
		clear(sum)
		for j := 0; j < k; j++ {
			off := base + j*inner
			row := x.Data[off : off+inner]
			dst := out.Data[off : off+inner]
			for i, a := range row {
				e := math.Exp(float64(a - mx[i]))
				dst[i] = float32(e)
				sum[i] += e
			}
		}
		for i := range sum {
			sum[i] = 1 / sum[i]
		}
		for j := 0; j < k; j++ {
			off := base + j*inner
			dst := out.Data[off : off+inner]
			for i := range dst {
				dst[i] = float32(float64(dst[i]) * sum[i])
			}
		}
	}
}

// HardsigmoidAB: out = min(max(alpha*x + beta, 0), 1) (ONNX's HardSigmoid;
// PyTorch's is alpha 1/6, beta 1/2, which Hardsigmoid computes as
// PyTorch does).
func HardsigmoidAB(out, x *Tensor, alpha, beta float32) {
	o := out.Data[:len(x.Data)]
	for i, a := range x.Data {
		o[i] = min(max(alpha*a+beta, 0), 1)
	}
}

// seluAlpha and seluScale are SELU's constants (Klambauer et al., as in
// PyTorch).
const (
	seluAlpha = 1.6732632423543772848170429916717
	seluScale = 1.0507009873554804934193349852946
)

// SELU: out = scale*x if x > 0, else scale*alpha*(exp(x) - 1).
func SELU(out, x *Tensor) {
	o := out.Data[:len(x.Data)]
	for i, a := range x.Data {
		if a > 0 {
			o[i] = float32(seluScale * float64(a))
		} else {
			o[i] = float32(seluScale * seluAlpha * math.Expm1(float64(a)))
		}
	}
}

// CELU: out = x if x > 0, else alpha*(exp(x/alpha) - 1).
func CELU(out, x *Tensor, alpha float32) {
	o := out.Data[:len(x.Data)]
	al := float64(alpha)
	for i, a := range x.Data {
		if a > 0 {
			o[i] = a
		} else {
			o[i] = float32(al * math.Expm1(float64(a)/al))
		}
	}
}

// Softplus: out = log(1 + exp(beta*x))/beta, and x itself where
// beta*x > threshold (PyTorch's switch to the linear part).
func Softplus(out, x *Tensor, beta, threshold float32) {
	o := out.Data[:len(x.Data)]
	b := float64(beta)
	for i, a := range x.Data {
		if bx := b * float64(a); bx > float64(threshold) {
			o[i] = a
		} else {
			o[i] = float32(math.Log1p(math.Exp(bx)) / b)
		}
	}
}

// Mish: out = x*tanh(softplus(x)).
func Mish(out, x *Tensor) {
	o := out.Data[:len(x.Data)]
	for i, a := range x.Data {
		v := float64(a)
		o[i] = float32(v * math.Tanh(math.Log1p(math.Exp(v))))
	}
}

// Hardtanh: out = min(max(x, lo), hi) (ReLU6 is lo 0, hi 6; ONNX's Clip).
func Hardtanh(out, x *Tensor, lo, hi float32) {
	o := out.Data[:len(x.Data)]
	for i, a := range x.Data {
		o[i] = min(max(a, lo), hi)
	}
}

// PReLU: out = x if x >= 0, else w*x, with w of one value for every
// channel (len(w) == 1) or one per channel of axis 1.
func PReLU(out, x *Tensor, w []float32) {
	o := out.Data[:len(x.Data)]
	inner := 1
	for _, d := range x.Shape[2:] {
		inner *= d
	}
	c := 1
	if len(x.Shape) > 1 {
		c = x.Shape[1]
	}
	for i, a := range x.Data {
		if a >= 0 {
			o[i] = a
			continue
		}
		wi := 0
		if len(w) > 1 {
			wi = (i / inner) % c
		}
		o[i] = w[wi] * a
	}
}

// LogSoftmax: out = x - m - log(sum_k exp(x_k - m)) along axis dim, with m
// the maximum (overflow-free), viewed as (outer, K, inner) as Softmax.
func LogSoftmax(out, x *Tensor, dim int) {
	outer, k, inner := axisView(x.Shape, dim)
	if k == 0 || inner == 0 {
		return
	}
	mx := make([]float32, inner)
	sum := make([]float64, inner)
	for o := 0; o < outer; o++ {
		base := o * k * inner
		axisMax(mx, x.Data[base:base+k*inner], k)
		clear(sum)
		for j := 0; j < k; j++ {
			for i, a := range x.Data[base+j*inner : base+(j+1)*inner] {
				sum[i] += math.Exp(float64(a - mx[i]))
			}
		}
		for j := 0; j < k; j++ {
			off := base + j*inner
			dst := out.Data[off : off+inner]
			for i, a := range x.Data[off : off+inner] {
				dst[i] = float32(float64(a-mx[i]) - math.Log(sum[i]))
			}
		}
	}
}

// axisView views a shape as (outer, K, inner) around axis dim: K =
// shape[dim], outer and inner the products of the axes before and after.
func axisView(shape []int, dim int) (outer, k, inner int) {
	outer, k, inner = 1, shape[dim], 1
	for _, d := range shape[:dim] {
		outer *= d
	}
	for _, d := range shape[dim+1:] {
		inner *= d
	}
	return outer, k, inner
}

// axisMax writes into mx (inner values) the maximum over the k rows of
// block, a (K, inner) slice.
func axisMax(mx, block []float32, k int) {
	inner := len(mx)
	copy(mx, block[:inner])
	for j := 1; j < k; j++ {
		for i, a := range block[j*inner : (j+1)*inner] {
			mx[i] = max(mx[i], a)
		}
	}
}
