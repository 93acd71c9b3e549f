package exec

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// refZeroPad: x and out have the same rank; pad is in PyTorch order (last
// axis first). Each output element is looked up by its full index.
func refZeroPad(out, x *Tensor, pad []int) { refConstantPad(out, x, pad, 0) }

// refConstantPad pads with value.
func refConstantPad(out, x *Tensor, pad []int, value float32) {
	rank := len(x.Shape)
	before := make([]int, rank)
	for i := 0; i < len(pad)/2; i++ {
		before[rank-1-i] = pad[2*i]
	}
	idx := make([]int, rank)
	for o := range out.Data {
		// Unravel o into out's index, shift into x's index.
		rest, inside, src := o, true, 0
		for a := rank - 1; a >= 0; a-- {
			idx[a] = rest%out.Shape[a] - before[a]
			rest /= out.Shape[a]
		}
		for a := 0; a < rank; a++ {
			if idx[a] < 0 || idx[a] >= x.Shape[a] {
				inside = false
			}
			src = src*x.Shape[a] + idx[a]
		}
		out.Data[o] = value
		if inside {
			out.Data[o] = x.Data[src]
		}
	}
}

// zeroPadShape is out's shape for x padded by pad (PyTorch order).
func padShape(shape, pad []int) []int {
	out := append([]int(nil), shape...)
	for i := 0; i < len(pad)/2; i++ {
		out[len(out)-1-i] += pad[2*i] + pad[2*i+1]
	}
	return out
}

func TestZeroPadMatchesTorch(t *testing.T) {
	cases := loadKernelCases(t, "pad")
	for _, tc := range cases {
		x := FromData(tc.Input, tc.InputShape...)
		if s := fmt.Sprint(padShape(tc.InputShape, tc.Pad)); s != fmt.Sprint(tc.OutputShape) {
			t.Errorf("%s: shape %s, torch %v", tc.Name, s, tc.OutputShape)
			continue
		}
		got, ref := New(tc.OutputShape...), New(tc.OutputShape...)
		ZeroPad(got, x, tc.Pad)
		refZeroPad(ref, x, tc.Pad)
		checkTensor(t, tc.Name+" fast vs torch", got.Data, tc.Output, 0)
		checkTensor(t, tc.Name+" reference vs torch", ref.Data, tc.Output, 0)
	}
	t.Logf("torch zeropad cases: %d", len(cases))
}

func TestZeroPadMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for trial := 0; trial < 300; trial++ {
		rank := 1 + trial%3
		shape := []int{1 + r.IntN(2), 1 + r.IntN(3)}
		var pad []int
		for a := 0; a < rank; a++ {
			size := 1 + r.IntN(6)
			shape = append(shape, size)
		}
		// Pad some or all spatial axes (last first); crops keep each axis non-empty.
		for a := 0; a < 1+r.IntN(rank); a++ {
			size := shape[len(shape)-1-a]
			lo := -r.IntN(size)
			hi := r.IntN(4) - 2
			if size+lo+hi < 1 {
				hi = 1 - size - lo
			}
			pad = append(pad, lo, hi)
			if r.IntN(2) == 0 {
				pad[len(pad)-2], pad[len(pad)-1] = hi, lo
			}
		}
		x := randTensor(r, shape...)
		outShape := padShape(shape, pad)
		got, want := New(outShape...), New(outShape...)
		for i := range got.Data {
			got.Data[i] = 99 // ZeroPad must write every element
		}
		ZeroPad(got, x, pad)
		refZeroPad(want, x, pad)
		checkTensor(t, fmt.Sprintf("trial %d x%v pad%v", trial, shape, pad), got.Data, want.Data, 0)
	}
}
