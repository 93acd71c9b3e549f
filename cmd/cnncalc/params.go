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
	return paramsReportIn(a, opts.Format == "csv", dt).write(opts.IO.Out, opts.Format, opts.Explain)
}

// paramsReport builds the table of the analysis; csv leaves out the footer.
func paramsReport(a *spec.Analysis, csv bool) *report { return paramsReportIn(a, csv, calc.Float32) }

// paramsReportIn is paramsReport with the byte figures in dtype dt.
func paramsReportIn(a *spec.Analysis, csv bool, dt calc.DType) *report {
	t := a.Result.Total
	// calc counts float32 bytes: 4 per element
	size := func(float32Bytes int64) int64 { return float32Bytes / 4 * dt.Size() }
	r := &report{
		title:  title(a),
		header: []string{"#", "layer", "output", "params", "buffers", "MACs", "memory"},
		right:  []bool{true, false, false, true, true, true, true},
	}
	r.grow(len(a.Net.Nodes))
	for i, n := range a.Net.Nodes {
		l := a.Result.Layers[i]
		r.add([]string{fmt.Sprint(i + 1), layerCell(&n), dims(l.Output), calc.Group(l.Params), calc.Group(l.Buffers), calc.Group(l.MACs), bytesCell(size(l.Bytes))}, l.Formulas)
	}
	if !csv {
		r.footer = []string{"", "total", dims(t.Output), calc.Group(t.Params), calc.Group(t.Buffers), calc.Group(t.MACs), bytesCell(size(t.ActivationBytes))}
	}
	paramBytes := float64(dt.Size()) * float64(t.Params)
	r.summary = []string{
		fmt.Sprintf("params:      %s (%s), %.2f MiB as %s", calc.Group(t.Params), calc.Human(t.Params), paramBytes/mib, dt),
		fmt.Sprintf("buffers:     %s (%s), non-trainable running statistics", calc.Group(t.Buffers), calc.Human(t.Buffers)),
	}
	if t.FrozenParams > 0 {
		// as Keras' summary: trainable and non-trainable
		r.summary = append(r.summary[:1], append([]string{fmt.Sprintf("trainable:   %s (%s); frozen (trainable: false): %s (%s)",
			calc.Group(t.Params-t.FrozenParams), calc.Human(t.Params-t.FrozenParams), calc.Group(t.FrozenParams), calc.Human(t.FrozenParams))}, r.summary[1:]...)...)
	}
	r.summary = append(r.summary, []string{
		fmt.Sprintf("MACs:        %s (%s) for batch %d", calc.Group(t.MACs), calc.Human(t.MACs), a.Net.Input[0]),
		fmt.Sprintf("FLOPs:       %s (%s) = 2 x MACs", calc.Group(t.FLOPs), calc.Human(t.FLOPs)),
		fmt.Sprintf("memory:      input %.2f MiB, params %.2f MiB, buffers %.2f MiB (%s)",
			float64(size(t.InputBytes))/mib, paramBytes/mib, float64(dt.Size())*float64(t.Buffers)/mib, dt),
		fmt.Sprintf("activations: %.2f MiB, every layer's output summed (%s)", float64(size(t.ActivationBytes))/mib, dt),
	}...)
	return r
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
