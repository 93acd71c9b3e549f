package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/exec"
	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
)

// QuizOptions are the quiz command's streams and flags.
type QuizOptions struct {
	IO *IOStreams
	// Number is the course question to print, 1 to 8; 0 prints them all.
	Number   int
	Format   string
	Practice bool
	Count    int
	Seed     uint64
	SeedSet  bool
	Kinds    []string
}

func newQuizCmd(ios *IOStreams, runF func(*QuizOptions) error) *cobra.Command {
	opts := &QuizOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "quiz [N]",
		Short: "The course's week 1 self-check, answered by calc and exec; --practice drills fresh questions",
		Long: `quiz prints the eight questions of the self-check that ends the lecture notes
(Coursera "Convolutional Neural Networks", week 1 quiz), each with its answer
computed now by calc and exec, the worked formula and the run-time evidence.
The course writes volumes H x W x C, the lecture (and cnncalc) C x H x W; every
volume is shown in both.

With --practice, quiz draws fresh questions of the numeric kinds, asks them on
standard input (a terminal or a file of answers, one a line; end of input ends
the session), grades each answer, explains a wrong one with the worked formula
and the likely slip, and ends with the score. Kinds: ` + strings.Join(quizKindNames(), ", ") + `.`,
		Example: `  cnncalc quiz
  cnncalc quiz 4 --format json
  cnncalc quiz --practice --count 10 --kinds conv,pool --seed 7
  cnncalc quiz --practice --seed 7 < answers.txt`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				n, err := strconv.Atoi(args[0])
				if err != nil || n < 1 || n > len(quizCourse) {
					return usageErr("no question %q: the quiz has questions 1 to %d", args[0], len(quizCourse))
				}
				opts.Number = n
			}
			opts.SeedSet = cmd.Flags().Changed("seed")
			if runF != nil {
				return runF(opts)
			}
			return quizRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "table", "output format of the course questions: table or json")
	cmd.Flags().BoolVar(&opts.Practice, "practice", false, "ask fresh questions on standard input and grade the answers")
	cmd.Flags().IntVar(&opts.Count, "count", 5, "practice: number of questions")
	cmd.Flags().Uint64Var(&opts.Seed, "seed", 0, "practice: random seed (default: from the clock, printed)")
	cmd.Flags().StringSliceVar(&opts.Kinds, "kinds", nil, "practice: question kinds, comma-separated (default all): "+strings.Join(quizKindNames(), ","))
	return cmd
}

func quizRun(opts *QuizOptions) error {
	switch opts.Format {
	case "table", "text", "json":
	default:
		return usageErr("unknown --format %q: use table or json", opts.Format)
	}
	if opts.Practice {
		if opts.Number != 0 {
			return usageErr("--practice draws its own questions; leave out the question number")
		}
		if opts.Format == "json" {
			return usageErr("--format json is for the course questions; --practice is interactive")
		}
		return quizPractice(opts)
	}
	var items []*quizItem
	for i, q := range quizCourse {
		if opts.Number != 0 && opts.Number != i+1 {
			continue
		}
		it, err := q()
		if err != nil {
			return fmt.Errorf("question %d: %w", i+1, err)
		}
		it.Number = i + 1
		items = append(items, it)
	}
	if opts.Format == "json" {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(items)
	}
	w := opts.IO.Out
	if opts.Number == 0 {
		fmt.Fprintln(w, `Coursera "Convolutional Neural Networks", week 1 quiz: every answer below is computed now`)
		fmt.Fprintln(w, "by calc (formulas) and exec (float32 kernels). The course writes volumes H x W x C,")
		fmt.Fprintln(w, "the lecture and cnncalc C x H x W.")
	}
	for i, it := range items {
		if opts.Number == 0 || i > 0 {
			fmt.Fprintln(w)
		}
		it.write(w)
	}
	return nil
}

// quizWidth is the width quiz wraps its prose to.
const quizWidth = 96

// quizItem is one course question with its computed answer.
type quizItem struct {
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
	Input    *quizNotations     `json:"input,omitempty"`
	Formula  []string           `json:"formula"`
	Evidence []string           `json:"evidence"`
	Measured map[string]float64 `json:"measured,omitempty"`
}

type quizNotations struct {
	HWC string `json:"hwc"`
	CHW string `json:"chw"`
}

func (it *quizItem) write(w io.Writer) {
	quizWrap(w, fmt.Sprintf("%d. ", it.Number), it.Question)
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

// quizWrap prints text wrapped to quizWidth, the first line after prefix
// and the others indented as far.
func quizWrap(w io.Writer, prefix, text string) {
	ind := strings.Repeat(" ", len(prefix))
	line := prefix
	// Keep "H x W x C" on one line.
	text = strings.ReplaceAll(text, " x ", "\x00x\x00")
	for _, word := range strings.Fields(text) {
		word = strings.ReplaceAll(word, "\x00", " ")
		if len(line) > len(ind) && len(line)+1+len(word) > quizWidth {
			fmt.Fprintln(w, line)
			line = ind
		}
		if len(line) > len(ind) {
			line += " "
		}
		line += word
	}
	fmt.Fprintln(w, line)
}

// quizVolume is a volume in the course's order, H x W x C.
type quizVolume struct{ H, W, C int64 }

func (v quizVolume) hwc() string { return fmt.Sprintf("%dx%dx%d", v.H, v.W, v.C) }
func (v quizVolume) chw() string { return fmt.Sprintf("%dx%dx%d", v.C, v.H, v.W) }

// in returns the volume in the given notation's order.
func (v quizVolume) in(n quizNotation) [3]int64 {
	if n == quizCHW {
		return [3]int64{v.C, v.H, v.W}
	}
	return [3]int64{v.H, v.W, v.C}
}

func (v quizVolume) notations() *quizNotations { return &quizNotations{HWC: v.hwc(), CHW: v.chw()} }

// shape is the volume as a batch-1 tensor shape (N, C, H, W).
func (v quizVolume) shape() calc.Shape { return calc.Shape{1, v.C, v.H, v.W} }

// quizVolumeOf reads (N, C, H, W).
func quizVolumeOf(s calc.Shape) quizVolume { return quizVolume{H: s[2], W: s[3], C: s[1]} }

// quizNotation is the order a volume is written in.
type quizNotation int

const (
	quizHWC quizNotation = iota // the course's H x W x C
	quizCHW                     // the lecture's and PyTorch's C x H x W
)

func (n quizNotation) String() string {
	if n == quizCHW {
		return "C x H x W"
	}
	return "H x W x C"
}

// quizNet chains layers on a batch-1 input, with worked formulas.
func quizNet(in quizVolume, layers ...calc.Layer) *calc.Network {
	net := &calc.Network{Name: "quiz", Input: in.shape(), Explain: true}
	for i, l := range layers {
		net.Nodes = append(net.Nodes, calc.Node{Layer: l, Name: fmt.Sprintf("%s_%d", l.Type, i+1), From: []int{i - 1}})
	}
	return net
}

// quizAnalyze runs calc on net and turns its errors into one.
func quizAnalyze(net *calc.Network) (*calc.Result, error) {
	res, errs := calc.Analyze(net)
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return nil, fmt.Errorf("calc: %s", strings.Join(msgs, "; "))
	}
	return res, nil
}

// quizExec runs a forward pass of a zero input through net with exec and
// returns the output shape and the multiply-accumulates the kernels did.
func quizExec(net *calc.Network) ([]int, int64, error) {
	plan, err := exec.NewPlan(net)
	if err != nil {
		return nil, 0, err
	}
	shape := make([]int, len(net.Input))
	for i, v := range net.Input {
		shape[i] = int(v)
	}
	res, err := plan.Forward(plan.Init(1), exec.New(shape...), exec.Options{})
	if err != nil {
		return nil, 0, err
	}
	var macs int64
	for _, l := range res.Layers {
		macs += l.MACs
	}
	return res.Output.Shape, macs, nil
}

func quizDims(s []int) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, "x")
}

// quizSizes keeps calc's formulas of the spatial sizes (H = ..., W = ...).
func quizSizes(formulas []string) []string {
	var out []string
	for _, f := range formulas {
		if strings.HasPrefix(f, "H = ") || strings.HasPrefix(f, "W = ") {
			out = append(out, f)
		}
	}
	return out
}

// quizFormula returns calc's formula that starts with prefix.
func quizFormula(formulas []string, prefix string) string {
	for _, f := range formulas {
		if strings.HasPrefix(f, prefix) {
			return f
		}
	}
	return ""
}

// quizExecEvidence is the evidence line of a forward pass.
func quizExecEvidence(net *calc.Network) (string, []int, error) {
	shape, macs, err := quizExec(net)
	if err != nil {
		return "", nil, fmt.Errorf("exec: %w", err)
	}
	e := fmt.Sprintf("exec: zero input %s (N x C x H x W) -> %s",
		joinX(net.Input), quizDims(shape))
	if macs > 0 {
		e += fmt.Sprintf(", %s MACs run", calc.Group(macs))
	}
	return e, shape, nil
}

// quizCourse computes the course questions, in the course's order.
var quizCourse = []func() (*quizItem, error){
	quizEdges, quizFCParams, quizConvParams, quizConvVolume,
	quizPadVolume, quizSamePadding, quizPoolVolume, quizPoolBackprop,
}

// quizEdgeFilter is question 1's filter.
var quizEdgeFilter = [3][3]float32{{1, 0, -1}, {1, 0, -1}, {1, 0, -1}}

// quizEdgeImage is a 6x6 grayscale image, bright (10) on one side of an edge
// through its middle and dark (0) on the other: a vertical edge (bright
// left) or a horizontal one (bright top).
func quizEdgeImage(vertical bool) *exec.Tensor {
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

// quizConv3 convolves a (1,1,H,W) image with a 3x3 filter by exec.Conv.
func quizConv3(x *exec.Tensor, f [3][3]float32) *exec.Tensor {
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

func quizMaxAbs(t *exec.Tensor) (m float32, at int) {
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

// quizGrid prints the rows of a (1,1,H,W) tensor.
func quizGrid(t *exec.Tensor) []string {
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

// quizSideBySide prints two grids next to each other under their titles.
func quizSideBySide(lt, rt string, l, r []string) []string {
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

// quizWindowSum writes out one output element of a 3x3 valid convolution
// with stride 1, the numbers substituted.
func quizWindowSum(x *exec.Tensor, f [3][3]float32, oh, ow int, y float32) string {
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

// quizEdges answers question 1 by running the filter over a vertical and a
// horizontal edge and comparing the responses.
func quizEdges() (*quizItem, error) {
	f := quizEdgeFilter
	rowText := func(r [3]float32) string { return fmt.Sprintf("[%g,%g,%g]", r[0], r[1], r[2]) }
	filter := "[" + rowText(f[0]) + "," + rowText(f[1]) + "," + rowText(f[2]) + "]"
	xv, xh := quizEdgeImage(true), quizEdgeImage(false)
	yv, yh := quizConv3(xv, f), quizConv3(xh, f)
	mv, atv := quizMaxAbs(yv)
	mh, ath := quizMaxAbs(yh)
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
	ev = append(ev, quizSideBySide("vertical edge", "response", quizGrid(xv), quizGrid(yv))...)
	ev = append(ev, quizSideBySide("horizontal edge", "response", quizGrid(xh), quizGrid(yh))...)
	ev = append(ev,
		fmt.Sprintf("max |response|: vertical edge %g, horizontal edge %g (sum of |response|: %g and %g)", mv, mh, sv, sh),
		"the filter subtracts the right column from the left: it fires where brightness changes",
		"from left to right, that is on a vertical edge, and cancels along a horizontal one")
	return &quizItem{
		Question: fmt.Sprintf("What does this filter do to a grayscale image? %s", filter),
		Answer:   answer,
		Value:    answer,
		Formula: []string{
			quizWindowSum(xv, f, atv/ow, atv%ow, yv.Data[atv]),
			quizWindowSum(xh, f, edgeRow, ath%ow, yh.Data[edgeRow*ow+ath%ow]),
		},
		Evidence: ev,
		Measured: map[string]float64{"vertical_max_abs": float64(mv), "horizontal_max_abs": float64(mh), "vertical_sum_abs": sv, "horizontal_sum_abs": sh},
	}, nil
}

// quizParamEvidence counts the tensors exec allocates for net's layers,
// in PyTorch's layouts (PyTorch's default initialisation, drawn by exec.Init).
func quizParamEvidence(net *calc.Network) (string, int64, error) {
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
			parts = append(parts, fmt.Sprintf("%s.%s %s", net.Nodes[i].Name, t.name, quizDims(t.t.Shape)))
			total += int64(t.t.Len())
		}
	}
	return fmt.Sprintf("exec.Init allocates %s: %s values", strings.Join(parts, " + "), calc.Group(total)), total, nil
}

func quizFCParams() (*quizItem, error) {
	in := quizVolume{H: 300, W: 300, C: 3}
	const neurons = 100
	net := quizNet(in, calc.Layer{Type: "flatten", StartDim: 1, EndDim: -1}, calc.Layer{Type: "linear", Out: neurons, Bias: true})
	res, err := quizAnalyze(net)
	if err != nil {
		return nil, err
	}
	p := res.Total.Params
	pe, count, err := quizParamEvidence(net)
	if err != nil {
		return nil, err
	}
	if count != p {
		return nil, fmt.Errorf("exec allocates %d values, calc counts %d", count, p)
	}
	return &quizItem{
		Question: fmt.Sprintf("%dx%d RGB input, not convolutional; the first hidden layer has %d neurons, each fully connected to the input. How many parameters, biases included?", in.H, in.W, neurons),
		Answer:   calc.Group(p),
		Value:    p,
		Input:    in.notations(),
		Formula:  []string{quizFormula(res.Layers[0].Formulas, "flattened"), quizFormula(res.Layers[1].Formulas, "params")},
		Evidence: []string{
			fmt.Sprintf("calc.Analyze: flatten + linear(%d) on %s: %s parameters", neurons, dims(in.shape()), calc.Group(p)),
			pe,
		},
	}, nil
}

func quizConvParams() (*quizItem, error) {
	in := quizVolume{H: 300, W: 300, C: 3}
	const filters, k = 100, 5
	net := quizNet(in, calc.Layer{Type: "conv2d", Out: filters, Kernel: []int64{k}, Bias: true})
	res, err := quizAnalyze(net)
	if err != nil {
		return nil, err
	}
	p := res.Total.Params
	pe, count, err := quizParamEvidence(net)
	if err != nil {
		return nil, err
	}
	if count != p {
		return nil, fmt.Errorf("exec allocates %d values, calc counts %d", count, p)
	}
	return &quizItem{
		Question: fmt.Sprintf("%dx%d RGB input, a conv layer of %d filters, each %dx%d. How many parameters, biases included?", in.H, in.W, filters, k, k),
		Answer:   calc.Group(p),
		Value:    p,
		Input:    in.notations(),
		Formula:  []string{quizFormula(res.Layers[0].Formulas, "params")},
		Evidence: []string{
			fmt.Sprintf("calc.Analyze: conv2d(%d filters, %dx%d) on %s: %s parameters, any image size", filters, k, k, dims(in.shape()), calc.Group(p)),
			pe,
		},
	}, nil
}

// quizVolumeItem analyses one layer on in and checks the output volume by
// execution.
func quizVolumeItem(question string, in quizVolume, l calc.Layer, extra ...string) (*quizItem, *calc.LayerResult, error) {
	net := quizNet(in, l)
	res, err := quizAnalyze(net)
	if err != nil {
		return nil, nil, err
	}
	lr := &res.Layers[0]
	out := quizVolumeOf(lr.Output)
	ee, shape, err := quizExecEvidence(net)
	if err != nil {
		return nil, nil, err
	}
	if got := quizVolumeOf(calc.Shape{int64(shape[0]), int64(shape[1]), int64(shape[2]), int64(shape[3])}); got != out {
		return nil, nil, fmt.Errorf("exec gives %s, calc %s", got.hwc(), out.hwc())
	}
	formula := quizSizes(lr.Formulas)
	formula = append(formula, extra...)
	return &quizItem{
		Question: question,
		Answer:   out.hwc(),
		Value:    []int64{out.H, out.W, out.C},
		HWC:      out.hwc(),
		CHW:      out.chw(),
		Input:    in.notations(),
		Formula:  formula,
		Evidence: []string{
			fmt.Sprintf("calc.Analyze: %s on %s -> %s (C x H x W)", l.Type, dims(in.shape()), dims(lr.Output)),
			ee,
		},
	}, lr, nil
}

func quizConvVolume() (*quizItem, error) {
	in := quizVolume{H: 63, W: 63, C: 16}
	const filters, k, s = 32, 7, 2
	it, _, err := quizVolumeItem(
		fmt.Sprintf("A %s input convolved with %d filters of %dx%d, stride %d, no padding. Output volume?", in.hwc(), filters, k, k, s),
		in, calc.Layer{Type: "conv2d", Out: filters, Kernel: []int64{k}, Stride: []int64{s}, Bias: true},
		fmt.Sprintf("C = %d, one channel per filter", filters))
	return it, err
}

func quizPadVolume() (*quizItem, error) {
	in := quizVolume{H: 15, W: 15, C: 8}
	const pad = 2
	it, _, err := quizVolumeItem(
		fmt.Sprintf("A %s input padded with pad=%d. Resulting dimension?", in.hwc(), pad),
		in, calc.Layer{Type: "zeropad2d", Pad: []int64{pad}},
		fmt.Sprintf("C = %d, padding adds no channels", in.C))
	return it, err
}

func quizSamePadding() (*quizItem, error) {
	in := quizVolume{H: 63, W: 63, C: 16}
	const filters, k, s = 32, 7, 1
	left, right := calc.SamePadding(in.H, k, s, 1)
	if left != right {
		return nil, fmt.Errorf("same padding of kernel %d is uneven: %d and %d", k, left, right)
	}
	net := quizNet(in, calc.Layer{Type: "conv2d", Out: filters, Kernel: []int64{k}, Stride: []int64{s}, PadMode: calc.PadSame, Bias: true})
	res, err := quizAnalyze(net)
	if err != nil {
		return nil, err
	}
	out := quizVolumeOf(res.Layers[0].Output)
	if out.H != in.H || out.W != in.W {
		return nil, fmt.Errorf("same padding %d gives %s from %s", left, out.hwc(), in.hwc())
	}
	ee, _, err := quizExecEvidence(net)
	if err != nil {
		return nil, err
	}
	// Any other padding changes the size.
	var others []string
	for _, p := range []int64{left - 1, left + 1} {
		plan, err := exec.NewPlan(quizNet(in, calc.Layer{Type: "conv2d", Out: filters, Kernel: []int64{k}, Stride: []int64{s}, Padding: []int64{p}, Bias: true}))
		if err != nil {
			return nil, fmt.Errorf("exec: %w", err)
		}
		others = append(others, fmt.Sprintf("padding %d gives %dx%d", p, plan.Shapes[0][2], plan.Shapes[0][3]))
	}
	formula := []string{fmt.Sprintf("p = (f-1)/2 = (%d-1)/2 = %d", k, left)}
	formula = append(formula, quizSizes(res.Layers[0].Formulas)...)
	return &quizItem{
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

func quizPoolVolume() (*quizItem, error) {
	in := quizVolume{H: 32, W: 32, C: 16}
	const f, s = 2, 2
	it, _, err := quizVolumeItem(
		fmt.Sprintf("A %s input, max pooling with stride %d and filter size %d. Output volume?", in.hwc(), s, f),
		in, calc.Layer{Type: "maxpool2d", Kernel: []int64{f}, Stride: []int64{s}},
		fmt.Sprintf("C = %d, pooling works on each channel alone", in.C))
	return it, err
}

// quizPoolInput is the lecture's max pooling example.
var quizPoolInput = []float32{
	1, 3, 2, 1,
	2, 9, 1, 1,
	1, 3, 2, 3,
	5, 6, 1, 2,
}

// quizPoolBackprop answers question 8: nudging the winner of a max-pool
// window moves the output (its derivative is 1), nudging a loser does not
// (0), so the gradient flows back through the pool to the winners.
func quizPoolBackprop() (*quizItem, error) {
	const n, k, s = 4, 2, 2
	const nudge = 0.5 // below every gap between a winner and a loser of the example
	o := int(calc.PoolOutput(n, k, s, 0, 1, false))
	pool := func(data []float32) *exec.Tensor {
		out := exec.New(1, 1, o, o)
		exec.MaxPool(out, exec.FromData(data, 1, 1, n, n), []int{k, k}, []int{s, s}, []int{0, 0}, []int{1, 1})
		return out
	}
	x := slices.Clone(quizPoolInput)
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
	ev = append(ev, quizSideBySide("input x", "output y", quizGrid(exec.FromData(x, 1, 1, n, n)), quizGrid(y))...)
	ev = append(ev,
		fmt.Sprintf("nudge the winner %s by %g: y(0,0) %g -> %g, dy/dx = %g", rc(win), nudge, wb, wa, dw),
		fmt.Sprintf("nudge a loser  %s by %g: y(0,0) %g -> %g, dy/dx = %g", rc(lose), nudge, lb, la, dl),
		"d(sum y)/dx for every input, by finite differences through exec.MaxPool:")
	ev = append(ev, quizGrid(grad)...)
	ev = append(ev, fmt.Sprintf("the gradient reaches the %d winners and stops at the other %d inputs: backprop must", flows, len(x)-flows),
		"route it through the pool, so the pool shapes every derivative below it")
	return &quizItem{
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

// Practice.

// quizKind is a kind of practice question.
type quizKind struct {
	name, desc string
	gen        func(r *rand.Rand) (*quizProblem, error)
}

var quizKinds = []quizKind{
	{"conv", "conv output volume", quizGenConv},
	{"pad", "padded volume", quizGenPad},
	{"same", "same padding", quizGenSame},
	{"pool", "pooling output volume", quizGenPool},
	{"convparams", "conv layer parameters", quizGenConvParams},
	{"fcparams", "fully connected layer parameters", quizGenFCParams},
	{"macs", "a conv layer's MACs", quizGenMACs},
	{"rf", "receptive field of a stack", quizGenRF},
	{"dilation", "conv output volume with dilation", quizGenDilation},
}

func quizKindNames() []string {
	names := make([]string, len(quizKinds))
	for i, k := range quizKinds {
		names[i] = k.name
	}
	return names
}

// quizProblem is a generated question and its answer, computed by calc.
type quizProblem struct {
	Kind string
	Text string
	// Volume answers: Vol in the notation asked (Notation). Number answers: Num.
	IsVolume bool
	Vol      quizVolume
	Notation quizNotation
	Num      int64
	Unit     string
	Formula  []string
	Slips    []quizSlip
	// Net is the layer (or stack) the answer was computed on.
	Net *calc.Network
}

// quizSlip is a wrong answer a known slip gives, and the explanation.
type quizSlip struct {
	Vol quizVolume
	Num int64
	Why string
}

func (q *quizProblem) answerText() string {
	if q.IsVolume {
		if q.Notation == quizCHW {
			return fmt.Sprintf("%s (C x H x W) = %s (H x W x C)", q.Vol.chw(), q.Vol.hwc())
		}
		return fmt.Sprintf("%s (H x W x C) = %s (C x H x W)", q.Vol.hwc(), q.Vol.chw())
	}
	s := calc.Group(q.Num)
	if q.Num >= 10000 {
		s += " (" + calc.Human(q.Num) + ")"
	}
	if q.Unit != "" {
		s += " " + q.Unit
	}
	return s
}

// quizPractice asks opts.Count generated questions on standard input.
func quizPractice(opts *QuizOptions) error {
	if opts.Count < 1 || opts.Count > 1000 {
		return usageErr("--count must be between 1 and 1000, got %d", opts.Count)
	}
	kinds, err := quizSelectKinds(opts.Kinds)
	if err != nil {
		return err
	}
	seed := opts.Seed
	if !opts.SeedSet {
		seed = uint64(time.Now().UnixNano())
	}
	problems, err := quizGenerate(seed, opts.Count, kinds)
	if err != nil {
		return err
	}
	w := opts.IO.Out
	terminal := false
	if f, ok := opts.IO.In.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		terminal = true
	}
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.name
	}
	fmt.Fprintf(w, "Practice: %d questions, seed %d (--seed %d asks them again).\n", len(problems), seed, seed)
	fmt.Fprintf(w, "Kinds: %s.\n", strings.Join(names, ", "))
	fmt.Fprintln(w, "Answer on one line: 29x29x32 or 29 29 32 in the order asked; 7600, 7,600 or 7.6K; skip.")
	sc := bufio.NewScanner(opts.IO.In)
	right, asked := 0, 0
session:
	for i, q := range problems {
		fmt.Fprintln(w)
		quizWrap(w, fmt.Sprintf("%d/%d [%s] ", i+1, len(problems), q.Kind), q.Text)
		for {
			fmt.Fprint(w, "> ")
			if !sc.Scan() {
				fmt.Fprintln(w)
				fmt.Fprintln(w, "(end of input)")
				break session
			}
			line := sc.Text()
			if !terminal {
				fmt.Fprintln(w, line)
			}
			g := q.grade(line)
			if g.malformed != "" {
				fmt.Fprintln(w, g.malformed)
				continue
			}
			asked++
			if g.right {
				right++
				fmt.Fprintf(w, "right: %s\n", q.answerText())
				if g.note != "" {
					fmt.Fprintf(w, "  %s\n", g.note)
				}
				break
			}
			if g.skipped {
				fmt.Fprintf(w, "skipped: the answer is %s\n", q.answerText())
			} else {
				fmt.Fprintf(w, "wrong: the answer is %s\n", q.answerText())
			}
			for _, f := range q.Formula {
				fmt.Fprintf(w, "  %s\n", f)
			}
			if g.note != "" {
				quizWrap(w, "  ", g.note)
			}
			break
		}
	}
	fmt.Fprintf(w, "\nScore: %d/%d\n", right, asked)
	return sc.Err()
}

func quizSelectKinds(names []string) ([]quizKind, error) {
	if len(names) == 0 {
		return quizKinds, nil
	}
	var out []quizKind
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		i := slices.IndexFunc(quizKinds, func(k quizKind) bool { return k.name == n })
		if i < 0 {
			return nil, usageErr("unknown kind %q: use %s", n, strings.Join(quizKindNames(), ", "))
		}
		if !slices.ContainsFunc(out, func(k quizKind) bool { return k.name == n }) {
			out = append(out, quizKinds[i])
		}
	}
	return out, nil
}

// quizSeedStream keeps practice streams apart from exec's init streams.
const quizSeedStream = 0x7175697a // "quiz"

// quizGenerate draws count problems from kinds, deterministically from seed.
func quizGenerate(seed uint64, count int, kinds []quizKind) ([]*quizProblem, error) {
	r := rand.New(rand.NewPCG(seed, quizSeedStream))
	out := make([]*quizProblem, count)
	for i := range out {
		k := kinds[r.IntN(len(kinds))]
		q, err := k.gen(r)
		if err != nil {
			return nil, fmt.Errorf("generating a %s question: %w", k.name, err)
		}
		q.Kind = k.name
		out[i] = q
	}
	return out, nil
}

func quizPick(r *rand.Rand, v ...int64) int64 { return v[r.IntN(len(v))] }

func quizBetween(r *rand.Rand, lo, hi int64) int64 { return lo + r.Int64N(hi-lo+1) }

// quizInput draws an input volume: square three times out of four.
func quizInput(r *rand.Rand, lo, hi int64, channels ...int64) quizVolume {
	v := quizVolume{H: quizBetween(r, lo, hi), C: quizPick(r, channels...)}
	v.W = v.H
	if r.IntN(4) == 0 {
		v.W = quizBetween(r, lo, hi)
	}
	return v
}

func quizNotationOf(r *rand.Rand) quizNotation {
	if r.IntN(3) == 0 {
		return quizCHW
	}
	return quizHWC
}

// quizShow writes a volume in a notation: "63x63x16 (H x W x C)".
func quizShow(v quizVolume, n quizNotation) string {
	a := v.in(n)
	return fmt.Sprintf("%dx%dx%d (%s)", a[0], a[1], a[2], n)
}

// quizTries bounds rejection sampling; every generator succeeds far sooner.
const quizTries = 1000

// quizVolumeProblem analyses a one-layer network and fills a volume answer.
func quizVolumeProblem(r *rand.Rand, in quizVolume, l calc.Layer) (*quizProblem, *calc.LayerResult, error) {
	net := quizNet(in, l)
	res, err := quizAnalyze(net)
	if err != nil {
		return nil, nil, err
	}
	lr := &res.Layers[0]
	return &quizProblem{IsVolume: true, Vol: quizVolumeOf(lr.Output), Notation: quizNotationOf(r), Net: net, Formula: quizSizes(lr.Formulas)}, lr, nil
}

// convOut is the course's output size floor((n + 2p - d(f-1) - 1)/s) + 1.
func quizConvOut(n, f, s, p, d int64) int64 { return calc.ConvOutput(n, f, s, p, p, d) }

func quizGenConv(r *rand.Rand) (*quizProblem, error) {
	for range quizTries {
		in := quizInput(r, 5, 40, 1, 3, 8, 16)
		f, k, s := quizPick(r, 4, 8, 16, 32), quizPick(r, 1, 3, 5, 7), quizPick(r, 1, 1, 2, 2, 3)
		p := quizBetween(r, 0, k/2)
		if k > min(in.H, in.W)+2*p {
			continue
		}
		q, _, err := quizVolumeProblem(r, in, calc.Layer{Type: "conv2d", Out: f, Kernel: []int64{k}, Stride: []int64{s}, Padding: []int64{p}, Bias: true})
		if err != nil {
			return nil, err
		}
		q.Text = fmt.Sprintf("Input %s. A conv layer of %d filters of %dx%d, stride %d, padding %d. Output volume? Answer as %s.",
			quizShow(in, q.Notation), f, k, k, s, p, q.Notation)
		q.Formula = append(q.Formula, fmt.Sprintf("C = %d, one channel per filter", f))
		q.Slips = quizConvSlips(in, q.Vol, f, k, s, p, 1)
		return q, nil
	}
	return nil, fmt.Errorf("no valid question in %d tries", quizTries)
}

// quizConvSlips are the volumes the usual slips of a conv layer give.
func quizConvSlips(in, out quizVolume, f, k, s, p, d int64) []quizSlip {
	size := func(n, k, s, p, d int64) int64 { return quizConvOut(n, k, s, p, d) }
	vol := func(h, w, c int64) quizVolume { return quizVolume{h, w, c} }
	var slips []quizSlip
	if d > 1 {
		slips = append(slips,
			quizSlip{Vol: vol(size(in.H, k, s, p, 1), size(in.W, k, s, p, 1), f),
				Why: fmt.Sprintf("you ignored the dilation: a %dx%d kernel with dilation %d spans %d*(%d-1)+1 = %d pixels", k, k, d, d, k, d*(k-1)+1)},
			quizSlip{Vol: vol((in.H+2*p-d*k)/s+1, (in.W+2*p-d*k)/s+1, f),
				Why: fmt.Sprintf("you took the dilated span as d*f = %d; it is d*(f-1)+1 = %d", d*k, d*(k-1)+1)})
	}
	slips = append(slips,
		quizSlip{Vol: vol(out.H-1, out.W-1, f), Why: "you forgot the +1: the first window sits at position 0"},
		quizSlip{Vol: vol(out.H, out.W, in.C), Why: fmt.Sprintf("you kept the input's %d channels; a conv layer outputs one channel per filter (%d)", in.C, f)})
	if s > 1 {
		slips = append(slips, quizSlip{Vol: vol(size(in.H, k, 1, p, d), size(in.W, k, 1, p, d), f), Why: fmt.Sprintf("you ignored the stride %d: divide by it before adding 1", s)})
		ch := func(n int64) int64 { return (n+2*p-d*(k-1)-1+s-1)/s + 1 }
		slips = append(slips, quizSlip{Vol: vol(ch(in.H), ch(in.W), f), Why: "you rounded up; the division rounds down (a window must fit entirely)"})
	}
	if p > 0 {
		slips = append(slips,
			quizSlip{Vol: vol(size(in.H, k, s, 0, d), size(in.W, k, s, 0, d), f), Why: fmt.Sprintf("you left out the padding: add 2p = %d", 2*p)},
			quizSlip{Vol: vol(quizConvOut1(in.H, k, s, p, d), quizConvOut1(in.W, k, s, p, d), f), Why: fmt.Sprintf("you padded one side only: add 2p = %d, not p", 2*p)})
	}
	return slips
}

// quizConvOut1 is the output size with padding on one side only.
func quizConvOut1(n, k, s, p, d int64) int64 { return calc.ConvOutput(n, k, s, p, 0, d) }

func quizGenDilation(r *rand.Rand) (*quizProblem, error) {
	for range quizTries {
		in := quizInput(r, 9, 40, 1, 3, 8, 16)
		f, k, d, s := quizPick(r, 4, 8, 16, 32), quizPick(r, 3, 5), quizPick(r, 2, 3), quizPick(r, 1, 2)
		p := quizBetween(r, 0, d*(k-1)/2)
		if d*(k-1)+1 > min(in.H, in.W)+2*p {
			continue
		}
		q, _, err := quizVolumeProblem(r, in, calc.Layer{Type: "conv2d", Out: f, Kernel: []int64{k}, Stride: []int64{s}, Padding: []int64{p}, Dilation: []int64{d}, Bias: true})
		if err != nil {
			return nil, err
		}
		q.Text = fmt.Sprintf("Input %s. A conv layer of %d filters of %dx%d, dilation %d, stride %d, padding %d. Output volume? Answer as %s.",
			quizShow(in, q.Notation), f, k, k, d, s, p, q.Notation)
		q.Formula = append(q.Formula, fmt.Sprintf("C = %d, one channel per filter", f))
		q.Slips = quizConvSlips(in, q.Vol, f, k, s, p, d)
		return q, nil
	}
	return nil, fmt.Errorf("no valid question in %d tries", quizTries)
}

func quizGenPad(r *rand.Rand) (*quizProblem, error) {
	in := quizInput(r, 5, 64, 1, 3, 8, 16, 32)
	p := quizBetween(r, 1, 4)
	q, _, err := quizVolumeProblem(r, in, calc.Layer{Type: "zeropad2d", Pad: []int64{p}})
	if err != nil {
		return nil, err
	}
	q.Text = fmt.Sprintf("Input %s, zero-padded with pad=%d. Resulting volume? Answer as %s.", quizShow(in, q.Notation), p, q.Notation)
	q.Formula = append(q.Formula, fmt.Sprintf("C = %d, padding adds no channels", in.C))
	q.Slips = []quizSlip{
		{Vol: quizVolume{in.H + p, in.W + p, in.C}, Why: fmt.Sprintf("you padded one side only: pad=%d adds %d rows above and %d below", p, p, p)},
		{Vol: quizVolume{in.H + 2*p, in.W + 2*p, in.C + 2*p}, Why: "you padded the channels too; padding adds rows and columns only"},
	}
	return q, nil
}

func quizGenPool(r *rand.Rand) (*quizProblem, error) {
	for range quizTries {
		in := quizInput(r, 4, 64, 1, 3, 8, 16, 32)
		f, s := quizPick(r, 2, 2, 3), quizPick(r, 1, 2, 2, 3)
		if f > min(in.H, in.W) {
			continue
		}
		kind := quizPick(r, 0, 1)
		typ, name := "maxpool2d", "max"
		if kind == 1 {
			typ, name = "avgpool2d", "average"
		}
		q, _, err := quizVolumeProblem(r, in, calc.Layer{Type: typ, Kernel: []int64{f}, Stride: []int64{s}, CountIncludePad: true})
		if err != nil {
			return nil, err
		}
		q.Text = fmt.Sprintf("Input %s, %s pooling with filter size %d and stride %d. Output volume? Answer as %s.",
			quizShow(in, q.Notation), name, f, s, q.Notation)
		q.Formula = append(q.Formula, fmt.Sprintf("C = %d, pooling works on each channel alone", in.C))
		q.Slips = []quizSlip{
			{Vol: quizVolume{q.Vol.H - 1, q.Vol.W - 1, in.C}, Why: "you forgot the +1: the first window sits at position 0"},
			{Vol: quizVolume{in.H / s, in.W / s, in.C}, Why: fmt.Sprintf("you divided the input by the stride; the filter size %d counts: floor((n - f)/s) + 1", f)},
			{Vol: quizVolume{(in.H-f+s-1)/s + 1, (in.W-f+s-1)/s + 1, in.C}, Why: "you rounded up; the division rounds down (a window must fit entirely)"},
			{Vol: quizVolume{q.Vol.H, q.Vol.W, 1}, Why: fmt.Sprintf("pooling keeps every channel: %d in, %d out", in.C, in.C)},
		}
		return q, nil
	}
	return nil, fmt.Errorf("no valid question in %d tries", quizTries)
}

func quizGenSame(r *rand.Rand) (*quizProblem, error) {
	in := quizInput(r, 7, 64, 1, 3, 8, 16)
	f, k := quizPick(r, 8, 16, 32, 64), quizPick(r, 3, 5, 7, 9, 11)
	if k > min(in.H, in.W) {
		k = 3
	}
	if k%2 == 0 {
		return nil, fmt.Errorf("same padding needs an odd kernel, got %d", k)
	}
	net := quizNet(in, calc.Layer{Type: "conv2d", Out: f, Kernel: []int64{k}, PadMode: calc.PadSame, Bias: true})
	res, err := quizAnalyze(net)
	if err != nil {
		return nil, err
	}
	p, right := calc.SamePadding(in.H, k, 1, 1)
	if out := quizVolumeOf(res.Layers[0].Output); p != right || out.H != in.H || out.W != in.W {
		return nil, fmt.Errorf("same padding %d, %d gives %s from %s", p, right, out.hwc(), in.hwc())
	}
	n := quizNotationOf(r)
	q := &quizProblem{
		Text: fmt.Sprintf("Input %s, %d filters of %dx%d, stride 1, a \"same\" convolution. Padding on each side?", quizShow(in, n), f, k, k),
		Num:  p, Net: net,
		Formula: append([]string{fmt.Sprintf("p = (f-1)/2 = (%d-1)/2 = %d", k, p)}, quizSizes(res.Layers[0].Formulas)...),
		Slips: []quizSlip{
			{Num: k - 1, Why: fmt.Sprintf("f-1 = %d is the padding of both sides together; each side gets half", k-1)},
			{Num: (k + 1) / 2, Why: "p = (f-1)/2, not (f+1)/2"},
			{Num: k, Why: "p = (f-1)/2, not f"},
			{Num: in.H, Why: "that is the output size; the question asks for the padding"},
		},
	}
	return q, nil
}

// quizNumberProblem analyses net and fills a number answer.
func quizNumberProblem(net *calc.Network, value func(*calc.Result) int64, formulas func(*calc.Result) []string) (*quizProblem, *calc.Result, error) {
	res, err := quizAnalyze(net)
	if err != nil {
		return nil, nil, err
	}
	return &quizProblem{Num: value(res), Net: net, Formula: formulas(res)}, res, nil
}

func quizGenConvParams(r *rand.Rand) (*quizProblem, error) {
	in := quizInput(r, 16, 300, 1, 3, 16, 32, 64)
	f, k := quizPick(r, 8, 16, 32, 64, 100, 128), quizPick(r, 1, 3, 5, 7)
	return quizConvParamsProblem(in, quizNotationOf(r), f, k)
}

// quizConvParamsProblem asks for the parameters of f filters of k x k on in.
func quizConvParamsProblem(in quizVolume, n quizNotation, f, k int64) (*quizProblem, error) {
	q, _, err := quizNumberProblem(quizNet(in, calc.Layer{Type: "conv2d", Out: f, Kernel: []int64{k}, Bias: true}),
		func(res *calc.Result) int64 { return res.Total.Params },
		func(res *calc.Result) []string { return []string{quizFormula(res.Layers[0].Formulas, "params")} })
	if err != nil {
		return nil, err
	}
	q.Unit = "parameters"
	q.Text = fmt.Sprintf("Input %s. A conv layer of %d filters, each %dx%d. How many parameters, biases included?", quizShow(in, n), f, k, k)
	q.Slips = []quizSlip{
		{Num: f * k * k * in.C, Why: fmt.Sprintf("you forgot the biases: one per filter, + %d", f)},
		{Num: f * (k*k + 1), Why: fmt.Sprintf("you forgot the input channels: each filter is %dx%dx%d", k, k, in.C)},
		{Num: f * k * k, Why: fmt.Sprintf("you forgot the input channels (each filter is %dx%dx%d) and the %d biases", k, k, in.C, f)},
		{Num: f * (k*k*in.H + 1), Why: fmt.Sprintf("you multiplied by the height %d; a filter spans the channels (%d), not the image", in.H, in.C)},
	}
	return q, nil
}

func quizGenFCParams(r *rand.Rand) (*quizProblem, error) {
	in := quizInput(r, 4, 64, 1, 3)
	if r.IntN(3) == 0 {
		in.H = quizPick(r, 100, 224, 300)
		in.W = in.H
	}
	units := quizPick(r, 10, 64, 100, 128, 256, 1000)
	n := quizNotationOf(r)
	q, _, err := quizNumberProblem(quizNet(in, calc.Layer{Type: "flatten", StartDim: 1, EndDim: -1}, calc.Layer{Type: "linear", Out: units, Bias: true}),
		func(res *calc.Result) int64 { return res.Total.Params },
		func(res *calc.Result) []string {
			return []string{quizFormula(res.Layers[0].Formulas, "flattened"), quizFormula(res.Layers[1].Formulas, "params")}
		})
	if err != nil {
		return nil, err
	}
	q.Unit = "parameters"
	q.Text = fmt.Sprintf("Input %s, flattened, into a fully connected layer of %d neurons. How many parameters, biases included?", quizShow(in, n), units)
	q.Slips = []quizSlip{
		{Num: in.H * in.W * in.C * units, Why: fmt.Sprintf("you forgot the biases: one per neuron, + %d", units)},
		{Num: in.H*in.W*units + units, Why: fmt.Sprintf("you forgot the channels: each neuron sees %d*%d*%d inputs", in.H, in.W, in.C)},
		{Num: in.H * in.W * units, Why: fmt.Sprintf("you forgot the channels (each neuron sees %d*%d*%d inputs) and the %d biases", in.H, in.W, in.C, units)},
	}
	return q, nil
}

func quizGenMACs(r *rand.Rand) (*quizProblem, error) {
	for range quizTries {
		in := quizInput(r, 8, 40, 1, 3, 8, 16)
		f, k, s := quizPick(r, 4, 8, 16, 32), quizPick(r, 1, 3, 5), quizPick(r, 1, 1, 2)
		p := quizBetween(r, 0, k/2)
		if k > min(in.H, in.W)+2*p {
			continue
		}
		n := quizNotationOf(r)
		q, res, err := quizNumberProblem(quizNet(in, calc.Layer{Type: "conv2d", Out: f, Kernel: []int64{k}, Stride: []int64{s}, Padding: []int64{p}, Bias: true}),
			func(res *calc.Result) int64 { return res.Total.MACs },
			func(res *calc.Result) []string {
				return append(quizSizes(res.Layers[0].Formulas), quizFormula(res.Layers[0].Formulas, "macs"))
			})
		if err != nil {
			return nil, err
		}
		out := quizVolumeOf(res.Layers[0].Output)
		q.Unit = "MACs"
		q.Text = fmt.Sprintf("Input %s. A conv layer of %d filters of %dx%d, stride %d, padding %d. How many multiply-accumulates (MACs) for one image, biases left out?",
			quizShow(in, n), f, k, k, s, p)
		q.Formula = append(q.Formula, "one MAC per weight per output position: out H * out W * filters * (C_in * f * f)")
		q.Slips = []quizSlip{
			{Num: out.H * out.W * f * k * k, Why: fmt.Sprintf("you forgot the input channels: each output sums %dx%dx%d products", k, k, in.C)},
			{Num: in.H * in.W * f * k * k * in.C, Why: fmt.Sprintf("you used the input size %dx%d; count the output positions, %dx%d", in.H, in.W, out.H, out.W)},
			{Num: 2 * q.Num, Why: "that is FLOPs (a multiply and an add each); a MAC counts the pair once"},
			{Num: out.H * out.W * f * (k*k*in.C + 1), Why: "you counted the bias as a MAC; biases are left out"},
		}
		return q, nil
	}
	return nil, fmt.Errorf("no valid question in %d tries", quizTries)
}

func quizGenRF(r *rand.Rand) (*quizProblem, error) {
	in := quizVolume{H: 128, W: 128, C: 3}
	layers := make([]calc.Layer, quizBetween(r, 2, 4))
	var desc []string
	for i := range layers {
		if i > 0 && r.IntN(4) == 0 {
			layers[i] = calc.Layer{Type: "maxpool2d", Kernel: []int64{2}, Stride: []int64{2}}
			desc = append(desc, "maxpool 2x2 stride 2")
			continue
		}
		k, s := quizPick(r, 1, 3, 3, 5, 7), quizPick(r, 1, 1, 2)
		layers[i] = calc.Layer{Type: "conv2d", Out: 8, Kernel: []int64{k}, Stride: []int64{s}, Padding: []int64{k / 2}, Bias: true}
		desc = append(desc, fmt.Sprintf("conv %dx%d stride %d", k, k, s))
	}
	net := quizNet(in, layers...)
	res, err := quizAnalyze(net)
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
	q := &quizProblem{
		Text:    fmt.Sprintf("A stack on a %s image: %s (convs padded to keep the size). How wide, in input pixels, is the receptive field of one output unit?", quizShow(in, quizHWC), strings.Join(desc, ", then ")),
		Num:     rPrev,
		Unit:    "pixels",
		Net:     net,
		Formula: append(formula, "each layer adds (f-1) times the jump so far; the jump multiplies by each stride"),
		Slips: []quizSlip{
			{Num: 1 + sumK1, Why: "you ignored the strides: after a stride s layer each further pixel of kernel reaches s times farther (the jump)"},
			{Num: sumK, Why: "you added the kernel sizes; each layer adds (f-1) times the jump, starting from 1"},
		},
	}
	return q, nil
}

// Grading.

type quizGrade struct {
	right, skipped bool
	malformed      string
	note           string // on a right answer, a notation remark; on a wrong one, the likely slip
}

var (
	quizThousands = regexp.MustCompile(`^\d{1,3}([, _]\d{3})+(\.\d+)?[kmg]?$`)
	quizNumber    = regexp.MustCompile(`^(\d+)(?:\.(\d+))?([kmg]?)$`)
	quizPrefix    = regexp.MustCompile(`^[a-z_ ]*[=:]\s*`)
	quizUnit      = regexp.MustCompile(`\s*(parameters|params|param|weights|macs|mac|pixels|pixel|px)$`)
)

// quizParseNumber reads 27000100, 27,000,100, 27 000 100, 27.0001M, 7.6K.
// It returns ok=false when s is not a whole number.
func quizParseNumber(s string) (int64, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if quizThousands.MatchString(s) {
		s = strings.NewReplacer(",", "", " ", "", "_", "").Replace(s)
	}
	s = strings.ReplaceAll(s, " ", "")
	m := quizNumber.FindStringSubmatch(s)
	if m == nil || len(m[1])+len(m[2]) > 17 {
		return 0, false
	}
	v, _ := strconv.ParseInt(m[1]+m[2], 10, 64)
	exp := map[string]int{"": 0, "k": 3, "m": 6, "g": 9}[m[3]] - len(m[2])
	for ; exp > 0; exp-- {
		if v > (1<<62)/10 {
			return 0, false
		}
		v *= 10
	}
	for ; exp < 0; exp++ {
		if v%10 != 0 {
			return 0, false
		}
		v /= 10
	}
	return v, true
}

// quizParseVolume reads three numbers: 29x29x32, 29 29 32, 29×29×32, (29, 29, 32).
func quizParseVolume(s string) ([3]int64, bool) {
	var v [3]int64
	fields := strings.FieldsFunc(s, func(r rune) bool {
		return r == 'x' || r == 'X' || r == '×' || r == '*' || r == ',' || r == ' ' || r == '\t'
	})
	if len(fields) != 3 {
		return v, false
	}
	for i, f := range fields {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil || n < 0 {
			return v, false
		}
		v[i] = n
	}
	return v, true
}

// grade judges one answer line.
func (q *quizProblem) grade(line string) quizGrade {
	s := strings.ToLower(strings.TrimSpace(line))
	switch s {
	case "skip", "s", "?", "pass":
		return quizGrade{skipped: true}
	case "":
		return quizGrade{malformed: "no answer: type one, or skip"}
	}
	s = strings.Trim(s, "()[]{} ")
	s = quizPrefix.ReplaceAllString(s, "")
	s = strings.TrimSpace(quizUnit.ReplaceAllString(s, ""))
	if q.IsVolume {
		got, ok := quizParseVolume(s)
		if !ok {
			return quizGrade{malformed: fmt.Sprintf("cannot read %q as a volume: give three numbers in the order asked (%s), e.g. 29x29x32 or 29 29 32", line, q.Notation)}
		}
		return q.gradeVolume(got)
	}
	got, ok := quizParseNumber(s)
	if !ok {
		return quizGrade{malformed: fmt.Sprintf("cannot read %q as a whole number: e.g. 7600, 7,600 or 7.6K", line)}
	}
	if got == q.Num {
		return quizGrade{right: true}
	}
	for _, sl := range q.Slips {
		if sl.Num == got && sl.Num != q.Num {
			return quizGrade{note: "likely slip: " + sl.Why + "."}
		}
	}
	return quizGrade{note: fmt.Sprintf("you answered %s.", calc.Group(got))}
}

// gradeVolume judges a volume answer written in the order got. A volume in
// the other notation is accepted when the channel count's place tells the
// notation apart (C differs from H and W); otherwise it would read as another
// volume in the asked notation, and the answer says which notation is asked.
func (q *quizProblem) gradeVolume(got [3]int64) quizGrade {
	want := q.Vol.in(q.Notation)
	other := quizHWC
	if q.Notation == quizHWC {
		other = quizCHW
	}
	alt := q.Vol.in(other)
	switch {
	case got == want:
		return quizGrade{right: true}
	case got == alt:
		if q.Vol.C != q.Vol.H && q.Vol.C != q.Vol.W {
			return quizGrade{right: true, note: fmt.Sprintf("(that is %s; the question asked for %s, where it is %dx%dx%d)", other, q.Notation, want[0], want[1], want[2])}
		}
		return quizGrade{note: fmt.Sprintf("the question asks for %s: %dx%dx%d would read as a different volume in it. In %s your answer is right; in %s write %dx%dx%d.",
			q.Notation, got[0], got[1], got[2], other, q.Notation, want[0], want[1], want[2])}
	}
	for _, sl := range q.Slips {
		if sl.Vol == q.Vol {
			continue
		}
		if sl.Vol.in(q.Notation) == got {
			return quizGrade{note: "likely slip: " + sl.Why + "."}
		}
		if sl.Vol.in(other) == got && sl.Vol.C != sl.Vol.H {
			return quizGrade{note: fmt.Sprintf("likely slip: %s; and the question asks for %s.", sl.Why, q.Notation)}
		}
	}
	return quizGrade{note: fmt.Sprintf("you answered %dx%dx%d, read as %s.", got[0], got[1], got[2], q.Notation)}
}
