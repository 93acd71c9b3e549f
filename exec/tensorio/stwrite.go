package tensorio

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/cnncalc/cnncalc/exec"
)

// WriteSafetensors writes tensors as a safetensors file of float32
// tensors: the header lists them in the order given (a state_dict's
// order), their data follows in the same order.
func WriteSafetensors(w io.Writer, names []string, tensors []*exec.Tensor) error {
	if len(names) != len(tensors) {
		return fmt.Errorf("%d names for %d tensors", len(names), len(tensors))
	}
	var hdr bytes.Buffer
	hdr.WriteString("{")
	var off int64
	seen := map[string]bool{}
	for i, t := range tensors {
		if seen[names[i]] {
			return fmt.Errorf("tensor name %q twice", names[i])
		}
		seen[names[i]] = true
		key, _ := json.Marshal(names[i])
		shape, _ := json.Marshal(t.Shape)
		if t.Shape == nil {
			shape = []byte("[]")
		}
		n := int64(len(t.Data)) * 4
		if i > 0 {
			hdr.WriteString(",")
		}
		fmt.Fprintf(&hdr, `%s:{"dtype":"F32","shape":%s,"data_offsets":[%d,%d]}`, key, shape, off, off+n)
		off += n
	}
	hdr.WriteString("}")
	// The header is padded with spaces to a multiple of 8 bytes, as the
	// safetensors library writes it.
	for hdr.Len()%8 != 0 {
		hdr.WriteByte(' ')
	}
	var size [8]byte
	binary.LittleEndian.PutUint64(size[:], uint64(hdr.Len()))
	if _, err := w.Write(size[:]); err != nil {
		return err
	}
	if _, err := w.Write(hdr.Bytes()); err != nil {
		return err
	}
	buf := make([]byte, 0, 1<<16)
	for _, t := range tensors {
		for _, v := range t.Data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) == cap(buf) {
				if _, err := w.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
	}
	_, err := w.Write(buf)
	return err
}
