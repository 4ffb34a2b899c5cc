module github.com/timelens/timelens

go 1.26

require (
	github.com/creack/pty v1.1.24
	github.com/cyrus-and/gdb v0.0.0-20230321224603-9424cb2f2a86
	github.com/google/go-dap v0.12.0
	go.lsp.dev/jsonrpc2 v1.0.1
	go.lsp.dev/protocol v1.0.1
	go.lsp.dev/uri v1.0.1
	go.uber.org/zap v1.28.0
)

require (
	github.com/go-json-experiment/json v0.0.0-20260623181947-01eb4420fa68 // indirect
	github.com/kr/pty v1.1.8 // indirect
	go.uber.org/multierr v1.11.0 // indirect
)
