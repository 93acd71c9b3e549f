package quiz

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/exec/verify"
)

// The course's answers (Coursera "Convolutional Neural Networks", week 1
// quiz) are the external truth the computed answers must meet; cnncalc quiz
// prints the same (cmd/cnncalc's TestQuizCourseAnswers checks its JSON).
func TestCourse(t *testing.T) {
	want := []any{"detects vertical edges", int64(27000100), int64(7600), []int64{29, 29, 32}, []int64{19, 19, 8}, int64(3), []int64{16, 16, 16}, false}
	if Questions != len(want) {
		t.Fatalf("%d questions, want %d", Questions, len(want))
	}
	for i := range Questions {
		it, err := Question(i + 1)
		if err != nil {
			t.Fatalf("question %d: %v", i+1, err)
		}
		if it.Number != i+1 {
			t.Errorf("question %d is numbered %d", i+1, it.Number)
		}
		if !reflect.DeepEqual(it.Value, want[i]) {
			t.Errorf("question %d: %#v, want %#v", i+1, it.Value, want[i])
		}
	}
	for _, n := range []int{0, Questions + 1} {
		if _, err := Question(n); err == nil {
			t.Errorf("question %d: no error", n)
		}
	}
}

// The course's question 3 as a practice question: 2,600 is the classic slip.
func TestSlipsOfTheCourse(t *testing.T) {
	q, err := convParamsProblem(volume{300, 300, 3}, hwcNotation, 100, 5)
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
		g := q.Grade(c.answer)
		if g.Right != c.right || g.Malformed != "" || !strings.Contains(g.Note, c.want) {
			t.Errorf("%q: %+v, want right=%v and %q", c.answer, g, c.right, c.want)
		}
	}
}

func TestAnswerForms(t *testing.T) {
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
		{"7.6 K", 7600, true},
		{"1,000.5 k", 1000500, true},
		{"0 294912", 0, false}, // two numbers (FuzzQuizAnswer), not 294,912
		{"76 00", 0, false},
		{"1 2 3", 0, false},
	} {
		got, ok := parseNumber(c.in)
		if ok != c.ok || got != c.want {
			t.Errorf("%q: %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
	conv := &Problem{isVolume: true, vol: volume{29, 29, 32}, notation: hwcNotation,
		Slips: convSlips(volume{63, 63, 16}, volume{29, 29, 32}, 32, 7, 2, 0, 1)}
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
		g := conv.Grade(c.answer)
		if g.Right != c.right || (g.Malformed != "") != c.malformed || !strings.Contains(g.Note, c.note) {
			t.Errorf("%q: %+v, want right=%v malformed=%v note %q", c.answer, g, c.right, c.malformed, c.note)
		}
	}
	// 64x64 with 7x7 stride 2: floor(57/2) + 1 = 29, rounding up gives 30.
	conv.Slips = convSlips(volume{64, 64, 16}, volume{29, 29, 32}, 32, 7, 2, 0, 1)
	if g := conv.Grade("30x30x32"); g.Right || !strings.Contains(g.Note, "you rounded up") {
		t.Errorf("30x30x32: %+v, want the rounding slip", g)
	}
}

// A volume whose channel count equals one of its sizes cannot be told apart
// in the other notation: the grader says which notation is asked.
func TestNotationAmbiguity(t *testing.T) {
	q := &Problem{isVolume: true, vol: volume{H: 16, W: 8, C: 16}, notation: hwcNotation}
	if g := q.Grade("16x8x16"); !g.Right {
		t.Errorf("the H x W x C answer is refused: %+v", g)
	}
	g := q.Grade("16x16x8") // right in C x H x W, but reads as H=16, W=16, C=8
	if g.Right || !strings.Contains(g.Note, "the question asks for H x W x C") || !strings.Contains(g.Note, "write 16x8x16") {
		t.Errorf("ambiguous C x H x W answer: %+v", g)
	}
	q = &Problem{isVolume: true, vol: volume{H: 12, W: 12, C: 3}, notation: chwNotation}
	if g := q.Grade("12x12x3"); !g.Right || !strings.Contains(g.Note, "that is H x W x C; the question asked for C x H x W, where it is 3x12x12") {
		t.Errorf("unambiguous H x W x C answer to a C x H x W question: %+v", g)
	}
	if g := q.Grade("3x12x12"); !g.Right || g.Note != "" {
		t.Errorf("C x H x W answer: %+v", g)
	}
}

// Every course item writes within the width, the question wrapped.
func TestItemWrite(t *testing.T) {
	for n := 1; n <= Questions; n++ {
		it, err := Question(n)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		it.Write(&b)
		out := b.String()
		checkWidth(t, out)
		if !strings.HasPrefix(out, fmt.Sprintf("%d. ", n)) || !strings.Contains(out, "\n   answer:   ") || !strings.Contains(out, "\n   formula:  ") || !strings.Contains(out, "\n   evidence: ") {
			t.Errorf("question %d:\n%s", n, out)
		}
	}
}

// checkWidth fails on a line wider than 100 columns.
func checkWidth(t *testing.T, out string) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if len([]rune(l)) > 100 {
			t.Errorf("line of %d columns: %s", len([]rune(l)), l)
		}
	}
}

func TestSelectKinds(t *testing.T) {
	all, err := SelectKinds(nil)
	if err != nil || len(all) != len(Kinds) {
		t.Fatalf("no names: %d kinds (%v), want all %d", len(all), err, len(Kinds))
	}
	if got := KindNames(); len(got) != len(Kinds) || got[0] != "conv" || got[len(got)-1] != "dilation" {
		t.Errorf("KindNames: %v", got)
	}
	ks, err := SelectKinds([]string{" Pool", "rf", "pool"})
	if err != nil || len(ks) != 2 || ks[0].Name != "pool" || ks[1].Name != "rf" {
		t.Errorf("pool, rf, pool: %v (%v), want pool and rf", ks, err)
	}
	if _, err := SelectKinds([]string{"conv", "bogus"}); err == nil || !strings.Contains(err.Error(), `unknown kind "bogus": use conv, pad,`) {
		t.Errorf("bogus: %v", err)
	}
}

// The same seed asks the same questions; another seed others; the kinds
// narrow the draw.
func TestDeterministic(t *testing.T) {
	gen := func(seed uint64, names ...string) []*Problem {
		t.Helper()
		ks, err := SelectKinds(names)
		if err != nil {
			t.Fatal(err)
		}
		qs, err := Generate(seed, 20, ks)
		if err != nil {
			t.Fatal(err)
		}
		if len(qs) != 20 {
			t.Fatalf("%d problems, want 20", len(qs))
		}
		return qs
	}
	a, b, c := gen(2024), gen(2024), gen(2025)
	if !reflect.DeepEqual(a, b) {
		t.Error("two draws with seed 2024 differ")
	}
	same := 0
	for i := range a {
		if a[i].Text == c[i].Text {
			same++
		}
	}
	if same == len(a) {
		t.Error("seeds 2024 and 2025 ask the same questions")
	}
	if _, err := Generate(1, 3, nil); err == nil {
		t.Error("no kinds: no error")
	}
	for _, q := range gen(1, "pool", "rf") {
		if q.Kind != "pool" && q.Kind != "rf" {
			t.Errorf("a %s question outside pool,rf: %s", q.Kind, q.Text)
		}
	}
}

// seeds is how many generated questions of each kind are checked.
const seeds = 300

// Every generated question is valid and its answer agrees with calc, with
// the course's formulas written out here, and, for shapes and MACs, with a
// forward pass of exec.
func TestGeneratedAnswers(t *testing.T) {
	rfMeasured := 0
	for _, k := range Kinds {
		t.Run(k.Name, func(t *testing.T) {
			for seed := range uint64(seeds) {
				r := rand.New(rand.NewPCG(seed, 99))
				q, err := k.gen(r)
				if err != nil {
					t.Fatalf("seed %d: %v", seed, err)
				}
				q.Kind = k.Name
				name := fmt.Sprintf("seed %d: %s", seed, q.Text)
				var b strings.Builder
				Wrap(&b, "100/100 [convparams] ", q.Text)
				checkWidth(t, b.String())
				if len(q.Formula) == 0 {
					t.Errorf("%s: no formula", name)
				}
				if g := q.Grade(strings.Fields(q.Answer())[0]); !g.Right {
					t.Errorf("%s: its own answer is graded wrong", name)
				}
				for _, s := range q.Slips {
					if g := q.Grade(slipText(q, s)); g.Right && s.vol != q.vol && (q.isVolume || s.Num != q.Num) {
						t.Errorf("%s: slip %q is graded right", name, s.Why)
					}
				}
				res, errs := calc.Analyze(q.Net)
				if len(errs) > 0 {
					t.Fatalf("%s: calc: %v", name, errs[0])
				}
				checkAnswer(t, name, q, res)
				if k.Name == "rf" && seed < rfSeeds && checkRF(t, name, q) {
					rfMeasured++
				}
			}
		})
	}
	if rfMeasured < rfSeeds/2 {
		t.Errorf("exec measured only %d of %d receptive fields", rfMeasured, rfSeeds)
	}
}

// rfSeeds is how many receptive fields exec measures (a probe runs one
// image per input position).
const rfSeeds = 60

func slipText(q *Problem, s Slip) string {
	if q.isVolume {
		a := s.vol.in(q.notation)
		return fmt.Sprintf("%dx%dx%d", a[0], a[1], a[2])
	}
	return strconv.FormatInt(s.Num, 10)
}

// checkAnswer recomputes q's answer with the course's formulas from
// its layer and checks it against calc and exec.
func checkAnswer(t *testing.T, name string, q *Problem, res *calc.Result) {
	t.Helper()
	in := volumeOf(q.Net.Input)
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
	var want volume
	switch q.Kind {
	case "conv", "dilation":
		want = volume{size(in.H), size(in.W), l.Out}
	case "pool":
		want = volume{size(in.H), size(in.W), in.C}
	case "pad":
		want = volume{in.H + 2*l.Pad[0], in.W + 2*l.Pad[0], in.C}
	case "same":
		if k%2 != 1 || l.PadMode != calc.PadSame {
			t.Errorf("%s: same padding with kernel %d", name, k)
		}
		if q.Num != (k-1)/2 {
			t.Errorf("%s: padding %d, want (f-1)/2 = %d", name, q.Num, (k-1)/2)
		}
		// exec with that padding keeps the size.
		explicit := newNet(in, calc.Layer{Type: calc.Conv2d, Out: l.Out, Kernel: l.Kernel, Padding: []int64{q.Num}, Bias: true})
		shape, _, err := forward(explicit)
		if err != nil || shape[2] != int(in.H) || shape[3] != int(in.W) {
			t.Errorf("%s: exec with padding %d gives %v (%v) from %s", name, q.Num, shape, err, in.hwc())
		}
	case "convparams":
		if want := l.Out * (k*k*in.C + 1); q.Num != want || q.Num != res.Total.Params {
			t.Errorf("%s: %d parameters, want %d (calc %d)", name, q.Num, want, res.Total.Params)
		}
		checkInit(t, name, q)
	case "fcparams":
		lin := q.Net.Nodes[1].Layer
		if want := in.H*in.W*in.C*lin.Out + lin.Out; q.Num != want || q.Num != res.Total.Params {
			t.Errorf("%s: %d parameters, want %d (calc %d)", name, q.Num, want, res.Total.Params)
		}
		if q.Num < 1<<20 {
			checkInit(t, name, q)
		}
	case "macs":
		o := volume{size(in.H), size(in.W), l.Out}
		if want := o.H * o.W * o.C * k * k * in.C; q.Num != want || q.Num != res.Total.MACs {
			t.Errorf("%s: %d MACs, want %d (calc %d)", name, q.Num, want, res.Total.MACs)
		}
		_, macs, err := forward(q.Net)
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
	if !q.isVolume {
		return
	}
	got := volumeOf(res.Layers[0].Output)
	if q.vol != want || got != want || want.H < 1 || want.W < 1 || want.C < 1 {
		t.Errorf("%s: answer %s, course formula %s, calc %s", name, q.vol.hwc(), want.hwc(), got.hwc())
	}
	shape, _, err := forward(q.Net)
	if err != nil {
		t.Fatalf("%s: exec: %v", name, err)
	}
	if ev := (volume{int64(shape[2]), int64(shape[3]), int64(shape[1])}); ev != q.vol || shape[0] != 1 {
		t.Errorf("%s: exec gives %v, the answer is %s", name, shape, q.vol.hwc())
	}
}

// checkInit counts the tensors exec.Init allocates.
func checkInit(t *testing.T, name string, q *Problem) {
	t.Helper()
	_, n, err := paramEvidence(q.Net)
	if err != nil || n != q.Num {
		t.Errorf("%s: exec.Init allocates %d values (%v), the answer is %d", name, n, err, q.Num)
	}
}

// checkRF measures the stack's receptive field by execution, on a
// one-channel 64x64 copy (the field does not depend on the input size). It
// reports whether the field could be measured.
func checkRF(t *testing.T, name string, q *Problem) bool {
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
	m, err := verify.MeasureRF(&net, rfs)
	if err != nil {
		t.Fatalf("%s: verify.MeasureRF: %v", name, err)
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
