package draw

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	"github.com/cnncalc/cnncalc/calc"
)

// Chart geometry.
const (
	rowH      = 16.0
	barMaxW   = 360.0
	cumW      = 120.0 // the cumulative-share track
	colGap    = 12.0
	maxLabelW = 40 // characters of a row's label kept
)

// ChartMetrics are the quantities a chart can show.
var ChartMetrics = []string{"params", "macs", "memory"}

// ChartRow is one bar.
type ChartRow struct {
	Label string
	Kind  Kind
	Value int64
	// Share and Cum are the row's share of the total and the share of the
	// rows up to it, in [0, 1].
	Share, Cum float64
}

// ChartRows gives one row per box of g (the input left out) with metric's
// value: params, macs, or memory (float32 bytes of the box's outputs).
func ChartRows(g *Graph, metric string) ([]ChartRow, int64, error) {
	var rows []ChartRow
	var total int64
	for _, b := range g.Boxes[1:] {
		var v int64
		switch metric {
		case "params":
			v = b.Params
		case "macs":
			v = b.MACs
		case "memory":
			v = b.Bytes
		default:
			return nil, 0, fmt.Errorf("unknown chart %q: use params, macs or memory", metric)
		}
		if v > 0 && total > 1<<62-v {
			return nil, 0, fmt.Errorf("the %s sum overflows", metric)
		}
		total += v
		rows = append(rows, ChartRow{Label: clip(b.Title, maxLabelW), Kind: b.Kind, Value: v})
	}
	var cum int64
	for i := range rows {
		cum += rows[i].Value
		if total > 0 {
			rows[i].Share = float64(rows[i].Value) / float64(total)
			rows[i].Cum = float64(cum) / float64(total)
		}
	}
	return rows, total, nil
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// metricText formats a value of the metric.
func metricText(metric string, v int64) string {
	if metric == "memory" {
		return bytesText(v)
	}
	return calc.Human(v)
}

func bytesText(v int64) string {
	f := float64(v)
	switch {
	case f >= 1<<30:
		return strconv.FormatFloat(f/(1<<30), 'f', 2, 64) + " GiB"
	case f >= 1<<20:
		return strconv.FormatFloat(f/(1<<20), 'f', 2, 64) + " MiB"
	case f >= 1<<10:
		return strconv.FormatFloat(f/(1<<10), 'f', 2, 64) + " KiB"
	}
	return strconv.FormatInt(v, 10) + " B"
}

// ChartLayout places a chart: one row per bar with its label, value, share
// and cumulative share as texts in columns of their own, the bar, and a
// cumulative-share polyline in a track of its own.
type ChartLayout struct {
	W, H  float64
	Texts []Text
	Bars  []Rect
	Kinds []Kind
	Cum   []Point
	Track Rect
}

// nonZero drops the rows without any of the quantity (activations have
// no parameters): the chart shows where it goes.
func nonZero(rows []ChartRow) []ChartRow {
	var out []ChartRow
	for _, r := range rows {
		if r.Value != 0 {
			out = append(out, r)
		}
	}
	return out
}

// PlaceChart lays out the rows; left says how many rows without any of
// the quantity were left out.
func PlaceChart(title, metric string, rows []ChartRow, total int64, left int) *ChartLayout {
	c := &ChartLayout{}
	labelW, valueW := 0.0, 0.0
	for _, r := range rows {
		labelW = max(labelW, textW(r.Label))
		valueW = max(valueW, textW(metricText(metric, r.Value)))
	}
	shareW := textW("100.0%")
	y := margin
	c.Texts = append(c.Texts, Text{Rect: Rect{margin, y, textW(title), lineH}, S: title, Bold: true, Anchor: "start"})
	y += lineH + 4
	head := []struct {
		s string
		x float64
	}{{"layer", margin}}
	xValue := margin + labelW + colGap
	xBar := xValue + valueW + colGap
	xShare := xBar + barMaxW + colGap
	xCum := xShare + shareW + colGap
	xTrack := xCum + shareW + colGap
	head = append(head, struct {
		s string
		x float64
	}{metric, xValue}, struct {
		s string
		x float64
	}{"share", xShare}, struct {
		s string
		x float64
	}{"cum.", xCum})
	for _, h := range head {
		c.Texts = append(c.Texts, Text{Rect: Rect{h.x, y, textW(h.s), lineH}, S: h.s, Bold: true, Anchor: "start"})
	}
	y += lineH + 4
	var maxV int64
	for _, r := range rows {
		maxV = max(maxV, r.Value)
	}
	top := y
	for _, r := range rows {
		c.Texts = append(c.Texts, Text{Rect: Rect{margin, y, textW(r.Label), lineH}, S: r.Label, Anchor: "start"})
		v := metricText(metric, r.Value)
		c.Texts = append(c.Texts, Text{Rect: Rect{xValue + valueW - textW(v), y, textW(v), lineH}, S: v, Anchor: "start"})
		if maxV > 0 && r.Value > 0 {
			w := max(1, barMaxW*float64(r.Value)/float64(maxV))
			c.Bars = append(c.Bars, Rect{xBar, y + 2, w, rowH - 4})
			c.Kinds = append(c.Kinds, r.Kind)
		}
		s := pct(r.Share)
		c.Texts = append(c.Texts, Text{Rect: Rect{xShare + shareW - textW(s), y, textW(s), lineH}, S: s, Anchor: "start"})
		s = pct(r.Cum)
		c.Texts = append(c.Texts, Text{Rect: Rect{xCum + shareW - textW(s), y, textW(s), lineH}, S: s, Anchor: "start"})
		c.Cum = append(c.Cum, Point{xTrack + cumW*r.Cum, y + rowH/2})
		y += rowH
	}
	c.Track = Rect{xTrack, top, cumW, y - top}
	y += 6
	foot := fmt.Sprintf("total %s; the line on the right is the cumulative share, 0 to 100%%", metricText(metric, total))
	if left > 0 {
		foot += fmt.Sprintf("; %d rows with none left out", left)
	}
	c.Texts = append(c.Texts, Text{Rect: Rect{margin, y, textW(foot), lineH}, S: foot, Anchor: "start"})
	c.W = max(xTrack+cumW, margin+textW(foot), margin+textW(title)) + margin
	c.H = y + lineH + margin
	return c
}

func pct(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" }

// Chart writes the bar chart of g's boxes for metric as SVG.
func Chart(out io.Writer, g *Graph, metric string) error {
	rows, total, err := ChartRows(g, metric)
	if err != nil {
		return err
	}
	what := map[string]string{"params": "learnable parameters", "macs": "multiply-adds", "memory": "output activations (float32)"}[metric]
	c := PlaceChart(fmt.Sprintf("%s: %s per %s", g.Name, what, unitName(g)), metric, nonZero(rows), total, len(rows)-len(nonZero(rows)))
	w := bufio.NewWriter(out)
	svgHeader(w, c.W, c.H, g.Name+" "+metric)
	for i, b := range c.Bars {
		ki := kindInfo[c.Kinds[i]]
		fmt.Fprintf(w, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s" stroke="%s"/>`+"\n", f1(b.X), f1(b.Y), f1(b.W), f1(b.H), ki.Stroke, ki.Stroke)
	}
	t := c.Track
	fmt.Fprintf(w, `<rect x="%s" y="%s" width="%s" height="%s" fill="#f6f6f6" stroke="#cccccc"/>`+"\n", f1(t.X), f1(t.Y), f1(t.W), f1(t.H))
	if len(c.Cum) > 0 {
		w.WriteString(`<polyline fill="none" stroke="#cc0000" stroke-width="1.5" points="`)
		for k, p := range c.Cum {
			if k > 0 {
				w.WriteString(" ")
			}
			w.WriteString(f1(p.X) + "," + f1(p.Y))
		}
		w.WriteString(`"/>` + "\n")
	}
	for _, tx := range c.Texts {
		writeText(w, tx, "#111111")
	}
	w.WriteString("</svg>\n")
	return w.Flush()
}

func unitName(g *Graph) string {
	if g.Depth > 0 {
		return "block (depth " + strconv.Itoa(g.Depth) + ")"
	}
	return "layer"
}
