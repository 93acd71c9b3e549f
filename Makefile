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

fuzz:
	$(GO) test ./spec -run '^$$' -fuzz FuzzParse -fuzztime 60s
	$(GO) test ./quiz -run '^$$' -fuzz FuzzQuizAnswer -fuzztime 30s

bench:
	$(GO) test ./cmd/cnncalc ./exec -run '^$$' -bench . -benchmem -timeout 30m

vet:
	$(GO) vet ./...

fmt:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

ci: fmt vet test
