# timelens: build, test, bench, demo. See README.md.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
GO ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build test test-host test-root test-sandbox test-editors fuzz bench demo demo-nvim clean vscode

## build: the timelens binary, static, in bin/
build:
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o bin/timelens ./cmd/timelens

## test: host unit tests, then the debugger tests inside the Debian test root
## (built on first use, reused after)
test: test-host test-sandbox test-root test-editors vscode

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

test-root: build
	scripts/root-tests
	scripts/root-tests --suite sid --run 'Oracle|RenderBig|NavigateStepMatchesSettrace' ./pyext

## test-editors: real Neovim and Emacs, headless, in the test root
test-editors: build
	scripts/editor-tests

## bench: benchmarks on the host and in the test root, then the navigation
## table (every move vs the per-bytecode baseline, pyext/navigate_bench_test.go)
## and the inline hints' latency after each kind of move, with the line index
## and without (cmd/timelens/hints_bench_test.go)
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	rm -f bin/bench/navigate.txt bin/bench/hints.txt
	scripts/root-tests --bench
	cat bin/bench/navigate.txt
	cat bin/bench/hints.txt

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
