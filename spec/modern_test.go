package spec

import (
	"slices"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/calc"
)

// The positioned errors of the modern constructs' misuse: a gate whose
// channels do not match, a split that does not add up, a chunk index past
// the pieces, a permute that is not a permutation, a shuffle whose groups
// do not divide the channels, an unknown size_of name.
func TestAnalyzeModernMisuse(t *testing.T) {
	runAnalyzeCases(t, []errCase{
		{"gate channels", `input: [16, 8, 8]
layers:
  - gate:
      - adaptiveavgpool2d: 1
      - conv2d: {out: 8, kernel: 1}
      - sigmoid
`, []wantErr{{pos: "3:5", path: "layers[0]", item: "mul", msg: []string{"mul cannot broadcast", "[1, 16, 8, 8]", "[1, 8, 1, 1]", "16 against 8 on axis 1"}}}},
		{"split sections", `input: [8, 4, 4]
layers:
  - split: {sections: [3, 4], index: 0}
`, []wantErr{{pos: "3:23", path: "layers[0]", item: "split", msg: []string{"split sections [3, 4] do not add up to the axis size 8"}, detail: []string{"3 + 4 = 7 != 8"}}}},
		{"chunk index", `input: [6, 4, 4]
layers:
  - chunk: {chunks: 4, index: 3}
`, []wantErr{{pos: "3:31", path: "layers[0]", item: "chunk", msg: []string{"chunk index 3 is out of range", "6 split into 4 chunks gives 3 pieces"}, detail: []string{"ceil(6/4) = 2"}}}},
		{"permute", `input: [3, 4, 4]
layers:
  - permute: [0, 2, 2, 1]
`, []wantErr{{pos: "3:14", path: "layers[0]", item: "permute", msg: []string{"not a permutation of 0..3"}}}},
		{"permute batch", `input: [3, 4, 4]
layers:
  - permute: [1, 0, 2, 3]
`, []wantErr{{pos: "3:14", path: "layers[0]", item: "permute", msg: []string{"move the batch axis"}}}},
		{"shuffle groups", `input: [6, 4, 4]
layers:
  - channelshuffle: 4
`, []wantErr{{pos: "3:21", path: "layers[0]", item: "channelshuffle", msg: []string{"channels 6 must be divisible by groups 4"}}}},
		{"prelu parameters", `input: [6, 4, 4]
layers:
  - prelu: 4
`, []wantErr{{pos: "3:12", path: "layers[0]", item: "prelu", msg: []string{"num_parameters 4 must be 1 or the input's 6 channels"}}}},
	})
	list := parseErrors(t, `input: [3, 8, 8]
layers:
  - upsample: {size_of: nowhere}
`)
	checkErrors(t, list, []wantErr{{pos: "3:25", path: "layers[0]", item: "upsample", msg: []string{`unknown name "nowhere"`}}})
}

// TestBlockListArgument: a $arg inside a list is substituted per use, as
// the primary argument (maxpool2d: [$k, 1]) and under a named argument
// (stride: [1, $s]); the block's definition is not changed by a use, so a
// second use with another value gets its own.
func TestBlockListArgument(t *testing.T) {
	s, err := Parse("t.yaml", []byte(`input: [4, 32, 32]
blocks:
  pool:
    args: {k: 2, s: 1}
    layers:
      - maxpool2d: [$k, 1]
      - conv2d: {out: 4, kernel: 1, stride: [1, $s]}
layers:
  - pool: {k: 2, s: 2}
  - pool: {k: 4, s: 1}
`))
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Evaluate(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]int64
	for _, l := range a.Result.Layers {
		got = append(got, l.Output[1:])
	}
	// 32x32 -maxpool [2,1]-> 16x32 -stride [1,2]-> 16x16 -maxpool [4,1]-> 4x16 -stride 1-> 4x16
	want := [][]int64{{4, 16, 32}, {4, 16, 16}, {4, 4, 16}, {4, 4, 16}}
	for i := range want {
		if i >= len(got) || !slices.Equal(got[i], want[i]) {
			t.Fatalf("outputs %v, want %v", got, want)
		}
	}
	if k := a.Net.Nodes[2].Kernel; !slices.Equal(k, []int64{4, 1}) {
		t.Errorf("second use's kernel %v, want [4 1]", k)
	}
}

// TestUnusedOutputWarning: a branch whose output nothing reads (the old
// spelling of squeeze-excitation) is a warning naming the item.
func TestUnusedOutputWarning(t *testing.T) {
	s, err := Parse("t.yaml", []byte(`input: [8, 4, 4]
layers:
  - relu:
    name: x
  - adaptiveavgpool2d: 1
  - sigmoid:
    name: gate
  - conv2d: {out: 8, kernel: 1}
    from: x
`))
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Evaluate(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Warnings) != 1 || a.Warnings[0].Item != "gate" || !strings.Contains(a.Warnings[0].Msg, "never used") || a.Warnings[0].Line != 6 {
		t.Fatalf("warnings %v, want one on gate (line 6)", a.Warnings)
	}
	if a.Net.Nodes[2].Type != calc.Sigmoid {
		t.Errorf("node 2 is %v", a.Net.Nodes[2].Type)
	}
}

// TestBlockListArgumentPassedOn: a list holding an outer block's $arg,
// passed as an argument to an inner block, is substituted in the outer
// block's scope (S3D's TemporalSeparableConv passes kernel: [1, $k, $k]).
func TestBlockListArgumentPassedOn(t *testing.T) {
	s, err := Parse("t.yaml", []byte(`input: [2, 8, 8, 8]
blocks:
  cbr:
    args: {kernel: 1}
    layers:
      - conv3d: {out: 2, kernel: $kernel}
  sep:
    args: {k: 3}
    layers:
      - cbr: {kernel: [1, $k, $k]}
layers:
  - sep: {k: 3}
`))
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Evaluate(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Result.Layers[0].Output[1:]; !slices.Equal(got, calc.Shape{2, 8, 6, 6}) {
		t.Errorf("output %v, want [2 8 6 6]", got)
	}
}
