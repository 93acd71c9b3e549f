package exec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// refGemm is the reference the GEMM is compared with: gonum's Sgemm.
func refGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	blas32.Implementation().Sgemm(ta, tb, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
}

// gemmKernels are the micro-kernels this machine can run, by name.
func gemmKernels() map[string]kernelFunc {
	ks := map[string]kernelFunc{"go": gemmKernelGo}
	for name, k := range simdKernels() {
		ks[name] = k
	}
	return ks
}

// TestGemmMatchesReference runs gemm and gemmPar with every kernel on every
// shape class its callers produce (tiny, skinny, ragged edges, k=1, huge k,
// transposed operands, padded strides, beta 0/1/other) against Sgemm.
func TestGemmMatchesReference(t *testing.T) {
	type shape struct{ m, n, k int }
	shapes := []shape{
		{1, 1, 1}, {1, 7, 3}, {5, 1, 9}, {6, 16, 1}, {7, 17, 1}, {3, 5, 2},
		{6, 16, 256}, {6, 16, 257}, {13, 35, 100}, {64, 3136, 147}, {2, 1000, 512},
		{1000, 2, 64}, {145, 4097, 3}, {37, 49, 4608}, {300, 20, 600}, {8, 8, 5000},
		{64, 12544, 27}, {150, 33, 513},
	}
	if testing.Short() {
		shapes = shapes[:12]
	}
	r := rand.New(rand.NewPCG(1, 2))
	fill := func(x []float32) {
		for i := range x {
			x[i] = r.Float32()*2 - 1
		}
	}
	for name, kern := range gemmKernels() {
		saved := gemmKernel
		gemmKernel = kern
		for _, s := range shapes {
			for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				for _, beta := range []float32{0, 1, 0.5} {
					for _, workers := range []int{1, 2, 3} {
						ta, tb := tr[0], tr[1]
						pad := r.IntN(3)
						lda, ldb, ldc := s.k+pad, s.n+pad, s.n+pad
						ra, rb := s.m, s.k
						if ta {
							lda, ra = s.m+pad, s.k
						}
						if tb {
							ldb, rb = s.k+pad, s.n
						}
						a := make([]float32, (ra-1)*lda+lda-pad)
						b := make([]float32, (rb-1)*ldb+ldb-pad)
						c := make([]float32, (s.m-1)*ldc+s.n)
						fill(a)
						fill(b)
						fill(c)
						if beta == 0 {
							c[0] = float32(math.NaN()) // beta 0 ignores C
						}
						want := append([]float32(nil), c...)
						refGemm(ta, tb, s.m, s.n, s.k, a, lda, b, ldb, beta, want, ldc)
						var st Stats
						gemmPar(&st, workers, ta, tb, s.m, s.n, s.k, a, lda, b, ldb, beta, c, ldc)
						if st.MACs != int64(s.m*s.n*s.k) {
							t.Fatalf("MACs %d, want %d", st.MACs, s.m*s.n*s.k)
						}
						tol := 1e-5 * float32(math.Sqrt(float64(s.k))+1)
						for i := range c {
							if d := c[i] - want[i]; d > tol || d < -tol || c[i] != c[i] {
								t.Fatalf("%s %v %v beta %v workers %d: c[%d] = %v, want %v", name, s, tr, beta, workers, i, c[i], want[i])
							}
						}
					}
				}
			}
		}
		gemmKernel = saved
	}
}

// TestGemmParBitIdentical: splitting over cores changes no bit of C.
func TestGemmParBitIdentical(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, s := range [][3]int{{64, 3136, 576}, {2048, 49, 512}, {7, 300, 1000}} {
		m, n, k := s[0], s[1], s[2]
		a, b := make([]float32, m*k), make([]float32, k*n)
		for i := range a {
			a[i] = r.Float32()
		}
		for i := range b {
			b[i] = r.Float32()
		}
		c1, c2 := make([]float32, m*n), make([]float32, m*n)
		gemm(nil, false, false, m, n, k, a, k, b, n, 0, c1, n)
		gemmPar(nil, 2, false, false, m, n, k, a, k, b, n, 0, c2, n)
		for i := range c1 {
			if c1[i] != c2[i] {
				t.Fatalf("%v: c[%d] %v serial, %v split", s, i, c1[i], c2[i])
			}
		}
	}
}

// BenchmarkGemm reports GFLOP/s of the GEMM at three conv-like sizes of
// ResNet-50 (M = output channels, N = output positions, K = Cin*k*k), on
// one core and on every core.
func BenchmarkGemm(b *testing.B) {
	for _, s := range [][3]int{{64, 3136, 576}, {256, 784, 1152}, {512, 196, 4608}} {
		m, n, k := s[0], s[1], s[2]
		x, y, z := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
		for i := range x {
			x[i] = float32(i%7) / 7
		}
		for i := range y {
			y[i] = float32(i%5) / 5
		}
		for _, w := range []int{1, gemmWorkers()} {
			b.Run(fmt.Sprintf("%dx%dx%d/cores=%d", m, n, k, w), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					gemmPar(nil, w, false, false, m, n, k, x, k, y, n, 0, z, n)
				}
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
			// op(A) packed once, as a Prepared's conv weights are.
			b.Run(fmt.Sprintf("%dx%dx%d/cores=%d/packedA", m, n, k, w), func(b *testing.B) {
				pa := pack(&dense{data: x, ld: k, w: gemmMR}, m, k, gemmMR)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					pr := product{m: m, n: n, k: k, a: pa, b: &dense{data: y, ld: n, w: gemmNR, stepMajor: true}, c: z, ldc: n}
					pr.run(nil, w)
				}
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
		b.Run(fmt.Sprintf("%dx%dx%d/kernel=go", m, n, k), func(b *testing.B) {
			saved := gemmKernel
			gemmKernel = gemmKernelGo
			defer func() { gemmKernel = saved }()
			for i := 0; i < b.N; i++ {
				gemm(nil, false, false, m, n, k, x, k, y, n, 0, z, n)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// TestGemmEpilogue: a product with an epilogue (per-row scale and bias,
// per-column bias, a clamp) equals the plain product followed by those
// steps, with every kernel, on ragged and full tiles, several workers and
// k spanning KC blocks; a NaN stays NaN through the clamp.
func TestGemmEpilogue(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for name, kern := range gemmKernels() {
		saved := gemmKernel
		gemmKernel = kern
		for _, s := range [][3]int{{6, 16, 5}, {13, 37, 300}, {64, 200, 27}, {7, 3, 600}, {5, 5, 0}} {
			m, n, k := s[0], s[1], s[2]
			a, b := make([]float32, m*k), make([]float32, k*n)
			for i := range a {
				a[i] = r.Float32()*2 - 1
			}
			for i := range b {
				b[i] = r.Float32()*2 - 1
			}
			if k > 0 {
				a[0] = float32(math.NaN()) // row 0 is NaN throughout
			}
			rs, rb, cb := make([]float32, m), make([]float32, m), make([]float32, n)
			for i := range rs {
				rs[i], rb[i] = r.Float32()*2, r.Float32()-0.5
			}
			for j := range cb {
				cb[j] = r.Float32() - 0.5
			}
			for _, ep := range []epilogue{
				{rowBias: rb, clamp: true, lo: 0, hi: float32(math.Inf(1))},
				{rowScale: rs, rowBias: rb, clamp: true, lo: 0, hi: 6},
				{colBias: cb},
				{rowScale: rs, colBias: cb, clamp: true, lo: -0.25, hi: 0.25},
			} {
				want := make([]float32, m*n)
				if k > 0 {
					refGemm(false, false, m, n, k, a, k, b, n, 0, want, n)
				}
				for i := 0; i < m; i++ {
					for j := 0; j < n; j++ {
						v := float64(want[i*n+j])
						if ep.rowScale != nil {
							v *= float64(ep.rowScale[i])
						}
						if ep.rowBias != nil {
							v += float64(ep.rowBias[i])
						}
						if ep.colBias != nil {
							v += float64(ep.colBias[j])
						}
						if ep.clamp {
							v = math.Min(math.Max(v, float64(ep.lo)), float64(ep.hi))
						}
						want[i*n+j] = float32(v)
					}
				}
				for _, workers := range []int{1, 2} {
					c := make([]float32, m*n)
					pr := product{m: m, n: n, k: k, c: c, ldc: n, ep: &ep,
						a: &dense{data: a, ld: max(k, 1), w: gemmMR}, b: &dense{data: b, ld: n, w: gemmNR, stepMajor: true}}
					pr.run(nil, workers)
					for i := range c {
						nan := math.IsNaN(float64(want[i]))
						if nan != math.IsNaN(float64(c[i])) || !nan && math.Abs(float64(c[i]-want[i])) > 1e-5*(math.Sqrt(float64(k))+1) {
							t.Fatalf("%s %v %+v workers %d: c[%d] = %v, want %v", name, s, ep, workers, i, c[i], want[i])
						}
					}
				}
			}
		}
		gemmKernel = saved
	}
}

// TestDot: every dot product implementation this machine runs against a
// float64 sum, on lengths around the AVX2 loop's 32.
func TestDot(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	impls := map[string]func(a, b []float32) float32{"go": dotGo, "default": dot}
	for name, f := range impls {
		for _, n := range []int{0, 1, 5, 31, 32, 33, 64, 100, 25088} {
			a, b := make([]float32, n), make([]float32, n+3)
			var want float64
			for i := range a {
				a[i], b[i] = r.Float32()*2-1, r.Float32()*2-1
				want += float64(a[i]) * float64(b[i])
			}
			if got := f(a, b); math.Abs(float64(got)-want) > 1e-5*(math.Sqrt(float64(n))+1) {
				t.Errorf("%s n %d: %v, want %v", name, n, got, want)
			}
		}
	}
}

// TestAxpy: every axpy implementation this machine runs against float64,
// on lengths around the AVX2 loop's 8.
func TestAxpy(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for name, f := range map[string]func(dst, src []float32, a float32){"go": axpyGo, "default": axpy} {
		for _, n := range []int{0, 1, 7, 8, 9, 16, 57, 112} {
			dst, src := make([]float32, n), make([]float32, n+2)
			want := make([]float64, n)
			a := r.Float32()*2 - 1
			for i := range dst {
				dst[i], src[i] = r.Float32()*2-1, r.Float32()*2-1
				want[i] = float64(dst[i]) + float64(a)*float64(src[i])
			}
			f(dst, src, a)
			for i := range dst {
				if math.Abs(float64(dst[i])-want[i]) > 1e-6 {
					t.Fatalf("%s n %d: dst[%d] %v, want %v", name, n, i, dst[i], want[i])
				}
			}
		}
	}
}

// TestPackMatchesDense: an operand packed once (over the cores) hands out
// the panels dense.panels makes, for ragged line counts, several KC blocks
// and both orientations.
func TestPackMatchesDense(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, c := range []struct{ lines, k, w int }{{13, 600, gemmMR}, {6, 256, gemmMR}, {200, 513, gemmMR}, {37, 300, gemmNR}, {1000, 70, gemmNR}} {
		for _, stepMajor := range []bool{false, true} {
			ld := c.k + 3
			if stepMajor {
				ld = c.lines + 5
			}
			data := make([]float32, ld*max(c.lines, c.k))
			for i := range data {
				data[i] = r.Float32()
			}
			d := &dense{data: data, ld: ld, w: c.w, stepMajor: stepMajor}
			pk := pack(d, c.lines, c.k, c.w)
			for p0 := 0; p0 < c.k; p0 += gemmKC {
				kc := min(gemmKC, c.k-p0)
				for _, l0 := range []int{0, c.w, (c.lines / c.w / 2) * c.w} {
					if l0 >= c.lines {
						continue
					}
					n := c.lines - l0
					want := d.panels(make([]float32, panelsLen(n, c.w, kc)), l0, n, p0, kc)
					got := pk.panels(nil, l0, n, p0, kc)
					pl := panelLen(c.w, kc)
					for o := 0; o < len(want); o += pl {
						for j := o; j < o+c.w*kc; j++ {
							if got[j] != want[j] {
								t.Fatalf("%+v stepMajor %v block %d lines from %d: [%d] %v, want %v", c, stepMajor, p0, l0, j, got[j], want[j])
							}
						}
					}
				}
			}
		}
	}
}
