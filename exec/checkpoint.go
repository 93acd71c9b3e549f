package exec

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/nlpodyssey/safetensors"
)

// ckptGroup is one module's tensors in a checkpoint: the keys sharing a
// prefix ("layer1.0.conv1" for "layer1.0.conv1.weight").
type ckptGroup struct {
	prefix  string
	tensors map[string]*Tensor // by suffix: weight, bias, running_mean, running_var
	keys    map[string]string  // suffix -> full key
	order   uint64             // where its data starts in the file
}

// LoadSafetensors reads a PyTorch state_dict saved as safetensors and
// matches its tensors to the plan's layers in order: for each layer that has
// parameters, the first unused module (in the file's order) whose tensors
// have exactly the shapes the spec needs. num_batches_tracked is skipped.
// A module whose shapes do not fit is reported with both shapes
// ("conv2.weight: checkpoint [16 6 5 5], spec needs [16 6 3 3]").
func (p *Plan) LoadSafetensors(path string, describe func(node int) string) ([]Params, error) {
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
		for _, s := range paramNames {
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
			g = &ckptGroup{prefix: prefix, tensors: map[string]*Tensor{}, keys: map[string]string{}, order: math.MaxUint64}
			groups[prefix] = g
		}
		g.tensors[suffix] = t
		g.keys[suffix] = name
		g.order = min(g.order, offsetOf(buf, name))
	}
	order := orderGroups(groups)
	used := make([]bool, len(order))
	params := make([]Params, len(p.Net.Nodes))
	for i := range p.Net.Nodes {
		need, ok := paramShapes(&p.Net.Nodes[i].Layer, p.inputShapes(i))
		if !ok || (need[0] == nil && need[1] == nil && need[2] == nil && need[3] == nil) {
			continue
		}
		match, near := -1, -1
		for gi, g := range order {
			if used[gi] {
				continue
			}
			fits, sameKinds := groupFits(g, need)
			if fits {
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
					if s != nil && fmt.Sprint(g.tensors[paramNames[k]].Shape) != fmt.Sprint(s) {
						return nil, fmt.Errorf("%s: checkpoint %v, spec needs %v (%s)", g.keys[paramNames[k]], g.tensors[paramNames[k]].Shape, s, describe(i))
					}
				}
			}
			return nil, fmt.Errorf("%s: no tensors left for %s, which needs %s", path, describe(i), needText(need))
		}
		used[match] = true
		for k := range need {
			if need[k] != nil {
				*params[i].slot(k) = order[match].tensors[paramNames[k]]
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
		t := g.tensors[paramNames[k]]
		if (t == nil) != (s == nil) {
			return false, false
		}
		if t != nil && fmt.Sprint(t.Shape) != fmt.Sprint(s) {
			fits = false
		}
	}
	return fits, sameKinds
}

func needText(need [4][]int) string {
	var parts []string
	for k, s := range need {
		if s != nil {
			parts = append(parts, fmt.Sprintf("%s %v", paramNames[k], s))
		}
	}
	return strings.Join(parts, ", ")
}

// orderGroups puts modules in the order of their data in the file, which is
// state_dict order when the writer kept it; a file written in sorted key
// order (the HF safetensors library sorts) is put in natural order instead,
// so that "10" follows "9".
func orderGroups(groups map[string]*ckptGroup) []*ckptGroup {
	var out []*ckptGroup
	for _, g := range groups {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].order < out[j].order })
	sorted := sort.SliceIsSorted(out, func(i, j int) bool { return out[i].prefix < out[j].prefix })
	if sorted {
		sort.SliceStable(out, func(i, j int) bool { return naturalLess(out[i].prefix, out[j].prefix) })
	}
	return out
}

// naturalLess compares dotted module paths with numeric parts as numbers.
func naturalLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if as[i] == bs[i] {
			continue
		}
		x, ex := strconv.Atoi(as[i])
		y, ey := strconv.Atoi(bs[i])
		if ex == nil && ey == nil {
			return x < y
		}
		return as[i] < bs[i]
	}
	return len(as) < len(bs)
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
func toTensor(tv safetensors.NamedTensorView) (*Tensor, error) {
	shape := make([]int, len(tv.TensorView.Shape()))
	for i, s := range tv.TensorView.Shape() {
		shape[i] = int(s)
	}
	t := New(shape...)
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
