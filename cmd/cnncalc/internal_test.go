package main

import (
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"

	"github.com/cnncalc/cnncalc/spec"
)

// checkBugReport checks the report of a bug on stderr.
func checkBugReport(t *testing.T, name, errOut, value string) {
	t.Helper()
	for _, w := range []string{
		"cnncalc: internal error: " + value + "\n",
		"cnncalc " + versionString() + ", go",
		"This is a bug in cnncalc, not a problem with the input: please report it on\nhttps://github.com/cnncalc/cnncalc/issues with the command line and the input file.\n",
		"goroutine ",
	} {
		if !strings.Contains(errOut, w) {
			t.Errorf("%s: stderr lacks %q:\n%s", name, w, errOut)
		}
	}
}

// A panic anywhere under a command is a bug: exit 3 (not 2, bad input),
// the panic's value, the version, where to report it and the stack.
func TestPanicExitsInternal(t *testing.T) {
	boom := &cobra.Command{Use: "boom", Hidden: true, RunE: func(*cobra.Command, []string) error {
		var m map[string]int
		m["x"] = 1 // a real runtime panic
		return nil
	}}
	var out, errOut strings.Builder
	code := run([]string{"boom"}, &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, boom)
	if code != exitInternal {
		t.Errorf("exit %d, want %d", code, exitInternal)
	}
	checkBugReport(t, "boom", errOut.String(), "assignment to entry in nil map")
	if !strings.Contains(errOut.String(), "internal_test.go") {
		t.Errorf("the stack does not show where it panicked:\n%s", errOut.String())
	}
	if out.Len() != 0 {
		t.Errorf("stdout: %q", out.String())
	}
	// The panic's value is escaped as any text is.
	esc := &cobra.Command{Use: "esc", RunE: func(*cobra.Command, []string) error { panic("\x1b]0;x\a") }}
	errOut.Reset()
	if code := run([]string{"esc"}, &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, esc); code != exitInternal || !strings.Contains(errOut.String(), `internal error: \x1b]0;x\a`) {
		t.Errorf("exit %d:\n%s", code, errOut.String())
	}
}

// spec.Parse recovers a panic into an error holding a *spec.InternalError
// (spec's TestParsePanicIsInternalError); every command that reads a spec
// prints the error and the bug report and exits 3, in every format.
func TestSpecInternalErrorExitsInternal(t *testing.T) {
	t.Cleanup(func() { parseData = spec.Parse; debug.SetMemoryLimit(math.MaxInt64) })
	parseData = func(name string, data []byte) (*spec.Spec, error) {
		ie := &spec.InternalError{Value: "index out of range [3] with length 2", Stack: []byte("goroutine 1 [running]:\nspec.parse(...)\n")}
		return nil, spec.ErrorList{{File: name, Msg: ie.Error(), Err: ie}}
	}
	for _, c := range specCommands {
		args := append([]string{c[0], "lenet5"}, c[1:]...)
		out, errOut, code := runCmd(t, "", args...)
		name := strings.Join(c, " ")
		if code != exitInternal {
			t.Errorf("%s: exit %d, want %d\n%s", name, code, exitInternal, errOut)
		}
		checkBugReport(t, name, errOut, "index out of range [3] with length 2")
		if msg := "lenet5.yaml: internal error reading the spec: index out of range [3] with length 2"; !strings.Contains(out+errOut, msg) {
			t.Errorf("%s: the error is not shown:\n%s%s", name, out, errOut)
		}
		if strings.Count(errOut, "internal error reading the spec") > 1 {
			t.Errorf("%s: the error is shown more than once:\n%s", name, errOut)
		}
	}
}

// corpus is every input the no-bug test feeds: the fuzz corpus of spec's
// parser if one is kept, every .yaml of the repository, the hostile files,
// and truncations of the examples.
func corpus(t *testing.T) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		fuzz := strings.Contains(filepath.ToSlash(p), "testdata/fuzz/FuzzParse/")
		if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml") || fuzz) {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if fuzz {
				data = fuzzCorpusBytes(data)
			}
			rel, _ := filepath.Rel(root, p)
			files[rel] = data
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range hostileFiles() {
		files["hostile/"+f.name] = f.data
	}
	for _, z := range []string{"lenet5", "resnet18", "googlenet", "unet", "video3d"} {
		data := files[filepath.Join("testdata", "zoo", z+".yaml")]
		for k := 1; k < 8; k++ {
			files[fmt.Sprintf("cut/%s_%d.yaml", z, k)] = data[:len(data)*k/8]
		}
	}
	for name, data := range map[string]string{
		"empty.yaml":    "",
		"docs.yaml":     "---\n---\n",
		"deep.yaml":     "input: [3]\nlayers: " + strings.Repeat("[", 200) + strings.Repeat("]", 200) + "\n",
		"laughs.yaml":   "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\ninput: [3]\nlayers: [*c, *c, *c]\n",
		"repeat.yaml":   "input: [3, 8, 8]\nlayers:\n  - repeat: 99999999\n    layers: [relu]\n",
		"overflow.yaml": "input: [16777216, 16777216, 16777216]\nbatch: 16777216\nlayers: [{conv2d: {out: 16777216, kernel: 1}}, flatten, {linear: 16777216}]\n",
		"nul.yaml":      "\x00",
		"bom.yaml":      "\ufeffinput: [3]\nlayers: [relu]\n",
	} {
		files["special/"+name] = []byte(data)
	}
	return files
}

// fuzzCorpusBytes decodes a file of go test's fuzz corpus ("go test fuzz
// v1" and one []byte("...") line) into its input; a file of another form
// is taken as it is.
func fuzzCorpusBytes(data []byte) []byte {
	lines := strings.SplitN(string(data), "\n", 3)
	if len(lines) < 2 || lines[0] != "go test fuzz v1" {
		return data
	}
	v := strings.TrimSpace(lines[1])
	if !strings.HasPrefix(v, "[]byte(") || !strings.HasSuffix(v, ")") {
		return data
	}
	s, err := strconv.Unquote(v[len("[]byte(") : len(v)-1])
	if err != nil {
		return data
	}
	return []byte(s)
}

// maxExecLayers is the largest network the no-bug test runs with exec.
const maxExecLayers = 2000

// No input is a bug: every command on every input of the corpus exits 0, 1
// or 2, never 3, and does not panic. The work is bounded: exec runs with
// --max-memory 64MiB (a larger network is refused after its estimate) and
// only on networks of at most maxExecLayers layers.
func TestNoInputIsABug(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every command on every spec")
	}
	dir := t.TempDir()
	files := corpus(t)
	var mu sync.Mutex
	counts := map[int]int{}
	t.Cleanup(func() {
		debug.SetMemoryLimit(math.MaxInt64) // exec set it
		t.Logf("%d inputs; exit codes %v", len(files), counts)
	})
	for name, data := range files {
		path := filepath.Join(dir, strings.NewReplacer("/", "_", `\`, "_").Replace(name))
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			layers := 0
			if s, err := spec.Parse(name, data); err == nil {
				layers = len(s.Net.Nodes)
			}
			for _, c := range [][]string{
				{"shapes"}, {"params"}, {"rf"},
				{"check"}, {"check", "--format", "github"}, {"check", "--format", "junit"}, {"check", "--format", "json"},
				{"exec", "--max-memory", "64MiB"},
			} {
				if c[0] == "exec" && layers > maxExecLayers {
					continue
				}
				args := append([]string{c[0], path}, c[1:]...)
				_, errOut, code := runCmd(t, "", args...)
				mu.Lock()
				counts[code]++
				mu.Unlock()
				if code == exitInternal || code < 0 || code > exitInternal {
					t.Errorf("%s: exit %d\n%s", strings.Join(c, " "), code, errOut)
				}
			}
		})
	}
}
