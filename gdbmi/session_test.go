package gdbmi_test

import (
	"context"
	"errors"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/gdbmi/gdbtest"
)

// These tests run a real gdb. They read like sessions: start gdb, send what
// an engine would send, check what comes back, and check that nothing is
// left running.

// start starts gdb for the test (gdbtest.Start), $TIMELENS_GDB unless cfg
// names one.
func start(t *testing.T, cfg gdbmi.Config) *gdbtest.Session { return gdbtest.Start(t, cfg) }

// checkNoLeaks fails if goroutines started during the test are still there.
func checkNoLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<20)
			t.Errorf("%d goroutines leaked:\n%s", n-before, buf[:runtime.Stack(buf, true)])
		}
	})
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestSessionConsoleAndSettings(t *testing.T) {
	checkNoLeaks(t)
	s := start(t, gdbmi.Config{})
	out, err := s.Console(ctxT(t, 10*time.Second), "show version")
	if err != nil || !strings.Contains(out, "GNU gdb") {
		t.Fatalf("show version: %q, %v", out, err)
	}
	res, err := s.MI(ctxT(t, 10*time.Second), "-gdb-show", "may-call-functions")
	if err != nil || res.Payload["value"] != "off" {
		t.Fatalf("may-call-functions = %v (%v); every session must refuse inferior calls", res.Payload, err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := s.MI(ctxT(t, time.Second), "-gdb-version"); !errors.Is(err, gdbmi.ErrExited) {
		t.Fatalf("command after Close: %v, want ErrExited", err)
	}
}

func TestSessionKeepsGDBErrorMessage(t *testing.T) {
	s := start(t, gdbmi.Config{})
	_, err := s.Console(ctxT(t, 10*time.Second), "frobnicate now")
	var ce *gdbmi.CommandError
	if !errors.As(err, &ce) || !strings.Contains(ce.Msg, `Undefined command: "frobnicate"`) || ce.Op != "frobnicate now" {
		t.Fatalf("got %#v, want gdb's own message", err)
	}
	// The session is still usable.
	if _, err := s.Console(ctxT(t, 10*time.Second), "show version"); err != nil {
		t.Fatal(err)
	}
}

func TestSessionGDBKilledMidCommand(t *testing.T) {
	checkNoLeaks(t)
	s := start(t, gdbmi.Config{})
	go func() {
		time.Sleep(300 * time.Millisecond)
		s.Kill()
	}()
	begin := time.Now()
	_, err := s.Console(ctxT(t, 20*time.Second), "python import time; time.sleep(30)")
	if !errors.Is(err, gdbmi.ErrExited) {
		t.Fatalf("got %v, want ErrExited", err)
	}
	// How gdb ended is a field, not something to read back from the text.
	var xe *gdbmi.ExitError
	if !errors.As(err, &xe) || xe.Status != "signal: killed" || xe.Op != "-interpreter-exec" {
		t.Fatalf("got %#v, want an gdbmi.ExitError of -interpreter-exec with status signal: killed", err)
	}
	t.Logf("named error %q after %s", err, time.Since(begin).Round(time.Millisecond))
	if time.Since(begin) > 10*time.Second {
		t.Fatalf("the error took %s", time.Since(begin))
	}
	if _, err := s.MI(ctxT(t, 5*time.Second), "-gdb-version"); !errors.Is(err, gdbmi.ErrExited) {
		t.Fatalf("next command: %v, want ErrExited", err)
	}
	if s.Alive() {
		t.Fatal("session reports alive after gdb was killed")
	}
	_ = s.Close()
}

func TestSessionHangBecomesTimeout(t *testing.T) {
	checkNoLeaks(t)
	s := start(t, gdbmi.Config{})
	begin := time.Now()
	_, err := s.Console(ctxT(t, 700*time.Millisecond), "python import time; time.sleep(60)")
	var te *gdbmi.TimeoutError
	if !errors.As(err, &te) || !errors.Is(err, gdbmi.ErrExited) {
		t.Fatalf("got %v, want a TimeoutError", err)
	}
	if time.Since(begin) > 8*time.Second {
		t.Fatalf("timeout took %s", time.Since(begin))
	}
	_ = s.Close()
}

func TestSessionMegabyteReplies(t *testing.T) {
	s := start(t, gdbmi.Config{})
	ctx := ctxT(t, 60*time.Second)
	out, err := s.Console(ctx, `python print("x" * 1000000)`)
	if err != nil || len(out) != 1000001 || strings.Trim(out, "x\n") != "" {
		t.Fatalf("1 MB console reply: %d bytes, %v", len(out), err)
	}
	// A 1 MB MI result record: the relay spools it past the library.
	// (gdb.MICommand needs gdb 13 or later.)
	_, err = s.Console(ctx, `python exec("class Big(gdb.MICommand):\n def __init__(self): super().__init__('-big')\n def invoke(self, argv): return {'v': 'é\\x22\\x5c' * 200000, 'list': [str(i) for i in range(20000)]}\nBig()")`)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.MI(ctx, "-big")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := res.Payload["v"].(string); v != strings.Repeat("é\"\\", 200000) {
		t.Fatalf("1 MB result came back as %d bytes", len(v))
	}
	if l, _ := res.Payload["list"].([]any); len(l) != 20000 || l[19999] != "19999" {
		t.Fatalf("list of %d", len(l))
	}
}

func TestSessionNonMITextAndEscapes(t *testing.T) {
	s := start(t, gdbmi.Config{})
	ctx := ctxT(t, 20*time.Second)
	// Raw text on gdb's stdout, not MI at all, with brackets and a quote
	// that would break a naive parser, and a 100 KB line.
	if _, err := s.Console(ctx, `python import os; os.write(1, b'z' * 100000 + b'\n{[ "not mi\n^done,"x\n')`); err != nil {
		t.Fatal(err)
	}
	if out := s.TTYOutput(); !strings.Contains(out, `{[ "not mi`) {
		t.Fatalf("non-MI text lost: %q", out[:min(len(out), 200)])
	}
	out, err := s.Console(ctx, `python print("é ✓ 🐍 \x1b[31m tab\there")`)
	if err != nil || out != "é ✓ 🐍 \x1b[31m tab\there\n" {
		t.Fatalf("escapes: %q %v", out, err)
	}
}

func TestSessionDebuggeeFloodsTerminal(t *testing.T) {
	yes, err := exec.LookPath("yes")
	if err != nil {
		t.Skip("no yes(1)")
	}
	s := start(t, gdbmi.Config{Program: yes, Args: []string{strings.Repeat("flood", 100)}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = s.Exec(ctx, "-exec-run")
	var ie *gdbmi.InterruptedError
	if !errors.As(err, &ie) {
		t.Fatalf("got %v, want the run interrupted at its deadline", err)
	}
	if !strings.Contains(s.TTYOutput(), "floodflood") {
		t.Fatal("the debuggee's terminal was not drained")
	}
	// Still usable, and the debuggee keeps running (and printing) without
	// blocking anything.
	if _, err := s.Console(ctxT(t, 10*time.Second), "info inferiors"); err != nil {
		t.Fatal(err)
	}
}

func TestSessionGDBNotFound(t *testing.T) {
	_, err := gdbmi.Start(ctxT(t, 5*time.Second), gdbmi.Config{GDB: "/nonexistent/gdb"})
	var nf *gdbmi.NotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "timelens doctor") {
		t.Fatalf("got %v", err)
	}
}

func TestSessionRefusesInferiorCalls(t *testing.T) {
	py := gdbtest.AnyPython(t)
	s := start(t, gdbmi.Config{Program: py, Args: []string{"-c", "pass"}})
	ctx := ctxT(t, 60*time.Second)
	if _, err := s.MI(ctx, "-break-insert", "main"); err != nil {
		t.Fatal(err)
	}
	if ev, err := s.Exec(ctx, "-exec-run"); err != nil || ev.Reason != "breakpoint-hit" {
		t.Fatalf("run: %+v %v", ev, err)
	}
	_, err := s.Console(ctx, "print (int) getpid()")
	var ce *gdbmi.CommandError
	if !errors.As(err, &ce) || !strings.Contains(ce.Msg, "may-call-functions") {
		t.Fatalf("inferior call: %v; want it refused", err)
	}
}
