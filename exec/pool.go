package exec

import "math"

// Pooling kernels. Every input is viewed as 3-D spatial (see dims5 and
// axes3): x is (N,C,D,H,W) and out is (N,C,OD,OH,OW), with kernel 1,
// stride 1, padding 0 and dilation 1 on the axes a 1-D or 2-D layer lacks.
// The caller sizes out with PyTorch's output shape, which already reflects
// ceil_mode: the last window may run past the padded input, and the kernels
// clip it exactly as PyTorch does.

// windowTaps returns the range [lo, hi) of kernel taps j in [0, k) whose
// input position start + j*dilation lies inside [0, in). hi <= lo means an
// empty window. start may be negative (left padding).
func windowTaps(start, k, dilation, in int) (lo, hi int) {
	lo, hi = 0, k
	if start < 0 {
		lo = (-start + dilation - 1) / dilation
	}
	if last := start + (k-1)*dilation; last >= in {
		if in-1-start < 0 {
			return lo, 0
		}
		hi = (in-1-start)/dilation + 1
	}
	return lo, hi
}

// MaxPool computes max pooling over 1 to 3 spatial axes.
// x is (N,C,L), (N,C,H,W) or (N,C,D,H,W); out is (N,C,OL), (N,C,OH,OW) or
// (N,C,OD,OH,OW); kernel, stride, padding and dilation have one entry per
// spatial axis. Window o starts at o*stride - padding and takes every
// dilation-th input; positions outside the input are ignored (PyTorch pads
// max pooling with -inf). A NaN in a window makes its output NaN, as in
// PyTorch.
func MaxPool(out, x *Tensor, kernel, stride, padding, dilation []int) {
	n, c, id, ih, iw := dims5(x.Shape)
	_, _, od, oh, ow := dims5(out.Shape)
	k, s, p, dl := axes3(kernel, 1), axes3(stride, 1), axes3(padding, 0), axes3(dilation, 1)
	inPlane, outPlane := id*ih*iw, od*oh*ow
	negInf := float32(math.Inf(-1))
	// Per output coordinate on each axis: the window's start and its taps
	// inside the input, [lo, hi).
	type taps struct{ start, lo, hi int }
	axis := func(o, k, s, p, d, in int) []taps {
		t := make([]taps, o)
		for i := range t {
			t[i].start = i*s - p
			t[i].lo, t[i].hi = windowTaps(t[i].start, k, d, in)
		}
		return t
	}
	zt, yt := axis(od, k[0], s[0], p[0], dl[0], id), axis(oh, k[1], s[1], p[1], dl[1], ih)
	// Per kernel column kw: the output columns whose tap kw lies inside
	// the input, [xlo, xhi), and the input column of output column 0.
	xlo, xhi, x0 := make([]int, k[2]), make([]int, k[2]), make([]int, k[2])
	for kw := range k[2] {
		off := kw*dl[2] - p[2]
		x0[kw] = off
		lo := 0
		if off < 0 {
			lo = (-off + s[2] - 1) / s[2]
		}
		hi := 0
		if iw-1-off >= 0 {
			hi = min(ow, (iw-1-off)/s[2]+1)
		}
		xlo[kw], xhi[kw] = lo, max(hi, lo)
	}
	sx := s[2]
	forPlanes(n*c, int64(n*c)*int64(outPlane)*int64(k[0]*k[1]*k[2]), func(lo, hi int) {
		for nc := lo; nc < hi; nc++ {
			xp := x.Data[nc*inPlane : (nc+1)*inPlane]
			op := out.Data[nc*outPlane : (nc+1)*outPlane]
			j := 0
			for _, z := range zt {
				for _, y := range yt {
					// One output row: the running maximum of every tap,
					// a whole row of output columns per tap.
					acc := op[j : j+ow]
					for i := range acc {
						acc[i] = negInf
					}
					for kd := z.lo; kd < z.hi; kd++ {
						dd := z.start + kd*dl[0]
						for kh := y.lo; kh < y.hi; kh++ {
							row := xp[(dd*ih+y.start+kh*dl[1])*iw:][:iw]
							for kw := range k[2] {
								// Go's max keeps a NaN, as PyTorch's
								// kernel does (of +0 and -0 it takes +0).
								a := acc[xlo[kw]:xhi[kw]]
								if len(a) == 0 {
									continue
								}
								r := row[xlo[kw]*sx+x0[kw]:]
								if sx == 1 {
									r = r[:len(a)]
									for i, v := range r {
										a[i] = max(a[i], v)
									}
									continue
								}
								for i := range a {
									a[i] = max(a[i], r[i*sx])
								}
							}
						}
					}
					j += ow
				}
			}
		}
	})
}

// AvgPool computes average pooling over 1 to 3 spatial axes.
// x is (N,C,L), (N,C,H,W) or (N,C,D,H,W); out is (N,C,OL), (N,C,OH,OW) or
// (N,C,OD,OH,OW); kernel, stride and padding have one entry per spatial axis.
//
// The divisor follows PyTorch's avg_pool2d/avg_pool3d CPU kernels. On each
// axis the window [start, start+k) with start = o*stride - padding is first
// clipped to the padded input, end = min(start+k, in+padding), giving
// poolSize = product of (end-start); it is then clipped to the input,
// [max(start,0), min(end,in)), for the sum. The divisor is poolSize when
// countIncludePad (padding counts, but not the part of a ceil_mode window
// beyond the right padding) and the number of input elements summed
// otherwise. A window with no input element gives 0.
func AvgPool(out, x *Tensor, kernel, stride, padding []int, countIncludePad bool) {
	n, c, id, ih, iw := dims5(x.Shape)
	_, _, od, oh, ow := dims5(out.Shape)
	k, s, p := axes3(kernel, 1), axes3(stride, 1), axes3(padding, 0)
	inPlane, outPlane := id*ih*iw, od*oh*ow
	for nc := 0; nc < n*c; nc++ {
		xp := x.Data[nc*inPlane : (nc+1)*inPlane]
		op := out.Data[nc*outPlane : (nc+1)*outPlane]
		for z := 0; z < od; z++ {
			d0, d1, dpool := avgWindow(z, k[0], s[0], p[0], id)
			for y := 0; y < oh; y++ {
				h0, h1, hpool := avgWindow(y, k[1], s[1], p[1], ih)
				for xo := 0; xo < ow; xo++ {
					w0, w1, wpool := avgWindow(xo, k[2], s[2], p[2], iw)
					o := &op[(z*oh+y)*ow+xo]
					if d0 >= d1 || h0 >= h1 || w0 >= w1 {
						*o = 0
						continue
					}
					var sum float32
					for dd := d0; dd < d1; dd++ {
						for hh := h0; hh < h1; hh++ {
							row := xp[(dd*ih+hh)*iw:]
							for ww := w0; ww < w1; ww++ {
								sum += row[ww]
							}
						}
					}
					divisor := (d1 - d0) * (h1 - h0) * (w1 - w0)
					if countIncludePad {
						divisor = dpool * hpool * wpool
					}
					*o = sum / float32(divisor)
				}
			}
		}
	}
}

// avgWindow returns, for output position o on one axis, the window clipped to
// the input, [lo, hi), and its extent poolSize when clipped only to the
// padded input (PyTorch's count_include_pad divisor).
func avgWindow(o, k, stride, pad, in int) (lo, hi, poolSize int) {
	lo = o*stride - pad
	hi = min(lo+k, in+pad)
	poolSize = hi - lo
	return max(lo, 0), min(hi, in), poolSize
}

// adaptiveStart and adaptiveEnd give PyTorch's adaptive pooling window for
// output index o of out over an axis of in: [floor(o*in/out),
// ceil((o+1)*in/out)). Windows may overlap and always hold at least one
// input.
func adaptiveStart(o, in, out int) int { return o * in / out }
func adaptiveEnd(o, in, out int) int   { return ((o+1)*in + out - 1) / out }

// AdaptiveAvgPool averages over adaptive windows on 1 to 3 spatial axes.
// x is (N,C,L), (N,C,H,W) or (N,C,D,H,W); out is (N,C,OL), (N,C,OH,OW) or
// (N,C,OD,OH,OW), its spatial sizes being the requested output size. Output
// index o on an axis of in inputs averages inputs [floor(o*in/out),
// ceil((o+1)*in/out)).
func AdaptiveAvgPool(out, x *Tensor) {
	n, c, id, ih, iw := dims5(x.Shape)
	_, _, od, oh, ow := dims5(out.Shape)
	inPlane, outPlane := id*ih*iw, od*oh*ow
	for nc := 0; nc < n*c; nc++ {
		xp := x.Data[nc*inPlane : (nc+1)*inPlane]
		op := out.Data[nc*outPlane : (nc+1)*outPlane]
		for z := 0; z < od; z++ {
			d0, d1 := adaptiveStart(z, id, od), adaptiveEnd(z, id, od)
			for y := 0; y < oh; y++ {
				h0, h1 := adaptiveStart(y, ih, oh), adaptiveEnd(y, ih, oh)
				for xo := 0; xo < ow; xo++ {
					w0, w1 := adaptiveStart(xo, iw, ow), adaptiveEnd(xo, iw, ow)
					var sum float32
					for dd := d0; dd < d1; dd++ {
						for hh := h0; hh < h1; hh++ {
							row := xp[(dd*ih+hh)*iw:]
							for ww := w0; ww < w1; ww++ {
								sum += row[ww]
							}
						}
					}
					op[(z*oh+y)*ow+xo] = sum / float32((d1-d0)*(h1-h0)*(w1-w0))
				}
			}
		}
	}
}

// AdaptiveMaxPool takes the maximum over adaptive windows on 1 to 3 spatial
// axes. x is (N,C,L), (N,C,H,W) or (N,C,D,H,W); out is (N,C,OL), (N,C,OH,OW)
// or (N,C,OD,OH,OW). Windows are those of AdaptiveAvgPool; a NaN in a window
// makes its output NaN.
func AdaptiveMaxPool(out, x *Tensor) {
	n, c, id, ih, iw := dims5(x.Shape)
	_, _, od, oh, ow := dims5(out.Shape)
	inPlane, outPlane := id*ih*iw, od*oh*ow
	negInf := float32(math.Inf(-1))
	for nc := 0; nc < n*c; nc++ {
		xp := x.Data[nc*inPlane : (nc+1)*inPlane]
		op := out.Data[nc*outPlane : (nc+1)*outPlane]
		for z := 0; z < od; z++ {
			d0, d1 := adaptiveStart(z, id, od), adaptiveEnd(z, id, od)
			for y := 0; y < oh; y++ {
				h0, h1 := adaptiveStart(y, ih, oh), adaptiveEnd(y, ih, oh)
				for xo := 0; xo < ow; xo++ {
					w0, w1 := adaptiveStart(xo, iw, ow), adaptiveEnd(xo, iw, ow)
					m := negInf
					for dd := d0; dd < d1; dd++ {
						for hh := h0; hh < h1; hh++ {
							row := xp[(dd*ih+hh)*iw:]
							for ww := w0; ww < w1; ww++ {
								if v := row[ww]; v > m || v != v {
									m = v
								}
							}
						}
					}
					op[(z*oh+y)*ow+xo] = m
				}
			}
		}
	}
}
