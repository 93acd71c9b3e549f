package spec

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/calc"
)

// manyItems is a spec of n top-level items without expect: (a conv2d,
// then nine relu), the file --write has the most to do on; at 100,000
// items its snapshot stays under MaxFileSize.
func manyItems(n int, eol string) []byte {
	var b strings.Builder
	b.WriteString("name: many" + eol + "input: [3, 16, 16]" + eol + "layers:" + eol)
	for i := range n {
		if i%10 == 0 {
			b.WriteString("  - conv2d: {out: 8, kernel: 3, padding: 1}" + eol)
		} else {
			b.WriteString("  - relu" + eol)
		}
	}
	return []byte(b.String())
}

func mustAnalyse(tb testing.TB, data []byte) *Analysis {
	tb.Helper()
	s, err := Parse("many.yaml", data)
	if err != nil {
		tb.Fatal(err)
	}
	a, err := s.Evaluate(0, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func BenchmarkSnapshot(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			a := mustAnalyse(b, manyItems(n, "\n"))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Snapshot(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// snapshot parses and analyses src and snapshots it.
func snapshot(t *testing.T, src string) (string, error) {
	t.Helper()
	out, err := mustAnalyse(t, []byte(src)).Snapshot()
	return string(out), err
}

// allocated is the heap bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestSnapshotWorkIsLinear: twice the items, about twice the bytes
// allocated (patching the text once per edit copied the rest of the file
// each time: 20,000 items took 4 times what 10,000 did, 100,000 items
// minutes).
func TestSnapshotWorkIsLinear(t *testing.T) {
	var cost [2]uint64
	for i, n := range []int{10_000, 20_000} {
		a := mustAnalyse(t, manyItems(n, "\n"))
		cost[i] = allocated(func() {
			if _, err := a.Snapshot(); err != nil {
				t.Fatal(err)
			}
		})
		if per := cost[i] / uint64(n); per > 20_000 {
			t.Errorf("%d items: %d bytes allocated per item, want at most 20,000", n, per)
		}
	}
	if r := float64(cost[1]) / float64(cost[0]); r > 2.5 {
		t.Errorf("20,000 items allocate %.2f times what 10,000 do (%d vs %d bytes), want about 2", r, cost[1], cost[0])
	}
}

// TestSnapshotSizeCap: a snapshot that would be larger than MaxFileSize is
// refused with both sizes, the file's and the would-be output's.
func TestSnapshotSizeCap(t *testing.T) {
	body := "input: [3, 16, 16]\nlayers:\n  - relu\n"
	pad := MaxFileSize - len(body) - 10
	src := "#" + strings.Repeat("x", pad-2) + "\n" + body
	_, err := snapshot(t, src)
	if err == nil {
		t.Fatal("a snapshot above MaxFileSize was not refused")
	}
	for _, want := range []string{
		"many.yaml: the updated spec would be 4,194,3",
		fmt.Sprintf("(the file is %s)", calc.Group(int64(len(src)))),
		"above the limit of 4,194,304 bytes",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal %q does not say %q", err, want)
		}
	}
}

// TestSnapshotCRLF: lines added to a CRLF file end in CRLF too.
func TestSnapshotCRLF(t *testing.T) {
	for _, src := range []string{
		string(manyItems(3, "\r\n")),
		"input: [3, 8, 8]\r\nlayers:\r\n  - relu\r\n  - conv2d: {out: 4, kernel: 3}", // no final line ending
	} {
		out, err := snapshot(t, src)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(out, "\n") != strings.Count(out, "\r\n") || strings.Count(out, "\r") != strings.Count(out, "\r\n") {
			t.Errorf("mixed line endings in\n%q", out)
		}
		if !strings.Contains(out, "expect:\r\n  output: [") {
			t.Errorf("no totals added:\n%q", out)
		}
		noop(t, out)
	}
}

// noop checks that a snapshot of src changes nothing.
func noop(t *testing.T, src string) {
	t.Helper()
	again, err := snapshot(t, src)
	if err != nil {
		t.Fatalf("second snapshot: %v", err)
	}
	if again != src {
		t.Errorf("a second snapshot changed the text:\n%s\nto\n%s", src, again)
	}
}

// TestSnapshotLayouts: layouts that need care where the new line goes.
func TestSnapshotLayouts(t *testing.T) {
	for _, c := range []struct{ name, src, want string }{
		{"closing brace on its own line",
			"input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 8,\n      kernel: 3\n    }\n  - relu\nexpect: {output: [8, 6, 6], params: 224, buffers: 0, macs: 7776}\n",
			"input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 8,\n      kernel: 3\n    }\n    expect: [8, 6, 6]\n  - relu:\n    expect: [8, 6, 6]\nexpect: {output: [8, 6, 6], params: 224, buffers: 0, macs: 7776}\n"},
		{"multi-line quoted scalar",
			"input: [3, 8, 8]\nlayers:\n  - relu:\n    name: \"a\n  b\"\n",
			"input: [3, 8, 8]\nlayers:\n  - relu:\n    name: \"a\n  b\"\n    expect: [3, 8, 8]\nexpect:\n  output: [3, 8, 8]\n  params: 0\n  buffers: 0\n  macs: 0\n"},
		{"comment inside a flow mapping",
			"input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 8, kernel: 3\n# why 8\n    }\nexpect: {output: [8, 6, 6], params: 224, buffers: 0, macs: 7776}\n",
			"input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 8, kernel: 3\n# why 8\n    }\n    expect: [8, 6, 6]\nexpect: {output: [8, 6, 6], params: 224, buffers: 0, macs: 7776}\n"},
		{"block scalar",
			"input: [3, 8, 8]\nlayers:\n  - relu:\n    name: |\n      two\n      lines\n\n  # between\n  - relu\n",
			"input: [3, 8, 8]\nlayers:\n  - relu:\n    name: |\n      two\n      lines\n    expect: [3, 8, 8]\n\n  # between\n  - relu:\n    expect: [3, 8, 8]\nexpect:\n  output: [3, 8, 8]\n  params: 0\n  buffers: 0\n  macs: 0\n"},
		{"document end marker",
			"input: [3, 8, 8]\nlayers:\n  - relu\n...\n# after\n",
			"input: [3, 8, 8]\nlayers:\n  - relu:\n    expect: [3, 8, 8]\nexpect:\n  output: [3, 8, 8]\n  params: 0\n  buffers: 0\n  macs: 0\n...\n# after\n"},
		{"indented spec",
			"  input: [3, 8, 8]\n  layers:\n  - relu\n",
			"  input: [3, 8, 8]\n  layers:\n  - relu:\n    expect: [3, 8, 8]\n  expect:\n    output: [3, 8, 8]\n    params: 0\n    buffers: 0\n    macs: 0\n"},
		{"anchored item and its alias",
			"input: [3, 8, 8]\nlayers:\n  - &c\n      conv2d: {out: 3, kernel: 3}\n  - *c\nexpect:\n  params: 168\n",
			"input: [3, 8, 8]\nlayers:\n  - &c\n      conv2d: {out: 3, kernel: 3}\n      expect: [3, ~, ~]\n  - *c\nexpect:\n  params: 168\n  output: [3, 4, 4]\n  buffers: 0\n  macs: 4212\n"},
		{"quoted items",
			"input: [3, 8, 8]\nlayers:\n  - 'relu'\n  - \"relu\" # c\nexpect: {output: [3, 8, 8], params: 0, buffers: 0, macs: 0}\n",
			"input: [3, 8, 8]\nlayers:\n  - 'relu':\n    expect: [3, 8, 8]\n  - \"relu\": # c\n    expect: [3, 8, 8]\nexpect: {output: [3, 8, 8], params: 0, buffers: 0, macs: 0}\n"},
		{"block lists rewritten in place",
			"input: [3, 8, 8]\nlayers:\n- conv2d: {out: 4, kernel: 1}\n  expect:\n    - 4\n    - 9 # H\n    - ~\nexpect:\n  output:\n  - 1\n  - 1\n  params: 16\n  buffers: 0\n  macs: 768\n",
			"input: [3, 8, 8]\nlayers:\n- conv2d: {out: 4, kernel: 1}\n  expect:\n    - 4\n    - 8 # H\n    - 8\nexpect:\n  output: [4, 8, 8]\n  params: 16\n  buffers: 0\n  macs: 768\n"},
		{"flow list over two lines",
			"input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 1}\n    expect: [4,\n      9, 9]\nexpect: {output: [4, 8, 8], params: 16, buffers: 0, macs: 768}\n",
			"input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 4, kernel: 1}\n    expect: [4, 8, 8]\nexpect: {output: [4, 8, 8], params: 16, buffers: 0, macs: 768}\n"},
		{"trailing comment, no final newline",
			"input: [3, 8, 8]\nlayers:\n  - relu  # the only one\n# end",
			"input: [3, 8, 8]\nlayers:\n  - relu:  # the only one\n    expect: [3, 8, 8]\n# end\nexpect:\n  output: [3, 8, 8]\n  params: 0\n  buffers: 0\n  macs: 0\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := snapshot(t, c.src)
			if err != nil {
				t.Fatal(err)
			}
			if out != c.want {
				t.Errorf("got\n%s\nwant\n%s", out, c.want)
			}
			noop(t, out)
		})
	}
}

// TestSnapshotRefuses: where --write cannot patch the text it says so,
// positioned in the file, naming the item, and changes nothing.
func TestSnapshotRefuses(t *testing.T) {
	for _, c := range []struct{ name, src, want string }{
		{"flow list of items", "input: [3, 8, 8]\nlayers: [{conv2d: {out: 8, kernel: 3}}]\n",
			"many.yaml:2:10: layers[0] (conv2d): --write would add expect: [8, 6, 6] to this item, but it is written in flow style (inside [...])"},
		{"flow mapping item", "input: [3, 8, 8]\nlayers:\n  - relu\n  - {conv2d: {out: 8, kernel: 3}, name: c}\n",
			"many.yaml:4:5: layers[1] (c): --write would add expect: [8, 6, 6] to this item, but it is written in flow style ({...})"},
		{"flow spec", "{input: [3, 8, 8], layers: [relu]}\n",
			"many.yaml:1:1: --write would add the top-level expect: (output, params, buffers, macs), but the spec is a flow mapping"},
		{"flow totals", "input: [3, 8, 8]\nlayers:\n  - relu:\n    expect: [3, 8, 8]\nexpect: {params: 0}\n",
			"many.yaml:5:1: expect: --write would add output, buffers, macs to the top-level expect:, but it is not a block mapping"},
		{"tagged item", "input: [3, 8, 8]\nlayers:\n  - !!str relu\n",
			"many.yaml:3:5: layers[0] (relu): --write would add expect: [3, 8, 8] to this item, but cannot turn it into a mapping as written (tagged or anchored)"},
		{"anchored item", "input: [3, 8, 8]\nlayers:\n  - &r relu\n  - *r\n",
			"many.yaml:3:5: layers[0] (relu): --write would add expect: [3, 8, 8] to this item, but cannot turn it into a mapping as written (tagged or anchored)"},
		{"block argument", "input: [3, 8, 8]\nblocks:\n  b:\n    args: {s: [1, 1, 1]}\n    layers:\n      - relu:\n        expect: $s\nlayers:\n  - b: {s: [4, 8, 9]}\n",
			"many.yaml:7:17: blocks.b.layers[0] (in layers[0]) (relu): this expect: fails (got [3, 8, 8]) and is not written as a list of sizes"},
		{"use of a block argument", "input: [3, 8, 8]\nblocks:\n  b:\n    args: {s: [1, 1, 1]}\n    layers:\n      - relu:\n        expect: $s\nlayers:\n  - b: {s: [4, 8, 9]}\n    expect: [3, 8, 8]\n",
			"many.yaml:7:17: blocks.b.layers[0] (in layers[0]) (relu): this expect: fails (got [3, 8, 8])"},
		{"anchored expectation", "input: [3, 8, 8]\nlayers:\n  - relu:\n    expect: &e [1, 8, 8]\n  - relu:\n    expect: *e\n",
			"many.yaml:4:13: layers[0] (relu): this expect: fails (got [3, 8, 8]) and carries the anchor &e"},
		{"patch breaks the text", "input: [3, 8, 8]\nlayers:\n  - relu:\n    name: in put\n  - relu:\n    from: [in\nput]\n",
			"many.yaml:5:5: layers[1] (relu): --write cannot patch this layout: with the expect: written here the spec would not parse"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := snapshot(t, c.src)
			if err == nil {
				t.Fatalf("not refused; got\n%s", out)
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Errorf("the refusal is %T, want an ErrorList", err)
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("got  %v\nwant %s...", err, c.want)
			}
		})
	}
}
