package exec

import "golang.org/x/sys/cpu"

// gemmKernelAVX2 is the AVX2+FMA 6x16 micro-kernel (gemm_amd64.s); accum
// is 0 to store the tile, 1 to add it to C; ep, when not nil, is applied
// as the tile is written.
//
//go:noescape
func gemmKernelAVX2(k int, a, b, c *float32, ldc int, accum int, ep *kernelEp)

// fmaPeakAVX2 runs n iterations of 12 independent 8-wide FMAs on registers
// only (192 FLOPs each): BenchmarkFMAPeak measures the machine's peak.
//
//go:noescape
func fmaPeakAVX2(n int)

// dotAVX2 is sum a[i]*b[i] over n values, n a positive multiple of 32
// (gemm_amd64.s).
//
//go:noescape
func dotAVX2(a, b *float32, n int) float32

// axpyAVX2 is dst[i] += a*src[i] over n values, n a positive multiple of
// 8 (gemm_amd64.s).
//
//go:noescape
func axpyAVX2(dst, src *float32, n int, a float32)

var hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// avx2Axpy is axpy with the AVX2 loop over the multiples of 8.
func avx2Axpy(dst, src []float32, a float32) {
	src = src[:len(dst)]
	n := len(dst) &^ 7
	if n > 0 {
		axpyAVX2(&dst[0], &src[0], n, a)
	}
	for i := n; i < len(dst); i++ {
		dst[i] += a * src[i]
	}
}

// avx2Dot is dot with the AVX2 loop over the multiples of 32.
func avx2Dot(a, b []float32) float32 {
	b = b[:len(a)]
	n := len(a) &^ 31
	var s float32
	if n > 0 {
		s = dotAVX2(&a[0], &b[0], n)
	}
	for i := n; i < len(a); i++ {
		s += a[i] * b[i]
	}
	return s
}

// avx2Kernel wraps gemmKernelAVX2 in gemmKernel's signature; the slices'
// bounds are checked here, once a tile.
func avx2Kernel(k int, a, b, c []float32, ldc int, accum bool, ep *kernelEp) {
	_ = a[k*gemmMR-1]
	_ = b[k*gemmNR-1]
	_ = c[(gemmMR-1)*ldc+gemmNR-1]
	acc := 0
	if accum {
		acc = 1
	}
	gemmKernelAVX2(k, &a[0], &b[0], &c[0], ldc, acc, ep)
}

func init() {
	if hasAVX2FMA {
		gemmKernel = avx2Kernel
		dot = avx2Dot
		axpy = avx2Axpy
	}
}

// simdKernels lists the SIMD micro-kernels this CPU can run.
func simdKernels() map[string]kernelFunc {
	if !hasAVX2FMA {
		return nil
	}
	return map[string]kernelFunc{"avx2": avx2Kernel}
}
