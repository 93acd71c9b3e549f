package main

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// docs man writes a page of section 1 per command, each with its synopsis,
// flags and examples; docs markdown one linked page per command.
func TestDocs(t *testing.T) {
	for _, c := range []struct {
		format string
		page   string   // the shapes command's page
		want   []string // in that page
	}{
		{"man", "cnncalc-shapes.1", []string{`.TH "CNNCALC-SHAPES" "1"`, "cnncalc shapes SPEC [flags]", `\fB--columns\fP`, "cnncalc shapes lenet5"}},
		{"markdown", "cnncalc_shapes.md", []string{"## cnncalc shapes", "cnncalc shapes SPEC [flags]", "--columns", "* [cnncalc](cnncalc.md)"}},
	} {
		dir := filepath.Join(t.TempDir(), "pages") // created by docs
		out, errOut, code := runCmd(t, "", "docs", c.format, dir)
		if code != 0 || errOut != "" {
			t.Fatalf("%s: exit %d: %s", c.format, code, errOut)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		sort.Strings(names)
		// One page per command that --help lists, subcommands included.
		for _, cmd := range []string{"", "check", "completion", "docs", "exec", "params", "quiz", "rf", "shapes", "version", "zoo"} {
			name := "cnncalc"
			if cmd != "" {
				name += map[string]string{"man": "-", "markdown": "_"}[c.format] + cmd
			}
			name += map[string]string{"man": ".1", "markdown": ".md"}[c.format]
			if !strings.Contains(out, "wrote "+filepath.Join(dir, name)+"\n") || sort.SearchStrings(names, name) == len(names) || names[sort.SearchStrings(names, name)] != name {
				t.Errorf("%s: no page %s among %v\n%s", c.format, name, names, out)
			}
		}
		data, err := os.ReadFile(filepath.Join(dir, c.page))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(string(data), w) {
				t.Errorf("%s: %s lacks %q:\n%s", c.format, c.page, w, data)
			}
		}
		if strings.Contains(string(data), "Auto generated") {
			t.Errorf("%s: %s carries the generation date line", c.format, c.page)
		}
	}
	if _, errOut, code := runCmd(t, "", "docs", "html", t.TempDir()); code != exitError || !strings.Contains(errOut, `docs "html": write man or markdown`) {
		t.Errorf("docs html: exit %d, %q", code, errOut)
	}
}
