# timelens: build, test, bench, demo. See README.md.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
GO ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build test test-all test-stripped test-nohw test-host test-root test-root-trixie test-root-sid test-sandbox test-editors test-vscode screenshots fuzz bench demo demo-nvim clean vscode

## build: the timelens binary, static, in bin/
build:
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o bin/timelens ./cmd/timelens

## test: host unit tests, then the debugger tests inside the Debian test roots
## (built on first use, reused after): trixie's, then sid's beside the editor
## tests (those wait on editors and sessions more than they compute; CI's whole
## run keeps within 35 minutes on 2 cores)
##
## The debugger and editor tests run as on the machines whose hardware
## watchpoints never fire while a program runs live (AMD EPYC under the PVM
## hypervisor): under scripts/no-hw-watchpoints, a seccomp filter that makes
## gdb's debug-register writes no-ops, so a machine whose watchpoints fire
## cannot hide a start-up that needs one. `make test NOHW=` runs them with
## this machine's own watchpoints.
NOHW ?= scripts/no-hw-watchpoints
# What runs under it knows (doctor's test checks its "hardware watchpoints" line).
UNDER_NOHW = $(if $(NOHW),env TIMELENS_HW_WATCHPOINTS=never $(NOHW),)

# The gdb side refuses to run a program live with a watchpoint inserted when
# this is set (scripts/root-tests and scripts/editor-tests set it too).
test-editors test-vscode screenshots: export TIMELENS_CHECK_LIVE_WATCHPOINTS := 1

# The tests that read every interpreter of a root (the oracles, navigation,
# run to a line, last write, start-up) run on SAMPLE of them: the root's own
# (Debian's) and its debug twin always, the others in turn, a new turn each
# day (gdbmi/gdbtest.Sample; the test log names those left out). make
# test-all runs every one (SAMPLE=): run it before changing how CPython is
# read or moved.
SAMPLE ?= 3
export TIMELENS_SAMPLE = $(SAMPLE)

test: test-host test-sandbox test-nohw test-root-trixie
	$(MAKE) --no-print-directory -j2 -O test-root-sid test-editors

## test-all: make test on the whole interpreter matrix, then the oracle suite
## on stripped copies of every interpreter (test-stripped): hours, not minutes
test-all:
	$(MAKE) --no-print-directory test SAMPLE=
	$(MAKE) --no-print-directory test-stripped SAMPLE=

## test-stripped: the debugger's oracle tests (values, navigation semantics,
## run to a line, last write, the line index, start-up, the bytecode view) on
## copies of the roots' interpreters without debug info, as uv, Docker and
## distributions ship them (TIMELENS_STRIPPED=1: gdbtest.StrippedPython)
STRIPPED_TESTS = Oracle|Navigate|BackendSteps|LastWrite|RunToLine|ConditionOracle|RecordFrom|IndexAgrees|Disassemble
# In sid, without the line index's test: gdb 18 aborts while it walks a 3.14
# window, with debug info or without (docs/how-it-works.md, "Limits in detail")
STRIPPED_TESTS_SID = Oracle|Navigate|BackendSteps|LastWrite|RunToLine|ConditionOracle|RecordFrom|Disassemble
test-stripped: build
	TIMELENS_STRIPPED=1 $(UNDER_NOHW) scripts/root-tests --run '$(STRIPPED_TESTS)' ./pyext
	TIMELENS_STRIPPED=1 $(UNDER_NOHW) scripts/root-tests --suite sid --run '$(STRIPPED_TESTS_SID)' ./pyext

## test-nohw: the filter works here (and what this machine's watchpoints do)
test-nohw:
	$(if $(NOHW),$(NOHW) --check,@echo "NOHW is empty: the tests use this machine's own hardware watchpoints")

test-host:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

## fuzz: every fuzz target for FUZZTIME (default 5s each, about 1.5 minutes);
## not part of `make test`, which replays the committed corpora (go test) so that
## it passes or fails the same way on every run;
## `make fuzz FUZZTIME=60s` for a longer run
FUZZTIME ?= 5s
fuzz:
	scripts/fuzz --time $(FUZZTIME)

test-sandbox:
	scripts/test-sandbox

## test-root: the debugger tests in the test roots: every package in trixie
## (gdb 16; CPython 3.10-3.13: pyenv's shared builds, bookworm's 3.11,
## trixie's 3.13), and the gdb side's reading and navigation and the debug
## adapter's session in sid (gdb 18,
## CPython 3.14), and the docs' editor snippets in sid's Neovim 0.12 and Emacs 30.2
test-root: test-root-trixie test-root-sid

test-root-trixie: build
	$(UNDER_NOHW) scripts/root-tests

test-root-sid: build
	$(UNDER_NOHW) scripts/root-tests --suite sid --run 'Oracle|RenderBig|Navigate|BackendSteps|LastWrite|Transcript|RunToLine|RecordFrom|NoWatchpointRunsLive|ClockRead|Disassemble|StepInstruction' ./pyext
	$(UNDER_NOHW) scripts/root-tests --suite sid --run 'SessionLikeSettrace' ./dap
	scripts/root-tests --suite sid --run 'TestDocs(LuaSnippets|ElispSnippets|EditorConfigs)' ./cmd/timelens

## test-editors: real editors against real sessions, all at once: Neovim 0.10 and
## Emacs 30.1 (trixie root), Neovim 0.12, Emacs 30.2 and Helix 25.07 (sid root),
## VS Code (code-server with the .vsix, in chromium, on the host); the VS Code
## run's output follows the others'
test-editors: build vscode
	@mkdir -p bin; $(UNDER_NOHW) scripts/vscode-e2e >bin/vscode-e2e.out 2>&1 & vs=$$!; \
	$(UNDER_NOHW) scripts/editor-tests; rc=$$?; wait $$vs; vrc=$$?; cat bin/vscode-e2e.out; \
	exit $$((rc != 0 || vrc != 0))

## test-vscode: the VS Code run alone (scripts/vscode-e2e --screenshot also writes docs/vscode.png)
test-vscode: build vscode
	scripts/vscode-e2e

## screenshots: docs/nvim.txt, docs/helix.txt (and .ansi) and docs/vscode.png, from the tests
screenshots: build vscode
	scripts/editor-tests --screenshot
	scripts/vscode-e2e --screenshot

## bench: benchmarks on the host and in the test root, then the navigation
## table (every move vs the per-bytecode baseline, pyext/navigate_bench_test.go)
## and the inline hints' latency after each kind of move, with the line index
## and without (cmd/timelens/hints_bench_test.go)
## and the debugger UI's waits over DAP (dap/bench_test.go: bin/bench/dap.txt)
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	rm -f bin/bench/navigate.txt bin/bench/navigate-sid.txt bin/bench/hints.txt bin/bench/runto.txt bin/bench/startup*.txt
	rm -f bin/bench/dap.txt
	scripts/root-tests --bench
	scripts/root-tests --suite sid --bench ./pyext
	scripts/root-tests --suite sid --bench --run Startup ./cmd/timelens
	cat bin/bench/navigate.txt bin/bench/navigate-sid.txt bin/bench/hints.txt bin/bench/runto.txt bin/bench/startup*.txt
	cat bin/bench/dap.txt

## vscode: build, lint, test and package the VS Code extension into bin/timelens-vscode-<version>.vsix
vscode:
	scripts/vscode

## demo: record testdata/race.py and show the lost update and the line that caused it
demo: build
	scripts/demo

## demo-nvim: race.py in Neovim with the plugin, stepped to the failing assertion (by hand;
## scripts/demo-nvim --check runs it in tmux and checks the hints)
demo-nvim: build
	scripts/demo-nvim

clean:
	rm -rf bin
