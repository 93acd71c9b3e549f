package zoogen

// The segmentation models on MobileNetV3-Large
// (torchvision.models.segmentation): the backbone is
// mobilenet_v3_large(dilated=True).features, whose C4 blocks keep stride 1
// and dilate their depthwise convs by 2 (output stride 16).

type mbv3SegBuilder struct {
	name  string
	truth tvTruth
}

func (b mbv3SegBuilder) spec() string {
	const size = 520
	confs, _ := mbv3Settings("mobilenet_v3_large", true)
	last := len(confs) + 1 // features index of the last conv (C5)
	var w Writer
	deeplab := b.name == "deeplabv3_mobilenet_v3_large"
	if deeplab {
		w.Line("# torchvision.models.segmentation.deeplabv3_mobilenet_v3_large(weights=None,")
		w.Line("# weights_backbone=None, aux_loss=None), eval mode (torchvision 0.14), 21 classes,")
		w.Line("# at the DEFAULT weights' resize size 520 (square). The backbone is")
		w.Line("# mobilenet_v3_large(dilated=True).features up to features.%d (backbone \"out\");", last)
		w.Line("# DeepLabHead(960): ASPP with rates 12, 24, 36 and image pooling, then a 3x3 conv")
		w.Line("# and the 1x1 classifier; the logits are upsampled to the input size. No aux")
		w.Line("# classifier. BatchNorm momentum (training only) is not written.")
	} else {
		w.Line("# torchvision.models.segmentation.lraspp_mobilenet_v3_large(weights=None,")
		w.Line("# weights_backbone=None), eval mode (torchvision 0.14), 21 classes, at the DEFAULT")
		w.Line("# weights' resize size 520 (square). The backbone is")
		w.Line("# mobilenet_v3_large(dilated=True).features, returning features.4 (\"low\", C2,")
		w.Line("# output stride 8) and features.%d (\"high\", output stride 16). LRASPPHead:", last)
		w.Line("# x = cbr(high) * scale(high), upsampled to low's size; low_classifier(low) +")
		w.Line("# high_classifier(x), upsampled to the input size. BatchNorm momentum (training")
		w.Line("# only) is not written.")
	}
	w.Line("name: %s", b.name)
	w.Line("input: %s", Ints(3, size, size))
	w.Line("batch: 1")
	w.Line("blocks:")
	w.In(func() {
		mbv3Blocks(&w, confs)
		if deeplab {
			w.Line("aspp_conv:                   # ASPPConv: dilated 3x3 conv, BatchNorm2d, ReLU")
			w.In(func() {
				w.Line("args: {rate: 12}")
				w.Line("layers:")
				w.In(func() {
					w.Line("- conv2d: {out: 256, kernel: 3, padding: $rate, dilation: $rate, bias: false}")
					w.Line("- batchnorm2d")
					w.Line("- relu")
				})
			})
		}
	})
	w.Line("layers:")
	w.In(func() {
		names := map[int]string{last: "backbone"}
		if !deeplab {
			names = map[int]string{4: "low", last: "high"}
		}
		c, sizes := mbv3Features(&w, confs, size, names)
		h := sizes[last]
		w.Line("  expect: %s", Ints(c, h, h))
		if deeplab {
			w.Line("# classifier.0: ASPP(960, [12, 24, 36])")
			w.Line("- concat:")
			w.In(func() {
				w.Line("  - - conv2d: {out: 256, kernel: 1, bias: false}")
				w.Line("    - batchnorm2d")
				w.Line("    - relu")
				for _, r := range []int{12, 24, 36} {
					w.Line("  - [aspp_conv: {rate: %d}]", r)
				}
				w.Line("  - - adaptiveavgpool2d: 1      # ASPPPooling")
				w.Line("    - conv2d: {out: 256, kernel: 1, bias: false}")
				w.Line("    - batchnorm2d")
				w.Line("    - relu")
				w.Line("    - upsample: {size_of: backbone, mode: bilinear, align_corners: false}")
			})
			w.Line("  expect: %s", Ints(5*256, h, h))
			w.Line("- conv2d: {out: 256, kernel: 1, bias: false}   # ASPP.project")
			w.Line("- batchnorm2d")
			w.Line("- relu")
			w.Line("- dropout: 0.5")
			w.Line("- conv2d: {out: 256, kernel: 3, padding: 1, bias: false}   # classifier.1-3")
			w.Line("- batchnorm2d")
			w.Line("- relu")
			w.Line("- conv2d: {out: 21, kernel: 1}   # classifier.4")
			w.Line("  name: classifier")
			w.Line("- upsample: {size_of: input, mode: bilinear, align_corners: false}")
			w.Line("  name: out")
		} else {
			w.Line("# classifier: LRASPPHead(40, 960, 21, inter_channels=128)")
			w.Line("- conv2d: {out: 128, kernel: 1, bias: false}   # cbr")
			w.Line("- batchnorm2d")
			w.Line("- relu:")
			w.Line("  name: cbr")
			w.Line("- adaptiveavgpool2d: 1   # scale")
			w.Line("  from: high")
			w.Line("- conv2d: {out: 128, kernel: 1, bias: false}")
			w.Line("- sigmoid:")
			w.Line("  name: scale")
			w.Line("- mul:")
			w.Line("  from: [cbr, scale]")
			w.Line("  name: x")
			w.Line("- upsample: {size_of: low, mode: bilinear, align_corners: false}")
			w.Line("  name: x_up")
			w.Line("  expect: [128, %d, %d]", sizes[4], sizes[4])
			w.Line("- conv2d: {out: 21, kernel: 1}")
			w.Line("  from: low")
			w.Line("  name: low_classifier")
			w.Line("- conv2d: {out: 21, kernel: 1}")
			w.Line("  from: x_up")
			w.Line("  name: high_classifier")
			w.Line("- add:")
			w.Line("  from: [low_classifier, high_classifier]")
			w.Line("  name: logits")
			w.Line("- upsample: {size_of: input, mode: bilinear, align_corners: false}")
			w.Line("  name: out")
		}
	})
	b.truth.write(&w)
	return w.String()
}

func init() {
	for _, b := range []mbv3SegBuilder{
		{"deeplabv3_mobilenet_v3_large", tvTruth{[]int{21, 520, 520}, 11025477, 27984, 10436350688}},
		{"lraspp_mobilenet_v3_large", tvTruth{[]int{21, 520, 520}, 3221538, 24656, 2086219688}},
	} {
		register(Builder{Name: b.name, Family: "Segmentation", Spec: b.spec})
	}
}
