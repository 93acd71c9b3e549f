package calc

// Shape is a tensor shape with the batch axis first: (N, C, D, H, W) as the
// rank needs. Sizes are element counts.
type Shape []int64

// ShapeOf converts a shape of ints (exec's) to a Shape.
func ShapeOf(v []int) Shape {
	s := make(Shape, len(v))
	for i, x := range v {
		s[i] = int64(x)
	}
	return s
}

// Spatial returns the axes after batch and channels.
func (s Shape) Spatial() []int64 {
	if len(s) < 2 {
		return nil
	}
	return s[2:]
}

// Elements is the number of elements, or ErrOverflow.
func (s Shape) Elements() (int64, error) { return prod(s...) }

// Clone returns a copy of s.
func (s Shape) Clone() Shape { return append(Shape(nil), s...) }

// Padding modes of a conv layer (Layer.PadMode).
const (
	PadExplicit = ""      // Layer.Padding holds the padding per axis
	PadSame     = "same"  // output = ceil(in/stride); PyTorch for stride 1, TensorFlow otherwise
	PadValid    = "valid" // no padding
)

// Layer describes one plain layer or merge, its arguments already resolved to
// PyTorch's defaults. Per-axis fields (Kernel, Stride, ...) hold one value per
// spatial axis, or a single value that applies to every axis. Only the fields
// its Type reads matter.
type Layer struct {
	// Type is the layer's kind: Conv2d, MaxPool1d, Linear, Add, Concat...
	Type Op

	Out           int64   // out channels or out features
	In            int64   // explicit in_channels/in_features/num_features, 0 if not given
	Kernel        []int64 // kernel size per spatial axis
	Stride        []int64 // stride per spatial axis
	Padding       []int64 // symmetric padding per spatial axis (PadMode "")
	PadMode       string  // PadExplicit, PadSame or PadValid
	Dilation      []int64 // dilation per spatial axis
	OutputPadding []int64 // transposed conv only
	Groups        int64   // conv groups, or num_groups of groupnorm
	Bias          bool
	PaddingMode   string // zeros, reflect, replicate, circular

	CeilMode        bool
	CountIncludePad bool

	// OutputSize of adaptive pools; -1 keeps the input size on that axis.
	OutputSize []int64

	StartDim, EndDim int // flatten, counted with the batch axis
	Dim              int // softmax and concat, counted with the batch axis

	Eps, Momentum     float64
	Affine            bool // batchnorm/instancenorm/groupnorm affine, layernorm elementwise_affine
	LayerNormBias     bool // layernorm bias (PyTorch >= 2.1), true by default
	TrackRunningStats bool
	// NormShape is layernorm's normalized_shape; nil means every axis but batch.
	NormShape []int64

	NegativeSlope, Alpha float64
	Approximate          string  // gelu: none or tanh
	P                    float64 // dropout and stochastic depth probability
	// Inplace is an activation's or dropout's inplace argument: the
	// output overwrites the input (changes only memory, not numbers).
	Inplace bool
	// Frozen is an item's trainable: false: its parameters need no
	// gradient (fine-tuning), so memory gives them no gradient or
	// optimizer state.
	Frozen bool

	Beta, Threshold float64 // softplus; Beta is also hardsigmoid's offset
	MinVal, MaxVal  float64 // hardtanh's bounds
	// NumParams is prelu's num_parameters (1, or the channels).
	NumParams int64
	// Init is the initial value of prelu's and layerscale's weights (it
	// changes no count; exec starts from it).
	Init float64
	// Mode is also stochastic depth's row or batch.

	// Chunks and Index pick chunk Index of Chunks along Dim (chunk), or
	// piece Index of a split along Dim into pieces of SplitSize or of the
	// sizes Sections.
	Chunks, Index, SplitSize int64
	Sections                 []int64
	// Perm is permute's order of the axes, counted with the batch axis.
	Perm []int64

	// Pad is zeropad's padding in PyTorch's order: last axis first,
	// [left, right, top, bottom, front, back]. Negative values crop.
	Pad []int64
	// PadValue is the value zeropad pads with (nn.ConstantPad*d's value).
	PadValue float64
	// Sizes are unflatten's sizes of the axis Dim (nn.Unflatten).
	Sizes []int64

	Scale        []float64 // upsample scale_factor per axis (or one for all)
	Size         []int64   // upsample size per axis (or one for all)
	Mode         string    // upsample mode
	AlignCorners *bool     // upsample align_corners, nil when not given
}

// Node is a Layer wired into a network.
type Node struct {
	Layer
	// Name identifies the node's output in reports; unique in a Network.
	Name string
	// From lists the nodes whose outputs feed this one, by index into
	// Network.Nodes; Input (-1) is the network input.
	From []int
}

// Input is the From index that stands for the network input.
const Input = -1

// Network is a DAG of nodes in execution order: every From index is smaller
// than the node's own index.
type Network struct {
	Name  string
	Input Shape // with the batch axis
	Nodes []Node
	// Explain asks Analyze for each layer's worked formulas.
	Explain bool
}

// axis returns v's value for spatial axis i: v[i], or v[0] when v holds one
// value for every axis, or def when v is empty.
func axis(v []int64, i int, def int64) int64 {
	switch {
	case len(v) == 0:
		return def
	case len(v) == 1:
		return v[0]
	case i < len(v):
		return v[i]
	}
	return def
}

// AxisNames names the spatial axes of an n-dimensional input: L; H, W; D, H, W.
func AxisNames(n int) []string {
	switch n {
	case 1:
		return []string{"L"}
	case 2:
		return []string{"H", "W"}
	case 3:
		return []string{"D", "H", "W"}
	}
	names := make([]string, n)
	for i := range names {
		names[i] = "X" + string(rune('0'+i%10))
	}
	return names
}

// Limits that keep every intermediate sum and product inside int64.
const (
	// MaxArg bounds every integer argument (kernel, stride, padding, channels...).
	MaxArg = 1 << 24
	// MaxDim bounds every axis of every tensor.
	MaxDim = 1 << 36
)
