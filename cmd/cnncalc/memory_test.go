package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/cnncalc/cnncalc/exec"
	"github.com/cnncalc/cnncalc/exec/tensorio"
)

// allocated returns the bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestParseBytes(t *testing.T) {
	for s, want := range map[string]int64{"4GiB": 4 << 30, "512MiB": 512 << 20, "2G": 2 << 30, "1000000": 1e6, "1.5KiB": 1536, "1B": 1, "100": 100} {
		if got, err := parseBytes(s); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"NaN", "nan", "NaNGiB", "Inf", "-Inf", "+Inf", "0", "-1GiB", "0.5B", "0.1", "1e30", "", "GiB", "4 lots"} {
		if got, err := parseBytes(s); err == nil {
			t.Errorf("parseBytes(%q) = %d, want an error", s, got)
		}
	}
}

func TestSizeText(t *testing.T) {
	for b, want := range map[int64]string{0: "0 B", 100: "100 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 64 << 20: "64.0 MiB", 4 << 30: "4.0 GiB", 3 << 40: "3.0 TiB", 1 << 62: "4.0 EiB", math.MaxInt64: "more than 8 EiB"} {
		if got := sizeText(b); got != want {
			t.Errorf("sizeText(%d) = %q, want %q", b, got, want)
		}
	}
}

const lineSpec = "input: [1, 16]\nlayers:\n  - conv1d: {out: 1, kernel: 3}\n"

// TestExecMemoryRefusals: NaN and tiny limits are read right; a run above
// the limit, or above the machine's memory whatever the limit, is refused
// with the estimate, exit 2, nothing on stdout, before anything
// proportional to the tensors is allocated (a 1-D input of 2^36 positions,
// whose forward probe once alone needed 768 TiB, costs a few hundred KiB).
// The receptive-field probe runs within the forward pass's memory: it
// never makes a run need more.
func TestExecMemoryRefusals(t *testing.T) {
	defer func(f func() int64) { physicalMemory = f }(physicalMemory)
	physicalMemory = func() int64 { return 256 << 10 }
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"exec", "lenet5", "--max-memory", "NaN"}, `--max-memory "NaN": want a size such as 4GiB or 512MiB`},
		{[]string{"exec", "lenet5", "--max-memory", "0.5B"}, `--max-memory "0.5B": want a size`},
		{[]string{"exec", "lenet5", "--max-memory", "100"}, "the run needs about 358.4 KiB, above --max-memory 100 B (forward pass 358.4 KiB: weights 241.0 KiB"},
		{[]string{"exec", "lenet5", "--max-memory", "1.5KiB"}, "above --max-memory 1.5 KiB"},
		{[]string{"exec", "lenet5", "--max-memory", "1GiB"}, "the run needs about 358.4 KiB, more than this machine's 256.0 KiB of memory (MemTotal in /proc/meminfo), whatever --max-memory says (forward pass 358.4 KiB"},
		{[]string{"check", "--exec", "--max-memory", "1GiB", "lenet5"}, ""},
		{[]string{"exec", "-", "--input", "1x68719476736"}, "the run needs about 1.2 TiB, above --max-memory 4.0 GiB (forward pass 1.2 TiB: weights 16 B"},
		{[]string{"exec", "-", "--input", "1x68719476736", "--max-memory", "1000000GiB"}, "the run needs about 1.2 TiB, more than this machine's 256.0 KiB of memory"},
	} {
		var out, errOut string
		var code int
		n := allocated(func() { out, errOut, code = runCmd(t, lineSpec, c.args...) })
		if c.args[0] == "check" {
			if code != 2 || !strings.Contains(errOut, "lenet5.yaml: running it needs about 358.4 KiB, more than this machine's 256.0 KiB of memory") {
				t.Errorf("%v: exit %d, stderr %q", c.args, code, errOut)
			}
			continue
		}
		if code != 2 || out != "" || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stdout %q\nstderr %q\nwant %q", c.args, code, out, errOut, c.want)
		}
		if n > 4<<20 {
			t.Errorf("%v: allocated %d bytes to refuse", c.args, n)
		}
	}
}

// TestExecAboveMachineMemory: on this machine (Linux), a run above its
// physical memory is refused however high --max-memory is set.
func TestExecAboveMachineMemory(t *testing.T) {
	phys := physicalMemory()
	if phys == 0 {
		t.Skip("no /proc/meminfo")
	}
	_, errOut, code := runCmd(t, lineSpec, "exec", "-", "--input", "1x68719476736", "--max-memory", "4000000000GiB")
	if code != 2 || !strings.Contains(errOut, "more than this machine's "+sizeText(phys)) {
		t.Errorf("exit %d, %q", code, errOut)
	}
}

// TestExecNpyReadAfterEstimate: the data of a .npy input is read only once
// the run fits: a refused run reads its header, not its 4 MiB of data.
func TestExecNpyReadAfterEstimate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.npy")
	var buf bytes.Buffer
	if err := tensorio.WriteNpy(&buf, exec.New(1, 1, 1<<20)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	var errOut string
	var code int
	n := allocated(func() { _, errOut, code = runCmd(t, lineSpec, "exec", "-", "--input", path, "--max-memory", "1MiB") })
	if code != 2 || !strings.Contains(errOut, "above --max-memory 1.0 MiB") {
		t.Errorf("exit %d, %q", code, errOut)
	}
	if n > 1<<20 {
		t.Errorf("allocated %d bytes: the 4 MiB of data were read", n)
	}
}
