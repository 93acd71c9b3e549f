package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/exec"
)

// The course's answers (Coursera "Convolutional Neural Networks", week 1
// quiz) are the external truth the computed answers must meet.
func TestQuizCourseAnswers(t *testing.T) {
	out, errOut, code := runCmd(t, "", "quiz", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var items []struct {
		Number   int                `json:"number"`
		Answer   string             `json:"answer"`
		Value    any                `json:"value"`
		Hwc      string             `json:"hwc"`
		Chw      string             `json:"chw"`
		Formula  []string           `json:"formula"`
		Evidence []string           `json:"evidence"`
		Measured map[string]float64 `json:"measured"`
	}
	if err := json.Unmarshal([]byte(out), &items); err != nil {
		t.Fatal(err)
	}
	if len(items) != 8 {
		t.Fatalf("%d questions, want 8", len(items))
	}
	course := []struct {
		answer   string
		hwc, chw string
	}{
		{answer: "detects vertical edges"},
		{answer: "27,000,100"},
		{answer: "7,600"},
		{answer: "29x29x32", hwc: "29x29x32", chw: "32x29x29"},
		{answer: "19x19x8", hwc: "19x19x8", chw: "8x19x19"},
		{answer: "3"},
		{answer: "16x16x16", hwc: "16x16x16", chw: "16x16x16"},
		{answer: "False"},
	}
	for i, it := range items {
		want := course[i]
		if it.Number != i+1 || it.Answer != want.answer || it.Hwc != want.hwc || it.Chw != want.chw {
			t.Errorf("question %d: answer %q (%q, %q), the course says %q (%q, %q)", it.Number, it.Answer, it.Hwc, it.Chw, want.answer, want.hwc, want.chw)
		}
		if len(it.Formula) == 0 || len(it.Evidence) == 0 {
			t.Errorf("question %d has no formula or evidence", it.Number)
		}
	}
	for i, v := range []float64{27000100, 7600, 3} {
		if n := []int{1, 2, 5}[i]; items[n].Value != v {
			t.Errorf("question %d: value %v, want %v", n+1, items[n].Value, v)
		}
	}
	// Q1: the filter answers a vertical edge and is silent on a horizontal one.
	if m := items[0].Measured; m["vertical_max_abs"] != 30 || m["horizontal_max_abs"] != 0 {
		t.Errorf("question 1 responses %v, want 30 on the vertical edge and 0 on the horizontal", m)
	}
	// Q8: the max-pool winner's derivative is 1, a loser's 0, 4 inputs get gradient.
	if m := items[7].Measured; m["d_winner"] != 1 || m["d_loser"] != 0 || m["inputs_with_gradient"] != 4 {
		t.Errorf("question 8 derivatives %v, want winner 1, loser 0, 4 inputs", m)
	}
	if items[7].Value != false {
		t.Errorf("question 8 value %v, want false", items[7].Value)
	}
	// The numbers come from calc's formulas and exec's runs.
	for _, c := range []struct {
		n    int
		text string
	}{
		{2, "params = 270000*100 + 100 = 27,000,100"},
		{2, "linear_2.weight 100x270000 + linear_2.bias 100: 27,000,100 values"},
		{3, "params = 100*(3*5*5) + 100 = 7,600"},
		{3, "conv2d_1.weight 100x3x5x5 + conv2d_1.bias 100: 7,600 values"},
		{4, "H = floor((63 + 2*0 - 1*(7-1) - 1) / 2) + 1 = 29"},
		{4, "-> 1x32x29x29"},
		{5, "H = 15 + 2 + 2 = 19"},
		{5, "-> 1x8x19x19"},
		{6, "p = (f-1)/2 = (7-1)/2 = 3"},
		{6, "padding 2 gives 61x61, padding 4 gives 65x65; only 3 keeps 63x63"},
		{7, "-> 1x16x16x16"},
	} {
		all := strings.Join(append(items[c.n-1].Formula, items[c.n-1].Evidence...), "\n")
		if !strings.Contains(all, c.text) {
			t.Errorf("question %d: no %q in\n%s", c.n, c.text, all)
		}
	}
}

// Each course question computes directly too, with the same answers as the
// CLI prints.
func TestQuizCourseFunctions(t *testing.T) {
	want := []any{"detects vertical edges", int64(27000100), int64(7600), []int64{29, 29, 32}, []int64{19, 19, 8}, int64(3), []int64{16, 16, 16}, false}
	for i, q := range quizCourse {
		it, err := q()
		if err != nil {
			t.Fatalf("question %d: %v", i+1, err)
		}
		if !reflect.DeepEqual(it.Value, want[i]) {
			t.Errorf("question %d: %#v, want %#v", i+1, it.Value, want[i])
		}
	}
}

func TestQuizGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
	}{
		{"quiz_all", []string{"quiz"}},
		{"quiz_4", []string{"quiz", "4"}},
		{"quiz_1", []string{"quiz", "1"}},
		{"quiz_8", []string{"quiz", "8"}},
		{"quiz_json", []string{"quiz", "--format", "json"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := runCmd(t, "", c.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if c.name != "quiz_json" { // JSON strings are not wrapped
				quizCheckWidth(t, out)
			}
			golden(t, c.name, out)
		})
	}
}

func quizCheckWidth(t *testing.T, out string) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if len([]rune(l)) > 100 {
			t.Errorf("line of %d columns: %s", len([]rune(l)), l)
		}
	}
}

func TestQuizRefusals(t *testing.T) {
	for _, args := range [][]string{
		{"quiz", "9"},
		{"quiz", "0"},
		{"quiz", "x"},
		{"quiz", "--format", "csv"},
		{"quiz", "--practice", "--format", "json"},
		{"quiz", "--practice", "3"},
		{"quiz", "--practice", "--kinds", "conv,bogus"},
		{"quiz", "--practice", "--count", "0"},
	} {
		out, errOut, code := runCmd(t, "", args...)
		if code != exitError || out != "" || errOut == "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and a message", args, code, out, errOut)
		}
	}
}

// quizProblems regenerates the questions a practice run with seed and
// kinds asks.
func quizProblems(t *testing.T, seed uint64, count int, kinds ...string) []*quizProblem {
	t.Helper()
	ks, err := quizSelectKinds(kinds)
	if err != nil {
		t.Fatal(err)
	}
	qs, err := quizGenerate(seed, count, ks)
	if err != nil {
		t.Fatal(err)
	}
	return qs
}

// quizRight writes q's answer in the notation asked.
func quizRight(q *quizProblem) string {
	if q.IsVolume {
		a := q.Vol.in(q.Notation)
		return fmt.Sprintf("%dx%dx%d", a[0], a[1], a[2])
	}
	return strconv.FormatInt(q.Num, 10)
}

func TestQuizPracticeSession(t *testing.T) {
	// A seed whose second and third questions have more than one input
	// channel, so that forgetting the bias and the channels are both slips.
	var seed uint64
	var qs []*quizProblem
	for seed = 1; ; seed++ {
		qs = quizProblems(t, seed, 4, "convparams")
		if quizVolumeOf(qs[1].Net.Input).C > 1 && quizVolumeOf(qs[2].Net.Input).C > 1 {
			break
		}
	}
	// Right; forgot the bias; malformed then forgot the input channels;
	// skipped.
	slip := func(q *quizProblem, prefix string) int64 {
		for _, s := range q.Slips {
			if strings.HasPrefix(s.Why, prefix) && s.Num != q.Num {
				return s.Num
			}
		}
		t.Fatalf("no slip %q for %q", prefix, q.Text)
		return 0
	}
	stdin := strings.Join([]string{
		calc.Group(qs[0].Num),
		strconv.FormatInt(slip(qs[1], "you forgot the biases"), 10),
		"lots",
		"",
		strconv.FormatInt(slip(qs[2], "you forgot the input channels:"), 10),
		"skip",
	}, "\n") + "\n"
	out, errOut, code := runCmd(t, stdin, "quiz", "--practice", "--kinds", "convparams", "--count", "4", "--seed", fmt.Sprint(seed))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	quizCheckWidth(t, out)
	for _, want := range []string{
		fmt.Sprintf("Practice: 4 questions, seed %d", seed),
		"right: " + calc.Group(qs[0].Num) + " parameters",
		"wrong: the answer is " + calc.Group(qs[1].Num),
		"likely slip: you forgot the biases: one per filter",
		`cannot read "lots" as a whole number`,
		"no answer: type one, or skip",
		"likely slip: you forgot the input channels: each filter is",
		"skipped: the answer is " + calc.Group(qs[3].Num),
		"Score: 1/4\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	// A wrong answer shows calc's worked formula.
	if !strings.Contains(out, "  params = ") {
		t.Errorf("no worked formula in\n%s", out)
	}
	golden(t, "quiz_practice", out)
}

// The course's question 3 as a practice question: 2,600 is the classic slip.
func TestQuizSlipsOfTheCourse(t *testing.T) {
	q, err := quizConvParamsProblem(quizVolume{300, 300, 3}, quizHWC, 100, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		answer, want string
		right        bool
	}{
		{"7600", "", true},
		{"7,600", "", true},
		{"7.6K", "", true},
		{"7.6k params", "", true},
		{"2,600", "you forgot the input channels: each filter is 5x5x3", false},
		{"7500", "you forgot the biases: one per filter, + 100", false},
		{"2500", "you forgot the input channels (each filter is 5x5x3) and the 100 biases", false},
		{"7601", "you answered 7,601", false},
	} {
		g := q.grade(c.answer)
		if g.right != c.right || g.malformed != "" || !strings.Contains(g.note, c.want) {
			t.Errorf("%q: %+v, want right=%v and %q", c.answer, g, c.right, c.want)
		}
	}
}

func TestQuizAnswerForms(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"27000100", 27000100, true},
		{"27,000,100", 27000100, true},
		{"27 000 100", 27000100, true},
		{"27_000_100", 27000100, true},
		{"27.0001M", 27000100, true},
		{"27.0001m", 27000100, true},
		{"7.6K", 7600, true},
		{"0.0076M", 7600, true},
		{"3", 3, true},
		{"3.0", 3, true},
		{"1.5", 0, false},
		{"27.00001M", 27000010, true},
		{"27.0000001M", 0, false},
		{"1,00", 0, false},
		{"abc", 0, false},
		{"-3", 0, false},
		{"99999999999999999999", 0, false},
	} {
		got, ok := quizParseNumber(c.in)
		if ok != c.ok || got != c.want {
			t.Errorf("%q: %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
	conv := &quizProblem{IsVolume: true, Vol: quizVolume{29, 29, 32}, Notation: quizHWC,
		Slips: quizConvSlips(quizVolume{63, 63, 16}, quizVolume{29, 29, 32}, 32, 7, 2, 0, 1)}
	for _, c := range []struct {
		answer, note string
		right        bool
		malformed    bool
	}{
		{"29x29x32", "", true, false},
		{"29 29 32", "", true, false},
		{"29×29×32", "", true, false},
		{"29 X 29 X 32", "", true, false},
		{"(29, 29, 32)", "", true, false},
		{"29*29*32", "", true, false},
		// C x H x W is unambiguous here: 32 differs from 29.
		{"32x29x29", "that is C x H x W; the question asked for H x W x C", true, false},
		{"28x28x32", "you forgot the +1", false, false},
		{"29x29x16", "you kept the input's 16 channels", false, false},
		{"57x57x32", "you ignored the stride 2", false, false},
		{"29x29", "", false, true},
		{"29x29x32x1", "", false, true},
		{"big", "", false, true},
	} {
		g := conv.grade(c.answer)
		if g.right != c.right || (g.malformed != "") != c.malformed || !strings.Contains(g.note, c.note) {
			t.Errorf("%q: %+v, want right=%v malformed=%v note %q", c.answer, g, c.right, c.malformed, c.note)
		}
	}
	// 64x64 with 7x7 stride 2: floor(57/2) + 1 = 29, rounding up gives 30.
	conv.Slips = quizConvSlips(quizVolume{64, 64, 16}, quizVolume{29, 29, 32}, 32, 7, 2, 0, 1)
	if g := conv.grade("30x30x32"); g.right || !strings.Contains(g.note, "you rounded up") {
		t.Errorf("30x30x32: %+v, want the rounding slip", g)
	}
}

// A volume whose channel count equals one of its sizes cannot be told apart
// in the other notation: the grader says which notation is asked.
func TestQuizNotationAmbiguity(t *testing.T) {
	q := &quizProblem{IsVolume: true, Vol: quizVolume{H: 16, W: 8, C: 16}, Notation: quizHWC}
	if g := q.grade("16x8x16"); !g.right {
		t.Errorf("the H x W x C answer is refused: %+v", g)
	}
	g := q.grade("16x16x8") // right in C x H x W, but reads as H=16, W=16, C=8
	if g.right || !strings.Contains(g.note, "the question asks for H x W x C") || !strings.Contains(g.note, "write 16x8x16") {
		t.Errorf("ambiguous C x H x W answer: %+v", g)
	}
	q = &quizProblem{IsVolume: true, Vol: quizVolume{H: 12, W: 12, C: 3}, Notation: quizCHW}
	if g := q.grade("12x12x3"); !g.right || !strings.Contains(g.note, "that is H x W x C; the question asked for C x H x W, where it is 3x12x12") {
		t.Errorf("unambiguous H x W x C answer to a C x H x W question: %+v", g)
	}
	if g := q.grade("3x12x12"); !g.right || g.note != "" {
		t.Errorf("C x H x W answer: %+v", g)
	}
}

func TestQuizPracticeEOF(t *testing.T) {
	qs := quizProblems(t, 5, 3)
	out, _, code := runCmd(t, quizRight(qs[0])+"\n", "quiz", "--practice", "--count", "3", "--seed", "5")
	if code != 0 {
		t.Fatal(code)
	}
	if !strings.HasSuffix(out, "(end of input)\n\nScore: 1/1\n") || strings.Count(out, "\n2/3 ") != 1 || strings.Contains(out, "3/3 ") {
		t.Errorf("end of input after one answer:\n%s", out)
	}
	out, _, _ = runCmd(t, "", "quiz", "--practice", "--count", "3", "--seed", "5")
	if !strings.HasSuffix(out, "Score: 0/0\n") {
		t.Errorf("empty input:\n%s", out)
	}
}

func TestQuizPracticeAllRight(t *testing.T) {
	qs := quizProblems(t, 42, 30)
	var answers []string
	for _, q := range qs {
		answers = append(answers, quizRight(q))
	}
	out, _, code := runCmd(t, strings.Join(answers, "\n")+"\n", "quiz", "--practice", "--count", "30", "--seed", "42")
	if code != 0 || !strings.HasSuffix(out, "Score: 30/30\n") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	quizCheckWidth(t, out)
}

func TestQuizDeterministic(t *testing.T) {
	args := []string{"quiz", "--practice", "--count", "20", "--seed", "2024"}
	a, _, _ := runCmd(t, "", args...)
	b, _, _ := runCmd(t, "", args...)
	if a != b {
		t.Errorf("two runs with --seed 2024 differ:\n%s", diff(a, b))
	}
	c, _, _ := runCmd(t, "", "quiz", "--practice", "--count", "20", "--seed", "2025")
	if a == c {
		t.Error("seeds 2024 and 2025 ask the same questions")
	}
	// --kinds narrows the draw.
	d, _, _ := runCmd(t, "", "quiz", "--practice", "--count", "20", "--seed", "1", "--kinds", "pool,rf")
	for _, l := range strings.Split(d, "\n") {
		if strings.Contains(l, "/20 [") && !strings.Contains(l, "[pool]") && !strings.Contains(l, "[rf]") {
			t.Errorf("a question outside pool,rf: %s", l)
		}
	}
}

// quizSeeds is how many generated questions of each kind are checked.
const quizSeeds = 300

// Every generated question is valid and its answer agrees with calc, with
// the course's formulas written out here, and, for shapes and MACs, with a
// forward pass of exec.
func TestQuizGeneratedAnswers(t *testing.T) {
	rfMeasured := 0
	for _, k := range quizKinds {
		t.Run(k.name, func(t *testing.T) {
			for seed := range uint64(quizSeeds) {
				r := rand.New(rand.NewPCG(seed, 99))
				q, err := k.gen(r)
				if err != nil {
					t.Fatalf("seed %d: %v", seed, err)
				}
				q.Kind = k.name
				name := fmt.Sprintf("seed %d: %s", seed, q.Text)
				var b strings.Builder
				quizWrap(&b, "100/100 [convparams] ", q.Text)
				quizCheckWidth(t, b.String())
				if len(q.Formula) == 0 {
					t.Errorf("%s: no formula", name)
				}
				if g := q.grade(quizRight(q)); !g.right {
					t.Errorf("%s: its own answer is graded wrong", name)
				}
				for _, s := range q.Slips {
					if g := q.grade(quizSlipText(q, s)); g.right && s.Vol != q.Vol && (q.IsVolume || s.Num != q.Num) {
						t.Errorf("%s: slip %q is graded right", name, s.Why)
					}
				}
				res, errs := calc.Analyze(q.Net)
				if len(errs) > 0 {
					t.Fatalf("%s: calc: %v", name, errs[0])
				}
				quizCheckAnswer(t, name, q, res)
				if k.name == "rf" && seed < quizRFSeeds && quizCheckRF(t, name, q) {
					rfMeasured++
				}
			}
		})
	}
	if rfMeasured < quizRFSeeds/2 {
		t.Errorf("exec measured only %d of %d receptive fields", rfMeasured, quizRFSeeds)
	}
}

// quizRFSeeds is how many receptive fields exec measures (a probe runs one
// image per input position).
const quizRFSeeds = 60

func quizSlipText(q *quizProblem, s quizSlip) string {
	if q.IsVolume {
		a := s.Vol.in(q.Notation)
		return fmt.Sprintf("%dx%dx%d", a[0], a[1], a[2])
	}
	return strconv.FormatInt(s.Num, 10)
}

// quizCheckAnswer recomputes q's answer with the course's formulas from
// its layer and checks it against calc and exec.
func quizCheckAnswer(t *testing.T, name string, q *quizProblem, res *calc.Result) {
	t.Helper()
	in := quizVolumeOf(q.Net.Input)
	l := q.Net.Nodes[0].Layer
	k, s, p, d := int64(1), int64(1), int64(0), int64(1)
	if len(l.Kernel) > 0 {
		k = l.Kernel[0]
		s = k
	}
	if len(l.Stride) > 0 {
		s = l.Stride[0]
	}
	if len(l.Padding) > 0 {
		p = l.Padding[0]
	}
	if len(l.Dilation) > 0 {
		d = l.Dilation[0]
	}
	// The course's formula: floor((n + 2p - d(f-1) - 1)/s) + 1.
	size := func(n int64) int64 { return (n+2*p-d*(k-1)-1)/s + 1 }
	var want quizVolume
	switch q.Kind {
	case "conv", "dilation":
		want = quizVolume{size(in.H), size(in.W), l.Out}
	case "pool":
		want = quizVolume{size(in.H), size(in.W), in.C}
	case "pad":
		want = quizVolume{in.H + 2*l.Pad[0], in.W + 2*l.Pad[0], in.C}
	case "same":
		if k%2 != 1 || l.PadMode != calc.PadSame {
			t.Errorf("%s: same padding with kernel %d", name, k)
		}
		if q.Num != (k-1)/2 {
			t.Errorf("%s: padding %d, want (f-1)/2 = %d", name, q.Num, (k-1)/2)
		}
		// exec with that padding keeps the size.
		explicit := quizNet(in, calc.Layer{Type: "conv2d", Out: l.Out, Kernel: l.Kernel, Padding: []int64{q.Num}, Bias: true})
		shape, _, err := quizExec(explicit)
		if err != nil || shape[2] != int(in.H) || shape[3] != int(in.W) {
			t.Errorf("%s: exec with padding %d gives %v (%v) from %s", name, q.Num, shape, err, in.hwc())
		}
	case "convparams":
		if want := l.Out * (k*k*in.C + 1); q.Num != want || q.Num != res.Total.Params {
			t.Errorf("%s: %d parameters, want %d (calc %d)", name, q.Num, want, res.Total.Params)
		}
		quizCheckInit(t, name, q)
	case "fcparams":
		lin := q.Net.Nodes[1].Layer
		if want := in.H*in.W*in.C*lin.Out + lin.Out; q.Num != want || q.Num != res.Total.Params {
			t.Errorf("%s: %d parameters, want %d (calc %d)", name, q.Num, want, res.Total.Params)
		}
		if q.Num < 1<<20 {
			quizCheckInit(t, name, q)
		}
	case "macs":
		o := quizVolume{size(in.H), size(in.W), l.Out}
		if want := o.H * o.W * o.C * k * k * in.C; q.Num != want || q.Num != res.Total.MACs {
			t.Errorf("%s: %d MACs, want %d (calc %d)", name, q.Num, want, res.Total.MACs)
		}
		_, macs, err := quizExec(q.Net)
		if err != nil || macs != q.Num {
			t.Errorf("%s: exec ran %d MACs (%v), the answer is %d", name, macs, err, q.Num)
		}
	case "rf":
		r, j := int64(1), int64(1)
		for _, n := range q.Net.Nodes {
			r += (n.Kernel[0] - 1) * j
			j *= n.Stride[0]
		}
		if q.Num != r || q.Num != res.Layers[len(res.Layers)-1].RF.Size[0] {
			t.Errorf("%s: receptive field %d, want %d", name, q.Num, r)
		}
	default:
		t.Fatalf("%s: unknown kind %s", name, q.Kind)
	}
	if !q.IsVolume {
		return
	}
	got := quizVolumeOf(res.Layers[0].Output)
	if q.Vol != want || got != want || want.H < 1 || want.W < 1 || want.C < 1 {
		t.Errorf("%s: answer %s, course formula %s, calc %s", name, q.Vol.hwc(), want.hwc(), got.hwc())
	}
	shape, _, err := quizExec(q.Net)
	if err != nil {
		t.Fatalf("%s: exec: %v", name, err)
	}
	if ev := (quizVolume{int64(shape[2]), int64(shape[3]), int64(shape[1])}); ev != q.Vol || shape[0] != 1 {
		t.Errorf("%s: exec gives %v, the answer is %s", name, shape, q.Vol.hwc())
	}
}

// quizCheckInit counts the tensors exec.Init allocates.
func quizCheckInit(t *testing.T, name string, q *quizProblem) {
	t.Helper()
	_, n, err := quizParamEvidence(q.Net)
	if err != nil || n != q.Num {
		t.Errorf("%s: exec.Init allocates %d values (%v), the answer is %d", name, n, err, q.Num)
	}
}

// quizCheckRF measures the stack's receptive field by execution, on a
// one-channel 64x64 copy (the field does not depend on the input size). It
// reports whether the field could be measured.
func quizCheckRF(t *testing.T, name string, q *quizProblem) bool {
	t.Helper()
	net := *q.Net
	net.Input = calc.Shape{1, 1, 64, 64}
	res, errs := calc.Analyze(&net)
	if len(errs) > 0 {
		t.Fatalf("%s: calc on 64x64: %v", name, errs[0])
	}
	rfs := make([]*calc.RF, len(res.Layers))
	for i := range res.Layers {
		rfs[i] = res.Layers[i].RF
	}
	m, err := exec.MeasureRF(&net, rfs)
	if err != nil {
		t.Fatalf("%s: exec.MeasureRF: %v", name, err)
	}
	last := m[len(m)-1]
	if last == nil || !last.OK[0] {
		return false
	}
	if last.Size[0] != q.Num {
		t.Errorf("%s: exec measures a field of %d, the answer is %d", name, last.Size[0], q.Num)
	}
	return true
}
