// Package exec runs real float32 forward passes over a calc.Network, so that
// every shape, MAC count and receptive field calc claims is checked by
// execution (the checks are in exec/verify, the file formats in
// exec/tensorio; this package holds the kernels, the plan and the run).
//
// kernels.go holds one table, indexed by calc.Op: per layer kind the rule
// for its output shape (plan.go), its tensors (params.go), its kernel and
// its receptive-field probe rule (probelayer.go). Adding a kind is one entry.
// backward.go holds a second table beside it, the backward pass of each kind
// (the vector-Jacobian product for the input gradient, in eval mode), which
// Plan.Backward runs from one node back to the input for the effective
// receptive field; a kind without an entry stops it with its name.
// probelayer.go holds a third, the support rule of each kind the
// receptive-field probe keeps: the index maps its kernel executes, which the
// support sweep (support.go) reads backward to find the input positions an
// output unit sees.
//
// Tensors are dense and row-major (C order), batch first:
//
//	rank 3 (N, C, L):       x[n][c][l]       at ((n*C + c)*L + l)
//	rank 4 (N, C, H, W):    x[n][c][h][w]    at ((n*C + c)*H + h)*W + w
//	rank 5 (N, C, D, H, W): x[n][c][d][h][w] at (((n*C + c)*D + d)*H + h)*W + w
//
// Kernels follow llm.c: one operation per file, output first, then inputs,
// then sizes; the output is allocated by the caller with the right shape.
// Window kernels (conv, pool) treat every input as 3-D spatial: a 1-D or 2-D
// input is viewed as (N, C, 1, 1, L) or (N, C, 1, H, W) with a kernel of 1 on
// the missing axes, so one loop nest serves all ranks. Padding is a bounds
// check that reads zeros (or the padding mode's value), never a padded copy.
//
// Every matrix product goes through gemm (gemm.go): a GotoBLAS/BLIS-style
// packed, cache-blocked GEMM whose 6x16 micro-kernel is AVX2+FMA assembly
// (gemm_amd64.s, chosen at run time with golang.org/x/sys/cpu) or plain Go
// (every other machine), tested against gonum's Sgemm. gemmPar splits one
// product over the cores by blocks of C, so that batch 1 uses them all;
// at larger batches forImages splits the images instead. Depthwise
// convolutions skip im2col (depthwise.go).
//
// Every fast kernel has a slow, obviously right reference beside it
// (*_ref_test.go, gathered per kind in kernels_test.go) and tests comparing
// the two; counters in Stats are incremented inside the kernels by the work
// they actually do.
package exec
