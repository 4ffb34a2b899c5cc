package history_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/timelens/timelens/history"
	"github.com/timelens/timelens/history/historytest"
)

// These tests drive a Timeline over a trace that a real CPython produced
// under sys.settrace (historytest.Trace): fast checks of the timeline's own
// logic. The same moves against a real gdb are in the backend's tests.

func python(t *testing.T) string {
	t.Helper()
	if path, err := exec.LookPath("python3"); err == nil {
		return path
	}
	t.Skip("no python3")
	return ""
}

func program(name string) string {
	p, _ := filepath.Abs(filepath.Join("..", "testdata", "programs", name))
	return p
}

func timeline(t *testing.T, prog, from string) (*history.Timeline, *historytest.Trace) {
	t.Helper()
	tr, err := historytest.Record(python(t), program(prog), from)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := history.New(context.Background(), tr, history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tl.Close() })
	return tl, tr
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func TestStepVisitsEveryLineEventBothWays(t *testing.T) {
	tl, tr := timeline(t, "loop.py", "main")
	c := ctx(t)
	var seen []int
	for {
		p, err := tl.Where(c)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, p.Line)
		if _, err := tl.Move(c, history.Step); err != nil {
			var edge *history.EdgeError
			if !errors.As(err, &edge) || edge.Edge != history.End {
				t.Fatalf("step: %v", err)
			}
			break
		}
	}
	if len(seen) != len(tr.Events) {
		t.Fatalf("step visited %d events, trace has %d", len(seen), len(tr.Events))
	}
	for i := len(tr.Events) - 1; i > 0; i-- {
		p, err := tl.Move(c, history.ReverseStep)
		if err != nil {
			t.Fatal(err)
		}
		if p.Line != tr.Events[i-1].Line {
			t.Fatalf("reverse step %d: line %d, want %d", i, p.Line, tr.Events[i-1].Line)
		}
	}
	before, gen := tl.Now()
	_, err := tl.Move(c, history.ReverseStep)
	var edge *history.EdgeError
	if !errors.As(err, &edge) || edge.Edge != history.Start || !strings.Contains(err.Error(), "start of the recorded history") {
		t.Fatalf("reverse step at the start: %v", err)
	}
	if now, g := tl.Now(); now != before || g != gen {
		t.Fatal("a refused move changed time")
	}
}

func TestNextStaysInTheFrameThroughRecursion(t *testing.T) {
	tl, _ := timeline(t, "loop.py", "fib")
	c := ctx(t)
	// fib(4): the outermost call's own line events are 14, 16 and nothing
	// of the nested calls.
	var lines []int
	for {
		p, err := tl.Where(c)
		if err != nil {
			t.Fatal(err)
		}
		if p.Depth != 0 {
			t.Fatalf("next entered a call: %+v", p)
		}
		lines = append(lines, p.Line)
		if _, err := tl.Move(c, history.Next); err != nil {
			break
		}
	}
	if fmt.Sprint(lines) != "[14 16]" {
		t.Fatalf("next through fib(4) visited %v, want [14 16]", lines)
	}
}

func TestLineHistoryShowsLoopIterations(t *testing.T) {
	tl, tr := timeline(t, "loop.py", "main")
	c := ctx(t)
	// Go to main's last line event: line 28 (name = ...) is about to run.
	last := tr.Events[len(tr.Events)-1]
	if _, err := tl.Goto(c, history.Time(fmt.Sprintf("t%d", last.I))); err != nil {
		t.Fatal(err)
	}
	lh, err := tl.Lines(c, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{
		20: "acct = Account(owner='ada', balance=0, history=[])",
		21: "total = 0",
		22: "i = 0 → 1 → 2 … → 4 (5×)",
		// total += 0 leaves total equal: not seen as an assignment.
		23: "total = 1 → 3 → 6 → 10 (4×)",
		24: "", // acct.deposit mutates acct: not an assignment
		25: "f = 3",
		26: "squares = [0, 1, 4, 9]",
	}
	for line, label := range want {
		r := lh.Lines[line]
		if r == nil || r.Label() != label {
			got := "<none>"
			if r != nil {
				got = r.Label()
			}
			t.Errorf("line %d: %q, want %q", line, got, label)
		}
	}
	if r := lh.Lines[28]; r == nil || r.Runs != 1 || len(r.Assigned) != 0 {
		t.Errorf("the current line has not run yet: %+v", r)
	}
	// Time is where it was, and a second query is served from the cache.
	if now, _ := tl.Now(); now != history.Time(fmt.Sprintf("t%d", last.I)) {
		t.Fatalf("Lines moved time to %s", now)
	}
	moves := tr.Moves
	if _, err := tl.Lines(c, 0); err != nil {
		t.Fatal(err)
	}
	if tr.Moves != moves {
		t.Fatalf("a repeated query made %d moves", tr.Moves-moves)
	}
}

func TestCancelledRequestDoesNotBreakTheTimeline(t *testing.T) {
	tl, _ := timeline(t, "loop.py", "main")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tl.Move(cancelled, history.Step); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if _, err := tl.Where(ctx(t)); err != nil {
		t.Fatal(err)
	}
}

// TestHintsOfAFileWithPastCalls: at the end of helpers.py's main, the hints
// of the file are main's lines; with past calls, also those of deposit,
// which returned, from its latest call. Only functions off the stack are
// searched for.
func TestHintsOfAFileWithPastCalls(t *testing.T) {
	tl, _ := timeline(t, "helpers.py", "main")
	c := ctx(t)
	for {
		p, err := tl.Where(c)
		if err != nil {
			t.Fatal(err)
		}
		if p.Function == "main" && p.Line == 17 {
			break
		}
		if _, err := tl.Move(c, history.Step); err != nil {
			t.Fatalf("no line 17 in main: %v", err)
		}
	}
	file := program("helpers.py")
	labels := func(q history.HintsQuery) map[int]string {
		q.Match = func(f string) bool { return f == file }
		q.Warn = func(err error) { t.Errorf("left out: %v", err) }
		hints, err := tl.Hints(c, q)
		if err != nil {
			t.Fatal(err)
		}
		out := map[int]string{}
		for _, h := range hints {
			out[h.Line] = h.Label
		}
		return out
	}
	now := labels(history.HintsQuery{})
	if now[16] != "total = 30" || now[6] != "" {
		t.Errorf("hints of the stack: %v; want main's total = 30 on line 16 and nothing in deposit", now)
	}
	var searched []string
	past := labels(history.HintsQuery{PastCalls: []string{"deposit", "main"}, Progress: func(fn string) { searched = append(searched, fn) }})
	if past[16] != "total = 30" || past[6] != "before = 10" || past[7] != "after = 30" {
		t.Errorf("hints with past calls: %v; want main's and deposit's latest call", past)
	}
	if strings.Join(searched, ",") != "deposit" {
		t.Errorf("searched the latest call of %v; want deposit only (main is on the stack)", searched)
	}
}
