package calc

import (
	"errors"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// ErrOverflow reports that a count does not fit in int64.
var ErrOverflow = errors.New("number overflows int64")

// mul returns a*b for non-negative a and b, or ErrOverflow.
func mul(a, b int64) (int64, error) {
	if a < 0 || b < 0 {
		return 0, errors.New("negative factor")
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, ErrOverflow
	}
	return int64(lo), nil
}

// add returns a+b for non-negative a and b, or ErrOverflow.
func add(a, b int64) (int64, error) {
	s := a + b
	if (a >= 0 && b >= 0 && s < 0) || (a < 0 && b < 0 && s >= 0) {
		return 0, ErrOverflow
	}
	return s, nil
}

// prod multiplies all factors with overflow checking.
func prod(fs ...int64) (int64, error) {
	p := int64(1)
	for _, f := range fs {
		var err error
		if p, err = mul(p, f); err != nil {
			return 0, err
		}
	}
	return p, nil
}

// floorDiv divides rounding toward negative infinity, as PyTorch's div_rtn.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// ceilDiv divides rounding toward positive infinity.
func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }

// effectiveKernel is the span of a dilated kernel: dilation*(kernel-1)+1.
func effectiveKernel(kernel, dilation int64) int64 { return dilation*(kernel-1) + 1 }

// Group formats n with thousands separators: 61706 -> "61,706".
func Group(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Human formats n with an SI suffix and three significant decimals:
// 11689512 -> "11.69M".
func Human(n int64) string {
	f := float64(n)
	switch a := math.Abs(f); {
	case a >= 1e12:
		return strconv.FormatFloat(f/1e12, 'f', 2, 64) + "T"
	case a >= 1e9:
		return strconv.FormatFloat(f/1e9, 'f', 2, 64) + "G"
	case a >= 1e6:
		return strconv.FormatFloat(f/1e6, 'f', 2, 64) + "M"
	case a >= 1e3:
		return strconv.FormatFloat(f/1e3, 'f', 2, 64) + "K"
	}
	return strconv.FormatInt(n, 10)
}

// fmtFloat prints a float the short way: 2, 0.5, -1.5.
func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
