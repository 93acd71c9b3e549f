package calc

import (
	"fmt"
	"slices"
	"strings"
)

// Folding normalizations for inference. In eval mode a batchnorm with
// running statistics is a fixed affine map per channel, x*s + t: after a
// conv, transposed conv or linear layer it is that layer with scaled
// weights and a new bias, and the network loses a layer, its parameters and
// its buffers at no change of output (the arithmetic is exec's
// FoldBatchNorm). DecideFolds says, for every normalization node, into
// which layer it folds or why it does not: it follows an activation, a pool
// or a merge; the layer before it feeds other layers too; it uses batch
// statistics; it is a layer, instance or group norm, whose statistics are
// per sample. A batchnorm that cannot fold into the layer before it folds
// into the conv or linear layer after it when that layer is its only reader
// and does not pad with zeros (exec's FoldBatchNormForward). FoldNetwork is
// the network without them. The decision is graph analysis only, so that a
// plan can fuse at run time what cnncalc fold folds in the spec.

// FoldDecision is what happens to one normalization node when its
// network is folded for inference (DecideFolds).
type FoldDecision struct {
	// Norm is the normalization node (an index into Network.Nodes).
	Norm int
	// Into is the conv, transposed conv or linear node it folds into, -1
	// when it does not fold.
	Into int
	// Forward is set when Into is the layer after the batchnorm (Into
	// reads it), not the one before.
	Forward bool
	// Reason says why it does not fold ("" when it does).
	Reason string
}

// Folds reports whether the normalization folds.
func (d *FoldDecision) Folds() bool { return d.Into >= 0 }

// foldRole is how a kind of layer stands before a batchnorm, for the
// reasons: "an activation", "a pool", "a normalization", "a merge" or "".
func foldRole(op Op) string {
	switch op {
	case ReLU, ReLU6, SiLU, Hardswish, Hardsigmoid, Sigmoid, Tanh, LeakyReLU,
		ELU, GELU, SELU, CELU, PReLU, Softplus, Hardtanh, Mish, Softmax, LogSoftmax:
		return "an activation"
	case MaxPool1d, MaxPool2d, MaxPool3d, AvgPool1d, AvgPool2d, AvgPool3d,
		AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d:
		return "a pool"
	case BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d,
		LayerNorm, GroupNorm, LayerNorm2d:
		return "a normalization"
	}
	if op.Info().Merge {
		return "a merge"
	}
	return ""
}

// perSampleNorm reports the normalizations whose statistics are each sample's own.
func perSampleNorm(op Op) bool {
	switch op {
	case LayerNorm, LayerNorm2d, GroupNorm, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d:
		return true
	}
	return false
}

// article is "a LayerNorm", "an InstanceNorm2d".
func article(name string) string {
	if name != "" && strings.ContainsRune("AEIOU", rune(name[0])) {
		return "an " + name
	}
	return "a " + name
}

func isConvOp(op Op) bool { return op >= Conv1d && op <= Conv3d }

func isConvTransposeOp(op Op) bool {
	return op >= ConvTranspose1d && op <= ConvTranspose3d
}

// DecideFolds returns a decision for every normalization node of net (res
// is its analysis), in node order: the conv, transposed conv or linear
// layer before it that a batchnorm folds into, else the conv or linear
// layer after it (Forward), else why it does not fold.
func DecideFolds(net *Network, res *Result) []FoldDecision {
	readers := make([][]int, len(net.Nodes))
	for i, n := range net.Nodes {
		for _, f := range n.From {
			if f >= 0 {
				readers[f] = append(readers[f], i)
			}
		}
	}
	var out []FoldDecision
	for i := range net.Nodes {
		n := &net.Nodes[i]
		if foldRole(n.Type) != "a normalization" {
			continue
		}
		d := FoldDecision{Norm: i, Into: -1}
		switch {
		case perSampleNorm(n.Type):
			d.Reason = fmt.Sprintf("it is %s, whose statistics are per sample and cannot be frozen into weights", article(n.Type.Info().Torch))
		case !n.TrackRunningStats:
			d.Reason = "it uses batch statistics (track_running_stats false), which cannot be frozen into weights"
		default:
			d.Into, d.Reason = backward(net, res, readers, i)
			if d.Into < 0 {
				if into, why := forward(net, res, readers, i); into >= 0 {
					d.Into, d.Forward, d.Reason = into, true, ""
				} else if why != "" {
					d.Reason += "; " + why
				}
			}
		}
		out = append(out, d)
	}
	return out
}

// backward is the layer before batchnorm i that it folds into, or -1 and
// why not.
func backward(net *Network, res *Result, readers [][]int, i int) (int, string) {
	p := net.Nodes[i].From[0]
	if p == Input {
		return -1, "it normalises the network input: there is no layer before it"
	}
	prev := &net.Nodes[p]
	switch {
	case !isConvOp(prev.Type) && !isConvTransposeOp(prev.Type) && prev.Type != Linear:
		what := foldRole(prev.Type)
		if what == "" {
			what = "a " + prev.Type.String() + " layer"
			return -1, fmt.Sprintf("it follows %s (%s), not a conv, transposed conv or linear layer", prev.Name, what)
		}
		who := prev.Name
		if !strings.HasPrefix(who, prev.Type.String()) {
			who += ", " + prev.Type.String() // a name of the spec's own
		}
		return -1, fmt.Sprintf("it follows %s (%s)", what, who)
	case len(readers[p]) > 1:
		var others []string
		for _, r := range readers[p] {
			if r != i {
				others = append(others, net.Nodes[r].Name)
			}
		}
		return -1, fmt.Sprintf("its input, %s, feeds other layers too (%s)", prev.Name, strings.Join(others, ", "))
	case prev.Type == Linear && len(res.Layers[p].Output) != 2:
		return -1, fmt.Sprintf("%s acts on the last axis of a %d-axis tensor and the batchnorm on axis 1: their channels differ", prev.Name, len(res.Layers[p].Output))
	}
	return p, ""
}

// forward is the layer after batchnorm i that it folds into, or -1 and,
// where it is a conv that pads with zeros, why not.
func forward(net *Network, res *Result, readers [][]int, i int) (int, string) {
	if len(readers[i]) != 1 {
		return -1, ""
	}
	q := readers[i][0]
	next := &net.Nodes[q]
	if len(next.From) != 1 {
		return -1, ""
	}
	switch {
	case isConvOp(next.Type) && PadsWithZeros(&next.Layer):
		return -1, fmt.Sprintf("the conv after it (%s) pads with zeros, which would be normalised differently", next.Name)
	case isConvOp(next.Type):
		return q, ""
	case next.Type == Linear && len(res.Layers[q].Inputs[0]) == 2:
		return q, ""
	}
	return -1, ""
}

// FoldNetwork returns net with the folded normalizations removed: what read
// one reads the layer it folded into (backward) or its input (forward),
// and every layer something folded into has a bias. index[i] is node i's
// index in the result, -1 for a folded normalization.
func FoldNetwork(net *Network, ds []FoldDecision) (Network, []int) {
	removed := map[int]*FoldDecision{}
	into := map[int]bool{}
	for k := range ds {
		if ds[k].Folds() {
			removed[ds[k].Norm] = &ds[k]
			into[ds[k].Into] = true
		}
	}
	index := make([]int, len(net.Nodes))
	out := Network{Name: net.Name, Input: net.Input, Explain: net.Explain}
	for i := range net.Nodes {
		if removed[i] != nil {
			index[i] = -1
			continue
		}
		index[i] = len(out.Nodes)
		n := net.Nodes[i]
		n.From = append([]int(nil), n.From...)
		n.Bias = n.Bias || into[i]
		out.Nodes = append(out.Nodes, n)
	}
	// resolve is the node that stands for f in the folded network.
	var resolve func(f int) int
	resolve = func(f int) int {
		for f >= 0 && removed[f] != nil {
			if d := removed[f]; d.Forward {
				f = net.Nodes[f].From[0]
			} else {
				f = d.Into
			}
		}
		if f < 0 {
			return f
		}
		return index[f]
	}
	for i := range net.Nodes {
		if index[i] < 0 {
			continue
		}
		from := out.Nodes[index[i]].From
		for k, f := range from {
			from[k] = resolve(f)
		}
	}
	return out, index
}

// PadsWithZeros reports whether a conv pads its input with zeros
// (padding_mode zeros, explicit padding or padding: same): a batchnorm
// before it would see those zeros normalised, so it cannot fold forward
// into it. Reflect, replicate and circular padding copy input values,
// which a per-channel affine map commutes with.
func PadsWithZeros(l *Layer) bool {
	if l.PaddingMode != "" && l.PaddingMode != "zeros" {
		return false
	}
	if l.PadMode != PadExplicit && l.PadMode != PadValid {
		return true
	}
	return slices.ContainsFunc(l.Padding, func(p int64) bool { return p != 0 })
}
