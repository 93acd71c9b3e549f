package exec

import "math"

// Slow, obviously right pooling references: one output element at a time,
// every kernel tap visited with an explicit bounds check, sums in float64.

// refAt5 reads x viewed as (N,C,D,H,W).
func refAt5(x *Tensor, n, c, d, h, w int) float32 {
	_, C, D, H, W := dims5(x.Shape)
	return x.Data[(((n*C+c)*D+d)*H+h)*W+w]
}

// refMaxPool: x is (N,C,spatial...), out (N,C,spatial'...).
func refMaxPool(out, x *Tensor, kernel, stride, padding, dilation []int) {
	N, C, D, H, W := dims5(x.Shape)
	_, _, OD, OH, OW := dims5(out.Shape)
	k, s, p, dl := axes3(kernel, 1), axes3(stride, 1), axes3(padding, 0), axes3(dilation, 1)
	i := 0
	for n := 0; n < N; n++ {
		for c := 0; c < C; c++ {
			for od := 0; od < OD; od++ {
				for oh := 0; oh < OH; oh++ {
					for ow := 0; ow < OW; ow++ {
						m := float32(math.Inf(-1))
						for kd := 0; kd < k[0]; kd++ {
							for kh := 0; kh < k[1]; kh++ {
								for kw := 0; kw < k[2]; kw++ {
									d := od*s[0] - p[0] + kd*dl[0]
									h := oh*s[1] - p[1] + kh*dl[1]
									w := ow*s[2] - p[2] + kw*dl[2]
									if d < 0 || d >= D || h < 0 || h >= H || w < 0 || w >= W {
										continue
									}
									v := refAt5(x, n, c, d, h, w)
									if math.IsNaN(float64(v)) || math.IsNaN(float64(m)) {
										m = float32(math.NaN())
									} else if v > m {
										m = v
									}
								}
							}
						}
						out.Data[i] = m
						i++
					}
				}
			}
		}
	}
}

// refAvgPool: x is (N,C,spatial...), out (N,C,spatial'...). Every tap of
// the window is visited: a tap inside the padded input [-pad, in+pad) on
// every axis counts towards the count_include_pad divisor, a tap inside the
// input is summed and counts towards the other divisor.
func refAvgPool(out, x *Tensor, kernel, stride, padding []int, countIncludePad bool) {
	N, C, D, H, W := dims5(x.Shape)
	_, _, OD, OH, OW := dims5(out.Shape)
	k, s, p := axes3(kernel, 1), axes3(stride, 1), axes3(padding, 0)
	i := 0
	for n := 0; n < N; n++ {
		for c := 0; c < C; c++ {
			for od := 0; od < OD; od++ {
				for oh := 0; oh < OH; oh++ {
					for ow := 0; ow < OW; ow++ {
						sum, inPad, inInput := 0.0, 0, 0
						for kd := 0; kd < k[0]; kd++ {
							for kh := 0; kh < k[1]; kh++ {
								for kw := 0; kw < k[2]; kw++ {
									d := od*s[0] - p[0] + kd
									h := oh*s[1] - p[1] + kh
									w := ow*s[2] - p[2] + kw
									if d >= D+p[0] || h >= H+p[1] || w >= W+p[2] {
										continue // past the right padding (ceil_mode)
									}
									inPad++
									if d < 0 || d >= D || h < 0 || h >= H || w < 0 || w >= W {
										continue
									}
									inInput++
									sum += float64(refAt5(x, n, c, d, h, w))
								}
							}
						}
						divisor := inInput
						if countIncludePad {
							divisor = inPad
						}
						if inInput == 0 {
							out.Data[i] = 0
						} else {
							out.Data[i] = float32(sum / float64(divisor))
						}
						i++
					}
				}
			}
		}
	}
}

// refAdaptiveWindow is [floor(o*in/out), ceil((o+1)*in/out)) in real arithmetic.
func refAdaptiveWindow(o, in, out int) (int, int) {
	return int(math.Floor(float64(o*in) / float64(out))), int(math.Ceil(float64((o+1)*in) / float64(out)))
}

// refAdaptivePool: x is (N,C,spatial...), out (N,C,spatial'...); max or average.
func refAdaptivePool(out, x *Tensor, isMax bool) {
	N, C, D, H, W := dims5(x.Shape)
	_, _, OD, OH, OW := dims5(out.Shape)
	i := 0
	for n := 0; n < N; n++ {
		for c := 0; c < C; c++ {
			for od := 0; od < OD; od++ {
				d0, d1 := refAdaptiveWindow(od, D, OD)
				for oh := 0; oh < OH; oh++ {
					h0, h1 := refAdaptiveWindow(oh, H, OH)
					for ow := 0; ow < OW; ow++ {
						w0, w1 := refAdaptiveWindow(ow, W, OW)
						sum, cnt, m := 0.0, 0, math.Inf(-1)
						for d := d0; d < d1; d++ {
							for h := h0; h < h1; h++ {
								for w := w0; w < w1; w++ {
									v := float64(refAt5(x, n, c, d, h, w))
									sum += v
									cnt++
									if v > m || math.IsNaN(v) {
										m = v
									}
								}
							}
						}
						if isMax {
							out.Data[i] = float32(m)
						} else {
							out.Data[i] = float32(sum / float64(cnt))
						}
						i++
					}
				}
			}
		}
	}
}
