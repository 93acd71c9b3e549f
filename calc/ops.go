package calc

import (
	"fmt"
	"strings"
)

// Op is a layer kind: a plain layer (conv2d, relu) or a merge (add, concat).
// Every kind has one entry in the table ops below, which holds its names,
// its argument schema and its formulas. Adding a layer type is adding a
// constant here and an entry there (and a kernel in exec's table).
type Op uint8

// The layer kinds. Kinds made for 1, 2 or 3 spatial axes are consecutive, in
// that order (Conv1d, Conv2d, Conv3d).
const (
	Unknown Op = iota // the zero Layer's kind: no layer
	Conv1d
	Conv2d
	Conv3d
	ConvTranspose1d
	ConvTranspose2d
	ConvTranspose3d
	MaxPool1d
	MaxPool2d
	MaxPool3d
	AvgPool1d
	AvgPool2d
	AvgPool3d
	AdaptiveAvgPool1d
	AdaptiveAvgPool2d
	AdaptiveAvgPool3d
	AdaptiveMaxPool1d
	AdaptiveMaxPool2d
	AdaptiveMaxPool3d
	BatchNorm1d
	BatchNorm2d
	BatchNorm3d
	InstanceNorm1d
	InstanceNorm2d
	InstanceNorm3d
	ZeroPad1d
	ZeroPad2d
	ZeroPad3d
	Dropout1d
	Dropout2d
	Dropout3d
	Linear
	Flatten
	Unflatten
	LayerNorm
	GroupNorm
	ReLU
	ReLU6
	SiLU
	Hardswish
	Hardsigmoid
	Sigmoid
	Tanh
	Identity
	LeakyReLU
	ELU
	GELU
	Softmax
	Dropout
	Upsample
	Add
	Concat
	SELU
	CELU
	PReLU
	Softplus
	LogSoftmax
	Hardtanh
	Mish
	Chunk
	Split
	ChannelShuffle
	Permute
	LayerNorm2d
	LayerScale
	StochasticDepth
	Mul
	numOps
)

// NumOps is the number of kinds; every Op below it but Unknown is defined.
const NumOps = int(numOps)

// OpInfo is everything calc knows of one layer kind.
type OpInfo struct {
	// Name is the canonical spelling in a spec and in reports: conv2d.
	Name string
	// Torch is the torch.nn class: Conv2d for nn.Conv2d. Spec names are
	// case-insensitive, so Conv2d and conv2d are the same kind.
	Torch string
	// Aliases are further spellings (fc and dense for linear).
	Aliases []string
	// Rank is the number of spatial axes the kind is made for (conv2d: 2);
	// 0 when it takes any.
	Rank int
	// Merge kinds take two inputs or more and are not written as items of
	// their own type in a spec (add and concat come from residual, concat
	// and from:; mul from gate and from:).
	Merge bool
	// SizeInput kinds may take a second input that only lends its spatial
	// size (upsample's size_of).
	SizeInput bool
	// Args is the argument schema, as a spec writes the arguments.
	Args []Arg
	// Primary is the argument that a bare value sets (maxpool2d: 3 is
	// kernel 3); "" when the kind takes a mapping only.
	Primary string
	// OneOf names arguments of which exactly one must be given.
	OneOf []string

	// Shape computes lr.Output from lr.Inputs, with the worked formula of
	// each computed size when lr.explain is set, and rejects what PyTorch
	// rejects.
	Shape func(l *Layer, lr *LayerResult) *Error
	// Count fills lr.Params, lr.Buffers and lr.MACs (with their formulas)
	// once lr.Output is known; nil when the kind has none of them.
	Count func(l *Layer, lr *LayerResult) *Error
	// Field carries the inputs' receptive fields to the output, and says
	// why when it is undefined for that reason; nil when the kind has no
	// receptive field (the output's units do not map onto input pixels).
	Field func(l *Layer, lr *LayerResult, rfs []*RF) (*RF, string)
	// Saved says what PyTorch 1.13's autograd keeps of the layer for its
	// backward in training mode, and whether the output shares input 0's
	// storage (calc/memory.go). Every kind has one.
	Saved func(l *Layer, lr *LayerResult, c *SaveCtx) Saving
}

// ArgKind is how an argument's value is written.
type ArgKind uint8

// The argument kinds.
const (
	ArgInt     ArgKind = iota // an integer
	ArgDim                    // an integer that may be negative (a PyTorch dim)
	ArgSizes                  // an integer, or a list of one per spatial axis
	ArgPadding                // ArgSizes, or same / valid (sets PadMode)
	ArgOutSize                // ArgSizes whose entries may be null (keep the input size)
	ArgPadList                // an integer, or a list of two per spatial axis (may be negative)
	ArgShape                  // an integer (the last axis) or a list of trailing axes
	ArgBool                   // true or false
	ArgFloat                  // a number
	ArgScale                  // a number, or a list of one per spatial axis
	ArgEnum                   // one of Arg.Enum
	ArgIgnored                // accepted for PyTorch compatibility, no effect on any number
	ArgRef                    // the name of an earlier item, or input (a second input, not a field)
)

// Arg is one argument of a layer kind.
type Arg struct {
	Name     string
	Aliases  []string
	Kind     ArgKind
	Enum     []string // the values of an ArgEnum, lower case
	Required bool
	// Default is PyTorch's value when the argument is absent, of the
	// field's type (int64, int, []int64, bool, float64, string); nil leaves
	// the field's zero value (nil: not given).
	Default any
	// Field returns the address of the Layer field the argument sets:
	// *int64, *int, *[]int64, *[]float64, *bool, **bool (set only when
	// given), *float64 or *string. Nil when it sets none (a value checked
	// and ignored).
	Field func(l *Layer) any
	// Check, when set, validates the field once set from a written value;
	// it returns the message of the error, or "".
	Check func(l *Layer) string
}

// Info returns the table entry of op. An op outside the table gets an
// entry with an empty Name.
func (op Op) Info() *OpInfo {
	if op >= numOps {
		return &ops[Unknown]
	}
	return &ops[op]
}

// String is the canonical name.
func (op Op) String() string {
	if n := op.Info().Name; n != "" {
		return n
	}
	return fmt.Sprintf("Op(%d)", uint8(op))
}

// Arg returns the argument that name (or one of its aliases) spells, or nil.
func (o *OpInfo) Arg(name string) *Arg {
	for i := range o.Args {
		a := &o.Args[i]
		if a.Name == name {
			return a
		}
		for _, al := range a.Aliases {
			if al == name {
				return a
			}
		}
	}
	return nil
}

// ArgNames lists every spelling of every argument, for suggestions.
func (o *OpInfo) ArgNames() []string {
	var s []string
	for _, a := range o.Args {
		s = append(s, a.Name)
		s = append(s, a.Aliases...)
	}
	return s
}

// Lookup resolves a type's spelling (case-insensitive: the canonical name,
// the PyTorch class name or an alias) to its kind. Merges are not found:
// a spec does not write them as layer types.
func Lookup(name string) (Op, bool) {
	op, ok := byName[strings.ToLower(name)]
	return op, ok
}

// Ops lists every kind in table order.
func Ops() []Op {
	out := make([]Op, 0, numOps-1)
	for op := Unknown + 1; op < numOps; op++ {
		out = append(out, op)
	}
	return out
}

// The fields arguments set, shared by the entries.
var (
	fOut     = func(l *Layer) any { return &l.Out }
	fIn      = func(l *Layer) any { return &l.In }
	fKernel  = func(l *Layer) any { return &l.Kernel }
	fStride  = func(l *Layer) any { return &l.Stride }
	fPadding = func(l *Layer) any { return &l.Padding }
	fDil     = func(l *Layer) any { return &l.Dilation }
	fGroups  = func(l *Layer) any { return &l.Groups }
	fBias    = func(l *Layer) any { return &l.Bias }
	fPadMode = func(l *Layer) any { return &l.PaddingMode }
	fEps     = func(l *Layer) any { return &l.Eps }
	fMom     = func(l *Layer) any { return &l.Momentum }
	fAffine  = func(l *Layer) any { return &l.Affine }
	fTrack   = func(l *Layer) any { return &l.TrackRunningStats }
	fP       = func(l *Layer) any { return &l.P }
	fAlpha   = func(l *Layer) any { return &l.Alpha }
	fBeta    = func(l *Layer) any { return &l.Beta }
	fInit    = func(l *Layer) any { return &l.Init }
	fIndex   = func(l *Layer) any { return &l.Index }
)

// Arguments shared by several kinds.
var (
	argOut     = Arg{Name: "out", Aliases: []string{"out_channels"}, Kind: ArgInt, Required: true, Field: fOut}
	argKernel  = Arg{Name: "kernel", Aliases: []string{"kernel_size"}, Kind: ArgSizes, Required: true, Field: fKernel}
	argStride  = Arg{Name: "stride", Kind: ArgSizes, Default: []int64{1}, Field: fStride}
	argDil     = Arg{Name: "dilation", Kind: ArgSizes, Default: []int64{1}, Field: fDil}
	argGroups  = Arg{Name: "groups", Kind: ArgInt, Default: int64(1), Field: fGroups}
	argBias    = Arg{Name: "bias", Kind: ArgBool, Default: true, Field: fBias}
	argInCh    = Arg{Name: "in", Aliases: []string{"in_channels"}, Kind: ArgInt, Field: fIn}
	argEps     = Arg{Name: "eps", Kind: ArgFloat, Default: 1e-5, Field: fEps}
	argMom     = Arg{Name: "momentum", Kind: ArgFloat, Default: 0.1, Field: fMom}
	argNumFeat = Arg{Name: "in", Aliases: []string{"num_features"}, Kind: ArgInt, Field: fIn}
	// inplace changes no shape or count, only what autograd saves and what
	// a pass allocates (memory).
	argInplace = Arg{Name: "inplace", Kind: ArgBool, Default: false, Field: func(l *Layer) any { return &l.Inplace }}
	argCeil    = Arg{Name: "ceil_mode", Kind: ArgBool, Default: false, Field: func(l *Layer) any { return &l.CeilMode }}
	// A pool's stride defaults to its kernel: nil here.
	argPoolStride = Arg{Name: "stride", Kind: ArgSizes, Field: fStride}
	argPoolPad    = Arg{Name: "padding", Kind: ArgSizes, Default: []int64{0}, Field: fPadding}
	argDropoutP   = Arg{Name: "p", Kind: ArgFloat, Default: 0.5, Field: fP, Check: func(l *Layer) string {
		if l.P < 0 || l.P > 1 {
			return fmt.Sprintf("dropout probability has to be between 0 and 1, but got %v", l.P)
		}
		return ""
	}}
)

// normArgs are batchnorm's and instancenorm's arguments; they differ in the
// defaults of affine and track_running_stats.
func normArgs(stats bool) []Arg {
	return []Arg{argEps, argMom,
		{Name: "affine", Kind: ArgBool, Default: stats, Field: fAffine},
		{Name: "track_running_stats", Kind: ArgBool, Default: stats, Field: fTrack},
		argNumFeat}
}

// ops is the table of layer kinds, indexed by Op.
var ops [numOps]OpInfo

// byName maps each lower-case spelling to its kind.
var byName = map[string]Op{}

func def(op Op, info OpInfo) {
	ops[op] = info
	if info.Merge {
		return
	}
	for _, n := range append([]string{info.Name, info.Torch}, info.Aliases...) {
		byName[strings.ToLower(n)] = op
	}
}

func init() {
	for r := 1; r <= 3; r++ {
		d := fmt.Sprintf("%dd", r)
		at := Op(r - 1)
		def(Conv1d+at, OpInfo{Name: "conv" + d, Torch: "Conv" + d, Rank: r,
			Args: []Arg{argOut, argKernel, argStride,
				{Name: "padding", Kind: ArgPadding, Default: []int64{0}, Field: fPadding}, argDil, argGroups, argBias,
				{Name: "padding_mode", Kind: ArgEnum, Enum: []string{"zeros", "reflect", "replicate", "circular"}, Default: "zeros", Field: fPadMode}, argInCh},
			Shape: convShape, Count: convCount, Field: convField, Saved: convSaved})
		def(ConvTranspose1d+at, OpInfo{Name: "convtranspose" + d, Torch: "ConvTranspose" + d, Rank: r,
			Args: []Arg{argOut, argKernel, argStride,
				{Name: "padding", Kind: ArgSizes, Default: []int64{0}, Field: fPadding},
				{Name: "output_padding", Kind: ArgSizes, Default: []int64{0}, Field: func(l *Layer) any { return &l.OutputPadding }},
				argDil, argGroups, argBias,
				{Name: "padding_mode", Kind: ArgEnum, Enum: []string{"zeros"}, Default: "zeros", Field: fPadMode}, argInCh},
			Shape: convTransposeShape, Count: convTransposeCount, Saved: saveInput})
		def(MaxPool1d+at, OpInfo{Name: "maxpool" + d, Torch: "MaxPool" + d, Rank: r, Primary: "kernel",
			Args: []Arg{argKernel, argPoolStride, argPoolPad, argDil, argCeil,
				{Name: "return_indices", Kind: ArgEnum, Enum: []string{"false"}}},
			Shape: poolShape, Field: poolField, Saved: maxPoolSaved})
		def(AvgPool1d+at, OpInfo{Name: "avgpool" + d, Torch: "AvgPool" + d, Rank: r, Primary: "kernel",
			Args: []Arg{argKernel, argPoolStride, argPoolPad, argCeil,
				{Name: "count_include_pad", Kind: ArgBool, Default: true, Field: func(l *Layer) any { return &l.CountIncludePad }}},
			Shape: poolShape, Field: poolField, Saved: saveInput})
		adaptive := []Arg{{Name: "output", Aliases: []string{"output_size"}, Kind: ArgOutSize, Required: true, Field: func(l *Layer) any { return &l.OutputSize }}}
		def(AdaptiveAvgPool1d+at, OpInfo{Name: "adaptiveavgpool" + d, Torch: "AdaptiveAvgPool" + d, Rank: r, Primary: "output", Args: adaptive, Shape: adaptivePoolShape, Saved: saveInput})
		def(AdaptiveMaxPool1d+at, OpInfo{Name: "adaptivemaxpool" + d, Torch: "AdaptiveMaxPool" + d, Rank: r, Primary: "output", Args: adaptive, Shape: adaptivePoolShape, Saved: maxPoolSaved})
		def(BatchNorm1d+at, OpInfo{Name: "batchnorm" + d, Torch: "BatchNorm" + d, Rank: r, Args: normArgs(true),
			Shape: batchNormShape, Count: perChannelCount, Field: sameField, Saved: batchNormSaved})
		def(InstanceNorm1d+at, OpInfo{Name: "instancenorm" + d, Torch: "InstanceNorm" + d, Rank: r, Args: normArgs(false),
			Shape: instanceNormShape, Count: perChannelCount, Field: sameField, Saved: instanceNormSaved})
		def(ZeroPad1d+at, OpInfo{Name: "zeropad" + d, Torch: "ZeroPad" + d, Rank: r, Primary: "padding",
			Aliases: []string{"constantpad" + d},
			Args: []Arg{{Name: "padding", Kind: ArgPadList, Required: true, Field: func(l *Layer) any { return &l.Pad }},
				{Name: "value", Kind: ArgFloat, Default: 0.0, Field: func(l *Layer) any { return &l.PadValue }}},
			Shape: zeroPadShape, Field: zeroPadField, Saved: saveNothing})
		def(Dropout1d+at, OpInfo{Name: "dropout" + d, Torch: "Dropout" + d, Rank: r, Primary: "p", Args: []Arg{argDropoutP, argInplace},
			Shape: dropoutShape, Field: sameField, Saved: dropoutSaved})
	}
	def(Linear, OpInfo{Name: "linear", Torch: "Linear", Aliases: []string{"fc", "dense"}, Primary: "out",
		Args: []Arg{{Name: "out", Aliases: []string{"out_features"}, Kind: ArgInt, Required: true, Field: fOut}, argBias,
			{Name: "in", Aliases: []string{"in_features"}, Kind: ArgInt, Field: fIn}},
		Shape: linearShape, Count: linearCount, Field: linearField, Saved: linearSaved})
	def(Flatten, OpInfo{Name: "flatten", Torch: "Flatten",
		Args: []Arg{{Name: "start_dim", Kind: ArgDim, Default: 1, Field: func(l *Layer) any { return &l.StartDim }},
			{Name: "end_dim", Kind: ArgDim, Default: -1, Field: func(l *Layer) any { return &l.EndDim }}},
		Shape: flattenShape, Saved: flattenSaved})
	def(Unflatten, OpInfo{Name: "unflatten", Torch: "Unflatten",
		Args: []Arg{{Name: "dim", Kind: ArgDim, Required: true, Field: func(l *Layer) any { return &l.Dim }},
			{Name: "sizes", Aliases: []string{"unflattened_size"}, Kind: ArgShape, Required: true, Field: func(l *Layer) any { return &l.Sizes }}},
		Shape: unflattenShape, Saved: flattenSaved})
	def(LayerNorm, OpInfo{Name: "layernorm", Torch: "LayerNorm", Primary: "shape",
		Args: []Arg{{Name: "shape", Aliases: []string{"normalized_shape"}, Kind: ArgShape, Field: func(l *Layer) any { return &l.NormShape }}, argEps,
			{Name: "elementwise_affine", Aliases: []string{"affine"}, Kind: ArgBool, Default: true, Field: fAffine},
			{Name: "bias", Kind: ArgBool, Default: true, Field: func(l *Layer) any { return &l.LayerNormBias }}},
		Shape: layerNormShape, Count: layerNormCount, Field: sameField, Saved: layerNormSaved})
	def(GroupNorm, OpInfo{Name: "groupnorm", Torch: "GroupNorm", Primary: "groups",
		Args: []Arg{{Name: "groups", Aliases: []string{"num_groups"}, Kind: ArgInt, Required: true, Field: fGroups}, argEps,
			{Name: "affine", Kind: ArgBool, Default: true, Field: fAffine},
			{Name: "in", Aliases: []string{"num_channels"}, Kind: ArgInt, Field: fIn}},
		Shape: groupNormShape, Count: groupNormCount, Field: sameField, Saved: groupNormSaved})
	for _, a := range []struct {
		op          Op
		name, torch string
		inplace     bool
		saved       func(l *Layer, lr *LayerResult, c *SaveCtx) Saving
	}{{ReLU, "relu", "ReLU", true, saveResultInplace(false)}, {ReLU6, "relu6", "ReLU6", true, saveInputCopyInplace},
		{SiLU, "silu", "SiLU", true, saveInputCopyInplace}, {Hardswish, "hardswish", "Hardswish", true, saveInputCopyInplace},
		{Sigmoid, "sigmoid", "Sigmoid", false, saveOutputElementwise}, {Tanh, "tanh", "Tanh", false, saveOutputElementwise},
		{Identity, "identity", "Identity", false, saveView},
		{SELU, "selu", "SELU", true, saveResultInplace(true)}, {Mish, "mish", "Mish", true, saveInputCopyInplace}} {
		var args []Arg
		if a.inplace {
			args = []Arg{argInplace}
		}
		def(a.op, OpInfo{Name: a.name, Torch: a.torch, Args: args, Shape: sameShape, Field: sameField, Saved: a.saved})
	}
	def(LeakyReLU, OpInfo{Name: "leakyrelu", Torch: "LeakyReLU", Aliases: []string{"leaky_relu"}, Primary: "negative_slope",
		Args:  []Arg{{Name: "negative_slope", Kind: ArgFloat, Default: 0.01, Field: func(l *Layer) any { return &l.NegativeSlope }}, argInplace},
		Shape: sameShape, Field: sameField, Saved: saveResultInplace(true)})
	def(ELU, OpInfo{Name: "elu", Torch: "ELU", Primary: "alpha",
		Args:  []Arg{{Name: "alpha", Kind: ArgFloat, Default: 1.0, Field: fAlpha}, argInplace},
		Shape: sameShape, Field: sameField, Saved: saveResultInplace(true)})
	def(GELU, OpInfo{Name: "gelu", Torch: "GELU", Primary: "approximate",
		Args:  []Arg{{Name: "approximate", Kind: ArgEnum, Enum: []string{"none", "tanh"}, Default: "none", Field: func(l *Layer) any { return &l.Approximate }}},
		Shape: sameShape, Field: sameField, Saved: saveInputElementwise})
	def(Softmax, OpInfo{Name: "softmax", Torch: "Softmax", Primary: "dim",
		Args:  []Arg{{Name: "dim", Kind: ArgDim, Default: 1, Field: func(l *Layer) any { return &l.Dim }}},
		Shape: softmaxShape, Field: sameField, Saved: saveOutputElementwise})
	def(Dropout, OpInfo{Name: "dropout", Torch: "Dropout", Primary: "p", Args: []Arg{argDropoutP, argInplace},
		Shape: dropoutShape, Field: sameField, Saved: dropoutSaved})
	def(Upsample, OpInfo{Name: "upsample", Torch: "Upsample", Primary: "scale", OneOf: []string{"scale", "size", "size_of"},
		Args: []Arg{{Name: "scale", Aliases: []string{"scale_factor"}, Kind: ArgScale, Field: func(l *Layer) any { return &l.Scale }},
			{Name: "size", Kind: ArgSizes, Field: func(l *Layer) any { return &l.Size }},
			{Name: "mode", Kind: ArgEnum, Enum: upsampleModeNames, Default: "nearest", Field: func(l *Layer) any { return &l.Mode }},
			{Name: "align_corners", Kind: ArgBool, Field: func(l *Layer) any { return &l.AlignCorners }},
			{Name: "size_of", Aliases: []string{"like"}, Kind: ArgRef}},
		SizeInput: true, Shape: upsampleShape, Saved: saveNothing})
	def(Hardsigmoid, OpInfo{Name: "hardsigmoid", Torch: "Hardsigmoid",
		Args:  []Arg{{Name: "alpha", Kind: ArgFloat, Default: 1.0 / 6, Field: fAlpha}, {Name: "beta", Kind: ArgFloat, Default: 0.5, Field: fBeta}, argInplace},
		Shape: sameShape, Field: sameField, Saved: hardsigmoidSaved})
	def(CELU, OpInfo{Name: "celu", Torch: "CELU", Primary: "alpha",
		Args: []Arg{{Name: "alpha", Kind: ArgFloat, Default: 1.0, Field: fAlpha, Check: func(l *Layer) string {
			if l.Alpha == 0 {
				return "ZeroDivisionError: alpha cannot be 0 for CELU"
			}
			return ""
		}}, argInplace},
		Shape: sameShape, Field: sameField, Saved: saveResultInplace(true)})
	def(PReLU, OpInfo{Name: "prelu", Torch: "PReLU", Primary: "num_parameters",
		Args: []Arg{{Name: "num_parameters", Aliases: []string{"n"}, Kind: ArgInt, Default: int64(1), Field: func(l *Layer) any { return &l.NumParams }},
			{Name: "init", Kind: ArgFloat, Default: 0.25, Field: fInit}},
		Shape: preluShape, Count: preluCount, Field: sameField, Saved: saveInputElementwise})
	def(Softplus, OpInfo{Name: "softplus", Torch: "Softplus", Primary: "beta",
		Args: []Arg{{Name: "beta", Kind: ArgFloat, Default: 1.0, Field: fBeta},
			{Name: "threshold", Kind: ArgFloat, Default: 20.0, Field: func(l *Layer) any { return &l.Threshold }}},
		Shape: sameShape, Field: sameField, Saved: saveInputElementwise})
	def(LogSoftmax, OpInfo{Name: "logsoftmax", Torch: "LogSoftmax", Aliases: []string{"log_softmax"}, Primary: "dim",
		Args:  []Arg{{Name: "dim", Kind: ArgDim, Default: 1, Field: func(l *Layer) any { return &l.Dim }}},
		Shape: softmaxShape, Field: sameField, Saved: saveOutputElementwise})
	def(Hardtanh, OpInfo{Name: "hardtanh", Torch: "Hardtanh", Aliases: []string{"clip"},
		Args: []Arg{{Name: "min_val", Aliases: []string{"min"}, Kind: ArgFloat, Default: -1.0, Field: func(l *Layer) any { return &l.MinVal }},
			{Name: "max_val", Aliases: []string{"max"}, Kind: ArgFloat, Default: 1.0, Field: func(l *Layer) any { return &l.MaxVal }}, argInplace},
		Shape: hardtanhShape, Field: sameField, Saved: saveInputCopyInplace})
	def(Chunk, OpInfo{Name: "chunk", Torch: "torch.chunk",
		Args: []Arg{{Name: "chunks", Kind: ArgInt, Required: true, Field: func(l *Layer) any { return &l.Chunks }},
			{Name: "index", Kind: ArgInt, Required: true, Field: fIndex},
			{Name: "dim", Kind: ArgDim, Default: 1, Field: func(l *Layer) any { return &l.Dim }}},
		Shape: chunkShape, Field: pieceField, Saved: pieceSaved})
	def(Split, OpInfo{Name: "split", Torch: "torch.split", OneOf: []string{"size", "sections"},
		Args: []Arg{{Name: "size", Aliases: []string{"split_size"}, Kind: ArgInt, Field: func(l *Layer) any { return &l.SplitSize }},
			{Name: "sections", Kind: ArgShape, Field: func(l *Layer) any { return &l.Sections }},
			{Name: "index", Kind: ArgInt, Required: true, Field: fIndex},
			{Name: "dim", Kind: ArgDim, Default: 1, Field: func(l *Layer) any { return &l.Dim }}},
		Shape: splitShape, Field: pieceField, Saved: pieceSaved})
	def(ChannelShuffle, OpInfo{Name: "channelshuffle", Torch: "ChannelShuffle", Aliases: []string{"channel_shuffle", "shuffle"}, Primary: "groups",
		Args:  []Arg{{Name: "groups", Kind: ArgInt, Required: true, Field: fGroups}},
		Shape: shuffleShape, Field: sameField, Saved: saveNothing})
	def(Permute, OpInfo{Name: "permute", Torch: "torch.permute", Primary: "dims",
		Args:  []Arg{{Name: "dims", Kind: ArgShape, Required: true, Field: func(l *Layer) any { return &l.Perm }}},
		Shape: permuteShape, Field: permuteField, Saved: permuteSaved})
	def(LayerNorm2d, OpInfo{Name: "layernorm2d", Torch: "LayerNorm2d", Rank: 2,
		Args: []Arg{argEps, {Name: "elementwise_affine", Aliases: []string{"affine"}, Kind: ArgBool, Default: true, Field: fAffine},
			{Name: "in", Aliases: []string{"num_channels"}, Kind: ArgInt, Field: fIn}},
		Shape: layerNorm2dShape, Count: layerNorm2dCount, Field: sameField, Saved: layerNorm2dSaved})
	def(LayerScale, OpInfo{Name: "layerscale", Torch: "LayerScale", Aliases: []string{"layer_scale"}, Primary: "init",
		Args:  []Arg{{Name: "init", Kind: ArgFloat, Default: 1e-6, Field: fInit}, {Name: "in", Aliases: []string{"channels"}, Kind: ArgInt, Field: fIn}},
		Shape: layerScaleShape, Count: layerScaleCount, Field: sameField, Saved: layerScaleSaved})
	def(StochasticDepth, OpInfo{Name: "stochasticdepth", Torch: "StochasticDepth", Aliases: []string{"stochastic_depth", "droppath", "drop_path"}, Primary: "p",
		Args: []Arg{{Name: "p", Kind: ArgFloat, Default: 0.0, Field: fP, Check: argDropoutP.Check},
			{Name: "mode", Kind: ArgEnum, Enum: []string{"row", "batch"}, Default: "row", Field: func(l *Layer) any { return &l.Mode }}},
		Shape: sameShape, Field: sameField, Saved: stochasticDepthSaved})
	def(Add, OpInfo{Name: "add", Torch: "torch.add", Merge: true, Shape: addShape, Field: unionField, Saved: saveNothingElementwise})
	def(Mul, OpInfo{Name: "mul", Torch: "torch.mul", Merge: true, Shape: mulShape, Field: unionField, Saved: mulSaved})
	def(Concat, OpInfo{Name: "concat", Torch: "torch.cat", Merge: true, Shape: concatShape, Field: concatField, Saved: saveNothing})
}

// RankOf returns 1, 2 or 3 when op is the 1-, 2- or 3-D kind of the family
// whose 1-D kind is first (Conv2d.RankOf(Conv1d) = 2), else 0.
func (op Op) RankOf(first Op) int {
	if op >= first && op < first+3 && first.Info().Rank == 1 {
		return int(op-first) + 1
	}
	return 0
}
