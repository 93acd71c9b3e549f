package spec

import (
	"slices"
	"strings"

	"github.com/cnncalc/cnncalc/calc"
	"go.yaml.in/yaml/v3"
)

// typed expands an item whose key is a layer type or a block name; v is its
// value (nil for a bare item).
func (p *parser) typed(key, v *yaml.Node, c *ctx, in int, path, item string) int {
	name := key.Value
	if b, ok := p.blocks[name]; ok {
		return p.useBlock(b, key, v, c, in, path, item)
	}
	op, known := calc.Lookup(name)
	if !known {
		switch name {
		case "add", "concat", "mul":
			p.errorf(key, path+c.use, item, "%s needs from: with two names or more (or concat: [[...], [...]] for branches, gate: [...] for x * gate(x))", name)
		case "residual", "repeat", "layers", "shortcut", "gate":
			p.errorf(key, path+c.use, item, "%s needs a list of items", name)
		default:
			if torchName, ok := unsupportedTorch[strings.ToLower(name)]; ok {
				p.errorf(key, path+c.use, item, "%s is a PyTorch layer (torch.nn.%s) cnncalc does not support yet", name, torchName)
				break
			}
			p.errorf(key, path+c.use, item, "unknown layer type %q%s", name, suggest(name, typeNames(p.blocks)))
		}
		return failed
	}
	if item == "" {
		item = op.String()
	}
	l, args, refs, ok := p.layerArgs(op, key, v, c, path, item)
	if !ok || in == failed {
		return failed
	}
	return p.addNode(l, append([]int{in}, refs...), Pos{key.Line, key.Column}, path+c.use, item, args)
}

func (p *parser) useBlock(b *blockDef, key, v *yaml.Node, c *ctx, in int, path, item string) int {
	env := map[string]*yaml.Node{}
	for k, d := range b.args {
		env[k] = d
	}
	if v != nil {
		v, ok := p.subst(v, c, path)
		if !ok {
			return failed
		}
		switch {
		case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
		case v.Kind == yaml.MappingNode:
			for _, kv := range p.pairs(v, path+c.use) {
				if _, ok := b.args[kv[0].Value]; !ok {
					p.errorf(kv[0], path+c.use, item, "block %s has no argument %q%s", b.name, kv[0].Value, suggest(kv[0].Value, b.order))
					continue
				}
				// A list value may hold the enclosing block's $args too:
				// they are substituted now, in the enclosing block's scope.
				val, ok := p.substValue(kv[1], c, path)
				if !ok {
					continue
				}
				env[kv[0].Value] = val
			}
		default:
			p.errorf(v, path+c.use, item, "block %s takes a mapping of arguments, got %s", b.name, describe(v))
			return failed
		}
	}
	use := c.use
	if use == "" {
		use = " (in " + path + ")"
	}
	inner := &ctx{env: env, block: b.name, use: use, depth: c.depth + 1, scope: &scope{names: map[string]int{}, parent: c.scope}}
	if inner.depth > MaxDepth {
		p.errorf(key, path+c.use, item, "blocks nest deeper than %d levels", MaxDepth)
		p.stopped = true
		return failed
	}
	if item == "" {
		item = b.name
	}
	g, own := p.openGroup(c, Group{Kind: "block", Item: item, Block: b.name, Path: path + c.use, Pos: Pos{key.Line, key.Column}, In: in})
	inner.group = g
	outer := p.enter(b.name, path+c.use, 0)
	out := p.items(b.layers, inner, in, "blocks."+b.name+".layers")
	p.instance = outer
	p.closeScope(inner.scope, "block "+b.name)
	p.closeGroup(own, out)
	return out
}

// vals is an argument map after reading: canonical name -> value node.
type vals struct {
	p    *parser
	t    *calc.OpInfo
	key  *yaml.Node
	m    []argVal // the arguments as written, by canonical name
	path string
	item string
	ok   bool
}

// layerArgs reads a layer's arguments into a calc.Layer with PyTorch's
// defaults, recording each argument's position.
// refs are the nodes the layer's ArgRef arguments name (upsample's
// size_of), which become further inputs.
func (p *parser) layerArgs(op calc.Op, key, v *yaml.Node, c *ctx, path, item string) (l calc.Layer, pos []ArgPos, refs []int, ok bool) {
	t := op.Info()
	a := &vals{p: p, t: t, key: key, path: path + c.use, item: item, ok: true}
	if v != nil {
		v, ok := p.subst(v, c, path)
		if !ok {
			return calc.Layer{}, nil, nil, false
		}
		switch {
		case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
		case v.Kind == yaml.MappingNode:
			for _, kv := range p.pairs(v, a.path) {
				d := t.Arg(kv[0].Value)
				if d == nil {
					p.errorf(kv[0], a.path, item, "%s has no argument %q%s", t.Name, kv[0].Value, suggest(kv[0].Value, t.ArgNames()))
					a.ok = false
					continue
				}
				if a.get(d.Name) != nil {
					p.errorf(kv[0], a.path, item, "argument %s is given twice (as %s and an alias)", d.Name, kv[0].Value)
					a.ok = false
					continue
				}
				val, ok := p.substValue(kv[1], c, path)
				if !ok {
					a.ok = false
					continue
				}
				a.m = append(a.m, argVal{d.Name, val})
				pos = append(pos, ArgPos{d.Name, Pos{val.Line, val.Column}})
			}
		default:
			if t.Primary == "" {
				p.errorf(v, a.path, item, "%s takes a mapping of arguments (it has no primary argument), got %s", t.Name, describe(v))
				return calc.Layer{}, nil, nil, false
			}
			v, ok := p.substValue(v, c, path)
			if !ok {
				return calc.Layer{}, nil, nil, false
			}
			a.m = append(a.m, argVal{t.Primary, v})
			pos = append(pos, ArgPos{t.Primary, Pos{v.Line, v.Column}})
		}
	}
	for _, d := range t.Args {
		// An unknown argument is likely the misspelt required one: say only that.
		if d.Required && a.get(d.Name) == nil && a.ok {
			p.errorf(key, a.path, item, "%s needs %s", t.Name, d.Name)
			a.ok = false
		}
		if n := a.get(d.Name); n != nil && d.Kind == calc.ArgRef && a.ok {
			ids := p.from(n, c, path, item)
			if ids == nil || len(ids) != 1 {
				if ids != nil {
					p.errorf(n, a.path, item, "%s takes one name", d.Name)
				}
				a.ok = false
				continue
			}
			refs = append(refs, ids[0])
		}
	}
	if !a.ok {
		return calc.Layer{}, nil, nil, false
	}
	l = a.build(op)
	return l, pos, refs, a.ok
}

// substValue substitutes a $arg value, and the $args inside a list, into a
// copy: a block's definition is shared by all its uses and stays as
// written.
func (p *parser) substValue(n *yaml.Node, c *ctx, path string) (*yaml.Node, bool) {
	n, ok := p.subst(n, c, path)
	if !ok || n.Kind != yaml.SequenceNode {
		return n, ok
	}
	var cp *yaml.Node
	for i, e := range n.Content {
		e2, ok := p.subst(e, c, path)
		if !ok {
			return n, false
		}
		if e2 != e {
			if cp == nil {
				cp = new(yaml.Node)
				*cp = *n
				cp.Content = append([]*yaml.Node(nil), n.Content...)
			}
			cp.Content[i] = e2
		}
	}
	if cp != nil {
		return cp, true
	}
	return n, true
}

// argVal is an argument's canonical name and value.
type argVal struct {
	name string
	node *yaml.Node
}

// get returns an argument's value node, or nil when it was not given.
func (a *vals) get(name string) *yaml.Node {
	for _, v := range a.m {
		if v.name == name {
			return v.node
		}
	}
	return nil
}

func (a *vals) int(d *calc.Arg, n *yaml.Node) int64 {
	v, ok := a.p.int(n, a.path, a.item, d.Name)
	a.ok = a.ok && ok
	return v
}

func (a *vals) ints(d *calc.Arg, n *yaml.Node) []int64 {
	v, ok := a.p.ints(n, a.path, a.item, d.Name, d.Kind == calc.ArgOutSize)
	a.ok = a.ok && ok
	if ok && len(v) == 0 {
		a.p.errorf(n, a.path, a.item, "%s needs at least one value", d.Name)
		a.ok = false
	}
	return v
}

func (a *vals) bool(d *calc.Arg, n *yaml.Node) bool {
	v, ok := a.p.bool(n, a.path, a.item, d.Name)
	a.ok = a.ok && ok
	return v
}

func (a *vals) float(d *calc.Arg, n *yaml.Node) float64 {
	v, ok := a.p.float(n, a.path, a.item, d.Name)
	a.ok = a.ok && ok
	return v
}

func (a *vals) floats(d *calc.Arg, n *yaml.Node) []float64 {
	v, ok := a.p.floats(n, a.path, a.item, d.Name)
	a.ok = a.ok && ok
	return v
}

func (a *vals) enum(d *calc.Arg, n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		v := strings.ToLower(n.Value)
		for _, e := range d.Enum {
			if v == e {
				return e
			}
		}
	}
	a.p.errorf(n, a.path, a.item, "%s must be one of %s, got %s%s", d.Name, strings.Join(d.Enum, ", "), describe(n), suggest(n.Value, d.Enum))
	a.ok = false
	return ""
}

// build fills a calc.Layer of kind op from the arguments as written, with
// the schema's defaults (PyTorch's) for the rest: each argument's value is
// read by the type of the field it sets.
func (a *vals) build(op calc.Op) calc.Layer {
	// The argument fields are reached through the schema's Field functions,
	// which make the layer escape: fill the parser's one scratch layer and
	// return a copy, rather than allocate a layer per item.
	if a.p.scratch == nil {
		a.p.scratch = new(calc.Layer)
	}
	l := a.p.scratch
	*l = calc.Layer{Type: op}
	for i := range a.t.Args {
		d := &a.t.Args[i]
		n := a.get(d.Name)
		if d.Field == nil {
			if n != nil && d.Kind == calc.ArgEnum {
				a.enum(d, n)
			}
			continue
		}
		field := d.Field(l)
		if n == nil {
			setDefault(field, d.Default)
			continue
		}
		switch f := field.(type) {
		case *int64:
			*f = a.int(d, n)
		case *int:
			*f = int(a.int(d, n))
		case *[]int64:
			if d.Kind == calc.ArgPadding && n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
				switch strings.ToLower(n.Value) {
				case calc.PadSame:
					l.PadMode = calc.PadSame
				case calc.PadValid:
					l.PadMode = calc.PadValid
				default:
					a.p.errorf(n, a.path, a.item, "%s must be an integer, a list, same or valid, got %s", d.Name, describe(n))
					a.ok = false
				}
				continue
			}
			*f = a.ints(d, n)
		case *[]float64:
			*f = a.floats(d, n)
		case *bool:
			*f = a.bool(d, n)
		case **bool:
			b := a.bool(d, n)
			*f = &b
		case *float64:
			*f = a.float(d, n)
		case *string:
			if *f = a.enum(d, n); *f == "" {
				setDefault(field, d.Default)
			}
		}
		if d.Check != nil && a.ok {
			if msg := d.Check(l); msg != "" {
				a.p.errorf(n, a.path, a.item, "%s", msg)
				a.ok = false
			}
		}
	}
	if len(a.t.OneOf) > 0 {
		given := 0
		for _, name := range a.t.OneOf {
			if a.get(name) != nil {
				given++
			}
		}
		if given != 1 {
			names := a.t.OneOf
			a.p.errorf(a.key, a.path, a.item, "%s needs exactly one of %s and %s", a.t.Name, strings.Join(names[:len(names)-1], ", "), names[len(names)-1])
			a.ok = false
		}
	}
	return *l
}

// setDefault stores an argument's default (nil: leave the zero value) in
// the field it sets; lists are copied, so that no two layers share one.
func setDefault(field, def any) {
	if def == nil {
		return
	}
	switch f := field.(type) {
	case *int64:
		*f = def.(int64)
	case *int:
		*f = def.(int)
	case *[]int64:
		*f = slices.Clone(def.([]int64))
	case *[]float64:
		*f = slices.Clone(def.([]float64))
	case *bool:
		*f = def.(bool)
	case *float64:
		*f = def.(float64)
	case *string:
		*f = def.(string)
	}
}
