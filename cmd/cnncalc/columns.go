package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/exec"
	"github.com/cnncalc/cnncalc/spec"
)

// row is one row of a report: a layer, or with --depth a block use or
// repeat standing for its layers (spec.Row).
type row struct {
	a     *spec.Analysis
	r     spec.Row
	n     *calc.Node        // the layer; a group's output node
	l     *calc.LayerResult // n's result
	group *spec.Group       // nil for a layer
}

// column is one column of the shapes, params and rf reports, chosen by
// --columns. table gives the cell of the table and markdown formats, csv
// the cells of the csv format: plain numbers, the units in csvHeader.
type column struct {
	name      string // --columns name
	help      string // what it shows, for --help
	header    string // the table's header
	csvHeader []string
	right     bool // numbers: right-aligned
	table     func(*row) string
	csv       func(*row) []string // nil: the table's cell
	// total is the footer's cell (nil: none); a footer is printed when
	// a column other than output has one.
	total func(*spec.Analysis) string
}

// columns is every column a report can show, in the order --help lists
// them.
var columns = []column{
	{name: "index", help: "the layer's number (a group's: first-last of its layers)", header: "#", csvHeader: []string{"index"}, right: true,
		table: func(r *row) string {
			if r.group != nil && r.r.End-r.r.First > 1 {
				return fmt.Sprintf("%d-%d", r.r.First+1, r.r.End)
			}
			if r.group != nil {
				return strconv.Itoa(r.r.First + 1)
			}
			return strconv.Itoa(r.r.Node + 1)
		},
		// CSV tells a group's row from a layer's by the range, even of
		// one layer (4-4).
		csv: func(r *row) []string {
			if r.group != nil {
				return []string{fmt.Sprintf("%d-%d", r.r.First+1, r.r.End)}
			}
			return []string{strconv.Itoa(r.r.Node + 1)}
		}},
	{name: "layer", help: "the name, with the type where the name does not say it, indented by depth", header: "layer", csvHeader: []string{"layer"},
		table: func(r *row) string { return strings.Repeat("  ", max(r.r.Depth-1, 0)) + rowLabel(r) },
		csv:   func(r *row) []string { return []string{rowLabel(r)} }},
	{name: "name", help: "the layer's (or block use's) name", header: "name", csvHeader: []string{"name"},
		table: func(r *row) string {
			if r.group != nil {
				return r.group.Item
			}
			return r.n.Name
		}},
	{name: "type", help: "the layer type; a group's block, or repeat", header: "type", csvHeader: []string{"type"},
		table: func(r *row) string {
			switch {
			case r.group == nil:
				return r.n.Type.String()
			case r.group.Kind == "repeat":
				return "repeat"
			}
			return r.group.Block
		}},
	{name: "input", help: "input shape(s), batch excluded", header: "input", csvHeader: []string{"input"},
		table: func(r *row) string {
			if r.group != nil {
				if r.group.In == calc.Input {
					return dims(r.a.Net.Input)
				}
				return dims(r.a.Result.Layers[r.group.In].Output)
			}
			return inputsCell(r.n.Type, r.l.Inputs)
		}},
	{name: "output", help: "output shape, batch excluded", header: "output", csvHeader: []string{"output"},
		table: func(r *row) string { return dims(r.l.Output) },
		total: func(a *spec.Analysis) string { return dims(a.Result.Total.Output) }},
	{name: "window", help: "kernel/stride/padding (dilation, groups) of convs and pools", header: "k/s/p", csvHeader: []string{"k/s/p"},
		table: func(r *row) string {
			if r.group != nil {
				return ""
			}
			return window(&r.n.Layer)
		}},
	{name: "kernel", help: "the weight tensor's shape (torchinfo's kernel column)", header: "kernel", csvHeader: []string{"kernel"},
		table: func(r *row) string {
			if r.group != nil {
				return ""
			}
			if s, ok := exec.ParamShapes(&r.n.Layer, r.l.Inputs); ok && s[0] != nil {
				v := make([]int64, len(s[0]))
				for i, d := range s[0] {
					v[i] = int64(d)
				}
				return joinX(v)
			}
			return ""
		}},
	countColumn("params", "learnable parameters", "params", "params", func(r *row) int64 { return r.r.Params }, func(t calc.Totals) int64 { return t.Params }),
	countColumn("buffers", "running statistics", "buffers", "buffers", func(r *row) int64 { return r.r.Buffers }, func(t calc.Totals) int64 { return t.Buffers }),
	countColumn("macs", "multiply-accumulates, whole batch", "MACs", "macs", func(r *row) int64 { return r.r.MACs }, func(t calc.Totals) int64 { return t.MACs }),
	{name: "memory", help: "float32 size of the output (a group's: of its layers' outputs)", header: "memory", csvHeader: []string{"memory_bytes"}, right: true,
		table: func(r *row) string { return bytesCell(r.r.Bytes) },
		csv:   func(r *row) []string { return []string{strconv.FormatInt(r.r.Bytes, 10)} },
		total: func(a *spec.Analysis) string { return bytesCell(a.Result.Total.ActivationBytes) }},
	shareColumn("params%", "share of the total params", "params %", "params_pct", func(r *row) int64 { return r.r.Params }, func(t calc.Totals) int64 { return t.Params }),
	shareColumn("macs%", "share of the total MACs", "MACs %", "macs_pct", func(r *row) int64 { return r.r.MACs }, func(t calc.Totals) int64 { return t.MACs }),
	{name: "rf", help: "receptive field size/jump/start", header: "rf size/jump/start", csvHeader: []string{"rf_size", "rf_jump", "rf_start"},
		table: func(r *row) string { return rfCell(r.l.RF) },
		csv: func(r *row) []string {
			if rf := r.l.RF; rf != nil {
				return []string{axesCell(rf.Size), axesCell(rf.Jump), axesCellF(rf.Start)}
			}
			return []string{"", "", ""}
		}},
	rfColumn("rf-size", "receptive field size, input pixels", "size", func(rf *calc.RF) string { return axesCell(rf.Size) }),
	rfColumn("rf-jump", "receptive field jump (input pixels between neighbouring outputs)", "jump", func(rf *calc.RF) string { return axesCell(rf.Jump) }),
	rfColumn("rf-start", "input coordinate of the centre of output unit 0's field", "start", func(rf *calc.RF) string { return axesCellF(rf.Start) }),
	rfColumn("rf-padding", "effective padding of the field, input pixels", "padding", func(rf *calc.RF) string { return axesCellF(rf.Padding) }),
}

// columnSets are names that stand for several columns.
var columnSets = map[string][]string{"share": {"params%", "macs%"}}

func countColumn(name, help, header, csvHeader string, v func(*row) int64, total func(calc.Totals) int64) column {
	return column{name: name, help: help, header: header, csvHeader: []string{csvHeader}, right: true,
		table: func(r *row) string { return calc.Group(v(r)) },
		csv:   func(r *row) []string { return []string{strconv.FormatInt(v(r), 10)} },
		total: func(a *spec.Analysis) string { return calc.Group(total(a.Result.Total)) }}
}

// shareColumn is a row's percentage of a total, as ptflops prints it; "-"
// when the total is 0.
func shareColumn(name, help, header, csvHeader string, v func(*row) int64, total func(calc.Totals) int64) column {
	pct := func(r *row) (float64, bool) {
		t := total(r.a.Result.Total)
		return 100 * float64(v(r)) / float64(t), t != 0
	}
	return column{name: name, help: help, header: header, csvHeader: []string{csvHeader}, right: true,
		table: func(r *row) string {
			if p, ok := pct(r); ok {
				return strconv.FormatFloat(p, 'f', 2, 64) + "%"
			}
			return "-"
		},
		csv: func(r *row) []string {
			if p, ok := pct(r); ok {
				return []string{strconv.FormatFloat(p, 'f', 4, 64)}
			}
			return []string{""}
		},
		total: func(a *spec.Analysis) string {
			if total(a.Result.Total) == 0 {
				return "-"
			}
			return "100.00%"
		}}
}

// rfColumn is one number of the receptive field: "-" in the table where it
// is undefined, an empty csv cell.
func rfColumn(name, help, header string, v func(*calc.RF) string) column {
	return column{name: name, help: help, header: header, csvHeader: []string{strings.ReplaceAll(name, "-", "_")}, right: true,
		table: func(r *row) string {
			if r.l.RF == nil {
				return "-"
			}
			return v(r.l.RF)
		},
		csv: func(r *row) []string {
			if r.l.RF == nil {
				return []string{""}
			}
			return []string{v(r.l.RF)}
		}}
}

// rowLabel names a row: a layer by layerCell; a block use by its name, with
// the block where the name differs (stage1 (basic)); a repeat by its count
// (repeat x2, or its name and count).
func rowLabel(r *row) string {
	g := r.group
	switch {
	case g == nil:
		return layerCell(r.n)
	case g.Kind == "repeat" && g.Item == "repeat":
		return fmt.Sprintf("repeat x%d", g.Count)
	case g.Kind == "repeat":
		return fmt.Sprintf("%s (repeat x%d)", g.Item, g.Count)
	case g.Item != g.Block:
		return g.Item + " (" + g.Block + ")"
	}
	return g.Item
}

// columnHelp lists the column names for --columns' usage.
func columnHelp() string {
	names := make([]string, 0, len(columns)+len(columnSets))
	for _, c := range columns {
		names = append(names, c.name)
	}
	return strings.Join(names, ",") + " (share = params%,macs%)"
}

// pickColumns resolves --columns names (or a command's default) to columns.
func pickColumns(names []string) ([]*column, error) {
	var out []*column
	for _, raw := range names {
		name := strings.ToLower(strings.TrimSpace(raw))
		if set, ok := columnSets[name]; ok {
			for _, s := range set {
				out = append(out, columnByName(s))
			}
			continue
		}
		c := columnByName(name)
		if c == nil {
			all := make([]string, 0, len(columns))
			for _, c := range columns {
				all = append(all, c.name)
			}
			hint := ""
			if s := closest(name, append(all, "share")); s != "" {
				hint = "; did you mean " + s + "?"
			}
			return nil, fmt.Errorf("--columns: unknown column %q%s (columns: %s)", raw, hint, columnHelp())
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--columns: no column named (columns: %s)", columnHelp())
	}
	return out, nil
}

func columnByName(name string) *column {
	for i := range columns {
		if columns[i].name == name {
			return &columns[i]
		}
	}
	return nil
}

// closest is the candidate within two edits of s, "" when none is.
func closest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of two short strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// layerReport builds a report of the analysis with the columns: one row
// per layer, or with depth > 0 the rows of spec's summary by depth. csv
// takes the columns' plain cells and headers and leaves out the footer.
func layerReport(a *spec.Analysis, cols []*column, depth int, csv bool) (*report, error) {
	r := &report{title: title(a)}
	for _, c := range cols {
		if csv {
			r.header = append(r.header, c.csvHeader...)
			continue
		}
		r.header = append(r.header, c.header)
		r.right = append(r.right, c.right)
	}
	var rows []spec.Row
	if depth > 0 {
		var err error
		if rows, err = a.Rows(depth); err != nil {
			return nil, err
		}
	}
	n := len(a.Net.Nodes)
	if rows != nil {
		n = len(rows)
	}
	r.grow(n)
	for i := 0; i < n; i++ {
		var sr spec.Row
		if rows != nil {
			sr = rows[i]
		} else {
			l := &a.Result.Layers[i]
			sr = spec.Row{Depth: 1, Group: -1, Node: i, First: i, End: i + 1, Params: l.Params, Buffers: l.Buffers, MACs: l.MACs, Bytes: l.Bytes}
		}
		rw := row{a: a, r: sr, n: &a.Net.Nodes[sr.Node], l: &a.Result.Layers[sr.Node]}
		if sr.Group >= 0 {
			rw.group = &a.Spec.Groups[sr.Group]
		}
		cells := make([]string, 0, len(r.header))
		for _, c := range cols {
			if csv && c.csv != nil {
				cells = append(cells, c.csv(&rw)...)
			} else {
				cells = append(cells, c.table(&rw))
			}
		}
		var formulas []string
		if rw.group == nil {
			formulas = rw.l.Formulas
		}
		r.add(cells, formulas)
	}
	if !csv {
		r.footer = footer(a, cols)
	}
	return r, nil
}

// footer is the totals line under the table: the columns' totals, "total"
// in the first column without one; nil when no column but output has a
// total.
func footer(a *spec.Analysis, cols []*column) []string {
	cells := make([]string, len(cols))
	has, label := false, -1
	for i, c := range cols {
		switch {
		case c.total != nil:
			cells[i] = c.total(a)
			has = has || c.name != "output"
		case label < 0 && c.name != "index":
			label = i
		}
	}
	if !has {
		return nil
	}
	if label >= 0 {
		cells[label] = "total"
	}
	return cells
}
