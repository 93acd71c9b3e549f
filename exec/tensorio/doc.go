// Package tensorio reads and writes the files exec's tensors come from and
// go to: PyTorch state_dicts saved as safetensors (matched to a plan's
// layers by module order and shape) and NumPy .npy arrays (inputs and
// outputs). It sits above exec: exec's kernels know no file format.
package tensorio
