package main

import (
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/cnncalc/cnncalc"
	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/spec"
	"github.com/spf13/cobra"
)

// ZooOptions are the zoo command's streams and flags.
type ZooOptions struct {
	IO     *IOStreams
	Format string
}

func newZooCmd(ios *IOStreams, runF func(*ZooOptions) error) *cobra.Command {
	opts := &ZooOptions{IO: ios}
	cmd := &cobra.Command{
		Use:     "zoo",
		Short:   "The embedded example networks with their params and MACs",
		Example: "  cnncalc zoo\n  cnncalc shapes resnet50",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return zooRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "table", "output format: table, csv or markdown")
	return cmd
}

func zooRun(opts *ZooOptions) error {
	files, err := fs.Glob(cnncalc.Zoo, "testdata/zoo/*.yaml")
	if err != nil {
		return err
	}
	r := &report{
		header: []string{"example", "network", "input", "layers", "params", "MACs", "output"},
		right:  []bool{false, false, false, true, true, true},
	}
	for _, f := range files {
		data, _ := cnncalc.Zoo.ReadFile(f)
		name := strings.TrimSuffix(path.Base(f), ".yaml")
		s, err := spec.Parse(name+".yaml", data)
		if err != nil {
			return fmt.Errorf("embedded example %s: %w", name, err)
		}
		a, err := s.Evaluate(0, nil)
		if err != nil {
			return fmt.Errorf("embedded example %s: %w", name, err)
		}
		t := a.Result.Total
		r.add([]string{name, a.Net.Name, dims(a.Net.Input), fmt.Sprint(len(a.Net.Nodes)), calc.Group(t.Params), calc.Human(t.MACs), dims(t.Output)}, nil)
	}
	r.summary = []string{"run one with: cnncalc shapes NAME (or params, rf)"}
	return r.write(opts.IO.Out, opts.Format, false)
}
