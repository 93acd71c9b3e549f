package onnx

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/spec"
)

// Structure: the flat list of a conversion written back as a spec a
// person would write: residual items where an add sums a chain with the
// chain's input (or a second chain from it, the shortcut), and repeat
// where the same items follow each other. Only what keeps the layers in
// the flat list's order is recovered, so that the structured spec's
// layers are the flat list's, one for one (cnncalc import checks it, and
// writes the flat spec when they are not).

// elem is one item of a structured list: a plain item, a residual or a
// repeat, covering the flat items lo..hi (its output is item hi).
type elem struct {
	lo, hi int
	item   *Item // a plain item
	// A residual: body, shortcut (nil for the identity), and the add.
	body, shortcut []elem
	add            *Item
	// A repeat: count times unit.
	count int
	unit  []elem
	names []string // the repeat's instances' module paths, for a comment
}

// StructuredYAML is YAML with residuals and repeats recovered.
func (net *Net) StructuredYAML(file string) []byte {
	items := net.Items
	refs := make([][]int, len(items)) // refs[j]: the items that read j
	for i, it := range items {
		for _, f := range it.From {
			if f >= 0 {
				refs[f] = append(refs[f], i)
			}
		}
		if it.SizeOf >= 0 {
			refs[it.SizeOf] = append(refs[it.SizeOf], i)
		}
	}
	list := make([]elem, len(items))
	for i, it := range items {
		list[i] = elem{lo: i, hi: i, item: it}
	}
	list = residuals(items, refs, list)
	list = repeats(items, refs, list)
	var b strings.Builder
	net.header(&b, file)
	b.WriteString("layers:\n")
	for k, e := range list {
		prev := calc.Input
		if k > 0 {
			prev = list[k-1].hi
		}
		net.writeElem(&b, e, "  ", prev, true)
	}
	return []byte(b.String())
}

// chain says whether items lo..hi read each other in turn, the first
// reading from, and none is read from outside the chain but the last
// (by reader only).
func chain(items []*Item, refs [][]int, lo, hi, from, reader int) bool {
	if lo > hi {
		return false
	}
	for i := lo; i <= hi; i++ {
		it := items[i]
		want := i - 1
		if i == lo {
			want = from
		}
		if len(it.From) != 1 || it.From[0] != want || it.SizeOf != noRef || it.Layer.Type.Info().Merge {
			return false
		}
		for _, r := range refs[i] {
			if (i < hi && r != i+1) || (i == hi && r != reader) {
				return false
			}
		}
	}
	return true
}

// residuals folds each add of a chain and its input (or of two chains
// from one input, the body before the shortcut in the list) into a
// residual element.
func residuals(items []*Item, refs [][]int, list []elem) []elem {
	var out []elem
	for _, e := range list {
		it := e.item
		if it == nil || it.Layer.Type != calc.Add || len(it.From) != 2 {
			out = append(out, e)
			continue
		}
		a := e.lo
		r, ok := residualAt(items, refs, a)
		if !ok {
			out = append(out, e)
			continue
		}
		// The elements the residual takes are the last ones of out.
		k := len(out)
		for k > 0 && out[k-1].lo > r.lo-1 {
			k--
		}
		if k < len(out) && out[k].lo != r.lo {
			out = append(out, e)
			continue
		}
		out = append(out[:k], r)
	}
	return out
}

// residualAt matches the add at flat index a.
func residualAt(items []*Item, refs [][]int, a int) (elem, bool) {
	from := items[a].From
	for _, order := range [][2]int{{from[0], from[1]}, {from[1], from[0]}} {
		p, q := order[0], order[1]
		// Identity shortcut: body q+1..p, p just before the add.
		if p == a-1 && q < p && chain(items, refs, q+1, p, q, a) {
			return elem{lo: q + 1, hi: a, body: plain(items, q+1, p), add: items[a]}, true
		}
		// A shortcut chain after the body: body s+1..p, shortcut p+1..q,
		// both reading s.
		if q == a-1 && p < q && p >= 0 && len(items[p+1].From) == 1 {
			s := items[p+1].From[0]
			if s < p && chain(items, refs, s+1, p, s, a) && chain(items, refs, p+1, q, s, a) {
				return elem{lo: s + 1, hi: a, body: plain(items, s+1, p), shortcut: plain(items, p+1, q), add: items[a]}, true
			}
		}
	}
	return elem{}, false
}

func plain(items []*Item, lo, hi int) []elem {
	var out []elem
	for i := lo; i <= hi; i++ {
		out = append(out, elem{lo: i, hi: i, item: items[i]})
	}
	return out
}

// signature is an element's layers and arguments, names left out.
func signature(e elem) string {
	switch {
	case e.item != nil:
		return e.item.Layer.Type.String() + "{" + strings.Join(layerArgs(&e.item.Layer), ",") + "}"
	case e.add != nil:
		var b strings.Builder
		b.WriteString("res[")
		for _, x := range e.body {
			b.WriteString(signature(x) + ";")
		}
		b.WriteString("|")
		for _, x := range e.shortcut {
			b.WriteString(signature(x) + ";")
		}
		return b.String() + "]"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "rep%d[", e.count)
	for _, x := range e.unit {
		b.WriteString(signature(x) + ";")
	}
	return b.String() + "]"
}

// sequential says whether the element reads the one before it only, and
// nothing after it reads its inner items or, but its successor, its
// output: a repeat can take it.
func sequential(items []*Item, refs [][]int, e elem, prev int, next elem) bool {
	if e.item != nil {
		if len(e.item.From) != 1 || e.item.From[0] != prev || e.item.SizeOf != noRef {
			return false
		}
	}
	for i := e.lo; i <= e.hi; i++ {
		for _, r := range refs[i] {
			// Inner outputs stay inside; the output goes to the next
			// element, whose input it is (a residual's shortcut reads it
			// too).
			if r > e.hi && (i != e.hi || (next.lo < len(items) && (r < next.lo || r > next.hi))) {
				return false
			}
		}
	}
	return true
}

// repeats writes runs of equal elements (or of equal groups of up to 6
// elements) as one repeat.
func repeats(items []*Item, refs [][]int, list []elem) []elem {
	var out []elem
	for i := 0; i < len(list); {
		bestL, bestK := 0, 1
		for l := 1; l <= 6 && i+2*l <= len(list); l++ {
			k := 1
			for i+(k+1)*l <= len(list) && sameRun(list[i:i+l], list[i+k*l:i+(k+1)*l]) {
				k++
			}
			if k >= 2 && k*l > bestK*bestL {
				bestL, bestK = l, k
			}
		}
		if bestL > 0 {
			run := list[i : i+bestK*bestL]
			ok := true
			for j, e := range run {
				prev := calc.Input
				if i+j > 0 {
					prev = list[i+j-1].hi
				}
				// The last element's output leaves the repeat: anything
				// may read it.
				next := elem{lo: len(items), hi: len(items)}
				if j < len(run)-1 {
					next = run[j+1]
				}
				if !sequential(items, refs, e, prev, next) {
					ok = false
				}
			}
			first := list[i]
			if first.item != nil {
				prev := calc.Input
				if i > 0 {
					prev = list[i-1].hi
				}
				ok = ok && len(first.item.From) == 1 && first.item.From[0] == prev
			}
			if ok {
				r := elem{lo: run[0].lo, hi: run[len(run)-1].hi, count: bestK, unit: list[i : i+bestL]}
				for k := 0; k < bestK; k++ {
					r.names = append(r.names, instanceName(items, run[k*bestL].lo, run[(k+1)*bestL-1].hi))
				}
				out = append(out, r)
				i += bestK * bestL
				continue
			}
		}
		out = append(out, list[i])
		i++
	}
	return out
}

func sameRun(a, b []elem) bool {
	for k := range a {
		if signature(a[k]) != signature(b[k]) {
			return false
		}
	}
	return true
}

// instanceName is the module path the items lo..hi share (layer1.0 for
// layer1.0.conv1 ... layer1.0.relu_1), or the first and last names.
func instanceName(items []*Item, lo, hi int) string {
	common := items[lo].Name
	for i := lo + 1; i <= hi; i++ {
		n := items[i].Name
		for !strings.HasPrefix(n, common) || (len(n) > len(common) && common != "" && n[len(common)] != '.') {
			j := strings.LastIndexByte(common, '.')
			if j < 0 {
				common = ""
				break
			}
			common = common[:j]
		}
	}
	if common != "" {
		return common
	}
	return items[lo].Name + ".." + items[hi].Name
}

// writeElem writes one element at indent; named says whether the items
// keep their names (not inside a repeat, whose names are per iteration).
func (net *Net) writeElem(b *strings.Builder, e elem, indent string, prev int, named bool) {
	switch {
	case e.item != nil:
		net.writeItem(b, e.item, indent, prev, named)
	case e.add != nil:
		b.WriteString(indent + "- residual:\n")
		for k, x := range e.body {
			p := e.lo - 1
			if k > 0 {
				p = e.body[k-1].hi
			}
			net.writeElem(b, x, indent+"    ", p, named)
		}
		if len(e.shortcut) > 0 {
			b.WriteString(indent + "  shortcut:\n")
			for k, x := range e.shortcut {
				p := e.lo - 1
				if k > 0 {
					p = e.shortcut[k-1].hi
				}
				net.writeElem(b, x, indent+"    ", p, named)
			}
		}
		if named {
			fmt.Fprintf(b, "%s  name: %s\n", indent, spec.QuoteName(e.add.Name))
		}
	default:
		fmt.Fprintf(b, "%s# %s\n", indent, clean(strings.Join(e.names, ", ")))
		fmt.Fprintf(b, "%s- repeat: %d\n%s  layers:\n", indent, e.count, indent)
		for k, x := range e.unit {
			p := e.lo - 1
			if k > 0 {
				p = e.unit[k-1].hi
			}
			net.writeElem(b, x, indent+"    ", p, false)
		}
	}
}

// writeItem writes one plain item; prev is the flat index of the item
// before it in its list (from: is written when it reads another).
func (net *Net) writeItem(b *strings.Builder, it *Item, indent string, prev int, named bool) {
	info := it.Layer.Type.Info()
	args := layerArgs(&it.Layer)
	if it.SizeOf != noRef {
		args = append(args, "size_of: "+net.refName(it.SizeOf))
	}
	from := len(it.From) != 1 || it.From[0] != prev || info.Merge
	if len(args) == 0 && !named && !from {
		// A bare item: every argument its default.
		b.WriteString(indent + "- " + info.Name + "\n")
		return
	}
	b.WriteString(indent + "- " + info.Name + ":")
	if len(args) > 0 {
		b.WriteString(" {" + strings.Join(args, ", ") + "}")
	}
	b.WriteString("\n")
	if named {
		fmt.Fprintf(b, "%s  name: %s\n", indent, spec.QuoteName(it.Name))
	}
	if from {
		names := make([]string, len(it.From))
		for k, f := range it.From {
			names[k] = net.refName(f)
		}
		if len(names) == 1 {
			fmt.Fprintf(b, "%s  from: %s\n", indent, names[0])
		} else {
			fmt.Fprintf(b, "%s  from: [%s]\n", indent, strings.Join(names, ", "))
		}
	}
}

// SameLayers says whether two analyses hold the same layers in the same
// order: kind, arguments' effect (output shape), params, buffers, MACs
// and the wiring.
func SameLayers(a, b *spec.Analysis) bool {
	if len(a.Net.Nodes) != len(b.Net.Nodes) {
		return false
	}
	for i := range a.Net.Nodes {
		x, y := &a.Net.Nodes[i], &b.Net.Nodes[i]
		lx, ly := a.Result.Layers[i], b.Result.Layers[i]
		fx, fy := x.From, y.From
		if x.Type == calc.Add {
			// x + y is y + x, to the last bit.
			fx, fy = slices.Sorted(slices.Values(fx)), slices.Sorted(slices.Values(fy))
		}
		if x.Type != y.Type || !slices.Equal(fx, fy) || !slices.Equal(lx.Output, ly.Output) ||
			lx.Params != ly.Params || lx.Buffers != ly.Buffers || lx.MACs != ly.MACs {
			return false
		}
	}
	return true
}
