package spec

import (
	"fmt"

	"github.com/cnncalc/cnncalc/calc"
)

// Analyze runs calc on the spec with the given batch (0: the spec's) and
// input (nil: the spec's; channels first, batch excluded). Errors come back
// as a positioned ErrorList. Warnings are positioned too.
func (s *Spec) Analyze(batch int64, input []int64) (*calc.Result, []*Error, error) {
	net := s.Net
	if batch == 0 {
		batch = s.Batch
	}
	in := s.Net.Input[1:]
	if input != nil {
		in = input
	}
	net.Input = append(calc.Shape{batch}, in...)
	res, cerrs := calc.Analyze(&net)
	var warns []*Error
	for i, l := range res.Layers {
		for _, w := range l.Warnings {
			warns = append(warns, s.at(i, "", w, ""))
		}
	}
	if len(cerrs) == 0 {
		return res, warns, nil
	}
	var errs ErrorList
	for _, e := range cerrs {
		errs = append(errs, s.at(e.Node, e.Arg, e.Msg, e.Formula))
	}
	return res, warns, errs.Err()
}

// at positions a message about node i (calc.Input: the input), at the
// argument arg when it was written out.
func (s *Spec) at(i int, arg, msg, detail string) *Error {
	if i < 0 || i >= len(s.Info) {
		return &Error{File: s.File, Pos: s.InputPos, Path: "input", Msg: msg, Detail: detail}
	}
	inf := s.Info[i]
	pos := inf.Pos
	for _, a := range inf.Args {
		if a.Name == arg {
			pos = a.Pos
		}
	}
	return &Error{File: s.File, Pos: pos, Path: inf.Path, Item: inf.Item, Msg: msg, Detail: detail}
}

// Warn formats a warning the way errors are formatted, with "warning: ".
func Warn(e *Error) string {
	return fmt.Sprintf("%s:%d:%d: warning: %s (%s): %s", e.File, e.Line, e.Col, e.Path, e.Item, e.Msg)
}
