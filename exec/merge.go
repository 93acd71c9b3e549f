package exec

// Merge kernels: the elementwise sum of a residual connection and
// concatenation along an axis (torch.cat).

// Add writes the elementwise sum of xs, all of out's shape, summed in
// order in float32 (as PyTorch's chain x0 + x1 + ... does). out may be one
// of xs.
func Add(out *Tensor, xs ...*Tensor) {
	o := out.Data
	switch len(xs) {
	case 0:
		clear(o)
	case 1:
		copy(o, xs[0].Data)
	case 2:
		a, b := xs[0].Data[:len(o)], xs[1].Data[:len(o)]
		for i := range o {
			o[i] = a[i] + b[i]
		}
	default:
		// Element by element, so that out may alias any input.
		for i := range o {
			s := xs[0].Data[i]
			for _, x := range xs[1:] {
				s += x.Data[i]
			}
			o[i] = s
		}
	}
}

// addClamp is Add followed by a clamp to [lo, hi] (a ReLU after a
// residual add), in one pass split over the cores; NaN stays NaN.
func addClamp(out *Tensor, xs []*Tensor, lo, hi float32) {
	const chunk = 1 << 14
	o := out.Data
	forPlanes((len(o)+chunk-1)/chunk, int64(len(o)), func(c0, c1 int) {
		i0, i1 := c0*chunk, min(c1*chunk, len(o))
		oc := o[i0:i1]
		if len(xs) == 2 {
			a, b := xs[0].Data[i0:i1], xs[1].Data[i0:i1]
			a, b = a[:len(oc)], b[:len(oc)]
			for i := range oc {
				oc[i] = min(max(a[i]+b[i], lo), hi)
			}
			return
		}
		for i := range oc {
			s := xs[0].Data[i0+i]
			for _, x := range xs[1:] {
				s += x.Data[i0+i]
			}
			oc[i] = min(max(s, lo), hi)
		}
	})
}

// Concat writes xs one after another along axis dim (0 <= dim < rank), as
// torch.cat does: every x has out's shape except on dim, where
// out.Shape[dim] is the sum of theirs. Viewing each x as (outer, K_x*inner),
// with outer the product of the axes before dim and inner of those after,
// every outer row of out is the rows of the xs laid end to end. out may not
// alias any input.
func Concat(out *Tensor, dim int, xs ...*Tensor) {
	outer, k, inner := axisView(out.Shape, dim)
	rowOut := k * inner
	at := 0 // offset of the current x inside an output row
	for _, x := range xs {
		row := x.Shape[dim] * inner
		for o := 0; o < outer; o++ {
			copy(out.Data[o*rowOut+at:o*rowOut+at+row], x.Data[o*row:(o+1)*row])
		}
		at += row
	}
}
