package spec

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cnncalc/cnncalc/calc"
	"go.yaml.in/yaml/v3"
)

// scope holds the names of one level: the whole spec, one block use, or one
// repeat iteration. Lookups walk outwards.
type scope struct {
	names  map[string]int
	parent *scope
}

func (s *scope) lookup(name string) (int, bool) {
	for ; s != nil; s = s.parent {
		if i, ok := s.names[name]; ok {
			return i, true
		}
	}
	return 0, false
}

// ctx is what an item is expanded in.
type ctx struct {
	env   map[string]*yaml.Node // $arg values of the enclosing block use
	block string                // the enclosing block's name, "" at top level
	use   string                // " (in layers[3])": where the block was used
	scope *scope
	depth int
	// group is 1 + the index in parser.groups of the innermost block use
	// or repeat being expanded; 0 at the top level.
	group int
}

func isComposite(k string) bool {
	switch k {
	case "repeat", "residual", "concat", "add", "mul", "gate", "layers", "shortcut", "name", "from", "expect", "trainable":
		return true
	}
	return false
}

// subst replaces a "$arg" scalar by the argument's value.
func (p *parser) subst(n *yaml.Node, c *ctx, path string) (*yaml.Node, bool) {
	n = p.resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || !strings.HasPrefix(n.Value, "$") || n.Tag != "!!str" {
		return n, true
	}
	name := n.Value[1:]
	if c.block == "" {
		p.errorf(n, path+c.use, "", "%s is used outside a block; $ names a block argument", n.Value)
		return n, false
	}
	v, ok := c.env[name]
	if !ok {
		var names []string
		for k := range c.env {
			names = append(names, k)
		}
		p.errorf(n, path+c.use, "", "block %s does not declare argument %s%s", c.block, n.Value, suggest(name, names))
		return n, false
	}
	return v, true
}

// items expands a list of items, each fed by the previous one, starting
// from node in. It returns the last item's output.
func (p *parser) items(seq *yaml.Node, c *ctx, in int, path string) int {
	seq = p.resolve(seq)
	if seq.Kind == yaml.ScalarNode && seq.Tag == "!!null" {
		return in
	}
	if seq.Kind != yaml.SequenceNode {
		p.errorf(seq, path+c.use, "", "expected a list of items, got %s", describe(seq))
		return in
	}
	for j, it := range seq.Content {
		if p.stopped {
			return in
		}
		ipath := path + "[" + strconv.Itoa(j) + "]"
		out := p.item(it, c, in, ipath)
		p.recordItem(it, seq, ipath, out, path == "layers")
		in = out
	}
	return in
}

// item expands one item fed by node in and returns its output node (-2
// when it failed, which later items treat as a failed input).
func (p *parser) item(n *yaml.Node, c *ctx, in int, path string) int {
	p.expanded++
	n, ok := p.subst(n, c, path)
	if !ok {
		return failed
	}
	if c.depth > MaxDepth {
		p.errorf(n, path+c.use, "", "items nest deeper than %d levels", MaxDepth)
		p.stopped = true
		return failed
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			p.errorf(n, path+c.use, "", "empty item; write a layer type such as relu")
			return failed
		}
		return p.typed(n, nil, c, in, path, "")
	case yaml.MappingNode:
		return p.mapItem(n, c, in, path)
	}
	p.errorf(n, path+c.use, "", "an item is a layer type or a mapping, got %s", describe(n))
	return failed
}

// failed marks the output of an item that could not be expanded.
const failed = -2

func (p *parser) mapItem(n *yaml.Node, c *ctx, in int, path string) int {
	var name, from, expect, trainable *yaml.Node
	keys := map[string][2]*yaml.Node{}
	var order []string
	first := len(p.nodes) // the item's nodes are appended from here
	for _, kv := range p.pairs(n, path+c.use) {
		switch kv[0].Value {
		case "name":
			name = kv[1]
		case "from":
			from = kv[1]
		case "expect":
			expect = kv[1]
		case "trainable":
			trainable = kv[1]
		default:
			keys[kv[0].Value] = kv
			order = append(order, kv[0].Value)
		}
	}
	item := ""
	if name != nil {
		var ok bool
		if name, ok = p.subst(name, c, path); ok && (name.Kind != yaml.ScalarNode || name.Value == "" || name.Tag == "!!null") {
			p.errorf(name, path+c.use, "", "name must be a non-empty string")
			name = nil
		} else if ok && name.Value == "input" {
			p.errorf(name, path+c.use, "", "the name input is reserved for the network input")
			name = nil
		} else if ok {
			item = name.Value
		}
	}
	// Inputs: from, else the previous item.
	var froms []int
	if from != nil {
		froms = p.from(from, c, path, item)
		if froms == nil {
			return failed
		}
		in = froms[0]
	}
	out := failed
	switch {
	case has(keys, "repeat"):
		p.only(keys, order, path, c, item, "repeat", "layers")
		out = p.repeat(keys["repeat"][1], keys["layers"], c, in, path, item)
	case has(keys, "residual"):
		p.only(keys, order, path, c, item, "residual", "shortcut")
		out = p.residual(keys["residual"][1], keys["shortcut"], c, in, path, item)
	case has(keys, "gate"):
		p.only(keys, order, path, c, item, "gate")
		out = p.gate(keys["gate"][0], keys["gate"][1], c, in, path, item)
	case has(keys, "concat") && p.resolve(keys["concat"][1]).Kind == yaml.SequenceNode:
		p.only(keys, order, path, c, item, "concat")
		out = p.concatBranches(keys["concat"][0], keys["concat"][1], c, in, path, item)
	case has(keys, "add") || has(keys, "concat") || has(keys, "mul"):
		t := "add"
		if has(keys, "concat") {
			t = "concat"
		} else if has(keys, "mul") {
			t = "mul"
		}
		p.only(keys, order, path, c, item, t)
		out = p.merge(keys[t][0], keys[t][1], froms, c, path, item)
	case has(keys, "layers"):
		p.errorf(keys["layers"][0], path+c.use, item, "layers: belongs to a repeat: item (repeat: N with layers: [...]) or to a block")
	case len(order) == 0:
		p.errorf(n, path+c.use, item, "the item has no layer type")
	case len(order) > 1:
		k := keys[order[1]][0]
		p.errorf(k, path+c.use, item, "an item has one layer type, got %s and %s; wiring keys are name, from, expect, trainable", order[0], order[1])
	default:
		kv := keys[order[0]]
		if len(froms) > 1 {
			p.errorf(from, path+c.use, item, "%s takes one input; from: lists %d (only add, concat and mul merge several)", kv[0].Value, len(froms))
			return failed
		}
		out = p.typed(kv[0], kv[1], c, in, path, item)
	}
	if out == failed {
		// Keep the name, as failed: a later from: then skips quietly
		// instead of calling it unknown.
		if name != nil {
			if _, seen := c.scope.names[name.Value]; !seen {
				c.scope.names[name.Value] = failed
			}
		}
		return failed
	}
	if name != nil {
		if prev, dup := c.scope.names[name.Value]; dup && prev != out {
			p.errorf(name, path+c.use, item, "name %q is already used in this scope", name.Value)
		}
		c.scope.names[name.Value] = out
		if out >= 0 && p.nodes[out].Name == "" {
			p.nodes[out].Name = name.Value
			p.info[out].Item = name.Value
		}
	}
	if trainable != nil {
		// trainable: false freezes every parameter of the item (of all
		// its layers, for a residual, a repeat or a block)
		if v, ok := p.subst(trainable, c, path); ok {
			if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
				p.errorf(v, path+c.use, item, "trainable must be true or false, got %s", describe(v))
			} else if v.Value == "false" {
				for j := first; j < len(p.nodes); j++ {
					p.nodes[j].Frozen = true
				}
			}
		}
	}
	if expect != nil {
		if e, ok := p.subst(expect, c, path); ok {
			if s, ok := p.ints(e, path+c.use, item, "expect", true); ok {
				p.spec.Expects = append(p.spec.Expects, Expect{Node: out, Shape: s, Pos: Pos{e.Line, e.Column}, Path: path + c.use, Item: item, item: n})
			}
		}
	}
	return out
}

func has(m map[string][2]*yaml.Node, k string) bool { _, ok := m[k]; return ok }

// only reports keys other than the allowed ones.
func (p *parser) only(keys map[string][2]*yaml.Node, order []string, path string, c *ctx, item string, allowed ...string) {
	for _, k := range order {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			p.errorf(keys[k][0], path+c.use, item, "unknown key %q in a %s item%s", k, allowed[0], suggest(k, append(allowed, "name", "from", "expect", "trainable")))
		}
	}
}

// from resolves a from: value to node indices; nil on error.
func (p *parser) from(v *yaml.Node, c *ctx, path, item string) []int {
	v, ok := p.subst(v, c, path)
	if !ok {
		return nil
	}
	var names []*yaml.Node
	switch v.Kind {
	case yaml.ScalarNode:
		names = []*yaml.Node{v}
	case yaml.SequenceNode:
		for _, e := range v.Content {
			e, ok := p.subst(e, c, path)
			if !ok {
				return nil
			}
			names = append(names, e)
		}
	}
	if len(names) == 0 {
		p.errorf(v, path+c.use, item, "from: needs a name or a list of names")
		return nil
	}
	var out []int
	for _, nm := range names {
		if nm.Kind != yaml.ScalarNode {
			p.errorf(nm, path+c.use, item, "from: needs names, got %s", describe(nm))
			return nil
		}
		if nm.Value == "input" {
			out = append(out, calc.Input)
			continue
		}
		i, ok := c.scope.lookup(nm.Value)
		if !ok {
			if where, hidden := p.hidden[nm.Value]; hidden {
				p.errorf(nm, path+c.use, item, "name %q is defined inside %s and cannot be referred to from outside it", nm.Value, where)
			} else {
				p.errorf(nm, path+c.use, item, "unknown name %q in from:%s", nm.Value, suggest(nm.Value, p.visibleNames(c.scope)))
			}
			return nil
		}
		if i == failed {
			return nil
		}
		out = append(out, i)
	}
	return out
}

func (p *parser) visibleNames(s *scope) []string {
	names := []string{"input"}
	for ; s != nil; s = s.parent {
		for n := range s.names {
			names = append(names, n)
		}
	}
	return names
}

// closeScope remembers the names of a finished inner scope.
func (p *parser) closeScope(s *scope, where string) {
	if p.hidden == nil {
		p.hidden = map[string]string{}
	}
	for n := range s.names {
		if _, visible := s.parent.lookup(n); !visible {
			p.hidden[n] = where
		}
	}
}

func (p *parser) repeat(countNode *yaml.Node, layers [2]*yaml.Node, c *ctx, in int, path, item string) int {
	countNode, ok := p.subst(countNode, c, path)
	if !ok {
		return failed
	}
	count, ok := p.int(countNode, path+c.use, item, "repeat count")
	if !ok {
		return failed
	}
	if count < 0 {
		p.errorf(countNode, path+c.use, item, "repeat count must not be negative, got %d", count)
		return failed
	}
	if layers[1] == nil {
		p.errorf(countNode, path+c.use, item, "repeat: needs layers: [...] beside it")
		return failed
	}
	if count > MaxLayers {
		p.errorf(countNode, path+c.use, item, "repeat count %s exceeds the cap of %s expanded layers", calc.Group(count), calc.Group(MaxLayers))
		p.stopped = true
		return failed
	}
	label := item
	if label == "" {
		label = "repeat"
	}
	g, own := p.openGroup(c, Group{Kind: "repeat", Item: label, Count: count, Path: path + c.use, Pos: Pos{countNode.Line, countNode.Column}, In: in})
	defer func() { p.closeGroup(own, in) }()
	for i := int64(0); i < count && !p.stopped; i++ {
		p.turns++
		before := len(p.nodes)
		inner := &ctx{env: c.env, block: c.block, use: c.use, depth: c.depth + 1, group: g, scope: &scope{names: map[string]int{}, parent: c.scope}}
		outer := p.enter("", path+c.use, int(i))
		in = p.items(layers[1], inner, in, path+".layers")
		p.instance = outer
		p.closeScope(inner.scope, "the repeat at "+path)
		if in == failed {
			return failed
		}
		// Every iteration expands alike: one that made no layer leaves the
		// rest nothing to do, and one of k layers tells the total at once,
		// so that nested repeats hit the cap without building up to it.
		k := int64(len(p.nodes) - before)
		if k == 0 {
			break
		}
		if rest := count - i - 1; rest > 0 && rest > (MaxLayers-int64(len(p.nodes)))/k {
			p.errorf(countNode, path+c.use, item, "the spec expands to more than %s layers (the cap): repeat %s of %s layers each",
				calc.Group(MaxLayers), calc.Group(count), calc.Group(k))
			p.stopped = true
			return failed
		}
		if rest := int(count - i - 1); i == 0 && rest > 0 {
			p.reserve(rest * int(k))
		}
	}
	return in
}

// openGroup records the start of a block use or repeat expanded in c. It
// returns the ctx.group value of the items inside it and the group's own
// number for closeGroup: 0, with c's group for the items, once the spec
// holds MaxLayers groups (Spec.GroupsCut tells).
func (p *parser) openGroup(c *ctx, g Group) (inner, own int) {
	if len(p.groups) >= MaxLayers {
		p.spec.GroupsCut = true
		return c.group, 0
	}
	g.Parent = c.group - 1
	g.First = len(p.nodes)
	p.groups = append(p.groups, g)
	return len(p.groups), len(p.groups)
}

// closeGroup ends group g (openGroup's own number; 0 for none) whose
// items gave out. A group that holds no node is dropped, with the empty
// groups inside it (the last ones recorded).
func (p *parser) closeGroup(g, out int) {
	if g == 0 || g > len(p.groups) {
		return
	}
	gr := &p.groups[g-1]
	gr.End, gr.Out = len(p.nodes), out
	if gr.End == gr.First || out == failed {
		p.groups = p.groups[:g-1]
	}
}

// reserve grows the node lists once to hold n more nodes, so that a long
// repeat does not copy them again and again as they grow.
func (p *parser) reserve(n int) {
	if need := len(p.nodes) + n; need > cap(p.nodes) {
		nodes := make([]calc.Node, len(p.nodes), need)
		copy(nodes, p.nodes)
		p.nodes = nodes
		info := make([]NodeInfo, len(p.info), need)
		copy(info, p.info)
		p.info = info
	}
}

func (p *parser) residual(body *yaml.Node, shortcut [2]*yaml.Node, c *ctx, in int, path, item string) int {
	inner := *c
	inner.depth++
	b := p.items(body, &inner, in, path+".residual")
	s := in
	if shortcut[1] != nil {
		s = p.items(shortcut[1], &inner, in, path+".shortcut")
	}
	if b == failed || s == failed {
		return failed
	}
	return p.addNode(calc.Layer{Type: calc.Add}, []int{b, s}, Pos{body.Line, body.Column}, path+c.use, item, nil)
}

// gate is x * gate(x): the body's output (a C x 1 x 1 squeeze-excitation
// scale, say) multiplies the item's input, with broadcasting.
func (p *parser) gate(key, body *yaml.Node, c *ctx, in int, path, item string) int {
	inner := *c
	inner.depth++
	g := p.items(body, &inner, in, path+".gate")
	if g == failed || in == failed {
		return failed
	}
	return p.addNode(calc.Layer{Type: calc.Mul}, []int{in, g}, Pos{key.Line, key.Column}, path+c.use, item, nil)
}

func (p *parser) concatBranches(key, branches *yaml.Node, c *ctx, in int, path, item string) int {
	if len(branches.Content) == 0 {
		p.errorf(branches, path+c.use, item, "concat needs at least one branch")
		return failed
	}
	inner := *c
	inner.depth++
	var outs []int
	for k, br := range branches.Content {
		o := p.items(br, &inner, in, fmt.Sprintf("%s.concat[%d]", path, k))
		if o == failed {
			return failed
		}
		outs = append(outs, o)
	}
	return p.addNode(calc.Layer{Type: calc.Concat, Dim: 1}, outs, Pos{key.Line, key.Column}, path+c.use, item, nil)
}

// merge is add or concat of named outputs: from: [a, b, ...].
func (p *parser) merge(key, v *yaml.Node, froms []int, c *ctx, path, item string) int {
	l := calc.Layer{Type: mergeOp(key.Value), Dim: 1}
	var args []ArgPos
	v, ok := p.subst(v, c, path)
	if !ok {
		return failed
	}
	switch {
	case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
	case v.Kind == yaml.MappingNode && key.Value == "concat":
		for _, kv := range p.pairs(v, path+c.use) {
			if kv[0].Value != "dim" {
				p.errorf(kv[0], path+c.use, item, "unknown concat argument %q; concat takes dim", kv[0].Value)
				return failed
			}
			dv, ok := p.subst(kv[1], c, path)
			if !ok {
				return failed
			}
			d, ok := p.int(dv, path+c.use, item, "dim")
			if !ok {
				return failed
			}
			if d < -8 || d > 8 {
				p.errorf(dv, path+c.use, item, "concat dim %d is out of range", d)
				return failed
			}
			l.Dim = int(d)
			args = append(args, ArgPos{"dim", Pos{dv.Line, dv.Column}})
		}
	case v.Kind == yaml.MappingNode && len(v.Content) == 0:
	default:
		p.errorf(v, path+c.use, item, "%s with from: takes no branches here; write concat: [[...], [...]] for branches or from: [a, b] to merge names", key.Value)
		return failed
	}
	if len(froms) < 2 {
		p.errorf(key, path+c.use, item, "%s merges named outputs: it needs from: with two names or more", key.Value)
		return failed
	}
	return p.addNode(l, froms, Pos{key.Line, key.Column}, path+c.use, item, args)
}

// addNode appends a node and returns its index.
func (p *parser) addNode(l calc.Layer, from []int, pos Pos, path, item string, args []ArgPos) int {
	if len(p.nodes) >= MaxLayers {
		if !p.stopped {
			p.errs = append(p.errs, &Diagnostic{File: p.file, Pos: pos, Path: path, Item: item, Msg: fmt.Sprintf("the spec expands to more than %s layers (the cap)", calc.Group(MaxLayers))})
		}
		p.stopped = true
		return failed
	}
	for _, f := range from {
		if f == failed {
			return failed
		}
	}
	if item == "" {
		item = l.Type.String()
	}
	if len(p.nodes) == cap(p.nodes) {
		// Double, where append grows a large slice by a quarter: a node is
		// big, and an expansion towards MaxLayers copies it less this way.
		nodes := make([]calc.Node, len(p.nodes), min(2*cap(p.nodes)+64, MaxLayers))
		copy(nodes, p.nodes)
		p.nodes = nodes
	}
	p.nodes = append(p.nodes, calc.Node{Layer: l, From: from})
	p.added++
	p.info = append(p.info, NodeInfo{Pos: pos, Path: path, Item: item, Args: args, Instance: p.instance})
	return len(p.nodes) - 1
}

// enter opens a group inside the current one and returns the current one,
// for the caller to restore when the group's items are expanded.
func (p *parser) enter(block, path string, iter int) *Instance {
	outer := p.instance
	d := 1
	if outer != nil {
		d = outer.Depth + 1
	}
	p.instance = &Instance{Parent: outer, Block: block, Path: path, Iter: iter, Depth: d}
	return outer
}
