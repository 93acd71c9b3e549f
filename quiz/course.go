package quiz

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/exec"
)

// Item is one course question with its computed answer. Its JSON is the
// --format json output of cnncalc quiz.
type Item struct {
	// Number is the question's number in the course, 1 to Questions.
	Number   int    `json:"number"`
	Question string `json:"question"`
	// Answer is the answer as the course writes it (H x W x C for volumes).
	Answer string `json:"answer"`
	// Value is the answer as data: a number, [H, W, C], a bool or a string.
	Value any `json:"value"`
	// HWC and CHW are a volume answer in both notations.
	HWC string `json:"hwc,omitempty"`
	CHW string `json:"chw,omitempty"`
	// Input is the question's input volume in both notations.
	Input    *Notations         `json:"input,omitempty"`
	Formula  []string           `json:"formula"`
	Evidence []string           `json:"evidence"`
	Measured map[string]float64 `json:"measured,omitempty"`
}

// Notations is a volume in both notations.
type Notations struct {
	HWC string `json:"hwc"`
	CHW string `json:"chw"`
}

// Write writes the item as text: the question wrapped to 96 columns, then
// the answer, the input volume, the formula and the evidence, indented.
func (it *Item) Write(w io.Writer) {
	Wrap(w, fmt.Sprintf("%d. ", it.Number), it.Question)
	const ind = "   "
	if it.HWC != "" {
		fmt.Fprintf(w, "%sanswer:   %s (H x W x C) = %s (C x H x W)\n", ind, it.HWC, it.CHW)
	} else {
		fmt.Fprintf(w, "%sanswer:   %s\n", ind, it.Answer)
	}
	if it.Input != nil {
		fmt.Fprintf(w, "%sinput:    %s (H x W x C) = %s (C x H x W)\n", ind, it.Input.HWC, it.Input.CHW)
	}
	for i, f := range it.Formula {
		label := "          "
		if i == 0 {
			label = "formula:  "
		}
		fmt.Fprintf(w, "%s%s%s\n", ind, label, f)
	}
	for i, e := range it.Evidence {
		label := "          "
		if i == 0 {
			label = "evidence: "
		}
		fmt.Fprintf(w, "%s%s%s\n", ind, label, e)
	}
}

// course computes the course questions, in the course's order.
var course = [...]func() (*Item, error){
	edges, fcParams, convParams, convVolume,
	padVolume, samePadding, poolVolume, poolBackprop,
}

// Questions is the number of course questions.
const Questions = len(course)

// Question computes course question n, 1 to Questions: its answer by calc
// and exec, the worked formula and the evidence.
func Question(n int) (*Item, error) {
	if n < 1 || n > Questions {
		return nil, fmt.Errorf("no question %d: the quiz has questions 1 to %d", n, Questions)
	}
	it, err := course[n-1]()
	if err != nil {
		return nil, fmt.Errorf("question %d: %w", n, err)
	}
	it.Number = n
	return it, nil
}

// edgeFilter is question 1's filter.
var edgeFilter = [3][3]float32{{1, 0, -1}, {1, 0, -1}, {1, 0, -1}}

// edgeImage is a 6x6 grayscale image, bright (10) on one side of an edge
// through its middle and dark (0) on the other: a vertical edge (bright
// left) or a horizontal one (bright top).
func edgeImage(vertical bool) *exec.Tensor {
	const n, bright = 6, 10
	x := exec.New(1, 1, n, n)
	for h := 0; h < n; h++ {
		for w := 0; w < n; w++ {
			if (vertical && w < n/2) || (!vertical && h < n/2) {
				x.Data[h*n+w] = bright
			}
		}
	}
	return x
}

// conv3 convolves a (1,1,H,W) image with a 3x3 filter by exec.Conv.
func conv3(x *exec.Tensor, f [3][3]float32) *exec.Tensor {
	const k = 3
	oh := int(calc.ConvOutput(int64(x.Shape[2]), k, 1, 0, 0, 1))
	ow := int(calc.ConvOutput(int64(x.Shape[3]), k, 1, 0, 0, 1))
	w := exec.New(1, 1, k, k)
	for i := range k {
		copy(w.Data[i*k:], f[i][:])
	}
	out := exec.New(1, 1, oh, ow)
	g := &exec.ConvGeom{K: [3]int{1, k, k}, S: [3]int{1, 1, 1}, D: [3]int{1, 1, 1}, Groups: 1, PadMode: "zeros", OutShape: [3]int{1, oh, ow}}
	exec.Conv(out, x, w, nil, g, &exec.Stats{})
	return out
}

func maxAbs(t *exec.Tensor) (m float32, at int) {
	for i, v := range t.Data {
		if v < 0 {
			v = -v
		}
		if v > m {
			m, at = v, i
		}
	}
	return m, at
}

// grid prints the rows of a (1,1,H,W) tensor.
func grid(t *exec.Tensor) []string {
	h, w := t.Shape[2], t.Shape[3]
	rows := make([]string, h)
	for i := range h {
		var b strings.Builder
		for j := range w {
			fmt.Fprintf(&b, "%4s", strconv.FormatFloat(float64(t.Data[i*w+j]), 'g', -1, 32))
		}
		rows[i] = b.String()
	}
	return rows
}

// sideBySide prints two grids next to each other under their titles.
func sideBySide(lt, rt string, l, r []string) []string {
	wl := len(lt)
	for _, s := range l {
		wl = max(wl, len(s))
	}
	out := []string{fmt.Sprintf("  %-*s   %s", wl, lt, rt)}
	for i := 0; i < len(l) || i < len(r); i++ {
		var a, b string
		if i < len(l) {
			a = l[i]
		}
		if i < len(r) {
			b = r[i]
		}
		out = append(out, strings.TrimRight(fmt.Sprintf("  %-*s   %s", wl, a, b), " "))
	}
	return out
}

// windowSum writes out one output element of a 3x3 valid convolution
// with stride 1, the numbers substituted.
func windowSum(x *exec.Tensor, f [3][3]float32, oh, ow int, y float32) string {
	w := x.Shape[3]
	var rows []string
	for i := range 3 {
		var terms []string
		for j := range 3 {
			terms = append(terms, fmt.Sprintf("%g*%g", x.Data[(oh+i)*w+ow+j], f[i][j]))
		}
		rows = append(rows, "("+strings.Join(terms, " + ")+")")
	}
	return fmt.Sprintf("y(%d,%d) = %s = %g", oh, ow, strings.Join(rows, " + "), y)
}

// edges answers question 1 by running the filter over a vertical and a
// horizontal edge and comparing the responses.
func edges() (*Item, error) {
	f := edgeFilter
	rowText := func(r [3]float32) string { return fmt.Sprintf("[%g,%g,%g]", r[0], r[1], r[2]) }
	filter := "[" + rowText(f[0]) + "," + rowText(f[1]) + "," + rowText(f[2]) + "]"
	xv, xh := edgeImage(true), edgeImage(false)
	yv, yh := conv3(xv, f), conv3(xh, f)
	mv, atv := maxAbs(yv)
	mh, ath := maxAbs(yh)
	var sv, sh float64
	for i := range yv.Data {
		sv += float64(max(yv.Data[i], -yv.Data[i]))
		sh += float64(max(yh.Data[i], -yh.Data[i]))
	}
	answer := "detects neither vertical nor horizontal edges"
	switch {
	case mv > mh:
		answer = "detects vertical edges"
	case mh > mv:
		answer = "detects horizontal edges"
	}
	ow := yv.Shape[3]
	// The horizontal image's element at the edge (rows straddling it).
	edgeRow := xh.Shape[2]/2 - 1
	ev := []string{
		"exec.Conv of the filter, valid, stride 1, over two 6x6 images (10 bright, 0 dark):",
	}
	ev = append(ev, sideBySide("vertical edge", "response", grid(xv), grid(yv))...)
	ev = append(ev, sideBySide("horizontal edge", "response", grid(xh), grid(yh))...)
	ev = append(ev,
		fmt.Sprintf("max |response|: vertical edge %g, horizontal edge %g (sum of |response|: %g and %g)", mv, mh, sv, sh),
		"the filter subtracts the right column from the left: it fires where brightness changes",
		"from left to right, that is on a vertical edge, and cancels along a horizontal one")
	return &Item{
		Question: fmt.Sprintf("What does this filter do to a grayscale image? %s", filter),
		Answer:   answer,
		Value:    answer,
		Formula: []string{
			windowSum(xv, f, atv/ow, atv%ow, yv.Data[atv]),
			windowSum(xh, f, edgeRow, ath%ow, yh.Data[edgeRow*ow+ath%ow]),
		},
		Evidence: ev,
		Measured: map[string]float64{"vertical_max_abs": float64(mv), "horizontal_max_abs": float64(mh), "vertical_sum_abs": sv, "horizontal_sum_abs": sh},
	}, nil
}

// paramEvidence counts the tensors exec allocates for net's layers,
// in PyTorch's layouts (PyTorch's default initialisation, drawn by exec.Init).
func paramEvidence(net *calc.Network) (string, int64, error) {
	plan, err := exec.NewPlan(net)
	if err != nil {
		return "", 0, fmt.Errorf("exec: %w", err)
	}
	var parts []string
	var total int64
	for i, p := range plan.Init(1) {
		for _, t := range []struct {
			name string
			t    *exec.Tensor
		}{{"weight", p.Weight}, {"bias", p.Bias}} {
			if t.t == nil {
				continue
			}
			parts = append(parts, fmt.Sprintf("%s.%s %s", net.Nodes[i].Name, t.name, joinInts(t.t.Shape)))
			total += int64(t.t.Len())
		}
	}
	return fmt.Sprintf("exec.Init allocates %s: %s values", strings.Join(parts, " + "), calc.Group(total)), total, nil
}

func fcParams() (*Item, error) {
	in := volume{H: 300, W: 300, C: 3}
	const neurons = 100
	net := newNet(in, calc.Layer{Type: calc.Flatten, StartDim: 1, EndDim: -1}, calc.Layer{Type: calc.Linear, Out: neurons, Bias: true})
	res, err := analyze(net)
	if err != nil {
		return nil, err
	}
	p := res.Total.Params
	pe, count, err := paramEvidence(net)
	if err != nil {
		return nil, err
	}
	if count != p {
		return nil, fmt.Errorf("exec allocates %d values, calc counts %d", count, p)
	}
	return &Item{
		Question: fmt.Sprintf("%dx%d RGB input, not convolutional; the first hidden layer has %d neurons, each fully connected to the input. How many parameters, biases included?", in.H, in.W, neurons),
		Answer:   calc.Group(p),
		Value:    p,
		Input:    in.notations(),
		Formula:  []string{formulaOf(res.Layers[0].Formulas, "flattened"), formulaOf(res.Layers[1].Formulas, "params")},
		Evidence: []string{
			fmt.Sprintf("calc.Analyze: flatten + linear(%d) on %s: %s parameters", neurons, dims(in.shape()), calc.Group(p)),
			pe,
		},
	}, nil
}

func convParams() (*Item, error) {
	in := volume{H: 300, W: 300, C: 3}
	const filters, k = 100, 5
	net := newNet(in, calc.Layer{Type: calc.Conv2d, Out: filters, Kernel: []int64{k}, Bias: true})
	res, err := analyze(net)
	if err != nil {
		return nil, err
	}
	p := res.Total.Params
	pe, count, err := paramEvidence(net)
	if err != nil {
		return nil, err
	}
	if count != p {
		return nil, fmt.Errorf("exec allocates %d values, calc counts %d", count, p)
	}
	return &Item{
		Question: fmt.Sprintf("%dx%d RGB input, a conv layer of %d filters, each %dx%d. How many parameters, biases included?", in.H, in.W, filters, k, k),
		Answer:   calc.Group(p),
		Value:    p,
		Input:    in.notations(),
		Formula:  []string{formulaOf(res.Layers[0].Formulas, "params")},
		Evidence: []string{
			fmt.Sprintf("calc.Analyze: conv2d(%d filters, %dx%d) on %s: %s parameters, any image size", filters, k, k, dims(in.shape()), calc.Group(p)),
			pe,
		},
	}, nil
}

// volumeItem analyses one layer on in and checks the output volume by
// execution.
func volumeItem(question string, in volume, l calc.Layer, extra ...string) (*Item, *calc.LayerResult, error) {
	net := newNet(in, l)
	res, err := analyze(net)
	if err != nil {
		return nil, nil, err
	}
	lr := &res.Layers[0]
	out := volumeOf(lr.Output)
	ee, shape, err := execEvidence(net)
	if err != nil {
		return nil, nil, err
	}
	if got := volumeOf(calc.Shape{int64(shape[0]), int64(shape[1]), int64(shape[2]), int64(shape[3])}); got != out {
		return nil, nil, fmt.Errorf("exec gives %s, calc %s", got.hwc(), out.hwc())
	}
	formula := sizes(lr.Formulas)
	formula = append(formula, extra...)
	return &Item{
		Question: question,
		Answer:   out.hwc(),
		Value:    []int64{out.H, out.W, out.C},
		HWC:      out.hwc(),
		CHW:      out.chw(),
		Input:    in.notations(),
		Formula:  formula,
		Evidence: []string{
			fmt.Sprintf("calc.Analyze: %s on %s -> %s (C x H x W)", typeName(l), dims(in.shape()), dims(lr.Output)),
			ee,
		},
	}, lr, nil
}

func convVolume() (*Item, error) {
	in := volume{H: 63, W: 63, C: 16}
	const filters, k, s = 32, 7, 2
	it, _, err := volumeItem(
		fmt.Sprintf("A %s input convolved with %d filters of %dx%d, stride %d, no padding. Output volume?", in.hwc(), filters, k, k, s),
		in, calc.Layer{Type: calc.Conv2d, Out: filters, Kernel: []int64{k}, Stride: []int64{s}, Bias: true},
		fmt.Sprintf("C = %d, one channel per filter", filters))
	return it, err
}

func padVolume() (*Item, error) {
	in := volume{H: 15, W: 15, C: 8}
	const pad = 2
	it, _, err := volumeItem(
		fmt.Sprintf("A %s input padded with pad=%d. Resulting dimension?", in.hwc(), pad),
		in, calc.Layer{Type: calc.ZeroPad2d, Pad: []int64{pad}},
		fmt.Sprintf("C = %d, padding adds no channels", in.C))
	return it, err
}

func samePadding() (*Item, error) {
	in := volume{H: 63, W: 63, C: 16}
	const filters, k, s = 32, 7, 1
	left, right := calc.SamePadding(in.H, k, s, 1)
	if left != right {
		return nil, fmt.Errorf("same padding of kernel %d is uneven: %d and %d", k, left, right)
	}
	net := newNet(in, calc.Layer{Type: calc.Conv2d, Out: filters, Kernel: []int64{k}, Stride: []int64{s}, PadMode: calc.PadSame, Bias: true})
	res, err := analyze(net)
	if err != nil {
		return nil, err
	}
	out := volumeOf(res.Layers[0].Output)
	if out.H != in.H || out.W != in.W {
		return nil, fmt.Errorf("same padding %d gives %s from %s", left, out.hwc(), in.hwc())
	}
	ee, _, err := execEvidence(net)
	if err != nil {
		return nil, err
	}
	// Any other padding changes the size.
	var others []string
	for _, p := range []int64{left - 1, left + 1} {
		plan, err := exec.NewPlan(newNet(in, calc.Layer{Type: calc.Conv2d, Out: filters, Kernel: []int64{k}, Stride: []int64{s}, Padding: []int64{p}, Bias: true}))
		if err != nil {
			return nil, fmt.Errorf("exec: %w", err)
		}
		others = append(others, fmt.Sprintf("padding %d gives %dx%d", p, plan.Shapes[0][2], plan.Shapes[0][3]))
	}
	formula := []string{fmt.Sprintf("p = (f-1)/2 = (%d-1)/2 = %d", k, left)}
	formula = append(formula, sizes(res.Layers[0].Formulas)...)
	return &Item{
		Question: fmt.Sprintf("A %s input, %d filters of %dx%d, stride %d, and a \"same\" convolution. Padding?", in.hwc(), filters, k, k, s),
		Answer:   strconv.FormatInt(left, 10),
		Value:    left,
		Input:    in.notations(),
		Formula:  formula,
		Evidence: []string{
			fmt.Sprintf("calc.SamePadding(%d, %d, %d, 1) = %d left, %d right", in.H, k, s, left, right),
			fmt.Sprintf("calc.Analyze: conv2d, padding same, on %s -> %s (C x H x W)", dims(in.shape()), dims(res.Layers[0].Output)),
			ee,
			"exec.NewPlan: " + strings.Join(others, ", ") + fmt.Sprintf("; only %d keeps %dx%d", left, in.H, in.W),
		},
	}, nil
}

func poolVolume() (*Item, error) {
	in := volume{H: 32, W: 32, C: 16}
	const f, s = 2, 2
	it, _, err := volumeItem(
		fmt.Sprintf("A %s input, max pooling with stride %d and filter size %d. Output volume?", in.hwc(), s, f),
		in, calc.Layer{Type: calc.MaxPool2d, Kernel: []int64{f}, Stride: []int64{s}},
		fmt.Sprintf("C = %d, pooling works on each channel alone", in.C))
	return it, err
}

// poolInput is the lecture's max pooling example.
var poolInput = []float32{
	1, 3, 2, 1,
	2, 9, 1, 1,
	1, 3, 2, 3,
	5, 6, 1, 2,
}

// poolBackprop answers question 8: nudging the winner of a max-pool
// window moves the output (its derivative is 1), nudging a loser does not
// (0), so the gradient flows back through the pool to the winners.
func poolBackprop() (*Item, error) {
	const n, k, s = 4, 2, 2
	const nudge = 0.5 // below every gap between a winner and a loser of the example
	o := int(calc.PoolOutput(n, k, s, 0, 1, false))
	pool := func(data []float32) *exec.Tensor {
		out := exec.New(1, 1, o, o)
		exec.MaxPool(out, exec.FromData(data, 1, 1, n, n), []int{k, k}, []int{s, s}, []int{0, 0}, []int{1, 1})
		return out
	}
	x := slices.Clone(poolInput)
	y := pool(x)
	sum := func(t *exec.Tensor) (v float32) {
		for _, e := range t.Data {
			v += e
		}
		return v
	}
	// Window (0,0): its winner and a loser, by value.
	win, lose := -1, -1
	for i := range k {
		for j := range k {
			at := i*n + j
			if win < 0 || x[at] > x[win] {
				win = at
			}
		}
	}
	for i := range k {
		for j := range k {
			if at := i*n + j; at != win && (lose < 0 || x[at] > x[lose]) {
				lose = at
			}
		}
	}
	deriv := func(at int) (before, after, d float32) {
		xn := slices.Clone(x)
		xn[at] += nudge
		yn := pool(xn)
		return y.Data[0], yn.Data[0], (yn.Data[0] - y.Data[0]) / nudge
	}
	wb, wa, dw := deriv(win)
	lb, la, dl := deriv(lose)
	// d(sum of outputs)/dx for every input, by finite differences.
	grad := exec.New(1, 1, n, n)
	flows := 0
	for at := range x {
		xn := slices.Clone(x)
		xn[at] += nudge
		grad.Data[at] = (sum(pool(xn)) - sum(y)) / nudge
		if grad.Data[at] != 0 {
			flows++
		}
	}
	answer := "True"
	if dw != 0 || flows > 0 {
		answer = "False"
	}
	rc := func(at int) string { return fmt.Sprintf("x(%d,%d) = %g", at/n, at%n, x[at]) }
	ev := []string{fmt.Sprintf("exec.MaxPool, %dx%d windows, stride %d, on the lecture's %dx%d example:", k, k, s, n, n)}
	ev = append(ev, sideBySide("input x", "output y", grid(exec.FromData(x, 1, 1, n, n)), grid(y))...)
	ev = append(ev,
		fmt.Sprintf("nudge the winner %s by %g: y(0,0) %g -> %g, dy/dx = %g", rc(win), nudge, wb, wa, dw),
		fmt.Sprintf("nudge a loser  %s by %g: y(0,0) %g -> %g, dy/dx = %g", rc(lose), nudge, lb, la, dl),
		"d(sum y)/dx for every input, by finite differences through exec.MaxPool:")
	ev = append(ev, grid(grad)...)
	ev = append(ev, fmt.Sprintf("the gradient reaches the %d winners and stops at the other %d inputs: backprop must", flows, len(x)-flows),
		"route it through the pool, so the pool shapes every derivative below it")
	return &Item{
		Question: `"Because pooling layers have no parameters, they do not affect the backpropagation (derivatives) calculation." True or false?`,
		Answer:   answer,
		Value:    answer == "True",
		Formula: []string{
			"y = max(window): dy/dx = 1 for the window's winner, 0 for the others",
			fmt.Sprintf("dL/dx(winner) = dL/dy * %g, dL/dx(loser) = dL/dy * %g", dw, dl),
		},
		Evidence: ev,
		Measured: map[string]float64{"d_winner": float64(dw), "d_loser": float64(dl), "inputs_with_gradient": float64(flows)},
	}, nil
}
