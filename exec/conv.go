package exec

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Conv computes a 1-, 2- or 3-D convolution as a GEMM per image and
// group: out_g (Cout/G, P) = w_g (Cout/G, Cin/G*KD*KH*KW) x col (Cin/G*KD*KH*KW, P),
// where col, im2col's matrix, is made panel by panel as the GEMM packs it
// (im2colB) and the bias is added as each tile of out is done. x is
// (N, Cin, spatial...), w is (Cout, Cin/G, kernel...), b is (Cout) or
// nil, out is (N, Cout, out spatial...) with P = prod(out spatial). A
// depthwise conv with zero padding runs the direct kernel of depthwise.go.
func Conv(out, x, w, b *Tensor, g *ConvGeom, st *Stats) {
	convRun(out, x, &convOp{w: w, bias: data(b)}, g, st)
}

// convOp is a conv or linear layer as a run uses it: the weights (Cout,
// Cin/G, kernel...) or (out, in), per group op(A) prepacked (Prepare) or
// nil to pack w as it goes, and what the GEMM's write-back does: scale
// each output channel (a batchnorm's s, nil for none), add the bias (nil
// for none), clamp to [lo, hi] (an activation).
type convOp struct {
	w           *Tensor
	a           []operand
	scale, bias []float32
	clamp       bool
	lo, hi      float32
}

// groupEpilogue is the epilogue of group gr's GEMM: its channels' bias and
// the clamp.
func (op *convOp) groupEpilogue(gr, cog int) *epilogue {
	ep := &epilogue{clamp: op.clamp, lo: op.lo, hi: op.hi}
	if op.bias != nil {
		ep.rowBias = op.bias[gr*cog : (gr+1)*cog]
	}
	if op.scale != nil {
		ep.rowScale = op.scale[gr*cog : (gr+1)*cog]
	}
	if ep.rowBias == nil && ep.rowScale == nil && !ep.clamp {
		return nil
	}
	return ep
}

// weightsA is op(A) of group gr: the prepacked panels, or w_g itself.
func (op *convOp) weightsA(gr, cog, k int) operand {
	if op.a != nil {
		return op.a[gr]
	}
	return &dense{data: op.w.Data[gr*cog*k:], ld: k, w: gemmMR}
}

func convRun(out, x *Tensor, op *convOp, g *ConvGeom, st *Stats) {
	n, cin, id, ih, iw := dims5(x.Shape)
	if depthwise(cin, g) {
		var b *Tensor
		if op.bias != nil && op.scale == nil {
			b = &Tensor{Shape: []int{len(op.bias)}, Data: op.bias}
		}
		var post func(t int, o []float32)
		if op.scale != nil || op.clamp {
			post = func(t int, o []float32) { channelAffine(o, t%out.Shape[1], op) }
		}
		convDepthwise(out, x, op.w, b, g, st, post)
		return
	}
	_, cout, _, _, _ := dims5(out.Shape)
	p := g.OutShape[0] * g.OutShape[1] * g.OutShape[2]
	cig, cog := cin/g.Groups, cout/g.Groups
	k := cig * g.K[0] * g.K[1] * g.K[2]
	inSize := cin * id * ih * iw
	direct := k == cig && g.S == [3]int{1, 1, 1} && g.PL == [3]int{} && g.PR == [3]int{}
	wide := !direct && useWide(g, id, ih, iw, cog)
	forImagesOrGemm(n, func(lo, hi, gw int) {
		var wb *wideB
		if wide {
			wb = newWideB(cin, ih, iw, g)
			defer wb.free()
		}
		for i := lo; i < hi; i++ {
			xi := x.Data[i*inSize : (i+1)*inSize]
			oi := out.Data[i*cout*p : (i+1)*cout*p]
			if wide {
				wb.fill(xi, cin, ih, iw, g)
			}
			for gr := 0; gr < g.Groups; gr++ {
				pr := product{m: cog, n: p, k: k, a: op.weightsA(gr, cog, k), c: oi[gr*cog*p:], ldc: p, ep: op.groupEpilogue(gr, cog)}
				switch {
				case direct:
					// A 1x1 conv, stride 1, no padding: the input is its own col.
					pr.b = &dense{data: xi[gr*cig*p : (gr+1)*cig*p], ld: p, w: gemmNR, stepMajor: true}
				case wide:
					// A band of output rows at a time, so that the grid's
					// product stays in cache until compact copies it out.
					wb.group(gr*cig, cig, g)
					oh := g.OutShape[1]
					rows := max(1, min(oh, wideBand/(cog*wb.wp)))
					cw := getBuf(cog * rows * wb.wp)
					for y0 := 0; y0 < oh; y0 += rows {
						ny := min(rows, oh-y0)
						wb.off = y0 * wb.wp
						pr.b, pr.n = wb, ny*wb.wp
						pr.c, pr.ldc = cw, ny*wb.wp
						pr.run(nil, gw)
						wb.compact(oi[gr*cog*p+y0*g.OutShape[2]:], cw, cog, ny, p, g)
					}
					putBuf(cw)
					if st != nil {
						atomic.AddInt64(&st.MACs, int64(cog)*int64(p)*int64(k))
					}
					continue
				default:
					pr.b = newIm2colB(xi, gr*cig, id, ih, iw, g)
				}
				pr.run(st, gw)
			}
		}
	})
}

// useWide decides when a conv runs on the wide grid (wideB): a 1-D or 2-D
// conv of stride 1, whose wasted columns (the padded width over the
// output's, less one) times its output channels a group stay under 12:
// then the columns cost less than making im2col's panels position by
// position (BenchmarkIm2colB) costs more.
func useWide(g *ConvGeom, id, ih, iw, cog int) bool {
	if id != 1 || g.K[0] != 1 || g.S != [3]int{1, 1, 1} {
		return false
	}
	wp := iw + g.PL[2] + g.PR[2]
	return float64(wp-g.OutShape[2])/float64(g.OutShape[2])*float64(cog) <= 12
}

// wideB is a stride-1 conv's op(B) without im2col: the image is padded
// once (by its padding mode) into planes of HP x WP, and the output is
// computed on a grid of OH x WP positions, of which each row's first OW
// are the output's and the rest are never kept. On that grid im2col's row
// for input channel c and kernel offset (b, kx) is the padded plane from
// c*HP*WP + b*dy*WP + kx*dx on, contiguous: its panels are copies.
type wideB struct {
	xp     []float32 // the padded image, plus (KW-1)*dx floats the last row's wasted columns read
	hp, wp int
	n      int   // positions on the grid, OH*WP
	base   []int // per step of the current group: where its row starts in xp
	off    int   // the grid position of line 0: the band of rows the GEMM is at
}

// wideBand is the most floats of a band of the wide grid's product (a
// group's output channels times rows times WP): 1 MiB.
const wideBand = 1 << 18

func newWideB(cin, ih, iw int, g *ConvGeom) *wideB {
	hp, wp := ih+g.PL[1]+g.PR[1], iw+g.PL[2]+g.PR[2]
	w := &wideB{hp: hp, wp: wp, n: g.OutShape[1] * wp}
	w.xp = getBuf(cin*hp*wp + (g.K[2]-1)*g.D[2])
	clear(w.xp[cin*hp*wp:])
	return w
}

func (w *wideB) free() { putBuf(w.xp) }

// fill pads one image (cin, ih, iw) into xp.
func (w *wideB) fill(x []float32, cin, ih, iw int, g *ConvGeom) {
	xIdx := make([]int, w.wp)
	for xo := range xIdx {
		xIdx[xo] = padIndex(xo-g.PL[2], iw, g.PadMode)
	}
	for c := 0; c < cin; c++ {
		xc := x[c*ih*iw : (c+1)*ih*iw]
		for yo := 0; yo < w.hp; yo++ {
			row := w.xp[(c*w.hp+yo)*w.wp : (c*w.hp+yo+1)*w.wp]
			yi := padIndex(yo-g.PL[1], ih, g.PadMode)
			if yi < 0 {
				clear(row)
				continue
			}
			src := xc[yi*iw : (yi+1)*iw]
			if g.PadMode == "zeros" {
				clear(row[:g.PL[2]])
				copy(row[g.PL[2]:], src)
				clear(row[g.PL[2]+iw:])
				continue
			}
			for xo, xi := range xIdx {
				row[xo] = src[xi]
			}
		}
	}
}

// group sets the steps' rows for the cig input channels from c0.
func (w *wideB) group(c0, cig int, g *ConvGeom) {
	kh, kw := g.K[1], g.K[2]
	w.base = w.base[:0]
	for c := c0; c < c0+cig; c++ {
		for b := 0; b < kh; b++ {
			for kx := 0; kx < kw; kx++ {
				w.base = append(w.base, c*w.hp*w.wp+b*g.D[1]*w.wp+kx*g.D[2])
			}
		}
	}
}

func (w *wideB) panels(buf []float32, l0, n, p0, kc int) []float32 {
	pl := panelLen(gemmNR, kc)
	out := buf[:panelsLen(n, gemmNR, kc)]
	base := w.base[p0 : p0+kc]
	for r := 0; r < n; r += gemmNR {
		pan := out[(r/gemmNR)*pl:][:gemmNR*kc]
		if nl := n - r; nl < gemmNR {
			for p, b := range base {
				dst := pan[p*gemmNR : (p+1)*gemmNR]
				copy(dst, w.xp[b+w.off+l0+r:][:nl])
				clear(dst[nl:])
			}
			continue
		}
		for p, b := range base {
			*(*[gemmNR]float32)(pan[p*gemmNR:]) = *(*[gemmNR]float32)(w.xp[b+w.off+l0+r:])
		}
	}
	return out
}

// compact copies the output's columns of a band of the grid, cw (cog
// rows of ny*WP), into out: row y of channel c at c*p + y*OW, p the
// output's positions a channel.
func (w *wideB) compact(out, cw []float32, cog, ny, p int, g *ConvGeom) {
	ow := g.OutShape[2]
	for c := 0; c < cog; c++ {
		for y := 0; y < ny; y++ {
			copy(out[c*p+y*ow:][:ow], cw[(c*ny+y)*w.wp:])
		}
	}
}

// channelAffine is a depthwise conv's epilogue on the plane o of output
// channel c: scaled by op.scale[c] and op.bias[c] added when there is a
// scale (else the kernel added the bias), then the clamp.
func channelAffine(o []float32, c int, op *convOp) {
	if op.scale != nil {
		s, b := float64(op.scale[c]), 0.0
		if op.bias != nil {
			b = float64(op.bias[c])
		}
		for j, v := range o {
			o[j] = float32(float64(v)*s + b)
		}
	}
	if op.clamp {
		for j, v := range o {
			o[j] = min(max(v, op.lo), op.hi)
		}
	}
}

// forImages runs body over the images [0, n) of a batch, split between the
// cores when there is more than one image; each call owns its own range.
func forImages(n int, body func(lo, hi int)) {
	workers := min(n, runtime.GOMAXPROCS(0))
	if workers <= 1 {
		body(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := w*n/workers, (w+1)*n/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			body(lo, hi)
		}()
	}
	wg.Wait()
}

// forPlanes runs body over the planes [0, n) of a pooling or elementwise
// kernel, split between the cores when the work (taps visited) is large
// enough to pay for starting them.
func forPlanes(n int, work int64, body func(lo, hi int)) {
	if work < 1<<16 {
		body(0, n)
		return
	}
	forImages(n, body)
}

// forImagesOrGemm runs body over the images [0, n) of a batch: split
// between the cores by images when there are at least as many images as
// cores (each GEMM then on one core, gw = 1), else on the calling goroutine
// with every GEMM split over the cores (gw = GOMAXPROCS), so that batch 1
// uses them all.
func forImagesOrGemm(n int, body func(lo, hi, gw int)) {
	if w := gemmWorkers(); n < w {
		body(0, n, w)
		return
	}
	forImages(n, func(lo, hi int) { body(lo, hi, 1) })
}

// addBias adds bias[c] to every element of channel c of one image (C, P).
func addBias(x, bias []float32, p int) {
	for c, v := range bias {
		row := x[c*p : (c+1)*p]
		for j := range row {
			row[j] += v
		}
	}
}

// ConvTranspose computes a transposed convolution as GEMM + col2im, per
// image and group: col (Cout/G*K, Pin) = w_g^T (Cout/G*K, Cin/G) x x_g (Cin/G, Pin),
// then col2im adds each column into the output. x is (N, Cin, spatial...),
// w is (Cin, Cout/G, kernel...), b is (Cout) or nil, out is
// (N, Cout, out spatial...). g.PL holds the padding.
func ConvTranspose(out, x, w, b *Tensor, g *ConvGeom, st *Stats) {
	n, cin, id, ih, iw := dims5(x.Shape)
	_, cout, _, _, _ := dims5(out.Shape)
	pin := id * ih * iw
	pout := g.OutShape[0] * g.OutShape[1] * g.OutShape[2]
	cig, cog := cin/g.Groups, cout/g.Groups
	kk := g.K[0] * g.K[1] * g.K[2]
	for i := range out.Data {
		out.Data[i] = 0
	}
	forImagesOrGemm(n, func(lo, hi, gw int) {
		col := getBuf(cog * kk * pin)
		defer putBuf(col)
		for i := lo; i < hi; i++ {
			xi := x.Data[i*cin*pin : (i+1)*cin*pin]
			oi := out.Data[i*cout*pout : (i+1)*cout*pout]
			for gr := 0; gr < g.Groups; gr++ {
				// w_g is (Cin/G, Cout/G*K) row-major: transpose it in the GEMM.
				gemmPar(st, gw, true, false, cog*kk, pin, cig, w.Data[gr*cig*cog*kk:], cog*kk, xi[gr*cig*pin:], pin, 0, col, pin)
				col2im(oi, col, gr*cog, cog, id, ih, iw, g)
			}
			if b != nil {
				addBias(oi, b.Data, pout)
			}
		}
	})
}

// Linear computes out = x w^T + b on the last axis: x is (..., in), w is
// (out, in), b is (out) or nil, out is (..., out).
func Linear(out, x, w, b *Tensor, st *Stats) {
	linearRun(out, x, &convOp{w: w, bias: data(b)}, st)
}

// gemvMaxRows is the most rows of x a linear layer multiplies as dot
// products (gemv) rather than a GEMM: with a few rows the GEMM would pack
// (transpose) the whole weight matrix to use it as often.
const gemvMaxRows = 4

// linearRun is Linear with op's tensors, the bias and clamp in the
// GEMM's write-back.
func linearRun(out, x *Tensor, op *convOp, st *Stats) {
	in := x.Shape[len(x.Shape)-1]
	o := op.w.Shape[0]
	m := len(x.Data) / in
	if m <= gemvMaxRows {
		gemv(out.Data, x.Data, op, m, in, o, st)
		return
	}
	pr := product{m: m, n: o, k: in, c: out.Data, ldc: o,
		a: &dense{data: x.Data, ld: in, w: gemmMR},
		b: &dense{data: op.w.Data, ld: in, w: gemmNR}}
	if op.bias != nil || op.clamp {
		pr.ep = &epilogue{colBias: op.bias, clamp: op.clamp, lo: op.lo, hi: op.hi}
	}
	pr.run(st, gemmWorkers())
}

// axpy is dst[i] += a*src[i] (len(src) >= len(dst)): AVX2 where the CPU
// has it (gemm_amd64.go), else axpyGo.
var axpy = axpyGo

func axpyGo(dst, src []float32, a float32) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] += a * v
	}
}

// dot is sum a[i]*b[i] (len(b) >= len(a)): AVX2 where the CPU has it
// (gemm_amd64.go), else dotGo.
var dot = dotGo

// dotGo is the portable dot product, four partial sums.
func dotGo(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// gemv is a linear layer on m rows of x as dot products with the rows of
// w, each read once for all m rows, the features split over the cores;
// then op's bias and clamp.
func gemv(out, x []float32, op *convOp, m, in, o int, st *Stats) {
	if st != nil {
		atomic.AddInt64(&st.MACs, int64(m)*int64(o)*int64(in))
	}
	w := op.w.Data
	forPlanes(o, int64(m)*int64(o)*int64(in), func(j0, j1 int) {
		for j := j0; j < j1; j++ {
			wj := w[j*in : (j+1)*in]
			for r := 0; r < m; r++ {
				v := dot(x[r*in:(r+1)*in], wj)
				if op.bias != nil {
					v += op.bias[j]
				}
				if op.clamp {
					v = min(max(v, op.lo), op.hi)
				}
				out[r*o+j] = v
			}
		}
	})
}

// bufPool recycles the large col buffers of im2col between layers.
var bufPool sync.Pool

func getBuf(n int) []float32 {
	if v, ok := bufPool.Get().(*[]float32); ok && cap(*v) >= n {
		return (*v)[:n]
	}
	return make([]float32, n)
}

func putBuf(b []float32) { bufPool.Put(&b) }
