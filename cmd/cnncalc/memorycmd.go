package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/spec"
	"github.com/spf13/cobra"
)

// MemoryOptions are the memory command's streams and flags.
type MemoryOptions struct {
	IO        *IOStreams
	Spec      string
	DType     string
	Optimizer string
	Mode      string
	Fit       string
	specFlags
}

func newMemoryCmd(ios *IOStreams, runF func(*MemoryOptions) error) *cobra.Command {
	opts := &MemoryOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "memory SPEC",
		Short: "Training and inference memory: what autograd saves per layer, peaks, the largest batch that fits",
		Long: `memory accounts for the memory of a training step as PyTorch 1.13's autograd
takes it: per layer the tensors saved for backward (a conv keeps its input, relu
its output, max pooling its input and int64 indices, batchnorm its input and
per-channel statistics; views and in-place results share their input's storage,
and a storage is counted once however many layers keep it), the output, and
exec's im2col workspace; in total the parameters, buffers, gradients, optimizer
state, saved activations and the peak over forward and backward. --mode eval
gives the inference peak instead (each output freed after its last use).

--dtype is the model's dtype, model.to(dtype): parameters, buffers, gradients,
optimizer state and activations all have it (pooling indices stay int64); no
float32 master weights, no autocast.`,
		Example: `  cnncalc memory resnet50 --batch 32 --optimizer adam
  cnncalc memory resnet50 --dtype bfloat16 --optimizer adamw --fit 24GiB
  cnncalc memory mobilenet_v2 --mode eval --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Spec = args[0]
			if runF != nil {
				return runF(opts)
			}
			return memoryRun(opts)
		},
	}
	opts.specFlags.registerRun(cmd, "output format: table, json, csv or markdown")
	cmd.Flags().StringVar(&opts.DType, "dtype", "float32", "model dtype: float32, float16 or bfloat16")
	cmd.Flags().StringVar(&opts.Optimizer, "optimizer", "none", "optimizer state: none, sgd, momentum, adam or adamw")
	cmd.Flags().StringVar(&opts.Mode, "mode", "train", "train (a training step) or eval (an inference pass)")
	cmd.Flags().StringVar(&opts.Fit, "fit", "", "print the largest batch whose peak fits this budget, e.g. 24GiB")
	return cmd
}

// options checks the memory command's own flags: the accounting options,
// and the --fit budget in bytes (0 without --fit).
func (opts *MemoryOptions) options() (calc.MemoryOptions, int64, error) {
	var mo calc.MemoryOptions
	var ok bool
	if mo.DType, ok = calc.ParseDType(opts.DType); !ok {
		return mo, 0, usageErr("unknown --dtype %q: use float32, float16 or bfloat16", opts.DType)
	}
	if mo.Optimizer, ok = calc.ParseOptimizer(opts.Optimizer); !ok {
		return mo, 0, usageErr("unknown --optimizer %q: use %s", opts.Optimizer, strings.Join(calc.Optimizers(), ", "))
	}
	if opts.Mode != "train" && opts.Mode != "eval" {
		return mo, 0, usageErr("unknown --mode %q: use train or eval", opts.Mode)
	}
	var budget int64
	if opts.Fit != "" {
		var err error
		if budget, err = parseBytes(opts.Fit); err != nil {
			return mo, 0, usageErr("--fit %q: want a size such as 24GiB or 512MiB", opts.Fit)
		}
		if opts.BatchSet {
			return mo, 0, usageErr("--fit finds the batch size: it does not go with --batch")
		}
	}
	return mo, budget, nil
}

// memoryFit is the answer to --fit.
type memoryFit struct {
	Budget int64 `json:"budget_bytes"`
	// Batch is the largest batch that fits, 0 when none does; Peak its
	// peak, NextPeak the peak of Batch+1 (0 at the batch limit).
	Batch    int64 `json:"batch"`
	Peak     int64 `json:"peak_bytes"`
	NextPeak int64 `json:"next_peak_bytes"`
}

func memoryRun(opts *MemoryOptions) error {
	if err := opts.check(); err != nil {
		return err
	}
	mo, budget, err := opts.options()
	if err != nil {
		return err
	}
	var input []int64
	if opts.Input != "" {
		if input, err = parseInputShape(opts.Input); err != nil {
			return &codeError{code: exitError, err: err}
		}
	}
	s, err := parseSpec(opts.IO, opts.Spec)
	if err != nil {
		return err
	}
	eval := opts.Mode == "eval"
	batch := opts.Batch
	var fit *memoryFit
	if opts.Fit != "" {
		// the spec must analyse at batch 1 before the search (errors
		// printed once; warnings come with the report below)
		if _, err := s.Evaluate(1, input); err != nil {
			_, err = evaluate(opts.IO, s, 1, input, false)
			return err
		}
		peak := func(b int64) (int64, error) {
			a, err := s.Evaluate(b, input)
			if err != nil {
				return 0, err
			}
			m, err := calc.MemoryOf(&a.Net, a.Result, mo)
			if err != nil {
				return 0, err
			}
			if eval {
				return m.EvalPeak, nil
			}
			return m.TrainPeak, nil
		}
		fit = &memoryFit{Budget: budget, Batch: calc.FitBatch(budget, calc.MaxArg, peak)}
		batch = max(fit.Batch, 1)
		fit.Peak, _ = peak(batch)
		if fit.Batch < calc.MaxArg {
			fit.NextPeak, _ = peak(fit.Batch + 1)
		}
	}
	a, err := evaluate(opts.IO, s, batch, input, false)
	if err != nil {
		return err
	}
	m, err := calc.MemoryOf(&a.Net, a.Result, mo)
	if err != nil {
		return &codeError{code: exitError, err: fmt.Errorf("%s: %v", a.Spec.File, err)}
	}
	if opts.Format == "json" {
		err = writeMemoryJSON(opts.IO.Out, a, m, opts.Mode, fit)
	} else {
		err = memoryReport(a, m, eval, fit, opts.Format == "csv").write(opts.IO.Out, opts.Format, false)
	}
	if err == nil && fit != nil && fit.Batch == 0 {
		return &codeError{code: exitFail, silent: true, err: fmt.Errorf("no batch fits")}
	}
	return err
}

// savedShort names what a layer keeps in a few letters, for the table.
func savedShort(lm *calc.LayerMemory) string {
	short := map[string]string{"input": "in", "output": "out", "indices": "idx", "mean": "stats", "invstd": "stats",
		"input copy": "copy", "contiguous input": "copy", "padded input": "pad", "clamp input": "tmp", "alpha": "scalar",
		"repeated weight": "rep", "repeated running_mean": "rep", "repeated running_var": "rep"}
	var parts []string
	for _, s := range lm.Saved {
		p, ok := short[s.What]
		if !ok {
			p = s.What
		}
		if !slices.Contains(parts, p) {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "+")
}

// memBytes prints a byte count for a cell: "" for none.
func memBytes(b int64) string {
	if b == 0 {
		return ""
	}
	return sizeText(b)
}

// memoryReport builds the table; csv leaves out the footer.
func memoryReport(a *spec.Analysis, m *calc.Memory, eval bool, fit *memoryFit, csv bool) *report {
	o := m.Options
	r := &report{title: fmt.Sprintf("%s, %s, %s", title(a), o.DType, map[bool]string{true: "eval", false: "train, optimizer " + o.Optimizer.String()}[eval])}
	if eval {
		r.header = []string{"#", "layer", "output", "allocs", "live"}
		r.right = []bool{true, false, false, true, true}
	} else {
		r.header = []string{"#", "layer", "saves", "saved", "new", "allocs", "im2col"}
		r.right = []bool{true, false, false, true, true, true, true}
	}
	if csv {
		// exact bytes, one column per figure
		if eval {
			r.header = []string{"#", "layer", "output", "output_bytes", "live_bytes"}
		} else {
			r.header = []string{"#", "layer", "output", "saves", "saved_bytes", "new_saved_bytes", "output_bytes", "workspace_bytes"}
		}
	}
	cell := memBytes
	if csv {
		cell = func(b int64) string { return fmt.Sprint(b) }
	}
	r.grow(len(a.Net.Nodes))
	for i, n := range a.Net.Nodes {
		lm := &m.Layers[i]
		out := cell(lm.OutputBytes)
		if lm.View && !csv {
			out = "view"
		}
		if eval {
			r.add([]string{fmt.Sprint(i + 1), layerCell(&n), dims(a.Result.Layers[i].Output), out, cell(lm.Live)}, nil)
			continue
		}
		row := []string{fmt.Sprint(i + 1), layerCell(&n), savedShort(lm), cell(lm.SavedBytes), cell(lm.NewSavedBytes), out, cell(lm.Workspace)}
		if csv {
			row = slices.Insert(row, 2, dims(a.Result.Layers[i].Output))
		}
		r.add(row, nil)
	}
	if !csv && !eval {
		r.footer = []string{"", "total", "", "", sizeText(m.SavedBytes), "", ""}
	}
	line := func(name, format string, args ...any) {
		r.summary = append(r.summary, fmt.Sprintf("%-12s %s", name+":", fmt.Sprintf(format, args...)))
	}
	t := a.Result.Total
	both := func(b int64) string { return fmt.Sprintf("%s (%s B)", sizeText(b), calc.Group(b)) }
	line("dtype", "%s, model.to(%s): parameters, gradients, optimizer state, activations", o.DType, o.DType)
	line("params", "%s: %s parameters", both(m.ParamBytes), calc.Group(t.Params))
	line("buffers", "%s: %s running statistics, num_batches_tracked", both(m.BufferBytes), calc.Group(t.Buffers))
	line("input", "%s: %s", both(m.InputBytes), joinX(a.Net.Input))
	if eval {
		line("forward", "%s peak of live outputs, each freed after its last use", both(m.ForwardPeak))
		line("eval peak", "%s = params + buffers + input + forward", both(m.EvalPeak))
	} else {
		line("grads", "%s: one per trainable parameter", both(m.GradBytes))
		opt := map[calc.Optimizer]string{calc.OptNone: "no optimizer", calc.OptSGD: "plain SGD keeps none",
			calc.OptMomentum: "1 x params", calc.OptAdam: "2 x params, a float32 step per tensor",
			calc.OptAdamW: "2 x params, a float32 step per tensor"}[o.Optimizer]
		line("optimizer", "%s: %s, %s", both(m.OptimizerBytes), o.Optimizer, opt)
		line("saved", "%s kept by autograd at the end of forward", both(m.SavedBytes))
		line("step", "%s peak of forward + backward: outputs, saved, gradients", both(m.StepPeak))
		line("train peak", "%s = params + buffers + optimizer + input + step", both(m.TrainPeak))
		if m.Workspace > 0 {
			line("im2col", "%s largest im2col matrix (in no peak: oneDNN's differ)", both(m.Workspace))
		}
	}
	if fit != nil {
		peakName := map[bool]string{true: "eval peak", false: "train peak"}[eval]
		switch b := sizeText(fit.Budget); {
		case fit.Batch == 0:
			line("fit", "no batch fits %s: batch 1 needs %s B (%s)", b, calc.Group(fit.Peak), peakName)
		case fit.NextPeak == 0:
			line("fit", "batch %d, the largest cnncalc takes, fits %s (%s %s B)", fit.Batch, b, peakName, calc.Group(fit.Peak))
		default:
			line("fit", "batch %d fits %s: %s %s B, batch %d %s B", fit.Batch, b, peakName, calc.Group(fit.Peak), fit.Batch+1, calc.Group(fit.NextPeak))
		}
	}
	return r
}

// memoryJSON is the --format json object of the memory command.
type memoryJSON struct {
	Name      string           `json:"name"`
	Input     []int64          `json:"input"`
	DType     string           `json:"dtype"`
	Optimizer string           `json:"optimizer"`
	Mode      string           `json:"mode"`
	Layers    []memoryJSONNode `json:"layers"`
	Total     memoryJSONTotal  `json:"total"`
	Fit       *memoryFit       `json:"fit,omitempty"`
}

type memoryJSONSaved struct {
	What  string `json:"what"`
	Bytes int64  `json:"bytes"`
	DType string `json:"dtype"`
	// Of is the name of the node whose output storage it is, "input" for
	// the network input, null for a storage the layer allocated.
	Of *string `json:"of"`
}

type memoryJSONNode struct {
	Name      string            `json:"name"`
	Type      string            `json:"type"`
	Output    []int64           `json:"output"`
	Frozen    bool              `json:"frozen"`
	Grad      bool              `json:"requires_grad"`
	View      bool              `json:"view"`
	Saved     []memoryJSONSaved `json:"saved"`
	SavedB    int64             `json:"saved_bytes"`
	NewSavedB int64             `json:"new_saved_bytes"`
	OutputB   int64             `json:"output_bytes"`
	Workspace int64             `json:"workspace_bytes"`
	Live      int64             `json:"live_bytes"`
}

type memoryJSONTotal struct {
	Params     int64 `json:"params_bytes"`
	Buffers    int64 `json:"buffers_bytes"`
	Grads      int64 `json:"grads_bytes"`
	Optimizer  int64 `json:"optimizer_bytes"`
	Input      int64 `json:"input_bytes"`
	Saved      int64 `json:"saved_bytes"`
	Step       int64 `json:"step_peak_bytes"`
	Train      int64 `json:"train_peak_bytes"`
	Forward    int64 `json:"forward_peak_bytes"`
	Eval       int64 `json:"eval_peak_bytes"`
	Workspace  int64 `json:"workspace_bytes"`
	ParamCount int64 `json:"params"`
}

func writeMemoryJSON(w io.Writer, a *spec.Analysis, m *calc.Memory, mode string, fit *memoryFit) error {
	net := &a.Net
	out := memoryJSON{Name: net.Name, Input: net.Input, DType: m.Options.DType.String(), Optimizer: m.Options.Optimizer.String(),
		Mode: mode, Layers: make([]memoryJSONNode, len(net.Nodes)), Fit: fit}
	for i, n := range net.Nodes {
		lm := &m.Layers[i]
		jn := memoryJSONNode{Name: n.Name, Type: n.Type.String(), Output: a.Result.Layers[i].Output, Frozen: n.Frozen, Grad: lm.Grad, View: lm.View,
			Saved: []memoryJSONSaved{}, SavedB: lm.SavedBytes, NewSavedB: lm.NewSavedBytes, OutputB: lm.OutputBytes,
			Workspace: lm.Workspace, Live: lm.Live}
		for _, s := range lm.Saved {
			js := memoryJSONSaved{What: s.What, Bytes: s.Bytes, DType: s.DType.String()}
			switch {
			case s.Origin == calc.Input:
				of := "input"
				js.Of = &of
			case s.Origin >= 0:
				js.Of = &net.Nodes[s.Origin].Name
			}
			jn.Saved = append(jn.Saved, js)
		}
		out.Layers[i] = jn
	}
	out.Total = memoryJSONTotal{Params: m.ParamBytes, Buffers: m.BufferBytes, Grads: m.GradBytes, Optimizer: m.OptimizerBytes,
		Input: m.InputBytes, Saved: m.SavedBytes, Step: m.StepPeak, Train: m.TrainPeak, Forward: m.ForwardPeak, Eval: m.EvalPeak,
		Workspace: m.Workspace, ParamCount: a.Result.Total.Params}
	return encodeMemoryJSON(w, out)
}

// encodeMemoryJSON writes the object with one layer per line, as the other
// commands' JSON.
func encodeMemoryJSON(w io.Writer, out memoryJSON) error {
	layers := out.Layers
	out.Layers = nil
	head, err := json.Marshal(out)
	if err != nil {
		return err
	}
	const hole = `"layers":null`
	i := bytes.Index(head, []byte(hole))
	var b bytes.Buffer
	b.Write(head[:i])
	b.WriteString("\n \"layers\": [")
	for k := range layers {
		line, err := json.Marshal(&layers[k])
		if err != nil {
			return err
		}
		if k > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n  ")
		b.Write(line)
	}
	b.WriteString("],\n ")
	b.Write(head[i+len(hole)+1:]) // past the comma after the hole
	b.WriteByte('\n')
	_, err = w.Write(b.Bytes())
	return err
}
