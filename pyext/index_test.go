package pyext

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/gdbmi/gdbtest"
	"github.com/timelens/timelens/history"
)

// TestIndexAgreesWithTheLiveSession records params.py from main with each
// CPython of the test root, saves the window, and indexes the copy in a
// second gdb (a Walker) while the first one steps through the window: the
// index's line events are the live session's steps one for one (the same
// times, functions, lines and depths: a restored log numbers its
// instructions as the live one did), and at each of them the hints read from
// the index are those that walking the calls in the live gdb gives.
func TestIndexAgreesWithTheLiveSession(t *testing.T) {
	gdb := gdbtest.ReverseGDB(t)
	for _, py := range gdbtest.SuitePythons(t, false) {
		t.Run(py.Label, func(t *testing.T) {
			t.Parallel()
			indexAgrees(t, gdb, py.Path)
		})
	}
}

func indexAgrees(t *testing.T, gdb, py string) {
	path, _ := filepath.Abs(filepath.Join("..", "testdata", "programs", "params.py"))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	b, err := Open(ctx, Options{Kind: gdbmi.KindGDB, Debugger: gdb, Python: py, Program: path, RecordFrom: "main"})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "copy")
	if _, err := b.Save(ctx, dir, []string{py, path}, "main"); err != nil {
		b.Close()
		t.Fatal(err)
	}
	tl, err := history.New(ctx, b, history.Options{})
	if err != nil {
		b.Close()
		t.Fatal(err)
	}
	defer tl.Close()
	done := make(chan history.IndexProgress, 1)
	tl.OnIndex(func(p history.IndexProgress) {
		if p.Done {
			done <- p
		}
	})
	began := time.Now()
	walked := make(chan struct{})
	tl.BuildIndex(gatedWalker{NewWalker(Options{Kind: gdbmi.KindGDB, Debugger: gdb, Recording: dir}, ""), walked})

	// Every line event of the window by stepping, with the hints that
	// walking the calls gives there.
	type point struct {
		pos   history.Position
		hints []history.LineHint
	}
	q := history.HintsQuery{Match: func(string) bool { return true }, Warn: func(err error) { t.Errorf("hints: %v", err) }}
	var points []point
	for {
		pos, err := tl.Where(ctx)
		if err != nil {
			t.Fatal(err)
		}
		hints, err := tl.Hints(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		points = append(points, point{pos, hints})
		var edge *history.EdgeError
		if _, err := tl.Move(ctx, history.Step); errors.As(err, &edge) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	close(walked)
	p := <-done
	if p.Err != nil {
		t.Fatalf("indexing: %v", p.Err)
	}
	t.Logf("%d line events: indexed in %s (stepping and walking took %s)", p.Events, p.Took.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
	ix := tl.Index()
	if ix.Len() != len(points) {
		t.Fatalf("the index has %d line events, stepping found %d", ix.Len(), len(points))
	}
	for i, pt := range points {
		ev := ix.Event(i)
		c, _ := ix.Call(ev.Call)
		if ev.Time != pt.pos.Time || c.Function != pt.pos.Function || ev.Line != pt.pos.Line || ev.Depth != pt.pos.Depth || c.File != pt.pos.File {
			t.Fatalf("event %d: the index says %s:%d in %s at time %s (depth %d), stepping %s:%d in %s at time %s (depth %d)",
				i, filepath.Base(c.File), ev.Line, c.Function, ev.Time, ev.Depth, filepath.Base(pt.pos.File), pt.pos.Line, pt.pos.Function, pt.pos.Time, pt.pos.Depth)
		}
	}
	for i, pt := range points {
		if _, err := tl.Goto(ctx, pt.pos.Time); err != nil {
			t.Fatal(err)
		}
		hints, err := tl.Hints(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(hints, pt.hints) {
			t.Errorf("event %d (%s:%d): the index's hints\n%v\nthe walks'\n%v", i, pt.pos.Function, pt.pos.Line, hints, pt.hints)
		}
	}
}

// gatedWalker walks no further than its first batch until gate closes.
type gatedWalker struct {
	*Walker
	gate chan struct{}
}

func (w gatedWalker) Next(ctx context.Context, max int) (history.IndexBatch, error) {
	<-w.gate
	return w.Walker.Next(ctx, max)
}
