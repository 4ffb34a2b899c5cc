package lsp

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/timelens/timelens/history"
	"github.com/timelens/timelens/history/historytest"
)

// dyingBackend is a trace whose debugger can be killed: its moves then
// fail as a dead gdb's do.
type dyingBackend struct {
	*testBackend
	dead atomic.Bool
}

func (b *dyingBackend) Move(ctx context.Context, m history.Move) error {
	if b.dead.Load() {
		return fmt.Errorf("%w (signal: killed)", history.ErrBackendLost)
	}
	return b.testBackend.Move(ctx, m)
}

// The debugger dies under a step: the step still answers, from a new
// debugger at the same time, and the editor is told, sees the restart's
// progress, and is asked to refresh.
func TestDebuggerKilledUnderAStepIsRestartedAndTheEditorTold(t *testing.T) {
	var first *dyingBackend
	opened := 0
	var s *session
	s = newSession(t, sessionOptions{start: func(ctx context.Context, _ json.RawMessage, _ func(string, int)) (*history.Timeline, error) {
		first = &dyingBackend{testBackend: s.backend}
		open := func(context.Context) (history.Backend, error) {
			opened++
			return &testBackend{Trace: &historytest.Trace{Events: s.backend.Events}}, nil
		}
		return history.New(ctx, first, history.Options{Reopen: open})
	}})
	s.initialize(fullCaps())
	s.open(program("loop.py"))
	s.must(cmdStep)
	before := s.must(cmdStep)
	s.editor.drain()

	first.dead.Store(true)
	after := s.must(cmdStep)
	if opened != 1 || !first.closed.Load() {
		t.Fatalf("%d debuggers opened, the dead one closed: %v", opened, first.closed.Load())
	}
	if after.Time != "t3" {
		t.Fatalf("the step that met the dead debugger went to %s, want t3", after.Time)
	}
	s.editor.expect(t, "$/progress begin the debugger is gone (signal: killed); restarting it")
	msg := s.editor.expect(t, "window/showMessage 2 ")
	want := fmt.Sprintf("timelens: the debugger is gone (signal: killed); restarted it and returned to time %s", before.Time)
	if !strings.Contains(msg, want) {
		t.Fatalf("told %q, want %q", msg, want)
	}
	s.editor.expect(t, "$/progress end")
	s.editor.expect(t, "workspace/inlayHint/refresh")
}
