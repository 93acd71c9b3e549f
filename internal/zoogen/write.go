package zoogen

import (
	"os"
	"path/filepath"
)

// WriteAll writes every builder's file into dir.
func WriteAll(dir string) error {
	for _, b := range All() {
		if err := os.WriteFile(filepath.Join(dir, b.Name+".yaml"), []byte(File(b)), 0o644); err != nil {
			return err
		}
	}
	return nil
}
