package onnx

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// onnxTestData is where Debian's libonnx-testdata installs ONNX's own
// backend tests (apt-get install libonnx-testdata); the test skips when
// it is absent, and nothing of it is copied into the repository.
const onnxTestData = "/usr/share/libonnx-testdata/data"

// TestConformance runs every ONNX node test (and PyTorch-converted test)
// whose operators cnncalc can express through exec, and compares with
// ONNX's expected output (1e-4 relative to the output's largest value).
// The graph inputs after the first are the test's weights: they are given
// to the model as initializers. A test the converter refuses is counted,
// not failed (the model is outside what cnncalc expresses, and refused
// with an error); a test it converts must compute the expected output.
func TestConformance(t *testing.T) {
	var dirs []string
	for _, set := range []string{"node", "pytorch-converted", "pytorch-operator", "simple"} {
		d, _ := filepath.Glob(filepath.Join(onnxTestData, set, "*", "model.onnx"))
		dirs = append(dirs, d...)
	}
	if len(dirs) == 0 {
		t.Skipf("ONNX's test data is not installed (%s): apt-get install libonnx-testdata", onnxTestData)
	}
	type tally struct{ pass, refused, fail int }
	byOp := map[string]*tally{}
	var failures []string
	for _, model := range dirs {
		dir := filepath.Dir(model)
		name := filepath.Base(filepath.Dir(dir)) + "/" + filepath.Base(dir)
		ops, res, err := conformanceCase(dir)
		key := strings.Join(ops, "+")
		if byOp[key] == nil {
			byOp[key] = &tally{}
		}
		switch {
		case res == "pass":
			byOp[key].pass++
		case res == "refused":
			byOp[key].refused++
			if os.Getenv("ONNX_REFUSALS") != "" {
				t.Logf("refused %s (%s): %v", name, key, err)
			}
		default:
			byOp[key].fail++
			failures = append(failures, fmt.Sprintf("%s (%s): %v", name, key, err))
		}
	}
	var keys []string
	pass, refused := 0, 0
	for k, v := range byOp {
		keys = append(keys, k)
		pass += v.pass
		refused += v.refused
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		if v := byOp[k]; v.pass+v.fail > 0 {
			fmt.Fprintf(&b, "  %-40s pass %d, refused %d, fail %d\n", k, v.pass, v.refused, v.fail)
		}
	}
	t.Logf("ONNX conformance: %d tests, %d pass, %d refused, %d fail; by operator:\n%s", len(dirs), pass, refused, len(failures), b.String())
	for _, f := range failures {
		t.Error(f)
	}
}

// conformanceCase runs one test directory: "pass", "refused" (the
// converter or the spec refuses the model, with an error) or "fail".
func conformanceCase(dir string) (ops []string, result string, err error) {
	m, err := Open(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return nil, "refused", err
	}
	defer m.Close()
	for _, n := range m.Proto.GetGraph().GetNode() {
		if !slices.Contains(ops, n.GetOpType()) {
			ops = append(ops, n.GetOpType())
		}
	}
	sort.Strings(ops)
	g := m.Proto.GetGraph()
	set := filepath.Join(dir, "test_data_set_0")
	// Inputs after the first are weights: make them initializers.
	inits := map[string]bool{}
	for _, t := range g.Initializer {
		inits[t.GetName()] = true
	}
	var data []string
	for _, in := range g.Input {
		if !inits[in.GetName()] {
			data = append(data, in.GetName())
		}
	}
	if len(data) == 0 {
		return ops, "refused", errors.New("no input")
	}
	x, err := readTensorPB(filepath.Join(set, "input_0.pb"))
	if err != nil {
		return ops, "refused", err
	}
	for i := 1; i < len(data); i++ {
		w, err := readTensorPB(filepath.Join(set, fmt.Sprintf("input_%d.pb", i)))
		if err != nil {
			return ops, "refused", err
		}
		w.Name = &data[i]
		g.Initializer = append(g.Initializer, w)
	}
	want, err := readTensorPB(filepath.Join(set, "output_0.pb"))
	if err != nil {
		return ops, "refused", err
	}
	if _, err := os.Stat(filepath.Join(set, "output_1.pb")); err == nil {
		return ops, "refused", errors.New("more than one output")
	}
	xt, err := tensorOf(m, x)
	if err != nil || len(xt.Shape) < 2 || len(xt.Shape) > 5 {
		return ops, "refused", fmt.Errorf("input %v", x.Dims)
	}
	wt, err := tensorOf(m, want)
	if err != nil {
		return ops, "refused", err
	}
	got, _, err := runModel(m, xt)
	var ce *Error
	var ue *UnsupportedError
	switch {
	case errors.As(err, &ce), errors.As(err, &ue):
		return ops, "refused", err
	case err != nil:
		return ops, "fail", err
	}
	if !slices.Equal(got.Shape, wt.Shape) {
		return ops, "fail", fmt.Errorf("output shape %v, ONNX's %v", got.Shape, wt.Shape)
	}
	if abs, rel := maxDiff(got, wt); rel > 1e-4 && abs > 1e-5 {
		return ops, "fail", fmt.Errorf("max difference %.3g (%.3g relative to the largest output)", abs, rel)
	}
	return ops, "pass", nil
}
