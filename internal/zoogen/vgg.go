package zoogen

import "fmt"

// VGG: torchvision.models.vgg11 ... vgg19_bn (vgg16 is hand-written in
// testdata/zoo/vgg16.yaml). torchvision's make_layers reads a configuration
// (cfgs "A", "B", "D", "E"): stages of 3x3 convs (padding 1, bias, then
// BatchNorm2d in the _bn builders, then ReLU), each stage closed by a 2x2
// max pool; then AdaptiveAvgPool2d(7) and the 4096-4096-1000 classifier.

// vggBuilder is one VGG builder: its configuration letter, the number of
// convs in each of the five stages, and batch norm.
type vggBuilder struct {
	name  string
	cfg   string
	convs [5]int
	bn    bool
	truth tvTruth
}

func init() {
	for _, b := range []vggBuilder{
		{"vgg11", "A", [5]int{1, 1, 2, 2, 2}, false, tvTruth{[]int{1000}, 132863336, 0, 7609090048}},
		{"vgg11_bn", "A", [5]int{1, 1, 2, 2, 2}, true, tvTruth{[]int{1000}, 132868840, 5504, 7609090048}},
		{"vgg13", "B", [5]int{2, 2, 2, 2, 2}, false, tvTruth{[]int{1000}, 133047848, 0, 11308466176}},
		{"vgg13_bn", "B", [5]int{2, 2, 2, 2, 2}, true, tvTruth{[]int{1000}, 133053736, 5888, 11308466176}},
		{"vgg16_bn", "D", [5]int{2, 2, 3, 3, 3}, true, tvTruth{[]int{1000}, 138365992, 8448, 15470264320}},
		{"vgg19", "E", [5]int{2, 2, 4, 4, 4}, false, tvTruth{[]int{1000}, 143667240, 0, 19632062464}},
		{"vgg19_bn", "E", [5]int{2, 2, 4, 4, 4}, true, tvTruth{[]int{1000}, 143678248, 11008, 19632062464}},
	} {
		register(Builder{Name: b.name, Family: "VGG", Spec: b.spec})
	}
}

func (b vggBuilder) spec() string {
	var w Writer
	depth := 3
	for _, n := range b.convs {
		depth += n
	}
	norm := "no batch norm"
	if b.bn {
		norm = "BatchNorm2d after every conv"
	}
	tvHead(&w, []string{
		fmt.Sprintf("torchvision.models.%s(): VGG-%d, configuration %s, %s.", b.name, depth, b.cfg, norm),
		"Five stages of 3x3 convs (padding 1), each closed by a 2x2 max pool (features),",
		"an adaptive 7x7 average pool (avgpool) and the 4096-4096-1000 classifier.",
	}, b.name, 3, 224, 224)
	w.Line("blocks:")
	w.In(func() {
		if b.bn {
			w.Line("conv3:                      # a 3x3 \"same\" conv, its BatchNorm2d and ReLU")
		} else {
			w.Line("conv3:                      # a 3x3 \"same\" conv and its ReLU")
		}
		w.In(func() {
			w.Line("args: {out: 64}")
			w.Line("layers:")
			w.In(func() {
				w.Line("- conv2d: {out: $out, kernel: 3, padding: 1}")
				if b.bn {
					w.Line("- batchnorm2d")
				}
				w.Line("- relu")
			})
		})
		w.Line("stage:                      # n convs of width out, then halve the resolution")
		w.In(func() {
			w.Line("args: {out: 64, n: 2}")
			w.Line("layers:")
			w.In(func() {
				w.Line("- repeat: $n")
				w.Line("  layers: [conv3: {out: $out}]")
				w.Line("- maxpool2d: 2")
			})
		})
	})
	w.Line("layers:")
	w.In(func() {
		w.Line("# features")
		width, size := []int{64, 128, 256, 512, 512}, 224
		for i, n := range b.convs {
			size /= 2
			w.Line("- stage: {out: %d, n: %d}", width[i], n)
			w.Line("  expect: %s", Ints(width[i], size, size))
		}
		w.Line("# avgpool")
		w.Line("- adaptiveavgpool2d: 7")
		w.Line("- flatten:")
		w.Line("  expect: [25088]")
		w.Line("# classifier")
		w.Line("- linear: 4096")
		w.Line("- relu")
		w.Line("- dropout")
		w.Line("- linear: 4096")
		w.Line("- relu")
		w.Line("- dropout")
		w.Line("- linear: 1000")
	})
	b.truth.write(&w)
	return w.String()
}
