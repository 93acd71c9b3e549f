package draw

import (
	"math"
	"strings"
	"testing"
)

// shares: a point gradient at the centre sits in the central pixel (scale
// 1/9 of a 9-pixel field); a uniform gradient over a 9x9 input, with a 5x5
// field, has 25/81 of its mass inside, and 90% of it needs the field whole
// and more (scale 1).
func TestShares(t *testing.T) {
	f := &Field{In: []int{9, 9}, Lo: []float64{0, 0}, Hi: []float64{8, 8}, Grad: make([]float64, 81)}
	f.Grad[4*9+4] = 2
	in, s := f.shares()
	if in != 1 || math.Abs(s-1.0/9) > 1e-12 {
		t.Errorf("point: inside %v, scale %v; want 1, 1/9", in, s)
	}
	f = &Field{In: []int{9, 9}, Lo: []float64{2, 2}, Hi: []float64{6, 6}, Grad: make([]float64, 81)}
	for i := range f.Grad {
		f.Grad[i] = 1
	}
	in, s = f.shares()
	if math.Abs(in-25.0/81) > 1e-12 || s != 1 {
		t.Errorf("uniform: inside %v, scale %v; want 25/81, 1", in, s)
	}
}

func TestFindLayer(t *testing.T) {
	a := analyse(t, "../testdata/zoo/resnet18.yaml")
	for _, c := range []struct {
		arg  string
		node int
		err  string
	}{
		{"relu_9", 33, ""},
		{"34", 33, ""},
		{"0", 0, "layer 0 is out of range: the network has 69 layers (1 to 69)"},
		{"conv2d_99", 0, `no layer "conv2d_99"; the nearest: conv2d_9,`},
	} {
		n, err := FindLayer(a, c.arg)
		switch {
		case c.err == "" && (err != nil || n != c.node):
			t.Errorf("%s: node %d, %v; want %d", c.arg, n, err, c.node)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: error %v, want %q", c.arg, err, c.err)
		}
	}
}
