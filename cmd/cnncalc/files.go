package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/cnncalc/cnncalc/exec/tensorio"
)

// openSpecFile opens a spec for reading, refusing at once what is not a
// regular file: a FIFO would block the open (it is opened without
// blocking), a device such as /dev/zero never ends, a directory is not a
// spec (check takes directories and lists their specs). Standard input (-)
// is read by the callers, not opened here.
func openSpecFile(path string) (*os.File, error) {
	f, _, err := tensorio.OpenRegular(path)
	var nr *tensorio.NotRegularError
	if errors.As(err, &nr) && nr.Mode.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a spec file", path)
	}
	return f, err
}
