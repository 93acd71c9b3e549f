package draw

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/spec"
)

func analyse(t testing.TB, path string) *spec.Analysis {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := spec.Parse(filepath.Base(path), data)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Evaluate(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func zooFiles(t testing.TB) []string {
	files, err := filepath.Glob("../testdata/zoo/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatal("no zoo specs", err)
	}
	return files
}

func TestEveryOpHasKind(t *testing.T) {
	for op := calc.Op(1); int(op) < calc.NumOps; op++ {
		if _, ok := opKinds[op]; !ok {
			t.Errorf("%s has no kind in opKinds", op)
		}
	}
}

// overlaps says whether two rectangles share interior points.
func overlaps(a, b Rect) bool {
	const eps = 0.01
	return a.X < b.X+b.W-eps && b.X < a.X+a.W-eps && a.Y < b.Y+b.H-eps && b.Y < a.Y+a.H-eps
}

// segmentHits says whether segment p-q passes through the interior of r
// (Liang-Barsky clipping against r shrunk by eps).
func segmentHits(p, q Point, r Rect) bool {
	const eps = 0.01
	x0, y0, x1, y1 := r.X+eps, r.Y+eps, r.X+r.W-eps, r.Y+r.H-eps
	if x1 <= x0 || y1 <= y0 {
		return false
	}
	t0, t1 := 0.0, 1.0
	dx, dy := q.X-p.X, q.Y-p.Y
	for _, c := range [][2]float64{{-dx, p.X - x0}, {dx, x1 - p.X}, {-dy, p.Y - y0}, {dy, y1 - p.Y}} {
		pp, qq := c[0], c[1]
		if pp == 0 {
			if qq < 0 {
				return false
			}
			continue
		}
		t := qq / pp
		if pp < 0 {
			t0 = max(t0, t)
		} else {
			t1 = min(t1, t)
		}
		if t0 > t1 {
			return false
		}
	}
	return true
}

// checkGeometry fails when a box overlaps another, a text leaves its box or
// overlaps a text or box not its own, or an edge segment passes over a box
// or a text.
func checkGeometry(t reporter, name string, L *Layout) {
	t.Helper()
	errs := 0
	fail := func(format string, a ...any) {
		if errs < 5 {
			t.Errorf(name+": "+format, a...)
		}
		errs++
	}
	for i := range L.Boxes {
		for j := i + 1; j < len(L.Boxes); j++ {
			if overlaps(L.Boxes[i], L.Boxes[j]) {
				fail("box %d %v overlaps box %d %v", i, L.Boxes[i], j, L.Boxes[j])
			}
		}
	}
	// The picture holds everything.
	page := Rect{0, 0, L.W, L.H}
	inside := func(a, b Rect) bool {
		return a.X >= b.X-0.01 && a.Y >= b.Y-0.01 && a.X+a.W <= b.X+b.W+0.01 && a.Y+a.H <= b.Y+b.H+0.01
	}
	for k, tx := range L.Texts {
		if !inside(tx.Rect, page) {
			fail("text %q %v leaves the picture %v", tx.S, tx.Rect, page)
		}
		own := L.TextBox[k]
		if own >= 0 && !inside(tx.Rect, L.Boxes[own]) {
			fail("text %q %v leaves its box %v", tx.S, tx.Rect, L.Boxes[own])
		}
		for b, r := range L.Boxes {
			if b != own && overlaps(tx.Rect, r) {
				fail("text %q %v overlaps box %d %v", tx.S, tx.Rect, b, r)
			}
		}
		for k2 := k + 1; k2 < len(L.Texts); k2++ {
			if overlaps(tx.Rect, L.Texts[k2].Rect) {
				fail("text %q overlaps text %q", tx.S, L.Texts[k2].S)
			}
		}
		for _, s := range L.Swatches {
			if overlaps(tx.Rect, s) {
				fail("text %q overlaps a legend swatch", tx.S)
			}
		}
	}
	// Edges: every segment clear of every box (its own ends touch their
	// boxes' borders only) and every text. Boxes are sorted by rank, so a
	// segment is checked against the boxes of nearby rows only.
	for _, e := range L.Edges {
		for s := 1; s < len(e.Points); s++ {
			p, q := e.Points[s-1], e.Points[s]
			lo, hi := min(p.Y, q.Y), max(p.Y, q.Y)
			for b, r := range L.Boxes {
				if r.Y > hi || r.Y+r.H < lo {
					continue
				}
				if segmentHits(p, q, r) {
					fail("edge %d->%d segment %v-%v crosses box %d %q %v", e.From, e.To, p, q, b, "", r)
				}
			}
			for _, tx := range L.Texts {
				if tx.Y > hi || tx.Y+tx.H < lo {
					continue
				}
				if segmentHits(p, q, tx.Rect) {
					fail("edge %d->%d crosses text %q", e.From, e.To, tx.S)
				}
			}
			if !inside(Rect{min(p.X, q.X), lo, 0, hi - lo}, page) {
				fail("edge %d->%d leaves the picture", e.From, e.To)
			}
		}
		if n := len(e.Points); n < 2 {
			fail("edge %d->%d has %d points", e.From, e.To, n)
		} else {
			if a, r := e.Points[0], L.Boxes[e.From]; a.Y != r.Y+r.H || a.X < r.X || a.X > r.X+r.W {
				fail("edge %d->%d does not leave its source's bottom", e.From, e.To)
			}
			if z, r := e.Points[n-1], L.Boxes[e.To]; z.Y != r.Y || z.X < r.X || z.X > r.X+r.W {
				fail("edge %d->%d does not end on its target's top", e.From, e.To)
			}
		}
	}
	if errs > 5 {
		t.Errorf("%s: (and %d more)", name, errs-5)
	}
}

// Every zoo network, at every depth, draws without a box over another, a
// text out of its box or over anything else, or an edge over a box or a
// text; and every edge of the network is drawn.
func TestGeometryZoo(t *testing.T) {
	files := zooFiles(t)
	if testing.Short() {
		files = files[:10]
	}
	for _, f := range files {
		a := analyse(t, f)
		for _, c := range []struct{ depth, columns int }{{0, 0}, {1, 0}, {2, 0}, {0, 1}, {0, 7}} {
			depth := c.depth
			g, err := Build(a, depth)
			if err != nil {
				t.Fatal(err)
			}
			L, err := Place(g, c.columns)
			if err != nil {
				t.Fatalf("%s depth %d: %v", f, depth, err)
			}
			name := fmt.Sprintf("%s depth %d columns %d", filepath.Base(f), depth, c.columns)
			checkGeometry(t, name, L)
			want := 0
			for _, b := range g.Boxes {
				want += len(b.From)
			}
			if len(L.Edges) != want {
				t.Errorf("%s: %d edges drawn, the graph has %d", name, len(L.Edges), want)
			}
		}
	}
}

// The checker itself catches overlaps: a text moved onto its neighbour, an
// edge moved across a box.
func TestGeometryCheckerFails(t *testing.T) {
	a := analyse(t, "../testdata/zoo/resnet18.yaml")
	g, _ := Build(a, 0)
	L, _ := Place(g, 0)
	if !runCheck(L) {
		t.Fatal("resnet18's layout fails the check")
	}
	bad := *L
	bad.Edges = append([]Edge(nil), L.Edges...)
	b0, b5 := L.Boxes[1], L.Boxes[5]
	bad.Edges[0] = Edge{From: 1, To: 5, Points: []Point{{b0.X + 1, b0.Y + b0.H}, {b5.X + b5.W/2, b5.Y + b5.H/2}, {b5.X + 1, b5.Y}}}
	if runCheck(&bad) {
		t.Error("an edge through a box passed the geometry check")
	}
	bad = *L
	bad.Texts = append([]Text(nil), L.Texts...)
	for k := range bad.Texts {
		if bad.TextBox[k] == 2 {
			bad.Texts[k].Rect = L.Boxes[3]
			break
		}
	}
	if runCheck(&bad) {
		t.Error("a text over another box passed the geometry check")
	}
}

// reporter is what checkGeometry reports to: a *testing.T, or a recorder.
type reporter interface {
	Helper()
	Errorf(format string, a ...any)
}

// recorder counts the failures of a check expected to fail.
type recorder struct{ n int }

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.n++ }

// runCheck says whether L passes checkGeometry.
func runCheck(L *Layout) bool {
	r := &recorder{}
	checkGeometry(r, "case", L)
	return r.n == 0
}

func TestSVGSelfContained(t *testing.T) {
	a := analyse(t, "../testdata/zoo/resnet18.yaml")
	g, _ := Build(a, 0)
	L, _ := Place(g, 0)
	var b bytes.Buffer
	if err := SVG(&b, g, L); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, bad := range []string{"<script", "href", "@import", "@font-face", "<image", "<foreignObject", "url(http", "onload", "onclick"} {
		if strings.Contains(s, bad) {
			t.Errorf("the SVG holds %q", bad)
		}
	}
	if strings.Count(s, "url(") != strings.Count(s, "url(#arrow)") {
		t.Error("the SVG refers to something outside itself")
	}
}

// The charts of every zoo network keep their texts apart and off the bars,
// and the cumulative share ends at 100%.
func TestChartGeometryZoo(t *testing.T) {
	for _, f := range zooFiles(t) {
		a := analyse(t, f)
		g, err := Build(a, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ChartMetrics {
			rows, total, err := ChartRows(g, m)
			if err != nil {
				t.Fatal(err)
			}
			if total > 0 && math.Abs(rows[len(rows)-1].Cum-1) > 1e-12 {
				t.Errorf("%s %s: cumulative share ends at %v", f, m, rows[len(rows)-1].Cum)
			}
			c := PlaceChart("t", m, nonZero(rows), total, 0)
			L := &Layout{W: c.W, H: c.H, Texts: c.Texts, TextBox: make([]int, len(c.Texts))}
			for k := range L.TextBox {
				L.TextBox[k] = -1
			}
			// Bars take the place of boxes: no text may touch one.
			L.Boxes = append(L.Boxes, c.Bars...)
			L.Boxes = append(L.Boxes, c.Track)
			checkGeometry(t, filepath.Base(f)+" "+m, L)
		}
	}
}

// wellFormed fails unless s is well-formed XML.
func wellFormed(t *testing.T, name, s string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("%s: not well-formed XML: %v", name, err)
		}
	}
}

// Names with markup, quotes and control characters stay text in every
// format; every zoo picture is well-formed XML.
func TestHostileNamesAndWellFormed(t *testing.T) {
	src := "name: \"<script>alert('x')</script> & \\\"q\\\"\"\ninput: [3, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 3}\n    name: \"a<b>&c\\\"d'e\\u0001#quot;\"\n  - relu\n"
	s, err := spec.Parse("hostile.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Evaluate(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := Build(a, 0)
	L, err := Place(g, 0)
	if err != nil {
		t.Fatal(err)
	}
	var svg, dot, mmd bytes.Buffer
	if err := SVG(&svg, g, L); err != nil {
		t.Fatal(err)
	}
	wellFormed(t, "hostile svg", svg.String())
	if strings.Contains(svg.String(), "<script") || strings.Contains(svg.String(), "<b>") {
		t.Error("a name's markup reached the SVG")
	}
	if !strings.Contains(svg.String(), "a&lt;b&gt;&amp;c&quot;d&#39;e?#quot;") || !strings.Contains(svg.String(), "&lt;script&gt;") {
		t.Error("the names are not in the SVG as text")
	}
	DOT(&dot, g)
	for _, line := range strings.Split(dot.String(), "\n") {
		if strings.Contains(line, "a<b>") && !strings.Contains(line, `a<b>&c\"d'e?#quot;`) {
			t.Errorf("dot line not quoted: %s", line)
		}
	}
	Mermaid(&mmd, g)
	if strings.Contains(mmd.String(), "a<b>") || strings.Contains(mmd.String(), `c"d`) {
		t.Errorf("mermaid text not escaped:\n%s", mmd.String())
	}
	for _, f := range zooFiles(t)[:20] {
		a := analyse(t, f)
		for _, depth := range []int{0, 1} {
			g, _ := Build(a, depth)
			L, _ := Place(g, 0)
			var b bytes.Buffer
			SVG(&b, g, L)
			wellFormed(t, f, b.String())
			b.Reset()
			Chart(&b, g, "macs")
			wellFormed(t, f+" chart", b.String())
		}
	}
}
