package exec

import (
	"math"

	"github.com/cnncalc/cnncalc/calc"
)

// Slow references of tensorops.go and the newer activations, written by
// multi-index from their definitions.

// multiIndex turns a flat index into one index per axis of shape.
func multiIndex(i int, shape []int) []int {
	idx := make([]int, len(shape))
	for a := len(shape) - 1; a >= 0; a-- {
		idx[a] = i % shape[a]
		i /= shape[a]
	}
	return idx
}

// flatIndex is the inverse of multiIndex.
func flatIndex(idx, shape []int) int {
	f := 0
	for a, v := range idx {
		f = f*shape[a] + v
	}
	return f
}

func refPReLU(out, x *Tensor, w []float32) {
	for i, v := range x.Data {
		wi := 0
		if len(w) > 1 {
			wi = multiIndex(i, x.Shape)[1]
		}
		if v >= 0 {
			out.Data[i] = v
		} else {
			out.Data[i] = float32(float64(w[wi]) * float64(v))
		}
	}
}

func refLogSoftmax(out, x *Tensor, dim int) {
	for i := range out.Data {
		idx := multiIndex(i, x.Shape)
		var sum float64
		mx := math.Inf(-1)
		for k := 0; k < x.Shape[dim]; k++ {
			j := append([]int(nil), idx...)
			j[dim] = k
			mx = math.Max(mx, float64(x.Data[flatIndex(j, x.Shape)]))
		}
		for k := 0; k < x.Shape[dim]; k++ {
			j := append([]int(nil), idx...)
			j[dim] = k
			sum += math.Exp(float64(x.Data[flatIndex(j, x.Shape)]) - mx)
		}
		out.Data[i] = float32(float64(x.Data[i]) - mx - math.Log(sum))
	}
}

// refPiece finds the piece's start by laying the pieces end to end as
// torch.chunk and torch.split define them.
func refPiece(out, x *Tensor, l *calc.Layer) {
	d := l.Dim
	if d < 0 {
		d += len(x.Shape)
	}
	n := x.Shape[d]
	var sizes []int
	switch {
	case l.Type == calc.Chunk:
		size := int(math.Ceil(float64(n) / float64(l.Chunks)))
		for s := 0; s < n; s += size {
			sizes = append(sizes, min(size, n-s))
		}
	case l.SplitSize > 0:
		for s := 0; s < n; s += int(l.SplitSize) {
			sizes = append(sizes, min(int(l.SplitSize), n-s))
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
	start := 0
	for _, s := range sizes[:idx] {
		start += s
	}
	for i := range out.Data {
		idx := multiIndex(i, out.Shape)
		idx[d] += start
		out.Data[i] = x.Data[flatIndex(idx, x.Shape)]
	}
}

// refChannelShuffle reshapes to (N, g, C/g, ...), swaps axes 1 and 2 and
// reads back, as torch.nn.ChannelShuffle is defined.
func refChannelShuffle(out, x *Tensor, g int) {
	c := x.Shape[1]
	for i := range out.Data {
		idx := multiIndex(i, out.Shape)
		// out channel o = j*g + i' holds in channel i'*(C/g) + j.
		o := idx[1]
		idx[1] = (o%g)*(c/g) + o/g
		out.Data[i] = x.Data[flatIndex(idx, x.Shape)]
	}
}

func refPermute(out, x *Tensor, perm []int64) {
	for i := range out.Data {
		oidx := multiIndex(i, out.Shape)
		xidx := make([]int, len(oidx))
		for a, p := range perm {
			if p < 0 {
				p += int64(len(perm))
			}
			xidx[p] = oidx[a]
		}
		out.Data[i] = x.Data[flatIndex(xidx, x.Shape)]
	}
}

// refMul multiplies with broadcasting: an input's index on each axis is
// out's, or 0 where the input has size 1; inputs are aligned at the end.
func refMul(out *Tensor, xs ...*Tensor) {
	for i := range out.Data {
		oidx := multiIndex(i, out.Shape)
		v := float32(1)
		for k, x := range xs {
			idx := make([]int, len(x.Shape))
			for a := range idx {
				oa := a + len(out.Shape) - len(x.Shape)
				if x.Shape[a] != 1 {
					idx[a] = oidx[oa]
				}
			}
			if k == 0 {
				v = x.Data[flatIndex(idx, x.Shape)]
			} else {
				v *= x.Data[flatIndex(idx, x.Shape)]
			}
		}
		out.Data[i] = v
	}
}

// refLayerNorm2d: each (n, h, w) position's C channels normalised, in
// float64 with a two-pass variance.
func refLayerNorm2d(out, x *Tensor, weight, bias []float32, eps float32) {
	c := x.Shape[1]
	for i := range out.Data {
		idx := multiIndex(i, x.Shape)
		vals := make([]float64, c)
		var mean float64
		for ch := range vals {
			j := append([]int(nil), idx...)
			j[1] = ch
			vals[ch] = float64(x.Data[flatIndex(j, x.Shape)])
			mean += vals[ch]
		}
		mean /= float64(c)
		var v float64
		for _, a := range vals {
			v += (a - mean) * (a - mean)
		}
		v /= float64(c)
		y := (float64(x.Data[i]) - mean) / math.Sqrt(v+float64(eps))
		if weight != nil {
			y *= float64(weight[idx[1]])
		}
		if bias != nil {
			y += float64(bias[idx[1]])
		}
		out.Data[i] = float32(y)
	}
}
