package exec

import (
	"math"

	"github.com/cnncalc/cnncalc/calc"
)

// Backward passes of the normalisations over a sample's own statistics,
// softmax and upsample.

func init() {
	backwards[calc.LayerNorm] = layerNormBackward
	backwards[calc.GroupNorm] = groupNormBackward
	backwards[calc.LayerNorm2d] = layerNorm2dBackward
	for r := 0; r < 3; r++ {
		backwards[calc.InstanceNorm1d+calc.Op(r)] = instanceNormBackward
	}
	backwards[calc.Softmax] = softmaxBackward(false)
	backwards[calc.LogSoftmax] = softmaxBackward(true)
	backwards[calc.Upsample] = upsampleBackward
}

// normGroup is the backward of y_k = (x_k - mean)*rstd*w_k + b_k over one
// group of m elements at indices at(k), the mean and biased variance being
// the group's own: with g_k = dy_k*w_k and xh_k = (x_k - mean)*rstd,
// dx_k = rstd*(g_k - mean(g) - xh_k*mean(g*xh)).
func normGroup(gx, x, gy []float32, m int, at func(k int) int, w func(k int) float64, eps float32) {
	var sum float64
	for k := 0; k < m; k++ {
		sum += float64(x[at(k)])
	}
	mean := sum / float64(m)
	var ss float64
	for k := 0; k < m; k++ {
		d := float64(x[at(k)]) - mean
		ss += d * d
	}
	rstd := 1 / math.Sqrt(ss/float64(m)+float64(eps))
	var mg, mgx float64
	for k := 0; k < m; k++ {
		j := at(k)
		g := float64(gy[j]) * w(k)
		mg += g
		mgx += g * (float64(x[j]) - mean) * rstd
	}
	mg /= float64(m)
	mgx /= float64(m)
	for k := 0; k < m; k++ {
		j := at(k)
		g := float64(gy[j]) * w(k)
		xh := (float64(x[j]) - mean) * rstd
		gx[j] = float32(rstd * (g - mg - xh*mgx))
	}
}

func weightAt(w *Tensor, i int) float64 {
	if w == nil {
		return 1
	}
	return float64(w.Data[i])
}

func layerNormBackward(c *bcall) ([]*Tensor, error) {
	x := c.x()
	size := int(numel(x.Shape[1:]))
	if c.l.NormShape != nil {
		size = int(numel(toInts(c.l.NormShape)))
	}
	gx := c.gin(0)
	for off := 0; off < len(x.Data); off += size {
		normGroup(gx.Data, x.Data, c.gy.Data, size, func(k int) int { return off + k }, func(k int) float64 { return weightAt(c.w.Weight, k) }, float32(c.l.Eps))
	}
	return []*Tensor{gx}, nil
}

func groupNormBackward(c *bcall) ([]*Tensor, error) {
	x := c.x()
	n, ch, s := normDims(x.Shape)
	groups := int(c.l.Groups)
	cg := ch / groups
	gx := c.gin(0)
	for i := 0; i < n; i++ {
		for g := 0; g < groups; g++ {
			off := (i*ch + g*cg) * s
			normGroup(gx.Data, x.Data, c.gy.Data, cg*s, func(k int) int { return off + k },
				func(k int) float64 { return weightAt(c.w.Weight, g*cg+k/s) }, float32(c.l.Eps))
		}
	}
	return []*Tensor{gx}, nil
}

func layerNorm2dBackward(c *bcall) ([]*Tensor, error) {
	x := c.x()
	n, ch, s := normDims(x.Shape)
	gx := c.gin(0)
	for b := 0; b < n; b++ {
		for p := 0; p < s; p++ {
			base := b*ch*s + p
			normGroup(gx.Data, x.Data, c.gy.Data, ch, func(k int) int { return base + k*s },
				func(k int) float64 { return weightAt(c.w.Weight, k) }, float32(c.l.Eps))
		}
	}
	return []*Tensor{gx}, nil
}

// instanceNormBackward: with running statistics (track_running_stats in
// eval) a per-channel scale, as batchnorm's; else each plane's own.
func instanceNormBackward(c *bcall) ([]*Tensor, error) {
	x, w := c.x(), c.w
	n, ch, s := normDims(x.Shape)
	gx := c.gin(0)
	for i := 0; i < n; i++ {
		for k := 0; k < ch; k++ {
			off := (i*ch + k) * s
			if w.Mean != nil {
				scale := weightAt(w.Weight, k) / math.Sqrt(float64(w.Var.Data[k])+float64(float32(c.l.Eps)))
				for j := off; j < off+s; j++ {
					gx.Data[j] = float32(float64(c.gy.Data[j]) * scale)
				}
				continue
			}
			wk := weightAt(w.Weight, k)
			normGroup(gx.Data, x.Data, c.gy.Data, s, func(q int) int { return off + q }, func(int) float64 { return wk }, float32(c.l.Eps))
		}
	}
	return []*Tensor{gx}, nil
}

// softmaxBackward: along the axis, dx = y*(dy - sum(dy*y)) for softmax
// and dx = dy - exp(y)*sum(dy) for log-softmax, y the forward output.
func softmaxBackward(log bool) backward {
	return func(c *bcall) ([]*Tensor, error) {
		x := c.x()
		outer, k, inner := axisView(x.Shape, dimIndex(c.l.Dim, len(x.Shape)))
		gx := c.gin(0)
		for o := 0; o < outer; o++ {
			for in := 0; in < inner; in++ {
				base := o*k*inner + in
				var s float64
				for j := 0; j < k; j++ {
					i := base + j*inner
					if log {
						s += float64(c.gy.Data[i])
					} else {
						s += float64(c.gy.Data[i]) * float64(c.y.Data[i])
					}
				}
				for j := 0; j < k; j++ {
					i := base + j*inner
					if log {
						gx.Data[i] = float32(float64(c.gy.Data[i]) - math.Exp(float64(c.y.Data[i]))*s)
					} else {
						gx.Data[i] = float32(float64(c.y.Data[i]) * (float64(c.gy.Data[i]) - s))
					}
				}
			}
		}
		return []*Tensor{gx}, nil
	}
}

// upsampleBackward sends each output's gradient back to its taps with the
// forward's weights (size_of's second input gets none).
func upsampleBackward(c *bcall) ([]*Tensor, error) {
	x, l := c.x(), c.l
	mode := l.Mode
	if mode == "" {
		mode = "nearest"
	}
	alignCorners := l.AlignCorners != nil && *l.AlignCorners
	rank := len(x.Shape) - 2
	var sc [3]float64
	if len(l.Size) == 0 && len(c.ins) == 1 {
		copy(sc[3-rank:], upsampleScale(l, rank))
	}
	n, ch, id, ih, iw := dims5(x.Shape)
	_, _, od, oh, ow := dims5(c.gy.Shape)
	shortcuts := mode == "nearest" && rank >= 2 && ch == 1
	td := upsampleTaps(mode, id, od, alignCorners, sc[0], shortcuts)
	th := upsampleTaps(mode, ih, oh, alignCorners, sc[1], shortcuts)
	tw := upsampleTaps(mode, iw, ow, alignCorners, sc[2], shortcuts)
	inPlane, outPlane := id*ih*iw, od*oh*ow
	gx := c.gin(0)
	for nc := 0; nc < n*ch; nc++ {
		gp := gx.Data[nc*inPlane : (nc+1)*inPlane]
		gyp := c.gy.Data[nc*outPlane : (nc+1)*outPlane]
		for z := 0; z < od; z++ {
			dIdx, dWt := td.at(z)
			for y := 0; y < oh; y++ {
				hIdx, hWt := th.at(y)
				for xo := 0; xo < ow; xo++ {
					wIdx, wWt := tw.at(xo)
					g := gyp[(z*oh+y)*ow+xo]
					for a, dd := range dIdx {
						for b, hh := range hIdx {
							row := gp[(dd*ih+hh)*iw:]
							for e, ww := range wIdx {
								row[ww] += g * dWt[a] * hWt[b] * wWt[e]
							}
						}
					}
				}
			}
		}
	}
	out := make([]*Tensor, len(c.ins))
	out[0] = gx
	return out, nil
}
