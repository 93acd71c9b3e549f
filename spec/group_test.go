package spec

import (
	"os"
	"testing"
)

// Each block use and each repeat iteration is a group of its own, nested
// as written; top-level layers have none.
func TestGroups(t *testing.T) {
	data, err := os.ReadFile("../testdata/zoo/resnet18.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse("resnet18.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	info := s.Info
	if info[0].Instance != nil || info[len(info)-1].Instance != nil {
		t.Errorf("the stem and the head are in groups %v, %v", info[0].Instance, info[len(info)-1].Instance)
	}
	// Nodes 4..10 and 11..17 are the two iterations of repeat: 2 of basic.
	a, b := info[4].Instance, info[11].Instance
	if a == nil || b == nil || a == b {
		t.Fatalf("the two repeated basic blocks share a group or have none: %p %p", a, b)
	}
	for _, g := range []*Instance{a, b} {
		if g.Block != "basic" || g.Depth != 2 || g.Parent == nil || g.Parent.Block != "" || g.Parent.Path != "layers[4]" {
			t.Errorf("group %+v, want block basic at depth 2 in the repeat at layers[4]", g)
		}
	}
	if a.Parent.Iter != 0 || b.Parent.Iter != 1 || a.Parent == b.Parent {
		t.Errorf("repeat iterations %d and %d, want 0 and 1 apart", a.Parent.Iter, b.Parent.Iter)
	}
	for i := 4; i <= 10; i++ {
		if info[i].Instance != a {
			t.Errorf("node %d (%s) is not in the first basic block", i, s.Net.Nodes[i].Name)
		}
	}
	if g := info[18].Instance; g == nil || g.Block != "basic_down" || g.Depth != 1 || g.Path != "layers[5]" {
		t.Errorf("node 18's group %+v, want basic_down at layers[5], depth 1", g)
	}
	if a.At(1) != a.Parent || a.At(5) != a {
		t.Error("At does not walk to the enclosing depth")
	}
}
