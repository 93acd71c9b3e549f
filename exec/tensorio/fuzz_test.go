package tensorio

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/exec"
)

// FuzzReadNpy: no input panics DecodeNpy; what it accepts holds as many
// values as its shape says, costs at most the file's size (a float32 per
// 4 bytes of it), and reads back the same after WriteNpy. Seeds: every
// .npy under testdata/torch and the malformed headers that panicked npyio.
//
//	go test ./exec/tensorio -run '^$' -fuzz FuzzReadNpy -fuzztime 5m
func FuzzReadNpy(f *testing.F) {
	for _, path := range npyTestdata(f) {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	six := f32s(0, 1, 2, 3, 4, 5)
	for _, h := range []string{
		"{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4', }",
		"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), ",
		"{'descr': '<f4', 'fortran_order': False, 'shape': (,",
		"{'descr': <f4', 'fortran_order': False, 'shape': (2, 3), }",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
		"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 100000, 100000), }",
	} {
		f.Add(npyFile(1, h, six))
	}
	f.Add(npyFile(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", six))
	f.Add([]byte("\x93NUMPY\x01000"))
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := decode(b)
		if err != nil {
			if x != nil {
				t.Fatal("a tensor and an error")
			}
			return
		}
		n := 1
		for _, d := range x.Shape {
			n *= d
		}
		if len(x.Data) != n || 4*len(x.Data) > len(b) {
			t.Fatalf("shape %v, %d values from %d bytes", x.Shape, len(x.Data), len(b))
		}
		var buf bytes.Buffer
		if err := WriteNpy(&buf, x); err != nil {
			t.Fatal(err)
		}
		y, err := decode(buf.Bytes())
		if err != nil {
			t.Fatalf("WriteNpy %v, read back: %v", x.Shape, err)
		}
		if !slices.Equal(x.Shape, y.Shape) || len(x.Data) != len(y.Data) {
			t.Fatalf("wrote %v, read back %v", x.Shape, y.Shape)
		}
		for i := range x.Data {
			if math.Float32bits(x.Data[i]) != math.Float32bits(y.Data[i]) {
				t.Fatalf("value %d: wrote %v, read back %v", i, x.Data[i], y.Data[i])
			}
		}
	})
}

// fuzzPlan is a small network of testdata/torch/exec with a checkpoint,
// and an input for it.
type fuzzPlan struct {
	plan *exec.Plan
	x    *exec.Tensor
	file string
}

func fuzzPlans(f *testing.F) []fuzzPlan {
	cps, _ := filepath.Glob("../../testdata/torch/exec/*.safetensors")
	var out []fuzzPlan
	seen := map[string]bool{}
	for _, cp := range cps {
		base := strings.TrimSuffix(strings.TrimSuffix(cp, ".safetensors"), ".sorted")
		if seen[base] {
			continue
		}
		seen[base] = true
		src, err := os.ReadFile(base + ".yaml")
		if err != nil {
			f.Fatal(err)
		}
		p := planOf(f, base+".yaml", src)
		out = append(out, fuzzPlan{p, inputFor(p), base})
	}
	if len(out) == 0 {
		f.Fatal("no checkpoints under testdata/torch/exec")
	}
	return out
}

// inputFor is an input of the plan's shape with values -3..3.
func inputFor(p *exec.Plan) *exec.Tensor {
	in := make([]int, len(p.Net.Input))
	for i, d := range p.Net.Input {
		in[i] = int(d)
	}
	x := exec.New(in...)
	for i := range x.Data {
		x.Data[i] = float32(i%7) - 3
	}
	return x
}

// FuzzSafetensors loads a safetensors file into one of the small plans of
// testdata/torch/exec (which % their number) and runs a forward pass: no
// input panics; what loads is exactly the plan's weights (Plan.WeightBytes
// of float32, whatever the file's size) and runs. Seeds: each plan's
// checkpoint, in state_dict and in name order, and tinySpec's in every
// dtype.
//
//	go test ./exec/tensorio -run '^$' -fuzz FuzzSafetensors -fuzztime 5m -fuzzminimizetime 10x
//
// (each execution runs a forward pass: minimizing a new input for the
// default 60 s leaves little time to fuzz.)
func FuzzSafetensors(f *testing.F) {
	plans := fuzzPlans(f)
	for i, fp := range plans {
		for _, suffix := range []string{".safetensors", ".sorted.safetensors"} {
			if b, err := os.ReadFile(fp.file + suffix); err == nil {
				f.Add(b, uint8(i))
			}
		}
	}
	tiny := tinyPlan(f)
	plans = append(plans, fuzzPlan{tiny, inputFor(tiny), "tiny"})
	for _, dtype := range []string{"F32", "F64", "F16", "BF16"} {
		f.Add(safetensorsFile(tinyTensors(dtype)), uint8(len(plans)-1))
	}
	f.Fuzz(func(t *testing.T, b []byte, which uint8) {
		fp := plans[int(which)%len(plans)]
		ws, err := load(fp.plan, b)
		if err != nil {
			if ws != nil {
				t.Fatal("weights and an error")
			}
			return
		}
		var got int64
		for _, w := range ws {
			for k := range exec.TensorNames {
				if x := *w.Slot(k); x != nil {
					got += 4 * int64(len(x.Data))
				}
			}
		}
		if got != fp.plan.WeightBytes {
			t.Fatalf("loaded %d bytes of weights, the plan takes %d", got, fp.plan.WeightBytes)
		}
		if _, err := fp.plan.Forward(ws, fp.x.Clone(), exec.Options{}); err != nil {
			t.Fatalf("forward pass: %v", err)
		}
	})
}
