package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzSeeds are broken and odd snippets beside the zoo and the corner specs.
var fuzzSeeds = []string{
	"",
	"\n",
	"# only a comment\n",
	"[relu]",
	"input: [3, 32, 32]\nlayers: [relu]\n",
	"input: [3, 32, 32]\nlayers:\n  - conv2: {out: 8, kernel: 3}\n",
	"input: [3, 32, 32]\nlayers:\n  - conv2d: {out: 8, kernel: abc, bias: 3}\n",
	"input: [3, 32, 32]\nlayers:\n  - relu:\n    name: a\n  - add:\n    from: [a, input]\n",
	"input: [3, 32, 32]\nlayers:\n  - concat: {dim: -1}\n    from: [input, input]\n",
	"input: [3, 32, 32]\nlayers:\n  - concat:\n      - [conv2d: {out: 4, kernel: 1}]\n      - []\n",
	"input: [3, 32, 32]\nlayers:\n  - repeat: 3\n    layers:\n      - conv2d: {out: 3, kernel: 3, padding: same}\n",
	"input: [3, 32, 32]\nlayers:\n  - residual: [relu]\n    shortcut: [{conv2d: {out: 3, kernel: 1}}]\n",
	"input: [3, 32, 32]\nblocks:\n  a: [b]\n  b: [a]\nlayers: [a]\n",
	"input: [3, 32, 32]\nblocks:\n  b:\n    args: {n: 2}\n    layers:\n      - repeat: $n\n        layers: [relu]\nlayers:\n  - b: {n: 3}\n",
	"input: &i [3, 32, 32]\nlayers: &l [relu, {residual: *l}]\n",
	"input: [3, 32, 32]\nlayers: &a [*a]\n",
	"a: &a [*a, *a]\nb: &b [*a, *a]\ninput: [3]\nlayers: [*b]\n",
	"input: [3, 1000000000000, 1000000000000]\nlayers: [relu]\n",
	"input: [3, 60000000000, 60000000000]\nlayers: [relu]\n",
	"input: [3, 32, 32]\nlayers:\n  - conv2d: {out: 8, kernel: 99999999999999999999}\n",
	"input: [3, 32, 32]\nbatch: 16777216\nlayers:\n  - conv2d: {out: 16777216, kernel: 1}\n  - linear: 16777216\n",
	"input: [3, 32, 32]\nlayers:\n  - repeat: 1000000000\n    layers: [relu]\n",
	"input: [3, 32]\nlayers:\n  - upsample: {scale: 1e300}\n",
	"input: [3, 32]\nlayers:\n  - upsample: {scale: .nan}\n",
	"input: [3, 32, 32]\nlayers:\n  - flatten: {start_dim: -9223372036854775808}\n",
	"input: [3, 32, 32]\nlayers:\n  - softmax: 9223372036854775807\n",
	"input: [3, 32, 32]\nlayers:\n  - linear: 1.0e5\n",
	"input: [3, 32, 32]\nlayers:\n  - zeropad2d: [-40, -40, 0, 0]\n",
	"input: [3, 32, 32]\nlayers: [relu]\nexpect: {output: [~, 32, 32], params: 0, macs: -1}\n",
	"input: [3, 32\x00, 32]\nlayers: [relu]\n",
	"\xff\xfe\x00g\x00a\x00r\x00b",
	"input: [3]\nlayers: [relu]\n---\ninput: [4]\n",
	"{input: [3], layers: [relu], input: [3]}",
	"? [a]\n: 1\ninput: [3]\nlayers: [relu]\n",
	"input: [3, 8, 8]\nlayers:\n  - !!binary relu\n",
	"input: [3, 8, 8]\nlayers:\n  - <<: {relu: {}}\n",
}

func FuzzParse(f *testing.F) {
	for _, glob := range []string{"../testdata/zoo/*.yaml", "../testdata/specs/*.yaml", "testdata/*.yaml"} {
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
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParseAnalyze(t, data)
	})
}

// checkParseAnalyze parses data and, if it parses, analyzes it. Neither may
// panic (Parse recovers and says "internal error"), and every error must
// carry a line except the whole-file ones. (The work is bounded by the
// parser's caps, which hostile_test.go checks; the fuzzer reports slow
// inputs itself.)
func checkParseAnalyze(t *testing.T, data []byte) {
	t.Helper()
	s, err := Parse("fuzz.yaml", data)
	if err != nil {
		checkFuzzErrors(t, data, err)
	} else {
		for _, batch := range []int64{0, 3} {
			a, err := s.Evaluate(batch, nil)
			if err != nil {
				checkFuzzErrors(t, data, err)
			} else if a == nil || a.Result == nil {
				t.Fatal("Evaluate returned neither a result nor an error")
			}
			if a == nil {
				continue
			}
			for _, w := range a.Warnings {
				if w.Line < 1 {
					t.Errorf("warning without a line: %v", w)
				}
			}
		}
	}
}

func checkFuzzErrors(t *testing.T, data []byte, err error) {
	t.Helper()
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error is %T, want ErrorList: %v", err, err)
	}
	if len(list) == 0 {
		t.Fatal("an empty ErrorList as error")
	}
	for _, e := range list {
		if strings.Contains(e.Msg, "internal error") {
			t.Fatalf("panic: %v", e)
		}
		if e.Line < 1 && !wholeFileError(data, e) {
			t.Errorf("error without a line: %v", e)
		}
		if e.Line > 0 && e.Col < 1 {
			t.Errorf("error with a line and no column: %v", e)
		}
		if e.Line > strings.Count(string(data), "\n")+1 {
			t.Errorf("error on line %d, past the end of the file (%d lines): %v", e.Line, strings.Count(string(data), "\n")+1, e)
		}
	}
}

// wholeFileError reports whether e is about the whole file, which has no
// line: a file above MaxFileSize or an empty one.
func wholeFileError(data []byte, e *Diagnostic) bool {
	return len(data) > MaxFileSize || strings.Contains(e.Msg, "the file is empty")
}

// TestFuzzSeeds runs the fuzz checks over the seeds without -fuzz, with
// names, so that a failing seed is easy to find.
func TestFuzzSeeds(t *testing.T) {
	for _, s := range fuzzSeeds {
		name := s
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) { checkParseAnalyze(t, []byte(s)) })
	}
}
