// Command gen writes the zoo's generated specs: go run ./internal/zoogen/gen.
package main

import (
	"fmt"
	"os"

	"github.com/cnncalc/cnncalc/internal/zoogen"
)

func main() {
	if err := zoogen.WriteAll("testdata/zoo"); err != nil {
		fmt.Fprintln(os.Stderr, "zoogen:", err)
		os.Exit(1)
	}
}
