# cnncalc: make build | test | golden | fuzz | bench | check
GO ?= go

.PHONY: all build test golden fuzz bench vet fmt ci

all: build test

build:
	$(GO) build -o cnncalc ./cmd/cnncalc

test:
	$(GO) test ./...

# Regenerate the golden files of the commands; review the diff before committing.
golden:
	$(GO) test ./cmd/cnncalc -run 'Golden|TestCheckWrite$$|TestQuizPractice' -update

# The exec readers' targets minimize each new input in 10 runs, not 60 s:
# with the default a short run spends its time minimizing.
fuzz:
	$(GO) test ./spec -run '^$$' -fuzz FuzzParse -fuzztime 60s
	$(GO) test ./quiz -run '^$$' -fuzz FuzzQuizAnswer -fuzztime 30s
	$(GO) test ./spec -run '^$$' -fuzz FuzzSnapshot -fuzztime 30s
	$(GO) test ./exec/tensorio -run '^$$' -fuzz '^FuzzReadNpy$$' -fuzztime 30s -fuzzminimizetime 10x
	$(GO) test ./exec/tensorio -run '^$$' -fuzz '^FuzzSafetensors$$' -fuzztime 30s -fuzzminimizetime 10x
	$(GO) test ./onnx -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime 30s -fuzzminimizetime 10x

bench:
	$(GO) test ./cmd/cnncalc ./exec -run '^$$' -bench . -benchmem -timeout 30m

vet:
	$(GO) vet ./...

fmt:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

ci: fmt vet test
