package exec

import (
	"math/rand/v2"
	"testing"
)

// TestPCGAdvanced: a PCG advanced by n gives the values the original
// gives after n calls, and uniformFill split over the cores writes what
// one sequential run writes, leaving the PCG where that run leaves it.
func TestPCGAdvanced(t *testing.T) {
	for _, n := range []uint64{0, 1, 2, 3, 1000, 65537} {
		p := rand.NewPCG(42, 7)
		q := pcgAdvanced(p, n)
		for range n {
			p.Uint64()
		}
		for i := 0; i < 5; i++ {
			if a, b := p.Uint64(), q.Uint64(); a != b {
				t.Fatalf("n %d: value %d is %x stepping, %x advanced", n, i, a, b)
			}
		}
	}
	seq, par := rand.NewPCG(1, 2), rand.NewPCG(1, 2)
	r := rand.New(seq)
	want := make([]float32, 1<<19+3)
	for j := range want {
		want[j] = (2*r.Float32() - 1) * 0.5
	}
	got := make([]float32, len(want))
	uniformFill(par, got, 0.5)
	for j := range got {
		if got[j] != want[j] {
			t.Fatalf("value %d: %v split, %v in one run", j, got[j], want[j])
		}
	}
	if a, b := seq.Uint64(), par.Uint64(); a != b {
		t.Fatalf("after the fill the PCGs differ: %x, %x", a, b)
	}
}
