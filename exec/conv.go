package exec

import (
	"runtime"
	"sync"
)

// Conv computes a 1-, 2- or 3-D convolution as im2col + GEMM, per image and
// group: out_g (Cout/G, P) = w_g (Cout/G, Cin/G*KD*KH*KW) x col (Cin/G*KD*KH*KW, P).
// x is (N, Cin, spatial...), w is (Cout, Cin/G, kernel...), b is (Cout) or
// nil, out is (N, Cout, out spatial...) with P = prod(out spatial). A
// depthwise conv with zero padding runs the direct kernel of depthwise.go.
func Conv(out, x, w, b *Tensor, g *ConvGeom, st *Stats) {
	n, cin, id, ih, iw := dims5(x.Shape)
	if depthwise(cin, g) {
		convDepthwise(out, x, w, b, g, st)
		return
	}
	_, cout, _, _, _ := dims5(out.Shape)
	p := g.OutShape[0] * g.OutShape[1] * g.OutShape[2]
	cig, cog := cin/g.Groups, cout/g.Groups
	k := cig * g.K[0] * g.K[1] * g.K[2]
	inSize := cin * id * ih * iw
	direct := k == cig && g.S == [3]int{1, 1, 1} && g.PL == [3]int{} && g.PR == [3]int{}
	forImagesOrGemm(n, func(lo, hi, gw int) {
		var col []float32
		if !direct {
			col = getBuf(k * p)
			defer putBuf(col)
		}
		for i := lo; i < hi; i++ {
			xi := x.Data[i*inSize : (i+1)*inSize]
			oi := out.Data[i*cout*p : (i+1)*cout*p]
			for gr := 0; gr < g.Groups; gr++ {
				var bm []float32
				if direct {
					// A 1x1 conv, stride 1, no padding: the input is its own col.
					bm = xi[gr*cig*p : (gr+1)*cig*p]
				} else {
					im2colPar(gw, col, xi, gr*cig, cig, id, ih, iw, g)
					bm = col
				}
				gemmPar(st, gw, false, false, cog, p, k, w.Data[gr*cog*k:], k, bm, p, 0, oi[gr*cog*p:], p)
			}
			if b != nil {
				addBias(oi, b.Data, p)
			}
		}
	})
}

// forImages runs body over the images [0, n) of a batch, split between the
// cores when there is more than one image; each call owns its own range.
func forImages(n int, body func(lo, hi int)) {
	workers := min(n, runtime.GOMAXPROCS(0))
	if workers <= 1 {
		body(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := w*n/workers, (w+1)*n/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			body(lo, hi)
		}()
	}
	wg.Wait()
}

// im2colPar is im2col with the channels split over up to workers cores.
func im2colPar(workers int, col, x []float32, c0, cs, id, ih, iw int, g *ConvGeom) {
	workers = min(workers, cs)
	if workers <= 1 {
		im2col(col, x, c0, cs, id, ih, iw, g)
		return
	}
	perChan := g.K[0] * g.K[1] * g.K[2] * g.OutShape[0] * g.OutShape[1] * g.OutShape[2] // col elements a channel
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := w*cs/workers, (w+1)*cs/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			im2col(col[lo*perChan:], x, c0+lo, hi-lo, id, ih, iw, g)
		}()
	}
	wg.Wait()
}

// forImagesOrGemm runs body over the images [0, n) of a batch: split
// between the cores by images when there are at least as many images as
// cores (each GEMM then on one core, gw = 1), else on the calling goroutine
// with every GEMM split over the cores (gw = GOMAXPROCS), so that batch 1
// uses them all.
func forImagesOrGemm(n int, body func(lo, hi, gw int)) {
	if w := gemmWorkers(); n < w {
		body(0, n, w)
		return
	}
	forImages(n, func(lo, hi int) { body(lo, hi, 1) })
}

// addBias adds bias[c] to every element of channel c of one image (C, P).
func addBias(x, bias []float32, p int) {
	for c, v := range bias {
		row := x[c*p : (c+1)*p]
		for j := range row {
			row[j] += v
		}
	}
}

// ConvTranspose computes a transposed convolution as GEMM + col2im, per
// image and group: col (Cout/G*K, Pin) = w_g^T (Cout/G*K, Cin/G) x x_g (Cin/G, Pin),
// then col2im adds each column into the output. x is (N, Cin, spatial...),
// w is (Cin, Cout/G, kernel...), b is (Cout) or nil, out is
// (N, Cout, out spatial...). g.PL holds the padding.
func ConvTranspose(out, x, w, b *Tensor, g *ConvGeom, st *Stats) {
	n, cin, id, ih, iw := dims5(x.Shape)
	_, cout, _, _, _ := dims5(out.Shape)
	pin := id * ih * iw
	pout := g.OutShape[0] * g.OutShape[1] * g.OutShape[2]
	cig, cog := cin/g.Groups, cout/g.Groups
	kk := g.K[0] * g.K[1] * g.K[2]
	for i := range out.Data {
		out.Data[i] = 0
	}
	forImagesOrGemm(n, func(lo, hi, gw int) {
		col := getBuf(cog * kk * pin)
		defer putBuf(col)
		for i := lo; i < hi; i++ {
			xi := x.Data[i*cin*pin : (i+1)*cin*pin]
			oi := out.Data[i*cout*pout : (i+1)*cout*pout]
			for gr := 0; gr < g.Groups; gr++ {
				// w_g is (Cin/G, Cout/G*K) row-major: transpose it in the GEMM.
				gemmPar(st, gw, true, false, cog*kk, pin, cig, w.Data[gr*cig*cog*kk:], cog*kk, xi[gr*cig*pin:], pin, 0, col, pin)
				col2im(oi, col, gr*cog, cog, id, ih, iw, g)
			}
			if b != nil {
				addBias(oi, b.Data, pout)
			}
		}
	})
}

// Linear computes out = x w^T + b on the last axis: x is (..., in), w is
// (out, in), b is (out) or nil, out is (..., out).
func Linear(out, x, w, b *Tensor, st *Stats) {
	in := x.Shape[len(x.Shape)-1]
	o := w.Shape[0]
	m := len(x.Data) / in
	gemmPar(st, gemmWorkers(), false, true, m, o, in, x.Data, in, w.Data, in, 0, out.Data, o)
	if b != nil {
		for r := 0; r < m; r++ {
			row := out.Data[r*o : (r+1)*o]
			for j, v := range b.Data {
				row[j] += v
			}
		}
	}
}

// bufPool recycles the large col buffers of im2col between layers.
var bufPool sync.Pool

func getBuf(n int) []float32 {
	if v, ok := bufPool.Get().(*[]float32); ok && cap(*v) >= n {
		return (*v)[:n]
	}
	return make([]float32, n)
}

func putBuf(b []float32) { bufPool.Put(&b) }
