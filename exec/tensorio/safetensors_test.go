package tensorio

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/exec"
	"github.com/cnncalc/cnncalc/spec"
)

func TestNaturalOrder(t *testing.T) {
	for _, c := range [][2]string{
		{"mods.2", "mods.10"},
		{"features.denseblock1.denselayer2.conv2", "features.denseblock1.denselayer10.conv1"},
		{"features.denseblock1.denselayer16.norm2", "features.denseblock2.denselayer1.conv1"},
		{"layer1.0.bn1", "layer1.0.bn2"},
		{"conv", "conv1"},
	} {
		if !naturalLess(c[0], c[1]) || naturalLess(c[1], c[0]) {
			t.Errorf("want %s before %s", c[0], c[1])
		}
	}
}

// tinySpec is a conv, a batchnorm and a linear layer: 8 tensors.
const tinySpec = `name: tiny
input: [3, 8, 8]
layers:
  - conv2d: {out: 4, kernel: 3}
  - batchnorm2d
  - relu
  - flatten
  - linear: 5
`

// planOf builds the plan of a spec.
func planOf(t testing.TB, name string, src []byte) *exec.Plan {
	t.Helper()
	s, err := spec.Parse(name, src)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Evaluate(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := exec.NewPlan(&a.Net)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func tinyPlan(t testing.TB) *exec.Plan { return planOf(t, "tiny.yaml", []byte(tinySpec)) }

// stTensorData is a tensor to write into a test safetensors file.
type stTensorData struct {
	name  string
	dtype string
	shape []int
	data  []byte
}

// tinyTensors are tinySpec's tensors in state_dict order, as float32,
// element i of every tensor being i/8 (+ 1 for running_var).
func tinyTensors(dtype string) []stTensorData {
	shapes := []struct {
		name  string
		shape []int
	}{
		{"0.weight", []int{4, 3, 3, 3}}, {"0.bias", []int{4}},
		{"1.weight", []int{4}}, {"1.bias", []int{4}}, {"1.running_mean", []int{4}}, {"1.running_var", []int{4}}, {"1.num_batches_tracked", nil},
		{"4.weight", []int{5, 144}}, {"4.bias", []int{5}},
	}
	var out []stTensorData
	for _, s := range shapes {
		if s.shape == nil {
			out = append(out, stTensorData{s.name, "I64", []int{}, make([]byte, 8)})
			continue
		}
		n := 1
		for _, d := range s.shape {
			n *= d
		}
		var b []byte
		for i := 0; i < n; i++ {
			v := float64(i) / 8
			if strings.HasSuffix(s.name, "var") {
				v++
			}
			switch dtype {
			case "F32":
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(v)))
			case "F64":
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
			case "BF16":
				b = binary.LittleEndian.AppendUint16(b, uint16(math.Float32bits(float32(v))>>16))
			case "F16":
				b = binary.LittleEndian.AppendUint16(b, floatToHalf(float32(v)))
			}
		}
		out = append(out, stTensorData{s.name, dtype, s.shape, b})
	}
	return out
}

// floatToHalf converts the small multiples of 1/8 the tests use.
func floatToHalf(f float32) uint16 {
	if f == 0 {
		return 0
	}
	bits := math.Float32bits(f)
	exp := int(bits>>23&0xff) - 127 + 15
	return uint16(bits>>31)<<15 | uint16(exp)<<10 | uint16(bits>>13&0x3ff)
}

// safetensorsFile writes tensors with their data in the order given.
func safetensorsFile(ts []stTensorData) []byte {
	header := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
	var data []byte
	for _, t := range ts {
		header[t.name] = map[string]any{"dtype": t.dtype, "shape": t.shape, "data_offsets": []int{len(data), len(data) + len(t.data)}}
		data = append(data, t.data...)
	}
	h, _ := json.Marshal(header)
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	return append(append(out, h...), data...)
}

// virtualFile is a file of size bytes, head then zeros, that counts the
// bytes read from it: a 4 GiB file that takes no disk.
type virtualFile struct {
	head []byte
	size int64
	read int64
}

func (v *virtualFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= v.size {
		return 0, io.EOF
	}
	n := len(p)
	if int64(n) > v.size-off {
		n = int(v.size - off)
	}
	for i := range p[:n] {
		p[i] = 0
		if off+int64(i) < int64(len(v.head)) {
			p[i] = v.head[off+int64(i)]
		}
	}
	v.read += int64(n)
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func load(p *exec.Plan, b []byte) ([]exec.Weights, error) {
	ws, _, err := loadSafetensors(p, bytes.NewReader(b), int64(len(b)), "w.safetensors", func(i int) string { return fmt.Sprint("node ", i+1) })
	return ws, err
}

// TestLoadSafetensorsDTypes: F32, F64, F16 and BF16 load into float32, in
// state_dict order and in name order; only the tensors' bytes are read.
func TestLoadSafetensorsDTypes(t *testing.T) {
	p := tinyPlan(t)
	for _, dtype := range []string{"F32", "F64", "F16", "BF16"} {
		ts := tinyTensors(dtype)
		sorted := slices.Clone(ts)
		slices.SortFunc(sorted, func(a, b stTensorData) int { return strings.Compare(a.name, b.name) })
		for _, order := range [][]stTensorData{ts, sorted} {
			file := safetensorsFile(order)
			vf := &virtualFile{head: file, size: int64(len(file))}
			ws, _, err := loadSafetensors(p, vf, vf.size, "w.safetensors", func(int) string { return "" })
			if err != nil {
				t.Fatalf("%s: %v", dtype, err)
			}
			if got := ws[4].Weight; !slices.Equal(got.Shape, []int{5, 144}) || got.Data[9] != 9.0/8 {
				t.Errorf("%s: linear weight %v, element 9 = %v", dtype, got.Shape, got.Data[9])
			}
			if got := ws[1].Var; got.Data[3] != 1+3.0/8 {
				t.Errorf("%s: running_var %v", dtype, got.Data)
			}
			// The header, then each matched tensor once (num_batches_tracked
			// is not read).
			hlen := int64(binary.LittleEndian.Uint64(file))
			want := 8 + hlen + int64(len(file)) - 8 - hlen - 8
			if vf.read > want {
				t.Errorf("%s: read %d bytes, want at most %d", dtype, vf.read, want)
			}
		}
	}
}

// TestSafetensorsHostile: every malformed header is refused from the
// header, with what is wrong; a 4 GiB file is refused after reading its
// first bytes, not all of it.
func TestSafetensorsHostile(t *testing.T) {
	p := tinyPlan(t)
	good := tinyTensors("F32")
	withHeader := func(h string, data int) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
		return append(append(b, h...), make([]byte, data)...)
	}
	tensor := func(name, dtype, shape, offsets string) string {
		return fmt.Sprintf(`%q: {"dtype": %q, "shape": %s, "data_offsets": %s}`, name, dtype, shape, offsets)
	}
	for _, c := range []struct {
		name string
		file []byte
		size int64 // 0: len(file)
		want string
	}{
		{"empty", nil, 0, "0 bytes, shorter than the 8 of the header length"},
		{"4 GiB of zeros", nil, 4 << 30, "a header of 0 bytes, too short for its JSON object"},
		{"header of spaces", withHeader("    ", 0), 0, "the JSON header ends before its object does"},
		{"header length beyond the file", withHeader("{}", 0)[:8], 0, "a header of 2 bytes, but the file has 0 bytes after the header length"},
		{"header length above the limit", binary.LittleEndian.AppendUint64(nil, 1<<40), 8 << 40, "a header of 1,099,511,627,776 bytes, above the limit of 100,000,000"},
		{"header length of 2^64-1", binary.LittleEndian.AppendUint64(nil, math.MaxUint64), 0, "a header of 18446744073709551615 bytes, above the limit"},
		{"not JSON", withHeader("PK\x03\x04", 0), 0, "invalid JSON header"},
		{"not an object", withHeader("[1, 2]", 0), 0, "the header is '[', want a JSON object"},
		{"unclosed", withHeader(`{"0.weight": {"dtype": "F32"`, 0), 0, "the JSON header ends before its object does"},
		{"text after", withHeader(`{} {}`, 0), 0, "'{' after the header's object"},
		{"tensor not an object", withHeader(`{"0.weight": 3}`, 0), 0, "tensor 0.weight is 3, want a JSON object"},
		{"no dtype", withHeader(`{"0.weight": {"shape": [], "data_offsets": [0, 4]}}`, 4), 0, `tensor 0.weight: no "dtype"`},
		{"unknown key", withHeader(`{"0.weight": {"dtype": "F32", "shape": [], "data_offsets": [0, 4], "x": 1}}`, 4), 0, `tensor 0.weight: unknown key "x"`},
		{"duplicate key", withHeader(`{"0.weight": {"dtype": "F32", "dtype": "F32", "shape": [], "data_offsets": [0, 4]}}`, 4), 0, `tensor 0.weight: "dtype" appears twice`},
		{"duplicate tensor", withHeader("{"+tensor("0.weight", "F32", "[]", "[0, 4]")+","+tensor("0.weight", "F32", "[]", "[4, 8]")+"}", 8), 0, `tensor "0.weight" appears twice`},
		{"unknown dtype", withHeader("{"+tensor("0.weight", "F31", "[]", "[0, 4]")+"}", 4), 0, `tensor 0.weight: dtype "F31" is not a safetensors dtype`},
		{"negative size", withHeader("{"+tensor("0.weight", "F32", "[-1]", "[0, 4]")+"}", 4), 0, "tensor 0.weight: shape: -1 is not a natural number"},
		{"fractional offset", withHeader("{"+tensor("0.weight", "F32", "[1]", "[0, 4.0]")+"}", 4), 0, "data_offsets: 4.0 is not a natural number"},
		{"shape of strings", withHeader("{"+tensor("0.weight", "F32", `["a"]`, "[0, 4]")+"}", 4), 0, "shape is not an array of natural numbers"},
		{"shape null", withHeader(`{"0.weight": {"dtype": "F32", "shape": null, "data_offsets": [0, 4]}}`, 4), 0, "shape is not an array of natural numbers"},
		{"three offsets", withHeader("{"+tensor("0.weight", "F32", "[1]", "[0, 4, 8]")+"}", 4), 0, "data_offsets has more than 2 numbers"},
		{"one offset", withHeader("{"+tensor("0.weight", "F32", "[1]", "[4]")+"}", 4), 0, "data_offsets has 1 numbers, want 2"},
		{"reversed offsets", withHeader("{"+tensor("0.weight", "F32", "[0]", "[4, 0]")+"}", 4), 0, "data_offsets [4, 0] are not a range"},
		{"elements overflow", withHeader("{"+tensor("0.weight", "F32", "[4294967296, 4294967296]", "[0, 4]")+"}", 4), 0, "has more bytes than int64 holds"},
		{"zero beside a huge size", withHeader("{"+tensor("0.weight", "F32", "[0, 18446744073709551615]", "[0, 0]")+"}", 0), 0, "has more bytes than int64 holds"},
		{"offsets do not hold the shape", withHeader("{"+tensor("0.weight", "F32", "[2, 3]", "[0, 20]")+"}", 20), 0, "tensor 0.weight: shape [2 3] of F32 takes 24 bytes, its data_offsets [0, 20] hold 20"},
		{"a gap", withHeader("{"+tensor("0.weight", "F32", "[1]", "[4, 8]")+"}", 8), 0, "tensor 0.weight: data_offsets [4, 8] do not start where the data before them ends (0)"},
		{"overlap", withHeader("{"+tensor("0.weight", "F32", "[2]", "[0, 8]")+","+tensor("0.bias", "F32", "[1]", "[4, 8]")+"}", 8), 0, "tensor 0.bias: data_offsets [4, 8] do not start where the data before them ends (8)"},
		{"data beyond the file", withHeader("{"+tensor("0.weight", "F32", "[1073741824]", "[0, 4294967296]")+"}", 16), 0, "the tensors' data takes 4,294,967,296 bytes, the file has 16 after its"},
		{"data short of the file", withHeader("{"+tensor("0.weight", "F32", "[1]", "[0, 4]")+"}", 16), 0, "the tensors' data takes 4 bytes, the file has 16"},
		{"metadata of numbers", withHeader(`{"__metadata__": {"a": 1}}`, 0), 0, "__metadata__ has 1, want strings only"},
		{"a huge tensor", withHeader("{"+tensor("0.weight", "F32", "[1073741824]", "[0, 4294967296]")+"}", 0), 8 + 4<<30 + int64(len(tensor("0.weight", "F32", "[1073741824]", "[0, 4294967296]"))+2), "0.weight: checkpoint [1073741824], spec needs [4 3 3 3]"},
		{"not a float", withHeader("{"+tensor("0.weight", "I32", "[1]", "[0, 4]")+"}", 4), 0, "0.weight: dtype I32 is not a float type"},
		{"not a parameter", withHeader("{"+tensor("0.scale", "F32", "[1]", "[0, 4]")+"}", 4), 0, "tensor 0.scale is not a weight, bias or running statistic"},
		{"extra tensors", safetensorsFile(append(slices.Clone(good), stTensorData{"9.weight", "F32", []int{1}, make([]byte, 4)})), 0, "the spec uses no layer for 9.weight"},
		{"header too big for the plan", withHeader(`{"__metadata__": {"a": "`+strings.Repeat("x", 4<<20)+`"}}`, 0), 0, "w.safetensors: a header of 4,194,331 bytes, above the 3,112,960 a checkpoint of the spec's 8 tensors may take: the checkpoint of another network?"},
		{"too many tensors", withHeader("{"+manyTensors(2000)+"}", 0), 0, "w.safetensors: more than 1,008 tensors, and the spec's layers use 8: the checkpoint of another network?"},
	} {
		size := c.size
		if size == 0 {
			size = int64(len(c.file))
		}
		vf := &virtualFile{head: c.file, size: size}
		var err error
		a := allocated(func() {
			_, _, err = loadSafetensors(p, vf, size, "w.safetensors", func(int) string { return "" })
		})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		// Refused from the header: what is read is the header, what is
		// allocated (garbage included) a multiple of it, not the data's size.
		if limit := int64(len(c.file)) + 64<<10; vf.read > limit || int64(a) > 16*limit {
			t.Errorf("%s: read %d bytes, allocated %d (the file's first %d bytes hold the header)", c.name, vf.read, a, len(c.file))
		}
	}
}

// manyTensors lists n empty weights ("0.weight": F32 [0] at [0, 0]).
func manyTensors(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"m%d.weight": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}`, i)
	}
	return strings.Join(parts, ", ")
}

// TestLoadSafetensorsFile reads a file through its path and refuses a 4 GiB
// sparse file from its first bytes (the file is made in the test's
// temporary directory and takes no disk).
func TestLoadSafetensorsFile(t *testing.T) {
	p := tinyPlan(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "w.safetensors")
	if err := os.WriteFile(path, safetensorsFile(tinyTensors("F32")), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSafetensors(p, path, func(int) string { return "" }); err != nil {
		t.Fatal(err)
	}
	sparse := filepath.Join(dir, "sparse.safetensors")
	f, err := os.Create(sparse)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(4 << 30); err != nil {
		f.Close()
		t.Skip(err)
	}
	f.Close()
	a := allocated(func() { _, err = LoadSafetensors(p, sparse, func(int) string { return "" }) })
	if err == nil || !strings.Contains(err.Error(), sparse+": not a safetensors file: a header of 0 bytes, too short for its JSON object") {
		t.Errorf("sparse file: %v", err)
	}
	if a > 1<<20 {
		t.Errorf("allocated %d bytes to refuse a 4 GiB file", a)
	}
}

// siblings is a name-sorted checkpoint of n modules m0000..., each a
// conv1d of one channel, kernel 1 (weight [1 1 1], bias [1]).
func siblings(n int) []byte {
	var ts []stTensorData
	for i := 0; i < n; i++ {
		ts = append(ts, stTensorData{fmt.Sprintf("m%04d.bias", i), "F32", []int{1}, make([]byte, 4)}, stTensorData{fmt.Sprintf("m%04d.weight", i), "F32", []int{1, 1, 1}, make([]byte, 4)})
	}
	return safetensorsFile(ts)
}

// groupsOf reads a file's header into modules in file order (or name
// order, byName).
func groupsOf(t *testing.T, b []byte) (order []*ckptGroup, byName bool) {
	t.Helper()
	list, err := readSafetensorsHeader(bytes.NewReader(b), int64(len(b)), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := groupTensors("", list)
	if err != nil {
		t.Fatal(err)
	}
	return orderGroups(groups)
}

// TestMatchTreeBounded: the module-tree search of a name-sorted checkpoint
// is bounded. A 3-layer spec with 1,000 sibling modules took 2m40s to
// search (every order of them was tried); with more modules than layers
// no order can fit, so it is not searched at all. 200 modules for 200
// layers of which the last cannot fit stop at the budget. The checkpoints
// of testdata/torch take at most a few hundred steps.
func TestMatchTreeBounded(t *testing.T) {
	layers := func(k int, last string) *exec.Plan {
		src := "input: [1, 4]\nlayers:\n" + strings.Repeat("  - conv1d: {out: 1, kernel: 1}\n", k-1) + "  - " + last + "\n"
		return planOf(t, "n.yaml", []byte(src))
	}
	many, _ := groupsOf(t, siblings(1000))
	two, _ := groupsOf(t, siblings(200))
	if m, work := matchTreeWork(layers(3, "conv1d: {out: 1, kernel: 1}"), many); m != nil || work != 0 {
		t.Errorf("3 layers, 1,000 modules: %d matched, %d modules tried; want none searched", len(m), work)
	}
	if m, work := matchTreeWork(layers(200, "conv1d: {out: 2, kernel: 1}"), two); m != nil || work > matchTreeBudget {
		t.Errorf("200 layers, 200 modules, the last unfit: %d matched, %d modules tried", len(m), work)
	}
	if m, work := matchTreeWork(layers(200, "conv1d: {out: 1, kernel: 1}"), two); len(m) != 200 || work > 100_000 {
		t.Errorf("200 layers, 200 modules that fit: %d matched, %d modules tried", len(m), work)
	}
	// Through the loader: the file is refused naming the extra modules, or
	// from its header when they are too many.
	if _, err := load(layers(3, "conv1d: {out: 1, kernel: 1}"), siblings(500)); err == nil || !strings.Contains(err.Error(), "the spec uses no layer for m0003.bias, m0003.weight, m0004.bias, m0004.weight, m0005.bias, and 989 more") {
		t.Errorf("3 layers, 500 modules: %v", err)
	}
	if _, err := load(layers(3, "conv1d: {out: 1, kernel: 1}"), siblings(1000)); err == nil || !strings.Contains(err.Error(), "more than 1,006 tensors, and the spec's layers use 6") {
		t.Errorf("3 layers, 1,000 modules: %v", err)
	}
	// The real checkpoints.
	files, _ := filepath.Glob("../../testdata/torch/*/*.sorted.safetensors")
	more, _ := filepath.Glob("../../testdata/torch/*/*/*.sorted.safetensors")
	worst := 0
	for _, f := range append(files, more...) {
		base := strings.TrimSuffix(f, ".sorted.safetensors")
		src, err := os.ReadFile(base + ".yaml")
		if err != nil {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		order, byName := groupsOf(t, b)
		if !byName {
			t.Fatalf("%s is not in name order", f)
		}
		p := planOf(t, base+".yaml", src)
		if _, work := matchTreeWork(p, order); work > worst {
			worst = work
		}
	}
	if worst == 0 || worst > 10_000 {
		t.Errorf("the testdata checkpoints take up to %d steps of the search", worst)
	}
}
