package exec

// simdKernels lists the SIMD micro-kernels this CPU can run (none yet).
func simdKernels() map[string]func(int, []float32, []float32, []float32, int, bool) {
	return nil
}
