package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// runCmd runs the command line with buffers and returns stdout, stderr and
// the exit code.
func runCmd(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut})
	return out.String(), errOut.String(), code
}

// golden compares got with testdata/NAME.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run make golden)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\n%s", name, path, diff(string(want), got))
	}
}

// diff is a line diff, -want +got.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < len(w) || i < len(g); i++ {
		switch {
		case i >= len(w):
			b.WriteString("+" + g[i] + "\n")
		case i >= len(g):
			b.WriteString("-" + w[i] + "\n")
		case w[i] != g[i]:
			b.WriteString("-" + w[i] + "\n+" + g[i] + "\n")
		}
	}
	return b.String()
}

func TestGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		code int
	}{
		{"shapes_lenet5_table", []string{"shapes", "lenet5"}, 0},
		{"shapes_lenet5_json", []string{"shapes", "lenet5", "--format", "json"}, 0},
		{"shapes_lenet5_csv", []string{"shapes", "lenet5", "--format", "csv"}, 0},
		{"shapes_lenet5_markdown", []string{"shapes", "lenet5", "--format", "markdown"}, 0},
		{"shapes_lenet5_explain", []string{"shapes", "lenet5", "--explain"}, 0},
		{"params_lenet5_table", []string{"params", "lenet5"}, 0},
		{"params_lenet5_csv", []string{"params", "lenet5", "--format", "csv"}, 0},
		{"params_lenet5_markdown", []string{"params", "lenet5", "--format", "markdown", "--explain"}, 0},
		{"params_resnet18_batch8", []string{"params", "resnet18", "--batch", "8"}, 0},
		{"rf_lenet5_table", []string{"rf", "lenet5"}, 0},
		{"rf_vgg16_csv", []string{"rf", "vgg16", "--format", "csv"}, 0},
		{"shapes_skip_table", []string{"shapes", "testdata/skip.yaml"}, 0},
		{"shapes_skip_json", []string{"shapes", "testdata/skip.yaml", "--format", "json"}, 0},
		{"rf_skip_markdown", []string{"rf", "testdata/skip.yaml", "--format", "markdown"}, 0},
		{"shapes_input_override", []string{"shapes", "resnet18", "--input", "3x64x64"}, 0},
		{"zoo_table", []string{"zoo"}, 0},
		{"params_resnet18_depth1", []string{"params", "resnet18", "--depth", "1"}, 0},
		{"shapes_resnet18_depth2_markdown", []string{"shapes", "resnet18", "--depth", "2", "--format", "markdown"}, 0},
		{"params_resnet18_depth2_csv", []string{"params", "resnet18", "--depth", "2", "--format", "csv", "--columns", "index,layer,name,type,input,output,params,buffers,macs,memory,share"}, 0},
		{"params_lenet5_columns", []string{"params", "lenet5", "--columns", "name,type,kernel,params,share,rf"}, 0},
		{"error_bad", []string{"shapes", "testdata/bad.yaml"}, 2},
		{"error_tiny", []string{"params", "testdata/tiny.yaml"}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := runCmd(t, "", c.args...)
			if code != c.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, c.code, errOut)
			}
			if c.code != 0 && out != "" {
				t.Errorf("a failing run printed to stdout:\n%s", out)
			}
			golden(t, c.name, out+errOut)
		})
	}
}

// TestPlainTableMatches: the fast renderer used for long tables prints the
// same bytes as tablewriter, explain rows and footer included.
func TestPlainTableMatches(t *testing.T) {
	for _, args := range [][]string{
		{"shapes", "lenet5", "--explain"},
		{"params", "densenet121"},
		{"rf", "googlenet"},
		{"params", "testdata/skip.yaml", "--explain"},
	} {
		a, err := load(&IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}, args[1], &specFlags{Format: "table", Explain: len(args) > 2})
		if err != nil {
			t.Fatal(err)
		}
		_ = a
		var viaTW, viaPlain bytes.Buffer
		r := buildReport(t, args[0], a)
		if err := r.table(&viaTW, len(args) > 2); err != nil {
			t.Fatal(err)
		}
		if err := r.plainTable(&viaPlain, len(args) > 2); err != nil {
			t.Fatal(err)
		}
		if viaTW.String() != viaPlain.String() {
			t.Errorf("%v: plainTable differs from tablewriter:\n%s", args, diff(viaTW.String(), viaPlain.String()))
		}
	}
}

func buildReport(t *testing.T, cmd string, a *spec.Analysis) *report {
	defaults := map[string][]string{"shapes": shapesColumns, "params": paramsColumns, "rf": rfColumns}[cmd]
	if defaults == nil {
		t.Fatalf("no report for %s", cmd)
	}
	f := &specFlags{Format: "table"}
	r, err := f.report(a, defaults)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestZooFormats: zoo honours json (numbers as numbers) and refuses an
// unknown format.
func TestZooFormats(t *testing.T) {
	out, errOut, code := runCmd(t, "", "zoo", "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var ex []struct {
		Name   string `json:"name"`
		Params int64  `json:"params"`
		MACs   int64  `json:"macs"`
	}
	if err := json.Unmarshal([]byte(out), &ex); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range ex {
		// torchvision's resnet18: 11,689,512 params, 1.814 GMACs.
		if e.Name == "resnet18" && e.Params == 11689512 && e.MACs == 1814073344 {
			found = true
		}
	}
	if !found || len(ex) < 77 {
		t.Errorf("%d examples, resnet18 exact: %v", len(ex), found)
	}
	// CSV: each row names its family; counts are plain integers.
	csvOut, _, _ := runCmd(t, "", "zoo", "--format", "csv")
	if !strings.HasPrefix(csvOut, "family,example,network,input,layers,params,buffers,macs,output\n") ||
		!strings.Contains(csvOut, "\nResNet,resnet18,ResNet-18,3x224x224,69,11689512,9600,1814073344,1000\n") ||
		!strings.Contains(csvOut, "\nResNet,resnet34,") {
		t.Errorf("zoo --format csv:\n%s", csvOut)
	}
	if _, errOut, code := runCmd(t, "", "zoo", "--format", "bogus"); code != exitError || !strings.Contains(errOut, `unknown --format "bogus"`) {
		t.Errorf("bogus format: exit %d, %q", code, errOut)
	}
}
