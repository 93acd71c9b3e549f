package exec

import (
	"fmt"

	"github.com/cnncalc/cnncalc/calc"
)

// kernel is exec's entry for one layer kind: how the plan derives its
// output shape, which tensors it holds, how it runs and how the
// receptive-field probe carries it. The table kernels holds one per
// calc.Op; kernels_test.go fails when a kind lacks an entry, a reference
// kernel or a PyTorch case.
type kernel struct {
	// shape derives the output shape by execution rules (windows that fit,
	// taps written), and the conv geometry of the kinds that im2col.
	shape func(l *calc.Layer, ins [][]int) ([]int, *ConvGeom, error)
	// params gives the shapes of the module's state_dict tensors in Params
	// order; nil for kinds without tensors.
	params func(l *calc.Layer, ins [][]int) [4][]int
	// fanIn marks weights PyTorch draws uniform in ±1/sqrt(fan_in) (conv,
	// linear); other tensors start as norms do (weight 1, bias 0), or the
	// weight at init's value (prelu, layer scale).
	fanIn bool
	init  func(l *calc.Layer) float32
	// run computes the node's output.
	run func(c *call) *Tensor
	// probe turns the layer into its probe counterpart (probelayer.go) on
	// tensors of the given rank; keep is false when the probe cannot carry
	// it.
	probe func(l calc.Layer, rank int) (probe calc.Layer, keep bool)
}

// call is one node's run: its layer, tensors, inputs and planned output.
type call struct {
	l     *calc.Layer
	w     *Weights
	ins   []*Tensor
	shape []int     // the planned output shape
	geom  *ConvGeom // conv geometry, nil for other kinds
	st    *Stats
	ar    *arena // where outputs come from in a forward pass, nil for New
}

// x is the first input.
func (c *call) x() *Tensor { return c.ins[0] }

// out allocates the output, zeroed.
func (c *call) out() *Tensor {
	if c.ar != nil {
		return c.ar.alloc(c.shape, true)
	}
	return New(c.shape...)
}

// nsp is the number of spatial axes of the input.
func (c *call) nsp() int { return len(c.ins[0].Shape) - 2 }

// unary wraps a kernel of the form f(out, x).
func unary(f func(out, x *Tensor)) func(c *call) *Tensor {
	return func(c *call) *Tensor {
		out := c.out()
		f(out, c.x())
		return out
	}
}

// elementwise wraps an elementwise kernel f(out, x), which reads and
// writes only the elements' values, whatever the shape: a long tensor is
// cut into runs that the cores compute at once.
func elementwise(f func(out, x *Tensor)) func(c *call) *Tensor {
	return elementwiseOf(func(*call) func(out, x *Tensor) { return f })
}

// elementwiseOf is elementwise for a kernel with the layer's arguments:
// of(c) is the kernel of call c.
func elementwiseOf(of func(c *call) func(out, x *Tensor)) func(c *call) *Tensor {
	return func(c *call) *Tensor {
		f := of(c)
		out, x := c.out(), c.x()
		const run = 1 << 14
		n := len(x.Data)
		forPlanes((n+run-1)/run, int64(n)*4, func(lo, hi int) {
			a, b := lo*run, min(hi*run, n)
			f(&Tensor{Shape: []int{b - a}, Data: out.Data[a:b]}, &Tensor{Shape: []int{b - a}, Data: x.Data[a:b]})
		})
		return out
	}
}

// reshape is a kernel that only views its input in the planned shape:
// flatten, and identity and dropout (which is the identity in eval mode).
func reshape(c *call) *Tensor { return c.x().Reshape(c.shape...) }

// kernels is the table, indexed by calc.Op.
var kernels [calc.NumOps]kernel

// kernelOf returns op's entry (an empty one outside the table).
func kernelOf(op calc.Op) *kernel {
	if int(op) >= len(kernels) {
		return &kernel{}
	}
	return &kernels[op]
}

func init() {
	for r := 0; r < 3; r++ {
		at := calc.Op(r)
		kernels[calc.Conv1d+at] = kernel{shape: convShape, params: convParams, fanIn: true, probe: probeConv,
			run: func(c *call) *Tensor {
				out := c.out()
				Conv(out, c.x(), c.w.Weight, c.w.Bias, c.geom, c.st)
				return out
			}}
		kernels[calc.ConvTranspose1d+at] = kernel{shape: convTransposeShape, params: convTransposeParams, fanIn: true, probe: probeDrop,
			run: func(c *call) *Tensor {
				out := c.out()
				ConvTranspose(out, c.x(), c.w.Weight, c.w.Bias, c.geom, c.st)
				return out
			}}
		kernels[calc.MaxPool1d+at] = kernel{shape: poolShape(true), probe: probeMaxPool(calc.AvgPool1d + at),
			run: func(c *call) *Tensor {
				out, l, n := c.out(), c.l, c.nsp()
				MaxPool(out, c.x(), perAxis(l.Kernel, n, 1), poolStride(l, n), perAxis(l.Padding, n, 0), perAxis(l.Dilation, n, 1))
				return out
			}}
		kernels[calc.AvgPool1d+at] = kernel{shape: poolShape(false), probe: probeKeep,
			run: func(c *call) *Tensor {
				out, l, n := c.out(), c.l, c.nsp()
				AvgPool(out, c.x(), perAxis(l.Kernel, n, 1), poolStride(l, n), perAxis(l.Padding, n, 0), l.CountIncludePad)
				return out
			}}
		kernels[calc.AdaptiveAvgPool1d+at] = kernel{shape: adaptiveShape, probe: probeIdentity, run: unary(AdaptiveAvgPool)}
		kernels[calc.AdaptiveMaxPool1d+at] = kernel{shape: adaptiveShape, probe: probeIdentity, run: unary(AdaptiveMaxPool)}
		kernels[calc.BatchNorm1d+at] = kernel{shape: sameShape, params: normParams, probe: probeIdentity,
			run: func(c *call) *Tensor {
				out, l, w := c.out(), c.l, c.w
				if w.Mean == nil {
					// Without running statistics PyTorch normalises with
					// the batch's own, even in eval mode.
					BatchNormTrain(out, c.x(), nil, nil, data(w.Weight), data(w.Bias), float32(l.Eps), float32(l.Momentum))
				} else {
					BatchNorm(out, c.x(), w.Mean.Data, w.Var.Data, data(w.Weight), data(w.Bias), float32(l.Eps))
				}
				return out
			}}
		kernels[calc.InstanceNorm1d+at] = kernel{shape: sameShape, params: normParams, probe: probeIdentity,
			run: func(c *call) *Tensor {
				out, w := c.out(), c.w
				InstanceNorm(out, c.x(), data(w.Mean), data(w.Var), data(w.Weight), data(w.Bias), float32(c.l.Eps))
				return out
			}}
		kernels[calc.ZeroPad1d+at] = kernel{shape: zeroPadShape, probe: probeKeep,
			run: func(c *call) *Tensor {
				out := c.out()
				ConstantPad(out, c.x(), zeroPadList(c.l, c.nsp()), float32(c.l.PadValue))
				return out
			}}
		kernels[calc.Dropout1d+at] = kernel{shape: sameShape, probe: probeIdentity, run: reshape}
	}
	kernels[calc.Linear] = kernel{shape: linearShape, params: linearParams, fanIn: true, probe: probeIdentity,
		run: func(c *call) *Tensor {
			out := c.out()
			Linear(out, c.x(), c.w.Weight, c.w.Bias, c.st)
			return out
		}}
	kernels[calc.Flatten] = kernel{shape: flattenShape, probe: probeIdentity, run: reshape}
	kernels[calc.Unflatten] = kernel{shape: unflattenShape, probe: probeIdentity, run: reshape}
	kernels[calc.LayerNorm] = kernel{shape: sameShape, params: layerNormParams, probe: probeIdentity,
		run: func(c *call) *Tensor {
			out, x, l, w := c.out(), c.x(), c.l, c.w
			size := int(numel(x.Shape[1:]))
			if l.NormShape != nil {
				size = int(numel(toInts(l.NormShape)))
			}
			LayerNorm(out, x, size, data(w.Weight), data(w.Bias), float32(l.Eps))
			return out
		}}
	kernels[calc.GroupNorm] = kernel{shape: sameShape, params: groupNormParams, probe: probeIdentity,
		run: func(c *call) *Tensor {
			out, w := c.out(), c.w
			GroupNorm(out, c.x(), int(c.l.Groups), data(w.Weight), data(w.Bias), float32(c.l.Eps))
			return out
		}}
	for op, f := range map[calc.Op]func(out, x *Tensor){calc.ReLU: ReLU, calc.ReLU6: ReLU6, calc.SiLU: SiLU, calc.Sigmoid: Sigmoid,
		calc.Tanh: Tanh, calc.Hardswish: Hardswish, calc.Hardsigmoid: Hardsigmoid} {
		kernels[op] = kernel{shape: sameShape, probe: probeIdentity, run: elementwise(f)}
	}
	kernels[calc.Identity] = kernel{shape: sameShape, probe: probeIdentity, run: reshape}
	kernels[calc.Dropout] = kernel{shape: sameShape, probe: probeIdentity, run: reshape}
	kernels[calc.LeakyReLU] = kernel{shape: sameShape, probe: probeIdentity,
		run: elementwiseOf(func(c *call) func(out, x *Tensor) {
			return func(out, x *Tensor) { LeakyReLU(out, x, float32(c.l.NegativeSlope)) }
		})}
	kernels[calc.ELU] = kernel{shape: sameShape, probe: probeIdentity,
		run: elementwiseOf(func(c *call) func(out, x *Tensor) {
			return func(out, x *Tensor) { ELU(out, x, float32(c.l.Alpha)) }
		})}
	kernels[calc.GELU] = kernel{shape: sameShape, probe: probeIdentity,
		run: elementwiseOf(func(c *call) func(out, x *Tensor) {
			return func(out, x *Tensor) { GELU(out, x, c.l.Approximate == "tanh") }
		})}
	kernels[calc.Softmax] = kernel{shape: sameShape, probe: probeIdentity,
		run: func(c *call) *Tensor {
			out := c.out()
			Softmax(out, c.x(), dimIndex(c.l.Dim, len(c.x().Shape)))
			return out
		}}
	kernels[calc.Upsample] = kernel{shape: upsampleShape, probe: probeIdentity,
		run: func(c *call) *Tensor {
			out := c.out()
			var scale []float64
			if len(c.l.Size) == 0 && len(c.ins) == 1 {
				scale = upsampleScale(c.l, c.nsp())
			}
			UpsampleMode(out, c.x(), c.l, scale)
			return out
		}}
	for op, f := range map[calc.Op]func(out, x *Tensor){calc.SELU: SELU, calc.Mish: Mish} {
		kernels[op] = kernel{shape: sameShape, probe: probeIdentity, run: elementwise(f)}
	}
	kernels[calc.Hardsigmoid] = kernel{shape: sameShape, probe: probeIdentity,
		run: func(c *call) *Tensor {
			out := c.out()
			if c.l.Alpha == 1.0/6 && c.l.Beta == 0.5 {
				Hardsigmoid(out, c.x()) // PyTorch's, computed as min(max(x + 3, 0), 6)/6
			} else {
				HardsigmoidAB(out, c.x(), float32(c.l.Alpha), float32(c.l.Beta))
			}
			return out
		}}
	kernels[calc.CELU] = kernel{shape: sameShape, probe: probeIdentity,
		run: elementwiseOf(func(c *call) func(out, x *Tensor) {
			return func(out, x *Tensor) { CELU(out, x, float32(c.l.Alpha)) }
		})}
	kernels[calc.Softplus] = kernel{shape: sameShape, probe: probeIdentity,
		run: elementwiseOf(func(c *call) func(out, x *Tensor) {
			return func(out, x *Tensor) { Softplus(out, x, float32(c.l.Beta), float32(c.l.Threshold)) }
		})}
	kernels[calc.Hardtanh] = kernel{shape: sameShape, probe: probeIdentity,
		run: elementwiseOf(func(c *call) func(out, x *Tensor) {
			return func(out, x *Tensor) { Hardtanh(out, x, float32(c.l.MinVal), float32(c.l.MaxVal)) }
		})}
	kernels[calc.LogSoftmax] = kernel{shape: sameShape, probe: probeIdentity,
		run: func(c *call) *Tensor {
			out := c.out()
			LogSoftmax(out, c.x(), dimIndex(c.l.Dim, len(c.x().Shape)))
			return out
		}}
	kernels[calc.PReLU] = kernel{shape: sameShape, params: preluParams, probe: probeIdentity,
		init: func(l *calc.Layer) float32 { return float32(l.Init) },
		run: func(c *call) *Tensor {
			out := c.out()
			PReLU(out, c.x(), c.w.Weight.Data)
			return out
		}}
	kernels[calc.Chunk] = kernel{shape: pieceShape, probe: probePiece, run: piece}
	kernels[calc.Split] = kernel{shape: pieceShape, probe: probePiece, run: piece}
	kernels[calc.ChannelShuffle] = kernel{shape: sameShape, probe: probeIdentity,
		run: func(c *call) *Tensor {
			out := c.out()
			ChannelShuffle(out, c.x(), int(c.l.Groups))
			return out
		}}
	kernels[calc.Permute] = kernel{shape: permuteShape, probe: probeKeep,
		run: func(c *call) *Tensor {
			out := c.out()
			perm := make([]int, len(c.l.Perm))
			for a, p := range c.l.Perm {
				perm[a] = dimIndex(int(p), len(perm))
			}
			Permute(out, c.x(), perm)
			return out
		}}
	kernels[calc.LayerNorm2d] = kernel{shape: sameShape, params: channelParams, probe: probeIdentity,
		run: func(c *call) *Tensor {
			out := c.out()
			LayerNorm2d(out, c.x(), data(c.w.Weight), data(c.w.Bias), float32(c.l.Eps))
			return out
		}}
	kernels[calc.LayerScale] = kernel{shape: sameShape, params: layerScaleParams, probe: probeIdentity,
		init: func(l *calc.Layer) float32 { return float32(l.Init) },
		run: func(c *call) *Tensor {
			out := c.out()
			ScaleChannels(out, c.x(), c.w.Weight.Data)
			return out
		}}
	kernels[calc.StochasticDepth] = kernel{shape: sameShape, probe: probeIdentity, run: reshape}
	kernels[calc.Mul] = kernel{shape: broadcastShape, probe: probeSum,
		run: func(c *call) *Tensor {
			out := c.out()
			Mul(out, c.ins...)
			return out
		}}
	kernels[calc.Add] = kernel{shape: sameShape, probe: probeKeep,
		run: func(c *call) *Tensor {
			out := c.out()
			Add(out, c.ins...)
			return out
		}}
	kernels[calc.Concat] = kernel{shape: concatShape, probe: probeSum,
		run: func(c *call) *Tensor {
			out := c.out()
			Concat(out, dimIndex(c.l.Dim, len(c.x().Shape)), c.ins...)
			return out
		}}
}

// upsampleScale is upsample's scale factor per axis.
func upsampleScale(l *calc.Layer, nsp int) []float64 {
	scale := make([]float64, nsp)
	for a := range scale {
		scale[a] = l.Scale[0]
		if len(l.Scale) > 1 {
			scale[a] = l.Scale[a]
		}
	}
	return scale
}

// layer runs node i on its inputs through its kind's kernel.
func (p *Plan) layer(i int, w *Weights, ins []*Tensor, st *Stats) (*Tensor, error) {
	return p.layerIn(nil, i, w, ins, st)
}

// layerIn is layer with the outputs from ar (nil for New).
func (p *Plan) layerIn(ar *arena, i int, w *Weights, ins []*Tensor, st *Stats) (*Tensor, error) {
	l := &p.Net.Nodes[i].Layer
	k := kernelOf(l.Type)
	if k.run == nil {
		return nil, fmt.Errorf("no kernel for %s", l.Type)
	}
	return k.run(&call{l: l, w: w, ins: ins, shape: p.Shapes[i], geom: p.geom[i], st: st, ar: ar}), nil
}

// piece copies a chunk's or split's piece.
func piece(c *call) *Tensor {
	d := dimIndex(c.l.Dim, len(c.x().Shape))
	start, _, _ := pieceRange(c.l, c.x().Shape[d])
	out := c.out()
	Slice(out, c.x(), d, start)
	return out
}
