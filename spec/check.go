package spec

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cnncalc/cnncalc/calc"
	"go.yaml.in/yaml/v3"
)

// itemInstance is one expansion of an item of the file: the item as
// written, the list holding it and the node of its output.
type itemInstance struct {
	node *yaml.Node
	seq  *yaml.Node
	path string // layers[3].residual[1], for messages
	top  bool   // an item of the top-level layers:
	// alias is set when the item was reached through an alias (*name): its
	// text stands elsewhere, under the anchor.
	alias bool
	out   int // calc.Input for the network input
}

func (p *parser) recordItem(it, seq *yaml.Node, path string, out int, top bool) {
	if out == failed {
		return
	}
	alias := false
	for it != nil && it.Kind == yaml.AliasNode {
		it, alias = it.Alias, true
	}
	if it == nil {
		return
	}
	p.spec.instances = append(p.spec.instances, itemInstance{node: it, seq: seq, path: path, top: top, alias: alias, out: out})
}

// itemRef ties an item of the file to the outputs of all its instances
// (aliases of it included). seq, path and top are those of the item as
// written; seq is nil for an item reached only through aliases.
type itemRef struct {
	node *yaml.Node
	seq  *yaml.Node
	path string
	top  bool
	outs []int
}

// items groups the instances by item, in the order items first appear.
func (s *Spec) items() []*itemRef {
	refs := map[*yaml.Node]*itemRef{}
	var out []*itemRef
	for _, in := range s.instances {
		r := refs[in.node]
		if r == nil {
			r = &itemRef{node: in.node}
			refs[in.node] = r
			out = append(out, r)
		}
		if r.seq == nil && !in.alias {
			r.seq, r.path, r.top = in.seq, in.path, in.top
		}
		r.outs = append(r.outs, in.out)
	}
	return out
}

// Outcome is the verdict on one expectation.
type Outcome struct {
	File string `json:"file"`
	Pos
	Path string `json:"path"`
	Item string `json:"item"`
	// What names the expectation: "output shape", "params", ...
	What     string `json:"what"`
	Expected string `json:"expected"`
	Actual   string `json:"actual"`
	Pass     bool   `json:"pass"`
	// Skipped marks a check that could not be made (a receptive field
	// the probe could not measure): Actual says why; it neither passes
	// nor fails.
	Skipped bool `json:"skipped,omitempty"`
}

func (o *Outcome) String() string {
	where := o.Path
	if o.Item != "" {
		where += " (" + o.Item + ")"
	}
	if o.Pass || o.Skipped {
		return fmt.Sprintf("%s:%d:%d: %s: %s %s", o.File, o.Line, o.Col, where, o.What, o.Actual)
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s: expected %s, got %s", o.File, o.Line, o.Col, where, o.What, o.Expected, o.Actual)
}

// Check evaluates every expectation of the spec against its analysis (for
// the network in effect): each item's expect: and the top-level output,
// params, buffers and macs.
func (a *Analysis) Check() []Outcome {
	s, res, input := a.Spec, a.Result, a.Net.Input
	var out []Outcome
	shapeOf := func(node int) calc.Shape {
		if node == calc.Input {
			return input
		}
		return res.Layers[node].Output
	}
	for _, e := range s.Expects {
		got := shapeOf(e.Node)
		item := e.Item
		if item == "" && e.Node >= 0 {
			item = s.Net.Nodes[e.Node].Type.String()
		}
		o := Outcome{File: s.File, Pos: e.Pos, Path: e.Path, Item: item, What: "output shape",
			Expected: FormatExpect(e.Shape), Actual: FormatExpect(got[1:])}
		o.Pass = matches(e.Shape, got[1:])
		out = append(out, o)
	}
	t := s.Totals
	total := res.Total
	if t.Output != nil {
		o := Outcome{File: s.File, Pos: t.Pos["output"], Path: "expect.output", What: "network output shape",
			Expected: FormatExpect(*t.Output), Actual: FormatExpect(total.Output[1:])}
		o.Pass = matches(*t.Output, total.Output[1:])
		out = append(out, o)
	}
	for _, c := range []struct {
		key  string
		want *int64
		got  int64
	}{{"params", t.Params, total.Params}, {"buffers", t.Buffers, total.Buffers}, {"macs", t.MACs, total.MACs}} {
		if c.want == nil {
			continue
		}
		what := c.key
		if c.key == "macs" {
			what = fmt.Sprintf("macs (batch %d)", input[0])
		}
		out = append(out, Outcome{File: s.File, Pos: t.Pos[c.key], Path: "expect." + c.key, What: what,
			Expected: calc.Group(*c.want), Actual: calc.Group(c.got), Pass: *c.want == c.got})
	}
	return out
}

// matches compares a shape with an expectation, -1 (~) matching any size.
func matches(want []int64, got calc.Shape) bool {
	if len(want) != len(got) {
		return false
	}
	for i, w := range want {
		if w != -1 && w != got[i] {
			return false
		}
	}
	return true
}

// FormatExpect prints an expected or actual shape as YAML writes it:
// [6, 28, 28], with ~ for a wildcard.
func FormatExpect(v []int64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = sizeText(x)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// sizeText is one size of an expectation, ~ for the wildcard.
func sizeText(x int64) string {
	if x == -1 {
		return "~"
	}
	return strconv.FormatInt(x, 10)
}
