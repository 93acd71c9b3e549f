package exec

// Slow, obviously right references of the merge kernels (merge.go).

func refAdd(out *Tensor, xs ...*Tensor) {
	for i := range out.Data {
		var s float32
		for k, x := range xs {
			if k == 0 {
				s = x.Data[i]
			} else {
				s += x.Data[i]
			}
		}
		out.Data[i] = s
	}
}

// refConcat finds, for every output element, its multi-index, the input
// whose range along dim holds it, and that input's element.
func refConcat(out *Tensor, dim int, xs ...*Tensor) {
	rank := len(out.Shape)
	idx := make([]int, rank)
	for i := range out.Data {
		r := i
		for a := rank - 1; a >= 0; a-- {
			idx[a] = r % out.Shape[a]
			r /= out.Shape[a]
		}
		k := idx[dim]
		for _, x := range xs {
			if k < x.Shape[dim] {
				j := 0
				for a := 0; a < rank; a++ {
					v := idx[a]
					if a == dim {
						v = k
					}
					j = j*x.Shape[a] + v
				}
				out.Data[i] = x.Data[j]
				break
			}
			k -= x.Shape[dim]
		}
	}
}
