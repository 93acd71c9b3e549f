//go:build !amd64

package exec

// simdKernels is empty off amd64: the portable kernel serves.
func simdKernels() map[string]kernelFunc {
	return nil
}
