package spec

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"runtime"
	"strings"
	"testing"
)

// These tests feed Parse hostile files and check that each ends in a clear
// error after bounded work: YAML nodes walked, items expanded, repeat turns,
// layers added and bytes allocated, counted by parse. They assert no time:
// the clock depends on the machine's load; BenchmarkHostile times them.

// limits is the most work a hostile input may cause; a field left out is 0.
type limits struct {
	visits   int // YAML nodes walked, aliases followed included
	expanded int // items expanded
	turns    int // repeat iterations
	added    int // calc nodes added
	mb       int // MB allocated by Parse and Evaluate
	// stop: the walk must end at a cap (maxVisits, MaxLayers, MaxDepth,
	// maxErrors or the repeat cap) rather than run out of input.
	stop bool
}

// cost is the work of one Parse, and Evaluate when Parse succeeds.
type cost struct {
	work
	bytes uint64 // allocated on the heap
}

// measure parses data and, if it parses, analyzes it, counting the work.
func measure(data []byte) (*Spec, cost, error) {
	var c cost
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s, err := parse("hostile.yaml", data, &c.work)
	if err == nil {
		_, err = s.Evaluate(0, nil)
	}
	runtime.ReadMemStats(&after)
	c.bytes = after.TotalAlloc - before.TotalAlloc
	return s, c, err
}

// checkWork fails t when c exceeds lim.
func checkWork(t *testing.T, data []byte, c cost, lim limits) {
	t.Helper()
	for _, f := range []struct {
		what     string
		got, max int
	}{
		{"YAML nodes walked", c.visits, lim.visits},
		{"items expanded", c.expanded, lim.expanded},
		{"repeat turns", c.turns, lim.turns},
		{"layers added", c.added, lim.added},
	} {
		if f.got > f.max {
			t.Errorf("%s: %d, above %d", f.what, f.got, f.max)
		}
	}
	if c.aliases > c.visits {
		t.Errorf("%d aliases followed in %d walks", c.aliases, c.visits)
	}
	if max := uint64(lim.mb) << 20; c.bytes > max {
		t.Errorf("allocated %d bytes, above %d MB", c.bytes, lim.mb)
	}
	if c.stopped != lim.stop {
		t.Errorf("walk stopped at a cap: %v, want %v", c.stopped, lim.stop)
	}
	// A file above MaxFileSize is refused before the decoder reads it.
	if len(data) > MaxFileSize && c.read != 0 {
		t.Errorf("read %d bytes of a file above MaxFileSize", c.read)
	}
	if c.read > len(data) {
		t.Errorf("read %d bytes of %d", c.read, len(data))
	}
}

// hostile is a hostile input and what must come of it.
type hostile struct {
	name string
	data func() []byte
	lim  limits
	// want are strings the error text must hold (the cap or limit hit).
	want []string
	// pos, if set, is "line:col" of the first error.
	pos string
	// valid: the input must parse, without error.
	valid bool
	// check, if set, makes further checks on the errors.
	check func(t *testing.T, l ErrorList)
}

func text(s string) func() []byte { return func() []byte { return []byte(s) } }

// run parses c's input, which must fail (in Parse or Evaluate) with an
// ErrorList whose text holds every string of c.want (or, if c.valid, parse),
// within c.lim.
func (c hostile) run(t *testing.T) {
	t.Helper()
	data := c.data()
	s, work, err := measure(data)
	t.Logf("%+v, %d bytes allocated", work.work, work.bytes)
	checkWork(t, data, work, c.lim)
	if c.valid {
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error (%d nodes)", len(s.Net.Nodes))
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error is %T, want ErrorList: %v", err, err)
	}
	msg := err.Error()
	if strings.Contains(msg, "internal error") {
		t.Fatalf("panic: %s", msg)
	}
	for _, w := range c.want {
		if !strings.Contains(msg, w) {
			t.Errorf("error lacks %q:\n%s", w, msg)
		}
	}
	if got := fmt.Sprintf("%d:%d", list[0].Line, list[0].Col); c.pos != "" && got != c.pos {
		t.Errorf("error at %s, want %s", got, c.pos)
	}
	if c.check != nil {
		c.check(t, list)
	}
}

func runHostile(t *testing.T, cases []hostile) {
	for _, c := range cases {
		t.Run(c.name, c.run)
	}
}

// firstLine checks the line of the first error.
func firstLine(line int) func(*testing.T, ErrorList) {
	return func(t *testing.T, l ErrorList) {
		if l[0].Line != line {
			t.Errorf("error on line %d, want %d", l[0].Line, line)
		}
	}
}

// nest returns open repeated n times, then mid, then close repeated n times.
func nest(open, mid, close string, n int) string {
	return strings.Repeat(open, n) + mid + strings.Repeat(close, n)
}

func blockResiduals(n int) []byte {
	var b strings.Builder
	b.WriteString("input: [3, 8, 8]\nlayers:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%s- residual:\n", strings.Repeat("  ", 2*i+1))
	}
	fmt.Fprintf(&b, "%s- relu\n", strings.Repeat("  ", 2*n+1))
	return []byte(b.String())
}

func blockChain(n int) []byte {
	var b strings.Builder
	b.WriteString("input: [3, 8, 8]\nblocks:\n  b0: [relu]\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "  b%d: [b%d]\n", i, i-1)
	}
	fmt.Fprintf(&b, "layers: [b%d]\n", n-1)
	return []byte(b.String())
}

var deepNesting = []hostile{{
	name: "10000 nested lists",
	data: text("input: [3, 8, 8]\nlayers: " + nest("[", "relu", "]", 10000) + "\n"),
	lim:  limits{visits: 20, expanded: 1, mb: 16},
	want: []string{"layers[0]", "an item is a layer type or a mapping, got a list"},
}, {
	name: "10000 nested maps",
	data: text("input: [3, 8, 8]\nlayers:\n  - " + nest("{relu: ", "1", "}", 10000) + "\n"),
	lim:  limits{visits: 20, expanded: 1, mb: 16},
	want: []string{`relu has no argument "relu"`},
}, {
	// yaml.v3 stops at its own depth limit of 10000: the walk never starts.
	name: "20000 nested lists",
	data: text("input: [3, 8, 8]\nlayers: " + nest("[", "relu", "]", 20000) + "\n"),
	lim:  limits{mb: 16},
	want: []string{"exceeded max depth of 10000"},
}, {
	name: "20000 nested maps",
	data: text("input: [3, 8, 8]\nlayers:\n  - " + nest("{relu: ", "1", "}", 20000) + "\n"),
	lim:  limits{mb: 16},
	want: []string{"exceeded max depth of 10000"},
}, {
	name:  "1000 nested lists",
	data:  text("input: [3, 8, 8]\nlayers: " + nest("[", "relu", "]", 1000) + "\n"),
	lim:   limits{visits: 20, expanded: 1, mb: 8},
	want:  []string{"an item is a layer type or a mapping, got a list"},
	check: firstLine(2),
}, {
	// The walk stops at MaxDepth, not at the bottom 1000 levels down.
	name: "nested residuals 1000 deep",
	data: text("input: [3, 8, 8]\nlayers: [" + nest("{residual: [", "relu", "]}", 1000) + "]\n"),
	lim:  limits{visits: 10 * MaxDepth, expanded: MaxDepth + 2, mb: 8, stop: true},
	want: []string{fmt.Sprintf("nest deeper than %d levels", MaxDepth)},
}, {
	name: "nested residuals 1000 deep, block style",
	data: func() []byte { return blockResiduals(1000) },
	lim:  limits{visits: 10 * MaxDepth, expanded: MaxDepth + 2, mb: 8, stop: true},
	want: []string{fmt.Sprintf("nest deeper than %d levels", MaxDepth)},
	check: func(t *testing.T, l ErrorList) {
		if l[0].Line < 3 {
			t.Errorf("error on line %d", l[0].Line)
		}
	},
}, {
	// The cycle check walks the 1000 blocks once each; the expansion
	// stops at MaxDepth.
	name: "blocks using blocks 1000 deep",
	data: func() []byte { return blockChain(1000) },
	lim:  limits{visits: 10 * 1000, expanded: MaxDepth + 2, mb: 8, stop: true},
	want: []string{fmt.Sprintf("blocks nest deeper than %d levels", MaxDepth)},
}}

func TestHostileDeepNesting(t *testing.T) { runHostile(t, deepNesting) }

// nestedRepeats is three repeats of 1000 turns, one inside the other,
// around inner.
func nestedRepeats(inner string) func() []byte {
	return text("input: [3, 8, 8]\nlayers:\n" +
		"  - repeat: 1000\n    layers:\n" +
		"      - repeat: 1000\n        layers:\n" +
		"          - repeat: 1000\n            layers: " + inner + "\n")
}

// capped is the work of an expansion that stops at MaxLayers: a few
// visits and items per layer, and about 5 KB allocated per layer (its
// calc.Node and NodeInfo, their lists' growth, its path and arguments,
// yaml.v3's nodes): a blow-up past the cap, exponential or not, fails.
var capped = limits{visits: 4 * MaxLayers, expanded: 2 * MaxLayers, turns: MaxLayers, added: MaxLayers, mb: 512, stop: true}

var repeats = []hostile{{
	// Refused from the count, before a single turn.
	name: "repeat 1000000000",
	data: text("input: [3, 8, 8]\nlayers:\n  - repeat: 1000000000\n    layers: [relu]\n"),
	lim:  limits{visits: 20, expanded: 1, mb: 1, stop: true},
	want: []string{"repeat count 1,000,000,000", "100,000"},
	pos:  "3:13",
}, {
	// The first turn of the innermost repeat tells the total: 1000 turns
	// of one relu, then the middle repeat knows 1000 x 1000 is too many.
	name: "nested repeats 1000 x 1000 x 1000",
	data: nestedRepeats("[relu]"),
	lim:  limits{visits: 10 * 1000, expanded: 2 * 1000, turns: 1000 + 2, added: 1000, mb: 16, stop: true},
	want: []string{"more than 100,000 layers"},
}, {
	// A repeat of nothing is the identity; it must not take 10^9 turns.
	name:  "nested repeats of nothing",
	data:  nestedRepeats("[]"),
	lim:   limits{visits: 40, expanded: 3, turns: 3, mb: 1},
	valid: true,
}, {
	// Each turn makes one add node: the second level already knows
	// that 1000 x 1000 exceeds the cap.
	name: "nested repeats of an empty residual",
	data: nestedRepeats("[{residual: []}]"),
	lim:  limits{visits: 10 * 1000, expanded: 2 * 1000, turns: 1000 + 2, added: 1000, mb: 16, stop: true},
	want: []string{"more than 100,000 layers", "repeat 1,000 of 1,000 layers each"},
	pos:  "5:17", // the middle repeat's count
}, {
	name: "repeat count via a block argument",
	data: text("input: [3, 8, 8]\nblocks:\n  b:\n    args: {n: 1}\n    layers:\n      - repeat: $n\n        layers: [relu]\n" +
		"layers:\n  - b: {n: 99999999999}\n"),
	lim:  limits{visits: 40, expanded: 2, mb: 1, stop: true},
	want: []string{"repeat count 99,999,999,999", "100,000"},
}, {
	name: "a flat list of 300000 layers",
	data: text("input: [3, 8, 8]\nlayers:\n" + strings.Repeat("- relu\n", 300000)),
	lim:  capped,
	want: []string{"more than 100,000 layers"},
}}

func TestHostileRepeat(t *testing.T) { runHostile(t, repeats) }

// laughs returns anchors l0..l(levels-1) as block argument defaults, which
// are never walked, each level holding ten uses of the one below through
// wrap (%s is the alias), so that the last one expands to 10^levels relus.
func laughs(levels int, wrap string) string {
	var b strings.Builder
	b.WriteString("blocks:\n  holder:\n    args:\n")
	b.WriteString("      l0: &l0 [relu, relu, relu, relu, relu, relu, relu, relu, relu, relu]\n")
	for i := 1; i < levels; i++ {
		alias := fmt.Sprintf("*l%d", i-1)
		item := fmt.Sprintf(wrap, alias)
		fmt.Fprintf(&b, "      l%d: &l%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(item+", ", 10), ", "))
	}
	b.WriteString("    layers: [relu]\n")
	return b.String()
}

var aliasBombs = []hostile{{
	name: "in layers",
	data: text("input: [3, 8, 8]\n" + laughs(9, "{residual: %s}") + "layers: *l8\n"),
	lim:  capped,
	want: []string{"more than 100,000 layers"},
}, {
	name: "in concat branches",
	data: text("input: [3, 8, 8]\n" + laughs(9, "{concat: [%[1]s, %[1]s]}") + "layers: *l8\n"),
	lim:  capped,
	want: []string{"more than 100,000 layers"},
}, {
	// The cycle check walks every block, used or not: it stops at
	// maxVisits (written out, so that a raised cap fails), and nothing is
	// expanded.
	name: "in a block's layers",
	data: text("input: [3, 8, 8]\n" + strings.Replace(laughs(9, "{residual: %s}"), "    layers: [relu]\n", "    layers: *l8\n", 1) +
		"layers: [relu]\n"),
	lim:  limits{visits: 4_000_000 + 1000, mb: 8, stop: true},
	want: []string{"YAML nodes", "4,000,000"},
}, {
	name: "in repeat layers",
	data: text("input: [3, 8, 8]\n" + laughs(9, "{repeat: 10, layers: %s}") + "layers: *l8\n"),
	lim:  capped,
	want: []string{"100,000"},
}, {
	name: "an alias of itself",
	data: text("input: [3, 8, 8]\nlayers: &l [relu, {residual: *l}]\n"),
	lim:  limits{visits: 20 * MaxDepth, expanded: 4 * MaxDepth, added: 2 * MaxDepth, mb: 8, stop: true},
	want: []string{fmt.Sprintf("deeper than %d levels", MaxDepth)},
}, {
	name: "a block of itself through an alias",
	data: text("input: [3, 8, 8]\nblocks:\n  b: &l [relu, {concat: [*l, []]}]\nlayers: [b]\n"),
	lim:  limits{visits: 20 * MaxDepth, expanded: 4 * MaxDepth, added: 2 * MaxDepth, mb: 8, stop: true},
	want: []string{fmt.Sprintf("deeper than %d levels", MaxDepth)},
}}

func TestHostileAliasBomb(t *testing.T) { runHostile(t, aliasBombs) }

// oneLayer is the work of a spec of one layer.
var oneLayer = limits{visits: 40, expanded: 1, added: 1, mb: 1}

var numbers = []hostile{{
	name: "input beyond the size limit",
	data: text("input: [3, 1000000000000, 1000000000000]\nlayers: [relu]\n"),
	lim:  oneLayer,
	want: []string{"1000000000000", "68,719,476,736"},
}, {
	name: "input elements overflow",
	data: text("input: [3, 60000000000, 60000000000]\nlayers: [relu]\n"),
	lim:  oneLayer,
	want: []string{"more elements than int64 holds"},
	check: func(t *testing.T, l ErrorList) {
		if l[0].Line != 1 || l[0].Path != "input" {
			t.Errorf("error at line %d path %q, want line 1, input", l[0].Line, l[0].Path)
		}
	},
}, {
	name: "MACs overflow",
	data: text("input: [16777216, 65536, 65536]\nlayers:\n  - conv2d: {out: 16777216, kernel: 1}\n"),
	lim:  oneLayer,
	want: []string{"overflows int64"},
}, {
	name: "kernel beyond int64",
	data: text("input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 8, kernel: 99999999999999999999}\n"),
	lim:  oneLayer,
	want: []string{"99999999999999999999 does not fit in int64"},
	pos:  "3:30",
}, {
	name: "kernel beyond the argument limit",
	data: text("input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 8, kernel: 9999999999}\n"),
	lim:  oneLayer,
	want: []string{"9999999999", "16,777,216"},
}, {
	name: "batch beyond the limit",
	data: text("input: [3, 8, 8]\nbatch: 99999999999\nlayers: [relu]\n"),
	lim:  oneLayer,
	want: []string{"batch must be between 1 and 16,777,216"},
}, {
	name: "huge float",
	data: text("input: [3, 8, 8]\nlayers:\n  - linear: 1e300\n"),
	lim:  oneLayer,
	want: []string{"1e300"},
}}

func TestHostileNumbers(t *testing.T) { runHostile(t, numbers) }

// garbage returns the i-th of a fixed series of random byte strings of up
// to 64 KB.
func garbage(i int) []byte {
	r := rand.New(rand.NewSource(1))
	for {
		data := make([]byte, 1+r.Intn(1<<16))
		r.Read(data)
		if i == 0 {
			return data
		}
		i--
	}
}

var files = append([]hostile{{
	// Refused from its size: checkWork sees that nothing was read.
	name: "100 MB",
	data: func() []byte {
		data := bytes.Repeat([]byte("- relu\n"), 100<<20/7)
		return append([]byte("input: [3, 8, 8]\nlayers:\n"), data...)
	},
	lim:  limits{mb: 1},
	want: []string{"above the limit of 4,194,304 bytes"},
	check: func(t *testing.T, l ErrorList) {
		if len(l) != 1 || l[0].Line != 0 {
			t.Errorf("want one whole-file error, got %v", l)
		}
	},
}, {
	name: "just above MaxFileSize",
	data: func() []byte {
		return append([]byte("input: [3]\nlayers: [relu]\n"), bytes.Repeat([]byte("#"), MaxFileSize)...)
	},
	lim:  limits{mb: 1},
	want: []string{"above the limit"},
}, {
	name: "NUL bytes",
	data: text("input: [3, 8, 8]\nlayers:\n  - re\x00lu\n"),
	lim:  limits{mb: 1},
	want: []string{"control characters"},
	pos:  "3:7",
}, {
	name: "all NUL",
	data: func() []byte { return make([]byte, 1<<20) },
	lim:  limits{mb: 16},
}, {
	name: "empty",
	data: text(""),
	lim:  limits{mb: 1},
	want: []string{"the file is empty"},
}, {
	name: "only a comment",
	data: text("  \n\n# nothing\n"),
	lim:  limits{mb: 1},
	want: []string{"the file is empty"},
}, {
	name:  "just a list",
	data:  text("- relu\n- conv2d: {out: 8, kernel: 3}\n"),
	lim:   limits{visits: 2, mb: 1},
	want:  []string{"a spec is a mapping"},
	check: firstLine(1),
}, {
	name: "just a scalar",
	data: text("relu\n"),
	lim:  limits{visits: 2, mb: 1},
	want: []string{"a spec is a mapping"},
}, {
	// yaml.v3 takes keys of at most 1024 characters.
	name:  "long key",
	data:  text("input: [3, 8, 8]\nlayers:\n  - " + strings.Repeat("conv", 500000) + ": {out: 1}\n"),
	lim:   limits{mb: 32},
	want:  []string{"YAML:"},
	check: firstLine(3),
}, {
	// The walk stops after maxErrors; the first ten are printed.
	name: "100000 errors",
	data: text("input: [3, 8, 8]\nlayers:\n" + strings.Repeat("- relux\n", 100000)),
	lim:  limits{visits: 2 * maxErrors, expanded: maxErrors, mb: 128, stop: true},
	want: []string{"(and 990 more errors)"},
	check: func(t *testing.T, l ErrorList) {
		if len(l) != maxErrors {
			t.Errorf("got %d errors, want the cap %d", len(l), maxErrors)
		}
	},
}}, garbageCases()...)

func garbageCases() []hostile {
	var cases []hostile
	for i := 0; i < 20; i++ {
		cases = append(cases, hostile{
			name: fmt.Sprintf("binary garbage %d", i),
			data: func() []byte { return garbage(i) },
			// At most a node per two bytes of the 64 KB, a layer per node.
			lim: limits{visits: 1 << 15, expanded: 1 << 15, added: 1 << 15, mb: 16},
			check: func(t *testing.T, l ErrorList) {
				for _, e := range l {
					if e.Line < 1 {
						t.Errorf("error without a line: %v", e)
					}
				}
			},
		})
	}
	return cases
}

func TestHostileFiles(t *testing.T) { runHostile(t, files) }

// BenchmarkHostile times Parse (and Evaluate) on each hostile input, and
// reports the YAML nodes walked and layers added per run.
func BenchmarkHostile(b *testing.B) {
	for _, set := range []struct {
		name  string
		cases []hostile
	}{{"DeepNesting", deepNesting}, {"Repeat", repeats}, {"AliasBomb", aliasBombs}, {"Numbers", numbers}, {"Files", files}} {
		for _, c := range set.cases {
			b.Run(set.name+"/"+c.name, func(b *testing.B) {
				data := c.data()
				b.ReportAllocs()
				var w work
				for b.Loop() {
					w = work{}
					if s, err := parse("hostile.yaml", data, &w); err == nil {
						s.Evaluate(0, nil)
					}
				}
				b.ReportMetric(float64(w.visits), "visits/op")
				b.ReportMetric(float64(w.added), "layers/op")
			})
		}
	}
}
