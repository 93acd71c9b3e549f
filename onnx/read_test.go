package onnx

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/onnx/onnxpb"
	"github.com/cnncalc/cnncalc/spec"
	"google.golang.org/protobuf/proto"
)

// A small model built in Go: conv (with a weight of wsize output
// channels), relu, global pool, flatten, gemm.
func testModel(t testing.TB, convOut int64) *onnxpb.ModelProto {
	t.Helper()
	str := proto.String
	i64 := proto.Int64
	dim := func(v int64) *onnxpb.TensorShapeProto_Dimension {
		return &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: v}}
	}
	sym := &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}}
	input := &onnxpb.ValueInfoProto{Name: str("input"), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
		ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)),
		Shape:    &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{sym, dim(3), dim(8), dim(8)}}}}}}
	ints := func(name string, v ...int64) *onnxpb.AttributeProto {
		return &onnxpb.AttributeProto{Name: str(name), Ints: v, Type: onnxpb.AttributeProto_INTS.Enum()}
	}
	node := func(op, name string, in []string, out string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
		return &onnxpb.NodeProto{OpType: str(op), Name: str(name), Input: in, Output: []string{out}, Attribute: attrs}
	}
	g := &onnxpb.GraphProto{
		Name:  str("test"),
		Input: []*onnxpb.ValueInfoProto{input},
		Node: []*onnxpb.NodeProto{
			node("Conv", "/conv/Conv", []string{"input", "conv.weight", "conv.bias"}, "c", ints("kernel_shape", 3, 3), ints("pads", 1, 1, 1, 1)),
			node("Relu", "/relu/Relu", []string{"c"}, "r"),
			node("GlobalAveragePool", "/pool/GlobalAveragePool", []string{"r"}, "p"),
			node("Flatten", "/Flatten", []string{"p"}, "f"),
			node("Gemm", "/fc/Gemm", []string{"f", "fc.weight", "fc.bias"}, "out",
				&onnxpb.AttributeProto{Name: str("transB"), I: i64(1), Type: onnxpb.AttributeProto_INT.Enum()}),
		},
		Initializer: []*onnxpb.TensorProto{
			floatTensor("conv.weight", convOut, 3, 3, 3),
			floatTensor("conv.bias", convOut),
			floatTensor("fc.weight", 10, convOut),
			floatTensor("fc.bias", 10),
		},
		Output: []*onnxpb.ValueInfoProto{{Name: str("out")}},
	}
	return &onnxpb.ModelProto{IrVersion: i64(8), ProducerName: str("cnncalc-test"), Graph: g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: str(""), Version: i64(14)}}}
}

// floatTensor is a FLOAT initializer of the dims with values 0.01*i.
func floatTensor(name string, dims ...int64) *onnxpb.TensorProto {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	raw := make([]byte, 4*n)
	for i := range n {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(float32(i%97)*0.01))
	}
	return &onnxpb.TensorProto{Name: proto.String(name), Dims: dims, DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), RawData: raw}
}

func marshal(t testing.TB, m *onnxpb.ModelProto) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decode(t testing.TB, b []byte) (*Model, error) {
	return Decode(bytes.NewReader(b), int64(len(b)), "test.onnx")
}

func TestConvertTestModel(t *testing.T) {
	m, err := decode(t, marshal(t, testModel(t, 4)))
	if err != nil {
		t.Fatal(err)
	}
	net, err := Convert(m, Options{Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"conv", "relu", "pool", "flatten", "fc"}
	if len(net.Items) != len(want) {
		t.Fatalf("%d items, want %d:\n%s", len(net.Items), len(want), net.YAML("test.onnx"))
	}
	for i, it := range net.Items {
		if it.Name != want[i] {
			t.Errorf("item %d is named %q, want %q", i, it.Name, want[i])
		}
	}
	y := string(net.YAML("test.onnx"))
	for _, s := range []string{"input: [3, 8, 8]", "batch: 2", "conv2d: {out: 4, kernel: 3, padding: 1}", "linear: 10", "producer cnncalc-test"} {
		if !strings.Contains(y, s) && !strings.Contains(y, strings.Replace(s, "linear: 10", "linear: {out: 10}", 1)) {
			t.Errorf("the spec lacks %q:\n%s", s, y)
		}
	}
}

// TestLazyWeights: converting a model reads its graph, not its weights;
// the weights are read when asked for, and only then.
func TestLazyWeights(t *testing.T) {
	b := marshal(t, testModel(t, 40000)) // a conv weight of 4.3 MB
	m, err := decode(t, b)
	if err != nil {
		t.Fatal(err)
	}
	net, err := Convert(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Read > 64<<10 {
		t.Errorf("reading and converting the model read %d of its %d bytes; want the graph only (< 64 KiB)", m.Read, len(b))
	}
	if _, err := net.Weights(m); err != nil {
		t.Fatal(err)
	}
	if m.Read < int64(len(b))*9/10 {
		t.Errorf("reading the weights read %d of %d bytes", m.Read, len(b))
	}
}

func TestIsModel(t *testing.T) {
	b := marshal(t, testModel(t, 4))
	if !IsModel(b, int64(len(b))) || !IsModel(b[:100], int64(len(b))) {
		t.Error("a model is not recognised")
	}
	// A truncated model is still one (its reader says it is truncated).
	if !IsModel(b[:100], 100) {
		t.Error("a truncated model is not recognised")
	}
	specs, _ := filepath.Glob("../testdata/zoo/*.yaml")
	more, _ := filepath.Glob("../testdata/specs/*.yaml")
	for _, f := range append(specs, more...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if IsModel(data[:min(len(data), 4096)], int64(len(data))) {
			t.Errorf("%s is taken for an ONNX model", f)
		}
	}
	for _, s := range []string{"", "name: x\n", "\"quoted\": 1\n", "{}", "\tname: x\n"} {
		if IsModel([]byte(s), int64(len(s))) {
			t.Errorf("%q is taken for an ONNX model", s)
		}
	}
}

// TestTruncated: every strict prefix of a model is refused with an error
// (by the reader or by the converter), never a panic or a partial net.
func TestTruncated(t *testing.T) {
	b := marshal(t, testModel(t, 4))
	for n := 0; n < len(b); n++ {
		m, err := decode(t, b[:n])
		if err != nil {
			continue
		}
		if _, err := Convert(m, Options{}); err == nil {
			t.Fatalf("the model cut to %d of %d bytes converts", n, len(b))
		}
	}
}

func TestHostileModels(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(m *onnxpb.ModelProto)
		opt    Options
		want   []string // in the error
		atRead bool     // the error comes from reading the weights
	}{
		{"dangling input", func(m *onnxpb.ModelProto) { m.Graph.Node[1].Input[0] = "nowhere" },
			Options{}, []string{`"/relu/Relu"`, `input "nowhere" is made by no node`}, false},
		{"cycle", func(m *onnxpb.ModelProto) {
			m.Graph.Node[0].Input[0] = "f" // conv reads flatten's output
		}, Options{}, []string{"cycle"}, false},
		{"two producers", func(m *onnxpb.ModelProto) { m.Graph.Node[2].Output[0] = "r" }, Options{}, []string{`output "r" is also made`}, false},
		{"unsupported ops", func(m *onnxpb.ModelProto) {
			m.Graph.Node[1].OpType = proto.String("Frobnicate")
			m.Graph.Node[2].OpType = proto.String("Frobnicate")
			m.Graph.Node[3].OpType = proto.String("NonMaxSuppression")
		}, Options{}, []string{"2 operator types", "Frobnicate: 2 nodes, the first \"/relu/Relu\"", "NonMaxSuppression: 1 node"}, false},
		{"short initializer", func(m *onnxpb.ModelProto) {
			m.Graph.Initializer[0].RawData = m.Graph.Initializer[0].RawData[:10]
		}, Options{}, []string{`"conv.weight"`, "need 432 bytes, its raw_data holds 10"}, true},
		{"10 GB dimension", func(m *onnxpb.ModelProto) {
			m.Graph.Initializer[1].Dims = []int64{10_000_000_000}
		}, Options{}, []string{"conv.bias"}, false},
		{"huge input", func(m *onnxpb.ModelProto) {
			d := m.Graph.Input[0].Type.GetTensorType().Shape.Dim
			d[2].Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: 1 << 40}
		}, Options{}, []string{"dimension 2 is 1099511627776"}, false},
		{"symbolic size", func(m *onnxpb.ModelProto) {
			d := m.Graph.Input[0].Type.GetTensorType().Shape.Dim
			d[3].Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "W"}
		}, Options{}, []string{`input "input" is [N, 3, 8, W]: dimension 3 (W) is symbolic`, "--input"}, false},
		{"escaping external data", func(m *onnxpb.ModelProto) {
			t := m.Graph.Initializer[0]
			t.RawData = nil
			t.DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
			t.ExternalData = []*onnxpb.StringStringEntryProto{{Key: proto.String("location"), Value: proto.String("../../etc/passwd")}}
		}, Options{}, []string{`"../../etc/passwd" is outside the model's folder`}, true},
		{"absolute external data", func(m *onnxpb.ModelProto) {
			t := m.Graph.Initializer[0]
			t.RawData = nil
			t.DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
			t.ExternalData = []*onnxpb.StringStringEntryProto{{Key: proto.String("location"), Value: proto.String("/etc/passwd")}}
		}, Options{}, []string{`"/etc/passwd" is outside the model's folder`}, true},
		{"two graph inputs", func(m *onnxpb.ModelProto) {
			m.Graph.Input = append(m.Graph.Input, &onnxpb.ValueInfoProto{Name: proto.String("other")})
		}, Options{}, []string{`"other"`, "one input"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mp := testModel(t, 4)
			tc.change(mp)
			m, err := decode(t, marshal(t, mp))
			var net *Net
			if err == nil {
				net, err = Convert(m, tc.opt)
			}
			if err == nil && tc.atRead {
				_, err = net.Weights(m)
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestExternalData: weights in model.onnx.data beside the model load; a
// symbolic link out of the folder does not.
func TestExternalData(t *testing.T) {
	dir := t.TempDir()
	mp := testModel(t, 4)
	w := mp.Graph.Initializer[0]
	if err := os.WriteFile(filepath.Join(dir, "m.onnx.data"), append(make([]byte, 16), w.RawData...), 0o644); err != nil {
		t.Fatal(err)
	}
	want := w.RawData
	w.RawData = nil
	w.DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
	kv := func(k, v string) *onnxpb.StringStringEntryProto {
		return &onnxpb.StringStringEntryProto{Key: proto.String(k), Value: proto.String(v)}
	}
	w.ExternalData = []*onnxpb.StringStringEntryProto{kv("location", "m.onnx.data"), kv("offset", "16"), kv("length", "432")}
	path := filepath.Join(dir, "m.onnx")
	if err := os.WriteFile(path, marshal(t, mp), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	net, err := Convert(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ws, err := net.Weights(m)
	if err != nil {
		t.Fatal(err)
	}
	if got := ws[0].Weight.Data[5]; got != math.Float32frombits(binary.LittleEndian.Uint32(want[20:])) {
		t.Errorf("weight[5] = %v", got)
	}
	// A link inside the folder to a file outside it is refused.
	outside := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(outside, make([]byte, 1000), 0o644)
	if err := os.Symlink(outside, filepath.Join(dir, "link.data")); err != nil {
		t.Skip(err)
	}
	w.ExternalData[0] = kv("location", "link.data")
	os.WriteFile(path, marshal(t, mp), 0o644)
	m2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	net, err = Convert(m2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := net.Weights(m2); err == nil {
		t.Error("external data through a link out of the model's folder was read")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(marshal(f, testModel(f, 4)))
	seeds, _ := filepath.Glob(filepath.Join(fixtures, "small", "*.onnx"))
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decode(t, b)
		if err != nil {
			return
		}
		net, err := Convert(m, Options{})
		if err != nil {
			return
		}
		// The spec a conversion writes parses, and means the same layers.
		s, err := spec.Parse("fuzz.onnx", net.YAML("fuzz.onnx"))
		if err != nil {
			t.Fatalf("the converted spec does not parse: %v\n%s", err, net.YAML("fuzz.onnx"))
		}
		if len(s.Net.Nodes) != len(net.Items) {
			t.Fatalf("%d items, %d spec layers", len(net.Items), len(s.Net.Nodes))
		}
		if _, err := s.Evaluate(0, nil); err != nil {
			t.Fatalf("the converted spec does not analyse: %v\n%s", err, net.YAML("fuzz.onnx"))
		}
		net.Weights(m)
	})
}
