package calc

import (
	"fmt"
)

// MemoryOptions choose the training setup that Memory accounts for.
type MemoryOptions struct {
	// DType is the model's dtype (model.to(dtype)): parameters, buffers,
	// gradients, optimizer state and activations all have it, but for
	// int64 pooling indices and num_batches_tracked.
	DType     DType
	Optimizer Optimizer
}

// SavedBytes is one storage a layer keeps for backward.
type SavedBytes struct {
	What  string
	Bytes int64 // the whole storage
	DType DType
	// Origin is the node whose output first had this storage (resolving
	// views and in-place results), Input (-1) for the network input, or
	// NewOrigin for memory the layer allocated to keep.
	Origin int
}

// NewOrigin is the Origin of a saved storage no node output has.
const NewOrigin = -2

// LayerMemory is one node's memory.
type LayerMemory struct {
	// Grad reports whether the output requires grad (the layer has a
	// grad_fn); a layer without one saves nothing.
	Grad bool
	// View reports that the output shares input 0's storage (a view, or an
	// in-place result); OutputBytes is then 0.
	View bool
	// Saved lists the distinct storages the layer keeps, largest first.
	Saved []SavedBytes
	// SavedBytes sums Saved; NewSavedBytes counts only the storages no
	// earlier layer keeps (their sum over the layers is Memory.SavedBytes).
	SavedBytes, NewSavedBytes int64
	// OutputBytes is the memory the output allocates.
	OutputBytes int64
	// Workspace is the im2col (col2im) buffer cnncalc's exec needs for a
	// conv, in the model's dtype; PyTorch's oneDNN kernels choose their
	// own. It is in no peak.
	Workspace int64
	// Live is the memory of an inference pass just after the layer's
	// output is allocated, its inputs still alive (above the parameters,
	// buffers and input); Memory.ForwardPeak is the largest.
	Live int64
}

// Memory is the memory of a network in a training step and in inference.
type Memory struct {
	Options MemoryOptions
	Layers  []LayerMemory
	// ParamBytes, BufferBytes (running statistics and the int64
	// num_batches_tracked), GradBytes (one gradient per trainable
	// parameter: none for a Frozen layer), OptimizerBytes (momentum: one
	// copy of the trainable parameters; Adam/AdamW: two, and a 4-byte step
	// per trainable parameter tensor) and
	// InputBytes (the batch).
	ParamBytes, BufferBytes, GradBytes, OptimizerBytes, InputBytes int64
	// SavedBytes is every distinct storage autograd keeps at the end of
	// the forward pass.
	SavedBytes int64
	// StepPeak is the highest memory allocated during forward and
	// backward above the parameters, buffers, optimizer state and input:
	// outputs alive until their last use, saved tensors until their
	// layer's backward, activation gradients until consumed, parameter
	// gradients from their layer's backward on (set to None before the
	// step, as zero_grad(set_to_none=True)).
	StepPeak int64
	// TrainPeak = ParamBytes + BufferBytes + OptimizerBytes + InputBytes + StepPeak.
	TrainPeak int64
	// ForwardPeak is the highest memory of an inference pass (no_grad,
	// eval mode) above the parameters, buffers and input: each output
	// alive from its layer to its last use, views and in-place results
	// allocating nothing, as exec plans a run.
	ForwardPeak int64
	// EvalPeak = ParamBytes + BufferBytes + InputBytes + ForwardPeak.
	EvalPeak int64
	// Workspace is the largest layer Workspace.
	Workspace int64
}

// memAcc sums byte counts and remembers an overflow.
type memAcc struct{ err error }

func (a *memAcc) mul(x, y int64) int64 {
	v, err := mul(x, y)
	if err != nil && a.err == nil {
		a.err = err
	}
	return v
}

func (a *memAcc) add(x, y int64) int64 {
	v, err := add(x, y)
	if err != nil && a.err == nil {
		a.err = err
	}
	return v
}

// MemoryOf accounts for the memory of net, analysed as res without
// errors, in a training step (PyTorch 1.13 autograd on CPU: what each
// kind's Saved rule keeps) and in an inference pass.
func MemoryOf(net *Network, res *Result, opt MemoryOptions) (*Memory, error) {
	n := len(net.Nodes)
	if len(res.Layers) != n {
		return nil, fmt.Errorf("memory: %d results for %d nodes", len(res.Layers), n)
	}
	m := &Memory{Options: opt, Layers: make([]LayerMemory, n)}
	var a memAcc
	ds := opt.DType.Size()
	m.InputBytes = a.mul(elements(net.Input), ds)

	// Storage 0 is the network input, storage i+1 node i's output when it
	// allocates one, storages from n+1 on the new tensors layers keep.
	storBytes := []int64{m.InputBytes}
	storOrigin := []int{Input}
	for i := range n {
		storBytes = append(storBytes, 0)
		storOrigin = append(storOrigin, i)
	}
	outStor := make([]int, n)    // the storage of node i's output
	outBytes := make([]int64, n) // the bytes of node i's output tensor
	grad := make([]bool, n)
	strided := make([]bool, n)
	savings := make([]Saving, n)
	savedStor := make([][]int, n) // distinct storages node i keeps
	seen := map[int]bool{}
	var tensors int64 // parameter tensors, for Adam's step
	stor := func(f int) int {
		if f == Input {
			return 0
		}
		return outStor[f]
	}
	for i := range net.Nodes {
		node := &net.Nodes[i]
		lr := &res.Layers[i]
		info := node.Type.Info()
		if info.Saved == nil {
			return nil, fmt.Errorf("memory: %s has no saved-tensor rule", node.Type)
		}
		lm := &m.Layers[i]
		c := &SaveCtx{}
		for _, f := range node.From {
			g, s := false, false
			if f != Input {
				g, s = grad[f], strided[f]
			}
			c.Grad = append(c.Grad, g)
			c.Strided = append(c.Strided, s)
		}
		sv := info.Saved(&node.Layer, lr, c)
		savings[i] = sv
		trainable := lr.Params > 0 && !node.Frozen
		grad[i] = trainable || slicesAny(c.Grad)
		lm.Grad = grad[i]
		lm.View = sv.View
		strided[i] = sv.Strided || (sv.Elementwise && c.Strided[0])
		outBytes[i] = a.mul(elements(lr.Output), ds)
		if sv.View {
			outStor[i] = stor(node.From[0])
		} else {
			outStor[i] = i + 1
			storBytes[i+1] = outBytes[i]
			lm.OutputBytes = outBytes[i]
		}
		m.ParamBytes = a.add(m.ParamBytes, a.mul(lr.Params, ds))
		m.BufferBytes = a.add(m.BufferBytes, a.mul(lr.Buffers, ds))
		if lr.Buffers > 0 {
			m.BufferBytes = a.add(m.BufferBytes, Int64.Size()) // num_batches_tracked
		}
		if trainable {
			m.GradBytes = a.add(m.GradBytes, a.mul(lr.Params, ds))
			tensors += paramTensors(&node.Layer, lr)
		}
		lm.Workspace = a.mul(convColumns(&node.Layer, lr), ds)
		m.Workspace = max(m.Workspace, lm.Workspace)
		if !grad[i] {
			continue
		}
		mine := map[int]bool{}
		for _, t := range sv.Tensors {
			s := 0
			switch t.Storage {
			case FromInput:
				s = stor(node.From[t.Input])
			case FromOutput:
				s = outStor[i]
			default:
				dt := opt.DType
				if t.Exact != nil {
					dt = *t.Exact
				}
				s = len(storBytes)
				storBytes = append(storBytes, a.mul(t.Elements, dt.Size()))
				storOrigin = append(storOrigin, NewOrigin)
				lm.Saved = append(lm.Saved, SavedBytes{What: t.What, Bytes: storBytes[s], DType: dt, Origin: NewOrigin})
				savedStor[i] = append(savedStor[i], s)
				mine[s] = true
				continue
			}
			if mine[s] {
				continue
			}
			mine[s] = true
			savedStor[i] = append(savedStor[i], s)
			lm.Saved = append(lm.Saved, SavedBytes{What: t.What, Bytes: storBytes[s], DType: opt.DType, Origin: storOrigin[s]})
		}
		for _, s := range savedStor[i] {
			lm.SavedBytes = a.add(lm.SavedBytes, storBytes[s])
			if !seen[s] {
				seen[s] = true
				lm.NewSavedBytes = a.add(lm.NewSavedBytes, storBytes[s])
				m.SavedBytes = a.add(m.SavedBytes, storBytes[s])
			}
		}
		sortSaved(lm.Saved)
	}
	m.OptimizerBytes = a.mul(m.GradBytes, opt.Optimizer.copies())
	if opt.Optimizer == OptAdam || opt.Optimizer == OptAdamW {
		m.OptimizerBytes = a.add(m.OptimizerBytes, a.mul(tensors, Float32.Size()))
	}
	if a.err != nil {
		return nil, fmt.Errorf("memory: byte counts overflow int64")
	}
	p := &stepPlan{net: net, res: res, ds: ds, storBytes: storBytes, outStor: outStor, outBytes: outBytes,
		grad: grad, savings: savings, savedStor: savedStor, layers: m.Layers}
	m.StepPeak = p.train()
	m.ForwardPeak = p.infer()
	m.TrainPeak = a.add(a.add(a.add(m.ParamBytes, m.BufferBytes), a.add(m.OptimizerBytes, m.InputBytes)), m.StepPeak)
	m.EvalPeak = a.add(a.add(m.ParamBytes, m.BufferBytes), a.add(m.InputBytes, m.ForwardPeak))
	if a.err != nil || p.acc.err != nil {
		return nil, fmt.Errorf("memory: byte counts overflow int64")
	}
	return m, nil
}

func slicesAny(v []bool) bool {
	for _, b := range v {
		if b {
			return true
		}
	}
	return false
}

// sortSaved orders largest first, then by name, for stable reports.
func sortSaved(s []SavedBytes) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && (s[j].Bytes > s[j-1].Bytes || s[j].Bytes == s[j-1].Bytes && s[j].What < s[j-1].What); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// paramTensors is the number of parameter tensors of a layer: a weight,
// and a bias where the parameter count has room for one beyond the weight.
func paramTensors(l *Layer, lr *LayerResult) int64 {
	if lr.Params == 0 {
		return 0
	}
	switch l.Type.Info().Name {
	case "prelu", "layerscale":
		return 1
	case "layernorm":
		if !l.LayerNormBias {
			return 1
		}
	case "linear":
		if !l.Bias {
			return 1
		}
	}
	if l.Type.RankOf(Conv1d) > 0 || l.Type.RankOf(ConvTranspose1d) > 0 {
		if !l.Bias {
			return 1
		}
	}
	return 2
}

// convColumns is the im2col (col2im) buffer of exec's conv kernel, in
// elements: one group of one sample at a time.
func convColumns(l *Layer, lr *LayerResult) int64 {
	tr := l.Type.RankOf(ConvTranspose1d) > 0
	if l.Type.RankOf(Conv1d) == 0 && !tr {
		return 0
	}
	x, y := lr.Inputs[0], lr.Output
	g := max(l.Groups, 1)
	k, _ := prod(l.kernelAll(len(x) - 2)...)
	if tr {
		sp, _ := prod(x[2:]...)
		n, _ := prod(y[1]/g, k, sp)
		return n
	}
	sp, _ := prod(y[2:]...)
	n, _ := prod(x[1]/g, k, sp)
	return n
}

// stepPlan replays a training step and an inference pass, storage by
// storage, counting what is allocated.
type stepPlan struct {
	net       *Network
	res       *Result
	ds        int64
	storBytes []int64
	outStor   []int
	outBytes  []int64
	grad      []bool
	savings   []Saving
	savedStor [][]int
	layers    []LayerMemory
	acc       memAcc

	refs       []int
	live, peak int64
	live0      []int64 // when set, live after each node's output (inference)
}

func (p *stepPlan) alloc(s int, b int64) {
	p.refs[s]++
	if p.refs[s] == 1 {
		p.live = p.acc.add(p.live, b)
		p.peak = max(p.peak, p.live)
	}
}

func (p *stepPlan) hold(s int) { p.refs[s]++ }

func (p *stepPlan) release(s int, b int64) {
	p.refs[s]--
	if p.refs[s] == 0 {
		p.live -= b
	}
}

// uses counts the distinct later nodes that read each node's output; the
// last node's output is held by the caller.
func (p *stepPlan) uses() []int {
	n := len(p.net.Nodes)
	u := make([]int, n)
	for _, node := range p.net.Nodes {
		for k, f := range node.From {
			if f != Input && !firstOf(node.From, k) {
				continue
			}
			if f != Input {
				u[f]++
			}
		}
	}
	if n > 0 {
		u[n-1]++
	}
	return u
}

// firstOf reports whether From[k] is the first occurrence of its value.
func firstOf(from []int, k int) bool {
	for j := range k {
		if from[j] == from[k] {
			return false
		}
	}
	return true
}

// forward runs the nodes in order: outputs are allocated (views are not),
// new saved tensors too when training, and each output is released after
// its last reader. It returns the pending uses (the network output's).
func (p *stepPlan) forward(train bool) []int {
	u := p.uses()
	defer func() {
		// an output nothing reads (a dead branch) lives to the end of the pass
		for i, n := range p.uses() {
			if n == 0 {
				p.release(p.outStor[i], p.storBytes[p.outStor[i]])
			}
		}
	}()
	for i, node := range p.net.Nodes {
		sv := p.savings[i]
		view := sv.View
		if !train && !view {
			// dropout and stochastic depth are the identity in eval mode
			view = evalIdentity(&node.Layer)
		}
		s := i + 1
		if view {
			s = p.storOf(node.From[0])
		}
		p.outStor[i] = s
		if view {
			p.hold(s)
		} else {
			p.alloc(s, p.storBytes[s])
		}
		if p.live0 != nil {
			p.live0[i] = p.live
		}
		if train && p.grad[i] {
			for _, ss := range p.savedStor[i] {
				if ss > len(p.net.Nodes) {
					p.alloc(ss, p.storBytes[ss])
				} else {
					p.hold(ss)
				}
			}
		}
		for k, f := range node.From {
			if f == Input || !firstOf(node.From, k) {
				continue
			}
			u[f]--
			if u[f] == 0 {
				p.release(p.outStor[f], p.storBytes[p.outStor[f]])
			}
		}
	}
	return u
}

func (p *stepPlan) storOf(f int) int {
	if f == Input {
		return 0
	}
	return p.outStor[f]
}

// evalIdentity: kinds that return their input in eval mode.
func evalIdentity(l *Layer) bool {
	return l.Type.RankOf(Dropout1d) > 0 || l.Type == Dropout || l.Type == StochasticDepth
}

func (p *stepPlan) reset() {
	p.refs = make([]int, len(p.storBytes))
	p.refs[0] = 1 // the input, the caller's
	p.live, p.peak = 0, 0
}

// infer is the inference peak.
func (p *stepPlan) infer() int64 {
	saved := append([]int(nil), p.outStor...)
	p.reset()
	p.live0 = make([]int64, len(p.net.Nodes))
	p.forward(false)
	live := p.live0
	p.live0 = nil
	for i, v := range live {
		p.layers[i].Live = v
	}
	copy(p.outStor, saved)
	return p.peak
}

// train is the peak of forward then backward. Backward goes through the
// nodes in reverse: a node's output gradient, with its parameters'
// gradients and its inputs' (new ones, or the output gradient itself for
// a kind that passes it on), are alive together with what is still
// saved; then the output gradient and the node's saved tensors are
// released, and an input gradient that meets an earlier one is added
// into it.
func (p *stepPlan) train() int64 {
	n := len(p.net.Nodes)
	saved := append([]int(nil), p.outStor...)
	defer copy(p.outStor, saved)
	p.reset()
	p.forward(true)
	if n == 0 {
		return p.peak
	}
	// gradient buffers: one id per allocation, refcounted like storages
	type gbuf struct {
		bytes int64
		refs  int
	}
	var bufs []*gbuf
	gradOf := make([]*gbuf, n)
	newBuf := func(b int64) *gbuf {
		g := &gbuf{bytes: b, refs: 1}
		bufs = append(bufs, g)
		p.live = p.acc.add(p.live, b)
		p.peak = max(p.peak, p.live)
		return g
	}
	drop := func(g *gbuf) {
		g.refs--
		if g.refs == 0 {
			p.live -= g.bytes
		}
	}
	gradOf[n-1] = newBuf(p.outBytes[n-1])
	for i := n - 1; i >= 0; i-- {
		g := gradOf[i]
		if g == nil || !p.grad[i] {
			continue
		}
		node := &p.net.Nodes[i]
		lr := &p.res.Layers[i]
		if lr.Params > 0 && !node.Frozen {
			p.live = p.acc.add(p.live, p.acc.mul(lr.Params, p.ds))
			p.peak = max(p.peak, p.live)
		}
		type inc struct {
			f int
			b *gbuf
		}
		var incoming []inc
		pass := passesGrad(&node.Layer, p.savings[i])
		for k, f := range node.From {
			if f == Input || !p.grad[f] || !firstOf(node.From, k) {
				continue
			}
			if pass {
				g.refs++
				incoming = append(incoming, inc{f, g})
			} else {
				incoming = append(incoming, inc{f, newBuf(p.outBytes[f])})
			}
		}
		drop(g)
		for _, s := range p.savedStor[i] {
			p.release(s, p.storBytes[s])
		}
		for _, in := range incoming {
			if gradOf[in.f] == nil {
				gradOf[in.f] = in.b
				continue
			}
			drop(in.b) // added into the earlier gradient
		}
	}
	return p.peak
}

// passesGrad: kinds whose backward hands the output gradient (or views of
// it) to their inputs without computing new tensors: add, concat, and the
// views that are not in-place ops.
func passesGrad(l *Layer, sv Saving) bool {
	switch l.Type {
	case Add, Concat:
		return true
	case Chunk, Split:
		return false // the input gradient is a zero-filled tensor the piece is copied into
	}
	return sv.View && !l.Inplace
}

// FitBatch is the largest batch from 1 to max whose peak(batch) is at
// most budget, found by doubling then bisection (peaks grow with the
// batch); 0 when batch 1 does not fit. peak returns an error for a batch
// it cannot account for (an overflow), which counts as not fitting.
func FitBatch(budget, max int64, peak func(batch int64) (int64, error)) int64 {
	fits := func(b int64) bool {
		p, err := peak(b)
		return err == nil && p <= budget
	}
	if max < 1 || !fits(1) {
		return 0
	}
	lo, hi := int64(1), int64(2) // fits(lo); hi is the first batch tried above it
	for hi <= max && fits(hi) {
		lo, hi = hi, hi*2
	}
	hi = min(hi, max+1) // !fits(hi) or hi beyond max
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if fits(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}
