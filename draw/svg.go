package draw

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// svgFont is a generic family: the SVG names no font file, so it stays
// self-contained, and every monospace face has the advance textW assumes
// within a few per cent.
const svgFont = "DejaVu Sans Mono, Menlo, Consolas, monospace"

// esc escapes text for XML.
func esc(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&#39;")
		default:
			if r < 0x20 && r != '\t' || r == 0xFFFD || r == 0x7f {
				b.WriteRune('?')
				continue
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

func f1(v float64) string { return fmt.Sprintf("%.1f", v) }

// svgHeader opens an SVG document of the given size.
func svgHeader(w *bufio.Writer, width, height float64, title string) {
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="%s" font-size="%g">`+"\n",
		f1(width), f1(height), f1(width), f1(height), svgFont, fontSize)
	fmt.Fprintf(w, "<title>%s</title>\n", esc(title))
	fmt.Fprintf(w, `<rect x="0" y="0" width="%s" height="%s" fill="#ffffff"/>`+"\n", f1(width), f1(height))
}

// writeText writes one text line; its rectangle's top is t.Y.
func writeText(w *bufio.Writer, t Text, fill string) {
	x := t.X
	if t.Anchor == "middle" {
		x = t.X + t.W/2
	}
	weight := ""
	if t.Bold {
		weight = ` font-weight="bold"`
	}
	// The baseline sits at 0.8 of the line for a 12px face in a 15px line.
	fmt.Fprintf(w, `<text x="%s" y="%s" text-anchor="%s"%s fill="%s">%s</text>`+"\n",
		f1(x), f1(t.Y+lineH*0.8), t.Anchor, weight, fill, esc(t.S))
}

// SVG writes the laid-out graph as a self-contained SVG: no scripts, fonts,
// images or links.
func SVG(out io.Writer, g *Graph, L *Layout) error {
	w := bufio.NewWriter(out)
	svgHeader(w, L.W, L.H, g.Name)
	w.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555555"/></marker></defs>` + "\n")
	w.WriteString(`<g fill="none" stroke="#555555" stroke-width="1.2">` + "\n")
	for _, e := range L.Edges {
		var d strings.Builder
		for k, p := range e.Points {
			if k == 0 {
				d.WriteString("M")
			} else {
				d.WriteString(" L")
			}
			d.WriteString(f1(p.X) + "," + f1(p.Y))
		}
		fmt.Fprintf(w, `<path d="%s" marker-end="url(#arrow)"/>`+"\n", d.String())
	}
	w.WriteString("</g>\n")
	for b, r := range L.Boxes {
		box := &g.Boxes[b]
		ki := kindInfo[box.Kind]
		rx := 4.0
		sw := 1.2
		if box.Kind == KindMerge {
			rx = r.H / 2
			sw = 2
		}
		fmt.Fprintf(w, `<g><title>%s</title><rect x="%s" y="%s" width="%s" height="%s" rx="%s" fill="%s" stroke="%s" stroke-width="%g"/></g>`+"\n",
			esc(box.Title+" ("+box.Kind.String()+")"), f1(r.X), f1(r.Y), f1(r.W), f1(r.H), f1(rx), ki.Fill, ki.Stroke, sw)
	}
	for k, s := range L.Swatches {
		ki := kindInfo[L.Kinds[k]]
		fmt.Fprintf(w, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s" stroke="%s"/>`+"\n", f1(s.X), f1(s.Y), f1(s.W), f1(s.H), ki.Fill, ki.Stroke)
	}
	for _, t := range L.Texts {
		writeText(w, t, "#111111")
	}
	w.WriteString("</svg>\n")
	return w.Flush()
}

// DOT writes the graph for Graphviz: the same boxes, colours, legend and
// caption; Graphviz lays it out.
func DOT(out io.Writer, g *Graph) error {
	w := bufio.NewWriter(out)
	fmt.Fprintf(w, "digraph %s {\n", dotID(g.Name))
	fmt.Fprintf(w, "  label=%s;\n  labelloc=b;\n  rankdir=TB;\n", dotStr(g.Caption))
	fmt.Fprintf(w, "  node [shape=box, style=\"rounded,filled\", fontname=\"monospace\", fontsize=10];\n  edge [color=\"#555555\"];\n")
	for b := range g.Boxes {
		box := &g.Boxes[b]
		ki := kindInfo[box.Kind]
		shape := ""
		if box.Kind == KindMerge {
			shape = ", shape=oval"
		}
		label := strings.Join(append([]string{box.Title}, box.Lines...), "\n")
		fmt.Fprintf(w, "  n%d [label=%s, fillcolor=%q, color=%q%s];\n", b, dotStr(label), ki.Fill, ki.Stroke, shape)
	}
	for b := range g.Boxes {
		for _, f := range g.Boxes[b].From {
			fmt.Fprintf(w, "  n%d -> n%d;\n", f, b)
		}
	}
	w.WriteString("  subgraph cluster_legend {\n    label=\"legend\";\n")
	for _, k := range kindsUsed(g) {
		ki := kindInfo[k]
		fmt.Fprintf(w, "    legend_%s [label=%q, fillcolor=%q, color=%q];\n", ki.Name, ki.Name, ki.Fill, ki.Stroke)
	}
	w.WriteString("  }\n}\n")
	return w.Flush()
}

func dotID(s string) string { return dotStr(s) }

// dotStr quotes a DOT string; \n breaks a label's line (centred).
func dotStr(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x20:
			b.WriteByte('?')
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Mermaid writes the graph as a mermaid flowchart, which GitHub renders
// in Markdown: classes colour the kinds, the caption is a note box.
func Mermaid(out io.Writer, g *Graph) error {
	w := bufio.NewWriter(out)
	w.WriteString("flowchart TB\n")
	for b := range g.Boxes {
		box := &g.Boxes[b]
		parts := []string{"<b>" + mermaidText(box.Title) + "</b>"}
		for _, l := range box.Lines {
			parts = append(parts, mermaidText(l))
		}
		open, close := "[\"", "\"]"
		if box.Kind == KindMerge {
			open, close = "([\"", "\"])"
		}
		fmt.Fprintf(w, "  n%d%s%s%s:::%s\n", b, open, strings.Join(parts, "<br/>"), close, kindInfo[box.Kind].Name)
	}
	for b := range g.Boxes {
		for _, f := range g.Boxes[b].From {
			fmt.Fprintf(w, "  n%d --> n%d\n", f, b)
		}
	}
	fmt.Fprintf(w, "  caption[\"%s\"]:::caption\n", mermaidText(g.Caption))
	for _, k := range kindsUsed(g) {
		ki := kindInfo[k]
		fmt.Fprintf(w, "  classDef %s fill:%s,stroke:%s,color:#111111\n", ki.Name, ki.Fill, ki.Stroke)
	}
	w.WriteString("  classDef caption fill:#ffffff,stroke:#ffffff,color:#111111\n")
	return w.Flush()
}

// Mermaid's default limits (maxTextSize, maxEdges), which GitHub keeps:
// a bigger diagram shows an error instead of the picture.
const (
	mermaidMaxText  = 50_000
	mermaidMaxEdges = 500
)

// MermaidTooBig says why a mermaid text of size bytes for g will not render
// with mermaid's default limits, "" when it will.
func MermaidTooBig(g *Graph, size int) string {
	edges := 0
	for _, b := range g.Boxes {
		edges += len(b.From)
	}
	if size <= mermaidMaxText && edges <= mermaidMaxEdges {
		return ""
	}
	return fmt.Sprintf("the flowchart has %d characters and %d edges; mermaid (and GitHub) draws at most %d and %d: try --depth 1", size, edges, mermaidMaxText, mermaidMaxEdges)
}

// mermaidText escapes a label for a quoted mermaid node text.
func mermaidText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString("#quot;")
		case r == '<':
			b.WriteString("#lt;")
		case r == '>':
			b.WriteString("#gt;")
		case r == '#':
			b.WriteString("#35;")
		case r < 0x20:
			b.WriteByte('?')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
