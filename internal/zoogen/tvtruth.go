package zoogen

// tvTruth is one builder's whole-network measurement by
// testdata/torch/gen_torchvision.py on torchvision's own model
// (weights=None, eval, batch 1): the external truth a generated spec's
// top-level expect: holds, copied, never computed by cnncalc.
type tvTruth struct {
	output  []int
	params  int64
	buffers int64
	macs    int64
}

// write writes the top-level expect: block.
func (e tvTruth) write(w *Writer) {
	w.Line("expect:                 # torchvision's own model, measured by testdata/torch/gen_torchvision.py")
	w.In(func() {
		w.Line("output: %s", Ints(e.output...))
		w.Line("params: %d", e.params)
		w.Line("buffers: %d", e.buffers)
		w.Line("macs: %d", e.macs)
	})
}

// tvHead writes a spec's opening: the comment lines, name and input.
func tvHead(w *Writer, comment []string, name string, input ...int) {
	for _, c := range comment {
		w.Line("# %s", c)
	}
	w.Line("name: %s", name)
	w.Line("input: %s", Ints(input...))
}

// makeDivisible is torchvision.models._utils._make_divisible: v rounded to
// the nearest multiple of divisor (at least minValue, divisor when 0), and
// up once more when that loses over 10% of v.
func makeDivisible(v float64, divisor, minValue int) int {
	if minValue == 0 {
		minValue = divisor
	}
	n := max(minValue, int(v+float64(divisor)/2)/divisor*divisor)
	if float64(n) < 0.9*v {
		n += divisor
	}
	return n
}
