package main

import (
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestFlags builds each command with a runF that captures its options, so
// that the flag layer is tested apart from the work: every flag lands in
// its field, and the positional argument in Spec.
func TestFlags(t *testing.T) {
	ios := &IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}
	sf := specFlags{Format: "json", Batch: 4, BatchSet: true, Input: "3x32x32", Explain: true}
	specArgs := []string{"net.yaml", "--format", "json", "--batch", "4", "--input", "3x32x32", "--explain"}
	execFlags := sf
	execFlags.Explain = false
	var got any
	for _, c := range []struct {
		name string
		cmd  *cobra.Command
		args []string
		want any
	}{
		{"shapes", newShapesCmd(ios, func(o *ShapesOptions) error { got = *o; return nil }), specArgs,
			ShapesOptions{IO: ios, Spec: "net.yaml", specFlags: sf}},
		{"params", newParamsCmd(ios, func(o *ParamsOptions) error { got = *o; return nil }), specArgs,
			ParamsOptions{IO: ios, Spec: "net.yaml", DType: "float32", specFlags: sf}},
		{"rf", newRFCmd(ios, func(o *RFOptions) error { got = *o; return nil }), specArgs,
			RFOptions{IO: ios, Spec: "net.yaml", specFlags: sf}},
		// exec has no formulas: no --explain.
		{"exec", newExecCmd(ios, func(o *ExecOptions) error { got = *o; return nil }),
			[]string{"net.yaml", "--format", "json", "--batch", "4", "--input", "3x32x32", "--weights", "w.safetensors", "--seed", "7", "--save-output", "y.npy", "--max-memory", "1GiB"},
			ExecOptions{IO: ios, Spec: "net.yaml", Weights: "w.safetensors", Seed: 7, SaveOutput: "y.npy", MaxMemory: "1GiB", specFlags: execFlags}},
		{"zoo", newZooCmd(ios, func(o *ZooOptions) error { got = *o; return nil }), []string{"--format", "csv"},
			ZooOptions{IO: ios, Format: "csv"}},
		{"check", newCheckCmd(ios, func(o *CheckOptions) error { got = *o; return nil }),
			[]string{"a.yaml", "dir", "--format", "junit", "--batch", "2", "--write", "-v", "--exec", "--max-memory", "2GiB"},
			CheckOptions{IO: ios, Specs: []string{"a.yaml", "dir"}, Format: "junit", Batch: 2, BatchSet: true, Write: true, Verbose: true, Exec: true, MaxMemory: "2GiB"}},
	} {
		got = nil
		c.cmd.SetArgs(c.args)
		c.cmd.SetOut(io.Discard)
		c.cmd.SetErr(io.Discard)
		if err := c.cmd.Execute(); err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: options\n got %+v\nwant %+v", c.name, got, c.want)
		}
	}
}

// --batch given is a batch, 1 to 2^24: 0 and negative ones are refused,
// not read as "the spec's" (which is the flag's absence), on every command
// that takes it.
func TestBatchFlag(t *testing.T) {
	const spec = "input: [3, 8, 8]\nbatch: 3\nlayers: [relu]\n"
	for _, cmd := range []string{"shapes", "params", "rf", "exec", "check"} {
		for _, c := range []struct {
			batch string
			code  int
			want  string // on stderr, or the batch in effect in the output
		}{
			{"0", exitError, "cnncalc: --batch must be between 1 and 16,777,216, got 0\n"},
			{"-1", exitError, "cnncalc: --batch must be between 1 and 16,777,216, got -1\n"},
			{"-9223372036854775808", exitError, "got -9223372036854775808\n"},
			{"16777217", exitError, "cnncalc: --batch must be between 1 and 16,777,216, got 16777217\n"},
			{"", exitOK, "batch 3,"},
			{"1", exitOK, "batch 1,"},
			{"16777216", exitOK, "batch 16777216,"},
		} {
			args := []string{cmd, "-"}
			if cmd == "check" {
				args = append(args, "--allow-empty") // the spec has no expect:
			}
			if c.batch != "" {
				args = append(args, "--batch="+c.batch)
			}
			if cmd == "exec" && c.batch == "16777216" {
				continue // a run of 16M images
			}
			out, errOut, code := runCmd(t, spec, args...)
			name := strings.Join(args, " ")
			if code != c.code {
				t.Errorf("%s: exit %d, want %d\n%s%s", name, code, c.code, out, errOut)
				continue
			}
			if c.code != exitOK {
				if !strings.HasSuffix(errOut, c.want) || out != "" {
					t.Errorf("%s: stdout %q, stderr %q; want %q", name, out, errOut, c.want)
				}
				continue
			}
			if cmd == "check" {
				continue // no expectations: nothing shows the batch
			}
			if !strings.Contains(out, c.want) {
				t.Errorf("%s: output lacks %q:\n%s", name, c.want, out)
			}
		}
	}
}
