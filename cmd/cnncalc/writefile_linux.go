package main

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// reserve allocates n bytes for f without changing its size, so that a
// full disk fails the write before a byte of the file changes. File
// systems that cannot are let be.
func reserve(f *os.File, n int64) error {
	if n == 0 {
		return nil
	}
	err := unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_KEEP_SIZE, 0, n)
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EINVAL) {
		return nil
	}
	return err
}
