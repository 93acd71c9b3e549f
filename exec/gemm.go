package exec

import (
	"sync/atomic"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// gemm computes C = op(A)*op(B) + beta*C for row-major matrices, with
// op(A) m x k, op(B) k x n and C m x n; lda, ldb, ldc are row strides. It is
// the one place the package multiplies matrices, so that the implementation
// (gonum's blas32 today) can be replaced. It adds the m*n*k
// multiply-accumulates it performs to st.MACs.
func gemm(st *Stats, transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	blas32.Implementation().Sgemm(ta, tb, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
	if st != nil {
		atomic.AddInt64(&st.MACs, int64(m)*int64(n)*int64(k))
	}
}
