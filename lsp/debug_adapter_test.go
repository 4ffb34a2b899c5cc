package lsp

import (
	"encoding/json"
	"fmt"
	"net"
	"testing"

	godap "github.com/google/go-dap"
	"go.lsp.dev/protocol"

	"github.com/timelens/timelens/dap/daptest"
)

// TestDebugAdapterSharesTheSession: timelens.debugAdapter hands out a
// loopback port whose one DAP client drives the same timeline: the
// debugger's step moves the editor's hints and current line, a command's
// move gives the debugger a stopped event there, and the debugger's
// disconnect leaves the language server's session open.
func TestDebugAdapterSharesTheSession(t *testing.T) {
	s := newSession(t, sessionOptions{})
	s.initialize(fullCaps())
	loop := s.open(program("loop.py"))
	res, err := s.server.ExecuteCommand(s.ctx, &protocol.ExecuteCommandParams{Command: cmdDebugAdapter})
	if err != nil {
		t.Fatal(err)
	}
	var addr debugAdapterAddr
	if err := json.Unmarshal(res, &addr); err != nil || addr.Host != "127.0.0.1" || addr.Port == 0 {
		t.Fatalf("timelens.debugAdapter: %s (%v), want a loopback address", res, err)
	}
	hostPort := net.JoinHostPort(addr.Host, fmt.Sprint(addr.Port))
	conn, err := net.Dial("tcp", hostPort)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := daptest.New(t, conn)
	c.Call("initialize", map[string]any{"adapterID": "timelens"})
	c.Call("launch", map[string]any{})
	c.Event("initialized")
	c.Call("configurationDone", nil)
	if st := c.Stopped(); st.Reason != "entry" {
		t.Errorf("first stop: %q, want entry (the session is at the window's start)", st.Reason)
	}
	if second, err := net.Dial("tcp", hostPort); err == nil {
		second.Close()
		t.Errorf("%s accepted a second debugger", hostPort)
	}
	top := func() godap.StackFrame {
		t.Helper()
		return c.Call("stackTrace", map[string]any{"threadId": 1}).(*godap.StackTraceResponse).Body.StackFrames[0]
	}

	// The debugger steps: the editor follows.
	s.editor.drain()
	c.Call("stepIn", map[string]any{"threadId": 1})
	c.Stopped()
	f := top()
	s.editor.expect(t, "window/showDocument loop.py:"+itoa(f.Line-1))
	s.editor.expect(t, "workspace/inlayHint/refresh")
	if p := s.must(cmdWhere); p.Line != f.Line-1 || p.Function != f.Name || p.URI != string(loop) {
		t.Errorf("after the debugger's stepIn the editor is at %s:%d, the debugger at %s:%d", p.Function, p.Line, f.Name, f.Line-1)
	}

	// A command moves: the debugger hears it.
	p := s.must(cmdStep)
	if st := c.Stopped(); st.Reason != "goto" {
		t.Errorf("after timelens.step the debugger was told %q, want a stopped event (goto)", st.Reason)
	}
	if f := top(); f.Line-1 != p.Line || f.Name != p.Function {
		t.Errorf("after timelens.step the debugger is at %s:%d, the editor at %s:%d", f.Name, f.Line-1, p.Function, p.Line)
	}

	c.Call("disconnect", nil)
	if q := s.must(cmdWhere); q.Time != p.Time {
		t.Errorf("after the debugger's disconnect: %+v, want the session still at %s", q, p.Time)
	}
}
