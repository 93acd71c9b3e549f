package exec

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/cnncalc/cnncalc/calc"
)

// Tensor is a dense float32 tensor, row-major, batch first.
type Tensor struct {
	Shape []int
	Data  []float32
}

// New returns a zeroed tensor of the given shape.
func New(shape ...int) *Tensor {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, n)}
}

// RandomInput is standard normal noise of the shape, drawn from seed: the
// input cnncalc exec, check --exec and draw --rf run on without --input.
func RandomInput(shape calc.Shape, seed uint64) *Tensor {
	x := New(toInts(shape)...)
	r := rand.New(rand.NewPCG(seed, 1))
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	return x
}

// FromData wraps data (not copied) in a tensor of the given shape.
func FromData(data []float32, shape ...int) *Tensor {
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}
}

// Len is the number of elements.
func (t *Tensor) Len() int { return len(t.Data) }

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
}

// Reshape returns a tensor sharing t's data with another shape of the same size.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	return &Tensor{Shape: append([]int(nil), shape...), Data: t.Data}
}

func (t *Tensor) String() string {
	parts := make([]string, len(t.Shape))
	for i, s := range t.Shape {
		parts[i] = fmt.Sprint(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// dims5 views a shape (N, C, spatial...) with 1 to 3 spatial axes as
// (N, C, D, H, W), padding missing leading spatial axes with 1.
func dims5(shape []int) (n, c, d, h, w int) {
	n, c, d, h, w = shape[0], shape[1], 1, 1, 1
	sp := shape[2:]
	switch len(sp) {
	case 1:
		w = sp[0]
	case 2:
		h, w = sp[0], sp[1]
	case 3:
		d, h, w = sp[0], sp[1], sp[2]
	}
	return
}

// axes3 spreads per-axis values of an n-axis layer over (D, H, W), filling
// the missing leading axes with def.
func axes3(v []int, def int) [3]int {
	out := [3]int{def, def, def}
	copy(out[3-len(v):], v)
	return out
}

// Stats counts the work the kernels do, as they do it.
type Stats struct {
	// MACs are multiply-accumulates performed by conv, transposed conv and
	// linear kernels (GEMM calls count m*n*k).
	MACs int64
}
