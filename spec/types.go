package spec

import (
	"sort"

	"github.com/cnncalc/cnncalc/calc"
)

// The layer types a spec may name, their aliases and their argument schemas
// are calc's table of kinds (calc/ops.go); this file only looks them up.

// typeNames lists the canonical types, the merges and the blocks, for
// suggestions.
func typeNames(blocks map[string]*blockDef) []string {
	names := []string{"add", "concat", "gate", "mul", "repeat", "residual"}
	for _, op := range calc.Ops() {
		if info := op.Info(); !info.Merge {
			names = append(names, info.Name)
		}
	}
	for n := range blocks {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// mergeOp is the merge kind a spec keyword (add, concat) names.
func mergeOp(keyword string) calc.Op {
	for _, op := range calc.Ops() {
		if info := op.Info(); info.Merge && info.Name == keyword {
			return op
		}
	}
	return calc.Unknown
}
