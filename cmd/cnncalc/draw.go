package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cnncalc/cnncalc/draw"
	"github.com/cnncalc/cnncalc/exec"
	"github.com/cnncalc/cnncalc/exec/tensorio"
	"github.com/cnncalc/cnncalc/spec"
)

// DrawOptions are the draw command's streams and flags.
type DrawOptions struct {
	IO     *IOStreams
	Spec   string
	Output string
	Format string
	Depth  int
	// Columns cuts a long graph into columns (0: chosen, 1: one).
	Columns int
	RF      string
	Chart   string
	// Weights and Seed steer the effective receptive field's pass.
	Weights string
	Seed    uint64
	specFlags
}

func newDrawCmd(ios *IOStreams, runF func(*DrawOptions) error) *cobra.Command {
	opts := &DrawOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "draw SPEC",
		Short: "Draw the network as a graph, a bar chart of its costs, or a layer's receptive field",
		Long: `draw draws the network top to bottom, one box per layer coloured by kind, with
merges drawn as merges, a legend and the totals; --depth N draws each block use
or repeat iteration at nesting depth N as one box. SVG (self-contained), dot for
Graphviz, or a mermaid flowchart for Markdown.

--chart params|macs|memory draws a bar chart per layer (per block with --depth)
with the cumulative share. --rf LAYER draws the input with the theoretical
receptive field of LAYER's centre unit and its neighbour's, and the effective
field (the magnitude of that unit's gradient with respect to the input) as a
heat map, with the share of the gradient inside the theoretical field.`,
		Example: `  cnncalc draw resnet18 -o resnet18.svg
  cnncalc draw densenet121 --depth 1 -o densenet121.svg
  cnncalc draw resnet18 --format mermaid
  cnncalc draw resnet18 --chart params -o params.svg
  cnncalc draw resnet18 --rf relu_5 -o rf.svg
  cnncalc draw resnet18 --rf 34 --weights resnet18.safetensors -o rf.png`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Spec = args[0]
			if runF != nil {
				return runF(opts)
			}
			return drawRun(opts)
		},
	}
	// --format here names the picture's format; the shared flags give
	// --batch and --input.
	cmd.PreRun = func(cmd *cobra.Command, _ []string) { opts.BatchSet = cmd.Flags().Changed("batch") }
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "write the picture to this file (default: standard output)")
	cmd.Flags().StringVar(&opts.Format, "format", "", "svg, dot, mermaid (the graph) or png (--rf); default: from -o's extension (.dot, .mmd, .png), else svg")
	cmd.Flags().IntVar(&opts.Depth, "depth", 0, "draw each block use or repeat iteration at this nesting depth as one box (0: every layer)")
	cmd.Flags().IntVar(&opts.Columns, "columns", 0, "cut a long SVG graph into this many columns side by side (0: as many as fit an A4-shaped page, 1: one)")
	cmd.Flags().StringVar(&opts.RF, "rf", "", "draw the receptive field of this layer (name or 1-based index) on the input")
	cmd.RegisterFlagCompletionFunc("rf", completeLayers)
	cmd.Flags().StringVar(&opts.Chart, "chart", "", "draw a bar chart: params, macs or memory")
	cmd.Flags().StringVar(&opts.Weights, "weights", "", "with --rf: a PyTorch state_dict (.safetensors) for the effective field")
	cmd.Flags().Uint64Var(&opts.Seed, "seed", 0, "with --rf: seed of the random weights and input")
	cmd.Flags().Int64Var(&opts.Batch, "batch", 0, "batch size (overrides the spec's batch:)")
	cmd.Flags().StringVar(&opts.Input, "input", "", "input shape, channels first, batch excluded, e.g. 3x224x224 (overrides the spec's input:)")
	return cmd
}

// formatOf is the picture format of a file name's extension, svg unless
// it says another.
func formatOf(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".dot", ".gv":
		return "dot"
	case ".mmd", ".mermaid":
		return "mermaid"
	case ".png":
		return "png"
	}
	return "svg"
}

func drawRun(opts *DrawOptions) error {
	if opts.Format == "" {
		opts.Format = formatOf(opts.Output)
	}
	switch opts.Format {
	case "svg", "dot", "mermaid", "png":
	default:
		return usageErr("unknown --format %q: use svg, dot, mermaid or png", opts.Format)
	}
	if opts.Format == "png" && opts.RF == "" {
		return usageErr("png is for --rf pictures; draw the graph as svg, dot or mermaid")
	}
	switch opts.Chart {
	case "", "params", "macs", "memory":
	default:
		return usageErr("unknown --chart %q: use params, macs or memory", opts.Chart)
	}
	if opts.Weights != "" && opts.RF == "" {
		return usageErr("--weights feeds the effective field: it goes with --rf")
	}
	if opts.Chart != "" && opts.RF != "" {
		return usageErr("--chart and --rf draw different pictures: give one")
	}
	if opts.Chart != "" && opts.Format != "svg" || opts.RF != "" && opts.Format != "svg" && opts.Format != "png" {
		return usageErr("--chart draws SVG and --rf SVG or PNG, not %s", opts.Format)
	}
	if opts.Columns < 0 || opts.Columns > 1000 {
		return usageErr("--columns must be between 0 and 1000, got %d", opts.Columns)
	}
	if opts.Depth < 0 || opts.Depth > 64 {
		return usageErr("--depth must be between 0 and 64, got %d", opts.Depth)
	}
	flags := opts.specFlags
	flags.Format = "table" // the picture's format is not a report's
	a, err := load(opts.IO, opts.Spec, &flags)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	switch {
	case opts.RF != "":
		err = drawRF(&buf, opts, a)
	default:
		g, berr := draw.Build(a, opts.Depth)
		if berr != nil {
			return usageErr("%v", berr)
		}
		switch {
		case opts.Chart != "":
			err = draw.Chart(&buf, g, opts.Chart)
		case opts.Format == "dot":
			err = draw.DOT(&buf, g)
		case opts.Format == "mermaid":
			if err = draw.Mermaid(&buf, g); err == nil {
				if w := draw.MermaidTooBig(g, buf.Len()); w != "" {
					fmt.Fprintln(opts.IO.ErrOut, "cnncalc: warning:", w)
				}
			}
		default:
			var L *draw.Layout
			if L, err = draw.Place(g, opts.Columns); err == nil {
				err = draw.SVG(&buf, g, L)
			}
		}
	}
	if err != nil {
		return &codeError{code: exitError, err: err}
	}
	if opts.Output == "" {
		_, err = opts.IO.Out.Write(buf.Bytes())
		return err
	}
	if err := writeFile(opts.Output, buf.Bytes(), nil); err != nil {
		return &codeError{code: exitError, err: err}
	}
	return nil
}

// drawRF draws LAYER's receptive field, theoretical and effective, and
// prints the field's summary on stderr.
func drawRF(buf *bytes.Buffer, opts *DrawOptions, a *spec.Analysis) error {
	node, err := draw.FindLayer(a, opts.RF)
	if err != nil {
		return err
	}
	f, err := draw.TheoreticalField(a, node)
	if err != nil {
		return err
	}
	var params []exec.Weights
	if opts.Weights != "" {
		plan, err := exec.NewPlan(&a.Net)
		if err != nil {
			return err
		}
		params, err = tensorio.LoadSafetensors(plan, opts.Weights, func(i int) string {
			return fmt.Sprintf("%s %s (%s)", a.Spec.Info[i].Path, a.Net.Nodes[i].Name, a.Net.Nodes[i].Type)
		})
		if err != nil {
			return err
		}
	}
	if err := draw.Effective(a, f, params, nil, opts.Seed); err != nil {
		return err
	}
	for _, l := range f.Summary() {
		fmt.Fprintln(opts.IO.ErrOut, escapeLine(l))
	}
	what := fmt.Sprintf("%s: receptive field of %s (layer %d)", title(a), a.Net.Nodes[node].Name, node+1)
	if opts.Format == "png" {
		return draw.RFPNG(buf, f, what)
	}
	return draw.RFSVG(buf, f, what)
}
