package spec

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// hostileTimeLimit is generous: these tests check that a hostile file ends
// in a clear error at all, not how fast.
const hostileTimeLimit = 2 * time.Second

// mustFailWithin parses data and, if it parses, analyzes it; one of the two
// must fail, within hostileTimeLimit, with an ErrorList whose text holds
// every string of want (the cap or limit that was hit). It returns the
// errors.
func mustFailWithin(t *testing.T, data []byte, want ...string) ErrorList {
	t.Helper()
	start := time.Now()
	s, err := Parse("hostile.yaml", data)
	if err == nil {
		_, err = s.Evaluate(0, nil)
	}
	elapsed := time.Since(start)
	if elapsed > hostileTimeLimit {
		t.Errorf("took %v, above %v", elapsed, hostileTimeLimit)
	}
	if err == nil {
		t.Fatalf("no error (%d nodes)", len(s.Net.Nodes))
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error is %T, want ErrorList: %v", err, err)
	}
	text := err.Error()
	if strings.Contains(text, "internal error") {
		t.Fatalf("panic: %s", text)
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("error lacks %q:\n%s", w, text)
		}
	}
	return list
}

// nest returns open repeated n times, then mid, then close repeated n times.
func nest(open, mid, close string, n int) string {
	return strings.Repeat(open, n) + mid + strings.Repeat(close, n)
}

func TestHostileDeepNesting(t *testing.T) {
	t.Run("10000 nested lists", func(t *testing.T) {
		src := "input: [3, 8, 8]\nlayers: " + nest("[", "relu", "]", 10000) + "\n"
		mustFailWithin(t, []byte(src), "layers[0]", "an item is a layer type or a mapping, got a list")
	})
	t.Run("10000 nested maps", func(t *testing.T) {
		src := "input: [3, 8, 8]\nlayers:\n  - " + nest("{relu: ", "1", "}", 10000) + "\n"
		mustFailWithin(t, []byte(src), `relu has no argument "relu"`)
	})
	t.Run("20000 nested lists", func(t *testing.T) {
		// yaml.v3 stops at its own depth limit of 10000.
		src := "input: [3, 8, 8]\nlayers: " + nest("[", "relu", "]", 20000) + "\n"
		mustFailWithin(t, []byte(src), "exceeded max depth of 10000")
	})
	t.Run("20000 nested maps", func(t *testing.T) {
		src := "input: [3, 8, 8]\nlayers:\n  - " + nest("{relu: ", "1", "}", 20000) + "\n"
		mustFailWithin(t, []byte(src), "exceeded max depth of 10000")
	})
	t.Run("1000 nested lists", func(t *testing.T) {
		src := "input: [3, 8, 8]\nlayers: " + nest("[", "relu", "]", 1000) + "\n"
		l := mustFailWithin(t, []byte(src), "an item is a layer type or a mapping, got a list")
		if l[0].Line != 2 {
			t.Errorf("error on line %d, want 2", l[0].Line)
		}
	})
	t.Run("nested residuals 1000 deep", func(t *testing.T) {
		src := "input: [3, 8, 8]\nlayers: [" + nest("{residual: [", "relu", "]}", 1000) + "]\n"
		mustFailWithin(t, []byte(src), fmt.Sprintf("nest deeper than %d levels", MaxDepth))
	})
	t.Run("nested residuals 1000 deep, block style", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("input: [3, 8, 8]\nlayers:\n")
		for i := 0; i < 1000; i++ {
			fmt.Fprintf(&b, "%s- residual:\n", strings.Repeat("  ", 2*i+1))
		}
		fmt.Fprintf(&b, "%s- relu\n", strings.Repeat("  ", 2*1000+1))
		l := mustFailWithin(t, []byte(b.String()), fmt.Sprintf("nest deeper than %d levels", MaxDepth))
		if l[0].Line < 3 {
			t.Errorf("error on line %d", l[0].Line)
		}
	})
	t.Run("blocks using blocks 1000 deep", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("input: [3, 8, 8]\nblocks:\n  b0: [relu]\n")
		for i := 1; i < 1000; i++ {
			fmt.Fprintf(&b, "  b%d: [b%d]\n", i, i-1)
		}
		b.WriteString("layers: [b999]\n")
		mustFailWithin(t, []byte(b.String()), fmt.Sprintf("nest deeper than %d levels", MaxDepth))
	})
}

func TestHostileRepeat(t *testing.T) {
	t.Run("repeat 1000000000", func(t *testing.T) {
		src := "input: [3, 8, 8]\nlayers:\n  - repeat: 1000000000\n    layers: [relu]\n"
		l := mustFailWithin(t, []byte(src), "repeat count 1,000,000,000", "100,000")
		if got := fmt.Sprintf("%d:%d", l[0].Line, l[0].Col); got != "3:13" {
			t.Errorf("error at %s, want 3:13", got)
		}
	})
	nested := func(inner string) string {
		return "input: [3, 8, 8]\nlayers:\n" +
			"  - repeat: 1000\n    layers:\n" +
			"      - repeat: 1000\n        layers:\n" +
			"          - repeat: 1000\n            layers: " + inner + "\n"
	}
	t.Run("nested repeats 1000 x 1000 x 1000", func(t *testing.T) {
		mustFailWithin(t, []byte(nested("[relu]")), "more than 100,000 layers")
	})
	t.Run("nested repeats of nothing", func(t *testing.T) {
		// A repeat of nothing is the identity; it must not take 10^9 turns.
		start := time.Now()
		s, err := Parse("hostile.yaml", []byte(nested("[]")))
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Net.Nodes) != 0 {
			t.Errorf("%d nodes, want 0", len(s.Net.Nodes))
		}
		if d := time.Since(start); d > hostileTimeLimit {
			t.Errorf("took %v", d)
		}
	})
	t.Run("nested repeats of an empty residual", func(t *testing.T) {
		// Each turn makes one add node: the second level already knows
		// that 1000 x 1000 exceeds the cap.
		l := mustFailWithin(t, []byte(nested("[{residual: []}]")), "more than 100,000 layers", "repeat 1,000 of 1,000 layers each")
		if got := fmt.Sprintf("%d:%d", l[0].Line, l[0].Col); got != "5:17" {
			t.Errorf("error at %s, want 5:17 (the middle repeat's count)", got)
		}
	})
	t.Run("repeat count via a block argument", func(t *testing.T) {
		src := "input: [3, 8, 8]\nblocks:\n  b:\n    args: {n: 1}\n    layers:\n      - repeat: $n\n        layers: [relu]\n" +
			"layers:\n  - b: {n: 99999999999}\n"
		mustFailWithin(t, []byte(src), "repeat count 99,999,999,999", "100,000")
	})
	t.Run("a flat list of 300000 layers", func(t *testing.T) {
		src := "input: [3, 8, 8]\nlayers:\n" + strings.Repeat("- relu\n", 300000)
		mustFailWithin(t, []byte(src), "more than 100,000 layers")
	})
}

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

func TestHostileAliasBomb(t *testing.T) {
	t.Run("in layers", func(t *testing.T) {
		src := "input: [3, 8, 8]\n" + laughs(9, "{residual: %s}") + "layers: *l8\n"
		mustFailWithin(t, []byte(src), "more than 100,000 layers")
	})
	t.Run("in concat branches", func(t *testing.T) {
		src := "input: [3, 8, 8]\n" + laughs(9, "{concat: [%[1]s, %[1]s]}") + "layers: *l8\n"
		mustFailWithin(t, []byte(src), "more than 100,000 layers")
	})
	t.Run("in a block's layers", func(t *testing.T) {
		// The cycle check walks every block, used or not.
		src := "input: [3, 8, 8]\n" + strings.Replace(laughs(9, "{residual: %s}"), "    layers: [relu]\n", "    layers: *l8\n", 1) +
			"layers: [relu]\n"
		mustFailWithin(t, []byte(src), "YAML nodes", "4,000,000")
	})
	t.Run("in repeat layers", func(t *testing.T) {
		src := "input: [3, 8, 8]\n" + laughs(9, "{repeat: 10, layers: %s}") + "layers: *l8\n"
		mustFailWithin(t, []byte(src), "100,000")
	})
	t.Run("an alias of itself", func(t *testing.T) {
		src := "input: [3, 8, 8]\nlayers: &l [relu, {residual: *l}]\n"
		mustFailWithin(t, []byte(src), fmt.Sprintf("deeper than %d levels", MaxDepth))
	})
	t.Run("a block of itself through an alias", func(t *testing.T) {
		src := "input: [3, 8, 8]\nblocks:\n  b: &l [relu, {concat: [*l, []]}]\nlayers: [b]\n"
		mustFailWithin(t, []byte(src), fmt.Sprintf("deeper than %d levels", MaxDepth))
	})
}

func TestHostileNumbers(t *testing.T) {
	t.Run("input beyond the size limit", func(t *testing.T) {
		src := "input: [3, 1000000000000, 1000000000000]\nlayers: [relu]\n"
		mustFailWithin(t, []byte(src), "1000000000000", "68,719,476,736")
	})
	t.Run("input elements overflow", func(t *testing.T) {
		src := "input: [3, 60000000000, 60000000000]\nlayers: [relu]\n"
		l := mustFailWithin(t, []byte(src), "more elements than int64 holds")
		if l[0].Line != 1 || l[0].Path != "input" {
			t.Errorf("error at line %d path %q, want line 1, input", l[0].Line, l[0].Path)
		}
	})
	t.Run("MACs overflow", func(t *testing.T) {
		src := "input: [16777216, 65536, 65536]\nlayers:\n  - conv2d: {out: 16777216, kernel: 1}\n"
		mustFailWithin(t, []byte(src), "overflows int64")
	})
	t.Run("kernel beyond int64", func(t *testing.T) {
		src := "input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 8, kernel: 99999999999999999999}\n"
		l := mustFailWithin(t, []byte(src), "99999999999999999999 does not fit in int64")
		if got := fmt.Sprintf("%d:%d", l[0].Line, l[0].Col); got != "3:30" {
			t.Errorf("error at %s, want 3:30", got)
		}
	})
	t.Run("kernel beyond the argument limit", func(t *testing.T) {
		src := "input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 8, kernel: 9999999999}\n"
		mustFailWithin(t, []byte(src), "9999999999", "16,777,216")
	})
	t.Run("batch beyond the limit", func(t *testing.T) {
		src := "input: [3, 8, 8]\nbatch: 99999999999\nlayers: [relu]\n"
		mustFailWithin(t, []byte(src), "batch must be between 1 and 16,777,216")
	})
	t.Run("huge float", func(t *testing.T) {
		src := "input: [3, 8, 8]\nlayers:\n  - linear: 1e300\n"
		mustFailWithin(t, []byte(src), "1e300")
	})
}

func TestHostileFiles(t *testing.T) {
	t.Run("100 MB", func(t *testing.T) {
		data := bytes.Repeat([]byte("- relu\n"), 100<<20/7)
		data = append([]byte("input: [3, 8, 8]\nlayers:\n"), data...)
		l := mustFailWithin(t, data, "above the limit of 4,194,304 bytes")
		if len(l) != 1 || l[0].Line != 0 {
			t.Errorf("want one whole-file error, got %v", l)
		}
	})
	t.Run("just above MaxFileSize", func(t *testing.T) {
		data := append([]byte("input: [3]\nlayers: [relu]\n"), bytes.Repeat([]byte("#"), MaxFileSize)...)
		mustFailWithin(t, data, "above the limit")
	})
	t.Run("NUL bytes", func(t *testing.T) {
		l := mustFailWithin(t, []byte("input: [3, 8, 8]\nlayers:\n  - re\x00lu\n"), "control characters")
		if got := fmt.Sprintf("%d:%d", l[0].Line, l[0].Col); got != "3:7" {
			t.Errorf("error at %s, want 3:7", got)
		}
	})
	t.Run("all NUL", func(t *testing.T) {
		mustFailWithin(t, make([]byte, 1<<20))
	})
	t.Run("binary garbage", func(t *testing.T) {
		r := rand.New(rand.NewSource(1))
		for i := 0; i < 20; i++ {
			data := make([]byte, 1+r.Intn(1<<16))
			r.Read(data)
			l := mustFailWithin(t, data)
			for _, e := range l {
				if e.Line < 1 {
					t.Errorf("garbage %d: error without a line: %v", i, e)
				}
			}
		}
	})
	t.Run("empty", func(t *testing.T) {
		mustFailWithin(t, nil, "the file is empty")
		mustFailWithin(t, []byte("  \n\n# nothing\n"), "the file is empty")
	})
	t.Run("just a list", func(t *testing.T) {
		l := mustFailWithin(t, []byte("- relu\n- conv2d: {out: 8, kernel: 3}\n"), "a spec is a mapping")
		if l[0].Line != 1 {
			t.Errorf("error on line %d, want 1", l[0].Line)
		}
	})
	t.Run("just a scalar", func(t *testing.T) {
		mustFailWithin(t, []byte("relu\n"), "a spec is a mapping")
	})
	t.Run("long key", func(t *testing.T) {
		src := "input: [3, 8, 8]\nlayers:\n  - " + strings.Repeat("conv", 500000) + ": {out: 1}\n"
		// yaml.v3 takes keys of at most 1024 characters.
		l := mustFailWithin(t, []byte(src), "YAML:")
		if l[0].Line != 3 {
			t.Errorf("error on line %d, want 3", l[0].Line)
		}
	})
	t.Run("100000 errors", func(t *testing.T) {
		src := "input: [3, 8, 8]\nlayers:\n" + strings.Repeat("- relux\n", 100000)
		// The walk stops after maxErrors; the first ten are printed.
		l := mustFailWithin(t, []byte(src), "(and 990 more errors)")
		if len(l) != maxErrors {
			t.Errorf("got %d errors, want the cap %d", len(l), maxErrors)
		}
	})
}
