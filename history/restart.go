package history

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// A debugger can die under the timeline (killed, crashed) or stop answering
// (hung: the backend's deadline kills it). Replay is deterministic, so the
// timeline survives both: on the timeline's goroutine it closes the lost
// backend, opens a new one with Options.Reopen (the gdb backend re-records
// its window), goes back to the time it was at, checks that it landed on the
// same place, and runs the request that met the loss once more. Requests
// that arrive meanwhile wait in line like any other. Caches stay: the same
// recording has the same times. Failures in a row are bounded
// (Options.MaxFailures); then the timeline gives up and says so.
//
// Everyone who asked (Timeline.OnRestart) hears when a restart begins and
// how it ended.

// ErrBackendLost is what a backend's error wraps when its process is gone
// (the default Options.LostReason looks for it).
var ErrBackendLost = errors.New("the debugger is gone")

// Liveness is an optional Backend capability: Gone is closed when the
// backend's process has died, so that the timeline restarts it at once,
// not at the next request.
type Liveness interface {
	Gone() <-chan struct{}
}

// Restart reports one restart of the backend: once when it begins (Done
// false) and once when it is over.
type Restart struct {
	// Reason says what was lost: "gdb exited unexpectedly (signal: killed)".
	Reason string
	// Attempt counts the failures in a row, this one included.
	Attempt int
	// Done is false when the restart begins.
	Done bool
	// At is the time the timeline returned to (when Done and Err is nil).
	At Time
	// Position is where the new backend is (when Done and Err is nil).
	Position Position
	// Differs, when not empty, says how the new backend's place differs
	// from the old one's (a program that does not replay the same way); the
	// caches were dropped.
	Differs string
	// Shifted, when not empty, says that the same place has another time
	// in the new recording; the caches were dropped.
	Shifted string
	// Err says why the restart failed (when Done); a *GaveUpError when the
	// timeline stopped trying.
	Err error
	// Took is how long the restart took (when Done).
	Took time.Duration
}

// Message is the one line a user is told about r.
func (r Restart) Message() string {
	switch {
	case !r.Done:
		return fmt.Sprintf("%s; restarting it", r.Reason)
	case r.Err != nil:
		return fmt.Sprintf("%s; restarting it failed: %v", r.Reason, r.Err)
	case r.Differs != "":
		return fmt.Sprintf("%s; restarted it, but the replay differs: %s", r.Reason, r.Differs)
	}
	where := ""
	if r.Position.File != "" {
		where = fmt.Sprintf(" (%s:%d, %s)", r.Position.File, r.Position.Line, r.Position.Function)
	}
	if r.Shifted != "" {
		where += " (" + r.Shifted + ")"
	}
	return fmt.Sprintf("%s; restarted it and returned to time %s%s", r.Reason, r.At, where)
}

// RestartedError answers a request that met a lost backend twice (or whose
// backend came back elsewhere): the backend was restarted and time is At;
// asking again is safe.
type RestartedError struct {
	Reason string
	At     Time
}

func (e *RestartedError) Error() string {
	return fmt.Sprintf("%s; restarted it and returned to time %s — try again", e.Reason, e.At)
}

// GaveUpError means the backend was lost MaxFailures times in a row and the
// timeline stopped restarting it.
type GaveUpError struct {
	Failures int
	Last     string
}

func (e *GaveUpError) Error() string {
	return fmt.Sprintf("the debugger failed %d times in a row (last: %s); timelens stopped restarting it: restart the session, and run timelens doctor to see what works here", e.Failures, e.Last)
}

// OnRestart adds fn to those told about restarts. fn runs on the timeline's
// goroutine: it must return quickly and must not call the timeline.
func (t *Timeline) OnRestart(fn func(Restart)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.watchers = append(t.watchers, fn)
}

func (t *Timeline) tell(r Restart) {
	t.mu.Lock()
	ws := slices.Clone(t.watchers)
	t.mu.Unlock()
	for _, fn := range ws {
		fn(r)
	}
}

// lost returns why err means the backend is gone, or "".
func (t *Timeline) lost(err error) string {
	if err == nil || t.opts.Reopen == nil {
		return ""
	}
	if t.opts.LostReason != nil {
		return t.opts.LostReason(err)
	}
	if errors.Is(err, ErrBackendLost) {
		return err.Error()
	}
	return ""
}

func (t *Timeline) quitting() bool {
	select {
	case <-t.quit:
		return true
	default:
		return false
	}
}

// watch returns the current backend's Gone channel (nil: never ready).
func (t *Timeline) watch() <-chan struct{} {
	if l, ok := t.b.(Liveness); ok && !t.goneSeen {
		return l.Gone()
	}
	return nil
}

// runJob runs j and, when it met a lost backend, restarts the backend and
// runs j once more; it runs on the timeline's goroutine.
func (t *Timeline) runJob(j job) result {
	if t.gaveUp != nil {
		return result{err: t.gaveUp}
	}
	r := t.attempt(j)
	reason := t.lost(r.err)
	if reason == "" || t.quitting() {
		if reason == "" {
			t.streak = 0 // the backend answered
		}
		return r
	}
	differs, err := t.recover(reason)
	if err != nil {
		return result{err: err}
	}
	now, _ := t.Now()
	if differs != "" {
		return result{err: &RestartedError{Reason: reason, At: now}}
	}
	r = t.attempt(j)
	again := t.lost(r.err)
	if again == "" || t.quitting() {
		if again == "" {
			t.streak = 0
		}
		return r
	}
	if _, err := t.recover(again); err != nil {
		return result{err: err}
	}
	now, _ = t.Now()
	return result{err: &RestartedError{Reason: again, At: now}}
}

func (t *Timeline) attempt(j job) result {
	ctx, cancel := context.WithTimeout(t.life, j.limit)
	defer cancel()
	var r result
	r.err = safely(func() (err error) {
		r.v, err = j.fn(ctx)
		return err
	})
	return r
}

// gone handles the death of an idle backend: its next answer says why.
func (t *Timeline) gone() {
	t.goneSeen = true
	if t.gaveUp != nil {
		return
	}
	ctx, cancel := context.WithTimeout(t.life, t.opts.ReadTimeout)
	defer cancel()
	_, err := t.b.Now(ctx)
	reason := t.lost(err)
	if reason == "" || t.quitting() {
		return
	}
	if _, err := t.recover(reason); err != nil {
		return // told to the watchers; requests get t.gaveUp or try again
	}
}

// recover replaces the lost backend, trying again while the failures in a
// row stay under MaxFailures. It returns how the new place differs from the
// old one ("" when it is the same).
func (t *Timeline) recover(reason string) (differs string, err error) {
	for {
		t.streak++
		if t.streak >= t.opts.MaxFailures {
			t.gaveUp = &GaveUpError{Failures: t.streak, Last: reason}
			t.closeBackend()
			t.tell(Restart{Reason: reason, Attempt: t.streak, Done: true, Err: t.gaveUp})
			return "", t.gaveUp
		}
		differs, err = t.reopen(reason)
		if err == nil || t.quitting() {
			return differs, err
		}
		reason = fmt.Sprintf("%s, then restarting failed (%v)", reason, err)
	}
}

// closeBackend ends the current backend (Close must not hang: a hung
// debugger is killed).
func (t *Timeline) closeBackend() {
	_ = t.b.Close() // its error changes nothing: the backend is gone either way
}

// reopen makes one restart: close, open, return to the time.
func (t *Timeline) reopen(reason string) (string, error) {
	began := time.Now()
	at, _ := t.Now()
	t.tell(Restart{Reason: reason, Attempt: t.streak})
	done := func(r Restart) {
		r.Reason, r.Attempt, r.Done, r.Took = reason, t.streak, true, time.Since(began)
		t.tell(r)
	}
	t.closeBackend()
	nb, err := t.opts.Reopen(t.life)
	if err == nil && nb == nil {
		err = errors.New("Reopen returned no backend")
	}
	if err != nil {
		done(Restart{Err: err})
		return "", err
	}
	t.mu.Lock()
	if t.quitting() {
		t.mu.Unlock()
		_ = nb.Close()
		return "", ErrClosed
	}
	t.b = nb
	t.goneSeen = false
	t.mu.Unlock()

	ctx, cancel := context.WithTimeout(t.life, t.opts.MoveTimeout)
	defer cancel()
	differs, shifted, err := t.land(ctx, at)
	if err != nil {
		done(Restart{Err: err})
		return "", err
	}
	now, _ := t.Now()
	r := Restart{At: now, Differs: differs, Shifted: shifted}
	if s, ok := t.cached(now); ok {
		r.Position = positionOf(s)
	}
	done(r)
	return differs, nil
}

// land takes the new backend to at and checks it is the same place: the
// same time and, when the old snapshot is cached, the same file, line,
// function, depth and locals. A re-recording may number its instructions a
// little differently (gdb's recording is interrupted at moments that depend
// on the machine's load); then the same place is looked for a line event or
// two away, and found there under another time. Where the times changed,
// the caches are dropped.
func (t *Timeline) land(ctx context.Context, at Time) (differs, shifted string, err error) {
	if at != "" {
		if err := t.b.Goto(ctx, at); err != nil {
			if t.lost(err) != "" {
				return "", "", err
			}
			differs = fmt.Sprintf("time %s is not in the new recording (%v)", at, err)
		}
	}
	if err := t.settle(ctx); err != nil {
		return "", "", err
	}
	now, err := t.b.Now(ctx)
	if err != nil {
		return "", "", err
	}
	s, err := t.b.State(ctx)
	if err != nil {
		return "", "", err
	}
	s.Time = now
	old, known := t.cached(at)
	if known && differs == "" && !samePlace(positionOf(old), positionOf(s)) {
		o, n := positionOf(old), positionOf(s)
		differs = fmt.Sprintf("time %s was %s:%d in %s and is now %s:%d in %s", at, o.File, o.Line, o.Function, n.File, n.Line, n.Function)
	}
	if differs != "" && known {
		ns, err := t.resync(ctx, now, positionOf(old))
		if err != nil && t.lost(err) != "" {
			return "", "", err
		}
		if ns != nil {
			shifted = fmt.Sprintf("time %s of the old recording is %s in the new one", at, ns.Time)
			differs, now, s = "", ns.Time, ns
		}
	}
	if differs == "" && shifted == "" && at != "" && now != at {
		shifted = fmt.Sprintf("time %s of the old recording is %s in the new one", at, now)
	}
	t.mu.Lock()
	if differs != "" || now != at {
		t.snaps = newLRU[Time, *Snapshot](t.opts.CacheSize)
		t.calls = newLRU[string, *callHistory](64)
		t.walks = newLRU[walkKey, []*callHistory](64)
		t.before = map[walkKey]*EdgeError{}
		t.lines = newLRU[linesKey, linesResult](256)
		t.gen++ // answers read before now mix two replays
		// The line index has the old recording's times.
		t.index = nil
		t.epoch++
		t.last = ""
	}
	t.now = now
	t.snaps.put(now, s)
	t.mu.Unlock()
	return differs, shifted, nil
}

// settle puts the new backend on the start of the line event it is in:
// one step forward and one back. A re-recording whose instruction numbers
// shifted lands a few instructions into the event (or before it), and a
// move from there would not be the move the old backend made. At the end
// of the window it steps back and forward instead.
func (t *Timeline) settle(ctx context.Context) error {
	first, second := Step, ReverseStep
	for range 2 {
		err := t.b.Move(ctx, first)
		if err == nil {
			err = t.b.Move(ctx, second)
			if t.lost(err) != "" {
				return err
			}
			return nil // a refused move leaves time as it was
		}
		if t.lost(err) != "" {
			return err
		}
		first, second = second, first
	}
	return nil
}

// resync looks for want a line event or two around from, where the new
// backend landed; it leaves the backend at what it returns (or at from,
// when nil).
func (t *Timeline) resync(ctx context.Context, from Time, want Position) (*Snapshot, error) {
	for _, m := range []Move{Step, ReverseStep} {
		for n := 1; n <= 2; n++ {
			if err := t.b.Goto(ctx, from); err != nil {
				return nil, err
			}
			ok := true
			for range n {
				if err := t.b.Move(ctx, m); err != nil {
					if t.lost(err) != "" {
						return nil, err
					}
					ok = false
					break
				}
			}
			if !ok {
				break
			}
			s, err := t.b.State(ctx)
			if err != nil {
				return nil, err
			}
			if s.Time, err = t.b.Now(ctx); err != nil {
				return nil, err
			}
			if samePlace(positionOf(s), want) {
				return s, nil
			}
		}
	}
	return nil, t.b.Goto(ctx, from)
}

// samePlace reports whether two positions show the same Python state.
func samePlace(a, b Position) bool {
	return a.File == b.File && a.Line == b.Line && a.Function == b.Function && a.Depth == b.Depth &&
		fmt.Sprint(a.Locals) == fmt.Sprint(b.Locals)
}
