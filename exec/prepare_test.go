package exec_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cnncalc/cnncalc/calc"
	cexec "github.com/cnncalc/cnncalc/exec"
)

// randomNorms gives every batchnorm random running statistics and affine
// terms, so that folding one changes the weights it folds into.
func randomNorms(net *calc.Network, params []cexec.Weights, r *rand.Rand) {
	for i, n := range net.Nodes {
		if n.Type.RankOf(calc.BatchNorm1d) == 0 {
			continue
		}
		w := &params[i]
		for _, t := range []*cexec.Tensor{w.Mean, w.Weight, w.Bias} {
			if t != nil {
				for j := range t.Data {
					t.Data[j] = r.Float32()*2 - 1
				}
			}
		}
		if w.Var != nil {
			for j := range w.Var.Data {
				w.Var.Data[j] = 0.2 + r.Float32()
			}
		}
	}
}

// TestFusionMatchesUnfused: with chains fused (batchnorms folded into
// the conv or linear layer before them, ReLU/ReLU6/Hardtanh in the GEMM's
// write-back), a forward pass reports every node's shape and MACs as the
// unfused run does, and its output is the unfused one's to float32
// rounding, and so is a Prepared's (batchnorms folded into the weights),
// the same to the bit run after run. The
// networks cover conv-BN-ReLU (resnet18, vgg11_bn), ReLU6 and depthwise
// convs (mobilenet_v2), BN after concat (densenet121: no fold), SiLU
// (efficientnet_b0: fold, no clamp) and linear-ReLU (alexnet).
func TestFusionMatchesUnfused(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct {
		name  string
		input []int64
		fused bool // whether any chain must be found
	}{
		{"resnet18", []int64{3, 64, 64}, true}, {"mobilenet_v2", []int64{3, 64, 64}, true},
		{"vgg11_bn", []int64{3, 32, 32}, true}, {"densenet121", []int64{3, 64, 64}, true},
		{"efficientnet_b0", []int64{3, 64, 64}, true}, {"alexnet", []int64{3, 224, 224}, true},
	} {
		a := load(t, "../testdata/zoo/"+c.name+".yaml", 2, c.input)
		plan, err := cexec.NewPlan(&a.Net)
		if err != nil {
			t.Fatal(err)
		}
		params := plan.Init(1)
		randomNorms(&a.Net, params, r)
		x := cexec.New(toInts(a.Net.Input)...)
		for i := range x.Data {
			x.Data[i] = r.Float32()*2 - 1
		}
		ref, err := plan.Forward(params, x, cexec.Options{NoFuse: true})
		if err != nil {
			t.Fatal(err)
		}
		got, err := plan.Forward(params, x, cexec.Options{})
		if err != nil {
			t.Fatal(err)
		}
		absorbed := 0
		for i := range ref.Layers {
			rl, gl := ref.Layers[i], got.Layers[i]
			if !slices.Equal(rl.Shape, gl.Shape) || rl.MACs != gl.MACs {
				t.Fatalf("%s node %d: fused shape %v MACs %d, unfused %v %d", c.name, i+1, gl.Shape, gl.MACs, rl.Shape, rl.MACs)
			}
			if gl.Seconds == 0 && rl.Seconds != 0 {
				absorbed++
			}
		}
		if c.fused && absorbed == 0 {
			t.Errorf("%s: no node was absorbed into a chain", c.name)
		}
		var scale, diff float64
		for i, v := range ref.Output.Data {
			scale = math.Max(scale, math.Abs(float64(v)))
			diff = math.Max(diff, math.Abs(float64(v-got.Output.Data[i])))
		}
		if diff > 1e-5*scale || math.IsNaN(diff) {
			t.Errorf("%s: fused output differs by %.3g (max |y| %.3g)", c.name, diff, scale)
		}
		q, err := plan.Prepare(params)
		if err != nil {
			t.Fatal(err)
		}
		pre, err := q.Forward(x, cexec.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var pdiff float64
		for i, v := range ref.Output.Data {
			pdiff = math.Max(pdiff, math.Abs(float64(v-pre.Output.Data[i])))
		}
		if pdiff > 1e-5*scale || math.IsNaN(pdiff) {
			t.Errorf("%s: prepared output differs by %.3g (max |y| %.3g)", c.name, pdiff, scale)
		}
		again, err := q.Forward(x, cexec.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range pre.Output.Data {
			if again.Output.Data[i] != v {
				t.Fatalf("%s: second Prepared.Forward output[%d] %v, first %v", c.name, i, again.Output.Data[i], v)
			}
		}
		t.Logf("%s: %d nodes absorbed; from unfused: fused %.3g, prepared %.3g, of %.3g", c.name, absorbed, diff, pdiff, scale)
	}
}
