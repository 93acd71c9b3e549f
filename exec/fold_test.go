package exec_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/exec"
	"github.com/cnncalc/cnncalc/exec/tensorio"
)

// foldCase is one entry of testdata/torch/fold/cases.json (gen_fold.py).
type foldCase struct {
	Name      string  `json:"name"`
	Layer     string  `json:"layer"`
	BatchNorm string  `json:"batchnorm"`
	Out       int64   `json:"out"`
	Kernel    int64   `json:"kernel"`
	Stride    int64   `json:"stride"`
	Groups    int64   `json:"groups"`
	Bias      bool    `json:"bias"`
	Affine    bool    `json:"affine"`
	Eps       float64 `json:"eps"`
	Forward   bool    `json:"forward"`
	Source    string  `json:"source"`
}

// TestFoldBatchNormAgainstPyTorch folds PyTorch's layers and batchnorms
// (random tensors, running statistics included) and requires the tensors
// torch.nn.utils.fusion.fuse_conv_bn_eval / fuse_linear_bn_eval give
// (grouped transposed convs, affine=False linear and forward folds: the
// generator's formula, which it checked against the modules' output).
func TestFoldBatchNormAgainstPyTorch(t *testing.T) {
	data, err := os.ReadFile("../testdata/torch/fold/cases.json")
	if err != nil {
		t.Skipf("no fold reference data (run testdata/torch/fold/gen_fold.py): %v", err)
	}
	var cases []foldCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 15 {
		t.Fatalf("only %d cases", len(cases))
	}
	kinds := map[string]bool{}
	for _, c := range cases {
		list, err := tensorio.ReadSafetensors("../testdata/torch/fold/"+c.Name+".safetensors", 10)
		if err != nil {
			t.Fatal(err)
		}
		ts := map[string]*exec.Tensor{}
		for _, nt := range list {
			ts[nt.Name] = nt.Tensor
		}
		op, ok := calc.Lookup(c.Layer)
		bnOp, ok2 := calc.Lookup(c.BatchNorm)
		if !ok || !ok2 {
			t.Fatalf("%s: unknown %s or %s", c.Name, c.Layer, c.BatchNorm)
		}
		l := calc.Layer{Type: op, Out: c.Out, Kernel: []int64{c.Kernel}, Stride: []int64{c.Stride}, Groups: c.Groups, Bias: c.Bias}
		bn := calc.Layer{Type: bnOp, Eps: c.Eps, Affine: c.Affine, TrackRunningStats: true}
		w := exec.Weights{Weight: ts["layer.weight"], Bias: ts["layer.bias"]}
		bnw := exec.Weights{Weight: ts["bn.weight"], Bias: ts["bn.bias"], Mean: ts["bn.running_mean"], Var: ts["bn.running_var"]}
		if (w.Bias != nil) != c.Bias || (bnw.Weight != nil) != c.Affine {
			t.Fatalf("%s: the file's tensors do not match the case", c.Name)
		}
		before := w.Weight.Clone()
		var got exec.Weights
		if c.Forward {
			got, err = exec.FoldBatchNormForward(&bn, &bnw, &l, &w)
		} else {
			got, err = exec.FoldBatchNorm(&l, &w, &bn, &bnw)
		}
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		if !slices.Equal(before.Data, w.Weight.Data) {
			t.Errorf("%s: the layer's own weight changed", c.Name)
		}
		closeTensor(t, c.Name+" weight", got.Weight, ts["want.weight"])
		closeTensor(t, c.Name+" bias", got.Bias, ts["want.bias"])
		kinds[c.Source] = true
	}
	for _, k := range []string{"fuse_conv_bn_eval", "fuse_linear_bn_eval", "formula"} {
		if !kinds[k] {
			t.Errorf("no case whose truth is %s", k)
		}
	}
}

// closeTensor requires got within 1e-6 + 1e-5*|want| of want everywhere,
// printing the largest difference and the first mismatch.
func closeTensor(t *testing.T, what string, got, want *exec.Tensor) {
	t.Helper()
	if got == nil || want == nil || len(got.Data) != len(want.Data) {
		t.Errorf("%s: got %v, want %v", what, got, want)
		return
	}
	if len(got.Shape) != len(want.Shape) {
		t.Errorf("%s: shape %v, want %v", what, got.Shape, want.Shape)
		return
	}
	for i := range got.Shape {
		if got.Shape[i] != want.Shape[i] {
			t.Errorf("%s: shape %v, want %v", what, got.Shape, want.Shape)
			return
		}
	}
	maxDiff, first := 0.0, -1
	for i := range got.Data {
		d := math.Abs(float64(got.Data[i]) - float64(want.Data[i]))
		maxDiff = math.Max(maxDiff, d)
		if d > 1e-6+1e-5*math.Abs(float64(want.Data[i])) && first < 0 {
			first = i
		}
	}
	if first >= 0 {
		t.Errorf("%s: max difference %.3g; first mismatch at %d: got %g, want %g", what, maxDiff, first, got.Data[first], want.Data[first])
	}
}

// TestFoldBatchNormRefuses: no fold without running statistics, into
// another kind of layer, across a channel count that differs, or forward
// into a padded conv.
func TestFoldBatchNormRefuses(t *testing.T) {
	conv := calc.Layer{Type: calc.Conv2d, Out: 4, Kernel: []int64{3}, Groups: 1}
	w := exec.Weights{Weight: exec.New(4, 2, 3, 3)}
	bn := calc.Layer{Type: calc.BatchNorm2d, Eps: 1e-5, TrackRunningStats: true}
	stats := func(c int) exec.Weights { return exec.Weights{Mean: exec.New(c), Var: exec.New(c)} }
	for _, c := range []struct {
		name string
		err  func() error
		want string
	}{
		{"batch statistics", func() error { _, err := exec.FoldBatchNorm(&conv, &w, &bn, &exec.Weights{}); return err }, "no running statistics"},
		{"relu", func() error {
			s := stats(4)
			_, err := exec.FoldBatchNorm(&calc.Layer{Type: calc.ReLU}, &w, &bn, &s)
			return err
		}, "only conv, transposed conv and linear"},
		{"channels", func() error { s := stats(5); _, err := exec.FoldBatchNorm(&conv, &w, &bn, &s); return err }, "4 output channels, batchnorm2d normalises 5"},
		{"padded", func() error {
			s := stats(2)
			padded := conv
			padded.Padding = []int64{1}
			_, err := exec.FoldBatchNormForward(&bn, &s, &padded, &w)
			return err
		}, "padding would be normalised differently"},
	} {
		err := c.err()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// TestTrainWeights: train mode drops the running statistics of batchnorm
// and instancenorm nodes only, leaving the given tensors as they were.
func TestTrainWeights(t *testing.T) {
	net := &calc.Network{Input: calc.Shape{2, 3, 4, 4}, Nodes: []calc.Node{
		{Layer: calc.Layer{Type: calc.Conv2d, Out: 3, Kernel: []int64{1}, Bias: true}, From: []int{calc.Input}},
		{Layer: calc.Layer{Type: calc.BatchNorm2d, Eps: 1e-5, Affine: true, TrackRunningStats: true}, From: []int{0}},
		{Layer: calc.Layer{Type: calc.InstanceNorm2d, Eps: 1e-5, TrackRunningStats: true}, From: []int{1}},
	}}
	p, err := exec.NewPlan(net)
	if err != nil {
		t.Fatal(err)
	}
	params := p.Init(1)
	tw := exec.TrainWeights(net, params)
	if tw[0].Weight != params[0].Weight || tw[1].Weight != params[1].Weight || tw[1].Mean != nil || tw[1].Var != nil || tw[2].Mean != nil {
		t.Errorf("train weights %+v", tw)
	}
	if params[1].Mean == nil || params[2].Var == nil {
		t.Error("the given running statistics were dropped")
	}
}

// ExampleFoldBatchNorm folds a batchnorm of two channels (eps 1) into the
// 1x1 conv before it, which has no bias. Channel 0: gamma 2, var 3, so
// s = 2/sqrt(3 + 1) = 1; mean 1, beta 0.5, so b' = (0 - 1)*1 + 0.5.
// Channel 1: gamma 4, var 15, s = 4/sqrt(16) = 1; mean 0, beta 0, b' = 0.
// Then with gamma 3 on channel 1: s = 0.75 scales its row.
func ExampleFoldBatchNorm() {
	conv := calc.Layer{Type: calc.Conv2d, Out: 2, Kernel: []int64{1}, Groups: 1}
	w := exec.Weights{Weight: exec.FromData([]float32{1, 2, 3, 4}, 2, 2, 1, 1)} // no bias
	bn := calc.Layer{Type: calc.BatchNorm2d, Eps: 1, Affine: true, TrackRunningStats: true}
	bnw := exec.Weights{
		Weight: exec.FromData([]float32{2, 4}, 2), Bias: exec.FromData([]float32{0.5, 0}, 2),
		Mean: exec.FromData([]float32{1, 0}, 2), Var: exec.FromData([]float32{3, 15}, 2),
	}
	f, _ := exec.FoldBatchNorm(&conv, &w, &bn, &bnw)
	fmt.Println("W' =", f.Weight.Data, "b' =", f.Bias.Data)
	bnw.Weight.Data[1] = 3
	f, _ = exec.FoldBatchNorm(&conv, &w, &bn, &bnw)
	fmt.Println("W' =", f.Weight.Data, "b' =", f.Bias.Data)
	// Output:
	// W' = [1 2 3 4] b' = [-0.5 0]
	// W' = [1 2 2.25 3] b' = [-0.5 0]
}
