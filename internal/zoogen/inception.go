package zoogen

// Inception: torchvision.models.inception_v3(aux_logits=False,
// transform_input=False), the eval forward path (the auxiliary classifier
// runs only in training; googlenet is hand-written in testdata/zoo). Every
// conv is BasicConv2d: conv(bias=False) + BatchNorm(eps=0.001) + ReLU. The
// pooling branches use F.avg_pool2d(3, stride 1, padding 1), which counts
// the padding (count_include_pad), and F.max_pool2d(3, stride 2).

func init() {
	register(Builder{Name: "inception_v3", Family: "Inception", Spec: inceptionV3})
}

func inceptionV3() string {
	var w Writer
	tvHead(&w, []string{
		"torchvision.models.inception_v3(aux_logits=False, transform_input=False): Inception-v3",
		"on its 299x299 input, the eval forward path (AuxLogits runs only in training). Every",
		"conv is BasicConv2d: conv(bias=False) + BatchNorm(eps=0.001) + ReLU; InceptionA..E",
		"are the Mixed_* modules; C and D factorise 7x7 convs into 1x7 and 7x1.",
	}, "inception_v3", 3, 299, 299)
	w.Line("blocks:")
	w.In(func() {
		w.Line("basic_conv:                 # BasicConv2d")
		w.In(func() {
			w.Line("args: {out: 64, kernel: 1, stride: 1, padding: 0}")
			w.Line("layers:")
			w.In(func() {
				w.Line("- conv2d: {out: $out, kernel: $kernel, stride: $stride, padding: $padding, bias: false}")
				w.Line("- batchnorm2d: {eps: 0.001}")
				w.Line("- relu")
			})
		})
		w.Line("avg_branch:                 # F.avg_pool2d(x, 3, stride=1, padding=1), then a 1x1 BasicConv2d")
		w.In(func() {
			w.Line("args: {out: 192}")
			w.Line("layers:")
			w.In(func() {
				w.Line("- avgpool2d: {kernel: 3, stride: 1, padding: 1}")
				w.Line("- basic_conv: {out: $out}")
			})
		})
		concat := func(branches ...[]string) {
			w.Line("- concat:")
			w.In(func() {
				w.In(func() {
					for _, br := range branches {
						for i, l := range br {
							if i == 0 {
								w.Line("- - %s", l)
							} else {
								w.Line("  - %s", l)
							}
						}
					}
				})
			})
		}
		block := func(name, args, comment string, f func()) {
			w.Line("%s:%s# %s", name, pad(name+":", 28), comment)
			w.In(func() {
				if args != "" {
					w.Line("args: %s", args)
				}
				w.Line("layers:")
				w.In(f)
			})
		}
		block("inception_a", "{pool: 32}", "InceptionA: Mixed_5b, 5c, 5d (35x35)", func() {
			concat(
				[]string{"basic_conv: {out: 64}                              # branch1x1"},
				[]string{"basic_conv: {out: 48}                              # branch5x5",
					"basic_conv: {out: 64, kernel: 5, padding: 2}"},
				[]string{"basic_conv: {out: 64}                              # branch3x3dbl",
					"basic_conv: {out: 96, kernel: 3, padding: 1}",
					"basic_conv: {out: 96, kernel: 3, padding: 1}"},
				[]string{"avg_branch: {out: $pool}                           # branch_pool"},
			)
		})
		block("inception_b", "", "InceptionB: Mixed_6a (35x35 to 17x17)", func() {
			concat(
				[]string{"basic_conv: {out: 384, kernel: 3, stride: 2}       # branch3x3"},
				[]string{"basic_conv: {out: 64}                              # branch3x3dbl",
					"basic_conv: {out: 96, kernel: 3, padding: 1}",
					"basic_conv: {out: 96, kernel: 3, stride: 2}"},
				[]string{"maxpool2d: {kernel: 3, stride: 2}"},
			)
		})
		block("inception_c", "{c7: 128}", "InceptionC: Mixed_6b..6e (17x17), channels_7x7 = c7", func() {
			concat(
				[]string{"basic_conv: {out: 192}                             # branch1x1"},
				[]string{"basic_conv: {out: $c7}                             # branch7x7",
					"basic_conv: {out: $c7, kernel: [1, 7], padding: [0, 3]}",
					"basic_conv: {out: 192, kernel: [7, 1], padding: [3, 0]}"},
				[]string{"basic_conv: {out: $c7}                             # branch7x7dbl",
					"basic_conv: {out: $c7, kernel: [7, 1], padding: [3, 0]}",
					"basic_conv: {out: $c7, kernel: [1, 7], padding: [0, 3]}",
					"basic_conv: {out: $c7, kernel: [7, 1], padding: [3, 0]}",
					"basic_conv: {out: 192, kernel: [1, 7], padding: [0, 3]}"},
				[]string{"avg_branch: {out: 192}                             # branch_pool"},
			)
		})
		block("inception_d", "", "InceptionD: Mixed_7a (17x17 to 8x8)", func() {
			concat(
				[]string{"basic_conv: {out: 192}                             # branch3x3",
					"basic_conv: {out: 320, kernel: 3, stride: 2}"},
				[]string{"basic_conv: {out: 192}                             # branch7x7x3",
					"basic_conv: {out: 192, kernel: [1, 7], padding: [0, 3]}",
					"basic_conv: {out: 192, kernel: [7, 1], padding: [3, 0]}",
					"basic_conv: {out: 192, kernel: 3, stride: 2}"},
				[]string{"maxpool2d: {kernel: 3, stride: 2}"},
			)
		})
		block("split_3x3", "{out: 384}", "a 1x3 and a 3x1 BasicConv2d side by side, concatenated", func() {
			concat(
				[]string{"basic_conv: {out: $out, kernel: [1, 3], padding: [0, 1]}"},
				[]string{"basic_conv: {out: $out, kernel: [3, 1], padding: [1, 0]}"},
			)
		})
		block("inception_e", "", "InceptionE: Mixed_7b, 7c (8x8)", func() {
			concat(
				[]string{"basic_conv: {out: 320}                             # branch1x1"},
				[]string{"basic_conv: {out: 384}                             # branch3x3_1",
					"split_3x3: {out: 384}                              # branch3x3_2a, 2b"},
				[]string{"basic_conv: {out: 448}                             # branch3x3dbl_1",
					"basic_conv: {out: 384, kernel: 3, padding: 1}",
					"split_3x3: {out: 384}                              # branch3x3dbl_3a, 3b"},
				[]string{"avg_branch: {out: 192}                             # branch_pool"},
			)
		})
	})
	w.Line("layers:")
	w.In(func() {
		item := func(layer, name string, expect ...int) {
			w.Line("- %s", layer)
			if name != "" {
				w.Line("  name: %s", name)
			}
			if expect != nil {
				w.Line("  expect: %s", Ints(expect...))
			}
		}
		item("basic_conv: {out: 32, kernel: 3, stride: 2}", "Conv2d_1a_3x3", 32, 149, 149)
		item("basic_conv: {out: 32, kernel: 3}", "Conv2d_2a_3x3", 32, 147, 147)
		item("basic_conv: {out: 64, kernel: 3, padding: 1}", "Conv2d_2b_3x3", 64, 147, 147)
		item("maxpool2d: {kernel: 3, stride: 2}", "maxpool1", 64, 73, 73)
		item("basic_conv: {out: 80}", "Conv2d_3b_1x1", 80, 73, 73)
		item("basic_conv: {out: 192, kernel: 3}", "Conv2d_4a_3x3", 192, 71, 71)
		item("maxpool2d: {kernel: 3, stride: 2}", "maxpool2", 192, 35, 35)
		item("inception_a: {pool: 32}", "Mixed_5b", 256, 35, 35)
		item("inception_a: {pool: 64}", "Mixed_5c", 288, 35, 35)
		item("inception_a: {pool: 64}", "Mixed_5d", 288, 35, 35)
		item("inception_b:", "Mixed_6a", 768, 17, 17)
		item("inception_c: {c7: 128}", "Mixed_6b", 768, 17, 17)
		item("inception_c: {c7: 160}", "Mixed_6c", 768, 17, 17)
		item("inception_c: {c7: 160}", "Mixed_6d", 768, 17, 17)
		item("inception_c: {c7: 192}", "Mixed_6e", 768, 17, 17)
		item("inception_d:", "Mixed_7a", 1280, 8, 8)
		item("inception_e:", "Mixed_7b", 2048, 8, 8)
		item("inception_e:", "Mixed_7c", 2048, 8, 8)
		w.Line("# head: avgpool, dropout, flatten, fc")
		item("adaptiveavgpool2d: 1", "")
		item("dropout", "")
		item("flatten", "")
		item("fc: 1000", "")
	})
	tvTruth{[]int{1000}, 23834568, 34432, 5713216096}.write(&w)
	return w.String()
}

// pad is the spaces that bring a line of n characters to column col (at
// least one).
func pad(s string, col int) string {
	n := col - len(s)
	if n < 1 {
		n = 1
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = ' '
	}
	return string(b)
}
