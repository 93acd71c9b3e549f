package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/calc"
	"github.com/cnncalc/cnncalc/exec"
	"github.com/cnncalc/cnncalc/exec/tensorio"
	"github.com/cnncalc/cnncalc/onnx/onnxpb"
	"google.golang.org/protobuf/proto"
)

const onnxFixtures = "../../testdata/onnx/small"

// smallNet is a small export's PyTorch figures in small.json.
type smallNet struct {
	Net          string
	Params, Macs int64
	// Numel is what the export's initializers hold (counted by onnx in
	// Python): for an export that folds batchnorm, the folded network's
	// parameters.
	Numel int64 `json:"onnx_initializer_numel"`
}

func smallTruth(t *testing.T, net string) smallNet {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(onnxFixtures, "..", "small.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct{ Nets []smallNet }
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	for _, n := range d.Nets {
		if n.Net == net {
			return n
		}
	}
	t.Fatalf("small.json has no %s", net)
	return smallNet{}
}

// TestONNXParams: an .onnx file is a SPEC, recognised by its content.
func TestONNXParams(t *testing.T) {
	params := smallTruth(t, "resnet_op13").Params
	src, err := os.ReadFile(filepath.Join(onnxFixtures, "resnet_op13.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	renamed := filepath.Join(t.TempDir(), "model.bin")
	os.WriteFile(renamed, src, 0o644)
	for _, path := range []string{filepath.Join(onnxFixtures, "resnet_op13.onnx"), renamed} {
		out, errOut, code := runCmd(t, "", "params", path, "--format", "json")
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", path, code, errOut)
		}
		var r struct {
			Total struct{ Params int64 }
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		if r.Total.Params != params {
			t.Errorf("%s: params %d, PyTorch's module %d", path, r.Total.Params, params)
		}
	}
}

// TestONNXInput: another --input converts the graph again (its shape
// computations follow); a size the model fixes cannot change.
func TestONNXInput(t *testing.T) {
	out, errOut, code := runCmd(t, "", "shapes", filepath.Join(onnxFixtures, "conv2d.onnx"), "--input", "3x32x32", "--batch", "3")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if !strings.Contains(out, "output 4x16x8") || !strings.Contains(out, "batch 3") {
		t.Errorf("want output 4x16x8 at batch 3:\n%s", out)
	}
	// The classifier's linear layer takes 256 features, no more.
	out, errOut, code = runCmd(t, "", "shapes", filepath.Join(onnxFixtures, "flatten_view.onnx"), "--input", "3x16x16")
	if code != 2 || out != "" || !strings.Contains(errOut, `weight "fc.weight" has dims [5 64]: the input has 256 features`) {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestONNXUnsupported(t *testing.T) {
	str := proto.String
	m := &onnxpb.ModelProto{IrVersion: proto.Int64(8), OpsetImport: []*onnxpb.OperatorSetIdProto{{Version: proto.Int64(14)}},
		Graph: &onnxpb.GraphProto{
			Input: []*onnxpb.ValueInfoProto{{Name: str("x"), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
				ElemType: proto.Int32(1), Shape: &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{
					{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: 1}}, {Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: 3}}}}}}}}},
			Node: []*onnxpb.NodeProto{
				{OpType: str("TopK"), Name: str("top"), Input: []string{"x"}, Output: []string{"a"}},
				{OpType: str("Relu"), Name: str("relu"), Input: []string{"a"}, Output: []string{"b"}},
				{OpType: str("TopK"), Name: str("top2"), Input: []string{"b"}, Output: []string{"c"}},
			},
			Output: []*onnxpb.ValueInfoProto{{Name: str("c")}},
		}}
	b, _ := proto.Marshal(m)
	path := filepath.Join(t.TempDir(), "bad.onnx")
	os.WriteFile(path, b, 0o644)
	for _, cmd := range []string{"params", "shapes", "exec", "import"} {
		out, errOut, code := runCmd(t, "", cmd, path)
		if code != 2 || out != "" {
			t.Errorf("%s: exit %d, stdout %q; want 2 and nothing", cmd, code, out)
		}
		if !strings.Contains(errOut, "TopK: 2 nodes, the first \"top\"") {
			t.Errorf("%s: stderr %q does not list TopK", cmd, errOut)
		}
	}
}

// TestImportRoundTrip: for every small export, the imported spec with
// the written weights computes what the .onnx computes, bit for bit, and
// that is PyTorch's output; the spec says where it comes from.
func TestImportRoundTrip(t *testing.T) {
	models, _ := filepath.Glob(filepath.Join(onnxFixtures, "*.onnx"))
	if len(models) < 50 {
		t.Fatalf("%d small exports in %s", len(models), onnxFixtures)
	}
	for _, m := range models {
		net := strings.TrimSuffix(filepath.Base(m), ".onnx")
		t.Run(net, func(t *testing.T) {
			dir := t.TempDir()
			model := filepath.Join(onnxFixtures, net+".onnx")
			x := filepath.Join(onnxFixtures, net+".input.npy")
			yaml, st := filepath.Join(dir, "net.yaml"), filepath.Join(dir, "net.safetensors")
			if _, errOut, code := runCmd(t, "", "import", model, "-o", yaml, "--weights-out", st); code != 0 {
				t.Fatalf("import: exit %d\n%s", code, errOut)
			}
			a, b := filepath.Join(dir, "a.npy"), filepath.Join(dir, "b.npy")
			if _, errOut, code := runCmd(t, "", "exec", model, "--input", x, "--save-output", a, "--no-rf"); code != 0 {
				t.Fatalf("exec .onnx: exit %d\n%s", code, errOut)
			}
			if _, errOut, code := runCmd(t, "", "exec", yaml, "--weights", st, "--input", x, "--save-output", b, "--no-rf"); code != 0 {
				t.Fatalf("exec .yaml: exit %d\n%s", code, errOut)
			}
			da, _ := os.ReadFile(a)
			db, _ := os.ReadFile(b)
			if !bytes.Equal(da, db) || len(da) == 0 {
				t.Errorf("exec of the .onnx and of the imported spec differ")
			}
			got, err := tensorio.ReadNpy(a)
			if err != nil {
				t.Fatal(err)
			}
			diff, scale := diffFromTorch(t, got, net)
			if diff > 1e-4*scale && diff > 1e-5 {
				t.Errorf("the output differs from PyTorch's by %.3g (largest value %.3g)", diff, scale)
			}
			spec, _ := os.ReadFile(yaml)
			if !strings.Contains(string(spec), "# ONNX model: producer pytorch") {
				t.Errorf("the spec does not say where it comes from:\n%s", spec)
			}
			if net == "resnet_op13" {
				params := smallTruth(t, net).Params
				out, _, _ := runCmd(t, "", "params", yaml)
				if !strings.Contains(out, calc.Group(params)) {
					t.Errorf("params of the imported spec lack %s:\n%s", calc.Group(params), out)
				}
			}
		})
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// TestONNXCheck: check reads a model (no expectations: 0 checked is an
// error) and refuses --write on it, pointing at import.
func TestONNXCheck(t *testing.T) {
	model := filepath.Join(onnxFixtures, "residual.onnx")
	_, errOut, code := runCmd(t, "", "check", model, "--write")
	if code == 0 || !strings.Contains(errOut+"", "cnncalc import") {
		out, _, _ := runCmd(t, "", "check", model, "--write")
		t.Errorf("check --write on a model: exit %d\n%s%s", code, out, errOut)
	}
}

// TestFoldONNX: fold reads a model with its weights, passes the names of
// the batchnorms it removes to the convs they fold into, and gives what
// torch.onnx's own folding gives (the default eval export folds them):
// the same parameter count, and PyTorch's output from the folded spec
// and checkpoint.
func TestFoldONNX(t *testing.T) {
	dir := t.TempDir()
	yaml, st := filepath.Join(dir, "folded.yaml"), filepath.Join(dir, "folded.safetensors")
	out, errOut, code := runCmd(t, "", "fold", filepath.Join(onnxFixtures, "resnet_op13.onnx"), "-o", yaml, "--weights-out", st)
	if code != 0 {
		t.Fatalf("fold: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "6 of 6 normalizations fold") || !strings.Contains(out, "the model's own") {
		t.Errorf("fold's report:\n%s", out)
	}
	// torch.onnx's eval export folds every batchnorm into its conv: its
	// initializers are the folded network's parameters.
	folded := smallTruth(t, "resnet_bnfolded").Numel
	out, errOut, code = runCmd(t, "", "params", yaml, "--format", "json")
	if code != 0 {
		t.Fatalf("params of the folded spec: exit %d\n%s", code, errOut)
	}
	var r struct {
		Total struct{ Params, Buffers int64 }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Total.Params != folded || r.Total.Buffers != 0 {
		t.Errorf("folded: params %d, buffers %d; torch.onnx's folded export has %d params", r.Total.Params, r.Total.Buffers, folded)
	}
	y := filepath.Join(dir, "y.npy")
	x := filepath.Join(onnxFixtures, "resnet_op13.input.npy")
	if _, errOut, code := runCmd(t, "", "exec", yaml, "--weights", st, "--input", x, "--save-output", y, "--no-rf"); code != 0 {
		t.Fatalf("exec of the folded spec: exit %d\n%s", code, errOut)
	}
	got, err := tensorio.ReadNpy(y)
	if err != nil {
		t.Fatal(err)
	}
	diff, scale := diffFromTorch(t, got, "resnet_op13")
	if diff > 1e-4*scale {
		t.Errorf("the folded network's output differs from PyTorch's by %.3g (largest %.3g)", diff, scale)
	}
}

// TestONNXTruncated: a model cut short is reported as one, not as YAML.
func TestONNXTruncated(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(onnxFixtures, "resnet_op13.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cut.onnx")
	os.WriteFile(path, src[:len(src)/3], 0o644)
	out, errOut, code := runCmd(t, "", "params", path)
	if code != 2 || out != "" || !strings.Contains(errOut, "the file is truncated or not an ONNX model") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// diffFromTorch is the largest difference of got from PyTorch's output of
// a small export, and that output's largest magnitude.
func diffFromTorch(t *testing.T, got *exec.Tensor, net string) (diff, scale float64) {
	t.Helper()
	want, err := tensorio.ReadNpy(filepath.Join(onnxFixtures, net+".output.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Data) != len(want.Data) {
		t.Fatalf("output of %d values, PyTorch's %d", len(got.Data), len(want.Data))
	}
	for i := range want.Data {
		scale = max(scale, abs(float64(want.Data[i])))
		diff = max(diff, abs(float64(got.Data[i]-want.Data[i])))
	}
	return diff, scale
}
