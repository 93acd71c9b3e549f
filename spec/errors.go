package spec

import (
	"fmt"
	"sort"
	"strings"
)

// Pos is a position in a spec file; Line and Col count from 1.
type Pos struct {
	Line int `json:"line"`
	Col  int `json:"col"`
}

// Severity says whether a diagnostic stops the run.
type Severity uint8

// The severities: an error makes the spec unusable, a warning does not.
const (
	SeverityError Severity = iota
	SeverityWarning
)

// Diagnostic is one finding in a spec, with its position and the item's
// path: an error, or a warning.
type Diagnostic struct {
	Severity Severity
	File     string
	Pos
	// Path locates the item in the file: layers[4].residual[2]; for an
	// item of a block it says which use expanded it.
	Path string
	// Item names the item: its name: if given, else its type.
	Item string
	Msg  string
	// Detail is a worked formula or a hint, shown under the source line.
	Detail string
	// Err is the error behind the diagnostic, if any: an *InternalError
	// when reading the spec met a bug of cnncalc rather than a fault of
	// the spec.
	Err error
}

// Unwrap returns the error behind the diagnostic, if any.
func (e *Diagnostic) Unwrap() error { return e.Err }

// InternalError is a panic recovered while reading a spec: a bug of
// cnncalc, not a fault of the spec. errors.As finds it in the ErrorList
// Parse returns.
type InternalError struct {
	Value any    // what panicked
	Stack []byte // the goroutine's stack where it panicked
}

func (e *InternalError) Error() string {
	return fmt.Sprintf("internal error reading the spec: %v", e.Value)
}

// Error formats the diagnostic as compilers do:
// file:line:col: [warning: ]path (item): message.
func (e *Diagnostic) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	b.WriteString(": ")
	if e.Severity == SeverityWarning {
		b.WriteString("warning: ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		if e.Item != "" {
			fmt.Fprintf(&b, " (%s)", e.Item)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// MaxErrors is how many errors an ErrorList prints before it summarises.
const MaxErrors = 10

// ErrorList is a list of spec errors, sorted by position once Sort ran.
type ErrorList []*Diagnostic

func (l ErrorList) Len() int      { return len(l) }
func (l ErrorList) Swap(i, j int) { l[i], l[j] = l[j], l[i] }
func (l ErrorList) Less(i, j int) bool {
	a, b := l[i], l[j]
	if a.File != b.File {
		return a.File < b.File
	}
	if a.Line != b.Line {
		return a.Line < b.Line
	}
	if a.Col != b.Col {
		return a.Col < b.Col
	}
	return a.Msg < b.Msg
}

// Sort sorts the list by position and drops a second error on the same line.
func (l *ErrorList) Sort() {
	sort.Stable(*l)
	out := (*l)[:0]
	for i, e := range *l {
		if i > 0 && e.Line > 0 {
			p := out[len(out)-1]
			if p.File == e.File && p.Line == e.Line {
				continue
			}
		}
		out = append(out, e)
	}
	*l = out
}

func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		if i == MaxErrors {
			fmt.Fprintf(&b, "(and %d more errors)", len(l)-MaxErrors)
			break
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the diagnostics, for errors.Is and errors.As.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// Err returns nil for an empty list, else the sorted list.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	l.Sort()
	return l
}

// suggest returns " (did you mean x?)" for the candidate nearest to s, when
// one is close enough to be a likely typo.
func suggest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), c); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" || bestD > max(2, len(s)/3) {
		return ""
	}
	return fmt.Sprintf("; did you mean %s?", best)
}

// EditDistance is editDistance, for front ends that suggest names.
func EditDistance(a, b string) int { return editDistance(a, b) }

// editDistance is the optimal-string-alignment distance of a and b:
// Levenshtein's, with a swap of two neighbouring letters as one edit (reul
// is one edit from relu, two from mul).
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 20
	}
	rows := [3][]int{make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)}
	for j := range rows[1] {
		rows[1][j] = j
	}
	// rows[0] is row i-2, rows[1] row i-1, rows[2] row i.
	for i := 1; i <= len(a); i++ {
		pp, prev, cur := rows[0], rows[1], rows[2]
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], pp[j-2]+1)
			}
		}
		rows[0], rows[1], rows[2] = prev, cur, pp
	}
	return rows[1][len(b)]
}
