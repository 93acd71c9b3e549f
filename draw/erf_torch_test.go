package draw

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/cnncalc/cnncalc/exec"
	"github.com/cnncalc/cnncalc/exec/tensorio"
	"github.com/cnncalc/cnncalc/spec"
)

// erfCase is what testdata/torch/erf/gen_erf.py writes beside each
// expected gradient.
type erfCase struct {
	Name   string    `json:"name"`
	Spec   string    `json:"spec"`
	Input  []int64   `json:"input"`
	Row    int       `json:"row"`
	Unit   []int     `json:"unit"`
	Value  float64   `json:"unit_value"`
	AbsSum float64   `json:"grad_abs_sum"`
	Rule   []float64 `json:"input_rule"`
	Keys   []struct {
		Name  string   `json:"name"`
		Shape []int    `json:"shape"`
		Lo    *float64 `json:"lo"`
		Hi    *float64 `json:"hi"`
	} `json:"keys"`
}

// inputTensor is the rule's tensor number of the input.
const inputTensor = 1000000

// ruleU is gen_erf.py's u(t, j): the top 24 bits of splitmix64(t<<32 | j)
// over 2^24.
func ruleU(t, j uint64) float64 {
	z := t<<32 | j
	z += 0x9E3779B97F4A7C15
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	z ^= z >> 31
	return float64(z>>40) / (1 << 24)
}

func ruleFill(t uint64, n int, lo, hi float64) []float32 {
	out := make([]float32, n)
	for j := range out {
		out[j] = float32(lo + (hi-lo)*ruleU(t, uint64(j)))
	}
	return out
}

// writeSafetensors writes the case's state_dict by the rule, in its order.
func writeSafetensors(t *testing.T, c *erfCase, path string) {
	type entry struct {
		DType   string `json:"dtype"`
		Shape   []int  `json:"shape"`
		Offsets [2]int `json:"data_offsets"`
	}
	var header bytes.Buffer
	header.WriteString("{")
	var data bytes.Buffer
	for ti, k := range c.Keys {
		n := 1
		for _, d := range k.Shape {
			n *= d
		}
		start := data.Len()
		dtype := "F32"
		if k.Lo == nil {
			dtype = "I64"
			for j := 0; j < n; j++ {
				binary.Write(&data, binary.LittleEndian, int64(1))
			}
		} else {
			binary.Write(&data, binary.LittleEndian, ruleFill(uint64(ti), n, *k.Lo, *k.Hi))
		}
		e, _ := json.Marshal(entry{dtype, k.Shape, [2]int{start, data.Len()}})
		if ti > 0 {
			header.WriteString(",")
		}
		name, _ := json.Marshal(k.Name)
		header.Write(name)
		header.WriteString(":")
		header.Write(e)
	}
	header.WriteString("}")
	for header.Len()%8 != 0 {
		header.WriteString(" ")
	}
	var f bytes.Buffer
	binary.Write(&f, binary.LittleEndian, uint64(header.Len()))
	f.Write(header.Bytes())
	f.Write(data.Bytes())
	if err := os.WriteFile(path, f.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestEffectiveFieldMatchesPyTorch: the input gradient of a layer's centre
// unit, from exec's backward pass through Effective, equals PyTorch's
// autograd on the same weights and input (testdata/torch/erf), element by
// element within float32 tolerance, and so does the effective field's map.
func TestEffectiveFieldMatchesPyTorch(t *testing.T) {
	files, _ := filepath.Glob("../testdata/torch/erf/*.json")
	if len(files) == 0 {
		t.Skip("no cases in testdata/torch/erf (run /usr/bin/python3 testdata/torch/erf/gen_erf.py)")
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var c erfCase
		if err := json.Unmarshal(data, &c); err != nil {
			t.Fatal(err)
		}
		t.Run(c.Name, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("..", c.Spec))
			if err != nil {
				t.Fatal(err)
			}
			s, err := spec.Parse(c.Spec, src)
			if err != nil {
				t.Fatal(err)
			}
			a, err := s.Evaluate(1, c.Input)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := exec.NewPlan(&a.Net)
			if err != nil {
				t.Fatal(err)
			}
			ckpt := filepath.Join(t.TempDir(), "w.safetensors")
			writeSafetensors(t, &c, ckpt)
			params, err := tensorio.LoadSafetensors(plan, ckpt, func(i int) string { return a.Net.Nodes[i].Name })
			if err != nil {
				t.Fatal(err)
			}
			shape := append([]int{1}, toInt(c.Input)...)
			n := 1
			for _, d := range shape {
				n *= d
			}
			x := exec.FromData(ruleFill(inputTensor, n, c.Rule[0], c.Rule[1]), shape...)
			f, err := TheoreticalField(a, c.Row-1)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(f.Unit) != fmt.Sprint(c.Unit) {
				t.Fatalf("unit %v, PyTorch's %v", f.Unit, c.Unit)
			}
			if err := Effective(a, f, params, x, 0); err != nil || f.Err != "" {
				t.Fatal(err, f.Err)
			}
			want, err := tensorio.ReadNpy(filepath.Join(filepath.Dir(file), c.Name+".grad.npy"))
			if err != nil {
				t.Fatal(err)
			}
			// The signed gradient, recomputed as Effective does.
			got := gradient(t, a, f, params, x)
			if len(got) != len(want.Data) {
				t.Fatalf("%d gradient values, PyTorch's %d", len(got), len(want.Data))
			}
			var maxAbs, maxDiff float64
			at := -1
			for i := range got {
				maxAbs = max(maxAbs, math.Abs(float64(want.Data[i])))
			}
			for i := range got {
				if d := math.Abs(float64(got[i] - want.Data[i])); d > maxDiff {
					maxDiff, at = d, i
				}
			}
			if maxDiff > 1e-4*maxAbs+1e-7 {
				t.Errorf("gradient differs from PyTorch's by %.3g at %d (%g, want %g); max |grad| %.3g", maxDiff, at, got[at], want.Data[at], maxAbs)
			}
			var sum float64
			for _, v := range f.Grad {
				sum += v
			}
			if math.Abs(sum-c.AbsSum) > 1e-4*c.AbsSum {
				t.Errorf("effective field's mass %.8g, PyTorch's %.8g", sum, c.AbsSum)
			}
			t.Logf("%s row %d: max |grad| %.4g, max difference %.3g; mass %.8g, PyTorch %.8g; %v", c.Name, c.Row, maxAbs, maxDiff, sum, c.AbsSum, f.Summary())
		})
	}
}

// gradient is the signed input gradient of f's unit, batch element 0.
func gradient(t *testing.T, a *spec.Analysis, f *Field, params []exec.Weights, x *exec.Tensor) []float32 {
	net := a.Net
	net.Nodes = net.Nodes[:f.Node+1]
	plan, err := exec.NewPlan(&net)
	if err != nil {
		t.Fatal(err)
	}
	run, err := plan.Forward(params[:f.Node+1], x, exec.Options{KeepAll: true})
	if err != nil {
		t.Fatal(err)
	}
	out := plan.Shapes[f.Node]
	seed := exec.New(out...)
	plane := len(seed.Data) / out[0] / out[1]
	for ch := 0; ch < out[1]; ch++ {
		off := 0
		stride := 1
		for a2 := len(f.Unit) - 1; a2 >= 0; a2-- {
			off += f.Unit[a2] * stride
			stride *= out[2+a2]
		}
		seed.Data[ch*plane+off] = 1
	}
	gx, err := plan.Backward(params[:f.Node+1], run, x, f.Node, seed)
	if err != nil {
		t.Fatal(err)
	}
	return gx.Data[:len(gx.Data)/out[0]]
}

func toInt(v []int64) []int {
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}
