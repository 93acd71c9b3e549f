package tensorio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/cnncalc/cnncalc/exec"
)

// Limits of the .npy reader.
const (
	// MaxNpyHeader bounds a .npy header, in bytes. NumPy writes headers of
	// a few hundred bytes and itself reads at most 10,000 by default.
	MaxNpyHeader = 1 << 20
	// MaxNpyRank bounds the number of axes (NumPy 2's own limit).
	MaxNpyRank = 64
)

// ReadNpy reads a float32 (or float64, converted to float32) NumPy array
// in C order: OpenNpy, then Read.
func ReadNpy(path string) (*exec.Tensor, error) {
	a, err := OpenNpy(path)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	return a.Read()
}

// NpyArray is a .npy file whose header has been read and checked, and its
// data not yet: its Shape is known before anything proportional to it is
// allocated (so that a memory estimate can come first).
type NpyArray struct {
	Shape []int
	r     io.Reader
	item  int64 // 4 (float32) or 8 (float64)
	path  string
	close func() error
}

// OpenNpy opens a .npy file and reads its header (DecodeNpyHeader). Only a
// regular file is opened (OpenRegular). Close it when not read.
func OpenNpy(path string) (*NpyArray, error) {
	f, st, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	a, err := DecodeNpyHeader(f, st.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	a.path, a.close = path, f.Close
	return a, nil
}

// Read reads the array's data, a chunk at a time, and closes the file.
func (a *NpyArray) Read() (*exec.Tensor, error) {
	defer a.Close()
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	data := make([]float32, n)
	if err := readFloats(a.r, data, a.item); err != nil {
		err = shortRead(err, "the data")
		if a.path != "" {
			err = fmt.Errorf("%s: %w", a.path, err)
		}
		return nil, err
	}
	return exec.FromData(data, a.Shape...), nil
}

// Close closes the file (if OpenNpy opened it); Read closes it too.
func (a *NpyArray) Close() error {
	if a.close == nil {
		return nil
	}
	c := a.close
	a.close = nil
	return c()
}

// DecodeNpy reads a .npy array of size bytes from r: DecodeNpyHeader, then
// the data.
func DecodeNpy(r io.Reader, size int64) (*exec.Tensor, error) {
	a, err := DecodeNpyHeader(r, size)
	if err != nil {
		return nil, err
	}
	return a.Read()
}

// npyHeader is what a .npy header's dictionary says.
type npyHeader struct {
	descr   string
	fortran bool
	shape   []int64
}

// DecodeNpyHeader reads the header of a .npy array of size bytes (format
// 1.0, 2.0 or 3.0) from r and checks it: the magic, the version, the
// header length (bounded by MaxNpyHeader and by size), the header's Python
// dictionary (descr, fortran_order and shape, in any order), the shape's
// element count (without overflow) against the bytes left in the file.
// Only the header is read and allocated. Data after the array is ignored,
// as NumPy does.
func DecodeNpyHeader(r io.Reader, size int64) (*NpyArray, error) {
	var pre [12]byte
	if size < 10 {
		return nil, fmt.Errorf("not a .npy file: %d bytes, shorter than the 10 of the magic, version and header length", size)
	}
	if _, err := io.ReadFull(r, pre[:10]); err != nil {
		return nil, shortRead(err, "the magic")
	}
	if string(pre[:6]) != "\x93NUMPY" {
		return nil, fmt.Errorf("not a .npy file: it starts with %q, not \"\\x93NUMPY\"", pre[:6])
	}
	major, minor := pre[6], pre[7]
	var hlen, start int64
	switch {
	case major == 1 && minor == 0:
		hlen, start = int64(binary.LittleEndian.Uint16(pre[8:10])), 10
	case (major == 2 || major == 3) && minor == 0:
		if size < 12 {
			return nil, fmt.Errorf(".npy format %d.0 needs 12 bytes before its header, the file has %d", major, size)
		}
		if _, err := io.ReadFull(r, pre[10:12]); err != nil {
			return nil, shortRead(err, "the header length")
		}
		hlen, start = int64(binary.LittleEndian.Uint32(pre[8:12])), 12
	default:
		return nil, fmt.Errorf(".npy format version %d.%d; want 1.0, 2.0 or 3.0", major, minor)
	}
	if hlen > MaxNpyHeader {
		return nil, fmt.Errorf("a header of %s bytes, above the limit of %s", group(hlen), group(MaxNpyHeader))
	}
	if start+hlen > size {
		return nil, fmt.Errorf("a header of %s bytes, but the file has %s bytes after the header length", group(hlen), group(size-start))
	}
	buf := make([]byte, hlen)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, shortRead(err, "the header")
	}
	h, err := parseNpyHeader(buf)
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	var item int64
	switch h.descr {
	case "<f4", "float32":
		item = 4
	case "<f8", "float64":
		item = 8
	default:
		return nil, fmt.Errorf("dtype %s is not supported; want float32 '<f4' (or float64 '<f8', converted to float32)", dtypeName(h.descr))
	}
	if h.fortran {
		return nil, errors.New("Fortran-order arrays are not supported; save with np.ascontiguousarray")
	}
	n := int64(1)
	for _, d := range h.shape {
		if d != 0 && n > math.MaxInt64/d {
			return nil, fmt.Errorf("shape %s has more elements than int64 holds", pyShape(h.shape))
		}
		n *= d
	}
	have := size - start - hlen
	if n > have/item {
		return nil, fmt.Errorf("shape %s is %s values of %d bytes (%s bytes), but the file has %s bytes of data after its %s-byte header",
			pyShape(h.shape), group(n), item, bigBytes(n, item), group(have), group(start+hlen))
	}
	if n > math.MaxInt {
		return nil, fmt.Errorf("shape %s has more elements than this machine's int holds", pyShape(h.shape))
	}
	shape := make([]int, len(h.shape))
	for i, d := range h.shape {
		shape[i] = int(d)
	}
	return &NpyArray{Shape: shape, r: r, item: item}, nil
}

// readFloats fills data with little-endian float32 (item 4) or float64
// (item 8) values read from r, a chunk at a time.
func readFloats(r io.Reader, data []float32, item int64) error {
	chunk := make([]byte, 64<<10)
	per := len(chunk) / int(item)
	for done := 0; done < len(data); {
		k := min(per, len(data)-done)
		b := chunk[:k*int(item)]
		if _, err := io.ReadFull(r, b); err != nil {
			return err
		}
		out := data[done : done+k]
		if item == 4 {
			for i := range out {
				out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
		} else {
			for i := range out {
				out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
			}
		}
		done += k
	}
	return nil
}

func shortRead(err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("the file ended inside %s (it shrank while being read?)", what)
	}
	return err
}

// parseNpyHeader parses the Python dictionary literal of a .npy header:
// the keys descr (a string), fortran_order (True or False) and shape (a
// tuple of non-negative integers), in any order, each exactly once, with an
// optional trailing comma, followed only by the padding (spaces, a newline).
func parseNpyHeader(b []byte) (*npyHeader, error) {
	p := &pyParser{s: b}
	h := &npyHeader{}
	seen := map[string]bool{}
	p.space()
	if !p.eat('{') {
		return nil, p.errorf("want '{' opening the dictionary")
	}
	for {
		p.space()
		if p.eat('}') {
			break
		}
		if p.i == len(p.s) {
			return nil, p.errorf("the dictionary has no closing '}'")
		}
		at := p.i
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		if seen[key] {
			return nil, p.errorAt(at, "key %q appears twice", key)
		}
		seen[key] = true
		p.space()
		if !p.eat(':') {
			return nil, p.errorf("want ':' after %q", key)
		}
		p.space()
		switch key {
		case "descr":
			if p.peek() == '[' {
				return nil, p.errorf("descr is a structured dtype (a list of fields); want float32 '<f4' or float64 '<f8'")
			}
			h.descr, err = p.str()
		case "fortran_order":
			h.fortran, err = p.boolean()
		case "shape":
			h.shape, err = p.tuple()
		default:
			return nil, p.errorAt(at, "unknown key %q: a .npy header has descr, fortran_order and shape", key)
		}
		if err != nil {
			return nil, err
		}
		p.space()
		if p.eat(',') {
			continue
		}
		if p.eat('}') {
			break
		}
		if p.i == len(p.s) {
			return nil, p.errorf("the dictionary has no closing '}'")
		}
		return nil, p.errorf("want ',' or '}' after the value of %q", key)
	}
	p.space()
	if p.i < len(p.s) {
		return nil, p.errorf("unexpected text after the closing '}'")
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return nil, fmt.Errorf("no %q key", k)
		}
	}
	return h, nil
}

// pyParser reads the few Python literals of a .npy header.
type pyParser struct {
	s []byte
	i int
}

func (p *pyParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *pyParser) eat(c byte) bool {
	if p.peek() == c && p.i < len(p.s) {
		p.i++
		return true
	}
	return false
}

func (p *pyParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *pyParser) errorf(format string, a ...any) error { return p.errorAt(p.i, format, a...) }

func (p *pyParser) errorAt(at int, format string, a ...any) error {
	near := "at its end"
	if at < len(p.s) {
		near = "near " + quoteShort(p.s[at:])
	}
	return fmt.Errorf("byte %d (%s): %s", at, near, fmt.Sprintf(format, a...))
}

// str reads a quoted string without escapes.
func (p *pyParser) str() (string, error) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", p.errorf("want a quoted string")
	}
	start := p.i
	for j := p.i + 1; j < len(p.s); j++ {
		switch p.s[j] {
		case q:
			p.i = j + 1
			return string(p.s[start+1 : j]), nil
		case '\\':
			return "", p.errorAt(j, "a backslash in a string (escapes are not supported)")
		case '\n':
			return "", p.errorAt(start, "unterminated string")
		}
	}
	return "", p.errorAt(start, "unterminated string")
}

func (p *pyParser) boolean() (bool, error) {
	for _, w := range []string{"True", "False"} {
		if strings.HasPrefix(string(p.s[p.i:min(len(p.s), p.i+len(w))]), w) {
			p.i += len(w)
			return w == "True", nil
		}
	}
	return false, p.errorf("want True or False")
}

// tuple reads (), (5,), (2, 3) or (2, 3,); Python 2's 3L is accepted.
func (p *pyParser) tuple() ([]int64, error) {
	if !p.eat('(') {
		return nil, p.errorf("want a tuple such as (2, 3)")
	}
	var out []int64
	for {
		p.space()
		if p.eat(')') {
			return out, nil
		}
		start := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		if p.i == start {
			return nil, p.errorf("want a non-negative integer in the shape")
		}
		v, err := strconv.ParseInt(string(p.s[start:p.i]), 10, 64)
		if err != nil {
			return nil, p.errorAt(start, "shape size %s does not fit in int64", p.s[start:p.i])
		}
		if len(out) == MaxNpyRank {
			return nil, p.errorAt(start, "more than %d axes", MaxNpyRank)
		}
		out = append(out, v)
		p.eat('L')
		p.space()
		if p.eat(')') {
			return out, nil
		}
		if !p.eat(',') {
			return nil, p.errorf("want ',' or ')' in the shape")
		}
	}
}

// quoteShort quotes the start of b, at most 40 bytes of it.
func quoteShort(b []byte) string {
	b = []byte(strings.TrimRight(string(b), " \n"))
	if len(b) > 40 {
		return strconv.Quote(string(b[:40])) + "..."
	}
	return strconv.Quote(string(b))
}

// pyShape writes a shape the way NumPy does: (2, 3), (5,), ().
func pyShape(s []int64) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = strconv.FormatInt(v, 10)
	}
	if len(s) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// dtypeName quotes a descr and says what it is ("'<i4' (int32)").
func dtypeName(d string) string {
	q := "'" + d + "'"
	if len(d) < 2 {
		return q
	}
	kinds := map[byte]string{'b': "bool", 'i': "int", 'u': "uint", 'f': "float", 'c': "complex", 'O': "Python objects", 'U': "unicode strings", 'S': "byte strings", 'V': "raw bytes", 'M': "datetime", 'm': "timedelta"}
	order, kind, size := byte('|'), d[0], d[1:]
	if strings.IndexByte("<>=|", d[0]) >= 0 {
		order, kind, size = d[0], d[1], d[2:]
	}
	name, ok := kinds[kind]
	if !ok {
		return q
	}
	if n, err := strconv.Atoi(size); err == nil && strings.IndexByte("biufc", kind) >= 0 {
		name += strconv.Itoa(8 * n)
	}
	if order == '>' {
		name = "big-endian " + name
	}
	return q + " (" + name + ")"
}

// group writes n with thousands separators.
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}

// bigBytes is n*item with thousands separators, even beyond int64.
func bigBytes(n, item int64) string {
	if n <= math.MaxInt64/item {
		return group(n * item)
	}
	return fmt.Sprintf("%.3g", float64(n)*float64(item))
}

// WriteNpy writes t as a little-endian float32 NumPy array (format 1.0)
// with its shape; the data follows in C order.
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
