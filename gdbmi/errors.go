package gdbmi

import (
	"errors"
	"fmt"
	"time"
)

// ErrExited means gdb is no longer running: it crashed, was killed, or was
// stopped after a timeout. The session cannot be used again; start a new one.
var ErrExited = errors.New("gdb exited; restart the session")

// ExitError is ErrExited with how gdb ended: errors.Is(err, ErrExited)
// holds, and errors.As finds the status without reading the message.
type ExitError struct {
	// Op is the command that found gdb gone; empty when gdb went between
	// commands.
	Op string
	// Status is how gdb ended, as its wait status reads ("signal: killed",
	// "exit status 1"), or why it never started; "no exit status" when the
	// session could not learn it.
	Status string
}

func (e *ExitError) Error() string {
	during := ""
	if e.Op != "" {
		during = " during " + e.Op
	}
	return fmt.Sprintf("gdb exited (%s)%s; restart the session", e.Status, during)
}

// Is makes an ExitError match ErrExited.
func (e *ExitError) Is(target error) bool { return target == ErrExited }

// NotFoundError means the debugger executable could not be found.
type NotFoundError struct {
	Exe string
	Err error
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("%s not found: install it or name it with --gdb/--rr/--udb (timelens doctor shows what works here)", e.Exe)
}

func (e *NotFoundError) Unwrap() error { return e.Err }

// CommandError is gdb's refusal of a command, with gdb's own message.
type CommandError struct {
	// Op is the MI operation or CLI command that failed.
	Op string
	// Msg is gdb's message.
	Msg string
	// Console is what the command printed before failing.
	Console string
}

func (e *CommandError) Error() string { return fmt.Sprintf("gdb: %s: %s", e.Op, e.Msg) }

// TimeoutError means a command got no answer in time. gdb was killed, so the
// session is over (errors.Is(err, ErrExited) holds); a new session replays
// to the same point.
type TimeoutError struct {
	Op    string
	After time.Duration
	Err   error
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("gdb did not answer %s within %s and was stopped; restart the session (raise the timeout for slow recordings)", e.Op, e.After)
}

// Is makes a TimeoutError match ErrExited and context.DeadlineExceeded.
func (e *TimeoutError) Is(target error) bool { return target == ErrExited || errors.Is(e.Err, target) }

// InterruptedError means an execution command ran out of time and was
// interrupted; the program stopped where Stop says and the session is usable.
type InterruptedError struct {
	Op    string
	After time.Duration
	Stop  StopEvent
	Err   error
}

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("%s was interrupted after %s (the program had not stopped)", e.Op, e.After)
}

// Unwrap returns the context's error.
func (e *InterruptedError) Unwrap() error { return e.Err }
