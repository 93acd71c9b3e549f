package exec

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// The GEMM is GotoBLAS/BLIS-shaped: op(B) is packed a KC x NC block at a
// time into NR-column panels, op(A) an MC x KC block at a time into
// MR-row panels, and a register-tiled micro-kernel (gemm_amd64.s for
// AVX2+FMA, gemmKernelGo elsewhere) multiplies one MR-row panel by one
// NR-column panel into an MR x NR tile of C.
const (
	gemmMR = 6
	gemmNR = 16
	gemmKC = 256
	gemmMC = 144  // a multiple of gemmMR: the packed A block fits L2
	gemmNC = 4096 // a multiple of gemmNR
)

// gemmKernel is the micro-kernel: c[i*ldc+j] (+)= sum_p a[p*MR+i]*b[p*NR+j]
// for the MR x NR tile, storing when accum is false and adding otherwise.
// a and b are packed panels of k steps. It is chosen at init (gemm_amd64.go).
var gemmKernel = gemmKernelGo

// gemm computes C = op(A)*op(B) + beta*C for row-major matrices, with
// op(A) m x k, op(B) k x n and C m x n; lda, ldb, ldc are row strides. It is
// the one place the package multiplies matrices, on one core; gemmPar
// splits the same product over cores. It adds the m*n*k multiply-accumulates
// it performs to st.MACs.
func gemm(st *Stats, transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemmPar(st, 1, transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc)
}

// gemmMinPar is the MACs below which gemmPar stays on one core.
const gemmMinPar = 1 << 18

// gemmPar is gemm split over up to workers cores by blocks of C's columns
// (or of its rows when C is taller than wide), each worker packing its own
// panels; the result is the same to the bit as gemm's, since every element
// of C is summed in the same order.
func gemmPar(st *Stats, workers int, transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
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
		gemmSerial(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc)
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := w*blocks/workers, (w+1)*blocks/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			if splitN {
				j0, j1 := lo*gemmNR, min(hi*gemmNR, n)
				bo := j0 // op(B)'s column j0
				if transB {
					bo = j0 * ldb
				}
				gemmSerial(transA, transB, m, j1-j0, k, a, lda, b[bo:], ldb, beta, c[j0:], ldc)
				return
			}
			i0, i1 := lo*gemmMR, min(hi*gemmMR, m)
			ao := i0 * lda // op(A)'s row i0
			if transA {
				ao = i0
			}
			gemmSerial(transA, transB, i1-i0, n, k, a[ao:], lda, b, ldb, beta, c[i0*ldc:], ldc)
		}()
	}
	wg.Wait()
}

// gemmWorkers is the number of cores a GEMM outside forImages may use.
func gemmWorkers() int { return runtime.GOMAXPROCS(0) }

// gemmSerial is the blocked product on the calling goroutine.
func gemmSerial(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if k == 0 || (beta != 0 && beta != 1) {
		scaleC(m, n, beta, c, ldc)
		if k == 0 {
			return
		}
		beta = 1
	}
	nc0 := min(gemmNC, roundUp(n, gemmNR))
	kc0 := min(gemmKC, k)
	mc0 := min(gemmMC, roundUp(m, gemmMR))
	bp := getBuf(nc0 * kc0)
	ap := getBuf(mc0 * kc0)
	defer putBuf(bp)
	defer putBuf(ap)
	var tile [gemmMR * gemmNR]float32
	for jc := 0; jc < n; jc += gemmNC {
		nc := min(gemmNC, n-jc)
		for pc := 0; pc < k; pc += gemmKC {
			kc := min(gemmKC, k-pc)
			accum := pc > 0 || beta != 0
			packB(bp, transB, b, ldb, pc, kc, jc, nc)
			for ic := 0; ic < m; ic += gemmMC {
				mc := min(gemmMC, m-ic)
				packA(ap, transA, a, lda, ic, mc, pc, kc)
				for jr := 0; jr < nc; jr += gemmNR {
					nr := min(gemmNR, nc-jr)
					bpan := bp[jr*kc : (jr+gemmNR)*kc]
					for ir := 0; ir < mc; ir += gemmMR {
						mr := min(gemmMR, mc-ir)
						apan := ap[ir*kc : (ir+gemmMR)*kc]
						co := (ic+ir)*ldc + jc + jr
						if mr == gemmMR && nr == gemmNR {
							gemmKernel(kc, apan, bpan, c[co:], ldc, accum)
							continue
						}
						// A ragged edge: the padded tile, then its valid part.
						gemmKernel(kc, apan, bpan, tile[:], gemmNR, false)
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
					}
				}
			}
		}
	}
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

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

// packA packs rows [i0, i0+mc) and columns [p0, p0+kc) of op(A) into
// MR-row panels: panel r holds, per step p, its MR rows' values, zero past m.
func packA(dst []float32, trans bool, a []float32, lda, i0, mc, p0, kc int) {
	for ir := 0; ir < mc; ir += gemmMR {
		pan := dst[ir*kc : (ir+gemmMR)*kc]
		mr := min(gemmMR, mc-ir)
		if trans {
			// op(A)[i][p] = a[p*lda+i]: a step's MR values are contiguous.
			for p := 0; p < kc; p++ {
				src := a[(p0+p)*lda+i0+ir:]
				d := pan[p*gemmMR : p*gemmMR+gemmMR]
				copy(d, src[:mr])
				clear(d[mr:])
			}
			continue
		}
		for i := 0; i < mr; i++ {
			src := a[(i0+ir+i)*lda+p0 : (i0+ir+i)*lda+p0+kc]
			for p, v := range src {
				pan[p*gemmMR+i] = v
			}
		}
		for i := mr; i < gemmMR; i++ {
			for p := 0; p < kc; p++ {
				pan[p*gemmMR+i] = 0
			}
		}
	}
}

// packB packs rows [p0, p0+kc) and columns [j0, j0+nc) of op(B) into
// NR-column panels: panel j holds, per step p, its NR columns' values, zero
// past n.
func packB(dst []float32, trans bool, b []float32, ldb, p0, kc, j0, nc int) {
	for jr := 0; jr < nc; jr += gemmNR {
		pan := dst[jr*kc : (jr+gemmNR)*kc]
		nr := min(gemmNR, nc-jr)
		if !trans {
			for p := 0; p < kc; p++ {
				src := b[(p0+p)*ldb+j0+jr:]
				d := pan[p*gemmNR : p*gemmNR+gemmNR]
				copy(d, src[:nr])
				clear(d[nr:])
			}
			continue
		}
		// op(B)[p][j] = b[j*ldb+p]: a column of op(B) is a row of b.
		for j := 0; j < nr; j++ {
			src := b[(j0+jr+j)*ldb+p0 : (j0+jr+j)*ldb+p0+kc]
			for p, v := range src {
				pan[p*gemmNR+j] = v
			}
		}
		for j := nr; j < gemmNR; j++ {
			for p := 0; p < kc; p++ {
				pan[p*gemmNR+j] = 0
			}
		}
	}
}

// gemmKernelGo is the portable micro-kernel, by 2x4 sub-tiles whose eight
// sums the compiler keeps in registers.
func gemmKernelGo(k int, a, b, c []float32, ldc int, accum bool) {
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
}
