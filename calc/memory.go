package calc

import (
	"fmt"
	"slices"
	"strings"
)

// DType is the element type of a tensor.
type DType uint8

// The element types. Float32, Float16 and BFloat16 are the types a model
// can be converted to (model.to(dtype)); Int64 is pooling indices and
// num_batches_tracked; Float64 is a Python number autograd wraps as a
// tensor.
const (
	Float32 DType = iota
	Float16
	BFloat16
	Int64
	Float64
)

var dtypeNames = [...]string{Float32: "float32", Float16: "float16", BFloat16: "bfloat16", Int64: "int64", Float64: "float64"}

// String is PyTorch's name without "torch.": float32, bfloat16.
func (d DType) String() string {
	if int(d) < len(dtypeNames) {
		return dtypeNames[d]
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// Size is the bytes of one element.
func (d DType) Size() int64 {
	switch d {
	case Float16, BFloat16:
		return 2
	case Int64, Float64:
		return 8
	}
	return 4
}

// ParseDType reads a model dtype: float32 (fp32, f32), float16 (fp16,
// half) or bfloat16 (bf16).
func ParseDType(s string) (DType, bool) {
	switch strings.ToLower(s) {
	case "float32", "fp32", "f32", "float":
		return Float32, true
	case "float16", "fp16", "f16", "half":
		return Float16, true
	case "bfloat16", "bf16":
		return BFloat16, true
	}
	return 0, false
}

// Optimizer is a training optimizer, for the state it keeps per parameter.
type Optimizer uint8

// The optimizers: plain SGD keeps nothing, SGD with momentum one buffer
// per parameter, Adam and AdamW two (exp_avg and exp_avg_sq) and a
// one-element float32 step tensor per parameter tensor.
const (
	OptNone Optimizer = iota
	OptSGD
	OptMomentum
	OptAdam
	OptAdamW
)

var optimizerNames = [...]string{OptNone: "none", OptSGD: "sgd", OptMomentum: "momentum", OptAdam: "adam", OptAdamW: "adamw"}

// Optimizers lists the optimizer names in order.
func Optimizers() []string { return optimizerNames[:] }

func (o Optimizer) String() string {
	if int(o) < len(optimizerNames) {
		return optimizerNames[o]
	}
	return fmt.Sprintf("Optimizer(%d)", uint8(o))
}

// ParseOptimizer reads an optimizer name.
func ParseOptimizer(s string) (Optimizer, bool) {
	i := slices.Index(optimizerNames[:], strings.ToLower(s))
	return Optimizer(max(i, 0)), i >= 0
}

// copies is the number of parameter-sized buffers the optimizer keeps.
func (o Optimizer) copies() int64 {
	switch o {
	case OptMomentum:
		return 1
	case OptAdam, OptAdamW:
		return 2
	}
	return 0
}

// Storage says whose memory a saved tensor is.
type Storage uint8

// The storages of a saved tensor.
const (
	// FromInput is the storage of one of the layer's inputs (SavedTensor.Input).
	FromInput Storage = iota
	// FromOutput is the layer's output storage (input 0's, when the
	// output is a view or an in-place result).
	FromOutput
	// NewStorage is memory the layer allocates to keep: pooling indices,
	// a dropout mask, batch statistics, a padded or contiguous copy.
	NewStorage
)

// SavedTensor is one tensor that autograd keeps for a layer's backward.
// A FromInput or FromOutput tensor costs the whole storage it shares (a
// chunk of a tensor keeps the whole tensor), once however many layers
// save it; a NewStorage tensor costs Elements of DType.
type SavedTensor struct {
	What     string // input, output, indices, mask, mean, invstd, padded input...
	Storage  Storage
	Input    int   // FromInput: which input of the layer
	Elements int64 // NewStorage: its elements
	// Exact is the NewStorage element type when it is not the model's
	// dtype (int64 indices), else nil.
	Exact *DType
}

// SaveCtx is what a kind's Saved rule knows of a layer's inputs.
type SaveCtx struct {
	// Grad[k] reports whether input k requires grad (the network input
	// does not; a layer's output does when an input does or the layer has
	// trainable parameters).
	Grad []bool
	// Strided[k] reports whether input k is not contiguous in memory (a
	// permuted or narrowed view).
	Strided []bool
}

// Saving is what a kind's Saved rule says of one layer in training mode.
type Saving struct {
	// Tensors are what autograd saves for backward (parameters and
	// buffers left out: they are counted as parameters). They are dropped
	// when nothing of the layer needs grad (no grad_fn).
	Tensors []SavedTensor
	// View reports that the output is input 0's storage: a view (flatten,
	// chunk, permute, identity) or input 0 modified in place. It
	// allocates nothing.
	View bool
	// Strided reports that the output is not contiguous: a permute, a
	// narrowing chunk; an Elementwise kind's output is as its input.
	Strided bool
	// Elementwise kinds compute their output with input 0's strides
	// (TensorIterator), so a permuted input gives a permuted output.
	Elementwise bool
}

var (
	dtInt64   = Int64
	dtFloat64 = Float64
)

func savedIn(k int) SavedTensor { return SavedTensor{What: "input", Storage: FromInput, Input: k} }
func savedOut() SavedTensor     { return SavedTensor{What: "output", Storage: FromOutput} }
func savedNew(what string, n int64) SavedTensor {
	return SavedTensor{What: what, Storage: NewStorage, Elements: n}
}

func elements(s Shape) int64 { n, _ := s.Elements(); return n }

// Saved rules of the kinds (PyTorch 1.13, CPU, derivatives.yaml and the
// modules' forward code; testdata/torch/memory.json is the measurement).

// saveNothing: the backward needs only sizes (add, concat, zeropad,
// upsample, channel shuffle as torchvision writes it).
func saveNothing(l *Layer, lr *LayerResult, c *SaveCtx) Saving { return Saving{} }

// saveNothingElementwise is saveNothing for an elementwise kind (add).
func saveNothingElementwise(l *Layer, lr *LayerResult, c *SaveCtx) Saving {
	return Saving{Elementwise: true}
}

// saveView: the output is input 0 itself or a view of it (identity,
// flatten of a contiguous tensor); nothing saved.
func saveView(l *Layer, lr *LayerResult, c *SaveCtx) Saving {
	return Saving{View: true, Strided: c.Strided[0]}
}

// saveInput: the backward reads the input (conv, pools, linear, gelu,
// prelu, layerscale...).
func saveInput(l *Layer, lr *LayerResult, c *SaveCtx) Saving {
	return Saving{Tensors: []SavedTensor{savedIn(0)}}
}

// saveInputElementwise is saveInput for elementwise kinds.
func saveInputElementwise(l *Layer, lr *LayerResult, c *SaveCtx) Saving {
	return Saving{Tensors: []SavedTensor{savedIn(0)}, Elementwise: true}
}

// saveOutputElementwise: the backward reads the result (sigmoid, tanh,
// softmax, log_softmax).
func saveOutputElementwise(l *Layer, lr *LayerResult, c *SaveCtx) Saving {
	return Saving{Tensors: []SavedTensor{savedOut()}, Elementwise: true}
}

// saveResultInplace: relu, and leaky_relu/elu/selu/celu, whose in-place
// forms save the result (the input storage, overwritten); out of place
// relu saves its result and the others their input.
func saveResultInplace(inputOutOfPlace bool) func(l *Layer, lr *LayerResult, c *SaveCtx) Saving {
	return func(l *Layer, lr *LayerResult, c *SaveCtx) Saving {
		s := Saving{Elementwise: true, View: l.Inplace, Tensors: []SavedTensor{savedOut()}}
		if inputOutOfPlace && !l.Inplace {
			s.Tensors = []SavedTensor{savedIn(0)}
		}
		return s
	}
}

// saveInputCopyInplace: relu6/hardtanh, silu, hardswish, hardsigmoid and
// mish read their input; in place, autograd first copies the input that
// the op then overwrites.
func saveInputCopyInplace(l *Layer, lr *LayerResult, c *SaveCtx) Saving {
	if l.Inplace {
		return Saving{Elementwise: true, View: true, Tensors: []SavedTensor{savedNew("input copy", elements(lr.Inputs[0]))}}
	}
	return saveInputElementwise(l, lr, c)
}

// hardsigmoidSaved: the default hardsigmoid as above; with another alpha
// or beta there is no PyTorch op, and clamp(alpha*x + beta, 0, 1) keeps
// its (new) argument and alpha as a float64 scalar.
func hardsigmoidSaved(l *Layer, lr *LayerResult, c *SaveCtx) Saving {
	if l.Alpha == 1.0/6 && l.Beta == 0.5 {
		return saveInputCopyInplace(l, lr, c)
	}
	return Saving{Elementwise: true, Tensors: []SavedTensor{savedNew("clamp input", elements(lr.Inputs[0])),
		{What: "alpha", Storage: NewStorage, Elements: 1, Exact: &dtFloat64}}}
}

// convSaved: the conv keeps the tensor it convolves. With padding_mode
// reflect, replicate or circular that is F.pad's padded copy (and reflect
// and replicate pads keep their own input, when it requires grad); with
// padding same at stride 1 PyTorch pads the odd pixel of an odd total on
// the right first, at a larger stride the whole padding is an F.pad.
func convSaved(l *Layer, lr *LayerResult, c *SaveCtx) Saving {
	x := lr.Inputs[0]
	var buf [maxWindowAxes]convAxis
	axes, err := convAxes(l, x, len(x)-2, &buf)
	if err != nil {
		return saveInput(l, lr, c)
	}
	padded := func(extra func(a convAxis) int64) SavedTensor {
		n := x[0] * x[1]
		for _, a := range axes {
			n *= a.in + extra(a)
		}
		return savedNew("padded input", n)
	}
	full := func(a convAxis) int64 { return a.pl + a.pr }
	switch {
	case l.PaddingMode != "" && l.PaddingMode != "zeros":
		s := Saving{Tensors: []SavedTensor{padded(full)}}
		if l.PaddingMode != "circular" && c.Grad[0] {
			s.Tensors = append(s.Tensors, savedIn(0))
		}
		return s
	case l.PadMode == PadSame && slices.ContainsFunc(axes, func(a convAxis) bool { return a.s > 1 }):
		if slices.ContainsFunc(axes, func(a convAxis) bool { return a.pl+a.pr > 0 }) {
			return Saving{Tensors: []SavedTensor{padded(full)}}
		}
	case l.PadMode == PadSame:
		if slices.ContainsFunc(axes, func(a convAxis) bool { return a.pl != a.pr }) {
			return Saving{Tensors: []SavedTensor{padded(func(a convAxis) int64 { return a.pr - a.pl })}}
		}
	}
	return saveInput(l, lr, c)
}

// maxPoolSaved: the input and the int64 argmax of every output element.
func maxPoolSaved(l *Layer, lr *LayerResult, c *SaveCtx) Saving {
	return Saving{Tensors: []SavedTensor{savedIn(0), {What: "indices", Storage: NewStorage, Elements: elements(lr.Output), Exact: &dtInt64}}}
}

// statsSaved keeps the input and a mean and an inverse deviation of n
// elements each (batchnorm: C; layernorm: the rows; groupnorm: N*G).
func statsSaved(l *Layer, lr *LayerResult, n int64) Saving {
	return Saving{Tensors: []SavedTensor{savedIn(0), savedNew("mean", n), savedNew("invstd", n)}}
}

func batchNormSaved(l *Layer, lr *LayerResult, c *SaveCtx) Saving {
	return statsSaved(l, lr, lr.Inputs[0][1])
}

// instanceNormSaved: instance norm is batch norm on the input viewed as
// (1, N*C, ...): its statistics are N*C each, and the weight (affine) and
// running statistics (track_running_stats) it passes are repeated N
// times, new tensors that batch norm saves.
func instanceNormSaved(l *Layer, lr *LayerResult, c *SaveCtx) Saving {
	nc := lr.Inputs[0][0] * lr.Inputs[0][1]
	s := statsSaved(l, lr, nc)
	if l.Affine {
		s.Tensors = append(s.Tensors, savedNew("repeated weight", nc))
	}
	if l.TrackRunningStats {
		s.Tensors = append(s.Tensors, savedNew("repeated running_mean", nc), savedNew("repeated running_var", nc))
	}
	return s
}

func layerNormSaved(l *Layer, lr *LayerResult, c *SaveCtx) Saving {
	x := lr.Inputs[0]
	k := len(l.NormShape)
	if k == 0 {
		k = len(x) - 1
	}
	rows, _ := prod(x[:len(x)-k]...)
	return statsSaved(l, lr, rows)
}

func groupNormSaved(l *Layer, lr *LayerResult, c *SaveCtx) Saving {
	return statsSaved(l, lr, lr.Inputs[0][0]*max(l.Groups, 1))
}

// layerNorm2dSaved: torchvision's LayerNorm2d permutes to channels last,
// layer-norms the channels (statistics per pixel) and permutes back.
func layerNorm2dSaved(l *Layer, lr *LayerResult, c *SaveCtx) Saving {
	x := lr.Inputs[0]
	return statsSaved(l, lr, elements(x)/x[1])
}

// dropoutSaved: input * mask, where the mask (scaled by 1/(1-p)) has the
// input's shape (dropout) or one element per channel (dropout1d-3d); p = 0
// returns the input itself, p = 1 multiplies by a zero scalar.
func dropoutSaved(l *Layer, lr *LayerResult, c *SaveCtx) Saving {
	if l.P == 0 {
		return Saving{View: true, Strided: c.Strided[0]}
	}
	x := lr.Inputs[0]
	n := elements(x)
	switch {
	case l.P == 1:
		n = 1
	case l.Type.Info().Rank > 0:
		n = x[0] * x[1]
	}
	return Saving{Elementwise: true, View: l.Inplace, Tensors: []SavedTensor{savedNew("mask", n)}}
}

// stochasticDepthSaved: torchvision's stochastic_depth multiplies by a
// noise tensor of one element per sample (row) or one (batch); p = 0
// returns the input.
func stochasticDepthSaved(l *Layer, lr *LayerResult, c *SaveCtx) Saving {
	if l.P == 0 {
		return Saving{View: true, Strided: c.Strided[0]}
	}
	n := lr.Inputs[0][0]
	if l.Mode == "batch" {
		n = 1
	}
	return Saving{Elementwise: true, Tensors: []SavedTensor{savedNew("noise", n)}}
}

// linearSaved: the input, as the matmul's 2-D view of it, for the weight's
// gradient (none when the layer is frozen); a strided input does not view
// as rows, and its reshape is a contiguous copy.
func linearSaved(l *Layer, lr *LayerResult, c *SaveCtx) Saving {
	if l.Frozen {
		return Saving{}
	}
	if c.Strided[0] {
		return Saving{Tensors: []SavedTensor{savedNew("contiguous input", elements(lr.Inputs[0]))}}
	}
	return saveInput(l, lr, c)
}

// layerScaleSaved: gamma * x keeps x for gamma's gradient, none when
// frozen.
func layerScaleSaved(l *Layer, lr *LayerResult, c *SaveCtx) Saving {
	if l.Frozen {
		return Saving{Elementwise: true}
	}
	return saveInputElementwise(l, lr, c)
}

// flattenSaved: a view of a contiguous input; a strided one is copied.
func flattenSaved(l *Layer, lr *LayerResult, c *SaveCtx) Saving {
	return Saving{View: !c.Strided[0]}
}

// mulSaved: a*b keeps b for a's gradient when a requires grad, and a for
// b's when b does; more factors multiply left to right, each product a
// new tensor.
func mulSaved(l *Layer, lr *LayerResult, c *SaveCtx) Saving {
	s := Saving{Elementwise: true}
	acc := c.Grad[0]
	for k := 1; k < len(lr.Inputs); k++ {
		if c.Grad[k] {
			if k == 1 {
				s.Tensors = append(s.Tensors, savedIn(0))
			} else {
				s.Tensors = append(s.Tensors, savedNew("product", elements(lr.Output)))
			}
		}
		if acc {
			s.Tensors = append(s.Tensors, savedIn(k))
		}
		acc = acc || c.Grad[k]
	}
	return s
}

// pieceSaved: chunk and split are views; a piece along an axis that is
// not the outermost of size above 1 is not contiguous.
func pieceSaved(l *Layer, lr *LayerResult, c *SaveCtx) Saving {
	x, y := lr.Inputs[0], lr.Output
	d, _ := normDim(l.Dim, len(x), "dim")
	outer, _ := prod(x[:d]...)
	return Saving{View: true, Strided: c.Strided[0] || (outer > 1 && y[d] != x[d])}
}

// permuteSaved: a view, strided unless the order is the identity.
func permuteSaved(l *Layer, lr *LayerResult, c *SaveCtx) Saving {
	perm := normPerm(l.Perm, len(lr.Inputs[0]))
	return Saving{View: true, Strided: c.Strided[0] || !slices.IsSorted(perm)}
}
