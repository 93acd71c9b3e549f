package calc_test

import (
	"fmt"

	"github.com/cnncalc/cnncalc/calc"
)

// A 32x32 input and a 5x5 kernel, stride 1, no padding: 28x28.
func ExampleConvOutput() {
	fmt.Println(calc.ConvOutput(32, 5, 1, 0, 0, 1))
	// A 63x63x16 volume, 32 filters of 7x7, stride 2, no padding: 29x29x32.
	fmt.Println(calc.ConvOutput(63, 7, 2, 0, 0, 1))
	// Output:
	// 28
	// 29
}

// A 32x32x16 volume through 2x2 max pooling with stride 2: 16x16x16.
func ExamplePoolOutput() {
	fmt.Println(calc.PoolOutput(32, 2, 2, 0, 1, false))
	// ceil_mode keeps a last partial window: 7 -> 4 instead of 3.
	fmt.Println(calc.PoolOutput(7, 2, 2, 0, 1, true))
	// Output:
	// 16
	// 4
}

// A "same" convolution of a 63x63 input with 7x7 filters, stride 1, pads 3
// on each side: p = (f-1)/2.
func ExampleSamePadding() {
	fmt.Println(calc.SamePadding(63, 7, 1, 1))
	// With stride 2, TensorFlow's rule pads so that out = ceil(in/stride).
	fmt.Println(calc.SamePadding(224, 7, 2, 1))
	// Output:
	// 3 3
	// 2 3
}

// Parameters of a conv layer: C_out x (C_in x K x K + 1). A 3x300x300 input
// and 100 filters of 5x5 have 100 x (3 x 5 x 5 + 1) = 7,600 parameters.
func ExampleAnalyze_convParams() {
	net := &calc.Network{Input: calc.Shape{1, 3, 300, 300}, Explain: true, Nodes: []calc.Node{
		{Layer: calc.Layer{Type: calc.Conv2d, Out: 100, Kernel: []int64{5}, Bias: true}, From: []int{calc.Input}},
	}}
	res, _ := calc.Analyze(net)
	fmt.Println(calc.Group(res.Total.Params))
	fmt.Println(res.Layers[0].Formulas[2])
	// Output:
	// 7,600
	// params = 100*(3*5*5) + 100 = 7,600
}

// A fully connected layer from a 300x300 RGB image to 100 neurons:
// 300 x 300 x 3 x 100 weights + 100 biases = 27,000,100.
func ExampleAnalyze_fcParams() {
	net := &calc.Network{Input: calc.Shape{1, 3, 300, 300}, Nodes: []calc.Node{
		{Layer: calc.Layer{Type: calc.Flatten, StartDim: 1, EndDim: -1}, From: []int{calc.Input}},
		{Layer: calc.Layer{Type: calc.Linear, Out: 100, Bias: true}, From: []int{0}},
	}}
	res, _ := calc.Analyze(net)
	fmt.Println(calc.Group(res.Total.Params))
	// Output:
	// 27,000,100
}

// The receptive field of L stacked 3x3 convolutions (stride 1) is 1 + 2L.
func ExampleAnalyze_receptiveField() {
	net := &calc.Network{Input: calc.Shape{1, 1, 64, 64}}
	for l := 0; l < 5; l++ {
		net.Nodes = append(net.Nodes, calc.Node{Layer: calc.Layer{Type: calc.Conv2d, Out: 1, Kernel: []int64{3}, Padding: []int64{1}}, From: []int{l - 1}})
	}
	res, _ := calc.Analyze(net)
	for l, r := range res.Layers {
		fmt.Printf("L=%d: %d ", l+1, r.RF.Size[0])
	}
	fmt.Println()
	// Output:
	// L=1: 3 L=2: 5 L=3: 7 L=4: 9 L=5: 11
}
