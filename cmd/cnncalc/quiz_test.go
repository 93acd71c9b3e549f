package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/quiz"
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
func quizProblems(t *testing.T, seed uint64, count int, kinds ...string) []*quiz.Problem {
	t.Helper()
	ks, err := quiz.SelectKinds(kinds)
	if err != nil {
		t.Fatal(err)
	}
	qs, err := quiz.Generate(seed, count, ks)
	if err != nil {
		t.Fatal(err)
	}
	return qs
}

func TestQuizPracticeSession(t *testing.T) {
	// A seed whose second and third questions have more than one input
	// channel, so that forgetting the bias and the channels are both slips.
	var seed uint64
	var qs []*quiz.Problem
	for seed = 1; ; seed++ {
		qs = quizProblems(t, seed, 4, "convparams")
		if qs[1].Net.Input[1] > 1 && qs[2].Net.Input[1] > 1 { // (N, C, H, W)
			break
		}
	}
	// Right; forgot the bias; malformed then forgot the input channels;
	// skipped.
	slip := func(q *quiz.Problem, prefix string) int64 {
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

func TestQuizPracticeEOF(t *testing.T) {
	qs := quizProblems(t, 5, 3)
	out, _, code := runCmd(t, strings.Fields(qs[0].Answer())[0]+"\n", "quiz", "--practice", "--count", "3", "--seed", "5")
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
		answers = append(answers, strings.Fields(q.Answer())[0]) // the answer as shown, first in the notation asked
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

// A line over 64 KiB is not an I/O error that ends the session: it is
// skipped to its end, said so, and the question is asked again.
func TestQuizPracticeLongLine(t *testing.T) {
	qs := quizProblems(t, 7, 2, "convparams")
	right := calc.Group(qs[0].Num)
	long := strings.Repeat("7", 70000)
	stdin := long + "\n" + strings.Repeat("x", maxAnswer) + "\r\n\x1b]0;t\a\n" + right + "\r\n" + strings.Repeat("\x1b", maxAnswer+1)
	out, errOut, code := runCmd(t, stdin, "quiz", "--practice", "--kinds", "convparams", "--count", "2", "--seed", "7")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"> (a line of 70,000 bytes)\nthat line is 70,000 bytes long, over the 64 KiB an answer may take; answer on one line, or skip\n> ",
		`cannot read "xxxx`,                            // exactly 64 KiB is read, and graded
		"> \\x1b]0;t\\a\ncannot read \"\\x1b]0;t\\a\"", // echoed escaped
		"> " + right + "\nright: ",
		"> (a line of 65,537 bytes)\nthat line is 65,537 bytes long", // the last line, without its line break
		"(end of input)\n\nScore: 1/1\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the output (%d bytes):\n%.600s", want, len(out), out)
		}
	}
	if strings.Contains(out, long) || strings.Contains(out, "\x1b") {
		t.Errorf("the long line is echoed (%d bytes)", len(out))
	}
}

func TestReadAnswer(t *testing.T) {
	type res struct {
		line string
		n    int
		err  error
	}
	read := func(in string) []res {
		r := bufio.NewReaderSize(strings.NewReader(in), 16)
		var out []res
		for {
			line, n, err := readAnswer(r)
			out = append(out, res{line, n, err})
			if err != nil {
				return out
			}
		}
	}
	big := strings.Repeat("9", maxAnswer)
	for _, c := range []struct {
		in   string
		want []res
	}{
		{"", []res{{"", 0, io.EOF}}},
		{"a\n", []res{{"a", 1, nil}, {"", 0, io.EOF}}},
		{"a\r\nb", []res{{"a", 1, nil}, {"b", 1, nil}, {"", 0, io.EOF}}},
		{"\n\r\n\r", []res{{"", 0, nil}, {"", 0, nil}, {"", 0, nil}, {"", 0, io.EOF}}},
		{big + "\r\n" + big + "0\nok", []res{{big, maxAnswer, nil}, {"", maxAnswer + 1, nil}, {"ok", 2, nil}, {"", 0, io.EOF}}},
		{strings.Repeat("ab\r", 30000) + "\n", []res{{"", 89999, nil}, {"", 0, io.EOF}}}, // its last \r is in its line break
	} {
		if got := read(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%.40q: got %v, want %v", c.in, got, c.want)
		}
	}
}
