package fold

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/spec"
)

func analyse(t *testing.T, name string, src []byte) *spec.Analysis {
	t.Helper()
	s, err := spec.Parse(name, src)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	a, err := s.Evaluate(0, nil)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return a
}

func zoo(t *testing.T, name string) *spec.Analysis {
	t.Helper()
	src, err := os.ReadFile("../testdata/zoo/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	return analyse(t, name+".yaml", src)
}

// TestResNet18 holds the figures of the issue: 20 batchnorms fold, their
// 9,600 parameters and 9,600 buffers go, 20 conv biases of 4,800 values
// in all come: 11,684,712 parameters.
func TestResNet18(t *testing.T) {
	r, err := Spec(zoo(t, "resnet18"))
	if err != nil {
		t.Fatal(err)
	}
	tot := r.Analysis.Result.Total
	if r.Count() != 20 || len(r.Decisions) != 20 || tot.Params != 11_684_712 || tot.Buffers != 0 || len(r.Net.Nodes) != 69-20 {
		t.Errorf("%d of %d fold, %d layers, %d params, %d buffers; want 20 of 20, 49 layers, 11,684,712 params, 0 buffers",
			r.Count(), len(r.Decisions), len(r.Net.Nodes), tot.Params, tot.Buffers)
	}
	// The blocks' batchnorm items are gone and their convs have a bias;
	// the rest of the text, comments included, is as it was.
	text := string(r.Text)
	if strings.Contains(text, "batchnorm") || strings.Contains(text, "bias: false") || !strings.Contains(text, "  basic_down:                 # projection shortcut, stride on both paths") {
		t.Errorf("folded text:\n%s", text)
	}
	if !strings.Contains(text, "  params: 11684712\n  buffers: 0\n") {
		t.Errorf("the top-level expect: is not brought up to date:\n%s", text)
	}
}

// TestZooAgainstPyTorch: resnet18, mobilenet_v2 and densenet121 fold as
// PyTorch's fuser (torch.fx.experimental.optimization.fuse) folds
// torchvision's models: as many batchnorms, the same parameters and
// buffers after (testdata/torch/fold/gen_zoo_fold.py).
func TestZooAgainstPyTorch(t *testing.T) {
	data, err := os.ReadFile("../testdata/torch/fold/zoo_fold.json")
	if err != nil {
		t.Skipf("no reference (run testdata/torch/fold/gen_zoo_fold.py): %v", err)
	}
	var want map[string]struct {
		BatchNorms    int   `json:"batchnorms"`
		Folded        int   `json:"folded"`
		Params        int64 `json:"params"`
		Buffers       int64 `json:"buffers"`
		FoldedParams  int64 `json:"folded_params"`
		FoldedBuffers int64 `json:"folded_buffers"`
	}
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"resnet18", "mobilenet_v2", "densenet121"} {
		w, ok := want[name]
		if !ok {
			t.Fatalf("%s: not in zoo_fold.json", name)
		}
		a := zoo(t, name)
		r, err := Spec(a)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		before, after := a.Result.Total, r.Analysis.Result.Total
		if len(r.Decisions) != w.BatchNorms || r.Count() != w.Folded || before.Params != w.Params || before.Buffers != w.Buffers ||
			after.Params != w.FoldedParams || after.Buffers != w.FoldedBuffers || after.MACs != before.MACs {
			t.Errorf("%s: %d of %d fold, params %d -> %d, buffers %d -> %d; PyTorch: %d of %d, %d -> %d, %d -> %d",
				name, r.Count(), len(r.Decisions), before.Params, after.Params, before.Buffers, after.Buffers,
				w.Folded, w.BatchNorms, w.Params, w.FoldedParams, w.Buffers, w.FoldedBuffers)
		}
	}
}

// TestReasons: every reason a normalization does not fold, and the
// forward fold into an unpadded conv.
func TestReasons(t *testing.T) {
	src := `input: [4, 8, 8]
layers:
  - batchnorm2d                                  # 1: the input
  - conv2d: {out: 8, kernel: 3, padding: 1}
  - relu
  - batchnorm2d                                  # 4: after relu, before a padded conv
  - name: c
    conv2d: {out: 8, kernel: 3, padding: 1}
  - batchnorm2d: {track_running_stats: false}    # 6: batch statistics
  - maxpool2d: 2
  - batchnorm2d                                  # 8: after a pool, before an unpadded conv: forward
  - name: d
    conv2d: {out: 6, kernel: 1}
  - instancenorm2d                               # 10
  - groupnorm: 2                                 # 11
  - layernorm                                    # 12
  - name: e
    conv2d: {out: 6, kernel: 1}
  - name: shared
    batchnorm2d: null                            # 14: e feeds 15 too
  - add: null
    from: [e, shared]
  - batchnorm2d                                  # 16: after a merge
  - flatten
  - linear: 10
  - batchnorm1d                                  # 19: after linear, folds
  - relu
`
	a := analyse(t, "reasons.yaml", []byte(src))
	ds := Decide(&a.Net, a.Result)
	want := map[int]string{
		0:  "it normalises the network input: there is no layer before it; the conv after it (conv2d_1) pads with zeros, which would be normalised differently",
		3:  "it follows an activation (relu_1); the conv after it (c) pads with zeros, which would be normalised differently",
		5:  "it uses batch statistics (track_running_stats false), which cannot be frozen into weights",
		7:  "FORWARD 8",
		9:  "it is an InstanceNorm2d, whose statistics are per sample and cannot be frozen into weights",
		10: "it is a GroupNorm, whose statistics are per sample and cannot be frozen into weights",
		11: "it is a LayerNorm, whose statistics are per sample and cannot be frozen into weights",
		13: "its input, e, feeds other layers too (add_1)",
		15: "it follows a merge (add_1)",
		18: "FOLDS 17",
	}
	if len(ds) != len(want) {
		t.Fatalf("%d decisions, want %d: %+v", len(ds), len(want), ds)
	}
	for _, d := range ds {
		got := d.Reason
		switch {
		case d.Folds() && d.Forward:
			got = "FORWARD " + itoa(d.Into)
		case d.Folds():
			got = "FOLDS " + itoa(d.Into)
		}
		if got != want[d.Norm] {
			t.Errorf("node %d (%s): %q, want %q", d.Norm+1, a.Net.Nodes[d.Norm].Name, got, want[d.Norm])
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestSharedItem: a batchnorm written once in a block folds only when
// every use of the block folds it; a conv's bias: false, written once,
// turns true only when every use of it takes a batchnorm in.
func TestSharedItem(t *testing.T) {
	for _, c := range []struct {
		name, src string
		folds     int
		why       string // the reason of the first one declined
	}{
		{"every use folds", `input: [3, 8, 8]
blocks:
  unit:
    args: {t: true}
    layers:
      - conv2d: {out: 3, kernel: 3, padding: 1, bias: false}
      - batchnorm2d: {track_running_stats: $t}
layers:
  - unit
  - relu
  - unit
`, 2, ""},
		{"one use keeps batch statistics", `input: [3, 8, 8]
blocks:
  unit:
    args: {t: true}
    layers:
      - conv2d: {out: 3, kernel: 3, padding: 1, bias: false}
      - batchnorm2d: {track_running_stats: $t}
layers:
  - unit
  - relu
  - unit: {t: false}
`, 0, "it is written once for 2 uses (blocks.unit.layers[1]) and the use at blocks.unit.layers[1] (in layers[2]) (batchnorm2d_2) does not fold"},
		{"a conv's bias: false shared with a use without batchnorm", `input: [3, 8, 8]
blocks:
  c: [conv2d: {out: 3, kernel: 1, bias: false}]
layers:
  - c
  - batchnorm2d
  - relu
  - c
  - relu
`, 0, "conv2d_1, the layer it folds into, is written once for 2 uses (blocks.c.layers[0]), and the use at blocks.c.layers[0] (in layers[3]) (conv2d_2) takes no batchnorm in: its bias: false must stay"},
		{"a shared conv that has a bias already", `input: [3, 8, 8]
blocks:
  c: [conv2d: {out: 3, kernel: 1}]
layers:
  - c
  - batchnorm2d
  - relu
  - c
  - relu
`, 1, ""},
		{"bias: from a block argument", `input: [3, 8, 8]
blocks:
  c:
    args: {b: false}
    layers: [conv2d: {out: 3, kernel: 1, bias: $b}, batchnorm2d]
layers:
  - c
`, 0, "the bias: of conv2d_1, the layer it folds into, is written as $b (a block argument?), which fold cannot set to true for this use alone"},
		{"a named batchnorm nothing reads by name", `input: [3, 8, 8]
layers:
  - conv2d: {out: 3, kernel: 1}
  - batchnorm2d:
    name: bn
  - relu
`, 1, ""},
		{"a named batchnorm read by name, into a named conv", `input: [3, 8, 8]
layers:
  - conv2d: {out: 3, kernel: 1}
    name: c
  - batchnorm2d:
    name: bn
  - relu
  - add:
    from: [bn, input]
`, 1, ""},
		{"a named batchnorm read by name, into a conv without a name", `input: [3, 8, 8]
layers:
  - conv2d: {out: 3, kernel: 1}
  - batchnorm2d:
    name: bn
  - relu
  - add:
    from: [bn, input]
`, 0, "other items read it by its name (bn at line 8), and the layer it folds into has no name of the top-level list to give them"},
		{"a named batchnorm in a block", `input: [3, 8, 8]
blocks:
  u:
    layers:
      - conv2d: {out: 3, kernel: 1}
      - batchnorm2d:
        name: bn
      - add:
        from: [bn, input]
layers:
  - u
`, 0, "it is named (name: bn) inside a block or a repeat: removing it would lose the name other items refer to"},
	} {
		a := analyse(t, c.name, []byte(c.src))
		r, err := Spec(a)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		why := ""
		for _, d := range r.Decisions {
			if !d.Folds() {
				why = d.Reason
				break
			}
		}
		if r.Count() != c.folds || why != c.why {
			t.Errorf("%s: %d fold, first reason %q; want %d, %q", c.name, r.Count(), why, c.folds, c.why)
		}
	}
}

// TestFoldedText: the batchnorm items go (from block lists, flow lists,
// blocks and repeats), bias: false becomes true, an expect: moves to the
// layer before, every comment and the layout of the rest stay.
func TestFoldedText(t *testing.T) {
	src := `# a small net
input: [3, 16, 16]
blocks:
  unit:                        # conv, bn, relu
    layers:
      - conv2d: {out: 8, kernel: 3, padding: 1, bias: false}
      - batchnorm2d            # folds in every use
      - relu
layers:
  - conv2d:
      out: 8
      kernel: 3
      bias: false              # the stem
  - batchnorm2d:
      eps: 0.001
    expect: [8, 14, 14]
  # two units
  - repeat: 2
    layers: [unit]
  - residual: [conv2d: {out: 8, kernel: 1}, batchnorm2d, relu]
  - adaptiveavgpool2d: 1
  - flatten
  - linear: {out: 4, bias: false}
  - batchnorm1d
expect:
  output: [4]
  params: 1544
`
	want := `# a small net
input: [3, 16, 16]
blocks:
  unit:                        # conv, bn, relu
    layers:
      - conv2d: {out: 8, kernel: 3, padding: 1, bias: true}
      - relu
layers:
  - conv2d:
      out: 8
      kernel: 3
      bias: true              # the stem
    expect: [8, 14, 14]
  # two units
  - repeat: 2
    layers: [unit]
  - residual: [conv2d: {out: 8, kernel: 1}, relu]
  - adaptiveavgpool2d: 1
  - flatten
  - linear: {out: 4, bias: true}
expect:
  output: [4]
  params: 1500
`
	a := analyse(t, "text.yaml", []byte(src))
	r, err := Spec(a)
	if err != nil {
		t.Fatal(err)
	}
	if r.Count() != 5 {
		t.Errorf("%d fold, want 5", r.Count())
	}
	if string(r.Text) != want {
		t.Errorf("folded text:\n%s\nwant:\n%s", r.Text, want)
	}
}

// TestEverySpecFolds: every spec of testdata/zoo and testdata/specs folds
// without an internal error: the rewritten text parses and is the folded
// network node for node (Spec checks it), whatever its layout.
func TestEverySpecFolds(t *testing.T) {
	var files []string
	for _, dir := range []string{"../testdata/zoo", "../testdata/specs"} {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".yaml") {
				files = append(files, dir+"/"+e.Name())
			}
		}
	}
	if len(files) < 80 {
		t.Fatalf("only %d specs", len(files))
	}
	folded := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := spec.Parse(f, src)
		if err != nil {
			continue // the error specs of testdata/specs
		}
		a, err := s.Evaluate(0, nil)
		if err != nil {
			continue
		}
		r, err := Spec(a)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		folded += r.Count()
	}
	t.Logf("%d specs, %d normalizations folded", len(files), folded)
}

// TestFoldedTextLayouts: the removal in flow lists, nested block lists,
// CRLF files and at the end of a file without a final line break, and the
// layouts it declines.
func TestFoldedTextLayouts(t *testing.T) {
	for _, c := range []struct {
		name, src, want string
		why             string
	}{
		{"first of a flow list", "input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 1}\n  - repeat: 1\n    layers: [batchnorm2d, relu]\n",
			"input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 1}\n  - repeat: 1\n    layers: [relu]\n", ""},
		{"inside a flow list", "input: [3, 8, 8]\nlayers: [conv2d: {out: 4, kernel: 1, bias: false}, {batchnorm2d: {eps: 0.001}}, relu]\n",
			"input: [3, 8, 8]\nlayers: [conv2d: {out: 4, kernel: 1, bias: true}, relu]\n", ""},
		{"first of a nested block list", "input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 1}\n  - concat:\n      - - batchnorm2d   # bn\n        - relu\n",
			"input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 1}\n  - concat:\n      - - relu\n", ""},
		{"CRLF", "input: [3, 8, 8]\r\nlayers:\r\n  - conv2d: {out: 4, kernel: 1, bias: false}\r\n  - batchnorm2d\r\n  - relu\r\n",
			"input: [3, 8, 8]\r\nlayers:\r\n  - conv2d: {out: 4, kernel: 1, bias: true}\r\n  - relu\r\n", ""},
		{"last line, no line break", "input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 1}\n  - batchnorm2d",
			"input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 1}", ""},
		{"an expect: moved from the item that ends the file (found by FuzzFold)", "input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 1}\n  - batchnorm2d:\n    expect: [4, 8, 8]",
			"input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 1}\n    expect: [4, 8, 8]", ""},
		{"a multi-line item and the comment after it", "input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 1}\n  - batchnorm2d:\n      eps: 0.001\n      momentum: 0.2\n  # the head\n  - relu\n",
			"input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 1}\n  # the head\n  - relu\n", ""},
		{"the only item of its list", "input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 1}\n  - repeat: 1\n    layers: [batchnorm2d]\n  - relu\n",
			"", "it is the only item of its list, which cannot be left empty"},
		{"an anchor", "input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 1}\n  - &bn batchnorm2d\n  - relu\n  - conv2d: {out: 4, kernel: 1}\n  - *bn\n",
			"", "it is written with a YAML anchor or alias, which other items share"},
	} {
		a := analyse(t, c.name, []byte(c.src))
		r, err := Spec(a)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if c.why != "" {
			if r.Count() != 0 || r.Decisions[0].Reason != c.why || string(r.Text) != c.src {
				t.Errorf("%s: %d fold, %q; want none, %q, the text as it was", c.name, r.Count(), r.Decisions[0].Reason, c.why)
			}
			continue
		}
		if r.Count() != 1 || string(r.Text) != c.want {
			t.Errorf("%s: %d fold, text\n%q\nwant\n%q", c.name, r.Count(), r.Text, c.want)
		}
	}
}

// TestFoldRenamesReferences: the items that read a folded batchnorm by
// name read the conv it folded into (an imported ONNX model names every
// layer, and its residual adds read the batchnorms by name).
func TestFoldRenamesReferences(t *testing.T) {
	src := `input: [3, 8, 8]
layers:
  - conv2d: {out: 3, kernel: 1, bias: false}
    name: layer1.conv
  - batchnorm2d:
    name: layer1.bn
  - add:
    from: [layer1.bn, "input"]
    name: sum
  - upsample: {size_of: "layer1.bn", mode: nearest}
`
	r, err := Spec(analyse(t, "refs", []byte(src)))
	if err != nil {
		t.Fatal(err)
	}
	want := `input: [3, 8, 8]
layers:
  - conv2d: {out: 3, kernel: 1, bias: true}
    name: layer1.conv
  - add:
    from: [layer1.conv, "input"]
    name: sum
  - upsample: {size_of: layer1.conv, mode: nearest}
`
	if string(r.Text) != want {
		t.Errorf("folded:\n%s\nwant:\n%s", r.Text, want)
	}
}
