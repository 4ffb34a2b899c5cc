package history

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Event is one line event of a call, with the frame's variables as they
// were when the line was about to run.
type Event struct {
	Time   Time
	Line   int
	Locals []Var
}

// CallWalker is an optional Backend capability: walk the line events of
// the current call of the frame at depth, from its entry up to upTo, in one
// request. Backends without it are walked move by move.
type CallWalker interface {
	WalkCall(ctx context.Context, depth int, upTo Time) ([]Event, error)
}

// FrameWalker is an optional Backend capability: move to the next line event
// of the current frame's own call, following a generator or coroutine frame
// across its suspensions (yield, await) to where it resumes. When the call
// returns first it fails with ErrCallEnded and time does not change. With
// it, the line history of a coroutine covers the whole call, not only what
// ran since its latest resumption.
type FrameWalker interface {
	NextInFrame(ctx context.Context) error
}

// callHistory is the cached walk of one call.
type callHistory struct {
	events []Event
}

// LineHistory is what the lines of one call did, up to now: the data of
// inline hints.
type LineHistory struct {
	File     string
	Function string
	// Depth of the frame in the snapshot it was asked for.
	Depth int
	// Lines maps a 1-based line to what it did.
	Lines map[int]*LineRuns
}

// LineRuns is what one line did in one call.
type LineRuns struct {
	Line int
	// Runs counts the line's executions before now.
	Runs int
	// Assigned lists the variables the line changed, in the order they were
	// first changed, each with the values it took (oldest first).
	Assigned []Assigned
}

// Assigned is one variable a line changed, with every value it gave it.
type Assigned struct {
	Name   string
	Values []string
}

// Label renders the assignments of a line as an inlay hint:
// "x = 1, i = 0 → 1 → 2 … → 49 (50×)".
func (r *LineRuns) Label() string {
	parts := make([]string, 0, len(r.Assigned))
	for _, a := range r.Assigned {
		parts = append(parts, a.Name+" = "+historyText(a.Values))
	}
	return strings.Join(parts, ", ")
}

// historyText renders values as a history, current value last.
func historyText(vs []string) string {
	switch n := len(vs); {
	case n == 1:
		return vs[0]
	case n <= 4:
		return strings.Join(vs, " → ") + fmt.Sprintf(" (%d×)", n)
	default:
		return strings.Join(vs[:3], " → ") + " … → " + vs[n-1] + fmt.Sprintf(" (%d×)", n)
	}
}

// Lines returns the line history of the current call of the frame at depth
// of the current snapshot. Time does not change.
func (t *Timeline) Lines(ctx context.Context, depth int) (*LineHistory, error) {
	return call(t, ctx, t.opts.MoveTimeout, func(ctx context.Context) (*LineHistory, error) {
		snap, err := t.state(ctx)
		if err != nil {
			return nil, err
		}
		if depth < 0 || depth >= len(snap.Frames) {
			return nil, fmt.Errorf("%w (frame %d of %d)", ErrNoFrame, depth, len(snap.Frames))
		}
		// A time point's line history never changes: answer a repeated
		// question without moving.
		key := linesKey{at: snap.Time, depth: depth}
		t.mu.Lock()
		r, ok := t.lines.get(key)
		t.mu.Unlock()
		if ok {
			return r.lh, r.err
		}
		events, err := t.walkCall(ctx, snap, depth)
		var edge *EdgeError
		switch {
		case errors.As(err, &edge):
			r = linesResult{err: err} // the call began before the window: so it stays
		case err != nil:
			return nil, err
		default:
			r = linesResult{lh: summarize(snap.Frames[depth], depth, events)}
		}
		t.mu.Lock()
		t.lines.put(key, r)
		t.mu.Unlock()
		return r.lh, r.err
	})
}

// walkCall returns the line events of the call of the frame at depth, from
// its entry to now; it runs on the backend goroutine and leaves time as it
// found it.
func (t *Timeline) walkCall(ctx context.Context, snap *Snapshot, depth int) (events []Event, err error) {
	now := snap.Time
	frame := snap.Frames[depth]
	defer func() {
		if rerr := t.backTo(ctx, now); rerr != nil && err == nil {
			err = fmt.Errorf("walking %s: %w", frame.Function, rerr)
		}
	}()
	if w, ok := t.b.(CallWalker); ok {
		return w.WalkCall(ctx, depth, now)
	}
	if err := t.b.GotoEntry(ctx, depth); err != nil {
		return nil, err
	}
	entry, err := t.b.Now(ctx)
	if err != nil {
		return nil, err
	}
	key := string(entry) + "\x00" + frame.File + "\x00" + frame.Function
	t.mu.Lock()
	cached, ok := t.calls.get(key)
	t.mu.Unlock()
	if ok && len(cached.events) > 0 {
		last := cached.events[len(cached.events)-1]
		switch c := t.b.Compare(last.Time, now); {
		case c == 0:
			return cached.events, nil
		case c < 0:
			// Extend the cached walk from its last event.
			events = append([]Event(nil), cached.events...)
			if err := t.b.Goto(ctx, last.Time); err != nil {
				return nil, err
			}
		}
	}
	if events == nil {
		s, err := t.b.State(ctx)
		if err != nil {
			return nil, err
		}
		top := s.Top()
		if top == nil {
			return nil, ErrNoFrame
		}
		events = []Event{{Time: entry, Line: top.Line, Locals: top.Locals}}
	}
	events, err = t.walkOn(ctx, frame, len(snap.Frames)-depth, events, now)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.calls.put(key, &callHistory{events: events})
	t.mu.Unlock()
	return events, nil
}

// walkOn extends events, the line events of one call of frame so far, with
// the call's next line events up to upTo (inclusive) or its end. stack is
// the number of frames while the call runs, which a backend without
// FrameWalker needs to tell the call's own lines from a recursive call's.
func (t *Timeline) walkOn(ctx context.Context, frame Frame, stack int, events []Event, upTo Time) ([]Event, error) {
	fw, follow := t.b.(FrameWalker)
	for {
		var err error
		if follow {
			err = fw.NextInFrame(ctx)
		} else {
			err = t.b.Move(ctx, Next)
		}
		if err != nil {
			var edge *EdgeError
			if errors.As(err, &edge) || errors.Is(err, ErrCallEnded) {
				break
			}
			return nil, err
		}
		at, err := t.b.Now(ctx)
		if err != nil {
			return nil, err
		}
		if upTo != "" && t.b.Compare(at, upTo) > 0 {
			break
		}
		s, err := t.b.State(ctx)
		if err != nil {
			return nil, err
		}
		top := s.Top()
		if top == nil || top.Function != frame.Function || top.File != frame.File || !follow && len(s.Frames) != stack {
			break // the call returned (a generator resumed elsewhere keeps its frame: follow)
		}
		events = append(events, Event{Time: at, Line: top.Line, Locals: top.Locals})
		if at == upTo {
			break
		}
	}
	return events, nil
}

// LatestCall returns the line history of the latest call of function (a
// qualified name) that began before now: from its entry to its return, or
// to now when it has not returned; its File says which file it ran. It is
// how the lines of a function that is no longer on the stack show what
// they did (a finished asyncio task, a helper that returned). Time does not
// change. It fails with ErrNoSuchCall when no such call began in the
// recorded window.
func (t *Timeline) LatestCall(ctx context.Context, function string) (*LineHistory, error) {
	return call(t, ctx, t.opts.MoveTimeout, func(ctx context.Context) (lh *LineHistory, err error) {
		snap, err := t.state(ctx)
		if err != nil {
			return nil, err
		}
		now := snap.Time
		key := linesKey{at: now, depth: -1, call: function}
		t.mu.Lock()
		r, ok := t.lines.get(key)
		t.mu.Unlock()
		if ok {
			return r.lh, r.err
		}
		defer func() {
			if rerr := t.backTo(ctx, now); rerr != nil && err == nil {
				err = fmt.Errorf("walking the latest call of %s: %w", function, rerr)
			}
		}()
		lh, err = t.latestCall(ctx, function, now)
		var edge *EdgeError
		if err != nil && !errors.Is(err, ErrNoSuchCall) && !errors.As(err, &edge) {
			return nil, err
		}
		t.mu.Lock()
		t.lines.put(key, linesResult{lh: lh, err: err})
		t.mu.Unlock()
		return lh, err
	})
}

func (t *Timeline) latestCall(ctx context.Context, function string, now Time) (*LineHistory, error) {
	if err := t.b.Call(ctx, function, false); err != nil {
		return nil, err
	}
	entry, err := t.b.Now(ctx)
	if err != nil {
		return nil, err
	}
	s, err := t.b.State(ctx)
	if err != nil {
		return nil, err
	}
	top := s.Top()
	if top == nil || top.Function != function {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchCall, function)
	}
	events, err := t.walkOn(ctx, *top, len(s.Frames), []Event{{Time: entry, Line: top.Line, Locals: top.Locals}}, now)
	if err != nil {
		return nil, err
	}
	return summarize(*top, -1, events), nil
}

// summarize turns the events of a call into what each line did: a line's
// assignments are the variables that are new or different at the next
// event, limited to those its bytecode stores to (frame.Stores) when the
// backend knows them, so that an object mutated by a call on that line does
// not pass for an assignment. An assignment of an equal value is not seen:
// telling it apart from a line that skipped its store (a for loop's last,
// exhausted iteration) needs the executed instructions.
func summarize(frame Frame, depth int, events []Event) *LineHistory {
	lh := &LineHistory{File: frame.File, Function: frame.Function, Depth: depth, Lines: map[int]*LineRuns{}}
	for i, ev := range events {
		r := lh.Lines[ev.Line]
		if r == nil {
			r = &LineRuns{Line: ev.Line}
			lh.Lines[ev.Line] = r
		}
		r.Runs++
		if i+1 == len(events) {
			break // the current line has not run yet
		}
		names, limited := frame.Stores[ev.Line], frame.Stores != nil
		before := varMap(ev.Locals)
		for _, v := range events[i+1].Locals {
			if old, ok := before[v.Name]; ok && old == v.Value {
				continue
			}
			if limited && !slices.Contains(names, v.Name) {
				continue
			}
			r.assign(v.Name, v.Value)
		}
	}
	return lh
}

func (r *LineRuns) assign(name, value string) {
	for i := range r.Assigned {
		if r.Assigned[i].Name == name {
			r.Assigned[i].Values = append(r.Assigned[i].Values, value)
			return
		}
	}
	r.Assigned = append(r.Assigned, Assigned{Name: name, Values: []string{value}})
}

func varMap(vs []Var) map[string]string {
	m := make(map[string]string, len(vs))
	for _, v := range vs {
		m[v.Name] = v.Value
	}
	return m
}

// LineHint is what inline hints show on one line of a file: the values the
// line assigned in the current call of its function.
type LineHint struct {
	// Line is 1-based.
	Line     int
	Label    string
	Function string
	// Runs counts the line's executions in that call so far.
	Runs int
}

// fileHints returns the hints for the lines of every frame on the current
// stack whose file matches: the current frame and the callers, each in its
// own call. A recursive function shows its innermost call, and an inner
// frame's hint wins a line both annotate. A frame whose history cannot be
// read is left out and its error returned alongside the other hints.
func (t *Timeline) fileHints(ctx context.Context, match func(file string) bool) ([]LineHint, error) {
	snap, err := t.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	var hints []LineHint
	var errs []error
	taken := map[int]bool{}
	seen := map[string]bool{}
	for depth, f := range snap.Frames {
		if !match(f.File) || seen[f.Function] {
			continue
		}
		seen[f.Function] = true
		lh, err := t.Lines(ctx, depth)
		var edge *EdgeError
		if errors.As(err, &edge) {
			continue // a caller whose call began before the recorded window
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			errs = append(errs, fmt.Errorf("%s (frame %d): %w", f.Function, depth, err))
			continue
		}
		for line, runs := range lh.Lines {
			label := runs.Label()
			if label == "" || taken[line] {
				continue
			}
			taken[line] = true
			hints = append(hints, LineHint{Line: line, Label: label, Function: lh.Function, Runs: runs.Runs})
		}
	}
	slices.SortFunc(hints, func(a, b LineHint) int { return a.Line - b.Line })
	return hints, errors.Join(errs...)
}

// pastCallHints returns hints for the functions (qualified names) of a
// file that are not on the current stack, each from its latest call that
// began before now (LatestCall) in a file that matches: what a finished
// call's lines did. Functions that never ran in the window are left out;
// other failures are returned alongside the hints. progress, when set,
// hears each function before its walk.
func (t *Timeline) pastCallHints(ctx context.Context, match func(file string) bool, functions []string, progress func(function string)) ([]LineHint, error) {
	snap, err := t.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	onStack := map[string]bool{}
	for _, f := range snap.Frames {
		if match(f.File) {
			onStack[f.Function] = true
		}
	}
	var hints []LineHint
	var errs []error
	for _, fn := range functions {
		if onStack[fn] {
			continue
		}
		if progress != nil {
			progress(fn)
		}
		lh, err := t.LatestCall(ctx, fn)
		var edge *EdgeError
		switch {
		case errors.Is(err, ErrNoSuchCall) || errors.As(err, &edge) || err == nil && !match(lh.File):
			continue
		case err != nil:
			if ctx.Err() != nil {
				return nil, err
			}
			errs = append(errs, fmt.Errorf("latest call of %s: %w", fn, err))
			continue
		}
		for line, runs := range lh.Lines {
			if label := runs.Label(); label != "" {
				hints = append(hints, LineHint{Line: line, Label: label, Function: fn, Runs: runs.Runs})
			}
		}
	}
	slices.SortFunc(hints, func(a, b LineHint) int { return a.Line - b.Line })
	return hints, errors.Join(errs...)
}

// HintsQuery says which hints Hints makes for one source file.
type HintsQuery struct {
	// Match says which recorded files are the source file.
	Match func(file string) bool
	// PastCalls, when not empty, are the file's functions (qualified
	// names); each one that is not on the stack is hinted from its latest
	// call before now (pastCallHints).
	PastCalls []string
	// Progress, when set, hears each function before its latest call is read.
	Progress func(function string)
	// Warn, when set, hears what could not be read and was left out.
	Warn func(error)
}

// Hints is what an editor shows inline for a source file at the current
// time, and what annotate prints: fileHints for the frames on the stack,
// then pastCallHints for q.PastCalls, merged (a frame on the stack wins a
// line). Frames and calls that cannot be read are left out and told to
// q.Warn; the error is returned when nothing could be read or ctx ended.
func (t *Timeline) Hints(ctx context.Context, q HintsQuery) ([]LineHint, error) {
	warn := func(err error) {
		if q.Warn != nil {
			q.Warn(err)
		}
	}
	hints, err := t.fileHints(ctx, q.Match)
	if err != nil {
		if hints == nil || ctx.Err() != nil {
			return nil, err
		}
		warn(err)
	}
	if len(q.PastCalls) == 0 {
		return hints, nil
	}
	past, err := t.pastCallHints(ctx, q.Match, q.PastCalls, q.Progress)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		warn(err)
	}
	return mergeHints(hints, past), nil
}

// mergeHints adds to hints those of more whose lines have none yet.
func mergeHints(hints, more []LineHint) []LineHint {
	taken := map[int]bool{}
	for _, h := range hints {
		taken[h.Line] = true
	}
	out := slices.Clone(hints)
	for _, h := range more {
		if !taken[h.Line] {
			taken[h.Line] = true
			out = append(out, h)
		}
	}
	slices.SortFunc(out, func(a, b LineHint) int { return a.Line - b.Line })
	return out
}
