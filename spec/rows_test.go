package spec

import (
	"fmt"
	"os"
	"testing"
)

func analyzeFile(t *testing.T, path string) *Analysis {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(path, data)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Evaluate(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// At depth 1 the zoo's ResNet-18 is its stem's layers, the repeat of two
// basic blocks (torchvision's layer1), one row per block use of layers 2-4
// and the head; each group row sums its layers to torchvision's counts of
// that module (testdata/torch/resnet18_blocks.py).
func TestRowsResNet18(t *testing.T) {
	a := analyzeFile(t, "../testdata/zoo/resnet18.yaml")
	rows, err := a.Rows(1)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		item            string // a group's item, "" for a layer
		params, buffers int64
	}
	wants := []want{
		{"", 9408, 0}, {"", 128, 128}, {"", 0, 0}, {"", 0, 0}, // conv1, bn1, relu, maxpool
		{"repeat", 147968, 512},                             // layer1
		{"basic_down", 230144, 768}, {"basic", 295424, 512}, // layer2
		{"basic_down", 919040, 1536}, {"basic", 1180672, 1024}, // layer3
		{"basic_down", 3673088, 3072}, {"basic", 4720640, 2048}, // layer4
		{"", 0, 0}, {"", 0, 0}, {"", 513000, 0}, // avgpool, flatten, fc
	}
	if len(rows) != len(wants) {
		t.Fatalf("%d rows at depth 1, want %d: %+v", len(rows), len(wants), rows)
	}
	var params, macs int64
	for i, r := range rows {
		w := wants[i]
		item := ""
		if r.Group >= 0 {
			item = a.Spec.Groups[r.Group].Item
		}
		if item != w.item || r.Params != w.params || r.Buffers != w.buffers || r.Depth != 1 || r.Open {
			t.Errorf("row %d: %q depth %d open %v, %d params, %d buffers; want %q, %d, %d", i, item, r.Depth, r.Open, r.Params, r.Buffers, w.item, w.params, w.buffers)
		}
		params += r.Params
		macs += r.MACs
	}
	// The rows at depth 1 cover every layer once.
	if tot := a.Result.Total; params != tot.Params || macs != tot.MACs {
		t.Errorf("rows sum to %d params, %d MACs; the network has %d, %d", params, macs, tot.Params, tot.MACs)
	}
	// A group's row gives its input and output: layer1 takes and gives
	// 64x56x56; layer2's first block gives 128x28x28.
	g := a.Spec.Groups[rows[4].Group]
	if in, out := a.Result.Layers[g.In].Output, a.Result.Layers[g.Out].Output; fmt.Sprint(in) != "[1 64 56 56]" || fmt.Sprint(out) != "[1 64 56 56]" {
		t.Errorf("layer1: input %v, output %v", in, out)
	}
	if out := a.Result.Layers[rows[5].Node].Output; fmt.Sprint(out) != "[1 128 28 28]" {
		t.Errorf("layer2.0: output %v", out)
	}
}

// Deeper summaries open the groups above their depth: at depth 2 the
// repeat's two basic blocks follow it, each closed; at depth 3 their
// layers; at a depth past the deepest item every layer has its row, in
// network order, as without --depth.
func TestRowsDepth(t *testing.T) {
	a := analyzeFile(t, "../testdata/zoo/resnet18.yaml")
	rows2, _ := a.Rows(2)
	// Rows 4 (the repeat, open) 5 and 6 (its blocks, closed at depth 2).
	if r := rows2[4]; r.Group < 0 || !r.Open || a.Spec.Groups[r.Group].Item != "repeat" {
		t.Fatalf("depth 2, row 4: %+v", r)
	}
	for _, r := range rows2[5:7] {
		if r.Group < 0 || r.Open || r.Depth != 2 || r.Params != 73984 {
			t.Errorf("depth 2: a layer1 block row %+v, want a closed basic of 73,984 params", r)
		}
	}
	// Every layer once at a depth past the deepest: rows of layers in
	// order, the group rows before their layers.
	all, _ := a.Rows(64)
	next := 0
	for _, r := range all {
		if r.Group >= 0 {
			if !r.Open || r.First != next {
				t.Errorf("group row %+v out of place (next layer %d)", r, next)
			}
			continue
		}
		if r.Node != next {
			t.Fatalf("layer row %d, want %d", r.Node, next)
		}
		next++
	}
	if next != len(a.Net.Nodes) {
		t.Errorf("%d layer rows, the network has %d layers", next, len(a.Net.Nodes))
	}
	// A basic block inside the repeat is at depth 2, its convs at 3.
	if r := all[5]; r.Depth != 2 || a.Spec.Groups[r.Group].Item != "basic" || all[6].Depth != 3 {
		t.Errorf("rows 5, 6: %+v %+v", all[5], all[6])
	}
}

// A block use or repeat that makes no layer has no row, and nested
// groups close where they end.
func TestRowsEmptyAndNested(t *testing.T) {
	src := `input: [3, 8, 8]
blocks:
  none: {layers: []}
  pair:
    layers:
      - conv2d: {out: 4, kernel: 3, padding: 1}
      - repeat: 2
        layers: [relu]
layers:
  - none
  - repeat: 0
    layers: [relu]
  - pair
  - flatten
`
	s, err := Parse("n.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Evaluate(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Groups) != 2 {
		t.Fatalf("groups %+v, want pair and its repeat", s.Groups)
	}
	if p, r := s.Groups[0], s.Groups[1]; p.Item != "pair" || p.First != 0 || p.End != 3 || p.Out != 2 || p.In != -1 ||
		r.Parent != 0 || r.Count != 2 || r.First != 1 || r.End != 3 {
		t.Errorf("groups %+v", s.Groups)
	}
	rows, _ := a.Rows(2)
	var got []string
	for _, r := range rows {
		name := a.Net.Nodes[r.Node].Name
		if r.Group >= 0 {
			name = s.Groups[r.Group].Item
		}
		got = append(got, name)
	}
	if want := "[pair conv2d_1 repeat flatten_1]"; fmtSlice(got) != want {
		t.Errorf("rows at depth 2: %v, want %s", got, want)
	}
}

func fmtSlice(v []string) string {
	s := "["
	for i, x := range v {
		if i > 0 {
			s += " "
		}
		s += x
	}
	return s + "]"
}
