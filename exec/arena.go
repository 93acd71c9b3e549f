package exec

import "unsafe"

// arena recycles the outputs of one forward pass: when a node's output
// has been read for the last time its buffer serves a later node of the
// same size or smaller, so that a pass touches about as much fresh memory
// as it holds live at once (a fresh page costs a fault and Go's zeroing).
// Only buffers the arena handed out are recycled, and never one that a
// tensor still in use may view: a node whose output is not a buffer of its
// own (a reshape, identity or dropout views its input) pins its inputs.
type arena struct {
	free   [][]float32
	owned  map[*float32]bool // buffers handed out and not pinned
	latest *float32          // the last buffer handed out during the current node
}

func newArena() *arena { return &arena{owned: map[*float32]bool{}} }

// alloc returns a tensor of the shape, zeroed when zero is set (a fresh
// buffer is always zero).
func (a *arena) alloc(shape []int, zero bool) *Tensor {
	if a == nil {
		return New(shape...)
	}
	n := int(numel(shape))
	best := -1
	for i, b := range a.free {
		if cap(b) >= n && cap(b) <= 2*n && (best < 0 || cap(b) < cap(a.free[best])) {
			best = i
		}
	}
	var t *Tensor
	if best >= 0 {
		buf := a.free[best][:n]
		a.free[best] = a.free[len(a.free)-1]
		a.free = a.free[:len(a.free)-1]
		if zero {
			clear(buf)
		}
		t = &Tensor{Shape: append([]int(nil), shape...), Data: buf}
	} else {
		t = New(shape...)
	}
	if n > 0 {
		a.latest = unsafe.SliceData(t.Data)
		a.owned[a.latest] = true
	}
	return t
}

// produced is told each node's output and inputs: an output that is not
// the buffer just handed out may view an input, and pins them all.
func (a *arena) produced(out *Tensor, ins []*Tensor) {
	latest := a.latest
	a.latest = nil // only a buffer handed out during the next node is its own
	if out != nil && len(out.Data) > 0 && unsafe.SliceData(out.Data) == latest {
		return
	}
	for _, x := range ins {
		if x != nil && len(x.Data) > 0 {
			delete(a.owned, unsafe.SliceData(x.Data))
		}
	}
}

// release takes back t's buffer when the arena owns it.
func (a *arena) release(t *Tensor) {
	if t == nil || len(t.Data) == 0 {
		return
	}
	p := unsafe.SliceData(t.Data)
	if a.owned[p] {
		delete(a.owned, p)
		a.free = append(a.free, t.Data[:cap(t.Data)])
	}
}
