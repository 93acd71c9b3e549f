package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/exec"
	"github.com/cnncalc/cnncalc/exec/tensorio"
	"github.com/cnncalc/cnncalc/onnx"
	"github.com/cnncalc/cnncalc/spec"
	"github.com/spf13/cobra"
)

// ImportOptions are the import command's streams and flags.
type ImportOptions struct {
	IO         *IOStreams
	Model      string
	Out        string
	WeightsOut string
	Batch      int64
	Input      string
	BatchSet   bool
	Flat       bool
}

func newImportCmd(ios *IOStreams, runF func(*ImportOptions) error) *cobra.Command {
	opts := &ImportOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "import MODEL.onnx",
		Short: "Turn an ONNX model into a cnncalc spec and a safetensors file of its weights",
		Long: `Import converts an ONNX model (torch.onnx.export, tf2onnx, ...) into a
readable cnncalc spec: one item per layer, named after the PyTorch module
where the export tells it, with a comment giving the producer and opset.
With --weights-out it also writes the model's weights as a safetensors
state_dict in the spec's layer order, so that

  cnncalc exec net.yaml --weights net.safetensors

computes what the ONNX model computes. Every other command reads the .onnx
file directly too; import is for keeping, reading and editing the spec.`,
		Example: `  cnncalc import resnet18.onnx -o resnet18.yaml --weights-out resnet18.safetensors
  cnncalc import model.onnx --input 3x128x128 > net.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Model = args[0]
			opts.BatchSet = cmd.Flags().Changed("batch")
			if runF != nil {
				return runF(opts)
			}
			return importRun(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Out, "output", "o", "", "write the spec to this file (default: standard output)")
	cmd.Flags().StringVar(&opts.WeightsOut, "weights-out", "", "write the model's weights to this .safetensors file")
	cmd.Flags().Int64Var(&opts.Batch, "batch", 0, "batch size (default: the model's; a symbolic batch is 1)")
	cmd.Flags().StringVar(&opts.Input, "input", "", "input shape, channels first, batch excluded (default: the model's); the graph's shape computations use it")
	cmd.Flags().BoolVar(&opts.Flat, "flat", false, "one item per layer, every one named: no residual or repeat recovered")
	return cmd
}

func importRun(opts *ImportOptions) error {
	if err := checkBatch(opts.BatchSet, opts.Batch); err != nil {
		return err
	}
	var input []int64
	if opts.Input != "" {
		var err error
		if input, err = parseInputShape(opts.Input); err != nil {
			return usageErr("%v", err)
		}
	}
	if !isONNX(opts.Model) {
		if _, err := os.Stat(opts.Model); err != nil {
			return usageErr("%v", err)
		}
		return usageErr("%s is not an ONNX model (a protobuf ModelProto); cnncalc import reads .onnx files", opts.Model)
	}
	s, err := parseONNX(opts.Model, opts.Batch, input)
	if err != nil {
		return &codeError{code: exitError, err: err}
	}
	src := models[s]
	// The spec must analyse as it stands before anything is written.
	a, err := s.Evaluate(0, nil)
	if err != nil {
		printErrors(opts.IO.ErrOut, s.Source, err)
		return &codeError{code: exitError, silent: true, err: err}
	}
	// The spec as a person writes it: residuals and repeats recovered,
	// when its layers are the flat list's one for one (the weights'
	// order); the flat spec otherwise.
	text := s.Source
	if !opts.Flat {
		structured := src.net.StructuredYAML(opts.Model)
		if st, err := spec.Parse(opts.Model, structured); err == nil {
			if sa, err := st.Evaluate(0, nil); err == nil && onnx.SameLayers(a, sa) {
				text = structured
			}
		}
	}
	var weights []byte
	if opts.WeightsOut != "" {
		if !src.net.HasWeights() {
			return usageErr("%s holds no weights (exported with export_params=False): there is nothing for --weights-out", opts.Model)
		}
		plan, err := exec.NewPlan(&a.Net)
		if err != nil {
			return &codeError{code: exitError, err: err}
		}
		w, err := modelWeights(opts.IO, a, plan)
		if err != nil {
			return &codeError{code: exitError, err: err}
		}
		modules := make([]string, len(a.Net.Nodes))
		for i, n := range a.Net.Nodes {
			modules[i] = n.Name
		}
		var buf bytes.Buffer
		if err := tensorio.WriteSafetensors(&buf, tensorio.StateDict(w, modules)); err != nil {
			return &codeError{code: exitError, err: err}
		}
		weights = buf.Bytes()
	}
	if opts.Out == "" {
		if _, err := opts.IO.Out.Write(text); err != nil {
			return err
		}
	} else if err := writeFile(opts.Out, text, nil); err != nil {
		return &codeError{code: exitError, err: err}
	}
	if weights != nil {
		if err := writeFile(opts.WeightsOut, weights, nil); err != nil {
			return &codeError{code: exitError, err: err}
		}
	}
	t := a.Result.Total
	if opts.Out != "" || opts.WeightsOut != "" {
		fmt.Fprintf(opts.IO.ErrOut, "%s: %d layers, input %s, %s params, %s MACs", opts.Model, len(a.Net.Nodes), shapeText(a.Net.Input), calc.Group(t.Params), calc.Group(t.MACs))
		if opts.Out != "" {
			fmt.Fprintf(opts.IO.ErrOut, "; spec %s", opts.Out)
		}
		if weights != nil {
			fmt.Fprintf(opts.IO.ErrOut, "; weights %s (%s bytes)", opts.WeightsOut, calc.Group(int64(len(weights))))
		}
		fmt.Fprintln(opts.IO.ErrOut)
	}
	return nil
}
