package history

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Timeline owns one Backend. A single goroutine (run) talks to the backend;
// every public method hands it a job and waits for the answer or for its own
// context, whichever comes first. A caller that gives up does not stop the
// job: the backend's commands are bounded by the timeline's own deadlines,
// because interrupting a debugger in the middle of a command costs the whole
// session.
//
// Every move bumps the generation; snapshots carry the time they were read
// at, so a reader can tell a stale one.
//
// When the backend is lost (restart.go), the same goroutine replaces it and
// returns to the current time before it takes the next job.
type Timeline struct {
	b    Backend // written by run under mu; read by run freely
	opts Options
	jobs chan job
	quit chan struct{}
	done chan struct{}
	// life ends when the timeline closes; jobs and restarts run under it.
	life     context.Context
	endLife  context.CancelFunc
	streak   int   // backend losses since the last job it answered (run only)
	gaveUp   error // set when restarts stopped (run only)
	goneSeen bool  // the current backend's Gone was handled (run only)

	mu    sync.Mutex
	now   Time
	gen   uint64
	snaps *lru[Time, *Snapshot]
	calls *lru[string, *callHistory]
	walks *lru[walkKey, []*callHistory]
	lines *lru[linesKey, linesResult]
	// before holds the module frames whose call began before the window.
	before map[walkKey]*EdgeError
	// first is the time the timeline began at: the window's first line
	// event; last is the window's last, once found (window.go).
	first, last Time
	// epoch counts the recordings the timeline has had: a restart whose
	// new recording has other times begins a new one.
	epoch int

	watchers []func(Restart)

	// The line index (index.go): nil until built.
	index         *Index
	walker        WindowWalker // while it builds the index
	indexing      sync.WaitGroup
	indexWatchers []func(IndexProgress)
	indexLast     IndexProgress
	indexSeen     bool
}

// linesResult is a cached answer of Lines: a history, or the edge of
// history its call began before.
type linesResult struct {
	lh  *LineHistory
	err error
}

// linesKey names the line history of the frame at depth at one time point.
type linesKey struct {
	at    Time
	depth int
	// call is the function of a LatestCall (depth -1).
	call string
}

// Options tunes a Timeline.
type Options struct {
	// MoveTimeout bounds one move in the backend (default 5 minutes).
	MoveTimeout time.Duration
	// ReadTimeout bounds one state read (default 30 s).
	ReadTimeout time.Duration
	// CacheSize is how many snapshots are kept (default 256).
	CacheSize int
	// Reopen, when set, starts a new backend over the same recording (the
	// gdb backend records its window again): the timeline calls it when the
	// backend is lost, then returns to the time it was at. Without it a lost
	// backend's error is the answer.
	Reopen func(ctx context.Context) (Backend, error)
	// LostReason says why err means the backend is gone ("gdb exited
	// unexpectedly (signal: killed)"), or returns "" when the backend is
	// still usable. Default: the message of an error wrapping
	// ErrBackendLost.
	LostReason func(err error) string
	// MaxFailures is how many losses in a row (a request that still fails
	// after a restart, a restart that fails) make the timeline give up
	// (default 3).
	MaxFailures int
}

type job struct {
	fn    func(ctx context.Context) (any, error)
	limit time.Duration
	reply chan result
}

type result struct {
	v   any
	err error
}

// ErrClosed means the timeline was closed.
var ErrClosed = errors.New("the recording session has ended")

// New starts a timeline over b at b's current time.
func New(ctx context.Context, b Backend, opts Options) (*Timeline, error) {
	if opts.MoveTimeout == 0 {
		opts.MoveTimeout = 5 * time.Minute
	}
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = 30 * time.Second
	}
	if opts.CacheSize == 0 {
		opts.CacheSize = 256
	}
	if opts.MaxFailures == 0 {
		opts.MaxFailures = 3
	}
	life, endLife := context.WithCancel(context.Background())
	t := &Timeline{
		life:    life,
		endLife: endLife,
		b:       b,
		opts:    opts,
		jobs:    make(chan job),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
		snaps:   newLRU[Time, *Snapshot](opts.CacheSize),
		calls:   newLRU[string, *callHistory](64),
		walks:   newLRU[walkKey, []*callHistory](64),
		before:  map[walkKey]*EdgeError{},
		lines:   newLRU[linesKey, linesResult](256),
	}
	go t.run()
	_, err := call(t, ctx, opts.ReadTimeout, func(ctx context.Context) (Time, error) {
		now, err := t.b.Now(ctx)
		if err == nil {
			t.setNow(now)
			t.mu.Lock()
			t.first = now
			t.mu.Unlock()
		}
		return now, err
	})
	if err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

func (t *Timeline) run() {
	defer close(t.done)
	for {
		select {
		case <-t.quit:
			return
		case <-t.watch():
			if !t.quitting() {
				t.gone()
			}
		case j := <-t.jobs:
			j.reply <- t.runJob(j)
		}
	}
}

// safely turns a panic in a job into an error, so one bad reply cannot take
// the server down.
func safely(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	return fn()
}

// call runs fn on the backend goroutine and waits for its result or for
// ctx. The result travels through the job's reply channel, so a caller that
// gave up never shares a variable with the job still running.
func call[T any](t *Timeline, ctx context.Context, limit time.Duration, fn func(ctx context.Context) (T, error)) (T, error) {
	var zero T
	j := job{
		fn:    func(ctx context.Context) (any, error) { return fn(ctx) },
		limit: limit,
		reply: make(chan result, 1),
	}
	select {
	case t.jobs <- j:
	case <-ctx.Done():
		return zero, ctx.Err()
	case <-t.done:
		return zero, ErrClosed
	}
	select {
	case r := <-j.reply:
		v, _ := r.v.(T)
		return v, r.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

func (t *Timeline) setNow(now Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if now != t.now {
		t.gen++
	}
	t.now = now
}

// Now returns the current time and its generation, without asking the
// backend.
func (t *Timeline) Now() (Time, uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.now, t.gen
}

// Snapshot returns the state at the current time (cached per time point).
func (t *Timeline) Snapshot(ctx context.Context) (*Snapshot, error) {
	now, _ := t.Now()
	if s, ok := t.cached(now); ok {
		return s, nil
	}
	return call(t, ctx, t.opts.ReadTimeout, t.state)
}

func (t *Timeline) cached(now Time) (*Snapshot, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.snaps.get(now)
}

// state reads (or recalls) the snapshot at the backend's current time; it
// runs on the backend goroutine.
func (t *Timeline) state(ctx context.Context) (*Snapshot, error) {
	now, _ := t.Now()
	if s, ok := t.cached(now); ok {
		return s, nil
	}
	s, err := t.b.State(ctx)
	if err != nil {
		return nil, err
	}
	s.Time = now
	t.mu.Lock()
	t.snaps.put(now, s)
	t.mu.Unlock()
	return s, nil
}

// Where returns the current position.
func (t *Timeline) Where(ctx context.Context) (Position, error) {
	s, err := t.Snapshot(ctx)
	if err != nil {
		return Position{}, err
	}
	return positionOf(s), nil
}

func positionOf(s *Snapshot) Position {
	p := Position{Time: s.Time, Thread: s.Thread, Locals: map[string]string{}}
	if f := s.Top(); f != nil {
		p.File, p.Line, p.Function, p.Depth = f.File, f.Line, f.Function, len(s.Frames)-1
		for _, v := range f.Locals {
			p.Locals[v.Name] = v.Value
		}
	}
	return p
}

// move runs a backend move, keeps time unchanged when the backend refuses,
// and returns the new position.
//
// When the backend is lost after the move was made (reading the new state),
// the timeline restarts at the new time and runs the job again: the job
// then only reads the state, so that the move is not made twice.
func (t *Timeline) move(ctx context.Context, name string, fn func(ctx context.Context) error) (Position, error) {
	moved := false // only the timeline's goroutine runs the job
	return call(t, ctx, t.opts.MoveTimeout, func(ctx context.Context) (Position, error) {
		if moved {
			s, err := t.state(ctx)
			if err != nil {
				return Position{}, err
			}
			return positionOf(s), nil
		}
		before, _ := t.Now()
		moveErr := fn(ctx)
		after, err := t.b.Now(ctx)
		if err != nil {
			if moveErr != nil {
				return Position{}, moveErr // the first failure says why
			}
			return Position{}, err
		}
		if moveErr != nil {
			if after != before {
				// A refused move must not change time.
				if err := t.b.Goto(ctx, before); err != nil {
					return Position{}, fmt.Errorf("%s failed (%v) and time could not be restored: %w", name, moveErr, err)
				}
			}
			return Position{}, moveErr
		}
		t.setNow(after)
		moved = true
		s, err := t.state(ctx)
		if err != nil {
			return Position{}, err
		}
		return positionOf(s), nil
	})
}

// Move makes a line-level move.
func (t *Timeline) Move(ctx context.Context, m Move) (Position, error) {
	return t.move(ctx, string(m), func(ctx context.Context) error { return t.b.Move(ctx, m) })
}

// GotoEntry moves to the first line event of the current call of the frame
// at depth (0: innermost).
func (t *Timeline) GotoEntry(ctx context.Context, depth int) (Position, error) {
	return t.move(ctx, "gotoEntry", func(ctx context.Context) error { return t.b.GotoEntry(ctx, depth) })
}

// Call moves to the first line event of the previous or next call of function.
func (t *Timeline) Call(ctx context.Context, function string, forward bool) (Position, error) {
	name := "previousCall"
	if forward {
		name = "nextCall"
	}
	return t.move(ctx, name, func(ctx context.Context) error { return t.b.Call(ctx, function, forward) })
}

// Goto moves to a time returned earlier in a Position.
func (t *Timeline) Goto(ctx context.Context, to Time) (Position, error) {
	return t.move(ctx, "goto", func(ctx context.Context) error { return t.b.Goto(ctx, to) })
}

// LastWrite answers who last wrote expr before now, seen from the frame at
// depth. Time does not change.
func (t *Timeline) LastWrite(ctx context.Context, depth int, expr string) (Write, error) {
	return t.write(ctx, false, depth, expr)
}

// NextWrite answers who writes expr next after now (within the recorded
// history), seen from the frame at depth. Time does not change.
func (t *Timeline) NextWrite(ctx context.Context, depth int, expr string) (Write, error) {
	return t.write(ctx, true, depth, expr)
}

// write runs the backend's write search either way and comes back to now.
func (t *Timeline) write(ctx context.Context, forward bool, depth int, expr string) (Write, error) {
	what, search := "last write", Backend.LastWrite
	if forward {
		what, search = "next write", Backend.NextWrite
	}
	return call(t, ctx, t.opts.MoveTimeout, func(ctx context.Context) (Write, error) {
		before, _ := t.Now()
		w, err := search(t.b, ctx, depth, expr)
		if rerr := t.backTo(ctx, before); rerr != nil {
			return Write{}, fmt.Errorf("%s of %s: %w", what, expr, rerr)
		}
		return w, err
	})
}

// Eval renders expr (a name or a chain a.b.c) in the frame at depth, now.
func (t *Timeline) Eval(ctx context.Context, depth int, expr string) (string, error) {
	return call(t, ctx, t.opts.ReadTimeout, func(ctx context.Context) (string, error) {
		return t.b.Eval(ctx, depth, expr)
	})
}

// backTo returns the backend to t0 when a query that must not change time
// left it elsewhere; a backend whose time cannot be read is left alone.
func (t *Timeline) backTo(ctx context.Context, t0 Time) error {
	if cur, err := t.b.Now(ctx); err == nil && cur != t0 {
		if err := t.b.Goto(ctx, t0); err != nil {
			return fmt.Errorf("time could not be restored: %w", err)
		}
	}
	return nil
}

// Close ends the timeline and its backend.
func (t *Timeline) Close() error {
	t.mu.Lock()
	if t.quitting() {
		t.mu.Unlock()
		return nil
	}
	close(t.quit)
	b, walker := t.b, t.walker
	t.mu.Unlock()
	if walker != nil {
		// Stopped before its commands are cancelled: a walker's debugger
		// that is told to end does not count as hung.
		_ = walker.Close()
	}
	t.endLife()
	// Closing the backend first ends a job stuck in the debugger at once.
	err := b.Close()
	<-t.done
	t.indexing.Wait()
	// A restart may have put in another backend before it saw quit.
	t.mu.Lock()
	last := t.b
	t.mu.Unlock()
	if last != b {
		_ = last.Close()
	}
	return err
}
