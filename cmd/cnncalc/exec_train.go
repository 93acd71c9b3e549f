package main

import (
	"fmt"
	"strings"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/exec"
	"github.com/cnncalc/cnncalc/spec"
)

// checkTrainable refuses train mode where PyTorch does: a batchnorm with a
// single value per channel (batch 1 and no spatial extent) has no batch
// variance.
func checkTrainable(a *spec.Analysis) error {
	for i, n := range a.Net.Nodes {
		if n.Type < calc.BatchNorm1d || n.Type > calc.BatchNorm3d {
			continue
		}
		in := a.Result.Layers[i].Inputs[0]
		values := in[0]
		for _, d := range in[2:] {
			values *= d
		}
		if values == 1 {
			return fmt.Errorf("%s (%s): expected more than 1 value per channel when training, got input size %s (PyTorch refuses it): give --batch 2 or more", a.Spec.Info[i].Path, n.Name, joinX(in))
		}
	}
	return nil
}

// trainVsEval runs the eval-mode forward pass beside the train-mode run and
// says how far apart their outputs are, as the lecture warns: the same
// input, two outputs.
func trainVsEval(setup *execSetup, train *exec.Run) ([]string, error) {
	eval, err := setup.plan.Forward(setup.params, setup.x, exec.Options{})
	if err != nil {
		return nil, err
	}
	var norms []string
	for _, n := range setup.a.Net.Nodes {
		if n.Type >= calc.BatchNorm1d && n.Type <= calc.BatchNorm3d || (n.Type >= calc.InstanceNorm1d && n.Type <= calc.InstanceNorm3d && n.TrackRunningStats) {
			norms = append(norms, n.Name)
		}
	}
	dropouts := 0
	for _, n := range setup.a.Net.Nodes {
		switch n.Type {
		case calc.Dropout, calc.Dropout1d, calc.Dropout2d, calc.Dropout3d:
			dropouts++
		}
	}
	maxAbs, maxRel := outputDiff(train.Output.Data, eval.Output.Data)
	mean, lo, hi := summary(eval.Output.Data)
	what := "no layer behaves differently"
	if len(norms) > 0 {
		list := strings.Join(norms, ", ")
		if len(norms) > 4 {
			list = strings.Join(norms[:3], ", ") + fmt.Sprintf(" and %d more", len(norms)-3)
		}
		what = fmt.Sprintf("%d normalizations use the batch's statistics instead of their running ones (%s)", len(norms), list)
	}
	lines := []string{
		fmt.Sprintf("train mode: %s", what),
		fmt.Sprintf("eval mode, same input: output mean %.6g, min %.6g, max %.6g", mean, lo, hi),
		fmt.Sprintf("train vs eval: max |difference| %.6g, relative %.3g", maxAbs, maxRel),
	}
	if dropouts > 0 {
		lines = append(lines, fmt.Sprintf("(%d dropout layers stay the identity: exec draws no random masks; PyTorch's train mode would drop values too)", dropouts))
	}
	return lines, nil
}
