package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/cnncalc/cnncalc"
	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/spec"
	"github.com/spf13/cobra"
)

// specFlags are the flags every spec-reading command takes.
type specFlags struct {
	Format  string
	Batch   int64
	Input   string
	Explain bool
	// BatchSet says --batch was given; without it Batch is 0 and the
	// spec's batch: is in effect.
	BatchSet bool
	// Columns are the report's columns by name (--columns), nil for the
	// command's own; Depth > 0 groups the rows by block use and repeat to
	// that depth (--depth), 0 lists every layer.
	Columns []string
	Depth   int
}

// register registers the flags of a report command (shapes, params, rf):
// those of registerRun, --explain, --columns and --depth.
func (f *specFlags) register(cmd *cobra.Command) {
	f.registerRun(cmd, "output format: table, json, csv or markdown")
	cmd.Flags().BoolVar(&f.Explain, "explain", false, "show each size's worked formula under its row")
	cmd.Flags().StringSliceVar(&f.Columns, "columns", nil, "the table's columns, in order, comma-separated: "+columnHelp())
	cmd.Flags().IntVar(&f.Depth, "depth", 0, "group the rows by block use and repeat, showing items nested up to this depth (1: top-level items); 0 lists every layer")
	registerFormat(cmd, reportFormats...)
	cmd.RegisterFlagCompletionFunc("columns", completeList(columnValues))
	cmd.ValidArgsFunction = completeSpec(1)
}

// report builds the command's table with --columns (else defaults) and
// --depth; csv takes plain numbers.
func (f *specFlags) report(a *spec.Analysis, defaults []string) (*report, error) {
	names := f.Columns
	if names == nil {
		names = defaults
	}
	cols, err := pickColumns(names)
	if err != nil {
		return nil, &codeError{code: exitError, err: err}
	}
	r, err := layerReport(a, cols, f.Depth, f.Format == "csv")
	if err != nil {
		return nil, &codeError{code: exitError, err: err}
	}
	return r, nil
}

// registerRun registers the flags of a command that runs the network
// (exec): --format with the formats it has, --batch and --input, and no
// --explain (it has no formulas to show).
func (f *specFlags) registerRun(cmd *cobra.Command, formatUsage string) {
	// The command's PreRun: whether --batch was given is known once the
	// flags are parsed.
	cmd.PreRun = func(cmd *cobra.Command, _ []string) { f.BatchSet = cmd.Flags().Changed("batch") }
	cmd.Flags().StringVar(&f.Format, "format", "table", formatUsage)
	cmd.Flags().Int64Var(&f.Batch, "batch", 0, "batch size (overrides the spec's batch:)")
	cmd.Flags().StringVar(&f.Input, "input", "", "input shape, channels first, batch excluded, e.g. 3x224x224 (overrides the spec's input:)")
}

func (f *specFlags) check() error {
	switch f.Format {
	case "table", "json", "csv", "markdown":
	default:
		return usageErr("unknown --format %q: use table, json, csv or markdown", f.Format)
	}
	if f.Depth < 0 || f.Depth > spec.MaxDepth+1 {
		return usageErr("--depth must be between 0 (every layer) and %d, got %d", spec.MaxDepth+1, f.Depth)
	}
	if f.Format == "json" && (f.Columns != nil || f.Depth > 0) {
		return usageErr("--columns and --depth shape the table, csv and markdown formats; --format json holds every layer and field")
	}
	if f.Columns != nil {
		if _, err := pickColumns(f.Columns); err != nil {
			return &codeError{code: exitError, err: err}
		}
	}
	return checkBatch(f.BatchSet, f.Batch)
}

// checkBatch refuses a given --batch out of range: 0 and negative ones
// too (the flag's absence, not 0, leaves the spec's batch in effect).
func checkBatch(set bool, batch int64) error {
	if set && (batch < 1 || batch > calc.MaxArg) {
		return usageErr("--batch must be between 1 and %s, got %d", calc.Group(calc.MaxArg), batch)
	}
	return nil
}

func usageErr(format string, a ...any) error {
	return &codeError{code: exitError, err: fmt.Errorf(format, a...)}
}

// parseInputShape reads 3x224x224 (or 3,224,224 or 3 224 224).
func parseInputShape(s string) ([]int64, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == 'x' || r == 'X' || r == ',' || r == ' ' || r == '×' })
	if len(fields) < 1 || len(fields) > 4 {
		return nil, fmt.Errorf("--input %q: want 1 to 4 sizes, channels first, batch excluded, such as 3x224x224", s)
	}
	var dims []int64
	for _, f := range fields {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil || v < 1 || v > calc.MaxDim {
			return nil, fmt.Errorf("--input %q: %q is not a size between 1 and %s", s, f, calc.Group(calc.MaxDim))
		}
		dims = append(dims, v)
	}
	return dims, nil
}

// readSpec reads SPEC: a path, - for standard input, or a zoo name.
func readSpec(arg string, stdin io.Reader) (name string, data []byte, err error) {
	limit := int64(spec.MaxFileSize) + 1
	if arg == "-" {
		data, err = io.ReadAll(io.LimitReader(stdin, limit))
		if err == nil && len(data) > spec.MaxFileSize {
			return "<stdin>", nil, fmt.Errorf("<stdin>: standard input holds more than %s bytes, the limit", calc.Group(spec.MaxFileSize))
		}
		return "<stdin>", data, err
	}
	f, err := openSpecFile(arg)
	if err == nil {
		defer f.Close()
		st, serr := f.Stat()
		data, err = readAllSized(f, limit)
		if err == nil && len(data) > spec.MaxFileSize {
			// Only limit+1 bytes were read: give the file's own size.
			size := "more than " + calc.Group(spec.MaxFileSize)
			if serr == nil && st.Size() > spec.MaxFileSize {
				size = calc.Group(st.Size())
			}
			return arg, nil, fmt.Errorf("%s: file is %s bytes, above the limit of %s bytes", arg, size, calc.Group(spec.MaxFileSize))
		}
		return arg, data, err
	}
	if errors.Is(err, fs.ErrNotExist) && !strings.ContainsAny(arg, "/\\.") {
		if data, zerr := cnncalc.Zoo.ReadFile("testdata/zoo/" + arg + ".yaml"); zerr == nil {
			return arg + ".yaml", data, nil
		}
		return arg, nil, fmt.Errorf("%s: no such file and no embedded example of that name (cnncalc zoo lists them)", arg)
	}
	return arg, nil, err
}

// load reads, parses and analyses SPEC with the flags' batch and input,
// printing errors and warnings to ErrOut. Errors come back as a silent
// exit-2 codeError.
func load(ios *IOStreams, arg string, f *specFlags) (*spec.Analysis, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	var input []int64
	if f.Input != "" {
		var err error
		if input, err = parseInputShape(f.Input); err != nil {
			return nil, &codeError{code: exitError, err: err}
		}
	}
	s, err := parseSpec(ios, arg)
	if err != nil {
		return nil, err
	}
	return evaluate(ios, s, f.Batch, input, f.Explain)
}

// parseData is spec.Parse; tests replace it to meet a bug of spec.
var parseData = spec.Parse

// parseSpec reads SPEC once (standard input can be read only once) and
// parses it, printing errors to ErrOut.
func parseSpec(ios *IOStreams, arg string) (*spec.Spec, error) {
	if isONNX(arg) {
		s, err := parseONNX(arg, 0, nil)
		if err != nil {
			fmt.Fprintln(ios.ErrOut, escapeText(err.Error()))
			return nil, codeOf(err)
		}
		return s, nil
	}
	name, data, err := readSpec(arg, ios.In)
	if err != nil {
		return nil, &codeError{code: exitError, err: err}
	}
	s, err := parseData(name, data)
	if err != nil {
		printErrors(ios.ErrOut, data, err)
		return nil, &codeError{code: exitError, silent: true, err: err}
	}
	return s, nil
}

// evaluate analyses a parsed spec with the batch (0: the spec's) and input
// (nil: the spec's) in effect, printing errors and warnings to ErrOut.
func evaluate(ios *IOStreams, s *spec.Spec, batch int64, input []int64, explain bool) (*spec.Analysis, error) {
	s, err := reconvert(s, batch, input)
	if err != nil {
		fmt.Fprintln(ios.ErrOut, escapeText(err.Error()))
		return nil, codeOf(err)
	}
	s.Net.Explain = explain
	a, err := s.Evaluate(batch, input)
	if err != nil {
		printErrors(ios.ErrOut, s.Source, err)
		return nil, &codeError{code: exitError, silent: true, err: err}
	}
	for _, w := range a.Warnings {
		fmt.Fprintln(ios.ErrOut, escapeLine(w.Error()))
	}
	return a, nil
}

// printErrors prints a spec error list the way compilers do: the error, the
// offending source line with a caret, and the detail (a worked formula).
func printErrors(w io.Writer, src []byte, err error) {
	var list spec.ErrorList
	if !errors.As(err, &list) {
		fmt.Fprintln(w, escapeText(err.Error()))
		return
	}
	lines := bytes.Split(src, []byte("\n"))
	for i, e := range list {
		if i == spec.MaxErrors {
			fmt.Fprintf(w, "(and %d more errors)\n", len(list)-spec.MaxErrors)
			break
		}
		fmt.Fprintln(w, escapeLine(e.Error()))
		if e.Line > 0 && e.Line <= len(lines) {
			line, caret := quoteSourceLine(strings.TrimRight(string(lines[e.Line-1]), "\r"), e.Col)
			fmt.Fprintf(w, "%5d | %s\n", e.Line, line)
			if caret >= 0 {
				fmt.Fprintf(w, "      | %s^\n", strings.Repeat(" ", caret))
			}
		}
		if e.Detail != "" {
			fmt.Fprintf(w, "      = %s\n", escapeLine(e.Detail))
		}
	}
}

// readAllSized reads a file of at most limit bytes in one allocation of its
// size (io.ReadAll grows and copies).
func readAllSized(f *os.File, limit int64) ([]byte, error) {
	st, err := f.Stat()
	if err != nil || st.Size() <= 0 || st.Size() >= limit {
		return io.ReadAll(io.LimitReader(f, limit))
	}
	data := make([]byte, st.Size())
	n, err := io.ReadFull(f, data)
	if err == io.ErrUnexpectedEOF {
		err = nil // the file shrank
	}
	return data[:n], err
}

// codeOf is err as a silent codeError (its message already printed):
// exit 3 for an internal error, 2 otherwise.
func codeOf(err error) error {
	var ce *codeError
	if errors.As(err, &ce) {
		return &codeError{code: ce.code, silent: true, err: err}
	}
	return &codeError{code: exitError, silent: true, err: err}
}
