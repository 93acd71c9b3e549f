package main

import (
	"fmt"
	"strings"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/spec"
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
		Use:   "shapes SPEC",
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
	r, err := opts.report(a, shapesColumns)
	if err != nil {
		return err
	}
	r.summary = []string{fmt.Sprintf("output %s; shapes are C x H x W (C x L, C x D x H x W), batch %d excluded", dims(a.Result.Total.Output), a.Net.Input[0])}
	return r.write(opts.IO.Out, opts.Format, opts.Explain)
}

// shapesColumns are the shapes command's columns.
var shapesColumns = []string{"index", "layer", "input", "output", "window", "rf"}

func title(a *spec.Analysis) string {
	name := a.Net.Name
	if name == "" {
		name = a.Spec.File
	}
	return fmt.Sprintf("%s: input %s, batch %d, %d layers", name, dims(a.Net.Input), a.Net.Input[0], len(a.Net.Nodes))
}

// window prints the kernel/stride/padding of a kind that takes a kernel
// (convs, pools), and its dilation where the kind has one; "" for others.
func window(l *calc.Layer) string {
	info := l.Type.Info()
	if info.Arg("kernel") == nil {
		return ""
	}
	stride := l.Stride
	if stride == nil {
		stride = l.Kernel
	}
	pad := axesCell(l.Padding)
	if l.PadMode != calc.PadExplicit {
		pad = l.PadMode
	}
	s := axesCell(l.Kernel) + "/" + axesCell(stride) + "/" + pad
	if d := axesCell(l.Dilation); d != "1" && d != "" && info.Arg("dilation") != nil {
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
	return axesCell(rf.Size) + "/" + axesCell(rf.Jump) + "/" + axesCellF(rf.Start)
}

// layerCell names a row: the layer's name, with its type when the name does
// not already say it (stem (conv2d); conv2d_3).
func layerCell(n *calc.Node) string {
	if t := n.Type.String(); !strings.HasPrefix(n.Name, t) {
		return n.Name + " (" + t + ")"
	}
	return n.Name
}

// inputsCell prints a merge's inputs: 8x32x32 + 16x32x32, or 64x56x56 x2
// when they are all equal.
func inputsCell(op calc.Op, ins []calc.Shape) string {
	parts := make([]string, len(ins))
	same := true
	for i, s := range ins {
		parts[i] = dims(s)
		same = same && parts[i] == parts[0]
	}
	if same && len(parts) > 1 {
		return fmt.Sprintf("%s x%d", parts[0], len(parts))
	}
	if d := onlyDiffering(ins); d > 0 && op == calc.Concat {
		// A concat: (64+128+32+32)x28x28.
		sizes := make([]string, len(ins))
		for i, s := range ins {
			sizes[i] = fmt.Sprint(s[d])
		}
		cells := strings.Split(dims(ins[0]), "x")
		cells[d-1] = "(" + strings.Join(sizes, "+") + ")"
		return strings.Join(cells, "x")
	}
	switch op {
	case calc.Add:
		return strings.Join(parts, " + ")
	case calc.Mul:
		return strings.Join(parts, " * ")
	}
	// A layer with a second input (upsample's size_of): its input, then
	// the other.
	return strings.Join(parts, ", ")
}

// onlyDiffering returns the one axis on which the shapes differ, or -1.
func onlyDiffering(ins []calc.Shape) int {
	axis := -1
	for _, s := range ins[1:] {
		if len(s) != len(ins[0]) {
			return -1
		}
		for a := range s {
			if s[a] != ins[0][a] {
				if axis != -1 && axis != a {
					return -1
				}
				axis = a
			}
		}
	}
	return axis
}
