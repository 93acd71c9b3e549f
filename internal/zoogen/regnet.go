package zoogen

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// RegNet: torchvision.models.regnet. Every builder is
// BlockParams.from_init_params(depth, w_0, w_a, w_m, group_width[, se_ratio=0.25])
// fed to RegNet: a SimpleStemIN (3x3 stride 2 conv to 32 channels, BN,
// ReLU), four AnyStages of ResBottleneckBlocks (the first of each stage
// strided and projected) and avgpool + fc. regnetStages ports the
// arithmetic of from_init_params to Go, float32 where torch computes in
// float32, so that the stage widths and depths are torchvision's.

// regnetConfig is one builder's call of BlockParams.from_init_params.
type regnetConfig struct {
	name       string
	depth      int
	w0         int
	wa, wm     float64
	groupWidth int
	se         bool // se_ratio=0.25 (RegNetY) or None (RegNetX)
	// torchvision's measurement of the model (testdata/torch/torchvision.json):
	// the spec's expect:, external truth.
	params, buffers, macs int64
}

// The bottleneck multiplier is the default 1.0 in every builder; stem_width 32.
const (
	regnetBottleneck = 1.0
	regnetSERatio    = 0.25
	regnetStemWidth  = 32
)

var regnetConfigs = []regnetConfig{
	{"regnet_y_400mf", 16, 48, 27.89, 2.09, 8, true, 4344144, 27152, 401842848},
	{"regnet_y_800mf", 14, 56, 38.84, 2.4, 16, true, 6432512, 30432, 833856256},
	{"regnet_y_1_6gf", 27, 48, 20.71, 2.65, 24, true, 11202430, 52672, 1612076160},
	{"regnet_y_3_2gf", 21, 80, 42.63, 2.66, 24, true, 19436338, 66160, 3176482752},
	{"regnet_y_8gf", 17, 192, 76.82, 2.19, 56, true, 39381472, 86528, 8473070592},
	{"regnet_y_16gf", 18, 200, 106.23, 2.48, 112, true, 83590140, 122816, 15911510272},
	{"regnet_y_32gf", 20, 232, 115.89, 2.53, 232, true, 145046770, 158288, 32279552832},
	{"regnet_x_400mf", 22, 24, 24.48, 2.54, 16, false, 5495976, 37856, 413812608},
	{"regnet_x_800mf", 16, 56, 35.73, 2.28, 16, false, 7259656, 37312, 799699712},
	{"regnet_x_1_6gf", 18, 80, 34.01, 2.25, 24, false, 9190136, 43504, 1602849792},
	{"regnet_x_3_2gf", 25, 88, 26.31, 2.25, 48, false, 15296552, 62560, 3176621952},
	{"regnet_x_8gf", 23, 80, 49.56, 2.88, 120, false, 39572648, 90464, 7995132416},
	{"regnet_x_16gf", 22, 216, 55.59, 2.1, 128, false, 54278536, 111168, 15940755456},
	{"regnet_x_32gf", 23, 320, 69.86, 2.0, 168, false, 107811560, 162016, 31735929792},
}

// regnetStage is one AnyStage: its output width, block count and group width.
type regnetStage struct {
	width, depth, groupWidth int
}

// regnetStages is BlockParams.from_init_params followed by
// _adjust_widths_groups_compatibilty, step by step:
//
//	widths_cont = torch.arange(depth) * w_a + w_0          (float32)
//	block_capacity = torch.round(torch.log(widths_cont / w_0) / math.log(w_m))
//	block_widths = (torch.round(w_0 * torch.pow(w_m, block_capacity) / 8) * 8).int()
//
// torch computes the tensors in float32 (a Python float operand is cast to
// float32) and rounds half to even; each Go step rounds to float32 the same
// way. A stage is a run of equal block widths.
func regnetStages(c regnetConfig) []regnetStage {
	const quant = 8
	wa, w0 := float32(c.wa), float32(c.w0)
	wm := float32(c.wm)
	logWm := float32(math.Log(c.wm)) // math.log(w_m) in float64, then a float32 operand
	widths := make([]int, c.depth)
	for i := range widths {
		cont := float32(float32(float32(i)*wa) + w0)
		capacity := float32(float32(math.Log(float64(float32(cont/w0)))) / logWm)
		capacity = float32(math.RoundToEven(float64(capacity)))
		pow := float32(math.Pow(float64(wm), float64(capacity)))
		q := float32(float32(w0*pow) / quant)
		widths[i] = int(math.RoundToEven(float64(q))) * quant
	}
	var stages []regnetStage
	for i, w := range widths {
		if i == 0 || w != widths[i-1] {
			stages = append(stages, regnetStage{width: w, groupWidth: c.groupWidth})
		}
		stages[len(stages)-1].depth++
	}
	// _adjust_widths_groups_compatibilty: the group width is at most the
	// bottleneck width, and the bottleneck width a multiple of it.
	for i := range stages {
		s := &stages[i]
		wBot := int(float64(s.width) * regnetBottleneck)
		s.groupWidth = min(s.groupWidth, wBot)
		s.width = int(float64(makeDivisible(float64(wBot), s.groupWidth, 0)) / regnetBottleneck)
	}
	return stages
}

// regnetPyRound is Python's round() to an int: half to even.
func regnetPyRound(x float64) int { return int(math.RoundToEven(x)) }

func init() {
	for _, c := range regnetConfigs {
		register(Builder{Name: c.name, Family: "RegNet", Spec: func() string { return regnetSpec(c) }})
	}
}

func regnetSpec(c regnetConfig) string {
	stages := regnetStages(c)
	var w Writer
	call := fmt.Sprintf("depth=%d, w_0=%d, w_a=%s, w_m=%s, group_width=%d", c.depth, c.w0, pyFloatRepr(c.wa), pyFloatRepr(c.wm), c.groupWidth)
	if c.se {
		call += ", se_ratio=0.25"
	}
	var ws, ds, gs []int
	for _, s := range stages {
		ws, ds, gs = append(ws, s.width), append(ds, s.depth), append(gs, s.groupWidth)
	}
	w.Line("# torchvision.models.%s(): RegNet(BlockParams.from_init_params(", c.name)
	w.Line("#     %s)).", call)
	w.Line("# Its four stages, as from_init_params computes them: widths %s,", Ints(ws...))
	w.Line("# depths %s, group widths %s; bottleneck multiplier 1; each", Ints(ds...), Ints(gs...))
	w.Line("# stage opens with stride 2. A block's 3x3 conv has width / group width groups.")
	if c.se {
		w.Line("# RegNetY: squeeze-excitation after the 3x3 conv, squeezing to round(0.25 * the block's")
		w.Line("# input width) with ReLU, scaling with Sigmoid.")
	}
	w.Line("name: %s", c.name)
	w.Line("input: [3, 224, 224]")
	// Block defaults: the first stage's configuration.
	first := stages[0]
	groups := first.width / first.groupWidth
	seFirst, se := regnetPyRound(regnetSERatio*regnetStemWidth), regnetPyRound(regnetSERatio*float64(first.width))
	seArg, seFirstArg, seUse := "", "", ""
	if c.se {
		seArg, seFirstArg, seUse = fmt.Sprintf(", se: %d", se), fmt.Sprintf(", se: %d", seFirst), ", se: $se"
	}
	w.Line("blocks:")
	w.In(func() {
		if c.se {
			w.Line("transform:          # BottleneckTransform f: a (1x1), b (3x3 grouped), se, c (1x1)")
		} else {
			w.Line("transform:          # BottleneckTransform f: a (1x1), b (3x3 grouped), c (1x1)")
		}
		w.In(func() {
			w.Line("args: {w: %d, groups: %d, stride: 1%s}", first.width, groups, seArg)
			w.Line("layers:")
			w.In(func() {
				w.Line("- conv2d: {out: $w, kernel: 1, bias: false}")
				w.Line("- batchnorm2d")
				w.Line("- relu")
				w.Line("- conv2d: {out: $w, kernel: 3, stride: $stride, padding: 1, groups: $groups, bias: false}")
				w.Line("- batchnorm2d")
				w.Line("- relu")
				if c.se {
					w.Line("- gate:           # SqueezeExcitation: x * sigmoid(fc2(relu(fc1(avgpool(x)))))")
					w.In(func() {
						w.In(func() {
							w.Line("- adaptiveavgpool2d: 1")
							w.Line("- conv2d: {out: $se, kernel: 1}")
							w.Line("- relu")
							w.Line("- conv2d: {out: $w, kernel: 1}")
							w.Line("- sigmoid")
						})
					})
				}
				w.Line("- conv2d: {out: $w, kernel: 1, bias: false}")
				w.Line("- batchnorm2d")
			})
		})
		w.Line("block:              # ResBottleneckBlock, identity shortcut: relu(x + f(x))")
		w.In(func() {
			w.Line("args: {w: %d, groups: %d%s}", first.width, groups, seArg)
			w.Line("layers:")
			w.In(func() {
				w.Line("- residual:")
				w.In(func() { w.In(func() { w.Line("- transform: {w: $w, groups: $groups%s}", seUse) }) })
				w.Line("- relu")
			})
		})
		w.Line("# A stage's first block, stride 2: relu(proj(x) + f(x)). torchvision evaluates proj")
		w.Line("# first, so proj is the residual's body here and f its shortcut (the sum is the same).")
		w.Line("block_proj:")
		w.In(func() {
			w.Line("args: {w: %d, groups: %d%s}", first.width, groups, seFirstArg)
			w.Line("layers:")
			w.In(func() {
				w.Line("- residual:")
				w.In(func() {
					w.In(func() {
						w.Line("- conv2d: {out: $w, kernel: 1, stride: 2, bias: false}")
						w.Line("- batchnorm2d")
					})
					w.Line("shortcut:")
					w.In(func() { w.Line("- transform: {w: $w, groups: $groups, stride: 2%s}", seUse) })
				})
				w.Line("- relu")
			})
		})
		w.Line("stage:              # AnyStage: block_proj, then rest blocks")
		w.In(func() {
			if c.se {
				w.Line("args: {w: %d, groups: %d, se_first: %d, se: %d, rest: %d}", first.width, groups, seFirst, se, first.depth-1)
			} else {
				w.Line("args: {w: %d, groups: %d, rest: %d}", first.width, groups, first.depth-1)
			}
			w.Line("layers:")
			w.In(func() {
				if c.se {
					w.Line("- block_proj: {w: $w, groups: $groups, se: $se_first}")
				} else {
					w.Line("- block_proj: {w: $w, groups: $groups}")
				}
				w.Line("- repeat: $rest")
				w.In(func() {
					w.Line("layers:")
					w.In(func() { w.Line("- block: {w: $w, groups: $groups%s}", seUse) })
				})
			})
		})
	})
	w.Line("layers:")
	w.In(func() {
		w.Line("# stem: SimpleStemIN (3x3 conv, stride 2, BN, ReLU)")
		w.Line("- conv2d: {out: %d, kernel: 3, stride: 2, padding: 1, bias: false}", regnetStemWidth)
		w.Line("- batchnorm2d")
		w.Line("- relu:")
		w.In(func() {
			w.Line("name: stem")
			w.Line("expect: [%d, 112, 112]", regnetStemWidth)
		})
		w.Line("# trunk_output")
		in, size := regnetStemWidth, 112
		for i, s := range stages {
			size = (size + 1) / 2
			g := s.width / s.groupWidth
			if c.se {
				w.Line("- stage: {w: %d, groups: %d, se_first: %d, se: %d, rest: %d}", s.width, g,
					regnetPyRound(regnetSERatio*float64(in)), regnetPyRound(regnetSERatio*float64(s.width)), s.depth-1)
			} else {
				w.Line("- stage: {w: %d, groups: %d, rest: %d}", s.width, g, s.depth-1)
			}
			w.In(func() {
				w.Line("name: block%d", i+1)
				w.Line("expect: %s", Ints(s.width, size, size))
			})
			in = s.width
		}
		w.Line("- adaptiveavgpool2d: 1")
		w.Line("- flatten")
		w.Line("- linear: 1000")
		w.In(func() { w.Line("name: fc") })
	})
	tvTruth{[]int{1000}, c.params, c.buffers, c.macs}.write(&w)
	return w.String()
}

// pyFloatRepr formats a float64 as Python's repr does: the shortest digits
// that read back the same, with a point (2.0, 0.1, 0.005882352941176471).
func pyFloatRepr(x float64) string {
	s := strconv.FormatFloat(x, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}
