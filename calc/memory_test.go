package calc

import (
	"errors"
	"testing"
)

func TestFitBatch(t *testing.T) {
	// a peak of 100 + 7*batch bytes: batch b fits budget B when b <= (B-100)/7
	for _, c := range []struct{ budget, max, want int64 }{
		{99, 1000, 0}, {107, 1000, 1}, {113, 1000, 1}, {114, 1000, 2}, {100 + 7*37, 1000, 37},
		{100 + 7*1000, 1000, 1000}, {1 << 40, 1000, 1000}, {100 + 7*64, 1000, 64}, {100 + 7*65 - 1, 1000, 64},
	} {
		calls := 0
		got := FitBatch(c.budget, c.max, func(b int64) (int64, error) {
			calls++
			if b < 1 || b > c.max {
				t.Fatalf("budget %d: peak asked for batch %d, outside 1..%d", c.budget, b, c.max)
			}
			return 100 + 7*b, nil
		})
		if got != c.want {
			t.Errorf("budget %d: batch %d, want %d", c.budget, got, c.want)
		}
		if calls > 25 {
			t.Errorf("budget %d: %d peaks computed for a batch up to %d", c.budget, calls, c.max)
		}
	}
	// a batch whose peak cannot be counted does not fit
	got := FitBatch(1<<40, 1<<20, func(b int64) (int64, error) {
		if b > 300 {
			return 0, errors.New("overflow")
		}
		return b, nil
	})
	if got != 300 {
		t.Errorf("batch %d fits, want 300 (the last that can be counted)", got)
	}
}

func TestParseDType(t *testing.T) {
	for s, want := range map[string]DType{"float32": Float32, "FP32": Float32, "bf16": BFloat16, "bfloat16": BFloat16, "half": Float16, "float16": Float16} {
		if got, ok := ParseDType(s); !ok || got != want {
			t.Errorf("ParseDType(%q) = %v, %v", s, got, ok)
		}
	}
	for _, s := range []string{"", "int8", "float64", "int64"} {
		if _, ok := ParseDType(s); ok {
			t.Errorf("ParseDType(%q) accepted", s)
		}
	}
	if Float32.Size() != 4 || BFloat16.Size() != 2 || Float16.Size() != 2 || Int64.Size() != 8 {
		t.Error("element sizes")
	}
}

// TestMemoryOverflow: a network too big to count is an error, not a
// wrapped number.
func TestMemoryOverflow(t *testing.T) {
	// 2^59 elements: each output 2^61 bytes, three kept by autograd, and their gradients
	net := &Network{Input: Shape{1 << 23, 1 << 12, 1 << 12, 1 << 12}, Nodes: []Node{
		{Layer: Layer{Type: BatchNorm2d, Affine: true, TrackRunningStats: true}, Name: "bn", From: []int{Input}},
		{Layer: Layer{Type: Sigmoid}, Name: "s1", From: []int{0}},
		{Layer: Layer{Type: Tanh}, Name: "t1", From: []int{1}},
	}}
	res, errs := Analyze(net)
	if errs != nil {
		t.Fatal(errs)
	}
	if _, err := MemoryOf(net, res, MemoryOptions{DType: Float32}); err == nil {
		t.Fatal("no error for a step of more than 2^63 bytes")
	}
}

// TestMemoryOptimizerState: momentum keeps one copy of the parameters,
// Adam and AdamW two and a 4-byte step per parameter tensor (a conv with a
// bias has two), plain SGD none.
func TestMemoryOptimizerState(t *testing.T) {
	net := &Network{Input: Shape{2, 3, 8, 8}, Nodes: []Node{
		{Layer: Layer{Type: Conv2d, Out: 4, Kernel: []int64{3}, Stride: []int64{1}, Padding: []int64{1}, Dilation: []int64{1}, Groups: 1, Bias: true}, Name: "c", From: []int{Input}},
	}}
	res, errs := Analyze(net)
	if errs != nil {
		t.Fatal(errs)
	}
	params := int64(4*3*9 + 4)
	for opt, want := range map[Optimizer]int64{OptNone: 0, OptSGD: 0, OptMomentum: 4 * params, OptAdam: 8*params + 8, OptAdamW: 8*params + 8} {
		m, err := MemoryOf(net, res, MemoryOptions{DType: Float32, Optimizer: opt})
		if err != nil {
			t.Fatal(err)
		}
		if m.OptimizerBytes != want || m.ParamBytes != 4*params || m.GradBytes != 4*params {
			t.Errorf("%s: optimizer %d, params %d, grads %d; want %d, %d, %d", opt, m.OptimizerBytes, m.ParamBytes, m.GradBytes, want, 4*params, 4*params)
		}
	}
}
