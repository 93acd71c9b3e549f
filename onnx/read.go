package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/cnncalc/cnncalc/exec/tensorio"
	"github.com/cnncalc/cnncalc/onnx/onnxpb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Model is an ONNX model read without its weight data: the graph, the
// attributes and every small tensor are in Proto; the bytes of each large
// initializer stay in the file (or in its external-data file) until Data
// asks for them, so that counting parameters never reads the weights.
type Model struct {
	// File is the model's path, as given.
	File  string
	Proto *onnxpb.ModelProto
	// Opset is the default domain's operator set version.
	Opset int64

	r    io.ReaderAt
	size int64
	dir  string // the model's folder, for external data
	// lazy holds where each stripped initializer's data lies in the file.
	lazy map[*onnxpb.TensorProto]span
	// root opens external-data files inside dir only.
	root  *os.Root
	files map[string]*os.File
	// Read counts the bytes read from the model file (headers, graph,
	// small tensors and the data asked for), so that tests can bound it.
	Read int64
	// closer closes the model file, when Open opened it.
	closer io.Closer
}

// span is where a tensor's data lies: a field of the model file.
type span struct {
	off, n int64
	field  protowire.Number // raw_data, float_data, int32_data, int64_data or double_data
}

// InlineMax is the largest tensor data kept in memory when the model is
// read; larger data is read when used. Shapes and constants are small.
const InlineMax = 4096

// Limits that bound what a model may make cnncalc allocate.
const (
	// MaxGraphBytes bounds the model without its large tensor data
	// (nodes, attributes, names, small tensors).
	MaxGraphBytes = 256 << 20
	// MaxNodes bounds the nodes of the main graph.
	MaxNodes = 1 << 20
)

// Fields of onnx.proto that the reader walks into.
const (
	modelGraph       = 7
	graphInitializer = 5
	tensorFloatData  = 4
	tensorInt32Data  = 5
	tensorInt64Data  = 7
	tensorRawData    = 9
	tensorDoubleData = 10
)

// Open reads the model at path. The file stays open for Data until Close.
func Open(path string) (*Model, error) {
	// Not a FIFO or a device: their open or read would block.
	f, st, err := tensorio.OpenRegular(path)
	if err != nil {
		return nil, err
	}
	m, err := Decode(f, st.Size(), path)
	if err != nil {
		f.Close()
		return nil, err
	}
	m.closer = f
	return m, nil
}

// Decode reads a model of size bytes from r; file names it in errors and
// locates external data (beside it).
func Decode(r io.ReaderAt, size int64, file string) (*Model, error) {
	m := &Model{File: file, r: r, size: size, dir: filepath.Dir(file), lazy: map[*onnxpb.TensorProto]span{}}
	w := &walker{r: r, file: file, count: &m.Read}
	var spans []span
	stripped, err := w.strip(0, size, 0, &spans)
	if err != nil {
		return nil, err
	}
	mp := &onnxpb.ModelProto{}
	if err := (proto.UnmarshalOptions{RecursionLimit: 100}).Unmarshal(stripped, mp); err != nil {
		return nil, fmt.Errorf("%s: not a valid ONNX model: %v", file, err)
	}
	g := mp.GetGraph()
	if g == nil {
		return nil, fmt.Errorf("%s: the model has no graph", file)
	}
	if len(g.Node) > MaxNodes {
		return nil, fmt.Errorf("%s: the graph has %d nodes, above the limit of %d", file, len(g.Node), MaxNodes)
	}
	// The walker met the initializers in file order, as Unmarshal
	// appends them; a tensor without lazy data has an empty span.
	if len(spans) != len(g.Initializer) {
		return nil, fmt.Errorf("%s: internal error: %d initializer spans for %d initializers", file, len(spans), len(g.Initializer))
	}
	for i, t := range g.Initializer {
		if spans[i].n > 0 {
			m.lazy[t] = spans[i]
		}
	}
	m.Proto = mp
	for _, o := range mp.OpsetImport {
		if d := o.GetDomain(); d == "" || d == "ai.onnx" {
			m.Opset = o.GetVersion()
		}
	}
	if len(mp.OpsetImport) == 0 {
		if mp.GetIrVersion() >= 3 {
			return nil, fmt.Errorf("%s: the model imports no operator set (opset_import is required from IR version 3)", file)
		}
		m.Opset = 1 // IR versions 1 and 2 carry no opset_import
	}
	return m, nil
}

// Close closes the model file and the external-data files.
func (m *Model) Close() error {
	for _, f := range m.files {
		f.Close()
	}
	if m.root != nil {
		m.root.Close()
	}
	if m.closer != nil {
		return m.closer.Close()
	}
	return nil
}

// walker reads protobuf fields from a file without reading it whole.
type walker struct {
	r     io.ReaderAt
	file  string
	count *int64
	buf   [binary.MaxVarintLen64]byte
}

func (w *walker) errorf(off int64, format string, a ...any) error {
	return fmt.Errorf("%s: byte %d: %s (the file is truncated or not an ONNX model)", w.file, off, fmt.Sprintf(format, a...))
}

// varint reads a varint at off, which must end before end.
func (w *walker) varint(off, end int64) (uint64, int64, error) {
	n := min(int64(len(w.buf)), end-off)
	if n <= 0 {
		return 0, 0, w.errorf(off, "a field is cut short")
	}
	got, err := w.r.ReadAt(w.buf[:n], off)
	*w.count += int64(got)
	if got < int(n) && err != nil && err != io.EOF {
		return 0, 0, fmt.Errorf("%s: %w", w.file, err)
	}
	v, k := protowire.ConsumeVarint(w.buf[:got])
	if k < 0 {
		return 0, 0, w.errorf(off, "a field is cut short")
	}
	return v, int64(k), nil
}

// read returns n bytes at off.
func (w *walker) read(off, n int64) ([]byte, error) {
	b := make([]byte, n)
	got, err := w.r.ReadAt(b, off)
	*w.count += int64(got)
	if int64(got) < n {
		if err == nil || err == io.EOF {
			return nil, w.errorf(off, "%d bytes declared, %d left", n, got)
		}
		return nil, fmt.Errorf("%s: %w", w.file, err)
	}
	return b, nil
}

// strip re-encodes the message in [off, end) at depth (0 model, 1 graph, 2
// initializer), leaving out the data of large initializers, whose spans it
// appends to spans (one per initializer, in order).
func (w *walker) strip(off, end int64, depth int, spans *[]span) ([]byte, error) {
	var out []byte
	var mine span // depth 2: this tensor's data
	for off < end {
		start := off
		tag, n, err := w.varint(off, end)
		if err != nil {
			return nil, err
		}
		off += n
		num, typ := protowire.Number(tag>>3), protowire.Type(tag&7)
		if num < 1 || num > protowire.MaxValidNumber {
			return nil, w.errorf(start, "field number %d is invalid", num)
		}
		switch typ {
		case protowire.VarintType:
			_, n, err := w.varint(off, end)
			if err != nil {
				return nil, err
			}
			off += n
		case protowire.Fixed32Type:
			off += 4
		case protowire.Fixed64Type:
			off += 8
		case protowire.BytesType:
			l, n, err := w.varint(off, end)
			if err != nil {
				return nil, err
			}
			off += n
			if l > uint64(end-off) {
				return nil, w.errorf(start, "field %d declares %d bytes, %d are left", num, l, end-off)
			}
			body := int64(l)
			descend := (depth == 0 && num == modelGraph) || (depth == 1 && num == graphInitializer)
			if descend {
				var sub []byte
				if sub, err = w.strip(off, off+body, depth+1, spans); err != nil {
					return nil, err
				}
				out = protowire.AppendTag(out, num, typ)
				out = protowire.AppendBytes(out, sub)
				off += body
				if err := checkGraphBytes(w, len(out)); err != nil {
					return nil, err
				}
				continue
			}
			if depth == 2 && body > InlineMax && isDataField(num) {
				mine = span{off: off, n: body, field: num}
				off += body
				continue
			}
			b, err := w.read(start, off+body-start)
			if err != nil {
				return nil, err
			}
			out = append(out, b...)
			off += body
			if err := checkGraphBytes(w, len(out)); err != nil {
				return nil, err
			}
			continue
		default:
			return nil, w.errorf(start, "wire type %d of field %d is not used by ONNX", typ, num)
		}
		if off > end {
			return nil, w.errorf(start, "field %d is cut short", num)
		}
		b, err := w.read(start, off-start)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	if depth == 2 {
		*spans = append(*spans, mine)
	}
	return out, nil
}

func isDataField(num protowire.Number) bool {
	switch num {
	case tensorRawData, tensorFloatData, tensorInt32Data, tensorInt64Data, tensorDoubleData:
		return true
	}
	return false
}

func checkGraphBytes(w *walker, n int) error {
	if n > MaxGraphBytes {
		return fmt.Errorf("%s: the graph without its weights is above %d MiB, the limit", w.file, MaxGraphBytes>>20)
	}
	return nil
}

// elemSize is the bytes of one element of an ONNX data type cnncalc reads.
func elemSize(dt int32) int64 {
	switch onnxpb.TensorProto_DataType(dt) {
	case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_INT32, onnxpb.TensorProto_UINT32:
		return 4
	case onnxpb.TensorProto_DOUBLE, onnxpb.TensorProto_INT64, onnxpb.TensorProto_UINT64:
		return 8
	case onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16, onnxpb.TensorProto_INT16, onnxpb.TensorProto_UINT16:
		return 2
	case onnxpb.TensorProto_INT8, onnxpb.TensorProto_UINT8, onnxpb.TensorProto_BOOL:
		return 1
	}
	return 0
}

// typeName is an ONNX data type's name.
func typeName(dt int32) string {
	if s, ok := onnxpb.TensorProto_DataType_name[dt]; ok {
		return s
	}
	return fmt.Sprintf("data type %d", dt)
}

// Elements is the number of elements a tensor's dims declare, checked
// against limit.
func elements(t *onnxpb.TensorProto, limit int64) (int64, error) {
	n := int64(1)
	for _, d := range t.Dims {
		if d < 0 {
			return 0, fmt.Errorf("tensor %q: dimension %d is negative", t.GetName(), d)
		}
		if d > 0 && n > limit/d {
			return 0, fmt.Errorf("tensor %q: dims %v hold more than %d elements", t.GetName(), t.Dims, limit)
		}
		n *= d
	}
	return n, nil
}

// MaxTensorElements bounds one tensor (float32 bytes below 16 GiB).
const MaxTensorElements = 1 << 32

// Floats returns a tensor's values as float32 (FLOAT, FLOAT16, BFLOAT16,
// DOUBLE, and integer types), reading its data from the file if it was
// left there. The declared dims are checked against the data before any
// allocation proportional to them.
func (m *Model) Floats(t *onnxpb.TensorProto) ([]float32, error) {
	raw, field, n, err := m.data(t)
	if err != nil {
		return nil, err
	}
	dt := t.GetDataType()
	out := make([]float32, n)
	switch field {
	case tensorRawData:
		size := elemSize(dt)
		for i := range out {
			b := raw[int64(i)*size:]
			switch onnxpb.TensorProto_DataType(dt) {
			case onnxpb.TensorProto_FLOAT:
				out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b))
			case onnxpb.TensorProto_DOUBLE:
				out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b)))
			case onnxpb.TensorProto_FLOAT16:
				out[i] = halfToFloat(binary.LittleEndian.Uint16(b))
			case onnxpb.TensorProto_BFLOAT16:
				out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(b)) << 16)
			case onnxpb.TensorProto_INT64:
				out[i] = float32(int64(binary.LittleEndian.Uint64(b)))
			case onnxpb.TensorProto_INT32:
				out[i] = float32(int32(binary.LittleEndian.Uint32(b)))
			default:
				return nil, fmt.Errorf("tensor %q: %s data cannot be read as numbers", t.GetName(), typeName(dt))
			}
		}
		return out, nil
	}
	vals, err := m.numbers(t, raw, field, n)
	if err != nil {
		return nil, err
	}
	for i, v := range vals {
		out[i] = float32(v)
	}
	return out, nil
}

// Ints returns an integer tensor's values (INT64, INT32, and the others
// an ONNX shape computation uses).
func (m *Model) Ints(t *onnxpb.TensorProto) ([]int64, error) {
	raw, field, n, err := m.data(t)
	if err != nil {
		return nil, err
	}
	dt := t.GetDataType()
	out := make([]int64, n)
	if field == tensorRawData {
		size := elemSize(dt)
		for i := range out {
			b := raw[int64(i)*size:]
			switch onnxpb.TensorProto_DataType(dt) {
			case onnxpb.TensorProto_INT64, onnxpb.TensorProto_UINT64:
				out[i] = int64(binary.LittleEndian.Uint64(b))
			case onnxpb.TensorProto_INT32:
				out[i] = int64(int32(binary.LittleEndian.Uint32(b)))
			case onnxpb.TensorProto_UINT32:
				out[i] = int64(binary.LittleEndian.Uint32(b))
			case onnxpb.TensorProto_INT16:
				out[i] = int64(int16(binary.LittleEndian.Uint16(b)))
			case onnxpb.TensorProto_UINT16:
				out[i] = int64(binary.LittleEndian.Uint16(b))
			case onnxpb.TensorProto_INT8:
				out[i] = int64(int8(b[0]))
			case onnxpb.TensorProto_UINT8, onnxpb.TensorProto_BOOL:
				out[i] = int64(b[0])
			case onnxpb.TensorProto_FLOAT:
				out[i] = int64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
			case onnxpb.TensorProto_DOUBLE:
				out[i] = int64(math.Float64frombits(binary.LittleEndian.Uint64(b)))
			default:
				return nil, fmt.Errorf("tensor %q: %s data cannot be read as integers", t.GetName(), typeName(dt))
			}
		}
		return out, nil
	}
	vals, err := m.numbers(t, raw, field, n)
	if err != nil {
		return nil, err
	}
	for i, v := range vals {
		out[i] = int64(v)
	}
	return out, nil
}

// numbers decodes the typed repeated fields (float_data, int32_data,
// int64_data, double_data), from raw (a lazy span's packed bytes) or from
// the message.
func (m *Model) numbers(t *onnxpb.TensorProto, raw []byte, field protowire.Number, n int64) ([]float64, error) {
	out := make([]float64, 0, n)
	if raw == nil {
		switch field {
		case tensorFloatData:
			for _, v := range t.FloatData {
				out = append(out, float64(v))
			}
		case tensorInt32Data:
			dt := onnxpb.TensorProto_DataType(t.GetDataType())
			for _, v := range t.Int32Data {
				switch dt {
				case onnxpb.TensorProto_FLOAT16:
					out = append(out, float64(halfToFloat(uint16(v))))
				case onnxpb.TensorProto_BFLOAT16:
					out = append(out, float64(math.Float32frombits(uint32(v)<<16)))
				default:
					out = append(out, float64(v))
				}
			}
		case tensorInt64Data:
			for _, v := range t.Int64Data {
				out = append(out, float64(v))
			}
		case tensorDoubleData:
			out = append(out, t.DoubleData...)
		}
	} else {
		for len(raw) > 0 && int64(len(out)) < n {
			switch field {
			case tensorFloatData:
				if len(raw) < 4 {
					return nil, fmt.Errorf("tensor %q: packed float_data is cut short", t.GetName())
				}
				out = append(out, float64(math.Float32frombits(binary.LittleEndian.Uint32(raw))))
				raw = raw[4:]
			case tensorDoubleData:
				if len(raw) < 8 {
					return nil, fmt.Errorf("tensor %q: packed double_data is cut short", t.GetName())
				}
				out = append(out, math.Float64frombits(binary.LittleEndian.Uint64(raw)))
				raw = raw[8:]
			default:
				v, k := protowire.ConsumeVarint(raw)
				if k < 0 {
					return nil, fmt.Errorf("tensor %q: packed integer data is corrupt", t.GetName())
				}
				raw = raw[k:]
				if field == tensorInt32Data {
					out = append(out, float64(int32(v)))
				} else {
					out = append(out, float64(int64(v)))
				}
			}
		}
	}
	if int64(len(out)) != n {
		return nil, fmt.Errorf("tensor %q: dims %v need %d values, the data holds %d", t.GetName(), t.Dims, n, len(out))
	}
	return out, nil
}

// data locates a tensor's data: raw bytes of exactly n elements (field
// raw_data) or the typed field that holds it (raw nil when it is in the
// message, the packed bytes when it was left in the file).
func (m *Model) data(t *onnxpb.TensorProto) (raw []byte, field protowire.Number, n int64, err error) {
	if n, err = elements(t, MaxTensorElements); err != nil {
		return nil, 0, 0, err
	}
	dt := t.GetDataType()
	size := elemSize(dt)
	if size == 0 {
		return nil, 0, 0, fmt.Errorf("tensor %q: %s is not a numeric type cnncalc reads", t.GetName(), typeName(dt))
	}
	if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		raw, err = m.external(t, n*size)
		return raw, tensorRawData, n, err
	}
	sp, lazy := m.lazy[t]
	switch {
	case lazy && sp.field == tensorRawData, !lazy && t.RawData != nil:
		want := n * size
		have := int64(len(t.RawData))
		if lazy {
			have = sp.n
		}
		if have != want {
			return nil, 0, 0, fmt.Errorf("tensor %q: dims %v of %s need %d bytes, its raw_data holds %d", t.GetName(), t.Dims, typeName(dt), want, have)
		}
		if !lazy {
			return t.RawData, tensorRawData, n, nil
		}
		raw, err = (&walker{r: m.r, file: m.File, count: &m.Read}).read(sp.off, sp.n)
		return raw, tensorRawData, n, err
	case lazy:
		// A packed repeated field: at least one byte per value.
		if sp.n < n && sp.field != tensorFloatData && sp.field != tensorDoubleData {
			return nil, 0, 0, fmt.Errorf("tensor %q: dims %v need %d values, the data holds fewer", t.GetName(), t.Dims, n)
		}
		raw, err = (&walker{r: m.r, file: m.File, count: &m.Read}).read(sp.off, sp.n)
		return raw, sp.field, n, err
	}
	switch {
	case len(t.FloatData) > 0:
		field = tensorFloatData
	case len(t.Int32Data) > 0:
		field = tensorInt32Data
	case len(t.Int64Data) > 0:
		field = tensorInt64Data
	case len(t.DoubleData) > 0:
		field = tensorDoubleData
	default:
		if n == 0 {
			return nil, tensorRawData, 0, nil
		}
		return nil, 0, 0, fmt.Errorf("tensor %q: dims %v declare %d values and the tensor holds no data (a model exported without its weights, export_params=False?)", t.GetName(), t.Dims, n)
	}
	return nil, field, n, nil
}

// ErrNoData is what reading a weight without data returns.
var ErrNoData = errors.New("the model holds no data for this tensor")

// external reads want bytes of a tensor stored outside the model, from a
// file inside the model's folder.
func (m *Model) external(t *onnxpb.TensorProto, want int64) ([]byte, error) {
	var loc string
	var off, length int64 = 0, -1
	for _, kv := range t.ExternalData {
		switch kv.GetKey() {
		case "location":
			loc = kv.GetValue()
		case "offset", "length":
			v, err := strconv.ParseInt(kv.GetValue(), 10, 64)
			if err != nil || v < 0 {
				return nil, fmt.Errorf("tensor %q: external data %s %q is not a byte count", t.GetName(), kv.GetKey(), kv.GetValue())
			}
			if kv.GetKey() == "offset" {
				off = v
			} else {
				length = v
			}
		}
	}
	if loc == "" {
		return nil, fmt.Errorf("tensor %q: external data without a location", t.GetName())
	}
	if !filepath.IsLocal(loc) {
		return nil, fmt.Errorf("tensor %q: external data location %q is outside the model's folder %s", t.GetName(), loc, m.dir)
	}
	if length >= 0 && length != want {
		return nil, fmt.Errorf("tensor %q: dims %v of %s need %d bytes, its external data holds %d", t.GetName(), t.Dims, typeName(t.GetDataType()), want, length)
	}
	if m.root == nil {
		root, err := os.OpenRoot(m.dir)
		if err != nil {
			return nil, fmt.Errorf("tensor %q: external data: %v", t.GetName(), err)
		}
		m.root, m.files = root, map[string]*os.File{}
	}
	f := m.files[loc]
	if f == nil {
		var err error
		if f, err = m.root.Open(loc); err != nil {
			return nil, fmt.Errorf("tensor %q: external data: %v", t.GetName(), err)
		}
		m.files[loc] = f
	}
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() || off > st.Size() || want > st.Size()-off {
		return nil, fmt.Errorf("tensor %q: external data %s holds %d bytes, the tensor needs %d at offset %d", t.GetName(), loc, st.Size(), want, off)
	}
	b := make([]byte, want)
	if _, err := f.ReadAt(b, off); err != nil {
		return nil, fmt.Errorf("tensor %q: external data %s: %v", t.GetName(), loc, err)
	}
	return b, nil
}

// halfToFloat converts an IEEE 754 half to float32.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		for frac&0x400 == 0 {
			frac <<= 1
			exp--
		}
		exp++
		frac &= 0x3ff
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}

// IsModel says whether the start of a file is an ONNX ModelProto: its
// top-level fields parse as protobuf fields of ModelProto up to the end of
// head (or of the file). YAML text never does.
func IsModel(head []byte, size int64) bool {
	b := head
	seen := false
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		switch num {
		case 1, 5: // ir_version, model_version
			if typ != protowire.VarintType {
				return false
			}
		case 2, 3, 4, 6, 7, 8, 14, 20, 25:
			if typ != protowire.BytesType {
				return false
			}
		default:
			return false
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			// A field running past head is fine when the file goes on.
			// One running past the end is a truncated model, when it
			// starts as models do: a control character no YAML holds.
			return int64(len(head)) < size || (len(head) > 0 && head[0] < 0x20 && head[0] != '\t' && head[0] != '\n' && head[0] != '\r')
		}
		seen = true
		b = b[n+m:]
	}
	return seen
}
