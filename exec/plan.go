package exec

import (
	"fmt"
	"math"

	"github.com/cnncalc/cnncalc/calc"
)

// Plan is a network ready to run: every node's input and output shapes as
// exec derives them by placing windows (not by calc's formulas), its conv
// geometry, and the memory a run needs.
type Plan struct {
	Net    *calc.Network
	Shapes [][]int // output shape per node
	geom   []*ConvGeom
	// lastUse[i] is the last node reading node i's output (len(Nodes) for
	// the network output).
	lastUse []int
	// WeightBytes, PeakBytes: float32 bytes of the parameters and the peak
	// of live activations plus the largest im2col workspace.
	WeightBytes, PeakBytes int64
}

// Memory is the estimated peak memory of a run: weights plus live
// activations, at most math.MaxInt64.
func (p *Plan) Memory() int64 {
	var z sizes
	return z.add(p.WeightBytes, p.PeakBytes)
}

// NewPlan derives every node's output shape by execution rules: a conv or
// pool output counts the window placements that fit, a transposed conv's
// output reaches the last position a kernel tap writes.
func NewPlan(net *calc.Network) (*Plan, error) {
	p := &Plan{Net: net, Shapes: make([][]int, len(net.Nodes)), geom: make([]*ConvGeom, len(net.Nodes)), lastUse: make([]int, len(net.Nodes))}
	in := toInts(net.Input)
	for i := range net.Nodes {
		n := &net.Nodes[i]
		var ins [][]int
		for _, f := range n.From {
			if f == calc.Input {
				ins = append(ins, in)
			} else {
				ins = append(ins, p.Shapes[f])
				p.lastUse[f] = i
			}
		}
		s, g, err := outShape(&n.Layer, ins)
		if err != nil {
			return nil, fmt.Errorf("node %d (%s): %w", i+1, n.Name, err)
		}
		p.Shapes[i], p.geom[i] = s, g
	}
	if len(net.Nodes) > 0 {
		p.lastUse[len(net.Nodes)-1] = len(net.Nodes)
	}
	p.estimate()
	return p, nil
}

func toInts(s calc.Shape) []int {
	out := make([]int, len(s))
	for i, v := range s {
		out[i] = int(v)
	}
	return out
}

func numel(s []int) int64 {
	n := int64(1)
	for _, v := range s {
		n *= int64(v)
	}
	return n
}

// estimate fills WeightBytes and PeakBytes: each output is live from its
// node to its last use. Sizes that overflow int64 saturate at
// math.MaxInt64 (a network too big to count is too big to run; the probe
// network, which calc has not checked, can be such a one).
func (p *Plan) estimate() {
	var z sizes
	var live, peak, work int64
	in := toInts(p.Net.Input)
	live = z.mul(4, z.numel(in))
	freeAt := make(map[int][]int)
	for i, last := range p.lastUse {
		// An output no node reads (lastUse 0) is kept to the end, as
		// Forward keeps it; it was once freed at node 0, before it existed.
		if last > i {
			freeAt[last] = append(freeAt[last], i)
		}
	}
	for i := range p.Net.Nodes {
		ws, _ := paramShapes(&p.Net.Nodes[i].Layer, p.Inputs(i))
		for _, s := range ws {
			if s != nil {
				p.WeightBytes = z.add(p.WeightBytes, z.mul(4, z.numel(s)))
			}
		}
		if g := p.geom[i]; g != nil {
			work = max(work, z.mul(4, colSize(&z, p.Inputs(i)[0], p.Shapes[i], g)))
		}
		live = z.add(live, z.mul(4, z.numel(p.Shapes[i])))
		peak = max(peak, live)
		for _, j := range freeAt[i] {
			if !z.over {
				live -= 4 * numel(p.Shapes[j])
			}
		}
	}
	p.PeakBytes = z.add(peak, work)
	if z.over {
		p.PeakBytes = math.MaxInt64
	}
}

// colSize is the im2col (or col2im) workspace of a conv node, in elements.
func colSize(z *sizes, in, out []int, g *ConvGeom) int64 {
	kk := z.mul(z.mul(int64(g.K[0]), int64(g.K[1])), int64(g.K[2]))
	if g.Transposed {
		return z.mul(z.mul(int64(out[1]/g.Groups), kk), z.numel(in[2:]))
	}
	return z.mul(z.mul(int64(in[1]/g.Groups), kk), z.numel(out[2:]))
}

// sizes multiplies and adds non-negative sizes, saturating at
// math.MaxInt64 and remembering that it did.
type sizes struct{ over bool }

func (z *sizes) mul(a, b int64) int64 {
	if a < 0 || b < 0 || a != 0 && b > math.MaxInt64/a {
		z.over = true
		return math.MaxInt64
	}
	return a * b
}

func (z *sizes) add(a, b int64) int64 {
	if a < 0 || b < 0 || a > math.MaxInt64-b {
		z.over = true
		return math.MaxInt64
	}
	return a + b
}

func (z *sizes) numel(s []int) int64 {
	n := int64(1)
	for _, v := range s {
		n = z.mul(n, int64(v))
	}
	return n
}

// Inputs returns node i's input shapes.
func (p *Plan) Inputs(i int) [][]int {
	var ins [][]int
	for _, f := range p.Net.Nodes[i].From {
		if f == calc.Input {
			ins = append(ins, toInts(p.Net.Input))
		} else {
			ins = append(ins, p.Shapes[f])
		}
	}
	return ins
}

// perAxis returns v's value for each of n axes (one value applies to all).
func perAxis(v []int64, n int, def int) []int {
	out := make([]int, n)
	for i := range out {
		switch {
		case len(v) == 0:
			out[i] = def
		case len(v) == 1:
			out[i] = int(v[0])
		default:
			out[i] = int(v[i])
		}
	}
	return out
}

// windows counts the placements of a window of span ek with stride s whose
// first tap starts at o*s - pl and whose last tap stays inside the padded
// input [−pl, in+pr): o*s + ek <= in + pl + pr, so floor((in+pl+pr-ek)/s)+1
// of them, none when the window is wider than the padded input. In closed
// form, so that an axis of 2^36 positions costs nothing before the memory
// estimate (TestWindowsClosedForm checks it against counting them).
func windows(in, ek, s, pl, pr int) int {
	span := in + pl + pr - ek
	if span < 0 || s < 1 {
		return 0
	}
	return span/s + 1
}

// poolWindows counts pooling windows starting at o*s - p: every window that
// fits in the padded input, and with ceil_mode one more partial window when
// it starts inside the input (or the left padding), as PyTorch keeps it.
// Both conditions bound the start from above, so the windows are those
// whose start is at most the larger bound: a closed form, like windows.
func poolWindows(in, ek, s, p int, ceil bool) int {
	if s < 1 {
		return 0
	}
	last := in + p - ek // the last start of a full window
	if ceil {
		last = max(last, min(in+p-ek+s-1, in-1))
	}
	if last+p < 0 {
		return 0
	}
	return (last+p)/s + 1
}

// outShape derives a node's output shape by its kind's rule and, for conv
// layers, the geometry.
func outShape(l *calc.Layer, ins [][]int) ([]int, *ConvGeom, error) {
	k := kernelOf(l.Type)
	if k.shape == nil {
		return nil, nil, fmt.Errorf("no kernel for %s", l.Type)
	}
	return k.shape(l, ins)
}

// The shape rules of the kernel table (kernels.go): each output size is
// counted as the kernels will produce it.

// sameShape keeps the first input's shape (activations, norms, add).
func sameShape(l *calc.Layer, ins [][]int) ([]int, *ConvGeom, error) {
	return append([]int(nil), ins[0]...), nil, nil
}

// convTransposeShape: taps write from -pad to (in-1)*s + (k-1)*d - pad;
// padding crops as much on the right, output_padding adds back.
func convTransposeShape(l *calc.Layer, ins [][]int) ([]int, *ConvGeom, error) {
	x := ins[0]
	nsp := len(x) - 2
	g := &ConvGeom{Groups: max(int(l.Groups), 1), PadMode: "zeros", Transposed: true}
	k, s, d, pad, op := perAxis(l.Kernel, nsp, 1), perAxis(l.Stride, nsp, 1), perAxis(l.Dilation, nsp, 1), perAxis(l.Padding, nsp, 0), perAxis(l.OutputPadding, nsp, 0)
	out := []int{x[0], int(l.Out)}
	g.K, g.S, g.D, g.PL = axes3(k, 1), axes3(s, 1), axes3(d, 1), axes3(pad, 0)
	var o [3]int
	for a := 0; a < nsp; a++ {
		last := (x[2+a]-1)*s[a] + (k[a]-1)*d[a] - pad[a]
		o[a] = last + 1 - pad[a] + op[a]
		if o[a] < 1 {
			return nil, nil, fmt.Errorf("output size %d on axis %d", o[a], a)
		}
		out = append(out, o[a])
	}
	g.OutShape = axes3(o[:nsp], 1)
	return out, g, nil
}

// convShape counts the window placements that fit in the padded input.
func convShape(l *calc.Layer, ins [][]int) ([]int, *ConvGeom, error) {
	x := ins[0]
	nsp := len(x) - 2
	g := &ConvGeom{Groups: max(int(l.Groups), 1), PadMode: l.PaddingMode}
	if g.PadMode == "" {
		g.PadMode = "zeros"
	}
	k, s, d := perAxis(l.Kernel, nsp, 1), perAxis(l.Stride, nsp, 1), perAxis(l.Dilation, nsp, 1)
	pl, pr := make([]int, nsp), make([]int, nsp)
	out := []int{x[0], int(l.Out)}
	o := make([]int, nsp)
	for a := 0; a < nsp; a++ {
		switch l.PadMode {
		case calc.PadSame:
			lft, rgt := calc.SamePadding(int64(x[2+a]), int64(k[a]), int64(s[a]), int64(d[a]))
			pl[a], pr[a] = int(lft), int(rgt)
		case calc.PadValid:
		default:
			pl[a] = perAxis(l.Padding, nsp, 0)[a]
			pr[a] = pl[a]
		}
		o[a] = windows(x[2+a], d[a]*(k[a]-1)+1, s[a], pl[a], pr[a])
		if o[a] < 1 {
			return nil, nil, fmt.Errorf("no window fits on axis %d", a)
		}
		out = append(out, o[a])
	}
	g.K, g.S, g.D, g.PL, g.PR, g.OutShape = axes3(k, 1), axes3(s, 1), axes3(d, 1), axes3(pl, 0), axes3(pr, 0), axes3(o, 1)
	return out, g, nil
}

// poolShape counts pooling windows (poolWindows); dilated is false for
// average pooling, which has no dilation.
func poolShape(dilated bool) func(l *calc.Layer, ins [][]int) ([]int, *ConvGeom, error) {
	return func(l *calc.Layer, ins [][]int) ([]int, *ConvGeom, error) {
		x := ins[0]
		nsp := len(x) - 2
		k := perAxis(l.Kernel, nsp, 1)
		s := poolStride(l, nsp)
		d := perAxis(l.Dilation, nsp, 1)
		pad := perAxis(l.Padding, nsp, 0)
		out := []int{x[0], x[1]}
		for a := 0; a < nsp; a++ {
			if !dilated {
				d[a] = 1
			}
			o := poolWindows(x[2+a], d[a]*(k[a]-1)+1, s[a], pad[a], l.CeilMode)
			if o < 1 {
				return nil, nil, fmt.Errorf("no window fits on axis %d", a)
			}
			out = append(out, o)
		}
		return out, nil, nil
	}
}

// adaptiveShape is the output size asked for; -1 keeps the input's.
func adaptiveShape(l *calc.Layer, ins [][]int) ([]int, *ConvGeom, error) {
	x := ins[0]
	out := []int{x[0], x[1]}
	for a, v := range perAxis(l.OutputSize, len(x)-2, -1) {
		if v == -1 {
			v = x[2+a]
		}
		out = append(out, v)
	}
	return out, nil, nil
}

// linearShape replaces the last axis by out_features.
func linearShape(l *calc.Layer, ins [][]int) ([]int, *ConvGeom, error) {
	out := append([]int(nil), ins[0]...)
	out[len(out)-1] = int(l.Out)
	return out, nil, nil
}

// flattenShape multiplies the axes start_dim..end_dim together.
// unflattenShape splits axis Dim into Sizes.
func unflattenShape(l *calc.Layer, ins [][]int) ([]int, *ConvGeom, error) {
	x := ins[0]
	d := l.Dim
	if d < 0 {
		d += len(x)
	}
	out := append([]int(nil), x[:d]...)
	out = append(out, toInts(l.Sizes)...)
	return append(out, x[d+1:]...), nil, nil
}

func flattenShape(l *calc.Layer, ins [][]int) ([]int, *ConvGeom, error) {
	x := ins[0]
	st, en := l.StartDim, l.EndDim
	if st < 0 {
		st += len(x)
	}
	if en < 0 {
		en += len(x)
	}
	out := append([]int(nil), x[:st]...)
	out = append(out, int(numel(x[st:en+1])))
	return append(out, x[en+1:]...), nil, nil
}

// zeroPadShape adds both sides' padding to each axis.
func zeroPadShape(l *calc.Layer, ins [][]int) ([]int, *ConvGeom, error) {
	x := ins[0]
	nsp := len(x) - 2
	out := append([]int(nil), x...)
	pad := zeroPadList(l, nsp)
	for a := 0; a < nsp; a++ {
		out[2+a] += pad[2*(nsp-1-a)] + pad[2*(nsp-1-a)+1]
	}
	return out, nil, nil
}

// upsampleShape is the size given (or that of the second input, size_of),
// or the input's times the scale, floored.
func upsampleShape(l *calc.Layer, ins [][]int) ([]int, *ConvGeom, error) {
	x := ins[0]
	nsp := len(x) - 2
	out := []int{x[0], x[1]}
	if len(ins) == 2 {
		return append(out, ins[1][2:]...), nil, nil
	}
	for a := 0; a < nsp; a++ {
		if len(l.Size) > 0 {
			out = append(out, perAxis(l.Size, nsp, 1)[a])
			continue
		}
		out = append(out, int(float64(x[2+a])*upsampleScale(l, nsp)[a]))
	}
	return out, nil, nil
}

// concatShape adds the inputs' sizes along dim.
func concatShape(l *calc.Layer, ins [][]int) ([]int, *ConvGeom, error) {
	x := ins[0]
	d := dimIndex(l.Dim, len(x))
	out := append([]int(nil), x...)
	for _, y := range ins[1:] {
		out[d] += y[d]
	}
	return out, nil, nil
}

// dimIndex turns a PyTorch dim (negative counts from the end) into an index.
func dimIndex(d, rank int) int {
	if d < 0 {
		d += rank
	}
	return d
}

// zeroPadList expands zeropad's padding to 2 values per axis.
func zeroPadList(l *calc.Layer, nsp int) []int {
	pad := make([]int, 2*nsp)
	for i := range pad {
		if len(l.Pad) == 1 {
			pad[i] = int(l.Pad[0])
		} else {
			pad[i] = int(l.Pad[i])
		}
	}
	return pad
}

// TensorShapes returns the shapes of node i's state_dict tensors in
// Weights order (TensorNames), nil for the ones it does not have; ok is
// false for kinds that have no tensors at all.
func (p *Plan) TensorShapes(i int) (shapes [4][]int, ok bool) {
	return paramShapes(&p.Net.Nodes[i].Layer, p.Inputs(i))
}

// LastUse is the index of the last node that reads node i's output
// (len(Net.Nodes) for the network output): after it the output can go.
func (p *Plan) LastUse(i int) int { return p.lastUse[i] }

// RunNode runs node i alone on its inputs with its tensors, adding the
// MACs its kernels perform to st (which may be nil).
func (p *Plan) RunNode(i int, w *Weights, ins []*Tensor, st *Stats) (*Tensor, error) {
	return p.layer(i, w, ins, st)
}

// pieceRange lays the pieces of torch.chunk (pieces of ceil(n/Chunks))
// or torch.split (pieces of SplitSize, or the Sections) end to end along an
// axis of n and returns where piece Index starts and its size; a negative
// Index counts from the end, as Python's tuple indexing does.
func pieceRange(l *calc.Layer, n int) (start, size int, err error) {
	var sizes []int
	switch {
	case l.Type == calc.Chunk || l.SplitSize > 0:
		step := int(l.SplitSize)
		if l.Type == calc.Chunk {
			step = (n + int(l.Chunks) - 1) / int(l.Chunks)
		}
		for at := 0; at < n && step > 0; at += step {
			sizes = append(sizes, min(step, n-at))
		}
	default:
		for _, v := range l.Sections {
			sizes = append(sizes, int(v))
		}
	}
	idx := int(l.Index)
	if idx < 0 {
		idx += len(sizes)
	}
	if idx < 0 || idx >= len(sizes) {
		return 0, 0, fmt.Errorf("no piece %d of %d", l.Index, len(sizes))
	}
	for _, v := range sizes[:idx] {
		start += v
	}
	return start, sizes[idx], nil
}

// pieceShape is the piece's size on its axis.
func pieceShape(l *calc.Layer, ins [][]int) ([]int, *ConvGeom, error) {
	x := ins[0]
	d := dimIndex(l.Dim, len(x))
	_, size, err := pieceRange(l, x[d])
	if err != nil {
		return nil, nil, err
	}
	out := append([]int(nil), x...)
	out[d] = size
	return out, nil, nil
}

// permuteShape: out axis a has x's axis perm[a].
func permuteShape(l *calc.Layer, ins [][]int) ([]int, *ConvGeom, error) {
	x := ins[0]
	out := make([]int, len(x))
	for a, p := range l.Perm {
		out[a] = x[dimIndex(int(p), len(x))]
	}
	return out, nil, nil
}

// broadcastShape: the inputs aligned at their last axes, each axis the
// size that is not 1.
func broadcastShape(l *calc.Layer, ins [][]int) ([]int, *ConvGeom, error) {
	r := 0
	for _, x := range ins {
		r = max(r, len(x))
	}
	out := make([]int, r)
	for i := range out {
		out[i] = 1
	}
	for _, x := range ins {
		for a, v := range x {
			if oa := a + r - len(x); v != 1 {
				out[oa] = v
			}
		}
	}
	return out, nil, nil
}
