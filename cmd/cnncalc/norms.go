package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/exec/verify"
)

// normsMaxValues bounds the random tensor norms computes statistics on
// (float32: 256 MiB, twice over for the outputs).
const normsMaxValues = 1 << 26

// NormsOptions are the norms command's streams and flags.
type NormsOptions struct {
	IO     *IOStreams
	Shape  string
	Groups int64
	Seed   uint64
	Format string
}

func newNormsCmd(ios *IOStreams, runF func(*NormsOptions) error) *cobra.Command {
	opts := &NormsOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "norms SHAPE",
		Short: "Batch, layer, instance and group normalization side by side on one input shape",
		Long: `norms shows, for an input of SHAPE (batch first: N x C x H x W, N x C x L,
N x C x D x H x W, or N x D for a fully-connected layer), what batchnorm,
layernorm, instancenorm and groupnorm (--groups G) compute, at PyTorch's defaults:
the shape of the mean and variance, the shape of gamma and beta, how many values
each statistic averages, the learnable parameters and buffers, and whether train
and test time differ. calc computes every figure; exec confirms them by running
each normalization on a random tensor and computing the statistics itself.`,
		Example: `  cnncalc norms 8x64x32x32 --groups 32
  cnncalc norms 16x100 --groups 4`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Shape = args[0]
			if runF != nil {
				return runF(opts)
			}
			return normsRun(opts)
		},
	}
	cmd.Flags().Int64Var(&opts.Groups, "groups", 1, "groupnorm's number of groups (it must divide C)")
	cmd.Flags().Uint64Var(&opts.Seed, "seed", 0, "seed of the random tensor exec normalises")
	cmd.Flags().StringVar(&opts.Format, "format", "table", "output format: table or json")
	return cmd
}

// parseNormShape reads 8x64x32x32: 2 to 5 sizes, batch first.
func parseNormShape(s string) (calc.Shape, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == 'x' || r == 'X' || r == ',' || r == ' ' || r == '×' })
	if len(fields) < 2 || len(fields) > 5 {
		return nil, fmt.Errorf("shape %q: want 2 to 5 sizes, batch first, such as 8x64x32x32 (N x C x H x W) or 16x100 (N x D)", s)
	}
	var shape calc.Shape
	values := int64(1)
	for _, f := range fields {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil || v < 1 || v > calc.MaxDim {
			return nil, fmt.Errorf("shape %q: %q is not a size between 1 and %s", s, f, calc.Group(calc.MaxDim))
		}
		if values > normsMaxValues/v {
			return nil, fmt.Errorf("shape %q: more than %s values, the most norms normalises", s, calc.Group(normsMaxValues))
		}
		values *= v
		shape = append(shape, v)
	}
	return shape, nil
}

// notation is the lecture's name of the axes: N x C x H x W, N x D.
func notation(rank int) string {
	return map[int]string{2: "N x D", 3: "N x C x L", 4: "N x C x H x W", 5: "N x C x D x H x W"}[rank]
}

func normsRun(opts *NormsOptions) error {
	switch opts.Format {
	case "table", "json":
	default:
		return usageErr("norms --format is table or json, got %q", opts.Format)
	}
	shape, err := parseNormShape(opts.Shape)
	if err != nil {
		return usageErr("%v", err)
	}
	ns, err := calc.Norms(shape, opts.Groups)
	if err != nil {
		return usageErr("%v", err)
	}
	checks := make([]*verify.NormCheck, len(ns))
	for i := range ns {
		if checks[i], err = verify.CheckNorm(ns[i], shape, opts.Seed); err != nil {
			return &codeError{code: exitInternal, err: fmt.Errorf("internal error: %s: %v", ns[i].Module, err)}
		}
	}
	failed := 0
	for i, c := range checks {
		if !normAgrees(&ns[i], c) {
			failed++
		}
	}
	if opts.Format == "json" {
		err = writeNormsJSON(opts.IO.Out, shape, opts, ns, checks)
	} else {
		err = writeNormsTable(opts.IO.Out, shape, opts, ns, checks)
	}
	if err != nil {
		return err
	}
	if failed > 0 {
		return &codeError{code: exitFail, silent: true, err: fmt.Errorf("%d normalizations disagree", failed)}
	}
	return nil
}

// normAgrees: exec's statistics reproduce the kernel's output, count
// calc's number of values, and train and test differ exactly where calc
// says.
func normAgrees(n *calc.NormStats, c *verify.NormCheck) bool {
	return c.MaxDiff < 1e-4 && int64(c.Count) == n.Count && (c.TrainEvalDiff > 1e-3) == n.TrainDiffers
}

func shapeX(s calc.Shape) string {
	if s == nil {
		return "-"
	}
	return joinX(s)
}

func trainText(n *calc.NormStats) string {
	if n.TrainDiffers {
		return "differ: batch stats in training, running stats at test"
	}
	return "same: each sample's own stats"
}

func writeNormsTable(w io.Writer, shape calc.Shape, opts *NormsOptions, ns []calc.NormStats, checks []*verify.NormCheck) error {
	r := &report{
		title:  fmt.Sprintf("%s (%s), groups %d", joinX(shape), notation(len(shape)), opts.Groups),
		header: []string{"normalization", "torch.nn", "stats over", "mean, var", "gamma, beta", "values / stat", "params", "buffers", "train vs test", "exec"},
		right:  []bool{false, false, false, false, false, true, true, true, false, false},
	}
	worst, trainDiff := 0.0, 0.0
	for i := range ns {
		n, c := &ns[i], checks[i]
		verdict := "ok"
		if !normAgrees(n, c) {
			verdict = fmt.Sprintf("FAIL (%d values, diff %.3g)", c.Count, c.MaxDiff)
		}
		worst = math.Max(worst, c.MaxDiff)
		if n.TrainDiffers {
			trainDiff = math.Max(trainDiff, c.TrainEvalDiff)
		}
		r.add([]string{strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(n.Op.String(), "1d"), "2d"), "3d"), n.Module, n.Over, shapeX(n.Stat), shapeX(n.Affine),
			calc.Group(n.Count), calc.Group(n.Params), calc.Group(n.Buffers), trainText(n), verdict}, nil)
	}
	r.summary = []string{
		fmt.Sprintf("exec: each normalization run on a random %s tensor (--seed %d); the statistics computed over the axes above give its output within %.2g", joinX(shape), opts.Seed, worst),
		fmt.Sprintf("train vs test: the same input gives outputs up to %.3g apart for batchnorm (test mode with its running statistics after one training step, momentum 0.1); 0 for the others", trainDiff),
	}
	return r.write(w, "table", false)
}

func writeNormsJSON(w io.Writer, shape calc.Shape, opts *NormsOptions, ns []calc.NormStats, checks []*verify.NormCheck) error {
	type norm struct {
		Type          string  `json:"type"`
		Module        string  `json:"module"`
		Over          string  `json:"over"`
		Stat          []int64 `json:"stat"`
		Affine        []int64 `json:"affine"`
		Count         int64   `json:"count"`
		Params        int64   `json:"params"`
		Buffers       int64   `json:"buffers"`
		TrainDiffers  bool    `json:"train_differs"`
		ExecCount     int     `json:"exec_count"`
		ExecMaxDiff   float64 `json:"exec_max_diff"`
		TrainEvalDiff float64 `json:"train_eval_diff"`
		Agree         bool    `json:"agree"`
	}
	out := struct {
		Shape    []int64 `json:"shape"`
		Notation string  `json:"notation"`
		Groups   int64   `json:"groups"`
		Norms    []norm  `json:"norms"`
	}{Shape: shape, Notation: notation(len(shape)), Groups: opts.Groups}
	for i := range ns {
		n, c := &ns[i], checks[i]
		out.Norms = append(out.Norms, norm{n.Op.String(), n.Module, n.Over, n.Stat, n.Affine, n.Count, n.Params, n.Buffers, n.TrainDiffers, c.Count, c.MaxDiff, c.TrainEvalDiff, normAgrees(n, c)})
	}
	enc := json.NewEncoder(&jsonWriter{w: w})
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
