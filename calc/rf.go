package calc

import "fmt"

// inputRF is the receptive field of the network input: every pixel sees
// itself. It is nil when the input has no spatial axes.
func inputRF(in Shape) *RF {
	n := len(in) - 2
	if n < 1 {
		return nil
	}
	rf := newRF(n)
	for i := range rf.Size {
		rf.Size[i], rf.Jump[i] = 1, 1
	}
	return rf
}

// rfWindows carries a receptive field through a sliding window per axis:
// (only on the standard layout: a window over permuted axes has none)
// r' = r + (k_eff-1)*j, j' = j*stride, s' = s + ((k_eff-1)/2 - pad_left)*j.
// It returns nil when rf is nil or a count overflows int64.
func rfWindows(rf *RF, axes []convAxis) *RF {
	if rf == nil || len(rf.Size) != len(axes) || rf.Layout != nil {
		return nil
	}
	out := newRF(len(axes))
	for i, a := range axes {
		ek := effectiveKernel(a.k, a.d)
		grow, err := mul(ek-1, rf.Jump[i])
		if err != nil {
			return nil
		}
		if out.Size[i], err = add(rf.Size[i], grow); err != nil {
			return nil
		}
		if out.Jump[i], err = mul(rf.Jump[i], a.s); err != nil {
			return nil
		}
		out.Start[i] = rf.Start[i] + (float64(ek-1)/2-float64(a.pl))*float64(rf.Jump[i])
		out.Padding[i] = float64(out.Size[i]-1)/2 - out.Start[i]
	}
	return out
}

// rfUnion merges the fields of a merge's inputs: the smallest interval that
// holds each input's field of unit 0, when all jumps agree. It returns nil
// and a reason otherwise.
func rfUnion(rfs []*RF) (*RF, string) {
	for _, r := range rfs {
		if r == nil {
			return nil, ""
		}
	}
	first := rfs[0]
	n := len(first.Size)
	for _, r := range rfs[1:] {
		if !equalInts(first.Layout, r.Layout) {
			return nil, ""
		}
	}
	out := newRF(n)
	out.Layout = first.Layout
	copy(out.Jump, first.Jump)
	for i := 0; i < n; i++ {
		lo, hi := first.Start[i]-float64(first.Size[i]-1)/2, first.Start[i]+float64(first.Size[i]-1)/2
		for k, r := range rfs[1:] {
			if len(r.Size) != n {
				return nil, ""
			}
			if r.Jump[i] != first.Jump[i] {
				return nil, fmt.Sprintf("receptive field is undefined: inputs 1 and %d have jumps %d and %d on axis %s", k+2, first.Jump[i], r.Jump[i], AxisNames(n)[i])
			}
			lo = min(lo, r.Start[i]-float64(r.Size[i]-1)/2)
			hi = max(hi, r.Start[i]+float64(r.Size[i]-1)/2)
		}
		out.Size[i] = int64(hi-lo) + 1
		out.Start[i] = (lo + hi) / 2
		out.Padding[i] = float64(out.Size[i]-1)/2 - out.Start[i]
	}
	return out, ""
}

// newRF allocates a field of n axes in one piece.
func newRF(n int) *RF {
	ints := make([]int64, 2*n)
	floats := make([]float64, 2*n)
	return &RF{Size: ints[:n:n], Jump: ints[n:], Start: floats[:n:n], Padding: floats[n:]}
}
