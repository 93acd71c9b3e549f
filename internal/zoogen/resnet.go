package zoogen

import "fmt"

// ResNet: torchvision.models.resnet34, resnet101, resnet152, the ResNeXts
// and the wide ResNets (resnet18 and resnet50 are hand-written in
// testdata/zoo). One torchvision class, ResNet(block, layers, groups,
// width_per_group): a 7x7/2 stem and 3x3/2 max pool, four stages layer1..4
// of BasicBlocks or Bottlenecks (v1.5: the stride sits on the 3x3 conv), the
// first block of a stage projecting its shortcut (1x1 conv + BN) where the
// stride or the width changes, then a global average pool and fc. The
// segmentation builders (segmentation.go) reuse the backbone, dilated.

// resnetBuilder is one ResNet configuration.
type resnetBuilder struct {
	name    string
	title   string // what the builder is, for the comment
	basic   bool   // BasicBlock (expansion 1) rather than Bottleneck (4)
	layers  [4]int // blocks per stage
	groups  int    // the 3x3 conv's groups (ResNeXt cardinality)
	perWide int    // width_per_group: 64, ResNeXt 4 or 8, wide 128
	truth   tvTruth
}

// width is torchvision's Bottleneck width for a stage of `planes`:
// int(planes * (width_per_group / 64.0)) * groups.
func (b resnetBuilder) width(planes int) int {
	return planes * b.perWide / 64 * b.groups
}

func init() {
	t := func(p, bu, m int64) tvTruth { return tvTruth{[]int{1000}, p, bu, m} }
	for _, b := range []resnetBuilder{
		{"resnet34", "ResNet-34 (BasicBlocks)", true, [4]int{3, 4, 6, 3}, 1, 64, t(21797672, 17024, 3663761408)},
		{"resnet101", "ResNet-101 (Bottlenecks)", false, [4]int{3, 4, 23, 3}, 1, 64, t(44549160, 105344, 7801405440)},
		{"resnet152", "ResNet-152 (Bottlenecks)", false, [4]int{3, 8, 36, 3}, 1, 64, t(60192808, 151424, 11513626624)},
		{"resnext50_32x4d", "ResNeXt-50 32x4d (Bottlenecks, groups 32, width_per_group 4)", false, [4]int{3, 4, 6, 3}, 32, 4, t(25028904, 68224, 4230479872)},
		{"resnext101_32x8d", "ResNeXt-101 32x8d (Bottlenecks, groups 32, width_per_group 8)", false, [4]int{3, 4, 23, 3}, 32, 8, t(88791336, 202880, 16414015488)},
		{"resnext101_64x4d", "ResNeXt-101 64x4d (Bottlenecks, groups 64, width_per_group 4)", false, [4]int{3, 4, 23, 3}, 64, 4, t(83455272, 202880, 15460270080)},
		{"wide_resnet50_2", "Wide ResNet-50-2 (Bottlenecks, width_per_group 128)", false, [4]int{3, 4, 6, 3}, 1, 128, t(68883240, 68224, 11398021120)},
		{"wide_resnet101_2", "Wide ResNet-101-2 (Bottlenecks, width_per_group 128)", false, [4]int{3, 4, 23, 3}, 1, 128, t(126886696, 137856, 22753050624)},
	} {
		register(Builder{Name: b.name, Family: "ResNet", Spec: b.spec})
	}
}

func (b resnetBuilder) spec() string {
	var w Writer
	comment := []string{
		fmt.Sprintf("torchvision.models.%s(): %s.", b.name, b.title),
		fmt.Sprintf("A 7x7/2 stem and max pool, then %s blocks in layer1..layer4; the", joinInts(b.layers[:])),
		"first block of a stage projects its shortcut (1x1 conv + BN, the stride on both",
		"paths) where the size or width changes.",
	}
	if !b.basic {
		comment = append(comment, fmt.Sprintf("Bottleneck width int(planes * %d/64) * %d; v1.5: the stride is on the 3x3 conv.", b.perWide, b.groups))
	}
	tvHead(&w, comment,
		b.name, 3, 224, 224)
	w.Line("blocks:")
	w.In(func() { b.writeBlocks(&w, false) })
	w.Line("layers:")
	w.In(func() {
		b.writeBackbone(&w, 224, false)
		w.Line("# head")
		w.Line("- adaptiveavgpool2d: 1")
		w.Line("- flatten")
		w.Line("- fc: 1000")
	})
	b.truth.write(&w)
	return w.String()
}

// writeBlocks writes the block definitions. dilated: the 3x3 conv takes a
// dilation argument (padding = dilation), for the segmentation backbones'
// replace_stride_with_dilation.
func (b resnetBuilder) writeBlocks(w *Writer, dilated bool) {
	groups := ""
	if b.groups > 1 {
		groups = fmt.Sprintf(", groups: %d", b.groups)
	}
	conv3 := func(stride bool) string {
		s := ""
		if stride {
			s = ", stride: $stride"
		}
		if dilated {
			return fmt.Sprintf("- conv2d: {out: $width, kernel: 3%s, padding: $dilation, dilation: $dilation%s, bias: false}", s, groups)
		}
		return fmt.Sprintf("- conv2d: {out: $width, kernel: 3%s, padding: 1%s, bias: false}", s, groups)
	}
	dil := ""
	if dilated {
		dil = ", dilation: 1"
	}
	if b.basic {
		body := func(stride bool) {
			s := ""
			if stride {
				s = ", stride: $stride"
			}
			w.Line("- conv2d: {out: $out, kernel: 3%s, padding: 1, bias: false}", s)
			w.Line("- batchnorm2d")
			w.Line("- relu")
			w.Line("- conv2d: {out: $out, kernel: 3, padding: 1, bias: false}")
			w.Line("- batchnorm2d")
		}
		w.Line("basic:                      # BasicBlock, identity shortcut")
		w.In(func() {
			w.Line("args: {out: 64}")
			w.Line("layers:")
			w.In(func() {
				w.Line("- residual:")
				w.In(func() { w.In(func() { body(false) }) })
				w.Line("- relu")
			})
		})
		w.Line("basic_down:                 # BasicBlock, stride on the first conv and a projection shortcut")
		w.In(func() {
			w.Line("args: {out: 128, stride: 2}")
			w.Line("layers:")
			w.In(func() {
				w.Line("- residual:")
				w.In(func() { w.In(func() { body(true) }) })
				w.In(func() {
					w.Line("shortcut:")
					w.In(func() {
						w.Line("- conv2d: {out: $out, kernel: 1, stride: $stride, bias: false}")
						w.Line("- batchnorm2d")
					})
				})
				w.Line("- relu")
			})
		})
		w.Line("stage:                      # a projecting block, then `rest` identity ones")
		w.In(func() {
			w.Line("args: {out: 128, stride: 2, rest: 3}")
			w.Line("layers:")
			w.In(func() {
				w.Line("- basic_down: {out: $out, stride: $stride}")
				w.Line("- repeat: $rest")
				w.Line("  layers: [basic: {out: $out}]")
			})
		})
		return
	}
	body := func(stride bool) {
		w.Line("- conv2d: {out: $width, kernel: 1, bias: false}")
		w.Line("- batchnorm2d")
		w.Line("- relu")
		w.Line("%s", conv3(stride))
		w.Line("- batchnorm2d")
		w.Line("- relu")
		w.Line("- conv2d: {out: $out, kernel: 1, bias: false}")
		w.Line("- batchnorm2d")
	}
	w.Line("bottleneck:                 # Bottleneck, identity shortcut")
	w.In(func() {
		w.Line("args: {width: %d, out: 256%s}", b.width(64), dil)
		w.Line("layers:")
		w.In(func() {
			w.Line("- residual:")
			w.In(func() { w.In(func() { body(false) }) })
			w.Line("- relu")
		})
	})
	w.Line("bottleneck_down:            # Bottleneck, projection shortcut (downsample)")
	w.In(func() {
		w.Line("args: {width: %d, out: 256, stride: 1%s}", b.width(64), dil)
		w.Line("layers:")
		w.In(func() {
			w.Line("- residual:")
			w.In(func() { w.In(func() { body(true) }) })
			w.In(func() {
				w.Line("shortcut:")
				w.In(func() {
					w.Line("- conv2d: {out: $out, kernel: 1, stride: $stride, bias: false}")
					w.Line("- batchnorm2d")
				})
			})
			w.Line("- relu")
		})
	})
	if dilated {
		w.Line("stage:                      # a projecting bottleneck at the previous dilation, then `rest` at `dilation`")
		w.In(func() {
			w.Line("args: {width: %d, out: 256, stride: 1, first_dilation: 1, dilation: 1, rest: 2}", b.width(64))
			w.Line("layers:")
			w.In(func() {
				w.Line("- bottleneck_down: {width: $width, out: $out, stride: $stride, dilation: $first_dilation}")
				w.Line("- repeat: $rest")
				w.Line("  layers: [bottleneck: {width: $width, out: $out, dilation: $dilation}]")
			})
		})
		return
	}
	w.Line("stage:                      # a projecting bottleneck, then `rest` identity ones")
	w.In(func() {
		w.Line("args: {width: %d, out: 256, stride: 1, rest: 2}", b.width(64))
		w.Line("layers:")
		w.In(func() {
			w.Line("- bottleneck_down: {width: $width, out: $out, stride: $stride}")
			w.Line("- repeat: $rest")
			w.Line("  layers: [bottleneck: {width: $width, out: $out}]")
		})
	})
}

// writeBackbone writes the stem and layer1..layer4 for a square input of
// side size. dilated: torchvision's replace_stride_with_dilation=[False,
// True, True] (layer3 and layer4 keep stride 1 and dilate their 3x3 convs
// by 2 and 4; each stage's first block keeps the previous dilation).
func (b resnetBuilder) writeBackbone(w *Writer, size int, dilated bool) {
	w.Line("# stem: conv1, bn1, relu, maxpool")
	w.Line("- conv2d: {out: 64, kernel: 7, stride: 2, padding: 3, bias: false}")
	w.Line("- batchnorm2d")
	w.Line("- relu")
	size = (size-1)/2 + 1 // 7x7/2, padding 3
	size = (size-1)/2 + 1 // 3x3/2, padding 1
	w.Line("- maxpool2d: {kernel: 3, stride: 2, padding: 1}")
	w.Line("  expect: %s", Ints(64, size, size))
	dilation := 1
	for i, n := range b.layers {
		planes := 64 << i
		stride := 1
		if i > 0 {
			stride = 2
		}
		first := dilation
		if dilated && i >= 2 {
			dilation *= stride
			stride = 1
		}
		size = (size-1)/stride + 1
		if b.basic {
			if i == 0 {
				w.Line("- repeat: %d", n)
				w.Line("  layers: [basic: {out: 64}]")
			} else {
				w.Line("- stage: {out: %d, stride: %d, rest: %d}", planes, stride, n-1)
			}
			w.Line("  name: layer%d", i+1)
			w.Line("  expect: %s", Ints(planes, size, size))
			continue
		}
		if dilated {
			w.Line("- stage: {width: %d, out: %d, stride: %d, first_dilation: %d, dilation: %d, rest: %d}",
				b.width(planes), planes*4, stride, first, dilation, n-1)
		} else {
			w.Line("- stage: {width: %d, out: %d, stride: %d, rest: %d}", b.width(planes), planes*4, stride, n-1)
		}
		w.Line("  name: layer%d", i+1)
		w.Line("  expect: %s", Ints(planes*4, size, size))
	}
}

// joinInts writes 3, 4, 6 and 3.
func joinInts(v []int) string {
	s := ""
	for i, x := range v {
		switch {
		case i == 0:
		case i == len(v)-1:
			s += " and "
		default:
			s += ", "
		}
		s += fmt.Sprint(x)
	}
	return s
}
