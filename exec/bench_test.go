package exec_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/cnncalc/cnncalc/calc"
	cexec "github.com/cnncalc/cnncalc/exec"
)

// torchTimes runs testdata/torch/exec/bench_torch.py once, when Python and
// PyTorch are on the machine, for PyTorch's forward times in this same run.
var torchTimes = sync.OnceValue(func() map[string]float64 {
	out, err := exec.Command("/usr/bin/python3", "../testdata/torch/exec/bench_torch.py").Output()
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal([]byte(strings.TrimSpace(string(out))), &m) != nil {
		return nil
	}
	times := map[string]float64{}
	for k, v := range m {
		if f, ok := v.(float64); ok {
			times[k] = f
		}
	}
	return times
})

// BenchmarkForward times a whole forward pass at 1x3x224x224 on every core,
// beside PyTorch's time (torch.set_num_threads(2)) when it is installed.
func BenchmarkForward(b *testing.B) {
	for _, name := range []string{"resnet18", "resnet50"} {
		b.Run(name, func(b *testing.B) {
			a := load(b, "../testdata/zoo/"+name+".yaml", 0, nil)
			plan, err := cexec.NewPlan(&a.Net)
			if err != nil {
				b.Fatal(err)
			}
			params := plan.Init(1)
			x := cexec.New(toInts(a.Net.Input)...)
			for i := range x.Data {
				x.Data[i] = float32(i%255) / 255
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := plan.Forward(params, x, cexec.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/forward")
			if t, ok := torchTimes()[name+"_s"]; ok {
				b.ReportMetric(t, "torch-s/forward")
			}
		})
	}
}

// BenchmarkConvResNet50 runs every conv layer of ResNet-50 at 1x3x224x224
// and reports the convolutions' throughput in GFLOP/s (2 FLOPs a MAC).
func BenchmarkConvResNet50(b *testing.B) {
	a := load(b, "../testdata/zoo/resnet50.yaml", 0, nil)
	res := a.Result
	plan, err := cexec.NewPlan(&a.Net)
	if err != nil {
		b.Fatal(err)
	}
	params := plan.Init(1)
	type convCase struct {
		x *cexec.Tensor
		i int
	}
	var cases []convCase
	var macs int64
	for i, n := range a.Net.Nodes {
		if n.Type.RankOf(calc.Conv1d) == 0 {
			continue
		}
		in := res.Layers[i].Inputs[0]
		cases = append(cases, convCase{cexec.New(toInts(in)...), i})
		macs += res.Layers[i].MACs
	}
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		for _, c := range cases {
			if _, err := plan.RunNode(c.i, &params[c.i], []*cexec.Tensor{c.x}, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(2*float64(macs)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
