package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestCheckGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		code int
	}{
		{"check_passes_human", []string{"check", "testdata/check/passes.yaml", "-v"}, 0},
		{"check_fails_human", []string{"check", "testdata/check/fails.yaml"}, 1},
		{"check_dir_human", []string{"check", "testdata/check"}, 2},
		{"check_dir_github", []string{"check", "testdata/check", "--format", "github"}, 2},
		{"check_dir_junit", []string{"check", "testdata/check", "--format", "junit"}, 2},
		{"check_dir_json", []string{"check", "testdata/check", "--format", "json"}, 2},
		{"check_fails_batch", []string{"check", "testdata/check/passes.yaml", "--batch", "4"}, 1},
		{"check_glob", []string{"check", "testdata/check/p*.yaml", "lenet5"}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := runCmd(t, "", c.args...)
			if code != c.code {
				t.Errorf("exit code %d, want %d\n%s%s", code, c.code, out, errOut)
			}
			golden(t, c.name, out+errOut)
		})
	}
}

// TestCheckZoo dogfoods check: every embedded example and corner-case spec
// carries expectations from PyTorch, and they all hold.
func TestCheckZoo(t *testing.T) {
	out, errOut, code := runCmd(t, "", "check", "../../testdata/zoo", "../../testdata/specs")
	if code != 0 {
		t.Fatalf("exit %d:\n%s%s", code, out, errOut)
	}
	if !regexp.MustCompile(`^\d{3,} passed, 0 failed\n$`).MatchString(out) {
		t.Errorf("unexpected summary %q", out)
	}
}

func TestCheckJUnitParses(t *testing.T) {
	out, _, _ := runCmd(t, "", "check", "testdata/check", "--format", "junit")
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Errors   int      `xml:"errors,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
				Error *struct {
					Message string `xml:"message,attr"`
				} `xml:"error"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("JUnit XML does not parse: %v\n%s", err, out)
	}
	if len(doc.Suites) != 3 || doc.Errors != 1 || doc.Failures != 1 {
		t.Fatalf("suites %d, errors %d, failures %d; want 3, 1, 1", len(doc.Suites), doc.Errors, doc.Failures)
	}
	cases, failures := 0, 0
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			cases++
			if c.Failure != nil {
				failures++
				if c.Failure.Message != "expected [16, 99, 99], got [16, 14, 14]" {
					t.Errorf("failure message %q", c.Failure.Message)
				}
			}
		}
	}
	if cases != doc.Tests || failures != doc.Failures {
		t.Errorf("counts disagree: %d cases vs tests=%d, %d failures vs failures=%d", cases, doc.Tests, failures, doc.Failures)
	}
}

// TestCheckGitHubSyntax: every annotation is a well-formed workflow command.
func TestCheckGitHubSyntax(t *testing.T) {
	out, _, _ := runCmd(t, "", "check", "testdata/check", "--format", "github")
	re := regexp.MustCompile(`^::error file=[^,:]+(,line=\d+,col=\d+)?,title=[^,:]+::[^\n%]*(%0A[^\n]*)*$`)
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(line, "::") {
			n++
			if !re.MatchString(line) {
				t.Errorf("malformed annotation: %s", line)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d annotations, want 2 (one failure, one spec error):\n%s", n, out)
	}
	if !strings.Contains(out, "::error file=testdata/check/fails.yaml,line=14,col=13,title=cnncalc%3A expectation failed::layers[3] (conv2d): output shape: expected [16, 99, 99], got [16, 14, 14]") {
		t.Errorf("the failure annotation is not as expected:\n%s", out)
	}
}

// TestCheckWrite: --write fills in expectations keeping comments and layout,
// a second run changes nothing, and a spec with an error is left untouched.
func TestCheckWrite(t *testing.T) {
	dir := t.TempDir()
	orig, err := os.ReadFile("testdata/check/fails.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "net.yaml")
	os.WriteFile(path, orig, 0o640)
	out, errOut, code := runCmd(t, "", "check", "--write", path)
	if code != 0 {
		t.Fatalf("exit %d:\n%s%s", code, out, errOut)
	}
	first, _ := os.ReadFile(path)
	golden(t, "check_write_result", string(first))
	for _, keep := range []string{"# A small net, no expectations yet.", "name: small   # trailing comment", "# keep me", "  # a comment between items", "      out: 16\n      kernel: 3\n"} {
		if !strings.Contains(string(first), keep) {
			t.Errorf("--write lost %q", keep)
		}
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
		t.Errorf("--write changed the mode to %v", st.Mode().Perm())
	}
	// Twice in a row changes nothing.
	if _, _, code := runCmd(t, "", "check", "--write", path); code != 0 {
		t.Fatalf("second --write: exit %d", code)
	}
	second, _ := os.ReadFile(path)
	if string(second) != string(first) {
		t.Errorf("a second --write changed the file:\n%s", diff(string(first), string(second)))
	}
	// The written file passes check.
	if out, _, code := runCmd(t, "", "check", path); code != 0 {
		t.Errorf("check after --write: exit %d\n%s", code, out)
	}
	// No temporary files are left behind.
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files left in the directory: %v", entries)
	}

	// A spec with an error is left untouched.
	bad, _ := os.ReadFile("testdata/check/broken.yaml")
	badPath := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badPath, bad, 0o644)
	if _, _, code := runCmd(t, "", "check", "--write", badPath); code != 2 {
		t.Errorf("--write on a broken spec: exit %d, want 2", code)
	}
	if after, _ := os.ReadFile(badPath); string(after) != string(bad) {
		t.Errorf("--write changed a spec with an error")
	}
}

// TestCheckWriteZoo: --write on specs whose expectations already hold
// changes nothing, however they are laid out (blocks, repeats, flow lists).
func TestCheckWriteZoo(t *testing.T) {
	dir := t.TempDir()
	specs, _ := filepath.Glob("../../testdata/zoo/*.yaml")
	for _, s := range specs {
		data, _ := os.ReadFile(s)
		path := filepath.Join(dir, filepath.Base(s))
		os.WriteFile(path, data, 0o644)
		if out, errOut, code := runCmd(t, "", "check", "--write", path); code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", s, code, out, errOut)
		}
		after, _ := os.ReadFile(path)
		// Only added expectations may differ: every original line survives.
		for _, line := range strings.Split(string(data), "\n") {
			if !strings.Contains(string(after), line) {
				t.Errorf("%s: --write lost the line %q", s, line)
				break
			}
		}
	}
}

// TestCheckExecNumbers: check --exec states the executed shape, the MACs
// the kernels performed and the measured receptive field as numbers, in
// the same form as calc's (LeNet-5's first conv: 6x28x28, 117,600 MACs,
// field 5, jump 1, start 2; after the 2x2 average pool 6, 2, 2.5).
func TestCheckExecNumbers(t *testing.T) {
	out, errOut, code := runCmd(t, "", "check", "--exec", "-v", "lenet5")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"layers[0] (conv2d): executed shape [1, 6, 28, 28]\n",
		"layers[0] (conv2d): MACs performed 117,600\n",
		"layers[0] (conv2d): measured receptive field 5/1/2\n",
		"layers[2] (avgpool2d): measured receptive field 6/2/2.5\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no line ending %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "calc's") || strings.Contains(out, "measured\n") {
		t.Errorf("check --exec prints words where numbers belong:\n%s", out)
	}
}

// TestCheckWriteFiles: --write through a symlink writes its target and
// keeps the link; on a CRLF file the added lines end in CRLF; a flow-style
// spec it cannot patch is refused at the item, untouched, exit 2; an edit
// saved while it runs is kept.
func TestCheckWriteFiles(t *testing.T) {
	dir := t.TempDir()
	orig, _ := os.ReadFile("testdata/check/fails.yaml")
	target := filepath.Join(dir, "real.yaml")
	os.WriteFile(target, orig, 0o644)
	link := filepath.Join(dir, "link.yaml")
	os.Symlink("real.yaml", link)
	if out, errOut, code := runCmd(t, "", "check", "--write", link); code != 0 {
		t.Fatalf("symlink: exit %d\n%s%s", code, out, errOut)
	}
	if st, _ := os.Lstat(link); st.Mode()&os.ModeSymlink == 0 {
		t.Error("--write replaced the symlink by a file")
	}
	if got, _ := os.ReadFile(target); !strings.Contains(string(got), "expect:\n  output: [10]") {
		t.Errorf("the symlink's target was not written:\n%s", got)
	}

	crlf := filepath.Join(dir, "crlf.yaml")
	os.WriteFile(crlf, []byte(strings.ReplaceAll(string(orig), "\n", "\r\n")), 0o644)
	if out, errOut, code := runCmd(t, "", "check", "--write", crlf); code != 0 {
		t.Fatalf("CRLF: exit %d\n%s%s", code, out, errOut)
	}
	got, _ := os.ReadFile(crlf)
	if n := strings.Count(string(got), "\n"); n != strings.Count(string(got), "\r\n") || n < 20 {
		t.Errorf("CRLF file written with mixed line endings:\n%q", got)
	}

	flow := filepath.Join(dir, "flow.yaml")
	flowSrc := "input: [3, 8, 8]\nlayers: [{conv2d: {out: 8, kernel: 3}}]\n"
	os.WriteFile(flow, []byte(flowSrc), 0o644)
	out, errOut, code := runCmd(t, "", "check", "--write", flow)
	if code != 2 || !strings.Contains(out+errOut, flow+":2:10: layers[0] (conv2d): --write would add expect: [8, 6, 6] to this item, but it is written in flow style") {
		t.Errorf("flow spec: exit %d\n%s%s", code, out, errOut)
	}
	if got, _ := os.ReadFile(flow); string(got) != flowSrc {
		t.Errorf("flow spec changed:\n%s", got)
	}

	edited := filepath.Join(dir, "edited.yaml")
	os.WriteFile(edited, orig, 0o644)
	saved := string(orig) + "# saved by the user meanwhile\n"
	beforeCommit = func(string) { os.WriteFile(edited, []byte(saved), 0o644) }
	defer func() { beforeCommit = func(string) {} }()
	out, errOut, code = runCmd(t, "", "check", "--write", edited)
	if code != 2 || !strings.Contains(out+errOut, edited+" changed while cnncalc ran (it is now ") {
		t.Errorf("concurrent edit: exit %d\n%s%s", code, out, errOut)
	}
	if got, _ := os.ReadFile(edited); string(got) != saved {
		t.Errorf("the user's edit was lost:\n%s", got)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

// TestCheckNothingChecked: an empty directory, or specs without a single
// expectation, fail (exit 1) with "0 expectations checked", so that a
// mistyped path in CI does not pass forever; --allow-empty passes them.
func TestCheckNothingChecked(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{{"check", dir}, {"check", "-"}} {
		out, errOut, code := runCmd(t, "input: [3, 8, 8]\nlayers: [relu]\n", args...)
		if code != exitFail || !strings.Contains(errOut, "0 expectations checked") || !strings.Contains(out, "0 passed, 0 failed") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
		if _, _, code := runCmd(t, "input: [3, 8, 8]\nlayers: [relu]\n", append(args, "--allow-empty")...); code != exitOK {
			t.Errorf("%v --allow-empty: exit %d", args, code)
		}
	}
}

// TestCheckErrorsToStderr: a spec that cannot be read is reported on
// standard error in the human format; standard output has the checks and
// the summary only.
func TestCheckErrorsToStderr(t *testing.T) {
	out, errOut, code := runCmd(t, "", "check", "testdata/check")
	if code != exitError || strings.Contains(out, "exceeds padded input") || !strings.Contains(errOut, "broken.yaml:3:30") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}
