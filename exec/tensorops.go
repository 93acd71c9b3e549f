package exec

import (
	"math"
	"slices"
)

// Kernels that move elements (a piece along an axis, channel shuffle,
// permute) or multiply tensors (broadcasting mul, layer scale), and
// torchvision's channel LayerNorm2d.

// Slice copies the range [start, start+out.Shape[dim]) of x along axis
// dim into out (torch.chunk's and torch.split's pieces). x and out differ
// only on dim.
func Slice(out, x *Tensor, dim, start int) {
	outer, k, inner := axisView(x.Shape, dim)
	rowIn, rowOut := k*inner, out.Shape[dim]*inner
	for o := 0; o < outer; o++ {
		copy(out.Data[o*rowOut:(o+1)*rowOut], x.Data[o*rowIn+start*inner:o*rowIn+start*inner+rowOut])
	}
}

// ChannelShuffle: x (N, C, spatial...) viewed as (N, g, C/g, S) is
// transposed to (N, C/g, g, S): out channel j*g + i is input channel
// i*(C/g) + j (nn.ChannelShuffle).
func ChannelShuffle(out, x *Tensor, groups int) {
	n, c := x.Shape[0], x.Shape[1]
	s := len(x.Data) / max(n*c, 1)
	per := c / groups
	for b := 0; b < n; b++ {
		for i := 0; i < groups; i++ {
			for j := 0; j < per; j++ {
				src := ((b * c) + i*per + j) * s
				dst := ((b * c) + j*groups + i) * s
				copy(out.Data[dst:dst+s], x.Data[src:src+s])
			}
		}
	}
}

// Permute writes x with its axes reordered: out axis a is x axis perm[a]
// (x.permute(perm)). It walks out in order, stepping through x by the
// strides of the permuted axes.
func Permute(out, x *Tensor, perm []int) {
	r := len(x.Shape)
	stride := make([]int, r)
	st := 1
	for a := r - 1; a >= 0; a-- {
		stride[a] = st
		st *= x.Shape[a]
	}
	step := make([]int, r) // x stride of each out axis
	for a, p := range perm {
		step[a] = stride[p]
	}
	idx := make([]int, r)
	src := 0
	for i := range out.Data {
		out.Data[i] = x.Data[src]
		for a := r - 1; a >= 0; a-- {
			idx[a]++
			src += step[a]
			if idx[a] < out.Shape[a] {
				break
			}
			src -= idx[a] * step[a]
			idx[a] = 0
		}
	}
}

// Mul writes the elementwise product of xs with PyTorch's broadcasting:
// each x is aligned with out at the last axes, and an axis of size 1 is
// repeated. Products are taken in order in float32.
func Mul(out *Tensor, xs ...*Tensor) {
	if len(xs) == 2 && mulFast(out, xs[0], xs[1]) {
		return
	}
	r := len(out.Shape)
	// strides[k][a]: the step in xs[k] for out axis a (0 where broadcast).
	strides := make([][]int, len(xs))
	for k, x := range xs {
		s := make([]int, r)
		st := 1
		for a := len(x.Shape) - 1; a >= 0; a-- {
			oa := a + r - len(x.Shape)
			if x.Shape[a] != 1 {
				s[oa] = st
			}
			st *= x.Shape[a]
		}
		strides[k] = s
	}
	idx := make([]int, r)
	pos := make([]int, len(xs))
	for i := range out.Data {
		v := xs[0].Data[pos[0]]
		for k := 1; k < len(xs); k++ {
			v *= xs[k].Data[pos[k]]
		}
		out.Data[i] = v
		for a := r - 1; a >= 0; a-- {
			idx[a]++
			for k := range xs {
				pos[k] += strides[k][a]
			}
			if idx[a] < out.Shape[a] {
				break
			}
			for k := range xs {
				pos[k] -= idx[a] * strides[k][a]
			}
			idx[a] = 0
		}
	}
}

// mulFast is Mul of two tensors in the two common cases, split over the
// cores: one of out's shape times another of out's shape, or times one
// that is out's on the leading axes and 1 on the rest (a squeeze-and-
// excitation scale, (N, C, 1, 1)): a run of out per value. It reports
// false for every other broadcast.
func mulFast(out, a, b *Tensor) bool {
	if !slices.Equal(a.Shape, out.Shape) {
		a, b = b, a
	}
	if !slices.Equal(a.Shape, out.Shape) || len(b.Shape) != len(out.Shape) {
		return false
	}
	split := len(b.Shape)
	for split > 0 && b.Shape[split-1] == 1 && out.Shape[split-1] != 1 {
		split--
	}
	if !slices.Equal(b.Shape[:split], out.Shape[:split]) {
		return false
	}
	inner := int(numel(out.Shape[split:]))
	o, x, y := out.Data, a.Data[:len(out.Data)], b.Data
	forPlanes(len(y), int64(len(o)), func(lo, hi int) {
		if inner == 1 {
			xr, yr, or := x[lo:hi], y[lo:hi], o[lo:hi]
			for j, u := range xr {
				or[j] = u * yr[j]
			}
			return
		}
		for i := lo; i < hi; i++ {
			v := y[i]
			xr, or := x[i*inner:(i+1)*inner], o[i*inner:(i+1)*inner]
			for j, u := range xr {
				or[j] = u * v
			}
		}
	})
	return true
}

// ScaleChannels: out[n][c][...] = x[n][c][...] * w[c] (layer scale, a
// learnable per-channel multiply); x and out are (N, C, spatial...).
func ScaleChannels(out, x *Tensor, w []float32) {
	n, c := x.Shape[0], x.Shape[1]
	s := len(x.Data) / max(n*c, 1)
	for b := 0; b < n; b++ {
		for ch := 0; ch < c; ch++ {
			off := (b*c + ch) * s
			for i, a := range x.Data[off : off+s] {
				out.Data[off+i] = a * w[ch]
			}
		}
	}
}

// LayerNorm2d normalises the C channels at every position of x (N, C, H,
// W) with their mean and biased variance, then applies the per-channel
// weight and bias (either nil when absent): torchvision's LayerNorm2d,
// layer_norm over the channels of the channels-last view.
func LayerNorm2d(out, x *Tensor, weight, bias []float32, eps float32) {
	n, c := x.Shape[0], x.Shape[1]
	s := len(x.Data) / max(n*c, 1)
	for b := 0; b < n; b++ {
		base := b * c * s
		for p := 0; p < s; p++ {
			var sum float64
			for ch := 0; ch < c; ch++ {
				sum += float64(x.Data[base+ch*s+p])
			}
			mean := sum / float64(c)
			var sq float64
			for ch := 0; ch < c; ch++ {
				d := float64(x.Data[base+ch*s+p]) - mean
				sq += d * d
			}
			rstd := 1 / math.Sqrt(sq/float64(c)+float64(eps))
			for ch := 0; ch < c; ch++ {
				v := (float64(x.Data[base+ch*s+p]) - mean) * rstd
				if weight != nil {
					v *= float64(weight[ch])
				}
				if bias != nil {
					v += float64(bias[ch])
				}
				out.Data[base+ch*s+p] = float32(v)
			}
		}
	}
}
