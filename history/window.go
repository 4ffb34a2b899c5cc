package history

import (
	"context"
	"errors"
	"fmt"
)

// Window is the recorded window: the times of its first and last line
// events and, when the recording stopped before the program ended, why, in
// the user's words ("a second thread started at race.py:76: gdb record full
// records one thread").
type Window struct {
	Start     Time   `json:"start"`
	End       Time   `json:"end,omitempty"`
	EndReason string `json:"endReason,omitempty"`
}

// WindowEnd is an optional Backend capability: why the recorded window
// ended before the program did, in the user's words; "" when it did not, or
// when the backend cannot say.
type WindowEnd interface {
	WindowEndReason() string
}

// HistoryEnds is an optional Backend capability: go to the start or the end
// of the recorded history, which need not be a line event.
type HistoryEnds interface {
	GotoHistoryEnd(ctx context.Context, edge Edge) error
}

// EndReason is why the recorded window ended before the program did (""
// when it did not): WindowEnd of the backend.
func (t *Timeline) EndReason() string {
	t.mu.Lock()
	b := t.b
	t.mu.Unlock()
	if w, ok := b.(WindowEnd); ok {
		return w.WindowEndReason()
	}
	return ""
}

// Window returns the recorded window. Its end, the window's last line
// event, comes from the line index when there is one; else it is found once
// by going to the end of history and back one line event, and time returns
// to where it was.
func (t *Timeline) Window(ctx context.Context) (Window, error) {
	end, err := t.lastEvent(ctx)
	if err != nil {
		return Window{}, err
	}
	t.mu.Lock()
	first := t.first
	t.mu.Unlock()
	return Window{Start: first, End: end, EndReason: t.EndReason()}, nil
}

// GotoEdge moves to the window's first (Start) or last (End) line event.
func (t *Timeline) GotoEdge(ctx context.Context, edge Edge) (Position, error) {
	to := t.firstTime()
	if edge == End {
		end, err := t.lastEvent(ctx)
		if err != nil {
			return Position{}, err
		}
		to = end
	}
	if now, _ := t.Now(); now == to {
		return t.Where(ctx)
	}
	return t.Goto(ctx, to)
}

// KnownWindow returns the window when its end is known without moving (the
// line index is built, or Window found it), else nil.
func (t *Timeline) KnownWindow() *Window {
	t.mu.Lock()
	w := &Window{Start: t.first, End: t.last}
	ix := t.index
	t.mu.Unlock()
	if ix != nil {
		w.End = ix.Last()
	}
	if w.End == "" {
		return nil
	}
	w.EndReason = t.EndReason()
	return w
}

func (t *Timeline) firstTime() Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.first
}

// lastEvent is the time of the window's last line event.
func (t *Timeline) lastEvent(ctx context.Context) (Time, error) {
	if ix := t.Index(); ix != nil {
		return ix.Last(), nil
	}
	t.mu.Lock()
	known := t.last
	t.mu.Unlock()
	if known != "" {
		return known, nil
	}
	return call(t, ctx, t.opts.MoveTimeout, func(ctx context.Context) (last Time, err error) {
		now, _ := t.Now()
		defer func() {
			if rerr := t.backTo(ctx, now); rerr != nil && err == nil {
				err = fmt.Errorf("finding the window's last line event: %w", rerr)
			}
		}()
		if ends, ok := t.b.(HistoryEnds); ok {
			if err := ends.GotoHistoryEnd(ctx, End); err != nil {
				return "", err
			}
			// The end of history need not be a line event: the one before it
			// is the last, unless the end was one (then a step finds it again).
			var edge *EdgeError
			if err := t.b.Move(ctx, ReverseStep); err != nil && !errors.As(err, &edge) {
				return "", err
			}
		}
		for {
			err := t.b.Move(ctx, Step)
			var edge *EdgeError
			if errors.As(err, &edge) {
				break
			}
			if err != nil {
				return "", err
			}
		}
		last, err = t.b.Now(ctx)
		if err == nil {
			t.mu.Lock()
			t.last = last
			t.mu.Unlock()
		}
		return last, err
	})
}

// Compare orders two times of the timeline's recording: -1, 0 or +1.
func (t *Timeline) Compare(a, b Time) int {
	t.mu.Lock()
	bk := t.b
	t.mu.Unlock()
	return bk.Compare(a, b)
}

// Start is the time of the window's first line event, where the timeline
// began.
func (t *Timeline) Start() Time { return t.firstTime() }
