package draw

import (
	"io"
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkDraw draws zoo networks (graph: Build, Place, SVG; the goal is
// under 200 ms each, parsing included in the command's time).
func BenchmarkDraw(b *testing.B) {
	for _, name := range []string{"resnet18", "densenet121", "efficientnet_b7", "regnet_y_32gf"} {
		a := analyse(b, filepath.Join("..", "testdata", "zoo", name+".yaml"))
		for _, depth := range []int{0, 1} {
			b.Run(name+"/depth"+strconv.Itoa(depth), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					g, err := Build(a, depth)
					if err != nil {
						b.Fatal(err)
					}
					L, err := Place(g, 0)
					if err != nil {
						b.Fatal(err)
					}
					if err := SVG(io.Discard, g, L); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
