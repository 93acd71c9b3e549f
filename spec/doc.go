// Package spec reads a network spec, the YAML format of
// shared/docs/spec-format.md, into a calc.Network of plain layers and merges.
//
// It walks the yaml.Node tree rather than decoding into structs, so every
// problem carries its file:line:col, the item's path in the file
// (layers[4].residual[2]) and the numbers involved. All problems of a file are
// collected in one pass and returned, sorted, as an ErrorList. Composite
// items (repeat, residual, concat branches, blocks with $arg substitution)
// are expanded here; calc never sees them.
package spec
