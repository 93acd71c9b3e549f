package tensorio

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/cnncalc/cnncalc/exec"
)

// ckptGroup is one module's tensors in a checkpoint: the keys sharing a
// prefix ("layer1.0.conv1" for "layer1.0.conv1.weight").
type ckptGroup struct {
	prefix  string
	tensors map[string]*stTensor // by suffix: weight, bias, running_mean, running_var
	keys    map[string]string    // suffix -> full key
	order   int64                // where its data starts in the file
}

// LoadSafetensors reads a PyTorch state_dict saved as safetensors and
// matches its tensors to the plan's layers in order: for each layer that has
// parameters, the first unused module (in the file's order) whose tensors
// have exactly the shapes the spec needs. num_batches_tracked is skipped.
// A module whose shapes do not fit is reported with both shapes
// ("conv2.weight: checkpoint [16 6 5 5], spec needs [16 6 3 3]").
//
// Only a regular file is read (OpenRegular). The header is read first and
// checked whole (readSafetensorsHeader): its length against the file's
// size and what a checkpoint of the plan can take (maxHeaderFor), the
// number of tensors, every tensor's dtype, shape
// and data_offsets against each other and the file's size. The matching
// works on the header alone; then only the matched tensors' bytes are read,
// so what is allocated is what the plan's weights take (Plan.WeightBytes).
func LoadSafetensors(p *exec.Plan, path string, describe func(node int) string) ([]exec.Weights, error) {
	f, st, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	params, _, err := loadSafetensors(p, f, st.Size(), path, describe)
	return params, err
}

// LoadSafetensorsNamed is LoadSafetensors, also returning the module each
// layer's tensors came from: modules[i] is the key prefix ("layer1.0.conv1"
// for "layer1.0.conv1.weight") of node i, "" for a node without tensors, so
// that a checkpoint written back (WriteSafetensors) keeps the file's names.
func LoadSafetensorsNamed(p *exec.Plan, path string, describe func(node int) string) (params []exec.Weights, modules []string, err error) {
	f, st, err := OpenRegular(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return loadSafetensors(p, f, st.Size(), path, describe)
}

// loadSafetensors is LoadSafetensorsNamed on size bytes of r, named path.
func loadSafetensors(p *exec.Plan, r io.ReaderAt, size int64, path string, describe func(node int) string) ([]exec.Weights, []string, error) {
	needed := 0
	for i := range p.Net.Nodes {
		need, _ := p.TensorShapes(i)
		for _, s := range need {
			if s != nil {
				needed++
			}
		}
	}
	list, err := readSafetensorsHeader(r, size, needed)
	var other *notThisNetwork
	if errors.As(err, &other) {
		return nil, nil, fmt.Errorf("%s: %v", path, err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: not a safetensors file: %v", path, err)
	}
	groups, err := groupTensors(path, list)
	if err != nil {
		return nil, nil, err
	}
	order, byName := orderGroups(groups)
	var tree map[int]*ckptGroup
	if byName {
		// A file sorted by name has lost the module order: recover it from
		// the module tree and the shapes the layers need.
		tree = matchTree(p, order)
	}
	used := make([]bool, len(order))
	matched := make([]int, len(p.Net.Nodes))
	for i := range p.Net.Nodes {
		matched[i] = -1
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
			// Whatever the search tried, the user is shown the first
			// module, in module order, that cannot be the layer it
			// stands beside in that order.
			// A name-sorted file whose natural order is not its data
			// order was written sorted: its module order is lost.
			reordered := byName && !sort.SliceIsSorted(order, func(a, b int) bool { return order[a].order < order[b].order })
			if err := firstMismatch(p, order, reordered, path, describe); err != nil {
				return nil, nil, err
			}
			if near >= 0 {
				g := order[near]
				for k, s := range need {
					if s != nil && !slices.Equal(g.tensors[exec.TensorNames[k]].shape, s) {
						return nil, nil, fmt.Errorf("%s: checkpoint %v, spec needs %v (%s)", g.keys[exec.TensorNames[k]], g.tensors[exec.TensorNames[k]].shape, s, describe(i))
					}
				}
			}
			return nil, nil, fmt.Errorf("%s: no tensors left for %s, which needs %s", path, describe(i), needText(need))
		}
		used[match] = true
		matched[i] = match
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
		return nil, nil, fmt.Errorf("%s: the spec uses no layer for %s", path, strings.Join(extra, ", "))
	}
	// Every tensor matched: read their data, and only theirs.
	params := make([]exec.Weights, len(p.Net.Nodes))
	modules := make([]string, len(p.Net.Nodes))
	for i, m := range matched {
		if m < 0 {
			continue
		}
		g := order[m]
		modules[i] = g.prefix
		for k, name := range exec.TensorNames {
			tv := g.tensors[name]
			if tv == nil {
				continue
			}
			t, err := tv.read(r)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %s: %v", path, tv.name, err)
			}
			*params[i].Slot(k) = t
		}
	}
	return params, modules, nil
}

// firstMismatch pairs the layers that have tensors with the checkpoint's
// modules one to one, both in order (module order: the file's, or natural
// name order for a file sorted by name, which has lost it: sorted says so),
// and describes
// the first pair that cannot match: the tensor, both shapes and the layer;
// a tensor the layer needs and the module lacks, or has and the layer does
// not; or a layer left with no module. nil when every pair matches.
func firstMismatch(p *exec.Plan, order []*ckptGroup, sorted bool, path string, describe func(node int) string) error {
	note := ""
	if sorted {
		note = "; the file is sorted by name, which loses module order: modules are taken in natural name order"
	}
	gi := 0
	for i := range p.Net.Nodes {
		need, ok := p.TensorShapes(i)
		if !ok || (need[0] == nil && need[1] == nil && need[2] == nil && need[3] == nil) {
			continue
		}
		if gi == len(order) {
			return fmt.Errorf("%s: no tensors left for %s, which needs %s%s", path, describe(i), needText(need), note)
		}
		g := order[gi]
		gi++
		for k, want := range need {
			name := exec.TensorNames[k]
			t := g.tensors[name]
			switch {
			case want != nil && t == nil:
				return fmt.Errorf("%s: module %s has no %s; spec needs %s %v (%s)%s", path, moduleName(g), name, name, want, describe(i), note)
			case want == nil && t != nil:
				return fmt.Errorf("%s: checkpoint %v, spec has no %s (%s)%s", g.keys[name], t.shape, name, describe(i), note)
			case t != nil && !slices.Equal(t.shape, want):
				return fmt.Errorf("%s: checkpoint %v, spec needs %v (%s)%s", g.keys[name], t.shape, want, describe(i), note)
			}
		}
	}
	return nil
}

// moduleName names a module of the checkpoint; the top-level module has
// the empty prefix.
func moduleName(g *ckptGroup) string {
	if g.prefix == "" {
		return "(top level)"
	}
	return g.prefix
}

// groupTensors groups a checkpoint's tensors by module (the key before the
// last dot), skipping num_batches_tracked; a tensor that is not a weight,
// bias or running statistic, or not of a float dtype, is an error.
func groupTensors(path string, list []*stTensor) (map[string]*ckptGroup, error) {
	groups := map[string]*ckptGroup{}
	for _, tv := range list {
		name := tv.name
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
		if !floatDType(tv.dtype) {
			return nil, fmt.Errorf("%s: %s: dtype %s is not a float type", path, name, tv.dtype)
		}
		g := groups[prefix]
		if g == nil {
			g = &ckptGroup{prefix: prefix, tensors: map[string]*stTensor{}, keys: map[string]string{}, order: math.MaxInt64}
			groups[prefix] = g
		}
		g.tensors[suffix] = tv
		g.keys[suffix] = name
		g.order = min(g.order, tv.begin)
	}
	return groups, nil
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
		if t != nil && !slices.Equal(t.shape, s) {
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
	byName   map[string]*modTree
}

func buildTree(groups []*ckptGroup) *modTree {
	root := &modTree{}
	for _, g := range groups {
		n := root
		if g.prefix != "" {
			for _, seg := range strings.Split(g.prefix, ".") {
				next := n.byName[seg]
				if next == nil {
					next = &modTree{}
					if n.byName == nil {
						n.byName = map[string]*modTree{}
					}
					n.byName[seg] = next
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
//
// The search is bounded: every module tried at a position counts against
// a budget of 1,000,000 (the checkpoints of testdata/torch take at most a
// few hundred), so that a hostile file (a 3-layer spec and a 100 KB file of
// 1,000 sibling modules took 2m40s to search) gives up and falls back to
// file order.
func matchTree(p *exec.Plan, groups []*ckptGroup) map[int]*ckptGroup {
	m, _ := matchTreeWork(p, groups)
	return m
}

// matchTreeBudget bounds matchTree's search (modules tried).
const matchTreeBudget = 1_000_000

// matchTreeWork is matchTree, also returning how many modules it tried.
func matchTreeWork(p *exec.Plan, groups []*ckptGroup) (map[int]*ckptGroup, int) {
	var layers []int
	var needs [][4][]int
	for i := range p.Net.Nodes {
		need, ok := p.TensorShapes(i)
		if ok && (need[0] != nil || need[1] != nil || need[2] != nil || need[3] != nil) {
			layers = append(layers, i)
			needs = append(needs, need)
		}
	}
	// Every module is matched to a layer, one each: with more or fewer
	// modules than layers no order fits.
	if len(groups) != len(layers) {
		return nil, 0
	}
	budget := matchTreeBudget
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
			if budget--; budget <= 0 {
				return 0, false
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
	work := matchTreeBudget - max(budget, 0)
	if !ok || end != len(needs) || len(assign) != len(layers) {
		return nil, work
	}
	out := make(map[int]*ckptGroup, len(layers))
	for k, i := range layers {
		out[i] = assign[k]
	}
	return out, work
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

// MaxSafetensorsHeader bounds the JSON header of a safetensors file, in
// bytes: the format's own limit.
const MaxSafetensorsHeader = 100_000_000

// maxExtraTensors is how many more tensors than the plan uses a checkpoint
// may list before it is refused from its header: a near miss (another
// network of the same family: resnet50's 320 tensors for resnet18's 122)
// is left to the matching, which names the tensors; a header of a million
// tensors is not parsed to the end.
const maxExtraTensors = 1_000

// maxHeaderFor bounds the header of a checkpoint for a plan that uses
// needed tensors: 1 KiB for each tensor it may list (as many
// num_batches_tracked again), 1 MiB more for __metadata__, at most
// MaxSafetensorsHeader. torchvision's headers take about 100 bytes a
// tensor; the bound keeps a hostile header (a 99 MB key or string, which
// the JSON decoder holds whole, several times over) from costing more than
// a few MiB per tensor refused.
func maxHeaderFor(needed int) int64 {
	return min(MaxSafetensorsHeader, 1<<20+2*int64(needed+maxExtraTensors)*1024)
}

// stTensor is one tensor of a safetensors header. begin and end are the
// data_offsets: relative to the data, which starts at data.
type stTensor struct {
	name       string
	dtype      string
	shape      []int
	begin, end int64
	data       int64
}

// dtypeSizes are the dtypes of the safetensors format and their sizes.
var dtypeSizes = map[string]int64{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
	"I16": 2, "U16": 2, "F16": 2, "BF16": 2,
	"I32": 4, "U32": 4, "F32": 4,
	"I64": 8, "U64": 8, "F64": 8,
}

func floatDType(d string) bool { return d == "F32" || d == "F64" || d == "F16" || d == "BF16" }

// readSafetensorsHeader reads the header of a safetensors file of size
// bytes and checks it against the file before any data is read: the 8-byte
// length (at most maxHeaderFor(needed), inside the file), the JSON object
// (read as a stream, each tensor with exactly dtype, shape and data_offsets,
// __metadata__ of strings), at most needed+maxExtraTensors tensors besides
// num_batches_tracked, every dtype known, every shape's byte count
// (without overflow) equal to its data_offsets, the tensors' data
// contiguous from 0 and ending where the file ends. The tensors come back
// in the order of their data.
func readSafetensorsHeader(r io.ReaderAt, size int64, needed int) ([]*stTensor, error) {
	var pre [8]byte
	if size < 8 {
		return nil, fmt.Errorf("%d bytes, shorter than the 8 of the header length", size)
	}
	if _, err := r.ReadAt(pre[:], 0); err != nil {
		return nil, fmt.Errorf("reading the header length: %v", err)
	}
	n := binary.LittleEndian.Uint64(pre[:])
	if n > MaxSafetensorsHeader {
		return nil, fmt.Errorf("a header of %s bytes, above the limit of %s", groupU(n), group(MaxSafetensorsHeader))
	}
	if limit := maxHeaderFor(needed); int64(n) > limit {
		return nil, &notThisNetwork{fmt.Sprintf("a header of %s bytes, above the %s a checkpoint of the spec's %s tensors may take: the checkpoint of another network?", group(int64(n)), group(limit), group(int64(needed)))}
	}
	if int64(n) > size-8 {
		return nil, fmt.Errorf("a header of %s bytes, but the file has %s bytes after the header length", group(int64(n)), group(size-8))
	}
	if n < 2 {
		return nil, fmt.Errorf("a header of %d bytes, too short for its JSON object", n)
	}
	dec := json.NewDecoder(io.NewSectionReader(r, 8, int64(n)))
	dec.UseNumber()
	if err := wantDelim(dec, '{', "the header"); err != nil {
		return nil, err
	}
	var list []*stTensor
	seen := map[string]bool{}
	counted := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, headerSyntax(err)
		}
		name, _ := tok.(string)
		if seen[name] {
			return nil, fmt.Errorf("tensor %q appears twice", name)
		}
		seen[name] = true
		if name == "__metadata__" {
			if err := skipMetadata(dec); err != nil {
				return nil, err
			}
			continue
		}
		t, err := readTensorInfo(dec, name)
		if err != nil {
			return nil, err
		}
		t.data = 8 + int64(n)
		if !strings.HasSuffix(name, ".num_batches_tracked") && name != "num_batches_tracked" {
			counted++
		}
		if counted > needed+maxExtraTensors || len(list) >= 2*(needed+maxExtraTensors) {
			return nil, &notThisNetwork{fmt.Sprintf("more than %s tensors, and the spec's layers use %s: the checkpoint of another network?", group(int64(len(list))), group(int64(needed)))}
		}
		list = append(list, t)
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, headerSyntax(err)
	}
	if tok, err := dec.Token(); err != io.EOF {
		if err != nil {
			return nil, headerSyntax(err)
		}
		return nil, fmt.Errorf("%s after the header's object", tokText(tok))
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.begin != b.begin {
			return a.begin < b.begin
		}
		if a.end != b.end {
			return a.end < b.end
		}
		return a.name < b.name
	})
	end := int64(0)
	for _, t := range list {
		if t.begin != end {
			return nil, fmt.Errorf("tensor %s: data_offsets [%d, %d] do not start where the data before them ends (%d)", t.name, t.begin, t.end, end)
		}
		end = t.end
	}
	if data := size - 8 - int64(n); end != data {
		return nil, fmt.Errorf("the tensors' data takes %s bytes, the file has %s after its %s-byte header", group(end), group(data), group(8+int64(n)))
	}
	return list, nil
}

// notThisNetwork: a header far larger, or listing far more tensors, than a
// checkpoint of the plan can.
type notThisNetwork struct{ msg string }

func (e *notThisNetwork) Error() string { return e.msg }

// readTensorInfo reads {"dtype": ..., "shape": [...], "data_offsets": [b, e]}
// and checks that the shape's bytes are the offsets' span.
func readTensorInfo(dec *json.Decoder, name string) (*stTensor, error) {
	t := &stTensor{name: name}
	if err := wantDelim(dec, '{', "tensor "+name); err != nil {
		return nil, err
	}
	var shape, offsets []uint64
	has := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, headerSyntax(err)
		}
		key, _ := tok.(string)
		if has[key] {
			return nil, fmt.Errorf("tensor %s: %q appears twice", name, key)
		}
		has[key] = true
		switch key {
		case "dtype":
			tok, err := dec.Token()
			if err != nil {
				return nil, headerSyntax(err)
			}
			s, ok := tok.(string)
			if _, known := dtypeSizes[s]; !ok || !known {
				return nil, fmt.Errorf("tensor %s: dtype %v is not a safetensors dtype", name, tokText(tok))
			}
			t.dtype = s
		case "shape":
			if shape, err = readNaturals(dec, name, key, MaxNpyRank); err != nil {
				return nil, err
			}
		case "data_offsets":
			if offsets, err = readNaturals(dec, name, key, 2); err != nil {
				return nil, err
			}
			if len(offsets) != 2 {
				return nil, fmt.Errorf("tensor %s: data_offsets has %d numbers, want 2", name, len(offsets))
			}
		default:
			return nil, fmt.Errorf("tensor %s: unknown key %q (want dtype, shape and data_offsets)", name, key)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, headerSyntax(err)
	}
	for _, k := range []string{"dtype", "shape", "data_offsets"} {
		if !has[k] {
			return nil, fmt.Errorf("tensor %s: no %q", name, k)
		}
	}
	if offsets[1] < offsets[0] || offsets[1] > math.MaxInt64 {
		return nil, fmt.Errorf("tensor %s: data_offsets [%d, %d] are not a range", name, offsets[0], offsets[1])
	}
	t.begin, t.end = int64(offsets[0]), int64(offsets[1])
	nbytes := uint64(dtypeSizes[t.dtype])
	t.shape = make([]int, len(shape))
	for i, d := range shape {
		// Sizes beside a zero are not bounded by the data: bound them.
		if d > math.MaxInt32 || d != 0 && nbytes > math.MaxInt64/d {
			return nil, fmt.Errorf("tensor %s: shape %v of %s has more bytes than int64 holds", name, shape, t.dtype)
		}
		nbytes *= d
		t.shape[i] = int(d)
	}
	if nbytes != offsets[1]-offsets[0] {
		return nil, fmt.Errorf("tensor %s: shape %v of %s takes %s bytes, its data_offsets [%d, %d] hold %s", name, shape, t.dtype, groupU(nbytes), offsets[0], offsets[1], groupU(offsets[1]-offsets[0]))
	}
	return t, nil
}

// readNaturals reads a JSON array of at most max natural numbers.
func readNaturals(dec *json.Decoder, name, key string, max int) ([]uint64, error) {
	bad := fmt.Errorf("tensor %s: %s is not an array of natural numbers", name, key)
	tok, err := dec.Token()
	if err != nil {
		return nil, headerSyntax(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, bad
	}
	var out []uint64
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, headerSyntax(err)
		}
		num, ok := tok.(json.Number)
		if !ok {
			return nil, bad
		}
		v, err := strconv.ParseUint(num.String(), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("tensor %s: %s: %s is not a natural number of 64 bits", name, key, num)
		}
		if len(out) == max {
			return nil, fmt.Errorf("tensor %s: %s has more than %d numbers", name, key, max)
		}
		out = append(out, v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, headerSyntax(err)
	}
	return out, nil
}

// skipMetadata reads __metadata__: an object of strings.
func skipMetadata(dec *json.Decoder) error {
	if err := wantDelim(dec, '{', "__metadata__"); err != nil {
		return err
	}
	for dec.More() {
		if _, err := dec.Token(); err != nil {
			return headerSyntax(err)
		}
		tok, err := dec.Token()
		if err != nil {
			return headerSyntax(err)
		}
		if _, ok := tok.(string); !ok {
			return fmt.Errorf("__metadata__ has %v, want strings only", tokText(tok))
		}
	}
	_, err := dec.Token()
	return headerSyntax(err)
}

func wantDelim(dec *json.Decoder, d json.Delim, what string) error {
	tok, err := dec.Token()
	if err != nil {
		return headerSyntax(err)
	}
	if got, ok := tok.(json.Delim); !ok || got != d {
		return fmt.Errorf("%s is %v, want a JSON object", what, tokText(tok))
	}
	return nil
}

func headerSyntax(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errors.New("the JSON header ends before its object does")
	}
	if err != nil {
		return fmt.Errorf("invalid JSON header: %v", err)
	}
	return nil
}

// tokText shows a JSON token briefly.
func tokText(tok any) string {
	switch v := tok.(type) {
	case string:
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return strconv.Quote(v)
	case json.Delim:
		return "'" + v.String() + "'"
	case nil:
		return "null"
	}
	return fmt.Sprint(tok)
}

func groupU(n uint64) string {
	if n > math.MaxInt64 {
		return strconv.FormatUint(n, 10)
	}
	return group(int64(n))
}

// read reads the tensor's data, a chunk at a time, converting F32, F64,
// F16 and BF16 to float32.
func (tv *stTensor) read(r io.ReaderAt) (*exec.Tensor, error) {
	t := exec.New(tv.shape...)
	size := dtypeSizes[tv.dtype]
	if int64(len(t.Data))*size != tv.end-tv.begin {
		return nil, fmt.Errorf("shape %v of %s does not take its %d bytes", tv.shape, tv.dtype, tv.end-tv.begin)
	}
	chunk := make([]byte, min(1<<20, tv.end-tv.begin))
	per := int64(len(chunk)) / size
	for done := int64(0); done < int64(len(t.Data)); {
		k := min(per, int64(len(t.Data))-done)
		raw := chunk[:k*size]
		if _, err := r.ReadAt(raw, tv.data+tv.begin+done*size); err != nil {
			if err == io.EOF {
				return nil, fmt.Errorf("the file ends inside the tensor's data (it shrank while being read?)")
			}
			return nil, err
		}
		out := t.Data[done : done+k]
		switch tv.dtype {
		case "F32":
			for i := range out {
				out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		case "F64":
			for i := range out {
				out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
			}
		case "F16":
			for i := range out {
				out[i] = halfToFloat(binary.LittleEndian.Uint16(raw[2*i:]))
			}
		case "BF16":
			for i := range out {
				out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(raw[2*i:])) << 16)
			}
		default:
			return nil, fmt.Errorf("dtype %s is not a float type", tv.dtype)
		}
		done += k
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
