package exec

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestDepthwiseMatchesReference checks the direct depthwise kernel against
// refConv on 1-, 2- and 3-D layers with channel multipliers, strides,
// dilations, asymmetric and over-wide padding, batch 1 (split over the
// cores by channel planes) and more, and its MAC count.
func TestDepthwiseMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 150; trial++ {
		rank := 1 + trial%3
		cin := 1 + r.IntN(6)
		if trial%10 == 0 {
			cin = 96 // large enough to split over the cores
		}
		cout := cin * (1 + r.IntN(2))
		g := &ConvGeom{Groups: cin, PadMode: "zeros"}
		if cin == 1 {
			g.Groups, cin, cout = 2, 2, 2*(cout)
		}
		in := []int{1, 1, 1}
		xs := []int{1 + r.IntN(3), cin}
		os := []int{xs[0], cout}
		var k []int
		for a := 0; a < 3; a++ {
			g.K[a], g.S[a], g.D[a], g.OutShape[a] = 1, 1, 1, 1
		}
		for a := 3 - rank; a < 3; a++ {
			in[a] = 3 + r.IntN(12)
			if trial%10 == 0 {
				in[a] = 20 + r.IntN(10)
			}
			g.K[a] = 1 + r.IntN(5)
			g.S[a] = 1 + r.IntN(3)
			g.D[a] = 1 + r.IntN(2)
			g.PL[a] = r.IntN(4)
			g.PR[a] = r.IntN(4)
			o := (in[a]+g.PL[a]+g.PR[a]-g.D[a]*(g.K[a]-1)-1)/g.S[a] + 1
			if o < 1 {
				g.K[a], g.D[a] = 1, 1
				o = (in[a]+g.PL[a]+g.PR[a]-1)/g.S[a] + 1
			}
			g.OutShape[a] = o
			xs = append(xs, in[a])
			os = append(os, o)
			k = append(k, g.K[a])
		}
		if !depthwise(cin, g) {
			t.Fatalf("trial %d: not depthwise", trial)
		}
		x := randTensor(r, xs...)
		w := randTensor(r, append([]int{cout, 1}, k...)...)
		var b *Tensor
		if trial%2 == 0 {
			b = randTensor(r, cout)
		}
		fast, slow := New(os...), New(os...)
		var st Stats
		Conv(fast, x, w, b, g, &st)
		refConv(slow, x, w, b, g)
		checkTensor(t, fmt.Sprintf("depthwise conv%dd trial %d %+v", rank, trial, *g), fast.Data, slow.Data, 1e-5)
		macs := int64(xs[0] * cout)
		for a := 0; a < 3; a++ {
			macs *= int64(g.OutShape[a] * g.K[a])
		}
		if st.MACs != macs {
			t.Errorf("trial %d: counted %d MACs, want %d", trial, st.MACs, macs)
		}
	}
}
