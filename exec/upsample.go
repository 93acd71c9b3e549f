package exec

import (
	"fmt"
	"math"
)

// Upsample resizes the spatial axes of x into out by interpolation, with
// PyTorch's F.interpolate / nn.Upsample semantics on CPU.
// x is (N,C,L), (N,C,H,W) or (N,C,D,H,W); out has the same rank, N and C,
// and its spatial sizes are the output size. mode is "nearest",
// "nearest-exact" (any rank), "linear" (rank 3), "bilinear" (rank 4),
// "bicubic" (rank 4) or "trilinear" (rank 5). alignCorners applies to the
// linear modes and bicubic only. scale holds the user's scale_factor per
// spatial axis, or is nil when the user gave a size.
//
// Per axis of in inputs and out outputs, the source-index scale is, as in
// PyTorch's area_pixel_compute_scale, (in-1)/(out-1) with alignCorners (0
// when out is 1), else 1/scale_factor when a scale_factor was given (not
// in/out: the two differ when in*scale_factor is not a whole number), else
// in/out. Index arithmetic is done in float32 as PyTorch does for float32
// tensors, since a float64 floor can pick a different neighbour.
//
//   - nearest:       src = min(floor(scale*o), in-1); but for a 2-D or 3-D
//     input with C == 1, which PyTorch also sees as channels-last and sends to
//     its channels-last kernel, an axis with out == in copies (src = o) and
//     one with out == 2*in takes src = o/2, whatever the scale_factor
//   - nearest-exact: src = min(floor(s + 0.5), in-1), s = max(scale*(o+0.5) - 0.5, 0)
//   - linear modes:  s = scale*o with alignCorners, else max(scale*(o+0.5) - 0.5, 0);
//     taps floor(s) and floor(s)+1 (clamped to in-1), weights 1-t and t, t = s - floor(s);
//     an axis with out == in is copied
//   - bicubic:       s as for linear but not clamped at 0; taps floor(s)-1 .. floor(s)+2,
//     each clamped to [0, in-1], with Keys' cubic convolution weights, A = -0.75
//
// Each output is the tensor product of its axes' taps, reduced outermost axis
// first as PyTorch's separable kernel does.
func Upsample(out, x *Tensor, mode string, alignCorners bool, scale []float64) {
	rank := len(x.Shape) - 2
	want := rank
	switch mode {
	case "nearest", "nearest-exact":
	case "linear":
		want = 1
	case "bilinear", "bicubic":
		want = 2
	case "trilinear":
		want = 3
	default:
		panic(fmt.Sprintf("exec.Upsample: unknown mode %q", mode))
	}
	if rank != want || rank < 1 || rank > 3 {
		panic(fmt.Sprintf("exec.Upsample: mode %s cannot take input %v", mode, x))
	}
	n, c, id, ih, iw := dims5(x.Shape)
	_, _, od, oh, ow := dims5(out.Shape)
	var sc [3]float64 // 0: no scale_factor on that axis
	if scale != nil {
		copy(sc[3-rank:], scale)
	}
	// PyTorch runs a C == 1 tensor of rank 4 or 5, which is channels-last
	// contiguous as well, through its channels-last kernel, whose nearest
	// index (nearest_idx) special-cases out == in and out == 2*in.
	shortcuts := mode == "nearest" && rank >= 2 && c == 1
	td := upsampleTaps(mode, id, od, alignCorners, sc[0], shortcuts)
	th := upsampleTaps(mode, ih, oh, alignCorners, sc[1], shortcuts)
	tw := upsampleTaps(mode, iw, ow, alignCorners, sc[2], shortcuts)
	inPlane, outPlane := id*ih*iw, od*oh*ow
	for nc := 0; nc < n*c; nc++ {
		xp := x.Data[nc*inPlane : (nc+1)*inPlane]
		op := out.Data[nc*outPlane : (nc+1)*outPlane]
		for z := 0; z < od; z++ {
			dIdx, dWt := td.at(z)
			for y := 0; y < oh; y++ {
				hIdx, hWt := th.at(y)
				for xo := 0; xo < ow; xo++ {
					wIdx, wWt := tw.at(xo)
					var acc float32
					for a, dd := range dIdx {
						var accH float32
						for b, hh := range hIdx {
							row := xp[(dd*ih+hh)*iw:]
							var accW float32
							for e, ww := range wIdx {
								accW += row[ww] * wWt[e]
							}
							accH += accW * hWt[b]
						}
						acc += accH * dWt[a]
					}
					op[(z*oh+y)*ow+xo] = acc
				}
			}
		}
	}
}

// axisTaps holds, for each output index o of one axis, its taps input
// indices idx[o*taps : (o+1)*taps] and weights wt[o*taps : (o+1)*taps].
type axisTaps struct {
	taps int
	idx  []int
	wt   []float32
}

func (t *axisTaps) at(o int) ([]int, []float32) {
	return t.idx[o*t.taps : (o+1)*t.taps], t.wt[o*t.taps : (o+1)*t.taps]
}

// cubicA is the A of Keys' cubic convolution kernel that PyTorch's bicubic
// interpolation uses.
const cubicA float32 = -0.75

// upsampleTaps computes the taps of one axis of in inputs and out outputs.
// scale is the user's scale_factor, 0 if none. nearestShortcuts selects
// PyTorch's nearest_idx rule for mode "nearest" (see Upsample).
func upsampleTaps(mode string, in, out int, alignCorners bool, scale float64, nearestShortcuts bool) axisTaps {
	taps := 1
	switch mode {
	case "linear", "bilinear", "trilinear":
		taps = 2
	case "bicubic":
		taps = 4
	}
	t := axisTaps{taps: taps, idx: make([]int, out*taps), wt: make([]float32, out*taps)}
	if mode == "nearest" || mode == "nearest-exact" {
		alignCorners = false // PyTorch's nearest kernels always pass false
	}
	r := sourceScale(in, out, alignCorners, scale)
	for o := 0; o < out; o++ {
		idx, wt := t.idx[o*taps:(o+1)*taps], t.wt[o*taps:(o+1)*taps]
		switch mode {
		case "nearest":
			switch {
			case nearestShortcuts && out == in:
				idx[0] = o
			case nearestShortcuts && out == 2*in:
				idx[0] = o / 2
			default:
				idx[0] = min(int(floor32(r*float32(o))), in-1)
			}
			wt[0] = 1
		case "nearest-exact":
			s := sourceIndex(r, o, false, false)
			idx[0] = min(int(floor32(float32(float64(s)+0.5))), in-1)
			wt[0] = 1
		case "bicubic":
			s := sourceIndex(r, o, alignCorners, true)
			i := floor32(s)
			cubicWeights(wt, s-i)
			for j := range idx {
				idx[j] = min(max(int(i)-1+j, 0), in-1)
			}
		default: // linear, bilinear, trilinear
			if in == out {
				idx[0], idx[1], wt[0], wt[1] = o, o, 1, 0
				continue
			}
			s := sourceIndex(r, o, alignCorners, false)
			i0 := min(int(s), in-1) // s >= 0, so int truncates as floor
			i1 := i0
			if i0 < in-1 {
				i1++
			}
			l1 := min(max(s-float32(i0), 0), 1)
			idx[0], idx[1], wt[0], wt[1] = i0, i1, 1-l1, l1
		}
	}
	return t
}

// sourceScale is PyTorch's area_pixel_compute_scale for float32 tensors:
// input pixels per output pixel along one axis.
func sourceScale(in, out int, alignCorners bool, scale float64) float32 {
	switch {
	case alignCorners && out > 1:
		return float32(in-1) / float32(out-1)
	case alignCorners:
		return 0
	case scale > 0:
		return float32(1.0 / scale)
	default:
		return float32(in) / float32(out)
	}
}

// sourceIndex is PyTorch's area_pixel_compute_source_index: the input
// coordinate of output index o. Without alignCorners it maps pixel centres,
// computed in float64 and rounded to float32 as PyTorch does, and clamps
// negative values to 0 unless cubic.
func sourceIndex(scale float32, o int, alignCorners, cubic bool) float32 {
	if alignCorners {
		return scale * float32(o)
	}
	s := float32(float64(scale)*(float64(o)+0.5) - 0.5)
	if !cubic && s < 0 {
		return 0
	}
	return s
}

func floor32(v float32) float32 { return float32(math.Floor(float64(v))) }

// cubicWeights sets w to the four cubic convolution weights of taps
// floor(s)-1 .. floor(s)+2 for fractional offset t = s - floor(s).
func cubicWeights(w []float32, t float32) {
	w[0] = cubicFar(t + 1)
	w[1] = cubicNear(t)
	x2 := 1 - t
	w[2] = cubicNear(x2)
	w[3] = cubicFar(x2 + 1)
}

// cubicNear is Keys' kernel for distances |x| <= 1.
func cubicNear(x float32) float32 { return ((cubicA+2)*x-(cubicA+3))*x*x + 1 }

// cubicFar is Keys' kernel for distances 1 < |x| < 2.
func cubicFar(x float32) float32 { return ((cubicA*x-5*cubicA)*x+8*cubicA)*x - 4*cubicA }
