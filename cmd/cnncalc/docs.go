package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// DocsOptions are the docs command's streams and arguments.
type DocsOptions struct {
	IO     *IOStreams
	Format string // man or markdown
	Dir    string
	Root   *cobra.Command
}

func newDocsCmd(ios *IOStreams, runF func(*DocsOptions) error) *cobra.Command {
	opts := &DocsOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "docs man|markdown DIR",
		Short: "Write a man page or a Markdown page of every command into DIR",
		Long: `docs writes one page per command (cnncalc, cnncalc shapes, ...) into DIR,
created if need be: man pages of section 1 (cnncalc.1, cnncalc-shapes.1; read
one with man -l DIR/cnncalc-shapes.1) or Markdown pages (cnncalc.md,
cnncalc_shapes.md) linked to each other. Each page is the command's --help:
its synopsis, description, examples and flags. A page already in DIR is
replaced whole or not at all, as check --write replaces a spec.`,
		Example: `  cnncalc docs man /tmp/man && man -l /tmp/man/cnncalc-shapes.1
  cnncalc docs markdown docs/cli`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Format, opts.Dir, opts.Root = args[0], args[1], cmd.Root()
			if runF != nil {
				return runF(opts)
			}
			return docsRun(opts)
		},
	}
	cmd.ValidArgsFunction = func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) == 0 {
			return []string{"man\tman pages of section 1", "markdown\tMarkdown pages"}, cobra.ShellCompDirectiveNoFileComp
		}
		return nil, cobra.ShellCompDirectiveFilterDirs
	}
	return cmd
}

func docsRun(opts *DocsOptions) error {
	var render func(*cobra.Command) (string, []byte, error)
	switch opts.Format {
	case "man":
		render = func(c *cobra.Command) (string, []byte, error) {
			var b bytes.Buffer
			header := &doc.GenManHeader{Title: strings.ToUpper(strings.ReplaceAll(c.CommandPath(), " ", "-")), Section: "1",
				Source: "cnncalc " + versionString(), Manual: "cnncalc manual"}
			err := doc.GenMan(c, header, &b)
			return strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1", b.Bytes(), err
		}
	case "markdown":
		render = func(c *cobra.Command) (string, []byte, error) {
			var b bytes.Buffer
			err := doc.GenMarkdownCustom(c, &b, func(s string) string { return s })
			return strings.ReplaceAll(c.CommandPath(), " ", "_") + ".md", b.Bytes(), err
		}
	default:
		return usageErr("docs %q: write man or markdown", opts.Format)
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return &codeError{code: exitError, err: err}
	}
	// Every page is rendered before the first is written: a failure
	// leaves DIR as it was.
	type page struct {
		path string
		data []byte
	}
	var pages []page
	var walk func(c *cobra.Command) error
	walk = func(c *cobra.Command) error {
		c.DisableAutoGenTag = true // pages that do not change with the day they were made
		name, data, err := render(c)
		if err != nil {
			return err
		}
		pages = append(pages, page{filepath.Join(opts.Dir, name), data})
		for _, sub := range c.Commands() {
			if !sub.IsAvailableCommand() || sub.IsAdditionalHelpTopicCommand() {
				continue
			}
			if err := walk(sub); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(opts.Root); err != nil {
		return &codeError{code: exitInternal, err: err}
	}
	for _, p := range pages {
		if err := writeFile(p.path, p.data, nil); err != nil {
			return &codeError{code: exitError, err: err}
		}
		fmt.Fprintf(opts.IO.Out, "wrote %s\n", p.path)
	}
	return nil
}
