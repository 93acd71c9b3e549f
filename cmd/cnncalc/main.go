// Command cnncalc is a calculator for convolutional networks: shapes,
// receptive fields, parameters, buffers and multiply-adds of a network
// described in YAML, with PyTorch's numbers.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cnncalc/cnncalc/spec"
)

// Exit codes.
const (
	exitOK       = 0
	exitFail     = 1 // an expectation or a cross-check failed
	exitError    = 2 // bad input: a spec that cannot be read, bad flags
	exitInternal = 3 // a bug of cnncalc (a panic), whatever the input
)

// version is cnncalc's version, set by the build:
// go build -ldflags "-X main.version=v1.2.0" ./cmd/cnncalc.
var version = "dev"

// versionString is version, or, when the build left it unset, the module
// version go install recorded (v1.2.0, or a pseudo-version from the
// repository a checkout was built in), followed by the VCS revision the
// build recorded, when it did (go build in a git checkout, unless
// -buildvcs=false): "v1.2.0 (rev 0123456789ab, 2026-12-01T10:00:00Z, modified)".
func versionString() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return version
	}
	return formatVersion(version, bi)
}

// formatVersion is versionString for the given build information.
func formatVersion(v string, bi *debug.BuildInfo) string {
	if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	var rev, when string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return v
	}
	const short = 12
	if len(rev) > short {
		rev = rev[:short]
	}
	extra := []string{"rev " + rev}
	if when != "" {
		extra = append(extra, when)
	}
	if modified {
		extra = append(extra, "modified")
	}
	return v + " (" + strings.Join(extra, ", ") + ")"
}

func newVersionCmd(ios *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print cnncalc's version and the VCS revision it was built from",
		Long: `version prints what cnncalc --version prints: the version set by the build
(-ldflags "-X main.version=v1.2.0", as make dist does), else the module version
go install recorded, and the VCS revision, time and modified flag the Go
toolchain stamped in a git checkout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintf(ios.Out, "cnncalc version %s\n", versionString())
			return err
		},
	}
}

// IOStreams are the command's standard streams; tests pass buffers.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// exitError carries an exit code through cobra; its message is already
// printed when silent is set.
type codeError struct {
	code   int
	silent bool
	err    error
}

func (e *codeError) Error() string { return e.err.Error() }

func (e *codeError) Unwrap() error { return e.err }

func newRootCmd(ios *IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "cnncalc",
		Short: "Shapes, receptive fields, parameters and MACs of a CNN described in YAML",
		Long: `cnncalc reads a network described in YAML (the format: docs/spec-format.md in
the repository, https://github.com/cnncalc/cnncalc/blob/main/docs/spec-format.md) and
reports, per layer and in total, output shapes, receptive fields, learnable
parameters, buffers, multiply-adds and memory, with PyTorch's numbers.

SPEC is a file path, - for standard input, or the name of an embedded example
(cnncalc zoo lists them).`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	root.AddCommand(newShapesCmd(ios, nil), newParamsCmd(ios, nil), newRFCmd(ios, nil), newZooCmd(ios, nil), newCheckCmd(ios, nil), newExecCmd(ios, nil))
	root.AddCommand(newQuizCmd(ios, nil), newImportCmd(ios, nil), newVersionCmd(ios), newDocsCmd(ios, nil), newDrawCmd(ios, nil))
	root.AddCommand(newFoldCmd(ios, nil), newNormsCmd(ios, nil), newMemoryCmd(ios, nil))
	return root
}

// run executes the command line and returns the exit code. A panic is a
// bug, whatever the input: it is reported as one, with the version and the
// stack, and exits exitInternal, never exitError (a refusal of the input).
// Tests add extra commands to the root.
func run(args []string, ios *IOStreams, extra ...*cobra.Command) (code int) {
	defer func() {
		if r := recover(); r != nil {
			reportBug(ios.ErrOut, fmt.Sprint(r), debug.Stack())
			code = exitInternal
		}
	}()
	root := newRootCmd(ios)
	root.AddCommand(extra...)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ie *spec.InternalError
	if errors.As(err, &ie) {
		// Reading a spec panicked and spec recovered: its error is
		// printed (silent) or printed here, and it is a bug all the same.
		var ce *codeError
		if !errors.As(err, &ce) || !ce.silent {
			fmt.Fprintln(ios.ErrOut, "cnncalc:", escapeText(err.Error()))
		}
		reportBug(ios.ErrOut, fmt.Sprint(ie.Value), ie.Stack)
		return exitInternal
	}
	var ce *codeError
	if errors.As(err, &ce) {
		if !ce.silent {
			fmt.Fprintln(ios.ErrOut, "cnncalc:", escapeText(ce.err.Error()))
		}
		return ce.code
	}
	fmt.Fprintln(ios.ErrOut, "cnncalc:", escapeText(err.Error()))
	return exitError
}

// reportBug prints a bug's report on w: what panicked, the version, where
// to report it, and the stack.
func reportBug(w io.Writer, value string, stack []byte) {
	fmt.Fprintf(w, "cnncalc: internal error: %s\n", escapeLine(value))
	fmt.Fprintf(w, "cnncalc %s, %s %s/%s\n", versionString(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintln(w, "This is a bug in cnncalc, not a problem with the input: please report it on")
	fmt.Fprintln(w, "https://github.com/cnncalc/cnncalc/issues with the command line and the input file.")
	w.Write(stack)
}

func main() {
	os.Exit(run(os.Args[1:], &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}))
}
