package history_test

import (
	"fmt"
	"testing"

	"github.com/timelens/timelens/history"
)

// TestWindowEdges: the window's first and last line events, found without
// changing time, and moves to either (annotate --at start|end); with the
// line index, the same end without moving.
func TestWindowEdges(t *testing.T) {
	tl, tr := timeline(t, "loop.py", "main")
	c := ctx(t)
	last := history.Time(fmt.Sprintf("t%d", len(tr.Events)-1))
	if _, err := tl.Goto(c, "t5"); err != nil {
		t.Fatal(err)
	}
	if tl.KnownWindow() != nil {
		t.Error("the window's end is known before anything looked for it")
	}
	w, err := tl.Window(c)
	if err != nil {
		t.Fatal(err)
	}
	if w.Start != "t0" || w.End != last || w.EndReason != "" {
		t.Errorf("window %+v, want t0 … %s", w, last)
	}
	if now, _ := tl.Now(); now != "t5" {
		t.Errorf("finding the window's end left time at %s", now)
	}
	if k := tl.KnownWindow(); k == nil || *k != w {
		t.Errorf("known window %v, want %v", k, w)
	}
	p, err := tl.GotoEdge(c, history.End)
	if err != nil || p.Time != last || p.Line != tr.Events[len(tr.Events)-1].Line {
		t.Errorf("goto end: %+v %v", p, err)
	}
	p, err = tl.GotoEdge(c, history.Start)
	if err != nil || p.Time != "t0" || p.Line != 20 {
		t.Errorf("goto start: %+v %v", p, err)
	}

	indexedTL, tr2 := timeline(t, "loop.py", "main")
	indexed(t, indexedTL, tr2)
	moves := tr2.Moves
	if w, err := indexedTL.Window(c); err != nil || w.End != history.Time(fmt.Sprintf("t%d", len(tr2.Events)-1)) || tr2.Moves != moves {
		t.Errorf("the index's window %+v (%v), %d moves", w, err, tr2.Moves-moves)
	}
}
