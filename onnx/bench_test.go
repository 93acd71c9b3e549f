package onnx

import "testing"

// BenchmarkConvert reads and converts torchvision exports (graphs
// without weights).
func BenchmarkConvert(b *testing.B) {
	for _, name := range []string{"resnet50", "densenet121", "efficientnet_b0"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				m := openFixture(b, "tv/"+name+".onnx", false)
				if _, err := Convert(m, Options{Batch: 1}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
