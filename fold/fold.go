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

// Decision is what happens to one normalization node (calc.FoldDecision).
type Decision = calc.FoldDecision

// Decide is calc.DecideFolds: a decision for every normalization node.
func Decide(net *calc.Network, res *calc.Result) []Decision { return calc.DecideFolds(net, res) }

// Network is calc.FoldNetwork: net without the folded normalizations, and
// where each node went (-1 for a folded normalization).
func Network(net *calc.Network, ds []Decision) (calc.Network, []int) {
	return calc.FoldNetwork(net, ds)
}

func isConvTranspose(op calc.Op) bool {
	return op >= calc.ConvTranspose1d && op <= calc.ConvTranspose3d
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
