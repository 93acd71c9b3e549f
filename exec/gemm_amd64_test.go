package exec

import (
	"sync"
	"testing"
)

// BenchmarkFMAPeak measures this machine's peak float32 GFLOP/s with the
// AVX2+FMA instructions the micro-kernel uses: a register-only FMA loop,
// on one core and on every core at once. GEMM efficiency is BenchmarkGemm's
// GFLOP/s over this.
func BenchmarkFMAPeak(b *testing.B) {
	if !hasAVX2FMA {
		b.Skip("no AVX2+FMA")
	}
	const iters = 1 << 20
	for _, w := range []int{1, gemmWorkers()} {
		b.Run(map[bool]string{true: "cores=1", false: "cores=all"}[w == 1], func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				var wg sync.WaitGroup
				for j := 0; j < w; j++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						fmaPeakAVX2(iters)
					}()
				}
				wg.Wait()
			}
			b.ReportMetric(192*iters*float64(w)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
