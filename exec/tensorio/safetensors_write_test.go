package tensorio

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/exec"
)

// TestWriteSafetensorsRoundTrip: a state_dict written by WriteSafetensors
// loads back through LoadSafetensorsNamed with every value and module name
// as written, and ReadSafetensors lists its keys in the order written.
func TestWriteSafetensorsRoundTrip(t *testing.T) {
	p := tinyPlan(t)
	params := p.Init(7)
	modules := make([]string, len(params))
	for i := range params {
		if params[i].Weight != nil {
			modules[i] = "features." + string(rune('a'+i))
		}
	}
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, StateDict(params, modules)); err != nil {
		t.Fatal(err)
	}
	if n := buf.Len(); (n-8)%4 != 0 {
		t.Errorf("file of %d bytes", n)
	}
	path := filepath.Join(t.TempDir(), "w.safetensors")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got, gotModules, err := LoadSafetensorsNamed(p, path, func(int) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gotModules, modules) {
		t.Errorf("modules %q, want %q", gotModules, modules)
	}
	for i := range params {
		for k := range exec.TensorNames {
			a, b := *params[i].Slot(k), *got[i].Slot(k)
			if (a == nil) != (b == nil) || a != nil && (!slices.Equal(a.Shape, b.Shape) || !slices.Equal(a.Data, b.Data)) {
				t.Errorf("node %d %s: wrote %v, read %v", i, exec.TensorNames[k], a, b)
			}
		}
	}
	list, err := ReadSafetensors(path, 100)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, nt := range list {
		names = append(names, nt.Name)
	}
	want := []string{"features.a.weight", "features.a.bias", "features.b.weight", "features.b.bias", "features.b.running_mean", "features.b.running_var", "features.e.weight", "features.e.bias"}
	if !slices.Equal(names, want) {
		t.Errorf("keys %q, want %q", names, want)
	}
}

// TestWriteSafetensorsRefuses: nothing is written for a nameless, repeated
// or nil tensor, or one whose data is not its shape's size.
func TestWriteSafetensorsRefuses(t *testing.T) {
	x := exec.New(2, 3)
	for _, c := range []struct {
		list []Named
		want string
	}{
		{[]Named{{"", x}}, "needs a name"},
		{[]Named{{"__metadata__", x}}, "needs a name"},
		{[]Named{{"a", x}, {"a", x}}, "appears twice"},
		{[]Named{{"a", nil}}, "is nil"},
		{[]Named{{"a", &exec.Tensor{Shape: []int{2, 2}, Data: make([]float32, 3)}}}, "3 values"},
	} {
		var buf bytes.Buffer
		err := WriteSafetensors(&buf, c.list)
		if err == nil || !strings.Contains(err.Error(), c.want) || buf.Len() != 0 {
			t.Errorf("%v: %v (%d bytes written), want %q", c.list, err, buf.Len(), c.want)
		}
	}
}
