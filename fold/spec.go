package fold

import (
	"fmt"
	"slices"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/spec"
)

// Result is a spec with its normalizations folded.
type Result struct {
	// Decisions holds one decision per normalization node, in node order:
	// Decide's, with the pairs the spec's text cannot carry declined.
	Decisions []Decision
	// Net is the folded network (Network), Index maps the original nodes
	// to its nodes (-1 for a folded normalization).
	Net   calc.Network
	Index []int
	// Text is the folded spec, Analysis its analysis: the same network as
	// Net, checked node by node.
	Text     []byte
	Analysis *spec.Analysis
	// Notes say what moved in the text (spec.Folded.Notes).
	Notes []string
}

// Count is the number of normalizations that fold.
func (r *Result) Count() int {
	n := 0
	for i := range r.Decisions {
		if r.Decisions[i].Folds() {
			n++
		}
	}
	return n
}

// Spec folds the analysed spec a: Decide on its network, then the text
// (spec.Analysis.Fold), which may decline some folds (an item written once
// for several uses folds only when all of them do). It fails, rather than
// return a spec that means something else, when the folded text does not
// analyse to the folded network node for node (type, inputs, output
// shape, params, buffers, MACs).
func Spec(a *spec.Analysis) (*Result, error) {
	ds := Decide(&a.Net, a.Result)
	var pairs []spec.FoldPair
	for _, d := range ds {
		if d.Folds() {
			pairs = append(pairs, spec.FoldPair{Norm: d.Norm, Into: d.Into})
		}
	}
	f, err := a.Fold(pairs)
	if err != nil {
		return nil, err
	}
	for k := range ds {
		if why, ok := f.Declined[ds[k].Norm]; ok {
			ds[k].Into, ds[k].Forward, ds[k].Reason = -1, false, why
		}
	}
	net, index := Network(&a.Net, ds)
	r := &Result{Decisions: ds, Net: net, Index: index, Text: f.Source, Notes: f.Notes}
	s2, err := spec.Parse(a.Spec.File, f.Source)
	if err == nil {
		r.Analysis, err = s2.Evaluate(a.Net.Input[0], a.Net.Input[1:])
	}
	if err != nil {
		return nil, fmt.Errorf("internal error: the folded spec does not analyse (please report this spec): %w", err)
	}
	if why := sameAsFolded(&net, r.Analysis); why != "" {
		return nil, fmt.Errorf("internal error: the folded spec is not the folded network (please report this spec): %s", why)
	}
	return r, nil
}

// sameAsFolded says how the analysed folded text differs from the folded
// network, "" when they agree.
func sameAsFolded(net *calc.Network, a *spec.Analysis) string {
	want, errs := calc.Analyze(net)
	if len(errs) > 0 {
		return "the folded network does not analyse: " + errs[0].Msg
	}
	got := a.Net.Nodes
	if len(got) != len(net.Nodes) {
		return fmt.Sprintf("%d layers, the folded network has %d", len(got), len(net.Nodes))
	}
	for i, n := range net.Nodes {
		g, w := &a.Result.Layers[i], &want.Layers[i]
		switch {
		case got[i].Type != n.Type || !slices.Equal(got[i].From, n.From):
			return fmt.Sprintf("layer %d is %s reading %v, the folded network's %s reads %v", i+1, got[i].Type, got[i].From, n.Type, n.From)
		case got[i].Bias != n.Bias:
			return fmt.Sprintf("layer %d (%s) has bias %v, the folded network's %v", i+1, got[i].Name, got[i].Bias, n.Bias)
		case !slices.Equal(g.Output, w.Output) || g.Params != w.Params || g.Buffers != w.Buffers || g.MACs != w.MACs:
			return fmt.Sprintf("layer %d (%s) computes another output, params or MACs", i+1, got[i].Name)
		}
	}
	return ""
}
