//go:build !unix

package tensorio

// openNonblock: opening does not wait on FIFOs here (or there are none).
const openNonblock = 0

func isNoDevice(err error) bool { return false }
