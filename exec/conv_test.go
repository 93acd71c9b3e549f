package exec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cnncalc/cnncalc/calc"
)

func randTensor(r *rand.Rand, shape ...int) *Tensor {
	t := New(shape...)
	for i := range t.Data {
		t.Data[i] = float32(r.NormFloat64())
	}
	return t
}

// checkTensor compares got with want within tol (absolute + relative) and
// reports the max difference and the first mismatching index, as llm.c's
// check_tensor does.
func checkTensor(t *testing.T, name string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d elements, want %d", name, len(got), len(want))
	}
	maxDiff, first := 0.0, -1
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if d > maxDiff {
			maxDiff = d
		}
		if d > tol*(1+math.Abs(float64(want[i]))) && first < 0 {
			first = i
		}
	}
	if first >= 0 {
		t.Errorf("%s: max difference %.3g; first mismatch at %d: got %v, want %v", name, maxDiff, first, got[first], want[first])
	}
}

func TestConvMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	modes := []string{"zeros", "reflect", "replicate", "circular"}
	for trial := 0; trial < 120; trial++ {
		rank := 1 + trial%3
		groups := 1 + r.IntN(3)
		cin, cout := groups*(1+r.IntN(3)), groups*(1+r.IntN(3))
		g := &ConvGeom{Groups: groups, PadMode: modes[r.IntN(4)]}
		in := []int{1, 1, 1}
		var k []int
		for a := 3 - rank; a < 3; a++ {
			in[a] = 4 + r.IntN(6)
			g.K[a] = 1 + r.IntN(3)
			g.S[a] = 1 + r.IntN(2)
			g.D[a] = 1 + r.IntN(2)
			g.PL[a] = r.IntN(2)
			g.PR[a] = g.PL[a] + r.IntN(2)
			k = append(k, g.K[a])
		}
		for a := 0; a < 3-rank; a++ {
			g.K[a], g.S[a], g.D[a] = 1, 1, 1
		}
		batch := 1 + trial%4/2 // batch 1 splits each GEMM over the cores, 2 the images
		xs := append([]int{batch, cin}, in[3-rank:]...)
		os := []int{batch, cout}
		for a := 3 - rank; a < 3; a++ {
			o := (in[a]+g.PL[a]+g.PR[a]-g.D[a]*(g.K[a]-1)-1)/g.S[a] + 1
			if o < 1 {
				o = 1
				g.PL[a], g.PR[a], g.K[a] = 1, 1, 1
			}
			g.OutShape[a] = o
			os = append(os, o)
		}
		for a := 0; a < 3-rank; a++ {
			g.OutShape[a] = 1
		}
		k = nil
		for a := 3 - rank; a < 3; a++ {
			k = append(k, g.K[a])
		}
		x := randTensor(r, xs...)
		w := randTensor(r, append([]int{cout, cin / groups}, k...)...)
		b := randTensor(r, cout)
		fast, slow := New(os...), New(os...)
		var st Stats
		Conv(fast, x, w, b, g, &st)
		refConv(slow, x, w, b, g)
		checkTensor(t, fmt.Sprintf("conv%dd trial %d %+v", rank, trial, *g), fast.Data, slow.Data, 1e-5)
		macs := int64(batch * cout * (cin / groups))
		for a := 0; a < 3; a++ {
			macs *= int64(g.OutShape[a] * g.K[a])
		}
		if st.MACs != macs {
			t.Errorf("trial %d: counted %d MACs, the formula says %d", trial, st.MACs, macs)
		}
	}
}

func TestConvTransposeMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 90; trial++ {
		rank := 1 + trial%3
		groups := 1 + r.IntN(2)
		cin, cout := groups*(1+r.IntN(3)), groups*(1+r.IntN(3))
		g := &ConvGeom{Groups: groups, PadMode: "zeros"}
		xs := []int{2, cin}
		os := []int{2, cout}
		var k []int
		for a := 0; a < 3; a++ {
			g.K[a], g.S[a], g.D[a], g.OutShape[a] = 1, 1, 1, 1
		}
		for a := 3 - rank; a < 3; a++ {
			in := 2 + r.IntN(5)
			g.K[a], g.S[a], g.D[a] = 1+r.IntN(3), 1+r.IntN(3), 1+r.IntN(2)
			g.PL[a] = r.IntN(g.K[a])
			op := r.IntN(max(g.S[a], g.D[a]))
			o := (in-1)*g.S[a] - 2*g.PL[a] + g.D[a]*(g.K[a]-1) + op + 1
			if o < 1 {
				g.PL[a], o = 0, (in-1)*g.S[a]+g.D[a]*(g.K[a]-1)+op+1
			}
			g.OutShape[a] = o
			xs = append(xs, in)
			os = append(os, o)
			k = append(k, g.K[a])
		}
		x := randTensor(r, xs...)
		w := randTensor(r, append([]int{cin, cout / groups}, k...)...)
		b := randTensor(r, cout)
		fast, slow := New(os...), New(os...)
		ConvTranspose(fast, x, w, b, g, nil)
		refConvTranspose(slow, x, w, b, g)
		checkTensor(t, fmt.Sprintf("convtranspose%dd trial %d", rank, trial), fast.Data, slow.Data, 1e-5)
	}
}

func TestLinearMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, shape := range [][]int{{3, 7}, {2, 5, 7}, {2, 3, 4, 7}} {
		x := randTensor(r, shape...)
		w := randTensor(r, 9, 7)
		b := randTensor(r, 9)
		os := append(append([]int(nil), shape[:len(shape)-1]...), 9)
		fast, slow := New(os...), New(os...)
		Linear(fast, x, w, b, nil)
		refLinear(slow, x, w, b)
		checkTensor(t, fmt.Sprint("linear ", shape), fast.Data, slow.Data, 1e-5)
	}
	// Rows up to gemvMaxRows run as dot products (long ones on the AVX2
	// loop), more as a GEMM; both count m*out*in MACs.
	for _, m := range []int{1, gemvMaxRows, gemvMaxRows + 1} {
		x, w, b := randTensor(r, m, 100), randTensor(r, 40, 100), randTensor(r, 40)
		fast, slow := New(m, 40), New(m, 40)
		var st Stats
		Linear(fast, x, w, b, &st)
		refLinear(slow, x, w, b)
		checkTensor(t, fmt.Sprint("linear rows ", m), fast.Data, slow.Data, 1e-5)
		if st.MACs != int64(m*40*100) {
			t.Errorf("linear rows %d: %d MACs, want %d", m, st.MACs, m*40*100)
		}
	}
}

// TestWeightBytes: the memory estimate counts exactly the tensors Init
// allocates (a missing bias counts nothing).
func TestWeightBytes(t *testing.T) {
	net := &calc.Network{Input: calc.Shape{1, 3, 8, 8}, Nodes: []calc.Node{
		{Layer: calc.Layer{Type: calc.Conv2d, Out: 4, Kernel: []int64{3}, Bias: false}, From: []int{calc.Input}},
		{Layer: calc.Layer{Type: calc.Flatten, StartDim: 1, EndDim: -1}, From: []int{0}},
		{Layer: calc.Layer{Type: calc.Linear, Out: 10, Bias: true}, From: []int{1}},
	}}
	p, err := NewPlan(net)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, w := range p.Init(0) {
		for _, x := range []*Tensor{w.Weight, w.Bias, w.Mean, w.Var} {
			if x != nil {
				n += int64(len(x.Data))
			}
		}
	}
	if want := int64(4*3*9 + 144*10 + 10); n != want || p.WeightBytes != 4*want {
		t.Errorf("Init allocates %d values, WeightBytes %d; want %d values, %d bytes", n, p.WeightBytes, want, 4*want)
	}
}

// TestConvWideBands: a stride-1 conv on the wide grid whose product is
// made a band of output rows at a time (here 3 bands, the last shorter)
// equals the reference, with every padding mode.
func TestConvWideBands(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, mode := range []string{"zeros", "reflect", "replicate", "circular"} {
		g := &ConvGeom{K: [3]int{1, 3, 3}, S: [3]int{1, 1, 1}, D: [3]int{1, 1, 2}, PL: [3]int{0, 1, 2}, PR: [3]int{0, 1, 2}, Groups: 1, PadMode: mode, OutShape: [3]int{1, 100, 97}}
		cout := 64
		if !useWide(g, 1, 100, 97, cout) || wideBand/(cout*(97+4)) >= 100 {
			t.Fatalf("the case does not run on the wide grid in several bands")
		}
		x := randTensor(r, 1, 2, 100, 97)
		w := randTensor(r, cout, 2, 3, 3)
		b := randTensor(r, cout)
		fast, slow := New(1, cout, 100, 97), New(1, cout, 100, 97)
		Conv(fast, x, w, b, g, nil)
		refConv(slow, x, w, b, g)
		checkTensor(t, "wide bands "+mode, fast.Data, slow.Data, 1e-5)
	}
}
