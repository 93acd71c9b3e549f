package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/spec"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// report is a table a command prints: a title, columns, rows (each with its
// worked formulas for --explain), and summary lines.
type report struct {
	title    string
	header   []string
	right    []bool // right-align this column (numbers)
	rows     [][]string
	formulas [][]string
	footer   []string
	summary  []string
}

func (r *report) add(row []string, formulas []string) {
	r.rows = append(r.rows, row)
	r.formulas = append(r.formulas, formulas)
}

// grow makes room for n rows.
func (r *report) grow(n int) {
	r.rows = make([][]string, 0, n)
	r.formulas = make([][]string, 0, n)
}

func (r *report) write(w io.Writer, format string, explain bool) error {
	r.escape()
	switch format {
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write(r.header)
		for _, row := range r.rows {
			cw.Write(row)
		}
		cw.Flush()
		return cw.Error()
	case "markdown":
		return r.markdown(w, explain)
	}
	return r.table(w, explain)
}

// escape escapes every cell, formula and line of the report that could
// hold a terminal control (a layer's or the network's name from the spec),
// in place: each is one line of the table.
func (r *report) escape() {
	r.title = escapeLine(r.title)
	for _, v := range [][]string{r.header, r.footer, r.summary} {
		escapeAll(v)
	}
	for _, row := range r.rows {
		escapeAll(row)
	}
	for _, f := range r.formulas {
		escapeAll(f)
	}
}

func escapeAll(v []string) {
	for i, s := range v {
		v[i] = escapeLine(s)
	}
}

func (r *report) aligns() []tw.Align {
	a := make([]tw.Align, len(r.header))
	for i := range a {
		a[i] = tw.AlignLeft
		if i < len(r.right) && r.right[i] {
			a[i] = tw.AlignRight
		}
	}
	return a
}

// tablewriterRows is the largest table rendered by tablewriter; longer
// ones (generated networks of thousands of layers) take plainTable, which
// prints the same bytes in a fraction of the time (TestPlainTableMatches).
const tablewriterRows = 500

func (r *report) table(w io.Writer, explain bool) error {
	if len(r.rows) > tablewriterRows {
		return r.plainTable(w, explain)
	}
	var buf bytes.Buffer
	t := tablewriter.NewTable(&buf,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Symbols: tw.NewSymbols(tw.StyleASCII),
			Borders: tw.Border{Left: tw.Off, Right: tw.Off, Top: tw.Off, Bottom: tw.Off},
			Settings: tw.Settings{
				Separators: tw.Separators{BetweenColumns: tw.On},
				Lines:      tw.Lines{ShowHeaderLine: tw.On, ShowFooterLine: tw.On},
			},
		})),
		tablewriter.WithConfig(tablewriter.Config{
			Header: tw.CellConfig{Formatting: tw.CellFormatting{AutoFormat: tw.Off, AutoWrap: tw.WrapNone}, Alignment: tw.CellAlignment{PerColumn: r.aligns()}},
			Row:    tw.CellConfig{Formatting: tw.CellFormatting{AutoWrap: tw.WrapNone}, Alignment: tw.CellAlignment{PerColumn: r.aligns()}},
			Footer: tw.CellConfig{Formatting: tw.CellFormatting{AutoWrap: tw.WrapNone}, Alignment: tw.CellAlignment{PerColumn: r.aligns()}},
		}),
	)
	t.Header(r.header)
	if err := t.Bulk(r.rows); err != nil {
		return err
	}
	if r.footer != nil {
		t.Footer(r.footer)
	}
	if err := t.Render(); err != nil {
		return err
	}
	if r.title != "" {
		fmt.Fprintln(w, r.title)
	}
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	// Header line, then the separator, then one line per row.
	const headerLines = 2
	for i, line := range lines {
		fmt.Fprintln(w, strings.TrimRight(line, " "))
		row := i - headerLines
		if explain && row >= 0 && row < len(r.rows) {
			for _, f := range r.formulas[row] {
				fmt.Fprintf(w, "      %s\n", f)
			}
		}
	}
	for _, s := range r.summary {
		fmt.Fprintln(w, s)
	}
	return nil
}

// plainTable prints the table in the same layout as the tablewriter style
// above: cells padded by one space, columns split by |, a dashed line under
// the header and above the footer, no outer border.
func (r *report) plainTable(w io.Writer, explain bool) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	widths := make([]int, len(r.header))
	measure := func(row []string) {
		for i, c := range row {
			if i < len(widths) {
				widths[i] = max(widths[i], utf8.RuneCountInString(c))
			}
		}
	}
	measure(r.header)
	for _, row := range r.rows {
		measure(row)
	}
	measure(r.footer)
	var line []byte
	writeRow := func(row []string) {
		line = line[:0]
		for i, wd := range widths {
			c := ""
			if i < len(row) {
				c = row[i]
			}
			if i > 0 {
				line = append(line, '|')
			}
			pad := wd - utf8.RuneCountInString(c)
			line = append(line, ' ')
			if i < len(r.right) && r.right[i] {
				line = append(line, strings.Repeat(" ", pad)...)
				line = append(line, c...)
			} else {
				line = append(line, c...)
				line = append(line, strings.Repeat(" ", pad)...)
			}
			line = append(line, ' ')
		}
		bw.Write(bytes.TrimRight(line, " "))
		bw.WriteByte('\n')
	}
	rule := func() {
		for i, wd := range widths {
			if i > 0 {
				bw.WriteByte('+')
			}
			bw.WriteString(strings.Repeat("-", wd+2))
		}
		bw.WriteByte('\n')
	}
	if r.title != "" {
		fmt.Fprintln(bw, r.title)
	}
	writeRow(r.header)
	rule()
	for i, row := range r.rows {
		writeRow(row)
		if explain {
			for _, f := range r.formulas[i] {
				fmt.Fprintf(bw, "      %s\n", f)
			}
		}
	}
	if r.footer != nil {
		rule()
		writeRow(r.footer)
	}
	for _, s := range r.summary {
		fmt.Fprintln(bw, s)
	}
	return bw.Flush()
}

func (r *report) markdown(w io.Writer, explain bool) error {
	if r.title != "" {
		fmt.Fprintf(w, "**%s**\n\n", r.title)
	}
	esc := func(s string) string {
		// An indented cell (--depth) keeps its indent where Markdown
		// collapses spaces.
		trimmed := strings.TrimLeft(s, " ")
		return strings.Repeat("&nbsp;", len(s)-len(trimmed)) + strings.ReplaceAll(trimmed, "|", `\|`)
	}
	cells := func(row []string) string {
		out := make([]string, len(row))
		for i, c := range row {
			out[i] = esc(c)
		}
		return "| " + strings.Join(out, " | ") + " |"
	}
	fmt.Fprintln(w, cells(r.header))
	seps := make([]string, len(r.header))
	for i := range seps {
		seps[i] = "---"
		if i < len(r.right) && r.right[i] {
			seps[i] = "---:"
		}
	}
	fmt.Fprintln(w, "|"+strings.Join(seps, "|")+"|")
	for i, row := range r.rows {
		if explain && len(r.formulas[i]) > 0 {
			row = append([]string(nil), row...)
			row[len(row)-1] += "<br>`" + strings.Join(r.formulas[i], "`<br>`") + "`"
		}
		fmt.Fprintln(w, cells(row))
	}
	if r.footer != nil {
		b := make([]string, len(r.footer))
		for i, c := range r.footer {
			if c != "" {
				b[i] = "**" + c + "**"
			}
		}
		fmt.Fprintln(w, cells(b))
	}
	if len(r.summary) > 0 {
		fmt.Fprintln(w)
		for _, s := range r.summary {
			fmt.Fprintf(w, "    %s\n", s)
		}
	}
	return nil
}

// dims prints a shape without its batch axis the lecture's way: 6x28x28.
func dims(s calc.Shape) string {
	if len(s) < 2 {
		return "-"
	}
	return joinX(s[1:])
}

func joinX(v []int64) string {
	b := make([]byte, 0, 8*len(v))
	for i, x := range v {
		if i > 0 {
			b = append(b, 'x')
		}
		b = strconv.AppendInt(b, x, 10)
	}
	return string(b)
}

// axesCell prints one value when all axes agree, else each axis joined by x.
func axesCell(v []int64) string {
	same := true
	for _, x := range v {
		same = same && x == v[0]
	}
	if same && len(v) > 0 {
		return fmt.Sprint(v[0])
	}
	return joinX(v)
}

// axesCellF is axesCell for fractional values (a receptive field's start).
func axesCellF(v []float64) string {
	same := true
	for _, x := range v {
		same = same && x == v[0]
	}
	p := make([]string, len(v))
	for i, x := range v {
		p[i] = fmt.Sprint(x)
	}
	if same && len(v) > 0 {
		return p[0]
	}
	return strings.Join(p, "x")
}

// jsonReport is the contract's --format json object.
type jsonReport struct {
	Name   string      `json:"name"`
	Input  []int64     `json:"input"`
	Layers []jsonLayer `json:"layers"`
	Total  jsonTotal   `json:"total"`
}

type jsonLayer struct {
	Name    string    `json:"name"`
	Type    string    `json:"type"`
	From    []string  `json:"from"`
	Input   [][]int64 `json:"input"`
	Output  []int64   `json:"output"`
	Params  int64     `json:"params"`
	Buffers int64     `json:"buffers"`
	MACs    int64     `json:"macs"`
	RF      *jsonRF   `json:"rf"`
}

type jsonRF struct {
	Size    []int64   `json:"size"`
	Jump    []int64   `json:"jump"`
	Start   []float64 `json:"start"`
	Padding []float64 `json:"padding"`
}

type jsonTotal struct {
	Params  int64   `json:"params"`
	Buffers int64   `json:"buffers"`
	MACs    int64   `json:"macs"`
	Output  []int64 `json:"output"`
}

func writeJSON(w io.Writer, a *spec.Analysis) error {
	net := &a.Net
	out := jsonReport{Name: net.Name, Input: net.Input, Layers: make([]jsonLayer, len(net.Nodes))}
	for i, n := range net.Nodes {
		l := a.Result.Layers[i]
		jl := jsonLayer{Name: n.Name, Type: n.Type.String(), Output: l.Output, Params: l.Params, Buffers: l.Buffers, MACs: l.MACs}
		for _, f := range n.From {
			if f == calc.Input {
				jl.From = append(jl.From, "input")
			} else {
				jl.From = append(jl.From, net.Nodes[f].Name)
			}
		}
		for _, s := range l.Inputs {
			jl.Input = append(jl.Input, s)
		}
		if l.RF != nil {
			jl.RF = &jsonRF{Size: l.RF.Size, Jump: l.RF.Jump, Start: l.RF.Start, Padding: l.RF.Padding}
		}
		out.Layers[i] = jl
	}
	t := a.Result.Total
	out.Total = jsonTotal{Params: t.Params, Buffers: t.Buffers, MACs: t.MACs, Output: t.Output}
	return encodeJSON(w, out)
}

// encodeJSON writes the report with one layer per line: compact enough to
// read, and diffs show the layer that changed.
func encodeJSON(w io.Writer, r jsonReport) error {
	bw := bufio.NewWriterSize(&jsonWriter{w: w}, 64<<10)
	head, err := json.Marshal(struct {
		Name  string  `json:"name"`
		Input []int64 `json:"input"`
	}{r.Name, r.Input})
	if err != nil {
		return err
	}
	bw.Write(head[:len(head)-1])
	bw.WriteString(",\n \"layers\": [")
	for i := range r.Layers {
		line, err := json.Marshal(&r.Layers[i])
		if err != nil {
			return err
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n  ")
		bw.Write(line)
	}
	total, err := json.Marshal(r.Total)
	if err != nil {
		return err
	}
	bw.WriteString("],\n \"total\": ")
	bw.Write(total)
	bw.WriteString("}\n")
	return bw.Flush()
}
