//go:build !amd64

package exec

// simdKernels is empty off amd64: the portable kernel serves.
func simdKernels() map[string]func(int, []float32, []float32, []float32, int, bool) {
	return nil
}
