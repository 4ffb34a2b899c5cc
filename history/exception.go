package history

import (
	"context"
	"errors"
	"fmt"
)

// Exception is the exception a program ended with: the recorded window
// ends where the main module's evaluation returned because an exception was
// not caught, read from memory there.
type Exception struct {
	// Type is the exception's class as Python's traceback prints it:
	// "ZeroDivisionError", "json.decoder.JSONDecodeError" (the module left
	// out for builtins, and from 3.11 on for __main__).
	Type string `json:"type"`
	// Message is str() of the exception where its class keeps
	// BaseException's __str__ (KeyError: its key's repr); "" when it has no
	// arguments.
	Message string `json:"message"`
	// CustomStr reports that a class of the exception defines __str__ in
	// Python: Message shows its arguments instead (running __str__ would run
	// code in the program).
	CustomStr bool `json:"custom_str"`
	// Traceback is where it passed, outermost call first, as Python's
	// traceback lists it.
	Traceback []TracebackEntry `json:"traceback"`
}

// TracebackEntry is one line of a traceback.
type TracebackEntry struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Name     string `json:"name"`     // the code's name, as the traceback prints it
	Qualname string `json:"qualname"` // its qualified name
}

// Description is the last line of Python's traceback: "ZeroDivisionError:
// division by zero", or the type alone without a message.
func (e *Exception) Description() string {
	if e.Message == "" {
		return e.Type
	}
	return e.Type + ": " + e.Message
}

// Text is the traceback as Python prints it, without the source lines.
func (e *Exception) Text() string {
	s := "Traceback (most recent call last):\n"
	for _, f := range e.Traceback {
		s += fmt.Sprintf("  File %q, line %d, in %s\n", f.File, f.Line, f.Name)
	}
	return s + e.Description()
}

// ExceptionReader is an optional Backend capability: the exception the
// program ended with (nil when it did not end with one: the window ended
// for another reason, or the program returned normally, or exited through
// SystemExit). Time must not change.
type ExceptionReader interface {
	UncaughtException(ctx context.Context) (*Exception, error)
}

// UncaughtException is the exception the program ended with, or nil.
// Time does not change.
func (t *Timeline) UncaughtException(ctx context.Context) (*Exception, error) {
	return call(t, ctx, t.opts.MoveTimeout, func(ctx context.Context) (*Exception, error) {
		r, ok := t.b.(ExceptionReader)
		if !ok {
			return nil, nil
		}
		before, _ := t.Now()
		e, err := r.UncaughtException(ctx)
		if rerr := t.backTo(ctx, before); rerr != nil {
			return nil, fmt.Errorf("reading the exception at the window's end: %w", rerr)
		}
		return e, err
	})
}

// ErrPaused means a move stopped because the client asked for a pause
// (Timeline.Pause); time did not change.
var ErrPaused = errors.New("paused")

// Pauser is an optional Backend capability: ask the run to a line in
// progress (RunToLine, the long one), from another goroutine, to stop (on),
// or take the request back (off). A run that stops for it fails with an
// error wrapping ErrPaused, time unchanged; other moves do not look.
type Pauser interface {
	Pause(on bool) error
}

// Pause asks the run to a line in progress to stop, from any goroutine
// (on), or takes the request back once it is over (off): the request stays
// until then, so that a run started later stops at once too. Backends
// without the capability ignore it.
func (t *Timeline) Pause(on bool) error {
	t.mu.Lock()
	b := t.b
	t.mu.Unlock()
	if p, ok := b.(Pauser); ok {
		return p.Pause(on)
	}
	return nil
}
