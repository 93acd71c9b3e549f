package draw

import (
	"fmt"
	"math"
	"sort"
)

// Geometry of the drawing, in SVG user units (CSS pixels).
const (
	fontSize   = 12.0
	charW      = 0.6 * fontSize // advance of one monospace character, generous for DejaVu Sans Mono (0.602)
	lineH      = 15.0           // baseline to baseline
	padX       = 8.0            // text to box edge, left and right
	padY       = 6.0            // text to box edge, top and bottom
	rankGap    = 30.0           // vertical space between ranks, where edges run
	boxGap     = 24.0           // horizontal space between neighbouring boxes
	laneGap    = 10.0           // horizontal space around an edge passing a rank
	margin     = 16.0
	legendBox  = 12.0 // side of a legend swatch
	maxItems   = 400_000
	minBoxW    = 60.0
	xSweeps    = 8
	orderSweep = 4
)

// Rect is an axis-aligned rectangle: X, Y its top-left corner.
type Rect struct{ X, Y, W, H float64 }

// Point is a point of an edge's polyline.
type Point struct{ X, Y float64 }

// Text is one line of text and the rectangle it takes.
type Text struct {
	Rect
	S    string
	Bold bool
	// Anchor is "start" or "middle".
	Anchor string
}

// Edge is one drawn edge: a polyline from box From's bottom to box To's top.
type Edge struct {
	From, To int
	Points   []Point
}

// Layout is a placed graph.
type Layout struct {
	W, H  float64
	Boxes []Rect // one per Graph box
	// Texts are every text line: box lines, legend, caption.
	Texts []Text
	// TextBox is the index of the box holding each text, -1 for the legend
	// and caption.
	TextBox []int
	Edges   []Edge
	// Swatches are the legend's colour squares, one per kind shown.
	Swatches []Rect
	Kinds    []Kind
}

// textW is the width a monospace line takes.
func textW(s string) float64 { return float64(len([]rune(s))) * charW }

// item is a box or a dummy (a point where an edge crosses a rank).
type item struct {
	box  int // -1 for a dummy
	edge int // the edge a dummy belongs to
	w    float64
	x    float64
	up   []int // indices (in items) of upper neighbours
	down []int
	pos  int // position in its rank
	rank int
}

// Place lays the graph out top to bottom: ranks by longest path from the
// input, an order within ranks by barycentres, x by an ordered least-squares
// fit to the neighbours (isotonic regression), and edges that cross a rank
// through a lane of their own, so that no edge passes over a box.
//
// columns is the number of columns a long graph is cut into (cut where a
// single edge joins two ranks); 0 chooses it from the graph's height and
// width so that the picture is about as tall as an A4 page is to its
// width, and 1 draws one column.
func Place(g *Graph, columns int) (*Layout, error) {
	n := len(g.Boxes)
	rank := make([]int, n)
	type edge struct{ from, to int }
	var edges []edge
	for b := range g.Boxes {
		for _, f := range g.Boxes[b].From {
			if f >= b {
				return nil, fmt.Errorf("box %d reads box %d, which comes after it", b, f)
			}
			rank[b] = max(rank[b], rank[f]+1)
			edges = append(edges, edge{f, b})
		}
	}
	maxRank := 0
	for _, r := range rank {
		maxRank = max(maxRank, r)
	}
	total := n
	for _, e := range edges {
		total += rank[e.to] - rank[e.from] - 1
		if total > maxItems {
			return nil, fmt.Errorf("the drawing would need more than %d boxes and edge bends; draw it with --depth 1 or 2", maxItems)
		}
	}
	// Box sizes.
	items := make([]item, 0, total)
	heights := make([]float64, n)
	for b := range g.Boxes {
		w := textW(g.Boxes[b].Title)
		for _, l := range g.Boxes[b].Lines {
			w = max(w, textW(l))
		}
		w = max(w+2*padX, minBoxW)
		heights[b] = float64(1+len(g.Boxes[b].Lines))*lineH + 2*padY
		items = append(items, item{box: b, edge: -1, w: w, rank: rank[b]})
	}
	// Chains: every edge becomes segments between consecutive ranks.
	chains := make([][]int, len(edges)) // item indices from source to target
	for ei, e := range edges {
		prev := e.from
		chain := []int{e.from}
		for r := rank[e.from] + 1; r < rank[e.to]; r++ {
			items = append(items, item{box: -1, edge: ei, rank: r})
			d := len(items) - 1
			items[prev].down = append(items[prev].down, d)
			items[d].up = append(items[d].up, prev)
			chain = append(chain, d)
			prev = d
		}
		items[prev].down = append(items[prev].down, e.to)
		items[e.to].up = append(items[e.to].up, prev)
		chains[ei] = append(chain, e.to)
	}
	// Ranks in first-seen order: boxes in execution order, each edge's
	// dummies just after its source.
	ranks := make([][]int, maxRank+1)
	seen := make([]bool, len(items))
	var visit func(i int)
	visit = func(i int) {
		if seen[i] {
			return
		}
		seen[i] = true
		ranks[items[i].rank] = append(ranks[items[i].rank], i)
	}
	for b := 0; b < n; b++ {
		visit(b)
		for _, d := range items[b].down {
			for d >= n && !seen[d] {
				visit(d)
				if len(items[d].down) == 0 {
					break
				}
				d = items[d].down[0]
			}
		}
	}
	setPos := func(r int) {
		for p, i := range ranks[r] {
			items[i].pos = p
		}
	}
	for r := range ranks {
		setPos(r)
	}
	// Order by barycentres, sweeping down and up.
	bary := func(r int, nb func(i int) []int) {
		type kv struct {
			i int
			k float64
		}
		list := make([]kv, len(ranks[r]))
		for p, i := range ranks[r] {
			k := float64(p)
			if ns := nb(i); len(ns) > 0 {
				s := 0.0
				for _, j := range ns {
					s += float64(items[j].pos)
				}
				k = s / float64(len(ns))
			}
			list[p] = kv{i, k}
		}
		sort.SliceStable(list, func(a, b int) bool { return list[a].k < list[b].k })
		for p := range list {
			ranks[r][p] = list[p].i
		}
		setPos(r)
	}
	for s := 0; s < orderSweep; s++ {
		for r := 1; r <= maxRank; r++ {
			bary(r, func(i int) []int { return items[i].up })
		}
		for r := maxRank - 1; r >= 0; r-- {
			bary(r, func(i int) []int { return items[i].down })
		}
	}
	// x: pack, then fit each rank to its neighbours, down and up.
	sep := func(a, b int) float64 {
		gap := boxGap
		if items[a].box < 0 || items[b].box < 0 {
			gap = laneGap
		}
		return (items[a].w+items[b].w)/2 + gap
	}
	for r := range ranks {
		x := 0.0
		for p, i := range ranks[r] {
			if p > 0 {
				x += sep(ranks[r][p-1], i)
			}
			items[i].x = x
		}
	}
	fit := func(r int, nb func(i int) []int) {
		row := ranks[r]
		if len(row) == 0 {
			return
		}
		want := make([]float64, len(row))
		weight := make([]float64, len(row))
		off := 0.0
		for p, i := range row {
			if p > 0 {
				off += sep(row[p-1], i)
			}
			d := items[i].x
			if ns := nb(i); len(ns) > 0 {
				s := 0.0
				for _, j := range ns {
					s += items[j].x
				}
				d = s / float64(len(ns))
			}
			want[p] = d - off
			weight[p] = 1
			if items[i].box < 0 {
				weight[p] = 4 // keep long edges straight
			}
		}
		y := isotonic(want, weight)
		off = 0
		for p, i := range row {
			if p > 0 {
				off += sep(row[p-1], i)
			}
			items[i].x = y[p] + off
		}
	}
	for s := 0; s < xSweeps; s++ {
		for r := 1; r <= maxRank; r++ {
			fit(r, func(i int) []int { return items[i].up })
		}
		for r := maxRank - 1; r >= 0; r-- {
			fit(r, func(i int) []int { return items[i].down })
		}
	}
	for r := 1; r <= maxRank; r++ {
		fit(r, func(i int) []int { return items[i].up })
	}

	L := &Layout{Boxes: make([]Rect, n)}
	// Legend on top.
	kinds := kindsUsed(g)
	lx, top := margin, margin
	for _, k := range kinds {
		L.Swatches = append(L.Swatches, Rect{lx, top + (lineH-legendBox)/2, legendBox, legendBox})
		L.Kinds = append(L.Kinds, k)
		lx += legendBox + 4
		t := Text{Rect: Rect{lx, top, textW(k.String()), lineH}, S: k.String(), Anchor: "start"}
		L.Texts = append(L.Texts, t)
		L.TextBox = append(L.TextBox, -1)
		lx += t.W + 14
	}
	legendW := lx - margin
	top += lineH + rankGap/2
	// Bands: a rank's height is its tallest box's.
	bandH := make([]float64, maxRank+1)
	for b := range g.Boxes {
		bandH[rank[b]] = max(bandH[rank[b]], heights[b])
	}
	// Columns: a long graph is cut where one edge alone joins two ranks,
	// the pieces standing side by side.
	colOf, ncol := columnsOf(ranks, items, bandH, columns)
	colMin := make([]float64, ncol)
	colMax := make([]float64, ncol)
	for c := range colMin {
		colMin[c], colMax[c] = math.Inf(1), math.Inf(-1)
	}
	for i := range items {
		c := colOf[items[i].rank]
		colMin[c] = min(colMin[c], items[i].x-items[i].w/2)
		colMax[c] = max(colMax[c], items[i].x+items[i].w/2)
	}
	colLeft := make([]float64, ncol)
	left := margin
	for c := range colLeft {
		colLeft[c] = left
		left += colMax[c] - colMin[c] + columnGap
	}
	maxX := left - columnGap
	for i := range items {
		c := colOf[items[i].rank]
		items[i].x += colLeft[c] - colMin[c]
	}
	bandTop := make([]float64, maxRank+1)
	y := top
	bottom := top
	for r := range bandTop {
		if r > 0 && colOf[r] != colOf[r-1] {
			y = top
		}
		bandTop[r] = y
		bottom = max(bottom, y+bandH[r])
		y += bandH[r] + rankGap
	}
	chanTop := top - rankGap/4
	chanBottom := bottom + rankGap/2
	for b := range g.Boxes {
		it := &items[b]
		L.Boxes[b] = Rect{it.x - it.w/2, bandTop[rank[b]], it.w, heights[b]}
		box := &g.Boxes[b]
		ty := L.Boxes[b].Y + padY
		L.Texts = append(L.Texts, Text{Rect: Rect{it.x - textW(box.Title)/2, ty, textW(box.Title), lineH}, S: box.Title, Bold: true, Anchor: "middle"})
		L.TextBox = append(L.TextBox, b)
		for _, l := range box.Lines {
			ty += lineH
			L.Texts = append(L.Texts, Text{Rect: Rect{it.x - textW(l)/2, ty, textW(l), lineH}, S: l, Anchor: "middle"})
			L.TextBox = append(L.TextBox, b)
		}
	}
	// Ports: a box's inputs enter its top spread by their sources' x, its
	// outputs leave its bottom spread by their targets' x.
	inPort := make(map[int]float64, len(edges))
	outPort := make(map[int]float64, len(edges))
	ports := func(b int, list []int, next func(ei int) int, into map[int]float64) {
		sort.SliceStable(list, func(a, c int) bool { return items[next(list[a])].x < items[next(list[c])].x })
		r := L.Boxes[b]
		for k, ei := range list {
			into[ei] = r.X + r.W*float64(k+1)/float64(len(list)+1)
		}
	}
	ins := make([][]int, n)
	outs := make([][]int, n)
	for ei, e := range edges {
		ins[e.to] = append(ins[e.to], ei)
		outs[e.from] = append(outs[e.from], ei)
	}
	for b := 0; b < n; b++ {
		ports(b, ins[b], func(ei int) int { c := chains[ei]; return c[len(c)-2] }, inPort)
		ports(b, outs[b], func(ei int) int { return chains[ei][1] }, outPort)
	}
	for ei, e := range edges {
		c := chains[ei]
		src := L.Boxes[e.from]
		px := outPort[ei]
		pts := []Point{{px, src.Y + src.H}}
		if end := bandTop[rank[e.from]] + bandH[rank[e.from]]; end > src.Y+src.H {
			pts = append(pts, Point{px, end})
		}
		for _, d := range c[1 : len(c)-1] {
			r := items[d].rank
			pts = append(pts, Point{items[d].x, bandTop[r]}, Point{items[d].x, bandTop[r] + bandH[r]})
		}
		if c := colOf[rank[e.from]]; c != colOf[rank[e.to]] {
			// The edge between two columns: down below every column, up
			// the gap between the two, along the top to its target.
			gap := colLeft[c] + colMax[c] - colMin[c] + columnGap/2
			pts = append(pts, Point{px, chanBottom}, Point{gap, chanBottom}, Point{gap, chanTop}, Point{inPort[ei], chanTop})
		}
		pts = append(pts, Point{inPort[ei], L.Boxes[e.to].Y})
		L.Edges = append(L.Edges, Edge{From: e.from, To: e.to, Points: pts})
	}
	// Caption under the graph.
	capY := chanBottom + rankGap/2
	L.Texts = append(L.Texts, Text{Rect: Rect{margin, capY, textW(g.Caption), lineH}, S: g.Caption, Anchor: "start"})
	L.TextBox = append(L.TextBox, -1)
	L.W = max(maxX, margin+legendW, margin+textW(g.Caption)) + margin
	L.H = capY + lineH + margin
	return L, nil
}

// Column geometry.
const (
	columnGap = 48.0   // between two columns, where the edge joining them climbs
	wrapAbove = 1600.0 // a graph at most this tall stays in one column
	pageRatio = 1.414  // A4's height to width
	minGain   = 0.7    // columns only when the tallest is at most this share of one column
)

// columnsOf assigns each rank a column: the ranks are cut into about
// columns pieces (0: chosen from the shape) of about equal height, only
// after a rank whose one box is joined to the next rank's one box by the
// only edge between them.
func columnsOf(ranks [][]int, items []item, bandH []float64, columns int) ([]int, int) {
	colOf := make([]int, len(ranks))
	total := 0.0
	for _, h := range bandH {
		total += h + rankGap
	}
	if columns == 0 {
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := range items {
			lo, hi = min(lo, items[i].x-items[i].w/2), max(hi, items[i].x+items[i].w/2)
		}
		columns = 1
		if total > wrapAbove {
			w := max(hi-lo, 200) + columnGap
			columns = int(math.Ceil(math.Sqrt(total / (pageRatio * w))))
		}
	}
	if columns <= 1 {
		return colOf, 1
	}
	cut := func(r int) bool {
		if r+1 >= len(ranks) || len(ranks[r]) != 1 || len(ranks[r+1]) != 1 {
			return false
		}
		a, b := ranks[r][0], ranks[r+1][0]
		return items[a].box >= 0 && items[b].box >= 0 && len(items[a].down) == 1 && len(items[b].up) == 1 && items[b].up[0] == a
	}
	// The cuts that keep every column at most limit tall, fewest columns
	// first: each column ends at the last cut before it would overflow.
	assign := func(limit float64) (int, float64, bool) {
		c, start, last, h, tallest, ok := 0, 0, -1, 0.0, 0.0, true
		heights := make([]float64, len(ranks)+1) // prefix sums of rank heights
		for r := range ranks {
			heights[r+1] = heights[r] + bandH[r] + rankGap
		}
		for r := range ranks {
			if heights[r+1]-heights[start] > limit {
				if last >= start {
					for q := start; q <= last; q++ {
						colOf[q] = c
					}
					tallest = max(tallest, heights[last+1]-heights[start])
					c, start, last = c+1, last+1, -1
				} else {
					ok = false
				}
			}
			if cut(r) {
				last = r
			}
		}
		for q := start; q < len(ranks); q++ {
			colOf[q] = c
		}
		h = heights[len(ranks)] - heights[start]
		return c + 1, max(tallest, h), ok
	}
	lo, hi := total/float64(columns), total
	for k := 0; k < 40; k++ {
		mid := (lo + hi) / 2
		if n, _, ok := assign(mid); ok && n <= columns {
			hi = mid
		} else {
			lo = mid
		}
	}
	n, tallest, _ := assign(hi)
	if tallest > minGain*total {
		// The cuts fall where they shorten the picture little (a U-Net's
		// skips span it): one column.
		clear(colOf)
		return colOf, 1
	}
	return colOf, n
}

// kindsUsed lists the kinds of the graph's boxes in legend order.
func kindsUsed(g *Graph) []Kind {
	var used [numKinds]bool
	for _, b := range g.Boxes {
		used[b.Kind] = true
	}
	var out []Kind
	for k := Kind(0); k < numKinds; k++ {
		if used[k] {
			out = append(out, k)
		}
	}
	return out
}

// isotonic returns the non-decreasing sequence y minimising
// sum w[i]*(y[i]-v[i])^2: pool adjacent violators.
func isotonic(v, w []float64) []float64 {
	type block struct {
		sum, w float64
		n      int
	}
	var st []block
	for i := range v {
		st = append(st, block{v[i] * w[i], w[i], 1})
		for len(st) > 1 {
			a, b := st[len(st)-2], st[len(st)-1]
			if a.sum/a.w <= b.sum/b.w {
				break
			}
			st = st[:len(st)-2]
			st = append(st, block{a.sum + b.sum, a.w + b.w, a.n + b.n})
		}
	}
	out := make([]float64, 0, len(v))
	for _, b := range st {
		m := b.sum / b.w
		for k := 0; k < b.n; k++ {
			out = append(out, m)
		}
	}
	return out
}
