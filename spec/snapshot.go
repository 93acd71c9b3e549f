package spec

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/cnncalc/cnncalc/calc"
	"go.yaml.in/yaml/v3"
)

// edit replaces src[start:end] with text. at is the item or key it is for,
// to name it if the patched text turns out wrong.
type edit struct {
	start, end int
	text       string
	at         *Diagnostic
}

// Snapshot returns the spec's source with every failing expect: brought up
// to date, an expect: added to each top-level item that has none, and the
// top-level expect: totals (output, params, buffers, macs) filled in or
// updated, for the analysis (the network in effect). Passing
// expectations, wildcards included, and everything else in the file (comments,
// key order, layout, line endings) are left as they are: the file is patched
// as text, not re-encoded.
//
// It fails, with an ErrorList positioned in the spec's own text, rather
// than return a text that would not parse, would be larger than
// MaxFileSize, would mean another network or whose expectations would not
// hold: an expect: that would have to go into a flow collection ({...} or
// [...]), a failing expect: written as an alias or a block argument, a
// layout the patch breaks.
func (a *Analysis) Snapshot() ([]byte, error) {
	out, _, err := a.SnapshotChecked()
	return out, err
}

// SnapshotChecked is Snapshot, also returning the analysis of the patched
// text (the one Snapshot verified), so that a caller need not parse it
// again. With nothing to change it returns the source and a itself.
func (a *Analysis) SnapshotChecked() ([]byte, *Analysis, error) {
	p := newPatcher(a)
	edits, errs := p.edits()
	if len(errs) > 0 {
		return nil, nil, errs.Err()
	}
	if len(edits) == 0 {
		return p.src, a, nil
	}
	out := apply(p.src, edits)
	s := a.Spec
	if out == nil {
		return nil, nil, ErrorList{{File: s.File, Msg: "internal error: --write made overlapping edits; the file is left as it is (please report this spec)"}}
	}
	if len(out) > MaxFileSize {
		return nil, nil, ErrorList{{File: s.File, Msg: fmt.Sprintf("the updated spec would be %s bytes (the file is %s), above the limit of %s bytes that cnncalc reads; the file is left as it is",
			calc.Group(int64(len(out))), calc.Group(int64(len(p.src))), calc.Group(MaxFileSize))}}
	}
	// Never hand back a file that would not parse, would mean another
	// network, whose expectations fail or that a second snapshot would
	// change; name the edit that broke it, positioned in the user's text.
	a2, what, first := p.verify(out)
	if what == "" {
		return out, a2, nil
	}
	var at *Diagnostic
	if first.Path != "" {
		for _, e := range edits {
			if e.at.Path == first.Path {
				at = e.at
				break
			}
		}
	}
	if at == nil {
		at = edits[p.culprit(edits)].at
	}
	msg := strings.TrimPrefix(first.Msg, "YAML: ")
	if first.Path != "" {
		msg = first.Path + ": " + msg
	}
	d := *at
	d.Msg = fmt.Sprintf("--write cannot patch this layout: with the expect: written here the spec %s (%s); write this part in block style (one key per line) or update the expect: by hand", what, msg)
	return nil, nil, ErrorList{&d}
}

// verify checks a patched text: it must parse, mean the same network, pass
// its expectations, and need no further edit. It returns the analysis, or
// what is wrong and the first problem (positioned in the patched text).
func (p *patcher) verify(out []byte) (a2 *Analysis, what string, first *Diagnostic) {
	s, input := p.s, p.a.Net.Input
	firstOf := func(err error) *Diagnostic {
		if l, ok := err.(ErrorList); ok && len(l) > 0 {
			return l[0]
		}
		return &Diagnostic{File: s.File, Msg: err.Error()}
	}
	check, err := Parse(s.File, out)
	if err != nil {
		return nil, "would not parse", firstOf(err)
	}
	a2, err = check.Evaluate(input[0], input[1:])
	if err != nil {
		return nil, "would not analyse", firstOf(err)
	}
	if msg := sameNetwork(p.a, a2); msg != "" {
		return nil, "would mean another network", &Diagnostic{File: s.File, Msg: msg}
	}
	for _, o := range a2.Check() {
		if !o.Pass {
			return nil, "would still fail", &Diagnostic{File: s.File, Pos: o.Pos, Path: o.Path, Item: o.Item, Msg: o.What + ": expected " + o.Expected + ", got " + o.Actual}
		}
	}
	if more, errs := newPatcher(a2).edits(); len(errs) > 0 {
		return nil, "would not hold the expect:", errs[0]
	} else if len(more) > 0 {
		return nil, "would not hold the expect:", &Diagnostic{File: s.File, Path: more[0].at.Path, Msg: "a second --write would change it again"}
	}
	return a2, "", nil
}

// culprit is the first edit, in the text's order, with which the text no
// longer parses as the same network: a binary search over the edits
// applied in order (a few parses, and only when a patch went wrong).
func (p *patcher) culprit(edits []edit) int {
	order := make([]int, len(edits))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return edits[i].start - edits[j].start })
	bad := func(k int) bool { // the first k edits break the text
		sub := make([]edit, k)
		for i := range k {
			sub[i] = edits[order[i]]
		}
		check, err := Parse(p.s.File, apply(p.src, sub))
		if err != nil {
			return true
		}
		a2, err := check.Evaluate(p.a.Net.Input[0], p.a.Net.Input[1:])
		return err != nil || sameNetwork(p.a, a2) != ""
	}
	k := sort.Search(len(edits), func(k int) bool { return bad(k + 1) })
	if k == len(edits) {
		return order[0]
	}
	return order[k]
}

// patcher computes the edits of a snapshot.
type patcher struct {
	a     *Analysis
	s     *Spec
	src   []byte
	lines []int  // offsets of line starts
	eol   string // the file's line ending: "\n", or "\r\n"
	errs  ErrorList
	// keepMissing: update the top-level expect: totals that are written,
	// add none (fold).
	keepMissing bool
	// index holds the position of each item of a list (fold).
	index map[*yaml.Node]map[*yaml.Node]int
	// renames holds, for a named batchnorm that fold removes, the
	// references to its name, which then name the layer it folds into.
	renames map[*yaml.Node][]*yaml.Node
}

func newPatcher(a *Analysis) *patcher {
	src := a.Spec.Source
	p := &patcher{a: a, s: a.Spec, src: src, lines: lineStarts(src), eol: "\n"}
	if i := bytes.IndexByte(src, '\n'); i > 0 && src[i-1] == '\r' {
		p.eol = "\r\n"
	}
	return p
}

// shapeOf is a node's output shape, batch excluded.
func (p *patcher) shapeOf(node int) calc.Shape {
	if node == calc.Input {
		return p.a.Net.Input[1:]
	}
	return p.a.Result.Layers[node].Output[1:]
}

// refuse records why the file cannot be patched, at n.
func (p *patcher) refuse(n *yaml.Node, path, item, format string, args ...any) {
	d := &Diagnostic{File: p.s.File, Path: path, Item: item, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		d.Pos = Pos{n.Line, n.Column}
	}
	if len(p.errs) < maxErrors {
		p.errs = append(p.errs, d)
	}
}

func (p *patcher) edits() ([]edit, ErrorList) {
	s := p.s
	var edits []edit
	// The expectations of each item as written, over all its instances.
	expects := map[*yaml.Node][]Expect{}
	for _, e := range s.Expects {
		expects[e.item] = append(expects[e.item], e)
	}
	rewritten := map[*yaml.Node]bool{}
	for _, r := range s.items() {
		n := r.node
		item := itemName(n)
		if k, v := lookup(n, "expect"); v != nil {
			es := expects[n]
			holds := true
			nodes := make([]int, len(es))
			for i, e := range es {
				holds = holds && matches(e.Shape, p.shapeOf(e.Node))
				nodes[i] = e.Node
			}
			if holds {
				continue
			}
			rewritten[n] = true
			want := mergeShapes(nodes, p.shapeOf)
			got := FormatExpect(p.shapeOf(es[0].Node))
			_, literal := expectValue(v)
			at := &Diagnostic{File: s.File, Pos: Pos{v.Line, v.Column}, Path: es[0].Path, Item: item}
			var vedits []edit
			ok := false
			if want != nil && literal {
				vedits, ok = p.valueEdits(k, v, want, at)
			}
			switch {
			case want == nil:
				p.refuse(v, es[0].Path, item, "this expect: fails (got %s) and its instances' outputs differ in rank: no one expectation holds for all; --write cannot rewrite it", got)
			case !literal:
				p.refuse(v, es[0].Path, item, "this expect: fails (got %s) and is not written as a list of sizes (an alias or a block argument); --write cannot rewrite it: fix it by hand", got)
			case v.Anchor != "":
				p.refuse(v, es[0].Path, item, "this expect: fails (got %s) and carries the anchor &%s, which its aliases share; --write cannot rewrite it: fix it by hand", got, v.Anchor)
			case !ok:
				p.refuse(k, es[0].Path, item, "this expect: fails (got %s) and --write cannot rewrite it as written (write it as [C, H, W])", got)
			default:
				edits = append(edits, vedits...)
			}
			continue
		}
		if !r.top {
			continue
		}
		want := mergeShapes(r.outs, p.shapeOf)
		if want == nil {
			continue
		}
		text := "expect: " + FormatExpect(want)
		at := &Diagnostic{File: s.File, Pos: Pos{n.Line, n.Column}, Path: r.path, Item: item}
		const flow = "--write would add expect: %s to this item, but it is written in flow style (%s), where it cannot add a line; write layers: as a block list (one \"- item\" per line, keys on their own lines) or add the expect: by hand"
		switch {
		case r.seq.Style&yaml.FlowStyle != 0:
			p.refuse(n, r.path, item, flow, FormatExpect(want), "inside [...]")
		case n.Kind == yaml.MappingNode && n.Style&yaml.FlowStyle != 0:
			p.refuse(n, r.path, item, flow, FormatExpect(want), "{...}")
		case n.Kind == yaml.MappingNode && len(n.Content) > 0:
			end := p.after(n, n.Content[0].Column)
			edits = append(edits, edit{end, end, p.eol + strings.Repeat(" ", n.Content[0].Column-1) + text, at})
		case n.Kind == yaml.ScalarNode && p.keyEnd(n) >= 0:
			colon := p.keyEnd(n)
			end := p.after(n, n.Column)
			edits = append(edits, edit{colon, colon, ":", at}, edit{end, end, p.eol + strings.Repeat(" ", n.Column-1) + text, at})
		default:
			p.refuse(n, r.path, item, "--write would add expect: %s to this item, but cannot turn it into a mapping as written (tagged or anchored); write it as a plain name (- relu) or add the expect: by hand", FormatExpect(want))
		}
	}
	// A failing expectation no edit rewrites (one from a block argument,
	// say) would still fail: say so rather than write the file.
	for _, e := range s.Expects {
		if !rewritten[e.item] && !matches(e.Shape, p.shapeOf(e.Node)) {
			rewritten[e.item] = true
			p.refuse(&yaml.Node{Line: e.Pos.Line, Column: e.Pos.Col}, e.Path, e.Item, "this expectation fails (expected %s, got %s) and --write cannot rewrite it where it is written: fix it by hand",
				FormatExpect(e.Shape), FormatExpect(p.shapeOf(e.Node)))
		}
	}
	edits = append(edits, p.totalEdits()...)
	return edits, p.errs
}

// keyEnd is where a ':' turns the scalar item n into a key (relu becomes
// relu:), or -1 when it cannot: a tag or an anchor (which would then name
// the key), a quoted scalar over several lines.
func (p *patcher) keyEnd(n *yaml.Node) int {
	start := p.off(n.Line, n.Column)
	switch {
	case n.Anchor != "" || n.Style&yaml.TaggedStyle != 0:
		return -1
	case n.Style == 0 && bytes.HasPrefix(p.src[start:], []byte(n.Value)):
		return start + len(n.Value)
	}
	if end, ok := p.quotedEnd(n); ok && bytes.IndexByte(p.src[start:end], '\n') < 0 {
		return end
	}
	return -1
}

// itemName names an item for messages: its name:, else its layer type.
func itemName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value
	case yaml.MappingNode:
		if _, v := lookup(n, "name"); v != nil && v.Kind == yaml.ScalarNode {
			return v.Value
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i].Value; k != "from" && k != "expect" {
				return k
			}
		}
	}
	return ""
}

// totalEdits fills in or updates the top-level expect:.
func (p *patcher) totalEdits() []edit {
	s, src := p.s, p.src
	t := p.a.Result.Total
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
	root := s.root
	k, m := lookup(root, "expect")
	if m == nil && p.keepMissing {
		return nil
	}
	if m == nil {
		at := &Diagnostic{File: s.File, Pos: Pos{root.Line, root.Column}, Path: "expect"}
		if root.Style&yaml.FlowStyle != 0 {
			p.refuse(root, "", "", "--write would add the top-level expect: (output, params, buffers, macs), but the spec is a flow mapping ({...}), where it cannot add lines; write the spec as a block mapping (one key per line) or add the expect: by hand")
			return nil
		}
		indent := strings.Repeat(" ", root.Content[0].Column-1)
		var b strings.Builder
		end := p.after(root, root.Content[0].Column)
		if !onlyComments(src[end:]) {
			// Something (a document end marker) follows the mapping: add
			// the expect: right after the mapping's last line.
			b.WriteString(p.eol)
		} else {
			// At the end of the file, after any trailing comments.
			end = len(src)
			if end > 0 && src[end-1] != '\n' {
				b.WriteString(p.eol)
			}
		}
		b.WriteString(indent + "expect:")
		for _, w := range want {
			b.WriteString(p.eol + indent + "  " + w.key + ": " + w.text)
		}
		if end == len(src) {
			b.WriteString(p.eol)
		}
		return []edit{{end, end, b.String(), at}}
	}
	var edits []edit
	var missing []string
	for _, w := range want {
		if holds[w.key] {
			continue
		}
		kk, v := lookup(m, w.key)
		if v == nil {
			missing = append(missing, w.key)
			continue
		}
		at := &Diagnostic{File: s.File, Pos: Pos{v.Line, v.Column}, Path: "expect." + w.key}
		var vedits []edit
		ok := false
		if w.key == "output" {
			_, literal := expectValue(v)
			if literal {
				vedits, ok = p.valueEdits(kk, v, t.Output[1:], at)
			}
		} else if v.Kind == yaml.ScalarNode {
			vedits, ok = p.scalarEdit(v, w.text, at)
		}
		if !ok || v.Anchor != "" {
			p.refuse(kk, "expect."+w.key, "", "expect.%s fails (got %s) and --write cannot rewrite it as written (write it as a number or as [C, H, W])", w.key, w.text)
			continue
		}
		edits = append(edits, vedits...)
	}
	if len(missing) == 0 || p.keepMissing {
		return edits
	}
	if m.Kind != yaml.MappingNode || m.Style&yaml.FlowStyle != 0 || len(m.Content) == 0 {
		p.refuse(k, "expect", "", "--write would add %s to the top-level expect:, but it is not a block mapping (one key per line); write it as one or add them by hand", strings.Join(missing, ", "))
		return nil
	}
	indent := strings.Repeat(" ", m.Content[0].Column-1)
	end := p.after(m, m.Content[0].Column)
	for _, key := range missing {
		for _, w := range want {
			if w.key == key {
				at := &Diagnostic{File: s.File, Pos: Pos{k.Line, k.Column}, Path: "expect." + key}
				edits = append(edits, edit{end, end, p.eol + indent + w.key + ": " + w.text, at})
			}
		}
	}
	return edits
}

// after is the offset where a line can be inserted after the node n whose
// keys (or text) start at column col: the end of the last line holding
// any of it. That is n's last node's line, extended over the lines after it
// indented deeper than col or closing a flow collection (the rest of a
// multi-line scalar or flow collection), blank and comment lines skipped,
// so that the new line never splits a value.
func (p *patcher) after(n *yaml.Node, col int) int {
	last := p.lastLine(n)
	for l := last + 1; l <= len(p.lines); l++ {
		text := p.line(l)
		rest := bytes.TrimLeft(text, " \t")
		switch {
		case len(bytes.TrimSpace(rest)) == 0 || rest[0] == '#':
			continue // a blank or comment line: look further
		case len(text)-len(rest) >= col, rest[0] == '}' || rest[0] == ']' || rest[0] == ',':
			last = l // deeper than n's keys, or closing a flow collection: still n
			continue
		}
		break
	}
	return p.lineEnd(last)
}

// line is the text of a line (1-based), without its line ending.
func (p *patcher) line(l int) []byte {
	start := p.lines[l-1]
	end := len(p.src)
	if l < len(p.lines) {
		end = p.lines[l] - 1
	}
	return bytes.TrimSuffix(p.src[start:end], []byte("\r"))
}

// lineEnd is the offset of a line's line ending (or of the end of the
// file), where a new line can be inserted after it.
func (p *patcher) lineEnd(line int) int {
	if line >= len(p.lines) {
		return len(bytes.TrimRight(p.src, "\r\n"))
	}
	end := p.lines[line] - 1
	if end > 0 && p.src[end-1] == '\r' {
		end--
	}
	return end
}

func (p *patcher) off(line, col int) int { return offset(p.src, p.lines, line, col) }

// onlyComments reports whether text holds nothing but blank and comment
// lines.
func onlyComments(text []byte) bool {
	for len(text) > 0 {
		line := text
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) > 0 && line[0] != '#' {
			return false
		}
	}
	return true
}

// sameNetwork says how two analyses differ in the network they describe
// (node types, inputs, output shapes, params, MACs), or "" when they agree.
func sameNetwork(a, b *Analysis) string {
	x, y := a.Net.Nodes, b.Net.Nodes
	if len(x) != len(y) {
		return fmt.Sprintf("%d layers instead of %d", len(y), len(x))
	}
	if !slices.Equal(a.Net.Input, b.Net.Input) {
		return fmt.Sprintf("input %v instead of %v", b.Net.Input, a.Net.Input)
	}
	for i := range x {
		la, lb := a.Result.Layers[i], b.Result.Layers[i]
		switch {
		case x[i].Type != y[i].Type || !slices.Equal(x[i].From, y[i].From):
			return fmt.Sprintf("layer %d is %s instead of %s", i+1, y[i].Type, x[i].Type)
		case x[i].Name != y[i].Name:
			return fmt.Sprintf("layer %d is named %q instead of %q", i+1, y[i].Name, x[i].Name)
		case !slices.Equal(la.Output, lb.Output) || la.Params != lb.Params || la.Buffers != lb.Buffers || la.MACs != lb.MACs:
			return fmt.Sprintf("layer %d (%s) computes another output, params or MACs", i+1, x[i].Name)
		}
	}
	return ""
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

// scalarEdit replaces a plain scalar's text.
func (p *patcher) scalarEdit(v *yaml.Node, text string, at *Diagnostic) ([]edit, bool) {
	start := p.off(v.Line, v.Column)
	if v.Style != 0 || v.Value == "" || !bytes.HasPrefix(p.src[start:], []byte(v.Value)) {
		return nil, false
	}
	return []edit{{start, start + len(v.Value), text, at}}, true
}

// valueEdits rewrites the expectation v (of key k), a list of sizes, as
// want: a flow list (on one line or more) as a whole; a block list of as
// many sizes element by element, keeping its layout; one of another length
// as a flow list after the key.
func (p *patcher) valueEdits(k, v *yaml.Node, want []int64, at *Diagnostic) ([]edit, bool) {
	src, text := p.src, FormatExpect(want)
	start := p.off(v.Line, v.Column)
	switch {
	case v.Kind != yaml.SequenceNode:
		return nil, false
	case v.Style&yaml.FlowStyle != 0:
		if start >= len(src) || src[start] != '[' {
			return nil, false
		}
		i := bytes.IndexByte(src[start:], ']')
		if i < 0 || bytes.IndexByte(src[start:start+i], '#') >= 0 {
			return nil, false
		}
		return []edit{{start, start + i + 1, text, at}}, true
	case len(v.Content) == 0:
		return nil, false
	}
	var edits []edit
	for i, e := range v.Content {
		es, ok := p.scalarEdit(e, "", at)
		if !ok {
			return nil, false
		}
		if len(v.Content) == len(want) {
			es[0].text = sizeText(want[i])
			edits = append(edits, es[0])
		}
	}
	if len(edits) > 0 {
		return edits, true
	}
	// Another length: the list becomes a flow list after the key's colon.
	ks := p.off(k.Line, k.Column)
	if k.Style != 0 || !bytes.HasPrefix(src[ks:], []byte(k.Value)) {
		return nil, false
	}
	colon := ks + len(k.Value) + len(src[ks+len(k.Value):]) - len(bytes.TrimLeft(src[ks+len(k.Value):], " \t"))
	if colon >= len(src) || src[colon] != ':' {
		return nil, false
	}
	last := v.Content[len(v.Content)-1]
	end := p.off(last.Line, last.Column) + len(last.Value)
	return []edit{{colon + 1, end, " " + text, at}}, true
}

// lastLine is the last line any part of n stands on: its last node's, or
// further for a quoted scalar that goes on over several lines (the YAML
// nodes give only where each starts).
func (p *patcher) lastLine(n *yaml.Node) int {
	for len(n.Content) > 0 {
		last := n.Content[0]
		for _, c := range n.Content {
			if c.Line > last.Line || (c.Line == last.Line && c.Column > last.Column) {
				last = c
			}
		}
		n = last
	}
	if end, ok := p.quotedEnd(n); ok {
		return n.Line + bytes.Count(p.src[p.off(n.Line, n.Column):end], []byte("\n"))
	}
	return n.Line
}

// quotedEnd is the offset just after a quoted scalar's closing quote.
func (p *patcher) quotedEnd(n *yaml.Node) (int, bool) {
	if n.Kind != yaml.ScalarNode || n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0 {
		return 0, false
	}
	start := p.off(n.Line, n.Column)
	q := bytes.IndexAny(p.src[start:], `"'`)
	if q < 0 {
		return 0, false
	}
	quote := p.src[start+q]
	for i := start + q + 1; i < len(p.src); i++ {
		switch {
		case quote == '"' && p.src[i] == '\\':
			i++
		case p.src[i] == quote && quote == '\'' && i+1 < len(p.src) && p.src[i+1] == '\'':
			i++
		case p.src[i] == quote:
			return i + 1, true
		}
	}
	return 0, false
}

func lineStarts(src []byte) []int {
	starts := make([]int, 1, bytes.Count(src, []byte("\n"))+1)
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

// apply makes the edits in one pass over src; inserts at one offset keep
// their order. It returns nil if two edits overlap.
func apply(src []byte, edits []edit) []byte {
	order := make([]int, len(edits))
	size := len(src)
	for i := range order {
		order[i] = i
		size += len(edits[i].text) - (edits[i].end - edits[i].start)
	}
	slices.SortStableFunc(order, func(i, j int) int { return edits[i].start - edits[j].start })
	out := make([]byte, 0, size)
	pos := 0
	for _, i := range order {
		e := edits[i]
		if e.start < pos {
			return nil
		}
		out = append(out, src[pos:e.start]...)
		out = append(out, e.text...)
		pos = e.end
	}
	return append(out, src[pos:]...)
}
