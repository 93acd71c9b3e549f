package zoogen

import (
	"math"
	"strconv"
)

// Helpers shared by the mobile families (MobileNetV3, MNASNet,
// ShuffleNetV2, EfficientNet and the MobileNetV3 segmentation models).

// mobileTruth is torchvision's measurement of one builder
// (testdata/torch/torchvision.json, gen_torchvision.py on torchvision
// 0.14 with weights=None), copied here: the generated spec's top-level
// expect: is external truth, not the generator's own arithmetic.
type mobileTruth struct {
	output  []int
	params  int64
	buffers int64
	macs    int64
}

// writeMobileTruth writes the top-level expect: block.
func writeMobileTruth(w *Writer, t mobileTruth) {
	w.Line("expect:                       # torchvision's own model, measured by testdata/torch/gen_torchvision.py")
	w.In(func() {
		w.Line("output: %s", Ints(t.output...))
		w.Line("params: %d", t.params)
		w.Line("buffers: %d", t.buffers)
		w.Line("macs: %d", t.macs)
	})
}

// mobileDivisible is torchvision.models._utils._make_divisible: the nearest
// multiple of divisor (at least minValue), rounded up when rounding down
// would lose more than 10%.
func mobileDivisible(v float64, divisor, minValue int) int {
	if minValue == 0 {
		minValue = divisor
	}
	n := max(minValue, int(v+float64(divisor)/2)/divisor*divisor)
	if float64(n) < 0.9*v {
		n += divisor
	}
	return n
}

// mobileConvOut is PyTorch's output size of a convolution or pooling window.
func mobileConvOut(in, kernel, stride, padding, dilation int) int {
	return (in+2*padding-dilation*(kernel-1)-1)/stride + 1
}

// mobileFloat formats a float64 as Python's repr does (the shortest text that
// reads back as the same double), so a probability reads as torchvision
// holds it.
func mobileFloat(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1e16 {
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}
