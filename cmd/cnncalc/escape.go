package main

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Text from a spec (names, keys, values, the quoted source line) and from
// the command line reaches the terminal only through these functions: a
// control character or an escape sequence in a file given by mistake (an
// .onnx model) or by malice (\x1b]0;title\a) is shown, not obeyed.

// escapeLine returns s with every character a terminal could act on written
// as Go's %q writes it: C0 and C1 controls and DEL (\x1b, \t, \n, \u009b),
// the other characters strconv.IsPrint rejects (bidirectional overrides,
// zero-width and non-ASCII spaces) and each byte of invalid UTF-8 (\xff).
// Printable characters, non-ASCII ones included, and backslashes are kept:
// the result is for reading, not for unquoting.
func escapeLine(s string) string { return escape(s, false) }

// escapeText is escapeLine keeping line breaks, for multi-line messages.
func escapeText(s string) string { return escape(s, true) }

func escape(s string, keepNewline bool) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < 0x7f || c == '\n' && keepNewline {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			break
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || !strconv.IsPrint(r) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s // the common case: nothing to escape, no allocation
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		b.WriteString(escapeRune(s[i:i+size], r, keepNewline))
		i += size
	}
	return b.String()
}

// escapeRune is the display of one character: ch itself when printable,
// else its escape; ch is one invalid byte when r is utf8.RuneError.
func escapeRune(ch string, r rune, keepNewline bool) string {
	switch {
	case r == utf8.RuneError && len(ch) == 1:
		return string([]byte{'\\', 'x', hexDigits[ch[0]>>4], hexDigits[ch[0]&15]})
	case r == '\n' && keepNewline:
		return ch
	case r < utf8.RuneSelf && r >= 0x20 && r < 0x7f, r >= utf8.RuneSelf && strconv.IsPrint(r):
		return ch
	}
	q := strconv.QuoteRune(r) // '\x1b', '\t', '\u202e'
	return q[1 : len(q)-1]
}

// maxQuoted is how many columns of a source line an error quotes, and
// quoteLeft how many before the caret when the line is cut.
const (
	maxQuoted = 120
	quoteLeft = 60
)

// quoteSourceLine returns the display of a source line, escaped, and the
// display column (from 0) of the character at col (from 1, counting
// characters, each byte of invalid UTF-8 one, as spec's positions do; one
// past the last character is the end of the line), or -1 when col is not
// on the line. A line wider than maxQuoted columns is cut, with "...", so
// that the caret still has its character above it.
func quoteSourceLine(line string, col int) (string, int) {
	k := col - 1 // the caret's character
	if k < 0 {
		k = -1
	}
	// The characters before the caret's, escaped, one piece each; on a long
	// line only the last ones are kept.
	var before []string
	width, cut, i, n := 0, false, 0, 0
	for ; i < len(line) && n < k; n++ {
		r, size := utf8.DecodeRuneInString(line[i:])
		p := escapeRune(line[i:i+size], r, false)
		before = append(before, p)
		width += utf8.RuneCountInString(p)
		i += size
		if width > 2*maxQuoted { // bound the memory on a long line
			before, width = trimLeft(before, width)
			cut = true
		}
	}
	caret := k >= 0 && n == k
	switch {
	case !caret:
		// No caret on this line: show its start.
		before, width, cut, i = nil, 0, false, 0
	case cut || width > maxQuoted-20:
		w := width
		before, width = trimLeft(before, width)
		cut = cut || width < w
	}
	var b strings.Builder
	if cut {
		b.WriteString("...")
	}
	for _, p := range before {
		b.WriteString(p)
	}
	at := -1
	if caret {
		at = utf8.RuneCountInString(b.String())
	}
	for shown := width; i < len(line) && shown < maxQuoted; {
		r, size := utf8.DecodeRuneInString(line[i:])
		p := escapeRune(line[i:i+size], r, false)
		b.WriteString(p)
		shown += utf8.RuneCountInString(p)
		i += size
	}
	if i < len(line) {
		b.WriteString("...")
	}
	return b.String(), at
}

// trimLeft drops pieces from the front until at most quoteLeft columns
// remain.
func trimLeft(pieces []string, width int) ([]string, int) {
	j := 0
	for j < len(pieces) && width > quoteLeft {
		width -= utf8.RuneCountInString(pieces[j])
		j++
	}
	return append(pieces[:0], pieces[j:]...), width
}

// jsonWriter passes JSON through with DEL and the C1 controls escaped
// (\u007f, \u0080 to \u009f), which encoding/json leaves raw: valid JSON,
// but JSON is read on terminals too. Outside its strings JSON is ASCII
// without them, so every value is kept. (A 0xc2 that ends a Write waits
// for the next byte; encoding/json's UTF-8 never ends on one.)
type jsonWriter struct {
	w    io.Writer
	lead bool // the last Write ended in 0xc2, the lead byte of a C1 control
}

func (j *jsonWriter) Write(p []byte) (int, error) {
	if !j.lead && bytes.IndexByte(p, 0x7f) < 0 && bytes.IndexByte(p, 0xc2) < 0 {
		return j.w.Write(p) // the common case: nothing to escape, no copy
	}
	n := len(p)
	out := make([]byte, 0, len(p)+8)
	if j.lead {
		j.lead = false
		if len(p) > 0 && p[0] >= 0x80 && p[0] < 0xa0 {
			out = appendU00(out, p[0])
			p = p[1:]
		} else {
			out = append(out, 0xc2)
		}
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == 0x7f:
			out = appendU00(out, c)
		case c == 0xc2 && i+1 == len(p):
			j.lead = true // held back until the next byte is seen
		case c == 0xc2 && p[i+1] >= 0x80 && p[i+1] < 0xa0:
			i++
			out = appendU00(out, p[i])
		default:
			out = append(out, c)
		}
	}
	_, err := j.w.Write(out)
	return n, err
}

// appendU00 appends c as a JSON escape, \u00XX.
func appendU00(out []byte, c byte) []byte {
	return append(out, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
}

const hexDigits = "0123456789abcdef"
