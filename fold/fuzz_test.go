package fold

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/spec"
)

// FuzzFold: for any spec that analyses, Spec never panics and never
// returns a folded text that is not the folded network (its own check):
// go test -fuzz FuzzFold ./fold. Seeded from the zoo, testdata/specs and
// the layouts of the tests here.
func FuzzFold(f *testing.F) {
	for _, dir := range []string{"../testdata/zoo", "../testdata/specs", "../testdata/torch/fold", "../testdata/torch/exec"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, p := range files {
			if data, err := os.ReadFile(p); err == nil && len(data) < 3000 {
				f.Add(data)
			}
		}
	}
	for _, s := range []string{
		"input: [3, 8, 8]\nlayers: [conv2d: {out: 4, kernel: 1, bias: false}, {batchnorm2d: {eps: 0.001}}, relu]\n",
		"input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 1}\n  - concat:\n      - - batchnorm2d   # bn\n        - relu\n",
		"input: [3, 8, 8]\r\nlayers:\r\n  - conv2d: {out: 4, kernel: 1, bias: false}\r\n  - batchnorm2d\r\n  - relu\r\n",
		"input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 1}\n  - batchnorm2d:\n    expect: [4, 8, 8]",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 20_000 {
			return
		}
		s, err := spec.Parse("fuzz.yaml", data)
		if err != nil || len(s.Net.Nodes) > 2000 {
			return // large networks take long, not differently
		}
		a, err := s.Evaluate(0, nil)
		if err != nil {
			return
		}
		r, err := Spec(a)
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("%v\nspec:\n%s", err, data)
			}
			return
		}
		if r.Count() > 0 && string(r.Text) == string(data) {
			t.Fatalf("%d folded, the text unchanged:\n%s", r.Count(), data)
		}
	})
}
