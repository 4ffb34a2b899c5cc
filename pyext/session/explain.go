package session

import (
	"errors"
	"fmt"
	"strings"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/pyext"
)

// explain adds what to do next to the refusals met while a session opens:
// the Python extension's, by their codes, and a debugger that is not there.
// A message names a flag as the user's when c has it set; otherwise it
// says what timelens used by default and how to choose. python is how
// checkProgram named the interpreter ("" when PROGRAM names it).
func explain(err error, c Config, python string) error {
	var nf *gdbmi.NotFoundError
	if errors.As(err, &nf) {
		return &explained{err, notFound(c, nf)}
	}
	e := pyext.AsError(err)
	if e == nil {
		return err
	}
	switch e.Code {
	case pyext.CodeNeverCalled:
		fn := e.Field("function")
		before := "before the program exited"
		if ended := e.Field("ended"); ended != "" && ended != "exited" {
			before = "before the program stopped (" + ended + ")"
		}
		if fn != "" && c.RecordFrom != "" {
			return &explained{e, fmt.Sprintf("recording: %s was never called %s; check the --record-from name (a function the program calls), or leave --record-from out to record from the first line", fn, before)}
		}
		return &explained{e, fmt.Sprintf("recording: %s; timelens records a Python program: a .py file, or an interpreter and its script after -- (it ran: %s)",
			strings.TrimSuffix(e.Message, " (is it a Python program?)"), strings.Join(c.Program, " "))}
	case pyext.CodeNoDebugSymbols:
		said := e.Field("detail")
		if said == "" {
			said = e.Message
		}
		which := "this Python"
		if python != "" {
			which = python
		}
		return &explained{e, fmt.Sprintf("%s has no debug info (gdb: %s), which timelens needs to read its frames; install its debug symbols (Debian: python3.X-dbg) or use another interpreter, built with -g: name it with --python PATH or after -- (timelens doctor lists those it finds and whether each works)", which, said)}
	}
	return err
}

// notFound says which debugger is missing: the one the user named, or the
// default on PATH, and how to get or name one.
func notFound(c Config, nf *gdbmi.NotFoundError) string {
	kind, _ := c.Kind()
	flag, named, install := "--gdb", c.GDB, "gdb 14 or newer (Debian/Ubuntu: apt-get install gdb)"
	switch kind {
	case gdbmi.KindRR:
		flag, named, install = "--rr", c.RR, "rr (apt-get install rr; recent CPUs need a recent rr: github.com/rr-debugger/rr/releases)"
		if nf.Exe != "rr" && nf.Exe != c.RR {
			flag, named, install = "--gdb", c.GDB, "gdb 14 or newer (Debian/Ubuntu: apt-get install gdb), which rr replays through"
		}
	case gdbmi.KindUDB:
		flag, named, install = "--udb", c.UDB, "UDB (Undo's time-travel debugger)"
	}
	if named != "" {
		return fmt.Sprintf("%s %s: not found; name the executable of %s; timelens doctor %s PATH checks one", flag, named, install, flag)
	}
	return fmt.Sprintf("%s is not on PATH: install %s, or name its executable with %s PATH; timelens doctor shows which debuggers work here", nf.Exe, install, flag)
}

// explained is an error said again with what to do about it; errors.As
// still finds the original.
type explained struct {
	err error
	msg string
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.err }
