package main

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// npyBytes is a .npy file (format 1.0) with the header padded as NumPy
// pads it and n float32 values 0..n-1.
func npyBytes(header string, n int) []byte {
	header += strings.Repeat(" ", (64-(10+len(header)+1)%64)%64) + "\n"
	b := binary.LittleEndian.AppendUint16([]byte("\x93NUMPY\x01\x00"), uint16(len(header)))
	b = append(b, header...)
	for i := 0; i < n; i++ {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(i)))
	}
	return b
}

// TestExecNpyInputs: a .npy whose header numpy may write in any key order
// runs; malformed headers (which panicked inside npyio), a shape larger
// than the file (which ended in a fatal out-of-memory) and shapes no input
// can have are refused with the file's name, exit 2, nothing on stdout.
func TestExecNpyInputs(t *testing.T) {
	dir := t.TempDir()
	const spec = "input: [2, 3]\nlayers:\n  - conv1d: {out: 1, kernel: 1}\n"
	for _, c := range []struct {
		name, header string
		n            int
		want         string // "" for a run that agrees
	}{
		{"reordered", "{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4', }", 6, ""},
		{"batch", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 3), }", 12, ""},
		{"nobrace", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), ", 6, "nobrace.npy: header: byte 118 (at its end): the dictionary has no closing '}'"},
		{"shapecomma", "{'descr': '<f4', 'fortran_order': False, 'shape': (,", 6, "shapecomma.npy: header: byte 51 (near \",\"): want a non-negative integer in the shape"},
		{"descr", "{'descr': <f4', 'fortran_order': False, 'shape': (2, 3), }", 6, "descr.npy: header: byte 10 (near \"<f4'"},
		{"huge", "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 100000, 100000), }", 18, "huge.npy: shape (1, 3, 100000, 100000) is 30,000,000,000 values of 4 bytes (120,000,000,000 bytes), but the file has 72 bytes of data after its 128-byte header"},
		{"int", "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", 6, "int.npy: dtype '<i4' (int32) is not supported"},
		{"scalar", "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 1, "scalar.npy: the array has 0 axes; an input has 1 to 4"},
		{"empty", "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", 0, "empty.npy: shape [0 3]: every size must be between 1 and 68,719,476,736"},
	} {
		path := filepath.Join(dir, c.name+".npy")
		if err := os.WriteFile(path, npyBytes(c.header, c.n), 0o600); err != nil {
			t.Fatal(err)
		}
		out, errOut, code := runCmd(t, spec, "exec", "-", "--input", path)
		if c.want == "" {
			if code != 0 {
				t.Errorf("%s: exit %d\n%s", c.name, code, errOut)
			}
			continue
		}
		if code != 2 || out != "" || !strings.HasPrefix(errOut, "cnncalc: "+filepath.Join(dir, c.want)) {
			t.Errorf("%s: exit %d, stdout %q\nstderr %q\nwant %q", c.name, code, out, errOut, c.want)
		}
	}
	// A file without the batch axis, for a spec whose batch is 2.
	path := filepath.Join(dir, "reordered.npy")
	if _, errOut, code := runCmd(t, "batch: 2\n"+spec, "exec", "-", "--input", path); code != 2 || errOut != "cnncalc: "+path+": shape [2 3] is one input (no batch axis), the run's batch is 2: give the file a batch axis, or --batch 1\n" {
		t.Errorf("batch 2: exit %d, %q", code, errOut)
	}
	if _, errOut, code := runCmd(t, "batch: 2\n"+spec, "exec", "-", "--input", path, "--batch", "1"); code != 0 {
		t.Errorf("batch 2, --batch 1: exit %d, %q", code, errOut)
	}
	// The short header of the issue, as a file.
	path = filepath.Join(dir, "short.npy")
	os.WriteFile(path, []byte("\x93NUMPY\x01000"), 0o600)
	if _, errOut, code := runCmd(t, spec, "exec", "-", "--input", path); code != 2 || errOut != "cnncalc: "+path+": .npy format version 1.48; want 1.0, 2.0 or 3.0\n" {
		t.Errorf("short header: exit %d, %q", code, errOut)
	}
}
