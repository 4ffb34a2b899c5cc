package pyext

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"

	"github.com/timelens/timelens/history"
)

// Walker is a history.WindowWalker: a debugger of its own over a recording
// (gdb's log saved from the live window, or the same rr trace or UDB
// recording) that walks every line event of the window with the gdb side's
// -timelens-walk, for the line index. The debugger starts at Begin, so that
// making a Walker costs nothing while the session starts.
type Walker struct {
	o Options
	// removeOnClose is a directory the walker owns (a saved copy of the
	// log) and removes when it closes.
	removeOnClose string

	// Close may come from another goroutine than the walk's (the timeline
	// stops a walk that is under way): mu guards b and closed.
	mu     sync.Mutex
	b      *Backend
	closed bool
}

// NewWalker returns a walker that replays the recording o names (o.Recording)
// in a new debugger. When dir is not empty it is the walker's own copy of the
// recording, removed when the walker closes.
func NewWalker(o Options, dir string) *Walker {
	o.Progress = nil
	return &Walker{o: o, removeOnClose: dir}
}

// Begin implements history.WindowWalker: it starts the debugger, goes to t
// and begins the walk there.
func (w *Walker) Begin(ctx context.Context, t history.Time) (history.IndexBatch, error) {
	b, err := w.backend()
	if err == nil && b == nil {
		if b, err = Open(ctx, w.o); err != nil {
			return history.IndexBatch{}, fmt.Errorf("starting the debugger that indexes the window: %w", err)
		}
		w.mu.Lock()
		w.b = b
		closed := w.closed
		w.mu.Unlock()
		if closed {
			b.Close()
			err = errWalkerClosed
		}
	}
	if err != nil {
		return history.IndexBatch{}, err
	}
	if now, err := b.Now(ctx); err != nil {
		return history.IndexBatch{}, err
	} else if now != t {
		if err := b.Goto(ctx, t); err != nil {
			return history.IndexBatch{}, err
		}
	}
	return w.batch(ctx, b, "start", "--event")
}

// Next implements history.WindowWalker.
func (w *Walker) Next(ctx context.Context, max int) (history.IndexBatch, error) {
	b, err := w.backend()
	if err == nil && b == nil {
		err = fmt.Errorf("the walk has not begun")
	}
	if err != nil {
		return history.IndexBatch{}, err
	}
	return w.batch(ctx, b, "next", "--max", strconv.Itoa(max))
}

var errWalkerClosed = errors.New("the walker was closed")

// backend is the walker's debugger (nil before Begin starts it).
func (w *Walker) backend() (*Backend, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, errWalkerClosed
	}
	return w.b, nil
}

func (w *Walker) batch(ctx context.Context, b *Backend, args ...string) (history.IndexBatch, error) {
	payload, err := b.call(ctx, "-timelens-walk", args...)
	if err != nil {
		return history.IndexBatch{}, userError(err)
	}
	var r WalkReply
	if err := Decode(payload, &r); err != nil {
		return history.IndexBatch{}, err
	}
	return r.batch(func(raw string) (history.Time, error) {
		t, err := b.d.ParseTimeString(raw)
		return history.Time(t.Raw), err
	})
}

// Close implements history.WindowWalker; it may be called again, and from
// another goroutine than the walk's (which its debugger's end then stops).
func (w *Walker) Close() error {
	w.mu.Lock()
	b, first := w.b, !w.closed
	w.closed = true
	w.mu.Unlock()
	var err error
	if b != nil {
		err = b.Close()
	}
	if first && w.removeOnClose != "" {
		os.RemoveAll(w.removeOnClose)
	}
	return err
}

// WalkReply is the reply of -timelens-walk (timelens_gdb/walk.py).
type WalkReply struct {
	Calls []struct {
		ID        int      `json:"id"`
		Frame     string   `json:"frame"`
		File      string   `json:"file"`
		Function  string   `json:"function"`
		FirstLine int      `json:"firstline"`
		DefLine   int      `json:"defline"`
		Params    []string `json:"params"`
		Before    bool     `json:"before"`
	} `json:"calls"`
	// Events are [time, call, line, depth, [[name, value, address], ...]];
	// value and address are null for a variable that was unbound.
	Events   []WalkEvent                    `json:"events"`
	Stores   map[string]map[string][]string `json:"stores"`
	Done     bool                           `json:"done"`
	Fraction float64                        `json:"fraction"`
}

// WalkEvent is one event of a WalkReply.
type WalkEvent struct {
	Time  string
	Call  int
	Line  int
	Depth int
	Bound []history.Var
}

// UnmarshalJSON reads the event's array form.
func (e *WalkEvent) UnmarshalJSON(data []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil || len(raw) != 5 {
		return fmt.Errorf("walk event %s: want [time, call, line, depth, bound]", truncate(string(data), 80))
	}
	var bound [][]*string
	for i, v := range []any{&e.Time, &e.Call, &e.Line, &e.Depth, &bound} {
		if err := json.Unmarshal(raw[i], v); err != nil {
			return fmt.Errorf("walk event %s: %w", truncate(string(data), 80), err)
		}
	}
	for _, b := range bound {
		if len(b) != 3 || b[0] == nil {
			return fmt.Errorf("walk event at %s: a variable is not [name, value, address]", e.Time)
		}
		v := history.Var{Name: *b[0]}
		if b[1] != nil && b[2] != nil {
			v.Value, v.Address = *b[1], *b[2]
		}
		e.Bound = append(e.Bound, v)
	}
	return nil
}

// batch converts the reply, with times made canonical by canon.
func (r *WalkReply) batch(canon func(string) (history.Time, error)) (history.IndexBatch, error) {
	out := history.IndexBatch{Done: r.Done, Fraction: r.Fraction, Stores: map[string]map[int][]string{}}
	for _, c := range r.Calls {
		out.Calls = append(out.Calls, history.IndexCall{ID: c.ID, File: c.File, Function: c.Function, Frame: c.Frame,
			FirstLine: c.FirstLine, DefLine: c.DefLine, Params: c.Params, BeganBefore: c.Before})
	}
	for file, lines := range r.Stores {
		out.Stores[file] = lineKeys(lines)
		if out.Stores[file] == nil {
			out.Stores[file] = map[int][]string{}
		}
	}
	for _, e := range r.Events {
		t, err := canon(e.Time)
		if err != nil {
			return history.IndexBatch{}, err
		}
		out.Events = append(out.Events, history.IndexEvent{Time: t, Call: e.Call, Line: e.Line, Depth: e.Depth, Bound: e.Bound})
	}
	return out, nil
}

var _ history.WindowWalker = (*Walker)(nil)
