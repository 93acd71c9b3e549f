package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cnncalc/cnncalc/exec/tensorio"
)

// TestDecideWrite: the choice of writeFile for each kind of target, with
// made-up stat and access(2) results (tests may run as root, where a 0444
// file is writable).
func TestDecideWrite(t *testing.T) {
	file := target{exists: true, mode: 0o644, owned: true, uid: 1000, gid: 1000, nlink: 1}
	with := func(f func(*target)) target { t := file; f(&t); return t }
	for _, c := range []struct {
		name     string
		t        target
		euid     int
		writable error
		want     writeMode
		err      string
	}{
		{"no file", target{}, 1000, nil, writeNew, ""},
		{"own file", file, 1000, nil, writeReplace, ""},
		{"root, another's file", file, 0, nil, writeReplace, ""},
		{"read-only file", with(func(t *target) { t.mode = 0o444 }), 1000, syscall.EACCES, 0,
			"net.yaml is not writable (mode 0444, owner uid 1000: you may not write it); not written"},
		{"read-only file system", file, 1000, syscall.EROFS, 0,
			"net.yaml is not writable (mode 0644, owner uid 1000: it is on a read-only file system); not written"},
		{"hard links", with(func(t *target) { t.nlink = 3 }), 1000, nil, writeInPlace, ""},
		{"hard links, root", with(func(t *target) { t.nlink = 2 }), 0, nil, writeInPlace, ""},
		{"another's group-writable file", with(func(t *target) { t.uid = 1001; t.mode = 0o664 }), 1000, nil, writeInPlace, ""},
		{"a device", with(func(t *target) { t.mode = fs.ModeDevice | fs.ModeCharDevice | 0o666 }), 1000, nil, writeInPlace, ""},
		{"a link that only the kernel follows", with(func(t *target) { t.viaLink = true }), 1000, nil, writeInPlace, ""},
		{"a directory", with(func(t *target) { t.mode = fs.ModeDir | 0o755 }), 1000, nil, 0, "net.yaml is a directory"},
		{"no owner known", target{exists: true, mode: 0o644}, 1000, nil, writeReplace, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := decideWrite("net.yaml", c.t, c.euid, c.writable)
			switch {
			case c.err != "" && (err == nil || err.Error() != c.err):
				t.Errorf("error %v, want %q", err, c.err)
			case c.err == "" && err != nil:
				t.Errorf("error %v", err)
			case c.err == "" && got != c.want:
				t.Errorf("mode %d, want %d", got, c.want)
			}
		})
	}
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// noTemps fails when a temporary file is left in dir.
func noTemps(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", filepath.Join(dir, e.Name()))
		}
	}
}

// TestWriteFileSymlink: a symlink stays a symlink and its target gets the
// bytes; the temporary file goes beside the target.
func TestWriteFileSymlink(t *testing.T) {
	dir := t.TempDir()
	realDir := filepath.Join(dir, "real")
	os.Mkdir(realDir, 0o755)
	target := filepath.Join(realDir, "net.yaml")
	os.WriteFile(target, []byte("old\n"), 0o640)
	link := filepath.Join(dir, "net.yaml")
	if err := os.Symlink("real/net.yaml", link); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(link, []byte("new\n"), nil); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Lstat(link); st.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the symlink became %v", st.Mode())
	}
	if got := readString(t, target); got != "new\n" {
		t.Errorf("target holds %q", got)
	}
	if st, _ := os.Stat(target); st.Mode().Perm() != 0o640 {
		t.Errorf("target mode %v, want 0640", st.Mode().Perm())
	}
	noTemps(t, dir)
	noTemps(t, realDir)

	// A dangling symlink is refused, naming where it points.
	dangling := filepath.Join(dir, "gone.yaml")
	os.Symlink("nowhere/gone.yaml", dangling)
	if err := writeFile(dangling, []byte("x"), nil); err == nil || !strings.Contains(err.Error(), "gone.yaml is a symlink to nowhere/gone.yaml, which cannot be reached") {
		t.Errorf("dangling symlink: %v", err)
	}
}

// TestWriteFileHardLink: a file with two names is written in place, so
// both names see the new bytes and stay one file.
func TestWriteFileHardLink(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	os.WriteFile(a, []byte("a longer old text\n"), 0o644)
	if err := os.Link(a, b); err != nil {
		t.Skip("no hard links here:", err)
	}
	if err := writeFile(a, []byte("new\n"), nil); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, b); got != "new\n" {
		t.Errorf("the other name holds %q", got)
	}
	sa, _ := os.Stat(a)
	sb, _ := os.Stat(b)
	if !os.SameFile(sa, sb) {
		t.Error("the hard link was split")
	}
	noTemps(t, dir)
}

// TestWriteFileReadOnly: a 0444 file is refused, though its directory
// would allow a rename over it. As root every file is writable: the rule
// is then TestDecideWrite's only.
func TestWriteFileReadOnly(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root, which may write a 0444 file; TestDecideWrite covers the refusal")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "net.yaml")
	os.WriteFile(path, []byte("old\n"), 0o444)
	err := writeFile(path, []byte("new\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "net.yaml is not writable (mode 0444") {
		t.Errorf("error %v, want a refusal", err)
	}
	if got := readString(t, path); got != "old\n" {
		t.Errorf("the file holds %q", got)
	}
	noTemps(t, dir)
}

// TestWriteFileKeepsModeAndOwner: mode always; owner and group when
// running as root.
func TestWriteFileKeepsModeAndOwner(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "net.yaml")
	os.WriteFile(path, []byte("old\n"), 0o600)
	os.Chmod(path, 0o751)
	root := os.Geteuid() == 0
	if root {
		if err := os.Chown(path, 12345, 23456); err != nil {
			t.Fatal(err)
		}
	}
	if err := writeFile(path, []byte("new\n"), nil); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o751 {
		t.Errorf("mode %v, want 0751", st.Mode().Perm())
	}
	if root {
		if uid, gid, _, ok := fileOwner(st); ok && (uid != 12345 || gid != 23456) {
			t.Errorf("owner %d:%d, want 12345:23456", uid, gid)
		}
	}
	if got := readString(t, path); got != "new\n" {
		t.Errorf("the file holds %q", got)
	}
}

// TestWriteFileNew: a new file gets the umask's mode, as any new file.
func TestWriteFileNew(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "y.npy")
	if err := writeFile(path, []byte("data"), nil); err != nil {
		t.Fatal(err)
	}
	probe := filepath.Join(dir, "probe")
	f, _ := os.OpenFile(probe, os.O_CREATE|os.O_WRONLY, 0o666)
	f.Close()
	a, _ := os.Stat(path)
	b, _ := os.Stat(probe)
	if a.Mode() != b.Mode() {
		t.Errorf("new file mode %v, want %v (0666 less the umask)", a.Mode(), b.Mode())
	}
}

// TestWriteFileChanged: a file edited after it was read is not written
// over, however the edit shows (size, time, bytes).
func TestWriteFileChanged(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "net.yaml")
	for _, c := range []struct {
		name string
		edit func()
		why  string
	}{
		{"longer", func() { os.WriteFile(path, []byte("user's edit\n"), 0o644) }, "it is now 12 bytes, it was 4"},
		{"same size", func() {
			os.WriteFile(path, []byte("OLD\n"), 0o644)
		}, ""},
		{"same bytes, touched", func() {
			later := time.Now().Add(time.Hour)
			os.Chtimes(path, later, later)
		}, "it was modified at"},
		{"removed", func() { os.Remove(path) }, "it was removed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			os.WriteFile(path, []byte("old\n"), 0o644)
			past := time.Now().Add(-time.Hour)
			os.Chtimes(path, past, past)
			was, err := stateOf(path, []byte("old\n"))
			if err != nil {
				t.Fatal(err)
			}
			beforeCommit = func(string) { c.edit() }
			defer func() { beforeCommit = func(string) {} }()
			err = writeFile(path, []byte("snapshot\n"), was)
			if err == nil || !strings.Contains(err.Error(), "net.yaml changed while cnncalc ran ("+c.why) || !strings.Contains(err.Error(), "not written") {
				t.Fatalf("error %v, want a refusal saying %q", err, c.why)
			}
			if got, _ := os.ReadFile(path); strings.Contains(string(got), "snapshot") {
				t.Errorf("the edit was written over: %q", got)
			}
			noTemps(t, dir)
		})
	}
	// Edited between the read and stateOf's stat: the size read is the
	// data's, so the refusal still says what changed.
	os.WriteFile(path, []byte("user's edit\n"), 0o644)
	was, _ := stateOf(path, []byte("old\n"))
	if err := writeFile(path, []byte("snapshot\n"), was); err == nil || !strings.Contains(err.Error(), "(it is now 12 bytes, it was 4)") {
		t.Errorf("edit before the stat: %v", err)
	}
	// Unchanged, it is written.
	os.WriteFile(path, []byte("old\n"), 0o644)
	was, _ = stateOf(path, []byte("old\n"))
	if err := writeFile(path, []byte("snapshot\n"), was); err != nil {
		t.Fatal(err)
	}
	// The content check holds for the in-place write too.
	other := filepath.Join(dir, "other.yaml")
	if err := os.Link(path, other); err == nil {
		was, _ := stateOf(path, []byte("snapshot\n"))
		beforeCommit = func(string) { os.WriteFile(other, []byte("edited through the other name\n"), 0o644) }
		defer func() { beforeCommit = func(string) {} }()
		if err := writeFile(path, []byte("second\n"), was); err == nil || !strings.Contains(err.Error(), "changed while cnncalc ran") {
			t.Errorf("in place: error %v, want a refusal", err)
		}
		if got := readString(t, path); got != "edited through the other name\n" {
			t.Errorf("in place: the file holds %q", got)
		}
	}
}

// TestWriteFileFull: a write that fails (a full disk) leaves the old file
// whole and no temporary file behind.
func TestWriteFileFull(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "y.npy")
	os.WriteFile(path, []byte("the old, valid output"), 0o644)
	writeData = func(f *os.File, data []byte) (int, error) {
		n, _ := f.Write(data[:len(data)/2])
		return n, &fs.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	defer func() { writeData = func(f *os.File, data []byte) (int, error) { return f.Write(data) } }()
	err := writeFile(path, []byte("a new output, twice as long as the old one"), nil)
	if err == nil || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "cannot write "+path+": no space left on device (the file is left as it was)") {
		t.Errorf("error %v", err)
	}
	if got := readString(t, path); got != "the old, valid output" {
		t.Errorf("the old file became %q", got)
	}
	noTemps(t, dir)
}

// TestExecSaveOutputSafe: --save-output replaces the file through a
// temporary file: a failed write (a full disk) keeps the old file whole and
// exits 2 with nothing on standard output; a symlink is written through.
func TestExecSaveOutputSafe(t *testing.T) {
	dir := t.TempDir()
	y := filepath.Join(dir, "y.npy")
	os.WriteFile(y, []byte("an existing, valid y.npy"), 0o644)
	writeData = func(f *os.File, data []byte) (int, error) {
		n, _ := f.Write(data[:len(data)/2])
		return n, &fs.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	out, errOut, code := runCmd(t, "", "exec", "lenet5", "--save-output", y)
	writeData = func(f *os.File, data []byte) (int, error) { return f.Write(data) }
	if code != 2 || out != "" || !strings.Contains(errOut, "cannot write "+y+": no space left on device (the file is left as it was)") {
		t.Errorf("full disk: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if got, _ := os.ReadFile(y); string(got) != "an existing, valid y.npy" {
		t.Errorf("the old output became %q", got)
	}

	real := filepath.Join(dir, "real.npy")
	os.WriteFile(real, nil, 0o600)
	link := filepath.Join(dir, "link.npy")
	os.Symlink("real.npy", link)
	if out, errOut, code := runCmd(t, "", "exec", "lenet5", "--save-output", link); code != 0 {
		t.Fatalf("symlink: exit %d\n%s%s", code, out, errOut)
	}
	if st, _ := os.Lstat(link); st.Mode()&os.ModeSymlink == 0 {
		t.Error("--save-output replaced the symlink by a file")
	}
	x, err := tensorio.ReadNpy(real)
	if err != nil || len(x.Data) != 10 {
		t.Errorf("the symlink's target: %v, %v", x, err)
	}
	if st, _ := os.Stat(real); st.Mode().Perm() != 0o600 {
		t.Errorf("the target's mode became %v", st.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Errorf("files left: %v", entries)
	}
}

// TestReadSpecSize: a spec above the limit is refused with its own size
// (only the limit and a byte are read).
func TestReadSpecSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.yaml")
	os.WriteFile(path, []byte(strings.Repeat("#", 5_300_037)), 0o644)
	out, errOut, code := runCmd(t, "", "shapes", path)
	if code != 2 || out != "" || errOut != "cnncalc: "+path+": file is 5,300,037 bytes, above the limit of 4,194,304 bytes\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	_, errOut, code = runCmd(t, strings.Repeat("#", 5_300_037), "shapes", "-")
	if code != 2 || errOut != "cnncalc: <stdin>: standard input holds more than 4,194,304 bytes, the limit\n" {
		t.Errorf("stdin: exit %d, stderr %q", code, errOut)
	}
}

// TestWriteFileDevice: a device is written into, not replaced (so that
// --save-output /dev/stdout or /dev/null works as before).
func TestWriteFileDevice(t *testing.T) {
	st, err := os.Stat(os.DevNull)
	if err != nil || st.Mode()&fs.ModeDevice == 0 || !filepath.IsAbs(os.DevNull) {
		t.Skip("no null device here")
	}
	if err := writeFile(os.DevNull, []byte("data"), nil); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(os.DevNull); st.Mode()&fs.ModeDevice == 0 {
		t.Errorf("%s became %v", os.DevNull, st.Mode())
	}
}
