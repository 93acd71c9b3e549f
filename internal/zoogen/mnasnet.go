package zoogen

import "fmt"

// MNASNet (torchvision.models.mnasnet, the B1 variant, _version 2: the
// stem's widths scale with alpha too).

// mnasnetRound is torchvision's _round_to_multiple_of(val, divisor, 0.9).
func mnasnetRound(val float64, divisor int) int {
	n := max(divisor, int(val+float64(divisor)/2)/divisor*divisor)
	if float64(n) >= 0.9*val {
		return n
	}
	return n + divisor
}

// mnasnetDepths is torchvision's _get_depths(alpha).
func mnasnetDepths(alpha float64) []int {
	var d []int
	for _, c := range []int{32, 16, 24, 40, 80, 96, 192, 320} {
		d = append(d, mnasnetRound(float64(c)*alpha, 8))
	}
	return d
}

type mnasnetBuilder struct {
	name  string
	alpha float64
	truth tvTruth
}

func (b mnasnetBuilder) spec() string {
	d := mnasnetDepths(b.alpha)
	// torchvision's _stack(in, out, kernel, stride, expansion, repeats) calls.
	type stack struct{ in, out, kernel, stride, exp, repeats int }
	stacks := []stack{
		{d[1], d[2], 3, 2, 3, 3},
		{d[2], d[3], 5, 2, 3, 3},
		{d[3], d[4], 5, 2, 6, 3},
		{d[4], d[5], 3, 1, 6, 2},
		{d[5], d[6], 5, 2, 6, 4},
		{d[6], d[7], 3, 1, 6, 1},
	}
	var w Writer
	w.Line("# torchvision.models.%s(weights=None), eval mode (torchvision 0.14): MNASNet-B1", b.name)
	w.Line("# at alpha %s. Widths are _get_depths(%s) = %s (_round_to_multiple_of(depth * alpha, 8));", pyFloatRepr(b.alpha), pyFloatRepr(b.alpha), Ints(d...))
	w.Line("# each stack is a strided inverted residual (1x1 expand x3 or x6, depthwise kxk,")
	w.Line("# 1x1 linear projection) without skip, then identity-skip ones. BatchNorm momentum")
	w.Line("# (1 - 0.9997, training only) is not written.")
	w.Line("name: %s", b.name)
	w.Line("input: [3, 224, 224]")
	w.Line("batch: 1")
	w.Line("blocks:")
	w.In(func() {
		w.Line("inverted:                    # _InvertedResidual without the skip (stride 2 or a new width)")
		w.In(func() {
			w.Line("args: {mid: 48, out: 24, kernel: 3, stride: 1, padding: 1}")
			w.Line("layers:")
			w.In(func() {
				w.Line("- conv2d: {out: $mid, kernel: 1, bias: false}       # pointwise")
				w.Line("- batchnorm2d")
				w.Line("- relu")
				w.Line("- conv2d: {out: $mid, kernel: $kernel, stride: $stride, padding: $padding, groups: $mid, bias: false}   # depthwise")
				w.Line("- batchnorm2d")
				w.Line("- relu")
				w.Line("- conv2d: {out: $out, kernel: 1, bias: false}       # linear pointwise, no activation")
				w.Line("- batchnorm2d")
			})
		})
		w.Line("stack:                       # _stack: the first block without skip, then `rest` with the identity skip")
		w.In(func() {
			w.Line("args: {in_mid: 48, mid: 72, out: 24, kernel: 3, stride: 2, padding: 1, rest: 2}")
			w.Line("layers:")
			w.In(func() {
				w.Line("- inverted: {mid: $in_mid, out: $out, kernel: $kernel, stride: $stride, padding: $padding}")
				w.Line("- repeat: $rest")
				w.Line("  layers:")
				w.Line("    - residual: [inverted: {mid: $mid, out: $out, kernel: $kernel, padding: $padding}]")
			})
		})
	})
	w.Line("layers:")
	w.In(func() {
		h := mobileConvOut(224, 3, 2, 1, 1)
		w.Line("# layers.0-7: a plain conv, then a depthwise separable conv without skip")
		w.Line("- conv2d: {out: %d, kernel: 3, stride: 2, padding: 1, bias: false}", d[0])
		w.Line("- batchnorm2d")
		w.Line("- relu")
		w.Line("- conv2d: {out: %d, kernel: 3, padding: 1, groups: %d, bias: false}", d[0], d[0])
		w.Line("- batchnorm2d")
		w.Line("- relu")
		w.Line("- conv2d: {out: %d, kernel: 1, bias: false}", d[1])
		w.Line("- batchnorm2d:")
		w.Line("  expect: %s", Ints(d[1], h, h))
		for i, s := range stacks {
			pad := s.kernel / 2
			h = mobileConvOut(h, s.kernel, s.stride, pad, 1)
			note := fmt.Sprintf("layers.%d: %d x MBConv%d k%d, %d -> %d, stride %d", 8+i, s.repeats, s.exp, s.kernel, s.in, s.out, s.stride)
			if s.repeats == 1 {
				w.Line("- inverted: {mid: %d, out: %d, kernel: %d, stride: %d, padding: %d}   # %s",
					s.in*s.exp, s.out, s.kernel, s.stride, pad, note)
			} else {
				w.Line("- stack: {in_mid: %d, mid: %d, out: %d, kernel: %d, stride: %d, padding: %d, rest: %d}   # %s",
					s.in*s.exp, s.out*s.exp, s.out, s.kernel, s.stride, pad, s.repeats-1, note)
			}
			w.Line("  expect: %s", Ints(s.out, h, h))
		}
		w.Line("- conv2d: {out: 1280, kernel: 1, bias: false}   # layers.14-16")
		w.Line("- batchnorm2d")
		w.Line("- relu:")
		w.Line("  name: layers")
		w.Line("- adaptiveavgpool2d: 1          # forward: x.mean([2, 3])")
		w.Line("- flatten")
		w.Line("- dropout: 0.2")
		w.Line("- linear: 1000")
		w.Line("  name: classifier")
	})
	b.truth.write(&w)
	return w.String()
}

func init() {
	for _, b := range []mnasnetBuilder{
		{"mnasnet0_5", 0.5, tvTruth{[]int{1000}, 2218512, 20624, 104455968}},
		{"mnasnet0_75", 0.75, tvTruth{[]int{1000}, 3170208, 29808, 215493104}},
		{"mnasnet1_0", 1.0, tvTruth{[]int{1000}, 4383312, 37920, 314415872}},
		{"mnasnet1_3", 1.3, tvTruth{[]int{1000}, 6282256, 48816, 526362432}},
	} {
		register(Builder{Name: b.name, Family: "MNASNet", Spec: b.spec})
	}
}
