package exec

import (
	"runtime"
	"sync"
)

// Conv computes a 1-, 2- or 3-D convolution as a GEMM per image and
// group: out_g (Cout/G, P) = w_g (Cout/G, Cin/G*KD*KH*KW) x col (Cin/G*KD*KH*KW, P),
// where col, im2col's matrix, is made panel by panel as the GEMM packs it
// (im2colB) and the bias is added as each tile of out is done. x is
// (N, Cin, spatial...), w is (Cout, Cin/G, kernel...), b is (Cout) or
// nil, out is (N, Cout, out spatial...) with P = prod(out spatial). A
// depthwise conv with zero padding runs the direct kernel of depthwise.go.
func Conv(out, x, w, b *Tensor, g *ConvGeom, st *Stats) {
	convRun(out, x, &convOp{w: w, bias: data(b)}, g, st)
}

// convOp is a conv or linear layer as a run uses it: the weights (Cout,
// Cin/G, kernel...) or (out, in), per group op(A) prepacked (Prepare) or
// nil to pack w as it goes, and what the GEMM's write-back does: scale
// each output channel (a batchnorm's s, nil for none), add the bias (nil
// for none), clamp to [lo, hi] (an activation).
type convOp struct {
	w           *Tensor
	a           []operand
	scale, bias []float32
	clamp       bool
	lo, hi      float32
}

// groupEpilogue is the epilogue of group gr's GEMM: its channels' bias and
// the clamp.
func (op *convOp) groupEpilogue(gr, cog int) *epilogue {
	ep := &epilogue{clamp: op.clamp, lo: op.lo, hi: op.hi}
	if op.bias != nil {
		ep.rowBias = op.bias[gr*cog : (gr+1)*cog]
	}
	if op.scale != nil {
		ep.rowScale = op.scale[gr*cog : (gr+1)*cog]
	}
	if ep.rowBias == nil && ep.rowScale == nil && !ep.clamp {
		return nil
	}
	return ep
}

// weightsA is op(A) of group gr: the prepacked panels, or w_g itself.
func (op *convOp) weightsA(gr, cog, k int) operand {
	if op.a != nil {
		return op.a[gr]
	}
	return &dense{data: op.w.Data[gr*cog*k:], ld: k, w: gemmMR}
}

func convRun(out, x *Tensor, op *convOp, g *ConvGeom, st *Stats) {
	n, cin, id, ih, iw := dims5(x.Shape)
	if depthwise(cin, g) {
		var b *Tensor
		if op.bias != nil && op.scale == nil {
			b = &Tensor{Shape: []int{len(op.bias)}, Data: op.bias}
		}
		convDepthwise(out, x, op.w, b, g, st)
		if op.scale != nil || op.clamp {
			channelAffine(out, op)
		}
		return
	}
	_, cout, _, _, _ := dims5(out.Shape)
	p := g.OutShape[0] * g.OutShape[1] * g.OutShape[2]
	cig, cog := cin/g.Groups, cout/g.Groups
	k := cig * g.K[0] * g.K[1] * g.K[2]
	inSize := cin * id * ih * iw
	direct := k == cig && g.S == [3]int{1, 1, 1} && g.PL == [3]int{} && g.PR == [3]int{}
	forImagesOrGemm(n, func(lo, hi, gw int) {
		for i := lo; i < hi; i++ {
			xi := x.Data[i*inSize : (i+1)*inSize]
			oi := out.Data[i*cout*p : (i+1)*cout*p]
			for gr := 0; gr < g.Groups; gr++ {
				var bm operand
				if direct {
					// A 1x1 conv, stride 1, no padding: the input is its own col.
					bm = &dense{data: xi[gr*cig*p : (gr+1)*cig*p], ld: p, w: gemmNR, stepMajor: true}
				} else {
					bm = newIm2colB(xi, gr*cig, id, ih, iw, g)
				}
				pr := product{m: cog, n: p, k: k, a: op.weightsA(gr, cog, k), b: bm, c: oi[gr*cog*p:], ldc: p, ep: op.groupEpilogue(gr, cog)}
				pr.run(st, gw)
			}
		}
	})
}

// channelAffine is a depthwise conv's epilogue, a pass of its own over
// out (N, C, spatial...): channel c scaled by op.scale[c] and op.bias[c]
// added when there is a scale (else the kernel added the bias), then the
// clamp.
func channelAffine(out *Tensor, op *convOp) {
	n, c := out.Shape[0], out.Shape[1]
	p := len(out.Data) / max(n*c, 1)
	for t := 0; t < n*c; t++ {
		row := out.Data[t*p : (t+1)*p]
		if op.scale != nil {
			s, b := float64(op.scale[t%c]), 0.0
			if op.bias != nil {
				b = float64(op.bias[t%c])
			}
			for j, v := range row {
				row[j] = float32(float64(v)*s + b)
			}
		}
		if op.clamp {
			for j, v := range row {
				row[j] = min(max(v, op.lo), op.hi)
			}
		}
	}
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
	linearRun(out, x, &convOp{w: w, bias: data(b)}, st)
}

// linearRun is Linear with op's tensors, the bias and clamp in the
// GEMM's write-back.
func linearRun(out, x *Tensor, op *convOp, st *Stats) {
	in := x.Shape[len(x.Shape)-1]
	o := op.w.Shape[0]
	m := len(x.Data) / in
	pr := product{m: m, n: o, k: in, c: out.Data, ldc: o,
		a: &dense{data: x.Data, ld: in, w: gemmMR},
		b: &dense{data: op.w.Data, ld: in, w: gemmNR}}
	if op.bias != nil || op.clamp {
		pr.ep = &epilogue{colBias: op.bias, clamp: op.clamp, lo: op.lo, hi: op.hi}
	}
	pr.run(st, gemmWorkers())
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
