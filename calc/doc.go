// Package calc computes, for a network of plain layers and merges, every
// layer's output shape, receptive field, learnable parameters, buffers and
// multiply-accumulates, following PyTorch's torch.nn semantics exactly.
//
// calc is pure: it reads no YAML and prints nothing. Shapes include the batch
// axis first (N, C, then D, H, W as the rank needs). All counts are int64 and
// every product and sum is checked: an overflow is reported as an error, never
// wrapped. Each computed size carries its worked formula with the numbers
// substituted (Result.Layers[i].Formulas), so a front end can show it and
// errors can quote it.
package calc
