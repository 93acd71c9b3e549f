package zoogen

import (
	"fmt"
	"strconv"
	"strings"
)

// ConvNeXt: torchvision.models.convnext. A 4x4 stride-4 patchify stem with
// LayerNorm2d, four stages of CNBlocks with a LayerNorm2d + 2x2 stride-2
// conv between them, and a head of avgpool, LayerNorm2d, flatten, linear.
// Stochastic depth grows linearly over the blocks of the whole network:
// block k of n has p = stochastic_depth_prob * k / (n - 1).

// convnextStage is a CNBlockConfig: input_channels, out_channels (0 for
// None: no downsampling after the last stage), num_layers.
type convnextStage struct {
	in, out, layers int
}

type convnextConfig struct {
	name   string
	stages []convnextStage
	sdProb float64 // stochastic_depth_prob, the builder's default
	// torchvision's measurement of the model (testdata/torch/torchvision.json).
	params, buffers, macs int64
}

var convnextConfigs = []convnextConfig{
	{"convnext_tiny", []convnextStage{{96, 192, 3}, {192, 384, 3}, {384, 768, 9}, {768, 0, 3}}, 0.1, 28589128, 0, 4455531264},
	{"convnext_small", []convnextStage{{96, 192, 3}, {192, 384, 3}, {384, 768, 27}, {768, 0, 3}}, 0.4, 50223688, 0, 8683712256},
	{"convnext_base", []convnextStage{{128, 256, 3}, {256, 512, 3}, {512, 1024, 27}, {1024, 0, 3}}, 0.5, 88591464, 0, 15354729472},
	{"convnext_large", []convnextStage{{192, 384, 3}, {384, 768, 3}, {768, 1536, 27}, {1536, 0, 3}}, 0.5, 197767336, 0, 34361433600},
}

func init() {
	for _, c := range convnextConfigs {
		register(Builder{Name: c.name, Family: "ConvNeXt", Spec: func() string { return convnextSpec(c) }})
	}
}

func convnextSpec(c convnextConfig) string {
	var w Writer
	var cfgs []string
	total := 0
	for _, s := range c.stages {
		out := "None"
		if s.out != 0 {
			out = strconv.Itoa(s.out)
		}
		cfgs = append(cfgs, fmt.Sprintf("CNBlockConfig(%d, %s, %d)", s.in, out, s.layers))
		total += s.layers
	}
	w.Line("# torchvision.models.%s(): ConvNeXt([%s,", c.name, strings.Join(cfgs[:2], ", "))
	w.Line("# %s], stochastic_depth_prob=%s), layer_scale 1e-6.", strings.Join(cfgs[2:], ", "), pyFloatRepr(c.sdProb))
	w.Line("# Stochastic depth (the identity in eval) grows over the %d blocks: block k has", total)
	w.Line("# p = %s * k / %d.", pyFloatRepr(c.sdProb), total-1)
	w.Line("name: %s", c.name)
	w.Line("input: [3, 224, 224]")
	first := c.stages[0]
	w.Line("blocks:")
	w.In(func() {
		w.Line("cnblock:            # CNBlock: x + stochastic_depth(layer_scale * block(x))")
		w.In(func() {
			w.Line("args: {c: %d, hidden: %d, p: 0.0}", first.in, 4*first.in)
			w.Line("layers:")
			w.In(func() {
				w.Line("- residual:")
				w.In(func() {
					w.In(func() {
						w.Line("- conv2d: {out: $c, kernel: 7, padding: 3, groups: $c}")
						w.Line("- permute: [0, 2, 3, 1]")
						w.Line("- layernorm: {shape: $c, eps: 1e-6}")
						w.Line("- linear: $hidden")
						w.Line("- gelu")
						w.Line("- linear: $c")
						w.Line("- permute: [0, 3, 1, 2]")
						w.Line("- layerscale: 1e-6")
						w.Line("- stochasticdepth: {p: $p, mode: row}")
					})
				})
			})
		})
		w.Line("downsample:         # LayerNorm2d, 2x2 conv stride 2")
		w.In(func() {
			w.Line("args: {out: %d}", first.out)
			w.Line("layers:")
			w.In(func() {
				w.Line("- layernorm2d: {eps: 1e-6}")
				w.Line("- conv2d: {out: $out, kernel: 2, stride: 2}")
			})
		})
	})
	w.Line("layers:")
	w.In(func() {
		w.Line("# features.0: stem, 4x4 conv stride 4, LayerNorm2d")
		w.Line("- conv2d: {out: %d, kernel: 4, stride: 4}", first.in)
		w.Line("- layernorm2d: {eps: 1e-6}")
		w.In(func() {
			w.Line("name: stem")
			w.Line("expect: %s", Ints(first.in, 56, 56))
		})
		k, size, feature := 0, 56, 1
		for i, s := range c.stages {
			w.Line("# features.%d: stage %d, %d CNBlocks of %d channels", feature, i+1, s.layers, s.in)
			for j := 0; j < s.layers; j++ {
				p := c.sdProb * float64(k) / (float64(total) - 1.0) // as ConvNeXt.__init__ computes sd_prob
				w.Line("- cnblock: {c: %d, hidden: %d, p: %s}", s.in, 4*s.in, pyFloatRepr(p))
				if j == s.layers-1 {
					w.In(func() {
						w.Line("name: stage%d", i+1)
						w.Line("expect: %s", Ints(s.in, size, size))
					})
				}
				k++
			}
			feature++
			if s.out != 0 {
				size /= 2
				w.Line("# features.%d: downsampling", feature)
				w.Line("- downsample: {out: %d}", s.out)
				feature++
			}
		}
		w.Line("- adaptiveavgpool2d: 1")
		w.Line("# classifier: LayerNorm2d, flatten, linear")
		w.Line("- layernorm2d: {eps: 1e-6}")
		w.Line("- flatten")
		w.Line("- linear: 1000")
		w.In(func() { w.Line("expect: [1000]") })
	})
	tvTruth{[]int{1000}, c.params, c.buffers, c.macs}.write(&w)
	return w.String()
}
