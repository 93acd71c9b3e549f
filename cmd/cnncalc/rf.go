package main

import (
	"github.com/spf13/cobra"
)

// RFOptions are the rf command's streams and flags.
type RFOptions struct {
	IO   *IOStreams
	Spec string
	specFlags
}

func newRFCmd(ios *IOStreams, runF func(*RFOptions) error) *cobra.Command {
	opts := &RFOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "rf SPEC",
		Short: "Per layer: receptive field size, jump, start and effective padding per axis",
		Example: `  cnncalc rf vgg16
  cnncalc rf net.yaml --format csv`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Spec = args[0]
			if runF != nil {
				return runF(opts)
			}
			return rfRun(opts)
		},
	}
	opts.register(cmd)
	return cmd
}

func rfRun(opts *RFOptions) error {
	a, err := load(opts.IO, opts.Spec, &opts.specFlags)
	if err != nil {
		return err
	}
	if opts.Format == "json" {
		return writeJSON(opts.IO.Out, a)
	}
	r, err := opts.report(a, rfColumns)
	if err != nil {
		return err
	}
	r.summary = []string{
		"size, jump and padding in input pixels; - where undefined;",
		"start is the input coordinate of the centre of output unit 0's field",
	}
	return r.write(opts.IO.Out, opts.Format, opts.Explain)
}

// rfColumns are the rf command's columns.
var rfColumns = []string{"index", "layer", "output", "rf-size", "rf-jump", "rf-start", "rf-padding"}
