package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"syscall"

	"go.uber.org/zap"

	"github.com/timelens/timelens/history"
	"github.com/timelens/timelens/lsp"
	"github.com/timelens/timelens/pyext/session"
	"github.com/timelens/timelens/srcpath"
)

// stdio joins stdin and stdout into the LSP stream. Closing it closes
// stdin, which ends a read in progress: stdin is put in non-blocking mode so
// that Go's poller owns it (a blocking read would hold the server open after
// exit for as long as the editor keeps the pipe).
type stdio struct {
	*os.File
	io.Writer
}

func (s stdio) Read(p []byte) (int, error)  { return s.File.Read(p) }
func (s stdio) Write(p []byte) (int, error) { return s.Writer.Write(p) }

func newStdio(out io.Writer) stdio {
	in := os.Stdin
	if err := syscall.SetNonblock(int(os.Stdin.Fd()), true); err == nil {
		in = os.NewFile(os.Stdin.Fd(), "/dev/stdin")
	}
	return stdio{in, out}
}

// runLSP serves LSP on stdin/stdout. The recording starts after initialize,
// with the client's initializationOptions under the command line's flags.
func runLSP(inv *invocation) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := lsp.Config{
		Logger:         inv.log,
		Version:        version,
		SubstitutePath: inv.opts.SubstitutePath,
		PastCalls:      inv.opts.PastCalls,
		RecordedText:   recordedSources(inv.opts.Recording),
		OptionKeys:     (&Options{}).JSONKeys(),
		Start: func(ctx context.Context, init json.RawMessage, progress func(string, int)) (*history.Timeline, error) {
			o := inv.opts
			if len(init) > 0 && string(init) != "null" {
				if err := o.MergeJSON(init, inv.set); err != nil {
					inv.log.Warn("initializationOptions", zap.Error(err))
				}
				if err := o.Validate(); err != nil {
					return nil, err
				}
			}
			c := o.config(inv.program, inv.log, func(msg string) { progress(msg, -1) })
			c.Index = true // an editor moves about: index the window for fast hints
			return session.Open(ctx, c)
		},
	}
	var conn io.ReadWriteCloser = newStdio(inv.stdout)
	if inv.opts.Listen != "" {
		c, err := acceptOne(ctx, inv)
		if err != nil {
			fmt.Fprintf(inv.stderr, "timelens lsp: %v\n", err)
			return 1
		}
		conn = c
	}
	err := lsp.Serve(ctx, conn, cfg)
	switch {
	case errors.Is(err, lsp.ErrExitWithoutShutdown):
		return 1
	case err != nil:
		fmt.Fprintf(inv.stderr, "timelens lsp: %v\n", err)
		return 1
	}
	return 0
}

// acceptOne listens on the loopback address of --listen, says on stderr
// (and in the log) which address it bound, port 0 resolved, and returns the
// first client's connection; it listens no more after that.
func acceptOne(ctx context.Context, inv *invocation) (net.Conn, error) {
	if err := checkLoopback(inv.opts.Listen); err != nil {
		return nil, fmt.Errorf("--listen %w", err)
	}
	ln, err := net.Listen("tcp", inv.opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("--listen %s: %w (is the port in use? port 0 picks a free one)", inv.opts.Listen, err)
	}
	defer ln.Close()
	bound := ln.Addr().String()
	if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		return nil, fmt.Errorf("--listen %s bound %s, which is not a loopback address; use 127.0.0.1:PORT", inv.opts.Listen, bound)
	}
	fmt.Fprintf(inv.stderr, "timelens %s: listening on %s\n", inv.cmd.name, bound)
	inv.log.Info("listening", zap.String("addr", bound))
	accepted := make(chan net.Conn, 1)
	failed := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			failed <- err
			return
		}
		accepted <- c
	}()
	select {
	case c := <-accepted:
		inv.log.Info("client connected", zap.String("from", c.RemoteAddr().String()))
		return c, nil
	case err := <-failed:
		return nil, fmt.Errorf("--listen %s: %w", bound, err)
	case <-ctx.Done():
		return nil, fmt.Errorf("--listen %s: no client connected before the signal", bound)
	}
}

// runAnnotate prints FILE with the hints the editor would show, at the time
// --at names.
func runAnnotate(inv *invocation) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fail := func(err error) int {
		fmt.Fprintf(inv.stderr, "timelens annotate: %v\n", err)
		return 1
	}
	file, err := filepath.Abs(inv.file)
	if err != nil {
		return fail(err)
	}
	src, err := os.ReadFile(file)
	if err != nil {
		return fail(err)
	}
	program := inv.program
	if len(program) == 0 && inv.opts.Recording == "" {
		program = []string{file} // annotate a program by recording it
	}
	tl, err := session.Open(ctx, inv.opts.config(program, inv.log, func(msg string) { fmt.Fprintf(inv.stderr, "timelens: %s…\n", msg) }))
	if err != nil {
		return fail(err)
	}
	defer tl.Close()
	if reason := tl.EndReason(); reason != "" {
		fmt.Fprintf(inv.stderr, "timelens: the recorded window ends early: %s\n", reason)
	}
	// FILE is this machine's; the recording may name it otherwise
	// (--substitute-path): hints, times and lines are matched by the
	// recording's name.
	rec := file
	if inv.opts.Recording != "" {
		rec = srcpath.NewMap(inv.opts.SubstitutePath).ToRecording(file)
	}
	f, err := annotatedFile(inv, file, rec, string(src))
	if err != nil {
		return fail(err)
	}
	if inv.opts.At != "" {
		at, err := f.recordedAt(inv.opts.At)
		if err != nil {
			return fail(err)
		}
		if err := session.GoTo(ctx, tl, at); err != nil {
			return fail(err)
		}
	}
	if err := annotateNow(ctx, inv, tl, f, ""); err != nil {
		return fail(err)
	}
	if expr := inv.opts.LastWrite; expr != "" {
		w, err := tl.LastWrite(ctx, 0, expr)
		if err != nil {
			return fail(fmt.Errorf("last write of %s: %w", expr, err))
		}
		if _, err := tl.Goto(ctx, w.Time); err != nil {
			return fail(err)
		}
		fmt.Fprintln(inv.stdout)
		title := fmt.Sprintf("last write of %s: %s, at %s:%d in %s", expr, w.Value, filepath.Base(w.File), f.lineNow(w.File, w.Line), w.Function)
		if err := annotateNow(ctx, inv, tl, f, title); err != nil {
			return fail(err)
		}
	}
	return 0
}

// annotateNow prints the file annotated at the current time, under a
// header saying where that is; values follow the file's lines now.
func annotateNow(ctx context.Context, inv *invocation, tl *history.Timeline, doc fileNow, title string) error {
	file, src := doc.path, doc.text
	pos, err := tl.Where(ctx)
	if err != nil {
		return err
	}
	q := history.HintsQuery{
		Match:    func(f string) bool { return f == file },
		Progress: func(fn string) { fmt.Fprintf(inv.stderr, "timelens: reading the latest call of %s…\n", fn) },
		Warn:     func(err error) { inv.log.Warn("some lines have no hints", zap.Error(err)) },
	}
	if inv.opts.PastCalls {
		q.PastCalls = lsp.Functions(doc.ran)
	}
	hints, err := tl.Hints(ctx, q)
	if err != nil {
		return err
	}
	hints = doc.lines.MoveHints(hints)
	current, caller, line := 0, 0, doc.lineNow(pos.File, pos.Line)
	if pos.File == file && doc.lines.Matches() {
		current = line
	} else if doc.lines.Matches() {
		// Time is in another file (a call into the library): mark the line of
		// FILE that called it.
		if snap, err := tl.Snapshot(ctx); err == nil {
			for _, f := range snap.Frames {
				if f.File == file {
					caller = doc.lineNow(f.File, f.Line)
					break
				}
			}
		}
	}
	if title != "" {
		fmt.Fprintln(inv.stdout, title)
	}
	fmt.Fprintf(inv.stdout, "%s at time %s, in %s (%s:%d)\n", filepath.Base(file), pos.Time, pos.Function, filepath.Base(pos.File), line)
	if title != "" {
		names := make([]string, 0, len(pos.Locals))
		for name := range pos.Locals {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			fmt.Fprintf(inv.stdout, "    %s = %s\n", name, pos.Locals[name])
		}
	}
	fmt.Fprint(inv.stdout, history.Annotate(src, hints, current, caller))
	if inv.opts.Bytecode {
		return printBytecode(ctx, inv, tl, doc)
	}
	return nil
}

// printBytecode prints the current frame's instructions under the lines
// of its source as the recording ran them (annotate --bytecode).
func printBytecode(ctx context.Context, inv *invocation, tl *history.Timeline, doc fileNow) error {
	code, err := tl.Disassemble(ctx, 0)
	if err != nil {
		return fmt.Errorf("bytecode of the current frame: %w", err)
	}
	src := doc.ran
	if code.File != doc.path {
		b, err := os.ReadFile(code.File)
		if err != nil {
			inv.log.Warn("no source beside the bytecode", zap.Error(err))
		}
		src = string(b)
	}
	fmt.Fprintf(inv.stdout, "\nbytecode of %s (%s), as dis names it with adaptive=True:\n", code.Function, filepath.Base(code.File))
	fmt.Fprint(inv.stdout, history.AnnotateBytecode(src, code))
	return nil
}
