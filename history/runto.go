package history

import (
	"context"
	"errors"
	"fmt"
)

// LineRun is one run of a line: a line event at it, anywhere in the
// recorded window (timelens.lineRuns).
type LineRun struct {
	// Time is when the line was about to run, valid for Goto.
	Time Time `json:"time"`
	// Function is the qualified name of the code that ran it.
	Function string `json:"function"`
	// Depth of its frame, as in Position.
	Depth int `json:"depth"`
	// Assigned holds the values the line gave the names it binds, read at
	// the next line event of the same call (empty when the call ended first).
	Assigned map[string]string `json:"assigned"`
}

// LineRunner is an optional Backend capability: run to a line, either way,
// where a condition holds, and list every run of a line. Backends without
// it answer ErrNotSupported.
type LineRunner interface {
	// RunToLine moves to the next (forward) or previous line event at
	// file:line (1-based) in any frame where condition, a Python
	// expression evaluated from memory in that frame ("" for none), holds.
	// When there is none it fails with an error wrapping ErrNoRun, and time
	// must be as it was.
	RunToLine(ctx context.Context, file string, line int, condition string, forward bool) error
	// LineRuns lists the line events at file:line in the recorded window,
	// oldest first, at most limit of them; more reports that the window
	// holds more. It may leave time elsewhere: the Timeline goes back.
	LineRuns(ctx context.Context, file string, line, limit int) (runs []LineRun, more bool, err error)
}

// ErrNoRun means a run to a line found no line event at it (where its
// condition holds) in the direction asked, before the end of the recorded
// window. Time did not change.
var ErrNoRun = errors.New("no such run of the line in the recorded history")

// RunToLine moves to the next (forward) or previous line event at
// file:line (1-based) in any frame where condition ("" for none) holds.
func (t *Timeline) RunToLine(ctx context.Context, file string, line int, condition string, forward bool) (Position, error) {
	name := "reverseRunToLine"
	if forward {
		name = "runToLine"
	}
	return t.move(ctx, name, func(ctx context.Context) error {
		lr, ok := t.b.(LineRunner)
		if !ok {
			return fmt.Errorf("%s: %w", name, ErrNotSupported)
		}
		return lr.RunToLine(ctx, file, line, condition, forward)
	})
}

// LineRuns lists the runs of file:line (1-based) in the recorded window,
// oldest first, at most limit. Time does not change.
func (t *Timeline) LineRuns(ctx context.Context, file string, line, limit int) ([]LineRun, bool, error) {
	type answer struct {
		runs []LineRun
		more bool
	}
	a, err := call(t, ctx, t.opts.MoveTimeout, func(ctx context.Context) (answer, error) {
		lr, ok := t.b.(LineRunner)
		if !ok {
			return answer{}, fmt.Errorf("lineRuns: %w", ErrNotSupported)
		}
		before, _ := t.Now()
		runs, more, err := lr.LineRuns(ctx, file, line, limit)
		if rerr := t.backTo(ctx, before); rerr != nil {
			return answer{}, fmt.Errorf("runs of %s:%d: %w", file, line, rerr)
		}
		return answer{runs, more}, err
	})
	return a.runs, a.more, err
}
