package onnx

import (
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/spec"
)

// TestStructuredYAML: the structured spec of every torchvision export is
// the flat spec's network layer for layer (type, output shape, params,
// MACs), and a ResNet reads with residuals and repeats.
func TestStructuredYAML(t *testing.T) {
	var d struct{ Models []tvModel }
	readJSON(t, "tv.json", &d)
	for _, tv := range d.Models {
		if tv.File == "" {
			continue
		}
		m := openFixture(t, tv.File, tv.Gzip)
		net, err := Convert(m, Options{Batch: 1})
		if err != nil {
			t.Fatal(err)
		}
		flat, err := spec.Parse("flat.yaml", net.YAML(tv.File))
		if err != nil {
			t.Fatal(err)
		}
		fa, err := flat.Evaluate(0, nil)
		if err != nil {
			t.Fatal(err)
		}
		text := net.StructuredYAML(tv.File)
		st, err := spec.Parse("structured.yaml", text)
		if err != nil {
			t.Errorf("%s: the structured spec does not parse: %v\n%s", tv.Builder, err, text)
			continue
		}
		sa, err := st.Evaluate(0, nil)
		if err != nil {
			t.Errorf("%s: the structured spec does not analyse: %v", tv.Builder, err)
			continue
		}
		if !SameLayers(fa, sa) {
			t.Errorf("%s: the structured spec's layers differ from the flat ones", tv.Builder)
		}
		if tv.Builder == "resnet18" {
			for _, want := range []string{"- residual:", "shortcut:", "- repeat: 2", "# layer1.0, layer1.1"} {
				if !strings.Contains(string(text), want) {
					t.Errorf("resnet18's structured spec lacks %q:\n%s", want, text)
				}
			}
			if n, f := strings.Count(string(text), "\n"), strings.Count(string(net.YAML(tv.File)), "\n"); n >= f {
				t.Errorf("resnet18's structured spec has %d lines, the flat one %d", n, f)
			}
		}
	}
}
