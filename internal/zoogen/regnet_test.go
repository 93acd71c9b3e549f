package zoogen

import (
	"fmt"
	"testing"
)

// TestRegnetStages: the Go port of BlockParams.from_init_params gives the
// stages torchvision 0.14 builds (depths, widths, group widths read from
// BlockParams in Python), regnet_y_128gf included as one more check of the
// arithmetic, and regnet_x_1_6gf's exact half (22.5 rounds to 22).
func TestRegnetStages(t *testing.T) {
	want := map[string]string{
		"regnet_y_400mf": "[1 3 6 6] [48 104 208 440] [8 8 8 8]",
		"regnet_y_800mf": "[1 3 8 2] [64 144 320 784] [16 16 16 16]",
		"regnet_y_1_6gf": "[2 6 17 2] [48 120 336 888] [24 24 24 24]",
		"regnet_y_3_2gf": "[2 5 13 1] [72 216 576 1512] [24 24 24 24]",
		"regnet_y_8gf":   "[2 4 10 1] [224 448 896 2016] [56 56 56 56]",
		"regnet_y_16gf":  "[2 4 11 1] [224 448 1232 3024] [112 112 112 112]",
		"regnet_y_32gf":  "[2 5 12 1] [232 696 1392 3712] [232 232 232 232]",
		"regnet_y_128gf": "[2 7 17 1] [528 1056 2904 7392] [264 264 264 264]",
		"regnet_x_400mf": "[1 2 7 12] [32 64 160 400] [16 16 16 16]",
		"regnet_x_800mf": "[1 3 7 5] [64 128 288 672] [16 16 16 16]",
		"regnet_x_1_6gf": "[2 4 10 2] [72 168 408 912] [24 24 24 24]",
		"regnet_x_3_2gf": "[2 6 15 2] [96 192 432 1008] [48 48 48 48]",
		"regnet_x_8gf":   "[2 5 15 1] [80 240 720 1920] [80 120 120 120]",
		"regnet_x_16gf":  "[2 6 13 1] [256 512 896 2048] [128 128 128 128]",
		"regnet_x_32gf":  "[2 7 13 1] [336 672 1344 2520] [168 168 168 168]",
	}
	configs := append(regnetConfigs[:len(regnetConfigs):len(regnetConfigs)],
		regnetConfig{name: "regnet_y_128gf", depth: 27, w0: 456, wa: 160.83, wm: 2.52, groupWidth: 264, se: true})
	for _, c := range configs {
		var d, w, g []int
		for _, s := range regnetStages(c) {
			d, w, g = append(d, s.depth), append(w, s.width), append(g, s.groupWidth)
		}
		if got := fmt.Sprint(d, w, g); got != want[c.name] {
			t.Errorf("%s: depths widths group widths %s, torchvision %s", c.name, got, want[c.name])
		}
		delete(want, c.name)
	}
	if len(want) != 0 {
		t.Errorf("no config for %v", want)
	}
}
