package exec_test

import (
	"os"
	"testing"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/spec"
)

// load parses and evaluates a spec with the batch (0: the spec's) and input
// (nil: the spec's) in effect.
func load(t testing.TB, path string, batch int64, input []int64) *spec.Analysis {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := spec.Parse(path, data)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Evaluate(batch, input)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
func toInts(s calc.Shape) []int {
	out := make([]int, len(s))
	for i, v := range s {
		out[i] = int(v)
	}
	return out
}
