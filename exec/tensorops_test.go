package exec

import (
	"math/rand/v2"
	"testing"
)

// TestMulFast: the fast paths of Mul (same shape; a value per run of the
// trailing axes, either operand first) and the general broadcast give the
// reference's products.
func TestMulFast(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	big := []int{2, 3, 40, 50}
	for _, other := range [][]int{{2, 3, 40, 50}, {2, 3, 1, 1}, {2, 3, 40, 1}, {1, 3, 1, 1}, {3, 1, 1}, {2, 1, 40, 50}} {
		for _, swap := range []bool{false, true} {
			a, b := randTensor(r, big...), randTensor(r, other...)
			if swap {
				a, b = b, a
			}
			got, want := New(big...), New(big...)
			Mul(got, a, b)
			refMul(want, a, b)
			for i := range want.Data {
				if got.Data[i] != want.Data[i] {
					t.Fatalf("%v x %v (swap %v): [%d] %v, want %v", big, other, swap, i, got.Data[i], want.Data[i])
				}
			}
		}
	}
}
