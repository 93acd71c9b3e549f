package tensorio

import "testing"

func TestNaturalOrder(t *testing.T) {
	for _, c := range [][2]string{
		{"mods.2", "mods.10"},
		{"features.denseblock1.denselayer2.conv2", "features.denseblock1.denselayer10.conv1"},
		{"features.denseblock1.denselayer16.norm2", "features.denseblock2.denselayer1.conv1"},
		{"layer1.0.bn1", "layer1.0.bn2"},
		{"conv", "conv1"},
	} {
		if !naturalLess(c[0], c[1]) || naturalLess(c[1], c[0]) {
			t.Errorf("want %s before %s", c[0], c[1])
		}
	}
}
