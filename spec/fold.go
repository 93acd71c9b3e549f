package spec

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/cnncalc/cnncalc/calc"
	"go.yaml.in/yaml/v3"
)

// FoldPair names a normalization node and the layer it folds into (both
// indexes into Net.Nodes).
type FoldPair struct{ Norm, Into int }

// Folded is the spec's text with normalization items folded away.
type Folded struct {
	// Source is the new text.
	Source []byte
	// Declined holds, by normalization node, why the text cannot carry a
	// pair that was asked for.
	Declined map[int]string
	// Notes say what moved: an expect: taken over by the layer folded into,
	// or dropped with its item.
	Notes []string
}

// Fold returns the spec's source with the normalization items of the
// given pairs removed and bias: true set where the layer each folds into
// had bias: false; comments, key order and layout of the rest are kept
// (the text is patched, as Snapshot patches it), and the top-level
// expect: totals already written are brought up to date. The caller
// checks that the text means the folded network.
//
// An item of a block or a repeat stands for several nodes, and the text
// has one copy of it: a normalization item is removed only when every one
// of its instances folds, and a layer item's bias: false becomes true only
// when every one of its instances takes a normalization in. Pairs that
// break this rule, a removal that would lose a name: or from:, an item
// written with a YAML anchor or alias, or one whose bias: is a block
// argument ($bias) are declined, with the reason, and the rule applied
// again until it holds. An expect: on a removed item moves to the layer
// before it when that layer is the previous item of the same block list
// and has none (the shapes are equal); otherwise it goes with its item,
// and a note says so.
func (a *Analysis) Fold(pairs []FoldPair) (*Folded, error) {
	p := newPatcher(a)
	s := a.Spec
	plain := map[int]itemInstance{}
	for _, in := range s.instances {
		if in.out < 0 {
			continue
		}
		if op, ok := calc.Lookup(typeKey(in.node)); ok && op == a.Net.Nodes[in.out].Type {
			if _, seen := plain[in.out]; !seen {
				plain[in.out] = in
			}
		}
	}
	uses := map[*yaml.Node][]int{} // the nodes of each item
	aliased := map[*yaml.Node]bool{}
	for node, in := range plain {
		uses[in.node] = append(uses[in.node], node)
		aliased[in.node] = aliased[in.node] || in.alias
	}
	for _, u := range uses {
		slices.Sort(u) // in node order, whatever the map's
	}
	out := &Folded{Declined: map[int]string{}}
	active := map[int]int{} // norm -> into
	takes := map[int]int{}  // into -> how many active pairs fold into it (one on each side at most)
	decline := func(norm int, why string) {
		if into, ok := active[norm]; ok {
			takes[into]--
			delete(active, norm)
			out.Declined[norm] = why
		}
	}
	for _, pr := range pairs {
		active[pr.Norm] = pr.Into
		takes[pr.Into]++
	}
	if loneCR(p.src) {
		// Positions count lines by '\n': a file that breaks lines with a
		// lone CR cannot be patched by them.
		for _, pr := range pairs {
			decline(pr.Norm, "the file breaks lines with a lone carriage return (CR), which fold cannot patch: convert it to LF or CRLF line endings")
		}
	}
	// What the text of each item allows, once per item.
	normsInto := map[int][]int{} // into -> the norms of the pairs folding into it
	var normItems, intoItems []*yaml.Node
	removableWhy := map[*yaml.Node]*string{}
	biasWhy := map[*yaml.Node]*string{}
	for _, pr := range pairs {
		normsInto[pr.Into] = append(normsInto[pr.Into], pr.Norm)
		bn, ok := plain[pr.Norm]
		if !ok {
			decline(pr.Norm, "fold cannot find the item it is written as")
			continue
		}
		into, ok := plain[pr.Into]
		if !ok {
			decline(pr.Norm, "fold cannot find the item the layer it folds into is written as")
			continue
		}
		why := removableWhy[bn.node]
		if why == nil {
			w := p.removable(bn, aliased[bn.node])
			why = &w
			removableWhy[bn.node] = why
			normItems = append(normItems, bn.node)
		}
		if *why != "" {
			decline(pr.Norm, *why)
			continue
		}
		if refs := p.renames[bn.node]; len(refs) > 0 {
			if _, v := lookup(into.node, "name"); v == nil || !into.top || into.node.Kind != yaml.MappingNode {
				decline(pr.Norm, fmt.Sprintf("other items read it by its name (%s at line %d), and the layer it folds into has no name of the top-level list to give them", refs[0].Value, refs[0].Line))
				continue
			}
		}
		if !a.Net.Nodes[pr.Into].Bias {
			why := biasWhy[into.node]
			if why == nil {
				_, w := p.biasEdit(into, aliased[into.node])
				why = &w
				biasWhy[into.node] = why
				intoItems = append(intoItems, into.node)
			}
			if *why != "" {
				decline(pr.Norm, fmt.Sprintf("the bias: of %s, the layer it folds into, %s", a.Net.Nodes[pr.Into].Name, *why))
			}
		}
	}
	// Every instance of an item, or none: a pass over every use of every
	// item, again while a pass declines something (each declines at least
	// one item whole).
	for changed := true; changed; {
		changed = false
		for _, item := range normItems {
			off, on := -1, false
			for _, n := range uses[item] {
				if _, ok := active[n]; ok {
					on = true
				} else if off < 0 {
					off = n
				}
			}
			if !on || off < 0 {
				continue
			}
			changed = true
			for _, n := range uses[item] {
				decline(n, fmt.Sprintf("it is written once for %d uses (%s) and the use at %s (%s) does not fold", len(uses[item]), plain[n].path, s.Info[off].Path, a.Net.Nodes[off].Name))
			}
		}
		for _, item := range intoItems {
			off, on := -1, false
			for _, n := range uses[item] {
				if takes[n] > 0 {
					on = true
				} else if off < 0 {
					off = n
				}
			}
			if !on || off < 0 {
				continue
			}
			changed = true
			for _, n := range uses[item] {
				for _, norm := range normsInto[n] {
					decline(norm, fmt.Sprintf("%s, the layer it folds into, is written once for %d uses (%s), and the use at %s (%s) takes no batchnorm in: its bias: false must stay", a.Net.Nodes[n].Name, len(uses[item]), plain[n].path, s.Info[off].Path, a.Net.Nodes[off].Name))
				}
			}
		}
	}
	var edits []edit
	done := map[*yaml.Node]bool{}
	for _, pr := range pairs {
		if _, ok := active[pr.Norm]; !ok {
			continue
		}
		bn, into := plain[pr.Norm], plain[pr.Into]
		if !done[bn.node] {
			done[bn.node] = true
			at := &Diagnostic{File: s.File, Pos: Pos{bn.node.Line, bn.node.Column}, Path: bn.path}
			// The moved expect: first: it may be inserted where the
			// removal starts (the item ends the file).
			edits = append(edits, p.moveExpect(bn, into, pr.Into > pr.Norm, at, &out.Notes)...)
			rm, _ := p.removal(bn, at)
			edits = append(edits, rm)
			if refs := p.renames[bn.node]; len(refs) > 0 {
				_, v := lookup(into.node, "name")
				edits = append(edits, p.renameRefs(refs, v.Value, at)...)
				out.Notes = append(out.Notes, fmt.Sprintf("items that read %s now read %s, the layer it folded into", refs[0].Value, v.Value))
			}
		}
		if !a.Net.Nodes[pr.Into].Bias && !done[into.node] {
			done[into.node] = true
			e, _ := p.biasEdit(into, false)
			edits = append(edits, e...)
		}
	}
	text := apply(p.src, edits)
	if text == nil {
		return nil, ErrorList{{File: s.File, Msg: "internal error: fold made overlapping edits (please report this spec)"}}
	}
	// The totals of the top-level expect: now fail: bring those written up
	// to date, adding none.
	check, err := Parse(s.File, text)
	if err != nil {
		return nil, foldBroke(s.File, err)
	}
	a2, err := check.Evaluate(a.Net.Input[0], a.Net.Input[1:])
	if err != nil {
		return nil, foldBroke(s.File, err)
	}
	p2 := newPatcher(a2)
	p2.keepMissing = true
	if totals := p2.totalEdits(); len(p2.errs) == 0 && len(totals) > 0 {
		text = apply(text, totals)
	} else if len(p2.errs) > 0 {
		out.Notes = append(out.Notes, "the top-level expect: is left as it is: "+p2.errs[0].Msg)
	}
	out.Source = text
	return out, nil
}

func foldBroke(file string, err error) error {
	msg := err.Error()
	if l, ok := err.(ErrorList); ok && len(l) > 0 {
		msg = l[0].Error()
	}
	return ErrorList{{File: file, Msg: "internal error: the folded spec would not analyse (" + msg + "); please report this spec"}}
}

// loneCR reports whether src holds a carriage return that does not start a
// CRLF line ending.
func loneCR(src []byte) bool {
	for i, c := range src {
		if c == '\r' && (i+1 == len(src) || src[i+1] != '\n') {
			return true
		}
	}
	return false
}

// typeKey is an item's type: a bare item's name, a mapping's first key
// that is not name, from or expect.
func typeKey(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			switch k := n.Content[i].Value; k {
			case "name", "from", "expect":
			default:
				return k
			}
		}
	}
	return ""
}

// removable says why the item cannot be removed from the text ("" when it
// can).
func (p *patcher) removable(in itemInstance, aliased bool) string {
	n := in.node
	switch {
	case aliased || n.Anchor != "":
		return "it is written with a YAML anchor or alias, which other items share"
	case in.seq == nil || len(in.seq.Content) < 2:
		return "it is the only item of its list, which cannot be left empty"
	}
	if _, v := lookup(n, "name"); v != nil {
		// A name of the top-level list that other items read can pass to
		// the layer it folds into (see renameRefs); one inside a block
		// or a repeat belongs to an instance and stays.
		if !in.top {
			return fmt.Sprintf("it is named (name: %s) inside a block or a repeat: removing it would lose the name other items refer to", v.Value)
		}
		if refs, inside := p.refsTo(v.Value); inside {
			return fmt.Sprintf("it is named (name: %s) and read by name inside a block: removing it would lose the name", v.Value)
		} else if len(refs) > 0 {
			if p.renames == nil {
				p.renames = map[*yaml.Node][]*yaml.Node{}
			}
			p.renames[n] = refs
		}
	}
	if _, v := lookup(n, "from"); v != nil {
		return "it has from:, which removing it would lose"
	}
	if _, ok := p.removal(in, nil); !ok {
		return "its layout (several items on one line) is not one fold can remove it from"
	}
	return ""
}

// removal is the edit that deletes the item: its lines, for an item of a
// block list that starts its line ("- batchnorm2d" and what it holds,
// comments inside it and on its lines included); the item and the
// separator after (or before) it in a flow list.
func (p *patcher) removal(in itemInstance, at *Diagnostic) (edit, bool) {
	n, seq := in.node, in.seq
	k := p.indexIn(seq, n)
	if k < 0 {
		return edit{}, false
	}
	start := p.off(n.Line, n.Column)
	if seq.Style&yaml.FlowStyle != 0 {
		if k > 0 {
			prev := seq.Content[k-1]
			from := p.flowEnd(p.off(prev.Line, prev.Column))
			return edit{from, p.flowEnd(start), "", at}, from < len(p.src) && p.src[from] == ','
		}
		next := seq.Content[k+1]
		return edit{start, p.off(next.Line, next.Column), "", at}, true
	}
	if n.Line < 1 || n.Line > len(p.lines) || start < p.lines[n.Line-1] {
		return edit{}, false
	}
	line := p.lines[n.Line-1]
	if lead := bytes.TrimSpace(p.src[line:start]); string(lead) == "-" {
		col := n.Column
		if n.Kind == yaml.MappingNode && len(n.Content) > 0 {
			col = n.Content[0].Column
		}
		end := p.after(n, col) // the line ending of the item's last line
		if end < len(p.src) {
			end += bytes.IndexByte(p.src[end:], '\n') + 1
		} else if line > 0 {
			line-- // the last line of the file: take the line ending before it
			if line > 0 && p.src[line-1] == '\r' {
				line--
			}
		}
		return edit{line, end, "", at}, true
	}
	if k+1 < len(seq.Content) {
		next := seq.Content[k+1]
		return edit{start, p.off(next.Line, next.Column), "", at}, true
	}
	return edit{}, false
}

// indexIn is n's index in the list seq (-1 when it is not there), from
// an index of the list built once.
func (p *patcher) indexIn(seq, n *yaml.Node) int {
	if p.index == nil {
		p.index = map[*yaml.Node]map[*yaml.Node]int{}
	}
	m := p.index[seq]
	if m == nil {
		m = make(map[*yaml.Node]int, len(seq.Content))
		for i, c := range seq.Content {
			m[c] = i
		}
		p.index[seq] = m
	}
	if k, ok := m[n]; ok {
		return k
	}
	return -1
}

// flowEnd is the offset of the ',' or closing bracket that ends the flow
// element starting at start (brackets and quotes inside it skipped).
func (p *patcher) flowEnd(start int) int {
	depth := 0
	src := p.src
	for i := start; i < len(src); i++ {
		switch c := src[i]; c {
		case '[', '{':
			depth++
		case ']', '}':
			if depth == 0 {
				return i
			}
			depth--
		case ',':
			if depth == 0 {
				return i
			}
		case '"', '\'':
			for i++; i < len(src) && src[i] != c; i++ {
				if c == '"' && src[i] == '\\' {
					i++
				}
			}
		case '#':
			if i > 0 && (src[i-1] == ' ' || src[i-1] == '\t') {
				for i < len(src) && src[i] != '\n' {
					i++
				}
			}
		}
	}
	return len(src)
}

// biasEdit is the edit that turns the item's bias: false into bias: true,
// or why it cannot.
func (p *patcher) biasEdit(in itemInstance, aliased bool) ([]edit, string) {
	n := in.node
	if aliased || n.Anchor != "" {
		return nil, "is written with a YAML anchor or alias, which other items share"
	}
	_, args := lookup(n, typeKey(n))
	if args == nil || args.Kind != yaml.MappingNode || args.Anchor != "" {
		return nil, "is not written in the item's own argument mapping"
	}
	_, v := lookup(args, "bias")
	if v == nil || v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
		what := "missing"
		if v != nil {
			what = "written as " + strings.TrimSpace(v.Value)
		}
		return nil, fmt.Sprintf("is %s (a block argument?), which fold cannot set to true for this use alone", what)
	}
	at := &Diagnostic{File: p.s.File, Pos: Pos{v.Line, v.Column}, Path: in.path}
	e, ok := p.scalarEdit(v, "true", at)
	if !ok {
		return nil, "is written in a form fold cannot rewrite (write bias: false)"
	}
	return e, ""
}

// moveExpect carries the removed item's expect: to the item it folds
// into, when that is the previous item of the same block list, a block
// mapping without an expect: of its own; else it notes that the expect:
// goes with the item.
func (p *patcher) moveExpect(bn, into itemInstance, forward bool, at *Diagnostic, notes *[]string) []edit {
	_, v := lookup(bn.node, "expect")
	if v == nil {
		return nil
	}
	var shape []int64
	for _, e := range p.s.Expects {
		if e.item == bn.node {
			shape = e.Shape
			break
		}
	}
	n := into.node
	k := p.indexIn(bn.seq, bn.node)
	prev := k > 0 && bn.seq.Content[k-1] == n
	if _, has := lookup(n, "expect"); forward || !prev || has != nil || shape == nil || bn.seq.Style&yaml.FlowStyle != 0 ||
		n.Kind != yaml.MappingNode || n.Style&yaml.FlowStyle != 0 || len(n.Content) == 0 {
		*notes = append(*notes, fmt.Sprintf("%s: its expect: goes with the removed item", bn.path))
		return nil
	}
	col := n.Content[0].Column
	end := p.after(n, col)
	*notes = append(*notes, fmt.Sprintf("%s: its expect: %s moves to %s, the layer before it", bn.path, FormatExpect(shape), into.path))
	return []edit{{end, end, p.eol + strings.Repeat(" ", col-1) + "expect: " + FormatExpect(shape), at}}
}

// refsTo lists the scalars that refer to name (in a from: list, or an
// upsample's size_of / like) in the top-level layers: list; inside is set
// when a block refers to it too.
func (p *patcher) refsTo(name string) (refs []*yaml.Node, inside bool) {
	_, layers := lookup(p.s.root, "layers")
	_, blocks := lookup(p.s.root, "blocks")
	var walk func(n *yaml.Node, in bool)
	walk = func(n *yaml.Node, in bool) {
		if n == nil {
			return
		}
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i].Value, n.Content[i+1]
				if k == "from" || k == "size_of" || k == "like" {
					vals := []*yaml.Node{v}
					if v.Kind == yaml.SequenceNode {
						vals = v.Content
					}
					for _, x := range vals {
						if x.Kind == yaml.ScalarNode && x.Value == name {
							if in {
								inside = true
							} else {
								refs = append(refs, x)
							}
						}
					}
					continue
				}
				walk(v, in)
			}
			return
		}
		for _, c := range n.Content {
			walk(c, in)
		}
	}
	walk(layers, false)
	walk(blocks, true)
	return refs, inside
}

// renameRefs rewrites each reference to the folded batchnorm's name as
// the name of the layer it folded into.
func (p *patcher) renameRefs(refs []*yaml.Node, to string, at *Diagnostic) []edit {
	text := QuoteName(to)
	var out []edit
	for _, r := range refs {
		start := p.off(r.Line, r.Column)
		end := start + len(r.Value)
		if start < len(p.src) && (p.src[start] == '"' || p.src[start] == '\'') {
			q := p.src[start]
			end = start + 1
			for end < len(p.src) && p.src[end] != q {
				if p.src[end] == '\\' && q == '"' {
					end++
				}
				end++
			}
			end++
		}
		out = append(out, edit{start, min(end, len(p.src)), text, at})
	}
	return out
}

// plainName is a name YAML reads as the same string unquoted (but for
// the keywords QuoteName quotes).
var plainName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.\-]*$`)

// QuoteName writes an item name as a YAML scalar that reads back as that
// string: bare where it can be, double-quoted otherwise.
func QuoteName(s string) string {
	switch strings.ToLower(s) {
	case "true", "false", "null", "yes", "no", "on", "off", "y", "n":
		return strconv.Quote(s)
	}
	if plainName.MatchString(s) {
		return s
	}
	return strconv.Quote(s)
}
