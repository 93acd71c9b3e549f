package spec

import (
	"github.com/cnncalc/cnncalc/calc"
)

// Analysis is a spec analysed with the batch and input in effect.
type Analysis struct {
	Spec *Spec
	// Net is the network analysed: the spec's, with the batch and input in
	// effect (Net.Input holds the batch axis). Every later step (exec,
	// check, snapshot) works on this network.
	Net    calc.Network
	Result *calc.Result
	// Warnings are positioned findings that do not stop the analysis.
	Warnings []*Diagnostic
}

// InEffect is the one place the batch and input in effect are decided: the
// given batch, else the spec's batch:; the given input (channels first,
// batch excluded), else the spec's input:.
func (s *Spec) InEffect(batch int64, input []int64) calc.Network {
	net := s.Net
	if batch == 0 {
		batch = s.Batch
	}
	in := s.Net.Input[1:]
	if input != nil {
		in = input
	}
	net.Input = append(calc.Shape{batch}, in...)
	return net
}

// SplitBatch reads a tensor's shape as an input: with one axis more than
// the spec's input (channels first) its first axis is the batch; otherwise
// it is the input alone (batch 0: the spec's).
func (s *Spec) SplitBatch(shape []int64) (batch int64, input []int64) {
	if len(shape) == len(s.Net.Input) && len(shape) > 0 {
		return shape[0], shape[1:]
	}
	return 0, shape
}

// Evaluate analyses the network in effect for the given batch (0: the
// spec's) and input (nil: the spec's). Errors come back as a positioned
// ErrorList; the analysis holds the network analysed and the positioned
// warnings.
func (s *Spec) Evaluate(batch int64, input []int64) (*Analysis, error) {
	a := &Analysis{Spec: s, Net: s.InEffect(batch, input)}
	res, cerrs := calc.Analyze(&a.Net)
	a.Result = res
	for i, l := range res.Layers {
		for _, w := range l.Warnings {
			d := s.at(i, "", w, "")
			d.Severity = SeverityWarning
			a.Warnings = append(a.Warnings, d)
		}
	}
	if len(cerrs) == 0 {
		return a, nil
	}
	var errs ErrorList
	for _, e := range cerrs {
		errs = append(errs, s.at(e.Node, e.Arg, e.Msg, e.Formula))
	}
	return a, errs.Err()
}

// at positions a message about node i (calc.Input: the input), at the
// argument arg when it was written out.
func (s *Spec) at(i int, arg, msg, detail string) *Diagnostic {
	if i < 0 || i >= len(s.Info) {
		return &Diagnostic{File: s.File, Pos: s.InputPos, Path: "input", Msg: msg, Detail: detail}
	}
	inf := s.Info[i]
	pos := inf.Pos
	for _, a := range inf.Args {
		if a.Name == arg {
			pos = a.Pos
		}
	}
	return &Diagnostic{File: s.File, Pos: pos, Path: inf.Path, Item: inf.Item, Msg: msg, Detail: detail}
}
