package spec

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// wantErr is one expected error: its position "line:col", the item's path,
// the item, and substrings the message (and the detail) must hold, the
// numbers among them.
type wantErr struct {
	pos    string
	path   string
	item   string
	msg    []string
	detail []string
}

// errCase is a spec and the errors it must give, in order.
type errCase struct {
	name string
	src  string
	want []wantErr
}

// parseErrors parses src and returns its errors, failing if there are none
// or if the error is not an ErrorList.
func parseErrors(t *testing.T, src string) ErrorList {
	t.Helper()
	s, err := Parse("t.yaml", []byte(src))
	if err == nil {
		t.Fatalf("Parse succeeded (%d nodes), want errors", len(s.Net.Nodes))
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Parse error is %T, want ErrorList: %v", err, err)
	}
	return list
}

// analyzeErrors parses src, which must parse, and returns Analyze's errors.
func analyzeErrors(t *testing.T, src string) ErrorList {
	t.Helper()
	s, err := Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	_, err = s.Evaluate(0, nil)
	if err == nil {
		t.Fatal("Analyze succeeded, want errors")
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Analyze error is %T, want ErrorList: %v", err, err)
	}
	return list
}

func checkErrors(t *testing.T, got ErrorList, want []wantErr) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d errors, want %d:\n%v", len(got), len(want), got)
	}
	for i := 0; i < len(got) && i < len(want); i++ {
		checkError(t, got[i], want[i])
	}
}

func checkError(t *testing.T, e *Diagnostic, w wantErr) {
	t.Helper()
	if e.File != "t.yaml" {
		t.Errorf("%v: File = %q, want t.yaml", e, e.File)
	}
	if pos := fmt.Sprintf("%d:%d", e.Line, e.Col); pos != w.pos {
		t.Errorf("%v: position %s, want %s", e, pos, w.pos)
	}
	if e.Path != w.path {
		t.Errorf("%v: path %q, want %q", e, e.Path, w.path)
	}
	if e.Item != w.item {
		t.Errorf("%v: item %q, want %q", e, e.Item, w.item)
	}
	for _, m := range w.msg {
		if !strings.Contains(e.Msg, m) {
			t.Errorf("%v: message lacks %q", e, m)
		}
	}
	for _, d := range w.detail {
		if !strings.Contains(e.Detail, d) {
			t.Errorf("%v: detail %q lacks %q", e, e.Detail, d)
		}
	}
}

func runParseCases(t *testing.T, cases []errCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkErrors(t, parseErrors(t, c.src), c.want)
		})
	}
}

func runAnalyzeCases(t *testing.T, cases []errCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkErrors(t, analyzeErrors(t, c.src), c.want)
		})
	}
}

func TestErrorUnknownType(t *testing.T) {
	runParseCases(t, []errCase{
		{"mapping", `input: [3, 32, 32]
layers:
  - relu
  - conv2: {out: 8, kernel: 3}
`, []wantErr{{pos: "4:5", path: "layers[1]", msg: []string{`unknown layer type "conv2"`, "did you mean conv2d?"}}}},
		{"bare", `input: [3, 32, 32]
layers:
  - rellu
`, []wantErr{{pos: "3:5", path: "layers[0]", msg: []string{`"rellu"`, "did you mean relu?"}}}},
		{"no suggestion", `input: [3, 32, 32]
layers:
  - relu
  - frobnicate
`, []wantErr{{pos: "4:5", path: "layers[1]", msg: []string{`unknown layer type "frobnicate"`}}}},
		{"in a residual", `input: [3, 32, 32]
layers:
  - relu
  - relu
  - residual:
      - conv2d: {out: 3, kernel: 1}
      - batchnrom2d
`, []wantErr{{pos: "7:9", path: "layers[2].residual[1]", msg: []string{`"batchnrom2d"`, "did you mean batchnorm2d?"}}}},
		{"in a block", `input: [3, 32, 32]
blocks:
  b:
    layers:
      - conv2x: {out: 3, kernel: 1}
layers:
  - relu
  - b
`, []wantErr{{pos: "5:9", path: "blocks.b.layers[0] (in layers[1])", msg: []string{`"conv2x"`, "did you mean conv2d?"}}}},
	})
}

func TestErrorUnknownArgument(t *testing.T) {
	runParseCases(t, []errCase{
		{"typo", `input: [3, 32, 32]
layers:
  - conv2d: {out: 8, kernal: 3}
`, []wantErr{{pos: "3:22", path: "layers[0]", item: "conv2d", msg: []string{`conv2d has no argument "kernal"`, "did you mean kernel?"}}}},
		{"pytorch spelling typo", `input: [3, 32, 32]
layers:
  - conv2d:
      out_chanels: 8
      kernel: 3
`, []wantErr{{pos: "4:7", path: "layers[0]", item: "conv2d", msg: []string{`"out_chanels"`, "did you mean out_channels?"}}}},
		{"named item", `input: [3, 32, 32]
layers:
  - maxpool2d: {kernel: 2, strid: 2}
    name: pool
`, []wantErr{{pos: "3:28", path: "layers[0]", item: "pool", msg: []string{`maxpool2d has no argument "strid"`, "did you mean stride?"}}}},
		{"argument given twice", `input: [3, 32, 32]
layers:
  - conv2d:
      out: 8
      out_channels: 8
      kernel: 3
`, []wantErr{{pos: "5:7", path: "layers[0]", item: "conv2d", msg: []string{"out is given twice"}}}},
	})
}

func TestErrorTopLevel(t *testing.T) {
	runParseCases(t, []errCase{
		{"unknown key", `input: [3, 32, 32]
layers: [relu]
layer: [relu]
`, []wantErr{{pos: "3:1", msg: []string{`unknown top-level key "layer"`, "did you mean layers?"}}}},
		{"missing layers", `input: [3, 32, 32]
layer:
  - relu
`, []wantErr{
			{pos: "1:1", msg: []string{"no layers:"}},
			{pos: "2:1", msg: []string{`unknown top-level key "layer"`, "did you mean layers?"}},
		}},
		{"missing input", `name: x
layers: [relu]
`, []wantErr{{pos: "1:1", msg: []string{"no input:", "input: [3, 224, 224]"}}}},
		{"missing both", `name: x
`, []wantErr{{pos: "1:1", msg: []string{"no input:"}}}},
		{"not a mapping", `- relu
- tanh
`, []wantErr{{pos: "1:1", msg: []string{"a spec is a mapping", "input:", "layers:"}}}},
		{"layers not a list", `input: [3, 32, 32]
layers: relu
`, []wantErr{{pos: "2:9", path: "layers", msg: []string{"layers must be a list"}}}},
		{"input rank", `input: [1, 2, 3, 4, 5]
layers: [relu]
`, []wantErr{{pos: "1:8", path: "input", msg: []string{"1 to 4 sizes", "got 5"}}}},
		{"input size zero", `input: [3, 0, 32]
layers: [relu]
`, []wantErr{{pos: "1:8", path: "input", msg: []string{"between 1 and", "got 0"}}}},
		{"batch zero", `input: [3, 32, 32]
batch: 0
layers: [relu]
`, []wantErr{{pos: "2:8", path: "batch", msg: []string{"batch must be between 1 and", "got 0"}}}},
		{"unknown expectation", `input: [3, 32, 32]
layers: [relu]
expect:
  parms: 0
`, []wantErr{{pos: "4:3", path: "expect", msg: []string{`"parms"`, "did you mean params?"}}}},
	})
}

func TestErrorDuplicateKey(t *testing.T) {
	runParseCases(t, []errCase{
		{"top level", `input: [3, 32, 32]
input: [3, 32, 32]
layers: [relu]
`, []wantErr{{pos: "2:1", msg: []string{`duplicate key "input"`}}}},
		{"layer argument", `input: [3, 32, 32]
layers:
  - conv2d:
      out: 8
      kernel: 3
      out: 16
`, []wantErr{{pos: "6:7", path: "layers[0]", msg: []string{`duplicate key "out"`}}}},
		{"block", `input: [3, 32, 32]
blocks:
  b: [relu]
  b: [tanh]
layers: [b]
`, []wantErr{{pos: "4:3", path: "blocks", msg: []string{`duplicate key "b"`}}}},
		{"item wiring", `input: [3, 32, 32]
layers:
  - relu:
    name: a
    name: b
`, []wantErr{{pos: "5:5", path: "layers[0]", msg: []string{`duplicate key "name"`}}}},
	})
}

func TestErrorMissingRequired(t *testing.T) {
	runParseCases(t, []errCase{
		{"conv2d without out", `input: [3, 32, 32]
layers:
  - conv2d: {kernel: 3}
`, []wantErr{{pos: "3:5", path: "layers[0]", item: "conv2d", msg: []string{"conv2d needs out"}}}},
		{"conv2d without kernel", `input: [3, 32, 32]
layers:
  - relu
  - conv2d: {out: 8}
`, []wantErr{{pos: "4:5", path: "layers[1]", item: "conv2d", msg: []string{"conv2d needs kernel"}}}},
		{"bare maxpool", `input: [3, 32, 32]
layers:
  - maxpool2d
`, []wantErr{{pos: "3:5", path: "layers[0]", item: "maxpool2d", msg: []string{"maxpool2d needs kernel"}}}},
		{"linear null", `input: [3]
layers:
  - linear:
`, []wantErr{{pos: "3:5", path: "layers[0]", item: "linear", msg: []string{"linear needs out"}}}},
	})
}

func TestErrorValueKinds(t *testing.T) {
	runParseCases(t, []errCase{
		{"kernel abc, bias 3", `input: [3, 32, 32]
layers:
  - conv2d: {out: 8, kernel: abc}
  - conv2d: {out: 8, kernel: 3, bias: 3}
`, []wantErr{
			{pos: "3:30", path: "layers[0]", item: "conv2d", msg: []string{"kernel must be an integer", `"abc"`}},
			{pos: "4:39", path: "layers[1]", item: "conv2d", msg: []string{"bias must be true or false", `"3"`}},
		}},
		{"kernel list of strings", `input: [3, 32, 32]
layers:
  - conv2d: {out: 8, kernel: [3, x]}
`, []wantErr{{pos: "3:34", path: "layers[0]", item: "conv2d", msg: []string{"kernel must be an integer", `"x"`}}}},
		{"out a mapping", `input: [3, 32, 32]
layers:
  - conv2d:
      out: {a: 1}
      kernel: 3
`, []wantErr{{pos: "4:12", path: "layers[0]", item: "conv2d", msg: []string{"out must be an integer, got a mapping"}}}},
		{"eps a string", `input: [3, 32, 32]
layers:
  - batchnorm2d: {eps: small}
`, []wantErr{{pos: "3:24", path: "layers[0]", item: "batchnorm2d", msg: []string{"eps must be a number", `"small"`}}}},
		{"enum", `input: [3, 32, 32]
layers:
  - conv2d: {out: 8, kernel: 3, padding_mode: reflekt}
`, []wantErr{{pos: "3:47", path: "layers[0]", item: "conv2d", msg: []string{"padding_mode must be one of zeros, reflect, replicate, circular", "did you mean reflect?"}}}},
		{"padding word", `input: [3, 32, 32]
layers:
  - conv2d: {out: 8, kernel: 3, padding: sane}
`, []wantErr{{pos: "3:42", path: "layers[0]", item: "conv2d", msg: []string{"padding must be an integer, a list, same or valid", `"sane"`}}}},
		{"dropout probability", `input: [3, 32, 32]
layers:
  - dropout: 1.5
`, []wantErr{{pos: "3:14", path: "layers[0]", item: "dropout", msg: []string{"between 0 and 1", "1.5"}}}},
		{"no primary argument", `input: [3, 32, 32]
layers:
  - conv2d: 3
`, []wantErr{{pos: "3:13", path: "layers[0]", item: "conv2d", msg: []string{"conv2d takes a mapping of arguments"}}}},
		{"input a string", `input: big
layers: [relu]
`, []wantErr{{pos: "1:8", path: "input", msg: []string{"input must be an integer", `"big"`}}}},
		{"repeat count", `input: [3, 32, 32]
layers:
  - repeat: two
    layers: [relu]
`, []wantErr{{pos: "3:13", path: "layers[0]", msg: []string{"repeat count must be an integer", `"two"`}}}},
		{"negative repeat", `input: [3, 32, 32]
layers:
  - repeat: -1
    layers: [relu]
`, []wantErr{{pos: "3:13", path: "layers[0]", msg: []string{"must not be negative", "-1"}}}},
	})
}

func TestErrorNames(t *testing.T) {
	runParseCases(t, []errCase{
		{"unknown in from", `input: [3, 32, 32]
layers:
  - relu:
    name: stem
  - conv2d: {out: 8, kernel: 3}
    from: stme
`, []wantErr{{pos: "6:11", path: "layers[1]", msg: []string{`unknown name "stme" in from:`, "did you mean stem?"}}}},
		{"unknown in merge list", `input: [3, 32, 32]
layers:
  - relu:
    name: a
  - add:
    from: [a, b]
`, []wantErr{{pos: "6:15", path: "layers[1]", msg: []string{`unknown name "b" in from:`}}}},
		{"inside a repeat", `input: [3, 32, 32]
layers:
  - repeat: 2
    layers:
      - relu:
        name: r
  - relu:
    from: r
`, []wantErr{{pos: "8:11", path: "layers[1]", msg: []string{`name "r" is defined inside the repeat at layers[0]`, "from outside"}}}},
		{"inside a block", `input: [3, 32, 32]
blocks:
  b:
    layers:
      - relu:
        name: inner
layers:
  - b
  - relu:
    from: inner
`, []wantErr{{pos: "10:11", path: "layers[1]", msg: []string{`name "inner" is defined inside block b`, "from outside"}}}},
		{"duplicate", `input: [3, 32, 32]
layers:
  - relu:
    name: a
  - relu:
    name: a
`, []wantErr{{pos: "6:11", path: "layers[1]", item: "a", msg: []string{`name "a" is already used`}}}},
		{"input is reserved", `input: [3, 32, 32]
layers:
  - relu:
    name: input
`, []wantErr{{pos: "4:11", path: "layers[0]", msg: []string{"input is reserved"}}}},
		{"two inputs to a plain layer", `input: [3, 32, 32]
layers:
  - relu:
    name: a
  - relu:
    from: [a, input]
`, []wantErr{{pos: "6:11", path: "layers[1]", msg: []string{"relu takes one input", "lists 2"}}}},
	})
}

func TestErrorBlockCycle(t *testing.T) {
	runParseCases(t, []errCase{
		{"direct", `input: [3, 32, 32]
blocks:
  a:
    layers:
      - relu
      - a
layers: [a]
`, []wantErr{{pos: "6:9", path: "blocks.a", msg: []string{"block cycle: a -> a"}}}},
		{"indirect", `input: [3, 32, 32]
blocks:
  a:
    layers:
      - b: {}
  b:
    layers:
      - relu
      - residual:
          - c
  c:
    layers:
      - concat:
          - [a]
          - []
layers: [a]
`, []wantErr{{pos: "14:14", path: "blocks.c", msg: []string{"block cycle: a -> b -> c -> a"}}}},
		{"unused block", `input: [3, 32, 32]
blocks:
  fine: [relu]
  loop:
    layers:
      - repeat: 2
        layers: [loop]
layers: [fine]
`, []wantErr{{pos: "7:18", path: "blocks.loop", msg: []string{"block cycle: loop -> loop"}}}},
	})
}

func TestErrorBlockArguments(t *testing.T) {
	runParseCases(t, []errCase{
		{"undeclared $arg", `input: [3, 32, 32]
blocks:
  b:
    args: {out: 8}
    layers:
      - conv2d: {out: $outt, kernel: 3}
layers:
  - b
`, []wantErr{{pos: "6:23", path: "blocks.b.layers[0] (in layers[0])", msg: []string{"block b does not declare argument $outt", "did you mean out?"}}}},
		{"undeclared $arg as repeat count", `input: [3, 32, 32]
blocks:
  b:
    layers:
      - repeat: $n
        layers: [relu]
layers:
  - relu
  - b
`, []wantErr{{pos: "5:17", path: "blocks.b.layers[0] (in layers[1])", msg: []string{"block b does not declare argument $n"}}}},
		{"$arg outside a block", `input: [3, 32, 32]
layers:
  - conv2d: {out: $out, kernel: 3}
`, []wantErr{{pos: "3:19", path: "layers[0]", msg: []string{"$out is used outside a block"}}}},
		{"unknown block argument", `input: [3, 32, 32]
blocks:
  b:
    args: {out: 8}
    layers:
      - conv2d: {out: $out, kernel: 3}
layers:
  - relu
  - b: {outt: 4}
`, []wantErr{{pos: "9:9", path: "layers[1]", msg: []string{`block b has no argument "outt"`, "did you mean out?"}}}},
		{"block arguments not a mapping", `input: [3, 32, 32]
blocks:
  b: [relu]
layers:
  - b: 4
`, []wantErr{{pos: "5:8", path: "layers[0]", msg: []string{"block b takes a mapping of arguments"}}}},
		{"nested use", `input: [3, 32, 32]
blocks:
  inner:
    args: {k: 3}
    layers:
      - conv2d: {out: 8, kernel: $k, strid: 1}
  outer:
    layers:
      - inner: {k: 5}
layers:
  - relu
  - outer
`, []wantErr{{pos: "6:38", path: "blocks.inner.layers[0] (in layers[1])", item: "conv2d", msg: []string{`conv2d has no argument "strid"`, "did you mean stride?"}}}},
	})
}

func TestErrorMergeWithoutFrom(t *testing.T) {
	runParseCases(t, []errCase{
		{"add and concat", `input: [3, 32, 32]
layers:
  - relu
  - add:
  - concat: {dim: 1}
`, []wantErr{
			{pos: "4:5", path: "layers[1]", msg: []string{"add merges named outputs", "from: with two names or more"}},
			{pos: "5:5", path: "layers[2]", msg: []string{"concat merges named outputs", "from: with two names or more"}},
		}},
		{"one name", `input: [3, 32, 32]
layers:
  - relu:
    name: a
  - add:
    from: a
`, []wantErr{{pos: "5:5", path: "layers[1]", msg: []string{"add merges named outputs", "two names or more"}}}},
		{"bare add", `input: [3, 32, 32]
layers:
  - add
`, []wantErr{{pos: "3:5", path: "layers[0]", msg: []string{"add needs from: with two names or more"}}}},
		{"concat batch axis out of range", `input: [3, 32, 32]
layers:
  - relu:
    name: a
  - concat: {dim: 99}
    from: [a, input]
`, []wantErr{{pos: "5:19", path: "layers[1]", msg: []string{"concat dim 99 is out of range"}}}},
	})
}

func TestAnalyzeMergeShapes(t *testing.T) {
	runAnalyzeCases(t, []errCase{
		{"add", `input: [3, 32, 32]
layers:
  - relu:
    name: a
  - conv2d: {out: 8, kernel: 3}
    name: b
  - add:
    from: [a, b]
`, []wantErr{{pos: "7:5", path: "layers[2]", item: "add", msg: []string{"add needs equal shapes", "[1, 3, 32, 32]", "[1, 8, 30, 30]"}}}},
		{"residual body against identity", `input: [3, 32, 32]
layers:
  - relu
  - relu
  - residual:
      - relu
      - residual:
          - conv2d: {out: 8, kernel: 3}
`, []wantErr{{pos: "8:11", path: "layers[2].residual[1]", item: "add", msg: []string{"add needs equal shapes", "[1, 8, 30, 30]", "[1, 3, 32, 32]"}}}},
		{"residual in a block", `input: [3, 32, 32]
blocks:
  res:
    args: {c: 3}
    layers:
      - residual:
          - conv2d: {out: $c, kernel: 3, padding: 1}
layers:
  - res
  - res: {c: 4}
`, []wantErr{{pos: "7:11", path: "blocks.res.layers[0] (in layers[1])", item: "add", msg: []string{"[1, 4, 32, 32]", "[1, 3, 32, 32]"}}}},
		{"concat other axes", `input: [3, 32, 32]
layers:
  - relu:
    name: a
  - conv2d: {out: 8, kernel: 3}
    name: b
  - concat:
    from: [a, b]
`, []wantErr{{pos: "7:5", path: "layers[2]", item: "concat", msg: []string{"concat along dim 1 needs equal sizes on the other axes", "[1, 3, 32, 32]", "[1, 8, 30, 30]", "axis 2"}}}},
		{"concat branches", `input: [3, 32, 32]
layers:
  - concat:
      - [conv2d: {out: 4, kernel: 1}]
      - [maxpool2d: 2]
`, []wantErr{{pos: "3:5", path: "layers[0]", item: "concat", msg: []string{"[1, 4, 32, 32]", "[1, 3, 16, 16]", "axis 2"}}}},
		{"concat ranks", `input: [3, 32, 32]
layers:
  - flatten:
    name: f
  - concat:
    from: [input, f]
`, []wantErr{{pos: "5:5", path: "layers[1]", item: "concat", msg: []string{"equal rank", "[1, 3, 32, 32]", "[1, 3072]"}}}},
		{"concat batch axis", `input: [3, 32, 32]
layers:
  - relu:
    name: a
  - concat: {dim: 0}
    from: [a, input]
`, []wantErr{{pos: "5:19", path: "layers[1]", item: "concat", msg: []string{"batch axis (dim 0)"}}}},
	})
}

func TestAnalyzeConvKernel(t *testing.T) {
	runAnalyzeCases(t, []errCase{
		{"kernel above input", `input: [3, 5, 5]
layers:
  - conv2d: {out: 8, kernel: 7}
`, []wantErr{{pos: "3:30", path: "layers[0]", item: "conv2d",
			msg:    []string{"kernel 7", "exceeds padded input 5", "axis H"},
			detail: []string{"H = floor((5 + 2*0 - 1*(7-1) - 1) / 1) + 1 = -1"}}}},
		{"dilated kernel above padded input", `input: [3, 9, 9]
layers:
  - conv2d: {out: 8, kernel: 3, dilation: 6, padding: 1}
    name: wide
`, []wantErr{{pos: "3:30", path: "layers[0]", item: "wide",
			msg:    []string{"kernel 3 (dilated 13)", "exceeds padded input 11"},
			detail: []string{"H = floor((9 + 2*1 - 6*(3-1) - 1) / 1) + 1 = -1"}}}},
		{"second axis", `input: [3, 32, 2]
layers:
  - conv2d:
      out: 8
      kernel: [3, 3]
`, []wantErr{{pos: "5:15", path: "layers[0]", item: "conv2d",
			msg:    []string{"kernel 3", "exceeds padded input 2", "axis W"},
			detail: []string{"W = floor((2 + 2*0 - 1*(3-1) - 1) / 1) + 1 = 0"}}}},
		{"kernel default position", `input: [3, 4, 4]
layers:
  - maxpool2d: 2
  - maxpool2d: 2
  - conv2d: {out: 2, kernel: 3}
`, []wantErr{{pos: "5:30", path: "layers[2]", item: "conv2d", msg: []string{"kernel 3", "exceeds padded input 1"}}}},
	})
}

func TestAnalyzePoolPadding(t *testing.T) {
	runAnalyzeCases(t, []errCase{
		{"maxpool", `input: [3, 32, 32]
layers:
  - maxpool2d: {kernel: 3, padding: 2}
`, []wantErr{{pos: "3:37", path: "layers[0]", item: "maxpool2d",
			msg: []string{"padding 2 should be at most half of kernel size 3"}, detail: []string{"2 > 3/2 = 1"}}}},
		{"avgpool per axis", `input: [3, 32, 32]
layers:
  - avgpool2d:
      kernel: [4, 2]
      padding: [2, 2]
`, []wantErr{{pos: "5:16", path: "layers[0]", item: "avgpool2d",
			msg: []string{"padding 2 should be at most half of kernel size 2", "axis W"}, detail: []string{"2 > 2/2 = 1"}}}},
	})
}

func TestAnalyzeGroups(t *testing.T) {
	runAnalyzeCases(t, []errCase{
		{"input channels", `input: [3, 32, 32]
layers:
  - conv2d: {out: 8, kernel: 3, groups: 2}
`, []wantErr{{pos: "3:41", path: "layers[0]", item: "conv2d", msg: []string{"in_channels 3 must be divisible by groups 2"}}}},
		{"output channels", `input: [4, 32, 32]
layers:
  - conv2d: {out: 6, kernel: 3, groups: 4}
`, []wantErr{{pos: "3:41", path: "layers[0]", item: "conv2d", msg: []string{"out_channels 6 must be divisible by groups 4"}}}},
		{"groupnorm", `input: [6, 8, 8]
layers:
  - groupnorm: 4
`, []wantErr{{pos: "3:16", path: "layers[0]", item: "groupnorm", msg: []string{"channels 6 must be divisible by num_groups 4"}}}},
	})
}

func TestAnalyzeOutputPadding(t *testing.T) {
	runAnalyzeCases(t, []errCase{
		{"equal to stride", `input: [4, 32, 32]
layers:
  - convtranspose2d: {out: 8, kernel: 3, stride: 2, output_padding: 2}
`, []wantErr{{pos: "3:69", path: "layers[0]", item: "convtranspose2d",
			msg: []string{"output_padding 2 must be smaller than either stride 2 or dilation 1"}}}},
		{"above both", `input: [4, 16]
layers:
  - convtranspose1d: {out: 8, kernel: 3, stride: 2, dilation: 3, output_padding: 3}
`, []wantErr{{pos: "3:82", path: "layers[0]", item: "convtranspose1d",
			msg: []string{"output_padding 3 must be smaller than either stride 2 or dilation 3"}}}},
	})
}

func TestAnalyzeInstanceNorm(t *testing.T) {
	runAnalyzeCases(t, []errCase{
		{"1x1", `input: [4, 1, 1]
layers:
  - instancenorm2d
`, []wantErr{{pos: "3:5", path: "layers[0]", item: "instancenorm2d",
			msg: []string{"more than 1 spatial element", "[1, 4, 1, 1]"}}}},
		{"after global pool", `input: [4, 8, 8]
layers:
  - adaptiveavgpool2d: 1
  - instancenorm2d: {affine: true}
    name: inorm
`, []wantErr{{pos: "4:5", path: "layers[1]", item: "inorm",
			msg: []string{"more than 1 spatial element", "[1, 4, 1, 1]"}}}},
	})
}

func TestAnalyzeFlatten(t *testing.T) {
	runAnalyzeCases(t, []errCase{
		{"start_dim 0", `input: [4, 2, 2]
layers:
  - flatten: {start_dim: 0}
`, []wantErr{{pos: "3:26", path: "layers[0]", item: "flatten", msg: []string{"start_dim 0 folds the batch axis"}}}},
		{"start after end", `input: [4, 2, 2]
layers:
  - flatten: {start_dim: 3, end_dim: 1}
`, []wantErr{{pos: "3:26", path: "layers[0]", item: "flatten", msg: []string{"start_dim 3", "end_dim 1"}}}},
	})
}

func TestAnalyzeLinearWarning(t *testing.T) {
	s, err := Parse("t.yaml", []byte(`input: [4, 2, 2]
layers:
  - relu
  - linear: 10
    name: head
`))
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Evaluate(0, nil)
	if err != nil {
		t.Fatalf("a linear on a 4-D input is a warning, not an error: %v", err)
	}
	warns := a.Warnings
	if got := a.Result.Total.Output; len(got) != 4 || got[3] != 10 {
		t.Errorf("output %v, want [1, 4, 2, 10]", got)
	}
	if len(warns) != 1 {
		t.Fatalf("got %d warnings, want 1: %v", len(warns), warns)
	}
	checkError(t, warns[0], wantErr{pos: "4:5", path: "layers[1]", item: "head",
		msg: []string{"4-D", "[1, 4, 2, 2]", "did you forget flatten?"}})
	if w := warns[0].Error(); warns[0].Severity != SeverityWarning || !strings.HasPrefix(w, "t.yaml:4:5: warning: layers[1] (head): ") {
		t.Errorf("warning %q, severity %d", w, warns[0].Severity)
	}

	// After flatten there is no warning.
	s, err = Parse("t.yaml", []byte("input: [4, 2, 2]\nlayers: [flatten, {linear: 10}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a, err = s.Evaluate(0, nil); err != nil || len(a.Warnings) != 0 {
		t.Errorf("flatten then linear: warnings %v, error %v", a.Warnings, err)
	}
}

func TestAnalyzeInputErrors(t *testing.T) {
	// The input's errors sit on input:, with the path input.
	runAnalyzeCases(t, []errCase{
		{"elements overflow", `name: big
input: [3, 60000000000, 60000000000]
layers: [relu]
`, []wantErr{{pos: "2:8", path: "input", msg: []string{"[1, 3, 60000000000, 60000000000]", "more elements than int64 holds"}}}},
	})
}

// TestErrorListCollects checks that one run reports every error of a file,
// sorted by line, with a second error on the same line dropped.
func TestErrorListCollects(t *testing.T) {
	src := `input: [3, 32, 32]
layers:
  - conv2d: {out: 8, kernel: abc, stride: x}
  - badtype
  - relu: {foo: 1}
  - linear: {out: z}
foo: 1
`
	got := parseErrors(t, src)
	checkErrors(t, got, []wantErr{
		{pos: "3:30", path: "layers[0]", item: "conv2d", msg: []string{"kernel must be an integer"}},
		{pos: "4:5", path: "layers[1]", msg: []string{`unknown layer type "badtype"`}},
		{pos: "5:12", path: "layers[2]", item: "relu", msg: []string{`relu has no argument "foo"`}},
		{pos: "6:19", path: "layers[3]", item: "linear", msg: []string{"out must be an integer"}},
		{pos: "7:1", msg: []string{`unknown top-level key "foo"`}},
	})
	if n := strings.Count(got.Error(), "\n"); n != 4 {
		t.Errorf("Error() has %d lines, want 5:\n%s", n+1, got.Error())
	}
}

func TestErrorListSort(t *testing.T) {
	l := ErrorList{
		{File: "a.yaml", Pos: Pos{5, 3}, Msg: "e"},
		{File: "a.yaml", Pos: Pos{2, 9}, Msg: "b"},
		{File: "a.yaml", Pos: Pos{2, 1}, Msg: "a"},
		{File: "a.yaml", Msg: "whole file 1"},
		{File: "a.yaml", Msg: "whole file 2"},
		{File: "a.yaml", Pos: Pos{5, 1}, Msg: "d"},
	}
	err := l.Err()
	var got ErrorList
	if !errors.As(err, &got) {
		t.Fatalf("Err() = %T", err)
	}
	var msgs []string
	for _, e := range got {
		msgs = append(msgs, e.Msg)
	}
	// Errors without a line are never dropped as "on the same line".
	if want := "whole file 1,whole file 2,a,d"; strings.Join(msgs, ",") != want {
		t.Errorf("sorted %v, want %s", msgs, want)
	}
	if (ErrorList{}).Err() != nil {
		t.Error("an empty list's Err() is not nil")
	}
	if s := (ErrorList{}).Error(); s != "no errors" {
		t.Errorf("empty Error() = %q", s)
	}
}

func TestErrorListSummary(t *testing.T) {
	var b strings.Builder
	b.WriteString("input: [3, 32, 32]\nlayers:\n")
	const n = 15
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  - conv2d: {out: 8, kernel: k%d}\n", i)
	}
	got := parseErrors(t, b.String())
	if len(got) != n {
		t.Fatalf("got %d errors, want all %d", len(got), n)
	}
	for i, e := range got {
		if e.Line != 3+i {
			t.Errorf("error %d on line %d, want %d (sorted by line)", i, e.Line, 3+i)
		}
	}
	lines := strings.Split(got.Error(), "\n")
	if len(lines) != MaxErrors+1 {
		t.Fatalf("Error() has %d lines, want %d:\n%s", len(lines), MaxErrors+1, got.Error())
	}
	if want := fmt.Sprintf("(and %d more errors)", n-MaxErrors); lines[MaxErrors] != want {
		t.Errorf("last line %q, want %q", lines[MaxErrors], want)
	}
	if want := `t.yaml:12:30: layers[9] (conv2d): kernel must be an integer, got "k9"`; lines[MaxErrors-1] != want {
		t.Errorf("line %d = %q, want %q", MaxErrors, lines[MaxErrors-1], want)
	}
}

// TestErrorFormat pins the text of one error: file:line:col: path (item): msg.
func TestErrorFormat(t *testing.T) {
	e := &Diagnostic{File: "net.yaml", Pos: Pos{12, 5}, Path: "layers[3]", Item: "conv2", Msg: "kernel 7 exceeds padded input 5"}
	if got, want := e.Error(), "net.yaml:12:5: layers[3] (conv2): kernel 7 exceeds padded input 5"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	e = &Diagnostic{File: "net.yaml", Msg: "YAML: the file is empty"}
	if got, want := e.Error(), "net.yaml: YAML: the file is empty"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestYAMLErrorPositions(t *testing.T) {
	cases := []struct {
		name, src string
		pos       string
		msg       string
	}{
		{"first line scanner error", "a: b: c\n", "1:1", "mapping values are not allowed"},
		{"later line", "input: [3]\nlayers:\n  - a\n  b: c: d\n", "", "YAML:"},
		{"unknown anchor", "input: [3]\nlayers: *nope\n", "2:9", "unknown anchor 'nope'"},
		{"NUL byte", "input: [3]\nlayers: [re\x00lu]\n", "2:12", "control characters"},
		{"invalid UTF-8", "input: [3]\nname: caf\xe9\nlayers: [relu]\n", "2:10", "UTF-8"},
		{"second document", "input: [3]\nlayers: [relu]\n---\ninput: [4]\n", "3:1", "second YAML document"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := parseErrors(t, c.src)
			if len(got) != 1 {
				t.Fatalf("got %d errors: %v", len(got), got)
			}
			e := got[0]
			if e.Line < 1 {
				t.Errorf("%v: no line", e)
			}
			if pos := fmt.Sprintf("%d:%d", e.Line, e.Col); c.pos != "" && pos != c.pos {
				t.Errorf("%v: position %s, want %s", e, pos, c.pos)
			}
			if !strings.Contains(e.Msg, c.msg) {
				t.Errorf("%v: message lacks %q", e, c.msg)
			}
			if strings.Contains(e.Msg, "yaml: yaml:") || strings.Contains(e.Msg, "YAML: yaml:") {
				t.Errorf("%v: doubled prefix", e)
			}
		})
	}
}

// TestErrorNoCascade checks that a name whose item failed is not then
// reported as unknown where it is used.
func TestErrorNoCascade(t *testing.T) {
	got := parseErrors(t, `input: [3, 32, 32]
layers:
  - conv2d: {out: 8, kernel: abc}
    name: a
  - relu:
    from: a
  - add:
    from: [a, input]
`)
	checkErrors(t, got, []wantErr{{pos: "3:30", path: "layers[0]", item: "a", msg: []string{"kernel must be an integer"}}})
}

// A panic while reading a spec is a bug of cnncalc: Parse recovers it into
// an ErrorList whose diagnostic says so and holds an *InternalError (what
// panicked and the stack), which errors.As finds, so that the command can
// tell a bug from a fault of the spec.
func TestParsePanicIsInternalError(t *testing.T) {
	_, err := parse("net.yaml", []byte("input: [3]\nlayers: [relu]\n"), &work{fault: func() { panic("boom") }})
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 {
		t.Fatalf("error %T %v, want an ErrorList of one", err, err)
	}
	if got, want := list.Error(), "net.yaml: internal error reading the spec: boom"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	var ie *InternalError
	if !errors.As(err, &ie) || ie.Value != "boom" || !strings.Contains(string(ie.Stack), "spec.TestParsePanicIsInternalError") {
		t.Fatalf("errors.As finds %+v, want the InternalError with its stack", ie)
	}
	// A fault of the spec is not one.
	_, err = Parse("net.yaml", []byte("input: [3]\nlayers: [reul]\n"))
	if err == nil || errors.As(err, &ie) {
		t.Errorf("a bad spec: %v, an InternalError: %v", err, errors.As(err, &ie))
	}
}
