package quiz

import (
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/calc"
)

// answerForms are the answer lines the tests of the grader use, and
// templates: # is the expected answer written plainly (7600, 29x29x32),
// % grouped (7,600) or in the other notation, @ abbreviated (7.60K).
var answerForms = []string{
	"7600", "7,600", "7.6K", "7.6k params", "2,600", "7500", "2500", "7601",
	"27000100", "27,000,100", "27 000 100", "27_000_100", "27.0001M", "27.0001m", "0.0076M",
	"3", "3.0", "1.5", "27.00001M", "27.0000001M", "1,00", "abc", "-3", "99999999999999999999",
	"29x29x32", "29 29 32", "29×29×32", "29 X 29 X 32", "(29, 29, 32)", "29*29*32", "32x29x29",
	"28x28x32", "29x29x16", "57x57x32", "29x29", "29x29x32x1", "big", "30x30x32",
	"16x8x16", "16x16x8", "12x12x3", "3x12x12",
	"skip", "s", "?", "pass", "", "lots",
	"#", "%", "@", "(#)", "[%]", "params = #", "answer: #", "# params", "@ parameters", "# macs", "#px", " # ",
	"0 #", "+#", "#.", "# #", "\u00a0#\u2028", "7.6\u212a", "7,600 k", "1,000.5 k",
}

// FuzzQuizAnswer grades any answer line to a generated problem of any
// kind: the grader never panics, gives at most one verdict, calls an
// answer right only when its value is the expected answer's (read here
// by an independent, stricter reader, in exact arithmetic), and never calls
// the expected value, written in a form both read, wrong.
func FuzzQuizAnswer(f *testing.F) {
	for i, form := range answerForms {
		f.Add(uint64(i%5), uint8(i%len(Kinds)), form)
		f.Add(uint64(i), uint8(i/len(Kinds)), form)
	}
	f.Fuzz(func(t *testing.T, seed uint64, kind uint8, line string) {
		k := Kinds[int(kind)%len(Kinds)]
		qs, err := Generate(seed, 1, []Kind{k})
		if err != nil {
			t.Fatalf("seed %d, %s: %v", seed, k.Name, err)
		}
		q := qs[0]
		checkGrade(t, q, line)
		if strings.ContainsAny(line, "#%@") {
			checkGrade(t, q, expand(q, line))
		}
	})
}

// expand fills a template's #, % and @ with q's expected answer.
func expand(q *Problem, line string) string {
	var plain, grouped, short string
	if q.isVolume {
		w := q.vol.in(q.notation)
		plain = strconv.FormatInt(w[0], 10) + "x" + strconv.FormatInt(w[1], 10) + "x" + strconv.FormatInt(w[2], 10)
		other := chwNotation
		if q.notation == chwNotation {
			other = hwcNotation
		}
		a := q.vol.in(other)
		grouped = strconv.FormatInt(a[0], 10) + " " + strconv.FormatInt(a[1], 10) + " " + strconv.FormatInt(a[2], 10)
		short = "(" + strconv.FormatInt(w[0], 10) + ", " + strconv.FormatInt(w[1], 10) + ", " + strconv.FormatInt(w[2], 10) + ")"
	} else {
		plain, grouped, short = strconv.FormatInt(q.Num, 10), calc.Group(q.Num), calc.Human(q.Num)
	}
	return strings.NewReplacer("#", plain, "%", grouped, "@", short).Replace(line)
}

func checkGrade(t *testing.T, q *Problem, line string) {
	t.Helper()
	g := q.Grade(line)
	verdicts := 0
	for _, v := range []bool{g.Right, g.Skipped, g.Malformed != ""} {
		if v {
			verdicts++
		}
	}
	if verdicts > 1 {
		t.Fatalf("%s: %q: more than one verdict: %+v", q.Kind, line, g)
	}
	wrong := verdicts == 0 // read, and graded wrong
	if q.isVolume {
		want, alt := q.vol.in(q.notation), q.vol.in(otherNotation(q.notation))
		got, ok := oracleVolume(line)
		distinct := q.vol.C != q.vol.H && q.vol.C != q.vol.W
		if g.Right && !(ok && (got == want || got == alt && distinct)) {
			t.Fatalf("%s: %q graded right; it reads as %v (ok %v), the answer is %v in %s", q.Kind, line, got, ok, want, q.notation)
		}
		if wrong && ok && got == want {
			t.Fatalf("%s: %q, the answer %v, graded wrong: %+v", q.Kind, line, want, g)
		}
		return
	}
	v, ok := oracleNumber(line)
	right := ok && v.IsInt() && v.Num().IsInt64() && v.Num().Int64() == q.Num
	if g.Right && !right {
		t.Fatalf("%s: %q graded right; it reads as %v (ok %v), the answer is %d", q.Kind, line, v, ok, q.Num)
	}
	if wrong && right {
		t.Fatalf("%s: %q, the answer %d, graded wrong: %+v", q.Kind, line, q.Num, g)
	}
}

func otherNotation(n notation) notation {
	if n == chwNotation {
		return hwcNotation
	}
	return chwNotation
}

// The oracle's readings. A volume is the line's three runs of ASCII digits
// (a volume has no other digits: no label or unit holds one). A number is
// one number, with thousands separators in groups of three, a fraction and
// a k, m or g (space before it allowed), inside brackets, after a label
// (params =) and before a unit, with nothing else but white space (any
// Unicode space); letters in either case (the Kelvin sign folds to k, as
// the grader's strings.ToLower makes it).
var (
	digitRuns = regexp.MustCompile(`[0-9]+`)
	oracleNum = regexp.MustCompile(`^[` + ws + `()\[\]{}]*(?:(?i:[a-z_ ])*[=:][` + ws + `]*)?` +
		`([0-9]{1,3}(?:[,_ ][0-9]{3})+|[0-9]+)(?:\.([0-9]+))?(?:[` + ws + `]*((?i:[kmg])))?` +
		`[` + ws + `]*(?i:parameters|params|param|weights|macs|mac|pixels|pixel|px)?[` + ws + `()\[\]{}]*$`)
)

// ws is white space in a character class: ASCII's and Unicode's.
const ws = `\s\v\x{85}\p{Z}`

func oracleVolume(line string) ([3]int64, bool) {
	var v [3]int64
	runs := digitRuns.FindAllString(line, -1)
	if len(runs) != 3 {
		return v, false
	}
	for i, r := range runs {
		r = strings.TrimLeft(r, "0")
		if len(r) > 19 {
			return v, false // above int64 (and any volume)
		}
		n, ok := new(big.Int).SetString("0"+r, 10)
		if !ok || !n.IsInt64() {
			return v, false
		}
		v[i] = n.Int64()
	}
	return v, true
}

func oracleNumber(line string) (*big.Rat, bool) {
	m := oracleNum.FindStringSubmatch(line)
	if m == nil {
		return new(big.Rat), false
	}
	// Leading zeros and a fraction's trailing ones change nothing; past 40
	// significant digits the value, scaled by at most 10^9, is no int64
	// (too large, or not whole): exact arithmetic on fewer is enough.
	whole := strings.TrimLeft(strings.NewReplacer(",", "", "_", "", " ", "").Replace(m[1]), "0")
	frac := strings.TrimRight(m[2], "0")
	if len(whole)+len(frac) > 40 {
		return new(big.Rat).SetFloat64(1e40), true
	}
	v, ok := new(big.Rat).SetString("0" + whole + frac)
	if !ok {
		return new(big.Rat), false
	}
	exp := map[string]int64{"": 0, "k": 3, "m": 6, "g": 9}[strings.ToLower(m[3])] - int64(len(frac)) // ToLower: K, U+212A too
	scale := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(max(exp, -exp)), nil))
	if exp >= 0 {
		v.Mul(v, scale)
	} else {
		v.Quo(v, scale)
	}
	return v, true
}
