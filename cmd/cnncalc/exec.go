package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/exec"
	"github.com/cnncalc/cnncalc/exec/tensorio"
	"github.com/cnncalc/cnncalc/exec/verify"
	"github.com/cnncalc/cnncalc/spec"
)

// ExecOptions are the exec command's streams and flags.
type ExecOptions struct {
	IO         *IOStreams
	Spec       string
	Weights    string
	Seed       uint64
	SaveOutput string
	MaxMemory  string
	// NoRF skips the receptive-field probe: the forward pass alone.
	NoRF bool
	// Train runs in train mode (batch statistics; exec_train.go).
	Train bool
	// NoFuse runs every layer with its own kernel (exec.Options.NoFuse).
	NoFuse bool
	specFlags
}

func newExecCmd(ios *IOStreams, runF func(*ExecOptions) error) *cobra.Command {
	opts := &ExecOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "exec SPEC",
		Short: "Run a real forward pass and cross-check every shape, MAC count and receptive field",
		Long: `exec runs the network with float32 kernels (im2col + GEMM convolutions) and
checks, layer by layer, that the output shape the kernels produce, the MACs they
perform and the receptive field measured by a probe run equal what calc computes.
It exits 1 on any disagreement, showing both numbers.

As PyTorch does at inference, a conv or linear layer runs with the eval-mode
batchnorm after it folded in and a ReLU, ReLU6 or Hardtanh after that in its
write-back, and a residual add with the ReLU after it: the ms column then says
"in N" for the layers layer N computed (--no-fuse runs each with its own kernel).

Weights are PyTorch's default initialisation drawn from --seed, or a PyTorch
state_dict saved as safetensors (--weights), matched to the layers in order and
checked shape by shape. --input takes a shape (3x224x224) or a .npy file (shape
and values); --save-output keeps the output as .npy.`,
		Example: `  cnncalc exec resnet18
  cnncalc exec net.yaml --weights net.safetensors --input x.npy --save-output y.npy
  cnncalc exec net.yaml --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Spec = args[0]
			if runF != nil {
				return runF(opts)
			}
			return execRun(opts)
		},
	}
	opts.registerRun(cmd, "output format: table or json")
	cmd.Flags().StringVar(&opts.Weights, "weights", "", "a PyTorch state_dict saved as .safetensors")
	cmd.Flags().Uint64Var(&opts.Seed, "seed", 0, "seed of the random weights and input")
	cmd.Flags().StringVar(&opts.SaveOutput, "save-output", "", "write the network output to this .npy file")
	cmd.Flags().StringVar(&opts.MaxMemory, "max-memory", "4GiB", "refuse to run when the estimated peak memory is larger")
	cmd.Flags().BoolVar(&opts.NoRF, "no-rf", false, "skip the receptive-field probe: run the forward pass alone (shapes and MACs still checked)")
	cmd.Flags().BoolVar(&opts.NoFuse, "no-fuse", false, "run every layer with its own kernel: no batchnorm folded into the conv before it, no activation in a GEMM's write-back")
	cmd.Flags().BoolVar(&opts.Train, "train", false, "train mode: batchnorm normalises with the batch's statistics; shows how far the output is from eval mode's")
	registerFormat(cmd, "table\taligned columns", "json\teach layer's checks and seconds")
	cmd.ValidArgsFunction = completeSpec(1)
	cmd.RegisterFlagCompletionFunc("input", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"npy"}, cobra.ShellCompDirectiveFilterFileExt
	})
	cmd.RegisterFlagCompletionFunc("save-output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"npy"}, cobra.ShellCompDirectiveFilterFileExt
	})
	cmd.RegisterFlagCompletionFunc("weights", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"safetensors"}, cobra.ShellCompDirectiveFilterFileExt
	})
	return cmd
}

// parseBytes reads 4GiB, 512MiB, 2G, 1000000.
func parseBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}}
	mult := int64(1)
	num := strings.TrimSpace(s)
	for _, u := range units {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	// NaN compares false with everything: it must be refused by name.
	if err != nil || math.IsNaN(v) || v*float64(mult) < 1 || v*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("--max-memory %q: want a size such as 4GiB or 512MiB", s)
	}
	return int64(v * float64(mult)), nil
}

// checkNpyShape bounds a .npy input's shape as --input and --batch are
// bounded: 1 to 5 axes (the batch, the channels and up to 3 spatial axes),
// each between 1 and calc.MaxDim.
func checkNpyShape(path string, shape []int64) error {
	if len(shape) < 1 || len(shape) > 5 {
		return fmt.Errorf("%s: the array has %d axes; an input has 1 to 4 (channels first), and may have the batch before them", path, len(shape))
	}
	for _, d := range shape {
		if d < 1 || d > calc.MaxDim {
			return fmt.Errorf("%s: shape %v: every size must be between 1 and %s", path, shape, calc.Group(calc.MaxDim))
		}
	}
	return nil
}

// execSetup is a network ready to cross-check.
type execSetup struct {
	a      *spec.Analysis
	plan   *exec.Plan
	params []exec.Weights
	// modules are the checkpoint's module of each node (--weights), nil
	// for the default init.
	modules []string
	x       *exec.Tensor
}

// prepareExec loads the spec, the input and the weights, refusing a run
// whose estimated memory is above the limit.
func prepareExec(opts *ExecOptions) (*execSetup, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	limit, err := parseBytes(opts.MaxMemory)
	if err != nil {
		return nil, &codeError{code: exitError, err: err}
	}
	s, err := parseSpec(opts.IO, opts.Spec)
	if err != nil {
		return nil, err
	}
	batch := opts.Batch
	var input []int64
	var npy *tensorio.NpyArray // its data is read after the memory estimate
	switch {
	case strings.HasSuffix(opts.Input, ".npy"):
		if npy, err = tensorio.OpenNpy(opts.Input); err != nil {
			return nil, &codeError{code: exitError, err: err}
		}
		defer npy.Close()
		shape := make([]int64, len(npy.Shape))
		for i, d := range npy.Shape {
			shape[i] = int64(d)
		}
		if err := checkNpyShape(opts.Input, shape); err != nil {
			return nil, &codeError{code: exitError, err: err}
		}
		// A .npy input holds the batch axis when its rank is the spec's
		// input rank plus one.
		var b int64
		if b, input = s.SplitBatch(shape); b != 0 {
			batch = b
		}
	case opts.Input != "":
		if input, err = parseInputShape(opts.Input); err != nil {
			return nil, &codeError{code: exitError, err: err}
		}
	}
	a, err := evaluate(opts.IO, s, batch, input, opts.Explain)
	if err != nil {
		return nil, err
	}
	if npy != nil && len(npy.Shape) < len(a.Net.Input) && a.Net.Input[0] != 1 {
		return nil, &codeError{code: exitError, err: fmt.Errorf("%s: shape %v is one input (no batch axis), the run's batch is %d: give the file a batch axis, or --batch 1", opts.Input, npy.Shape, a.Net.Input[0])}
	}
	plan, err := exec.NewPlan(&a.Net)
	if err != nil {
		return nil, &codeError{code: exitError, err: err}
	}
	fwd, probe, err := verify.CrossCheckMemory(plan, a.Result)
	if opts.NoRF {
		probe = 0
	}
	if err != nil {
		return nil, &codeError{code: exitError, err: err}
	}
	// Nothing proportional to the tensors has been allocated yet: the
	// weights, the input (its data too, for a .npy) and the probe's
	// impulses come after this.
	if err := refuseMemory(max(fwd, probe), limit); err != nil {
		return nil, &codeError{code: exitError, err: fmt.Errorf("the run %v (forward pass %s: weights %s, activations and workspace %s; receptive-field probe %s)",
			err, sizeText(fwd), sizeText(plan.WeightBytes), sizeText(plan.PeakBytes), sizeText(probe))}
	}
	// Let the garbage collector work harder rather than pass the limit.
	debug.SetMemoryLimit(limit)
	setup := &execSetup{a: a, plan: plan}
	if opts.Weights != "" {
		setup.params, setup.modules, err = tensorio.LoadSafetensorsNamed(plan, opts.Weights, func(i int) string {
			return fmt.Sprintf("%s %s (%s)", a.Spec.Info[i].Path, a.Net.Nodes[i].Name, a.Net.Nodes[i].Type)
		})
		if err != nil {
			return nil, &codeError{code: exitError, err: err}
		}
	} else if setup.params, err = modelWeights(opts.IO, a, plan); err != nil {
		return nil, &codeError{code: exitError, err: err}
	} else if setup.params == nil {
		setup.params = plan.Init(opts.Seed)
	}
	var x *exec.Tensor
	if npy == nil {
		x = exec.RandomInput(a.Net.Input, opts.Seed)
	} else if x, err = npy.Read(); err != nil {
		return nil, &codeError{code: exitError, err: err}
	} else if len(x.Shape) < len(a.Net.Input) {
		x = x.Reshape(append([]int{1}, x.Shape...)...)
	}
	setup.x = x
	return setup, nil
}

// progress prints a per-layer line on stderr when it is a terminal and the
// run has taken more than a second.
func progress(ios *IOStreams) func(done, total int, name string) {
	f, ok := ios.ErrOut.(*os.File)
	if !ok || !isatty.IsTerminal(f.Fd()) {
		return nil
	}
	start := time.Now()
	shown := false
	return func(done, total int, name string) {
		if time.Since(start) < time.Second {
			return
		}
		shown = true
		fmt.Fprintf(f, "\r\x1b[Klayer %d/%d %s", done, total, escapeLine(name))
		if done == total && shown {
			fmt.Fprint(f, "\r\x1b[K")
		}
	}
}

func execRun(opts *ExecOptions) error {
	switch opts.Format {
	case "table", "json":
	default:
		return usageErr("exec --format is table or json, got %q", opts.Format)
	}
	setup, err := prepareExec(opts)
	if err != nil {
		return err
	}
	a := setup.a
	crossCheck := verify.CrossCheck
	if opts.NoRF {
		crossCheck = verify.CrossCheckForward
	}
	params := setup.params
	if opts.Train {
		if err := checkTrainable(a); err != nil {
			return &codeError{code: exitError, err: err}
		}
		params = exec.TrainWeights(&a.Net, params)
	}
	run, checks, err := crossCheck(setup.plan, a.Result, params, setup.x, exec.Options{Progress: progress(opts.IO), NoFuse: opts.NoFuse})
	if err != nil {
		return &codeError{code: exitError, err: err}
	}
	var train []string
	if opts.Train {
		if train, err = trainVsEval(setup, run); err != nil {
			return &codeError{code: exitError, err: err}
		}
	}
	if opts.SaveOutput != "" {
		var npy bytes.Buffer
		err := tensorio.WriteNpy(&npy, run.Output)
		if err == nil {
			err = writeFile(opts.SaveOutput, npy.Bytes(), nil)
		}
		if err != nil {
			return &codeError{code: exitError, err: err}
		}
	}
	failed := 0
	for _, c := range checks {
		if len(c.Problems) > 0 {
			failed++
		}
	}
	if opts.Format == "json" {
		err = writeExecJSON(opts.IO.Out, a, run, checks)
	} else {
		err = writeExecTable(opts.IO.Out, a, run, checks, opts.NoRF)
		for _, line := range train {
			fmt.Fprintln(opts.IO.Out, line)
		}
	}
	if err != nil {
		return err
	}
	if failed > 0 {
		return &codeError{code: exitFail, silent: true, err: fmt.Errorf("%d layers disagree", failed)}
	}
	return nil
}

func writeExecTable(w io.Writer, a *spec.Analysis, run *exec.Run, checks []verify.LayerCheck, noRF bool) error {
	r := &report{
		title:  title(a),
		header: []string{"#", "layer", "output", "shape", "MACs", "rf", "ms"},
		right:  []bool{true, false, false, false, false, false, true},
	}
	var problems []string
	for i, n := range a.Net.Nodes {
		c := checks[i]
		r.add([]string{fmt.Sprint(i + 1), layerCell(&n), dims(a.Result.Layers[i].Output), c.Shape.String(), c.MACs.String(), execRFCell(&c),
			msCell(&run.Layers[i])}, nil)
		for _, p := range c.Problems {
			problems = append(problems, fmt.Sprintf("layer %d (%s, %s): %s", i+1, n.Name, a.Spec.Info[i].Path, p))
		}
	}
	var macs int64
	for _, l := range run.Layers {
		macs += l.MACs
	}
	out := run.Output
	mean, lo, hi := summary(out.Data)
	r.summary = append(problems,
		fmt.Sprintf("forward pass: %.3f s, %s MACs performed (%.2f GMAC/s)", run.Seconds, calc.Group(macs), float64(macs)/run.Seconds/1e9),
		fmt.Sprintf("output %v: mean %.6g, min %.6g, max %.6g", out.Shape, mean, lo, hi),
		"checks: shape and MACs per layer; rf measured by a probe run (- where calc defines no field)",
	)
	if noRF {
		r.summary[len(r.summary)-1] = "checks: shape and MACs per layer; rf not measured (--no-rf)"
	}
	if len(problems) == 0 {
		r.summary = append(r.summary, "every check agrees with calc")
	}
	return r.write(w, "table", false)
}

// msCell is the ms column: the layer's time, or "in N" for a layer the
// fused kernel of layer N computed.
func msCell(l *exec.LayerRun) string {
	if l.Head >= 0 {
		return fmt.Sprintf("in %d", l.Head+1)
	}
	return fmt.Sprintf("%.2f", l.Seconds*1000)
}

// execRFCell is the rf column: the verdict, or why a field calc gives was not
// measured.
func execRFCell(c *verify.LayerCheck) string {
	if c.RF == verify.Skipped && c.RFNote != "" {
		return "unmeasured: " + c.RFNote
	}
	return c.RF.String()
}

func summary(v []float32) (mean, lo, hi float64) {
	if len(v) == 0 {
		return 0, 0, 0
	}
	lo, hi = float64(v[0]), float64(v[0])
	for _, x := range v {
		mean += float64(x)
		lo, hi = min(lo, float64(x)), max(hi, float64(x))
	}
	return mean / float64(len(v)), lo, hi
}

func writeExecJSON(w io.Writer, a *spec.Analysis, run *exec.Run, checks []verify.LayerCheck) error {
	type layer struct {
		Name     string   `json:"name"`
		Type     string   `json:"type"`
		Output   []int    `json:"output"`
		Shape    string   `json:"shape"`
		MACs     string   `json:"macs"`
		RF       string   `json:"rf"`
		RFNote   string   `json:"rf_unmeasured,omitempty"`
		Problems []string `json:"problems,omitempty"`
		Seconds  float64  `json:"seconds"`
		// FusedInto is the 1-based number of the layer whose fused kernel
		// computed this one (its seconds are 0), absent when it ran its own.
		FusedInto int `json:"fused_into,omitempty"`
	}
	out := struct {
		Name    string  `json:"name"`
		Input   []int64 `json:"input"`
		Layers  []layer `json:"layers"`
		Output  []int   `json:"output"`
		Seconds float64 `json:"seconds"`
		Agree   bool    `json:"agree"`
	}{Name: a.Net.Name, Input: a.Net.Input, Output: run.Output.Shape, Seconds: run.Seconds, Agree: true}
	for i, n := range a.Net.Nodes {
		c := checks[i]
		out.Layers = append(out.Layers, layer{n.Name, n.Type.String(), run.Layers[i].Shape, c.Shape.String(), c.MACs.String(), c.RF.String(), c.RFNote, c.Problems, run.Layers[i].Seconds, run.Layers[i].Head + 1})
		out.Agree = out.Agree && len(c.Problems) == 0
	}
	enc := json.NewEncoder(&jsonWriter{w: w})
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
