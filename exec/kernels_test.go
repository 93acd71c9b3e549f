package exec

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/spec"
)

// references is the slow, obviously right kernel of every kind, keyed like
// the kernel table: direct loops in float64 (conv_ref_test.go,
// pool_ref_test.go, norm_ref_test.go, act_ref_test.go, ...).
var references = map[calc.Op]func(c *call) *Tensor{}

// refWith wraps a reference of the form f(out, c).
func refWith(f func(out *Tensor, c *call)) func(c *call) *Tensor {
	return func(c *call) *Tensor {
		out := c.out()
		f(out, c)
		return out
	}
}

// refAct is the reference of an activation given by its scalar function.
func refAct(f func(c *call) func(float64) float64) func(c *call) *Tensor {
	return refWith(func(out *Tensor, c *call) { refUnary(out, c.x(), f(c)) })
}

func refCopy(c *call) *Tensor { return FromData(append([]float32(nil), c.x().Data...), c.shape...) }

func init() {
	for r := 0; r < 3; r++ {
		at := calc.Op(r)
		references[calc.Conv1d+at] = refWith(func(out *Tensor, c *call) { refConv(out, c.x(), c.w.Weight, c.w.Bias, c.geom) })
		references[calc.ConvTranspose1d+at] = refWith(func(out *Tensor, c *call) { refConvTranspose(out, c.x(), c.w.Weight, c.w.Bias, c.geom) })
		references[calc.MaxPool1d+at] = refWith(func(out *Tensor, c *call) {
			l, n := c.l, c.nsp()
			refMaxPool(out, c.x(), perAxis(l.Kernel, n, 1), poolStride(l, n), perAxis(l.Padding, n, 0), perAxis(l.Dilation, n, 1))
		})
		references[calc.AvgPool1d+at] = refWith(func(out *Tensor, c *call) {
			l, n := c.l, c.nsp()
			refAvgPool(out, c.x(), perAxis(l.Kernel, n, 1), poolStride(l, n), perAxis(l.Padding, n, 0), l.CountIncludePad)
		})
		references[calc.AdaptiveAvgPool1d+at] = refWith(func(out *Tensor, c *call) { refAdaptivePool(out, c.x(), false) })
		references[calc.AdaptiveMaxPool1d+at] = refWith(func(out *Tensor, c *call) { refAdaptivePool(out, c.x(), true) })
		references[calc.BatchNorm1d+at] = refWith(func(out *Tensor, c *call) {
			w := c.w
			if w.Mean == nil {
				// Batch statistics; the running update goes to scratch.
				ch := c.x().Shape[1]
				refBatchNormTrain(out, c.x(), make([]float32, ch), make([]float32, ch), data(w.Weight), data(w.Bias), float32(c.l.Eps), float32(c.l.Momentum))
				return
			}
			refBatchNorm(out, c.x(), w.Mean.Data, w.Var.Data, data(w.Weight), data(w.Bias), float32(c.l.Eps))
		})
		references[calc.InstanceNorm1d+at] = refWith(func(out *Tensor, c *call) {
			w := c.w
			refInstanceNorm(out, c.x(), data(w.Mean), data(w.Var), data(w.Weight), data(w.Bias), float32(c.l.Eps))
		})
		references[calc.ZeroPad1d+at] = refWith(func(out *Tensor, c *call) {
			refConstantPad(out, c.x(), zeroPadList(c.l, c.nsp()), float32(c.l.PadValue))
		})
		references[calc.Dropout1d+at] = refCopy
	}
	references[calc.Linear] = refWith(func(out *Tensor, c *call) { refLinear(out, c.x(), c.w.Weight, c.w.Bias) })
	references[calc.Flatten] = refCopy
	references[calc.Unflatten] = refCopy
	references[calc.Identity] = refCopy
	references[calc.Dropout] = refCopy
	references[calc.LayerNorm] = refWith(func(out *Tensor, c *call) {
		size := int(numel(c.x().Shape[1:]))
		if c.l.NormShape != nil {
			size = int(numel(toInts(c.l.NormShape)))
		}
		refLayerNorm(out, c.x(), size, data(c.w.Weight), data(c.w.Bias), float32(c.l.Eps))
	})
	references[calc.GroupNorm] = refWith(func(out *Tensor, c *call) {
		refGroupNorm(out, c.x(), int(c.l.Groups), data(c.w.Weight), data(c.w.Bias), float32(c.l.Eps))
	})
	for op, name := range map[calc.Op]string{calc.ReLU: "relu", calc.ReLU6: "relu6", calc.Sigmoid: "sigmoid", calc.Tanh: "tanh",
		calc.SiLU: "silu", calc.Hardswish: "hardswish"} {
		f := refActs[name]
		references[op] = refAct(func(*call) func(float64) float64 { return f })
	}
	references[calc.GELU] = refAct(func(c *call) func(float64) float64 {
		if c.l.Approximate == "tanh" {
			return refActs["gelu_tanh"]
		}
		return refActs["gelu"]
	})
	references[calc.LeakyReLU] = refAct(func(c *call) func(float64) float64 {
		return refLeakyReLU(float64(float32(c.l.NegativeSlope)))
	})
	references[calc.ELU] = refAct(func(c *call) func(float64) float64 { return refELU(float64(float32(c.l.Alpha))) })
	references[calc.Softmax] = refWith(func(out *Tensor, c *call) { refSoftmax(out, c.x(), dimIndex(c.l.Dim, len(c.x().Shape))) })
	references[calc.Upsample] = refWith(func(out *Tensor, c *call) {
		mode := c.l.Mode
		if mode == "" {
			mode = "nearest"
		}
		var scale []float64
		if len(c.l.Size) == 0 && len(c.ins) == 1 {
			scale = upsampleScale(c.l, c.nsp())
		}
		refUpsample(out, c.x(), mode, c.l.AlignCorners != nil && *c.l.AlignCorners, scale)
	})
	references[calc.Hardsigmoid] = refAct(func(c *call) func(float64) float64 {
		a, b := float64(float32(c.l.Alpha)), float64(float32(c.l.Beta))
		return func(v float64) float64 { return math.Min(math.Max(a*v+b, 0), 1) }
	})
	references[calc.SELU] = refAct(func(*call) func(float64) float64 {
		const alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
		return func(v float64) float64 { return scale * (math.Max(0, v) + math.Min(0, alpha*(math.Exp(v)-1))) }
	})
	references[calc.CELU] = refAct(func(c *call) func(float64) float64 {
		a := float64(float32(c.l.Alpha))
		return func(v float64) float64 { return math.Max(0, v) + math.Min(0, a*(math.Exp(v/a)-1)) }
	})
	references[calc.Softplus] = refAct(func(c *call) func(float64) float64 {
		b, th := float64(float32(c.l.Beta)), float64(float32(c.l.Threshold))
		return func(v float64) float64 {
			if b*v > th {
				return v
			}
			return math.Log(1+math.Exp(b*v)) / b
		}
	})
	references[calc.Mish] = refAct(func(*call) func(float64) float64 {
		return func(v float64) float64 { return v * math.Tanh(math.Log(1+math.Exp(v))) }
	})
	references[calc.Hardtanh] = refAct(func(c *call) func(float64) float64 {
		lo, hi := float64(float32(c.l.MinVal)), float64(float32(c.l.MaxVal))
		return func(v float64) float64 { return math.Min(math.Max(v, lo), hi) }
	})
	references[calc.PReLU] = refWith(func(out *Tensor, c *call) { refPReLU(out, c.x(), c.w.Weight.Data) })
	references[calc.LogSoftmax] = refWith(func(out *Tensor, c *call) { refLogSoftmax(out, c.x(), dimIndex(c.l.Dim, len(c.x().Shape))) })
	references[calc.Chunk] = refWith(func(out *Tensor, c *call) { refPiece(out, c.x(), c.l) })
	references[calc.Split] = refWith(func(out *Tensor, c *call) { refPiece(out, c.x(), c.l) })
	references[calc.ChannelShuffle] = refWith(func(out *Tensor, c *call) { refChannelShuffle(out, c.x(), int(c.l.Groups)) })
	references[calc.Permute] = refWith(func(out *Tensor, c *call) { refPermute(out, c.x(), c.l.Perm) })
	references[calc.Mul] = refWith(func(out *Tensor, c *call) { refMul(out, c.ins...) })
	references[calc.LayerNorm2d] = refWith(func(out *Tensor, c *call) {
		refLayerNorm2d(out, c.x(), data(c.w.Weight), data(c.w.Bias), float32(c.l.Eps))
	})
	references[calc.LayerScale] = refWith(func(out *Tensor, c *call) { refMul(out, c.x(), c.w.Weight) })
	references[calc.StochasticDepth] = refCopy
	references[calc.Add] = refWith(func(out *Tensor, c *call) { refAdd(out, c.ins...) })
	references[calc.Concat] = refWith(func(out *Tensor, c *call) { refConcat(out, dimIndex(c.l.Dim, len(c.x().Shape)), c.ins...) })
}

// TestKernelTable fails when a layer kind has no kernel, no shape rule, no
// probe rule or no reference kernel.
func TestKernelTable(t *testing.T) {
	for _, op := range calc.Ops() {
		k := kernelOf(op)
		if k.shape == nil || k.run == nil || k.probe == nil {
			t.Errorf("%s: kernel table entry incomplete (shape %v, run %v, probe %v)", op, k.shape != nil, k.run != nil, k.probe != nil)
		}
		if references[op] == nil {
			t.Errorf("%s: no reference kernel", op)
		}
		if k.params == nil && k.fanIn {
			t.Errorf("%s: fan-in initialisation but no tensors", op)
		}
	}
}

// torchNetworks are the specs PyTorch ran with weights (gen_exec.py and
// random/gen_random.py): their outputs are in testdata beside them, and
// exec/torch_test.go compares with those.
func torchNetworks(t *testing.T) []string {
	t.Helper()
	var specs []string
	for _, dir := range []string{"../testdata/torch/exec", "../testdata/torch/random/exec"} {
		outs, _ := filepath.Glob(filepath.Join(dir, "*.output.npy"))
		for _, o := range outs {
			specs = append(specs, strings.TrimSuffix(o, ".output.npy")+".yaml")
		}
	}
	if len(specs) < 60 {
		t.Fatalf("only %d PyTorch networks; run testdata/torch/exec/gen_exec.py and random/gen_random.py", len(specs))
	}
	return specs
}

// TestKernelsMatchReferences runs every network PyTorch ran (every layer
// kind, 1-D to 3-D, real argument mixes) node by node through the fast
// kernels and through the references, on the same inputs and tensors
// (default init, a random input), and fails when a kind appears in none of
// them: every kind has a PyTorch case.
func TestKernelsMatchReferences(t *testing.T) {
	seen := map[calc.Op]int{}
	for _, path := range torchNetworks(t) {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s, err := spec.Parse(path, src)
		if err != nil {
			t.Fatal(err)
		}
		net := s.Net
		x := New(toInts(net.Input)...)
		r := rand.New(rand.NewPCG(3, uint64(len(src))))
		for i := range x.Data {
			x.Data[i] = float32(r.NormFloat64())
		}
		plan, err := NewPlan(&net)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		params := plan.Init(7)
		run, err := plan.Forward(params, x, Options{KeepAll: true})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for i := range net.Nodes {
			n := &net.Nodes[i]
			seen[n.Type]++
			ins := make([]*Tensor, len(n.From))
			for k, f := range n.From {
				ins[k] = x
				if f != calc.Input {
					ins[k] = run.Outputs[f]
				}
			}
			want := references[n.Type](&call{l: &n.Layer, w: &params[i], ins: ins, shape: plan.Shapes[i], geom: plan.geom[i]})
			checkTensor(t, path+" "+n.Name+" ("+n.Type.String()+")", run.Outputs[i].Data, want.Data, refTolerance(n.Type))
		}
	}
	for _, op := range calc.Ops() {
		if seen[op] == 0 {
			t.Errorf("%s: no network in testdata/torch/exec or testdata/torch/random/exec uses it (add a PyTorch case)", op)
		}
	}
}

// refTolerance: the GEMM kernels sum in float32 in another order than the
// float64 references; the others compute the same float32 values.
func refTolerance(op calc.Op) float64 {
	if kernelOf(op).fanIn {
		return 1e-4
	}
	return math.Max(normRefTol, 1e-5)
}

// TestSupportRules: every layer the receptive-field probe keeps
// (ProbeLayer, plain or dilated, at every rank) becomes a kind the support
// sweep can walk back through.
func TestSupportRules(t *testing.T) {
	for op := calc.Op(0); int(op) < calc.NumOps; op++ {
		k := kernelOf(op)
		if k.probe == nil {
			continue
		}
		for _, l := range []calc.Layer{{Type: op}, {Type: op, Dilation: []int64{2}}, {Type: op, Dim: 2}} {
			for rank := 3; rank <= 5; rank++ {
				p, keep := ProbeLayer(l, rank)
				if keep && !SupportRule(p.Type) {
					t.Errorf("%s (dilation %v, rank %d): the probe keeps it as %s, which has no support rule", op, l.Dilation, rank, p.Type)
				}
			}
		}
	}
}
