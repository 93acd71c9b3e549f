package exec

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// The GEMM is GotoBLAS/BLIS-shaped: op(B) is packed a KC x NC block at a
// time into NR-column panels, op(A) an MC x KC block at a time into
// MR-row panels, and a register-tiled micro-kernel (gemm_amd64.s for
// AVX2+FMA, gemmKernelGo elsewhere) multiplies one MR-row panel by one
// NR-column panel into an MR x NR tile of C.
//
// Each operand is a source of panels (operand): a dense matrix packs its
// panels when asked (dense), a prepacked one hands out the panels it made
// once (packed: a conv's or linear layer's weights, made by Prepare), and
// a convolution's input makes op(B)'s panels straight from the image
// (im2colB in im2col.go), so that the im2col matrix never exists. An
// epilogue adds a bias per row or column and clamps (ReLU, ReLU6,
// Hardtanh) each tile of C once its sum is complete, while it is in cache.
const (
	gemmMR = 6
	gemmNR = 16
	gemmKC = 256
	gemmMC = 144 // a multiple of gemmMR: the packed A block fits L2
	gemmNC = 512 // a multiple of gemmNR
)

// gemmKernel is the micro-kernel: c[i*ldc+j] (+)= sum_p a[p*MR+i]*b[p*NR+j]
// for the MR x NR tile, storing when accum is false and adding otherwise,
// then applying ep when it is not nil. a and b are packed panels of k
// steps. It is chosen at init (gemm_amd64.go).
var gemmKernel kernelFunc = gemmKernelGo

type kernelFunc func(k int, a, b, c []float32, ldc int, accum bool, ep *kernelEp)

// kernelEp is the epilogue of one MR x NR tile as the micro-kernel applies
// it: C[i][j] = min(max(C[i][j]*s[i] + t[i] + cb[j], lo), hi). Its layout
// is the assembly kernels' (offsets 0, 24, 48, 112, 116).
type kernelEp struct {
	s, t   [gemmMR]float32
	cb     [gemmNR]float32
	lo, hi float32
}

// apply is the epilogue in Go, on the mr x nr valid part of a tile at c.
func (e *kernelEp) apply(c []float32, ldc, mr, nr int) {
	for i := 0; i < mr; i++ {
		row := c[i*ldc : i*ldc+nr]
		s, t := float64(e.s[i]), float64(e.t[i])
		for j, v := range row {
			// v*s exact in float64, one rounding of the sum to float32
			// but for the double rounding a float32 FMA would not do.
			x := float32(float64(v)*s+t) + e.cb[j]
			row[j] = min(max(x, e.lo), e.hi)
		}
	}
}

// operand is one factor of a product, seen as lines (op(A)'s rows or
// op(B)'s columns) of k steps each. panels returns lines [l0, l0+n) over
// steps [p0, p0+kc) in panel layout: w lines a panel (MR for A, NR for B),
// panel r at r*panelLen(w, kc) holding per step its w values, zero past
// the last line. It may write them into buf (of panelsLen(n, w, kc)) and
// return it, or return panels it holds. l0 is a multiple of w, and p0 of
// gemmKC.
type operand interface {
	panels(buf []float32, l0, n, p0, kc int) []float32
}

// dense is a row-major matrix operand: line l's step p is
// data[p*ld+l] when stepMajor (op(A) transposed, op(B) not), else
// data[l*ld+p]. w is the panel width, gemmMR or gemmNR.
type dense struct {
	data      []float32
	ld, w     int
	stepMajor bool
}

func (d *dense) panels(buf []float32, l0, n, p0, kc int) []float32 {
	w := d.w
	for r := 0; r < n; r += w {
		pan := buf[(r/w)*panelLen(w, kc):][:w*kc]
		nl := min(w, n-r)
		switch {
		case d.stepMajor && nl == gemmNR && w == gemmNR:
			// A step's w values are contiguous: one 64-byte copy.
			for p := 0; p < kc; p++ {
				*(*[gemmNR]float32)(pan[p*gemmNR:]) = *(*[gemmNR]float32)(d.data[(p0+p)*d.ld+l0+r:])
			}
			continue
		case d.stepMajor:
			for p := 0; p < kc; p++ {
				src := d.data[(p0+p)*d.ld+l0+r:]
				dst := pan[p*w : p*w+w]
				copy(dst, src[:nl])
				clear(dst[nl:])
			}
			continue
		case nl == gemmMR && w == gemmMR:
			// MR rows side by side, a step of all six at a time.
			row := func(i int) []float32 { return d.data[(l0+r+i)*d.ld+p0:][:kc] }
			r0, r1, r2, r3, r4, r5 := row(0), row(1), row(2), row(3), row(4), row(5)
			for p := range r0 {
				q := pan[p*gemmMR : p*gemmMR+gemmMR : p*gemmMR+gemmMR]
				q[0], q[1], q[2], q[3], q[4], q[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
			}
			continue
		}
		for l := 0; l < nl; l++ {
			src := d.data[(l0+r+l)*d.ld+p0:][:kc]
			for p, v := range src {
				pan[p*w+l] = v
			}
		}
		for l := nl; l < w; l++ {
			for p := 0; p < kc; p++ {
				pan[p*w+l] = 0
			}
		}
	}
	return buf[:panelsLen(n, w, kc)]
}

// packed is an operand packed once: for each gemmKC block of steps, the
// panels of all its lines (dense.panels' layout), block after block.
type packed struct {
	data        []float32
	lines, k, w int
}

// pack packs all of op's lines into a packed operand.
func pack(op operand, lines, k, w int) *packed {
	full := panelsLen(lines, w, gemmKC)
	size := (k / gemmKC) * full
	if r := k % gemmKC; r != 0 {
		size += panelsLen(lines, w, r)
	}
	pk := &packed{data: make([]float32, size), lines: lines, k: k, w: w}
	// The panels split over the cores by lines, whole panels each.
	panels := (lines + w - 1) / w
	forPlanes(panels, int64(size), func(lo, hi int) {
		l0, l1 := lo*w, min(hi*w, lines)
		for p0 := 0; p0 < k; p0 += gemmKC {
			kc := min(gemmKC, k-p0)
			blk := pk.data[(p0/gemmKC)*full+lo*panelLen(w, kc):][:panelsLen(l1-l0, w, kc)]
			if got := op.panels(blk, l0, l1-l0, p0, kc); len(got) > 0 && &got[0] != &blk[0] {
				copy(blk, got)
			}
		}
	})
	return pk
}

func (pk *packed) panels(_ []float32, l0, n, p0, kc int) []float32 {
	off := (p0/gemmKC)*panelsLen(pk.lines, pk.w, gemmKC) + (l0/pk.w)*panelLen(pk.w, kc)
	return pk.data[off : off+panelsLen(n, pk.w, kc)]
}

// epilogue is applied to C's elements once their sums are complete:
// C[i][j] = C[i][j]*rowScale[i] + rowBias[i] + colBias[j], clamped to
// [lo, hi] when clamp is set (ReLU is [0, +Inf]); NaN stays NaN, as
// PyTorch's max and min keep it. rowScale and rowBias are a conv's
// (per output channel: a batchnorm's scale, the bias), colBias a linear
// layer's (per feature); each may be nil.
type epilogue struct {
	rowScale, rowBias, colBias []float32
	clamp                      bool
	lo, hi                     float32
}

// tile is the kernel epilogue of the tile whose top-left element is
// C[i0][j0], with mr x nr valid elements.
func (e *epilogue) tile(k *kernelEp, i0, j0, mr, nr int) {
	for i := range gemmMR {
		k.s[i], k.t[i] = 1, 0
		if i < mr && e.rowScale != nil {
			k.s[i] = e.rowScale[i0+i]
		}
		if i < mr && e.rowBias != nil {
			k.t[i] = e.rowBias[i0+i]
		}
	}
	clear(k.cb[:])
	if e.colBias != nil {
		copy(k.cb[:nr], e.colBias[j0:j0+nr])
	}
	k.lo, k.hi = float32(math.Inf(-1)), float32(math.Inf(1))
	if e.clamp {
		k.lo, k.hi = e.lo, e.hi
	}
}

// product is C = op(A)*op(B) + beta*C (+ the epilogue) with op(A) m x k,
// op(B) k x n and C m x n at row stride ldc.
type product struct {
	m, n, k int
	a, b    operand
	beta    float32
	c       []float32
	ldc     int
	ep      *epilogue
}

// gemm computes C = op(A)*op(B) + beta*C for row-major matrices, with
// op(A) m x k, op(B) k x n and C m x n; lda, ldb, ldc are row strides. It is
// the one place the package multiplies matrices, on one core; gemmPar
// splits the same product over cores. It adds the m*n*k multiply-accumulates
// it performs to st.MACs.
func gemm(st *Stats, transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemmPar(st, 1, transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc)
}

// gemmPar is gemm split over up to workers cores (product.run).
func gemmPar(st *Stats, workers int, transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	pr := product{m: m, n: n, k: k, beta: beta, c: c, ldc: ldc,
		a: &dense{data: a, ld: lda, w: gemmMR, stepMajor: transA},
		b: &dense{data: b, ld: ldb, w: gemmNR, stepMajor: !transB}}
	pr.run(st, workers)
}

// gemmMinPar is the MACs below which a product stays on one core.
const gemmMinPar = 1 << 18

// run computes the product on up to workers cores, split by blocks of C's
// columns (or of its rows when C is taller than wide), each worker
// packing its own panels; the result is the same to the bit on any number
// of workers, since every element of C is summed in the same order. It
// adds the m*n*k multiply-accumulates to st.MACs.
func (pr *product) run(st *Stats, workers int) {
	m, n, k := pr.m, pr.n, pr.k
	if m == 0 || n == 0 {
		return
	}
	if st != nil {
		atomic.AddInt64(&st.MACs, int64(m)*int64(n)*int64(k))
	}
	if int64(m)*int64(n)*int64(k) < gemmMinPar {
		workers = 1
	}
	splitN := n >= m
	blocks := (m + gemmMR - 1) / gemmMR
	if splitN {
		blocks = (n + gemmNR - 1) / gemmNR
	}
	workers = min(workers, blocks)
	if workers <= 1 {
		pr.block(0, m, 0, n)
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := w*blocks/workers, (w+1)*blocks/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			if splitN {
				pr.block(0, m, lo*gemmNR, min(hi*gemmNR, n))
			} else {
				pr.block(lo*gemmMR, min(hi*gemmMR, m), 0, n)
			}
		}()
	}
	wg.Wait()
}

// gemmWorkers is the number of cores a GEMM outside forImages may use.
func gemmWorkers() int { return runtime.GOMAXPROCS(0) }

// block computes rows [i0, i1) and columns [j0, j1) of the product on
// the calling goroutine; i0 is a multiple of gemmMR and j0 of gemmNR.
func (pr *product) block(i0, i1, j0, j1 int) {
	k, c, ldc, beta := pr.k, pr.c, pr.ldc, pr.beta
	m, n := i1-i0, j1-j0
	if k == 0 || (beta != 0 && beta != 1) {
		scaleC(m, n, beta, c[i0*ldc+j0:], ldc)
		if k == 0 {
			if pr.ep != nil {
				var ke kernelEp
				for i := i0; i < i1; i += gemmMR {
					for j := j0; j < j1; j += gemmNR {
						mr, nr := min(gemmMR, i1-i), min(gemmNR, j1-j)
						pr.ep.tile(&ke, i, j, mr, nr)
						ke.apply(c[i*ldc+j:], ldc, mr, nr)
					}
				}
			}
			return
		}
		beta = 1
	}
	kc0 := min(gemmKC, k)
	bp := getBuf(panelsLen(min(gemmNC, n), gemmNR, kc0))
	ap := getBuf(panelsLen(min(gemmMC, m), gemmMR, kc0))
	defer putBuf(bp)
	defer putBuf(ap)
	var tile [gemmMR * gemmNR]float32
	var ke kernelEp
	for jc := j0; jc < j1; jc += gemmNC {
		nc := min(gemmNC, j1-jc)
		for pc := 0; pc < k; pc += gemmKC {
			kc := min(gemmKC, k-pc)
			accum := pc > 0 || beta != 0
			last := pc+kc == k
			bpk := pr.b.panels(bp, jc, nc, pc, kc)
			for ic := i0; ic < i1; ic += gemmMC {
				mc := min(gemmMC, i1-ic)
				apk := pr.a.panels(ap, ic, mc, pc, kc)
				for jr := 0; jr < nc; jr += gemmNR {
					nr := min(gemmNR, nc-jr)
					bpan := bpk[(jr/gemmNR)*panelLen(gemmNR, kc):][:gemmNR*kc]
					for ir := 0; ir < mc; ir += gemmMR {
						mr := min(gemmMR, mc-ir)
						apan := apk[(ir/gemmMR)*panelLen(gemmMR, kc):][:gemmMR*kc]
						co := (ic+ir)*ldc + jc + jr
						var ep *kernelEp
						if last && pr.ep != nil {
							ep = &ke
							pr.ep.tile(ep, ic+ir, jc+jr, mr, nr)
						}
						if mr == gemmMR && nr == gemmNR {
							gemmKernel(kc, apan, bpan, c[co:], ldc, accum, ep)
						} else {
							// A ragged edge: the padded tile, then its valid part.
							gemmKernel(kc, apan, bpan, tile[:], gemmNR, false, nil)
							for i := 0; i < mr; i++ {
								row := c[co+i*ldc : co+i*ldc+nr]
								t := tile[i*gemmNR : i*gemmNR+nr]
								if accum {
									for j, v := range t {
										row[j] += v
									}
								} else {
									copy(row, t)
								}
							}
							if ep != nil {
								ep.apply(c[co:], ldc, mr, nr)
							}
						}
					}
				}
			}
		}
	}
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

// panelLen is the length of one panel of w lines and kc steps: w*kc, and
// one step more for op(B)'s NR-wide panels, whose w*kc floats (16 KiB at
// kc 256) would otherwise put every panel's step p in the same L1 cache
// set, so that making them step by step (im2colB) evicts each line it
// writes.
func panelLen(w, kc int) int {
	if w == gemmNR {
		return w * (kc + 1)
	}
	return w * kc
}

// panelsLen is the length of the panels of n lines.
func panelsLen(n, w, kc int) int { return (n + w - 1) / w * panelLen(w, kc) }

// scaleC sets C = beta*C (zero when beta is 0, whatever C held).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// gemmKernelGo is the portable micro-kernel, by 2x4 sub-tiles whose eight
// sums the compiler keeps in registers.
func gemmKernelGo(k int, a, b, c []float32, ldc int, accum bool, ep *kernelEp) {
	a = a[:k*gemmMR]
	b = b[:k*gemmNR]
	for i := 0; i < gemmMR; i += 2 {
		for j := 0; j < gemmNR; j += 4 {
			var s00, s01, s02, s03, s10, s11, s12, s13 float32
			for p := 0; p < k; p++ {
				ap := a[p*gemmMR+i : p*gemmMR+i+2 : p*gemmMR+i+2]
				bp := b[p*gemmNR+j : p*gemmNR+j+4 : p*gemmNR+j+4]
				a0, a1 := ap[0], ap[1]
				b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
				s00 += a0 * b0
				s01 += a0 * b1
				s02 += a0 * b2
				s03 += a0 * b3
				s10 += a1 * b0
				s11 += a1 * b1
				s12 += a1 * b2
				s13 += a1 * b3
			}
			r0 := c[i*ldc+j : i*ldc+j+4 : i*ldc+j+4]
			r1 := c[(i+1)*ldc+j : (i+1)*ldc+j+4 : (i+1)*ldc+j+4]
			if accum {
				r0[0] += s00
				r0[1] += s01
				r0[2] += s02
				r0[3] += s03
				r1[0] += s10
				r1[1] += s11
				r1[2] += s12
				r1[3] += s13
			} else {
				r0[0], r0[1], r0[2], r0[3] = s00, s01, s02, s03
				r1[0], r1[1], r1[2], r1[3] = s10, s11, s12, s13
			}
		}
	}
	if ep != nil {
		ep.apply(c, ldc, gemmMR, gemmNR)
	}
}
