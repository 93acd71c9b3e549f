package exec

// ConvGeom is the geometry of a conv or transposed conv over (D, H, W): a
// 1-D or 2-D layer has kernel 1, stride 1, padding 0 on the leading axes.
type ConvGeom struct {
	K, S, D  [3]int // kernel, stride, dilation
	PL, PR   [3]int // padding before and after, per axis
	Groups   int
	PadMode  string // zeros, reflect, replicate, circular
	OutShape [3]int // output spatial sizes (D, H, W)
	// Transposed marks a transposed conv: its workspace is col2im's, over the input.
	Transposed bool
}

// padIndex maps a coordinate i of an axis of size n that may lie in the
// padding to the input coordinate the padding mode reads, or -1 for a zero.
func padIndex(i, n int, mode string) int {
	if i >= 0 && i < n {
		return i
	}
	switch mode {
	case "reflect":
		if n == 1 {
			return 0
		}
		period := 2 * (n - 1)
		i %= period
		if i < 0 {
			i += period
		}
		if i >= n {
			i = period - i
		}
		return i
	case "replicate":
		if i < 0 {
			return 0
		}
		return n - 1
	case "circular":
		i %= n
		if i < 0 {
			i += n
		}
		return i
	}
	return -1
}

// im2col unrolls the windows of one image's channels [c0, c0+cs) into col.
// x is (C, ID, IH, IW) for one image; col is (cs*KD*KH*KW, OD*OH*OW), a row
// per (channel, kernel offset) and a column per output position.
func im2col(col, x []float32, c0, cs, id, ih, iw int, g *ConvGeom) {
	od, oh, ow := g.OutShape[0], g.OutShape[1], g.OutShape[2]
	kd, kh, kw := g.K[0], g.K[1], g.K[2]
	p := od * oh * ow
	row := 0
	// Index maps per axis: the input coordinate of output o and kernel
	// offset k, or -1 for a zero.
	wIdx := make([]int, ow*kw)
	for o := 0; o < ow; o++ {
		for k := 0; k < kw; k++ {
			wIdx[o*kw+k] = padIndex(o*g.S[2]-g.PL[2]+k*g.D[2], iw, g.PadMode)
		}
	}
	for c := c0; c < c0+cs; c++ {
		xc := x[c*id*ih*iw : (c+1)*id*ih*iw]
		for a := 0; a < kd; a++ {
			for b := 0; b < kh; b++ {
				for k := 0; k < kw; k++ {
					dst := col[row*p : (row+1)*p]
					row++
					j := 0
					for zo := 0; zo < od; zo++ {
						zi := padIndex(zo*g.S[0]-g.PL[0]+a*g.D[0], id, g.PadMode)
						for yo := 0; yo < oh; yo++ {
							yi := padIndex(yo*g.S[1]-g.PL[1]+b*g.D[1], ih, g.PadMode)
							if zi < 0 || yi < 0 {
								for xo := 0; xo < ow; xo++ {
									dst[j] = 0
									j++
								}
								continue
							}
							src := xc[(zi*ih+yi)*iw : (zi*ih+yi+1)*iw]
							for xo := 0; xo < ow; xo++ {
								if xi := wIdx[xo*kw+k]; xi >= 0 {
									dst[j] = src[xi]
								} else {
									dst[j] = 0
								}
								j++
							}
						}
					}
				}
			}
		}
	}
}

// col2im adds the columns of col back into one image's channels
// [c0, c0+cs) of out, the adjoint of im2col with zero padding (transposed
// conv). out is (C, OD, OH, OW); col is (cs*KD*KH*KW, ID*IH*IW), where
// I* are the transposed conv's input sizes and the geometry maps input
// position i and kernel offset k to output coordinate i*stride - pad + k*dilation.
func col2im(out, col []float32, c0, cs, id, ih, iw int, g *ConvGeom) {
	od, oh, ow := g.OutShape[0], g.OutShape[1], g.OutShape[2]
	kd, kh, kw := g.K[0], g.K[1], g.K[2]
	p := id * ih * iw
	row := 0
	for c := c0; c < c0+cs; c++ {
		oc := out[c*od*oh*ow : (c+1)*od*oh*ow]
		for a := 0; a < kd; a++ {
			for b := 0; b < kh; b++ {
				for k := 0; k < kw; k++ {
					src := col[row*p : (row+1)*p]
					row++
					j := 0
					for zi := 0; zi < id; zi++ {
						zo := zi*g.S[0] - g.PL[0] + a*g.D[0]
						for yi := 0; yi < ih; yi++ {
							yo := yi*g.S[1] - g.PL[1] + b*g.D[1]
							if zo < 0 || zo >= od || yo < 0 || yo >= oh {
								j += iw
								continue
							}
							dst := oc[(zo*oh+yo)*ow : (zo*oh+yo+1)*ow]
							for xi := 0; xi < iw; xi++ {
								if xo := xi*g.S[2] - g.PL[2] + k*g.D[2]; xo >= 0 && xo < ow {
									dst[xo] += src[j]
								}
								j++
							}
						}
					}
				}
			}
		}
	}
}
