package exec

import "testing"

// countWindows and countPoolWindows count placements one at a time, as
// windows and poolWindows did before their closed forms.
func countWindows(in, ek, s, pl, pr int) int {
	n := 0
	for start := -pl; start+ek <= in+pr; start += s {
		n++
	}
	return n
}

func countPoolWindows(in, ek, s, p int, ceil bool) int {
	n := 0
	for start := -p; ; start += s {
		full := start+ek <= in+p
		partial := ceil && start < in+p-ek+s && start < in
		if !full && !partial {
			return n
		}
		n++
	}
}

// TestWindowsClosedForm compares the closed forms with the counts on every
// small case: inputs 1..40, window spans 1..14, strides 1..7, paddings 0..6.
func TestWindowsClosedForm(t *testing.T) {
	cases := 0
	for in := 1; in <= 40; in++ {
		for ek := 1; ek <= 14; ek++ {
			for s := 1; s <= 7; s++ {
				for pl := 0; pl <= 6; pl++ {
					for pr := 0; pr <= 6; pr++ {
						if got, want := windows(in, ek, s, pl, pr), countWindows(in, ek, s, pl, pr); got != want {
							t.Fatalf("windows(in %d, span %d, stride %d, pad %d+%d) = %d, counted %d", in, ek, s, pl, pr, got, want)
						}
						cases++
					}
					for _, ceil := range []bool{false, true} {
						if got, want := poolWindows(in, ek, s, pl, ceil), countPoolWindows(in, ek, s, pl, ceil); got != want {
							t.Fatalf("poolWindows(in %d, span %d, stride %d, pad %d, ceil %v) = %d, counted %d", in, ek, s, pl, ceil, got, want)
						}
						cases++
					}
				}
			}
		}
	}
	if cases < 200000 {
		t.Fatalf("only %d cases", cases)
	}
}

// TestWindowsLongAxis: an axis of 2^36 positions (calc.MaxDim) is counted
// without a step per position (counting them one at a time kept exec busy
// for 44 s before its memory estimate); the numbers are the formula's.
func TestWindowsLongAxis(t *testing.T) {
	const in = 1 << 36
	if got := windows(in, 3, 1, 0, 0); got != in-2 {
		t.Errorf("windows = %d, want %d", got, in-2)
	}
	if got := windows(in, 5, 2, 2, 2); got != in/2 {
		t.Errorf("windows stride 2 = %d, want %d", got, in/2)
	}
	if got := poolWindows(in, 3, 2, 0, true); got != in/2 {
		t.Errorf("poolWindows ceil = %d, want %d", got, in/2)
	}
	if got := poolWindows(in, 3, 2, 0, false); got != in/2-1 {
		t.Errorf("poolWindows = %d, want %d", got, in/2-1)
	}
}
