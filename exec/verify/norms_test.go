package verify

import (
	"testing"

	"github.com/cnncalc/cnncalc/calc"
)

// TestCheckNorm: calc's statistics reproduce every kernel's output, count
// as many values as calc says, and only batchnorm differs between train
// and test; a wrong claim (layernorm said to average over the batch) shows.
func TestCheckNorm(t *testing.T) {
	for _, shape := range []calc.Shape{{4, 6, 5, 5}, {3, 6, 7}, {2, 6, 3, 3, 3}, {8, 12}, {1, 6, 4, 4}} {
		ns, err := calc.Norms(shape, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range ns {
			c, err := CheckNorm(n, shape, 1)
			if err != nil {
				t.Fatalf("%v %s: %v", shape, n.Module, err)
			}
			groups := int64(1)
			for _, d := range n.Stat {
				groups *= d
			}
			if c.MaxDiff > 1e-4 || int64(c.Count) != n.Count || int64(c.Groups) != groups {
				t.Errorf("%v %s: %d groups of %d values, max difference %.3g; calc says %d of %d", shape, n.Module, c.Groups, c.Count, c.MaxDiff, groups, n.Count)
			}
			if differs := c.TrainEvalDiff > 0.01; differs != n.TrainDiffers || !n.TrainDiffers && c.TrainEvalDiff != 0 {
				t.Errorf("%v %s: train and test differ by %.3g, calc says differs=%v", shape, n.Module, c.TrainEvalDiff, n.TrainDiffers)
			}
		}
		wrong := ns[1] // layernorm ...
		wrong.Stat = ns[0].Stat
		if c, err := CheckNorm(wrong, shape, 1); err != nil || c.MaxDiff < 0.1 {
			t.Errorf("%v: layernorm with batchnorm's statistics: %v, %+v", shape, err, c)
		}
	}
}
