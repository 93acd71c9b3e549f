package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
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
	cmd.Flags().StringVar(&opts.Format, "format", "table", "output format: table, json, csv or markdown")
	registerFormat(cmd, reportFormats...)
	return cmd
}

func zooRun(opts *ZooOptions) error {
	switch opts.Format {
	case "table", "csv", "markdown", "json":
	default:
		return usageErr("unknown --format %q: use table, json, csv or markdown", opts.Format)
	}
	files, err := fs.Glob(cnncalc.Zoo, "testdata/zoo/*.yaml")
	if err != nil {
		return err
	}
	r := &report{
		header: []string{"family", "example", "network", "input", "layers", "params", "MACs", "output"},
		right:  []bool{false, false, false, false, true, true, true},
	}
	// CSV is for programs: every row names its family, and counts are
	// plain integers.
	csv := opts.Format == "csv"
	if csv {
		r.header = []string{"family", "example", "network", "input", "layers", "params", "buffers", "macs", "output"}
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = strings.TrimSuffix(path.Base(f), ".yaml")
	}
	sort.SliceStable(names, func(i, j int) bool {
		fi, fj := zooFamily(names[i]), zooFamily(names[j])
		if fi != fj {
			return fi < fj
		}
		return names[i] < names[j]
	})
	last := -1
	var examples []zooExample
	for _, name := range names {
		data, _ := cnncalc.Zoo.ReadFile("testdata/zoo/" + name + ".yaml")
		s, err := spec.Parse(name+".yaml", data)
		if err != nil {
			return fmt.Errorf("embedded example %s: %w", name, err)
		}
		a, err := s.Evaluate(0, nil)
		if err != nil {
			return fmt.Errorf("embedded example %s: %w", name, err)
		}
		t := a.Result.Total
		fam := ""
		if f := zooFamily(name); f != last {
			fam, last = zooFamilies[f].name, f
		}
		if csv {
			r.add([]string{zooFamilies[zooFamily(name)].name, name, a.Net.Name, dims(a.Net.Input), fmt.Sprint(len(a.Net.Nodes)),
				fmt.Sprint(t.Params), fmt.Sprint(t.Buffers), fmt.Sprint(t.MACs), dims(t.Output)}, nil)
		} else {
			r.add([]string{fam, name, a.Net.Name, dims(a.Net.Input), fmt.Sprint(len(a.Net.Nodes)), calc.Group(t.Params), calc.Human(t.MACs), dims(t.Output)}, nil)
		}
		examples = append(examples, zooExample{Family: zooFamilies[zooFamily(name)].name, Name: name, Network: a.Net.Name,
			Input: []int64(a.Net.Input[1:]), Layers: len(a.Net.Nodes), Params: t.Params, Buffers: t.Buffers, MACs: t.MACs, Output: []int64(t.Output[1:])})
	}
	r.summary = []string{"run one with: cnncalc shapes NAME (or params, rf)"}
	if opts.Format == "json" {
		return json.NewEncoder(&jsonWriter{w: opts.IO.Out}).Encode(examples)
	}
	return r.write(opts.IO.Out, opts.Format, false)
}

// zooFamilies groups the examples as torchvision does, by the builder
// name's prefix, in the order `cnncalc zoo` lists them; the course's and
// cnncalc's own examples come last.
var zooFamilies = []struct {
	name     string
	prefixes []string
}{
	{"AlexNet", []string{"alexnet"}},
	{"VGG", []string{"vgg"}},
	{"ResNet", []string{"resnet", "resnext", "wide_resnet"}},
	{"SqueezeNet", []string{"squeezenet"}},
	{"DenseNet", []string{"densenet"}},
	{"Inception", []string{"googlenet", "inception"}},
	{"MobileNet", []string{"mobilenet"}},
	{"MNASNet", []string{"mnasnet"}},
	{"ShuffleNetV2", []string{"shufflenet"}},
	{"EfficientNet", []string{"efficientnet"}},
	{"RegNet", []string{"regnet"}},
	{"ConvNeXt", []string{"convnext"}},
	{"Segmentation", []string{"fcn_", "deeplabv3", "lraspp"}},
	{"Video", []string{"r3d_", "mc3_", "r2plus1d", "s3d"}},
	{"Examples", nil},
}

// zooFamily is the index of an example's family in zooFamilies.
func zooFamily(name string) int {
	for i, f := range zooFamilies {
		for _, p := range f.prefixes {
			if strings.HasPrefix(name, p) {
				return i
			}
		}
	}
	return len(zooFamilies) - 1
}

// zooExample is one example in `cnncalc zoo --format json`; shapes
// exclude the batch axis.
type zooExample struct {
	Family  string  `json:"family"`
	Name    string  `json:"name"`
	Network string  `json:"network"`
	Input   []int64 `json:"input"`
	Layers  int     `json:"layers"`
	Params  int64   `json:"params"`
	Buffers int64   `json:"buffers"`
	MACs    int64   `json:"macs"`
	Output  []int64 `json:"output"`
}
