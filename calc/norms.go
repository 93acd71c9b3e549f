package calc

import (
	"fmt"
	"strings"
)

// The four normalizations side by side, as the course presents them
// (Wu and He, "Group Normalization", 2018, figure 2): on an input of
// N x C x H x W each computes a mean and a variance over one set of axes
// and normalises every value with the pair of its set, then scales and
// shifts by gamma and beta:
//
//	batchnorm     over N, H, W    statistics 1 x C x 1 x 1, averaging N*H*W values
//	layernorm     over C, H, W    statistics N x 1 x 1 x 1, averaging C*H*W values
//	instancenorm  over H, W       statistics N x C x 1 x 1, averaging H*W values
//	groupnorm     over C/G, H, W  statistics N x G x 1 x 1, averaging (C/G)*H*W values
//
// For the fully-connected case N x D only batchnorm (1 x D, averaging N),
// layernorm (N x 1, averaging D) and groupnorm (N x G, averaging D/G) apply.
// Only batchnorm behaves differently at train and test time: it
// normalises with the batch's statistics in training and with running
// averages of them (its two buffers) at test time; the others use each
// sample's own statistics in both.

// NormStats is what one normalization computes on an input, at PyTorch's
// defaults for its torch.nn module.
type NormStats struct {
	Op Op
	// Module is the torch.nn module: nn.BatchNorm2d(64).
	Module string
	// Over names the axes each statistic averages over: "N, H, W".
	Over string
	// Stat is the shape of the mean and of the variance, with the input's
	// rank (1 x C x 1 x 1); Groups holds the group count of groupnorm,
	// whose statistics are N x G (one per sample and group of C/G
	// channels).
	Stat Shape
	// Affine is the shape of gamma and of beta, nil when the module has
	// none at its defaults (instancenorm's affine=False).
	Affine Shape
	// Count is how many values each statistic averages.
	Count int64
	// Params and Buffers are the module's, by the layer table's counts.
	Params, Buffers int64
	// TrainDiffers is set when train and test mode compute differently.
	TrainDiffers bool
}

// Norms returns batchnorm, layernorm, instancenorm and groupnorm (groups G)
// on an input of shape (batch first: N x C x H x W, N x C x L, N x C x D x
// H x W, or N x D), in that order; instancenorm is left out for N x D,
// which it does not take. It fails when G does not divide C or the shape
// is not 2 to 5 axes.
func Norms(shape Shape, groups int64) ([]NormStats, error) {
	if len(shape) < 2 || len(shape) > 5 {
		return nil, fmt.Errorf("a shape of %d axes; give N x C (x spatial, up to 3) or N x D", len(shape))
	}
	for _, d := range shape {
		if d < 1 || d > MaxDim {
			return nil, fmt.Errorf("shape %v: every size must be between 1 and %s", shape, Group(MaxDim))
		}
	}
	n, c := shape[0], shape[1]
	if groups < 1 || c%groups != 0 {
		return nil, fmt.Errorf("--groups %d does not divide the %d channels", groups, c)
	}
	nsp := len(shape) - 2
	spatial := int64(1)
	for _, d := range shape[2:] {
		spatial *= d
	}
	ones := func(lead ...int64) Shape {
		s := append(Shape(nil), lead...)
		for len(s) < len(shape) {
			s = append(s, 1)
		}
		return s
	}
	rank := max(nsp, 1)
	d := fmt.Sprint(rank) + "d"
	axes := func(names string) string {
		if nsp == 0 {
			return strings.ReplaceAll(names, "C", "D") // the lecture's N x D
		}
		return names + map[int]string{1: ", L", 2: ", H, W", 3: ", D, H, W"}[nsp]
	}
	bn := Layer{Type: BatchNorm1d + Op(rank-1), Eps: 1e-5, Momentum: 0.1, Affine: true, TrackRunningStats: true}
	ln := Layer{Type: LayerNorm, Eps: 1e-5, Affine: true, LayerNormBias: true}
	in := Layer{Type: InstanceNorm1d + Op(rank-1), Eps: 1e-5, Momentum: 0.1}
	gn := Layer{Type: GroupNorm, Groups: groups, Eps: 1e-5, Affine: true}
	out := []NormStats{
		{Op: bn.Type, Module: fmt.Sprintf("nn.BatchNorm%s(%d)", d, c), Over: axes("N"), Stat: ones(1, c), Affine: ones(1, c), Count: n * spatial, TrainDiffers: true},
		{Op: LayerNorm, Module: "nn.LayerNorm([" + strings.Trim(strings.Join(strings.Fields(fmt.Sprint([]int64(shape[1:]))), ", "), "[]") + "])", Over: axes("C"), Stat: ones(n), Affine: append(Shape{1}, shape[1:]...), Count: c * spatial},
	}
	layers := []Layer{bn, ln}
	if nsp > 0 {
		out = append(out, NormStats{Op: in.Type, Module: fmt.Sprintf("nn.InstanceNorm%s(%d)", d, c), Over: axes(""), Stat: ones(n, c), Count: spatial})
		out[len(out)-1].Over = out[len(out)-1].Over[2:]
		layers = append(layers, in)
	}
	out = append(out, NormStats{Op: GroupNorm, Module: fmt.Sprintf("nn.GroupNorm(%d, %d)", groups, c), Over: axes("C/G"), Stat: ones(n, groups), Affine: ones(1, c), Count: c / groups * spatial})
	layers = append(layers, gn)
	for i := range out {
		net := Network{Input: shape, Nodes: []Node{{Layer: layers[i], From: []int{Input}}}}
		res, errs := Analyze(&net)
		if len(errs) > 0 {
			return nil, fmt.Errorf("%s on %v: %s", out[i].Module, shape, errs[0].Msg)
		}
		out[i].Params, out[i].Buffers = res.Total.Params, res.Total.Buffers
	}
	return out, nil
}
