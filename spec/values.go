package spec

import (
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// int reads an integer scalar. Errors are recorded; ok is false then.
func (p *parser) int(n *yaml.Node, path, item, what string) (int64, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, path, item, "%s must be an integer, got %s", what, describe(n))
		return 0, false
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
	if err != nil {
		if f, ferr := strconv.ParseFloat(n.Value, 64); ferr == nil && f == math.Trunc(f) && math.Abs(f) < 1<<62 && n.Tag == "!!float" {
			return int64(f), true
		}
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			p.errorf(n, path, item, "%s %s does not fit in int64", what, n.Value)
		} else {
			p.errorf(n, path, item, "%s must be an integer, got %s", what, describe(n))
		}
		return 0, false
	}
	return v, true
}

// ints reads an integer or a list of integers; with wild, ~ (null) reads as -1.
func (p *parser) ints(n *yaml.Node, path, item, what string, wild bool) ([]int64, bool) {
	if n.Kind == yaml.SequenceNode {
		out := make([]int64, 0, len(n.Content))
		for _, e := range n.Content {
			e = p.resolve(e)
			if wild && e.Kind == yaml.ScalarNode && e.Tag == "!!null" {
				out = append(out, -1)
				continue
			}
			v, ok := p.int(e, path, item, what)
			if !ok {
				return nil, false
			}
			out = append(out, v)
		}
		return out, true
	}
	if wild && n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return []int64{-1}, true
	}
	v, ok := p.int(n, path, item, what)
	if !ok {
		return nil, false
	}
	return []int64{v}, true
}

func (p *parser) float(n *yaml.Node, path, item, what string) (float64, bool) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		p.errorf(n, path, item, "%s must be a number, got %s", what, describe(n))
		return 0, false
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		p.errorf(n, path, item, "%s must be a finite number, got %s", what, n.Value)
		return 0, false
	}
	return v, true
}

func (p *parser) floats(n *yaml.Node, path, item, what string) ([]float64, bool) {
	if n.Kind != yaml.SequenceNode {
		v, ok := p.float(n, path, item, what)
		return []float64{v}, ok
	}
	var out []float64
	for _, e := range n.Content {
		v, ok := p.float(p.resolve(e), path, item, what)
		if !ok {
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}

func (p *parser) bool(n *yaml.Node, path, item, what string) (bool, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		var b bool
		if err := n.Decode(&b); err == nil {
			return b, true
		}
	}
	p.errorf(n, path, item, "%s must be true or false, got %s", what, describe(n))
	return false, false
}

// describe names a node's kind and value for an error message.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	if n.Tag == "!!null" {
		return "nothing (null)"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:40] + "..."
	}
	return strconv.Quote(v)
}
