# cnncalc: make build | test | golden | fuzz | bench | dist | check
GO ?= go

.PHONY: all build test golden fuzz bench dist vet fmt ci pictures

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

# Release binaries: static (CGO_ENABLED=0), reproducible paths (-trimpath), the
# version stamped (VERSION=v1.2.0 make dist, else git describe), for each of
# PLATFORMS, with their SHA-256 sums in dist/SHA256SUMS (sha256sum -c checks them).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
DIST ?= dist

dist:
	rm -rf $(DIST) && mkdir -p $(DIST)
	@set -e; for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		out=$(DIST)/cnncalc-$(VERSION)-$$os-$$arch$$ext; \
		echo "$$out"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath \
			-ldflags "-s -w -X main.version=$(VERSION)" -o $$out ./cmd/cnncalc; \
	done
	cd $(DIST) && if command -v sha256sum >/dev/null; then sha256sum cnncalc-*; else shasum -a 256 cnncalc-*; fi > SHA256SUMS
	cat $(DIST)/SHA256SUMS

# The README's pictures (docs/draw-*.svg), then a screenshot of each SVG as
# headless Chromium renders it (Debian's chromium package), in bin/pictures:
# look at the PNGs, what a browser shows, before committing the SVGs.
CHROMIUM ?= chromium
pictures: build
	./cnncalc draw resnet18 -o docs/draw-resnet18.svg
	./cnncalc draw densenet121 --depth 1 -o docs/draw-densenet121-depth1.svg
	./cnncalc draw efficientnet_b7 --depth 1 -o docs/draw-efficientnet_b7-depth1.svg
	./cnncalc draw resnet18 --chart params -o docs/draw-resnet18-params.svg
	./cnncalc draw resnet18 --rf relu_9 -o docs/draw-resnet18-rf.svg
	mkdir -p bin/pictures
	for f in docs/draw-*.svg; do \
		w=$$(sed -n 's/^<svg[^>]* width="\([0-9]*\).*/\1/p' $$f); \
		h=$$(sed -n 's/^<svg[^>]* height="\([0-9]*\).*/\1/p' $$f); \
		$(CHROMIUM) --headless --no-sandbox --disable-gpu --hide-scrollbars \
			--window-size=$$((w + 1)),$$((h + 1)) --screenshot=bin/pictures/$$(basename $$f .svg).png \
			file://$$(pwd)/$$f 2>/dev/null; \
	done
	@ls -l bin/pictures
