package exec

import (
	"fmt"
	"math"
	"slices"

	"github.com/cnncalc/cnncalc/calc"
)

// The backward pass: vector-Jacobian products, the gradient of a scalar
// with respect to each node's inputs given its gradient with respect to the
// node's output, in eval mode, for the input gradient only (no weight
// gradients). It serves the effective receptive field (Luo et al., 2016):
// the gradient of one output unit with respect to the input.

// bcall is one node's backward step: the forward call, its output and the
// gradient of the output.
type bcall struct {
	call
	y, gy *Tensor
}

// backward is a kind's vector-Jacobian product: the gradient with respect
// to each input (nil for an input that does not reach the output, such as
// upsample's size_of).
type backward func(c *bcall) ([]*Tensor, error)

// backwards is the backward table beside kernels, indexed by calc.Op;
// kinds without an entry stop Backward with "not available".
var backwards [calc.NumOps]backward

// BackwardAvailable says whether Backward can pass through op.
func BackwardAvailable(op calc.Op) bool { return int(op) < len(backwards) && backwards[op] != nil }

// Backward returns the gradient of sum(seed * output of node) with respect
// to the network input, from a forward run that kept every output
// (Options.KeepAll) on the input x. seed has node's output shape.
func (p *Plan) Backward(params []Weights, run *Run, x *Tensor, node int, seed *Tensor) (*Tensor, error) {
	if run == nil || len(run.Outputs) != len(p.Net.Nodes) {
		return nil, fmt.Errorf("backward needs a forward run that kept every output")
	}
	if node < 0 || node >= len(p.Net.Nodes) {
		return nil, fmt.Errorf("node %d out of range", node)
	}
	if !slices.Equal(seed.Shape, p.Shapes[node]) {
		return nil, fmt.Errorf("seed is %v, node %d's output %v", seed.Shape, node+1, p.Shapes[node])
	}
	grads := make([]*Tensor, node+1)
	grads[node] = seed
	gx := New(x.Shape...)
	for i := node; i >= 0; i-- {
		if grads[i] == nil {
			continue
		}
		n := &p.Net.Nodes[i]
		b := backwards[n.Layer.Type]
		if b == nil {
			return nil, fmt.Errorf("effective field not available for %s (node %d, %s): exec has no backward pass for it", n.Layer.Type, i+1, n.Name)
		}
		ins := make([]*Tensor, len(n.From))
		for k, f := range n.From {
			if f == calc.Input {
				ins[k] = x
			} else {
				ins[k] = run.Outputs[f]
			}
		}
		c := &bcall{call: call{l: &n.Layer, w: &params[i], ins: ins, shape: p.Shapes[i], geom: p.geom[i]}, y: run.Outputs[i], gy: grads[i]}
		gins, err := b(c)
		if err != nil {
			return nil, fmt.Errorf("node %d (%s): %w", i+1, n.Name, err)
		}
		for k, f := range n.From {
			if k >= len(gins) || gins[k] == nil {
				continue
			}
			dst := gx
			if f != calc.Input {
				if grads[f] == nil {
					grads[f] = New(p.Shapes[f]...)
				}
				dst = grads[f]
			}
			for j, v := range gins[k].Data {
				dst.Data[j] += v
			}
		}
		if i != node {
			grads[i] = nil // done: free it
		}
	}
	return gx, nil
}

// gin allocates the gradient of input k.
func (c *bcall) gin(k int) *Tensor { return New(c.ins[k].Shape...) }

// pointwise is the backward of an elementwise activation: dx = dy * f'(x).
func pointwise(df func(x float64) float64) backward {
	return func(c *bcall) ([]*Tensor, error) {
		g := c.gin(0)
		for i, v := range c.x().Data {
			g.Data[i] = float32(float64(c.gy.Data[i]) * df(float64(v)))
		}
		return []*Tensor{g}, nil
	}
}

// pass is the backward of a view (identity, dropout in eval, flatten).
func pass(c *bcall) ([]*Tensor, error) { return []*Tensor{c.gy.Reshape(c.x().Shape...)}, nil }

func sigmoid(v float64) float64 { return 1 / (1 + math.Exp(-v)) }

func init() {
	for r := 0; r < 3; r++ {
		at := calc.Op(r)
		backwards[calc.Conv1d+at] = convBackward
		backwards[calc.ConvTranspose1d+at] = convTransposeBackward
		backwards[calc.MaxPool1d+at] = maxPoolBackward
		backwards[calc.AvgPool1d+at] = avgPoolBackward
		backwards[calc.AdaptiveAvgPool1d+at] = adaptiveAvgPoolBackward
		backwards[calc.AdaptiveMaxPool1d+at] = adaptiveMaxPoolBackward
		backwards[calc.BatchNorm1d+at] = batchNormBackward
		backwards[calc.ZeroPad1d+at] = zeroPadBackward
		backwards[calc.Dropout1d+at] = pass
	}
	for _, op := range []calc.Op{calc.Identity, calc.Dropout, calc.Flatten, calc.Unflatten, calc.StochasticDepth} {
		backwards[op] = pass
	}
	backwards[calc.Linear] = linearBackward
	backwards[calc.ReLU] = pointwise(func(x float64) float64 { return step(x > 0) })
	backwards[calc.ReLU6] = pointwise(func(x float64) float64 { return step(x > 0 && x < 6) })
	backwards[calc.Sigmoid] = pointwise(func(x float64) float64 { s := sigmoid(x); return s * (1 - s) })
	backwards[calc.Tanh] = pointwise(func(x float64) float64 { t := math.Tanh(x); return 1 - t*t })
	backwards[calc.SiLU] = pointwise(func(x float64) float64 { s := sigmoid(x); return s * (1 + x*(1-s)) })
	// PyTorch's hardswish_backward: 0 below -3, 1 above 3, (2x+3)/6 between
	// (at exactly ±3 it takes the middle branch).
	backwards[calc.Hardswish] = pointwise(func(x float64) float64 {
		switch {
		case x < -3:
			return 0
		case x <= 3:
			return (2*x + 3) / 6
		}
		return 1
	})
	backwards[calc.LeakyReLU] = func(c *bcall) ([]*Tensor, error) {
		slope := c.l.NegativeSlope
		return pointwise(func(x float64) float64 {
			if x > 0 {
				return 1
			}
			return slope
		})(c)
	}
	backwards[calc.ELU] = func(c *bcall) ([]*Tensor, error) {
		alpha := c.l.Alpha
		return pointwise(func(x float64) float64 {
			if x > 0 {
				return 1
			}
			return alpha * math.Exp(x)
		})(c)
	}
	backwards[calc.GELU] = func(c *bcall) ([]*Tensor, error) {
		if c.l.Approximate == "tanh" {
			return pointwise(func(x float64) float64 {
				u := sqrt2Pi * (x + 0.044715*x*x*x)
				t := math.Tanh(u)
				return 0.5*(1+t) + 0.5*x*(1-t*t)*sqrt2Pi*(1+3*0.044715*x*x)
			})(c)
		}
		return pointwise(func(x float64) float64 {
			return 0.5*(1+math.Erf(x/math.Sqrt2)) + x*math.Exp(-x*x/2)/math.Sqrt(2*math.Pi)
		})(c)
	}
	// Default hardsigmoid (alpha 1/6, beta 1/2): PyTorch's backward passes
	// the gradient strictly inside (-3, 3).
	backwards[calc.Hardsigmoid] = func(c *bcall) ([]*Tensor, error) {
		a, b := c.l.Alpha, c.l.Beta
		return pointwise(func(x float64) float64 {
			v := a*x + b
			return a * step(v > 0 && v < 1)
		})(c)
	}
	backwards[calc.SELU] = pointwise(func(x float64) float64 {
		if x > 0 {
			return seluScale
		}
		return seluScale * seluAlpha * math.Exp(x)
	})
	backwards[calc.CELU] = func(c *bcall) ([]*Tensor, error) {
		alpha := float64(float32(c.l.Alpha))
		return pointwise(func(x float64) float64 {
			if x > 0 {
				return 1
			}
			return math.Exp(x / alpha)
		})(c)
	}
	backwards[calc.Softplus] = func(c *bcall) ([]*Tensor, error) {
		beta, th := float64(float32(c.l.Beta)), float64(float32(c.l.Threshold))
		return pointwise(func(x float64) float64 {
			if beta*x > th {
				return 1
			}
			return sigmoid(beta * x)
		})(c)
	}
	backwards[calc.Mish] = pointwise(func(x float64) float64 {
		t := math.Tanh(math.Log1p(math.Exp(x)))
		return t + x*sigmoid(x)*(1-t*t)
	})
	backwards[calc.Hardtanh] = func(c *bcall) ([]*Tensor, error) {
		lo, hi := float64(float32(c.l.MinVal)), float64(float32(c.l.MaxVal))
		return pointwise(func(x float64) float64 { return step(x > lo && x < hi) })(c)
	}
	backwards[calc.PReLU] = func(c *bcall) ([]*Tensor, error) {
		x, w := c.x(), c.w.Weight.Data
		inner := 1
		for _, d := range x.Shape[2:] {
			inner *= d
		}
		ch := 1
		if len(x.Shape) > 1 {
			ch = x.Shape[1]
		}
		g := c.gin(0)
		for i, a := range x.Data {
			switch {
			case a > 0:
				g.Data[i] = c.gy.Data[i]
			case len(w) > 1:
				g.Data[i] = c.gy.Data[i] * w[(i/inner)%ch]
			default:
				g.Data[i] = c.gy.Data[i] * w[0]
			}
		}
		return []*Tensor{g}, nil
	}
	backwards[calc.Permute] = func(c *bcall) ([]*Tensor, error) {
		inv := make([]int, len(c.l.Perm))
		for a, p := range c.l.Perm {
			inv[dimIndex(int(p), len(inv))] = a
		}
		g := c.gin(0)
		Permute(g, c.gy, inv)
		return []*Tensor{g}, nil
	}
	backwards[calc.Add] = func(c *bcall) ([]*Tensor, error) {
		out := make([]*Tensor, len(c.ins))
		for k := range out {
			out[k] = c.gy
		}
		return out, nil
	}
	backwards[calc.Concat] = concatBackward
	backwards[calc.Mul] = mulBackward
	backwards[calc.LayerScale] = func(c *bcall) ([]*Tensor, error) {
		g := c.gin(0)
		ScaleChannels(g, c.gy, c.w.Weight.Data)
		return []*Tensor{g}, nil
	}
	backwards[calc.ChannelShuffle] = func(c *bcall) ([]*Tensor, error) {
		// Shuffling by groups g is undone by shuffling by C/g.
		g := c.gin(0)
		ChannelShuffle(g, c.gy, c.x().Shape[1]/int(c.l.Groups))
		return []*Tensor{g}, nil
	}
	backwards[calc.Chunk] = pieceBackward
	backwards[calc.Split] = pieceBackward
}

func step(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// convBackward: dx = conv_transpose(dy, w), per image and group
// dcol (Cin/G*K, P) = w_g^T x dy_g, then col2im adds the windows back (the
// adjoint of im2col). Zero padding only: the other padding modes fold taps
// back onto the input, which col2im does not.
func convBackward(c *bcall) ([]*Tensor, error) {
	g := c.geom
	if g.PadMode != "" && g.PadMode != "zeros" {
		return unavailable(c, "padding_mode "+g.PadMode)
	}
	x := c.x()
	n, cin, id, ih, iw := dims5(x.Shape)
	_, cout, _, _, _ := dims5(c.gy.Shape)
	p := g.OutShape[0] * g.OutShape[1] * g.OutShape[2]
	cig, cog := cin/g.Groups, cout/g.Groups
	k := cig * g.K[0] * g.K[1] * g.K[2]
	gx := c.gin(0)
	adj := *g
	adj.OutShape = [3]int{id, ih, iw}
	inSize := cin * id * ih * iw
	col := make([]float32, k*p)
	for i := 0; i < n; i++ {
		gyi := c.gy.Data[i*cout*p : (i+1)*cout*p]
		gxi := gx.Data[i*inSize : (i+1)*inSize]
		for gr := 0; gr < g.Groups; gr++ {
			gemmPar(nil, gemmWorkers(), true, false, k, p, cog, c.w.Weight.Data[gr*cog*k:], k, gyi[gr*cog*p:], p, 0, col, p)
			col2im(gxi, col, gr*cig, cig, g.OutShape[0], g.OutShape[1], g.OutShape[2], &adj)
		}
	}
	return []*Tensor{gx}, nil
}

// convTransposeBackward: dx = conv(dy, w), per image and group
// dx_g (Cin/G, Pin) = w_g (Cin/G, Cout/G*K) x im2col(dy_g).
func convTransposeBackward(c *bcall) ([]*Tensor, error) {
	g := c.geom
	x := c.x()
	n, cin, id, ih, iw := dims5(x.Shape)
	_, cout, od, oh, ow := dims5(c.gy.Shape)
	pin := id * ih * iw
	cig, cog := cin/g.Groups, cout/g.Groups
	kk := g.K[0] * g.K[1] * g.K[2]
	adj := *g
	adj.OutShape = [3]int{id, ih, iw}
	adj.PadMode = "zeros"
	gx := c.gin(0)
	col := make([]float32, cog*kk*pin)
	pout := od * oh * ow
	for i := 0; i < n; i++ {
		gyi := c.gy.Data[i*cout*pout : (i+1)*cout*pout]
		gxi := gx.Data[i*cin*pin : (i+1)*cin*pin]
		for gr := 0; gr < g.Groups; gr++ {
			im2col(col, gyi, gr*cog, cog, od, oh, ow, &adj)
			gemmPar(nil, gemmWorkers(), false, false, cig, pin, cog*kk, c.w.Weight.Data[gr*cig*cog*kk:], cog*kk, col, pin, 0, gxi[gr*cig*pin:], pin)
		}
	}
	return []*Tensor{gx}, nil
}

// linearBackward: dx = dy w, with x (..., in), w (out, in).
func linearBackward(c *bcall) ([]*Tensor, error) {
	w := c.w.Weight
	o, in := w.Shape[0], w.Shape[1]
	m := len(c.gy.Data) / o
	gx := c.gin(0)
	gemmPar(nil, gemmWorkers(), false, false, m, in, o, c.gy.Data, o, w.Data, in, 0, gx.Data, in)
	return []*Tensor{gx}, nil
}

// maxPoolBackward sends each window's gradient to the first of its
// maxima, as PyTorch's max_pool indices do.
func maxPoolBackward(c *bcall) ([]*Tensor, error) {
	l, x := c.l, c.x()
	nsp := c.nsp()
	kernel, stride, padding, dilation := perAxis(l.Kernel, nsp, 1), poolStride(l, nsp), perAxis(l.Padding, nsp, 0), perAxis(l.Dilation, nsp, 1)
	n, ch, id, ih, iw := dims5(x.Shape)
	_, _, od, oh, ow := dims5(c.gy.Shape)
	k, s, p, dl := axes3(kernel, 1), axes3(stride, 1), axes3(padding, 0), axes3(dilation, 1)
	inPlane, outPlane := id*ih*iw, od*oh*ow
	gx := c.gin(0)
	for nc := 0; nc < n*ch; nc++ {
		xp := x.Data[nc*inPlane : (nc+1)*inPlane]
		gp := gx.Data[nc*inPlane : (nc+1)*inPlane]
		gyp := c.gy.Data[nc*outPlane : (nc+1)*outPlane]
		for z := 0; z < od; z++ {
			d0 := z*s[0] - p[0]
			dlo, dhi := windowTaps(d0, k[0], dl[0], id)
			for y := 0; y < oh; y++ {
				h0 := y*s[1] - p[1]
				hlo, hhi := windowTaps(h0, k[1], dl[1], ih)
				for xo := 0; xo < ow; xo++ {
					w0 := xo*s[2] - p[2]
					wlo, whi := windowTaps(w0, k[2], dl[2], iw)
					m, at := float32(math.Inf(-1)), -1
					for kd := dlo; kd < dhi; kd++ {
						dd := d0 + kd*dl[0]
						for kh := hlo; kh < hhi; kh++ {
							base := (dd*ih + h0 + kh*dl[1]) * iw
							for kw := wlo; kw < whi; kw++ {
								j := base + w0 + kw*dl[2]
								if v := xp[j]; v > m || v != v || at < 0 {
									m, at = v, j
								}
							}
						}
					}
					if at >= 0 {
						gp[at] += gyp[(z*oh+y)*ow+xo]
					}
				}
			}
		}
	}
	return []*Tensor{gx}, nil
}

// avgPoolBackward spreads each window's gradient over the inputs it
// averaged, divided by the forward's divisor.
func avgPoolBackward(c *bcall) ([]*Tensor, error) {
	l, x := c.l, c.x()
	nsp := c.nsp()
	n, ch, id, ih, iw := dims5(x.Shape)
	_, _, od, oh, ow := dims5(c.gy.Shape)
	k, s, p := axes3(perAxis(l.Kernel, nsp, 1), 1), axes3(poolStride(l, nsp), 1), axes3(perAxis(l.Padding, nsp, 0), 0)
	inPlane, outPlane := id*ih*iw, od*oh*ow
	gx := c.gin(0)
	for nc := 0; nc < n*ch; nc++ {
		gp := gx.Data[nc*inPlane : (nc+1)*inPlane]
		gyp := c.gy.Data[nc*outPlane : (nc+1)*outPlane]
		for z := 0; z < od; z++ {
			d0, d1, dpool := avgWindow(z, k[0], s[0], p[0], id)
			for y := 0; y < oh; y++ {
				h0, h1, hpool := avgWindow(y, k[1], s[1], p[1], ih)
				for xo := 0; xo < ow; xo++ {
					w0, w1, wpool := avgWindow(xo, k[2], s[2], p[2], iw)
					if d0 >= d1 || h0 >= h1 || w0 >= w1 {
						continue
					}
					divisor := (d1 - d0) * (h1 - h0) * (w1 - w0)
					if l.CountIncludePad {
						divisor = dpool * hpool * wpool
					}
					v := gyp[(z*oh+y)*ow+xo] / float32(divisor)
					for dd := d0; dd < d1; dd++ {
						for hh := h0; hh < h1; hh++ {
							row := gp[(dd*ih+hh)*iw:]
							for ww := w0; ww < w1; ww++ {
								row[ww] += v
							}
						}
					}
				}
			}
		}
	}
	return []*Tensor{gx}, nil
}

// adaptiveWindows visits every adaptive window of a (N*C) plane pair with
// its input range per axis.
func adaptiveWindows(x, y *Tensor, visit func(nc, o int, d0, d1, h0, h1, w0, w1 int)) {
	n, c, id, ih, iw := dims5(x.Shape)
	_, _, od, oh, ow := dims5(y.Shape)
	for nc := 0; nc < n*c; nc++ {
		for z := 0; z < od; z++ {
			for yy := 0; yy < oh; yy++ {
				for xo := 0; xo < ow; xo++ {
					visit(nc, (z*oh+yy)*ow+xo, adaptiveStart(z, id, od), adaptiveEnd(z, id, od),
						adaptiveStart(yy, ih, oh), adaptiveEnd(yy, ih, oh), adaptiveStart(xo, iw, ow), adaptiveEnd(xo, iw, ow))
				}
			}
		}
	}
}

func adaptiveAvgPoolBackward(c *bcall) ([]*Tensor, error) {
	x := c.x()
	_, _, id, ih, iw := dims5(x.Shape)
	_, _, od, oh, ow := dims5(c.gy.Shape)
	inPlane, outPlane := id*ih*iw, od*oh*ow
	gx := c.gin(0)
	adaptiveWindows(x, c.gy, func(nc, o int, d0, d1, h0, h1, w0, w1 int) {
		v := c.gy.Data[nc*outPlane+o] / float32((d1-d0)*(h1-h0)*(w1-w0))
		gp := gx.Data[nc*inPlane:]
		for dd := d0; dd < d1; dd++ {
			for hh := h0; hh < h1; hh++ {
				for ww := w0; ww < w1; ww++ {
					gp[(dd*ih+hh)*iw+ww] += v
				}
			}
		}
	})
	return []*Tensor{gx}, nil
}

func adaptiveMaxPoolBackward(c *bcall) ([]*Tensor, error) {
	x := c.x()
	_, _, id, ih, iw := dims5(x.Shape)
	_, _, od, oh, ow := dims5(c.gy.Shape)
	inPlane, outPlane := id*ih*iw, od*oh*ow
	gx := c.gin(0)
	adaptiveWindows(x, c.gy, func(nc, o int, d0, d1, h0, h1, w0, w1 int) {
		xp := x.Data[nc*inPlane:]
		m, at := float32(math.Inf(-1)), -1
		for dd := d0; dd < d1; dd++ {
			for hh := h0; hh < h1; hh++ {
				for ww := w0; ww < w1; ww++ {
					j := (dd*ih+hh)*iw + ww
					if v := xp[j]; v > m || v != v || at < 0 {
						m, at = v, j
					}
				}
			}
		}
		gx.Data[nc*inPlane+at] += c.gy.Data[nc*outPlane+o]
	})
	return []*Tensor{gx}, nil
}

// batchNormBackward in eval mode with running statistics: dx = dy *
// weight / sqrt(var + eps) per channel.
func batchNormBackward(c *bcall) ([]*Tensor, error) {
	w := c.w
	if w.Mean == nil {
		return unavailable(c, "batch statistics (track_running_stats false)")
	}
	x := c.x()
	n, ch := x.Shape[0], x.Shape[1]
	s := len(x.Data) / max(n*ch, 1)
	gx := c.gin(0)
	for b := 0; b < n; b++ {
		for k := 0; k < ch; k++ {
			scale := 1 / math.Sqrt(float64(w.Var.Data[k])+float64(float32(c.l.Eps)))
			if w.Weight != nil {
				scale *= float64(w.Weight.Data[k])
			}
			off := (b*ch + k) * s
			for i := off; i < off+s; i++ {
				gx.Data[i] = float32(float64(c.gy.Data[i]) * scale)
			}
		}
	}
	return []*Tensor{gx}, nil
}

// zeroPadBackward crops the gradient back to the input (a negative pad,
// a crop, gives the cropped positions zero gradient).
func zeroPadBackward(c *bcall) ([]*Tensor, error) {
	x := c.x()
	pad := zeroPadList(c.l, c.nsp())
	n, ch, id, ih, iw := dims5(x.Shape)
	_, _, od, oh, ow := dims5(c.gy.Shape)
	// pad is (left, right) per axis from the last axis backwards, as
	// torch.nn.functional.pad takes it.
	var lo [3]int
	for a := 0; a < len(pad)/2 && a < 3; a++ {
		lo[2-a] = pad[2*a]
	}
	gx := c.gin(0)
	for nc := 0; nc < n*ch; nc++ {
		for z := 0; z < id; z++ {
			zo := z + lo[0]
			if zo < 0 || zo >= od {
				continue
			}
			for y := 0; y < ih; y++ {
				yo := y + lo[1]
				if yo < 0 || yo >= oh {
					continue
				}
				for xi := 0; xi < iw; xi++ {
					if xo := xi + lo[2]; xo >= 0 && xo < ow {
						gx.Data[((nc*id+z)*ih+y)*iw+xi] = c.gy.Data[((nc*od+zo)*oh+yo)*ow+xo]
					}
				}
			}
		}
	}
	return []*Tensor{gx}, nil
}

// concatBackward hands each input its slice of the gradient.
func concatBackward(c *bcall) ([]*Tensor, error) {
	dim := dimIndex(c.l.Dim, len(c.gy.Shape))
	outer, k, inner := axisView(c.gy.Shape, dim)
	rowOut := k * inner
	out := make([]*Tensor, len(c.ins))
	at := 0
	for i, x := range c.ins {
		g := c.gin(i)
		row := x.Shape[dim] * inner
		for o := 0; o < outer; o++ {
			copy(g.Data[o*row:(o+1)*row], c.gy.Data[o*rowOut+at:o*rowOut+at+row])
		}
		at += row
		out[i] = g
	}
	return out, nil
}

// pieceBackward puts a chunk's or split's gradient back at its place.
func pieceBackward(c *bcall) ([]*Tensor, error) {
	x := c.x()
	d := dimIndex(c.l.Dim, len(x.Shape))
	start, _, _ := pieceRange(c.l, x.Shape[d])
	outer, k, inner := axisView(x.Shape, d)
	pk := c.gy.Shape[d]
	g := c.gin(0)
	for o := 0; o < outer; o++ {
		copy(g.Data[(o*k+start)*inner:(o*k+start+pk)*inner], c.gy.Data[o*pk*inner:(o+1)*pk*inner])
	}
	return []*Tensor{g}, nil
}

// mulBackward: d x_k = dy * prod of the other inputs, summed over the axes
// x_k was broadcast along.
func mulBackward(c *bcall) ([]*Tensor, error) {
	r := len(c.gy.Shape)
	strides := make([][]int, len(c.ins))
	for k, x := range c.ins {
		s := make([]int, r)
		st := 1
		for a := len(x.Shape) - 1; a >= 0; a-- {
			if x.Shape[a] != 1 {
				s[a+r-len(x.Shape)] = st
			}
			st *= x.Shape[a]
		}
		strides[k] = s
	}
	out := make([]*Tensor, len(c.ins))
	for k := range out {
		out[k] = c.gin(k)
	}
	idx := make([]int, r)
	pos := make([]int, len(c.ins))
	for i, gy := range c.gy.Data {
		for k := range c.ins {
			v := gy
			for j, x := range c.ins {
				if j != k {
					v *= x.Data[pos[j]]
				}
			}
			out[k].Data[pos[k]] += v
		}
		for a := r - 1; a >= 0; a-- {
			idx[a]++
			for k := range c.ins {
				pos[k] += strides[k][a]
			}
			if idx[a] < c.gy.Shape[a] {
				break
			}
			for k := range c.ins {
				pos[k] -= idx[a] * strides[k][a]
			}
			idx[a] = 0
		}
		_ = i
	}
	return out, nil
}

// unavailable marks a backward that cannot handle the node's settings;
// Backward reports it.
func unavailable(c *bcall, why string) ([]*Tensor, error) {
	return nil, fmt.Errorf("effective field not available for %s with %s", c.l.Type, why)
}
