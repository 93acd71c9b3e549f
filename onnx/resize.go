package onnx

import (
	"math"
	"slices"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/onnx/onnxpb"
)

// pendingPad is a reflect or edge Pad: PyTorch has it as a conv's
// padding_mode, so it waits for the conv it feeds.
type pendingPad struct {
	src        *value
	mode       string // reflect or replicate
	begin, end []int64
	node       *onnxpb.NodeProto
}

func (c *converter) materializePad(v *value) (*value, error) {
	return nil, c.errorf(v.pad.node, "a %s Pad that feeds no conv has no cnncalc layer (PyTorch pads so only as a conv's padding_mode)", v.pad.mode)
}

func convPad(c *converter, n *onnxpb.NodeProto) error {
	x, err := c.data(n, 0)
	if err != nil {
		return err
	}
	r := len(x.shape)
	pads := attrInts(n, "pads")
	if pads == nil {
		if p, ok, err := c.constInts(n, 1); err != nil {
			return err
		} else if ok {
			pads = p
		}
	}
	padValue := attrF32(n, "value", 0)
	if c.m.Opset >= 11 {
		if v, ok, err := c.constFloats(n, 2); err != nil {
			return err
		} else if ok && len(v) == 1 {
			padValue = v[0]
		}
	}
	// Opset 18's axes input names the axes pads covers.
	axes := make([]int64, r)
	for i := range axes {
		axes[i] = int64(i)
	}
	if a, ok, err := c.constInts(n, 3); err != nil {
		return err
	} else if ok {
		axes = a
	}
	if len(pads) != 2*len(axes) {
		return c.errorf(n, "pads %v: want a begin and an end for each of %d axes", pads, len(axes))
	}
	begin, end := make([]int64, r-2), make([]int64, r-2)
	for i, a := range axes {
		if a < 0 {
			a += int64(r)
		}
		b, e := pads[i], pads[len(axes)+i]
		if a < 2 {
			if b != 0 || e != 0 {
				return c.errorf(n, "pads %v pad the batch or channel axis: cnncalc pads spatial axes only", pads)
			}
			continue
		}
		if a >= int64(r) {
			return c.errorf(n, "pads axis %d of a rank-%d tensor", a, r)
		}
		begin[a-2], end[a-2] = b, e
	}
	if r < 3 {
		return c.errorf(n, "Pad of a %v tensor: cnncalc pads spatial axes", []int64(x.shape))
	}
	switch mode := attrString(n, "mode", "constant"); mode {
	case "constant":
		op, err := c.rankOp(n, calc.ZeroPad1d, x.shape)
		if err != nil {
			return err
		}
		v, err := c.emit(n, calc.Layer{Type: op, Pad: torchPad(begin, end), PadValue: f32(float32(padValue))}, []*value{x}, itemName(n, ""))
		if err != nil {
			return err
		}
		c.bind(n, 0, v)
	case "reflect", "edge":
		m := map[string]string{"reflect": "reflect", "edge": "replicate"}[mode]
		c.bind(n, 0, &value{name: n.Output[0], pad: &pendingPad{src: x, mode: m, begin: begin, end: end, node: n}, shape: x.shape, node: n})
	default:
		return c.errorf(n, "Pad mode %q: constant, reflect or edge", mode)
	}
	return nil
}

// convResize maps Resize (and Upsample) to upsample: nearest with
// asymmetric coordinates and floor is PyTorch's nearest, with half_pixel
// and round_prefer_ceil its nearest-exact; linear and cubic with
// align_corners or (pytorch_)half_pixel are its (bi/tri)linear and
// bicubic with align_corners true or false.
func convResize(c *converter, n *onnxpb.NodeProto) error {
	x, err := c.data(n, 0)
	if err != nil {
		return err
	}
	r := len(x.shape) - 2
	if r < 1 || r > 3 {
		return c.errorf(n, "%s of a %v tensor: cnncalc upsamples 1 to 3 spatial axes", n.GetOpType(), []int64(x.shape))
	}
	mode := attrString(n, "mode", "nearest")
	coord := attrString(n, "coordinate_transformation_mode", "half_pixel")
	nearest := attrString(n, "nearest_mode", "round_prefer_floor")
	if n.GetOpType() == "Upsample" || c.m.Opset < 11 {
		coord, nearest = "asymmetric", "floor"
	}
	var scales []float64
	var sizes []int64
	var sizeFrom string
	switch {
	case n.GetOpType() == "Upsample" && c.m.Opset < 9:
		for _, s := range attrFloats(n, "scales") {
			scales = append(scales, s)
		}
	case n.GetOpType() == "Upsample" || c.m.Opset < 11:
		s, ok, err := c.constFloats(n, 1)
		if err != nil {
			return err
		}
		if ok {
			scales = s
		}
	default:
		if s, ok, err := c.constFloats(n, 2); err != nil {
			return err
		} else if ok {
			scales = s
		}
		if s, ok, err := c.constInts(n, 3); err != nil {
			return err
		} else if ok {
			sizes = s
			sizeFrom = n.Input[3]
		}
	}
	l := calc.Layer{Type: calc.Upsample}
	switch {
	case len(sizes) > 0:
		if len(sizes) != r+2 || sizes[0] != x.shape[0] || sizes[1] != x.shape[1] {
			return c.errorf(n, "sizes %v of a %v tensor: cnncalc resizes the spatial axes only", sizes, []int64(x.shape))
		}
		l.Size = slices.Clone(sizes[2:])
	case len(scales) > 0:
		if len(scales) != r+2 || scales[0] != 1 || scales[1] != 1 {
			return c.errorf(n, "scales %v of a %v tensor: cnncalc resizes the spatial axes only", scales, []int64(x.shape))
		}
		for _, s := range scales[2:] {
			l.Scale = append(l.Scale, f32(float32(s)))
		}
		if allEqual(l.Scale) {
			l.Scale = l.Scale[:1]
		}
	default:
		return c.errorf(n, "%s without scales or sizes", n.GetOpType())
	}
	linear := map[int]string{1: "linear", 2: "bilinear", 3: "trilinear"}[r]
	t, f := true, false
	switch {
	case mode == "nearest" && coord == "asymmetric" && nearest == "floor":
		l.Mode = "nearest"
	case mode == "nearest" && (coord == "half_pixel" || coord == "pytorch_half_pixel") && nearest == "round_prefer_ceil":
		l.Mode = "nearest-exact"
	case mode == "linear" && coord == "align_corners":
		l.Mode, l.AlignCorners = linear, &t
	case mode == "linear" && (coord == "half_pixel" || coord == "pytorch_half_pixel"):
		l.Mode, l.AlignCorners = linear, &f
	case mode == "cubic" && r == 2 && attrF32(n, "cubic_coeff_a", -0.75) == -0.75 && attrInt(n, "exclude_outside", 0) == 0 &&
		(coord == "align_corners" || coord == "half_pixel" || coord == "pytorch_half_pixel"):
		l.Mode = "bicubic"
		if coord == "align_corners" {
			l.AlignCorners = &t
		} else {
			l.AlignCorners = &f
		}
	default:
		return c.errorf(n, "%s mode %s, coordinate_transformation_mode %s, nearest_mode %s: no PyTorch interpolation computes it (nearest is asymmetric with floor, nearest-exact half_pixel with round_prefer_ceil, linear and cubic align_corners or half_pixel)", n.GetOpType(), mode, coord, nearest)
	}
	// Where ONNX's coordinates are not PyTorch's: an output of one pixel
	// (ONNX takes the first input pixel, PyTorch the centre, or divides
	// by zero with align_corners), and align_corners with a scale whose
	// output size is not whole (ONNX divides by the fractional size).
	if l.Mode != "nearest" {
		out, err := calc.Infer(&l, []calc.Shape{x.shape})
		if err != nil {
			return c.errorf(n, "%v", err)
		}
		for i, o := range out[2:] {
			if o == 1 && x.shape[2+i] != 1 {
				return c.errorf(n, "%s %s to an output of size 1 on axis %d: ONNX's and PyTorch's %s coordinates differ there", n.GetOpType(), mode, i+2, coord)
			}
			if coord == "align_corners" && len(l.Scale) > 0 {
				s := l.Scale[min(i, len(l.Scale)-1)]
				if f := float64(x.shape[2+i]) * s; f != math.Floor(f) {
					return c.errorf(n, "%s align_corners with scale %v on axis %d (in %d, out %.4g): ONNX maps by the fractional size, PyTorch by the whole one", n.GetOpType(), s, i+2, x.shape[2+i], f)
				}
			}
		}
	}
	from := []*value{x}
	sizeOf := noRef
	if sizeFrom != "" {
		// F.interpolate(x, size=y.shape[2:]): the sizes are y's.
		if y := c.shapeSource(sizeFrom, x); y != nil && slices.Equal(y.shape[2:], l.Size) {
			l.Size = nil
			from = append(from, y)
			sizeOf = y.item
		}
	}
	v, err := c.emit(n, l, from, itemName(n, ""))
	if err != nil {
		return err
	}
	if sizeOf != noRef {
		it := c.net.Items[v.item]
		it.From, it.SizeOf = it.From[:1], sizeOf
	}
	c.bind(n, 0, v)
	return nil
}

func attrFloats(n *onnxpb.NodeProto, name string) []float64 {
	a := attr(n, name)
	if a == nil {
		return nil
	}
	out := make([]float64, len(a.Floats))
	for i, v := range a.Floats {
		out[i] = float64(v)
	}
	return out
}

func allEqual(v []float64) bool {
	for _, x := range v {
		if x != v[0] || math.IsNaN(x) {
			return false
		}
	}
	return true
}

// shapeSource finds the one runtime tensor, other than x, whose Shape the
// constant name was computed from (nil when there is none, or several).
func (c *converter) shapeSource(name string, x *value) *value {
	var found *value
	seen := map[string]bool{}
	var walk func(string) bool
	walk = func(t string) bool {
		if seen[t] {
			return true
		}
		seen[t] = true
		p := c.producer[t]
		if p == nil {
			return true
		}
		if p.GetOpType() == "Shape" {
			if len(p.Input) == 0 {
				return false
			}
			v := c.values[p.Input[0]]
			if v == nil || v.konst != nil {
				return true
			}
			if v.expr != nil || v.pad != nil {
				return false
			}
			if v != x {
				if found != nil && found != v {
					return false
				}
				found = v
			}
			return true
		}
		for _, in := range p.Input {
			if in != "" && !walk(in) {
				return false
			}
		}
		return true
	}
	if !walk(name) {
		return nil
	}
	return found
}

// convSlice: a Slice with step 1 along one axis after the batch is one
// piece of a torch.split (sections before, inside and after it).
func convSlice(c *converter, n *onnxpb.NodeProto) error {
	x, err := c.data(n, 0)
	if err != nil {
		return err
	}
	var starts, ends, axes, steps []int64
	if c.m.Opset < 10 {
		starts, ends, axes = attrInts(n, "starts"), attrInts(n, "ends"), attrInts(n, "axes")
	} else {
		var ok bool
		for i, p := range []*[]int64{&starts, &ends, &axes, &steps} {
			if *p, ok, err = c.constInts(n, i+1); err != nil {
				return err
			}
			_ = ok
		}
	}
	r := int64(len(x.shape))
	if axes == nil {
		for i := range starts {
			axes = append(axes, int64(i))
		}
	}
	if len(starts) != len(ends) || len(axes) != len(starts) || (steps != nil && len(steps) != len(starts)) {
		return c.errorf(n, "Slice starts %v, ends %v, axes %v, steps %v differ in length", starts, ends, axes, steps)
	}
	var cut []int
	for i := range starts {
		a := axes[i]
		if a < 0 {
			a += r
		}
		if a < 0 || a >= r {
			return c.errorf(n, "Slice axis %d of a rank-%d tensor", axes[i], r)
		}
		size := x.shape[a]
		s, e := clampAxis(starts[i], size), ends[i]
		if e < 0 {
			e += size
		}
		e = max(0, min(e, size))
		step := int64(1)
		if steps != nil {
			step = steps[i]
		}
		if s == 0 && e == size && step == 1 {
			continue // the whole axis
		}
		if step != 1 {
			return c.errorf(n, "Slice with step %d: cnncalc takes contiguous pieces (torch.split)", step)
		}
		if a == 0 {
			return c.errorf(n, "Slice of the batch axis: cnncalc keeps the batch")
		}
		if e <= s {
			return c.errorf(n, "Slice [%d:%d] of axis %d is empty", s, e, a)
		}
		starts[i], ends[i], axes[i] = s, e, a
		cut = append(cut, i)
	}
	if len(cut) == 0 {
		c.bind(n, 0, x)
		return nil
	}
	if len(cut) > 1 {
		return c.errorf(n, "Slice of %d axes at once: cnncalc's split takes one axis", len(cut))
	}
	i := cut[0]
	s, e, a := starts[i], ends[i], axes[i]
	var sections []int64
	index := int64(0)
	if s > 0 {
		sections = append(sections, s)
		index = 1
	}
	sections = append(sections, e-s)
	if e < x.shape[a] {
		sections = append(sections, x.shape[a]-e)
	}
	return c.layer(n, calc.Layer{Type: calc.Split, Sections: sections, Index: index, Dim: int(a)}, []*value{x}, itemName(n, ""))
}
