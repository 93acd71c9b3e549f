package calc

import "fmt"

// RF is a receptive field, one entry per spatial axis, in input pixels.
type RF struct {
	// Size is the width of one output unit's field.
	Size []int64
	// Jump is the distance in input pixels between the fields of two
	// neighbouring output units (the product of strides so far).
	Jump []int64
	// Start is the input coordinate of the centre of output unit 0's field.
	// It may be negative (the field reaches into padding) or a half.
	Start []float64
	// Padding is the effective padding (Size-1)/2 - Start, as in
	// google-research/receptive_field.
	Padding []float64
	// Layout is nil while the tensor is in the standard layout (N, C,
	// spatial...); after a permute it lists, for each spatial axis of the
	// field, the tensor axis that now holds it (channels last: [1, 2]).
	Layout []int64
}

// LayerResult is what Analyze computes for one node.
type LayerResult struct {
	Inputs  []Shape
	Output  Shape // nil when the node or one of its inputs failed
	Params  int64 // learnable parameters
	Buffers int64 // running statistics (not num_batches_tracked)
	MACs    int64 // multiply-accumulates for the whole batch, bias excluded
	Bytes   int64 // float32 bytes of the output activation
	// RF is nil where the receptive field is not defined.
	RF *RF
	// Formulas are the worked formulas with the numbers substituted, one
	// per computed size, then params and MACs where they are not trivial.
	// They are filled when Network.Explain is set.
	Formulas []string
	explain  bool
	// Warnings are findings that do not stop the analysis.
	Warnings []string
	// Layout is nil while the output is in the standard layout (N, C,
	// spatial...); after a permute it lists the tensor axis of each
	// spatial axis (channels last: [1, 2]).
	Layout []int64
}

// Totals sums a network.
type Totals struct {
	Params, Buffers, MACs, FLOPs int64
	FrozenParams                 int64 // of Params, those of items with trainable: false
	Output                       Shape
	InputBytes                   int64 // float32 bytes of the network input
	ActivationBytes              int64 // float32 bytes of every layer output, summed
}

// Result holds one LayerResult per node, in the Network's order, and totals.
type Result struct {
	Layers []LayerResult
	Total  Totals
}

// Error is a problem with one node. Arg names the argument at fault when
// there is one ("kernel", "groups"), so a front end can point at it.
type Error struct {
	Node    int
	Arg     string
	Msg     string
	Formula string // the worked formula that shows the problem, if any
}

func (e *Error) Error() string {
	if e.Formula != "" {
		return e.Msg + ": " + e.Formula
	}
	return e.Msg
}

func errorf(arg, format string, a ...any) *Error {
	return &Error{Arg: arg, Msg: fmt.Sprintf(format, a...)}
}
