package zoogen

import "fmt"

// SqueezeNet: torchvision.models.squeezenet1_0 and squeezenet1_1. A Fire
// module squeezes with a 1x1 conv and expands with a 1x1 and a 3x3 conv
// side by side (concatenated); every conv has a bias and a ReLU. The max
// pools use ceil_mode; the classifier is dropout, a 1x1 conv to the 1000
// classes, ReLU and a global average pool.

// squeezeItem is one item of the features: a fire module (squeeze, expand
// planes, n in a row) or a max pool (squeeze 0).
type squeezeItem struct {
	squeeze, expand, n int
	expect             []int
}

type squeezeBuilder struct {
	name     string
	version  string
	stemOut  int
	stemK    int
	features []squeezeItem
	truth    tvTruth
}

func init() {
	pool := func(c, s int) squeezeItem { return squeezeItem{expect: []int{c, s, s}} }
	for _, b := range []squeezeBuilder{
		{"squeezenet1_0", "1.0", 96, 7, []squeezeItem{
			pool(96, 54),
			{16, 64, 2, []int{128, 54, 54}},
			{32, 128, 1, []int{256, 54, 54}},
			pool(256, 27),
			{32, 128, 1, []int{256, 27, 27}},
			{48, 192, 2, []int{384, 27, 27}},
			{64, 256, 1, []int{512, 27, 27}},
			pool(512, 13),
			{64, 256, 1, []int{512, 13, 13}},
		}, tvTruth{[]int{1000}, 1248424, 0, 818924576}},
		{"squeezenet1_1", "1.1", 64, 3, []squeezeItem{
			pool(64, 55),
			{16, 64, 2, []int{128, 55, 55}},
			pool(128, 27),
			{32, 128, 2, []int{256, 27, 27}},
			pool(256, 13),
			{48, 192, 2, []int{384, 13, 13}},
			{64, 256, 2, []int{512, 13, 13}},
		}, tvTruth{[]int{1000}, 1235496, 0, 349151936}},
	} {
		register(Builder{Name: b.name, Family: "SqueezeNet", Spec: b.spec})
	}
}

func (b squeezeBuilder) spec() string {
	var w Writer
	tvHead(&w, []string{
		fmt.Sprintf("torchvision.models.%s(): SqueezeNet %s. Fire modules (1x1 squeeze, then", b.name, b.version),
		"1x1 and 3x3 expand convs concatenated), max pools with ceil_mode, and a",
		"1x1 conv classifier with a global average pool.",
	}, b.name, 3, 224, 224)
	w.Line("blocks:")
	w.In(func() {
		w.Line("fire:                       # Fire(inplanes, squeeze, expand, expand)")
		w.In(func() {
			w.Line("args: {squeeze: 16, expand: 64}")
			w.Line("layers:")
			w.In(func() {
				w.Line("- conv2d: {out: $squeeze, kernel: 1}")
				w.Line("- relu")
				w.Line("- concat:")
				w.In(func() {
					w.Line("  - - conv2d: {out: $expand, kernel: 1}                # expand1x1")
					w.Line("    - relu")
					w.Line("  - - conv2d: {out: $expand, kernel: 3, padding: 1}    # expand3x3")
					w.Line("    - relu")
				})
			})
		})
		w.Line("pool:")
		w.In(func() {
			w.Line("layers:")
			w.In(func() { w.Line("- maxpool2d: {kernel: 3, stride: 2, ceil_mode: true}") })
		})
	})
	w.Line("layers:")
	w.In(func() {
		w.Line("# features")
		w.Line("- conv2d: {out: %d, kernel: %d, stride: 2}", b.stemOut, b.stemK)
		w.Line("- relu")
		for _, it := range b.features {
			switch {
			case it.squeeze == 0:
				w.Line("- pool:")
			case it.n == 1:
				w.Line("- fire: {squeeze: %d, expand: %d}", it.squeeze, it.expand)
			default:
				w.Line("- repeat: %d", it.n)
				w.Line("  layers: [fire: {squeeze: %d, expand: %d}]", it.squeeze, it.expand)
			}
			w.Line("  expect: %s", Ints(it.expect...))
		}
		w.Line("# classifier")
		w.Line("- dropout")
		w.Line("- conv2d: {out: 1000, kernel: 1}")
		w.Line("- relu")
		w.Line("- adaptiveavgpool2d: 1")
		w.Line("- flatten")
	})
	b.truth.write(&w)
	return w.String()
}
