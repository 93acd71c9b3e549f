package tensorio

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"codeberg.org/sbinet/npyio"

	"github.com/cnncalc/cnncalc/exec"
)

// ReadNpy reads a float32 (or float64) NumPy array in C order.
func ReadNpy(path string) (*exec.Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := npyio.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if r.Header.Descr.Fortran {
		return nil, fmt.Errorf("%s: Fortran-order arrays are not supported; save with np.ascontiguousarray", path)
	}
	shape := append([]int(nil), r.Header.Descr.Shape...)
	var data []float32
	switch strings.Trim(r.Header.Descr.Type, "'\"") {
	case "<f4", "float32":
		err = r.Read(&data)
	case "<f8", "float64":
		var d64 []float64
		err = r.Read(&d64)
		data = make([]float32, len(d64))
		for i, v := range d64 {
			data[i] = float32(v)
		}
	default:
		return nil, fmt.Errorf("%s: dtype %s; want float32", path, r.Header.Descr.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if int64(len(data)) != numel(shape) {
		return nil, fmt.Errorf("%s: %d values for shape %v", path, len(data), shape)
	}
	return exec.FromData(data, shape...), nil
}

// WriteNpy writes t as a little-endian float32 NumPy array (format 1.0)
// with its shape. npyio writes only 1-D and 2-D shapes, so the header is
// written here; the data follows in C order.
func WriteNpy(w io.Writer, t *exec.Tensor) error {
	shape := ""
	for _, s := range t.Shape {
		shape += fmt.Sprintf("%d, ", s)
	}
	if len(t.Shape) > 1 {
		shape = shape[:len(shape)-2]
	}
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", shape)
	// Magic (6) + version (2) + length (2) + header + newline, padded to 64.
	pad := 64 - (10+len(header)+1)%64
	header += strings.Repeat(" ", pad%64) + "\n"
	buf := make([]byte, 0, 10+len(header)+4*len(t.Data))
	buf = append(buf, "\x93NUMPY\x01\x00"...)
	buf = binary.LittleEndian.AppendUint16(buf, uint16(len(header)))
	buf = append(buf, header...)
	for _, v := range t.Data {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
	}
	_, err := w.Write(buf)
	return err
}

func numel(s []int) int64 {
	n := int64(1)
	for _, v := range s {
		n *= int64(v)
	}
	return n
}
