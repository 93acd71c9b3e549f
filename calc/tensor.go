package calc

import (
	"fmt"
	"strings"
)

// The kinds that move or pick elements (chunk, split, channel shuffle,
// permute), multiply tensors (mul, prelu, layer scale), and the
// activations with bounds.

// mulShape is PyTorch's broadcasting: the shapes are aligned at their last
// axes, and each pair of sizes is equal or one of them is 1.
func mulShape(l *Layer, lr *LayerResult) *Error {
	rank := 0
	for _, x := range lr.Inputs {
		rank = max(rank, len(x))
	}
	out := make(Shape, rank)
	for i := range out {
		out[i] = 1
	}
	for k, x := range lr.Inputs {
		for i := 1; i <= len(x); i++ {
			o, v := &out[rank-i], x[len(x)-i]
			switch {
			case *o == v || v == 1:
			case *o == 1:
				*o = v
			default:
				return errorf("from", "mul cannot broadcast %s and %s (input %d): size %d against %d on axis %d",
					fmtShape(lr.Inputs[0]), fmtShape(x), k+1, *o, v, rank-i)
			}
		}
	}
	if len(lr.Inputs[0]) != rank || out[0] != lr.Inputs[0][0] {
		return errorf("from", "mul would broadcast %s to %s: the first input must keep its batch axis and rank", fmtShape(lr.Inputs[0]), fmtShape(out))
	}
	lr.Output = out
	if lr.explain {
		parts := make([]string, len(lr.Inputs))
		for i, s := range lr.Inputs {
			parts[i] = joinInts(s[1:], "x")
		}
		lr.Formulas = append(lr.Formulas, fmt.Sprintf("broadcast %s = %s", strings.Join(parts, " * "), joinInts(out[1:], "x")))
	}
	return nil
}

// pieceAxis checks a chunk's or split's dim: an axis, not the batch.
func pieceAxis(l *Layer, x Shape) (int, *Error) {
	d, err := normDim(l.Dim, len(x), "dim")
	if err != nil {
		return 0, err
	}
	if d == 0 {
		return 0, errorf("dim", "%s along the batch axis (dim %d) is not allowed", l.Type, l.Dim)
	}
	return d, nil
}

// chunkPieces is torch.chunk's split of n into chunks: pieces of
// ceil(n/chunks), the last smaller, and so possibly fewer pieces than asked.
func chunkPieces(n, chunks int64) (size, pieces int64) {
	size = ceilDiv(n, chunks)
	return size, ceilDiv(n, size)
}

// pieceIndex is a piece's index counted from 0: a negative index counts
// from the end, as Python's indexing of torch.chunk's and torch.split's
// tuples does.
func pieceIndex(i, pieces int64) int64 {
	if i < 0 {
		return i + pieces
	}
	return i
}

// chunkShape is piece Index of torch.chunk(x, chunks, dim).
func chunkShape(l *Layer, lr *LayerResult) *Error {
	x := lr.Inputs[0]
	d, err := pieceAxis(l, x)
	if err != nil {
		return err
	}
	if l.Chunks < 1 {
		return errorf("chunks", "chunk expects chunks to be greater than 0, got %d", l.Chunks)
	}
	size, pieces := chunkPieces(x[d], l.Chunks)
	idx := pieceIndex(l.Index, pieces)
	if idx < 0 || idx >= pieces {
		return &Error{Arg: "index", Msg: fmt.Sprintf("chunk index %d is out of range: %d split into %d chunks gives %d pieces", l.Index, x[d], l.Chunks, pieces),
			Formula: fmt.Sprintf("piece size ceil(%d/%d) = %d, pieces ceil(%d/%d) = %d", x[d], l.Chunks, size, x[d], size, pieces)}
	}
	out := x.Clone()
	out[d] = min(size, x[d]-idx*size)
	lr.Output = out
	if lr.explain {
		lr.Formulas = append(lr.Formulas, fmt.Sprintf("axis %d = min(ceil(%d/%d), %d - %d*%d) = %d", d, x[d], l.Chunks, x[d], idx, size, out[d]))
	}
	return nil
}

// splitPiece is the start and size of piece index of torch.split.
func splitPiece(l *Layer, n int64) (start, size int64, err *Error) {
	if l.SplitSize != 0 || l.Sections == nil {
		s := l.SplitSize
		if s < 1 {
			return 0, 0, errorf("size", "split size must be positive, got %d", s)
		}
		pieces := ceilDiv(n, s)
		idx := pieceIndex(l.Index, pieces)
		if idx < 0 || idx >= pieces {
			return 0, 0, errorf("index", "split index %d is out of range: %d in pieces of %d gives %d", l.Index, n, s, pieces)
		}
		return idx * s, min(s, n-idx*s), nil
	}
	var sum int64
	for _, v := range l.Sections {
		if v < 0 {
			return 0, 0, errorf("sections", "split sections must not be negative, got %s", fmtShape(l.Sections))
		}
		sum += v
	}
	if sum != n {
		return 0, 0, &Error{Arg: "sections", Msg: fmt.Sprintf("split sections %s do not add up to the axis size %d", fmtShape(l.Sections), n),
			Formula: fmt.Sprintf("%s = %d != %d", joinInts(l.Sections, " + "), sum, n)}
	}
	idx := pieceIndex(l.Index, int64(len(l.Sections)))
	if idx < 0 || idx >= int64(len(l.Sections)) {
		return 0, 0, errorf("index", "split index %d is out of range: there are %d sections", l.Index, len(l.Sections))
	}
	for _, v := range l.Sections[:idx] {
		start += v
	}
	return start, l.Sections[idx], nil
}

// pieceStart is where a chunk's or split's piece starts on its axis.
func pieceStart(l *Layer, n int64) int64 {
	if l.Type == Chunk {
		size, pieces := chunkPieces(n, l.Chunks)
		return pieceIndex(l.Index, pieces) * size
	}
	start, _, _ := splitPiece(l, n)
	return start
}

// splitShape is piece Index of torch.split(x, size or sections, dim).
func splitShape(l *Layer, lr *LayerResult) *Error {
	x := lr.Inputs[0]
	d, err := pieceAxis(l, x)
	if err != nil {
		return err
	}
	start, size, err := splitPiece(l, x[d])
	if err != nil {
		return err
	}
	if size == 0 {
		return errorf("index", "split piece %d is empty", l.Index)
	}
	out := x.Clone()
	out[d] = size
	lr.Output = out
	if lr.explain {
		lr.Formulas = append(lr.Formulas, fmt.Sprintf("axis %d = [%d, %d) of %d = %d", d, start, start+size, x[d], size))
	}
	return nil
}

// pieceField: a piece along the channels keeps the field; along a spatial
// axis its unit 0 is the input's unit start, so the field moves by
// start*jump.
func pieceField(l *Layer, lr *LayerResult, rfs []*RF) (*RF, string) {
	rf, x := rfs[0], lr.Inputs[0]
	d, _ := normDim(l.Dim, len(x), "dim")
	if rf == nil || d == 1 {
		return rf, ""
	}
	if rf.Layout != nil || d-2 >= len(rf.Size) {
		return nil, ""
	}
	out := newRF(len(rf.Size))
	copy(out.Size, rf.Size)
	copy(out.Jump, rf.Jump)
	copy(out.Start, rf.Start)
	a := d - 2
	out.Start[a] += float64(pieceStart(l, x[d])) * float64(rf.Jump[a])
	for i := range out.Padding {
		out.Padding[i] = float64(out.Size[i]-1)/2 - out.Start[i]
	}
	return out, ""
}

// shuffleShape: torch.nn.ChannelShuffle keeps the shape; the channels
// must divide into the groups.
func shuffleShape(l *Layer, lr *LayerResult) *Error {
	x := lr.Inputs[0]
	if len(x) < 3 {
		return errorf("", "channelshuffle expects a 3-D to 5-D input (N, C, spatial...), got %s", fmtShape(x))
	}
	if l.Groups < 1 {
		return errorf("groups", "channelshuffle groups must be positive, got %d", l.Groups)
	}
	if x[1]%l.Groups != 0 {
		return errorf("groups", "channelshuffle channels %d must be divisible by groups %d", x[1], l.Groups)
	}
	return sameShape(l, lr)
}

// permuteShape reorders the axes; dims count the batch axis, which must
// stay first.
func permuteShape(l *Layer, lr *LayerResult) *Error {
	x := lr.Inputs[0]
	if len(l.Perm) != len(x) {
		return errorf("dims", "permute dims %s: number of dims don't match in permute: the input %s has %d", fmtShape(l.Perm), fmtShape(x), len(x))
	}
	seen := make([]bool, len(x))
	out := make(Shape, len(x))
	for i, d := range l.Perm {
		if d < 0 {
			d += int64(len(x))
		}
		if d < 0 || d >= int64(len(x)) || seen[d] {
			return errorf("dims", "permute dims %s are not a permutation of 0..%d", fmtShape(l.Perm), len(x)-1)
		}
		seen[d] = true
		out[i] = x[d]
	}
	if out[0] != x[0] || normPerm(l.Perm, len(x))[0] != 0 {
		return errorf("dims", "permute dims %s move the batch axis; it must stay first (dims[0] = 0)", fmtShape(l.Perm))
	}
	lr.Output = out
	lr.Layout = permuteLayout(lr.Layout, normPerm(l.Perm, len(x)), len(x)-2)
	if lr.explain {
		lr.Formulas = append(lr.Formulas, fmt.Sprintf("(%s) -> (%s)", joinInts(x, ", "), joinInts(out, ", ")))
	}
	return nil
}

// permuteLayout is where each of n spatial axes stands after perm, given
// where they stood (nil: the standard layout, axes 2...); nil again when
// the result is the standard layout.
func permuteLayout(in, perm []int64, n int) []int64 {
	layout := make([]int64, n)
	standard := true
	for a := range layout {
		where := int64(a + 2)
		if in != nil {
			where = in[a]
		}
		for i, d := range perm {
			if d == where {
				layout[a] = int64(i)
			}
		}
		standard = standard && layout[a] == int64(a+2)
	}
	if standard {
		return nil
	}
	return layout
}

// normPerm turns negative dims into indices.
func normPerm(perm []int64, rank int) []int64 {
	out := make([]int64, len(perm))
	for i, d := range perm {
		if d < 0 {
			d += int64(rank)
		}
		out[i] = d
	}
	return out
}

// permuteField keeps the units' fields (moving axes moves no pixel) and
// records where each spatial axis now stands.
func permuteField(l *Layer, lr *LayerResult, rfs []*RF) (*RF, string) {
	rf := rfs[0]
	if rf == nil {
		return nil, ""
	}
	out := newRF(len(rf.Size))
	copy(out.Size, rf.Size)
	copy(out.Jump, rf.Jump)
	copy(out.Start, rf.Start)
	copy(out.Padding, rf.Padding)
	out.Layout = permuteLayout(rf.Layout, normPerm(l.Perm, len(lr.Inputs[0])), len(rf.Size))
	return out, ""
}

// spatialLast reports whether the last axis of a tensor of the given rank
// and layout is a spatial one (the standard layout's W), not channels.
func spatialLast(layout []int64, rank int) bool {
	if layout == nil {
		return rank > 2
	}
	for _, a := range layout {
		if a == int64(rank-1) {
			return true
		}
	}
	return false
}

// preluShape: num_parameters is 1 or the channels.
func preluShape(l *Layer, lr *LayerResult) *Error {
	x := lr.Inputs[0]
	c := int64(1)
	if len(x) >= 2 {
		c = x[1]
	}
	if l.NumParams != 1 && l.NumParams != c {
		return errorf("num_parameters", "prelu num_parameters %d must be 1 or the input's %d channels", l.NumParams, c)
	}
	return sameShape(l, lr)
}

// preluCount: one learnable slope per parameter.
func preluCount(l *Layer, lr *LayerResult) *Error {
	lr.Params = l.NumParams
	if lr.explain {
		lr.Formulas = append(lr.Formulas, fmt.Sprintf("params = %d (weight)", l.NumParams))
	}
	return nil
}

// hardtanhShape: the bounds must be ordered.
func hardtanhShape(l *Layer, lr *LayerResult) *Error {
	if l.MaxVal <= l.MinVal {
		return errorf("max_val", "hardtanh max_val %s must be greater than min_val %s", fmtFloat(l.MaxVal), fmtFloat(l.MinVal))
	}
	return sameShape(l, lr)
}

// layerNorm2dShape: torchvision's LayerNorm2d normalises the channels of
// each position of an (N, C, H, W) tensor.
func layerNorm2dShape(l *Layer, lr *LayerResult) *Error {
	x := lr.Inputs[0]
	if err := normInput(l, x, 4); err != nil {
		return err
	}
	return sameShape(l, lr)
}

// layerNorm2dCount: weight and bias per channel, 2*C.
func layerNorm2dCount(l *Layer, lr *LayerResult) *Error {
	if l.Affine {
		c := lr.Inputs[0][1]
		lr.Params = 2 * c
		if lr.explain {
			lr.Formulas = append(lr.Formulas, fmt.Sprintf("params = 2*%d (weight, bias) = %s", c, Group(lr.Params)))
		}
	}
	return nil
}

// layerScaleShape: a learnable per-channel multiply, gamma (C, 1, ...).
func layerScaleShape(l *Layer, lr *LayerResult) *Error {
	x := lr.Inputs[0]
	if len(x) < 2 {
		return needRank(l, x, 2)
	}
	if l.In != 0 && l.In != x[1] {
		return errorf("in", "layerscale expects %d channels, the input has %d", l.In, x[1])
	}
	return sameShape(l, lr)
}

// layerScaleCount: one learnable scale per channel.
func layerScaleCount(l *Layer, lr *LayerResult) *Error {
	lr.Params = lr.Inputs[0][1]
	if lr.explain {
		lr.Formulas = append(lr.Formulas, fmt.Sprintf("params = %d (one scale per channel)", lr.Params))
	}
	return nil
}
