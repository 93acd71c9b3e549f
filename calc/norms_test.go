package calc

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

func joinShape(s Shape) string {
	if s == nil {
		return "-"
	}
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = fmt.Sprint(v)
	}
	return strings.Join(parts, "x")
}

// ExampleNorms is the lecture's comparison on 8 x 64 x 32 x 32 with 32
// groups: batchnorm's statistics average 8*32*32 values per channel,
// layernorm's 64*32*32 per sample, instancenorm's 32*32 per sample and
// channel, groupnorm's 2*32*32 per sample and group.
func ExampleNorms() {
	ns, _ := Norms(Shape{8, 64, 32, 32}, 32)
	for _, n := range ns {
		fmt.Printf("%-22s over %-9s mean,var %-9s gamma,beta %-11s averages %6d  params %6d  buffers %3d  train!=test %v\n",
			n.Module, n.Over, joinShape(n.Stat), joinShape(n.Affine), n.Count, n.Params, n.Buffers, n.TrainDiffers)
	}
	// Output:
	// nn.BatchNorm2d(64)     over N, H, W   mean,var 1x64x1x1  gamma,beta 1x64x1x1    averages   8192  params    128  buffers 128  train!=test true
	// nn.LayerNorm([64, 32, 32]) over C, H, W   mean,var 8x1x1x1   gamma,beta 1x64x32x32  averages  65536  params 131072  buffers   0  train!=test false
	// nn.InstanceNorm2d(64)  over H, W      mean,var 8x64x1x1  gamma,beta -           averages   1024  params      0  buffers   0  train!=test false
	// nn.GroupNorm(32, 64)   over C/G, H, W mean,var 8x32x1x1  gamma,beta 1x64x1x1    averages   2048  params    128  buffers   0  train!=test false
}

// TestNormsFullyConnected: N x D has batchnorm1d, layernorm and groupnorm,
// no instancenorm.
func TestNormsFullyConnected(t *testing.T) {
	ns, err := Norms(Shape{16, 100}, 4)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range ns {
		got = append(got, fmt.Sprintf("%s %s %s %s %d %d %d", n.Module, n.Over, joinShape(n.Stat), joinShape(n.Affine), n.Count, n.Params, n.Buffers))
	}
	want := []string{
		"nn.BatchNorm1d(100) N 1x100 1x100 16 200 200",
		"nn.LayerNorm([100]) D 16x1 1x100 100 200 0",
		"nn.GroupNorm(4, 100) D/G 16x4 1x100 25 200 0",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, bad := range []struct {
		shape  Shape
		groups int64
		want   string
	}{{Shape{8, 64, 32, 32}, 5, "does not divide"}, {Shape{8}, 1, "1 axes"}, {Shape{8, 0, 3}, 1, "between 1"}} {
		if _, err := Norms(bad.shape, bad.groups); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v groups %d: %v, want %q", bad.shape, bad.groups, err, bad.want)
		}
	}
}

// TestNormsAgainstPyTorch: the parameters, buffers, number of statistics,
// values per statistic and train/test difference of every module PyTorch
// builds (testdata/torch/fold/gen_norms.py).
func TestNormsAgainstPyTorch(t *testing.T) {
	data, err := os.ReadFile("../testdata/torch/fold/norms.json")
	if err != nil {
		t.Skipf("no reference (run testdata/torch/fold/gen_norms.py): %v", err)
	}
	var want []struct {
		Shape        []int64
		Groups       int64
		Norm         string
		Params       int64
		Buffers      int64
		Stats, Count int64
		TrainDiffers bool `json:"train_differs"`
	}
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) < 10 {
		t.Fatalf("only %d cases", len(want))
	}
	for _, w := range want {
		ns, err := Norms(Shape(w.Shape), w.Groups)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, n := range ns {
			if !strings.HasPrefix(n.Op.String(), w.Norm) {
				continue
			}
			found = true
			stats := int64(1)
			for _, d := range n.Stat {
				stats *= d
			}
			if n.Params != w.Params || n.Buffers != w.Buffers || stats != w.Stats || n.Count != w.Count || n.TrainDiffers != w.TrainDiffers {
				t.Errorf("%v %s: params %d, buffers %d, %d statistics of %d values, train differs %v; PyTorch %d, %d, %d of %d, %v",
					w.Shape, n.Module, n.Params, n.Buffers, stats, n.Count, n.TrainDiffers, w.Params, w.Buffers, w.Stats, w.Count, w.TrainDiffers)
			}
		}
		if !found {
			t.Errorf("%v: no %s", w.Shape, w.Norm)
		}
	}
}

// ExampleDecideFolds: the batchnorm after the conv folds into it, the one
// after the relu does not (and the conv after it pads with zeros, so it
// cannot fold forward either); the folded network has one layer less and
// a conv with a bias.
func ExampleDecideFolds() {
	net := Network{Input: Shape{1, 3, 8, 8}, Nodes: []Node{
		{Name: "conv1", Layer: Layer{Type: Conv2d, Out: 4, Kernel: []int64{3}, Padding: []int64{1}}, From: []int{Input}},
		{Name: "bn1", Layer: Layer{Type: BatchNorm2d, Eps: 1e-5, Affine: true, TrackRunningStats: true}, From: []int{0}},
		{Name: "relu", Layer: Layer{Type: ReLU}, From: []int{1}},
		{Name: "bn2", Layer: Layer{Type: BatchNorm2d, Eps: 1e-5, Affine: true, TrackRunningStats: true}, From: []int{2}},
		{Name: "conv2", Layer: Layer{Type: Conv2d, Out: 4, Kernel: []int64{3}, Padding: []int64{1}}, From: []int{3}},
	}}
	res, _ := Analyze(&net)
	ds := DecideFolds(&net, res)
	for _, d := range ds {
		if d.Folds() {
			fmt.Printf("%s folds into %s\n", net.Nodes[d.Norm].Name, net.Nodes[d.Into].Name)
		} else {
			fmt.Printf("%s: %s\n", net.Nodes[d.Norm].Name, d.Reason)
		}
	}
	folded, index := FoldNetwork(&net, ds)
	fmt.Println(len(folded.Nodes), "layers; relu reads", folded.Nodes[1].From, "; index", index, "; conv1 bias", folded.Nodes[0].Bias)
	// Output:
	// bn1 folds into conv1
	// bn2: it follows an activation (relu); the conv after it (conv2) pads with zeros, which would be normalised differently
	// 4 layers; relu reads [0] ; index [0 -1 1 2 3] ; conv1 bias true
}
