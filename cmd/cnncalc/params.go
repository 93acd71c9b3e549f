package main

import (
	"fmt"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/spec"
	"github.com/spf13/cobra"
)

// ParamsOptions are the params command's streams and flags.
type ParamsOptions struct {
	IO   *IOStreams
	Spec string
	specFlags
}

func newParamsCmd(ios *IOStreams, runF func(*ParamsOptions) error) *cobra.Command {
	opts := &ParamsOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "params SPEC",
		Short: "Per layer: params, buffers, MACs, activation memory; totals",
		Example: `  cnncalc params resnet18
  cnncalc params net.yaml --batch 32 --format markdown`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Spec = args[0]
			if runF != nil {
				return runF(opts)
			}
			return paramsRun(opts)
		},
	}
	opts.register(cmd)
	return cmd
}

const mib = 1 << 20

func paramsRun(opts *ParamsOptions) error {
	a, err := load(opts.IO, opts.Spec, &opts.specFlags)
	if err != nil {
		return err
	}
	if opts.Format == "json" {
		return writeJSON(opts.IO.Out, a)
	}
	r, err := opts.report(a, paramsColumns)
	if err != nil {
		return err
	}
	r.summary = paramsSummary(a)
	return r.write(opts.IO.Out, opts.Format, opts.Explain)
}

// paramsColumns are the params command's columns.
var paramsColumns = []string{"index", "layer", "output", "params", "buffers", "macs", "memory"}

// paramsSummary is the totals under the params table.
func paramsSummary(a *spec.Analysis) []string {
	t := a.Result.Total
	paramBytes := 4 * float64(t.Params)
	return []string{
		fmt.Sprintf("params:      %s (%s), %.2f MiB as float32", calc.Group(t.Params), calc.Human(t.Params), paramBytes/mib),
		fmt.Sprintf("buffers:     %s (%s), non-trainable running statistics", calc.Group(t.Buffers), calc.Human(t.Buffers)),
		fmt.Sprintf("MACs:        %s (%s) for batch %d", calc.Group(t.MACs), calc.Human(t.MACs), a.Net.Input[0]),
		fmt.Sprintf("FLOPs:       %s (%s) = 2 x MACs", calc.Group(t.FLOPs), calc.Human(t.FLOPs)),
		fmt.Sprintf("memory:      input %.2f MiB, params %.2f MiB, buffers %.2f MiB (float32)",
			float64(t.InputBytes)/mib, paramBytes/mib, 4*float64(t.Buffers)/mib),
		fmt.Sprintf("activations: %.2f MiB, every layer's output summed (float32)", float64(t.ActivationBytes)/mib),
	}
}

// bytesCell prints a byte count in KiB or MiB.
func bytesCell(b int64) string {
	switch {
	case b >= mib:
		return fmt.Sprintf("%.2f MiB", float64(b)/mib)
	case b >= 1024:
		return fmt.Sprintf("%.1f KiB", float64(b)/1024)
	}
	return fmt.Sprintf("%d B", b)
}
