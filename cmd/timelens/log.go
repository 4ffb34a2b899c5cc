package main

import (
	"fmt"
	"io"
	"os"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// newLogger makes the logger --log and --log-level ask for: JSON lines to
// the file, or readable lines to stderr. It never writes to stdout, which
// belongs to the LSP stream under `timelens lsp`. The returned function
// flushes and closes the log.
func newLogger(o *Options, stderr io.Writer) (*zap.Logger, func(), error) {
	level := zapcore.WarnLevel
	if o.Log != "" {
		level = zapcore.InfoLevel
	}
	if o.LogLevel != "" {
		if err := level.UnmarshalText([]byte(o.LogLevel)); err != nil {
			return nil, nil, fmt.Errorf("bad value for --log-level: %w", err)
		}
	}
	if o.Log == "" {
		cfg := zap.NewDevelopmentEncoderConfig()
		core := zapcore.NewCore(zapcore.NewConsoleEncoder(cfg), zapcore.Lock(zapcore.AddSync(stderr)), level)
		log := zap.New(core)
		return log, func() { _ = log.Sync() }, nil
	}
	f, err := os.OpenFile(o.Log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("--log: cannot write the log file: %w", err)
	}
	cfg := zap.NewProductionEncoderConfig()
	cfg.EncodeTime = zapcore.ISO8601TimeEncoder
	core := zapcore.NewCore(zapcore.NewJSONEncoder(cfg), zapcore.Lock(f), level)
	log := zap.New(core)
	return log, func() { _ = log.Sync(); _ = f.Close() }, nil
}
