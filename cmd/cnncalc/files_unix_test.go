//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestNotRegularFiles: a FIFO (with no writer) or a device given as a
// spec, as a file of a directory given to check, as --input or as
// --weights is refused at once by name, exit 2; nothing is read from it.
// Before, each of the FIFOs blocked forever and /dev/zero as --weights
// grew until out of memory.
func TestNotRegularFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := func(name string) string {
		p := filepath.Join(dir, name)
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Skip(err)
		}
		return p
	}
	specFifo, npyFifo, stFifo := fifo("net.yaml"), fifo("x.npy"), fifo("w.safetensors")
	specs := filepath.Join(dir, "specs")
	os.Mkdir(specs, 0o700)
	os.WriteFile(filepath.Join(specs, "a.yaml"), []byte("input: [1, 8]\nlayers:\n  - conv1d: {out: 2, kernel: 3}\n"), 0o600)
	if err := syscall.Mkfifo(filepath.Join(specs, "b.yaml"), 0o600); err != nil {
		t.Skip(err)
	}
	base := "../../testdata/torch/exec/act"
	for _, c := range []struct {
		args   []string
		want   string
		stdout string // the check report's summary, or nothing
	}{
		{[]string{"shapes", specFifo}, specFifo + " is a named pipe (FIFO), not a regular file", ""},
		{[]string{"shapes", "/dev/zero"}, "/dev/zero is a character device, not a regular file", ""},
		{[]string{"shapes", dir}, dir + " is a directory, not a spec file", ""},
		{[]string{"exec", "lenet5", "--input", npyFifo}, npyFifo + " is a named pipe (FIFO), not a regular file", ""},
		{[]string{"exec", base + ".yaml", "--weights", stFifo}, stFifo + " is a named pipe (FIFO), not a regular file", ""},
		{[]string{"exec", base + ".yaml", "--weights", "/dev/zero"}, "/dev/zero is a character device, not a regular file", ""},
		{[]string{"check", specFifo}, specFifo + " is a named pipe (FIFO), not a regular file", "0 passed, 0 failed, 1 specs unreadable\n"},
		{[]string{"check", specs}, filepath.Join(specs, "b.yaml") + " is a named pipe (FIFO), not a regular file", "0 passed, 0 failed, 1 specs unreadable\n"},
	} {
		if _, err := os.Stat(c.args[len(c.args)-1]); err != nil {
			continue
		}
		out, errOut, code := runCmd(t, "", c.args...)
		wantErr := "cnncalc: " + c.want
		if c.args[0] == "check" {
			wantErr = c.want // check reports an unreadable spec itself, on standard error
		}
		if code != 2 || out != c.stdout || strings.TrimSpace(errOut) != wantErr {
			t.Errorf("%v: exit %d\nstdout %q, want %q\nstderr %q, want %q", c.args, code, out, c.stdout, errOut, c.want)
		}
	}
}
