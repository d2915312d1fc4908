# udpif: the entry points named in the README.
# Deno comes from npm (the deno package ships the real binary) when it is
# not already on PATH; it is installed under .tools/, which git ignores.

DENO_VERSION := 2.9.6
TOOLS := $(CURDIR)/.tools
DENO := $(shell command -v deno 2>/dev/null || echo $(TOOLS)/bin/deno)
# The daemon's V8 tier-up thresholds (why: V8_FLAGS in src/daemon/detach.ts).
V8FLAGS := --v8-flags=--invocation-count-for-maglev=20,--invocation-count-for-turbofan=200,--invocation-count-for-osr=50,--minimum-invocations-after-ic-update=20
PERMS := --allow-read --allow-write --allow-env --allow-run --allow-sys --allow-net --allow-ffi

.PHONY: all test check fmt lint unit demo build bench fuzz deno conformance-record clean

all: test

deno: $(DENO)

$(TOOLS)/bin/deno:
	@mkdir -p $(TOOLS)/bin
	@echo "installing deno $(DENO_VERSION) from npm into $(TOOLS)" >&2
	@cd $(TOOLS) && npm install --silent --no-save --no-audit --no-fund --prefix $(TOOLS) deno@$(DENO_VERSION) >/dev/null
	@for f in $(TOOLS)/node_modules/@deno/*/deno $(TOOLS)/node_modules/deno/deno; do \
	  if [ -x "$$f" ]; then ln -sf "$$f" $@; break; fi; done
	@$@ --version >/dev/null || { echo "deno install failed" >&2; exit 1; }

# As root, the packages the real-interface tests and every test daemon's
# network namespace need are installed first when missing (apt-get).
# `deno check .` type-checks everything once, so the test run skips it; test
# files run two at a time (the conformance replays mostly wait on
# revalidator cycles, so they overlap well with the unit tests).
test: $(DENO)
	@if [ "$$(id -u)" = 0 ]; then bash scripts/install-test-deps.sh; fi
	$(DENO) fmt --check
	$(DENO) lint
	$(DENO) check .
	$(DENO) test $(PERMS) --no-check --parallel

fmt: $(DENO)
	$(DENO) fmt

demo: $(DENO)
	$(DENO) run $(PERMS) main.ts demo

bench: $(DENO)
	$(DENO) run $(PERMS) bench/run.ts

# Every fuzz target from its corpus under fixtures/fuzz/: FUZZ_SECONDS per
# target (default 10), or FUZZ_INPUTS inputs; FUZZ_SEED, FUZZ_TARGETS=a,b.
# Ends with `fuzz: T targets, N inputs, C crashes`; crashes are saved as
# fixtures (see README.md, "Fuzzing").
fuzz: $(DENO)
	$(DENO) run $(PERMS) tests/fuzz/run.ts

# deno compile needs the denort runtime: Deno downloads it, or DENORT_BIN
# names a local copy. Without either, stop with one line, not a trace.
# main.ts's imports are compiled in; RUNTIME_MODULES are the modules the
# program loads by URL (Worker entry points, the PMD's flow_extract module,
# the handlers' xlate module, and what the CLI imports on demand, see
# src/cli/on_demand.ts), with everything they import. Test helpers live
# under tests/ and stay out.
RUNTIME_MODULES := src/dpif/pmd_worker.ts src/upcall/udpif_worker.ts src/flow/mod.ts \
	src/daemon/bridge_xlate.ts src/cli/program.ts src/cli/odp_parse_flows.ts \
	src/daemon/mod.ts src/lib/mod.ts src/upcall/mod.ts
build: $(DENO)
	@mkdir -p dist
	@if $(DENO) compile $(PERMS) $(V8FLAGS) $(addprefix --include ,$(RUNTIME_MODULES)) -o dist/udpif main.ts >dist/compile.log 2>&1; then \
	  echo "built dist/udpif"; \
	elif grep -q 'denort' dist/compile.log; then \
	  echo "make build: deno compile could not get the denort runtime: set DENORT_BIN to a denort $(DENO_VERSION) binary, or allow access to the Deno download site (details in dist/compile.log)" >&2; exit 1; \
	else \
	  grep -v '^ *$$' dist/compile.log | grep -iv 'backtrace\|<unknown>' >&2; exit 1; \
	fi

conformance-record: $(DENO)
	bash tests/conformance/record.sh

clean:
	rm -rf dist
