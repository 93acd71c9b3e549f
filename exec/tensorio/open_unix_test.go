//go:build unix

package tensorio

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestOpenRegularRefuses: a FIFO with no writer, a device and a socket are
// refused at once, by name; none is read (a FIFO would block the open, and
// /dev/zero never ends).
func TestOpenRegularRefuses(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "x.npy")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	sock := filepath.Join(dir, "s.npy")
	cases := map[string]string{
		fifo:        "is a named pipe (FIFO), not a regular file",
		"/dev/zero": "is a character device, not a regular file",
		dir:         "is a directory, not a regular file",
	}
	if l, err := net.Listen("unix", sock); err == nil {
		defer l.Close()
		cases[sock] = "is a socket, not a regular file"
	}
	for path, want := range cases {
		if _, err := os.Stat(path); err != nil {
			continue
		}
		for name, read := range map[string]func(string) error{
			"OpenRegular": func(p string) error { _, _, err := OpenRegular(p); return err },
			"ReadNpy":     func(p string) error { _, err := ReadNpy(p); return err },
			"LoadSafetensors": func(p string) error {
				_, err := LoadSafetensors(tinyPlan(t), p, func(int) string { return "" })
				return err
			},
		} {
			err := read(path)
			if !errors.Is(err, ErrNotRegular) || err.Error() != path+" "+want {
				t.Errorf("%s(%s): %v, want %q", name, path, err, want)
			}
		}
	}
	// A symbolic link is followed: to a regular file it opens.
	reg := filepath.Join(dir, "r.npy")
	os.WriteFile(reg, nil, 0o600)
	link := filepath.Join(dir, "l.npy")
	if err := os.Symlink(reg, link); err == nil {
		if f, _, err := OpenRegular(link); err != nil {
			t.Errorf("link to a regular file: %v", err)
		} else {
			f.Close()
		}
	}
	if !strings.HasPrefix(FileKind(os.ModeIrregular), "a special") {
		t.Errorf("FileKind(irregular) = %q", FileKind(os.ModeIrregular))
	}
}
