package pyext

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/history"
)

// TestErrorDecoding: a refusal of the extension is decoded from gdb's MI
// error into a code, its fields and the message for the user: from the
// JSON the gdb side raises; gdb's own errors carry no code, and a message
// is never read for one.
func TestErrorDecoding(t *testing.T) {
	for _, c := range []struct {
		name, msg string
		code      Code
		message   string
		fields    map[string]any
	}{
		// JSON, as the gdb side raises it.
		{"json edge", `{"code": "edge", "message": "start of recorded history: no earlier line event", "edge": "start"}`,
			CodeEdge, "start of recorded history: no earlier line event", map[string]any{"edge": "start"}},
		{"json no-call", `{"code": "no-call", "message": "no previous call of fib", "function": "fib", "direction": "previous"}`,
			CodeNoCall, "no previous call of fib", map[string]any{"function": "fib", "direction": "previous"}},
		{"json never-called", `{"code": "never-called", "message": "main was never called", "function": "main"}`,
			CodeNeverCalled, "main was never called", map[string]any{"function": "main"}},
		{"json no-earlier-write", `{"code": "no-earlier-write", "message": "no write of total before now: it was set before recording started", "path": "total"}`,
			CodeNoEarlierWrite, "no write of total before now: it was set before recording started", map[string]any{"path": "total"}},
		{"json unsupported-python", `{"code": "unsupported-python", "message": "timelens reads CPython 3.10 to 3.14, not 3.9", "version": "3.9"}`,
			CodeUnsupportedPython, "timelens reads CPython 3.10 to 3.14, not 3.9", map[string]any{"version": "3.9"}},
		{"json without message", `{"code": "interrupted"}`, CodeInterrupted, "timelens: interrupted", map[string]any{}},
		// gdb's own errors, and what only looks like JSON: no code, whatever
		// the text says.
		{"gdb text that reads like a refusal", "start of recorded history: no earlier line event", "", "start of recorded history: no earlier line event", map[string]any{}},
		{"gdb undefined command", `Undefined command: "frobnicate".  Try "help".`, "", `Undefined command: "frobnicate".  Try "help".`, map[string]any{}},
		{"gdb no symbol table", `No symbol table is loaded.  Use the "file" command.`, "", `No symbol table is loaded.  Use the "file" command.`, map[string]any{}},
		{"json without code", `{"message": "x"}`, "", `{"message": "x"}`, map[string]any{}},
		{"broken json", `{"code": "edge"`, "", `{"code": "edge"`, map[string]any{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ce := &gdbmi.CommandError{Op: "-timelens-step", Msg: c.msg}
			e := AsError(fmt.Errorf("moving: %w", ce))
			if e == nil {
				t.Fatalf("AsError(%q) = nil", c.msg)
			}
			if e.Code != c.code || e.Message != c.message || e.Error() != c.message || !reflect.DeepEqual(e.Fields, c.fields) {
				t.Errorf("AsError(%q) = code %q, message %q, fields %v; want %q, %q, %v", c.msg, e.Code, e.Message, e.Fields, c.code, c.message, c.fields)
			}
			if !errors.Is(e, ce) {
				t.Errorf("the decoded error does not unwrap to gdb's")
			}
		})
	}
	if e := AsError(gdbmi.ErrExited); e != nil {
		t.Errorf("AsError(ErrExited) = %v; want nil (not a refusal of the extension)", e)
	}
}

// TestRefusalsBecomeNamedErrors: the backend turns codes into history's
// named errors, whatever the message says.
func TestRefusalsBecomeNamedErrors(t *testing.T) {
	refusal := func(msg string) error { return &gdbmi.CommandError{Op: "-timelens-step", Msg: msg} }
	var edge *history.EdgeError
	err := moveError("reverseStep", refusal(`{"code": "edge", "message": "nothing before", "edge": "start"}`))
	if !errors.As(err, &edge) || edge.Edge != history.Start || edge.Move != "reverseStep" {
		t.Errorf("edge start: %v", err)
	}
	err = moveError("step", refusal(`{"code": "edge", "message": "nothing after", "edge": "end"}`))
	if !errors.As(err, &edge) || edge.Edge != history.End {
		t.Errorf("edge end: %v", err)
	}
	err = moveError("next", refusal(`{"code": "call-ended", "message": "the call returned first"}`))
	if !errors.Is(err, history.ErrCallEnded) || err.Error() != "the call returned: the call returned first" {
		t.Errorf("call-ended: %v", err)
	}
	err = moveError("nextCall", refusal(`{"code": "no-call", "message": "no next call of fib", "function": "fib", "direction": "next"}`))
	if !errors.Is(err, history.ErrNoSuchCall) || AsError(err).Field("function") != "fib" {
		t.Errorf("no-call: %v", err)
	}
	err = moveError("step", refusal(`{"code": "unreadable", "message": "unreadable memory at 0x10"}`))
	if err.Error() != "unreadable memory at 0x10" || AsError(err).Code != CodeUnreadable {
		t.Errorf("another refusal keeps its message and code: %v", err)
	}
	if err := moveError("step", gdbmi.ErrExited); err != gdbmi.ErrExited {
		t.Errorf("gdb's exit is not a refusal: %v", err)
	}
}
