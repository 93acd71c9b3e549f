package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestExecTrain: with batchnorms, train mode's output is far from eval
// mode's for the same input; without, they are equal; a batchnorm with one
// value per channel is refused as PyTorch refuses it.
func TestExecTrain(t *testing.T) {
	rel := regexp.MustCompile(`train vs eval: max \|difference\| (\S+), relative (\S+)`)
	for _, c := range []struct {
		args   []string
		norms  string
		lo, hi float64
	}{
		{[]string{"exec", "resnet18", "--train", "--no-rf", "--batch", "2", "--input", "3x32x32"}, "train mode: 20 normalizations use the batch's statistics", 0.05, 1e9},
		{[]string{"exec", "lenet5", "--train", "--no-rf"}, "train mode: no layer behaves differently", 0, 0},
	} {
		out, errOut, code := runCmd(t, "", c.args...)
		m := rel.FindStringSubmatch(out)
		if code != 0 || m == nil || !strings.Contains(out, c.norms) {
			t.Fatalf("%v: exit %d\n%s%s", c.args, code, out, errOut)
		}
		v, _ := strconv.ParseFloat(m[2], 64)
		if v < c.lo || v > c.hi {
			t.Errorf("%v: train vs eval relative %g, want in [%g, %g]", c.args, v, c.lo, c.hi)
		}
	}
	out, errOut, code := runCmd(t, "", "exec", "resnet18", "--train", "--no-rf", "--input", "3x32x32")
	if code != 2 || out != "" || !strings.Contains(errOut, "expected more than 1 value per channel when training, got input size 1x512x1x1") {
		t.Errorf("batch 1: exit %d\n%s%s", code, out, errOut)
	}
}
