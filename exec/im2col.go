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

// im2colB is a convolution's im2col matrix as a GEMM operand op(B), made
// panel by panel straight from one image: line j is output position j,
// step p is row p of im2col's matrix (input channel c0 + p/(KD*KH*KW) and
// a kernel offset). Only the KC x NC block the GEMM is at exists, in cache.
type im2colB struct {
	x          []float32 // one image (C, ID, IH, IW)
	c0         int       // the group's first input channel
	id, ih, iw int
	g          *ConvGeom
	// The input coordinate per (output coordinate, kernel offset) on each
	// axis, -1 in zero padding: zIdx[zo*KD+a], yIdx[yo*KH+b], xIdx[xo*KW+kx].
	zIdx, yIdx, xIdx []int
}

func newIm2colB(x []float32, c0, id, ih, iw int, g *ConvGeom) *im2colB {
	axis := func(o, k, s, pl, d, n int) []int {
		idx := make([]int, o*k)
		for i := 0; i < o; i++ {
			for j := 0; j < k; j++ {
				idx[i*k+j] = padIndex(i*s-pl+j*d, n, g.PadMode)
			}
		}
		return idx
	}
	return &im2colB{x: x, c0: c0, id: id, ih: ih, iw: iw, g: g,
		zIdx: axis(g.OutShape[0], g.K[0], g.S[0], g.PL[0], g.D[0], id),
		yIdx: axis(g.OutShape[1], g.K[1], g.S[1], g.PL[1], g.D[1], ih),
		xIdx: axis(g.OutShape[2], g.K[2], g.S[2], g.PL[2], g.D[2], iw)}
}

// segment is a run of output positions on one output row that lands in
// one panel: cnt positions from column xo of row (zo, yo), written at off
// in the panels of a step.
type segment struct{ off, cnt, zo, yo, xo int }

// colStep is one im2col row's input channel (the offset of its plane) and
// kernel offsets.
type colStep struct{ plane, a, b, kx int }

func (s *im2colB) panels(buf []float32, j0, n, p0, kc int) []float32 {
	g := s.g
	oh, ow := g.OutShape[1], g.OutShape[2]
	kd, kh, kw := g.K[0], g.K[1], g.K[2]
	pl := panelLen(gemmNR, kc)
	out := buf[:panelsLen(n, gemmNR, kc)]
	if r := n % gemmNR; r != 0 {
		// The last panel's columns past n are zero.
		last := out[(n/gemmNR)*pl:]
		for p := 0; p < kc; p++ {
			clear(last[p*gemmNR+r : (p+1)*gemmNR])
		}
	}
	// The segments of positions [j0, j0+n), the same for every step.
	segs := make([]segment, 0, n/gemmNR+n/ow+2)
	zo, rem := j0/(oh*ow), j0%(oh*ow)
	yo, xo := rem/ow, rem%ow
	for q := 0; q < n; {
		cnt := min(ow-xo, n-q, gemmNR-q%gemmNR)
		segs = append(segs, segment{off: (q/gemmNR)*pl + q%gemmNR, cnt: cnt, zo: zo, yo: yo, xo: xo})
		q += cnt
		if xo += cnt; xo == ow {
			xo = 0
			if yo++; yo == oh {
				yo = 0
				zo++
			}
		}
	}
	sx := g.S[2]
	zeros := g.PadMode == "zeros"
	plane := s.id * s.ih * s.iw
	// Per step: its channel's plane offset and kernel offsets.
	steps := make([]colStep, kc)
	for i := range steps {
		p := p0 + i
		kx := p % kw
		t := p / kw
		b := t % kh
		t /= kh
		steps[i] = colStep{plane: (s.c0 + t/kd) * plane, a: t % kd, b: b, kx: kx}
	}
	// Segment by segment, step by step: each segment's values for the kc
	// steps are written one after another (gemmNR floats apart), in order.
	for _, sg := range segs {
		zrow, yrow, xrow := s.zIdx[sg.zo*kd:][:kd], s.yIdx[sg.yo*kh:][:kh], s.xIdx[sg.xo*kw:]
		for i, st := range steps {
			dst := out[sg.off+i*gemmNR:][:sg.cnt]
			zi, yi := zrow[st.a], yrow[st.b]
			if zi < 0 || yi < 0 {
				clear(dst)
				continue
			}
			src := s.x[st.plane+(zi*s.ih+yi)*s.iw:][:s.iw]
			first, last := xrow[st.kx], xrow[(sg.cnt-1)*kw+st.kx]
			switch {
			case zeros && first >= 0 && last >= 0 && sx == 1:
				if len(dst) == gemmNR {
					*(*[gemmNR]float32)(dst) = *(*[gemmNR]float32)(src[first:])
				} else {
					copy(dst, src[first:])
				}
			case zeros && first >= 0 && last >= 0:
				// Every tap inside the row, sx apart.
				for e := range dst {
					dst[e] = src[first+e*sx]
				}
			default:
				idx := xrow[st.kx:]
				for e := range dst {
					if xi := idx[e*kw]; xi >= 0 {
						dst[e] = src[xi]
					} else {
						dst[e] = 0
					}
				}
			}
		}
	}
	return out
}
