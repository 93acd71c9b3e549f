package exec

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// normTorchTol is the agreement demanded with PyTorch (absolute + relative, as
// checkTensor applies it); normRefTol with the float64 references.
const (
	normTorchTol = 1e-5
	normRefTol   = 1e-6
)

// torchNormCase is one case of testdata/torch/kernels/{norm,act}.json, written
// by gen_norm.py there; see its doc for the fields.
type torchNormCase struct {
	Name     string    `json:"name"`
	Op       string    `json:"op"`
	Shape    []int     `json:"shape"`
	X        []float32 `json:"x"`
	Out      []float32 `json:"out"`
	Eps      float32   `json:"eps"`
	Momentum float32   `json:"momentum"`
	Mean     []float32 `json:"mean"`
	Var      []float32 `json:"var"`
	Weight   []float32 `json:"weight"`
	Bias     []float32 `json:"bias"`
	NormSize int       `json:"norm_size"`
	Groups   int       `json:"groups"`
	Slope    float32   `json:"slope"`
	Alpha    float32   `json:"alpha"`
	Approx   string    `json:"approx"`
	Dim      int       `json:"dim"`

	RunningMeanOut []float32 `json:"running_mean_out"`
	RunningVarOut  []float32 `json:"running_var_out"`
}

// loadTorchNormCases reads testdata/torch/kernels/NAME and checks that it
// holds at least min cases of each op in ops.
func loadTorchNormCases(t *testing.T, name string, min map[string]int) []torchNormCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "torch", "kernels", name))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Torch string          `json:"torch"`
		Cases []torchNormCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	count := map[string]int{}
	for _, c := range f.Cases {
		count[c.Op]++
	}
	for op, n := range min {
		if count[op] < n {
			t.Errorf("%s: %d %s cases, want at least %d", name, count[op], op, n)
		}
	}
	return f.Cases
}

func TestNormMatchesTorch(t *testing.T) {
	cases := loadTorchNormCases(t, "norm.json", map[string]int{
		"batchnorm": 20, "batchnorm_train": 20, "layernorm": 14, "instancenorm": 12, "groupnorm": 6,
	})
	for _, c := range cases {
		x := FromData(c.X, c.Shape...)
		out := New(c.Shape...)
		switch c.Op {
		case "batchnorm":
			BatchNorm(out, x, c.Mean, c.Var, c.Weight, c.Bias, c.Eps)
		case "batchnorm_train":
			rm := append([]float32(nil), c.Mean...)
			rv := append([]float32(nil), c.Var...)
			BatchNormTrain(out, x, rm, rv, c.Weight, c.Bias, c.Eps, c.Momentum)
			checkTensor(t, c.Name+" running_mean", rm, c.RunningMeanOut, normTorchTol)
			checkTensor(t, c.Name+" running_var", rv, c.RunningVarOut, normTorchTol)
		case "layernorm":
			LayerNorm(out, x, c.NormSize, c.Weight, c.Bias, c.Eps)
		case "instancenorm":
			InstanceNorm(out, x, c.Mean, c.Var, c.Weight, c.Bias, c.Eps)
		case "groupnorm":
			GroupNorm(out, x, c.Groups, c.Weight, c.Bias, c.Eps)
		default:
			t.Errorf("%s: unknown op %q", c.Name, c.Op)
			continue
		}
		checkTensor(t, c.Name, out.Data, c.Out, normTorchTol)
	}
}

func randVec(r *rand.Rand, n int, scale, shift float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64()*scale + shift)
	}
	return v
}

func randPositive(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(0.1 + 2*r.Float64())
	}
	return v
}

// maybe returns v or, with probability 1/3, nil (an absent parameter).
func maybe(r *rand.Rand, v []float32) []float32 {
	if r.IntN(3) == 0 {
		return nil
	}
	return v
}

// randNormShape returns (N, C, spatial...) with 0 to 3 spatial axes, C a
// multiple of some group count it also returns.
func randNormShape(r *rand.Rand) (shape []int, groups int) {
	groups = 1 + r.IntN(3)
	shape = []int{1 + r.IntN(3), groups * (1 + r.IntN(3))}
	for range r.IntN(4) {
		shape = append(shape, 1+r.IntN(5))
	}
	return shape, groups
}

func TestNormMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 200 {
		shape, groups := randNormShape(r)
		c := shape[1]
		x := randTensor(r, shape...)
		for i := range x.Data {
			x.Data[i] = x.Data[i]*3 + 2
		}
		w, b := maybe(r, randVec(r, c, 0.5, 1)), maybe(r, randVec(r, c, 1, 0))
		mean, variance := randVec(r, c, 1, 0), randPositive(r, c)
		eps := float32([]float64{1e-5, 1e-3, 0.1}[r.IntN(3)])
		name := fmt.Sprintf("trial %d %v", trial, shape)
		got, want := New(shape...), New(shape...)

		BatchNorm(got, x, mean, variance, w, b, eps)
		refBatchNorm(want, x, mean, variance, w, b, eps)
		checkTensor(t, name+" BatchNorm", got.Data, want.Data, normRefTol)

		if x.Len() > c { // PyTorch refuses one value per channel
			rm, rv := append([]float32(nil), mean...), append([]float32(nil), variance...)
			wrm, wrv := append([]float32(nil), mean...), append([]float32(nil), variance...)
			BatchNormTrain(got, x, rm, rv, w, b, eps, 0.1)
			refBatchNormTrain(want, x, wrm, wrv, w, b, eps, 0.1)
			checkTensor(t, name+" BatchNormTrain", got.Data, want.Data, normRefTol)
			checkTensor(t, name+" BatchNormTrain running_mean", rm, wrm, normRefTol)
			checkTensor(t, name+" BatchNormTrain running_var", rv, wrv, normRefTol)
		}

		InstanceNorm(got, x, nil, nil, w, b, eps)
		refInstanceNorm(want, x, nil, nil, w, b, eps)
		checkTensor(t, name+" InstanceNorm", got.Data, want.Data, normRefTol)
		InstanceNorm(got, x, mean, variance, w, b, eps)
		refInstanceNorm(want, x, mean, variance, w, b, eps)
		checkTensor(t, name+" InstanceNorm running", got.Data, want.Data, normRefTol)

		GroupNorm(got, x, groups, w, b, eps)
		refGroupNorm(want, x, groups, w, b, eps)
		checkTensor(t, name+" GroupNorm", got.Data, want.Data, normRefTol)

		// LayerNorm over a random number of trailing axes (at least one).
		k := 1 + r.IntN(len(shape)-1)
		size := 1
		for _, d := range shape[len(shape)-k:] {
			size *= d
		}
		lw, lb := maybe(r, randVec(r, size, 0.5, 1)), maybe(r, randVec(r, size, 1, 0))
		LayerNorm(got, x, size, lw, lb, eps)
		refLayerNorm(want, x, size, lw, lb, eps)
		checkTensor(t, fmt.Sprintf("%s LayerNorm over %d", name, size), got.Data, want.Data, normRefTol)
	}
}

// TestNormInPlace runs every norm kernel with out == x.
func TestNormInPlace(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	shape := []int{2, 6, 3, 4}
	x := randTensor(r, shape...)
	w, b := randVec(r, 6, 0.5, 1), randVec(r, 6, 1, 0)
	mean, variance := randVec(r, 6, 1, 0), randPositive(r, 6)
	kernels := map[string]func(out, x *Tensor){
		"BatchNorm":      func(out, x *Tensor) { BatchNorm(out, x, mean, variance, w, b, 1e-5) },
		"BatchNormTrain": func(out, x *Tensor) { BatchNormTrain(out, x, nil, nil, w, b, 1e-5, 0.1) },
		"LayerNorm":      func(out, x *Tensor) { LayerNorm(out, x, 12, nil, nil, 1e-5) },
		"InstanceNorm":   func(out, x *Tensor) { InstanceNorm(out, x, nil, nil, w, b, 1e-5) },
		"GroupNorm":      func(out, x *Tensor) { GroupNorm(out, x, 3, w, b, 1e-5) },
	}
	for name, k := range kernels {
		want := New(shape...)
		k(want, x)
		got := x.Clone()
		k(got, got)
		checkTensor(t, name+" in place", got.Data, want.Data, 0)
	}
}

// TestNormBatchInvariance: in eval mode every sample is normalised alone,
// so a batch gives the same numbers as its samples one by one.
func TestNormBatchInvariance(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	shape := []int{3, 4, 2, 5}
	per := 4 * 2 * 5
	x := randTensor(r, shape...)
	w, b := randVec(r, 4, 0.5, 1), randVec(r, 4, 1, 0)
	mean, variance := randVec(r, 4, 1, 0), randPositive(r, 4)
	kernels := map[string]func(out, x *Tensor){
		"BatchNorm":    func(out, x *Tensor) { BatchNorm(out, x, mean, variance, w, b, 1e-5) },
		"LayerNorm":    func(out, x *Tensor) { LayerNorm(out, x, 10, nil, nil, 1e-5) },
		"InstanceNorm": func(out, x *Tensor) { InstanceNorm(out, x, nil, nil, w, b, 1e-5) },
		"GroupNorm":    func(out, x *Tensor) { GroupNorm(out, x, 2, w, b, 1e-5) },
	}
	for name, k := range kernels {
		whole := New(shape...)
		k(whole, x)
		for n := range shape[0] {
			one := New(1, 4, 2, 5)
			k(one, FromData(x.Data[n*per:(n+1)*per], 1, 4, 2, 5))
			checkTensor(t, fmt.Sprintf("%s sample %d", name, n), one.Data, whole.Data[n*per:(n+1)*per], 0)
		}
	}
}

// TestNormLargeMean: values far from zero with a small spread (1000 +- 0.01)
// normalise as accurately as centred ones, since the kernels subtract the
// mean before scaling.
func TestNormLargeMean(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	shape := []int{2, 3, 64}
	x := New(shape...)
	for i := range x.Data {
		x.Data[i] = float32(1000 + 0.01*r.NormFloat64())
	}
	got, want := New(shape...), New(shape...)
	LayerNorm(got, x, 64, nil, nil, 1e-9)
	refLayerNorm(want, x, 64, nil, nil, 1e-9)
	checkTensor(t, "LayerNorm", got.Data, want.Data, normRefTol)
	GroupNorm(got, x, 3, nil, nil, 1e-9)
	refGroupNorm(want, x, 3, nil, nil, 1e-9)
	checkTensor(t, "GroupNorm", got.Data, want.Data, normRefTol)
	BatchNormTrain(got, x, nil, nil, nil, nil, 1e-9, 0.1)
	refBatchNormTrain(want, x, make([]float32, 3), make([]float32, 3), nil, nil, 1e-9, 0.1)
	checkTensor(t, "BatchNormTrain", got.Data, want.Data, normRefTol)
}

// TestNormConstant: a constant set normalises to exactly the bias (PyTorch
// is off by up to |x|/sqrt(eps)*2^-24 there, folding the mean into a
// float32 shift; see gen_norm.py).
func TestNormConstant(t *testing.T) {
	shape := []int{2, 4, 3}
	x := New(shape...)
	for i := range x.Data {
		x.Data[i] = 2.6475604
	}
	w := []float32{0.3, -1.2, 0.7, 2}
	b := []float32{-0.04, 0.5, 1.25, -3}
	want := make([]float32, x.Len())
	for i := range want {
		want[i] = b[i/3%4]
	}
	got := New(shape...)
	InstanceNorm(got, x, nil, nil, w, b, 1e-5)
	checkTensor(t, "InstanceNorm", got.Data, want, 0)
	GroupNorm(got, x, 2, w, b, 1e-5)
	checkTensor(t, "GroupNorm", got.Data, want, 0)
	BatchNormTrain(got, x, nil, nil, w, b, 1e-5, 0.1)
	checkTensor(t, "BatchNormTrain", got.Data, want, 0)
	LayerNorm(got, x.Reshape(8, 3), 3, b[:3], b[:3], 1e-5)
	for i := range want {
		want[i] = b[i%3]
	}
	checkTensor(t, "LayerNorm", got.Data, want, 0)
}
