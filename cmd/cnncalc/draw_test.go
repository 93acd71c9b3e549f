package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The draw command's pictures, golden (make golden rewrites them; look at
// the SVGs in a browser before committing: make pictures).
func TestDrawGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
	}{
		{"draw_resnet18.svg", []string{"draw", "resnet18"}},
		{"draw_unet.svg", []string{"draw", "unet"}},
		{"draw_densenet121_depth1.svg", []string{"draw", "densenet121", "--depth", "1"}},
		{"draw_lenet5.dot", []string{"draw", "lenet5", "--format", "dot"}},
		{"draw_skip.mermaid", []string{"draw", "testdata/skip.yaml", "--format", "mermaid"}},
		{"draw_resnet18_params.svg", []string{"draw", "resnet18", "--chart", "params"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := runCmd(t, "", c.args...)
			if code != 0 {
				t.Fatalf("exit code %d; stderr:\n%s", code, errOut)
			}
			golden(t, c.name, out)
		})
	}
}

// Bad input draws nothing and exits 2 with a message that says what to do.
func TestDrawErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"draw", "resnet18", "--rf", "relu_99"}, `no layer "relu_99"; the nearest: relu_9, relu_1, relu_2`},
		{[]string{"draw", "resnet18", "--rf", "700"}, "layer 700 is out of range: the network has 69 layers"},
		{[]string{"draw", "resnet18", "--rf", "linear_1"}, "layer linear_1 has no receptive field"},
		{[]string{"draw", "testdata/bad.yaml"}, "bad.yaml:"},
		{[]string{"draw", "resnet18", "--format", "jpeg"}, `unknown --format "jpeg": use svg, dot, mermaid or png`},
		{[]string{"draw", "resnet18", "--chart", "flops"}, `unknown --chart "flops"`},
		{[]string{"draw", "resnet18", "--chart", "macs", "--format", "dot"}, "--chart draws SVG and --rf SVG or PNG, not dot"},
		{[]string{"draw", "resnet18", "-o", "x.png"}, "png is for --rf pictures"},
		{[]string{"draw", "resnet18", "--weights", "w.safetensors"}, "--weights feeds the effective field: it goes with --rf"},
		{[]string{"draw", "resnet18", "--depth", "-1"}, "--depth must be between 0 and 64"},
		{[]string{"draw", "resnet18", "--rf", "relu_1", "--weights", "testdata/nope.safetensors"}, "nope.safetensors"},
	} {
		out, errOut, code := runCmd(t, "", c.args...)
		if code != 2 {
			t.Errorf("%v: exit code %d, want 2", c.args, code)
		}
		if out != "" {
			t.Errorf("%v: printed %d bytes to stdout", c.args, len(out))
		}
		if !strings.Contains(errOut, c.want) {
			t.Errorf("%v: stderr %q, want %q in it", c.args, errOut, c.want)
		}
	}
}

// -o writes the picture to the file and nothing to stdout; a failing run
// leaves an existing file alone.
func TestDrawOutputFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.svg")
	out, errOut, code := runCmd(t, "", "draw", "lenet5", "-o", path)
	if code != 0 || out != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	data, err := os.ReadFile(path)
	if err != nil || !strings.HasPrefix(string(data), "<svg") || !strings.HasSuffix(string(data), "</svg>\n") {
		t.Fatalf("%s: %v, %.40q", path, err, data)
	}
	if _, _, code := runCmd(t, "", "draw", "lenet5", "--rf", "nope", "-o", path); code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	again, _ := os.ReadFile(path)
	if string(again) != string(data) {
		t.Error("a failing run changed the file")
	}
}

// --rf draws the field and says on stderr how the gradient sits in it.
func TestDrawRF(t *testing.T) {
	out, errOut, code := runCmd(t, "", "draw", "lenet5", "--rf", "4")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"theoretical field of conv2d_2 at unit (4, 4): 14x14 px, jump 2x2, from (8, 8) to (21, 21)",
		"effective field: 100.0% of the gradient's mass lies inside the theoretical field",
	} {
		if !strings.Contains(errOut, want) || !strings.Contains(out, strings.ReplaceAll(want, "'", "&#39;")) {
			t.Errorf("%q missing from stderr or the picture; stderr:\n%s", want, errOut)
		}
	}
	if !strings.HasPrefix(out, "<svg") {
		t.Errorf("not an SVG: %.40q", out)
	}
}

// --weights feeds the effective field's pass: the heat map follows the
// checkpoint, not exec's init. A kind without a backward pass is named.
func TestDrawRFWeights(t *testing.T) {
	spec := "../../testdata/torch/exec/conv2d.yaml"
	with, errOut, code := runCmd(t, "", "draw", spec, "--rf", "1", "--weights", "../../testdata/torch/exec/conv2d.safetensors")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	without, _, _ := runCmd(t, "", "draw", spec, "--rf", "1")
	if with == without {
		t.Error("the checkpoint did not change the effective field")
	}
	_, errOut, code = runCmd(t, "", "draw", spec, "--rf", "2")
	if code != 0 || !strings.Contains(errOut, "effective field not available for conv2d with padding_mode reflect") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// A flowchart above mermaid's default limits is written with a warning.
func TestDrawMermaidTooBig(t *testing.T) {
	out, errOut, code := runCmd(t, "", "draw", "efficientnet_b7", "--format", "mermaid")
	if code != 0 || !strings.HasPrefix(out, "flowchart TB\n") {
		t.Fatalf("exit %d, %.20q", code, out)
	}
	if !strings.Contains(errOut, "967 edges; mermaid (and GitHub) draws at most 50000 and 500: try --depth 1") {
		t.Errorf("stderr %q", errOut)
	}
	if _, errOut, _ := runCmd(t, "", "draw", "efficientnet_b7", "--depth", "1", "--format", "mermaid"); errOut != "" {
		t.Errorf("--depth 1 warns: %q", errOut)
	}
}

// -o NAME.png draws --rf as a PNG; .dot and .mmd pick those formats.
func TestDrawFormatFromName(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args   []string
		file   string
		prefix string
	}{
		{[]string{"draw", "lenet5", "--rf", "4"}, "rf.png", "\x89PNG\r\n\x1a\n"},
		{[]string{"draw", "lenet5"}, "g.dot", "digraph "},
		{[]string{"draw", "lenet5"}, "g.mmd", "flowchart TB\n"},
		{[]string{"draw", "lenet5"}, "g.svg", "<svg "},
		{[]string{"draw", "lenet5", "--format", "dot"}, "g.txt", "digraph "},
	} {
		path := filepath.Join(dir, c.file)
		_, errOut, code := runCmd(t, "", append(c.args, "-o", path)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, code, errOut)
		}
		data, _ := os.ReadFile(path)
		if !strings.HasPrefix(string(data), c.prefix) {
			t.Errorf("%s: starts %.12q, want %q", c.file, data, c.prefix)
		}
	}
}
