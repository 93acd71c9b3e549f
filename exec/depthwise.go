package exec

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// depthwise reports whether Conv runs a layer with the direct depthwise
// kernel: one input channel a group (any channel multiplier) and zero
// padding, where im2col would only copy each input value kk times.
func depthwise(cin int, g *ConvGeom) bool {
	return g.Groups > 1 && cin == g.Groups && g.PadMode == "zeros"
}

// convDepthwise is Conv for a depthwise layer (see depthwise): output
// channel co reads input channel co/(Cout/Cin) through its own KD x KH x KW
// kernel. It counts Cout*KD*KH*KW*P MACs an image, as the GEMM would.
//
// post, when not nil, is called with each output plane (t = image*Cout +
// channel) once it is complete, while it is in cache: the fused epilogue.
func convDepthwise(out, x, w, b *Tensor, g *ConvGeom, st *Stats, post func(t int, o []float32)) {
	n, cin, id, ih, iw := dims5(x.Shape)
	_, cout, _, _, _ := dims5(out.Shape)
	od, oh, ow := g.OutShape[0], g.OutShape[1], g.OutShape[2]
	kd, kh, kw := g.K[0], g.K[1], g.K[2]
	p, kk, isz := od*oh*ow, kd*kh*kw, id*ih*iw
	cog := cout / cin
	if st != nil {
		atomic.AddInt64(&st.MACs, int64(n)*int64(cout)*int64(kk)*int64(p))
	}
	// Per kernel column kx, the output columns whose input column lies
	// inside the image: [xlo[kx], xhi[kx]).
	xlo, xhi := make([]int, kw), make([]int, kw)
	for kx := 0; kx < kw; kx++ {
		off := kx*g.D[2] - g.PL[2]
		lo := 0
		if off < 0 {
			lo = (-off + g.S[2] - 1) / g.S[2]
		}
		hi := 0
		if iw-1-off >= 0 {
			hi = min(ow, (iw-1-off)/g.S[2]+1)
		}
		xlo[kx], xhi[kx] = lo, max(hi, lo)
	}
	plane := func(t int) { // t = image*cout + output channel
		i, co := t/cout, t%cout
		o := out.Data[t*p : (t+1)*p]
		xc := x.Data[(i*cin+co/cog)*isz : (i*cin+co/cog+1)*isz]
		wk := w.Data[co*kk : (co+1)*kk]
		var bias float32
		if b != nil {
			bias = b.Data[co]
		}
		for j := range o {
			o[j] = bias
		}
		for zo := 0; zo < od; zo++ {
			for a := 0; a < kd; a++ {
				zi := zo*g.S[0] - g.PL[0] + a*g.D[0]
				if zi < 0 || zi >= id {
					continue
				}
				for yo := 0; yo < oh; yo++ {
					orow := o[(zo*oh+yo)*ow : (zo*oh+yo+1)*ow]
					for bb := 0; bb < kh; bb++ {
						yi := yo*g.S[1] - g.PL[1] + bb*g.D[1]
						if yi < 0 || yi >= ih {
							continue
						}
						irow := xc[(zi*ih+yi)*iw : (zi*ih+yi+1)*iw]
						for kx := 0; kx < kw; kx++ {
							wv := wk[(a*kh+bb)*kw+kx]
							lo, hi := xlo[kx], xhi[kx]
							if lo >= hi {
								continue
							}
							xi := lo*g.S[2] + kx*g.D[2] - g.PL[2]
							if g.S[2] == 1 {
								axpy(orow[lo:hi], irow[xi:xi+hi-lo], wv)
								continue
							}
							for xo := lo; xo < hi; xo++ {
								orow[xo] += wv * irow[xi]
								xi += g.S[2]
							}
						}
					}
				}
			}
		}
		if post != nil {
			post(t, o)
		}
	}
	planes := n * cout
	workers := min(planes, runtime.GOMAXPROCS(0))
	if workers <= 1 || int64(planes)*int64(kk)*int64(p) < gemmMinPar {
		for t := 0; t < planes; t++ {
			plane(t)
		}
		return
	}
	var wg sync.WaitGroup
	for wi := 0; wi < workers; wi++ {
		lo, hi := wi*planes/workers, (wi+1)*planes/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := lo; t < hi; t++ {
				plane(t)
			}
		}()
	}
	wg.Wait()
}
