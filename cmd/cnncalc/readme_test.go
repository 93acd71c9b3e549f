package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestMain lets the test binary stand in for cnncalc: with CNNCALC_AS_MAIN
// set it runs the command line as main does (TestREADME puts it on PATH
// under the name cnncalc).
func TestMain(m *testing.M) {
	if os.Getenv("CNNCALC_AS_MAIN") == "1" {
		os.Exit(run(os.Args[1:], &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}))
	}
	os.Exit(m.Run())
}

// readmeExample is one "$ command" of a text block of the README and the
// output printed under it.
type readmeExample struct {
	line    int // of the command in README.md
	command string
	want    string
}

// readmeExamples returns every "$ " command of the README's ```text
// blocks (indented blocks included) with the lines under it, up to the
// next command or the block's end. A text block whose first line is not a
// command (a diagram) is not an example.
func readmeExamples(t *testing.T, readme string) []readmeExample {
	t.Helper()
	var out []readmeExample
	var cur *readmeExample
	in, indent := false, ""
	for i, line := range strings.Split(readme, "\n") {
		trimmed := strings.TrimLeft(line, " ")
		switch {
		case !in && trimmed == "```text":
			in, indent = true, line[:len(line)-len(trimmed)]
			continue
		case in && trimmed == "```":
			in, cur = false, nil
			continue
		case !in:
			continue
		}
		line = strings.TrimPrefix(line, indent)
		if cmd, ok := strings.CutPrefix(line, "$ "); ok {
			out = append(out, readmeExample{line: i + 1, command: cmd})
			cur = &out[len(out)-1]
			continue
		}
		if cur == nil {
			in = false // not an example
			continue
		}
		cur.want += line + "\n"
	}
	return out
}

// The parts of exec's output that are timings.
var (
	execMs     = regexp.MustCompile(`(?m)\| +[0-9.]+$`)
	execMsHead = regexp.MustCompile(`(?m)\| +ms$`)
	execMsRule = regexp.MustCompile(`(?m)\+-+$`)
	execSpeed  = regexp.MustCompile(`forward pass: [0-9.]+ s, (.*) \([0-9.]+ GMAC/s\)`)
)

// normalizeTimings masks exec's timings (its ms column, its seconds and
// GMAC/s), which differ from run to run; the rest is compared as it is.
func normalizeTimings(s string) string {
	s = execMs.ReplaceAllString(s, "| T")
	s = execMsHead.ReplaceAllString(s, "| ms")
	s = execMsRule.ReplaceAllString(s, "+--")
	return execSpeed.ReplaceAllString(s, "forward pass: T s, $1 (T GMAC/s)")
}

// Every example of the README prints what the README shows: each "$ "
// command of its text blocks is run by sh in the repository's root, with
// this test binary as cnncalc on PATH, and its standard output and error
// compared with the lines under it (exec's timings masked, /tmp/ moved to
// a temporary directory). A README that drifts from the program fails here.
func TestREADME(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the README's examples are sh command lines")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to run the README's examples")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.Symlink(self, filepath.Join(bin, "cnncalc")); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	examples := readmeExamples(t, string(readme))
	if len(examples) < 35 {
		t.Fatalf("found %d examples in README.md; the parser lost some", len(examples))
	}
	for _, ex := range examples {
		command := strings.ReplaceAll(ex.command, "/tmp/", tmp+"/")
		want := strings.ReplaceAll(ex.want, "/tmp/", tmp+"/")
		c := exec.Command(sh, "-c", "exec 2>&1; "+command)
		c.Dir = root
		c.Env = append(os.Environ(), "CNNCALC_AS_MAIN=1", "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "NO_COLOR=1")
		got, _ := c.Output() // a failing check or a refused spec exits non-zero, as shown
		g, w := strings.TrimRight(string(got), "\n"), strings.TrimRight(want, "\n")
		if strings.HasPrefix(ex.command, "cnncalc exec ") {
			g, w = normalizeTimings(g), normalizeTimings(w)
		}
		if g != w {
			t.Errorf("README.md:%d: $ %s\nprints (-README +actual):\n%s", ex.line, ex.command, diff(w, g))
		}
	}
	if !bytes.Contains(readme, []byte("$ cnncalc ")) {
		t.Error("README.md shows no command")
	}
}
