package exec_test

import (
	"encoding/json"
	"fmt"
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

// BenchmarkForward times a whole forward pass at 3x224x224 on every core
// (resnet18, resnet50, vgg16, mobilenet_v2 at batch 1 and at batch 8),
// beside PyTorch's time (torch.set_num_threads(2)) when it is installed,
// and their ratio: "forward" is Plan.Forward, a single pass as cnncalc exec
// runs it (folding and packing included), "prepared" a Prepared's pass
// after the first (weights folded and packed once).
func BenchmarkForward(b *testing.B) {
	for _, c := range []struct {
		name  string
		batch int64
		key   string
	}{
		{"resnet18", 1, "resnet18_s"}, {"resnet50", 1, "resnet50_s"}, {"vgg16", 1, "vgg16_s"},
		{"mobilenet_v2", 1, "mobilenet_v2_s"}, {"resnet18", 8, "resnet18_b8_s"}, {"resnet50", 8, "resnet50_b8_s"},
		{"vgg16", 8, "vgg16_b8_s"}, {"mobilenet_v2", 8, "mobilenet_v2_b8_s"},
	} {
		for _, prepared := range []bool{false, true} {
			mode := "forward"
			if prepared {
				mode = "prepared"
			}
			b.Run(fmt.Sprintf("%s/batch=%d/%s", c.name, c.batch, mode), func(b *testing.B) {
				a := load(b, "../testdata/zoo/"+c.name+".yaml", c.batch, nil)
				plan, err := cexec.NewPlan(&a.Net)
				if err != nil {
					b.Fatal(err)
				}
				params := plan.Init(1)
				x := cexec.New(toInts(a.Net.Input)...)
				for i := range x.Data {
					x.Data[i] = float32(i%255) / 255
				}
				run := func() (*cexec.Run, error) { return plan.Forward(params, x, cexec.Options{}) }
				if prepared {
					q, err := plan.Prepare(params)
					if err != nil {
						b.Fatal(err)
					}
					run = func() (*cexec.Run, error) { return q.Forward(x, cexec.Options{}) }
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := run(); err != nil {
						b.Fatal(err)
					}
				}
				s := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(s, "s/forward")
				if t, ok := torchTimes()[c.key]; ok {
					b.ReportMetric(t, "torch-s/forward")
					b.ReportMetric(s/t, "x-torch")
				}
			})
		}
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
