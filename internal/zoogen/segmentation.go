package zoogen

import "fmt"

// Segmentation: torchvision.models.segmentation.fcn_resnet50/101 and
// deeplabv3_resnet50/101 (aux_loss=False, num_classes 21, weights=None),
// on the 520x520 input of their transforms. The backbone is torchvision's
// ResNet with replace_stride_with_dilation=[False, True, True] up to layer4
// (IntermediateLayerGetter drops avgpool and fc): output stride 8, layer3's
// and layer4's 3x3 convs dilated by 2 and 4 (each stage's first block at the
// previous dilation). The head (FCNHead or DeepLabHead with ASPP) gives 21
// maps, which F.interpolate(size=input.shape[-2:], mode="bilinear",
// align_corners=False) brings back to the input size.

type segBuilder struct {
	name     string
	deeplab  bool
	backbone resnetBuilder
	truth    tvTruth
}

func init() {
	r50 := resnetBuilder{name: "resnet50", layers: [4]int{3, 4, 6, 3}, groups: 1, perWide: 64}
	r101 := resnetBuilder{name: "resnet101", layers: [4]int{3, 4, 23, 3}, groups: 1, perWide: 64}
	t := func(p, bu, m int64) tvTruth { return tvTruth{[]int{21, 520, 520}, p, bu, m} }
	for _, b := range []segBuilder{
		{"fcn_resnet50", false, r50, t(32957013, 54144, 142725772800)},
		{"fcn_resnet101", false, r101, t(51949141, 106368, 222746867200)},
		{"deeplabv3_resnet50", true, r50, t(39638869, 56704, 168731205888)},
		{"deeplabv3_resnet101", true, r101, t(58630997, 108928, 248752300288)},
	} {
		register(Builder{Name: b.name, Family: "Segmentation", Spec: b.spec})
	}
}

func (b segBuilder) spec() string {
	var w Writer
	head := "FCN with FCNHead(2048, 21)"
	if b.deeplab {
		head = "DeepLabV3 with DeepLabHead(2048, 21) (ASPP, rates 12, 24, 36)"
	}
	tvHead(&w, []string{
		fmt.Sprintf("torchvision.models.segmentation.%s(aux_loss=False):", b.name),
		fmt.Sprintf("%s on a dilated %s backbone", head, b.backbone.name),
		"(replace_stride_with_dilation=[False, True, True], output stride 8, up to layer4);",
		"the 21 class maps are upsampled bilinearly to the input size. Input 520x520, the",
		"resize_size of the weights' transforms.",
	}, b.name, 3, 520, 520)
	w.Line("blocks:")
	w.In(func() {
		b.backbone.writeBlocks(&w, true)
		if !b.deeplab {
			return
		}
		w.Line("aspp_conv:                  # ASPPConv: a dilated 3x3 conv")
		w.In(func() {
			w.Line("args: {rate: 12}")
			w.Line("layers:")
			w.In(func() {
				w.Line("- conv2d: {out: 256, kernel: 3, padding: $rate, dilation: $rate, bias: false}")
				w.Line("- batchnorm2d")
				w.Line("- relu")
			})
		})
		w.Line("aspp:                       # ASPP(2048, [12, 24, 36]): five branches concatenated, then project")
		w.In(func() {
			w.Line("args: {features: layer4}    # the name of the ASPP's input, whose size the pooling branch restores")
			w.Line("layers:")
			w.In(func() {
				w.Line("- concat:")
				w.In(func() {
					w.In(func() {
						w.Line("- - conv2d: {out: 256, kernel: 1, bias: false}")
						w.Line("  - batchnorm2d")
						w.Line("  - relu")
						w.Line("- [aspp_conv: {rate: 12}]")
						w.Line("- [aspp_conv: {rate: 24}]")
						w.Line("- [aspp_conv: {rate: 36}]")
						w.Line("- - adaptiveavgpool2d: 1     # ASPPPooling")
						w.Line("  - conv2d: {out: 256, kernel: 1, bias: false}")
						w.Line("  - batchnorm2d")
						w.Line("  - relu")
						w.Line("  - upsample: {size_of: $features, mode: bilinear, align_corners: false}")
					})
				})
				w.Line("- conv2d: {out: 256, kernel: 1, bias: false}   # project")
				w.Line("- batchnorm2d")
				w.Line("- relu")
				w.Line("- dropout: 0.5")
			})
		})
	})
	w.Line("layers:")
	w.In(func() {
		w.Line("# backbone")
		b.backbone.writeBackbone(&w, 520, true)
		if b.deeplab {
			w.Line("# classifier: DeepLabHead")
			w.Line("- aspp: {features: layer4}")
			w.Line("  expect: [256, 65, 65]")
			w.Line("- conv2d: {out: 256, kernel: 3, padding: 1, bias: false}")
			w.Line("- batchnorm2d")
			w.Line("- relu")
			w.Line("- conv2d: {out: 21, kernel: 1}")
		} else {
			w.Line("# classifier: FCNHead (inter_channels 2048 / 4)")
			w.Line("- conv2d: {out: 512, kernel: 3, padding: 1, bias: false}")
			w.Line("- batchnorm2d")
			w.Line("- relu")
			w.Line("- dropout: 0.1")
			w.Line("- conv2d: {out: 21, kernel: 1}")
		}
		w.Line("  expect: [21, 65, 65]")
		w.Line("# F.interpolate(x, size=input_shape, mode=\"bilinear\", align_corners=False)")
		w.Line("- upsample: {size_of: input, mode: bilinear, align_corners: false}")
	})
	b.truth.write(&w)
	return w.String()
}
