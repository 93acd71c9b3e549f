package quiz

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/cnncalc/cnncalc/calc"
)

// Kind is a kind of practice question.
type Kind struct {
	// Name is the kind's name on the command line: conv, pad, ...
	Name string
	// Description says what the kind asks.
	Description string
	gen         func(r *rand.Rand) (*Problem, error)
}

// Kinds are the kinds of practice question, in the order KindNames lists
// them.
var Kinds = []Kind{
	{"conv", "conv output volume", genConv},
	{"pad", "padded volume", genPad},
	{"same", "same padding", genSame},
	{"pool", "pooling output volume", genPool},
	{"convparams", "conv layer parameters", genConvParams},
	{"fcparams", "fully connected layer parameters", genFCParams},
	{"macs", "a conv layer's MACs", genMACs},
	{"rf", "receptive field of a stack", genRF},
	{"dilation", "conv output volume with dilation", genDilation},
}

// KindNames returns the names of Kinds.
func KindNames() []string {
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = k.Name
	}
	return names
}

// SelectKinds returns the kinds of the given names (case and surrounding
// spaces ignored, repeats dropped), in the order given; no names select all
// Kinds. An unknown name is an error that lists the known ones.
func SelectKinds(names []string) ([]Kind, error) {
	if len(names) == 0 {
		return Kinds, nil
	}
	var out []Kind
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		i := slices.IndexFunc(Kinds, func(k Kind) bool { return k.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("unknown kind %q: use %s", n, strings.Join(KindNames(), ", "))
		}
		if !slices.ContainsFunc(out, func(k Kind) bool { return k.Name == n }) {
			out = append(out, Kinds[i])
		}
	}
	return out, nil
}

// Problem is a generated practice question and its answer, computed by
// calc.
type Problem struct {
	// Kind is the name of the problem's kind.
	Kind string
	// Text is the question.
	Text string
	// Num is the answer of a question asking for a number; a volume's is
	// written by Answer and Reply.
	Num int64
	// Formula is the answer's worked formula, one line each.
	Formula []string
	// Slips are the wrong answers the usual slips give.
	Slips []Slip
	// Net is the layer (or stack) the answer was computed on.
	Net *calc.Network

	// isVolume asks for vol, in the notation asked.
	isVolume bool
	vol      volume
	notation notation
	unit     string
}

// Slip is a wrong answer a known slip gives, and the explanation.
type Slip struct {
	// Num is the wrong answer of a number question.
	Num int64
	// Why explains the slip.
	Why string
	// vol is the wrong answer of a volume question.
	vol volume
}

// Answer is the answer in full: a volume in both notations, the one
// asked first ("29x29x32 (H x W x C) = 32x29x29 (C x H x W)"); a number
// grouped, abbreviated from 10,000 on and with its unit ("7,600
// parameters").
func (q *Problem) Answer() string {
	if q.isVolume {
		if q.notation == chwNotation {
			return fmt.Sprintf("%s (C x H x W) = %s (H x W x C)", q.vol.chw(), q.vol.hwc())
		}
		return fmt.Sprintf("%s (H x W x C) = %s (C x H x W)", q.vol.hwc(), q.vol.chw())
	}
	s := calc.Group(q.Num)
	if q.Num >= 10000 {
		s += " (" + calc.Human(q.Num) + ")"
	}
	if q.unit != "" {
		s += " " + q.unit
	}
	return s
}

// seedStream keeps practice streams apart from exec's init streams.
const seedStream = 0x7175697a // "quiz"

// Generate draws count problems from kinds, each kind chosen at random,
// deterministically from seed: the same seed, count and kinds give the same
// problems.
func Generate(seed uint64, count int, kinds []Kind) ([]*Problem, error) {
	if len(kinds) == 0 || count < 0 {
		return nil, fmt.Errorf("cannot draw %d problems from %d kinds", count, len(kinds))
	}
	r := rand.New(rand.NewPCG(seed, seedStream))
	out := make([]*Problem, count)
	for i := range out {
		k := kinds[r.IntN(len(kinds))]
		q, err := k.gen(r)
		if err != nil {
			return nil, fmt.Errorf("generating a %s question: %w", k.Name, err)
		}
		q.Kind = k.Name
		out[i] = q
	}
	return out, nil
}

func pick(r *rand.Rand, v ...int64) int64 { return v[r.IntN(len(v))] }

func between(r *rand.Rand, lo, hi int64) int64 { return lo + r.Int64N(hi-lo+1) }

// drawInput draws an input volume: square three times out of four.
func drawInput(r *rand.Rand, lo, hi int64, channels ...int64) volume {
	v := volume{H: between(r, lo, hi), C: pick(r, channels...)}
	v.W = v.H
	if r.IntN(4) == 0 {
		v.W = between(r, lo, hi)
	}
	return v
}

func drawNotation(r *rand.Rand) notation {
	if r.IntN(3) == 0 {
		return chwNotation
	}
	return hwcNotation
}

// show writes a volume in a notation: "63x63x16 (H x W x C)".
func show(v volume, n notation) string {
	a := v.in(n)
	return fmt.Sprintf("%dx%dx%d (%s)", a[0], a[1], a[2], n)
}

// tries bounds rejection sampling; every generator succeeds far sooner.
const tries = 1000

// volumeProblem analyses a one-layer network and fills a volume answer.
func volumeProblem(r *rand.Rand, in volume, l calc.Layer) (*Problem, *calc.LayerResult, error) {
	net := newNet(in, l)
	res, err := analyze(net)
	if err != nil {
		return nil, nil, err
	}
	lr := &res.Layers[0]
	return &Problem{isVolume: true, vol: volumeOf(lr.Output), notation: drawNotation(r), Net: net, Formula: sizes(lr.Formulas)}, lr, nil
}

// convOut is the course's output size floor((n + 2p - d(f-1) - 1)/s) + 1.
func convOut(n, f, s, p, d int64) int64 { return calc.ConvOutput(n, f, s, p, p, d) }

func genConv(r *rand.Rand) (*Problem, error) {
	for range tries {
		in := drawInput(r, 5, 40, 1, 3, 8, 16)
		f, k, s := pick(r, 4, 8, 16, 32), pick(r, 1, 3, 5, 7), pick(r, 1, 1, 2, 2, 3)
		p := between(r, 0, k/2)
		if k > min(in.H, in.W)+2*p {
			continue
		}
		q, _, err := volumeProblem(r, in, calc.Layer{Type: calc.Conv2d, Out: f, Kernel: []int64{k}, Stride: []int64{s}, Padding: []int64{p}, Bias: true})
		if err != nil {
			return nil, err
		}
		q.Text = fmt.Sprintf("Input %s. A conv layer of %d filters of %dx%d, stride %d, padding %d. Output volume? Answer as %s.",
			show(in, q.notation), f, k, k, s, p, q.notation)
		q.Formula = append(q.Formula, fmt.Sprintf("C = %d, one channel per filter", f))
		q.Slips = convSlips(in, q.vol, f, k, s, p, 1)
		return q, nil
	}
	return nil, fmt.Errorf("no valid question in %d tries", tries)
}

// convSlips are the volumes the usual slips of a conv layer give.
func convSlips(in, out volume, f, k, s, p, d int64) []Slip {
	size := func(n, k, s, p, d int64) int64 { return convOut(n, k, s, p, d) }
	vol := func(h, w, c int64) volume { return volume{h, w, c} }
	var slips []Slip
	if d > 1 {
		slips = append(slips,
			Slip{vol: vol(size(in.H, k, s, p, 1), size(in.W, k, s, p, 1), f),
				Why: fmt.Sprintf("you ignored the dilation: a %dx%d kernel with dilation %d spans %d*(%d-1)+1 = %d pixels", k, k, d, d, k, d*(k-1)+1)},
			Slip{vol: vol((in.H+2*p-d*k)/s+1, (in.W+2*p-d*k)/s+1, f),
				Why: fmt.Sprintf("you took the dilated span as d*f = %d; it is d*(f-1)+1 = %d", d*k, d*(k-1)+1)})
	}
	slips = append(slips,
		Slip{vol: vol(out.H-1, out.W-1, f), Why: "you forgot the +1: the first window sits at position 0"},
		Slip{vol: vol(out.H, out.W, in.C), Why: fmt.Sprintf("you kept the input's %d channels; a conv layer outputs one channel per filter (%d)", in.C, f)})
	if s > 1 {
		slips = append(slips, Slip{vol: vol(size(in.H, k, 1, p, d), size(in.W, k, 1, p, d), f), Why: fmt.Sprintf("you ignored the stride %d: divide by it before adding 1", s)})
		ch := func(n int64) int64 { return (n+2*p-d*(k-1)-1+s-1)/s + 1 }
		slips = append(slips, Slip{vol: vol(ch(in.H), ch(in.W), f), Why: "you rounded up; the division rounds down (a window must fit entirely)"})
	}
	if p > 0 {
		slips = append(slips,
			Slip{vol: vol(size(in.H, k, s, 0, d), size(in.W, k, s, 0, d), f), Why: fmt.Sprintf("you left out the padding: add 2p = %d", 2*p)},
			Slip{vol: vol(convOut1(in.H, k, s, p, d), convOut1(in.W, k, s, p, d), f), Why: fmt.Sprintf("you padded one side only: add 2p = %d, not p", 2*p)})
	}
	return slips
}

// convOut1 is the output size with padding on one side only.
func convOut1(n, k, s, p, d int64) int64 { return calc.ConvOutput(n, k, s, p, 0, d) }

func genDilation(r *rand.Rand) (*Problem, error) {
	for range tries {
		in := drawInput(r, 9, 40, 1, 3, 8, 16)
		f, k, d, s := pick(r, 4, 8, 16, 32), pick(r, 3, 5), pick(r, 2, 3), pick(r, 1, 2)
		p := between(r, 0, d*(k-1)/2)
		if d*(k-1)+1 > min(in.H, in.W)+2*p {
			continue
		}
		q, _, err := volumeProblem(r, in, calc.Layer{Type: calc.Conv2d, Out: f, Kernel: []int64{k}, Stride: []int64{s}, Padding: []int64{p}, Dilation: []int64{d}, Bias: true})
		if err != nil {
			return nil, err
		}
		q.Text = fmt.Sprintf("Input %s. A conv layer of %d filters of %dx%d, dilation %d, stride %d, padding %d. Output volume? Answer as %s.",
			show(in, q.notation), f, k, k, d, s, p, q.notation)
		q.Formula = append(q.Formula, fmt.Sprintf("C = %d, one channel per filter", f))
		q.Slips = convSlips(in, q.vol, f, k, s, p, d)
		return q, nil
	}
	return nil, fmt.Errorf("no valid question in %d tries", tries)
}

func genPad(r *rand.Rand) (*Problem, error) {
	in := drawInput(r, 5, 64, 1, 3, 8, 16, 32)
	p := between(r, 1, 4)
	q, _, err := volumeProblem(r, in, calc.Layer{Type: calc.ZeroPad2d, Pad: []int64{p}})
	if err != nil {
		return nil, err
	}
	q.Text = fmt.Sprintf("Input %s, zero-padded with pad=%d. Resulting volume? Answer as %s.", show(in, q.notation), p, q.notation)
	q.Formula = append(q.Formula, fmt.Sprintf("C = %d, padding adds no channels", in.C))
	q.Slips = []Slip{
		{vol: volume{in.H + p, in.W + p, in.C}, Why: fmt.Sprintf("you padded one side only: pad=%d adds %d rows above and %d below", p, p, p)},
		{vol: volume{in.H + 2*p, in.W + 2*p, in.C + 2*p}, Why: "you padded the channels too; padding adds rows and columns only"},
	}
	return q, nil
}

func genPool(r *rand.Rand) (*Problem, error) {
	for range tries {
		in := drawInput(r, 4, 64, 1, 3, 8, 16, 32)
		f, s := pick(r, 2, 2, 3), pick(r, 1, 2, 2, 3)
		if f > min(in.H, in.W) {
			continue
		}
		kind := pick(r, 0, 1)
		l, name := calc.Layer{Type: calc.MaxPool2d, Kernel: []int64{f}, Stride: []int64{s}, CountIncludePad: true}, "max"
		if kind == 1 {
			l, name = calc.Layer{Type: calc.AvgPool2d, Kernel: []int64{f}, Stride: []int64{s}, CountIncludePad: true}, "average"
		}
		q, _, err := volumeProblem(r, in, l)
		if err != nil {
			return nil, err
		}
		q.Text = fmt.Sprintf("Input %s, %s pooling with filter size %d and stride %d. Output volume? Answer as %s.",
			show(in, q.notation), name, f, s, q.notation)
		q.Formula = append(q.Formula, fmt.Sprintf("C = %d, pooling works on each channel alone", in.C))
		q.Slips = []Slip{
			{vol: volume{q.vol.H - 1, q.vol.W - 1, in.C}, Why: "you forgot the +1: the first window sits at position 0"},
			{vol: volume{in.H / s, in.W / s, in.C}, Why: fmt.Sprintf("you divided the input by the stride; the filter size %d counts: floor((n - f)/s) + 1", f)},
			{vol: volume{(in.H-f+s-1)/s + 1, (in.W-f+s-1)/s + 1, in.C}, Why: "you rounded up; the division rounds down (a window must fit entirely)"},
			{vol: volume{q.vol.H, q.vol.W, 1}, Why: fmt.Sprintf("pooling keeps every channel: %d in, %d out", in.C, in.C)},
		}
		return q, nil
	}
	return nil, fmt.Errorf("no valid question in %d tries", tries)
}

func genSame(r *rand.Rand) (*Problem, error) {
	in := drawInput(r, 7, 64, 1, 3, 8, 16)
	f, k := pick(r, 8, 16, 32, 64), pick(r, 3, 5, 7, 9, 11)
	if k > min(in.H, in.W) {
		k = 3
	}
	if k%2 == 0 {
		return nil, fmt.Errorf("same padding needs an odd kernel, got %d", k)
	}
	net := newNet(in, calc.Layer{Type: calc.Conv2d, Out: f, Kernel: []int64{k}, PadMode: calc.PadSame, Bias: true})
	res, err := analyze(net)
	if err != nil {
		return nil, err
	}
	p, right := calc.SamePadding(in.H, k, 1, 1)
	if out := volumeOf(res.Layers[0].Output); p != right || out.H != in.H || out.W != in.W {
		return nil, fmt.Errorf("same padding %d, %d gives %s from %s", p, right, out.hwc(), in.hwc())
	}
	n := drawNotation(r)
	q := &Problem{
		Text: fmt.Sprintf("Input %s, %d filters of %dx%d, stride 1, a \"same\" convolution. Padding on each side?", show(in, n), f, k, k),
		Num:  p, Net: net,
		Formula: append([]string{fmt.Sprintf("p = (f-1)/2 = (%d-1)/2 = %d", k, p)}, sizes(res.Layers[0].Formulas)...),
		Slips: []Slip{
			{Num: k - 1, Why: fmt.Sprintf("f-1 = %d is the padding of both sides together; each side gets half", k-1)},
			{Num: (k + 1) / 2, Why: "p = (f-1)/2, not (f+1)/2"},
			{Num: k, Why: "p = (f-1)/2, not f"},
			{Num: in.H, Why: "that is the output size; the question asks for the padding"},
		},
	}
	return q, nil
}

// numberProblem analyses net and fills a number answer.
func numberProblem(net *calc.Network, value func(*calc.Result) int64, formulas func(*calc.Result) []string) (*Problem, *calc.Result, error) {
	res, err := analyze(net)
	if err != nil {
		return nil, nil, err
	}
	return &Problem{Num: value(res), Net: net, Formula: formulas(res)}, res, nil
}

func genConvParams(r *rand.Rand) (*Problem, error) {
	in := drawInput(r, 16, 300, 1, 3, 16, 32, 64)
	f, k := pick(r, 8, 16, 32, 64, 100, 128), pick(r, 1, 3, 5, 7)
	return convParamsProblem(in, drawNotation(r), f, k)
}

// convParamsProblem asks for the parameters of f filters of k x k on in.
func convParamsProblem(in volume, n notation, f, k int64) (*Problem, error) {
	q, _, err := numberProblem(newNet(in, calc.Layer{Type: calc.Conv2d, Out: f, Kernel: []int64{k}, Bias: true}),
		func(res *calc.Result) int64 { return res.Total.Params },
		func(res *calc.Result) []string { return []string{formulaOf(res.Layers[0].Formulas, "params")} })
	if err != nil {
		return nil, err
	}
	q.unit = "parameters"
	q.Text = fmt.Sprintf("Input %s. A conv layer of %d filters, each %dx%d. How many parameters, biases included?", show(in, n), f, k, k)
	q.Slips = []Slip{
		{Num: f * k * k * in.C, Why: fmt.Sprintf("you forgot the biases: one per filter, + %d", f)},
		{Num: f * (k*k + 1), Why: fmt.Sprintf("you forgot the input channels: each filter is %dx%dx%d", k, k, in.C)},
		{Num: f * k * k, Why: fmt.Sprintf("you forgot the input channels (each filter is %dx%dx%d) and the %d biases", k, k, in.C, f)},
		{Num: f * (k*k*in.H + 1), Why: fmt.Sprintf("you multiplied by the height %d; a filter spans the channels (%d), not the image", in.H, in.C)},
	}
	return q, nil
}

func genFCParams(r *rand.Rand) (*Problem, error) {
	in := drawInput(r, 4, 64, 1, 3)
	if r.IntN(3) == 0 {
		in.H = pick(r, 100, 224, 300)
		in.W = in.H
	}
	units := pick(r, 10, 64, 100, 128, 256, 1000)
	n := drawNotation(r)
	q, _, err := numberProblem(newNet(in, calc.Layer{Type: calc.Flatten, StartDim: 1, EndDim: -1}, calc.Layer{Type: calc.Linear, Out: units, Bias: true}),
		func(res *calc.Result) int64 { return res.Total.Params },
		func(res *calc.Result) []string {
			return []string{formulaOf(res.Layers[0].Formulas, "flattened"), formulaOf(res.Layers[1].Formulas, "params")}
		})
	if err != nil {
		return nil, err
	}
	q.unit = "parameters"
	q.Text = fmt.Sprintf("Input %s, flattened, into a fully connected layer of %d neurons. How many parameters, biases included?", show(in, n), units)
	q.Slips = []Slip{
		{Num: in.H * in.W * in.C * units, Why: fmt.Sprintf("you forgot the biases: one per neuron, + %d", units)},
		{Num: in.H*in.W*units + units, Why: fmt.Sprintf("you forgot the channels: each neuron sees %d*%d*%d inputs", in.H, in.W, in.C)},
		{Num: in.H * in.W * units, Why: fmt.Sprintf("you forgot the channels (each neuron sees %d*%d*%d inputs) and the %d biases", in.H, in.W, in.C, units)},
	}
	return q, nil
}

func genMACs(r *rand.Rand) (*Problem, error) {
	for range tries {
		in := drawInput(r, 8, 40, 1, 3, 8, 16)
		f, k, s := pick(r, 4, 8, 16, 32), pick(r, 1, 3, 5), pick(r, 1, 1, 2)
		p := between(r, 0, k/2)
		if k > min(in.H, in.W)+2*p {
			continue
		}
		n := drawNotation(r)
		q, res, err := numberProblem(newNet(in, calc.Layer{Type: calc.Conv2d, Out: f, Kernel: []int64{k}, Stride: []int64{s}, Padding: []int64{p}, Bias: true}),
			func(res *calc.Result) int64 { return res.Total.MACs },
			func(res *calc.Result) []string {
				return append(sizes(res.Layers[0].Formulas), formulaOf(res.Layers[0].Formulas, "macs"))
			})
		if err != nil {
			return nil, err
		}
		out := volumeOf(res.Layers[0].Output)
		q.unit = "MACs"
		q.Text = fmt.Sprintf("Input %s. A conv layer of %d filters of %dx%d, stride %d, padding %d. How many multiply-accumulates (MACs) for one image, biases left out?",
			show(in, n), f, k, k, s, p)
		q.Formula = append(q.Formula, "one MAC per weight per output position: out H * out W * filters * (C_in * f * f)")
		q.Slips = []Slip{
			{Num: out.H * out.W * f * k * k, Why: fmt.Sprintf("you forgot the input channels: each output sums %dx%dx%d products", k, k, in.C)},
			{Num: in.H * in.W * f * k * k * in.C, Why: fmt.Sprintf("you used the input size %dx%d; count the output positions, %dx%d", in.H, in.W, out.H, out.W)},
			{Num: 2 * q.Num, Why: "that is FLOPs (a multiply and an add each); a MAC counts the pair once"},
			{Num: out.H * out.W * f * (k*k*in.C + 1), Why: "you counted the bias as a MAC; biases are left out"},
		}
		return q, nil
	}
	return nil, fmt.Errorf("no valid question in %d tries", tries)
}

func genRF(r *rand.Rand) (*Problem, error) {
	in := volume{H: 128, W: 128, C: 3}
	layers := make([]calc.Layer, between(r, 2, 4))
	var desc []string
	for i := range layers {
		if i > 0 && r.IntN(4) == 0 {
			layers[i] = calc.Layer{Type: calc.MaxPool2d, Kernel: []int64{2}, Stride: []int64{2}}
			desc = append(desc, "maxpool 2x2 stride 2")
			continue
		}
		k, s := pick(r, 1, 3, 3, 5, 7), pick(r, 1, 1, 2)
		layers[i] = calc.Layer{Type: calc.Conv2d, Out: 8, Kernel: []int64{k}, Stride: []int64{s}, Padding: []int64{k / 2}, Bias: true}
		desc = append(desc, fmt.Sprintf("conv %dx%d stride %d", k, k, s))
	}
	net := newNet(in, layers...)
	res, err := analyze(net)
	if err != nil {
		return nil, err
	}
	var formula []string
	rPrev, jPrev := int64(1), int64(1)
	sumK, sumK1 := int64(0), int64(0)
	for i, lr := range res.Layers {
		if lr.RF == nil {
			return nil, fmt.Errorf("no receptive field after layer %d", i+1)
		}
		k, s := layers[i].Kernel[0], lr.RF.Jump[0]/jPrev
		formula = append(formula, fmt.Sprintf("%-22s r = %d + (%d-1)*%d = %d, jump %d*%d = %d", desc[i]+":", rPrev, k, jPrev, lr.RF.Size[0], jPrev, s, lr.RF.Jump[0]))
		rPrev, jPrev = lr.RF.Size[0], lr.RF.Jump[0]
		sumK += k
		sumK1 += k - 1
	}
	q := &Problem{
		Text:    fmt.Sprintf("A stack on a %s image: %s (convs padded to keep the size). How wide, in input pixels, is the receptive field of one output unit?", show(in, hwcNotation), strings.Join(desc, ", then ")),
		Num:     rPrev,
		unit:    "pixels",
		Net:     net,
		Formula: append(formula, "each layer adds (f-1) times the jump so far; the jump multiplies by each stride"),
		Slips: []Slip{
			{Num: 1 + sumK1, Why: "you ignored the strides: after a stride s layer each further pixel of kernel reaches s times farther (the jump)"},
			{Num: sumK, Why: "you added the kernel sizes; each layer adds (f-1) times the jump, starting from 1"},
		},
	}
	return q, nil
}
