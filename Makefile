# wasmgate: the two commands a new checkout needs are `make run` and `make test`.

GO       ?= go
BIN      := bin/wasmgate
VERSION  := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
ADDR     ?= 127.0.0.1:8787

.PHONY: all build build-wasmtime test test-wasmtime test-race vet fmt-check guests guests-check runtime-testdata bench bench-smoke bench-runtime bench-engines run clean fuzz

all: build

## build: compile bin/wasmgate
build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/wasmgate

# The wasmtime engine: cgo against the static Wasmtime library that
# wasmtime-go ships (a ~55 MB module download, 200 MB unpacked) and a C
# compiler. The default build needs neither.
WASMTIME_BIN := bin/wasmgate-wasmtime

## build-wasmtime: compile bin/wasmgate-wasmtime, which can also run guests on wasmtime (needs gcc)
build-wasmtime:
	CGO_ENABLED=1 $(GO) build -tags wasmtime -trimpath -ldflags "$(LDFLAGS)" -o $(WASMTIME_BIN) ./cmd/wasmgate

## test-wasmtime: vet with the wasmtime tag, and the engine's, the runtime's and the containment suite's tests on every engine, wasmtime included
test-wasmtime:
	CGO_ENABLED=1 $(GO) vet -tags wasmtime ./...
	CGO_ENABLED=1 $(GO) test -tags wasmtime -count=1 ./engine/... ./runtime/ ./security/ .

## test: format check, vet and every Go test (needs only the Go toolchain)
test: fmt-check vet
	$(GO) test -count=1 ./...

## test-race: every test with the race detector, the load tests shortened (CI runs it)
test-race:
	$(GO) test -race -short -count=1 ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## guests: rebuild every example and test module (needs the guest toolchains; see guests/README.md)
guests: build runtime-testdata
	$(MAKE) -C guests WASMGATE=$(CURDIR)/$(BIN)

## guests-check: rebuild every module and fail if any differs from the committed one
guests-check: build
	$(MAKE) -C guests check WASMGATE=$(CURDIR)/$(BIN)
	@$(MAKE) --no-print-directory runtime-testdata RUNTIME_TESTDATA_OUT=$$(mktemp -d)/ CHECK=1

# The runtime's own test modules: runtime/testdata/NAME.wat -> NAME.wasm
# (with a sidecar NAME.manifest.json, which the tests also exercise), and
# the toy capability's guest in capability/testdata.
RUNTIME_WAT := $(wildcard runtime/testdata/*.wat capability/testdata/*.wat)
runtime-testdata:
	@command -v wat2wasm >/dev/null 2>&1 || { echo "wat2wasm not found: apt-get install wabt" >&2; exit 1; }
	@for f in $(RUNTIME_WAT); do \
		out=$(RUNTIME_TESTDATA_OUT)$$(basename $${f%.wat}).wasm; \
		[ -n "$(RUNTIME_TESTDATA_OUT)" ] || out=$${f%.wat}.wasm; \
		wat2wasm --debug-names -o $$out $$f || exit 1; \
		if [ -n "$(CHECK)" ] && ! cmp -s $$out $${f%.wat}.wasm; then \
			echo "$${f%.wat}.wasm differs from a rebuild of $$f: run make guests and commit" >&2; exit 1; fi; \
	done

## bench: measure every performance target against its baseline, in one run, and rewrite the generated table at the top of BENCHMARKS.md (about 4 minutes on 2 cores; the raw numbers in bench.out)
bench:
	rm -f bench.out
	cd bench && $(GO) run ./cmd/report -root .. -o ../BENCHMARKS.md -raw ../bench.out

## bench-smoke: vet and test the benchmark harness (bench/, a module of its own) and run it with tiny measurements, writing nothing in the tree (CI runs it)
bench-smoke:
	cd bench && $(GO) vet ./... && $(GO) test -count=1 ./...
	@out=$$(mktemp -d "$${TMPDIR:-/tmp}/wasmgate-bench.XXXXXX") && trap 'rm -rf "$$out"' EXIT && \
	cd bench && $(GO) run ./cmd/report -quick -root .. -o "$$out/BENCHMARKS.md" -raw "$$out/bench.out"

## bench-runtime: the runtime's and serve's go test benchmarks behind the hand-written tables of BENCHMARKS.md (about 4 minutes; output in bench-runtime.out)
bench-runtime:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./runtime/ | tee bench-runtime.out
	$(GO) test -run '^$$' -bench '^BenchmarkServeStartup$$' -benchtime 5x -count 3 ./cmd/wasmgate/ | tee -a bench-runtime.out

## bench-engines: wazero and wasmtime on the same calls, interleaved (BENCHMARKS.md, Engines; needs gcc)
bench-engines:
	CGO_ENABLED=1 $(GO) test -tags wasmtime -run '^$$' -bench '^BenchmarkEngines$$' -benchtime 3s -count 5 ./runtime/ | tee bench-engines.out

clean:
	rm -rf bin bench.out bench-runtime.out bench-engines.out
	$(MAKE) -C guests clean

## fuzz: run every fuzz target for FUZZTIME each (CI runs 20s smoke runs)
FUZZTIME ?= 20s
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$t ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

# ---- MCP front end ----

.PHONY: test-node bench-mcp conformance test-claude

# The example tools: every directory of guests/ but the build output, the
# test modules, the conformance suite's modules and the demo's grants.
EXAMPLES := $(filter-out guests/build/ guests/testdata/ guests/conformance/ guests/demo/,$(sort $(wildcard guests/*/)))

## run: build wasmgate and serve the example tools over HTTP at $(ADDR) with the grants of guests/demo/policy.yaml, their storage in a temporary directory removed on exit (make run ADDR=127.0.0.1:9000)
run: build
	@state=$$(mktemp -d "$${TMPDIR:-/tmp}/wasmgate-demo.XXXXXX") && trap 'rm -rf "$$state"' EXIT INT TERM && \
	echo "$(BIN) serve --http $(ADDR) --policy guests/demo/policy.yaml --state-dir $$state $(EXAMPLES)" && \
	$(BIN) serve --http $(ADDR) --policy guests/demo/policy.yaml --state-dir "$$state" $(EXAMPLES)

## test-node: install the MCP TypeScript SDK into test/node (npm ci) and check wasmgate serve with it
test-node:
	cd test/node && npm ci --no-audit --no-fund
	WASMGATE_REQUIRE_NODE=1 $(GO) test -count=1 -run '^TestNodeClient$$' -v ./cmd/wasmgate/

## bench-mcp: end-to-end tools/call latency, wasm tools against native Go handlers, over in-memory, stdio and HTTP
bench-mcp:
	$(GO) test -run '^$$' -bench '^BenchmarkCall$$' -benchtime 2s -count 5 ./server/

## conformance: run every server scenario of the MCP conformance suite, 0.1.16 and 0.2.0-alpha.12, against wasmgate serve (installs Node 22 and the suites into test/conformance/node_modules with npm)
conformance: build
	@command -v npm >/dev/null 2>&1 || { echo "npm not found: apt-get install nodejs npm" >&2; exit 1; }
	cd test/conformance && npm ci --no-audit --no-fund
	test/conformance/run.sh

## test-claude: check with Claude Code's `claude mcp add` and `claude mcp list` (no login) that make run's server and a stdio serve guests/ with an empty compilation cache connect on the first try (installs Node 22 and Claude Code into test/claude/node_modules with npm)
test-claude: build
	@command -v npm >/dev/null 2>&1 || { echo "npm not found: apt-get install nodejs npm" >&2; exit 1; }
	cd test/claude && npm ci --no-audit --no-fund
	test/claude/run.sh
