package spec

import (
	"sort"
	"strings"
)

// kind is how an argument's YAML value is read.
type kind int

const (
	kInt     kind = iota // an integer
	kDim                 // an integer that may be negative (a PyTorch dim)
	kSizes               // an integer, or a list of one per spatial axis
	kPadding             // kSizes, or same / valid
	kOutSize             // kSizes whose entries may be null (keep the input size)
	kPadList             // an integer, or a list of two per spatial axis (may be negative)
	kShape               // an integer (the last axis) or a list of trailing axes
	kBool                // true or false
	kFloat               // a number
	kScale               // a number, or a list of one per spatial axis
	kEnum                // one of argDef.enum
	kIgnored             // accepted for PyTorch compatibility, no effect on any count (inplace)
)

type argDef struct {
	name     string
	aliases  []string
	kind     kind
	enum     []string
	required bool
}

type typeDef struct {
	name    string
	args    []argDef
	primary string
}

func (t *typeDef) arg(name string) *argDef {
	for i := range t.args {
		a := &t.args[i]
		if a.name == name {
			return a
		}
		for _, al := range a.aliases {
			if al == name {
				return a
			}
		}
	}
	return nil
}

// argNames lists every spelling the type accepts, for suggestions.
func (t *typeDef) argNames() []string {
	var s []string
	for _, a := range t.args {
		s = append(s, a.name)
		s = append(s, a.aliases...)
	}
	return s
}

var (
	argOut     = argDef{name: "out", aliases: []string{"out_channels"}, kind: kInt, required: true}
	argKernel  = argDef{name: "kernel", aliases: []string{"kernel_size"}, kind: kSizes, required: true}
	argStride  = argDef{name: "stride", kind: kSizes}
	argDil     = argDef{name: "dilation", kind: kSizes}
	argBias    = argDef{name: "bias", kind: kBool}
	argInCh    = argDef{name: "in", aliases: []string{"in_channels"}, kind: kInt}
	argEps     = argDef{name: "eps", kind: kFloat}
	argMom     = argDef{name: "momentum", kind: kFloat}
	argAffine  = argDef{name: "affine", kind: kBool}
	argTrack   = argDef{name: "track_running_stats", kind: kBool}
	argNumFeat = argDef{name: "in", aliases: []string{"num_features"}, kind: kInt}
	argInplace = argDef{name: "inplace", kind: kIgnored}
	argCeil    = argDef{name: "ceil_mode", kind: kBool}
	argPoolPad = argDef{name: "padding", kind: kSizes}
)

// types is every layer type of the contract, by canonical name.
var types = map[string]*typeDef{}

// aliases maps other spellings of a type to its canonical name.
var aliases = map[string]string{"fc": "linear", "dense": "linear"}

func def(t *typeDef) { types[t.name] = t }

func init() {
	for _, d := range []string{"1d", "2d", "3d"} {
		def(&typeDef{name: "conv" + d, args: []argDef{argOut, argKernel, argStride,
			{name: "padding", kind: kPadding}, argDil, {name: "groups", kind: kInt}, argBias,
			{name: "padding_mode", kind: kEnum, enum: []string{"zeros", "reflect", "replicate", "circular"}}, argInCh}})
		def(&typeDef{name: "convtranspose" + d, args: []argDef{argOut, argKernel, argStride,
			{name: "padding", kind: kSizes}, {name: "output_padding", kind: kSizes}, argDil,
			{name: "groups", kind: kInt}, argBias, {name: "padding_mode", kind: kEnum, enum: []string{"zeros"}}, argInCh}})
		def(&typeDef{name: "maxpool" + d, primary: "kernel", args: []argDef{argKernel, argStride, argPoolPad, argDil, argCeil,
			{name: "return_indices", kind: kEnum, enum: []string{"false"}}}})
		def(&typeDef{name: "avgpool" + d, primary: "kernel", args: []argDef{argKernel, argStride, argPoolPad, argCeil,
			{name: "count_include_pad", kind: kBool}}})
		for _, p := range []string{"adaptiveavgpool", "adaptivemaxpool"} {
			def(&typeDef{name: p + d, primary: "output", args: []argDef{{name: "output", aliases: []string{"output_size"}, kind: kOutSize, required: true}}})
		}
		def(&typeDef{name: "batchnorm" + d, args: []argDef{argEps, argMom, argAffine, argTrack, argNumFeat}})
		def(&typeDef{name: "instancenorm" + d, args: []argDef{argEps, argMom, argAffine, argTrack, argNumFeat}})
		def(&typeDef{name: "zeropad" + d, primary: "padding", args: []argDef{{name: "padding", kind: kPadList, required: true}}})
		def(&typeDef{name: "dropout" + d, primary: "p", args: []argDef{{name: "p", kind: kFloat}, argInplace}})
	}
	def(&typeDef{name: "linear", primary: "out", args: []argDef{{name: "out", aliases: []string{"out_features"}, kind: kInt, required: true}, argBias,
		{name: "in", aliases: []string{"in_features"}, kind: kInt}}})
	def(&typeDef{name: "flatten", args: []argDef{{name: "start_dim", kind: kDim}, {name: "end_dim", kind: kDim}}})
	def(&typeDef{name: "layernorm", primary: "shape", args: []argDef{{name: "shape", aliases: []string{"normalized_shape"}, kind: kShape}, argEps,
		{name: "elementwise_affine", aliases: []string{"affine"}, kind: kBool}, argBias}})
	def(&typeDef{name: "groupnorm", primary: "groups", args: []argDef{{name: "groups", aliases: []string{"num_groups"}, kind: kInt, required: true}, argEps, argAffine,
		{name: "in", aliases: []string{"num_channels"}, kind: kInt}}})
	for _, a := range []string{"relu", "relu6", "silu", "hardswish", "hardsigmoid"} {
		def(&typeDef{name: a, args: []argDef{argInplace}})
	}
	for _, a := range []string{"sigmoid", "tanh", "identity"} {
		def(&typeDef{name: a})
	}
	def(&typeDef{name: "leakyrelu", primary: "negative_slope", args: []argDef{{name: "negative_slope", kind: kFloat}, argInplace}})
	def(&typeDef{name: "elu", primary: "alpha", args: []argDef{{name: "alpha", kind: kFloat}, argInplace}})
	def(&typeDef{name: "gelu", primary: "approximate", args: []argDef{{name: "approximate", kind: kEnum, enum: []string{"none", "tanh"}}}})
	def(&typeDef{name: "softmax", primary: "dim", args: []argDef{{name: "dim", kind: kDim}}})
	def(&typeDef{name: "dropout", primary: "p", args: []argDef{{name: "p", kind: kFloat}, argInplace}})
	def(&typeDef{name: "upsample", primary: "scale", args: []argDef{{name: "scale", aliases: []string{"scale_factor"}, kind: kScale},
		{name: "size", kind: kSizes}, {name: "mode", kind: kEnum, enum: []string{"nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear"}},
		{name: "align_corners", kind: kBool}}})
	aliases["leaky_relu"] = "leakyrelu"
}

// canonical resolves a type spelling (case-insensitive, PyTorch class names
// included: Conv2d, BatchNorm2d, ReLU) to its canonical name, or "".
func canonical(name string) string {
	n := strings.ToLower(name)
	if _, ok := types[n]; ok {
		return n
	}
	if a, ok := aliases[n]; ok {
		return a
	}
	return ""
}

// typeNames lists the canonical types and merges, for suggestions.
func typeNames(blocks map[string]*blockDef) []string {
	names := []string{"add", "concat", "repeat", "residual"}
	for n := range types {
		names = append(names, n)
	}
	for n := range blocks {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
