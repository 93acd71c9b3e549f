package exec

import "math"

// Slow, obviously right upsampling reference: for each output element and
// each spatial axis, the list of (input index, weight) contributions is
// computed from the mode's definition, and the output is the sum over their
// tensor product in float64. Only the source coordinate itself is computed in
// float32, since PyTorch's choice of neighbours depends on its rounding.

type refTap struct {
	i int
	w float64
}

// refSourceCoord is the input coordinate of output o on an axis of in inputs
// and out outputs, as PyTorch computes it for float32 tensors (unclamped).
func refSourceCoord(o, in, out int, alignCorners bool, scale float64) float32 {
	if alignCorners {
		if out <= 1 {
			return 0
		}
		r := float32(in-1) / float32(out-1)
		return r * float32(o)
	}
	var r float32
	if scale > 0 {
		r = float32(1 / scale)
	} else {
		r = float32(in) / float32(out)
	}
	return float32(float64(r)*(float64(o)+0.5) - 0.5)
}

// refKeys is Keys' cubic convolution kernel with A = -0.75.
func refKeys(x float64) float64 {
	const a = -0.75
	x = math.Abs(x)
	switch {
	case x <= 1:
		return (a+2)*x*x*x - (a+3)*x*x + 1
	case x < 2:
		return a*x*x*x - 5*a*x*x + 8*a*x - 4*a
	}
	return 0
}

// refAxisTaps lists the contributions to output o along one axis. c1 is true
// for a rank 4 or 5 input with one channel, which PyTorch's nearest mode
// handles with its channels-last kernel.
func refAxisTaps(mode string, o, in, out int, alignCorners bool, scale float64, c1 bool) []refTap {
	switch mode {
	case "nearest":
		if c1 && out == in {
			return []refTap{{o, 1}}
		}
		if c1 && out == 2*in {
			return []refTap{{o / 2, 1}}
		}
		var r float32
		if scale > 0 {
			r = float32(1 / scale)
		} else {
			r = float32(in) / float32(out)
		}
		i := int(math.Floor(float64(r * float32(o))))
		return []refTap{{min(i, in-1), 1}}
	case "nearest-exact":
		s := max(refSourceCoord(o, in, out, false, scale), 0)
		i := int(math.Floor(float64(float32(float64(s) + 0.5))))
		return []refTap{{min(i, in-1), 1}}
	case "bicubic":
		s := float64(refSourceCoord(o, in, out, alignCorners, scale))
		f := math.Floor(s)
		var taps []refTap
		for j := -1; j <= 2; j++ {
			tap := f + float64(j)
			taps = append(taps, refTap{min(max(int(tap), 0), in-1), refKeys(s - tap)})
		}
		return taps
	default: // linear: the triangle kernel around the coordinate, clamped into the input
		if in == out {
			return []refTap{{o, 1}}
		}
		s := math.Min(math.Max(float64(refSourceCoord(o, in, out, alignCorners, scale)), 0), float64(in-1))
		var taps []refTap
		for i := 0; i < in; i++ {
			if w := 1 - math.Abs(s-float64(i)); w > 0 {
				taps = append(taps, refTap{i, w})
			}
		}
		return taps
	}
}

// refUpsample: x is (N,C,spatial...), out (N,C,spatial'...).
func refUpsample(out, x *Tensor, mode string, alignCorners bool, scale []float64) {
	rank := len(x.Shape) - 2
	N, C, D, H, W := dims5(x.Shape)
	_, _, OD, OH, OW := dims5(out.Shape)
	var sc [3]float64
	if scale != nil {
		copy(sc[3-rank:], scale)
	}
	c1 := rank >= 2 && C == 1
	i := 0
	for n := 0; n < N; n++ {
		for c := 0; c < C; c++ {
			for od := 0; od < OD; od++ {
				for oh := 0; oh < OH; oh++ {
					for ow := 0; ow < OW; ow++ {
						sum := 0.0
						for _, a := range refAxisTaps(mode, od, D, OD, alignCorners, sc[0], c1) {
							for _, b := range refAxisTaps(mode, oh, H, OH, alignCorners, sc[1], c1) {
								for _, e := range refAxisTaps(mode, ow, W, OW, alignCorners, sc[2], c1) {
									sum += a.w * b.w * e.w * float64(refAt5(x, n, c, a.i, b.i, e.i))
								}
							}
						}
						out.Data[i] = float32(sum)
						i++
					}
				}
			}
		}
	}
}
