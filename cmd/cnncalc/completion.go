package main

import (
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cnncalc/cnncalc"
	"github.com/cnncalc/cnncalc/quiz"
)

// Shell completion (cnncalc completion bash|zsh|fish|powershell, cobra's
// scripts) completes what users type: the embedded examples' names and
// spec files for SPEC, each --format's values, quiz --kinds, --columns, the
// quiz's question numbers and docs' formats. Each completion function is
// attached where its command is built.

// zooNames are the embedded examples' names, sorted.
func zooNames() []string {
	files, _ := fs.Glob(cnncalc.Zoo, "testdata/zoo/*.yaml")
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = strings.TrimSuffix(path.Base(f), ".yaml")
	}
	sort.Strings(names)
	return names
}

// completeSpec completes a SPEC argument: the embedded examples whose name
// starts with what was typed, with the spec files and directories of the
// working directory that do; a path (with a separator or a dot) is left
// to the shell's file completion. max is how many SPECs the command takes
// (-1: any number).
func completeSpec(max int) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if max >= 0 && len(args) >= max {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		if strings.ContainsAny(toComplete, `/\.`) {
			return nil, cobra.ShellCompDirectiveDefault
		}
		var out []string
		for _, n := range zooNames() {
			if strings.HasPrefix(n, toComplete) {
				out = append(out, n)
			}
		}
		if len(out) == 0 {
			return nil, cobra.ShellCompDirectiveDefault
		}
		if entries, err := os.ReadDir("."); err == nil {
			for _, e := range entries {
				name := e.Name()
				if !strings.HasPrefix(name, toComplete) || strings.HasPrefix(name, ".") {
					continue
				}
				if e.IsDir() {
					out = append(out, name+string(filepath.Separator))
				} else if ext := filepath.Ext(name); ext == ".yaml" || ext == ".yml" {
					out = append(out, name)
				}
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeValues completes a flag of fixed values, each "value\tdescription".
func completeValues(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeList completes a comma-separated list flag (--kinds, --columns):
// the values not yet in the list, after what was typed up to the last
// comma.
func completeList(values func() []string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		done, prefix := "", toComplete
		if i := strings.LastIndex(toComplete, ","); i >= 0 {
			done, prefix = toComplete[:i+1], toComplete[i+1:]
		}
		have := map[string]bool{}
		for _, v := range strings.Split(done, ",") {
			have[v] = true
		}
		var out []string
		for _, v := range values() {
			name, _, _ := strings.Cut(v, "\t")
			if !have[name] && strings.HasPrefix(name, prefix) {
				out = append(out, done+v)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
}

// registerFormat completes --format with the command's formats.
func registerFormat(cmd *cobra.Command, formats ...string) {
	cmd.RegisterFlagCompletionFunc("format", completeValues(formats...))
}

// reportFormats are the formats of the report commands and zoo.
var reportFormats = []string{"table\taligned columns", "json\tthe contract's object", "csv\tplain numbers, units in the header", "markdown\ta GitHub table"}

// columnValues are --columns' names with what each shows.
func columnValues() []string {
	out := make([]string, 0, len(columns)+1)
	for _, c := range columns {
		out = append(out, c.name+"\t"+c.help)
	}
	return append(out, "share\tparams% and macs%")
}

// kindValues are quiz --kinds' names with what each asks.
func kindValues() []string {
	out := make([]string, len(quiz.Kinds))
	for i, k := range quiz.Kinds {
		out[i] = k.Name + "\t" + k.Description
	}
	return out
}

// completeQuestion completes quiz N with the question numbers.
func completeQuestion(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	out := make([]string, quiz.Questions)
	for i := range out {
		out[i] = strconv.Itoa(i + 1)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeLayers completes a flag that takes a layer of SPEC (the first
// argument): the layers' names, read from the spec or model given.
func completeLayers(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) == 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ios := &IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}
	s, err := parseSpec(ios, args[0])
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, n := range s.Net.Nodes {
		if strings.HasPrefix(n.Name, toComplete) {
			out = append(out, n.Name)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
