package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/exec"
	"github.com/cnncalc/cnncalc/exec/tensorio"
	"github.com/cnncalc/cnncalc/fold"
	"github.com/cnncalc/cnncalc/spec"
)

// foldLimit is the largest relative difference (max |folded - original|
// over max |original|) of the outputs that fold accepts.
const foldLimit = 1e-5

// foldWeights is fold.Weights; tests replace it to meet a wrong fold.
var foldWeights = fold.Weights

// FoldOptions are the fold command's streams and flags.
type FoldOptions struct {
	IO         *IOStreams
	Spec       string
	Weights    string
	Output     string
	WeightsOut string
	Seed       uint64
	MaxMemory  string
	specFlags
}

func newFoldCmd(ios *IOStreams, runF func(*FoldOptions) error) *cobra.Command {
	opts := &FoldOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "fold SPEC",
		Short: "Fold every eval-mode batchnorm into the conv or linear layer next to it, and check it numerically",
		Long: `fold merges each eval-mode batchnorm into the conv, transposed conv or linear
layer before it (W' = W*gamma/sqrt(var+eps) per output channel, b' = (b-mean)*
gamma/sqrt(var+eps) + beta), or into the conv or linear layer after it when that
layer does not pad with zeros, and says for every other normalization why it
does not fold. It prints the network before and after (layers, params, buffers,
MACs, time of a forward pass), runs both on the same input (--input, or a random
one from --seed) and exits 1 when their outputs differ by more than 1e-5
relative.

-o writes the folded spec (- for standard output): the batchnorm items removed,
bias: true where they folded, comments and layout kept. --weights-out writes the
folded checkpoint of --weights (or of PyTorch's default init from --seed).`,
		Example: `  cnncalc fold resnet18
  cnncalc fold net.yaml --weights net.safetensors -o folded.yaml --weights-out folded.safetensors
  cnncalc fold net.yaml --explain`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Spec = args[0]
			if runF != nil {
				return runF(opts)
			}
			return foldRun(opts)
		},
	}
	opts.registerRun(cmd, "output format: table or json")
	cmd.Flags().BoolVar(&opts.Explain, "explain", false, "show each fold worked for the first channel")
	cmd.Flags().StringVar(&opts.Weights, "weights", "", "a PyTorch state_dict saved as .safetensors")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "write the folded spec to this file (- for standard output)")
	cmd.Flags().StringVar(&opts.WeightsOut, "weights-out", "", "write the folded checkpoint to this .safetensors file")
	cmd.Flags().Uint64Var(&opts.Seed, "seed", 0, "seed of the random weights and input")
	cmd.Flags().StringVar(&opts.MaxMemory, "max-memory", "4GiB", "refuse to run when the estimated peak memory is larger")
	return cmd
}

// foldResult is one network folded: the decisions, the two runs.
type foldResult struct {
	a, folded      *spec.Analysis
	r              *fold.Result
	params         []exec.Weights // the original network's
	before, after  *exec.Run
	maxAbs, maxRel float64
}

func foldRun(opts *FoldOptions) error {
	switch opts.Format {
	case "table", "json":
	default:
		return usageErr("fold --format is table or json, got %q", opts.Format)
	}
	if opts.Output != "" && opts.Output == opts.WeightsOut {
		return usageErr("-o and --weights-out name the same file %s", opts.Output)
	}
	eo := &ExecOptions{IO: opts.IO, Spec: opts.Spec, Weights: opts.Weights, Seed: opts.Seed, MaxMemory: opts.MaxMemory, NoRF: true, specFlags: opts.specFlags}
	eo.Format = "table"
	setup, err := prepareExec(eo)
	if err != nil {
		return err
	}
	a := setup.a
	r, err := fold.Spec(a)
	if err != nil {
		return &codeError{code: exitError, err: err}
	}
	fplan, err := exec.NewPlan(&r.Analysis.Net)
	if err != nil {
		return &codeError{code: exitError, err: err}
	}
	limit, _ := parseBytes(opts.MaxMemory)
	if err := refuseMemory(setup.plan.Memory()+fplan.Memory(), limit); err != nil {
		return &codeError{code: exitError, err: fmt.Errorf("the two runs (original and folded) %v", err)}
	}
	folded, err := foldWeights(&a.Net, r.Decisions, setup.params, r.Index)
	if err != nil {
		return &codeError{code: exitError, err: err}
	}
	fr := &foldResult{a: a, folded: r.Analysis, r: r, params: setup.params}
	if fr.before, err = setup.plan.Forward(setup.params, setup.x, exec.Options{}); err != nil {
		return &codeError{code: exitError, err: err}
	}
	if fr.after, err = fplan.Forward(folded, setup.x, exec.Options{}); err != nil {
		return &codeError{code: exitError, err: err}
	}
	fr.maxAbs, fr.maxRel = outputDiff(fr.after.Output.Data, fr.before.Output.Data)
	// The time of a forward pass: the faster of two of each, taken in
	// turn (the first pass of a process warms caches and pools up).
	if again, err := setup.plan.Forward(setup.params, setup.x, exec.Options{}); err == nil {
		fr.before.Seconds = min(fr.before.Seconds, again.Seconds)
	}
	if again, err := fplan.Forward(folded, setup.x, exec.Options{}); err == nil {
		fr.after.Seconds = min(fr.after.Seconds, again.Seconds)
	}
	pass := fr.maxRel <= foldLimit
	var written []string
	if pass {
		// The files only when the folded network is checked: never a
		// folded spec or checkpoint that computes something else.
		if opts.WeightsOut != "" {
			modules := make([]string, len(folded))
			for i, k := range r.Index {
				switch {
				case k < 0:
				case setup.modules != nil:
					modules[k] = setup.modules[i]
				default:
					modules[k] = r.Net.Nodes[k].Name
				}
			}
			var buf bytes.Buffer
			err := tensorio.WriteSafetensors(&buf, tensorio.StateDict(folded, modules))
			if err == nil {
				err = writeFile(opts.WeightsOut, buf.Bytes(), nil)
			}
			if err != nil {
				return &codeError{code: exitError, err: err}
			}
			written = append(written, "folded checkpoint written to "+opts.WeightsOut)
		}
		switch opts.Output {
		case "":
		case "-":
			if _, err := opts.IO.Out.Write(r.Text); err != nil {
				return err
			}
		default:
			if err := writeFile(opts.Output, r.Text, nil); err != nil {
				return &codeError{code: exitError, err: err}
			}
			written = append(written, "folded spec written to "+opts.Output)
		}
	}
	out := opts.IO.Out
	if opts.Output == "-" {
		out = opts.IO.ErrOut // the spec took standard output
	}
	if opts.Format == "json" {
		err = writeFoldJSON(out, fr, opts, written)
	} else {
		err = writeFoldTable(out, fr, opts, written)
	}
	if err != nil {
		return err
	}
	if !pass {
		return &codeError{code: exitFail, silent: true, err: fmt.Errorf("folded output differs by %.3g relative", fr.maxRel)}
	}
	return nil
}

// outputDiff is the largest absolute difference of got from want and that
// over the largest |want| (NaN anywhere makes both NaN).
func outputDiff(got, want []float32) (maxAbs, maxRel float64) {
	var top float64
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if math.IsNaN(d) {
			return math.NaN(), math.NaN()
		}
		maxAbs = math.Max(maxAbs, d)
		top = math.Max(top, math.Abs(float64(want[i])))
	}
	if top == 0 {
		return maxAbs, maxAbs
	}
	return maxAbs, maxAbs / top
}

// counts are the parameters and buffers of the folded normalizations and
// the bias values the layers they fold into gain.
func (fr *foldResult) counts() (params, buffers, biases int64) {
	for _, d := range fr.r.Decisions {
		if d.Folds() {
			params += fr.a.Result.Layers[d.Norm].Params
			buffers += fr.a.Result.Layers[d.Norm].Buffers
		}
	}
	biases = fr.folded.Result.Total.Params - (fr.a.Result.Total.Params - params)
	return params, buffers, biases
}

// inputText says where the run's input came from.
func inputText(opts *FoldOptions, shape []int) string {
	if strings.HasSuffix(opts.Input, ".npy") {
		return fmt.Sprintf("%v from %s", shape, opts.Input)
	}
	return fmt.Sprintf("%v, random (--seed %d)", shape, opts.Seed)
}

func weightsText(opts *FoldOptions, a *spec.Analysis) string {
	if opts.Weights != "" {
		return opts.Weights
	}
	if src := models[a.Spec]; src != nil && src.net.HasWeights() {
		return "the model's own (" + src.file + ")"
	}
	return fmt.Sprintf("PyTorch's default init (--seed %d)", opts.Seed)
}

// normRow is one normalization's line: where it is and what happens to it.
func normRow(fr *foldResult, d *fold.Decision) (name, path, into string) {
	n := &fr.a.Net.Nodes[d.Norm]
	into = d.Reason
	if d.Folds() {
		into = "folds into " + fr.a.Net.Nodes[d.Into].Name
		if d.Forward {
			into += " (the layer after it)"
		}
	}
	return layerCell(n), fr.a.Spec.Info[d.Norm].Path, into
}

func writeFoldTable(w io.Writer, fr *foldResult, opts *FoldOptions, written []string) error {
	a, b := fr.a.Result.Total, fr.folded.Result.Total
	t := &report{
		title:  title(fr.a) + fmt.Sprintf(": %d of %d normalizations fold", fr.r.Count(), len(fr.r.Decisions)),
		header: []string{"", "before", "after", "change"},
		right:  []bool{false, true, true, true},
	}
	row := func(what string, x, y int64) {
		t.add([]string{what, calc.Group(x), calc.Group(y), signed(y - x)}, nil)
	}
	row("layers", int64(len(fr.a.Net.Nodes)), int64(len(fr.folded.Net.Nodes)))
	row("params", a.Params, b.Params)
	row("buffers", a.Buffers, b.Buffers)
	row("MACs", a.MACs, b.MACs)
	t.add([]string{"exec ms (best of 2)", fmt.Sprintf("%.2f", fr.before.Seconds*1000), fmt.Sprintf("%.2f", fr.after.Seconds*1000), fmt.Sprintf("%+.2f", (fr.after.Seconds-fr.before.Seconds)*1000)}, nil)
	removed, buffers, added := fr.counts()
	t.summary = []string{fmt.Sprintf("removed: %d %s with %s parameters and %s buffers; added: %s bias values", fr.r.Count(), plural(fr.r.Count(), "normalization"), calc.Group(removed), calc.Group(buffers), calc.Group(added))}
	if err := t.write(w, "table", false); err != nil {
		return err
	}
	fmt.Fprintln(w)
	n := &report{header: []string{"#", "normalization", "path", "folds into / why not"}, right: []bool{true}}
	for i := range fr.r.Decisions {
		d := &fr.r.Decisions[i]
		name, path, into := normRow(fr, d)
		var formulas []string
		if opts.Explain {
			if e := fold.Explain(&fr.a.Net, d, fr.params); e != "" {
				formulas = strings.Split(e, "\n")
			}
		}
		n.add([]string{fmt.Sprint(d.Norm + 1), name, path, into}, formulas)
	}
	verdict := "agree"
	if fr.maxRel > foldLimit || math.IsNaN(fr.maxRel) {
		verdict = "DIFFER: the folded network is not written"
	}
	n.summary = append(n.summary,
		fmt.Sprintf("weights: %s; input %s", weightsText(opts, fr.a), inputText(opts, toIntsShape(fr.a.Net.Input))),
		fmt.Sprintf("outputs %s: max |difference| %.3g, relative %.3g (limit %g)", verdict, fr.maxAbs, fr.maxRel, foldLimit))
	n.summary = append(n.summary, fr.r.Notes...)
	n.summary = append(n.summary, written...)
	if opts.Output == "" {
		n.summary = append(n.summary, "(-o FILE writes the folded spec)")
	}
	if len(fr.r.Decisions) == 0 {
		fmt.Fprintln(w, "no normalization layers")
		for _, s := range n.summary {
			fmt.Fprintln(w, escapeLine(s))
		}
		return nil
	}
	return n.write(w, "table", opts.Explain)
}

func toIntsShape(s calc.Shape) []int {
	out := make([]int, len(s))
	for i, v := range s {
		out[i] = int(v)
	}
	return out
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// signed prints a change with its sign and digit groups: -9,600, +4,800, 0.
func signed(v int64) string {
	switch {
	case v > 0:
		return "+" + calc.Group(v)
	case v < 0:
		return "-" + calc.Group(-v)
	}
	return "0"
}

func writeFoldJSON(w io.Writer, fr *foldResult, opts *FoldOptions, written []string) error {
	type side struct {
		Layers  int     `json:"layers"`
		Params  int64   `json:"params"`
		Buffers int64   `json:"buffers"`
		MACs    int64   `json:"macs"`
		Seconds float64 `json:"seconds"`
	}
	type norm struct {
		Name    string `json:"name"`
		Type    string `json:"type"`
		Path    string `json:"path"`
		Folds   bool   `json:"folds"`
		Into    string `json:"into,omitempty"`
		Forward bool   `json:"forward,omitempty"`
		Reason  string `json:"reason,omitempty"`
		Formula string `json:"formula,omitempty"`
	}
	out := struct {
		Name           string   `json:"name"`
		Input          []int64  `json:"input"`
		Weights        string   `json:"weights"`
		Before         side     `json:"before"`
		After          side     `json:"after"`
		RemovedParams  int64    `json:"removed_params"`
		RemovedBuffers int64    `json:"removed_buffers"`
		AddedBias      int64    `json:"added_bias"`
		Normalizations []norm   `json:"normalizations"`
		MaxAbsDiff     float64  `json:"max_abs_diff"`
		MaxRelDiff     float64  `json:"max_rel_diff"`
		Limit          float64  `json:"limit"`
		Agree          bool     `json:"agree"`
		Notes          []string `json:"notes"`
		Written        []string `json:"written"`
	}{
		Name: fr.a.Net.Name, Input: fr.a.Net.Input, Weights: weightsText(opts, fr.a),
		Before:     side{len(fr.a.Net.Nodes), fr.a.Result.Total.Params, fr.a.Result.Total.Buffers, fr.a.Result.Total.MACs, fr.before.Seconds},
		After:      side{len(fr.folded.Net.Nodes), fr.folded.Result.Total.Params, fr.folded.Result.Total.Buffers, fr.folded.Result.Total.MACs, fr.after.Seconds},
		MaxAbsDiff: fr.maxAbs, MaxRelDiff: fr.maxRel, Limit: foldLimit, Agree: fr.maxRel <= foldLimit,
		Notes: append([]string{}, fr.r.Notes...), Written: append([]string{}, written...),
		Normalizations: []norm{},
	}
	out.RemovedParams, out.RemovedBuffers, out.AddedBias = fr.counts()
	if math.IsNaN(out.MaxRelDiff) {
		out.MaxAbsDiff, out.MaxRelDiff = math.MaxFloat64, math.MaxFloat64 // JSON has no NaN
	}
	for i := range fr.r.Decisions {
		d := &fr.r.Decisions[i]
		n := &fr.a.Net.Nodes[d.Norm]
		e := norm{Name: n.Name, Type: n.Type.String(), Path: fr.a.Spec.Info[d.Norm].Path, Folds: d.Folds(), Forward: d.Forward, Reason: d.Reason}
		if d.Folds() {
			e.Into = fr.a.Net.Nodes[d.Into].Name
			if opts.Explain {
				e.Formula = fold.Explain(&fr.a.Net, d, fr.params)
			}
		}
		out.Normalizations = append(out.Normalizations, e)
	}
	enc := json.NewEncoder(&jsonWriter{w: w})
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
