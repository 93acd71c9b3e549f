package main

import (
	"fmt"

	"github.com/cnncalc/cnncalc/spec"
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
	return rfReport(a, opts.Format == "csv").write(opts.IO.Out, opts.Format, opts.Explain)
}

// rfReport builds the table of the analysis; csv leaves out the footer.
func rfReport(a *spec.Analysis, csv bool) *report {
	r := &report{
		title:  title(a),
		header: []string{"#", "layer", "output", "size", "jump", "start", "padding"},
		right:  []bool{true, false, false, true, true, true, true},
	}
	r.grow(len(a.Net.Nodes))
	for i, n := range a.Net.Nodes {
		l := a.Result.Layers[i]
		row := []string{fmt.Sprint(i + 1), layerCell(&n), dims(l.Output), "-", "-", "-", "-"}
		if rf := l.RF; rf != nil {
			row[3], row[4], row[5], row[6] = axesCell(rf.Size), axesCell(rf.Jump), axesCellF(rf.Start), axesCellF(rf.Padding)
		}
		r.add(row, l.Formulas)
	}
	r.summary = []string{
		"size, jump and padding in input pixels; - where undefined;",
		"start is the input coordinate of the centre of output unit 0's field",
	}
	return r
}
