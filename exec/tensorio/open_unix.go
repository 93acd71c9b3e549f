//go:build unix

package tensorio

import (
	"errors"
	"syscall"
)

// openNonblock keeps opening a FIFO from waiting for a writer.
const openNonblock = syscall.O_NONBLOCK

// isNoDevice reports the error of opening a Unix socket (ENXIO).
func isNoDevice(err error) bool { return errors.Is(err, syscall.ENXIO) }
