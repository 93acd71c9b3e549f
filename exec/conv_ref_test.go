package exec

// The slow, obviously right references of the fast kernels: direct loops
// over every output element and kernel offset, checked against the fast
// kernels in the tests.

// refConv is a direct convolution; see Conv for the shapes.
func refConv(out, x, w, b *Tensor, g *ConvGeom) {
	n, cin, id, ih, iw := dims5(x.Shape)
	_, cout, od, oh, ow := dims5(out.Shape)
	cig, cog := cin/g.Groups, cout/g.Groups
	kd, kh, kw := g.K[0], g.K[1], g.K[2]
	for i := 0; i < n; i++ {
		for co := 0; co < cout; co++ {
			gr := co / cog
			for zo := 0; zo < od; zo++ {
				for yo := 0; yo < oh; yo++ {
					for xo := 0; xo < ow; xo++ {
						var sum float64
						if b != nil {
							sum = float64(b.Data[co])
						}
						for ci := 0; ci < cig; ci++ {
							c := gr*cig + ci
							for a := 0; a < kd; a++ {
								for bb := 0; bb < kh; bb++ {
									for k := 0; k < kw; k++ {
										z := padIndex(zo*g.S[0]-g.PL[0]+a*g.D[0], id, g.PadMode)
										y := padIndex(yo*g.S[1]-g.PL[1]+bb*g.D[1], ih, g.PadMode)
										xx := padIndex(xo*g.S[2]-g.PL[2]+k*g.D[2], iw, g.PadMode)
										if z < 0 || y < 0 || xx < 0 {
											continue
										}
										v := x.Data[(((i*cin+c)*id+z)*ih+y)*iw+xx]
										wt := w.Data[((((co*cig)+ci)*kd+a)*kh+bb)*kw+k]
										sum += float64(v) * float64(wt)
									}
								}
							}
						}
						out.Data[(((i*cout+co)*od+zo)*oh+yo)*ow+xo] = float32(sum)
					}
				}
			}
		}
	}
}

// refConvTranspose scatters every input element through the kernel; see
// ConvTranspose for the shapes.
func refConvTranspose(out, x, w, b *Tensor, g *ConvGeom) {
	n, cin, id, ih, iw := dims5(x.Shape)
	_, cout, od, oh, ow := dims5(out.Shape)
	cig, cog := cin/g.Groups, cout/g.Groups
	kd, kh, kw := g.K[0], g.K[1], g.K[2]
	acc := make([]float64, len(out.Data))
	for i := 0; i < n; i++ {
		for c := 0; c < cin; c++ {
			gr := c / cig
			for zi := 0; zi < id; zi++ {
				for yi := 0; yi < ih; yi++ {
					for xi := 0; xi < iw; xi++ {
						v := float64(x.Data[(((i*cin+c)*id+zi)*ih+yi)*iw+xi])
						for oc := 0; oc < cog; oc++ {
							co := gr*cog + oc
							for a := 0; a < kd; a++ {
								for bb := 0; bb < kh; bb++ {
									for k := 0; k < kw; k++ {
										zo := zi*g.S[0] - g.PL[0] + a*g.D[0]
										yo := yi*g.S[1] - g.PL[1] + bb*g.D[1]
										xo := xi*g.S[2] - g.PL[2] + k*g.D[2]
										if zo < 0 || zo >= od || yo < 0 || yo >= oh || xo < 0 || xo >= ow {
											continue
										}
										wt := float64(w.Data[((((c*cog)+oc)*kd+a)*kh+bb)*kw+k])
										acc[(((i*cout+co)*od+zo)*oh+yo)*ow+xo] += v * wt
									}
								}
							}
						}
					}
				}
			}
		}
	}
	for j := range out.Data {
		out.Data[j] = float32(acc[j])
		if b != nil {
			_, _, od, oh, ow := dims5(out.Shape)
			out.Data[j] += b.Data[(j/(od*oh*ow))%cout]
		}
	}
}

// refLinear is out[r][o] = b[o] + sum_i x[r][i] w[o][i].
func refLinear(out, x, w, b *Tensor) {
	in := x.Shape[len(x.Shape)-1]
	o := w.Shape[0]
	for r := 0; r < len(x.Data)/in; r++ {
		for j := 0; j < o; j++ {
			var s float64
			if b != nil {
				s = float64(b.Data[j])
			}
			for i := 0; i < in; i++ {
				s += float64(x.Data[r*in+i]) * float64(w.Data[j*in+i])
			}
			out.Data[r*o+j] = float32(s)
		}
	}
}
