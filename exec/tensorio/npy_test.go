package tensorio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/exec"
)

// npyFile builds a .npy file of the given version with a header padded as
// NumPy pads it, followed by data.
func npyFile(major byte, header string, data []byte) []byte {
	pre := 10
	if major > 1 {
		pre = 12
	}
	header += strings.Repeat(" ", (64-(pre+len(header)+1)%64)%64) + "\n"
	b := []byte("\x93NUMPY")
	b = append(b, major, 0)
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(header)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(header)))
	}
	return append(append(b, header...), data...)
}

func f32s(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func f64s(v ...float64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// allocated returns the bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func decode(b []byte) (*exec.Tensor, error) { return DecodeNpy(bytes.NewReader(b), int64(len(b))) }

func TestDecodeNpyValid(t *testing.T) {
	six := f32s(0, 1, 2, 3, 4, 5)
	for _, c := range []struct {
		name  string
		file  []byte
		shape []int
		data  []float32
	}{
		{"numpy's order", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", six), []int{2, 3}, []float32{0, 1, 2, 3, 4, 5}},
		{"shape first", npyFile(1, "{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4', }", six), []int{2, 3}, []float32{0, 1, 2, 3, 4, 5}},
		{"fortran first, no trailing comma", npyFile(1, "{'fortran_order': False, 'shape': (3, 2), 'descr': '<f4'}", six), []int{3, 2}, []float32{0, 1, 2, 3, 4, 5}},
		{"double quotes, no spaces", npyFile(1, `{"descr":"<f4","fortran_order":False,"shape":(6,)}`, six), []int{6}, []float32{0, 1, 2, 3, 4, 5}},
		{"version 2.0", npyFile(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }", six), []int{1, 2, 3}, []float32{0, 1, 2, 3, 4, 5}},
		{"version 3.0", npyFile(3, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", six), []int{6}, []float32{0, 1, 2, 3, 4, 5}},
		{"float64 converted", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", f64s(0.5, -2, 1e300)), []int{3}, []float32{0.5, -2, float32(math.Inf(1))}},
		{"python 2 longs", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }", six), []int{2, 3}, []float32{0, 1, 2, 3, 4, 5}},
		{"scalar", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", f32s(7)), []int{}, []float32{7}},
		{"empty", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", nil), []int{0, 3}, []float32{}},
		{"trailing data ignored", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", six), []int{2}, []float32{0, 1}},
	} {
		got, err := decode(c.file)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !slices.Equal(got.Shape, c.shape) || !slices.Equal(got.Data, c.data) {
			t.Errorf("%s: shape %v data %v, want %v %v", c.name, got.Shape, got.Data, c.shape, c.data)
		}
	}
}

// TestDecodeNpyMalformed: every malformed header is an error naming what
// is wrong (the headers that panicked inside npyio among them).
func TestDecodeNpyMalformed(t *testing.T) {
	six := f32s(0, 1, 2, 3, 4, 5)
	hdr := func(h string) []byte { return npyFile(1, h, six) }
	for _, c := range []struct {
		name string
		file []byte
		want string
	}{
		{"empty file", nil, "not a .npy file: 0 bytes"},
		{"short header", []byte("\x93NUMPY\x01000"), ".npy format version 1.48; want 1.0, 2.0 or 3.0"},
		{"no magic", []byte("PK\x03\x04 this is a zip file"), `not a .npy file: it starts with "PK\x03\x04 t"`},
		{"version 4", npyFile(1, "{}", nil)[:6:6], "not a .npy file: 6 bytes"},
		{"header longer than the file", []byte("\x93NUMPY\x01\x00\xff\x00{'descr'"), "a header of 255 bytes, but the file has 8 bytes after the header length"},
		{"header above the limit", append([]byte("\x93NUMPY\x02\x00"), 0, 0, 0, 0x40), "a header of 1,073,741,824 bytes, above the limit of 1,048,576"},
		{"missing closing brace", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), "), "the dictionary has no closing '}'"},
		{"missing closing brace, no comma", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)"), "the dictionary has no closing '}'"},
		{"shape (,", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (,"), "want a non-negative integer in the shape"},
		{"unquoted descr", hdr("{'descr': <f4', 'fortran_order': False, 'shape': (2, 3), }"), `byte 10 (near "<f4', 'fortran_order'`},
		{"unterminated string", hdr("{'descr': '<f4"), `byte 10 (near "'<f4"): unterminated string`},
		{"escape", hdr(`{'descr': '<f\4', 'fortran_order': False, 'shape': (2, 3), }`), "a backslash in a string"},
		{"comma inside descr", hdr("{'descr': '<f4, 'fortran_order': False, 'shape': (2, 3), }"), `byte 17 (near "fortran_order': False, 'shape': (2, 3), "...): want ',' or '}' after the value of "descr"`},
		{"no shape", hdr("{'descr': '<f4', 'fortran_order': False, }"), `no "shape" key`},
		{"duplicate key", hdr("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,), }"), `key "descr" appears twice`},
		{"unknown key", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': 1}"), `unknown key "x"`},
		{"negative size", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (-6,), }"), "want a non-negative integer"},
		{"size beyond int64", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }"), "does not fit in int64"},
		{"elements beyond int64", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"), "has more elements than int64 holds"},
		{"bytes beyond int64", hdr("{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,), }"), "is 2,305,843,009,213,693,952 values of 8 bytes (1.84e+19 bytes)"},
		{"bad bool", hdr("{'descr': '<f4', 'fortran_order': false, 'shape': (6,), }"), "want True or False"},
		{"text after the dict", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), } x"), "unexpected text after the closing '}'"},
		{"list shape", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': [6], }"), "want a tuple"},
		{"structured dtype", hdr("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }"), "structured dtype"},
		{"int32", hdr("{'descr': '<i4', 'fortran_order': False, 'shape': (6,), }"), "dtype '<i4' (int32) is not supported; want float32 '<f4'"},
		{"big-endian", hdr("{'descr': '>f4', 'fortran_order': False, 'shape': (6,), }"), "dtype '>f4' (big-endian float32) is not supported"},
		{"objects", hdr("{'descr': '|O', 'fortran_order': False, 'shape': (6,), }"), "dtype '|O' (Python objects) is not supported"},
		{"fortran order", hdr("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }"), "Fortran-order arrays are not supported"},
		{"data short", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (7,), }"), "shape (7,) is 7 values of 4 bytes (28 bytes), but the file has 24 bytes of data after its 128-byte header"},
		{"too many axes", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (" + strings.Repeat("1, ", 65) + "), }"), "more than 64 axes"},
	} {
		got, err := decode(c.file)
		if err == nil {
			t.Errorf("%s: read %v, want an error", c.name, got.Shape)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %q, want %q in it", c.name, err, c.want)
		}
	}
}

// TestDecodeNpyHugeShape: a 200-byte file declaring (1, 3, 100000, 100000)
// is refused from its header: a few hundred bytes read and allocated, not
// the 120 GB the shape asks.
func TestDecodeNpyHugeShape(t *testing.T) {
	b := npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 100000, 100000), }", nil)
	b = append(b, make([]byte, 200-len(b))...)
	var err error
	r := &countingReader{r: bytes.NewReader(b)}
	n := allocated(func() { _, err = DecodeNpy(r, int64(len(b))) })
	want := "shape (1, 3, 100000, 100000) is 30,000,000,000 values of 4 bytes (120,000,000,000 bytes), but the file has 72 bytes of data after its 128-byte header"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
	if r.n > 128 || n > 16<<10 {
		t.Errorf("read %d bytes and allocated %d to refuse it; want the header's 128 and a few KiB", r.n, n)
	}
}

// TestDecodeNpyReadsInChunks: the data is converted a chunk at a time, so
// a float64 file costs its float32 result, not a copy of the file besides.
func TestDecodeNpyReadsInChunks(t *testing.T) {
	const n = 1 << 18
	b := npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (262144,), }", make([]byte, 8*n))
	var got *exec.Tensor
	var err error
	a := allocated(func() { got, err = decode(b) })
	if err != nil || len(got.Data) != n {
		t.Fatal(err)
	}
	if a > 4*n+128<<10 {
		t.Errorf("allocated %d bytes for %d float32 values (%d bytes)", a, n, 4*n)
	}
}

func TestNpyRoundTrip(t *testing.T) {
	for _, shape := range [][]int{{}, {5}, {2, 3}, {1, 2, 3, 4, 5}} {
		x := exec.New(shape...)
		for i := range x.Data {
			x.Data[i] = float32(i) - 1.5
		}
		var buf bytes.Buffer
		if err := WriteNpy(&buf, x); err != nil {
			t.Fatal(err)
		}
		y, err := decode(buf.Bytes())
		if err != nil {
			t.Fatalf("%v: %v", shape, err)
		}
		if !slices.Equal(x.Shape, y.Shape) || !slices.Equal(x.Data, y.Data) {
			t.Errorf("%v: read back %v %v", shape, y.Shape, y.Data)
		}
	}
}

// TestReadNpyTestdata reads every .npy file PyTorch's cases wrote.
func TestReadNpyTestdata(t *testing.T) {
	files := npyTestdata(t)
	for _, f := range files {
		if _, err := ReadNpy(f); err != nil {
			t.Error(err)
		}
	}
}

func npyTestdata(t testing.TB) []string {
	files, _ := filepath.Glob("../../testdata/torch/*/*.npy")
	more, _ := filepath.Glob("../../testdata/torch/*/*/*.npy")
	files = append(files, more...)
	if len(files) == 0 {
		t.Fatal("no .npy files under testdata/torch")
	}
	return files
}

// TestReadNpyNotRegular: a directory is refused by name, not read (the
// FIFO, the device and the socket: open_unix_test.go).
func TestReadNpyNotRegular(t *testing.T) {
	dir := t.TempDir()
	for path, want := range map[string]string{dir: "is a directory, not a regular file"} {
		_, err := ReadNpy(path)
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), path+" "+want) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
	if _, err := ReadNpy(filepath.Join(dir, "missing.npy")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestDecodeNpyHeaderOnly: the header gives the shape with the header read
// and nothing proportional to the shape allocated; Read then reads the data.
func TestDecodeNpyHeaderOnly(t *testing.T) {
	const n = 1 << 20
	b := npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1048576), }", f32s(make([]float32, n)...))
	r := &countingReader{r: bytes.NewReader(b)}
	var a *NpyArray
	var err error
	alloc := allocated(func() { a, err = DecodeNpyHeader(r, int64(len(b))) })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Shape, []int{1, n}) || r.n != 128 || alloc > 8<<10 {
		t.Errorf("shape %v, %d bytes read, %d allocated; want [1 %d], the 128 of the header, a few KiB", a.Shape, r.n, alloc, n)
	}
	x, err := a.Read()
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Data) != n || r.n != int64(len(b)) {
		t.Errorf("read %d values, %d bytes, %v", len(x.Data), r.n, err)
	}
}
