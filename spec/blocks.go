package spec

import (
	"strings"

	"github.com/cnncalc/cnncalc/calc"

	"go.yaml.in/yaml/v3"
)

// blockDef is a reusable block from blocks:.
type blockDef struct {
	name   string
	key    *yaml.Node
	args   map[string]*yaml.Node // every declared argument with its default
	order  []string
	layers *yaml.Node
}

func (p *parser) readBlocks(v *yaml.Node) {
	if v.Kind != yaml.MappingNode {
		p.errorf(v, "blocks", "", "blocks must be a mapping of block names to {args, layers}")
		return
	}
	for _, kv := range p.pairs(v, "blocks") {
		k, b := kv[0], kv[1]
		path := "blocks." + k.Value
		if _, ok := calc.Lookup(k.Value); ok || isComposite(k.Value) || k.Value == "input" {
			p.errorf(k, path, "", "block name %q is taken by a layer type or keyword", k.Value)
			continue
		}
		d := &blockDef{name: k.Value, key: k, args: map[string]*yaml.Node{}}
		if b.Kind == yaml.SequenceNode {
			d.layers = b // shorthand: a block given as its list of layers
		} else if b.Kind != yaml.MappingNode {
			p.errorf(b, path, "", "a block is a mapping with layers: and optional args:")
			continue
		} else {
			for _, kv := range p.pairs(b, path) {
				switch kv[0].Value {
				case "args":
					if kv[1].Kind == yaml.ScalarNode && kv[1].Tag == "!!null" {
						continue
					}
					if kv[1].Kind != yaml.MappingNode {
						p.errorf(kv[1], path+".args", "", "args must be a mapping of argument names to defaults")
						continue
					}
					for _, a := range p.pairs(kv[1], path+".args") {
						d.args[a[0].Value] = a[1]
						d.order = append(d.order, a[0].Value)
					}
				case "layers":
					d.layers = kv[1]
				default:
					p.errorf(kv[0], path, "", "unknown block key %q%s", kv[0].Value, suggest(kv[0].Value, []string{"args", "layers"}))
				}
			}
		}
		if d.layers == nil || d.layers.Kind != yaml.SequenceNode {
			p.errorf(k, path, "", "block %s needs layers: as a list of items", k.Value)
			continue
		}
		p.blocks[k.Value] = d
	}
}

// checkCycles reports every block that uses itself, directly or through
// other blocks, unused blocks included.
func (p *parser) checkCycles() {
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(name string)
	visit = func(name string) {
		state[name] = active
		stack = append(stack, name)
		for _, u := range p.blockUses(p.blocks[name].layers, 0) {
			switch state[u.Value] {
			case active:
				i := 0
				for stack[i] != u.Value {
					i++
				}
				cycle := append(append([]string(nil), stack[i:]...), u.Value)
				p.errorf(u, "blocks."+name, "", "block cycle: %s", strings.Join(cycle, " -> "))
			case unseen:
				visit(u.Value)
			}
		}
		stack = stack[:len(stack)-1]
		state[name] = done
	}
	for _, name := range p.blockNames() {
		if state[name] == unseen {
			visit(name)
		}
	}
}

// blockUses returns the key or scalar nodes that name a block anywhere
// under n.
func (p *parser) blockUses(n *yaml.Node, depth int) []*yaml.Node {
	n = p.resolve(n)
	if n == nil || depth > MaxDepth || p.stopped {
		return nil
	}
	var out []*yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		if _, ok := p.blocks[n.Value]; ok {
			out = append(out, n)
		}
	case yaml.SequenceNode:
		for _, e := range n.Content {
			out = append(out, p.blockUses(e, depth+1)...)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := p.resolve(n.Content[i])
			if _, ok := p.blocks[k.Value]; ok && k.Kind == yaml.ScalarNode {
				out = append(out, k)
			}
			switch k.Value {
			case "layers", "residual", "shortcut", "concat", "gate":
				out = append(out, p.blockUses(n.Content[i+1], depth+1)...)
			}
		}
	}
	return out
}
