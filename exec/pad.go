package exec

import "fmt"

// ZeroPad pads (or, with negative amounts, crops) the trailing axes of x with
// zeros, as PyTorch's ZeroPad1d/2d/3d and F.pad(mode="constant", value=0).
// x has any rank; out has the same rank with, for each padded axis,
// size in + before + after. pad is in PyTorch order, last axis first:
// [left, right] pads W, [left, right, top, bottom] pads W then H,
// [left, right, top, bottom, front, back] pads W, H then D. Axes before the
// padded ones are unchanged. Output position o of a padded axis reads input
// o - before, or zero when that lies outside the input.
func ZeroPad(out, x *Tensor, pad []int) { ConstantPad(out, x, pad, 0) }

// ConstantPad is ZeroPad padding with value (nn.ConstantPad1d/2d/3d).
func ConstantPad(out, x *Tensor, pad []int, value float32) {
	rank := len(x.Shape)
	if len(pad)%2 != 0 || len(pad)/2 > rank {
		panic(fmt.Sprintf("exec.ZeroPad: pad %v does not fit input %v", pad, x))
	}
	// before[a] is the padding before axis a (0 for unpadded axes); strides
	// are those of x.
	before := make([]int, rank)
	for i := 0; i < len(pad)/2; i++ {
		before[rank-1-i] = pad[2*i]
	}
	if rank == 0 {
		copy(out.Data, x.Data)
		return
	}
	inStride := make([]int, rank)
	s := 1
	for a := rank - 1; a >= 0; a-- {
		inStride[a] = s
		s *= x.Shape[a]
	}
	last := rank - 1
	inW, outW, left := x.Shape[last], out.Shape[last], before[last]
	// Output columns [lo, hi) read input columns [lo-left, hi-left).
	lo, hi := min(max(left, 0), outW), min(max(left+inW, 0), outW)
	rows := len(out.Data) / max(outW, 1)
	pos := make([]int, last) // odometer over the leading axes of out
	for r := 0; r < rows; r++ {
		dst := out.Data[r*outW : (r+1)*outW]
		src, inside := 0, true
		for a := 0; a < last; a++ {
			i := pos[a] - before[a]
			if i < 0 || i >= x.Shape[a] {
				inside = false
				break
			}
			src += i * inStride[a]
		}
		if !inside || lo >= hi {
			fill(dst, value)
		} else {
			fill(dst[:lo], value)
			copy(dst[lo:hi], x.Data[src+lo-left:src+hi-left])
			fill(dst[hi:], value)
		}
		for a := last - 1; a >= 0; a-- {
			if pos[a]++; pos[a] < out.Shape[a] {
				break
			}
			pos[a] = 0
		}
	}
}

// fill sets every element of d to v.
func fill(d []float32, v float32) {
	if v == 0 {
		clear(d)
		return
	}
	for i := range d {
		d[i] = v
	}
}
