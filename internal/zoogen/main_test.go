package zoogen

import (
	"os"
	"path/filepath"
	"testing"
)

// TestGenerated: every committed generated spec is what the generator
// writes now, and no generated file is left without a builder.
func TestGenerated(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "zoo")
	for _, b := range All() {
		got, err := os.ReadFile(filepath.Join(dir, b.Name+".yaml"))
		if err != nil {
			t.Errorf("%s: %v (run go run ./internal/zoogen/gen)", b.Name, err)
			continue
		}
		if string(got) != File(b) {
			t.Errorf("%s: testdata/zoo/%s.yaml is stale: run go run ./internal/zoogen/gen", b.Name, b.Name)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		name := filepath.Base(f)
		name = name[:len(name)-len(".yaml")]
		if len(data) >= len(Header) && string(data[:len(Header)]) == Header {
			if _, ok := builders[name]; !ok {
				t.Errorf("%s is generated but no builder writes it", f)
			}
		}
	}
}
