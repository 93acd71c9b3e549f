package tensorio

import (
	"slices"
	"strings"
	"testing"
)

// A checkpoint of another network is reported by the first module, in
// module order, that cannot be the layer beside it in that order (the
// tensor, both shapes and the layer), whatever pairing the matching
// search had tried; a sorted file, whose module order is lost, says so.
func TestCheckpointFirstMismatch(t *testing.T) {
	p := tinyPlan(t) // conv2d 3->4 k3, batchnorm2d, relu, flatten, linear 144->5
	tiny := tinyTensors("F32")
	without := func(drop ...string) []stTensorData {
		var out []stTensorData
		for _, x := range tiny {
			if !slices.Contains(drop, x.name) {
				out = append(out, x)
			}
		}
		return out
	}
	reshaped := func(name string, shape []int) []stTensorData {
		out := slices.Clone(tiny)
		for i := range out {
			if out[i].name == name {
				n := 4
				for _, d := range shape {
					n *= d
				}
				out[i].shape, out[i].data = shape, make([]byte, n)
			}
		}
		return out
	}
	for _, c := range []struct {
		name string
		ts   []stTensorData
		want string
	}{
		// A network without the batchnorm: its linear stands where the
		// spec has the batchnorm (the search had tried it for the linear).
		{"a layer missing from the checkpoint's network", without("1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked"),
			"4.weight: checkpoint [5 144], spec needs [4] (node 2)"},
		// Another kernel size in the first conv: the first tensor.
		{"a first conv of another kernel", reshaped("0.weight", []int{4, 3, 5, 5}),
			"0.weight: checkpoint [4 3 5 5], spec needs [4 3 3 3] (node 1)"},
		// A conv without bias where the spec's has one.
		{"no bias", without("0.bias"), "w.safetensors: module 0 has no bias; spec needs bias [4] (node 1)"},
		// The norm saved without running statistics.
		{"no running statistics", without("1.running_mean", "1.running_var", "1.num_batches_tracked"),
			"w.safetensors: module 1 has no running_mean; spec needs running_mean [4] (node 2)"},
		// The last layer's module missing.
		{"too few modules", without("4.weight", "4.bias"), "w.safetensors: no tensors left for node 5, which needs weight [5 144], bias [5]"},
	} {
		_, err := load(p, safetensorsFile(c.ts))
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: %v\nwant %s", c.name, err, c.want)
		}
	}
	// Sorted by name where natural order differs from it (mods.10 after
	// mods.9): module order is lost, and the message says so.
	ten := planOf(t, "ten.yaml", []byte("input: [1, 4]\nlayers:\n"+strings.Repeat("  - linear: 4\n", 11)))
	var ts []stTensorData
	for i := 0; i < 11; i++ {
		shape := []int{4, 4}
		if i == 10 {
			shape = []int{4, 5} // the last module has another input size
		}
		name := "mods." + string(rune('0'+i%10))
		if i == 10 {
			name = "mods.10"
		}
		ts = append(ts, stTensorData{name + ".weight", "F32", shape, make([]byte, 4*4*shape[1])}, stTensorData{name + ".bias", "F32", []int{4}, make([]byte, 16)})
	}
	slices.SortFunc(ts, func(a, b stTensorData) int { return strings.Compare(a.name, b.name) })
	_, err := load(ten, safetensorsFile(ts))
	want := "mods.10.weight: checkpoint [4 5], spec needs [4 4] (node 11); the file is sorted by name, which loses module order: modules are taken in natural name order"
	if err == nil || err.Error() != want {
		t.Errorf("sorted: %v\nwant %s", err, want)
	}
}
