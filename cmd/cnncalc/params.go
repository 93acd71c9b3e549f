package main

import (
	"fmt"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/spec"
	"github.com/spf13/cobra"
)

// ParamsOptions are the params command's streams and flags.
type ParamsOptions struct {
	IO    *IOStreams
	Spec  string
	DType string
	specFlags
}

func newParamsCmd(ios *IOStreams, runF func(*ParamsOptions) error) *cobra.Command {
	opts := &ParamsOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "params SPEC",
		Short: "Per layer: params, buffers, MACs, activation memory; totals",
		Example: `  cnncalc params resnet18
  cnncalc params net.yaml --batch 32 --format markdown
  cnncalc params resnet50 --dtype bfloat16`,
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
	cmd.Flags().StringVar(&opts.DType, "dtype", "float32", "dtype of every byte figure: float32, float16 or bfloat16")
	return cmd
}

const mib = 1 << 20

func paramsRun(opts *ParamsOptions) error {
	dt, ok := calc.ParseDType(opts.DType)
	if !ok {
		return usageErr("unknown --dtype %q: use float32, float16 or bfloat16", opts.DType)
	}
	a, err := load(opts.IO, opts.Spec, &opts.specFlags)
	if err != nil {
		return err
	}
	if opts.Format == "json" {
		return writeJSON(opts.IO.Out, a)
	}
	// The byte figures in the dtype asked for (calc counts float32).
	if dt != calc.Float32 {
		for i := range a.Result.Layers {
			a.Result.Layers[i].Bytes = a.Result.Layers[i].Bytes / 4 * dt.Size()
		}
		t := &a.Result.Total
		t.ActivationBytes = t.ActivationBytes / 4 * dt.Size()
		t.InputBytes = t.InputBytes / 4 * dt.Size()
	}
	r, err := opts.report(a, paramsColumns)
	if err != nil {
		return err
	}
	r.summary = paramsSummary(a, dt)
	return r.write(opts.IO.Out, opts.Format, opts.Explain)
}

// paramsColumns are the params command's columns.
var paramsColumns = []string{"index", "layer", "output", "params", "buffers", "macs", "memory"}

// paramsSummary is the totals under the params table, the bytes in dt
// (the analysis's already are).
func paramsSummary(a *spec.Analysis, dt calc.DType) []string {
	t := a.Result.Total
	paramBytes := float64(dt.Size()) * float64(t.Params)
	summary := []string{
		fmt.Sprintf("params:      %s (%s), %.2f MiB as %s", calc.Group(t.Params), calc.Human(t.Params), paramBytes/mib, dt),
		fmt.Sprintf("buffers:     %s (%s), non-trainable running statistics", calc.Group(t.Buffers), calc.Human(t.Buffers)),
	}
	if t.FrozenParams > 0 {
		// as Keras' summary: trainable and non-trainable
		summary = append(summary[:1], append([]string{fmt.Sprintf("trainable:   %s (%s); frozen (trainable: false): %s (%s)",
			calc.Group(t.Params-t.FrozenParams), calc.Human(t.Params-t.FrozenParams), calc.Group(t.FrozenParams), calc.Human(t.FrozenParams))}, summary[1:]...)...)
	}
	summary = append(summary, []string{
		fmt.Sprintf("MACs:        %s (%s) for batch %d", calc.Group(t.MACs), calc.Human(t.MACs), a.Net.Input[0]),
		fmt.Sprintf("FLOPs:       %s (%s) = 2 x MACs", calc.Group(t.FLOPs), calc.Human(t.FLOPs)),
		fmt.Sprintf("memory:      input %.2f MiB, params %.2f MiB, buffers %.2f MiB (%s)",
			float64(t.InputBytes)/mib, paramBytes/mib, float64(dt.Size())*float64(t.Buffers)/mib, dt),
		fmt.Sprintf("activations: %.2f MiB, every layer's output summed (%s)", float64(t.ActivationBytes)/mib, dt),
	}...)
	return summary
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
