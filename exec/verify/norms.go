package verify

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/exec"
)

// NormCheck is what a run of one normalization's kernel shows of calc's
// description of it (calc.NormStats).
type NormCheck struct {
	// Groups is the number of statistics exec computed, Count the values
	// each averaged: the input's values grouped as the claimed statistic
	// shape groups them.
	Groups, Count int
	// MaxDiff is the largest difference between the kernel's output and
	// (x - mean)/sqrt(var + eps) with the mean and variance exec computed
	// over each claimed group: near 0 only when the kernel normalises over
	// exactly those groups.
	MaxDiff float64
	// TrainEvalDiff is the largest difference between the train-mode and
	// the test-mode output of the same input: batchnorm's test mode uses
	// its running statistics after one training step on this input
	// (momentum 0.1), the others are the same computation in both modes.
	TrainEvalDiff float64
}

// CheckNorm runs the normalization ns describes (at its defaults, gamma 1
// and beta 0) on a random input of the shape, drawn from seed with a mean
// and spread of its own for every sample and channel so that statistics
// over the wrong axes show, and compares its output with the one the
// claimed statistics give.
func CheckNorm(ns calc.NormStats, shape calc.Shape, seed uint64) (*NormCheck, error) {
	dims := make([]int, len(shape))
	for i, d := range shape {
		dims[i] = int(d)
	}
	if len(dims) < 2 || len(ns.Stat) != len(dims) {
		return nil, fmt.Errorf("statistics %v for an input %v", ns.Stat, shape)
	}
	x := exec.New(dims...)
	n, c := dims[0], dims[1]
	s := len(x.Data) / (n * c)
	r := rand.New(rand.NewPCG(seed, 0x6e6f726d73))
	for i := range n {
		for ch := range c {
			mean, spread := 4*r.NormFloat64(), 0.5+2*r.Float64()
			for k := range s {
				x.Data[(i*c+ch)*s+k] = float32(mean + spread*r.NormFloat64())
			}
		}
	}
	const eps = 1e-5
	run := func(train bool, running []float32) *exec.Tensor {
		out := exec.New(dims...)
		switch {
		case ns.Op >= calc.BatchNorm1d && ns.Op <= calc.BatchNorm3d && train:
			exec.BatchNormTrain(out, x, running[:c], running[c:], nil, nil, eps, 0.1)
		case ns.Op >= calc.BatchNorm1d && ns.Op <= calc.BatchNorm3d:
			exec.BatchNorm(out, x, running[:c], running[c:], nil, nil, eps)
		case ns.Op == calc.LayerNorm:
			exec.LayerNorm(out, x, c*s, nil, nil, eps)
		case ns.Op >= calc.InstanceNorm1d && ns.Op <= calc.InstanceNorm3d:
			exec.InstanceNorm(out, x, nil, nil, nil, nil, eps)
		case ns.Op == calc.GroupNorm:
			exec.GroupNorm(out, x, int(ns.Stat[1]), nil, nil, eps)
		}
		return out
	}
	// PyTorch's initial running statistics: mean 0, variance 1.
	running := make([]float32, 2*c)
	for i := c; i < 2*c; i++ {
		running[i] = 1
	}
	train := run(true, running)
	eval := run(false, running)

	// The claimed grouping: a statistic per (n, channel group) where Stat
	// keeps those axes, the spatial axes reduced (Stat is 1 there).
	// With N = 1 a shape of 1 does not tell a per-sample statistic from
	// one over the batch: only batchnorm's are over the batch.
	perSample := ns.Stat[0] != 1 || !(ns.Op >= calc.BatchNorm1d && ns.Op <= calc.BatchNorm3d)
	g := int(ns.Stat[1])
	if g < 1 || c%g != 0 {
		return nil, fmt.Errorf("statistics %v do not group %d channels", ns.Stat, c)
	}
	groups := g
	if perSample {
		groups *= n
	}
	group := func(i, ch int) int {
		k := ch / (c / g)
		if perSample {
			k += i * g
		}
		return k
	}
	sum, sq, cnt := make([]float64, groups), make([]float64, groups), make([]int, groups)
	for i := range n {
		for ch := range c {
			k := group(i, ch)
			for _, v := range x.Data[(i*c+ch)*s:][:s] {
				sum[k] += float64(v)
				cnt[k]++
			}
		}
	}
	for k := range sum {
		sum[k] /= float64(cnt[k])
	}
	for i := range n {
		for ch := range c {
			k := group(i, ch)
			for _, v := range x.Data[(i*c+ch)*s:][:s] {
				d := float64(v) - sum[k]
				sq[k] += d * d
			}
		}
	}
	check := &NormCheck{Groups: groups, Count: cnt[0]}
	for k := range cnt {
		if cnt[k] != cnt[0] {
			return nil, fmt.Errorf("groups of %d and %d values", cnt[0], cnt[k])
		}
	}
	out := train // the train-mode output: batch statistics for batchnorm
	for i := range n {
		for ch := range c {
			k := group(i, ch)
			rstd := 1 / math.Sqrt(sq[k]/float64(cnt[k])+eps)
			for j, v := range x.Data[(i*c+ch)*s:][:s] {
				want := (float64(v) - sum[k]) * rstd
				check.MaxDiff = math.Max(check.MaxDiff, math.Abs(float64(out.Data[(i*c+ch)*s+j])-want))
			}
		}
	}
	for i := range train.Data {
		check.TrainEvalDiff = math.Max(check.TrainEvalDiff, math.Abs(float64(train.Data[i])-float64(eval.Data[i])))
	}
	return check, nil
}
