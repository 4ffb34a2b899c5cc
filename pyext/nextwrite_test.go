package pyext

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/timelens/timelens/gdbmi/gdbtest"
	"github.com/timelens/timelens/history"
	"github.com/timelens/timelens/history/historytest"
)

// TestNextWriteLikeSettrace records loop.py from main with each CPython of
// the test root and, from sampled line events, asks for the next write of
// each local of the current frame: it is the line sys.settrace says next
// binds the name to another object in the same call, with the value Python
// saw at the call's next event; where settrace sees none (the name keeps its
// object to the end of the call), the search says so and stops at the end
// of the recording or of the call. Time is unchanged after each question.
func TestNextWriteLikeSettrace(t *testing.T) {
	for _, py := range gdbtest.SuitePythons(t, false) {
		t.Run(py.Label, func(t *testing.T) {
			t.Parallel()
			nextWriteLikeSettrace(t, py.Path)
		})
	}
}

func nextWriteLikeSettrace(t *testing.T, py string) {
	tl, oracle := openTimeline(t, py, "loop.py", "main")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	stride := 1
	if gdbtest.Sampled() {
		stride = 2
	}
	asked, found, none := 0, 0, 0
	for i := 0; i < len(oracle.Events); i++ {
		if i > 0 {
			if _, err := tl.Move(ctx, history.Step); err != nil {
				t.Fatalf("step to event %d: %v", i, err)
			}
		}
		if i%stride != 0 && i != len(oracle.Events)-1 {
			continue
		}
		ev := oracle.Events[i]
		before, err := tl.Where(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for name := range ev.Locals {
			if !identifier.MatchString(name) {
				continue // a comprehension's .0: no name the expression language has
			}
			asked++
			w, err := tl.NextWrite(ctx, 0, name)
			j, ok := oracle.NextWriteEvent(i, name)
			if !ok {
				if !errors.Is(err, ErrNoLaterWrite) {
					t.Errorf("event %d (%s:%d): next write of %s = %+v, %v; settrace sees none (want %v)", i, ev.Function, ev.Line, name, w, err, ErrNoLaterWrite)
				} else {
					none++
				}
				continue
			}
			if err != nil {
				t.Errorf("event %d (%s:%d): next write of %s: %v; settrace says line %d", i, ev.Function, ev.Line, name, err, oracle.Events[j].Line)
				continue
			}
			want := oracle.Events[j]
			value := nextEventValue(oracle, j, name)
			if w.File != want.File || w.Line != want.Line || w.Function != want.Function || norm(w.Value) != norm(value) {
				t.Errorf("event %d (%s:%d): next write of %s at %s:%d in %s = %s; settrace says line %d in %s = %s",
					i, ev.Function, ev.Line, name, filepath.Base(w.File), w.Line, w.Function, w.Value, want.Line, want.Function, value)
				continue
			}
			found++
		}
		after, err := tl.Where(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if after.Time != before.Time {
			t.Fatalf("event %d: the next-write questions moved time from %s to %s", i, before.Time, after.Time)
		}
	}
	t.Logf("%d next writes asked: %d found where settrace says, %d refused where settrace sees none", asked, found, none)
	if found == 0 || none == 0 {
		t.Errorf("the sample checked %d writes and %d refusals: both kinds must be seen", found, none)
	}
}

var identifier = regexp.MustCompile(`^[A-Za-z_]\w*$`)

// nextEventValue is name's value at the event of event j's call that
// follows j: what the write at event j's line left ("(deleted)" when the
// name is unbound then: 3.12+ unbinds an inlined comprehension's variable
// as it ends).
func nextEventValue(o *historytest.Trace, j int, name string) string {
	for k := j + 1; k < len(o.Events); k++ {
		if o.Events[k].Call == o.Events[j].Call {
			if v, ok := o.Events[k].Locals[name]; ok {
				return v
			}
			return "(deleted)"
		}
	}
	return ""
}

func norm(s string) string { return hexAddress.ReplaceAllString(s, "0x") }

// TestNextWrite records writes.py from main and, from the first line of its
// counting loop, asks who writes each expression next: the forward twin of
// TestLastWrite's cases (a store in a hot loop, __slots__, a chain written
// by a callee, a write in a callee two frames down). A store of the value
// the storage already holds (s.x = 0 over 0) is no write, as backwards. An
// attribute whose storage moves into a dict that grows after its last write
// has no next write, and at the end of the recording nothing has: the
// search stops there rather than run the program live.
func TestNextWrite(t *testing.T) {
	for _, py := range gdbtest.SuitePythons(t, false) {
		t.Run(py.Label, func(t *testing.T) {
			t.Parallel()
			nextWrites(t, py.Path)
		})
	}
}

func nextWrites(t *testing.T, py string) {
	tl, _ := openTimeline(t, py, "writes.py", "main")
	prog, lineOf := writesProgram(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	at, err := tl.RunToLine(ctx, prog, lineOf("for i in range(40):"), "", true)
	if err != nil {
		t.Fatalf("run to the counting loop: %v", err)
	}
	cases := []struct {
		expr, line, function, value string
	}{
		{"c.count", "self.count += 1", "Counter.bump", "1"},
		{"s.x", "s.x = i", "main", "1"},
		{"p.x", "p.x = 7", "main", "7"},
		{"b.inner.y", "b.inner.y = 99", "set_from_callee", "99"},
		{"s.y", "s.y = i", "deeper", "1"},
	}
	for _, c := range cases {
		w, err := tl.NextWrite(ctx, 0, c.expr)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		want := lineOf(c.line)
		if w.Line != want || w.Function != c.function || w.Value != c.value || w.File != prog {
			t.Errorf("%s: next write at %s:%d in %s = %s; want line %d (%s) in %s = %s", c.expr, filepath.Base(w.File), w.Line, w.Function, w.Value, want, c.line, c.function, c.value)
		} else {
			t.Logf("%s: line %d in %s = %s", c.expr, w.Line, w.Function, w.Value)
		}
	}
	if now, err := tl.Where(ctx); err != nil || now.Time != at.Time {
		t.Errorf("after the questions time is %+v (%v), want %s as before", now, err, at.Time)
	}
	// After the counting loop c.count is only read, while setattr moves it
	// into a dict that grows.
	if _, err := tl.RunToLine(ctx, prog, lineOf("p.x = 7"), "", true); err != nil {
		t.Fatalf("run to p.x = 7: %v", err)
	}
	if w, err := tl.NextWrite(ctx, 0, "c.count"); !errors.Is(err, ErrNoLaterWrite) {
		t.Errorf("next write of c.count after its loop = %+v, %v; want %v", w, err, ErrNoLaterWrite)
	}
	// At the end of the recording nothing is written after now.
	if _, err := tl.GotoEdge(ctx, history.End); err != nil {
		t.Fatal(err)
	}
	_, err = tl.NextWrite(ctx, 0, "total")
	if !errors.Is(err, ErrNoLaterWrite) || !strings.Contains(err.Error(), "no write of total after now in the recording") {
		t.Errorf("next write of total at the end: %v, want %v saying so", err, ErrNoLaterWrite)
	}
}
