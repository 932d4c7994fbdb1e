# tcached — run `make help` for the targets.
GO        ?= go
CONFIG    ?= tcached.example.yaml
# Fuzz budgets are execution counts, not durations: with go1.26 a duration
# -fuzztime can end in a spurious "context deadline exceeded" failure when a
# worker is mid-run at the deadline (golang/go#75804, fixed in go1.27).
FUZZTIME  ?= 500000x
# Each fuzz target runs this many executions inside `make test` (a few
# seconds each here; the seed corpus runs first). FuzzTenantIsolation runs
# whole sessions of two tenants per input (~200/s here, 150 s for 30000),
# so it gets TEST_FUZZTIME_SLOW inside `make test`, keeping CI under its
# 15 minutes; `make fuzz` gives every target FUZZTIME.
TEST_FUZZTIME ?= 30000x
TEST_FUZZTIME_SLOW ?= 12000x
# The differential random tester against redis-server 7.0 (server/diff_fuzz_test.go):
# how long `make diff-fuzz` generates sequences, and from which seed (0: the clock).
DIFF_FUZZ_TIME ?= 5m
DIFF_FUZZ_SEED ?= 0

.PHONY: help run build test test-fuzz diff-fuzz bench bench-compare bench-coll bench-evloop bench-isolation tcl-units lint fuzz

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: ## serve the bundled example config on the embedded store (127.0.0.1:6380, metrics :9380)
	$(GO) run ./cmd/tcached --config $(CONFIG)

VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS   := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

build: ## build bin/tcached (tcached --version names VERSION and COMMIT)
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/tcached ./cmd/tcached

test: ## run every test (race detector on), then each fuzz target briefly
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 10m ./...
	$(MAKE) --no-print-directory test-fuzz

test-fuzz: ## run each native fuzz target for TEST_FUZZTIME executions
	@set -e; for pkg in $$($(GO) list ./...); do \
		for fn in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			n=$(TEST_FUZZTIME); [ $$fn != FuzzTenantIsolation ] || n=$(TEST_FUZZTIME_SLOW); \
			echo "fuzz $$pkg $$fn ($$n)"; \
			$(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $$n $$pkg; \
		done; \
	done

diff-fuzz: ## random command sequences on tcached and redis-server 7.0 for DIFF_FUZZ_TIME (5m) from DIFF_FUZZ_SEED (0: the clock); shrinks a divergence
	DIFF_FUZZ_TIME=$(DIFF_FUZZ_TIME) DIFF_FUZZ_SEED=$(DIFF_FUZZ_SEED) TCACHED_REQUIRE_REDIS=1 \
		$(GO) test -run '^TestDiffFuzz$$' -count=1 -v -timeout 24h ./server

fuzz: ## run each fuzz target longer (FUZZTIME executions, default 500000x)
	$(MAKE) --no-print-directory test-fuzz TEST_FUZZTIME=$(FUZZTIME) TEST_FUZZTIME_SLOW=$(FUZZTIME)

bench: ## Go benchmarks over real sockets (GET/SET, pipelined, allocations)
	$(GO) test -run '^$$' -bench . -benchmem ./bench/ ./shard/ ./admission/

bench-compare: ## side-by-side redis-benchmark of tcached vs redis-server, plus memory per key, plus collections at 100/10K/1M elements (one run of bench-coll's)
	bash bench/compare.sh
	$(GO) test -run '^$$' -bench '^BenchmarkCollCompare$$' -benchtime 50000x -count 1 -timeout 30m ./bench/

bench-coll: ## hashes, sets, sorted sets and lists at 100/10K/1M elements next to redis-server: cost per command, memory per element (issue 16)
	$(GO) test -run '^$$' -bench '^BenchmarkCollCompare$$' -benchtime 50000x -count 3 -timeout 30m ./bench/
	$(GO) test -run '^$$' -bench '^BenchmarkCollMemory$$' -benchtime 1x -count 3 -timeout 30m ./bench/

bench-evloop: ## connection model: goroutine per connection vs the prototype event loop vs redis-server (bench/README.md)
	bash bench/evloop.sh

bench-isolation: ## latency-isolation matrix: 9 victim tenants vs one aggressor, per flood shape (ISO_* env, bench/README.md)
	$(GO) test -run '^$$' -bench '^BenchmarkIsolation$$' -benchtime 1x -timeout 20m ./bench/

tcl-units: ## Redis 7.0.15's Tcl units against tcached (REDIS_GIT=<redis git dir>, UNITS="unit/dump ..." default scripting+functions; not in `test`)
	bash bench/tcl-units.sh $(REDIS_GIT) $(UNITS)

lint: ## gofmt check and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
