// Command cnncalc is a calculator for convolutional networks: shapes,
// receptive fields, parameters, buffers and multiply-adds of a network
// described in YAML, with PyTorch's numbers.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // an expectation or a cross-check failed
	exitError = 2 // bad input: a spec that cannot be read, bad flags
)

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

func newRootCmd(ios *IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "cnncalc",
		Short: "Shapes, receptive fields, parameters and MACs of a CNN described in YAML",
		Long: `cnncalc reads a network described in YAML (see the README for the format) and
reports, per layer and in total, output shapes, receptive fields, learnable
parameters, buffers, multiply-adds and memory, with PyTorch's numbers.

SPEC is a file path, - for standard input, or the name of an embedded example
(cnncalc zoo lists them).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	root.AddCommand(newShapesCmd(ios, nil), newParamsCmd(ios, nil), newRFCmd(ios, nil), newZooCmd(ios, nil), newCheckCmd(ios, nil), newExecCmd(ios, nil))
	root.AddCommand(newQuizCmd(ios, nil))
	return root
}

// run executes the command line and returns the exit code.
func run(args []string, ios *IOStreams) int {
	root := newRootCmd(ios)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
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

func main() {
	os.Exit(run(os.Args[1:], &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}))
}
