package tensorio

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/cnncalc/cnncalc/exec"
)

// Named is a tensor with its state_dict key ("conv1.weight").
type Named struct {
	Name   string
	Tensor *exec.Tensor
}

// StateDict lists the tensors of every node that has any, in node order
// and Weights order, keyed as PyTorch keys a module's tensors:
// modules[i] + "." + weight, bias, running_mean, running_var (the bare
// suffix when modules[i] is ""). It is what WriteSafetensors writes and
// LoadSafetensors reads back.
func StateDict(params []exec.Weights, modules []string) []Named {
	var out []Named
	for i := range params {
		for k, suffix := range exec.TensorNames {
			t := *params[i].Slot(k)
			if t == nil {
				continue
			}
			name := suffix
			if modules[i] != "" {
				name = modules[i] + "." + suffix
			}
			out = append(out, Named{name, t})
		}
	}
	return out
}

// WriteSafetensors writes the tensors as a safetensors file, float32
// (dtype F32), header and data in the given order (LoadSafetensors matches
// modules in the order of their data): the 8-byte little-endian header
// length, the JSON header ({"__metadata__": {"format": "pt"}, name:
// {"dtype", "shape", "data_offsets"}, ...}) padded with spaces to a
// multiple of 8, then the data. An empty or repeated name, or a tensor
// whose data is not its shape's size, is an error and nothing is written.
func WriteSafetensors(w io.Writer, tensors []Named) error {
	type info struct {
		DType   string   `json:"dtype"`
		Shape   []int    `json:"shape"`
		Offsets [2]int64 `json:"data_offsets"`
	}
	// The header is built by hand so that the keys keep their order (a Go
	// map would sort them); each key and value is JSON-encoded.
	header := []byte(`{"__metadata__":{"format":"pt"}`)
	seen := map[string]bool{}
	var off int64
	for _, nt := range tensors {
		t := nt.Tensor
		switch {
		case nt.Name == "" || nt.Name == "__metadata__":
			return fmt.Errorf("safetensors: a tensor needs a name other than %q", nt.Name)
		case seen[nt.Name]:
			return fmt.Errorf("safetensors: tensor %q appears twice", nt.Name)
		case t == nil:
			return fmt.Errorf("safetensors: tensor %q is nil", nt.Name)
		case int64(len(t.Data)) != numel(t.Shape):
			return fmt.Errorf("safetensors: tensor %q has %d values, its shape %v takes %d", nt.Name, len(t.Data), t.Shape, numel(t.Shape))
		}
		seen[nt.Name] = true
		key, _ := json.Marshal(nt.Name)
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		val, err := json.Marshal(info{"F32", shape, [2]int64{off, off + 4*int64(len(t.Data))}})
		if err != nil {
			return err
		}
		header = append(append(append(append(header, ','), key...), ':'), val...)
		off += 4 * int64(len(t.Data))
	}
	header = append(header, '}')
	for len(header)%8 != 0 {
		header = append(header, ' ')
	}
	bw := bufio.NewWriter(w)
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(len(header)))
	bw.Write(b[:])
	bw.Write(header)
	for _, nt := range tensors {
		for _, v := range nt.Tensor.Data {
			binary.LittleEndian.PutUint32(b[:4], math.Float32bits(v))
			bw.Write(b[:4])
		}
	}
	return bw.Flush()
}

func numel(shape []int) int64 {
	n := int64(1)
	for _, d := range shape {
		n *= int64(d)
	}
	return n
}

// ReadSafetensors reads every float tensor of a safetensors file (at most
// max of them, num_batches_tracked and other integer tensors skipped), in
// the order of their data, checked as LoadSafetensors checks a file.
func ReadSafetensors(path string, max int) ([]Named, error) {
	f, st, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	list, err := readSafetensorsHeader(f, st.Size(), max)
	if err != nil {
		return nil, fmt.Errorf("%s: not a safetensors file: %v", path, err)
	}
	var out []Named
	for _, tv := range list {
		if !floatDType(tv.dtype) {
			continue
		}
		if len(out) == max {
			return nil, fmt.Errorf("%s: more than %d tensors", path, max)
		}
		t, err := tv.read(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %v", path, tv.name, err)
		}
		out = append(out, Named{tv.name, t})
	}
	return out, nil
}
