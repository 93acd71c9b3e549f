// Package quiz holds the course's week 1 self-check (Coursera "Convolutional
// Neural Networks") and the practice questions of cnncalc quiz: the eight
// course questions, each answered when asked by calc (formulas) and exec
// (float32 kernels), and generators of fresh numeric questions with their
// answers, worked formulas and the wrong answers the usual slips give, and
// the grading of a typed answer.
//
// quiz reads no flags and prints only to the writers it is given; the
// command is in cmd/cnncalc.
//
// The course writes volumes H x W x C, the lecture (and cnncalc) C x H x W;
// quiz shows every volume in both and accepts an answer in either where the
// two cannot be confused.
package quiz

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/exec"
)

// width is the width quiz wraps its prose to.
const width = 96

// Wrap writes text to w wrapped to 96 columns, the first line after prefix
// and the others indented as far. "H x W x C" stays on one line.
func Wrap(w io.Writer, prefix, text string) {
	ind := strings.Repeat(" ", len(prefix))
	line := prefix
	// Keep "H x W x C" on one line.
	text = strings.ReplaceAll(text, " x ", "\x00x\x00")
	for _, word := range strings.Fields(text) {
		word = strings.ReplaceAll(word, "\x00", " ")
		if len(line) > len(ind) && len(line)+1+len(word) > width {
			fmt.Fprintln(w, line)
			line = ind
		}
		if len(line) > len(ind) {
			line += " "
		}
		line += word
	}
	fmt.Fprintln(w, line)
}

// volume is a volume in the course's order, H x W x C.
type volume struct{ H, W, C int64 }

func (v volume) hwc() string { return fmt.Sprintf("%dx%dx%d", v.H, v.W, v.C) }
func (v volume) chw() string { return fmt.Sprintf("%dx%dx%d", v.C, v.H, v.W) }

// in returns the volume in the given notation's order.
func (v volume) in(n notation) [3]int64 {
	if n == chwNotation {
		return [3]int64{v.C, v.H, v.W}
	}
	return [3]int64{v.H, v.W, v.C}
}

func (v volume) notations() *Notations { return &Notations{HWC: v.hwc(), CHW: v.chw()} }

// shape is the volume as a batch-1 tensor shape (N, C, H, W).
func (v volume) shape() calc.Shape { return calc.Shape{1, v.C, v.H, v.W} }

// volumeOf reads (N, C, H, W).
func volumeOf(s calc.Shape) volume { return volume{H: s[2], W: s[3], C: s[1]} }

// notation is the order a volume is written in.
type notation int

const (
	hwcNotation notation = iota // the course's H x W x C
	chwNotation                 // the lecture's and PyTorch's C x H x W
)

func (n notation) String() string {
	if n == chwNotation {
		return "C x H x W"
	}
	return "H x W x C"
}

// typeName is a layer's type as quiz prints it, in node names and evidence.
func typeName(l calc.Layer) string { return l.Type.String() }

// newNet chains layers on a batch-1 input, with worked formulas.
func newNet(in volume, layers ...calc.Layer) *calc.Network {
	net := &calc.Network{Name: "quiz", Input: in.shape(), Explain: true}
	for i, l := range layers {
		net.Nodes = append(net.Nodes, calc.Node{Layer: l, Name: fmt.Sprintf("%s_%d", typeName(l), i+1), From: []int{i - 1}})
	}
	return net
}

// analyze runs calc on net and turns its errors into one.
func analyze(net *calc.Network) (*calc.Result, error) {
	res, errs := calc.Analyze(net)
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return nil, fmt.Errorf("calc: %s", strings.Join(msgs, "; "))
	}
	return res, nil
}

// forward runs a forward pass of a zero input through net with exec and
// returns the output shape and the multiply-accumulates the kernels did.
func forward(net *calc.Network) ([]int, int64, error) {
	plan, err := exec.NewPlan(net)
	if err != nil {
		return nil, 0, err
	}
	shape := make([]int, len(net.Input))
	for i, v := range net.Input {
		shape[i] = int(v)
	}
	res, err := plan.Forward(plan.Init(1), exec.New(shape...), exec.Options{})
	if err != nil {
		return nil, 0, err
	}
	var macs int64
	for _, l := range res.Layers {
		macs += l.MACs
	}
	return res.Output.Shape, macs, nil
}

// joinInts writes sizes the lecture's way: 1x3x224x224.
func joinInts(s []int) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, "x")
}

// joinX writes sizes the lecture's way: 1x3x224x224.
func joinX(v []int64) string {
	b := make([]byte, 0, 8*len(v))
	for i, x := range v {
		if i > 0 {
			b = append(b, 'x')
		}
		b = strconv.AppendInt(b, x, 10)
	}
	return string(b)
}

// dims writes a shape without its batch axis: 6x28x28.
func dims(s calc.Shape) string {
	if len(s) < 2 {
		return "-"
	}
	return joinX(s[1:])
}

// sizes keeps calc's formulas of the spatial sizes (H = ..., W = ...).
func sizes(formulas []string) []string {
	var out []string
	for _, f := range formulas {
		if strings.HasPrefix(f, "H = ") || strings.HasPrefix(f, "W = ") {
			out = append(out, f)
		}
	}
	return out
}

// formulaOf returns calc's formula that starts with prefix.
func formulaOf(formulas []string, prefix string) string {
	for _, f := range formulas {
		if strings.HasPrefix(f, prefix) {
			return f
		}
	}
	return ""
}

// execEvidence is the evidence line of a forward pass.
func execEvidence(net *calc.Network) (string, []int, error) {
	shape, macs, err := forward(net)
	if err != nil {
		return "", nil, fmt.Errorf("exec: %w", err)
	}
	e := fmt.Sprintf("exec: zero input %s (N x C x H x W) -> %s",
		joinX(net.Input), joinInts(shape))
	if macs > 0 {
		e += fmt.Sprintf(", %s MACs run", calc.Group(macs))
	}
	return e, shape, nil
}
