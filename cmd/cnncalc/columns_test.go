package main

import (
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
)

// CSV is for programs: every count is a plain integer (no thousands
// separator, no unit), the units are in the header, and the numbers are
// the table's.
func TestCSVPlainNumbers(t *testing.T) {
	out, errOut, code := runCmd(t, "", "params", "resnet18", "--format", "csv", "--columns", "index,name,output,params,buffers,macs,memory,share,rf")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := "index,name,output,params,buffers,macs,memory_bytes,params_pct,macs_pct,rf_size,rf_jump,rf_start"
	if got := strings.Join(recs[0], ","); got != want {
		t.Fatalf("header %s, want %s", got, want)
	}
	var params, macs int64
	var pct float64
	for _, r := range recs[1:] {
		ints := map[string]int64{}
		for i, h := range []string{"index", "params", "buffers", "macs", "memory_bytes"} {
			col := map[int]int{0: 0, 1: 3, 2: 4, 3: 5, 4: 6}[i]
			v, err := strconv.ParseInt(r[col], 10, 64)
			if err != nil {
				t.Fatalf("row %v: %s %q is not a plain integer", r, h, r[col])
			}
			ints[h] = v
		}
		// memory_bytes is the float32 output: 4 bytes an element.
		elems := int64(4)
		for _, d := range strings.Split(r[2], "x") {
			n, _ := strconv.ParseInt(d, 10, 64)
			elems *= n
		}
		if ints["memory_bytes"] != elems {
			t.Errorf("%s: memory_bytes %d, want 4 x %s = %d", r[1], ints["memory_bytes"], r[2], elems)
		}
		p, err := strconv.ParseFloat(r[7], 64)
		if err != nil {
			t.Errorf("%s: params_pct %q", r[1], r[7])
		}
		pct += p
		params += ints["params"]
		macs += ints["macs"]
	}
	// torchvision's resnet18: 11,689,512 params, 1,814,073,344 MACs.
	if params != 11689512 || macs != 1814073344 {
		t.Errorf("csv rows sum to %d params, %d MACs", params, macs)
	}
	if pct < 99.99 || pct > 100.01 {
		t.Errorf("params_pct sums to %v", pct)
	}
}

// The flags are refused with a message naming what is wrong, before
// anything is printed.
func TestColumnsDepthRefused(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"params", "lenet5", "--columns", "name,parms"}, `--columns: unknown column "parms"; did you mean params? (columns: index,layer,name,type,input,output,window,kernel,params,buffers,macs,memory,params%,macs%,rf,rf-size,rf-jump,rf-start,rf-padding (share = params%,macs%))`},
		{[]string{"shapes", "lenet5", "--columns", ""}, "--columns: no column named"},
		{[]string{"rf", "lenet5", "--depth", "-1"}, "--depth must be between 0 (every layer) and 65, got -1"},
		{[]string{"shapes", "lenet5", "--depth", "1", "--format", "json"}, "--columns and --depth shape the table, csv and markdown formats; --format json holds every layer and field"},
		{[]string{"params", "lenet5", "--columns", "params", "--format", "json"}, "--format json holds every layer"},
	} {
		out, errOut, code := runCmd(t, "", c.args...)
		if code != exitError || out != "" || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q", c.args, code, out, errOut, c.want)
		}
	}
}

// --depth past the deepest item lists every layer as the flat table does,
// in the same order, with the group rows added above their layers; each
// command's default columns stay the same with and without --depth.
func TestDepthDeepMatchesFlat(t *testing.T) {
	for _, cmd := range []string{"shapes", "params", "rf"} {
		flat, _, _ := runCmd(t, "", cmd, "googlenet", "--format", "csv")
		deep, _, _ := runCmd(t, "", cmd, "googlenet", "--format", "csv", "--depth", "65")
		fl, dl := strings.Split(flat, "\n"), strings.Split(deep, "\n")
		if fl[0] != dl[0] {
			t.Errorf("%s: header %q with --depth, %q without", cmd, dl[0], fl[0])
		}
		var layers []string
		for _, l := range dl[1:] {
			if idx, _, _ := strings.Cut(l, ","); !strings.Contains(idx, "-") {
				layers = append(layers, l)
			}
		}
		if got, want := strings.Join(layers, "\n"), strings.Join(fl[1:], "\n"); got != want {
			t.Errorf("%s --depth 65: the layer rows differ from the flat table:\n%s", cmd, diff(want, got))
		}
		if len(dl) <= len(fl) {
			t.Errorf("%s --depth 65: no group row", cmd)
		}
	}
}
