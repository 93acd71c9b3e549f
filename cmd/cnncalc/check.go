package main

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/exec"
	"github.com/cnncalc/cnncalc/exec/verify"
	"github.com/cnncalc/cnncalc/spec"
)

// CheckOptions are the check command's streams and flags.
type CheckOptions struct {
	IO      *IOStreams
	Specs   []string
	Format  string
	Batch   int64
	Write   bool
	Verbose bool
	// Exec also runs each network and cross-checks every layer.
	Exec      bool
	MaxMemory string
	// BatchSet says --batch was given; without it Batch is 0 and each
	// spec's batch: is in effect.
	BatchSet bool
	// AllowEmpty passes a run that checked no expectation.
	AllowEmpty bool
	// Color is set when the output is a terminal and NO_COLOR is unset.
	Color bool
}

func newCheckCmd(ios *IOStreams, runF func(*CheckOptions) error) *cobra.Command {
	opts := &CheckOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "check SPEC...",
		Short: "Check every expect: of the specs; exit 1 when one fails",
		Long: `check evaluates every expectation in the specs (expect: on items, and the
top-level expect: output, params, buffers, macs) and prints each failure with
file:line:col, the item's path, expected and actual, then "N passed, M failed".

SPEC may be a file, a glob or a directory (every .yaml and .yml under it).
Exit codes: 0 all hold, 1 an expectation fails, 2 a spec cannot be read,
3 an internal error (a bug of cnncalc).

--write fills in or updates the expectations in place instead (a snapshot, like
go test -update): failing item expectations are rewritten, each top-level item
without one gets one, and the top-level totals are filled in; comments, key order
and layout are kept, and a spec with an error is left untouched.`,
		Example: `  cnncalc check testdata/zoo
  cnncalc check 'models/*.yaml' --format github
  cnncalc check --write net.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Specs = args
			opts.BatchSet = cmd.Flags().Changed("batch")
			if f, ok := ios.Out.(*os.File); ok && os.Getenv("NO_COLOR") == "" {
				opts.Color = isatty.IsTerminal(f.Fd())
			}
			if runF != nil {
				return runF(opts)
			}
			return checkRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "human", "output format: human, github (Actions annotations), junit (XML) or json")
	cmd.Flags().Int64Var(&opts.Batch, "batch", 0, "batch size (overrides each spec's batch:); expect.macs is checked for it")
	cmd.Flags().BoolVar(&opts.Write, "write", false, "fill in or update the expectations in place instead of checking them")
	cmd.Flags().BoolVarP(&opts.Verbose, "verbose", "v", false, "list passing expectations too")
	cmd.Flags().BoolVar(&opts.Exec, "exec", false, "also run each network and cross-check every layer's shape, MACs and receptive field")
	cmd.Flags().StringVar(&opts.MaxMemory, "max-memory", "4GiB", "with --exec, skip a network whose estimated peak memory is larger")
	cmd.Flags().BoolVar(&opts.AllowEmpty, "allow-empty", false, "pass when no expectation was checked (by default that fails: a mistyped path must not pass)")
	registerFormat(cmd, "human\tfailures, then N passed, M failed", "github\tGitHub Actions annotations", "junit\tJUnit XML", "json\tan object of files and outcomes")
	cmd.ValidArgsFunction = completeSpec(-1)
	return cmd
}

// fileResult is what check found in one spec.
type fileResult struct {
	File     string         `json:"file"`
	Errors   []string       `json:"errors,omitempty"` // the spec could not be read or analysed
	Outcomes []spec.Outcome `json:"outcomes"`
	Wrote    bool           `json:"wrote,omitempty"`
	errs     []*spec.Diagnostic
	src      []byte
	internal *spec.InternalError // reading the spec met a bug of cnncalc
}

func checkRun(opts *CheckOptions) error {
	switch opts.Format {
	case "human", "github", "junit", "json":
	default:
		return usageErr("unknown --format %q: use human, github, junit or json", opts.Format)
	}
	if err := checkBatch(opts.BatchSet, opts.Batch); err != nil {
		return err
	}
	files, err := expandSpecs(opts.Specs)
	if err != nil {
		return &codeError{code: exitError, err: err}
	}
	var results []*fileResult
	for _, f := range files {
		results = append(results, checkFile(opts, f))
	}
	passed, failed, broken, skipped := 0, 0, 0, 0
	for _, r := range results {
		if len(r.Errors) > 0 {
			broken++
		}
		for _, o := range r.Outcomes {
			switch {
			case o.Skipped:
				skipped++
			case o.Pass:
				passed++
			default:
				failed++
			}
		}
	}
	w := opts.IO.Out
	switch opts.Format {
	case "human":
		writeHuman(w, opts, results, passed, failed, broken, skipped)
	case "github":
		writeGitHub(w, results, passed, failed, broken, skipped)
	case "junit":
		if err := writeJUnit(w, results); err != nil {
			return err
		}
	case "json":
		enc := json.NewEncoder(&jsonWriter{w: w})
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Files   []*fileResult `json:"files"`
			Passed  int           `json:"passed"`
			Failed  int           `json:"failed"`
			Broken  int           `json:"unreadable"`
			Skipped int           `json:"not_measured,omitempty"`
		}{results, passed, failed, broken, skipped}); err != nil {
			return err
		}
	}
	for _, r := range results {
		if r.internal != nil {
			return &codeError{code: exitInternal, silent: true, err: r.internal}
		}
	}
	switch {
	case broken > 0:
		return &codeError{code: exitError, silent: true, err: fmt.Errorf("%d specs cannot be read", broken)}
	case failed > 0:
		return &codeError{code: exitFail, silent: true, err: fmt.Errorf("%d expectations failed", failed)}
	case passed == 0 && !opts.AllowEmpty && !opts.Write:
		// A mistyped path or a spec without a single expectation would
		// otherwise pass in CI forever.
		return &codeError{code: exitFail, err: fmt.Errorf("0 expectations checked in %d specs (give specs with expect:, or --allow-empty)", len(files))}
	}
	return nil
}

// expandSpecs turns files, globs and directories into a sorted file list.
func expandSpecs(args []string) ([]string, error) {
	var files []string
	seen := map[string]bool{}
	addFile := func(f string) {
		if !seen[f] {
			seen[f] = true
			files = append(files, f)
		}
	}
	for _, a := range args {
		if a == "-" {
			addFile(a)
			continue
		}
		matches, err := filepath.Glob(a)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", a, err)
		}
		if len(matches) == 0 {
			if _, _, err := readSpec(a, strings.NewReader("")); err == nil {
				addFile(a) // an embedded example
				continue
			}
			return nil, fmt.Errorf("%s: no such file, directory or embedded example", a)
		}
		for _, m := range matches {
			st, err := os.Stat(m)
			if err != nil {
				return nil, err
			}
			if !st.IsDir() {
				addFile(m)
				continue
			}
			var found []string
			err = filepath.WalkDir(m, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
					found = append(found, p)
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
			sort.Strings(found)
			for _, f := range found {
				addFile(f)
			}
		}
	}
	return files, nil
}

func checkFile(opts *CheckOptions, arg string) *fileResult {
	var name string
	var data []byte
	var err error
	var model *spec.Spec
	if isONNX(arg) {
		name = arg
		model, err = parseONNX(arg, opts.Batch, nil)
		if err == nil {
			data = model.Source
		}
	} else {
		name, data, err = readSpec(arg, opts.IO.In)
	}
	r := &fileResult{File: name, Outcomes: []spec.Outcome{}, src: data}
	if err != nil {
		r.Errors = []string{err.Error()}
		return r
	}
	fail := func(err error) *fileResult {
		errors.As(err, &r.internal)
		var list spec.ErrorList
		if errors.As(err, &list) {
			r.errs = list
			for _, e := range list {
				r.Errors = append(r.Errors, e.Error())
			}
		} else {
			r.Errors = append(r.Errors, err.Error())
		}
		return r
	}
	s := model
	if s == nil {
		if s, err = parseData(name, data); err != nil {
			return fail(err)
		}
	}
	a, err := s.Evaluate(opts.Batch, nil)
	if err != nil {
		return fail(err)
	}
	if opts.Write {
		if arg == "-" || name != arg {
			return fail(fmt.Errorf("%s: --write needs a file", arg))
		}
		if model != nil {
			return fail(fmt.Errorf("%s: --write rewrites a YAML spec, and this is an ONNX model: cnncalc import %s -o net.yaml writes one", arg, arg))
		}
		was, err := stateOf(arg, data)
		if err != nil {
			return fail(err)
		}
		out, after, err := a.SnapshotChecked()
		if err != nil {
			return fail(err)
		}
		if string(out) != string(data) {
			if err := writeFile(arg, out, was); err != nil {
				return fail(err)
			}
			r.Wrote = true
		}
		a, r.src = after, out
	}
	r.Outcomes = a.Check()
	if opts.Exec {
		outs, err := execOutcomes(a, opts.MaxMemory)
		if err != nil {
			return fail(err)
		}
		r.Outcomes = append(r.Outcomes, outs...)
	}
	return r
}

// execOutcomes runs the network (default weights, seed 0, a random input)
// and turns the cross-check of every layer into outcomes.
func execOutcomes(a *spec.Analysis, maxMemory string) ([]spec.Outcome, error) {
	s, res := a.Spec, a.Result
	limit, err := parseBytes(maxMemory)
	if err != nil {
		return nil, err
	}
	plan, err := exec.NewPlan(&a.Net)
	if err != nil {
		return nil, err
	}
	fwd, probe, err := verify.CrossCheckMemory(plan, res)
	if err != nil {
		return nil, err
	}
	if err := refuseMemory(max(fwd, probe), limit); err != nil {
		return nil, fmt.Errorf("%s: running it %v", s.File, err)
	}
	run, checks, err := verify.CrossCheck(plan, res, plan.Init(0), exec.RandomInput(a.Net.Input, 0), exec.Options{})
	if err != nil {
		return nil, err
	}
	var outs []spec.Outcome
	for i, c := range checks {
		inf := s.Info[i]
		o := spec.Outcome{File: s.File, Pos: inf.Pos, Path: inf.Path, Item: inf.Item}
		l := res.Layers[i]
		add := func(what string, v verify.Verdict, want, got string) {
			if v == verify.Skipped {
				return
			}
			o.What, o.Expected, o.Actual, o.Pass = what, want, got, v == verify.Agree
			if !o.Pass {
				o.Actual = got + " (" + strings.Join(c.Problems, "; ") + ")"
			}
			outs = append(outs, o)
		}
		add("executed shape", c.Shape, spec.FormatExpect(l.Output), spec.FormatExpect(calc.ShapeOf(run.Layers[i].Shape)))
		add("MACs performed", c.MACs, calc.Group(l.MACs), calc.Group(run.Layers[i].MACs))
		switch {
		case c.RF != verify.Skipped:
			want, got := measuredRFCells(l.RF, c.Measured)
			add("measured receptive field", c.RF, want, got)
		case c.RFNote != "":
			// calc gives a field the probe could not measure: say so.
			o.What, o.Expected, o.Actual, o.Pass, o.Skipped = "measured receptive field", rfCell(l.RF), "unmeasured: "+c.RFNote, false, true
			outs = append(outs, o)
		}
	}
	return outs, nil
}

const (
	red   = "\x1b[31m"
	green = "\x1b[32m"
	bold  = "\x1b[1m"
	reset = "\x1b[0m"
)

func writeHuman(w io.Writer, opts *CheckOptions, results []*fileResult, passed, failed, broken, skipped int) {
	paint := func(code, s string) string {
		if opts.Color {
			return code + s + reset
		}
		return s
	}
	for _, r := range results {
		if r.Wrote {
			fmt.Fprintf(w, "wrote %s\n", escapeLine(r.File))
		}
		if len(r.Errors) > 0 {
			// A spec that cannot be read is an error, not a check: it goes
			// to standard error, as everywhere else; the summary counts it.
			ew := opts.IO.ErrOut
			if r.errs != nil {
				printErrors(ew, r.src, spec.ErrorList(r.errs))
			} else {
				for _, e := range r.Errors {
					fmt.Fprintln(ew, escapeText(e))
				}
			}
			continue
		}
		for _, o := range r.Outcomes {
			switch {
			case o.Skipped:
				if opts.Verbose {
					fmt.Fprintln(w, "skip "+escapeLine(o.String()))
				}
			case !o.Pass:
				fmt.Fprintln(w, paint(red, "FAIL")+" "+escapeLine(o.String()))
			case opts.Verbose:
				fmt.Fprintln(w, paint(green, "ok")+"   "+escapeLine(o.String()))
			}
		}
	}
	if skipped > 0 {
		fmt.Fprintln(w, skippedNote(skipped, !opts.Verbose))
	}
	summary := fmt.Sprintf("%d passed, %d failed", passed, failed)
	if broken > 0 {
		summary += fmt.Sprintf(", %d specs unreadable", broken)
	}
	switch {
	case failed > 0 || broken > 0:
		summary = paint(bold+red, summary)
	default:
		summary = paint(green, summary)
	}
	fmt.Fprintln(w, summary)
}

// ghEscape escapes a GitHub Actions workflow command's message; ghProp
// escapes a property value. Both escape control characters first
// (escapeLine, which writes a line break as \n too): a name from a spec
// can neither end the command nor act on a terminal showing the log.
func ghEscape(s string) string {
	return ghMessage.Replace(escapeLine(s))
}

func ghProp(s string) string {
	return ghProperty.Replace(escapeLine(s))
}

var (
	ghMessage  = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	ghProperty = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

// skippedNote is the line before the summary that counts the checks that
// could not be made; the summary stays the last line, as it was.
func skippedNote(skipped int, hint bool) string {
	s := fmt.Sprintf("%d not measured: receptive fields the probe could not measure", skipped)
	if hint {
		s += " (-v lists them)"
	}
	return s
}

func writeGitHub(w io.Writer, results []*fileResult, passed, failed, broken, skipped int) {
	annotate := func(file string, line, col int, title, msg string) {
		loc := "file=" + ghProp(file)
		if line > 0 {
			loc += fmt.Sprintf(",line=%d,col=%d", line, col)
		}
		fmt.Fprintf(w, "::error %s,title=%s::%s\n", loc, ghProp(title), ghEscape(msg))
	}
	for _, r := range results {
		if r.errs != nil {
			for _, e := range r.errs {
				annotate(e.File, e.Line, e.Col, "cnncalc: spec error", strings.TrimPrefix(e.Error(), fmt.Sprintf("%s:%d:%d: ", e.File, e.Line, e.Col)))
			}
		} else {
			for _, e := range r.Errors {
				annotate(r.File, 0, 0, "cnncalc: spec error", e)
			}
		}
		for _, o := range r.Outcomes {
			if !o.Pass && !o.Skipped {
				where := o.Path
				if o.Item != "" {
					where += " (" + o.Item + ")"
				}
				annotate(o.File, o.Line, o.Col, "cnncalc: expectation failed", fmt.Sprintf("%s: %s: expected %s, got %s", where, o.What, o.Expected, o.Actual))
			}
		}
	}
	if skipped > 0 {
		fmt.Fprintln(w, skippedNote(skipped, false))
	}
	fmt.Fprintf(w, "%d passed, %d failed", passed, failed)
	if broken > 0 {
		fmt.Fprintf(w, ", %d specs unreadable", broken)
	}
	fmt.Fprintln(w)
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr,omitempty"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func writeJUnit(w io.Writer, results []*fileResult) error {
	// XML 1.0 cannot carry most control characters, not even as
	// references (encoding/xml replaces them with U+FFFD): every text is
	// escaped as the terminal formats are.
	x := escapeText
	all := junitSuites{Name: "cnncalc check"}
	for _, r := range results {
		file := x(r.File)
		s := junitSuite{Name: file}
		if len(r.Errors) > 0 {
			msg := strings.Join(r.Errors, "\n")
			s.Cases = append(s.Cases, junitCase{Name: "read spec", Classname: file, File: file,
				Error: &junitProblem{Message: x(r.Errors[0]), Type: "SpecError", Text: x(msg)}})
			s.Errors++
		}
		for _, o := range r.Outcomes {
			name := o.Path
			if o.Item != "" {
				name += " (" + o.Item + ")"
			}
			c := junitCase{Name: x(name + ": " + o.What), Classname: file, File: x(o.File), Line: o.Line}
			switch {
			case o.Skipped:
				c.Skipped = &junitSkipped{Message: x(o.Actual)}
				s.Skipped++
			case !o.Pass:
				msg := fmt.Sprintf("expected %s, got %s", o.Expected, o.Actual)
				c.Failure = &junitProblem{Message: x(msg), Type: "ExpectationFailed", Text: x(o.String())}
				s.Failures++
			}
			s.Cases = append(s.Cases, c)
		}
		s.Tests = len(s.Cases)
		all.Tests += s.Tests
		all.Failures += s.Failures
		all.Errors += s.Errors
		all.Suites = append(all.Suites, s)
	}
	io.WriteString(w, xml.Header)
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// measuredRFCells prints calc's receptive field and the measured one as
// size/jump/start over the axes the probe measured (a jump it could not
// measure is ?), so that both sides show the same numbers.
func measuredRFCells(rf *calc.RF, m *verify.MeasuredRF) (want, got string) {
	var ws, wj, gs, gj []string
	var wst, gst []float64
	for a := range rf.Size {
		if !m.OK[a] {
			continue
		}
		ws, wj, wst = append(ws, fmt.Sprint(rf.Size[a])), append(wj, fmt.Sprint(rf.Jump[a])), append(wst, rf.Start[a])
		gs, gst = append(gs, fmt.Sprint(m.Size[a])), append(gst, m.Start[a])
		if m.JumpOK[a] {
			gj = append(gj, fmt.Sprint(m.Jump[a]))
		} else {
			gj = append(gj, "?")
		}
	}
	same := func(v []string) string {
		for _, x := range v {
			if x != v[0] {
				return strings.Join(v, "x")
			}
		}
		return v[0]
	}
	cell := func(size, jump []string, start []float64) string {
		return same(size) + "/" + same(jump) + "/" + axesCellF(start)
	}
	return cell(ws, wj, wst), cell(gs, gj, gst)
}
