package quiz

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/cnncalc/cnncalc/calc"
)

// Grade is the judgement of one answer line.
type Grade struct {
	// Right is a right answer; Skipped an answer given up.
	Right, Skipped bool
	// Malformed, when set, says why the line could not be read as an
	// answer; it is not graded, and the question stands.
	Malformed string
	// Note is, on a right answer, a notation remark; on a wrong one, the
	// likely slip or how the answer was read.
	Note string
}

var (
	thousandsRE = regexp.MustCompile(`^\d{1,3}([, _]\d{3})+(\.\d+)?\s*[kmg]?$`)
	numberRE    = regexp.MustCompile(`^(\d+)(?:\.(\d+))?\s*([kmg]?)$`)
	prefixRE    = regexp.MustCompile(`^[a-z_ ]*[=:]\s*`)
	unitRE      = regexp.MustCompile(`\s*(parameters|params|param|weights|macs|mac|pixels|pixel|px)$`)
)

// parseNumber reads 27000100, 27,000,100, 27 000 100, 27.0001M, 7.6K.
// It returns ok=false when s is not a whole number.
func parseNumber(s string) (int64, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if thousandsRE.MatchString(s) {
		s = strings.NewReplacer(",", "", " ", "", "_", "").Replace(s)
	}
	// Spaces elsewhere are not separators: "0 294912" is two numbers, not
	// 294,912. Only the abbreviation may stand apart (7.6 K).
	m := numberRE.FindStringSubmatch(s)
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

// parseVolume reads three numbers: 29x29x32, 29 29 32, 29×29×32, (29, 29, 32).
func parseVolume(s string) ([3]int64, bool) {
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

// Grade judges one answer line. It accepts a volume as 29x29x32, 29 29 32,
// 29×29×32 or (29, 29, 32), in the notation asked (or in the other one where
// the two cannot be confused); a number as 27000100, 27,000,100, 27 000 100,
// 27.0001M or 7.6K, with or without its unit; and skip, s, ? or pass.
func (q *Problem) Grade(line string) Grade {
	s := strings.ToLower(strings.TrimSpace(line))
	switch s {
	case "skip", "s", "?", "pass":
		return Grade{Skipped: true}
	case "":
		return Grade{Malformed: "no answer: type one, or skip"}
	}
	s = strings.Trim(s, "()[]{} ")
	s = prefixRE.ReplaceAllString(s, "")
	s = strings.TrimSpace(unitRE.ReplaceAllString(s, ""))
	if q.isVolume {
		got, ok := parseVolume(s)
		if !ok {
			return Grade{Malformed: fmt.Sprintf("cannot read %q as a volume: give three numbers in the order asked (%s), e.g. 29x29x32 or 29 29 32", line, q.notation)}
		}
		return q.gradeVolume(got)
	}
	got, ok := parseNumber(s)
	if !ok {
		return Grade{Malformed: fmt.Sprintf("cannot read %q as a whole number: e.g. 7600, 7,600 or 7.6K", line)}
	}
	if got == q.Num {
		return Grade{Right: true}
	}
	for _, sl := range q.Slips {
		if sl.Num == got && sl.Num != q.Num {
			return Grade{Note: "likely slip: " + sl.Why + "."}
		}
	}
	return Grade{Note: fmt.Sprintf("you answered %s.", calc.Group(got))}
}

// gradeVolume judges a volume answer written in the order got. A volume in
// the other notation is accepted when the channel count's place tells the
// notation apart (C differs from H and W); otherwise it would read as another
// volume in the asked notation, and the answer says which notation is asked.
func (q *Problem) gradeVolume(got [3]int64) Grade {
	want := q.vol.in(q.notation)
	other := hwcNotation
	if q.notation == hwcNotation {
		other = chwNotation
	}
	alt := q.vol.in(other)
	switch {
	case got == want:
		return Grade{Right: true}
	case got == alt:
		if q.vol.C != q.vol.H && q.vol.C != q.vol.W {
			return Grade{Right: true, Note: fmt.Sprintf("(that is %s; the question asked for %s, where it is %dx%dx%d)", other, q.notation, want[0], want[1], want[2])}
		}
		return Grade{Note: fmt.Sprintf("the question asks for %s: %dx%dx%d would read as a different volume in it. In %s your answer is right; in %s write %dx%dx%d.",
			q.notation, got[0], got[1], got[2], other, q.notation, want[0], want[1], want[2])}
	}
	for _, sl := range q.Slips {
		if sl.vol == q.vol {
			continue
		}
		if sl.vol.in(q.notation) == got {
			return Grade{Note: "likely slip: " + sl.Why + "."}
		}
		if sl.vol.in(other) == got && sl.vol.C != sl.vol.H {
			return Grade{Note: fmt.Sprintf("likely slip: %s; and the question asks for %s.", sl.Why, q.notation)}
		}
	}
	return Grade{Note: fmt.Sprintf("you answered %dx%dx%d, read as %s.", got[0], got[1], got[2], q.notation)}
}
