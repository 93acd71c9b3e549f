package zoogen

// ShuffleNetV2 (torchvision.models.shufflenetv2): units that split the
// channels (chunk) or, downsampling, feed both branches the whole input,
// concatenate the branches and shuffle the channels in two groups.

type shufflenetBuilder struct {
	name    string
	repeats [3]int // stages_repeats
	widths  [5]int // stages_out_channels
	truth   tvTruth
}

func (b shufflenetBuilder) spec() string {
	var w Writer
	w.Line("# torchvision.models.%s(weights=None), eval mode (torchvision 0.14):", b.name)
	w.Line("# stages_repeats %s, stages_out_channels %s. Every unit ends in", Ints(b.repeats[:]...), Ints(b.widths[:]...))
	w.Line("# channel_shuffle(out, 2); a stride-1 unit passes half the channels through")
	w.Line("# (x.chunk(2, dim=1)), a stride-2 unit gives the whole input to both branches.")
	w.Line("name: %s", b.name)
	w.Line("input: [3, 224, 224]")
	w.Line("batch: 1")
	w.Line("blocks:")
	w.In(func() {
		w.Line("branch2:                     # InvertedResidual.branch2: 1x1, depthwise 3x3 (no activation), 1x1")
		w.In(func() {
			w.Line("args: {half: 58, stride: 1}")
			w.Line("layers:")
			w.In(func() {
				w.Line("- conv2d: {out: $half, kernel: 1, bias: false}")
				w.Line("- batchnorm2d")
				w.Line("- relu")
				w.Line("- conv2d: {out: $half, kernel: 3, stride: $stride, padding: 1, groups: $half, bias: false}")
				w.Line("- batchnorm2d")
				w.Line("- conv2d: {out: $half, kernel: 1, bias: false}")
				w.Line("- batchnorm2d")
				w.Line("- relu")
			})
		})
		w.Line("down:                        # InvertedResidual(inp, oup, stride=2): cat(branch1(x), branch2(x))")
		w.In(func() {
			w.Line("args: {in: 24, half: 58}")
			w.Line("layers:")
			w.In(func() {
				w.Line("- concat:")
				w.In(func() {
					w.Line("  - - conv2d: {out: $in, kernel: 3, stride: 2, padding: 1, groups: $in, bias: false}   # branch1")
					w.Line("    - batchnorm2d")
					w.Line("    - conv2d: {out: $half, kernel: 1, bias: false}")
					w.Line("    - batchnorm2d")
					w.Line("    - relu")
					w.Line("  - [branch2: {half: $half, stride: 2}]")
				})
				w.Line("- channelshuffle: 2")
			})
		})
		w.Line("unit:                        # InvertedResidual(oup, oup, stride=1): x1, x2 = x.chunk(2, dim=1); cat(x1, branch2(x2))")
		w.In(func() {
			w.Line("args: {half: 58}")
			w.Line("layers:")
			w.In(func() {
				w.Line("- concat:")
				w.In(func() {
					w.Line("  - [chunk: {chunks: 2, index: 0}]")
					w.Line("  - - chunk: {chunks: 2, index: 1}")
					w.Line("    - branch2: {half: $half}")
				})
				w.Line("- channelshuffle: 2")
			})
		})
		w.Line("stage:                       # stage2-4: one stride-2 unit, then `rest` stride-1 units")
		w.In(func() {
			w.Line("args: {in: 24, half: 58, rest: 3}")
			w.Line("layers:")
			w.In(func() {
				w.Line("- down: {in: $in, half: $half}")
				w.Line("- repeat: $rest")
				w.Line("  layers: [unit: {half: $half}]")
			})
		})
	})
	w.Line("layers:")
	w.In(func() {
		c := b.widths[0]
		w.Line("- conv2d: {out: %d, kernel: 3, stride: 2, padding: 1, bias: false}", c)
		w.Line("- batchnorm2d")
		w.Line("- relu:")
		w.Line("  name: conv1")
		w.Line("- maxpool2d: {kernel: 3, stride: 2, padding: 1}")
		w.Line("  name: maxpool")
		w.Line("  expect: [%d, 56, 56]", c)
		h := 56
		for i, r := range b.repeats {
			out := b.widths[i+1]
			h = mobileConvOut(h, 3, 2, 1, 1)
			w.Line("- stage: {in: %d, half: %d, rest: %d}", c, out/2, r-1)
			w.Line("  name: stage%d", i+2)
			w.Line("  expect: %s", Ints(out, h, h))
			c = out
		}
		w.Line("- conv2d: {out: %d, kernel: 1, bias: false}", b.widths[4])
		w.Line("- batchnorm2d")
		w.Line("- relu:")
		w.Line("  name: conv5")
		w.Line("- adaptiveavgpool2d: 1          # forward: x.mean([2, 3])")
		w.Line("- flatten")
		w.Line("- linear: 1000")
		w.Line("  name: fc")
	})
	b.truth.write(&w)
	return w.String()
}

func init() {
	for _, b := range []shufflenetBuilder{
		{"shufflenet_v2_x0_5", [3]int{4, 8, 4}, [5]int{24, 48, 96, 192, 1024}, tvTruth{[]int{1000}, 1366792, 7952, 40476448}},
		{"shufflenet_v2_x1_0", [3]int{4, 8, 4}, [5]int{24, 116, 232, 464, 1024}, tvTruth{[]int{1000}, 2278604, 16180, 144907992}},
		{"shufflenet_v2_x1_5", [3]int{4, 8, 4}, [5]int{24, 176, 352, 704, 1024}, tvTruth{[]int{1000}, 3503624, 23440, 295759392}},
		{"shufflenet_v2_x2_0", [3]int{4, 8, 4}, [5]int{24, 244, 488, 976, 2048}, tvTruth{[]int{1000}, 7393996, 33716, 583253464}},
	} {
		register(Builder{Name: b.name, Family: "ShuffleNetV2", Spec: b.spec})
	}
}
