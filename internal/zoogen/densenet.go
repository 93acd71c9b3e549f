package zoogen

import "fmt"

// DenseNet: torchvision.models.densenet161, densenet169 and densenet201
// (densenet121 is hand-written in testdata/zoo). DenseNet-BC: a 7x7/2 stem
// and 3x3/2 max pool, four dense blocks whose layers (BN-ReLU-1x1 conv to
// bn_size*growth, BN-ReLU-3x3 conv to growth) each concatenate their new
// channels to everything before, transitions (BN-ReLU-1x1 conv halving the
// channels, 2x2 average pool) between the blocks, then norm5, a functional
// ReLU, a global average pool and the classifier.

type densenetBuilder struct {
	name   string
	depth  int
	growth int
	init   int // num_init_features
	blocks [4]int
	truth  tvTruth
}

func init() {
	t := func(p, bu, m int64) tvTruth { return tvTruth{[]int{1000}, p, bu, m} }
	for _, b := range []densenetBuilder{
		{"densenet161", 161, 48, 96, [4]int{6, 12, 36, 24}, t(28681000, 219936, 7727907072)},
		{"densenet169", 169, 32, 64, [4]int{6, 12, 32, 32}, t(14149480, 158400, 3359843328)},
		{"densenet201", 201, 32, 64, [4]int{6, 12, 48, 32}, t(20013928, 229056, 4291365888)},
	} {
		register(Builder{Name: b.name, Family: "DenseNet", Spec: b.spec})
	}
}

func (b densenetBuilder) spec() string {
	var w Writer
	width := 4 * b.growth // bn_size 4
	tvHead(&w, []string{
		fmt.Sprintf("torchvision.models.%s(): DenseNet-%d (DenseNet-BC), growth %d, bottleneck", b.name, b.depth, b.growth),
		fmt.Sprintf("width 4*%d, %d initial features, dense blocks of %s layers. A dense", b.growth, b.init, joinInts(b.blocks[:])),
		fmt.Sprintf("layer concatenates its %d new channels to its input; a transition (BN-ReLU-1x1", b.growth),
		"conv-2x2 avg pool) halves channels and size.",
	}, b.name, 3, 224, 224)
	w.Line("blocks:")
	w.In(func() {
		w.Line("dense_layer:                # _DenseLayer: norm1, relu1, conv1, norm2, relu2, conv2")
		w.In(func() {
			w.Line("args: {growth: %d, width: %d}", b.growth, width)
			w.Line("layers:")
			w.In(func() {
				w.Line("- concat:")
				w.In(func() {
					w.Line("  - []                # identity: keep every earlier feature map")
					w.Line("  - - batchnorm2d")
					w.Line("    - relu")
					w.Line("    - conv2d: {out: $width, kernel: 1, bias: false}")
					w.Line("    - batchnorm2d")
					w.Line("    - relu")
					w.Line("    - conv2d: {out: $growth, kernel: 3, padding: 1, bias: false}")
				})
			})
		})
		w.Line("dense_block:")
		w.In(func() {
			w.Line("args: {n: 6}")
			w.Line("layers:")
			w.In(func() {
				w.Line("- repeat: $n")
				w.Line("  layers: [dense_layer]")
			})
		})
		w.Line("transition:                 # _Transition: norm, relu, conv, pool")
		w.In(func() {
			w.Line("args: {out: %d}", (b.init+b.blocks[0]*b.growth)/2)
			w.Line("layers:")
			w.In(func() {
				w.Line("- batchnorm2d")
				w.Line("- relu")
				w.Line("- conv2d: {out: $out, kernel: 1, bias: false}")
				w.Line("- avgpool2d: 2")
			})
		})
	})
	w.Line("layers:")
	w.In(func() {
		w.Line("# features: conv0, norm0, relu0, pool0")
		w.Line("- conv2d: {out: %d, kernel: 7, stride: 2, padding: 3, bias: false}", b.init)
		w.Line("- batchnorm2d")
		w.Line("- relu")
		w.Line("- maxpool2d: {kernel: 3, stride: 2, padding: 1}")
		w.Line("  expect: %s", Ints(b.init, 56, 56))
		c, size := b.init, 56
		for i, n := range b.blocks {
			c += n * b.growth
			w.Line("- dense_block: {n: %d}", n)
			w.Line("  name: denseblock%d", i+1)
			w.Line("  expect: %s", Ints(c, size, size))
			if i == len(b.blocks)-1 {
				break
			}
			c /= 2
			size /= 2
			w.Line("- transition: {out: %d}", c)
			w.Line("  name: transition%d", i+1)
			w.Line("  expect: %s", Ints(c, size, size))
		}
		w.Line("# norm5")
		w.Line("- batchnorm2d")
		w.Line("# head (torchvision applies relu and adaptive_avg_pool2d functionally)")
		w.Line("- relu")
		w.Line("- adaptiveavgpool2d: 1")
		w.Line("- flatten")
		w.Line("- linear: 1000              # classifier")
	})
	b.truth.write(&w)
	return w.String()
}
