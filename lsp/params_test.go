package lsp

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"go.lsp.dev/protocol"

	"github.com/timelens/timelens/history"
	"github.com/timelens/timelens/history/historytest"
)

// hintAt returns the label of the hint on 1-based line n, or "".
func hintAt(hs []protocol.InlayHint, n int) string {
	for _, h := range hs {
		if int(h.Position.Line) == n-1 {
			s, _ := h.Label.(protocol.String)
			return string(s)
		}
	}
	return ""
}

// TestParametersOnDefLines walks params.py: on the def line of each call on
// the stack, its parameters as the call received them. A method shows self
// and its keyword-only parameter, a lambda its own line, a decorated
// function its def line (not its decorator's), its wrapper *args and
// **kwargs, and a recursive function its innermost call, at each depth.
func TestParametersOnDefLines(t *testing.T) {
	s := newSession(t, sessionOptions{prog: "params.py", from: "main"})
	s.initialize(fullCaps())
	doc := s.open(program("params.py"))
	at := func(fn string, line int, local, value string) []protocol.InlayHint {
		t.Helper()
		s.gotoEvent(s.findEvent(func(ev historytest.Event) bool {
			return ev.Function == fn && ev.Line == line && (local == "" || ev.Locals[local] == value)
		}))
		return s.hints(doc)
	}

	hs := at("Box.put", 19, "_", "")
	if got, want := hintAt(hs, 18), "self = Box(items=[]), item = 'a', times = 2"; got != want {
		t.Errorf("put's def line: %q, want %q", got, want)
	}
	if got := hintAt(hs, 35); got != "" {
		t.Errorf("main has no parameters, its def line shows %q", got)
	}

	// In scale, called by the lambda: both def lines, the lambda's its own.
	hs = at("scale", 25, "", "")
	if got, want := hintAt(hs, 24), "x = 21, factor = 2"; got != want {
		t.Errorf("scale's def line: %q, want %q", got, want)
	}
	if got, want := hintAt(hs, 38), "v = 21"; got != want {
		t.Errorf("the lambda's line: %q, want %q", got, want)
	}

	// depth_first at each depth of its recursion: the innermost call.
	for depth, n := range []string{"3", "2", "1", "0"} {
		hs = at("depth_first", 30, "n", n)
		want := "n = " + n + ", depth = " + string(rune('0'+depth))
		if got := hintAt(hs, 29); got != want {
			t.Errorf("depth_first(%s): def line %q, want %q", n, got, want)
		}
		if got := hintAt(hs, 28); got != "" {
			t.Errorf("depth_first(%s): its decorator's line shows %q", n, got)
		}
		if got, want := hintAt(hs, 9), "args = ("+n+", "+string(rune('0'+depth))+"), kwargs = {}"; depth > 0 && got != want {
			t.Errorf("depth_first(%s): the wrapper's def line %q, want %q", n, got, want)
		}
	}
}

// TestHintShowsAnObjectAsItIsNow: box is bound on main's first line and
// filled by box.put later; at main's end its line shows the box as it is
// now, and put's self as it is now too. A loop's history keeps its earlier
// values as they were bound.
func TestHintShowsAnObjectAsItIsNow(t *testing.T) {
	s := newSession(t, sessionOptions{prog: "params.py", from: "main"})
	s.initialize(fullCaps())
	doc := s.open(program("params.py"))
	s.gotoEvent(len(s.backend.Events) - 1)
	if got, want := hintAt(s.hints(doc), 36), "box = Box(items=['a', 'a', 42])"; got != want {
		t.Errorf("box's line at main's end: %q, want %q", got, want)
	}
	// In the second put, after its append: self (bound as Box(items=['a',
	// 'a'])) is the box now, with 42 in it.
	s.gotoEvent(s.findEvent(func(ev historytest.Event) bool {
		return ev.Function == "Box.put" && ev.Line == 21 && ev.Locals["item"] == "42"
	}))
	hs := s.hints(doc)
	if got, want := hintAt(hs, 18), "self = Box(items=['a', 'a', 42]), item = 42, times = 1"; got != want {
		t.Errorf("put's def line: %q, want %q", got, want)
	}
	if got, want := hintAt(hs, 36), "box = Box(items=['a', 'a', 42])"; got != want {
		t.Errorf("the caller's line of box: %q, want %q", got, want)
	}
}

// TestIndexProgress: the line index is built in the background once the
// session has started, and the editor sees it as a work-done progress; the
// hints read from it then are those the walks gave before.
func TestIndexProgress(t *testing.T) {
	var s *session
	release := make(chan struct{})
	s = newSession(t, sessionOptions{start: func(ctx context.Context, _ json.RawMessage, _ func(string, int)) (*history.Timeline, error) {
		tl, err := history.New(ctx, s.backend, history.Options{})
		if err == nil {
			tl.BuildIndex(heldWalker{s.backend.Walker(), release})
		}
		return tl, err
	}})
	s.initialize(fullCaps())
	loop := s.open(program("loop.py"))
	s.gotoEvent(len(s.backend.Events) - 1)
	s.editor.expect(t, "window/workDoneProgress/create timelens/index")
	s.editor.expect(t, "$/progress begin indexing the window's line events: 0 so far 0%")
	close(release)
	s.editor.expect(t, fmt.Sprintf("$/progress end indexed %d line events in", len(s.backend.Events)))
	moves := s.backend.Moves
	text := readFile(t, program("loop.py"))
	golden(t, "loop_main_end.golden", renderHints(t, text, s.hints(loop)))
	if s.backend.Moves != moves {
		t.Errorf("hints from the index moved the backend %d times", s.backend.Moves-moves)
	}
}

// heldWalker walks no further than its first batch until release closes.
type heldWalker struct {
	history.WindowWalker
	release chan struct{}
}

func (w heldWalker) Next(ctx context.Context, max int) (history.IndexBatch, error) {
	<-w.release
	return w.WindowWalker.Next(ctx, max)
}

// TestWhereGivesTheWindow: timelens.where names the recorded window's first
// and last line events (a trace has no end reason); a move's position
// repeats it once it is known.
func TestWhereGivesTheWindow(t *testing.T) {
	s := newSession(t, sessionOptions{})
	s.initialize(fullCaps())
	s.gotoEvent(3)
	p := s.must(cmdWhere)
	last := fmt.Sprintf("t%d", len(s.backend.Events)-1)
	if p.Window == nil || p.Window.Start != "t0" || string(p.Window.End) != last || p.Window.EndReason != "" || p.Time != "t3" {
		t.Fatalf("where: time %s, window %+v; want t3 in t0 … %s", p.Time, p.Window, last)
	}
	if q := s.must(cmdStep); q.Window == nil || *q.Window != *p.Window {
		t.Errorf("step's position has window %+v, want %+v", q.Window, p.Window)
	}
}
