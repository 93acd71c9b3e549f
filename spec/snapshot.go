package spec

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/cnncalc/cnncalc/calc"
	"go.yaml.in/yaml/v3"
)

// edit replaces src[start:end] with text.
type edit struct {
	start, end int
	text       string
}

// Snapshot returns the spec's source with every failing expect: brought up
// to date, an expect: added to each top-level item that has none, and the
// top-level expect: totals (output, params, buffers, macs) filled in or
// updated, for the analysis (the network in effect). Passing
// expectations, wildcards included, and everything else in the file (comments,
// key order, layout) are left as they are: the file is patched as text, not
// re-encoded. It fails rather than return a text that would not parse or
// whose expectations would not hold.
func (a *Analysis) Snapshot() ([]byte, error) {
	s, res, input := a.Spec, a.Result, a.Net.Input
	src := s.Source
	lines := lineStarts(src)
	off := func(line, col int) int { return offset(src, lines, line, col) }
	var edits []edit
	shapeOf := func(node int) calc.Shape {
		if node == calc.Input {
			return input[1:]
		}
		return res.Layers[node].Output[1:]
	}
	for _, r := range s.items() {
		want := mergeShapes(r.outs, shapeOf)
		if want == nil {
			continue
		}
		text := FormatExpect(want)
		n := r.node
		switch {
		case n.Kind == yaml.MappingNode:
			if k, v := lookup(n, "expect"); v != nil {
				if cur, ok := expectValue(v); ok && matchesAll(cur, r.outs, shapeOf) {
					continue
				}
				if e, ok := valueSpan(src, lines, v); ok {
					e.text = text
					edits = append(edits, e)
				} else {
					return nil, fmt.Errorf("%s:%d:%d: cannot rewrite this expect: (write it as [C, H, W] on one line)", s.File, k.Line, k.Column)
				}
				continue
			}
			if !r.top || r.seq.Style&yaml.FlowStyle != 0 || n.Style&yaml.FlowStyle != 0 {
				continue
			}
			end := lineEnd(src, lines, maxLine(n))
			edits = append(edits, edit{end, end, "\n" + strings.Repeat(" ", n.Column-1) + "expect: " + text})
		case n.Kind == yaml.ScalarNode && n.Style == 0 && r.top && r.seq.Style&yaml.FlowStyle == 0:
			at := off(n.Line, n.Column) + len(n.Value)
			if !bytes.HasPrefix(src[at-len(n.Value):], []byte(n.Value)) {
				continue
			}
			end := lineEnd(src, lines, n.Line)
			edits = append(edits, edit{at, at, ":"}, edit{end, end, "\n" + strings.Repeat(" ", n.Column-1) + "expect: " + text})
		}
	}
	totals, err := s.totalEdits(res, input, lines)
	if err != nil {
		return nil, err
	}
	edits = append(edits, totals...)
	out := apply(src, edits)
	// Never hand back a file that would not parse or whose expectations fail.
	check, err := Parse(s.File, out)
	if err != nil {
		return nil, fmt.Errorf("the updated spec would not parse: %w", err)
	}
	a2, err := check.Evaluate(input[0], input[1:])
	if err != nil {
		return nil, fmt.Errorf("the updated spec would not analyse: %w", err)
	}
	for _, o := range a2.Check() {
		if !o.Pass {
			return nil, errors.New("the updated spec still fails: " + o.String())
		}
	}
	return out, nil
}

// totalEdits fills in or updates the top-level expect:.
func (s *Spec) totalEdits(res *calc.Result, input calc.Shape, lines []int) ([]edit, error) {
	src := s.Source
	t := res.Total
	want := []struct{ key, text string }{
		{"output", FormatExpect(t.Output[1:])},
		{"params", fmt.Sprint(t.Params)},
		{"buffers", fmt.Sprint(t.Buffers)},
		{"macs", fmt.Sprint(t.MACs)},
	}
	holds := map[string]bool{
		"output":  s.Totals.Output != nil && matches(*s.Totals.Output, t.Output[1:]),
		"params":  s.Totals.Params != nil && *s.Totals.Params == t.Params,
		"buffers": s.Totals.Buffers != nil && *s.Totals.Buffers == t.Buffers,
		"macs":    s.Totals.MACs != nil && *s.Totals.MACs == t.MACs,
	}
	k, m := lookup(s.root, "expect")
	if m == nil {
		var b strings.Builder
		if len(src) > 0 && src[len(src)-1] != '\n' {
			b.WriteByte('\n')
		}
		b.WriteString("expect:\n")
		for _, w := range want {
			fmt.Fprintf(&b, "  %s: %s\n", w.key, w.text)
		}
		return []edit{{len(src), len(src), b.String()}}, nil
	}
	if m.Kind != yaml.MappingNode || m.Style&yaml.FlowStyle != 0 || len(m.Content) == 0 {
		return nil, fmt.Errorf("%s:%d:%d: cannot update the top-level expect: (write it as a block mapping)", s.File, k.Line, k.Column)
	}
	var edits []edit
	indent := strings.Repeat(" ", m.Content[0].Column-1)
	end := lineEnd(src, lines, maxLine(m))
	for _, w := range want {
		if holds[w.key] {
			continue
		}
		if kk, v := lookup(m, w.key); v != nil {
			e, ok := valueSpan(src, lines, v)
			if !ok {
				return nil, fmt.Errorf("%s:%d:%d: cannot rewrite expect.%s", s.File, kk.Line, kk.Column, w.key)
			}
			e.text = w.text
			edits = append(edits, e)
			continue
		}
		edits = append(edits, edit{end, end, "\n" + indent + w.key + ": " + w.text})
	}
	return edits, nil
}

// mergeShapes is the expectation that holds for every instance: sizes that
// differ between instances become ~. It is nil when ranks differ.
func mergeShapes(outs []int, shapeOf func(int) calc.Shape) []int64 {
	var m []int64
	for i, o := range outs {
		s := shapeOf(o)
		if i == 0 {
			m = append([]int64(nil), s...)
			continue
		}
		if len(s) != len(m) {
			return nil
		}
		for a := range m {
			if m[a] != s[a] {
				m[a] = -1
			}
		}
	}
	return m
}

func matchesAll(want []int64, outs []int, shapeOf func(int) calc.Shape) bool {
	for _, o := range outs {
		if !matches(want, shapeOf(o)) {
			return false
		}
	}
	return true
}

// expectValue reads a written expectation; ok is false for anything that
// is not a plain list of sizes and ~ (a $arg, say).
func expectValue(v *yaml.Node) ([]int64, bool) {
	if v.Kind != yaml.SequenceNode {
		return nil, false
	}
	var out []int64
	for _, e := range v.Content {
		if e.Kind != yaml.ScalarNode {
			return nil, false
		}
		if e.Tag == "!!null" {
			out = append(out, -1)
			continue
		}
		var n int64
		if e.Tag != "!!int" || e.Decode(&n) != nil {
			return nil, false
		}
		out = append(out, n)
	}
	return out, true
}

// lookup finds key in a mapping node.
func lookup(m *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// valueSpan finds the text of a scalar, a one-line flow list or a block
// list of scalars.
func valueSpan(src []byte, lines []int, v *yaml.Node) (edit, bool) {
	start := offset(src, lines, v.Line, v.Column)
	switch {
	case v.Kind == yaml.ScalarNode && v.Style == 0:
		end := start + len(v.Value)
		if v.Tag == "!!null" && !bytes.HasPrefix(src[start:], []byte("~")) {
			end = start // an empty value
		}
		return edit{start: start, end: end}, end <= len(src)
	case v.Kind == yaml.SequenceNode && v.Style&yaml.FlowStyle != 0:
		i := bytes.IndexByte(src[start:], ']')
		nl := bytes.IndexByte(src[start:], '\n')
		if i < 0 || (nl >= 0 && nl < i) {
			return edit{}, false
		}
		return edit{start: start, end: start + i + 1}, true
	case v.Kind == yaml.SequenceNode && len(v.Content) > 0:
		last := v.Content[len(v.Content)-1]
		if last.Kind != yaml.ScalarNode {
			return edit{}, false
		}
		return edit{start: start, end: offset(src, lines, last.Line, last.Column) + len(last.Value)}, true
	}
	return edit{}, false
}

// maxLine is the last line any part of n stands on.
func maxLine(n *yaml.Node) int {
	m := n.Line
	for _, c := range n.Content {
		m = max(m, maxLine(c))
	}
	return m
}

func lineStarts(src []byte) []int {
	starts := []int{0}
	for i, b := range src {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// offset turns a 1-based line and column (in characters) into a byte offset.
func offset(src []byte, lines []int, line, col int) int {
	if line < 1 || line > len(lines) {
		return len(src)
	}
	o := lines[line-1]
	for c := 1; c < col && o < len(src) && src[o] != '\n'; c++ {
		_, size := utf8.DecodeRune(src[o:])
		o += size
	}
	return o
}

// lineEnd is the offset of a line's newline (or of the end of the file),
// where a new line can be inserted after it.
func lineEnd(src []byte, lines []int, line int) int {
	if line >= len(lines) {
		return len(bytes.TrimRight(src, "\n"))
	}
	return lines[line] - 1
}

// apply makes the edits, last first so that offsets stay valid; inserts at
// one offset keep their order.
func apply(src []byte, edits []edit) []byte {
	for i, j := 0, len(edits)-1; i < j; i, j = i+1, j-1 {
		edits[i], edits[j] = edits[j], edits[i]
	}
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].start > edits[j].start })
	out := append([]byte(nil), src...)
	for _, e := range edits {
		out = append(out[:e.start], append([]byte(e.text), out[e.end:]...)...)
	}
	return out
}
