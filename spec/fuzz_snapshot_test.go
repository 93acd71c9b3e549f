package spec

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// snapshotSeeds are layouts that need care where --write adds a line.
var snapshotSeeds = []string{
	"input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 8,\n      kernel: 3\n    }\n  - relu\n",
	"input: [3, 8, 8]\nlayers:\n  - relu:\n    name: |\n      two\n      lines\n\n  # between\n  - relu\n",
	"input: [3, 8, 8]\nlayers:\n  - relu\n...\n# after\n",
	"  input: [3, 8, 8]\n  layers:\n  - relu\n",
	"input: [3, 8, 8]\nlayers:\n  - &c\n      conv2d: {out: 3, kernel: 3}\n  - *c\nexpect:\n  params: 168\n",
	"input: [3, 8, 8]\nlayers:\n  - relu  # the only one\n# end",
	"input: [3, 8, 8]\nlayers:\n  - relu:\n    name: \"a\n  b\"\n",
	"input: [3, 8, 8]\r\nlayers:\r\n  - relu\r\n  - conv2d: {out: 4, kernel: 3}",
	"input: [3, 8, 8]\nlayers: [{conv2d: {out: 8, kernel: 3}}]\n",
	"{input: [3, 8, 8], layers: [relu]}\n",
	"input: [3, 8, 8]\nlayers:\n  - relu:\n    expect: [3, 8, 8]\nexpect: {params: 1}\n",
	"input: [3, 8, 8]\nblocks:\n  b:\n    args: {o: 4}\n    layers:\n      - conv2d: {out: $o, kernel: 1}\n        expect: [1, 8, 8]\nlayers:\n  - b: {o: 4}\n  - b: {o: 5}\n",
	"input: [3, 8, 8]\nlayers:\n  - relu\n  - repeat: 2\n    layers:\n      - conv2d: {out: 3, kernel: 3}\n        expect: [3, 1, 1]\n",
	"input: [3, 8, 8]\nlayers:\n  - 'relu'\n  - \"relu\" # c\n  - !!str relu\n",
	"input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 1}\n    expect: [4,\n      9, 9]\n",
	"input: [3, 8, 8]\nlayers:\n- relu\n- conv2d:\n    out: 4\n    kernel: 3\n  expect:\n    - 9\n    - 6\n    - 6\nexpect:\n  output:\n    - 1\n",
}

// FuzzSnapshot: for any spec that parses and analyses, Snapshot either
// refuses with positioned diagnostics in the spec's own text, or returns a
// text that parses, means the same network (types, wiring, names, shapes,
// params, buffers, MACs), passes its own expectations, keeps the file's line
// endings, and that a second Snapshot leaves byte for byte as it is.
func FuzzSnapshot(f *testing.F) {
	for _, glob := range []string{"../testdata/zoo/*.yaml", "../testdata/specs/*.yaml", "../cmd/cnncalc/testdata/*.yaml", "../cmd/cnncalc/testdata/check/*.yaml", "testdata/*.yaml"} {
		files, err := filepath.Glob(glob)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	for _, s := range snapshotSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSnapshot(t, data)
	})
}

// strictSnapshot (CNNCALC_FUZZ_STRICT=1) also fails on "cannot patch this
// layout": a safe refusal, but one a better patch might avoid.
var strictSnapshot = os.Getenv("CNNCALC_FUZZ_STRICT") != ""

func checkSnapshot(t *testing.T, data []byte) {
	s, err := Parse("fuzz.yaml", data)
	if err != nil {
		return
	}
	a, err := s.Evaluate(0, nil)
	if err != nil {
		return
	}
	out, err := a.Snapshot()
	if err != nil {
		var list ErrorList
		if !errors.As(err, &list) || len(list) == 0 {
			t.Fatalf("refusal is %T, want an ErrorList: %v", err, err)
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, e := range list {
			switch {
			case strings.Contains(e.Msg, "internal error"):
				t.Fatalf("internal error: %v", e)
			case e.File != "fuzz.yaml":
				t.Errorf("refusal names %q: %v", e.File, e)
			case e.Line > lines || (e.Line > 0 && e.Col < 1):
				t.Errorf("refusal at %d:%d, outside the file (%d lines): %v", e.Line, e.Col, lines, e)
			case e.Line == 0 && !strings.Contains(e.Msg, "above the limit"):
				t.Errorf("refusal without a position: %v", e)
			case strictSnapshot && strings.Contains(e.Msg, "cannot patch this layout"):
				t.Errorf("%v\n--- spec:\n%s", e, data)
			}
		}
		return
	}
	s2, err := Parse("fuzz.yaml", out)
	if err != nil {
		t.Fatalf("the snapshot does not parse: %v\n--- spec:\n%s\n--- snapshot:\n%s", err, data, out)
	}
	a2, err := s2.Evaluate(a.Net.Input[0], a.Net.Input[1:])
	if err != nil {
		t.Fatalf("the snapshot does not analyse: %v\n--- snapshot:\n%s", err, out)
	}
	if len(a.Net.Nodes) != len(a2.Net.Nodes) {
		t.Fatalf("the snapshot has %d layers, the spec %d\n--- spec:\n%s\n--- snapshot:\n%s", len(a2.Net.Nodes), len(a.Net.Nodes), data, out)
	}
	for i, n := range a.Net.Nodes {
		m := a2.Net.Nodes[i]
		l, l2 := a.Result.Layers[i], a2.Result.Layers[i]
		if n.Type != m.Type || n.Name != m.Name || !slices.Equal(n.From, m.From) || !slices.Equal(l.Output, l2.Output) ||
			l.Params != l2.Params || l.Buffers != l2.Buffers || l.MACs != l2.MACs {
			t.Fatalf("layer %d differs: %s %s %v -> %v vs %s %s %v -> %v\n--- spec:\n%s\n--- snapshot:\n%s", i, n.Type, n.Name, n.From, l.Output, m.Type, m.Name, m.From, l2.Output, data, out)
		}
	}
	for _, o := range a2.Check() {
		if !o.Pass {
			t.Fatalf("the snapshot fails its own expectation: %s\n--- snapshot:\n%s", o.String(), out)
		}
	}
	if crlf := bytes.Count(data, []byte("\r\n")); crlf > 0 && crlf == bytes.Count(data, []byte("\n")) &&
		bytes.Count(out, []byte("\r\n")) != bytes.Count(out, []byte("\n")) {
		t.Errorf("a CRLF spec came back with other line endings:\n%q", out)
	}
	again, err := a2.Snapshot()
	if err != nil {
		t.Fatalf("a second snapshot fails: %v\n--- snapshot:\n%s", err, out)
	}
	if !bytes.Equal(again, out) {
		t.Fatalf("a second snapshot changes the text\n--- first:\n%s\n--- second:\n%s", out, again)
	}
}

// TestSnapshotSeeds runs the fuzz checks over the seeds without -fuzz.
func TestSnapshotSeeds(t *testing.T) {
	for _, s := range snapshotSeeds {
		checkSnapshot(t, []byte(s))
	}
}
