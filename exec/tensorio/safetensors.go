package tensorio

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/nlpodyssey/safetensors"

	"github.com/cnncalc/cnncalc/exec"
)

// ckptGroup is one module's tensors in a checkpoint: the keys sharing a
// prefix ("layer1.0.conv1" for "layer1.0.conv1.weight").
type ckptGroup struct {
	prefix  string
	tensors map[string]*exec.Tensor // by suffix: weight, bias, running_mean, running_var
	keys    map[string]string       // suffix -> full key
	order   uint64                  // where its data starts in the file
}

// LoadSafetensors reads a PyTorch state_dict saved as safetensors and
// matches its tensors to the plan's layers in order: for each layer that has
// parameters, the first unused module (in the file's order) whose tensors
// have exactly the shapes the spec needs. num_batches_tracked is skipped.
// A module whose shapes do not fit is reported with both shapes
// ("conv2.weight: checkpoint [16 6 5 5], spec needs [16 6 3 3]").
func LoadSafetensors(p *exec.Plan, path string, describe func(node int) string) ([]exec.Weights, error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	st, err := safetensors.Deserialize(buf)
	if err != nil {
		return nil, fmt.Errorf("%s: not a safetensors file: %v", path, err)
	}
	groups := map[string]*ckptGroup{}
	for _, tv := range st.Tensors() {
		name := tv.Name
		dot := strings.LastIndexByte(name, '.')
		prefix, suffix := "", name
		if dot >= 0 {
			prefix, suffix = name[:dot], name[dot+1:]
		}
		if suffix == "num_batches_tracked" {
			continue
		}
		known := false
		for _, s := range exec.TensorNames {
			known = known || s == suffix
		}
		if !known {
			return nil, fmt.Errorf("%s: tensor %s is not a weight, bias or running statistic", path, name)
		}
		t, err := toTensor(tv)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %v", path, name, err)
		}
		g := groups[prefix]
		if g == nil {
			g = &ckptGroup{prefix: prefix, tensors: map[string]*exec.Tensor{}, keys: map[string]string{}, order: math.MaxUint64}
			groups[prefix] = g
		}
		g.tensors[suffix] = t
		g.keys[suffix] = name
		g.order = min(g.order, offsetOf(buf, name))
	}
	order, byName := orderGroups(groups)
	var tree map[int]*ckptGroup
	if byName {
		// A file sorted by name has lost the module order: recover it from
		// the module tree and the shapes the layers need.
		tree = matchTree(p, order)
	}
	used := make([]bool, len(order))
	params := make([]exec.Weights, len(p.Net.Nodes))
	for i := range p.Net.Nodes {
		need, ok := p.TensorShapes(i)
		if !ok || (need[0] == nil && need[1] == nil && need[2] == nil && need[3] == nil) {
			continue
		}
		match, near := -1, -1
		for gi, g := range order {
			if used[gi] {
				continue
			}
			fits, sameKinds := groupFits(g, need)
			if fits && (tree == nil || tree[i] == g) {
				match = gi
				break
			}
			if sameKinds && near < 0 {
				near = gi
			}
		}
		if match < 0 {
			if near >= 0 {
				g := order[near]
				for k, s := range need {
					if s != nil && !slices.Equal(g.tensors[exec.TensorNames[k]].Shape, s) {
						return nil, fmt.Errorf("%s: checkpoint %v, spec needs %v (%s)", g.keys[exec.TensorNames[k]], g.tensors[exec.TensorNames[k]].Shape, s, describe(i))
					}
				}
			}
			return nil, fmt.Errorf("%s: no tensors left for %s, which needs %s", path, describe(i), needText(need))
		}
		used[match] = true
		for k := range need {
			if need[k] != nil {
				*params[i].Slot(k) = order[match].tensors[exec.TensorNames[k]]
			}
		}
	}
	var extra []string
	for gi, g := range order {
		if !used[gi] {
			for _, k := range g.keys {
				extra = append(extra, k)
			}
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		if len(extra) > 5 {
			extra = append(extra[:5], fmt.Sprintf("and %d more", len(extra)-5))
		}
		return nil, fmt.Errorf("%s: the spec uses no layer for %s", path, strings.Join(extra, ", "))
	}
	return params, nil
}

// groupFits reports whether a module's tensors are exactly the ones needed,
// and whether it at least has the same kinds of tensors.
func groupFits(g *ckptGroup, need [4][]int) (fits, sameKinds bool) {
	fits, sameKinds = true, true
	for k, s := range need {
		t := g.tensors[exec.TensorNames[k]]
		if (t == nil) != (s == nil) {
			return false, false
		}
		if t != nil && !slices.Equal(t.Shape, s) {
			fits = false
		}
	}
	return fits, sameKinds
}

func needText(need [4][]int) string {
	var parts []string
	for k, s := range need {
		if s != nil {
			parts = append(parts, fmt.Sprintf("%s %v", exec.TensorNames[k], s))
		}
	}
	return strings.Join(parts, ", ")
}

// orderGroups puts modules in the order of their data in the file, which is
// state_dict order when the writer kept it. A file written in sorted key
// order (the HF safetensors library sorts) has lost that order: its modules
// are put in natural order (so that "10" follows "9") and byName is set.
func orderGroups(groups map[string]*ckptGroup) (out []*ckptGroup, byName bool) {
	for _, g := range groups {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].order < out[j].order })
	byName = sort.SliceIsSorted(out, func(i, j int) bool { return out[i].prefix < out[j].prefix })
	if byName {
		sort.SliceStable(out, func(i, j int) bool { return naturalLess(out[i].prefix, out[j].prefix) })
	}
	return out, byName
}

// modTree is a module path tree: a node per path segment, the module's
// own tensors at its node.
type modTree struct {
	group    *ckptGroup
	children []*modTree // in natural order of their names
	names    []string
}

func buildTree(groups []*ckptGroup) *modTree {
	root := &modTree{}
	for _, g := range groups {
		n := root
		if g.prefix != "" {
			for _, seg := range strings.Split(g.prefix, ".") {
				var next *modTree
				for k, name := range n.names {
					if name == seg {
						next = n.children[k]
					}
				}
				if next == nil {
					next = &modTree{}
					n.names = append(n.names, seg)
					n.children = append(n.children, next)
				}
				n = next
			}
		}
		n.group = g
	}
	var sortTree func(n *modTree)
	sortTree = func(n *modTree) {
		idx := make([]int, len(n.names))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return naturalLess(n.names[idx[a]], n.names[idx[b]]) })
		names, children := make([]string, len(idx)), make([]*modTree, len(idx))
		for k, i := range idx {
			names[k], children[k] = n.names[i], n.children[i]
		}
		n.names, n.children = names, children
		for _, c := range n.children {
			sortTree(c)
		}
	}
	sortTree(root)
	return root
}

// matchTree orders a name-sorted checkpoint's modules the way PyTorch
// registered them, using only what state_dict order guarantees: a module's
// tensors come before its children's, and a subtree's modules are
// contiguous. Children are tried in natural order, the first whose modules
// fit the next layers' shapes is taken, with backtracking. It returns the
// module of each node that has tensors, or nil when no order fits.
func matchTree(p *exec.Plan, groups []*ckptGroup) map[int]*ckptGroup {
	var layers []int
	var needs [][4][]int
	for i := range p.Net.Nodes {
		need, ok := p.TensorShapes(i)
		if ok && (need[0] != nil || need[1] != nil || need[2] != nil || need[3] != nil) {
			layers = append(layers, i)
			needs = append(needs, need)
		}
	}
	budget := 1_000_000
	type key struct {
		n   *modTree
		pos int
	}
	failed := map[key]bool{}
	var assign []*ckptGroup
	// subtree matches n's modules from layer pos on, appending to assign.
	var subtree func(n *modTree, pos int) (int, bool)
	// children matches the unused children of n (in any order) from pos.
	var children func(n *modTree, used []bool, left, pos int) (int, bool)
	subtree = func(n *modTree, pos int) (int, bool) {
		if failed[key{n, pos}] || budget <= 0 {
			return 0, false
		}
		budget--
		mark := len(assign)
		if n.group != nil {
			if pos >= len(needs) {
				failed[key{n, pos}] = true
				return 0, false
			}
			if fits, _ := groupFits(n.group, needs[pos]); !fits {
				failed[key{n, pos}] = true
				return 0, false
			}
			assign = append(assign, n.group)
			pos++
		}
		end, ok := children(n, make([]bool, len(n.children)), len(n.children), pos)
		if !ok {
			assign = assign[:mark]
			failed[key{n, pos - boolInt(n.group != nil)}] = true
			return 0, false
		}
		return end, true
	}
	children = func(n *modTree, used []bool, left, pos int) (int, bool) {
		if left == 0 {
			return pos, true
		}
		for k, c := range n.children {
			if used[k] {
				continue
			}
			mark := len(assign)
			end, ok := subtree(c, pos)
			if !ok {
				continue
			}
			used[k] = true
			if e, ok := children(n, used, left-1, end); ok {
				return e, true
			}
			used[k] = false
			assign = assign[:mark]
		}
		return 0, false
	}
	end, ok := subtree(buildTree(groups), 0)
	if !ok || end != len(needs) || len(assign) != len(layers) {
		return nil
	}
	out := make(map[int]*ckptGroup, len(layers))
	for k, i := range layers {
		out[i] = assign[k]
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// naturalLess compares module paths the way a person counts: runs of digits
// compare as numbers, so "denselayer2" < "denselayer10" and "9" < "10".
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			x, _ := strconv.Atoi(a[:da])
			y, _ := strconv.Atoi(b[:db])
			if x != y {
				return x < y
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

// digitRun is the length of the run of digits that starts s (at most 9, so
// that it converts without overflow).
func digitRun(s string) int {
	n := 0
	for n < len(s) && n < 9 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// offsetOf returns where a tensor's data begins in a safetensors file.
func offsetOf(buf []byte, name string) uint64 {
	_, meta, err := safetensors.ReadMetadata(buf)
	if err != nil {
		return math.MaxUint64
	}
	if info, ok := meta.Tensors()[name]; ok {
		return info.DataOffsets[0]
	}
	return math.MaxUint64
}

// toTensor converts a float32 (or float16/bfloat16/float64) safetensors view.
func toTensor(tv safetensors.NamedTensorView) (*exec.Tensor, error) {
	shape := make([]int, len(tv.TensorView.Shape()))
	for i, s := range tv.TensorView.Shape() {
		shape[i] = int(s)
	}
	t := exec.New(shape...)
	raw := tv.TensorView.Data()
	switch tv.TensorView.DType() {
	case safetensors.F32:
		for i := range t.Data {
			t.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case safetensors.F64:
		for i := range t.Data {
			t.Data[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
		}
	case safetensors.F16:
		for i := range t.Data {
			t.Data[i] = halfToFloat(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	case safetensors.BF16:
		for i := range t.Data {
			t.Data[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(raw[2*i:])) << 16)
		}
	default:
		return nil, fmt.Errorf("dtype %v is not a float type", tv.TensorView.DType())
	}
	return t, nil
}

// halfToFloat converts an IEEE 754 half-precision value.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := int32(h>>10) & 0x1f
	frac := uint32(h & 0x3ff)
	switch {
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		f := float32(frac) / 1024 * float32(math.Pow(2, -14))
		if sign != 0 {
			return -f
		}
		return f
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	}
	return math.Float32frombits(sign | uint32(exp-15+127)<<23 | frac<<13)
}
