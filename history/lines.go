package history

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Event is one line event of a call, with the frame's variables as they
// were when the line was about to run.
type Event struct {
	Time   Time
	Line   int
	Locals []Var
}

// callEvent is one line event of a call with the variables its frame bound
// since the call's previous event (at its first event: all of them). Line
// histories are made of these, from a walk (bindings) or from the Index.
type callEvent struct {
	Time  Time
	Line  int
	Bound []Var
}

// bindings turns the events of a call into callEvents. A variable counts as
// bound again when it holds another object (its Address changed) or, where
// the backend gives no addresses, when its rendering changed; a variable
// that disappeared is not a binding.
func bindings(events []Event) []callEvent {
	out := make([]callEvent, len(events))
	var before map[string]Var
	for i, ev := range events {
		out[i] = callEvent{Time: ev.Time, Line: ev.Line}
		for _, v := range ev.Locals {
			old, ok := before[v.Name]
			if ok && (v.Address != "" && old.Address != "" && v.Address == old.Address ||
				(v.Address == "" || old.Address == "") && v.Value == old.Value) {
				continue
			}
			out[i].Bound = append(out[i].Bound, v)
		}
		before = make(map[string]Var, len(ev.Locals))
		for _, v := range ev.Locals {
			before[v.Name] = v
		}
	}
	return out
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

// callHistory is the walk of one call, kept as time moves: events holds
// every event of the call from its entry up to the time covered (at or
// after the last one), so that a later question about the same call is
// answered by cutting it (an earlier time) or by walking on from where it
// stopped (a later one), not by walking the call again.
type callHistory struct {
	events  []Event
	covered Time
	// ended says the call returned after its last event.
	ended bool
}

// walkKey names the walks of the calls that ran in one frame (Frame.ID).
type walkKey struct {
	id, function, file string
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
	// Entry holds the variables at the call's first line event: its
	// parameters as the call received them, among them.
	Entry []Var
	// latest is, per variable, the event of its latest binding (Assigned.at).
	latest map[string]int
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
	// Address is the object of the last value, when the backend knows it.
	Address string
	// at is the event (in the call) at which the line's latest run had
	// bound it.
	at int
}

// Label renders the assignments of a line as an inlay hint, values as
// they were bound: "x = 1, i = 0 → 1 → 2 … → 49 (50×)".
func (r *LineRuns) Label() string { return r.label(nil, nil) }

// label is Label with the last value of each variable as it is now in
// frame where the name still holds the object this line bound last (the
// line made the variable's latest binding, and the address is the same).
func (r *LineRuns) label(latest map[string]int, now map[string]Var) string {
	parts := make([]string, 0, len(r.Assigned))
	for _, a := range r.Assigned {
		vs := a.Values
		if v, ok := now[a.Name]; ok && a.Address != "" && v.Address == a.Address && latest[a.Name] == a.at {
			vs = append(vs[:len(vs)-1:len(vs)-1], v.Value)
		}
		parts = append(parts, a.Name+" = "+historyText(vs))
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

// Labels returns the inline hints of the call, by line, as they show while
// frame (the call's frame in the snapshot of now; nil for a call that is
// not on the stack) is as it is: each line's assignments, the last values as
// they are now where the names still hold the objects bound (values as
// bound without frame), and on the def line the parameters as the call
// received them (an object a parameter still holds, as it is now).
func (lh *LineHistory) Labels(frame *Frame) map[int]string {
	var now map[string]Var
	if frame != nil {
		now = make(map[string]Var, len(frame.Locals))
		for _, v := range frame.Locals {
			now[v.Name] = v
		}
	}
	out := make(map[int]string, len(lh.Lines)+1)
	for line, r := range lh.Lines {
		if label := r.label(lh.latest, now); label != "" {
			out[line] = label
		}
	}
	if frame != nil && frame.DefLine > 0 {
		if params := lh.params(frame.Params, now); params != "" {
			if rest := out[frame.DefLine]; rest != "" {
				params += ", " + rest
			}
			out[frame.DefLine] = params
		}
	}
	return out
}

// params renders the parameters as the call received them: "n = 3, depth =
// 0"; a parameter that still holds the object it received, as it is now.
func (lh *LineHistory) params(names []string, now map[string]Var) string {
	var parts []string
	for _, name := range names {
		i := slices.IndexFunc(lh.Entry, func(v Var) bool { return v.Name == name })
		if i < 0 {
			continue
		}
		v := lh.Entry[i]
		if cur, ok := now[name]; ok && v.Address != "" && cur.Address == v.Address {
			v = cur
		}
		parts = append(parts, name+" = "+v.Value)
	}
	return strings.Join(parts, ", ")
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
		events, err := t.callEvents(ctx, snap, depth)
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

// callEvents returns the line events of the call of the frame at depth,
// from its entry to now: from the line index when it knows the call, else
// by walking the call in the backend (walkCall). It runs on the backend
// goroutine and leaves time as it found it.
func (t *Timeline) callEvents(ctx context.Context, snap *Snapshot, depth int) ([]callEvent, error) {
	frame := snap.Frames[depth]
	if ix := t.Index(); ix != nil {
		if c, ok := ix.CallOf(frame, snap.Time); ok {
			if c.BeganBefore {
				return nil, &EdgeError{Edge: Start, Move: "history of " + frame.Function}
			}
			return ix.callEvents(c, snap.Time), nil
		}
	}
	events, err := t.walkCall(ctx, snap, depth)
	if err != nil {
		return nil, err
	}
	return bindings(events), nil
}

// walkCall returns the line events of the call of the frame at depth, from
// its entry to now; it runs on the backend goroutine and leaves time as it
// found it. A walk kept from an earlier question about the same call (found
// by the frame's ID, without moving) is cut or walked on; failing that the
// call is walked from its entry, found by moving there.
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
	if events, ok, err := t.keptWalk(ctx, snap, depth); ok || err != nil {
		return events, err
	}
	if err := t.backTo(ctx, now); err != nil { // keptWalk may have walked on
		return nil, err
	}
	// A module's frame under the window's first function began before the
	// window, and holds no other call later: looking for its entry again
	// (back to the window's start) would say so again.
	module := frame.Function == "<module>" && frame.ID != ""
	k := walkKey{frame.ID, frame.Function, frame.File}
	t.mu.Lock()
	edge, known := t.before[k]
	t.mu.Unlock()
	if module && known {
		return nil, edge
	}
	if err := t.b.GotoEntry(ctx, depth); err != nil {
		if errors.As(err, &edge) && module {
			t.mu.Lock()
			t.before[k] = edge
			t.mu.Unlock()
		}
		return nil, err
	}
	entry, err := t.b.Now(ctx)
	if err != nil {
		return nil, err
	}
	key := string(entry) + "\x00" + frame.File + "\x00" + frame.Function
	if cached := t.kept(key, frame, entry); cached != nil {
		if cut, ok := cached.upTo(t.b.Compare, now, true); ok {
			return cut, nil
		}
		// Walk on from the kept walk's last event.
		events = slices.Clip(cached.events)
		if err := t.b.Goto(ctx, events[len(events)-1].Time); err != nil {
			return nil, err
		}
	} else {
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
	h, err := t.walkOn(ctx, frame, len(snap.Frames)-depth, events, now)
	if err != nil {
		return nil, err
	}
	t.keep(key, frame, h)
	cut, _ := h.upTo(t.b.Compare, now, true)
	return cut, nil
}

// upTo returns the events of the walk at or before now, when the walk
// covers now: when now is between its first event and the time it covers,
// or, for a walk of the call that is known to be running now (entryKnown),
// anywhere after its first event once it has ended.
func (h *callHistory) upTo(compare func(a, b Time) int, now Time, entryKnown bool) ([]Event, bool) {
	if len(h.events) == 0 || compare(h.events[0].Time, now) > 0 ||
		compare(now, h.covered) > 0 && !(h.ended && entryKnown) {
		return nil, false
	}
	n := sort.Search(len(h.events), func(i int) bool { return compare(h.events[i].Time, now) > 0 })
	return h.events[:n:n], true
}

// keptWalk answers from a walk kept earlier, found by the frame's ID
// without moving. The call that ran in this frame from the walk's first
// event on is the one still running there at any time the walk covers (it
// did not return before); at a later time, walking on from the walk's last
// event (NextInFrame, which stops where the call returns) reaches now when
// it is the same call. ok is false when no kept walk answers.
func (t *Timeline) keptWalk(ctx context.Context, snap *Snapshot, depth int) (events []Event, ok bool, err error) {
	frame := snap.Frames[depth]
	if frame.ID == "" {
		return nil, false, nil
	}
	now := snap.Time
	t.mu.Lock()
	walks, _ := t.walks.get(walkKey{frame.ID, frame.Function, frame.File})
	t.mu.Unlock()
	var h *callHistory
	for _, w := range walks {
		if t.b.Compare(w.events[0].Time, now) <= 0 && (h == nil || t.b.Compare(w.events[0].Time, h.events[0].Time) > 0) {
			h = w
		}
	}
	if h == nil {
		return nil, false, nil
	}
	if cut, ok := h.upTo(t.b.Compare, now, false); ok || h.ended {
		return cut, ok, nil // ended before now: maybe another call in the same frame
	}
	if err := t.b.Goto(ctx, h.events[len(h.events)-1].Time); err != nil {
		return nil, false, err
	}
	w, err := t.walkOn(ctx, frame, len(snap.Frames)-depth, slices.Clip(h.events), now)
	if err != nil {
		return nil, false, err
	}
	t.keep("", frame, w)
	cut, ok := w.upTo(t.b.Compare, now, false)
	return cut, ok, nil
}

// kept returns the walk of the call of frame that began at entry: kept
// by its entry key, or by its frame.
func (t *Timeline) kept(key string, frame Frame, entry Time) *callHistory {
	t.mu.Lock()
	defer t.mu.Unlock()
	if h, ok := t.calls.get(key); ok && len(h.events) > 0 {
		return h
	}
	if frame.ID == "" {
		return nil
	}
	walks, _ := t.walks.get(walkKey{frame.ID, frame.Function, frame.File})
	for _, w := range walks {
		if w.events[0].Time == entry {
			return w
		}
	}
	return nil
}

// keep remembers a walk: by its entry key (when not empty) and by its frame.
func (t *Timeline) keep(key string, frame Frame, h *callHistory) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if key != "" {
		t.calls.put(key, h)
	}
	if frame.ID == "" || len(h.events) == 0 {
		return
	}
	k := walkKey{frame.ID, frame.Function, frame.File}
	walks, _ := t.walks.get(k)
	walks = slices.DeleteFunc(slices.Clone(walks), func(w *callHistory) bool { return w.events[0].Time == h.events[0].Time })
	walks = append(walks, h)
	if len(walks) > 4 {
		walks = walks[len(walks)-4:]
	}
	t.walks.put(k, walks)
}

// walkOn extends events, the line events of one call of frame so far, with
// the call's next line events up to upTo (inclusive) or its end, and the
// first one after upTo when the walk gets there. stack is the number of
// frames while the call runs, which a backend without FrameWalker needs to
// tell the call's own lines from a recursive call's.
func (t *Timeline) walkOn(ctx context.Context, frame Frame, stack int, events []Event, upTo Time) (*callHistory, error) {
	fw, follow := t.b.(FrameWalker)
	h := &callHistory{}
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
				h.ended = true
				break
			}
			return nil, err
		}
		at, s, err := t.nowState(ctx)
		if err != nil {
			return nil, err
		}
		top := s.Top()
		if top == nil || top.Function != frame.Function || top.File != frame.File || !follow && len(s.Frames) != stack {
			h.ended = true
			break // the call returned (a generator resumed elsewhere keeps its frame: follow)
		}
		events = append(events, Event{Time: at, Line: top.Line, Locals: top.Locals})
		if upTo != "" && t.b.Compare(at, upTo) >= 0 {
			h.covered = at
			break
		}
	}
	h.events = events
	if h.covered == "" && len(events) > 0 {
		h.covered = events[len(events)-1].Time
	}
	return h, nil
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
		if ix := t.Index(); ix != nil && ix.compare(now, ix.Last()) <= 0 {
			lh, err = indexedLatestCall(ix, function, now)
		} else {
			defer func() {
				if rerr := t.backTo(ctx, now); rerr != nil && err == nil {
					err = fmt.Errorf("walking the latest call of %s: %w", function, rerr)
				}
			}()
			lh, err = t.latestCall(ctx, function, now)
		}
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

// indexedLatestCall is LatestCall answered from the index.
func indexedLatestCall(ix *Index, function string, now Time) (*LineHistory, error) {
	c, ok := ix.LatestCall(function, now)
	if !ok || c.BeganBefore {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchCall, function)
	}
	frame := Frame{File: c.File, Function: c.Function, Stores: ix.Stores(c.File)}
	return summarize(frame, -1, ix.callEvents(c, now)), nil
}

func (t *Timeline) latestCall(ctx context.Context, function string, now Time) (*LineHistory, error) {
	if err := t.b.Call(ctx, function, false); err != nil {
		return nil, err
	}
	entry, s, err := t.nowState(ctx)
	if err != nil {
		return nil, err
	}
	top := s.Top()
	if top == nil || top.Function != function {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchCall, function)
	}
	h, err := t.walkOn(ctx, *top, len(s.Frames), []Event{{Time: entry, Line: top.Line, Locals: top.Locals}}, now)
	if err != nil {
		return nil, err
	}
	events, _ := h.upTo(t.b.Compare, now, true)
	return summarize(*top, -1, bindings(events)), nil
}

// summarize turns the events of a call into what each line did: a line's
// assignments are the variables bound by the call's next event, limited to
// those its source binds (frame.Stores) when the backend knows them, so
// that an object mutated by a call on that line does not pass for an
// assignment. An assignment of the same object (an equal small int) is not
// seen: telling it apart from a line that skipped its store (a for loop's
// last, exhausted iteration) needs the executed instructions.
func summarize(frame Frame, depth int, events []callEvent) *LineHistory {
	lh := &LineHistory{File: frame.File, Function: frame.Function, Depth: depth, Lines: map[int]*LineRuns{}, latest: map[string]int{}}
	if len(events) > 0 {
		lh.Entry = events[0].Bound
	}
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
		for _, v := range events[i+1].Bound {
			if v.Value == "" && v.Address == "" || limited && !slices.Contains(names, v.Name) {
				continue // unbound (del), or not this line's binding
			}
			r.assign(v, i+1)
			lh.latest[v.Name] = i + 1
		}
	}
	return lh
}

func (r *LineRuns) assign(v Var, at int) {
	for i := range r.Assigned {
		if a := &r.Assigned[i]; a.Name == v.Name {
			a.Values = append(a.Values, v.Value)
			a.Address, a.at = v.Address, at
			return
		}
	}
	r.Assigned = append(r.Assigned, Assigned{Name: v.Name, Values: []string{v.Value}, Address: v.Address, at: at})
}

// LineHint is what inline hints show on one line of a file: the values the
// line assigned in the current call of its function, or on a def line the
// parameters of the call.
type LineHint struct {
	// Line is 1-based.
	Line     int
	Label    string
	Function string
	// Runs counts the line's executions in that call so far.
	Runs int
	// Params says the label begins with the call's parameters (the line is
	// the function's def line).
	Params bool
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
				return nil, ctx.Err()
			}
			errs = append(errs, fmt.Errorf("%s (frame %d): %w", f.Function, depth, err))
			continue
		}
		for line, label := range lh.Labels(&snap.Frames[depth]) {
			if taken[line] {
				continue
			}
			taken[line] = true
			h := LineHint{Line: line, Label: label, Function: lh.Function, Params: line == f.DefLine && len(f.Params) > 0}
			if runs := lh.Lines[line]; runs != nil {
				h.Runs = runs.Runs
			}
			hints = append(hints, h)
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
				return nil, ctx.Err()
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
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if hints == nil {
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
			return nil, ctx.Err()
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

// nowState reads the backend's time and what it shows there.
func (t *Timeline) nowState(ctx context.Context) (Time, *Snapshot, error) {
	at, err := t.b.Now(ctx)
	if err != nil {
		return "", nil, err
	}
	s, err := t.b.State(ctx)
	if err != nil {
		return "", nil, err
	}
	return at, s, nil
}
