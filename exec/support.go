package exec

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// The support sweep: the adjoint receptive-field probe. Where a forward
// probe sends one impulse image per input position through the network,
// the sweep starts at the output units to be measured and walks the
// network backward, marking at each node the positions its kernel reads
// for every marked output position (the index maps the kernels execute:
// a conv's taps with its padding mode's reflect, replicate or wrap, a
// pool's window, a pad's shift, a piece's offset, a permute's axes). It
// is the vector-Jacobian product of a network whose every weight is 1 and
// whose every value is positive, on booleans: what reaches the input is the
// set of input positions that the unit can see. Each position holds a word
// of bits, one bit per seeded unit, so that one sweep measures as many
// units as the word has bits.

// Unit is an output unit of a node: its coordinates in the node's output
// tensor (every axis, batch and channel included).
type Unit struct {
	Node  int
	Coord []int
}

// Support is the set of input positions that reach one unit, projected
// on each axis of the input tensor: Lo and Hi are the first and last
// coordinate reached, Gap the largest distance between two consecutive
// coordinates reached (1 for an unbroken span, 0 when one coordinate is
// reached); Lo is -1 when no input position reaches the unit. Padded is
// true on an axis where, on the way back, one of the positions the unit
// depends on read a tap in some node's padding (zeros, reflect,
// replicate or circular: a pooling window or conv taps past the edge of
// its input, ceil mode's last window): its field there is clipped or
// folded, not the interior units' field.
type Support struct {
	Lo, Hi, Gap []int
	Padded      []bool
}

// SupportStats counts a sweep's work: Sweeps backward passes, Taps marks
// of one position's word into another.
type SupportStats struct {
	Sweeps, Taps int64
}

// supportWord is a word of seed bits per position.
type supportWord interface {
	~uint8 | ~uint16 | ~uint32 | ~uint64
}

// SupportWords are the word sizes, in bytes, Supports can use.
var SupportWords = []int{8, 4, 2, 1}

// SupportMemory estimates the peak bytes of Supports with words of the
// given size, by walking the sweep over the shapes alone: a node's marks
// are made when its last reader's step comes (or at its own step, for a
// seeded unit) and freed after its own; a node the probe passes through
// unchanged hands its marks to its input when that has none. Plus the
// input's marks and their projections on each axis. At most
// math.MaxInt64.
func (p *Plan) SupportMemory(word int) int64 {
	var z sizes
	in := toInts(p.Net.Input)
	w := int64(word)
	base := z.mul(w, z.numel(in))
	for _, n := range in {
		base = z.add(base, z.mul(w, int64(n)))
	}
	held := make([]int64, len(p.Net.Nodes)) // bytes of marks node i holds
	var live, peak int64
	for i := len(p.Net.Nodes) - 1; i >= 0; i-- {
		if held[i] == 0 {
			held[i] = z.mul(w, z.numel(p.Shapes[i])) // a seed
			live = z.add(live, held[i])
		}
		n := &p.Net.Nodes[i]
		for _, f := range n.From {
			if f >= 0 && held[f] == 0 {
				if p.supportAlias(i) {
					held[f], held[i] = held[i], 0 // handed on
					continue
				}
				held[f] = z.mul(w, z.numel(p.Shapes[f]))
				live = z.add(live, held[f])
			}
		}
		peak = max(peak, live)
		if !z.over {
			live -= held[i]
		}
		held[i] = -1 // done
	}
	total := z.add(base, peak)
	if z.over {
		return math.MaxInt64
	}
	return total
}

// supportAlias reports whether node i passes its one input through
// unchanged (the probe's identity): its marks are its input's.
func (p *Plan) supportAlias(i int) bool {
	n := &p.Net.Nodes[i]
	r := supportRules[n.Layer.Type]
	return r.alias && len(n.From) == 1
}

// SupportAvailable reports whether every node of the plan has a support
// rule, and names the first that has not.
func (p *Plan) SupportAvailable() error {
	for i := range p.Net.Nodes {
		n := &p.Net.Nodes[i]
		if r := supportRules[n.Layer.Type]; r.maps == nil && !r.alias {
			return fmt.Errorf("node %d (%s): no support rule for %s", i+1, n.Name, n.Layer.Type)
		}
	}
	return nil
}

// Supports runs support sweeps with words of word bytes (one of
// SupportWords) and returns the support of every unit, in order.
// Units are taken in node order, as many per sweep as a word has bits;
// each sweep walks back from its last unit's node only.
func (p *Plan) Supports(units []Unit, word int) ([]Support, SupportStats, error) {
	if err := p.SupportAvailable(); err != nil {
		return nil, SupportStats{}, err
	}
	for _, u := range units {
		if u.Node < 0 || u.Node >= len(p.Net.Nodes) || len(u.Coord) != len(p.Shapes[u.Node]) {
			return nil, SupportStats{}, fmt.Errorf("unit %v does not fit node %d", u.Coord, u.Node+1)
		}
		for a, c := range u.Coord {
			if c < 0 || c >= p.Shapes[u.Node][a] {
				return nil, SupportStats{}, fmt.Errorf("unit %v outside node %d's output %v", u.Coord, u.Node+1, p.Shapes[u.Node])
			}
		}
	}
	switch word {
	case 8:
		return supports[uint64](p, units)
	case 4:
		return supports[uint32](p, units)
	case 2:
		return supports[uint16](p, units)
	case 1:
		return supports[uint8](p, units)
	}
	return nil, SupportStats{}, fmt.Errorf("word of %d bytes", word)
}

func supports[W supportWord](p *Plan, units []Unit) ([]Support, SupportStats, error) {
	var st SupportStats
	out := make([]Support, len(units))
	order := make([]int, len(units))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return units[a].Node - units[b].Node })
	ms, err := p.supportMaps()
	if err != nil {
		return nil, st, err
	}
	var w W
	nbits := bits.OnesCount64(uint64(^w))
	in := toInts(p.Net.Input)
	inMask := make([]W, numel(in))
	proj := make([][]W, len(in))
	for a, n := range in {
		proj[a] = make([]W, n)
	}
	padded := make([]W, len(in))
	for start := 0; start < len(order); start += nbits {
		batch := order[start:min(start+nbits, len(order))]
		clear(inMask)
		clear(padded)
		sweep(p, ms, units, batch, inMask, padded, &st)
		st.Sweeps++
		project(inMask, in, proj)
		for b, ui := range batch {
			out[ui] = readSupport(proj, padded, W(1)<<b)
		}
	}
	return out, st, nil
}

// nodeMaps are a node's index maps per input (nil for the identity) and,
// for each axis of its output, the network input's axis it carries (-1
// for none).
type nodeMaps struct {
	maps   [][]axisMap
	origin []int
}

// supportMaps derives every node's index maps by its kind's rule, and
// which input axis each output axis carries.
func (p *Plan) supportMaps() ([]nodeMaps, error) {
	in := toInts(p.Net.Input)
	inOrigin := make([]int, len(in))
	for a := range inOrigin {
		inOrigin[a] = a
	}
	ms := make([]nodeMaps, len(p.Net.Nodes))
	originOf := func(f int) []int {
		if f < 0 {
			return inOrigin
		}
		return ms[f].origin
	}
	for i := range p.Net.Nodes {
		n := &p.Net.Nodes[i]
		if p.supportAlias(i) {
			ms[i].origin = originOf(n.From[0])
			continue
		}
		maps, err := supportRules[n.Layer.Type].maps(&n.Layer, p.Inputs(i), p.Shapes[i], p.geom[i])
		if err != nil {
			return nil, fmt.Errorf("node %d (%s): %w", i+1, n.Name, err)
		}
		o := make([]int, len(p.Shapes[i]))
		for a := range o {
			o[a] = -1
			if src := maps[0][a].Src; src >= 0 {
				o[a] = originOf(n.From[0])[src]
			}
		}
		ms[i] = nodeMaps{maps: maps, origin: o}
	}
	return ms, nil
}

// sweep walks back from the last of the batch's units, marking bit b for
// batch[b]'s unit, and leaves the marks that reach the input in inMask and,
// per input axis, the bits of the units that read padding on it in padded.
func sweep[W supportWord](p *Plan, ms []nodeMaps, units []Unit, batch []int, inMask, padded []W, st *SupportStats) {
	last := units[batch[len(batch)-1]].Node
	marks := make([][]W, last+1)
	seeds := make(map[int][]int) // node -> bits seeded there
	for b, ui := range batch {
		seeds[units[ui].Node] = append(seeds[units[ui].Node], b)
	}
	var pads []W
	for i := last; i >= 0; i-- {
		if bs, ok := seeds[i]; ok {
			if marks[i] == nil {
				marks[i] = make([]W, numel(p.Shapes[i]))
			}
			for _, b := range bs {
				u := units[batch[b]]
				marks[i][unitIndex(u.Coord, p.Shapes[i])] |= W(1) << b
			}
		}
		g := marks[i]
		if g == nil {
			continue
		}
		marks[i] = nil
		n := &p.Net.Nodes[i]
		dst := func(k int) []W {
			f := n.From[k]
			if f < 0 {
				return inMask
			}
			if marks[f] == nil {
				marks[f] = make([]W, numel(p.Shapes[f]))
			}
			return marks[f]
		}
		if p.supportAlias(i) {
			f := n.From[0]
			if f >= 0 && marks[f] == nil {
				marks[f] = g // passed through unchanged
				continue
			}
			d := dst(0)
			for j, v := range g {
				d[j] |= v
			}
			st.Taps += int64(len(g))
			continue
		}
		ins := p.Inputs(i)
		pads = slices.Grow(pads[:0], len(p.Shapes[i]))[:len(p.Shapes[i])]
		clear(pads)
		for k, m := range ms[i].maps {
			if m != nil {
				st.Taps += scatter(g, p.Shapes[i], dst(k), ins[k], m, pads)
			}
		}
		for a, v := range pads {
			if o := ms[i].origin[a]; o >= 0 {
				padded[o] |= v
			}
		}
	}
}

func unitIndex(coord, shape []int) int {
	idx := 0
	for a, c := range coord {
		idx = idx*shape[a] + c
	}
	return idx
}

// axisMap is the index map of one output axis: output coordinate o reads
// coordinates o*S - PL + t*D (t < K) of input axis Src, of size N, through
// the padding mode (zeros: a coordinate outside the input reads nothing).
type axisMap struct {
	Src, N, K, S, D, PL int
	Mode                string
}

// taps appends the input coordinates output coordinate o reads, times
// stride (their offset in the input's data), and reports whether a tap
// lies in the padding.
func (m *axisMap) taps(o, stride int, buf []int) ([]int, bool) {
	buf = buf[:0]
	wrap := m.Mode != "zeros" && m.Mode != ""
	padded := false
	for t := 0; t < m.K; t++ {
		i := o*m.S - m.PL + t*m.D
		if i < 0 || i >= m.N {
			padded = true
			if !wrap {
				continue
			}
			i = padIndex(i, m.N, m.Mode)
		}
		buf = append(buf, i*stride)
	}
	return buf, padded
}

// scatter ORs every marked output position's word into the input
// positions it reads, ORs it into padded[a] when output axis a reads
// padding for that position, and returns the marks made.
func scatter[W supportWord](g []W, outShape []int, d []W, inShape []int, maps []axisMap, padded []W) int64 {
	r := len(outShape)
	inStride := make([]int, len(inShape))
	s := 1
	for a := len(inShape) - 1; a >= 0; a-- {
		inStride[a] = s
		s *= inShape[a]
	}
	stride := make([]int, r)
	for a := range maps {
		if src := maps[a].Src; src >= 0 {
			stride[a] = inStride[src]
		}
	}
	coord := make([]int, r)
	offs := make([][]int, r)
	pads := make([]bool, r)
	stale := 0 // axes from stale on have moved since offs were read
	var active []int
	var n int64
	for _, v := range g {
		if v != 0 {
			for a := stale; a < r; a++ {
				offs[a], pads[a] = maps[a].taps(coord[a], stride[a], offs[a])
			}
			stale = r
			for a, p := range pads {
				if p {
					padded[a] |= v
				}
			}
			base, empty := 0, false
			active = active[:0]
			for a := 0; a < r; a++ {
				switch len(offs[a]) {
				case 0:
					empty = true
				case 1:
					base += offs[a][0]
				default:
					active = append(active, a)
				}
			}
			if !empty {
				n += orTaps(d, v, base, offs, active)
			}
		}
		for a := r - 1; a >= 0; a-- {
			stale = min(stale, a)
			if coord[a]++; coord[a] < outShape[a] {
				break
			}
			coord[a] = 0
		}
	}
	return n
}

// orTaps ORs v into d at base plus every combination of the active axes'
// offsets, and returns how many.
func orTaps[W supportWord](d []W, v W, base int, offs [][]int, active []int) int64 {
	switch len(active) {
	case 0:
		d[base] |= v
		return 1
	case 1:
		for _, o := range offs[active[0]] {
			d[base+o] |= v
		}
		return int64(len(offs[active[0]]))
	case 2:
		inner := offs[active[1]]
		for _, o := range offs[active[0]] {
			row := d[base+o:]
			for _, p := range inner {
				row[p] |= v
			}
		}
		return int64(len(offs[active[0]]) * len(inner))
	}
	var n int64
	for _, o := range offs[active[0]] {
		n += orTaps(d, v, base+o, offs, active[1:])
	}
	return n
}

// project ORs the input's marks onto each axis.
func project[W supportWord](mask []W, shape []int, proj [][]W) {
	for _, p := range proj {
		clear(p)
	}
	coord := make([]int, len(shape))
	for _, v := range mask {
		if v != 0 {
			for a, c := range coord {
				proj[a][c] |= v
			}
		}
		for a := len(shape) - 1; a >= 0; a-- {
			if coord[a]++; coord[a] < shape[a] {
				break
			}
			coord[a] = 0
		}
	}
}

// readSupport reads one bit's support off the projections.
func readSupport[W supportWord](proj [][]W, padded []W, bit W) Support {
	s := Support{Lo: make([]int, len(proj)), Hi: make([]int, len(proj)), Gap: make([]int, len(proj)), Padded: make([]bool, len(proj))}
	for a, v := range padded {
		s.Padded[a] = v&bit != 0
	}
	for a, p := range proj {
		lo, hi, gap, prev := -1, -1, 0, -1
		for c, v := range p {
			if v&bit == 0 {
				continue
			}
			if lo < 0 {
				lo = c
			}
			if prev >= 0 {
				gap = max(gap, c-prev)
			}
			hi, prev = c, c
		}
		s.Lo[a], s.Hi[a], s.Gap[a] = lo, hi, gap
	}
	return s
}
