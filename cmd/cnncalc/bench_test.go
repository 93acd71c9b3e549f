package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// bigSpec writes a spec of n plain layers (conv, batchnorm, relu, and every
// eighth a residual add) and returns its path.
func bigSpec(b *testing.B, n int) string {
	var s strings.Builder
	s.WriteString("name: big\ninput: [16, 32, 32]\nlayers:\n")
	for i := 0; i < n; {
		switch {
		case i%8 == 7 && n-i >= 4:
			s.WriteString("  - residual:\n      - conv2d: {out: 16, kernel: 3, padding: 1, bias: false}\n      - batchnorm2d\n      - relu\n")
			i += 4
		case i%2 == 0:
			s.WriteString("  - conv2d: {out: 16, kernel: 3, padding: 1}\n")
			i++
		default:
			s.WriteString("  - relu\n")
			i++
		}
	}
	path := filepath.Join(b.TempDir(), fmt.Sprintf("big%d.yaml", n))
	if err := os.WriteFile(path, []byte(s.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

// repeatSpec writes a spec of n layers made by one repeat of conv and relu.
func repeatSpec(b *testing.B, n int) string {
	s := fmt.Sprintf("name: deep\ninput: [16, 32, 32]\nlayers:\n  - repeat: %d\n    layers:\n      - conv2d: {out: 16, kernel: 3, padding: 1}\n      - relu\n", n/2)
	path := filepath.Join(b.TempDir(), fmt.Sprintf("repeat%d.yaml", n))
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkShapes reads, expands, analyses and prints a table of n layers,
// as cnncalc shapes does, for a spec written out layer by layer and for one
// made by a repeat; cost should grow linearly with n.
func BenchmarkShapes(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("repeat/layers=%d", n), func(b *testing.B) {
			path := repeatSpec(b, n)
			for i := 0; i < b.N; i++ {
				if code := run([]string{"shapes", path}, &IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}); code != 0 {
					b.Fatalf("exit %d", code)
				}
			}
		})
		path := bigSpec(b, n)
		for _, format := range []string{"table", "json"} {
			b.Run(fmt.Sprintf("layers=%d/%s", n, format), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					code := run([]string{"shapes", path, "--format", format}, &IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
					if code != 0 {
						b.Fatalf("exit %d", code)
					}
				}
			})
		}
	}
}
