package main

import (
	"fmt"
	"strings"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/spf13/cobra"
)

// ShapesOptions are the shapes command's streams and flags.
type ShapesOptions struct {
	IO   *IOStreams
	Spec string
	specFlags
}

func newShapesCmd(ios *IOStreams, runF func(*ShapesOptions) error) *cobra.Command {
	opts := &ShapesOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "shapes [SPEC]",
		Short: "Per layer: input and output shape, kernel/stride/padding, receptive field",
		Example: `  cnncalc shapes lenet5
  cnncalc shapes net.yaml --input 3x64x64 --explain
  cat net.yaml | cnncalc shapes - --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Spec = args[0]
			if runF != nil {
				return runF(opts)
			}
			return shapesRun(opts)
		},
	}
	opts.register(cmd)
	return cmd
}

func shapesRun(opts *ShapesOptions) error {
	a, err := load(opts.IO, opts.Spec, &opts.specFlags)
	if err != nil {
		return err
	}
	if opts.Format == "json" {
		return writeJSON(opts.IO.Out, a)
	}
	return shapesReport(a, opts.Format == "csv").write(opts.IO.Out, opts.Format, opts.Explain)
}

// shapesReport builds the table of the analysis; csv leaves out the footer.
func shapesReport(a *analysis, csv bool) *report {
	r := &report{
		title:  title(a),
		header: []string{"#", "name", "type", "input", "output", "k/s/p", "rf size/jump/start"},
		right:  []bool{true},
	}
	for i, n := range a.net.Nodes {
		l := a.res.Layers[i]
		var ins []string
		for _, s := range l.Inputs {
			ins = append(ins, dims(s))
		}
		r.add([]string{fmt.Sprint(i + 1), n.Name, n.Type, strings.Join(ins, " + "), dims(l.Output), window(&n.Layer), rfCell(l.RF)}, l.Formulas)
	}
	r.summary = []string{fmt.Sprintf("output %s; shapes are C x H x W (C x L, C x D x H x W), batch %d excluded", dims(a.res.Total.Output), a.net.Input[0])}
	return r
}

func title(a *analysis) string {
	name := a.net.Name
	if name == "" {
		name = a.spec.File
	}
	return fmt.Sprintf("%s: input %s, batch %d, %d layers", name, dims(a.net.Input), a.net.Input[0], len(a.net.Nodes))
}

// window prints a conv or pool's kernel/stride/padding, "-" for others.
func window(l *calc.Layer) string {
	t := l.Type
	switch {
	case strings.HasPrefix(t, "conv"), strings.HasPrefix(t, "maxpool"), strings.HasPrefix(t, "avgpool"):
	default:
		return ""
	}
	stride := l.Stride
	if stride == nil {
		stride = l.Kernel
	}
	pad := perAxis(l.Padding)
	if l.PadMode != calc.PadExplicit {
		pad = l.PadMode
	}
	s := perAxis(l.Kernel) + "/" + perAxis(stride) + "/" + pad
	if d := perAxis(l.Dilation); d != "1" && d != "" && !strings.HasPrefix(t, "avgpool") {
		s += " d" + d
	}
	if l.Groups > 1 {
		s += " g" + fmt.Sprint(l.Groups)
	}
	return s
}

func rfCell(rf *calc.RF) string {
	if rf == nil {
		return "-"
	}
	return perAxis(rf.Size) + "/" + perAxis(rf.Jump) + "/" + perAxisF(rf.Start)
}
