package exec

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestAddMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for k := 1; k <= 4; k++ {
		xs := make([]*Tensor, k)
		for i := range xs {
			xs[i] = randTensor(r, 2, 3, 4, 5)
		}
		got, want := New(2, 3, 4, 5), New(2, 3, 4, 5)
		Add(got, xs...)
		refAdd(want, xs...)
		checkTensor(t, fmt.Sprintf("add of %d", k), got.Data, want.Data, 0)
		// out may be any of the inputs.
		for j := range xs {
			in := make([]*Tensor, k)
			for i := range xs {
				in[i] = xs[i].Clone()
			}
			Add(in[j], in...)
			checkTensor(t, fmt.Sprintf("add of %d into input %d", k, j), in[j].Data, want.Data, 0)
		}
	}
}

func TestConcatMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	for trial := range 100 {
		rank := 1 + r.IntN(5)
		dim := r.IntN(rank)
		base := make([]int, rank)
		for a := range base {
			base[a] = 1 + r.IntN(4)
		}
		xs := make([]*Tensor, 1+r.IntN(4))
		outShape := append([]int(nil), base...)
		outShape[dim] = 0
		for i := range xs {
			s := append([]int(nil), base...)
			s[dim] = 1 + r.IntN(4)
			outShape[dim] += s[dim]
			xs[i] = randTensor(r, s...)
		}
		got, want := New(outShape...), New(outShape...)
		Concat(got, dim, xs...)
		refConcat(want, dim, xs...)
		checkTensor(t, fmt.Sprintf("trial %d concat %v dim %d", trial, outShape, dim), got.Data, want.Data, 0)
	}
}

// TestConcatChannels is a worked case: two (1,1,2,2) and one (1,2,2,2)
// along the channels.
func TestConcatChannels(t *testing.T) {
	a := FromData([]float32{1, 2, 3, 4}, 1, 1, 2, 2)
	b := FromData([]float32{5, 6, 7, 8, 9, 10, 11, 12}, 1, 2, 2, 2)
	c := FromData([]float32{13, 14, 15, 16}, 1, 1, 2, 2)
	out := New(1, 4, 2, 2)
	Concat(out, 1, a, b, c)
	want := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	checkTensor(t, "concat channels", out.Data, want, 0)
	out = New(1, 1, 2, 6)
	Concat(out, 3, a, FromData(b.Data[:4], 1, 1, 2, 2), c)
	checkTensor(t, "concat width", out.Data, []float32{1, 2, 5, 6, 13, 14, 3, 4, 7, 8, 15, 16}, 0)
}
