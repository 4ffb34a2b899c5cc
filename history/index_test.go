package history_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/timelens/timelens/history"
	"github.com/timelens/timelens/history/historytest"
)

// indexed builds the line index of tl's trace and waits for it.
func indexed(t *testing.T, tl *history.Timeline, tr *historytest.Trace) *history.Index {
	t.Helper()
	done := make(chan history.IndexProgress, 1)
	var reports int
	tl.OnIndex(func(p history.IndexProgress) {
		reports++
		if p.Done {
			done <- p
		}
	})
	tl.BuildIndex(tr.Walker())
	select {
	case p := <-done:
		if p.Err != nil {
			t.Fatalf("building the index: %v", p.Err)
		}
		if p.Events != len(tr.Events) || reports < 2 {
			t.Fatalf("the index has %d events (%d reports), the trace %d", p.Events, reports, len(tr.Events))
		}
	case <-time.After(time.Minute):
		t.Fatal("the index was not built in a minute")
	}
	return tl.Index()
}

// TestIndexAnswersAsWalksDo: at every line event of loop.py and params.py,
// the hints read from the line index are those that walking each call in
// the backend gives, and reading them moves nothing.
func TestIndexAnswersAsWalksDo(t *testing.T) {
	for _, prog := range []string{"loop.py", "params.py", "helpers.py"} {
		t.Run(prog, func(t *testing.T) {
			tl, tr := timeline(t, prog, "main")
			walked, err := history.New(ctx(t), &historytest.Trace{Events: tr.Events}, history.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = walked.Close() })
			ix := indexed(t, tl, tr)
			c := ctx(t)
			q := history.HintsQuery{Match: func(string) bool { return true }}
			for i := range tr.Events {
				at := history.Time(fmt.Sprintf("t%d", i))
				if _, err := walked.Goto(c, at); err != nil {
					t.Fatal(err)
				}
				if _, err := tl.Goto(c, at); err != nil {
					t.Fatal(err)
				}
				want, err := walked.Hints(c, q)
				if err != nil {
					t.Fatal(err)
				}
				moves := tr.Moves
				got, err := tl.Hints(c, q)
				if err != nil {
					t.Fatal(err)
				}
				if tr.Moves != moves {
					t.Fatalf("event %d: the index's answer moved the backend %d times", i, tr.Moves-moves)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("event %d (%s:%d): the index says\n%v\nwalks say\n%v", i, tr.Events[i].Function, tr.Events[i].Line, got, want)
				}
			}
			// The index knows every run of a line.
			if n := len(ix.LineEvents(program(prog), tr.Events[0].Line)); n == 0 {
				t.Errorf("no runs of line %d", tr.Events[0].Line)
			}
		})
	}
}

// TestIndexedLineRuns: the runs of loop.py's `total += i`, with what each
// bound, oldest first, from the index (what timelens.lineRuns reads).
func TestIndexedLineRuns(t *testing.T) {
	tl, tr := timeline(t, "loop.py", "main")
	ix := indexed(t, tl, tr)
	var got []string
	for _, i := range ix.LineEvents(program("loop.py"), 23) {
		ev := ix.Event(i)
		call, _ := ix.Call(ev.Call)
		assigned, _ := ix.Assigned(i)
		got = append(got, fmt.Sprintf("%s %v", call.Function, assigned))
	}
	if len(got) != 5 {
		t.Fatalf("line 23 ran %d times: %v", len(got), got)
	}
	// total += 0 binds the same int: not an assignment.
	if got[0] != "main []" || got[1] != "main [{total 1 local "+addressOf(t, tr, "total", "1")+"}]" {
		t.Errorf("runs of line 23: %v", got)
	}
}

// addressOf is the id the trace gives the object name holds when it renders as value.
func addressOf(t *testing.T, tr *historytest.Trace, name, value string) string {
	t.Helper()
	for _, ev := range tr.Events {
		if ev.Locals[name] == value {
			return ev.IDs[name]
		}
	}
	t.Fatalf("no %s = %s in the trace", name, value)
	return ""
}

// TestNoIndexEndsTheProgress: a timeline told it will have no index (a
// window too large to copy) says why to its watchers, also to one that
// starts watching afterwards, and line histories still come from walks.
func TestNoIndexEndsTheProgress(t *testing.T) {
	tl, _ := timeline(t, "loop.py", "main")
	tl.NoIndex(fmt.Errorf("the window has 500000 instructions"))
	var got []history.IndexProgress
	tl.OnIndex(func(p history.IndexProgress) { got = append(got, p) })
	if len(got) != 1 || !got[0].Done || !got[0].Skipped {
		t.Fatalf("a late watcher heard %+v; want one report, done and skipped", got)
	}
	if msg := got[0].Message(); msg != "no line index: the window has 500000 instructions" {
		t.Errorf("message %q", msg)
	}
	if tl.Index() != nil {
		t.Error("an index after NoIndex")
	}
	if _, err := tl.Hints(ctx(t), history.HintsQuery{Match: func(string) bool { return true }}); err != nil {
		t.Errorf("hints without an index: %v", err)
	}
}
