package zoogen

import (
	"fmt"
	"math"
	"strings"
)

// EfficientNet V1 and V2 (torchvision.models.efficientnet): MBConv
// (expand, depthwise, squeeze-excitation with SiLU and sigmoid, project)
// and, in V2, FusedMBConv (one kxk expand conv, project); the skip is
// stochastic_depth(block(x)) + x with torchvision's linearly increasing
// probability 0.2 * block_index / blocks (the identity in eval).

// effStage is torchvision's MBConvConfig / FusedMBConvConfig after the
// width and depth multipliers.
type effStage struct {
	fused           bool
	expand          float64
	kernel, stride  int
	in, out, layers int
}

// effBuilder is one EfficientNet builder's arguments.
type effBuilder struct {
	name         string
	size         int     // DEFAULT weights' transforms().crop_size
	width, depth float64 // V1's width_mult and depth_mult
	dropout      float64
	bnEps        string // "" for BatchNorm2d's default 1e-5
	truth        tvTruth
}

// effAdjust is _MBConvConfig.adjust_channels(channels, width_mult).
func effAdjust(c int, mult float64) int { return makeDivisible(float64(c)*mult, 8, 0) }

// stages is torchvision's _efficientnet_conf(name) and the last conv's width.
func (b effBuilder) stages() ([]effStage, int) {
	mb := func(expand float64, k, s, in, out, n int) effStage {
		return effStage{false, expand, k, s, effAdjust(in, b.width), effAdjust(out, b.width), int(math.Ceil(float64(n) * b.depth))}
	}
	fu := func(expand float64, k, s, in, out, n int) effStage {
		return effStage{true, expand, k, s, in, out, n}
	}
	var st []effStage
	switch b.name {
	case "efficientnet_v2_s":
		st = []effStage{fu(1, 3, 1, 24, 24, 2), fu(4, 3, 2, 24, 48, 4), fu(4, 3, 2, 48, 64, 4),
			mb(4, 3, 2, 64, 128, 6), mb(6, 3, 1, 128, 160, 9), mb(6, 3, 2, 160, 256, 15)}
	case "efficientnet_v2_m":
		st = []effStage{fu(1, 3, 1, 24, 24, 3), fu(4, 3, 2, 24, 48, 5), fu(4, 3, 2, 48, 80, 5),
			mb(4, 3, 2, 80, 160, 7), mb(6, 3, 1, 160, 176, 14), mb(6, 3, 2, 176, 304, 18), mb(6, 3, 1, 304, 512, 5)}
	case "efficientnet_v2_l":
		st = []effStage{fu(1, 3, 1, 32, 32, 4), fu(4, 3, 2, 32, 64, 7), fu(4, 3, 2, 64, 96, 7),
			mb(4, 3, 2, 96, 192, 10), mb(6, 3, 1, 192, 224, 19), mb(6, 3, 2, 224, 384, 25), mb(6, 3, 1, 384, 640, 7)}
	default:
		st = []effStage{mb(1, 3, 1, 32, 16, 1), mb(6, 3, 2, 16, 24, 2), mb(6, 5, 2, 24, 40, 2),
			mb(6, 3, 2, 40, 80, 3), mb(6, 5, 1, 80, 112, 3), mb(6, 5, 2, 112, 192, 4), mb(6, 3, 1, 192, 320, 1)}
		return st, 4 * st[len(st)-1].out
	}
	return st, 1280
}

// effBlock is one MBConv or FusedMBConv as the builder makes it.
type effBlock struct {
	effStage
	hidden int     // expanded width
	p      float64 // stochastic depth probability
	res    bool    // the skip (and so stochastic depth) is used
}

func (b effBuilder) blocks() [][]effBlock {
	st, _ := b.stages()
	total := 0
	for _, s := range st {
		total += s.layers
	}
	id := 0
	var out [][]effBlock
	for _, s := range st {
		var stage []effBlock
		for j := 0; j < s.layers; j++ {
			c := s
			if j > 0 {
				c.in, c.stride = c.out, 1
			}
			stage = append(stage, effBlock{
				effStage: c,
				hidden:   effAdjust(c.in, c.expand),
				p:        0.2 * float64(id) / float64(total),
				res:      c.stride == 1 && c.in == c.out,
			})
			id++
		}
		out = append(out, stage)
	}
	return out
}

// kind names the block a spec line uses for blk.
func (blk effBlock) kind() string {
	k := "mbconv"
	if blk.fused {
		k = "fused"
	}
	if blk.hidden == blk.in {
		k += "1" // expand ratio 1: no expansion conv
	}
	if blk.res {
		k += "_res"
	}
	return k
}

func (b effBuilder) spec() string {
	stages := b.blocks()
	_, last := b.stages()
	used := map[string]bool{}
	for _, st := range stages {
		for _, blk := range st {
			used[blk.kind()] = true
			if blk.res {
				used[strings.TrimSuffix(blk.kind(), "_res")] = true // the residual blocks wrap the plain ones
			}
		}
	}
	used["conv_bn_act"], used["conv_bn"] = true, true
	used["se"] = used["mbconv"] || used["mbconv1"]
	bn := "batchnorm2d"
	if b.bnEps != "" {
		bn = fmt.Sprintf("batchnorm2d: {eps: %s}", b.bnEps)
	}
	eps := "BatchNorm2d(eps=1e-5)"
	if b.bnEps != "" {
		eps = "BatchNorm2d(eps=" + b.bnEps + ")"
	}
	var w Writer
	w.Line("# torchvision.models.%s(weights=None), eval mode (torchvision 0.14), at its", b.name)
	w.Line("# DEFAULT weights' crop size %d.", b.size)
	if strings.HasPrefix(b.name, "efficientnet_b") {
		w.Line("# width_mult %s, depth_mult %s: widths _make_divisible(c * width_mult, 8),", pyFloatRepr(b.width), pyFloatRepr(b.depth))
		w.Line("# layers ceil(n * depth_mult).")
	} else {
		w.Line("# FusedMBConv stages, then MBConv stages; last conv 1280 wide.")
	}
	w.Line("# The skip (stride 1, unchanged width) is stochastic_depth(block(x)) + x with")
	w.Line("# p = 0.2 * block index / blocks, the identity in eval; blocks without the skip")
	w.Line("# build a StochasticDepth too but never call it. BatchNorm momentum (training")
	w.Line("# only) is not written.")
	w.Line("name: %s", b.name)
	w.Line("input: %s", Ints(3, b.size, b.size))
	w.Line("batch: 1")
	w.Line("blocks:")
	w.In(func() {
		blk := func(name, comment, args string, lines ...string) {
			if !used[name] {
				return
			}
			w.Line("%-28s # %s", name+":", comment)
			w.In(func() {
				w.Line("args: {%s}", args)
				w.Line("layers:")
				w.In(func() {
					for _, l := range lines {
						w.Line("%s", l)
					}
				})
			})
		}
		blk("conv_bn_act", "Conv2dNormActivation: conv (no bias), "+eps+", SiLU",
			"out: 32, kernel: 1, stride: 1, padding: 0, groups: 1",
			"- conv2d: {out: $out, kernel: $kernel, stride: $stride, padding: $padding, groups: $groups, bias: false}",
			"- "+bn,
			"- silu")
		blk("conv_bn", "the 1x1 projection: Conv2dNormActivation(activation_layer=None)",
			"out: 16",
			"- conv2d: {out: $out, kernel: 1, bias: false}",
			"- "+bn)
		blk("se", "SqueezeExcitation(activation=SiLU): x * sigmoid(fc2(silu(fc1(avgpool(x)))))",
			"c: 96, squeeze: 4",
			"- gate:",
			"    - adaptiveavgpool2d: 1",
			"    - conv2d: {out: $squeeze, kernel: 1}   # fc1",
			"    - silu",
			"    - conv2d: {out: $c, kernel: 1}         # fc2",
			"    - sigmoid")
		blk("mbconv", "MBConv: 1x1 expand, depthwise kxk, squeeze-excitation, 1x1 projection",
			"hidden: 96, out: 24, kernel: 3, stride: 1, padding: 1, squeeze: 4",
			"- conv_bn_act: {out: $hidden}",
			"- conv_bn_act: {out: $hidden, kernel: $kernel, stride: $stride, padding: $padding, groups: $hidden}",
			"- se: {c: $hidden, squeeze: $squeeze}",
			"- conv_bn: {out: $out}")
		blk("mbconv_res", "MBConv with the skip: stochastic_depth(block(x)) + x",
			"hidden: 144, out: 24, kernel: 3, padding: 1, squeeze: 6, p: 0.0",
			"- residual:",
			"    - mbconv: {hidden: $hidden, out: $out, kernel: $kernel, padding: $padding, squeeze: $squeeze}",
			"    - stochasticdepth: {p: $p, mode: row}")
		blk("mbconv1", "MBConv with expand ratio 1: no expansion conv",
			"in: 32, out: 16, kernel: 3, stride: 1, padding: 1, squeeze: 8",
			"- conv_bn_act: {out: $in, kernel: $kernel, stride: $stride, padding: $padding, groups: $in}",
			"- se: {c: $in, squeeze: $squeeze}",
			"- conv_bn: {out: $out}")
		blk("mbconv1_res", "the same with the skip",
			"in: 16, kernel: 3, padding: 1, squeeze: 4, p: 0.0",
			"- residual:",
			"    - mbconv1: {in: $in, out: $in, kernel: $kernel, padding: $padding, squeeze: $squeeze}",
			"    - stochasticdepth: {p: $p, mode: row}")
		blk("fused", "FusedMBConv: kxk expand conv, 1x1 projection",
			"hidden: 96, out: 48, kernel: 3, stride: 1, padding: 1",
			"- conv_bn_act: {out: $hidden, kernel: $kernel, stride: $stride, padding: $padding}",
			"- conv_bn: {out: $out}")
		blk("fused_res", "FusedMBConv with the skip: stochastic_depth(block(x)) + x",
			"hidden: 192, out: 48, kernel: 3, padding: 1, p: 0.0",
			"- residual:",
			"    - fused: {hidden: $hidden, out: $out, kernel: $kernel, padding: $padding}",
			"    - stochasticdepth: {p: $p, mode: row}")
		blk("fused1", "FusedMBConv with expand ratio 1: one kxk conv",
			"out: 24, kernel: 3, stride: 1, padding: 1",
			"- conv_bn_act: {out: $out, kernel: $kernel, stride: $stride, padding: $padding}")
		blk("fused1_res", "the same with the skip",
			"out: 24, kernel: 3, padding: 1, p: 0.0",
			"- residual:",
			"    - fused1: {out: $out, kernel: $kernel, padding: $padding}",
			"    - stochasticdepth: {p: $p, mode: row}")
	})
	w.Line("layers:")
	w.In(func() {
		h := mobileConvOut(b.size, 3, 2, 1, 1)
		w.Line("- conv_bn_act: {out: %d, kernel: 3, stride: 2, padding: 1}   # features.0", stages[0][0].in)
		w.Line("  expect: %s", Ints(stages[0][0].in, h, h))
		for i, st := range stages {
			s := st[0]
			kind := "MBConv"
			if s.fused {
				kind = "FusedMBConv"
			}
			w.Line("# features.%d: %d x %s%g k%d, %d -> %d, stride %d", i+1, len(st), kind, s.expand, s.kernel, s.in, s.out, s.stride)
			for _, blk := range st {
				pad := (blk.kernel - 1) / 2
				h = mobileConvOut(h, blk.kernel, blk.stride, pad, 1)
				var args []string
				add := func(format string, a ...any) { args = append(args, fmt.Sprintf(format, a...)) }
				squeeze := max(1, blk.in/4)
				k := blk.kind()
				switch {
				case strings.HasPrefix(k, "mbconv1"):
					add("in: %d", blk.in)
					if !blk.res {
						add("out: %d", blk.out)
					}
				case strings.HasPrefix(k, "fused1"):
					add("out: %d", blk.out)
				default:
					add("hidden: %d", blk.hidden)
					add("out: %d", blk.out)
				}
				if !blk.fused || blk.kernel != 3 {
					add("kernel: %d", blk.kernel)
				}
				if !blk.res && blk.stride != 1 {
					add("stride: %d", blk.stride)
				}
				if !blk.fused || pad != 1 {
					add("padding: %d", pad)
				}
				if !blk.fused {
					add("squeeze: %d", squeeze)
				}
				if blk.res {
					add("p: %s", pyFloatRepr(blk.p))
				}
				w.Line("- %s: {%s}", k, strings.Join(args, ", "))
			}
			w.Line("  expect: %s", Ints(s.out, h, h))
		}
		w.Line("- conv_bn_act: {out: %d}   # features.%d", last, len(stages)+1)
		w.Line("  name: features")
		w.Line("- adaptiveavgpool2d: 1")
		w.Line("  name: avgpool")
		w.Line("- flatten")
		w.Line("- dropout: %s   # classifier", pyFloatRepr(b.dropout))
		w.Line("- linear: 1000")
		w.Line("  name: classifier")
	})
	b.truth.write(&w)
	return w.String()
}

func init() {
	for _, b := range []effBuilder{
		{"efficientnet_b0", 224, 1.0, 1.0, 0.2, "", tvTruth{[]int{1000}, 5288548, 42016, 385814752}},
		{"efficientnet_b1", 240, 1.0, 1.1, 0.2, "", tvTruth{[]int{1000}, 7794184, 62048, 686802832}},
		{"efficientnet_b2", 288, 1.1, 1.2, 0.3, "", tvTruth{[]int{1000}, 9109994, 67568, 1087529456}},
		{"efficientnet_b3", 300, 1.2, 1.4, 0.3, "", tvTruth{[]int{1000}, 12233232, 87296, 1827141392}},
		{"efficientnet_b4", 380, 1.4, 1.8, 0.4, "", tvTruth{[]int{1000}, 19341616, 125200, 4393771024}},
		{"efficientnet_b5", 456, 1.6, 2.2, 0.4, "0.001", tvTruth{[]int{1000}, 30389784, 172736, 10266384752}},
		{"efficientnet_b6", 528, 1.8, 2.6, 0.5, "0.001", tvTruth{[]int{1000}, 43040704, 224432, 19067593536}},
		{"efficientnet_b7", 600, 2.0, 3.1, 0.5, "0.001", tvTruth{[]int{1000}, 66347960, 310720, 37745884192}},
		{"efficientnet_v2_s", 384, 1, 1, 0.2, "0.001", tvTruth{[]int{1000}, 21458488, 153872, 8365617152}},
		{"efficientnet_v2_m", 480, 1, 1, 0.3, "0.001", tvTruth{[]int{1000}, 54139356, 292032, 24582460384}},
		{"efficientnet_v2_l", 480, 1, 1, 0.4, "0.001", tvTruth{[]int{1000}, 118515272, 512576, 56079699008}},
	} {
		register(Builder{Name: b.name, Family: "EfficientNet", Spec: b.spec})
	}
}
