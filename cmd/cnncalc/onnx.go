package main

import (
	"fmt"
	"io"
	"slices"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/exec"
	"github.com/cnncalc/cnncalc/exec/tensorio"
	"github.com/cnncalc/cnncalc/onnx"
	"github.com/cnncalc/cnncalc/spec"
)

// An ONNX model given as SPEC is converted into a spec (the YAML that
// cnncalc import writes) for the batch and input in effect; models
// remembers, for each such spec, the model it came from, so that exec
// runs the model's own weights and another --batch or --input converts
// it again (the graph's shape computations depend on them).
var models = map[*spec.Spec]*onnxSource{}

type onnxSource struct {
	model *onnx.Model
	net   *onnx.Net
	file  string
}

// isONNX says whether path is a regular file whose content is an ONNX
// model (a protobuf ModelProto), whatever its name.
func isONNX(path string) bool {
	if path == "-" {
		return false
	}
	// A FIFO or a device is never a model (and opening one must not
	// block): the spec reader gives the error about it.
	f, st, err := tensorio.OpenRegular(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, _ := io.ReadFull(f, head)
	return n > 0 && onnx.IsModel(head[:n], st.Size())
}

// parseONNX reads and converts an ONNX model for the batch (0: the
// model's) and input (nil: the model's).
func parseONNX(path string, batch int64, input []int64) (*spec.Spec, error) {
	m, err := onnx.Open(path)
	if err != nil {
		return nil, err
	}
	src := &onnxSource{model: m, file: path}
	s, err := src.convert(batch, input)
	if err != nil {
		m.Close()
		return nil, err
	}
	return s, nil
}

func (src *onnxSource) convert(batch int64, input []int64) (*spec.Spec, error) {
	net, err := onnx.Convert(src.model, onnx.Options{Batch: batch, Input: input})
	if err != nil {
		return nil, err
	}
	s, err := spec.Parse(src.file, net.YAML(src.file))
	if err != nil {
		return nil, &codeError{code: exitInternal, err: fmt.Errorf("internal error: the spec converted from %s does not parse: %v", src.file, err)}
	}
	if len(s.Net.Nodes) != len(net.Items) {
		return nil, &codeError{code: exitInternal, err: fmt.Errorf("internal error: %s converted into %d items, the spec has %d layers", src.file, len(net.Items), len(s.Net.Nodes))}
	}
	src.net = net
	models[s] = src
	return s, nil
}

// reconvert converts s's model again when the batch or input asked for
// is not the one it was converted for; s itself otherwise.
func reconvert(s *spec.Spec, batch int64, input []int64) (*spec.Spec, error) {
	src := models[s]
	if src == nil {
		return s, nil
	}
	in := s.Net.Input
	if (batch == 0 || batch == in[0]) && (input == nil || slices.Equal(input, []int64(in[1:]))) {
		return s, nil
	}
	return src.convert(batch, input)
}

// modelWeights returns the weights of an ONNX model's network in plan
// order, or nil when the spec is no model or the model holds no weights
// (an export with export_params=False), with a note saying so.
func modelWeights(ios *IOStreams, a *spec.Analysis, plan *exec.Plan) ([]exec.Weights, error) {
	src := models[a.Spec]
	if src == nil {
		return nil, nil
	}
	if !src.net.HasWeights() {
		fmt.Fprintf(ios.ErrOut, "note: %s holds no weights (exported without them): PyTorch's default initialisation from --seed stands in\n", escapeLine(src.file))
		return nil, nil
	}
	w, err := src.net.Weights(src.model)
	if err != nil {
		return nil, err
	}
	if len(w) != len(a.Net.Nodes) {
		return nil, fmt.Errorf("internal error: %d weights for %d layers", len(w), len(a.Net.Nodes))
	}
	if err := exec.CheckWeights(plan, w, func(i int) string {
		return fmt.Sprintf("layer %s (%s)", a.Net.Nodes[i].Name, a.Net.Nodes[i].Type)
	}); err != nil {
		return nil, err
	}
	return w, nil
}

// shapeText is an input shape without its batch, as --input writes it.
func shapeText(s calc.Shape) string {
	out := ""
	for i, v := range s[1:] {
		if i > 0 {
			out += "x"
		}
		out += fmt.Sprint(v)
	}
	return out
}
