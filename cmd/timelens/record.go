package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/pyext/session"
)

// runRecord is `timelens record [flags] -o PATH -- PROGRAM ARGS...`.
//
// gdb: records the window as lsp would, then saves gdb's execution log and
// a manifest into the directory PATH; `--recording PATH` replays it. rr and
// UDB: runs their recorder (rr record, Undo's live-record) on the whole
// program.
func runRecord(inv *invocation) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p := newProgress(inv.stderr)
	defer p.stop()
	cfg := inv.opts.config(inv.program, inv.log, p.detail)
	kind, err := cfg.Kind()
	if err != nil {
		fmt.Fprintf(inv.stderr, "timelens record: %v\n", err)
		return exitUsage
	}
	inv.log.Debug("recording", zap.String("backend", string(kind)), zap.Strings("program", inv.program), zap.String("output", inv.opts.Output))
	if kind == gdbmi.KindGDB {
		err = recordGDB(ctx, inv, cfg, p)
	} else {
		err = recordExternal(ctx, inv, cfg, kind, p)
	}
	if err != nil {
		p.stop()
		fmt.Fprintf(inv.stderr, "timelens record: %v\n", err)
		return exitFailure
	}
	return exitOK
}

func recordGDB(ctx context.Context, inv *invocation, cfg session.Config, p *progress) error {
	out := inv.opts.Output
	from := inv.opts.RecordFrom
	if from == "" {
		from = "the main module"
	}
	p.start(fmt.Sprintf("recording %s from %s", filepath.Base(session.Script(inv.program)), from))
	sources := readProgramSources(inv.program) // as the recording runs them
	t0 := time.Now()
	m, err := session.Record(ctx, cfg, out, func(w map[string]any) {
		p.end(fmt.Sprintf("recorded %v instructions (window end: %v)", w["instructions"], w["window_end"]))
		p.line("saving…")
		t0 = time.Now()
	})
	if err != nil {
		return err
	}
	if err := writeSources(out, sources); err != nil {
		return fmt.Errorf("keeping the program's sources in %s: %w", out, err)
	}
	inv.log.Info("saved recording", zap.Any("manifest", m), zap.Any("seconds", time.Since(t0).Seconds()))
	p.line(fmt.Sprintf("saved %s (%s); replay it with: timelens lsp --recording %s", out, humanSize(dirSize(out)), out))
	return nil
}

// recordExternal runs rr's or UDB's own recorder on PROGRAM ARGS.
func recordExternal(ctx context.Context, inv *invocation, cfg session.Config, kind gdbmi.Kind, p *progress) error {
	cmd, err := session.RecorderCommand(ctx, cfg, inv.opts.Output)
	if err != nil {
		return err
	}
	program := cmd.Args[slices.Index(cmd.Args, "--")+1:]
	p.line(fmt.Sprintf("recording %s with %s", strings.Join(program, " "), filepath.Base(cmd.Path)))
	var said strings.Builder
	cmd.Stdin, cmd.Stdout = os.Stdin, inv.stdout
	cmd.Stderr = io.MultiWriter(inv.stderr, &said)
	if err := cmd.Run(); err != nil {
		return session.RecorderError(kind, cmd.Args, err, said.String())
	}
	p.line(fmt.Sprintf("saved %s (%s); replay it with: timelens lsp --recording %s", inv.opts.Output, humanSize(dirSize(inv.opts.Output)), inv.opts.Output))
	return nil
}

func dirSize(path string) int64 {
	var n int64
	filepath.Walk(path, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// progress reports a long step on stderr: on a terminal, one line redrawn
// every second with the elapsed time and the backend's latest word; else
// only the start and end lines.
type progress struct {
	w    io.Writer
	tty  bool
	mu   sync.Mutex
	what string
	last string
	t0   time.Time
	done chan struct{}
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// start begins a step: "recording loop.py from main…".
func (p *progress) start(what string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.what, p.t0 = what, time.Now()
	if !p.tty {
		fmt.Fprintf(p.w, "timelens: %s…\n", what)
		return
	}
	p.done = make(chan struct{})
	p.redraw()
	go func(done chan struct{}) {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				p.mu.Lock()
				p.redraw()
				p.mu.Unlock()
			}
		}
	}(p.done)
}

func (p *progress) redraw() {
	line := fmt.Sprintf("timelens: %s… %ds", p.what, int(time.Since(p.t0).Seconds()))
	if p.last != "" {
		line += " (" + p.last + ")"
	}
	fmt.Fprintf(p.w, "\r\033[K%s", line)
}

// detail is the backend's latest word, shown on a terminal only.
func (p *progress) detail(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last = msg
	if p.tty && p.done != nil {
		p.redraw()
	}
}

// end closes the step with a result line.
func (p *progress) end(result string) {
	p.stopTicker()
	fmt.Fprintf(p.w, "timelens: %s in %.0fs\n", result, time.Since(p.t0).Seconds())
}

// line prints one line.
func (p *progress) line(msg string) {
	p.stopTicker()
	fmt.Fprintf(p.w, "timelens: %s\n", msg)
}

func (p *progress) stopTicker() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done != nil {
		close(p.done)
		p.done = nil
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func (p *progress) stop() { p.stopTicker() }
