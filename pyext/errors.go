package pyext

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/timelens/timelens/gdbmi"
)

// Errors cross the boundary between the Python extension and Go as codes
// with fields: a -timelens-* command that cannot do what it was asked
// raises an MI error whose message is one JSON object,
//
//	{"code": "edge", "message": "start of recorded history: no earlier line event", "edge": "start"}
//
// The Go side decides on Code and the fields, never on the wording, and
// shows Message to the user.

// Code says why the extension refused a command.
type Code string

// The codes, with the fields each one carries.
const (
	// CodeEdge: a move refused at the window's edge; time unchanged.
	// Field "edge": "start" or "end".
	CodeEdge Code = "edge"
	// CodeCallEnded: frame-next found that the call returned first.
	CodeCallEnded Code = "call-ended"
	// CodeNoCall: no previous or next call of a function. Fields
	// "function", "direction" ("previous" or "next").
	CodeNoCall Code = "no-call"
	// CodeNeverCalled: the --record-from function never ran. Field "function".
	CodeNeverCalled Code = "never-called"
	// CodeNoEarlierWrite: the last-write search found no write in the
	// window (the value was set before recording started). Field "path".
	CodeNoEarlierWrite Code = "no-earlier-write"
	// CodeNoLaterWrite: the next-write search reached the end of the
	// recorded history without finding a write. Field "path".
	CodeNoLaterWrite Code = "no-later-write"
	// CodeNoDebugSymbols: the interpreter's debug symbols are missing.
	// Field "detail": what gdb said.
	CodeNoDebugSymbols Code = "no-debug-symbols"
	// CodeUnsupportedPython: a CPython version the extension cannot read.
	// Field "version".
	CodeUnsupportedPython Code = "unsupported-python"
	// CodeNotRecording: no recording to navigate.
	CodeNotRecording Code = "not-recording"
	// CodeNoProcess: no live process.
	CodeNoProcess Code = "no-process"
	// CodeBadArgument: a command's arguments are wrong.
	CodeBadArgument Code = "bad-argument"
	// CodeNotFound: a name or attribute that cannot be read.
	CodeNotFound Code = "not-found"
	// CodeUnsupported: reading it would run code (a property, ...).
	CodeUnsupported Code = "unsupported"
	// CodeUnreadable: memory that cannot be read.
	CodeUnreadable Code = "unreadable"
	// CodeInterrupted: the command was interrupted.
	CodeInterrupted Code = "interrupted"
	// CodePaused: a run to a line stopped because the client asked for a
	// pause (Backend.Pause); time unchanged.
	CodePaused Code = "paused"
	// CodeGaveUp: a search stopped at its bound.
	CodeGaveUp Code = "gave-up"
	// CodeInternal: a bug in the extension.
	CodeInternal Code = "internal"
	// CodeStopFailed: a bug in the extension met inside a watchpoint's or
	// breakpoint's stop() callback during a move, which ended the move.
	// Fields "where" (the callback), "detail" (its traceback, for the log).
	CodeStopFailed Code = "stop-failed"
	// CodeNoRun: a run to a line found no line event at it (where its
	// condition holds) before the window's end; time unchanged. Fields
	// "file", "line", "direction" ("forward" or "reverse"), "condition",
	// "runs" (runs of the line passed whose condition did not hold).
	CodeNoRun Code = "no-run"
	// CodeNoCode: a line where no code runs (blank, a comment, past the
	// end, a line no instruction starts) or a file that is not the
	// program's Python source. Fields "file", "line".
	CodeNoCode Code = "no-code"
	// CodeBadCondition: a condition timelens cannot evaluate from memory
	// (not Python, or it needs code of the program to run). Fields
	// "condition", "unsupported" (what it uses that is not supported).
	CodeBadCondition Code = "bad-condition"
)

// Error is a refusal of the Python extension, decoded from gdb's MI error.
type Error struct {
	// Code says why; empty for a message that carries no code (gdb's own
	// errors).
	Code Code
	// Message is the text for the user.
	Message string
	// Fields are the code's other fields ("edge", "function", ...).
	Fields map[string]any
	// Err is gdb's error the refusal came in.
	Err *gdbmi.CommandError
}

// Error returns Message.
func (e *Error) Error() string { return e.Message }

// Unwrap returns gdb's error.
func (e *Error) Unwrap() error {
	if e.Err == nil {
		return nil
	}
	return e.Err
}

// Field returns a field as text ("" when absent).
func (e *Error) Field(name string) string {
	switch v := e.Fields[name].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

// AsError finds the extension's refusal in err: an *Error already decoded,
// or a *gdbmi.CommandError whose message it decodes. It returns nil when
// err holds neither (gdb exited, timed out, ...).
func AsError(err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	var ce *gdbmi.CommandError
	if !errors.As(err, &ce) {
		return nil
	}
	return decodeError(ce)
}

// decodeError reads gdb's error message: one JSON object with a code from
// the gdb side, or gdb's own text (no code).
func decodeError(ce *gdbmi.CommandError) *Error {
	msg := strings.TrimSpace(ce.Msg)
	if strings.HasPrefix(msg, "{") {
		var fields map[string]any
		if json.Unmarshal([]byte(msg), &fields) == nil {
			code, _ := fields["code"].(string)
			text, _ := fields["message"].(string)
			if code != "" {
				delete(fields, "code")
				delete(fields, "message")
				if text == "" {
					text = "timelens: " + code
				}
				return &Error{Code: Code(code), Message: text, Fields: fields, Err: ce}
			}
		}
	}
	return &Error{Message: msg, Fields: map[string]any{}, Err: ce}
}
