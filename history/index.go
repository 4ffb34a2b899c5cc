package history

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"
	"unsafe"
)

// Index is the line index of a recorded window: every line event in time
// order, each with its call, line and depth and the variables its frame
// bound since the call's previous event. A window is indexed once, in the
// background, by a debugger of its own (a WindowWalker over the same
// recording); the index then answers the line history of any call at any
// time, the latest call of a function, and the runs of a line, without
// moving the debugger the user drives. An Index never changes once built.
type Index struct {
	events []IndexEvent
	calls  []IndexCall
	// byFrame lists the calls that ran in a frame (Frame.ID), by entry.
	byFrame map[string][]int
	// byFunction lists the calls of a function (qualified and bare name),
	// by entry.
	byFunction map[string][]int
	byLine     map[fileLine][]int
	stores     map[string]map[int][]string
	compare    func(a, b Time) int
}

type fileLine struct {
	file string
	line int
}

// IndexEvent is one line event of the window.
type IndexEvent struct {
	Time Time
	// Call is the IndexCall.ID of the call it belongs to.
	Call int
	// Line is 1-based.
	Line int
	// Depth counts the Python frames under the event's (Position.Depth).
	Depth int
	// Bound holds the variables the frame bound since the call's previous
	// event (at the call's first event in the window: all of them), with
	// their values then. A variable that was unbound (del) has an empty
	// Address.
	Bound []Var
}

// IndexCall is one call that ran in the window.
type IndexCall struct {
	// ID is the walker's number for the call (IndexEvent.Call).
	ID       int
	File     string
	Function string
	// Frame is the Frame.ID of its frame while it ran.
	Frame     string
	FirstLine int
	DefLine   int
	Params    []string
	// BeganBefore says the call began before the window: its entry and
	// parameters are not known.
	BeganBefore bool
	// Events lists the indexes of its events in the window, in order.
	Events []int
}

// IndexBatch is one batch of a window walk (WindowWalker).
type IndexBatch struct {
	// Calls the walk met first in this batch, in order of their IDs.
	Calls []IndexCall
	// Events in time order; their Call fields are IndexCall IDs.
	Events []IndexEvent
	// Stores maps a file of a call of this batch (not seen before) to the
	// names each of its lines binds (Frame.Stores).
	Stores map[string]map[int][]string
	// Done says the walk reached the end of the recorded window.
	Done bool
	// Fraction is how far the walk is through the window, 0 to 1, or
	// negative when the walker cannot say.
	Fraction float64
}

// WindowWalker walks every line event of a recorded window in order, in
// batches: a debugger of its own over the same recording as the
// Timeline's backend, so that the one the user drives stays free. Its times
// are the backend's.
type WindowWalker interface {
	// Begin starts the walk at t, the window's first line event, and
	// reports the calls on the stack there.
	Begin(ctx context.Context, t Time) (IndexBatch, error)
	// Next walks on, at most max events.
	Next(ctx context.Context, max int) (IndexBatch, error)
	// Close ends the walker and everything it started.
	Close() error
}

// indexBuilder assembles an Index from the batches of a walk.
type indexBuilder struct {
	ix      *Index
	callPos map[int]int       // IndexCall.ID -> position in ix.calls
	names   map[string]string // one copy of each variable name
}

func newIndexBuilder(compare func(a, b Time) int) *indexBuilder {
	return &indexBuilder{
		ix: &Index{byFrame: map[string][]int{}, byFunction: map[string][]int{}, byLine: map[fileLine][]int{},
			stores: map[string]map[int][]string{}, compare: compare},
		callPos: map[int]int{},
		names:   map[string]string{},
	}
}

// add appends a batch; its events must follow the previous batch's.
func (b *indexBuilder) add(batch IndexBatch) error {
	ix := b.ix
	for _, c := range batch.Calls {
		if _, dup := b.callPos[c.ID]; dup {
			return fmt.Errorf("line index: call %d reported twice", c.ID)
		}
		c.Events = nil
		b.callPos[c.ID] = len(ix.calls)
		if c.BeganBefore {
			// Found by its frame even when it has no event in the window (a
			// module frame under the window's function): it began before.
			ix.byFrame[c.Frame] = append(ix.byFrame[c.Frame], len(ix.calls))
		}
		ix.calls = append(ix.calls, c)
	}
	for file, lines := range batch.Stores {
		ix.stores[file] = lines
	}
	for _, ev := range batch.Events {
		pos, ok := b.callPos[ev.Call]
		if !ok {
			return fmt.Errorf("line index: event at %s of unknown call %d", ev.Time, ev.Call)
		}
		if n := len(ix.events); n > 0 && ix.compare(ix.events[n-1].Time, ev.Time) >= 0 {
			return fmt.Errorf("line index: event at %s does not follow %s", ev.Time, ix.events[n-1].Time)
		}
		for i := range ev.Bound {
			ev.Bound[i].Name = b.intern(ev.Bound[i].Name)
		}
		ev.Call = pos
		c := &ix.calls[pos]
		if len(c.Events) == 0 && !c.BeganBefore {
			// A call is found by its frame and function from its first event on.
			ix.byFrame[c.Frame] = append(ix.byFrame[c.Frame], pos)
			ix.byFunction[c.Function] = append(ix.byFunction[c.Function], pos)
			if bare := bareName(c.Function); bare != c.Function {
				ix.byFunction[bare] = append(ix.byFunction[bare], pos)
			}
		}
		c.Events = append(c.Events, len(ix.events))
		k := fileLine{c.File, ev.Line}
		ix.byLine[k] = append(ix.byLine[k], len(ix.events))
		ix.events = append(ix.events, ev)
	}
	return nil
}

func (b *indexBuilder) intern(s string) string {
	if v, ok := b.names[s]; ok {
		return v
	}
	b.names[s] = s
	return s
}

// bareName is a qualified name's last part: Account.deposit -> deposit.
func bareName(qualname string) string {
	for i := len(qualname) - 1; i >= 0; i-- {
		if qualname[i] == '.' {
			return qualname[i+1:]
		}
	}
	return qualname
}

// Bytes estimates the memory the index holds: its events, their variables'
// values and addresses, its calls and its tables, counted from their sizes
// (the runtime rounds each allocation up a little more).
func (ix *Index) Bytes() int {
	const word = int(unsafe.Sizeof(uintptr(0)))
	n := int(unsafe.Sizeof(*ix))
	n += cap(ix.events) * int(unsafe.Sizeof(IndexEvent{}))
	for _, ev := range ix.events {
		n += len(ev.Time) + cap(ev.Bound)*int(unsafe.Sizeof(Var{}))
		for _, v := range ev.Bound {
			n += len(v.Value) + len(v.Address) // names are shared
		}
	}
	n += cap(ix.calls) * int(unsafe.Sizeof(IndexCall{}))
	for _, c := range ix.calls {
		n += len(c.File) + len(c.Function) + len(c.Frame) + cap(c.Events)*word
		for _, p := range c.Params {
			n += len(p) + int(unsafe.Sizeof(""))
		}
	}
	// Map entries: key, value header and about a word of bucket overhead.
	for _, m := range []map[string][]int{ix.byFrame, ix.byFunction} {
		for k, v := range m {
			n += len(k) + int(unsafe.Sizeof("")) + int(unsafe.Sizeof(v)) + word + cap(v)*word
		}
	}
	for _, v := range ix.byLine {
		n += int(unsafe.Sizeof(fileLine{})) + int(unsafe.Sizeof(v)) + word + cap(v)*word
	}
	return n
}

// Len is the number of line events in the window.
func (ix *Index) Len() int { return len(ix.events) }

// Event returns line event i of the window (0: the first), with its Call
// the ID of its call.
func (ix *Index) Event(i int) IndexEvent {
	ev := ix.events[i]
	ev.Call = ix.calls[ev.Call].ID
	return ev
}

// Call returns the call with that ID.
func (ix *Index) Call(id int) (IndexCall, bool) {
	if id < 0 || id >= len(ix.calls) || ix.calls[id].ID != id {
		for _, c := range ix.calls {
			if c.ID == id {
				return c, true
			}
		}
		return IndexCall{}, false
	}
	return ix.calls[id], true
}

// First and Last are the times of the window's first and last line events.
func (ix *Index) First() Time { return ix.events[0].Time }

// Last is the time of the window's last line event.
func (ix *Index) Last() Time { return ix.events[len(ix.events)-1].Time }

// Stores returns the names each line of file binds, as the walk read them
// from the source (nil when unknown).
func (ix *Index) Stores(file string) map[int][]string { return ix.stores[file] }

// LineEvents returns the indexes of the line events at file:line, oldest
// first: the runs of a line (timelens.lineRuns).
func (ix *Index) LineEvents(file string, line int) []int {
	return slices.Clone(ix.byLine[fileLine{file, line}])
}

// Assigned returns what the line of event i bound when it ran: the
// variables its frame bound by the call's next event, limited to the names
// the line's source binds when those are known. ok is false when the call
// had no later event in the window (the line's run did not end in it).
func (ix *Index) Assigned(i int) (vars []Var, ok bool) {
	ev := ix.events[i]
	c := &ix.calls[ev.Call]
	k := sort.SearchInts(c.Events, i)
	if k+1 >= len(c.Events) {
		return nil, false
	}
	lines := ix.stores[c.File]
	names, limited := lines[ev.Line], lines != nil
	for _, v := range ix.events[c.Events[k+1]].Bound {
		if v.Address == "" || limited && !slices.Contains(names, v.Name) {
			continue
		}
		vars = append(vars, v)
	}
	return vars, true
}

// CallOf returns the call a frame of the snapshot at time at belongs to:
// the latest call in the frame's ID that began at or before at, when it
// runs the same function in the same file; false when the index does not
// know (a backend without frame IDs, a time past the window).
func (ix *Index) CallOf(f Frame, at Time) (IndexCall, bool) {
	if f.ID == "" || len(ix.events) == 0 || ix.compare(at, ix.Last()) > 0 {
		return IndexCall{}, false
	}
	pos, ok := ix.latest(ix.byFrame[f.ID], at, true)
	if !ok {
		return IndexCall{}, false
	}
	c := ix.calls[pos]
	if c.Function != f.Function || c.File != f.File {
		return IndexCall{}, false
	}
	return c, true
}

// LatestCall returns the latest call of function (a qualified or bare
// name) whose first event in the window is before t; false when none is.
func (ix *Index) LatestCall(function string, before Time) (IndexCall, bool) {
	pos, ok := ix.latest(ix.byFunction[function], before, false)
	if !ok {
		return IndexCall{}, false
	}
	return ix.calls[pos], true
}

// latest picks among calls (positions, by entry) the last whose first event
// is before t (or at t, when atOrBefore); a call that began before the
// window comes before every other.
func (ix *Index) latest(calls []int, t Time, atOrBefore bool) (int, bool) {
	n := sort.Search(len(calls), func(k int) bool {
		c := &ix.calls[calls[k]]
		if c.BeganBefore {
			return false
		}
		cmp := ix.compare(ix.events[c.Events[0]].Time, t)
		return cmp > 0 || cmp == 0 && !atOrBefore
	})
	if n == 0 {
		return 0, false
	}
	return calls[n-1], true
}

// callEvents returns the events of call c up to t (all of them when t is
// empty), each with what the frame bound since the call's previous one.
func (ix *Index) callEvents(c IndexCall, t Time) []callEvent {
	out := make([]callEvent, 0, len(c.Events))
	for _, i := range c.Events {
		ev := &ix.events[i]
		if t != "" && ix.compare(ev.Time, t) > 0 {
			break
		}
		out = append(out, callEvent{Time: ev.Time, Line: ev.Line, Bound: ev.Bound})
	}
	return out
}

// IndexProgress reports the building of a Timeline's line index
// (Timeline.OnIndex): while the walk goes on, when it is done, or why it
// failed.
type IndexProgress struct {
	// Events counts the line events indexed so far.
	Events int
	// Fraction is how far through the window the walk is (negative when
	// unknown).
	Fraction float64
	// Done is set once, at the end, with Err when the index could not be
	// built (the hints then keep walking calls in the backend).
	Done bool
	Err  error
	// Skipped is set with Done and Err when the index was not attempted
	// (Timeline.NoIndex): Err says why.
	Skipped bool
	// Took is how long the walk has taken.
	Took time.Duration
}

// Message is the one line a user is told about p.
func (p IndexProgress) Message() string {
	switch {
	case p.Skipped:
		return fmt.Sprintf("no line index: %v", p.Err)
	case p.Done && p.Err != nil:
		return fmt.Sprintf("indexing the window's line events failed after %d: %v; hints walk each call instead", p.Events, p.Err)
	case p.Done:
		return fmt.Sprintf("indexed %d line events in %s", p.Events, p.Took.Round(100*time.Millisecond))
	}
	return fmt.Sprintf("indexing the window's line events: %d so far", p.Events)
}

// ErrIndexStopped means the timeline closed, or its backend's recording
// changed, while the index was being built.
var ErrIndexStopped = errors.New("the line index was not finished: the session ended or its recording changed")

// indexBatchSize is how many events a walker reports per round trip: a
// batch of the gdb side takes about 20 ms per event on a restored log.
const indexBatchSize = 200

// BuildIndex indexes the window in the background with w, from the
// window's first line event (the time the timeline began at), and installs
// the index when it is complete: from then on line histories are read
// from it. Progress and the outcome go to the OnIndex watchers. w is
// closed when the walk ends; closing the timeline stops it.
func (t *Timeline) BuildIndex(w WindowWalker) {
	t.mu.Lock()
	if t.quitting() {
		t.mu.Unlock()
		_ = w.Close()
		return
	}
	t.indexing.Add(1)
	t.walker = w
	epoch := t.epoch
	t.mu.Unlock()
	go func() {
		defer t.indexing.Done()
		defer func() {
			t.mu.Lock()
			t.walker = nil
			t.mu.Unlock()
			w.Close()
		}()
		began := time.Now()
		report := func(p IndexProgress) {
			p.Took = time.Since(began)
			t.tellIndex(p)
		}
		ix, err := t.walkWindow(t.life, w, func(n int, frac float64) { report(IndexProgress{Events: n, Fraction: frac}) })
		t.mu.Lock()
		if t.epoch != epoch || t.quitting() {
			err = ErrIndexStopped // and whatever the walker said as it was stopped
		}
		if err == nil {
			t.index = ix
			// Line histories are read from the index from now on.
			t.lines = newLRU[linesKey, linesResult](256)
		}
		t.mu.Unlock()
		n := 0
		if ix != nil {
			n = ix.Len()
		}
		report(IndexProgress{Events: n, Fraction: 1, Done: true, Err: err})
	}()
}

// NoIndex tells the OnIndex watchers that this timeline will have no line
// index, and why (a window too large to save a copy of, say): the editor's
// progress ends instead of waiting for an index that never comes. Hints
// walk each call, as they do before an index is built.
func (t *Timeline) NoIndex(why error) {
	t.tellIndex(IndexProgress{Done: true, Skipped: true, Err: why})
}

// walkWindow runs the walk to the end of the window.
func (t *Timeline) walkWindow(ctx context.Context, w WindowWalker, progress func(events int, fraction float64)) (*Index, error) {
	b := newIndexBuilder(t.compare)
	batch, err := w.Begin(ctx, t.first)
	for err == nil {
		if err = b.add(batch); err != nil {
			break
		}
		progress(b.ix.Len(), batch.Fraction)
		if batch.Done {
			break
		}
		batch, err = w.Next(ctx, indexBatchSize)
	}
	if err != nil {
		if ctx.Err() != nil {
			err = ErrIndexStopped
		}
		return nil, err
	}
	if b.ix.Len() == 0 {
		return nil, errors.New("the walk found no line event in the window")
	}
	return b.ix, nil
}

// compare orders two times of the current backend.
func (t *Timeline) compare(a, b Time) int {
	t.mu.Lock()
	bk := t.b
	t.mu.Unlock()
	return bk.Compare(a, b)
}

// Index returns the line index once it is built (nil before, or when it
// could not be).
func (t *Timeline) Index() *Index {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.index
}

// OnIndex adds fn to those told how the line index's building goes; fn
// hears the latest report at once when there is one. fn runs on the
// building goroutine: it must return quickly and must not call the
// timeline.
func (t *Timeline) OnIndex(fn func(IndexProgress)) {
	t.mu.Lock()
	t.indexWatchers = append(t.indexWatchers, fn)
	last, ok := t.indexLast, t.indexSeen
	t.mu.Unlock()
	if ok {
		fn(last)
	}
}

func (t *Timeline) tellIndex(p IndexProgress) {
	t.mu.Lock()
	t.indexLast, t.indexSeen = p, true
	ws := slices.Clone(t.indexWatchers)
	t.mu.Unlock()
	for _, fn := range ws {
		fn(p)
	}
}
