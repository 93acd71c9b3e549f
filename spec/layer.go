package spec

import (
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
	t := canonical(name)
	if t == "" {
		switch name {
		case "add", "concat":
			p.errorf(key, path+c.use, item, "%s needs from: with two names or more (or concat: [[...], [...]] for branches)", name)
		case "residual", "repeat", "layers", "shortcut":
			p.errorf(key, path+c.use, item, "%s needs a list of items", name)
		default:
			p.errorf(key, path+c.use, item, "unknown layer type %q%s", name, suggest(name, typeNames(p.blocks)))
		}
		return failed
	}
	if item == "" {
		item = t
	}
	l, args, ok := p.layerArgs(types[t], key, v, c, path, item)
	if !ok || in == failed {
		return failed
	}
	return p.addNode(l, []int{in}, Pos{key.Line, key.Column}, path+c.use, item, args)
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
				val, ok := p.subst(kv[1], c, path)
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
	out := p.items(b.layers, inner, in, "blocks."+b.name+".layers")
	p.closeScope(inner.scope, "block "+b.name)
	return out
}

// vals is an argument map after reading: canonical name -> value node.
type vals struct {
	p    *parser
	t    *typeDef
	key  *yaml.Node
	m    []argVal // the arguments as written, by canonical name
	path string
	item string
	ok   bool
}

// layerArgs reads a layer's arguments into a calc.Layer with PyTorch's
// defaults, recording each argument's position.
func (p *parser) layerArgs(t *typeDef, key, v *yaml.Node, c *ctx, path, item string) (calc.Layer, []ArgPos, bool) {
	a := &vals{p: p, t: t, key: key, path: path + c.use, item: item, ok: true}
	var pos []ArgPos
	if v != nil {
		v, ok := p.subst(v, c, path)
		if !ok {
			return calc.Layer{}, nil, false
		}
		switch {
		case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
		case v.Kind == yaml.MappingNode:
			for _, kv := range p.pairs(v, a.path) {
				d := t.arg(kv[0].Value)
				if d == nil {
					p.errorf(kv[0], a.path, item, "%s has no argument %q%s", t.name, kv[0].Value, suggest(kv[0].Value, t.argNames()))
					a.ok = false
					continue
				}
				if a.get(d.name) != nil {
					p.errorf(kv[0], a.path, item, "argument %s is given twice (as %s and an alias)", d.name, kv[0].Value)
					a.ok = false
					continue
				}
				val, ok := p.subst(kv[1], c, path)
				if !ok {
					a.ok = false
					continue
				}
				a.m = append(a.m, argVal{d.name, val})
				pos = append(pos, ArgPos{d.name, Pos{val.Line, val.Column}})
			}
		default:
			if t.primary == "" {
				p.errorf(v, a.path, item, "%s takes a mapping of arguments (it has no primary argument), got %s", t.name, describe(v))
				return calc.Layer{}, nil, false
			}
			if v.Kind == yaml.SequenceNode {
				for i, e := range v.Content {
					if e2, ok := p.subst(e, c, path); ok {
						v.Content[i] = e2
					}
				}
			}
			a.m = append(a.m, argVal{t.primary, v})
			pos = append(pos, ArgPos{t.primary, Pos{v.Line, v.Column}})
		}
	}
	for _, d := range t.args {
		// An unknown argument is likely the misspelt required one: say only that.
		if d.required && a.get(d.name) == nil && a.ok {
			p.errorf(key, a.path, item, "%s needs %s", t.name, d.name)
			a.ok = false
		}
	}
	if !a.ok {
		return calc.Layer{}, nil, false
	}
	l := a.build(t.name)
	return l, pos, a.ok
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

func (a *vals) int(name string, def int64) int64 {
	n := a.get(name)
	if n == nil {
		return def
	}
	v, ok := a.p.int(n, a.path, a.item, name)
	a.ok = a.ok && ok
	return v
}

func (a *vals) ints(name string, def []int64) []int64 {
	n := a.get(name)
	if n == nil {
		return def
	}
	v, ok := a.p.ints(n, a.path, a.item, name, a.t.arg(name).kind == kOutSize)
	a.ok = a.ok && ok
	if ok && len(v) == 0 {
		a.p.errorf(n, a.path, a.item, "%s needs at least one value", name)
		a.ok = false
	}
	return v
}

func (a *vals) bool(name string, def bool) bool {
	n := a.get(name)
	if n == nil {
		return def
	}
	v, ok := a.p.bool(n, a.path, a.item, name)
	a.ok = a.ok && ok
	return v
}

func (a *vals) float(name string, def float64) float64 {
	n := a.get(name)
	if n == nil {
		return def
	}
	v, ok := a.p.float(n, a.path, a.item, name)
	a.ok = a.ok && ok
	return v
}

func (a *vals) enum(name, def string) string {
	n := a.get(name)
	if n == nil {
		return def
	}
	d := a.t.arg(name)
	if n.Kind == yaml.ScalarNode {
		v := strings.ToLower(n.Value)
		for _, e := range d.enum {
			if v == e {
				return e
			}
		}
	}
	a.p.errorf(n, a.path, a.item, "%s must be one of %s, got %s%s", name, strings.Join(d.enum, ", "), describe(n), suggest(n.Value, d.enum))
	a.ok = false
	return def
}

// build fills a calc.Layer for type t from the arguments, with PyTorch's
// defaults for the rest.
func (a *vals) build(t string) calc.Layer {
	l := calc.Layer{Type: t}
	switch {
	case strings.HasPrefix(t, "conv"):
		l.Out = a.int("out", 0)
		l.In = a.int("in", 0)
		l.Kernel = a.ints("kernel", nil)
		l.Stride = a.ints("stride", []int64{1})
		l.Dilation = a.ints("dilation", []int64{1})
		l.Groups = a.int("groups", 1)
		l.Bias = a.bool("bias", true)
		l.PaddingMode = a.enum("padding_mode", "zeros")
		if n := a.get("padding"); n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!str" && a.t.arg("padding").kind == kPadding {
			switch strings.ToLower(n.Value) {
			case calc.PadSame:
				l.PadMode = calc.PadSame
			case calc.PadValid:
				l.PadMode = calc.PadValid
			default:
				a.p.errorf(n, a.path, a.item, "padding must be an integer, a list, same or valid, got %s", describe(n))
				a.ok = false
			}
		} else {
			l.Padding = a.ints("padding", []int64{0})
		}
		l.OutputPadding = a.ints("output_padding", []int64{0})
	case strings.HasPrefix(t, "maxpool"), strings.HasPrefix(t, "avgpool"):
		l.Kernel = a.ints("kernel", nil)
		l.Stride = a.ints("stride", nil) // nil: stride = kernel
		l.Padding = a.ints("padding", []int64{0})
		l.Dilation = a.ints("dilation", []int64{1})
		l.CeilMode = a.bool("ceil_mode", false)
		l.CountIncludePad = a.bool("count_include_pad", true)
		if a.get("return_indices") != nil {
			a.enum("return_indices", "false")
		}
	case strings.HasPrefix(t, "adaptive"):
		l.OutputSize = a.ints("output", nil)
	case t == "linear":
		l.Out = a.int("out", 0)
		l.In = a.int("in", 0)
		l.Bias = a.bool("bias", true)
	case t == "flatten":
		l.StartDim = int(a.int("start_dim", 1))
		l.EndDim = int(a.int("end_dim", -1))
	case strings.HasPrefix(t, "batchnorm"), strings.HasPrefix(t, "instancenorm"):
		inst := strings.HasPrefix(t, "instancenorm")
		l.In = a.int("in", 0)
		l.Eps = a.float("eps", 1e-5)
		l.Momentum = a.float("momentum", 0.1)
		l.Affine = a.bool("affine", !inst)
		l.TrackRunningStats = a.bool("track_running_stats", !inst)
	case t == "layernorm":
		if n := a.get("shape"); n != nil {
			l.NormShape = a.ints("shape", nil)
		}
		l.Eps = a.float("eps", 1e-5)
		l.Affine = a.bool("elementwise_affine", true)
		l.LayerNormBias = a.bool("bias", true)
	case t == "groupnorm":
		l.Groups = a.int("groups", 0)
		l.In = a.int("in", 0)
		l.Eps = a.float("eps", 1e-5)
		l.Affine = a.bool("affine", true)
	case t == "leakyrelu":
		l.NegativeSlope = a.float("negative_slope", 0.01)
	case t == "elu":
		l.Alpha = a.float("alpha", 1.0)
	case t == "gelu":
		l.Approximate = a.enum("approximate", "none")
	case t == "softmax":
		l.Dim = int(a.int("dim", 1))
	case strings.HasPrefix(t, "dropout"):
		l.P = a.float("p", 0.5)
		if l.P < 0 || l.P > 1 {
			a.p.errorf(a.get("p"), a.path, a.item, "dropout probability has to be between 0 and 1, but got %v", l.P)
			a.ok = false
		}
	case strings.HasPrefix(t, "zeropad"):
		l.Pad = a.ints("padding", nil)
	case t == "upsample":
		if a.get("scale") != nil {
			v, ok := a.p.floats(a.get("scale"), a.path, a.item, "scale")
			a.ok = a.ok && ok
			l.Scale = v
		}
		l.Size = a.ints("size", nil)
		l.Mode = a.enum("mode", "nearest")
		if a.get("align_corners") != nil {
			b := a.bool("align_corners", false)
			l.AlignCorners = &b
		}
		if (a.get("scale") == nil) == (a.get("size") == nil) {
			a.p.errorf(a.key, a.path, a.item, "upsample needs exactly one of scale and size")
			a.ok = false
		}
	}
	return l
}
