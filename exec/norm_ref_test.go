package exec

import "math"

// Slow, obviously right references of the norm kernels (norm.go). Every
// normalisation is the same computation over different sets of elements: a
// set id for each element picks the values whose mean and biased variance
// normalise it, and a parameter index picks its weight and bias. The
// references spell the sets out element by element, in float64.

// refNormalize normalises each element i of x with the statistics of the set
// set(i) (or with stats[set(i)] when stats is non-nil), then applies weight
// and bias at param(i), each optional. It returns the per-set means and
// biased variances it computed.
func refNormalize(out, x []float32, nsets int, set, param func(i int) int, stats *[2][]float64, weight, bias []float32, eps float32) (mean, variance, count []float64) {
	mean = make([]float64, nsets)
	variance = make([]float64, nsets)
	count = make([]float64, nsets)
	for i, v := range x {
		mean[set(i)] += float64(v)
		count[set(i)]++
	}
	for s := range mean {
		mean[s] /= count[s]
	}
	for i, v := range x {
		d := float64(v) - mean[set(i)]
		variance[set(i)] += d * d
	}
	for s := range variance {
		variance[s] /= count[s]
	}
	useMean, useVar := mean, variance
	if stats != nil {
		useMean, useVar = stats[0], stats[1]
	}
	y := make([]float64, len(x))
	for i, v := range x {
		s := set(i)
		y[i] = (float64(v) - useMean[s]) / math.Sqrt(useVar[s]+float64(eps))
		if weight != nil {
			y[i] *= float64(weight[param(i)])
		}
		if bias != nil {
			y[i] += float64(bias[param(i)])
		}
	}
	for i := range y {
		out[i] = float32(y[i])
	}
	return mean, variance, count
}

func f64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, a := range v {
		out[i] = float64(a)
	}
	return out
}

// channelOf returns the function giving the channel of element i of a
// (N, C, spatial...) tensor, and the batch index.
func channelOf(shape []int) (channel, sample func(i int) int) {
	c, s := shape[1], 1
	for _, d := range shape[2:] {
		s *= d
	}
	return func(i int) int { return i / s % c }, func(i int) int { return i / (s * c) }
}

func refBatchNorm(out, x *Tensor, mean, variance, weight, bias []float32, eps float32) {
	ch, _ := channelOf(x.Shape)
	stats := [2][]float64{f64s(mean), f64s(variance)}
	refNormalize(out.Data, x.Data, x.Shape[1], ch, ch, &stats, weight, bias, eps)
}

func refBatchNormTrain(out, x *Tensor, runningMean, runningVar, weight, bias []float32, eps, momentum float32) {
	ch, _ := channelOf(x.Shape)
	mean, variance, count := refNormalize(out.Data, x.Data, x.Shape[1], ch, ch, nil, weight, bias, eps)
	m := float64(momentum)
	for c := range mean {
		unbiased := variance[c] * count[c] / (count[c] - 1)
		runningMean[c] = float32((1-m)*float64(runningMean[c]) + m*mean[c])
		runningVar[c] = float32((1-m)*float64(runningVar[c]) + m*unbiased)
	}
}

func refLayerNorm(out, x *Tensor, normSize int, weight, bias []float32, eps float32) {
	row := func(i int) int { return i / normSize }
	col := func(i int) int { return i % normSize }
	refNormalize(out.Data, x.Data, x.Len()/normSize, row, col, nil, weight, bias, eps)
}

func refInstanceNorm(out, x *Tensor, runningMean, runningVar, weight, bias []float32, eps float32) {
	ch, n := channelOf(x.Shape)
	c := x.Shape[1]
	if runningMean != nil {
		// Every (n, c) plane uses channel c's running statistics.
		stats := [2][]float64{f64s(runningMean), f64s(runningVar)}
		refNormalize(out.Data, x.Data, c, ch, ch, &stats, weight, bias, eps)
		return
	}
	plane := func(i int) int { return n(i)*c + ch(i) }
	refNormalize(out.Data, x.Data, x.Shape[0]*c, plane, ch, nil, weight, bias, eps)
}

func refGroupNorm(out, x *Tensor, groups int, weight, bias []float32, eps float32) {
	ch, n := channelOf(x.Shape)
	cg := x.Shape[1] / groups
	group := func(i int) int { return n(i)*groups + ch(i)/cg }
	refNormalize(out.Data, x.Data, x.Shape[0]*groups, group, ch, nil, weight, bias, eps)
}
