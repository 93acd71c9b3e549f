package exec

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestIm2colBPanels: the panels im2colB makes from the image are those
// dense.panels packs from im2col's matrix, to the bit, for every padding
// mode, stride, dilation, 1-, 2- and 3-D geometry and block of lines and
// steps the GEMM asks for (ragged ones included).
func TestIm2colBPanels(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	type geo struct {
		in   [3]int
		k, s [3]int
		d    [3]int
		pl   [3]int
		pr   [3]int
		mode string
	}
	cases := []geo{
		{[3]int{1, 9, 11}, [3]int{1, 3, 3}, [3]int{1, 1, 1}, [3]int{1, 1, 1}, [3]int{0, 1, 1}, [3]int{0, 1, 1}, "zeros"},
		{[3]int{1, 12, 13}, [3]int{1, 3, 5}, [3]int{1, 2, 3}, [3]int{1, 2, 1}, [3]int{0, 3, 2}, [3]int{0, 1, 2}, "zeros"},
		{[3]int{1, 8, 8}, [3]int{1, 3, 3}, [3]int{1, 1, 1}, [3]int{1, 1, 1}, [3]int{0, 2, 2}, [3]int{0, 2, 2}, "reflect"},
		{[3]int{1, 7, 6}, [3]int{1, 3, 3}, [3]int{1, 2, 1}, [3]int{1, 1, 2}, [3]int{0, 1, 3}, [3]int{0, 1, 3}, "replicate"},
		{[3]int{1, 5, 9}, [3]int{1, 2, 4}, [3]int{1, 1, 2}, [3]int{1, 1, 1}, [3]int{0, 3, 3}, [3]int{0, 3, 3}, "circular"},
		{[3]int{1, 1, 50}, [3]int{1, 1, 7}, [3]int{1, 1, 3}, [3]int{1, 1, 2}, [3]int{0, 0, 4}, [3]int{0, 0, 4}, "zeros"},
		{[3]int{4, 5, 6}, [3]int{2, 3, 3}, [3]int{2, 1, 2}, [3]int{1, 1, 1}, [3]int{1, 1, 1}, [3]int{1, 1, 1}, "zeros"},
		{[3]int{1, 30, 30}, [3]int{1, 7, 7}, [3]int{1, 2, 2}, [3]int{1, 1, 1}, [3]int{0, 3, 3}, [3]int{0, 3, 3}, "zeros"},
	}
	for _, cs := range cases {
		g := &ConvGeom{K: cs.k, S: cs.s, D: cs.d, PL: cs.pl, PR: cs.pr, Groups: 1, PadMode: cs.mode}
		for a := range 3 {
			g.OutShape[a] = windows(cs.in[a], cs.d[a]*(cs.k[a]-1)+1, cs.s[a], cs.pl[a], cs.pr[a])
		}
		const chans, c0, cs2 = 5, 1, 3
		id, ih, iw := cs.in[0], cs.in[1], cs.in[2]
		x := make([]float32, chans*id*ih*iw)
		for i := range x {
			x[i] = r.Float32()
		}
		p := g.OutShape[0] * g.OutShape[1] * g.OutShape[2]
		k := cs2 * g.K[0] * g.K[1] * g.K[2]
		col := make([]float32, k*p)
		im2col(col, x, c0, cs2, id, ih, iw, g)
		ref := &dense{data: col, ld: p, w: gemmNR, stepMajor: true}
		op := newIm2colB(x, c0, id, ih, iw, g)
		for _, blk := range [][4]int{{0, p, 0, k}, {16, p - 16, 1, k - 1}, {0, min(p, 5), 2, 3}, {32, min(p-32, 19), 0, 1}} {
			j0, n, p0, kc := blk[0], blk[1], blk[2], blk[3]
			if n <= 0 || j0 >= p || kc <= 0 {
				continue
			}
			size := panelsLen(n, gemmNR, kc)
			want := ref.panels(make([]float32, size), j0, n, p0, kc)
			buf := make([]float32, size)
			for i := range buf {
				buf[i] = -1 // every slot must be written
			}
			got := op.panels(buf, j0, n, p0, kc)
			pl := panelLen(gemmNR, kc)
			for r := 0; r < len(want); r += pl {
				// A panel's last step is padding the kernel never reads.
				if !slices.Equal(got[r:r+gemmNR*kc], want[r:r+gemmNR*kc]) {
					t.Fatalf("%+v block %v: panel %d differs from im2col's", cs, blk, r/pl)
				}
			}
		}
	}
}
