package spec

import (
	"sort"
	"strings"

	"github.com/cnncalc/cnncalc/calc"
)

// The layer types a spec may name, their aliases and their argument schemas
// are calc's table of kinds (calc/ops.go); this file only looks them up.

// typeNames lists the canonical types, the merges and the blocks, for
// suggestions.
func typeNames(blocks map[string]*blockDef) []string {
	names := []string{"add", "concat", "gate", "mul", "repeat", "residual"}
	for _, op := range calc.Ops() {
		if info := op.Info(); !info.Merge {
			names = append(names, info.Name)
		}
	}
	for n := range blocks {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// mergeOp is the merge kind a spec keyword (add, concat) names.
func mergeOp(keyword string) calc.Op {
	for _, op := range calc.Ops() {
		if info := op.Info(); info.Merge && info.Name == keyword {
			return op
		}
	}
	return calc.Unknown
}

// unsupportedTorch names the torch.nn layers cnncalc does not have, by
// their lower-case spelling, so that one is reported as such rather than as
// a typo of a layer it has (prelu was once "did you mean relu?").
var unsupportedTorch = map[string]string{}

func init() {
	for _, n := range []string{"RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "Transformer", "TransformerEncoder",
		"TransformerDecoder", "TransformerEncoderLayer", "TransformerDecoderLayer", "MultiheadAttention", "Embedding",
		"EmbeddingBag", "PixelShuffle", "PixelUnshuffle", "Unfold", "Fold", "Unflatten", "Bilinear", "RReLU", "GLU",
		"Softsign", "Softshrink", "Hardshrink", "Tanhshrink", "Threshold", "LogSigmoid", "Softmin", "Softmax2d",
		"AdaptiveLogSoftmaxWithLoss", "LocalResponseNorm", "CrossMapLRN2d", "SyncBatchNorm", "AlphaDropout",
		"FeatureAlphaDropout", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d",
		"ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d", "CircularPad2d",
		"CircularPad3d", "FractionalMaxPool2d", "FractionalMaxPool3d", "LPPool1d", "LPPool2d", "MaxUnpool1d", "MaxUnpool2d",
		"MaxUnpool3d", "UpsamplingNearest2d", "UpsamplingBilinear2d", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyLinear",
		"Identity2d", "CosineSimilarity", "PairwiseDistance"} {
		if _, ours := calc.Lookup(n); !ours {
			unsupportedTorch[strings.ToLower(n)] = n
		}
	}
}
