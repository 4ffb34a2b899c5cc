package history_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/timelens/timelens/history"
	"github.com/timelens/timelens/history/historytest"
)

// These tests lose the timeline's backend the ways a debugger goes: killed
// (every later command fails), hung (a command never answers until its
// deadline kills it), dead while idle, unable to start again. Each
// "debugger process" is a replay of the same settrace trace, so a reopened
// one replays the same run, as gdb re-recording a deterministic program does.

// replay is one debugger process over a trace.
type replay struct {
	*historytest.Trace
	mu     sync.Mutex
	dead   string // why it died; "" while alive
	hang   bool
	gone   chan struct{}
	closed bool
}

func (r *replay) kill(why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dead == "" {
		r.dead = why
		close(r.gone)
	}
}

// check answers for the process: dead, hung until the deadline (then
// killed, as gdbmi kills a debugger that does not answer), or alive.
func (r *replay) check(ctx context.Context) error {
	r.mu.Lock()
	hang, dead := r.hang, r.dead
	r.mu.Unlock()
	if dead != "" {
		return fmt.Errorf("%w (%s)", history.ErrBackendLost, dead)
	}
	if hang {
		<-ctx.Done()
		r.kill("hung")
		return fmt.Errorf("%w: no answer in time (hung)", history.ErrBackendLost)
	}
	return nil
}

func (r *replay) Gone() <-chan struct{} { return r.gone }

func (r *replay) Now(ctx context.Context) (history.Time, error) {
	if err := r.check(ctx); err != nil {
		return "", err
	}
	return r.Trace.Now(ctx)
}

func (r *replay) State(ctx context.Context) (*history.Snapshot, error) {
	if err := r.check(ctx); err != nil {
		return nil, err
	}
	return r.Trace.State(ctx)
}

func (r *replay) Move(ctx context.Context, m history.Move) error {
	if err := r.check(ctx); err != nil {
		return err
	}
	return r.Trace.Move(ctx, m)
}

func (r *replay) GotoEntry(ctx context.Context, depth int) error {
	if err := r.check(ctx); err != nil {
		return err
	}
	return r.Trace.GotoEntry(ctx, depth)
}

func (r *replay) Call(ctx context.Context, fn string, forward bool) error {
	if err := r.check(ctx); err != nil {
		return err
	}
	return r.Trace.Call(ctx, fn, forward)
}

func (r *replay) Goto(ctx context.Context, t history.Time) error {
	if err := r.check(ctx); err != nil {
		return err
	}
	return r.Trace.Goto(ctx, t)
}

func (r *replay) Eval(ctx context.Context, depth int, expr string) (string, error) {
	if err := r.check(ctx); err != nil {
		return "", err
	}
	return r.Trace.Eval(ctx, depth, expr)
}

func (r *replay) LastWrite(ctx context.Context, depth int, expr string) (history.Write, error) {
	if err := r.check(ctx); err != nil {
		return history.Write{}, err
	}
	return r.Trace.LastWrite(ctx, depth, expr)
}

func (r *replay) NextWrite(ctx context.Context, depth int, expr string) (history.Write, error) {
	if err := r.check(ctx); err != nil {
		return history.Write{}, err
	}
	return r.Trace.NextWrite(ctx, depth, expr)
}

func (r *replay) Close() error {
	r.kill("closed")
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	return nil
}

// lab starts replays of one trace and keeps every one it started.
type lab struct {
	events []historytest.Event
	mu     sync.Mutex
	opened []*replay
	// failOpens makes that many next opens fail.
	failOpens int
	// gate, when set, holds every open until it is closed.
	gate chan struct{}
	// next, when set, is the trace the next open replays.
	next *historytest.Trace
}

func (l *lab) open(ctx context.Context) (history.Backend, error) {
	l.mu.Lock()
	gate := l.gate
	if l.failOpens > 0 {
		l.failOpens--
		l.mu.Unlock()
		return nil, errors.New("could not start the debugger")
	}
	l.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	tr := &historytest.Trace{Events: l.events}
	if l.next != nil {
		tr, l.next = l.next, nil
	}
	r := &replay{Trace: tr, gone: make(chan struct{})}
	l.opened = append(l.opened, r)
	return r, nil
}

func (l *lab) current() *replay {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.opened[len(l.opened)-1]
}

func (l *lab) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.opened)
}

// restartSession is a timeline over a lab, with every restart event sent
// to the returned channel.
func restartSession(t *testing.T, opts history.Options) (*history.Timeline, *lab, chan history.Restart) {
	t.Helper()
	tr, err := historytest.Record(python(t), program("loop.py"), "main")
	if err != nil {
		t.Fatal(err)
	}
	l := &lab{events: tr.Events}
	b, err := l.open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	opts.Reopen = l.open
	tl, err := history.New(context.Background(), b, opts)
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan history.Restart, 64)
	tl.OnRestart(func(r history.Restart) { events <- r })
	t.Cleanup(func() { _ = tl.Close() })
	return tl, l, events
}

// steps moves n steps and returns the position reached.
func steps(t *testing.T, tl *history.Timeline, n int) history.Position {
	t.Helper()
	var p history.Position
	var err error
	for range n {
		if p, err = tl.Move(ctx(t), history.Step); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// restarted waits for the end of a restart and checks it began first.
func restarted(t *testing.T, events chan history.Restart) history.Restart {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case r := <-events:
			if r.Done {
				return r
			}
			if r.Reason == "" || !strings.Contains(r.Message(), "restarting it") {
				t.Errorf("restart began without a reason: %+v", r)
			}
		case <-timeout:
			t.Fatal("no restart was reported")
		}
	}
}

func samePlace(t *testing.T, got, want history.Position) {
	t.Helper()
	if got.Time != want.Time || got.File != want.File || got.Line != want.Line || got.Function != want.Function || fmt.Sprint(got.Locals) != fmt.Sprint(want.Locals) {
		t.Fatalf("at %+v, want %+v", got, want)
	}
}

func someLocal(t *testing.T, p history.Position) string {
	t.Helper()
	for name := range p.Locals {
		return name
	}
	t.Fatalf("no locals at %+v", p)
	return ""
}

func TestKilledBackendIsReopenedAndTheMoveCompletes(t *testing.T) {
	tl, l, events := restartSession(t, history.Options{})
	// The reference: the same moves on a backend nobody kills.
	ref, _ := timeline(t, "loop.py", "main")
	steps(t, ref, 7)
	want := steps(t, ref, 1)

	before := steps(t, tl, 7)
	l.current().mu.Lock()
	l.current().dead = "signal: killed" // killed under the timeline, not yet noticed
	l.current().mu.Unlock()
	got, err := tl.Move(ctx(t), history.Step)
	if err != nil {
		t.Fatalf("the step that met the dead backend: %v", err)
	}
	samePlace(t, got, want)
	r := restarted(t, events)
	if r.Err != nil || r.At != before.Time || r.Position.Line != before.Line || r.Differs != "" {
		t.Fatalf("restart: %+v, want back at %s line %d", r, before.Time, before.Line)
	}
	if !strings.Contains(r.Message(), "signal: killed") || !strings.Contains(r.Message(), "returned to time "+string(before.Time)) {
		t.Fatalf("the user is told: %q", r.Message())
	}
	if l.count() != 2 || !l.opened[0].closed {
		t.Fatalf("%d backends opened, first closed: %v", l.count(), l.opened[0].closed)
	}
	// Later requests use the new backend; history reads go on.
	if _, err := tl.Lines(ctx(t), 0); err != nil {
		t.Fatal(err)
	}
}

func TestBackendDyingWhileIdleIsRestartedAtOnce(t *testing.T) {
	tl, l, events := restartSession(t, history.Options{})
	before := steps(t, tl, 5)
	l.current().kill("signal: killed")
	r := restarted(t, events)
	if r.Err != nil || r.At != before.Time {
		t.Fatalf("restart: %+v", r)
	}
	// The new backend is at the same time: ask it, not the cache.
	if now, err := l.current().Now(ctx(t)); err != nil || now != before.Time {
		t.Fatalf("the new backend is at %s (%v), want %s", now, err, before.Time)
	}
	got, err := tl.Where(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	samePlace(t, got, before)
}

func TestHungBackendTimesOutAndIsReopened(t *testing.T) {
	tl, l, events := restartSession(t, history.Options{ReadTimeout: 200 * time.Millisecond})
	before := steps(t, tl, 4)
	name := someLocal(t, before)
	want, err := tl.Eval(ctx(t), 0, name)
	if err != nil {
		t.Fatal(err)
	}
	hung := l.current()
	hung.mu.Lock()
	hung.hang = true
	hung.mu.Unlock()
	got, err := tl.Eval(ctx(t), 0, name)
	if err != nil || got != want {
		t.Fatalf("eval after the hang: %q, %v; want %q", got, err, want)
	}
	r := restarted(t, events)
	if r.Err != nil || r.At != before.Time || !strings.Contains(r.Reason, "hung") {
		t.Fatalf("restart: %+v", r)
	}
	if !hung.closed || l.count() != 2 {
		t.Fatalf("the hung backend was not replaced: closed %v, %d opened", hung.closed, l.count())
	}
}

func TestGivesUpAfterThreeFailuresInARow(t *testing.T) {
	tl, l, events := restartSession(t, history.Options{})
	steps(t, tl, 3)
	l.mu.Lock()
	l.failOpens = 100
	l.mu.Unlock()
	l.current().mu.Lock()
	l.current().dead = "signal: killed"
	l.current().mu.Unlock()
	_, err := tl.Move(ctx(t), history.Step)
	var gave *history.GaveUpError
	if !errors.As(err, &gave) || gave.Failures != 3 {
		t.Fatalf("got %v, want a GaveUpError after 3 failures", err)
	}
	for _, want := range []string{"3 times in a row", "could not start the debugger", "restart the session", "timelens doctor"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
	// One loss, two failed opens: two restarts began, and the last report
	// says the timeline gave up.
	var last history.Restart
	for len(events) > 0 {
		last = <-events
	}
	if !last.Done || !errors.As(last.Err, &gave) {
		t.Fatalf("last report: %+v", last)
	}
	// It does not try again: later requests get the same answer at once.
	l.mu.Lock()
	left := l.failOpens
	l.mu.Unlock()
	if _, err := tl.Eval(ctx(t), 0, "total"); !errors.As(err, &gave) {
		t.Fatalf("after giving up: %v", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failOpens != left || left != 98 {
		t.Fatalf("%d opens tried in all, want 2", 100-l.failOpens)
	}
}

func TestRequestsDuringARestartWaitForIt(t *testing.T) {
	tl, l, events := restartSession(t, history.Options{})
	before := steps(t, tl, 6)
	ref, _ := timeline(t, "loop.py", "main")
	steps(t, ref, 6)
	names := []string{"total", "acct", "i"}
	want := map[string]string{}
	for _, n := range names {
		want[n], _ = ref.Eval(ctx(t), 0, n)
	}

	gate := make(chan struct{})
	l.mu.Lock()
	l.gate = gate
	l.mu.Unlock()
	l.current().kill("signal: killed")
	// The restart has begun and waits on the gate.
	if r := <-events; r.Done {
		t.Fatalf("restart over before the gate opened: %+v", r)
	}
	var wg sync.WaitGroup
	got := make([]string, len(names))
	errs := make([]error, len(names))
	for k, n := range names {
		wg.Add(1)
		go func() { defer wg.Done(); got[k], errs[k] = tl.Eval(ctx(t), 0, n) }()
	}
	// A cached read does not wait.
	if p, err := tl.Where(ctx(t)); err != nil || p.Time != before.Time {
		t.Fatalf("where during the restart: %+v, %v", p, err)
	}
	close(gate)
	wg.Wait()
	for k, n := range names {
		if errs[k] != nil || got[k] != want[n] {
			t.Errorf("%s: %q, %v; want %q", n, got[k], errs[k], want[n])
		}
	}
	if r := restarted(t, events); r.Err != nil || r.At != before.Time {
		t.Fatalf("restart: %+v", r)
	}
}

func TestReplayThatDiffersIsSaidAndCachesDropped(t *testing.T) {
	tl, l, events := restartSession(t, history.Options{})
	before := steps(t, tl, 10)
	_, gen := tl.Now()
	other, err := historytest.Record(python(t), program("loop.py"), "fib")
	if err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	l.next = other
	l.mu.Unlock()
	l.current().kill("signal: killed")
	r := restarted(t, events)
	if r.Err != nil || r.Differs == "" || !strings.Contains(r.Message(), "the replay differs") {
		t.Fatalf("restart: %+v", r)
	}
	if _, g := tl.Now(); g == gen {
		t.Fatal("the generation did not change: readers would keep answers of the old replay")
	}
	got, err := tl.Where(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if got.Function == before.Function && got.Line == before.Line {
		t.Fatalf("where answers from the old replay's cache: %+v", got)
	}
}

func TestReRecordingThatShiftsTimesFindsTheSamePlace(t *testing.T) {
	tl, l, events := restartSession(t, history.Options{})
	before := steps(t, tl, 10)
	// The new recording has one more event at its start: every place has
	// the next time, as when gdb's log gains an entry.
	shifted := &historytest.Trace{Events: append([]historytest.Event{l.events[0]}, l.events...)}
	l.mu.Lock()
	l.next = shifted
	l.mu.Unlock()
	l.current().kill("signal: killed")
	r := restarted(t, events)
	if r.Err != nil || r.Differs != "" || r.At != "t11" || !strings.Contains(r.Message(), "time t10 of the old recording is t11 in the new one") {
		t.Fatalf("restart: %+v (%s)", r, r.Message())
	}
	got, err := tl.Where(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	before.Time = "t11"
	samePlace(t, got, before)
	// The next step is the old recording's next step.
	ref, _ := timeline(t, "loop.py", "main")
	steps(t, ref, 10)
	want := steps(t, ref, 1)
	next := steps(t, tl, 1)
	if next.Line != want.Line || next.Function != want.Function {
		t.Fatalf("step after the restart: %+v, want %+v", next, want)
	}
}

func TestRestartsLeaveNoGoroutines(t *testing.T) {
	tr, err := historytest.Record(python(t), program("loop.py"), "main")
	if err != nil {
		t.Fatal(err)
	}
	base := runtime.NumGoroutine()
	l := &lab{events: tr.Events}
	b, _ := l.open(context.Background())
	tl, err := history.New(context.Background(), b, history.Options{Reopen: l.open, ReadTimeout: 500 * time.Millisecond, MoveTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		steps(t, tl, 2)
		if i%2 == 0 {
			l.current().kill("signal: killed")
		} else {
			l.current().mu.Lock()
			l.current().hang = true
			l.current().mu.Unlock()
		}
		if _, err := tl.Lines(ctx(t), 0); err != nil {
			t.Fatal(err)
		}
	}
	if l.count() != 6 {
		t.Fatalf("%d backends opened, want 6", l.count())
	}
	if err := tl.Close(); err != nil {
		t.Fatal(err)
	}
	for _, r := range l.opened {
		if !r.closed {
			t.Fatal("a backend was left open")
		}
	}
	// Goroutines end asynchronously after Close returns: wait for them.
	for deadline := time.Now().Add(10 * time.Second); runtime.NumGoroutine() > base && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines after Close, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}

func TestCloseDuringARestartEndsIt(t *testing.T) {
	tl, l, events := restartSession(t, history.Options{})
	steps(t, tl, 2)
	l.mu.Lock()
	l.gate = make(chan struct{}) // never opened: the restart waits until Close
	l.mu.Unlock()
	l.current().kill("signal: killed")
	if r := <-events; r.Done {
		t.Fatalf("restart over before the gate opened: %+v", r)
	}
	closed := make(chan error, 1)
	go func() { closed <- tl.Close() }()
	select {
	case <-closed:
	case <-time.After(time.Minute):
		t.Fatal("Close waited for the restart")
	}
	if _, err := tl.Eval(ctx(t), 0, "self"); !errors.Is(err, history.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	if l.count() != 1 || !l.opened[0].closed {
		t.Fatalf("%d backends opened; the first closed: %v", l.count(), l.opened[0].closed)
	}
}
