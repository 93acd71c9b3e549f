package main

import (
	"os"
	"strings"
	"testing"
)

// complete runs cobra's __complete for the words and returns the
// completions and the directive line.
func complete(t *testing.T, words ...string) ([]string, string) {
	t.Helper()
	out, _, code := runCmd(t, "", append([]string{"__complete"}, words...)...)
	if code != 0 {
		t.Fatalf("__complete %v: exit %d", words, code)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	var names []string
	for _, l := range lines[:len(lines)-1] {
		name, _, _ := strings.Cut(l, "\t")
		names = append(names, name)
	}
	return names, lines[len(lines)-1]
}

// Completion offers what each command takes: the embedded examples for
// SPEC (with the spec files beside them), each --format's own values, the
// quiz's kinds and question numbers, the report columns.
func TestCompletion(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"resnet_mine.yaml", "resnet_notes.txt"} {
		if err := os.WriteFile(dir+"/"+f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(dir+"/resnets", 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	const (
		noFile   = ":4"  // ShellCompDirectiveNoFileComp
		files    = ":0"  // ShellCompDirectiveDefault: the shell completes files
		list     = ":6"  // NoFileComp | NoSpace: a comma list goes on
		fileExts = ":8"  // FilterFileExt
		dirs     = ":16" // FilterDirs
	)
	for _, c := range []struct {
		words     []string
		want      []string // all of them, in order, or with all set a subset
		subset    bool
		directive string
	}{
		{[]string{"shapes", "resnet1"}, []string{"resnet101", "resnet152", "resnet18"}, false, noFile},
		{[]string{"params", "resnet"}, []string{"resnet18", "resnet50", "resnet_mine.yaml", "resnets/"}, true, noFile},
		{[]string{"check", "lenet5", "alex"}, []string{"alexnet"}, false, noFile},
		{[]string{"rf", "lenet5", ""}, nil, false, noFile}, // one SPEC only
		{[]string{"exec", "models/"}, nil, false, files},
		{[]string{"shapes", "zzz"}, nil, false, files},
		{[]string{"shapes", "lenet5", "--format", ""}, []string{"table", "json", "csv", "markdown"}, false, noFile},
		{[]string{"exec", "lenet5", "--format", ""}, []string{"table", "json"}, false, noFile},
		{[]string{"check", "x", "--format", ""}, []string{"human", "github", "junit", "json"}, false, noFile},
		{[]string{"zoo", "--format", ""}, []string{"table", "json", "csv", "markdown"}, false, noFile},
		{[]string{"quiz", "--format", ""}, []string{"table", "json"}, false, noFile},
		{[]string{"quiz", "--practice", "--kinds", "conv,p"}, []string{"conv,pad", "conv,pool"}, false, list},
		{[]string{"quiz", "--practice", "--kinds", ""}, []string{"conv", "pad", "same", "pool", "convparams", "fcparams", "macs", "rf", "dilation"}, false, list},
		{[]string{"quiz", ""}, []string{"1", "2", "3", "4", "5", "6", "7", "8"}, false, noFile}, // the course's 8 questions
		{[]string{"params", "x", "--columns", "name,para"}, []string{"name,params", "name,params%"}, false, list},
		{[]string{"shapes", "x", "--columns", "s"}, []string{"share"}, false, list},
		{[]string{"exec", "x", "--weights", ""}, []string{"safetensors"}, false, fileExts},
		{[]string{"exec", "x", "--input", ""}, []string{"npy"}, false, fileExts},
		{[]string{"docs", ""}, []string{"man", "markdown"}, false, noFile},
		{[]string{"docs", "man", ""}, nil, false, dirs},
	} {
		got, directive := complete(t, c.words...)
		ok := directive == c.directive
		if c.subset {
			for _, w := range c.want {
				found := false
				for _, g := range got {
					found = found || g == w
				}
				ok = ok && found
			}
			for _, g := range got {
				ok = ok && g != "resnet_notes.txt" // not a spec
			}
		} else {
			ok = ok && strings.Join(got, " ") == strings.Join(c.want, " ")
		}
		if !ok {
			t.Errorf("%v: %v %s, want %v %s", c.words, got, directive, c.want, c.directive)
		}
	}
}

// cnncalc completion SHELL prints cobra's script for each shell.
func TestCompletionScripts(t *testing.T) {
	for shell, want := range map[string]string{"bash": "# bash completion V2 for cnncalc", "zsh": "#compdef cnncalc", "fish": "complete -c cnncalc", "powershell": "Register-ArgumentCompleter"} {
		out, errOut, code := runCmd(t, "", "completion", shell)
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("completion %s: exit %d, %q; stdout lacks %q", shell, code, errOut, want)
		}
	}
}

// TestCompleteLayerNames: draw --rf completes the layer names of the spec.
func TestCompleteLayerNames(t *testing.T) {
	out, _, code := runCmd(t, "", "__complete", "draw", "lenet5", "--rf", "")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"conv2d_1", "linear_3"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("--rf completions lack %s:\n%s", want, out)
		}
	}
}
