package zoogen

import "fmt"

// MobileNetV3 (torchvision.models.mobilenetv3): inverted residuals with
// hardswish or ReLU, squeeze-excitation gated by a hardsigmoid, BatchNorm
// with eps 0.001. The segmentation models (segmentation_mobilenet.go) reuse
// the blocks and the feature extractor with the dilated tail.

// mbv3Conf is torchvision's InvertedResidualConfig (width_mult 1.0).
type mbv3Conf struct {
	in, kernel, exp, out int
	se                   bool
	act                  string // relu ("RE") or hardswish ("HS")
	stride, dilation     int
}

// mbv3Adjust is InvertedResidualConfig.adjust_channels at width_mult 1.0.
func mbv3Adjust(c int) int { return makeDivisible(float64(c)*1.0, 8, 0) }

// mbv3Settings is torchvision's _mobilenet_v3_conf(arch, dilated=...)
// (reduced_tail false): the inverted residual settings and last_channel.
func mbv3Settings(arch string, dilated bool) ([]mbv3Conf, int) {
	d := 1
	if dilated {
		d = 2
	}
	b := func(in, k, exp, out int, se bool, act string, stride, dil int) mbv3Conf {
		a := map[string]string{"RE": "relu", "HS": "hardswish"}[act]
		return mbv3Conf{mbv3Adjust(in), k, mbv3Adjust(exp), mbv3Adjust(out), se, a, stride, dil}
	}
	switch arch {
	case "mobilenet_v3_large":
		return []mbv3Conf{
			b(16, 3, 16, 16, false, "RE", 1, 1),
			b(16, 3, 64, 24, false, "RE", 2, 1), // C1
			b(24, 3, 72, 24, false, "RE", 1, 1),
			b(24, 5, 72, 40, true, "RE", 2, 1), // C2
			b(40, 5, 120, 40, true, "RE", 1, 1),
			b(40, 5, 120, 40, true, "RE", 1, 1),
			b(40, 3, 240, 80, false, "HS", 2, 1), // C3
			b(80, 3, 200, 80, false, "HS", 1, 1),
			b(80, 3, 184, 80, false, "HS", 1, 1),
			b(80, 3, 184, 80, false, "HS", 1, 1),
			b(80, 3, 480, 112, true, "HS", 1, 1),
			b(112, 3, 672, 112, true, "HS", 1, 1),
			b(112, 5, 672, 160, true, "HS", 2, d), // C4
			b(160, 5, 960, 160, true, "HS", 1, d),
			b(160, 5, 960, 160, true, "HS", 1, d),
		}, mbv3Adjust(1280)
	case "mobilenet_v3_small":
		return []mbv3Conf{
			b(16, 3, 16, 16, true, "RE", 2, 1),  // C1
			b(16, 3, 72, 24, false, "RE", 2, 1), // C2
			b(24, 3, 88, 24, false, "RE", 1, 1),
			b(24, 5, 96, 40, true, "HS", 2, 1), // C3
			b(40, 5, 240, 40, true, "HS", 1, 1),
			b(40, 5, 240, 40, true, "HS", 1, 1),
			b(40, 5, 120, 48, true, "HS", 1, 1),
			b(48, 5, 144, 48, true, "HS", 1, 1),
			b(48, 5, 288, 96, true, "HS", 2, d), // C4
			b(96, 5, 576, 96, true, "HS", 1, d),
			b(96, 5, 576, 96, true, "HS", 1, d),
		}, mbv3Adjust(1024)
	}
	panic("mobilenetv3: unknown arch " + arch)
}

// mbv3Blocks writes the blocks the settings use: Conv2dNormActivation with
// and without activation, SqueezeExcitation, and the inverted residual
// with and without it.
func mbv3Blocks(w *Writer, confs []mbv3Conf) {
	var se, plain, withSE bool
	for _, c := range confs {
		se = se || c.se
		if c.exp != c.in {
			plain = plain || !c.se
			withSE = withSE || c.se
		}
	}
	w.Line("conv_bn_act:                 # Conv2dNormActivation: conv (no bias), BatchNorm2d(eps=0.001), activation")
	w.In(func() {
		w.Line("args: {out: 16, kernel: 1, stride: 1, padding: 0, dilation: 1, groups: 1, act: hardswish}")
		w.Line("layers:")
		w.In(func() {
			w.Line("- conv2d: {out: $out, kernel: $kernel, stride: $stride, padding: $padding, dilation: $dilation, groups: $groups, bias: false}")
			w.Line("- batchnorm2d: {eps: 0.001}")
			w.Line("- $act")
		})
	})
	w.Line("conv_bn:                     # the 1x1 linear projection: Conv2dNormActivation(activation_layer=None)")
	w.In(func() {
		w.Line("args: {out: 16}")
		w.Line("layers:")
		w.In(func() {
			w.Line("- conv2d: {out: $out, kernel: 1, bias: false}")
			w.Line("- batchnorm2d: {eps: 0.001}")
		})
	})
	if se {
		w.Line("se:                          # SqueezeExcitation(scale_activation=Hardsigmoid): x * hardsigmoid(fc2(relu(fc1(avgpool(x)))))")
		w.In(func() {
			w.Line("args: {c: 72, squeeze: 24}")
			w.Line("layers:")
			w.In(func() {
				w.Line("- gate:")
				w.In(func() {
					w.Line("  - adaptiveavgpool2d: 1")
					w.Line("  - conv2d: {out: $squeeze, kernel: 1}   # fc1")
					w.Line("  - relu")
					w.Line("  - conv2d: {out: $c, kernel: 1}         # fc2")
					w.Line("  - hardsigmoid")
				})
			})
		})
	}
	dw := "- conv_bn_act: {out: $exp, kernel: $kernel, stride: $stride, padding: $padding, dilation: $dilation, groups: $exp, act: $act}"
	if plain {
		w.Line("bneck:                       # InvertedResidual: 1x1 expand, depthwise kxk, 1x1 linear projection")
		w.In(func() {
			w.Line("args: {exp: 64, out: 24, kernel: 3, stride: 1, padding: 1, dilation: 1, act: relu}")
			w.Line("layers:")
			w.In(func() {
				w.Line("- conv_bn_act: {out: $exp, act: $act}")
				w.Line("%s", dw)
				w.Line("- conv_bn: {out: $out}")
			})
		})
	}
	if withSE {
		w.Line("bneck_se:                    # the same with squeeze-excitation after the depthwise conv")
		w.In(func() {
			w.Line("args: {exp: 72, out: 40, kernel: 5, stride: 1, padding: 2, dilation: 1, squeeze: 24, act: relu}")
			w.Line("layers:")
			w.In(func() {
				w.Line("- conv_bn_act: {out: $exp, act: $act}")
				w.Line("%s", dw)
				w.Line("- se: {c: $exp, squeeze: $squeeze}")
				w.Line("- conv_bn: {out: $out}")
			})
		})
	}
}

// mbv3Features writes torchvision's MobileNetV3.features for an h x h
// input: the stem (features.0), one item per inverted residual
// (features.1 ...) and the last 1x1 conv; names maps a features index to
// an item name. It returns the output's channels and the spatial size after
// each features index.
func mbv3Features(w *Writer, confs []mbv3Conf, h int, names map[int]string) (int, []int) {
	nameLine := func(i int) {
		if n, ok := names[i]; ok {
			w.Line("  name: %s", n)
		}
	}
	h = mobileConvOut(h, 3, 2, 1, 1)
	w.Line("- conv_bn_act: {out: %d, kernel: 3, stride: 2, padding: 1}   # features.0", confs[0].in)
	nameLine(0)
	w.Line("  expect: %s", Ints(confs[0].in, h, h))
	sizes := []int{h}
	cn := 0 // torchvision's C1, C2, ...: the blocks with (nominal) stride 2
	for i, c := range confs {
		idx := i + 1
		stride := c.stride
		if c.dilation > 1 {
			stride = 1 // torchvision: the depthwise conv keeps stride 1 where it dilates
		}
		pad := (c.kernel - 1) / 2 * c.dilation
		h = mobileConvOut(h, c.kernel, stride, pad, c.dilation)
		geom := fmt.Sprintf("kernel: %d", c.kernel)
		if stride != 1 {
			geom += fmt.Sprintf(", stride: %d", stride)
		}
		geom += fmt.Sprintf(", padding: %d", pad)
		if c.dilation != 1 {
			geom += fmt.Sprintf(", dilation: %d", c.dilation)
		}
		squeeze := makeDivisible(float64(c.exp/4), 8, 0)
		res := c.stride == 1 && c.in == c.out
		note := fmt.Sprintf("features.%d", idx)
		if c.stride == 2 {
			cn++
			note += fmt.Sprintf(", C%d", cn)
		}
		if c.stride == 2 && stride == 1 {
			note += ": stride 2 traded for dilation"
		}
		var body []string
		if c.exp == c.in {
			// No expansion conv when the expanded width is the input width.
			body = append(body, fmt.Sprintf("conv_bn_act: {out: %d, %s, groups: %d, act: %s}", c.exp, geom, c.exp, c.act))
			if c.se {
				body = append(body, fmt.Sprintf("se: {c: %d, squeeze: %d}", c.exp, squeeze))
			}
			body = append(body, fmt.Sprintf("conv_bn: {out: %d}", c.out))
			note += ", no expansion"
		} else if c.se {
			body = append(body, fmt.Sprintf("bneck_se: {exp: %d, out: %d, %s, squeeze: %d, act: %s}", c.exp, c.out, geom, squeeze, c.act))
		} else {
			body = append(body, fmt.Sprintf("bneck: {exp: %d, out: %d, %s, act: %s}", c.exp, c.out, geom, c.act))
		}
		switch {
		case res && len(body) == 1:
			w.Line("- residual: [%s]   # %s", body[0], note)
		case res:
			w.Line("- residual:   # %s", note)
			w.In(func() {
				for _, b := range body {
					w.Line("  - %s", b)
				}
			})
		case len(body) == 1:
			w.Line("- %s   # %s", body[0], note)
		default:
			w.Line("# %s", note)
			for _, b := range body {
				w.Line("- %s", b)
			}
		}
		sizes = append(sizes, h)
		nameLine(idx)
		if i == len(confs)-1 || confs[i+1].stride == 2 {
			w.Line("  expect: %s", Ints(c.out, h, h))
		}
	}
	last := 6 * confs[len(confs)-1].out
	w.Line("- conv_bn_act: {out: %d}   # features.%d", last, len(confs)+1)
	nameLine(len(confs) + 1)
	return last, append(sizes, h)
}

type mbv3Builder struct {
	name  string
	truth tvTruth
}

func (b mbv3Builder) spec() string {
	confs, lastChannel := mbv3Settings(b.name, false)
	var w Writer
	w.Line("# torchvision.models.%s(weights=None), eval mode (torchvision 0.14): inverted", b.name)
	w.Line("# residuals with ReLU or hardswish, squeeze-excitation gated by a hardsigmoid")
	w.Line("# (squeeze width _make_divisible(expanded // 4, 8)), the identity skip where the")
	w.Line("# stride is 1 and the width is unchanged. BatchNorm momentum (training only) is")
	w.Line("# not written.")
	w.Line("name: %s", b.name)
	w.Line("input: [3, 224, 224]")
	w.Line("batch: 1")
	w.Line("blocks:")
	w.In(func() { mbv3Blocks(&w, confs) })
	w.Line("layers:")
	w.In(func() {
		c, _ := mbv3Features(&w, confs, 224, map[int]string{len(confs) + 1: "features"})
		w.Line("- adaptiveavgpool2d: 1")
		w.Line("  name: avgpool")
		w.Line("- flatten")
		w.Line("- linear: %d   # classifier: %d -> %d", lastChannel, c, lastChannel)
		w.Line("- hardswish")
		w.Line("- dropout: 0.2")
		w.Line("- linear: 1000")
		w.Line("  name: classifier")
	})
	b.truth.write(&w)
	return w.String()
}

func init() {
	for _, b := range []mbv3Builder{
		{"mobilenet_v3_small", tvTruth{[]int{1000}, 2542856, 12112, 56510400}},
		{"mobilenet_v3_large", tvTruth{[]int{1000}, 5483032, 24400, 216589760}},
	} {
		register(Builder{Name: b.name, Family: "MobileNetV3", Spec: b.spec})
	}
}
