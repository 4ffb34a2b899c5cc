package dap_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	godap "github.com/google/go-dap"

	"github.com/timelens/timelens/dap"
	"github.com/timelens/timelens/dap/daptest"
	"github.com/timelens/timelens/gdbmi/gdbtest"
	"github.com/timelens/timelens/history"
	"github.com/timelens/timelens/history/historytest"
)

// These tests replay a sys.settrace trace (historytest) instead of a
// debugger: what the adapter answers to requests it cannot serve. The
// sessions over a real gdb are in session_test.go.

// refused sends a request that must fail with a message containing want.
func refused(t *testing.T, c *daptest.Client, command string, args any, want string) {
	t.Helper()
	r := c.Try(command, args).GetResponse()
	if r.Success || !strings.Contains(r.Message, want) {
		t.Errorf("%s %v: success %v, message %q; want a refusal saying %q", command, args, r.Success, r.Message, want)
	}
}

// TestRefusalsBeforeLaunch: requests that need a session, before launch,
// and requests timelens does not know, are refused with a message.
func TestRefusalsBeforeLaunch(t *testing.T) {
	c := daptest.Serve(t, dap.Config{})
	c.Call("initialize", map[string]any{"adapterID": "timelens"})
	refused(t, c, "fooBar", nil, `does not support the "fooBar" request`)
	refused(t, c, "stackTrace", map[string]any{"threadId": 1}, "send a launch request first")
	refused(t, c, "next", map[string]any{"threadId": 1}, "send a launch request first")
	refused(t, c, "variables", map[string]any{"variablesReference": 7}, "send a launch request first")
	// Nothing runs: a pause is answered, and nothing else happens.
	c.Call("pause", map[string]any{"threadId": 1})
	refused(t, c, "exceptionInfo", map[string]any{"threadId": 1}, "send a launch request first")
	refused(t, c, "launch", map[string]any{"program": "app.py"}, "without a way to open a session")
	refused(t, c, "stackTrace", map[string]any{"threadId": "one"}, "do not decode")
	if th := c.Call("threads", nil).(*godap.ThreadsResponse); len(th.Body.Threads) != 0 {
		t.Errorf("threads before launch: %+v, want none", th.Body.Threads)
	}
	c.Call("disconnect", nil)
}

// TestStaleReferences: frame ids and variablesReferences from before a
// move are refused, never answered with another time point's values; bad
// breakpoints and goto targets are refused with what to do.
func TestStaleReferences(t *testing.T) {
	tl, prog := traceTimeline(t)
	c := daptest.Serve(t, dap.Config{Timeline: tl})
	c.Call("initialize", map[string]any{"adapterID": "timelens"})
	c.Call("launch", map[string]any{})
	c.Event("initialized")
	c.Call("configurationDone", nil)
	if st := c.Stopped(); st.Reason != "entry" {
		t.Errorf("first stop: %q, want entry", st.Reason)
	}
	refused(t, c, "launch", map[string]any{}, "open already")
	frames := c.Call("stackTrace", map[string]any{"threadId": 1}).(*godap.StackTraceResponse).Body.StackFrames
	scopes := c.Call("scopes", map[string]any{"frameId": frames[0].Id}).(*godap.ScopesResponse).Body.Scopes
	c.Call("next", map[string]any{"threadId": 1})
	if st := c.Stopped(); st.Reason != "step" {
		t.Errorf("next: stopped %q", st.Reason)
	}
	refused(t, c, "scopes", map[string]any{"frameId": frames[0].Id}, "before the last move")
	// VS Code asks for an old frame's scopes itself as a step starts: the
	// error says so to the client, not to the user (no notification).
	if e, ok := c.Try("scopes", map[string]any{"frameId": frames[0].Id}).(*godap.ErrorResponse); !ok || e.Body.Error == nil || e.Body.Error.ShowUser {
		t.Errorf("a stale frame's scopes: %+v, want an error response with showUser false", e)
	}
	if e, ok := c.Try("goto", map[string]any{"threadId": 1, "targetId": 42}).(*godap.ErrorResponse); !ok || e.Body.Error == nil || !e.Body.Error.ShowUser {
		t.Errorf("goto to an unknown target: %+v, want an error response with showUser true", e)
	}
	refused(t, c, "variables", map[string]any{"variablesReference": scopes[0].VariablesReference}, "before the last move")
	refused(t, c, "evaluate", map[string]any{"expression": "total", "frameId": frames[0].Id}, "before the last move")
	refused(t, c, "restartFrame", map[string]any{"frameId": frames[0].Id}, "before the last move")
	refused(t, c, "goto", map[string]any{"threadId": 1, "targetId": 42}, "ask for gotoTargets first")
	// Instruction references: only those stackTrace gave out; a backend
	// without bytecode (this trace) says so.
	refused(t, c, "disassemble", map[string]any{"memoryReference": "0x7f001234", "instructionCount": 4}, "not an instructionPointerReference of this session")
	refused(t, c, "disassemble", map[string]any{"memoryReference": "main", "instructionCount": 4}, "not an instructionPointerReference of this session")
	if frames[0].InstructionPointerReference == "" {
		t.Errorf("stackTrace frame %+v has no instructionPointerReference", frames[0])
	} else {
		refused(t, c, "disassemble", map[string]any{"memoryReference": frames[0].InstructionPointerReference, "instructionCount": 4}, "not supported by this backend")
	}
	c.Call("stepIn", map[string]any{"threadId": 1, "granularity": "instruction"})
	if st := c.Stopped(); st.Reason != "pause" || !strings.Contains(st.Description, "not supported by this backend") {
		t.Errorf("an instruction step on a backend without bytecode: stopped %q (%s), want pause saying why", st.Reason, st.Description)
	}
	refused(t, c, "setBreakpoints", map[string]any{"source": map[string]any{"name": "x"}, "breakpoints": []any{}}, "no path")
	bps := c.Call("setBreakpoints", map[string]any{"source": map[string]any{"path": prog},
		"breakpoints": []any{map[string]any{"line": 23, "hitCondition": "every other"}}}).(*godap.SetBreakpointsResponse).Body.Breakpoints
	if len(bps) != 1 || bps[0].Verified || !strings.Contains(bps[0].Message, "hit condition") {
		t.Errorf("a breakpoint with a bad hit condition: %+v, want it unverified with why", bps)
	}
	// The trace has no memory to read: the backend says so.
	refused(t, c, "evaluate", map[string]any{"expression": "total"}, "not supported")
	c.Call("terminate", nil)
	c.Event("terminated")
	refused(t, c, "stackTrace", map[string]any{"threadId": 1}, "send a launch request first")
	c.Call("disconnect", nil)
}

// traceTimeline is a timeline over the settrace trace of loop.py from main.
func traceTimeline(t *testing.T) (*history.Timeline, string) {
	t.Helper()
	python := gdbtest.AnyPython(t) // a real CPython makes the trace
	prog, _ := filepath.Abs(filepath.Join("..", "testdata", "programs", "loop.py"))
	tr, err := historytest.Record(python, prog, "main")
	if err != nil {
		t.Fatal(err)
	}
	tl, err := history.New(context.Background(), tr, history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tl.Close() })
	return tl, prog
}

// TestSubstitutePath: launch's substitutePath maps the recording's paths
// to the editor's in stack frames, and the editor's back in breakpoints.
func TestSubstitutePath(t *testing.T) {
	tl, prog := traceTimeline(t)
	c := daptest.Serve(t, dap.Config{Timeline: tl})
	c.Call("initialize", map[string]any{"adapterID": "timelens"})
	refused(t, c, "launch", map[string]any{"substitutePath": []any{map[string]any{"from": "/x"}}}, `needs both "from" and "to"`)
	c.Call("launch", map[string]any{"substitutePath": []any{map[string]any{"from": filepath.Dir(prog), "to": "/home/ada/src"}}})
	c.Call("configurationDone", nil)
	c.Stopped()
	f := c.Call("stackTrace", map[string]any{"threadId": 1}).(*godap.StackTraceResponse).Body.StackFrames[0]
	if f.Source == nil || f.Source.Path != "/home/ada/src/loop.py" {
		t.Errorf("top frame's source: %+v, want /home/ada/src/loop.py", f.Source)
	}
	c.Call("setBreakpoints", map[string]any{"source": map[string]any{"path": "/home/ada/src/loop.py"},
		"breakpoints": []any{map[string]any{"line": 8}}})
	c.Call("continue", map[string]any{"threadId": 1})
	if st := c.Stopped(); st.Reason != "breakpoint" {
		t.Errorf("continue to a breakpoint set in the editor's path: stopped %q (%s)", st.Reason, st.Description)
	}
	f = c.Call("stackTrace", map[string]any{"threadId": 1}).(*godap.StackTraceResponse).Body.StackFrames[0]
	if f.Line != 8 || f.Name != "Account.deposit" || f.Source.Path != "/home/ada/src/loop.py" {
		t.Errorf("at the breakpoint: %s %+v:%d", f.Name, f.Source, f.Line)
	}
	// This machine has no /home/ada/src: the console says so once, with how
	// to map the recording's directory.
	var told []string
	for _, o := range c.Outputs() {
		if strings.Contains(o, "/home/ada/src/loop.py") {
			told = append(told, o)
		}
	}
	if len(told) != 1 || !strings.Contains(told[0], "which is not on this machine (mapped to /home/ada/src/loop.py)") ||
		!strings.Contains(told[0], "--substitute-path "+filepath.Dir(prog)+"=") {
		t.Errorf("outputs about the missing source: %q, want one saying it is missing and how to map it", told)
	}
	c.Call("disconnect", nil)
}

// TestDisconnectDuringLaunch: a client that gives up while the program is
// being recorded is not kept waiting: the launch stops and fails, the
// disconnect is answered.
func TestDisconnectDuringLaunch(t *testing.T) {
	c := daptest.Serve(t, dap.Config{Start: func(ctx context.Context, _ json.RawMessage, progress func(string)) (*history.Timeline, error) {
		progress("recording (a fake that waits to be cancelled)")
		<-ctx.Done()
		return nil, ctx.Err()
	}})
	c.Call("initialize", map[string]any{"adapterID": "timelens"})
	launch := c.Send("launch", map[string]any{"program": "app.py"})
	disconnect := c.Send("disconnect", nil)
	answered := map[int]bool{}
	for len(answered) < 2 {
		m := c.Next()
		r, ok := m.(godap.ResponseMessage)
		if !ok {
			continue
		}
		seq := r.GetResponse().RequestSeq
		answered[seq] = true
		if seq == launch && (r.GetResponse().Success || !strings.Contains(r.GetResponse().Message, "cancel")) {
			t.Errorf("launch cut short by a disconnect: %+v", r.GetResponse())
		}
		if seq == disconnect && !r.GetResponse().Success {
			t.Errorf("disconnect: %+v", r.GetResponse())
		}
	}
}

// TestJoinedSessionSaysLaunchChoicesAreNotUsed: a debugger that joins a
// session that is open already (the language server's) is told, in the
// debug console, that its launch configuration's program and recording
// options are not used; substitutePath alone says nothing.
func TestJoinedSessionSaysLaunchChoicesAreNotUsed(t *testing.T) {
	tl, prog := traceTimeline(t)
	c := daptest.Serve(t, dap.Config{Timeline: tl})
	c.Call("initialize", map[string]any{"adapterID": "timelens"})
	c.Call("launch", map[string]any{"type": "timelens", "name": "timelens: record from fib", "program": prog,
		"recordFrom": "fib", "__sessionId": "1"})
	c.Event("initialized")
	out := strings.Join(c.Outputs(), "")
	if !strings.Contains(out, "joins the language server's session") || !strings.Contains(out, "program, recordFrom are not used") {
		t.Errorf("output after launch: %q, want that program, recordFrom are not used", out)
	}
	c.Call("disconnect", nil)

	c = daptest.Serve(t, dap.Config{Timeline: tl})
	c.Call("initialize", map[string]any{"adapterID": "timelens"})
	c.Call("launch", map[string]any{"substitutePath": []any{}})
	c.Event("initialized")
	if out := c.Outputs(); len(out) != 0 {
		t.Errorf("output after a launch with nothing to record: %q, want none", out)
	}
	c.Call("disconnect", nil)
}
