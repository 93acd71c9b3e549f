package tensorio

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// OpenRegular opens path for reading and refuses anything but a regular
// file (after symbolic links): a named pipe, a device, a socket or a
// directory would block the open or the read, or never end. The file is
// opened without blocking (O_NONBLOCK where the system has it), so that
// opening a FIFO with no writer returns at once; the check is made on the
// open file, not on the name, so the file cannot be swapped in between.
// The returned info is the open file's.
func OpenRegular(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		// A Unix socket cannot be opened at all (ENXIO): say what it is.
		if isNoDevice(err) {
			if st, serr := os.Stat(path); serr == nil && !st.Mode().IsRegular() {
				return nil, nil, notRegular(path, st.Mode())
			}
		}
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, notRegular(path, st.Mode())
	}
	return f, st, nil
}

// ErrNotRegular is what OpenRegular's refusals are (errors.Is).
var ErrNotRegular = errors.New("not a regular file")

// NotRegularError is OpenRegular's refusal: the path and the type of file
// found there.
type NotRegularError struct {
	Path string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is %s, not a regular file", e.Path, FileKind(e.Mode))
}

func (e *NotRegularError) Is(target error) bool { return target == ErrNotRegular }

func notRegular(path string, m fs.FileMode) error { return &NotRegularError{Path: path, Mode: m} }

// FileKind names the type of file a mode describes ("a named pipe (FIFO)").
func FileKind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "a special file"
}
