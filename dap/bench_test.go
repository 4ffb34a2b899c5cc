package dap_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	godap "github.com/google/go-dap"

	"github.com/timelens/timelens/dap"
	"github.com/timelens/timelens/dap/daptest"
	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/gdbmi/gdbtest"
	"github.com/timelens/timelens/history"
	"github.com/timelens/timelens/pyext/session"
)

// benchSteps is how many stepBacks BenchmarkDAP times; benchPages how many
// first pages of the big list.
const (
	benchSteps = 60
	benchPages = 20
)

// BenchmarkDAP measures what the editor's debugger waits for (issue 22):
// after a stepBack, the round trip a debugger UI makes (the request, its
// stopped event, stackTrace, scopes and variables of the top frame's
// Locals), on testdata/programs/ledger.py recorded from main (the hints
// benchmark's program), going back through work's loop from i == 90; and
// the first page (100 items) of a 100,000-item list's children
// (testdata/biglist.py), each time at a time point the session has just
// moved to. The DAP server runs in process, over a pipe. It writes
// bin/bench/dap.txt, which make bench prints.
func BenchmarkDAP(b *testing.B) {
	py := gdbtest.Python(b)
	gdbtest.ReverseGDB(b)
	var out strings.Builder
	fmt.Fprintf(&out, "The debugger UI's waits over DAP (in process; gdb record full, %s):\n", gdbtest.PythonVersion(b, py))
	fmt.Fprintf(&out, "%-44s %5s %9s %9s %9s\n", "", "n", "p50 ms", "p95 ms", "max ms")
	row := func(name string, ds []time.Duration) {
		fmt.Fprintf(&out, "%-44s %5d %9.1f %9.1f %9.1f\n", name, len(ds), pct(ds, 0.5), pct(ds, 0.95), pct(ds, 1))
	}
	trips, moves, reads := stepBackRoundTrips(b, py)
	row("stepBack → stopped, stackTrace, scopes, vars", trips)
	row("  of which stepBack → stopped (the move)", moves)
	row("  of which stackTrace, scopes, variables", reads)
	first, pages := firstPages(b, py)
	row("variables: 100,000-item list, first 100", pages)
	fmt.Fprintf(&out, "the first page at the first stop (nothing read yet): %.1f ms\n", float64(first.Microseconds())/1000)
	fmt.Fprintf(&out, "goals: the round trip p50 ≤ 30 ms and p95 ≤ 100 ms; the first page ≤ 20 ms.\n")
	for _, l := range strings.Split(strings.TrimRight(out.String(), "\n"), "\n") {
		b.Log(l)
	}
	if dir, err := filepath.Abs(filepath.Join("..", "bin", "bench")); err == nil && os.MkdirAll(dir, 0o755) == nil {
		_ = os.WriteFile(filepath.Join(dir, "dap.txt"), []byte(out.String()), 0o644)
	}
}

// pct is the p-th percentile of ds in milliseconds (1: the slowest).
func pct(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return math.NaN()
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return float64(s[max(0, min(i, len(s)-1))].Microseconds()) / 1000
}

// benchClient launches path recorded from main with py.
func benchClient(b *testing.B, py, path string) *daptest.Client {
	gdb := gdbtest.ReverseGDB(b)
	c := daptest.Serve(b, dap.Config{
		Start: func(ctx context.Context, _ json.RawMessage, progress func(string)) (*history.Timeline, error) {
			return session.Open(ctx, session.Config{Backend: gdbmi.KindGDB, GDB: gdb, Python: py, Program: []string{path}, RecordFrom: "main"})
		},
	})
	c.Call("initialize", map[string]any{"adapterID": "timelens", "linesStartAt1": true, "supportsVariablePaging": true})
	c.Call("launch", map[string]any{"program": path})
	c.Event("initialized")
	c.Call("configurationDone", nil)
	c.Stopped()
	return c
}

// editorReads is what a debugger UI asks after a stop: the stack, the top
// frame's scopes and its Locals; it returns the Locals.
func editorReads(b *testing.B, c *daptest.Client) []godap.Variable {
	frames := c.Call("stackTrace", map[string]any{"threadId": 1, "startFrame": 0, "levels": 20}).(*godap.StackTraceResponse).Body.StackFrames
	scopes := c.Call("scopes", map[string]any{"frameId": frames[0].Id}).(*godap.ScopesResponse).Body.Scopes
	return c.Call("variables", map[string]any{"variablesReference": scopes[0].VariablesReference}).(*godap.VariablesResponse).Body.Variables
}

// stepBackRoundTrips returns the round trips, and their two parts: the
// move (the request to its stopped event) and the reads.
func stepBackRoundTrips(b *testing.B, py string) (trips, moves, reads []time.Duration) {
	path, _ := filepath.Abs(filepath.Join("..", "testdata", "programs", "ledger.py"))
	c := benchClient(b, py, path)
	defer c.Call("disconnect", nil)
	c.Call("setBreakpoints", map[string]any{"source": map[string]any{"path": path},
		"breakpoints": []map[string]any{{"line": 25, "condition": "i == 90"}}})
	c.Send("continue", map[string]any{"threadId": 1})
	if st := c.Stopped(); st.Reason != "breakpoint" {
		b.Fatalf("continue to ledger.py:25 where i == 90: stopped %q (%s)", st.Reason, st.Description)
	}
	c.Call("setBreakpoints", map[string]any{"source": map[string]any{"path": path}, "breakpoints": []any{}})
	editorReads(b, c)
	for range benchSteps {
		t0 := time.Now()
		c.Send("stepBack", map[string]any{"threadId": 1})
		if st := c.Stopped(); st.Reason != "step" {
			b.Fatalf("stepBack: stopped %q (%s)", st.Reason, st.Description)
		}
		t1 := time.Now()
		if vars := editorReads(b, c); len(vars) == 0 {
			b.Fatal("no locals in work")
		}
		t2 := time.Now()
		trips, moves, reads = append(trips, t2.Sub(t0)), append(moves, t1.Sub(t0)), append(reads, t2.Sub(t1))
		c.Events = c.Events[:0]
	}
	return trips, moves, reads
}

// firstPages times the first page of xs's items: once at the first stop,
// then after each of benchPages moves (next, then stepBack to the same
// line: a time point the session has just moved to).
func firstPages(b *testing.B, py string) (time.Duration, []time.Duration) {
	path, _ := filepath.Abs(filepath.Join("testdata", "biglist.py"))
	c := benchClient(b, py, path)
	defer c.Call("disconnect", nil)
	page := func() time.Duration {
		var xs godap.Variable
		for _, v := range editorReads(b, c) {
			if v.Name == "xs" {
				xs = v
			}
		}
		if xs.IndexedVariables != 100000 {
			b.Fatalf("xs: %+v, want 100000 indexed children", xs)
		}
		t0 := time.Now()
		items := c.Call("variables", map[string]any{"variablesReference": xs.VariablesReference, "filter": "indexed", "start": 0, "count": 100}).(*godap.VariablesResponse).Body.Variables
		took := time.Since(t0)
		if len(items) != 100 || items[99].Value != "99" {
			b.Fatalf("the first page: %d items", len(items))
		}
		return took
	}
	first := page()
	var ds []time.Duration
	for range benchPages {
		for _, m := range []string{"next", "stepBack"} {
			c.Send(m, map[string]any{"threadId": 1})
			c.Stopped()
		}
		ds = append(ds, page())
		c.Events = c.Events[:0]
	}
	return first, ds
}
