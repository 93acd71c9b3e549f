package exec

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// kernelCase is one PyTorch case of testdata/torch/kernels/*.json, written
// by testdata/torch/kernels/gen_pool.py.
type kernelCase struct {
	Name            string    `json:"name"`
	Op              string    `json:"op"`
	Kernel          []int     `json:"kernel"`
	Stride          []int     `json:"stride"`
	Padding         []int     `json:"padding"`
	Dilation        []int     `json:"dilation"`
	CeilMode        bool      `json:"ceil_mode"`
	CountIncludePad bool      `json:"count_include_pad"`
	OutputSize      []int     `json:"output_size"`
	Mode            string    `json:"mode"`
	AlignCorners    bool      `json:"align_corners"`
	Scale           []float64 `json:"scale"`
	Pad             []int     `json:"pad"`
	InputShape      []int     `json:"input_shape"`
	Input           []float32 `json:"input"`
	OutputShape     []int     `json:"output_shape"`
	Output          []float32 `json:"output"`
}

// loadKernelCases reads testdata/torch/kernels/NAME.json.
func loadKernelCases(t *testing.T, name string) []kernelCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "torch", "kernels", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []kernelCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s.json: %v", name, err)
	}
	if len(f.Cases) == 0 {
		t.Fatalf("%s.json: no cases", name)
	}
	return f.Cases
}

// torchTol is the agreement required with PyTorch, absolute + relative.
const torchTol = 1e-5

func TestPoolMatchesTorch(t *testing.T) {
	counts := map[string]int{}
	for _, tc := range loadKernelCases(t, "pool") {
		x := FromData(tc.Input, tc.InputShape...)
		got, ref := New(tc.OutputShape...), New(tc.OutputShape...)
		switch tc.Op {
		case "maxpool":
			MaxPool(got, x, tc.Kernel, tc.Stride, tc.Padding, tc.Dilation)
			refMaxPool(ref, x, tc.Kernel, tc.Stride, tc.Padding, tc.Dilation)
		case "avgpool":
			AvgPool(got, x, tc.Kernel, tc.Stride, tc.Padding, tc.CountIncludePad)
			refAvgPool(ref, x, tc.Kernel, tc.Stride, tc.Padding, tc.CountIncludePad)
		case "adaptiveavgpool":
			AdaptiveAvgPool(got, x)
			refAdaptivePool(ref, x, false)
		case "adaptivemaxpool":
			AdaptiveMaxPool(got, x)
			refAdaptivePool(ref, x, true)
		default:
			t.Fatalf("%s: unknown op %q", tc.Name, tc.Op)
		}
		counts[tc.Op]++
		checkTensor(t, tc.Name+" fast vs torch", got.Data, tc.Output, torchTol)
		checkTensor(t, tc.Name+" reference vs torch", ref.Data, tc.Output, torchTol)
	}
	t.Logf("torch pool cases: %v", counts)
}

// poolOutSize is PyTorch's pooling output size on one axis, ceil_mode
// included: the last window must start inside the input or left padding.
func poolOutSize(in, k, s, p, d int, ceil bool) int {
	span := in + 2*p - d*(k-1) - 1
	o := span/s + 1
	if ceil {
		o = (span+s-1)/s + 1
		if (o-1)*s >= in+p {
			o--
		}
	}
	return o
}

// randPoolGeom draws a valid pooling geometry for rank spatial axes and
// returns the input shape, per-axis kernel, stride, padding, dilation and
// the output shape.
func randPoolGeom(r *rand.Rand, rank int, dilated bool) (in []int, k, s, p, d []int, out []int) {
	ceil := r.IntN(2) == 0
	in = []int{1 + r.IntN(2), 1 + r.IntN(3)}
	out = append([]int(nil), in...)
	for a := 0; a < rank; a++ {
		ka, sa, da := 1+r.IntN(4), 1+r.IntN(3), 1
		if dilated {
			da = 1 + r.IntN(2)
		}
		pa := r.IntN(ka/2 + 1)
		size := max(1, da*(ka-1)+1-2*pa) + r.IntN(8)
		in = append(in, size)
		k, s, p, d = append(k, ka), append(s, sa), append(p, pa), append(d, da)
		out = append(out, poolOutSize(size, ka, sa, pa, da, ceil))
	}
	return
}

func TestPoolMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 300; trial++ {
		rank := 1 + trial%3
		in, k, s, p, d, outShape := randPoolGeom(r, rank, true)
		x := randTensor(r, in...)
		name := fmt.Sprintf("trial %d x%v k%v s%v p%v d%v", trial, in, k, s, p, d)
		got, want := New(outShape...), New(outShape...)
		MaxPool(got, x, k, s, p, d)
		refMaxPool(want, x, k, s, p, d)
		checkTensor(t, "MaxPool "+name, got.Data, want.Data, 1e-6)

		in, k, s, p, _, outShape = randPoolGeom(r, rank, false)
		x = randTensor(r, in...)
		for _, cip := range []bool{true, false} {
			got, want := New(outShape...), New(outShape...)
			AvgPool(got, x, k, s, p, cip)
			refAvgPool(want, x, k, s, p, cip)
			checkTensor(t, fmt.Sprintf("AvgPool(count_include_pad=%v) trial %d x%v k%v s%v p%v", cip, trial, in, k, s, p), got.Data, want.Data, 1e-5)
		}

		in = in[:2]
		outShape = append([]int(nil), in...)
		for a := 0; a < rank; a++ {
			in = append(in, 1+r.IntN(9))
			outShape = append(outShape, 1+r.IntN(9))
		}
		x = randTensor(r, in...)
		got, want = New(outShape...), New(outShape...)
		AdaptiveAvgPool(got, x)
		refAdaptivePool(want, x, false)
		checkTensor(t, fmt.Sprintf("AdaptiveAvgPool trial %d x%v out%v", trial, in, outShape), got.Data, want.Data, 1e-5)
		AdaptiveMaxPool(got, x)
		refAdaptivePool(want, x, true)
		checkTensor(t, fmt.Sprintf("AdaptiveMaxPool trial %d x%v out%v", trial, in, outShape), got.Data, want.Data, 0)
	}
}

func TestMaxPoolPropagatesNaN(t *testing.T) {
	x := FromData([]float32{1, float32(math.NaN()), 3, 2, 5, 0}, 1, 1, 6)
	out := New(1, 1, 3)
	MaxPool(out, x, []int{2}, []int{2}, []int{0}, []int{1})
	if !math.IsNaN(float64(out.Data[0])) || out.Data[1] != 3 || out.Data[2] != 5 {
		t.Errorf("MaxPool = %v, want [NaN 3 5]", out.Data)
	}
	AdaptiveMaxPool(out, x)
	if !math.IsNaN(float64(out.Data[0])) || out.Data[1] != 3 || out.Data[2] != 5 {
		t.Errorf("AdaptiveMaxPool = %v, want [NaN 3 5]", out.Data)
	}
}

func TestWindowTaps(t *testing.T) {
	// Brute force over small geometries.
	for start := -6; start < 10; start++ {
		for k := 1; k < 5; k++ {
			for d := 1; d < 4; d++ {
				for in := 1; in < 7; in++ {
					lo, hi := windowTaps(start, k, d, in)
					for j := 0; j < k; j++ {
						pos := start + j*d
						inside := pos >= 0 && pos < in
						if inside != (j >= lo && j < hi) {
							t.Fatalf("windowTaps(%d, %d, %d, %d) = [%d, %d), tap %d at %d inside=%v", start, k, d, in, lo, hi, j, pos, inside)
						}
					}
				}
			}
		}
	}
}
