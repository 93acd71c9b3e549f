// Package fold decides which normalization layers of a network fold into
// a neighbouring conv, transposed conv or linear layer at inference, and
// builds the folded network, its tensors and its spec.
//
// In eval mode a batchnorm with running statistics is a fixed affine map
// per channel, x*s + t; after a conv, transposed conv or linear layer it is
// that layer with scaled weights and a new bias (exec.FoldBatchNorm), and
// the network loses a layer, its parameters and its buffers at no change
// of output. Decide says, for every normalization node, into which layer
// it folds or why it does not: it follows an activation, a pool or a merge;
// the layer before it feeds other layers too; it uses batch statistics; it
// is a layer, instance or group norm, whose statistics are per sample. A
// batchnorm that cannot fold into the layer before it folds into the conv
// or linear layer after it (exec.FoldBatchNormForward) when that layer is
// its only reader and does not pad with zeros. Spec (spec.go) carries the
// decisions into the spec's text, where a batchnorm written once in a
// block or a repeat folds only when every instance of it does.
package fold

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/exec"
)

// Decision is what happens to one normalization node.
type Decision struct {
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
func (d *Decision) Folds() bool { return d.Into >= 0 }

// role is how a kind of layer stands before a batchnorm, for the reasons.
var role = map[calc.Op]string{}

func init() {
	for _, op := range calc.Ops() {
		switch op {
		case calc.ReLU, calc.ReLU6, calc.SiLU, calc.Hardswish, calc.Hardsigmoid, calc.Sigmoid, calc.Tanh, calc.LeakyReLU,
			calc.ELU, calc.GELU, calc.SELU, calc.CELU, calc.PReLU, calc.Softplus, calc.Hardtanh, calc.Mish, calc.Softmax, calc.LogSoftmax:
			role[op] = "an activation"
		case calc.MaxPool1d, calc.MaxPool2d, calc.MaxPool3d, calc.AvgPool1d, calc.AvgPool2d, calc.AvgPool3d,
			calc.AdaptiveAvgPool1d, calc.AdaptiveAvgPool2d, calc.AdaptiveAvgPool3d, calc.AdaptiveMaxPool1d, calc.AdaptiveMaxPool2d, calc.AdaptiveMaxPool3d:
			role[op] = "a pool"
		case calc.BatchNorm1d, calc.BatchNorm2d, calc.BatchNorm3d, calc.InstanceNorm1d, calc.InstanceNorm2d, calc.InstanceNorm3d,
			calc.LayerNorm, calc.GroupNorm, calc.LayerNorm2d:
			role[op] = "a normalization"
		default:
			if op.Info().Merge {
				role[op] = "a merge"
			}
		}
	}
}

// IsBatchNorm reports whether op is batchnorm1d, 2d or 3d.
func IsBatchNorm(op calc.Op) bool { return op >= calc.BatchNorm1d && op <= calc.BatchNorm3d }

// perSample are the normalizations whose statistics are each sample's own.
func perSample(op calc.Op) bool {
	switch op {
	case calc.LayerNorm, calc.LayerNorm2d, calc.GroupNorm, calc.InstanceNorm1d, calc.InstanceNorm2d, calc.InstanceNorm3d:
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

func isConv(op calc.Op) bool { return op >= calc.Conv1d && op <= calc.Conv3d }

func isConvTranspose(op calc.Op) bool {
	return op >= calc.ConvTranspose1d && op <= calc.ConvTranspose3d
}

// Decide returns a decision for every normalization node of net (res is
// its analysis), in node order.
func Decide(net *calc.Network, res *calc.Result) []Decision {
	readers := make([][]int, len(net.Nodes))
	for i, n := range net.Nodes {
		for _, f := range n.From {
			if f >= 0 {
				readers[f] = append(readers[f], i)
			}
		}
	}
	var out []Decision
	for i := range net.Nodes {
		n := &net.Nodes[i]
		if role[n.Type] != "a normalization" {
			continue
		}
		d := Decision{Norm: i, Into: -1}
		switch {
		case perSample(n.Type):
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
func backward(net *calc.Network, res *calc.Result, readers [][]int, i int) (int, string) {
	p := net.Nodes[i].From[0]
	if p == calc.Input {
		return -1, "it normalises the network input: there is no layer before it"
	}
	prev := &net.Nodes[p]
	switch {
	case !isConv(prev.Type) && !isConvTranspose(prev.Type) && prev.Type != calc.Linear:
		what := role[prev.Type]
		if what == "" {
			what = "a " + prev.Type.String() + " layer"
			return -1, fmt.Sprintf("it follows %s (%s), not a conv, transposed conv or linear layer", prev.Name, what)
		}
		return -1, fmt.Sprintf("it follows %s (%s, %s)", what, prev.Name, prev.Type)
	case len(readers[p]) > 1:
		var others []string
		for _, r := range readers[p] {
			if r != i {
				others = append(others, net.Nodes[r].Name)
			}
		}
		return -1, fmt.Sprintf("its input, %s, feeds other layers too (%s)", prev.Name, strings.Join(others, ", "))
	case prev.Type == calc.Linear && len(res.Layers[p].Output) != 2:
		return -1, fmt.Sprintf("%s acts on the last axis of a %d-axis tensor and the batchnorm on axis 1: their channels differ", prev.Name, len(res.Layers[p].Output))
	}
	return p, ""
}

// forward is the layer after batchnorm i that it folds into, or -1 and,
// where it is a conv that pads with zeros, why not.
func forward(net *calc.Network, res *calc.Result, readers [][]int, i int) (int, string) {
	if len(readers[i]) != 1 {
		return -1, ""
	}
	q := readers[i][0]
	next := &net.Nodes[q]
	if len(next.From) != 1 {
		return -1, ""
	}
	switch {
	case isConv(next.Type) && exec.PadsWithZeros(&next.Layer):
		return -1, fmt.Sprintf("the conv after it (%s) pads with zeros, which would be normalised differently", next.Name)
	case isConv(next.Type):
		return q, ""
	case next.Type == calc.Linear && len(res.Layers[q].Inputs[0]) == 2:
		return q, ""
	}
	return -1, ""
}

// Network returns net with the folded normalizations removed: what read
// one reads the layer it folded into (backward) or its input (forward),
// and every layer something folded into has a bias. index[i] is node i's
// index in the result, -1 for a folded normalization.
func Network(net *calc.Network, ds []Decision) (calc.Network, []int) {
	removed := map[int]*Decision{}
	into := map[int]bool{}
	for k := range ds {
		if ds[k].Folds() {
			removed[ds[k].Norm] = &ds[k]
			into[ds[k].Into] = true
		}
	}
	index := make([]int, len(net.Nodes))
	out := calc.Network{Name: net.Name, Input: net.Input, Explain: net.Explain}
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

// Weights returns the folded network's tensors (Network's index maps the
// nodes) from the original network's: each folding layer's by
// exec.FoldBatchNorm or exec.FoldBatchNormForward, in node order (so that
// a layer with a batchnorm on either side takes the one before it first),
// the others' as they are (shared, not copied).
func Weights(net *calc.Network, ds []Decision, params []exec.Weights, index []int) ([]exec.Weights, error) {
	w := make([]exec.Weights, 0, len(params))
	for i := range params {
		if index[i] >= 0 {
			w = append(w, params[i])
		}
	}
	order := make([]*Decision, 0, len(ds))
	for k := range ds {
		if ds[k].Folds() {
			order = append(order, &ds[k])
		}
	}
	sort.Slice(order, func(a, b int) bool { return order[a].Norm < order[b].Norm })
	for _, d := range order {
		bn, l := &net.Nodes[d.Norm], &net.Nodes[d.Into]
		at := index[d.Into]
		var err error
		if d.Forward {
			w[at], err = exec.FoldBatchNormForward(&bn.Layer, &params[d.Norm], &l.Layer, &w[at])
		} else {
			w[at], err = exec.FoldBatchNorm(&l.Layer, &w[at], &bn.Layer, &params[d.Norm])
		}
		if err != nil {
			return nil, fmt.Errorf("folding %s into %s: %w", bn.Name, l.Name, err)
		}
	}
	return w, nil
}

// Explain is the fold of decision d worked for channel 0 with the numbers
// of the tensors (params, the original network's): the scale, the weight
// and the bias formulas, for a backward fold
//
//	s[0] = gamma[0]/sqrt(var[0] + eps) = 1.2/sqrt(0.8 + 1e-05) = 1.34164
//	W'[0] = W[0]*s[0]: W[0,0,0,0] 0.0512 -> 0.0687
//	b'[0] = (b[0] - mean[0])*s[0] + beta[0] = (0 - 0.1)*1.34164 + 0.05 = -0.0841641
//
// and for a forward one (input channel 0 of the layer after). It is ""
// for a decision that does not fold or tensors that do not fit.
func Explain(net *calc.Network, d *Decision, params []exec.Weights) string {
	if !d.Folds() {
		return ""
	}
	bn, l := &net.Nodes[d.Norm], &net.Nodes[d.Into]
	bw, w := &params[d.Norm], &params[d.Into]
	if bw.Mean == nil || bw.Var == nil || bw.Mean.Len() == 0 || w.Weight == nil || w.Weight.Len() == 0 {
		return ""
	}
	var folded exec.Weights
	var err error
	if d.Forward {
		folded, err = exec.FoldBatchNormForward(&bn.Layer, bw, &l.Layer, w)
	} else {
		folded, err = exec.FoldBatchNorm(&l.Layer, w, &bn.Layer, bw)
	}
	if err != nil {
		return ""
	}
	scale, shift, _ := exec.BatchNormAffine(&bn.Layer, bw)
	gamma, beta := "1", "0"
	if bw.Weight != nil {
		gamma = num(bw.Weight.Data[0])
	}
	if bw.Bias != nil {
		beta = num(bw.Bias.Data[0])
	}
	eps := strconvG(float64(float32(bn.Eps)))
	lines := []string{fmt.Sprintf("s[0] = gamma[0]/sqrt(var[0] + eps) = %s/sqrt(%s + %s) = %s", gamma, num(bw.Var.Data[0]), eps, strconvG(scale[0]))}
	// The weight of channel 0's first tap: index 0 of row 0 for a conv or
	// linear; of (0, 0) for a transposed conv (output channel 0 is column 0).
	first := "W[0,...]"
	if d.Forward {
		lines = append(lines, fmt.Sprintf("t[0] = beta[0] - mean[0]*s[0] = %s - %s*%s = %s", beta, num(bw.Mean.Data[0]), strconvG(scale[0]), strconvG(shift[0])))
		lines = append(lines, fmt.Sprintf("W'[:,0] = W[:,0]*s[0]: %s %s -> %s", "W[0,0,...]", num(w.Weight.Data[0]), num(folded.Weight.Data[0])))
		b := "0"
		if w.Bias != nil {
			b = num(w.Bias.Data[0])
		}
		lines = append(lines, fmt.Sprintf("b'[0] = b[0] + sum over c and taps of W[0,c,...]*t[c] = %s + %s = %s", b, strconvG(float64(folded.Bias.Data[0])-parse(b)), num(folded.Bias.Data[0])))
		return strings.Join(lines, "\n")
	}
	if isConvTranspose(l.Type) {
		first = "W[0,0,...]"
	}
	lines = append(lines, fmt.Sprintf("W'[0] = W[0]*s[0]: %s %s -> %s", first, num(w.Weight.Data[0]), num(folded.Weight.Data[0])))
	b := "0"
	if w.Bias != nil {
		b = num(w.Bias.Data[0])
	}
	lines = append(lines, fmt.Sprintf("b'[0] = (b[0] - mean[0])*s[0] + beta[0] = (%s - %s)*%s + %s = %s", b, num(bw.Mean.Data[0]), strconvG(scale[0]), beta, num(folded.Bias.Data[0])))
	return strings.Join(lines, "\n")
}

// num prints a float32 as Python prints it: the shortest text that reads
// back to the same float32.
func num(v float32) string { return strconv.FormatFloat(float64(v), 'g', -1, 32) }

func parse(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }

func strconvG(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
