package spec

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestZZProbe(t *testing.T) {
	data, _ := os.ReadFile("/tmp/probe/cases.txt")
	for _, c := range strings.Split(string(data), "\n----\n") {
		fmt.Println("=====")
		fmt.Println(c)
		s, err := Parse("t.yaml", []byte(c))
		if err != nil {
			for _, e := range err.(ErrorList) {
				fmt.Printf("ERR %d:%d path=%q item=%q msg=%q detail=%q\n", e.Line, e.Col, e.Path, e.Item, e.Msg, e.Detail)
			}
			fmt.Println("ERRSTR:", err.Error())
			continue
		}
		_, w, err := s.Analyze(0, nil)
		for _, e := range w {
			fmt.Printf("WARN %d:%d path=%q item=%q msg=%q\n", e.Line, e.Col, e.Path, e.Item, e.Msg)
		}
		if err != nil {
			for _, e := range err.(ErrorList) {
				fmt.Printf("AERR %d:%d path=%q item=%q msg=%q detail=%q\n", e.Line, e.Col, e.Path, e.Item, e.Msg, e.Detail)
			}
		}
	}
}
