package main

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/cnncalc/cnncalc/calc"
)

// The one way cnncalc writes a file the user names (check --write,
// exec --save-output):
//
//   - A symlink is written through: the file written is its target, and the
//     temporary file goes beside the target, so the link stays a link.
//   - A file is replaced through a temporary file in its directory, synced,
//     given the file's mode (and, when running as root, its owner and
//     group), checked and renamed over it: an interrupted or failed write
//     (a full disk) leaves the old file whole.
//   - A file the user could not write (access(2) W_OK: a 0444 file, a
//     read-only file system) is refused, though the directory would allow
//     the rename.
//   - A file with several hard links, one owned by another user (a rename
//     would split the links or make the file the writer's) or a device or
//     pipe is written in place instead: space is reserved first where the
//     file system can (so a full disk fails before a byte changes), then the
//     bytes are written, the file truncated to them and synced. That write is
//     not atomic against a crash.
//   - When the caller read the file first (check --write), the file must
//     still hold what it read (same size, modification time and SHA-256 of
//     the bytes) just before the rename or the in-place write; otherwise
//     nothing is written and an edit saved meanwhile is kept.

// fileState is what a file held when it was read.
type fileState struct {
	size  int64
	mtime time.Time
	sum   [sha256.Size]byte
}

// stateOf records the file at path (symlinks followed) as holding data,
// just read from it: its size is the data's, its time the file's now (an
// edit between the read and this stat shows in the bytes).
func stateOf(path string, data []byte) (*fileState, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	return &fileState{size: int64(len(data)), mtime: st.ModTime(), sum: sha256.Sum256(data)}, nil
}

// changed says how the file at path differs from what was read ("" when it
// does not).
func (w *fileState) changed(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "it was removed"
		}
		return err.Error()
	}
	if st.Size() != w.size {
		return fmt.Sprintf("it is now %s bytes, it was %s", calc.Group(st.Size()), calc.Group(w.size))
	}
	if !st.ModTime().Equal(w.mtime) {
		return fmt.Sprintf("it was modified at %s, after cnncalc read it (modified %s)", st.ModTime().Format("15:04:05.000"), w.mtime.Format("15:04:05.000"))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if sha256.Sum256(data) != w.sum {
		return "its bytes differ from what cnncalc read"
	}
	return ""
}

// writeMode is how writeFile writes a file.
type writeMode int

const (
	writeNew     writeMode = iota // no file there: a temporary file renamed into place
	writeReplace                  // a temporary file beside it, renamed over it
	writeInPlace                  // the file itself rewritten
)

// target is what writeFile found where it writes.
type target struct {
	path   string // the file written: a symlink's target
	exists bool
	mode   fs.FileMode
	// owned is set when uid, gid and nlink are known (on Unix).
	owned    bool
	uid, gid int
	nlink    uint64
	// viaLink: the file can be named only through the symlink (a
	// /proc/self/fd link), so nothing can be put beside it.
	viaLink bool
}

// decideWrite is writeFile's choice for a target, given the effective user
// and whether access(2) lets that user write the file (nil: it does).
func decideWrite(shown string, t target, euid int, writable error) (writeMode, error) {
	switch {
	case !t.exists:
		return writeNew, nil
	case t.mode.IsDir():
		return 0, fmt.Errorf("%s is a directory", shown)
	case writable != nil:
		why := "you may not write it"
		if errors.Is(writable, syscall.EROFS) {
			why = "it is on a read-only file system"
		}
		owner := ""
		if t.owned {
			owner = fmt.Sprintf(", owner uid %d", t.uid)
		}
		return 0, fmt.Errorf("%s is not writable (mode %04o%s: %s); not written", shown, t.mode.Perm(), owner, why)
	case !t.mode.IsRegular() || t.viaLink:
		return writeInPlace, nil // a device or a pipe: nothing to replace
	case t.owned && t.nlink > 1:
		return writeInPlace, nil // a rename would split the hard links
	case t.owned && euid != 0 && t.uid != euid:
		return writeInPlace, nil // a rename would make it the writer's
	}
	return writeReplace, nil
}

// Seams for tests: beforeCommit runs just before writeFile checks the file
// and commits the write (a test edits the file meanwhile); writeData writes
// the bytes (a test fills the disk).
var (
	beforeCommit = func(path string) {}
	writeData    = func(f *os.File, data []byte) (int, error) { return f.Write(data) }
)

// writeFile writes data to path by the rules above. was, when not nil, is
// what the caller read from path: the write is refused if the file changed
// since.
func writeFile(path string, data []byte, was *fileState) error {
	t, err := findTarget(path)
	if err != nil {
		return err
	}
	if !t.exists && was != nil {
		return fmt.Errorf("%s changed while cnncalc ran (it was removed); not written", path)
	}
	mode, err := decideWrite(path, t, os.Geteuid(), canWrite(t))
	if err != nil {
		return err
	}
	if mode == writeInPlace {
		return writeInto(path, t, data, was)
	}
	err = replace(path, t, mode, data, was)
	if errors.Is(err, errOwner) {
		// The owner or group cannot be given back to a new file: write
		// the file itself rather than change them.
		return writeInto(path, t, data, was)
	}
	return err
}

// errOwner: a temporary file cannot be given the file's owner and group.
var errOwner = errors.New("cannot give the temporary file the owner and group")

// replace writes data to a temporary file beside the target and renames it
// over the target.
func replace(path string, t target, mode writeMode, data []byte, was *fileState) error {
	tmp, err := createBeside(t.path)
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	renamed := false
	defer func() {
		if !renamed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	fail := func(err error) error {
		return fmt.Errorf("cannot write %s: %w%s", path, unwrapPath(err), keptNote(t))
	}
	if _, err := writeData(tmp, data); err != nil {
		return fail(err)
	}
	if mode == writeReplace {
		if err := sameOwner(tmp, t); err != nil {
			return errOwner
		}
		// After the chown, which clears the set-id bits.
		if err := tmp.Chmod(t.mode & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)); err != nil {
			return fail(err)
		}
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	beforeCommit(path)
	if was != nil {
		if why := was.changed(t.path); why != "" {
			return changedErr(path, why)
		}
	}
	if err := os.Rename(tmp.Name(), t.path); err != nil {
		return fail(err)
	}
	renamed = true
	syncDir(filepath.Dir(t.path))
	return nil
}

func changedErr(path, why string) error {
	return fmt.Errorf("%s changed while cnncalc ran (%s); not written: the file is left as it was saved (run the command again)", path, why)
}

// keptNote says that a failed write left the old file whole.
func keptNote(t target) string {
	if t.exists {
		return " (the file is left as it was)"
	}
	return ""
}

// unwrapPath drops the temporary file's name from an error.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// findTarget resolves symlinks and stats the file written.
func findTarget(path string) (target, error) {
	t := target{path: path}
	lst, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return t, nil
	}
	if err != nil {
		return t, err
	}
	st, err := os.Stat(path)
	if err != nil {
		dest, _ := os.Readlink(path)
		return t, fmt.Errorf("%s is a symlink to %s, which cannot be reached: %w", path, dest, unwrapPath(err))
	}
	t.exists, t.mode = true, st.Mode()
	t.uid, t.gid, t.nlink, t.owned = fileOwner(st)
	if lst.Mode()&fs.ModeSymlink != 0 && st.Mode().IsRegular() {
		// The temporary file goes beside the real file. A link the kernel
		// follows but a path cannot name (/proc/self/fd/N) is written in
		// place through the link.
		if real, err := filepath.EvalSymlinks(path); err == nil {
			t.path = real
		} else {
			t.viaLink = true
		}
	}
	return t, nil
}

// createBeside creates an empty temporary file in path's directory (mode
// 0666 less the umask, as a new file gets).
func createBeside(path string) (*os.File, error) {
	dir, base := filepath.Split(path)
	for range 100 {
		name := filepath.Join(dir, "."+base+".cnncalc-"+strconv.FormatUint(rand.Uint64(), 36)+".tmp")
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if !errors.Is(err, fs.ErrExist) {
			if err != nil {
				return nil, fmt.Errorf("cannot create a temporary file in %s: %w", filepath.Dir(name), unwrapPath(err))
			}
			return f, nil
		}
	}
	return nil, fmt.Errorf("cannot create a temporary file in %s", filepath.Dir(path))
}

// writeInto rewrites the file itself: after the content check, space
// reserved where the file system can, the bytes written over it, the
// file truncated to them and synced.
func writeInto(path string, t target, data []byte, was *fileState) error {
	beforeCommit(path)
	if was != nil {
		if why := was.changed(t.path); why != "" {
			return changedErr(path, why)
		}
	}
	f, err := os.OpenFile(t.path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, unwrapPath(err))
	}
	regular := t.mode.IsRegular()
	if regular {
		if err := reserve(f, int64(len(data))); err != nil {
			f.Close()
			return fmt.Errorf("cannot write %s: %w (the file is left as it was)", path, err)
		}
	}
	_, err = writeData(f, data)
	if err == nil && regular {
		err = f.Truncate(int64(len(data)))
	}
	if err == nil && regular {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cannot write %s: %w (written in place: the file may be left partly written)", path, unwrapPath(err))
	}
	return nil
}

// syncDir makes a rename in dir durable; file systems that cannot sync a
// directory are let be.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
