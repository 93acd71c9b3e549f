package draw

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/exec"
	"github.com/cnncalc/cnncalc/spec"
)

// MaxERFBytes bounds the activations the effective field's forward pass
// keeps (every node's output, for the backward pass).
const MaxERFBytes = 4 << 30

// MassShare is the share of the gradient's mass the report sizes the
// effective field by.
const MassShare = 0.9

// FindLayer returns the node LAYER names: a node name, or a 1-based index
// as the tables number rows. An unknown name names the nearest ones.
func FindLayer(a *spec.Analysis, name string) (int, error) {
	nodes := a.Net.Nodes
	for i := range nodes {
		if nodes[i].Name == name {
			return i, nil
		}
	}
	if k, err := strconv.Atoi(name); err == nil {
		if k >= 1 && k <= len(nodes) {
			return k - 1, nil
		}
		return 0, fmt.Errorf("layer %d is out of range: the network has %d layers (1 to %d)", k, len(nodes), len(nodes))
	}
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	for i := range nodes {
		cs = append(cs, cand{nodes[i].Name, spec.EditDistance(strings.ToLower(name), strings.ToLower(nodes[i].Name))})
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	var near []string
	for _, c := range cs[:min(3, len(cs))] {
		near = append(near, c.name)
	}
	return 0, fmt.Errorf("no layer %q; the nearest: %s (or give a row number, 1 to %d)", name, strings.Join(near, ", "), len(nodes))
}

// Field is one output unit's receptive field: the theoretical one from
// calc and the effective one from the input gradient.
type Field struct {
	Node int
	Name string
	// In and Out are the spatial sizes of the input and of the node's
	// output (on the field's axes).
	In, Out []int
	// Unit is the output unit drawn, the centre one, per axis.
	Unit []int
	RF   *calc.RF
	// Lo and Hi bound the unit's theoretical field in input pixels,
	// inclusive (they may lie outside the input: padding).
	Lo, Hi []float64
	// Grad is |d unit / d input| summed over the input channels, on the
	// input's spatial grid (row-major), batch element 0; nil when Err
	// says why it is missing. The unit is the sum over channels of the
	// node's output at Unit.
	Grad []float64
	Err  string
	// Inside is the share of Grad's mass inside the theoretical field;
	// Scale the smallest scale s in (0, 1] for which the field shrunk by s
	// about its centre holds MassShare of the mass (its area share is
	// s^rank).
	Inside, Scale float64
}

// TheoreticalField returns the field of node's centre output unit. A node
// whose field calc leaves undefined (after a global pooling gate, say) gets
// a Field without RF, Lo and Hi, for the effective field alone; one whose
// output has no spatial axes is refused.
func TheoreticalField(a *spec.Analysis, node int) (*Field, error) {
	lr := &a.Result.Layers[node]
	name := a.Net.Nodes[node].Name
	nsp := len(a.Net.Input) - 2
	if lr.Output == nil || len(lr.Output) != len(a.Net.Input) || nsp < 1 {
		return nil, fmt.Errorf("layer %s has no receptive field: its output units do not map onto input pixels (cnncalc rf shows where the field ends)", name)
	}
	rf := lr.RF
	f := &Field{Node: node, Name: name, RF: rf}
	for a2 := 0; a2 < nsp; a2++ {
		axis := 2 + a2
		if rf != nil && rf.Layout != nil {
			axis = int(rf.Layout[a2])
		}
		out := int(lr.Output[axis])
		f.In = append(f.In, int(a.Net.Input[2+a2]))
		f.Out = append(f.Out, out)
		u := (out - 1) / 2
		f.Unit = append(f.Unit, u)
		if rf != nil {
			c := rf.Start[a2] + float64(u)*float64(rf.Jump[a2])
			half := float64(rf.Size[a2]-1) / 2
			f.Lo = append(f.Lo, c-half)
			f.Hi = append(f.Hi, c+half)
		}
	}
	return f, nil
}

// Effective fills f.Grad (or f.Err) by a forward pass to f.Node and a
// backward pass from the centre unit, with params (nil: exec's default
// init from seed) on x (nil: exec.RandomInput from seed).
func Effective(a *spec.Analysis, f *Field, params []exec.Weights, x *exec.Tensor, seed uint64) error {
	if a.Result.Total.ActivationBytes > MaxERFBytes {
		f.Err = fmt.Sprintf("effective field not computed: the pass keeps %s of activations, above %s; try a smaller --input", bytesText(a.Result.Total.ActivationBytes), bytesText(MaxERFBytes))
		return nil
	}
	net := a.Net
	net.Nodes = net.Nodes[:f.Node+1]
	plan, err := exec.NewPlan(&net)
	if err != nil {
		return err
	}
	if params == nil {
		full, err := exec.NewPlan(&a.Net)
		if err != nil {
			return err
		}
		params = full.Init(seed)
	}
	params = params[:f.Node+1]
	if x == nil {
		x = exec.RandomInput(net.Input, seed)
	}
	run, err := plan.Forward(params, x, exec.Options{KeepAll: true})
	if err != nil {
		return err
	}
	out := plan.Shapes[f.Node]
	s := exec.New(out...)
	spatial := make([]int, len(f.Unit))
	for a2 := range spatial {
		spatial[a2] = 2 + a2
		if f.RF != nil && f.RF.Layout != nil {
			spatial[a2] = int(f.RF.Layout[a2])
		}
	}
	// Every element of batch 0 at the unit's spatial position, all
	// channels: 1.
	strides := make([]int, len(out))
	st := 1
	for k := len(out) - 1; k >= 0; k-- {
		strides[k] = st
		st *= out[k]
	}
	for i := range s.Data {
		if i/strides[0] != 0 {
			break
		}
		at := true
		for a2, ax := range spatial {
			if (i/strides[ax])%out[ax] != f.Unit[a2] {
				at = false
				break
			}
		}
		if at {
			s.Data[i] = 1
		}
	}
	gx, err := plan.Backward(params, run, x, f.Node, s)
	if err != nil {
		f.Err = err.Error()
		return nil
	}
	// Sum |grad| over the channels of batch element 0.
	plane := 1
	for _, v := range f.In {
		plane *= v
	}
	f.Grad = make([]float64, plane)
	ch := int(net.Input[1])
	for c := 0; c < ch; c++ {
		for j := 0; j < plane; j++ {
			f.Grad[j] += math.Abs(float64(gx.Data[c*plane+j]))
		}
	}
	if f.RF != nil {
		f.Inside, f.Scale = f.shares()
	}
	return nil
}

// shares computes Inside and Scale from Grad.
func (f *Field) shares() (inside, scale float64) {
	var total float64
	for _, v := range f.Grad {
		total += v
	}
	if total == 0 {
		return 0, 0
	}
	centre := make([]float64, len(f.In))
	half := make([]float64, len(f.In))
	for a := range centre {
		centre[a] = (f.Lo[a] + f.Hi[a]) / 2
		half[a] = (f.Hi[a] - f.Lo[a] + 1) / 2
	}
	// The largest scaled distance of each pixel from the centre, in units
	// of the field's half-widths: it lies in the field shrunk by s when
	// its distance is at most s.
	type pd struct{ d, v float64 }
	list := make([]pd, 0, len(f.Grad))
	idx := make([]int, len(f.In))
	for j, v := range f.Grad {
		rem := j
		for a := len(f.In) - 1; a >= 0; a-- {
			idx[a] = rem % f.In[a]
			rem /= f.In[a]
		}
		d := 0.0
		for a := range idx {
			// A pixel covers [i-0.5, i+0.5]: its far edge counts.
			d = max(d, (math.Abs(float64(idx[a])-centre[a])+0.5)/half[a])
		}
		if v > 0 {
			list = append(list, pd{d, v})
		}
		if d <= 1+1e-9 {
			inside += v
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].d < list[j].d })
	var cum float64
	for _, p := range list {
		cum += p.v
		if cum >= MassShare*total {
			scale = min(p.d, 1)
			break
		}
	}
	return inside / total, scale
}

// Summary are the report's lines about the field.
func (f *Field) Summary() []string {
	rank := len(f.In)
	var lines []string
	if f.RF != nil {
		lines = append(lines, fmt.Sprintf("theoretical field of %s at unit %s: %s px, jump %s, from %s to %s",
			f.Name, ints(f.Unit), ints64(f.RF.Size), ints64(f.RF.Jump), floats(f.Lo), floats(f.Hi)))
	} else {
		lines = append(lines, fmt.Sprintf("%s at unit %s has no theoretical field (calc leaves it undefined: cnncalc rf says why); the effective field alone", f.Name, ints(f.Unit)))
	}
	if f.Err != "" {
		return append(lines, f.Err)
	}
	if f.Grad == nil {
		return lines
	}
	var total float64
	for _, v := range f.Grad {
		total += v
	}
	if f.RF == nil || total == 0 {
		return append(lines, fmt.Sprintf("effective field: the gradient's mass is %.4g", total))
	}
	lines = append(lines,
		fmt.Sprintf("effective field: %.1f%% of the gradient's mass lies inside the theoretical field", 100*f.Inside),
		fmt.Sprintf("%.0f%% of it lies within the central %s%% of the field's %s (scale %.2f)",
			100*MassShare, percent(100*math.Pow(f.Scale, float64(rank))), map[int]string{1: "length", 2: "area", 3: "volume"}[rank], f.Scale))
	return lines
}

// percent prints a percentage with two significant digits below 10: 16,
// 0.25.
func percent(p float64) string {
	if p >= 10 {
		return strconv.FormatFloat(p, 'f', 0, 64)
	}
	return strconv.FormatFloat(p, 'g', 2, 64)
}

func ints(v []int) string {
	var s []string
	for _, x := range v {
		s = append(s, strconv.Itoa(x))
	}
	return "(" + strings.Join(s, ", ") + ")"
}

func ints64(v []int64) string {
	var s []string
	for _, x := range v {
		s = append(s, strconv.FormatInt(x, 10))
	}
	return strings.Join(s, "x")
}

func floats(v []float64) string {
	var s []string
	for _, x := range v {
		s = append(s, strconv.FormatFloat(x, 'g', -1, 64))
	}
	return "(" + strings.Join(s, ", ") + ")"
}

// RF geometry.
const (
	rfMaxPx   = 560.0 // the longer side of the input, drawn
	rfMaxBins = 160   // heat-map cells along an axis at most
)

// shape is one rectangle of a receptive-field picture: filled when Fill
// is set, outlined when Stroke is (Dash: SVG's dash array, "" solid).
type shape struct {
	R                  Rect
	Fill, Stroke, Dash string
	Width              float64
}

// rfPicture is a receptive-field picture: its size, rectangles in drawing
// order, and texts.
type rfPicture struct {
	W, H   float64
	Shapes []shape
	Texts  []Text
}

// placeRF lays out the input grid (for 3-D, the slice through the unit's
// centre; for 1-D, a strip), the effective field as a heat map, the unit's
// theoretical field (solid), its neighbours' one jump away (dashed) and
// the field shrunk to hold MassShare of the gradient (dotted).
func placeRF(f *Field, title string) (*rfPicture, error) {
	rank := len(f.In)
	lines := f.Summary()
	has := f.RF != nil
	if !has {
		// No theoretical field: draw the input and the heat map alone.
		g := *f
		g.Lo, g.Hi = make([]float64, rank), make([]float64, rank)
		g.RF = &calc.RF{Jump: make([]int64, rank)}
		for a := range g.Hi {
			g.Lo[a] = float64(f.In[a]-1) / 2
			g.Hi[a] = g.Lo[a]
		}
		f = &g
	}
	// The 2-D view: rows (H) and columns (W); a 1-D field is one row.
	var rows, cols int
	var lo, hi [2]float64
	var jump [2]float64
	sliceAt := 0
	switch rank {
	case 1:
		rows, cols = 1, f.In[0]
		lo, hi = [2]float64{0, f.Lo[0]}, [2]float64{0, f.Hi[0]}
		jump = [2]float64{0, float64(f.RF.Jump[0])}
	case 2, 3:
		o := rank - 2
		rows, cols = f.In[o], f.In[o+1]
		lo, hi = [2]float64{f.Lo[o], f.Lo[o+1]}, [2]float64{f.Hi[o], f.Hi[o+1]}
		jump = [2]float64{float64(f.RF.Jump[o]), float64(f.RF.Jump[o+1])}
		if rank == 3 {
			sliceAt = int(math.Round((f.Lo[0] + f.Hi[0]) / 2))
			sliceAt = min(max(sliceAt, 0), f.In[0]-1)
		}
	default:
		return nil, fmt.Errorf("a field on %d axes cannot be drawn", rank)
	}
	// The view spans the input and the fields (which may reach into the
	// padding), the neighbours' included.
	vlo := [2]float64{min(-0.5, lo[0]-0.5), min(-0.5, lo[1]-0.5)}
	vhi := [2]float64{max(float64(rows)-0.5, hi[0]+jump[0]+0.5), max(float64(cols)-0.5, hi[1]+jump[1]+0.5)}
	if rank == 1 {
		vlo[0], vhi[0] = -0.5, 0.5
	}
	span := max(vhi[0]-vlo[0], vhi[1]-vlo[1])
	px := rfMaxPx / span
	if rank == 1 {
		px = rfMaxPx / (vhi[1] - vlo[1])
	}
	rowPx := px
	if rank == 1 {
		rowPx = 40 / (vhi[0] - vlo[0])
	}
	top := margin + lineH + 8
	X := func(c float64) float64 { return margin + (c-vlo[1])*px }
	Y := func(r float64) float64 { return top + (r-vlo[0])*rowPx }
	viewW := (vhi[1] - vlo[1]) * px
	viewH := (vhi[0] - vlo[0]) * rowPx
	if rank == 3 {
		lines = append(lines, fmt.Sprintf("the slice drawn: depth %d of %d", sliceAt, f.In[0]))
	}
	lines = append(lines, "input: grey frame; theoretical field: red; neighbours one jump away: dashed; "+strconv.Itoa(int(100*MassShare))+"% of the gradient: blue dotted")
	textTop := top + viewH + 12
	W := margin + viewW + margin
	for _, l := range append(lines, title) {
		W = max(W, 2*margin+textW(l))
	}
	H := textTop + float64(len(lines))*lineH + margin
	pic := &rfPicture{W: W, H: H}
	pic.Texts = append(pic.Texts, Text{Rect: Rect{margin, margin, textW(title), lineH}, S: title, Bold: true, Anchor: "start"})
	// The padding area, then the input.
	pic.Shapes = append(pic.Shapes, shape{R: Rect{margin, top, viewW, viewH}, Fill: "#f3f3f3"},
		shape{R: Rect{X(-0.5), Y(-0.5), float64(cols) * px, float64(rows) * rowPx}, Fill: "#ffffff"})
	// Heat map in bins.
	if f.Grad != nil {
		bin := max(1, (max(rows, cols)+rfMaxBins-1)/rfMaxBins)
		plane := rows * cols
		base := sliceAt * plane
		type cell struct {
			r, c int
			v    float64
		}
		var cells []cell
		maxV := 0.0
		for r0 := 0; r0 < rows; r0 += bin {
			for c0 := 0; c0 < cols; c0 += bin {
				s := 0.0
				for r := r0; r < min(r0+bin, rows); r++ {
					for c := c0; c < min(c0+bin, cols); c++ {
						s += f.Grad[base+r*cols+c]
					}
				}
				if s > 0 {
					cells = append(cells, cell{r0, c0, s})
					maxV = max(maxV, s)
				}
			}
		}
		for _, c := range cells {
			t := c.v / maxV
			if t < 0.01 {
				continue
			}
			pic.Shapes = append(pic.Shapes, shape{R: Rect{X(float64(c.c) - 0.5), Y(float64(c.r) - 0.5), float64(min(bin, cols-c.c)) * px, float64(min(bin, rows-c.r)) * rowPx}, Fill: heat(t)})
		}
	}
	pic.Shapes = append(pic.Shapes, shape{R: Rect{X(-0.5), Y(-0.5), float64(cols) * px, float64(rows) * rowPx}, Stroke: "#888888", Width: 1})
	box := func(r0, c0, r1, c1 float64, stroke string, width float64, dash string) {
		pic.Shapes = append(pic.Shapes, shape{R: Rect{X(c0 - 0.5), Y(r0 - 0.5), (c1 - c0 + 1) * px, (r1 - r0 + 1) * rowPx}, Stroke: stroke, Width: width, Dash: dash})
	}
	if rank == 1 {
		lo[0], hi[0] = 0, 0
	}
	if has {
		box(lo[0], lo[1]+jump[1], hi[0], hi[1]+jump[1], "#cc0000", 1, "5,3")
		if rank > 1 {
			box(lo[0]+jump[0], lo[1], hi[0]+jump[0], hi[1], "#cc0000", 1, "5,3")
		}
		box(lo[0], lo[1], hi[0], hi[1], "#cc0000", 2, "")
	}
	if has && f.Grad != nil && f.Scale > 0 {
		c := [2]float64{(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2}
		h := [2]float64{f.Scale * (hi[0] - lo[0] + 1) / 2, f.Scale * (hi[1] - lo[1] + 1) / 2}
		if rank == 1 {
			h[0] = 0.5
		}
		box(c[0]-h[0]+0.5, c[1]-h[1]+0.5, c[0]+h[0]-0.5, c[1]+h[1]-0.5, "#1155cc", 1.5, "2,2")
	}
	for k, l := range lines {
		pic.Texts = append(pic.Texts, Text{Rect: Rect{margin, textTop + float64(k)*lineH, textW(l), lineH}, S: l, Anchor: "start"})
	}
	return pic, nil
}

// RFSVG draws the field (placeRF) as SVG.
func RFSVG(out io.Writer, f *Field, title string) error {
	pic, err := placeRF(f, title)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(out)
	svgHeader(w, pic.W, pic.H, title)
	for _, sh := range pic.Shapes {
		r := sh.R
		style := `fill="none"`
		if sh.Fill != "" {
			style = `fill="` + sh.Fill + `"`
		}
		if sh.Stroke != "" {
			style += fmt.Sprintf(` stroke="%s" stroke-width="%g"`, sh.Stroke, sh.Width)
		}
		if sh.Dash != "" {
			style += ` stroke-dasharray="` + sh.Dash + `"`
		}
		fmt.Fprintf(w, `<rect x="%s" y="%s" width="%s" height="%s" %s/>`+"\n", f1(r.X), f1(r.Y), f1(r.W), f1(r.H), style)
	}
	for _, t := range pic.Texts {
		writeText(w, t, "#111111")
	}
	w.WriteString("</svg>\n")
	return w.Flush()
}

// heat maps t in [0, 1] to a white-yellow-red-black ramp.
func heat(t float64) string {
	t = math.Sqrt(min(max(t, 0), 1)) // show the tails
	var r, g, b float64
	switch {
	case t < 0.4:
		u := t / 0.4
		r, g, b = 255, 255-35*u, 255-175*u
	case t < 0.8:
		u := (t - 0.4) / 0.4
		r, g, b = 255-15*u, 220-160*u, 80-60*u
	default:
		u := (t - 0.8) / 0.2
		r, g, b = 240-120*u, 60-60*u, 20-20*u
	}
	return fmt.Sprintf("#%02x%02x%02x", int(r), int(g), int(b))
}
