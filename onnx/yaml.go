package onnx

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/spec"
)

// YAML writes the network as a cnncalc spec: one item per layer, every
// argument that differs from PyTorch's default written as the layer
// table's schema spells it, the item names, and from: where an item does
// not read the one before it.
func (net *Net) YAML(file string) []byte {
	var b strings.Builder
	net.header(&b, file)
	b.WriteString("layers:\n")
	for i, it := range net.Items {
		prev := calc.Input
		if i > 0 {
			prev = i - 1
		}
		net.writeItem(&b, it, "  ", prev, true)
	}
	return []byte(b.String())
}

// header writes the comment saying where the spec comes from, and the
// name, input and batch.
func (net *Net) header(b *strings.Builder, file string) {
	fmt.Fprintf(b, "# Imported from %s by cnncalc import.\n", clean(file))
	var about []string
	if net.Producer != "" {
		about = append(about, "producer "+net.Producer)
	}
	about = append(about, fmt.Sprintf("opset %d", net.Opset))
	if net.InputName != "" {
		about = append(about, fmt.Sprintf("input %q", net.InputName))
	}
	fmt.Fprintf(b, "# ONNX model: %s.\n", clean(strings.Join(about, ", ")))
	if net.Name != "" {
		fmt.Fprintf(b, "name: %s\n", spec.QuoteName(clean(net.Name)))
	}
	fmt.Fprintf(b, "input: %s\n", intList(net.Input[1:]))
	if net.Input[0] != 1 {
		fmt.Fprintf(b, "batch: %d\n", net.Input[0])
	}
}

func (net *Net) refName(i int) string {
	if i == calc.Input {
		return "input"
	}
	return spec.QuoteName(net.Items[i].Name)
}

func intList(v []int64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatInt(x, 10)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// layerArgs writes the arguments of l that differ from their defaults,
// in the schema's order.
func layerArgs(l *calc.Layer) []string {
	info := l.Type.Info()
	var out []string
	for _, a := range info.Args {
		if a.Field == nil || a.Kind == calc.ArgIgnored || a.Kind == calc.ArgRef {
			continue
		}
		// Inferred sizes are never written.
		if a.Name == "in" {
			continue
		}
		if s, ok := argText(l, &a); ok {
			out = append(out, a.Name+": "+s)
		}
	}
	return out
}

// argText is the written value of an argument, ok false when it is the
// default (and not required).
func argText(l *calc.Layer, a *calc.Arg) (string, bool) {
	switch p := a.Field(l).(type) {
	case *int64:
		d, _ := a.Default.(int64)
		if !a.Required && *p == d {
			return "", false
		}
		return strconv.FormatInt(*p, 10), true
	case *int:
		d, _ := a.Default.(int)
		if !a.Required && *p == d {
			return "", false
		}
		return strconv.Itoa(*p), true
	case *[]int64:
		v := *p
		if len(v) == 0 {
			return "", false
		}
		if d, ok := a.Default.([]int64); ok && !a.Required && sameAs(v, d) {
			return "", false
		}
		// A pool's stride defaults to its kernel.
		if a.Default == nil && a.Name == "stride" && slices.Equal(perAxisFull(v, len(l.Kernel)), perAxisFull(l.Kernel, len(v))) {
			return "", false
		}
		switch a.Kind {
		case calc.ArgShape, calc.ArgPadList:
			return intList(v), true
		case calc.ArgOutSize:
			parts := make([]string, len(v))
			for i, x := range v {
				if x < 0 {
					parts[i] = "~"
				} else {
					parts[i] = strconv.FormatInt(x, 10)
				}
			}
			if len(parts) == 1 {
				return parts[0], true
			}
			return "[" + strings.Join(parts, ", ") + "]", true
		}
		if allSame(v) {
			return strconv.FormatInt(v[0], 10), true
		}
		return intList(v), true
	case *[]float64:
		v := *p
		if len(v) == 0 {
			return "", false
		}
		if len(v) == 1 {
			return floatText(v[0]), true
		}
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = floatText(x)
		}
		return "[" + strings.Join(parts, ", ") + "]", true
	case *bool:
		d, _ := a.Default.(bool)
		if !a.Required && *p == d {
			return "", false
		}
		return strconv.FormatBool(*p), true
	case **bool:
		if *p == nil {
			return "", false
		}
		return strconv.FormatBool(**p), true
	case *float64:
		d, _ := a.Default.(float64)
		if !a.Required && float32(*p) == float32(d) {
			return "", false
		}
		return floatText(*p), true
	case *string:
		d, _ := a.Default.(string)
		if *p == "" || (!a.Required && *p == d) {
			return "", false
		}
		return *p, true
	}
	return "", false
}

// sameAs says whether the per-axis v equals the default d (one value for
// every axis).
func sameAs(v, d []int64) bool {
	if len(d) == 1 {
		for _, x := range v {
			if x != d[0] {
				return false
			}
		}
		return true
	}
	return slices.Equal(v, d)
}

func allSame(v []int64) bool {
	for _, x := range v {
		if x != v[0] {
			return false
		}
	}
	return true
}

func perAxisFull(v []int64, n int) []int64 {
	if len(v) == 1 && n > 1 {
		out := make([]int64, n)
		for i := range out {
			out[i] = v[0]
		}
		return out
	}
	return v
}

// floatText writes a float the shortest way that reads back the same;
// YAML reads 1e-05 as a float, so the exponent form is kept.
func floatText(v float64) string {
	s := strconv.FormatFloat(v, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}

// clean makes a string from the model printable on one line: valid UTF-8,
// control characters (newlines too) replaced.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "?")
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 || r == 0xfeff {
			return '?'
		}
		return r
	}, s)
}
