package spec

import "testing"

// The newcomer's errors that tell how to fix them: a key under a bare
// item, a tab in the indentation, and a PyTorch layer cnncalc does not have
// (not reported as a typo of one it has).
func TestErrorHints(t *testing.T) {
	for _, c := range []struct {
		name, src string
		want      wantErr
	}{
		{"bare item with a key", "input: [3, 8, 8]\nlayers:\n  - relu\n    name: r1\n",
			wantErr{pos: "4:5", msg: []string{"mapping values are not allowed", "the bare item - relu (line 3) takes no keys", "`- relu:` with name: under it", "`- relu: {name: ...}`"}}},
		{"tab", "input: [3, 8, 8]\nlayers:\n\t- relu\n",
			wantErr{pos: "3:1", msg: []string{"YAML indents with spaces, not tabs", "a tab at line 3, column 1"}}},
		{"unsupported PyTorch layer", "input: [3, 8, 8]\nlayers:\n  - LSTM: 8\n",
			wantErr{pos: "3:5", path: "layers[0]", msg: []string{"LSTM is a PyTorch layer (torch.nn.LSTM) cnncalc does not support yet"}}},
		{"pixelshuffle, any case", "input: [4, 8, 8]\nlayers:\n  - pixelshuffle: 2\n",
			wantErr{pos: "3:5", path: "layers[0]", msg: []string{"pixelshuffle is a PyTorch layer (torch.nn.PixelShuffle)"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			list := parseErrors(t, c.src)
			if len(list) != 1 {
				t.Fatalf("errors %v", list)
			}
			checkError(t, list[0], c.want)
		})
	}
}
