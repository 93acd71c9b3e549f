package zoogen

import (
	"fmt"
	"strings"
)

// Video: torchvision.models.video. VideoResNet (r3d_18, mc3_18,
// r2plus1d_18) is a stem, four layers of two BasicBlocks each (planes 64,
// 128, 256, 512; layers 2-4 open with a strided block whose shortcut is a
// 1x1x1 conv + BN) and avgpool + fc to 400 Kinetics classes; the builders
// differ in the stem and in each layer's conv builder. S3D is a separable
// Inception network (see s3dSpec).

// videoConv is one of VideoResNet's conv builders.
type videoConv struct {
	class string // torchvision's class
	block string // the spec's block writing it
	// dsTemporal: get_downsample_stride strides time too.
	dsTemporal bool
}

var (
	conv3dSimple     = videoConv{"Conv3DSimple", "conv3d_simple", true}
	conv3dNoTemporal = videoConv{"Conv3DNoTemporal", "conv3d_no_temporal", false}
	conv2Plus1D      = videoConv{"Conv2Plus1D", "conv2plus1d", true}
)

type videoResNetConfig struct {
	name  string
	stem  string        // "BasicStem" or "R2Plus1dStem"
	convs [4]*videoConv // conv_makers, one per layer
	// torchvision's measurement of the model (testdata/torch/torchvision.json).
	params, buffers, macs int64
}

var videoResNetConfigs = []videoResNetConfig{
	{"r3d_18", "BasicStem", [4]*videoConv{&conv3dSimple, &conv3dSimple, &conv3dSimple, &conv3dSimple}, 33371472, 9600, 40696553472},
	{"mc3_18", "BasicStem", [4]*videoConv{&conv3dSimple, &conv3dNoTemporal, &conv3dNoTemporal, &conv3dNoTemporal}, 11695440, 9600, 43342635008},
	{"r2plus1d_18", "R2Plus1dStem", [4]*videoConv{&conv2Plus1D, &conv2Plus1D, &conv2Plus1D, &conv2Plus1D}, 31505325, 25350, 40519080960},
}

// s3d's measurement.
const (
	s3dParams  = 8320048
	s3dBuffers = 21216
	s3dMACs    = 17978771456
)

func init() {
	for _, c := range videoResNetConfigs {
		register(Builder{Name: c.name, Family: "Video", Spec: func() string { return videoResNetSpec(c) }})
	}
	register(Builder{Name: "s3d", Family: "Video", Spec: s3dSpec})
}

// videoMidplanes is BasicBlock's midplanes, (inplanes * planes * 3 * 3 * 3)
// // (inplanes * 3 * 3 + 3 * planes): the width of Conv2Plus1D's spatial conv
// that gives it the parameters of a full 3x3x3 conv.
func videoMidplanes(inplanes, planes int) int {
	return inplanes * planes * 27 / (inplanes*9 + 3*planes)
}

// writeBlock writes the block of conv builder v: args out (and mid for
// Conv2Plus1D) and stride.
func (v *videoConv) writeBlock(w *Writer) {
	switch v {
	case &conv3dSimple:
		w.Line("conv3d_simple:          # Conv3DSimple: 3x3x3, stride in time and space")
		w.In(func() {
			w.Line("args: {out: 64, stride: 1}")
			w.Line("layers:")
			w.In(func() { w.Line("- conv3d: {out: $out, kernel: 3, stride: $stride, padding: 1, bias: false}") })
		})
	case &conv3dNoTemporal:
		w.Line("conv3d_no_temporal:     # Conv3DNoTemporal: 1x3x3, stride in space only")
		w.In(func() {
			w.Line("args: {out: 128, stride: 1}")
			w.Line("layers:")
			w.In(func() {
				w.Line("- conv3d: {out: $out, kernel: [1, 3, 3], stride: [1, $stride, $stride], padding: [0, 1, 1], bias: false}")
			})
		})
	case &conv2Plus1D:
		w.Line("conv2plus1d:            # Conv2Plus1D: 1x3x3 spatial conv to mid, BN, ReLU, 3x1x1 temporal conv")
		w.In(func() {
			w.Line("args: {out: 64, mid: 144, stride: 1}")
			w.Line("layers:")
			w.In(func() {
				w.Line("- conv3d: {out: $mid, kernel: [1, 3, 3], stride: [1, $stride, $stride], padding: [0, 1, 1], bias: false}")
				w.Line("- batchnorm3d")
				w.Line("- relu")
				w.Line("- conv3d: {out: $out, kernel: [3, 1, 1], stride: [$stride, 1, 1], padding: [1, 0, 0], bias: false}")
			})
		})
	}
}

// use is how a block calls the conv builder.
func (v *videoConv) use(out string, stride int) string {
	s := ""
	if stride != 1 {
		s = fmt.Sprintf(", stride: %d", stride)
	}
	if v == &conv2Plus1D {
		return fmt.Sprintf("%s: {out: %s, mid: $mid%s}", v.block, out, s)
	}
	return fmt.Sprintf("%s: {out: %s%s}", v.block, out, s)
}

func (v *videoConv) midArg(mid int) string {
	if v == &conv2Plus1D {
		return fmt.Sprintf(", mid: %d", mid)
	}
	return ""
}

// writeBasicBlocks writes BasicBlock with conv builder v, the identity one
// (basicblock_K) and, when down, the strided one with its projection
// (basicblock_K_down) and the layer of the two (layer_K); their defaults
// are the first layer that uses v, of planes.
func (v *videoConv) writeBasicBlocks(w *Writer, planes int, down bool) {
	name := "basicblock_" + v.block
	w.Line("%s:  # BasicBlock with %s: relu(x + conv2(conv1(x)))", name, v.class)
	w.In(func() {
		w.Line("args: {planes: %d%s}", planes, v.midArg(videoMidplanes(planes, planes)))
		w.Line("layers:")
		w.In(func() {
			w.Line("- residual:")
			w.In(func() {
				w.In(func() {
					w.Line("- %s", v.use("$planes", 1))
					w.Line("- batchnorm3d")
					w.Line("- relu")
					w.Line("- %s", v.use("$planes", 1))
					w.Line("- batchnorm3d")
				})
			})
			w.Line("- relu")
		})
	})
	if !down {
		return
	}
	ds := "[1, 2, 2]"
	if v.dsTemporal {
		ds = "2"
	}
	planes = max(planes, 128) // the first strided layer is layer2
	w.Line("%s_down:  # the strided first block of a layer, downsample = 1x1x1 conv stride %s + BN", name, ds)
	w.In(func() {
		w.Line("args: {planes: %d%s}", planes, v.midArg(videoMidplanes(planes/2, planes)))
		w.Line("layers:")
		w.In(func() {
			w.Line("- residual:")
			w.In(func() {
				w.In(func() {
					w.Line("- %s", v.use("$planes", 2))
					w.Line("- batchnorm3d")
					w.Line("- relu")
					w.Line("- %s", v.use("$planes", 1))
					w.Line("- batchnorm3d")
				})
				w.Line("shortcut:")
				w.In(func() {
					w.Line("- conv3d: {out: $planes, kernel: 1, stride: %s, bias: false}", ds)
					w.Line("- batchnorm3d")
				})
			})
			w.Line("- relu")
		})
	})
	w.Line("layer_%s:  # layers 2-4: the strided block, then an identity one", v.block)
	w.In(func() {
		if v == &conv2Plus1D {
			w.Line("args: {planes: %d, mid_first: %d, mid: %d}", planes, videoMidplanes(planes/2, planes), videoMidplanes(planes, planes))
		} else {
			w.Line("args: {planes: %d}", planes)
		}
		w.Line("layers:")
		w.In(func() {
			if v == &conv2Plus1D {
				w.Line("- %s_down: {planes: $planes, mid: $mid_first}", name)
				w.Line("- %s: {planes: $planes, mid: $mid}", name)
			} else {
				w.Line("- %s_down: {planes: $planes}", name)
				w.Line("- %s: {planes: $planes}", name)
			}
		})
	})
}

func videoResNetSpec(c videoResNetConfig) string {
	var w Writer
	var makers []string
	for _, v := range c.convs {
		makers = append(makers, v.class)
	}
	w.Line("# torchvision.models.video.%s(): VideoResNet(BasicBlock,", c.name)
	w.Line("#     [%s], [2, 2, 2, 2], %s),", strings.Join(makers, ", "), c.stem)
	w.Line("# 400 Kinetics classes. BasicBlock's midplanes (the Conv2Plus1D spatial width, unused")
	w.Line("# by the other builders) is inplanes * planes * 27 // (inplanes * 9 + 3 * planes).")
	w.Line("name: %s", c.name)
	w.Line("input: [3, 16, 112, 112]")
	w.Line("blocks:")
	w.In(func() {
		written := map[*videoConv]bool{}
		for i, v := range c.convs {
			if written[v] {
				continue
			}
			written[v] = true
			v.writeBlock(&w)
			v.writeBasicBlocks(&w, 64<<i, i > 0 || c.convs[1] == v)
		}
	})
	w.Line("layers:")
	w.In(func() {
		if c.stem == "R2Plus1dStem" {
			w.Line("# stem: R2Plus1dStem, a (2+1)D 7x7 conv through 45 channels")
			w.Line("- conv3d: {out: 45, kernel: [1, 7, 7], stride: [1, 2, 2], padding: [0, 3, 3], bias: false}")
			w.Line("- batchnorm3d")
			w.Line("- relu")
			w.Line("- conv3d: {out: 64, kernel: [3, 1, 1], padding: [1, 0, 0], bias: false}")
		} else {
			w.Line("# stem: BasicStem")
			w.Line("- conv3d: {out: 64, kernel: [3, 7, 7], stride: [1, 2, 2], padding: [1, 3, 3], bias: false}")
		}
		w.Line("- batchnorm3d")
		w.Line("- relu:")
		w.In(func() {
			w.Line("name: stem")
			w.Line("expect: [64, 16, 56, 56]")
		})
		t, s := 16, 56
		v := c.convs[0]
		w.Line("- repeat: 2             # inplanes 64 = planes and stride 1: no downsample")
		w.In(func() {
			w.Line("layers:")
			w.In(func() { w.Line("- basicblock_%s: {planes: 64%s}", v.block, v.midArg(videoMidplanes(64, 64))) })
			w.Line("name: layer1")
			w.Line("expect: %s", Ints(64, t, s, s))
		})
		for i := 1; i < 4; i++ {
			v := c.convs[i]
			planes := 64 << i
			if v.dsTemporal {
				t /= 2
			}
			s /= 2
			if v == &conv2Plus1D {
				w.Line("- layer_%s: {planes: %d, mid_first: %d, mid: %d}", v.block, planes, videoMidplanes(planes/2, planes), videoMidplanes(planes, planes))
			} else {
				w.Line("- layer_%s: {planes: %d}", v.block, planes)
			}
			w.In(func() {
				w.Line("name: layer%d", i+1)
				w.Line("expect: %s", Ints(planes, t, s, s))
			})
		}
		w.Line("- adaptiveavgpool3d: 1")
		w.Line("- flatten")
		w.Line("- linear: 400")
		w.In(func() { w.Line("name: fc") })
	})
	tvTruth{[]int{400}, c.params, c.buffers, c.macs}.write(&w)
	return w.String()
}

// s3dInception is a SepInceptionBlock3D's widths after in_planes: b0_out,
// b1_mid, b1_out, b2_mid, b2_out, b3_out.
type s3dInception [6]int

// s3dSpec: torchvision.models.video.s3d(), S3D(num_classes=400,
// dropout=0.2), BatchNorm3d(eps=0.001, momentum=0.001) throughout.
func s3dSpec() string {
	var w Writer
	w.Line("# torchvision.models.video.s3d(): S3D(num_classes=400, dropout=0.2); every norm is")
	w.Line("# BatchNorm3d(eps=0.001, momentum=0.001). Native input 16 frames of 224x224 (at 112x112")
	w.Line("# the final AvgPool3d (2, 7, 7) would not fit the 3x3 map). forward ends in")
	w.Line("# torch.mean(x, dim=(2, 3, 4)), written here as adaptiveavgpool3d 1 + flatten (the same")
	w.Line("# mean at any input size).")
	w.Line("name: s3d")
	w.Line("input: [3, 16, 224, 224]")
	w.Line("blocks:")
	w.In(func() {
		w.Line("conv_bn_relu:           # Conv3dNormActivation (bias false: it has a norm)")
		w.In(func() {
			w.Line("args: {out: 64, kernel: 1, stride: 1, padding: 0}")
			w.Line("layers:")
			w.In(func() {
				w.Line("- conv3d: {out: $out, kernel: $kernel, stride: $stride, padding: $padding, bias: false}")
				w.Line("- batchnorm3d: {eps: 0.001, momentum: 0.001}")
				w.Line("- relu")
			})
		})
		// Written out rather than as two conv_bn_relu uses: a $arg inside a
		// list given to a block use ([1, $k, $k]) is not substituted.
		w.Line("temporal_separable_conv:  # TemporalSeparableConv: two Conv3dNormActivations, k x k in space, then k in time")
		w.In(func() {
			w.Line("args: {out: 64, k: 3, stride: 1, padding: 1}")
			w.Line("layers:")
			w.In(func() {
				w.Line("- conv3d: {out: $out, kernel: [1, $k, $k], stride: [1, $stride, $stride], padding: [0, $padding, $padding], bias: false}")
				w.Line("- batchnorm3d: {eps: 0.001, momentum: 0.001}")
				w.Line("- relu")
				w.Line("- conv3d: {out: $out, kernel: [$k, 1, 1], stride: [$stride, 1, 1], padding: [$padding, 0, 0], bias: false}")
				w.Line("- batchnorm3d: {eps: 0.001, momentum: 0.001}")
				w.Line("- relu")
			})
		})
		w.Line("sep_inception:          # SepInceptionBlock3D: four branches concatenated")
		w.In(func() {
			w.Line("args: {b0: 64, b1_mid: 96, b1: 128, b2_mid: 16, b2: 32, b3: 32}")
			w.Line("layers:")
			w.In(func() {
				w.Line("- concat:")
				w.In(func() {
					w.In(func() {
						w.Line("- - conv_bn_relu: {out: $b0}")
						w.Line("- - conv_bn_relu: {out: $b1_mid}")
						w.Line("  - temporal_separable_conv: {out: $b1}")
						w.Line("- - conv_bn_relu: {out: $b2_mid}")
						w.Line("  - temporal_separable_conv: {out: $b2}")
						w.Line("- - maxpool3d: {kernel: 3, stride: 1, padding: 1}")
						w.Line("  - conv_bn_relu: {out: $b3}")
					})
				})
			})
		})
	})
	inception := func(b s3dInception, expect string) {
		w.Line("- sep_inception: {b0: %d, b1_mid: %d, b1: %d, b2_mid: %d, b2: %d, b3: %d}", b[0], b[1], b[2], b[3], b[4], b[5])
		if expect != "" {
			w.In(func() { w.Line("expect: %s", expect) })
		}
	}
	w.Line("layers:")
	w.In(func() {
		w.Line("# features")
		w.Line("- temporal_separable_conv: {out: 64, k: 7, stride: 2, padding: 3}")
		w.Line("- maxpool3d: {kernel: [1, 3, 3], stride: [1, 2, 2], padding: [0, 1, 1]}")
		w.Line("- conv_bn_relu: {out: 64}")
		w.Line("- temporal_separable_conv: {out: 192, k: 3, stride: 1, padding: 1}")
		w.Line("- maxpool3d: {kernel: [1, 3, 3], stride: [1, 2, 2], padding: [0, 1, 1]}")
		w.In(func() { w.Line("expect: [192, 8, 28, 28]") })
		inception(s3dInception{64, 96, 128, 16, 32, 32}, "")
		inception(s3dInception{128, 128, 192, 32, 96, 64}, "[480, 8, 28, 28]")
		w.Line("- maxpool3d: {kernel: 3, stride: 2, padding: 1}")
		inception(s3dInception{192, 96, 208, 16, 48, 64}, "")
		inception(s3dInception{160, 112, 224, 24, 64, 64}, "")
		inception(s3dInception{128, 128, 256, 24, 64, 64}, "")
		inception(s3dInception{112, 144, 288, 32, 64, 64}, "")
		inception(s3dInception{256, 160, 320, 32, 128, 128}, "[832, 4, 14, 14]")
		w.Line("- maxpool3d: {kernel: 2, stride: 2}")
		inception(s3dInception{256, 160, 320, 32, 128, 128}, "")
		inception(s3dInception{384, 192, 384, 48, 128, 128}, "[1024, 2, 7, 7]")
		w.Line("- avgpool3d: {kernel: [2, 7, 7], stride: 1}")
		w.Line("# classifier")
		w.Line("- dropout: 0.2")
		w.Line("- conv3d: {out: 400, kernel: 1}")
		w.Line("# torch.mean(x, dim=(2, 3, 4))")
		w.Line("- adaptiveavgpool3d: 1")
		w.Line("- flatten")
	})
	tvTruth{[]int{400}, s3dParams, s3dBuffers, s3dMACs}.write(&w)
	return w.String()
}
