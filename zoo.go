// Package cnncalc holds the embedded example networks; the command is in
// cmd/cnncalc, the formulas in calc, the YAML reader in spec.
package cnncalc

import "embed"

// Zoo holds the example specs of testdata/zoo, by file name (NAME.yaml).
//
//go:embed testdata/zoo/*.yaml
var Zoo embed.FS
