package exec

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"

	"github.com/cnncalc/cnncalc/calc"
)

// Weights holds one node's tensors, PyTorch's state_dict entries of its
// module: weight, bias, running_mean, running_var (nil where absent).
type Weights struct {
	Weight, Bias, Mean, Var *Tensor
}

// TensorNames are the state_dict suffixes, in Weights order.
var TensorNames = [4]string{"weight", "bias", "running_mean", "running_var"}

// Slot returns the field of tensor k (in TensorNames order).
func (p *Weights) Slot(i int) **Tensor {
	switch i {
	case 0:
		return &p.Weight
	case 1:
		return &p.Bias
	case 2:
		return &p.Mean
	}
	return &p.Var
}

// ParamShapes returns the shapes of the state_dict tensors (weight, bias,
// running_mean, running_var: TensorNames) of a layer whose inputs have the
// shapes ins (batch axis first), nil for the ones it does not have; ok is
// false for kinds that have no tensors at all. The weight's shape is what
// torchinfo's kernel column shows: conv2d of 3 to 64 channels, 7x7, has
// [64 3 7 7].
func ParamShapes(l *calc.Layer, ins []calc.Shape) (s [4][]int, ok bool) {
	in := make([][]int, len(ins))
	for i, x := range ins {
		in[i] = toInts(x)
	}
	return paramShapes(l, in)
}

// paramShapes returns the shapes of a layer's tensors in Weights order (nil
// for the ones it does not have) by its kind's rule; ok is false for kinds
// that have no tensors at all.
func paramShapes(l *calc.Layer, ins [][]int) (s [4][]int, ok bool) {
	k := kernelOf(l.Type)
	if k.params == nil {
		return s, false
	}
	return k.params(l, ins), true
}

// The tensor rules of the kernel table (kernels.go): PyTorch's weight
// layouts.

// convParams: weight (Cout, Cin/G, kernel...), bias (Cout).
func convParams(l *calc.Layer, ins [][]int) (s [4][]int) {
	x := ins[0]
	g := max(int(l.Groups), 1)
	s[0] = append([]int{int(l.Out), x[1] / g}, perAxis(l.Kernel, len(x)-2, 1)...)
	if l.Bias {
		s[1] = []int{int(l.Out)}
	}
	return s
}

// convTransposeParams: weight (Cin, Cout/G, kernel...), bias (Cout).
func convTransposeParams(l *calc.Layer, ins [][]int) (s [4][]int) {
	x := ins[0]
	g := max(int(l.Groups), 1)
	s[0] = append([]int{x[1], int(l.Out) / g}, perAxis(l.Kernel, len(x)-2, 1)...)
	if l.Bias {
		s[1] = []int{int(l.Out)}
	}
	return s
}

// linearParams: weight (out, in), bias (out).
func linearParams(l *calc.Layer, ins [][]int) (s [4][]int) {
	x := ins[0]
	s[0] = []int{int(l.Out), x[len(x)-1]}
	if l.Bias {
		s[1] = []int{int(l.Out)}
	}
	return s
}

// normParams (batchnorm, instancenorm): weight and bias (C) when affine,
// running_mean and running_var (C) when tracked.
func normParams(l *calc.Layer, ins [][]int) (s [4][]int) {
	c := []int{ins[0][1]}
	if l.Affine {
		s[0], s[1] = c, c
	}
	if l.TrackRunningStats {
		s[2], s[3] = c, c
	}
	return s
}

// groupNormParams: weight and bias (C) when affine.
func groupNormParams(l *calc.Layer, ins [][]int) (s [4][]int) {
	if l.Affine {
		s[0], s[1] = []int{ins[0][1]}, []int{ins[0][1]}
	}
	return s
}

// preluParams: weight (num_parameters).
func preluParams(l *calc.Layer, ins [][]int) (s [4][]int) {
	s[0] = []int{int(l.NumParams)}
	return s
}

// channelParams (torchvision's LayerNorm2d): weight and bias (C) when
// affine.
func channelParams(l *calc.Layer, ins [][]int) (s [4][]int) {
	if l.Affine {
		s[0], s[1] = []int{ins[0][1]}, []int{ins[0][1]}
	}
	return s
}

// layerScaleParams: weight (C, 1, ...), one scale per channel broadcast
// over the spatial axes, as torchvision's ConvNeXt holds layer_scale.
func layerScaleParams(l *calc.Layer, ins [][]int) (s [4][]int) {
	x := ins[0]
	w := []int{x[1]}
	for range x[2:] {
		w = append(w, 1)
	}
	s[0] = w
	return s
}

// layerNormParams: weight (and bias) of normalized_shape when affine.
func layerNormParams(l *calc.Layer, ins [][]int) (s [4][]int) {
	shape := ins[0][1:]
	if l.NormShape != nil {
		shape = toInts(l.NormShape)
	}
	if l.Affine {
		s[0] = shape
		if l.LayerNormBias {
			s[1] = shape
		}
	}
	return s
}

// Init returns PyTorch's default initialisation of every node's tensors,
// drawn deterministically from seed: conv and linear weights and biases
// uniform in ±1/sqrt(fan_in) (kaiming_uniform with a = sqrt(5)); norm weights
// 1, biases 0; running_mean 0, running_var 1.
func (p *Plan) Init(seed uint64) []Weights {
	pcg := rand.NewPCG(seed, 0x636e6e63616c63)
	out := make([]Weights, len(p.Net.Nodes))
	for i := range p.Net.Nodes {
		l := &p.Net.Nodes[i].Layer
		shapes, ok := paramShapes(l, p.Inputs(i))
		if !ok {
			continue
		}
		conv := kernelOf(l.Type).fanIn
		var fanIn int64
		if conv {
			// torch's fan_in is weight.size(1) * prod(kernel).
			fanIn = numel(shapes[0][1:])
		}
		for k, s := range shapes {
			if s == nil {
				continue
			}
			t := New(s...)
			switch {
			case conv:
				uniformFill(pcg, t.Data, float32(1/math.Sqrt(float64(fanIn))))
			case k == 0 && kernelOf(l.Type).init != nil: // prelu, layer scale
				v := kernelOf(l.Type).init(l)
				for j := range t.Data {
					t.Data[j] = v
				}
			case k == 0 || k == 3: // norm weight, running_var
				for j := range t.Data {
					t.Data[j] = 1
				}
			}
			*out[i].Slot(k) = t
		}
	}
	return out
}

// CheckWeights checks that params holds, for every node of the plan,
// exactly the tensors its layer needs, of the shapes it needs; describe
// names a node in the error.
func CheckWeights(p *Plan, params []Weights, describe func(node int) string) error {
	if len(params) != len(p.Net.Nodes) {
		return fmt.Errorf("weights for %d layers, the network has %d", len(params), len(p.Net.Nodes))
	}
	for i := range p.Net.Nodes {
		need, _ := p.TensorShapes(i)
		for k, s := range need {
			t := *params[i].Slot(k)
			switch {
			case s == nil && t != nil:
				return fmt.Errorf("%s has no %s, the weights give one", describe(i), TensorNames[k])
			case s != nil && t == nil:
				return fmt.Errorf("%s needs a %s of shape %v, the weights have none", describe(i), TensorNames[k], s)
			case s != nil && !slices.Equal(t.Shape, s):
				return fmt.Errorf("%s needs a %s of shape %v, the weights' is %v", describe(i), TensorNames[k], s, t.Shape)
			case s != nil && len(t.Data) != t.Len():
				return fmt.Errorf("%s: %s holds %d values for shape %v", describe(i), TensorNames[k], len(t.Data), t.Shape)
			}
		}
	}
	return nil
}

// TrainWeights returns params as train mode sees them: batchnorm and
// instancenorm nodes without their running statistics, so that they
// normalise with the statistics of the input itself, as PyTorch does in
// training (the running statistics are not updated: params is not
// changed, the other tensors are shared). Dropout stays the identity: exec
// draws no random masks.
func TrainWeights(net *calc.Network, params []Weights) []Weights {
	out := append([]Weights(nil), params...)
	for i := range net.Nodes {
		switch t := net.Nodes[i].Type; {
		case t >= calc.BatchNorm1d && t <= calc.BatchNorm3d, t >= calc.InstanceNorm1d && t <= calc.InstanceNorm3d:
			out[i].Mean, out[i].Var = nil, nil
		}
	}
	return out
}

// uniformFill sets v[j] = (2u - 1)*bound for the next len(v) values u of
// rand.Rand.Float32 over pcg (one Uint64 each, its top 24 bits of 32),
// and advances pcg past them. A long v is split over the cores, each part
// from pcg's state advanced to its start: the values are those of one
// sequential run.
func uniformFill(pcg *rand.PCG, v []float32, bound float32) {
	fill := func(p *rand.PCG, v []float32) {
		q := *p // a local copy the compiler keeps in registers
		for j := range v {
			u := float32(uint32(q.Uint64()>>32)<<8>>8) / (1 << 24)
			v[j] = (2*u - 1) * bound
		}
		*p = q
	}
	workers := runtime.GOMAXPROCS(0)
	if len(v) < 1<<18 || workers == 1 {
		fill(pcg, v)
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := w*len(v)/workers, (w+1)*len(v)/workers
		p := pcgAdvanced(pcg, uint64(lo))
		wg.Add(1)
		go func() {
			defer wg.Done()
			fill(p, v[lo:hi])
		}()
	}
	wg.Wait()
	*pcg = *pcgAdvanced(pcg, uint64(len(v)))
}

// pcgAdvanced returns a PCG in the state p reaches after n more values:
// its state is a 128-bit LCG, s -> s*mul + inc (math/rand/v2's
// constants), and n steps of it are s -> s*M + C with M and C by
// repeated squaring (Brown, "Random number generation with arbitrary
// strides", 1994, as pcg-cpp's advance does).
func pcgAdvanced(p *rand.PCG, n uint64) *rand.PCG {
	type u128 struct{ hi, lo uint64 }
	mul := func(a, b u128) u128 {
		hi, lo := bits.Mul64(a.lo, b.lo)
		return u128{hi + a.hi*b.lo + a.lo*b.hi, lo}
	}
	add := func(a, b u128) u128 {
		lo, c := bits.Add64(a.lo, b.lo, 0)
		hi, _ := bits.Add64(a.hi, b.hi, c)
		return u128{hi, lo}
	}
	curM := u128{2549297995355413924, 4865540595714422341}
	curC := u128{6364136223846793005, 1442695040888963407}
	accM, accC := u128{0, 1}, u128{}
	for ; n > 0; n >>= 1 {
		if n&1 == 1 {
			accM = mul(accM, curM)
			accC = add(mul(accC, curM), curC)
		}
		curC = mul(add(curM, u128{0, 1}), curC)
		curM = mul(curM, curM)
	}
	b, _ := p.MarshalBinary() // "pcg:" hi lo, big-endian
	st := add(mul(u128{binary.BigEndian.Uint64(b[4:]), binary.BigEndian.Uint64(b[12:])}, accM), accC)
	binary.BigEndian.PutUint64(b[4:], st.hi)
	binary.BigEndian.PutUint64(b[12:], st.lo)
	q := &rand.PCG{}
	_ = q.UnmarshalBinary(b) // cannot fail: the layout MarshalBinary wrote
	return q
}
