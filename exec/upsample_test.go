package exec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestUpsampleMatchesTorch(t *testing.T) {
	counts := map[string]int{}
	for _, tc := range loadKernelCases(t, "upsample") {
		x := FromData(tc.Input, tc.InputShape...)
		got, ref := New(tc.OutputShape...), New(tc.OutputShape...)
		Upsample(got, x, tc.Mode, tc.AlignCorners, tc.Scale)
		refUpsample(ref, x, tc.Mode, tc.AlignCorners, tc.Scale)
		counts[tc.Mode]++
		checkTensor(t, tc.Name+" fast vs torch", got.Data, tc.Output, torchTol)
		checkTensor(t, tc.Name+" reference vs torch", ref.Data, tc.Output, torchTol)
	}
	t.Logf("torch upsample cases: %v", counts)
}

func TestUpsampleMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	modes := []struct {
		mode string
		rank int // 0: any
	}{{"nearest", 0}, {"nearest-exact", 0}, {"linear", 1}, {"bilinear", 2}, {"bicubic", 2}, {"trilinear", 3}}
	for trial := 0; trial < 300; trial++ {
		m := modes[trial%len(modes)]
		rank := m.rank
		if rank == 0 {
			rank = 1 + r.IntN(3)
		}
		align := m.mode != "nearest" && m.mode != "nearest-exact" && r.IntN(2) == 0
		in := []int{1 + r.IntN(2), 1 + r.IntN(3)}
		outShape := append([]int(nil), in...)
		var scale []float64
		useScale := r.IntN(2) == 0
		for a := 0; a < rank; a++ {
			size := 1 + r.IntN(7)
			in = append(in, size)
			if useScale {
				// Scales with up to two decimals, from 0.3 to 3.5, kept
				// when they give at least one output.
				s := float64(30+r.IntN(321)) / 100
				for int(math.Floor(float64(size)*s)) < 1 {
					s += 0.5
				}
				scale = append(scale, s)
				outShape = append(outShape, int(math.Floor(float64(size)*s)))
			} else {
				outShape = append(outShape, 1+r.IntN(12))
			}
		}
		x := randTensor(r, in...)
		got, want := New(outShape...), New(outShape...)
		Upsample(got, x, m.mode, align, scale)
		refUpsample(want, x, m.mode, align, scale)
		checkTensor(t, fmt.Sprintf("trial %d %s align=%v x%v out%v scale %v", trial, m.mode, align, in, outShape, scale), got.Data, want.Data, 1e-5)
	}
}

// TestUpsampleScaleIsNotSizeRatio pins the behaviour that made PyTorch's
// scale_factor path differ from its size path: at scale 1.7 a 5-wide input
// gives 8 outputs, but source coordinates step by 1/1.7, not 5/8.
func TestUpsampleScaleIsNotSizeRatio(t *testing.T) {
	x := FromData([]float32{0, 1, 2, 3, 4}, 1, 1, 5)
	byScale, bySize := New(1, 1, 8), New(1, 1, 8)
	Upsample(byScale, x, "linear", false, []float64{1.7})
	Upsample(bySize, x, "linear", false, nil)
	// Output 7: (7.5)/1.7 - 0.5 = 3.9118 by scale, 7.5*5/8 - 0.5 = 4.1875 -> clamped 4 by size.
	if d := math.Abs(float64(byScale.Data[7]) - 3.9117647); d > 1e-5 {
		t.Errorf("by scale: out[7] = %v, want 3.9117647", byScale.Data[7])
	}
	if bySize.Data[7] != 4 {
		t.Errorf("by size: out[7] = %v, want 4", bySize.Data[7])
	}
}
