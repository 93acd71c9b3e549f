package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"unicode/utf8"
)

// hostileFile is a spec file no one should have to read: control bytes,
// invalid UTF-8, terminal escape sequences, a binary model.
type hostileFile struct {
	name string
	data []byte
}

// hostileFiles builds the hostile inputs: one file per control byte
// (0x00-0x1f and 0x7f, raw, where YAML's reader stops on it or, for the
// ones it takes, where an error quotes its line), invalid UTF-8, escape
// sequences written as YAML escapes into names, keys and values (they are
// decoded into real ESC, BEL, C1 and bidi characters that messages and
// tables would echo), a long line, and a fake .onnx model.
func hostileFiles() []hostileFile {
	var files []hostileFile
	add := func(name, data string) { files = append(files, hostileFile{name, []byte(data)}) }
	const head = "name: x\ninput: [3, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 3}\n"
	for b := range 0x20 {
		add(fmt.Sprintf("ctrl%02x.yaml", b), head+"  - reul # a"+string(rune(b))+"b\x1b[31m\x1b]0;title\x07\n")
		add(fmt.Sprintf("ctrlkey%02x.yaml", b), head+"  - conv2d: {out: 4, kernel: 3, k"+string(rune(b))+": 1}\n")
	}
	add("ctrl7f.yaml", head+"  - reul # a\x7fb\x1b[31m\n")
	var all []byte
	for b := range 0x20 {
		all = append(all, byte(b))
	}
	all = append(all, 0x7f)
	add("ctrlall.yaml", head+"  - conv2d: {out: 4, kernel: 3, "+string(all)+": 1}\n")
	for _, b := range []string{"\xff", "\xfe", "\xc3(", "\xe2\x82", "\xed\xa0\x80", "\xc2\x9b31m", "\x80"} {
		add(fmt.Sprintf("utf8_%x.yaml", b), head+"  - r"+b+"elu\n")
	}
	// YAML escapes decode into the characters themselves.
	const esc = `\e[31mred\e[0m\e]0;title\a\x9b2J\u202e\u200b\x7f`
	add("esc_key.yaml", head+`  - conv2d: {out: 4, kernel: 3, "`+esc+`": 1}`+"\n")
	add("esc_type.yaml", head+`  - "`+esc+`"`+"\n")
	add("esc_enum.yaml", head+`  - conv2d: {out: 4, kernel: 3, padding_mode: "`+esc+`"}`+"\n")
	add("esc_int.yaml", head+`  - conv2d: {out: "`+esc+`", kernel: 3}`+"\n")
	add("esc_from.yaml", head+`  - relu: {}`+"\n    from: \""+esc+"\"\n")
	add("esc_top.yaml", head+`"`+esc+`": 1`+"\n")
	add("esc_block.yaml", "blocks:\n  \""+esc+"\":\n    layers: [relu]\n"+head[len("name: x\n"):]+"  - \""+esc+"\": {\""+esc+"\": 1}\n")
	add("esc_dup.yaml", head+"  - relu\n    name: \""+esc+"\"\n  - relu\n    name: \""+esc+"\"\n")
	// Valid specs: the names reach the tables, a check failure, a warning.
	add("esc_names.yaml", "name: \""+esc+"\"\ninput: [3, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 3}\n    name: \""+esc+"\"\n    expect: [4, 9, 9]\n  - relu: {}\n    name: \"\\e[2J\\t\\n\\r\"\n  - linear: 5\n    name: \"\\e]0;warn\\a\"\nexpect: {params: 1}\n")
	// fold's reasons and "folds into" name the layers.
	add("esc_fold.yaml", "name: \""+esc+"\"\ninput: [3, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 3}\n    name: \""+esc+"\"\n  - batchnorm2d\n  - relu: {}\n    name: \"\\e[2J\\t\\n\\r\"\n  - batchnorm2d: {}\n    name: \"\\e]0;warn\\a\"\n  - groupnorm: 2\n")
	// Raw characters YAML takes (tab, bidi, zero-width, soft hyphen) before
	// the error's column: the caret must still point at it.
	add("raw_before.yaml", head+"  - relu: {}\n    name: \"\u202e\t\u200b\u00ad\"\n  - relu: {}\n    from: [\"\u202e\t\u200b\u00ad\", nosuch]  # \t\u202e\n")
	// Block uses and repeats named with controls: --depth's group rows.
	add("esc_blocks.yaml", "input: [3, 8, 8]\nblocks:\n  b:\n    layers: [relu]\nlayers:\n  - b:\n    name: \""+esc+"\"\n  - repeat: 2\n    layers: [b]\n    name: \"\\e[2J\"\n")
	add("long.yaml", head+"  - {relu: {}, name: \""+strings.Repeat(`\e[1m`, 40)+"\", from: nosuch}  # "+strings.Repeat("\u202e\t", 200)+"\n")
	r := rand.New(rand.NewPCG(1, 2))
	onnx := []byte("\x08\x07\x12\x07pytorch\x1a\x052.1.0:\x8a\x03\n\x1b\x1b]0;owned\x07")
	for range 4000 {
		onnx = append(onnx, byte(r.IntN(256)))
	}
	files = append(files, hostileFile{"model.onnx", onnx})
	return files
}

// specCommands are the commands that read a spec, each format.
var specCommands = [][]string{
	{"shapes"}, {"shapes", "--format", "csv"}, {"shapes", "--format", "markdown"}, {"shapes", "--format", "json"},
	{"shapes", "--explain"}, {"params"}, {"params", "--format", "markdown", "--explain"}, {"rf"}, {"rf", "--format", "csv"},
	{"params", "--depth", "2", "--columns", "name,type,kernel,share"}, {"shapes", "--depth", "1", "--format", "markdown"}, {"rf", "--depth", "1", "--format", "csv"},
	{"check"}, {"check", "-v"}, {"check", "--format", "github"}, {"check", "--format", "junit"}, {"check", "--format", "json"},
	{"exec", "--max-memory", "64MiB"}, {"exec", "--max-memory", "64MiB", "--format", "json"},
	{"fold", "--max-memory", "64MiB", "--explain"}, {"fold", "--max-memory", "64MiB", "--format", "json"},
}

// Nothing a spec holds reaches the terminal raw: on every command and
// format, no byte below 0x20 but \n, and no DEL, is printed; outside JSON
// (which escapes by its own rules and is data) the output is valid UTF-8
// without C1 controls or bidirectional overrides; junit is well-formed XML
// that kept the escapes (encoding/xml would replace them with U+FFFD).
func TestHostileBytesEscaped(t *testing.T) {
	t.Cleanup(func() { debug.SetMemoryLimit(math.MaxInt64) }) // exec sets it
	dir := t.TempDir()
	for _, f := range hostileFiles() {
		path := filepath.Join(dir, f.name)
		if err := os.WriteFile(path, f.data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, c := range specCommands {
			args := append([]string{c[0], path}, c[1:]...)
			out, errOut, code := runCmd(t, "", args...)
			name := f.name + " " + strings.Join(c, " ")
			if code == exitInternal {
				t.Errorf("%s: exit %d\n%s", name, code, errOut)
			}
			json := strings.Contains(strings.Join(c, " "), "json")
			checkPrintable(t, name+" stdout", out, json)
			checkPrintable(t, name+" stderr", errOut, false)
			if strings.Contains(strings.Join(c, " "), "junit") {
				checkJUnit(t, name, out)
			}
			if json && out != "" && !jsonValid(out) {
				t.Errorf("%s: stdout is not JSON:\n%s", name, out)
			}
		}
	}
}

func checkPrintable(t *testing.T, name, s string, isJSON bool) {
	t.Helper()
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\n' || c == 0x7f {
			t.Errorf("%s: byte %#02x at %d: %q", name, c, i, around(s, i))
			return
		}
	}
	if isJSON {
		return
	}
	if !utf8.ValidString(s) {
		t.Errorf("%s: invalid UTF-8: %q", name, s)
		return
	}
	for i, r := range s {
		if r >= 0x80 && r < 0xa0 || r == '\u202e' || r == '\u200b' {
			t.Errorf("%s: %U at %d: %q", name, r, i, around(s, i))
			return
		}
	}
}

func around(s string, i int) string {
	return s[max(0, i-40):min(len(s), i+40)]
}

func checkJUnit(t *testing.T, name, out string) {
	t.Helper()
	var v junitSuites
	if err := xml.Unmarshal([]byte(out), &v); err != nil {
		t.Errorf("%s: junit output is not XML: %v\n%s", name, err, out)
	}
	if strings.ContainsRune(out, utf8.RuneError) {
		t.Errorf("%s: junit output lost characters (U+FFFD):\n%s", name, out)
	}
}

func jsonValid(s string) bool {
	dec := json.NewDecoder(strings.NewReader(s))
	for {
		var v any
		if err := dec.Decode(&v); err != nil {
			return err.Error() == "EOF"
		}
	}
}

// The escapes of the hostile files show what the file holds, and the caret
// stands under the character the error is about, whatever was escaped
// before it on the line.
func TestHostileCaret(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{}
	for _, f := range hostileFiles() {
		files[f.name] = f.data
		os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644)
	}
	for _, c := range []struct {
		file  string
		under string   // the quoted line shows this where the caret points
		want  []string // and the output holds these
	}{
		{"ctrl1b.yaml", `\x1bb\x1b[31m`, []string{`YAML: control characters are not allowed`, `reul # a\x1bb\x1b[31m\x1b]0;title\a`}},
		{"ctrl00.yaml", `\x00b`, nil},
		{"ctrl09.yaml", `\x1b[31m`, []string{`reul # a\tb\x1b[31m`}}, // a tab in a comment is fine, ESC is not
		{"ctrlkey09.yaml", `k\t: 1`, []string{`conv2d has no argument "k"`}},
		{"ctrlkey07.yaml", `\a: 1`, nil},
		{"ctrl7f.yaml", `\x7fb`, nil},
		{"ctrlall.yaml", `\x00\x01\x02`, []string{`\x00\x01\x02\x03\x04\x05\x06\a\b\t`}},
		{"utf8_ff.yaml", `\xffelu`, []string{`r\xffelu`, "invalid leading UTF-8 octet"}},
		{"utf8_c29b33316d.yaml", `\u009b31m`, nil}, // valid UTF-8, a C1 control
		{"esc_key.yaml", `"\e[31m`, []string{`conv2d has no argument "\x1b[31mred\x1b[0m\x1b]0;title\a\u009b2J\u202e\u200b\x7f"`}},
		{"esc_type.yaml", `"\e[31m`, []string{`unknown layer type "\x1b[31mred`}},
		{"raw_before.yaml", `nosuch]`, []string{`from: ["\u202e\t\u200b\u00ad", nosuch]  # \t\u202e`}},
		{"model.onnx", `\b\a\x12\apytorch`, []string{`model.onnx:1:1: YAML: control characters are not allowed`}},
		{"long.yaml", `nosuch}`, []string{`...`, `unknown name "nosuch"`}},
	} {
		path := filepath.Join(dir, c.file)
		if files[c.file] == nil {
			t.Fatalf("no hostile file %s", c.file)
		}
		_, errOut, code := runCmd(t, "", "shapes", path)
		if code != exitError {
			t.Errorf("%s: exit %d, want %d", c.file, code, exitError)
		}
		for _, w := range c.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%s: output lacks %s:\n%s", c.file, w, errOut)
			}
		}
		lines := strings.Split(errOut, "\n")
		found := false
		for i := 0; i+1 < len(lines); i++ {
			src, caret := lines[i], lines[i+1]
			if !strings.HasPrefix(src, "    ") || !strings.HasPrefix(caret, "      | ") || !strings.HasSuffix(caret, "^") {
				continue
			}
			found = true
			col := utf8.RuneCountInString(caret) - 1
			rs := []rune(src)
			if col > len(rs) || !strings.HasPrefix(string(rs[col:]), c.under) {
				t.Errorf("%s: the caret points at %q, want %q:\n%s\n%s", c.file, string(rs[min(col, len(rs)):]), c.under, src, caret)
			}
			if n := utf8.RuneCountInString(src); n > 8+maxQuoted+2*len("...")+6 {
				t.Errorf("%s: quoted line of %d columns", c.file, n)
			}
			break
		}
		if !found {
			t.Errorf("%s: no source line with a caret:\n%s", c.file, errOut)
		}
	}
}

func TestQuoteSourceLine(t *testing.T) {
	long := strings.Repeat("ab\t", 100) // 300 characters, 400 columns escaped
	for _, c := range []struct {
		line       string
		col        int
		want       string
		wantCaret  int
		wantSuffix bool
	}{
		{"abc", 1, "abc", 0, false},
		{"abc", 3, "abc", 2, false},
		{"abc", 4, "abc", 3, false}, // one past the end
		{"abc", 5, "abc", -1, false},
		{"abc", 0, "abc", -1, false},
		{"a\tb", 3, `a\tb`, 3, false},
		{"\x1b[31mx", 6, `\x1b[31mx`, 8, false},
		{"\xff\xfex", 3, `\xff\xfex`, 8, false},
		{"é\u202ex", 3, `é\u202ex`, 7, false},
		{"\x00", 2, `\x00`, 4, false},
	} {
		got, caret := quoteSourceLine(c.line, c.col)
		if got != c.want || caret != c.wantCaret {
			t.Errorf("quoteSourceLine(%q, %d) = %q, %d; want %q, %d", c.line, c.col, got, caret, c.want, c.wantCaret)
		}
	}
	for _, col := range []int{1, 2, 50, 100, 101, 150, 299, 300, 301} {
		got, caret := quoteSourceLine(long, col)
		if caret < 0 {
			t.Errorf("col %d: no caret", col)
			continue
		}
		r := []rune(got)
		want := []rune(escapeLine(long[col-1:]))
		if col == 301 {
			want = nil
		}
		if n := min(len(want), 3); string(r[caret:caret+n]) != string(want[:n]) {
			t.Errorf("col %d: caret at %q, want %q: %s", col, string(r[caret:]), string(want), got)
		}
		if len(r) > maxQuoted+2*len("...")+6 {
			t.Errorf("col %d: %d columns shown", col, len(r))
		}
	}
	// A binary line of 4 MiB: bounded output, and a caret far in.
	big := bytes.Repeat([]byte{0, 1, 0xff}, 1<<20)
	got, caret := quoteSourceLine(string(big), 3<<20-1)
	if caret < 0 || len(got) > 200 || !strings.HasPrefix(got, "...") {
		t.Errorf("4 MiB line: %q, caret %d", got, caret)
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain 29×29×32 é":   "plain 29×29×32 é",
		"\x1b[31mred":        `\x1b[31mred`,
		"a\nb":               `a\nb`,
		"\t\r\a\b\f\v":       `\t\r\a\b\f\v`,
		"\x7f\u0085\u009b":   `\x7f\u0085\u009b`,
		"\u202e\u200b\ufeff": `\u202e\u200b\ufeff`,
		"\xff\xc3(":          `\xff\xc3(`,
		`back\slash`:         `back\slash`,
	} {
		if got := escapeLine(in); got != want {
			t.Errorf("escapeLine(%q) = %q, want %q", in, got, want)
		}
	}
	if got := escapeText("a\nb\x1b"); got != "a\nb\\x1b" {
		t.Errorf("escapeText keeps line breaks: %q", got)
	}
}

// jsonWriter escapes DEL and the C1 controls, whichever Write their bytes
// come in, and leaves everything else, U+00A0 (also 0xc2 first) included.
func TestJSONWriter(t *testing.T) {
	in := "{\"a\":\"x\x7f\u009b\u0085\u00a0é\u2028\"}\xc2"
	want := `{"a":"x\u007f\u009b\u0085` + "\u00a0é\u2028\"}\xc2"
	for split := 0; split <= len(in); split++ {
		var b strings.Builder
		w := &jsonWriter{w: &b}
		for _, part := range []string{in[:split], in[split:]} {
			if n, err := w.Write([]byte(part)); n != len(part) || err != nil {
				t.Fatalf("Write: %d, %v", n, err)
			}
		}
		w.Write(nil)
		if got := b.String(); got != want[:len(want)-1] && got != want {
			t.Errorf("split at %d: %q, want %q", split, got, want)
		}
	}
}
