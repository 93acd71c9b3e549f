package calc

import (
	"fmt"
	"math"
	"testing"
)

func TestCheckedArithmetic(t *testing.T) {
	if _, err := mul(math.MaxInt64/2+1, 2); err != ErrOverflow {
		t.Errorf("mul overflow not detected: %v", err)
	}
	if v, err := mul(3037000499, 3037000499); err != nil || v != 9223372030926249001 {
		t.Errorf("mul near the limit: %d %v", v, err)
	}
	if _, err := add(math.MaxInt64, 1); err != ErrOverflow {
		t.Errorf("add overflow not detected")
	}
	if _, err := prod(1_000_000, 1_000_000, 1_000_000, 1_000_000); err != ErrOverflow {
		t.Errorf("prod overflow not detected")
	}
	for _, c := range [][3]int64{{7, 2, 3}, {-7, 2, -4}, {-6, 2, -3}, {6, 4, 1}, {-1, 3, -1}} {
		if got := floorDiv(c[0], c[1]); got != c[2] {
			t.Errorf("floorDiv(%d, %d) = %d, want %d", c[0], c[1], got, c[2])
		}
	}
}

func TestGroupAndHuman(t *testing.T) {
	for _, c := range []struct {
		n     int64
		group string
		human string
	}{{0, "0", "0"}, {999, "999", "999"}, {61706, "61,706", "61.71K"}, {11689512, "11,689,512", "11.69M"},
		{1813561344, "1,813,561,344", "1.81G"}, {-1234567, "-1,234,567", "-1.23M"}} {
		if g := Group(c.n); g != c.group {
			t.Errorf("Group(%d) = %s, want %s", c.n, g, c.group)
		}
		if h := Human(c.n); h != c.human {
			t.Errorf("Human(%d) = %s, want %s", c.n, h, c.human)
		}
	}
}

// net builds a chain of layers on an input.
func chain(in Shape, layers ...Layer) *Network {
	n := &Network{Input: in}
	for i, l := range layers {
		n.Nodes = append(n.Nodes, Node{Layer: l, From: []int{i - 1}})
	}
	return n
}

// TestBatchInvariance: shapes apart from the batch axis, params and buffers
// do not depend on the batch; MACs scale with it.
func TestBatchInvariance(t *testing.T) {
	layers := []Layer{
		{Type: Conv2d, Out: 8, Kernel: []int64{3}, Stride: []int64{2}, PadMode: PadSame, Bias: true},
		{Type: BatchNorm2d, Affine: true, TrackRunningStats: true},
		{Type: MaxPool2d, Kernel: []int64{3}, Stride: []int64{2}, Padding: []int64{1}, CeilMode: true},
		{Type: Flatten, StartDim: 1, EndDim: -1},
		{Type: Linear, Out: 10, Bias: true},
	}
	one, errs := Analyze(chain(Shape{1, 3, 33, 33}, layers...))
	if errs != nil {
		t.Fatal(errs[0])
	}
	for _, b := range []int64{2, 7, 64} {
		many, errs := Analyze(chain(Shape{b, 3, 33, 33}, layers...))
		if errs != nil {
			t.Fatal(errs[0])
		}
		for i := range layers {
			o, m := one.Layers[i], many.Layers[i]
			if fmt.Sprint(o.Output[1:]) != fmt.Sprint(m.Output[1:]) || m.Output[0] != b || o.Params != m.Params || o.Buffers != m.Buffers || o.MACs*b != m.MACs {
				t.Errorf("batch %d, layer %d: %+v vs batch 1 %+v", b, i, m, o)
			}
		}
	}
}

func TestOverflowIsAnError(t *testing.T) {
	_, errs := Analyze(chain(Shape{1, 3, 1 << 30, 1 << 30}, Layer{Type: Conv2d, Out: 1 << 20, Kernel: []int64{1}}))
	if len(errs) == 0 {
		t.Fatal("an output of 2^80 elements was accepted")
	}
	_, errs = Analyze(chain(Shape{1, 3, 1e12, 1e12}))
	if len(errs) == 0 {
		t.Fatal("an input of 3e24 elements was accepted")
	}
}

func TestReceptiveFieldMerges(t *testing.T) {
	// Two branches with equal jumps: the union of [−1, 1] and [−2, 2] is [−2, 2].
	n := &Network{Input: Shape{1, 1, 16, 16}, Nodes: []Node{
		{Layer: Layer{Type: Conv2d, Out: 1, Kernel: []int64{3}, Padding: []int64{1}}, From: []int{Input}},
		{Layer: Layer{Type: Conv2d, Out: 1, Kernel: []int64{5}, Padding: []int64{2}}, From: []int{Input}},
		{Layer: Layer{Type: Concat, Dim: 1}, From: []int{0, 1}},
		// Unequal jumps: undefined, with a warning.
		{Layer: Layer{Type: Conv2d, Out: 2, Kernel: []int64{2}, Stride: []int64{2}}, From: []int{2}},
		{Layer: Layer{Type: Upsample, Scale: []float64{2}}, From: []int{3}},
		{Layer: Layer{Type: Add}, From: []int{2, 4}},
	}}
	res, errs := Analyze(n)
	if errs != nil {
		t.Fatal(errs[0])
	}
	if rf := res.Layers[2].RF; rf == nil || rf.Size[0] != 5 || rf.Start[0] != 0 {
		t.Errorf("concat rf = %+v, want size 5 start 0", rf)
	}
	if res.Layers[5].RF != nil {
		t.Errorf("add after upsample has rf %+v, want nil", res.Layers[5].RF)
	}
	// A shifted branch (zeropad left) moves the union.
	n = &Network{Input: Shape{1, 1, 16}, Nodes: []Node{
		{Layer: Layer{Type: Conv1d, Out: 1, Kernel: []int64{3}, Padding: []int64{1}}, From: []int{Input}},
		{Layer: Layer{Type: ZeroPad1d, Pad: []int64{2, 0}}, From: []int{Input}},
		{Layer: Layer{Type: Conv1d, Out: 1, Kernel: []int64{3}}, From: []int{1}},
		{Layer: Layer{Type: Add}, From: []int{0, 2}},
	}}
	res, errs = Analyze(n)
	if errs != nil {
		t.Fatal(errs[0])
	}
	// Branch 0 sees [-1, 1]; branch 2 sees [-2, 0]: the union is [-2, 1].
	if rf := res.Layers[3].RF; rf == nil || rf.Size[0] != 4 || rf.Start[0] != -0.5 || rf.Padding[0] != 2 {
		t.Errorf("add rf = %+v, want size 4 start -0.5 padding 2", rf)
	}
}
