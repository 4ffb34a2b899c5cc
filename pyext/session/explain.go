package session

import (
	"fmt"

	"github.com/timelens/timelens/pyext"
)

// explain adds what to do next to the refusals of the Python extension
// while a session opens, by their codes.
func explain(err error) error {
	e := pyext.AsError(err)
	if e == nil {
		return err
	}
	switch e.Code {
	case pyext.CodeNeverCalled:
		fn := e.Field("function")
		if fn == "" {
			fn = "the main module"
		}
		before := "before the program exited"
		if ended := e.Field("ended"); ended != "" && ended != "exited" {
			before = "before the program stopped (" + ended + ")"
		}
		return &explained{e, fmt.Sprintf("recording: %s was never called %s; check the --record-from name (a function the program calls), or leave --record-from out to record from the first line", fn, before)}
	case pyext.CodeNoDebugSymbols:
		said := e.Field("detail")
		if said == "" {
			said = e.Message
		}
		return &explained{e, fmt.Sprintf("this Python has no debug info (gdb: %s), which timelens needs to read its frames; install its debug symbols (Debian: python3.X-dbg) or give a Python built with -g via --python or after --", said)}
	}
	return err
}

// explained is an error said again with what to do about it; errors.As
// still finds the original.
type explained struct {
	err error
	msg string
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.err }
