package pyext

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/gdbmi/gdbtest"
	"github.com/timelens/timelens/history"
	"github.com/timelens/timelens/history/historytest"
)

// openTimeline records prog from function from and returns a timeline at
// the window's first line event, with the settrace oracle of the same run.
func openTimeline(t *testing.T, py, prog, from string) (*history.Timeline, *historytest.Trace) {
	t.Helper()
	gdb := gdbtest.ReverseGDB(t)
	path, _ := filepath.Abs(filepath.Join("..", "testdata", "programs", prog))
	oracle, err := historytest.Record(py, path, from)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b, err := Open(ctx, Options{Kind: gdbmi.KindGDB, Debugger: gdb, Python: py, Program: path, RecordFrom: from})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Logf("window: %v", b.Window)
	tl, err := history.New(ctx, b, history.Options{})
	if err != nil {
		b.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tl.Close() })
	return tl, oracle
}

// TestBackendStepsLikeSettrace records loop.py from main with each CPython of
// the test root and steps through the whole window forward and back,
// comparing every position and every local with the settrace oracle of the
// same program.
func TestBackendStepsLikeSettrace(t *testing.T) {
	for _, py := range gdbtest.SuitePythons(t, false) {
		t.Run(py.Label, func(t *testing.T) {
			t.Parallel()
			backendStepsLikeSettrace(t, py.Path)
		})
	}
}

var hexAddress = regexp.MustCompile(`0x[0-9a-f]+`)

func backendStepsLikeSettrace(t *testing.T, py string) {
	tl, oracle := openTimeline(t, py, "loop.py", "main")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	check := func(i int, p history.Position) (lineOK, localsOK int) {
		ev := oracle.Events[i]
		if p.File != ev.File || p.Line != ev.Line || p.Function != ev.Function {
			t.Errorf("event %d: at %s:%d %s, settrace says %s:%d %s", i, filepath.Base(p.File), p.Line, p.Function, filepath.Base(ev.File), ev.Line, ev.Function)
			return 0, 0
		}
		for name, want := range ev.Locals {
			// Addresses differ between the two runs: `<range_iterator object at 0x...>`.
			if got, ok := p.Locals[name]; !ok || hexAddress.ReplaceAllString(got, "0x") != hexAddress.ReplaceAllString(want, "0x") {
				t.Errorf("event %d line %d: %s = %q, settrace says %q", i, ev.Line, name, got, want)
				continue
			}
			localsOK++
		}
		return 1, localsOK
	}
	var lines, locals, total int
	p, err := tl.Where(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if i >= len(oracle.Events) {
			t.Fatalf("step went past the oracle's %d events to %+v", len(oracle.Events), p)
		}
		l, v := check(i, p)
		lines += l
		locals += v
		total += len(oracle.Events[i].Locals)
		p, err = tl.Move(ctx, history.Step)
		var edge *history.EdgeError
		if errors.As(err, &edge) {
			if edge.Edge != history.End {
				t.Errorf("the last step was refused at the %s of history, want the end", edge.Edge)
			}
			if i+1 != len(oracle.Events) {
				t.Errorf("end of history after %d events; settrace saw %d", i+1, len(oracle.Events))
			}
			break
		}
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	t.Logf("forward: %d/%d line events, %d/%d locals agree", lines, len(oracle.Events), locals, total)
	back := 0
	for i := len(oracle.Events) - 2; i >= 0; i-- {
		p, err := tl.Move(ctx, history.ReverseStep)
		if err != nil {
			t.Fatalf("reverse step to event %d: %v", i, err)
		}
		l, _ := check(i, p)
		back += l
	}
	t.Logf("reverse: %d/%d line events agree", back, len(oracle.Events)-1)
	// The refusal comes from gdb as a code, and is history's named error.
	var edge *history.EdgeError
	if _, err := tl.Move(ctx, history.ReverseStep); !errors.As(err, &edge) || edge.Edge != history.Start {
		t.Errorf("reverse step before the window's first line event: %v, want the start of history", err)
	}
	if _, err := tl.Call(ctx, "no_such_function", true); !errors.Is(err, history.ErrNoSuchCall) && !errors.As(err, &edge) {
		t.Errorf("next call of a function never called: %v, want a refusal", err)
	}
}
