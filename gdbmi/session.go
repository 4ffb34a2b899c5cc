// Package gdbmi runs one gdb (or rr replay, or UDB) over GDB/MI and makes it
// safe to depend on: every command takes a context and has a timeout, gdb
// dying or hanging becomes a named error, no goroutine stays blocked, and
// nothing gdb or the debuggee prints can take the process down.
//
// Underneath is github.com/cyrus-and/gdb. Between it and gdb runs a relay
// process (relay.go) that keeps the MI stream canonical and answers every
// command even when gdb is gone. The debuggee gets its own pseudo-terminal,
// which a goroutine drains so that a program flooding its output never
// blocks.
//
// A Session runs one command at a time; callers on several goroutines are
// serialized. Exec and ExecConsole hold the session until gdb reports
// *stopped.
package gdbmi

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	gdb "github.com/cyrus-and/gdb"
	"go.uber.org/zap"
)

// Config says how to start a session.
type Config struct {
	// GDB is the debugger executable for the default argv (default "gdb").
	GDB string
	// Program and Args: the program gdb loads (optional).
	Program string
	Args    []string
	// Argv, when set, builds the whole debugger command line from the MI flags
	// the session needs: Dialect.Argv for rr and UDB. It replaces
	// GDB/Program/Args.
	Argv func(mi []string) ([]string, error)
	// Env is added to the debugger's environment (and so the debuggee's),
	// as KEY=VALUE.
	Env []string
	// InferiorEnv is set in the debuggee's environment only, with gdb's
	// "set environment", as KEY=VALUE.
	InferiorEnv []string
	// Timeout bounds each command that has no deadline of its own
	// (default DefaultTimeout). Exec commands are bounded only by their context.
	Timeout time.Duration
	// Logger receives debug logs of every command (default: none).
	Logger *zap.Logger
}

// DefaultTimeout bounds a command whose context has no deadline.
const DefaultTimeout = 30 * time.Second

// interruptGrace is how long Exec waits for *stopped after interrupting.
const interruptGrace = 3 * time.Second

// maxCapture bounds the console and log text kept for one command.
const maxCapture = 64 << 20

// Result is gdb's reply to one command.
type Result struct {
	// Class is "done", "running", "connected", "error" or "exit".
	Class string
	// Payload holds the reply's fields, as cyrus-and/gdb represents them:
	// strings, map[string]any tuples and []any lists.
	Payload map[string]any
	// Console is the console output (~ records) the command produced.
	Console string
	// Log is gdb's log output (& records), where gdb's CLI errors appear.
	Log string
}

// StopEvent is a *stopped notification.
type StopEvent struct {
	// Reason is gdb's stop reason ("breakpoint-hit", "end-stepping-range",
	// "no-history", "signal-received", "exited-normally", ...); empty when gdb
	// gave none (as after "record goto").
	Reason string
	// Payload holds every field of the record.
	Payload map[string]any
	// Console is the console output produced while running and stopping.
	Console string
}

// Frame returns the stop's frame fields (func, file, fullname, line, addr).
func (e StopEvent) Frame() map[string]any {
	f, _ := e.Payload["frame"].(map[string]any)
	return f
}

// Session is one running debugger.
type Session struct {
	cfg Config
	log *zap.Logger
	g   *gdb.Gdb
	ptm *os.File
	pts *os.File

	sem chan struct{} // one command at a time

	mu       sync.Mutex
	gdbPid   int
	console  strings.Builder
	logText  strings.Builder
	lastStop *StopEvent    // the latest *stopped not yet taken
	stopped  chan struct{} // signalled (non-blocking) on each *stopped
	dead     chan struct{} // closed when gdb is gone
	deadWhy  string
	tty      tailBuffer
	closed   bool
	closeErr error
	ttyDone  chan struct{}
	started  chan struct{} // closed when the relay reported gdb's pid
}

// Start starts the debugger and prepares it: may-call-functions off,
// pagination off, no shell between gdb and the program.
func Start(ctx context.Context, cfg Config) (*Session, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	s := &Session{
		cfg:     cfg,
		log:     cfg.Logger,
		sem:     make(chan struct{}, 1),
		stopped: make(chan struct{}, 1),
		dead:    make(chan struct{}),
		ttyDone: make(chan struct{}),
		started: make(chan struct{}),
	}
	ptm, pts, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("gdbmi: opening a terminal for the debuggee: %w", err)
	}
	s.ptm, s.pts = ptm, pts
	go s.drainTTY()

	mi := []string{"--nx", "--quiet", "--interpreter=mi2", "--tty=" + pts.Name()}
	argvOf := cfg.Argv
	if argvOf == nil {
		exe := cfg.GDB
		if exe == "" {
			exe = "gdb"
		}
		argvOf = func(mi []string) ([]string, error) {
			return gdbArgv(exe, mi, Target{Program: cfg.Program, Args: cfg.Args})
		}
	}
	argv, err := argvOf(mi)
	if err != nil {
		s.closeTTY()
		return nil, err
	}
	if _, err := exec.LookPath(argv[0]); err != nil {
		s.closeTTY()
		return nil, &NotFoundError{Exe: argv[0], Err: err}
	}
	self, err := os.Executable()
	if err != nil {
		s.closeTTY()
		return nil, fmt.Errorf("gdbmi: finding this executable to run the MI relay: %w", err)
	}
	relayArgv := []string{self, relayArg}
	for _, kv := range cfg.Env {
		relayArgv = append(relayArgv, "--env", kv)
	}
	relayArgv = append(relayArgv, "--")
	relayArgv = append(relayArgv, argv...)
	s.log.Debug("starting debugger", zap.Strings("argv", argv))
	g, err := gdb.NewCmd(relayArgv, s.notify)
	if err != nil {
		s.closeTTY()
		return nil, fmt.Errorf("gdbmi: starting %s: %w", argv[0], err)
	}
	s.g = g

	select {
	case <-s.started:
	case <-s.dead:
	case <-ctx.Done():
	case <-time.After(cfg.Timeout):
	}
	if s.pid() == 0 {
		why := s.deadReason()
		_ = s.Close()
		if why == "" {
			why = "no answer"
		}
		return nil, &ExitError{Op: "the start of " + argv[0], Status: why}
	}

	setup := []string{
		"-gdb-set may-call-functions off",
		"-gdb-set pagination off",
		"-gdb-set confirm off",
		"-gdb-set width 0",
		"-gdb-set height 0",
		"-gdb-set print pretty off",
		"-gdb-set python print-stack full",
		"-gdb-set startup-with-shell off",
	}
	for _, c := range setup {
		f := strings.Fields(c)
		if _, err := s.MI(ctx, f[0], f[1:]...); err != nil {
			// rr and UDB refuse a few settings a plain gdb takes; only the
			// first (never call functions in the debuggee) is essential.
			if c == setup[0] {
				_ = s.Close()
				return nil, fmt.Errorf("gdbmi: %s: %w", c, err)
			}
			s.log.Debug("setting refused", zap.String("setting", c), zap.Error(err))
		}
	}
	for _, kv := range cfg.InferiorEnv {
		if _, err := s.Console(ctx, "set environment "+kv); err != nil {
			_ = s.Close()
			return nil, err
		}
	}
	return s, nil
}

// notify runs on the library's reader goroutine: it must never block.
func (s *Session) notify(rec map[string]any) {
	s.readSpool(rec)
	typ, _ := rec["type"].(string)
	class, _ := rec["class"].(string)
	payload, _ := rec["payload"].(map[string]any)
	switch typ {
	case "console", "log", "target":
		text, _ := rec["payload"].(string)
		s.mu.Lock()
		switch typ {
		case "console":
			appendBounded(&s.console, text)
		case "log":
			appendBounded(&s.logText, text)
		case "target":
			s.tty.write([]byte(text))
		}
		s.mu.Unlock()
	case "exec":
		if class == "stopped" {
			s.mu.Lock()
			ev := StopEvent{Payload: payload}
			ev.Reason, _ = payload["reason"].(string)
			s.lastStop = &ev // a Python command may stop many times: keep the last
			s.mu.Unlock()
			select {
			case s.stopped <- struct{}{}:
			default:
			}
		}
	case "notify":
		switch class {
		case "timelens-relay":
			pid, _ := strconv.Atoi(fmt.Sprint(payload["gdb-pid"]))
			s.mu.Lock()
			s.gdbPid = pid
			s.mu.Unlock()
			if pid != 0 {
				close(s.started)
			}
		case "timelens-gdb-exited":
			s.mu.Lock()
			if s.deadWhy == "" {
				s.deadWhy = fmt.Sprint(payload["status"])
				close(s.dead)
			}
			s.mu.Unlock()
		}
	}
	if typ == "log" {
		// gdb's own messages (warnings, internal errors, what it printed
		// before it died): worth having in a debug log.
		text, _ := rec["payload"].(string)
		s.log.Debug("mi notification", zap.String("type", typ), zap.String("text", text))
		return
	}
	s.log.Debug("mi notification", zap.String("type", typ), zap.String("class", class))
}

// readSpool replaces a spooled record's payload with the record from its file.
func (s *Session) readSpool(rec map[string]any) {
	payload, _ := rec["payload"].(map[string]any)
	path, ok := payload[spoolField].(string)
	if !ok {
		return
	}
	data, err := os.ReadFile(path)
	_ = os.Remove(path)
	if err == nil {
		var full record
		if full, err = parseRecord(string(data)); err == nil {
			rec["payload"] = libraryShape(full.fields)
			return
		}
	}
	rec["payload"] = map[string]any{"msg": "timelens: a long reply was lost: " + err.Error()}
	if rec["class"] == "done" {
		rec["class"] = "error"
	}
}

func appendBounded(b *strings.Builder, s string) {
	if b.Len() >= maxCapture {
		return
	}
	if b.Len()+len(s) > maxCapture {
		s = s[:maxCapture-b.Len()]
	}
	b.WriteString(s)
}

func (s *Session) pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gdbPid
}

func (s *Session) deadReason() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deadWhy
}

// Alive reports whether gdb is still running.
func (s *Session) Alive() bool {
	select {
	case <-s.dead:
		return false
	default:
		return true
	}
}

// Dead is closed when gdb has gone.
func (s *Session) Dead() <-chan struct{} { return s.dead }

// GDBPid is the debugger's process id (for tests and diagnostics).
func (s *Session) GDBPid() int { return s.pid() }

// acquire takes the session for one command.
func (s *Session) acquire(ctx context.Context) error {
	select {
	case s.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.dead:
		return s.exitedErr("")
	}
}

func (s *Session) release() { <-s.sem }

// exitedErr is the error of a command that found gdb gone; why stands in
// for the exit status when the relay did not report one.
func (s *Session) exitedErr(op string, why ...string) error {
	status := s.deadReason()
	if status == "" {
		status = strings.Join(why, "; ")
	}
	if status == "" {
		status = "no exit status"
	}
	return &ExitError{Op: op, Status: status}
}

// MI sends one MI command (with or without its leading "-") and waits for its
// result. A context without deadline gets the session's Timeout. When the
// command times out, gdb is killed: its reply stream can no longer be trusted.
func (s *Session) MI(ctx context.Context, op string, args ...string) (Result, error) {
	if err := s.acquire(ctx); err != nil {
		return Result{}, err
	}
	defer s.release()
	return s.send(ctx, op, args...)
}

// send runs one command; the caller holds the session.
func (s *Session) send(ctx context.Context, op string, args ...string) (Result, error) {
	op = strings.TrimPrefix(op, "-")
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.Timeout)
		defer cancel()
	}
	select {
	case <-s.dead:
		return Result{}, s.exitedErr("-" + op)
	default:
	}
	s.mu.Lock()
	s.console.Reset()
	s.logText.Reset()
	s.mu.Unlock()

	type reply struct {
		rec map[string]any
		err error
	}
	ch := make(chan reply, 1)
	start := time.Now()
	go func() {
		rec, err := s.g.Send(op, args...)
		if err == nil {
			s.readSpool(rec)
		}
		ch <- reply{rec, err}
	}()
	var rp reply
	select {
	case rp = <-ch:
	case <-ctx.Done():
		// gdb did not answer in time. Its replies can no longer be matched to
		// commands, so it is stopped; the relay then answers the pending
		// command and the goroutine above ends.
		s.kill()
		select {
		case <-ch:
		case <-time.After(interruptGrace):
			// The relay answers every pending command once gdb is gone; if
			// even that fails the goroutine ends when Close tears it down.
		}
		if errors.Is(ctx.Err(), context.Canceled) {
			// Its caller gave up (a session that ends): not a hung gdb.
			s.log.Debug("gdb command cancelled", zap.String("op", op), zap.Duration("after", time.Since(start)))
		} else {
			s.log.Warn("gdb command timed out", zap.String("op", op), zap.Duration("after", time.Since(start)))
		}
		return Result{}, &TimeoutError{Op: "-" + op, After: time.Since(start).Round(time.Millisecond), Err: ctx.Err()}
	}
	s.log.Debug("mi command", zap.String("op", op), zap.Strings("args", args), zap.Duration("took", time.Since(start)))
	if rp.err != nil {
		// The library lost the relay's stream: gdb is gone.
		return Result{}, s.exitedErr("-"+op, rp.err.Error())
	}
	res := Result{}
	res.Class, _ = rp.rec["class"].(string)
	res.Payload, _ = rp.rec["payload"].(map[string]any)
	s.mu.Lock()
	res.Console = s.console.String()
	res.Log = s.logText.String()
	s.mu.Unlock()
	if res.Class == "error" {
		msg, _ := res.Payload["msg"].(string)
		select {
		case <-s.dead:
			return res, s.exitedErr("-" + op)
		default:
		}
		return res, &CommandError{Op: "-" + op, Msg: msg, Console: res.Console}
	}
	return res, nil
}

// Console runs a CLI command through -interpreter-exec console and returns
// what it printed. gdb's error message is kept in the returned CommandError.
func (s *Session) Console(ctx context.Context, command string) (string, error) {
	res, err := s.MI(ctx, "interpreter-exec", "console", command)
	if err != nil {
		var ce *CommandError
		if errors.As(err, &ce) {
			ce.Op = command
		}
		return res.Console, err
	}
	return res.Console, nil
}

// Exec runs an MI execution command (-exec-run, -exec-continue --reverse,
// ...) and waits for gdb's *stopped. ctx bounds the whole run: when it ends
// first, gdb is interrupted; if it does not stop within a short grace, it is
// killed. The error is then an *InterruptedError or a *TimeoutError.
func (s *Session) Exec(ctx context.Context, op string, args ...string) (StopEvent, error) {
	if err := s.acquire(ctx); err != nil {
		return StopEvent{}, err
	}
	defer s.release()
	s.mu.Lock()
	s.lastStop = nil
	s.mu.Unlock()
	select {
	case <-s.stopped:
	default:
	}
	// The command's own reply (^running) comes at once; the stop later.
	replyCtx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	res, err := s.send(replyCtx, op, args...)
	cancel()
	if err != nil {
		return StopEvent{Console: res.Console}, err
	}
	if res.Class != "running" {
		// Some commands (record goto, UDB's ugo) move without running: any
		// *stopped they produced came before their result.
		if ev, ok := s.takeStop(); ok {
			return ev, nil
		}
		return StopEvent{Console: res.Console, Payload: res.Payload}, nil
	}
	return s.waitStop(ctx, op)
}

// ExecConsole runs a CLI command that moves the program (reverse-step,
// record goto, ugo ...) and waits for it to stop, like Exec.
func (s *Session) ExecConsole(ctx context.Context, command string) (StopEvent, error) {
	ev, err := s.Exec(ctx, "interpreter-exec", "console", command)
	var ce *CommandError
	if errors.As(err, &ce) {
		ce.Op = command
	}
	return ev, err
}

func (s *Session) takeStop() (StopEvent, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastStop == nil {
		return StopEvent{}, false
	}
	ev := *s.lastStop
	s.lastStop = nil
	ev.Console = s.console.String()
	return ev, true
}

func (s *Session) waitStop(ctx context.Context, op string) (StopEvent, error) {
	start := time.Now()
	for {
		if ev, ok := s.takeStop(); ok {
			return ev, nil
		}
		select {
		case <-s.stopped:
			continue
		case <-s.dead:
			if ev, ok := s.takeStop(); ok {
				return ev, nil
			}
			return StopEvent{}, s.exitedErr("-" + strings.TrimPrefix(op, "-"))
		case <-ctx.Done():
		}
		// Out of time: interrupt, then wait briefly for the stop.
		s.interrupt()
		grace := time.NewTimer(interruptGrace)
		defer grace.Stop()
		for {
			if ev, ok := s.takeStop(); ok {
				return ev, &InterruptedError{Op: "-" + strings.TrimPrefix(op, "-"), After: time.Since(start).Round(time.Millisecond), Stop: ev, Err: ctx.Err()}
			}
			select {
			case <-s.stopped:
				continue
			case <-s.dead:
			case <-grace.C:
				s.kill()
			}
			return StopEvent{}, &TimeoutError{Op: "-" + strings.TrimPrefix(op, "-"), After: time.Since(start).Round(time.Millisecond), Err: ctx.Err()}
		}
	}
}

// Interrupt asks gdb to stop the running program, as Ctrl-C would.
func (s *Session) interrupt() {
	if pid := s.pid(); pid > 0 {
		_ = syscall.Kill(pid, syscall.SIGINT)
	}
}

// kill stops gdb at once (and with it the debuggee).
func (s *Session) kill() {
	if pid := s.pid(); pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// Kill stops gdb at once, as a crash would; later commands fail with ErrExited.
func (s *Session) Kill() { s.kill() }

// TTYOutput returns the last bytes the debuggee wrote to its terminal, and
// any non-MI text gdb printed.
func (s *Session) TTYOutput() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.tty.bytes())
}

// Close ends gdb (politely, then by force) and frees the terminal. It is
// safe to call more than once and from any goroutine.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return s.closeErr
	}
	s.closed = true
	s.mu.Unlock()
	var err error
	if s.g != nil {
		// A command still running means gdb is busy (a long move, a hung
		// command): do not wait for it to read gdb-exit, end it now. The
		// relay then answers every command, gdb-exit included.
		grace := 2 * time.Second
		select {
		case s.sem <- struct{}{}:
			defer s.release()
		default:
			s.kill()
		}
		done := make(chan error, 1)
		go func() { done <- s.g.Exit() }()
		select {
		case err = <-done:
		case <-time.After(grace):
			s.kill()
			err = <-done
		}
	}
	s.closeTTY()
	s.mu.Lock()
	s.closeErr = err
	s.mu.Unlock()
	return err
}

func (s *Session) closeTTY() {
	if s.pts != nil {
		_ = s.pts.Close()
	}
	if s.ptm != nil {
		_ = s.ptm.Close()
		<-s.ttyDone
	}
}

// drainTTY keeps reading the debuggee's terminal so it never blocks on a
// full buffer; the tail is kept for diagnostics.
func (s *Session) drainTTY() {
	defer close(s.ttyDone)
	buf := make([]byte, 32<<10)
	for {
		n, err := s.ptm.Read(buf)
		if n > 0 {
			s.mu.Lock()
			s.tty.write(buf[:n])
			s.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// tailBuffer keeps the last tailSize bytes written to it.
type tailBuffer struct{ b []byte }

const tailSize = 64 << 10

func (t *tailBuffer) write(p []byte) {
	t.b = append(t.b, p...)
	if len(t.b) > tailSize {
		t.b = append(t.b[:0:0], t.b[len(t.b)-tailSize:]...)
	}
}

func (t *tailBuffer) bytes() []byte { return t.b }
