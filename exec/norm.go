package exec

import "math"

// Normalisation kernels with PyTorch's forward semantics.
//
// x and out are (N, C) or (N, C, spatial...) for BatchNorm, InstanceNorm and
// GroupNorm, viewed as (N, C, S) with S the product of the spatial axes
// (S = 1 for (N, C)); per-channel vectors (mean, variance, weight, bias) have
// C elements. LayerNorm views x as (R, normSize) instead. out may be x.
// Statistics are accumulated in float64 in two passes (mean, then the sum of
// squared deviations), which is at least as accurate as PyTorch's CPU
// Welford/float64 accumulation; variances used to normalise are biased
// (divided by the count).

// normDims views a shape (N, C, spatial...) as (N, C, S).
func normDims(shape []int) (n, c, s int) {
	n, c, s = shape[0], shape[1], 1
	for _, d := range shape[2:] {
		s *= d
	}
	return
}

// meanVar returns the mean and the biased variance of v, accumulated in
// float64.
func meanVar(v []float32) (mean, variance float64) {
	var sum float64
	for _, a := range v {
		sum += float64(a)
	}
	mean = sum / float64(len(v))
	var ss float64
	for _, a := range v {
		d := float64(a) - mean
		ss += d * d
	}
	return mean, ss / float64(len(v))
}

// normalize writes out[i] = (x[i] - mean)*scale + shift, in float64: the
// subtraction comes first so that a mean large against the spread costs no
// precision (PyTorch's CPU kernels fold mean into shift in float32 and lose
// some there).
func normalize(out, x []float32, mean, scale, shift float64) {
	out = out[:len(x)]
	for i, a := range x {
		out[i] = float32((float64(a)-mean)*scale + shift)
	}
}

// channelTerms returns the scale w[c]/sqrt(variance+eps) and shift b[c] of
// channel c, w and b optional (1 and 0 when nil).
func channelTerms(variance float64, eps float32, w, b []float32, c int) (scale, shift float64) {
	scale = 1 / math.Sqrt(variance+float64(eps))
	if w != nil {
		scale *= float64(w[c])
	}
	if b != nil {
		shift = float64(b[c])
	}
	return scale, shift
}

// BatchNorm is eval-mode batch normalisation with running statistics:
// out = (x - mean[c]) / sqrt(variance[c] + eps) * weight[c] + bias[c].
// x and out are (N, C) or (N, C, spatial...); mean, variance, weight and
// bias are (C); weight and bias are nil when affine=false.
func BatchNorm(out, x *Tensor, mean, variance, weight, bias []float32, eps float32) {
	n, c, s := normDims(x.Shape)
	forPlanes(c, int64(n)*int64(c)*int64(s), func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			scale, shift := channelTerms(float64(variance[ch]), eps, weight, bias, ch)
			for i := 0; i < n; i++ {
				off := (i*c + ch) * s
				normalize(out.Data[off:off+s], x.Data[off:off+s], float64(mean[ch]), scale, shift)
			}
		}
	})
}

// BatchNormTrain is train-mode batch normalisation: each channel is
// normalised with the mean and biased variance of its N*S values in x, and
// the running statistics are updated in place as PyTorch does:
// running = (1-momentum)*running + momentum*batch, with the unbiased
// variance (times M/(M-1), M = N*S) for runningVar. x and out are (N, C) or
// (N, C, spatial...); runningMean, runningVar, weight and bias are (C);
// weight and bias are nil when affine=false, runningMean and runningVar nil
// when track_running_stats=false. PyTorch refuses M = 1 ("Expected more
// than 1 value per channel when training"); here it makes the running
// variance NaN (0/0).
func BatchNormTrain(out, x *Tensor, runningMean, runningVar, weight, bias []float32, eps, momentum float32) {
	n, c, s := normDims(x.Shape)
	m := float64(n * s)
	mom := float64(momentum)
	for ch := 0; ch < c; ch++ {
		var sum float64
		for i := 0; i < n; i++ {
			off := (i*c + ch) * s
			for _, a := range x.Data[off : off+s] {
				sum += float64(a)
			}
		}
		mean := sum / m
		var ss float64
		for i := 0; i < n; i++ {
			off := (i*c + ch) * s
			for _, a := range x.Data[off : off+s] {
				d := float64(a) - mean
				ss += d * d
			}
		}
		scale, shift := channelTerms(ss/m, eps, weight, bias, ch)
		for i := 0; i < n; i++ {
			off := (i*c + ch) * s
			normalize(out.Data[off:off+s], x.Data[off:off+s], mean, scale, shift)
		}
		if runningMean != nil {
			runningMean[ch] = float32((1-mom)*float64(runningMean[ch]) + mom*mean)
		}
		if runningVar != nil {
			runningVar[ch] = float32((1-mom)*float64(runningVar[ch]) + mom*ss/(m-1))
		}
	}
}

// LayerNorm normalises every run of normSize trailing elements (the product
// of normalized_shape) with its own mean and biased variance:
// out[r][j] = (x[r][j] - mean[r]) / sqrt(var[r] + eps) * weight[j] + bias[j].
// x and out have any shape whose trailing axes multiply to a multiple of
// normSize, viewed as (R, normSize); weight and bias are (normSize), either
// nil when absent (bias=False gives a weight without a bias).
func LayerNorm(out, x *Tensor, normSize int, weight, bias []float32, eps float32) {
	for off := 0; off < len(x.Data); off += normSize {
		row := x.Data[off : off+normSize]
		dst := out.Data[off : off+normSize]
		mean, variance := meanVar(row)
		rstd := 1 / math.Sqrt(variance+float64(eps))
		switch {
		case weight == nil && bias == nil:
			normalize(dst, row, mean, rstd, 0)
		case bias == nil:
			for j, a := range row {
				dst[j] = float32((float64(a) - mean) * rstd * float64(weight[j]))
			}
		case weight == nil:
			for j, a := range row {
				dst[j] = float32((float64(a)-mean)*rstd + float64(bias[j]))
			}
		default:
			for j, a := range row {
				dst[j] = float32((float64(a)-mean)*rstd*float64(weight[j]) + float64(bias[j]))
			}
		}
	}
}

// InstanceNorm normalises each (n, c) plane of S values with its own mean
// and biased variance, then applies the per-channel weight and bias. When
// runningMean is non-nil (track_running_stats=True in eval mode) the running
// statistics are used instead of the instance's, as PyTorch's eval does.
// x and out are (N, C, spatial...); runningMean, runningVar, weight and bias
// are (C), nil when absent.
func InstanceNorm(out, x *Tensor, runningMean, runningVar, weight, bias []float32, eps float32) {
	n, c, s := normDims(x.Shape)
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			off := (i*c + ch) * s
			plane := x.Data[off : off+s]
			var mean, variance float64
			if runningMean != nil {
				mean, variance = float64(runningMean[ch]), float64(runningVar[ch])
			} else {
				mean, variance = meanVar(plane)
			}
			scale, shift := channelTerms(variance, eps, weight, bias, ch)
			normalize(out.Data[off:off+s], plane, mean, scale, shift)
		}
	}
}

// GroupNorm splits the C channels into groups of C/groups consecutive
// channels and normalises each (n, group) block of (C/groups)*S values with
// its own mean and biased variance, then applies the per-channel weight and
// bias. x and out are (N, C) or (N, C, spatial...); weight and bias are (C),
// nil when affine=false; C is a multiple of groups.
func GroupNorm(out, x *Tensor, groups int, weight, bias []float32, eps float32) {
	n, c, s := normDims(x.Shape)
	cg := c / groups
	for i := 0; i < n; i++ {
		for g := 0; g < groups; g++ {
			off := (i*c + g*cg) * s
			mean, variance := meanVar(x.Data[off : off+cg*s])
			for ch := g * cg; ch < (g+1)*cg; ch++ {
				scale, shift := channelTerms(variance, eps, weight, bias, ch)
				o := (i*c + ch) * s
				normalize(out.Data[o:o+s], x.Data[o:o+s], mean, scale, shift)
			}
		}
	}
}
