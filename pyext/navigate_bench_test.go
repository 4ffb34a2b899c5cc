package pyext

// BenchmarkNavigate: every move of the language server on one gdb record-full
// recording of testdata/navigate/calls.py (main() twice: calls, recursion), next
// to the per-bytecode baseline of the "Stepping bytecodes" article. Run in the
// test root by `make bench` (scripts/root-tests --bench), or alone:
//
//	CGO_ENABLED=0 go test -c -o bin/tests/pyext.test ./pyext
//	cd pyext && ../scripts/sandbox run -- env TIMELENS_REQUIRE_DEBUGGER=1 \
//	    ../bin/tests/pyext.test -test.run '^$' -test.bench Navigate
//
// What is counted, per move (all from the gdb side's reply, see timelens_gdb/moves.py):
//
//   - stops: every time gdb stopped the program and handed control to timelens:
//     each (reverse-)continue or stepi the move ran (the MI client's view) plus
//     each gdb.Breakpoint.stop callback into the gdb side's Python.
//   - triggers: watchpoint triggers whose condition gdb evaluated itself, in its
//     expression language, and resumed without handing control to us.
//   - lines: line events (sys.settrace 'line', all frames) between the start and
//     the end of the move, from a forward walk of the recording; "stops/line"
//     divides the stops of all samples by their lines.
//   - ms: wall time of the MI round trip, median and 95th percentile.
//   - span ms: the median time of gdb's own `record goto` over the same
//     instructions (no watchpoint, no stop): what replaying them costs at least.
//
// The baseline ("Stepping bytecodes": a breakpoint in the interpreter loop, one
// stop per bytecode; a line step = bytecode steps until the line changes) is
// -timelens-baseline-step: a computed-goto CPython has no single dispatch point,
// so it stops at every store of the current frame's instr_ptr (each bytecode's
// first action) and at every frame change, and Python decides.

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/gdbmi/gdbtest"
	"github.com/timelens/timelens/history"
)

// benchSamples bounds the start points per move.
const benchSamples = 40

// benchNav is the recording the sub-benchmarks share.
type benchNav struct {
	b      *Backend
	events []uint64       // instruction number of each line event, in order
	times  []history.Time // the same, as backend times
	funcs  []string       // the function of each line event
}

// benchRow is one move's figures over all its samples.
type benchRow struct {
	name                  string
	samples, refused      int
	stops, triggers, resp int
	lines                 int
	ms, span              []float64
}

func (r *benchRow) perLine(n int) float64 {
	if r.lines == 0 {
		return math.NaN()
	}
	return float64(n) / float64(r.lines)
}

func (r *benchRow) perMove(n int) float64 {
	if r.samples == 0 {
		return math.NaN()
	}
	return float64(n) / float64(r.samples)
}

func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// BenchmarkNavigate measures every move on each CPython of the test root
// (gdbtest.SuitePythons) and writes bin/bench/navigate.txt: a summary line per
// version, then each version's table.
func BenchmarkNavigate(b *testing.B) {
	gdb := gdbtest.ReverseGDB(b)
	pys := gdbtest.SuitePythons(b, false)
	var summary, tables strings.Builder
	fmt.Fprintf(&summary, "Navigation per CPython (testdata/navigate/calls.py, gdb record full; medians over up to %d start points):\n", benchSamples)
	fmt.Fprintf(&summary, "%-14s %9s %9s %9s %9s %9s %9s %9s %9s\n", "python", "step st/l", "step ms", "step p95",
		"rstep ms", "next ms", "finish ms", "floor ms", "base ms")
	// Each Python again stripped of its debug info, as uv, Docker and
	// distributions ship it (issue 21: each move within 10% of its twin),
	// unless the suite's Pythons are already stripped (TIMELENS_STRIPPED=1).
	twins := map[string]string{} // stripped label → its twin's label
	if os.Getenv("TIMELENS_STRIPPED") != "1" {
		for _, py := range pys {
			if !py.Debug {
				s := gdbtest.Interpreter{Label: py.Label + "-stripped", Path: gdbtest.StrippedPython(b, py.Path), Suite: py.Suite}
				twins[s.Label] = py.Label
				pys = append(pys, s)
			}
		}
	}
	all := map[string]map[string]*benchRow{}
	for _, py := range pys {
		b.Run(py.Label, func(b *testing.B) {
			table, rows := benchNavigate(b, gdb, py.Path)
			all[py.Label] = rows
			med := func(name string, f func(*benchRow) []float64, p float64) float64 {
				if r := rows[name]; r != nil {
					return percentile(f(r), p)
				}
				return math.NaN()
			}
			ms := func(r *benchRow) []float64 { return r.ms }
			span := func(r *benchRow) []float64 { return r.span }
			step := rows["step"]
			fmt.Fprintf(&summary, "%-14s %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f\n", py.Label,
				step.perLine(step.stops), med("step", ms, 0.5), med("step", ms, 0.95), med("reverseStep", ms, 0.5),
				med("next", ms, 0.5), med("finish", ms, 0.5), med("step", span, 0.5), med("baseline step", ms, 0.5))
			fmt.Fprintf(&tables, "\n== %s (%s)\n%s", py.Label, py.Path, table)
		})
	}
	out := summary.String() + "  st/l: stops per line event; floor: gdb's own replay of the same instructions; base: the per-bytecode baseline's step\n" +
		strippedTable(all, twins) + tables.String()
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		b.Log(l)
	}
	// scripts/root-tests --bench shows only the Benchmark lines: the table goes
	// to a file too, which make bench prints.
	if dir, err := filepath.Abs(filepath.Join("..", "bin", "bench")); err == nil {
		if os.MkdirAll(dir, 0o755) == nil {
			name := "navigate.txt"
			if gdbtest.Suite() != "trixie" {
				name = "navigate-" + gdbtest.Suite() + ".txt"
			}
			_ = os.WriteFile(filepath.Join(dir, name), []byte(out), 0o644)
		}
	}
}

// strippedTable compares each stripped Python's moves with its debug-info
// twin's, p50 of the MI round trip (the moves the language server makes).
func strippedTable(all map[string]map[string]*benchRow, twins map[string]string) string {
	if len(twins) == 0 {
		return ""
	}
	labels := make([]string, 0, len(twins))
	for l := range twins {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	var out strings.Builder
	fmt.Fprintf(&out, "\nWithout debug info, stripped / with debug info: each move's p50 ms, and its stops per move (goal: within 10%%, ratio ≤ 1.10;\n"+
		"the time ratio is only as good as the machine is quiet, the stops do not depend on it):\n")
	names := []string{"step", "reverseStep", "next", "reverseNext", "finish", "reverseFinish", "gotoEntry", "previousCall", "nextCall", "lastWrite", "goto"}
	fmt.Fprintf(&out, "%-22s", "python")
	for _, n := range names {
		fmt.Fprintf(&out, " %13s", n)
	}
	out.WriteString("  within 10%\n")
	for _, l := range labels {
		s, d := all[l], all[twins[l]]
		if s == nil || d == nil {
			continue
		}
		// The time ratio, then the ratio of the stops the moves made (the
		// work, which the machine's load does not change).
		for _, row := range []struct {
			suffix string
			ratio  func(s, d *benchRow) float64
		}{
			{" ms", func(s, d *benchRow) float64 { return percentile(s.ms, 0.5) / percentile(d.ms, 0.5) }},
			{" stops", func(s, d *benchRow) float64 { return s.perMove(s.stops) / d.perMove(d.stops) }},
		} {
			fmt.Fprintf(&out, "%-22s", l+row.suffix)
			worst := 0.0
			for _, n := range names {
				if s[n] == nil || d[n] == nil {
					fmt.Fprintf(&out, " %13s", "-")
					continue
				}
				r := row.ratio(s[n], d[n])
				worst = math.Max(worst, r)
				fmt.Fprintf(&out, " %13.2f", r)
			}
			verdict := "yes"
			if worst > 1.10 {
				verdict = fmt.Sprintf("NO (worst %.2f)", worst)
			}
			fmt.Fprintf(&out, "  %s\n", verdict)
		}
	}
	return out.String()
}

// benchNavigate records calls.py with python and measures every move: the
// table, and the rows by move name.
func benchNavigate(b *testing.B, gdb, python string) (string, map[string]*benchRow) {
	prog := filepath.Join(navDir(b), "calls.py")
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	be, err := Open(ctx, Options{Kind: gdbmi.KindGDB, Debugger: gdb, Python: python, Program: prog})
	if err != nil {
		b.Fatalf("recording %s: %v", prog, err)
	}
	defer be.Close()
	nav := &benchNav{b: be}
	if err := nav.walk(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("recording: %s, %v instructions (%v), %d line events", filepath.Base(prog),
		be.Window["instructions"], be.Window["window_end"], len(nav.events))

	type move struct {
		name   string
		run    func(i int) (navPos, error)
		filter string // the gdb side's filter, when not the default
	}
	step := func(op string, args ...string) func(int) (navPos, error) {
		return func(int) (navPos, error) { return nav.call(ctx, op, args...) }
	}
	// setFilter picks the gdb side's line-event filter: "python" (the default:
	// a stop() callback per watchpoint trigger) or "gdb" (the rule as a
	// watchpoint condition gdb evaluates itself, no Python per trigger).
	setFilter := func(f string) error {
		_, err := be.s.Console(ctx, fmt.Sprintf("python from timelens_gdb import moves; moves.FILTER = %q", f))
		return err
	}
	moves := []move{
		{name: "step", run: step("-timelens-step", "step")},
		{name: "reverseStep", run: step("-timelens-step", "step", "--reverse")},
		{name: "next", run: step("-timelens-step", "next")},
		{name: "reverseNext", run: step("-timelens-step", "next", "--reverse")},
		{name: "finish", run: step("-timelens-step", "finish")},
		{name: "reverseFinish", run: step("-timelens-step", "finish", "--reverse")},
		{name: "gotoEntry", run: step("-timelens-goto-entry")},
		{name: "previousCall", run: step("-timelens-call", "previous", "add")},
		{name: "nextCall", run: step("-timelens-call", "next", "add")},
		{name: "lastWrite", run: func(i int) (navPos, error) {
			// A local each function has written by then (its parameter).
			expr := map[string]string{"add": "a", "twice": "x", "fact": "n", "fib": "n"}[nav.funcs[i]]
			if expr == "" {
				return navPos{}, errSkip
			}
			return nav.call(ctx, "-timelens-last-write", "--depth", "0", expr)
		}},
		{name: "goto", run: func(i int) (navPos, error) {
			return navPos{}, be.Goto(ctx, nav.times[(i+len(nav.times)/2)%len(nav.times)])
		}},
		{name: "step gdb-cond", run: step("-timelens-step", "step"), filter: "gdb"},
		{name: "reverseStep gdb-cond", run: step("-timelens-step", "step", "--reverse"), filter: "gdb"},
		{name: "next gdb-cond", run: step("-timelens-step", "next"), filter: "gdb"},
		{name: "reverseNext gdb-cond", run: step("-timelens-step", "next", "--reverse"), filter: "gdb"},
		{name: "baseline step", run: step("-timelens-baseline-step", "step")},
		{name: "baseline reverseStep", run: step("-timelens-baseline-step", "step", "--reverse")},
		{name: "baseline next", run: step("-timelens-baseline-step", "next")},
		{name: "baseline reverseNext", run: step("-timelens-baseline-step", "next", "--reverse")},
	}
	var rows []*benchRow
	for _, m := range moves {
		row := &benchRow{name: m.name}
		rows = append(rows, row)
		b.Run(strings.ReplaceAll(m.name, " ", "_"), func(b *testing.B) {
			*row = benchRow{name: m.name}
			if m.filter != "" {
				if err := setFilter(m.filter); err != nil {
					b.Fatal(err)
				}
				defer setFilter("python")
			}
			for range b.N {
				if err := nav.sample(ctx, row, m.run); err != nil {
					b.Fatal(err)
				}
			}
			if row.samples == 0 {
				b.Fatalf("%s: every sample was refused", m.name)
			}
			b.ReportMetric(row.perLine(row.stops), "stops/line")
			b.ReportMetric(row.perLine(row.triggers), "triggers/line")
			b.ReportMetric(percentile(row.ms, 0.5), "ms-median")
			b.ReportMetric(percentile(row.ms, 0.95), "ms-p95")
		})
	}
	byName := map[string]*benchRow{}
	for _, r := range rows {
		byName[r.name] = r
	}
	var out strings.Builder
	fmt.Fprintf(&out, "Navigation on one gdb record-full recording of testdata/navigate/calls.py: %v instructions, %d line events\n",
		be.Window["instructions"], len(nav.events))
	fmt.Fprintf(&out, "%-22s %7s %7s %9s %10s %9s %8s %8s %8s\n", "move", "samples", "refused",
		"stops/ln", "trigger/ln", "stops/mv", "ms-med", "ms-p95", "span-ms")
	for _, r := range rows {
		fmt.Fprintf(&out, "%-22s %7d %7d %9.2f %10.2f %9.2f %8.2f %8.2f %8.2f\n", r.name, r.samples, r.refused,
			r.perLine(r.stops), r.perLine(r.triggers), r.perMove(r.stops),
			percentile(r.ms, 0.5), percentile(r.ms, 0.95), percentile(r.span, 0.5))
	}
	fmt.Fprintf(&out, "vs the per-bytecode baseline (goal: 10x fewer stops and 10x less time):\n")
	for _, name := range []string{"step", "reverseStep", "next", "reverseNext"} {
		base := byName["baseline "+name]
		for _, r := range []*benchRow{byName[name], byName[name+" gdb-cond"]} {
			fmt.Fprintf(&out, "  %-22s %5.1fx fewer stops/line, %5.1fx fewer stops/move, %4.1fx less time (median); replaying the same instructions (span) is already %4.1fx less than the baseline\n",
				r.name, base.perLine(base.stops)/r.perLine(r.stops), base.perMove(base.stops)/r.perMove(r.stops),
				percentile(base.ms, 0.5)/percentile(r.ms, 0.5), percentile(base.ms, 0.5)/percentile(r.span, 0.5))
		}
	}
	out.WriteString(benchLegend)
	return out.String(), byName
}

const benchLegend = `stops: gdb stopped the program and handed control to timelens (each (reverse-)continue/stepi, plus each
  Python gdb.Breakpoint.stop callback); triggers: watchpoint triggers gdb filtered itself with a condition in its
  own expression language; lines: line events passed (settrace 'line', all frames); ms: MI round trip;
  span-ms: gdb's own "record goto" over the same instructions (replay alone, no stop). Rows: the default
  filter (a Python stop() callback per instr_ptr store), "gdb-cond" (the same rule as a watchpoint condition),
  "baseline" (the article's stepping bytecodes: one stop per bytecode and frame change, Python decides).
  On 3.11 and 3.12 "gdb-cond" runs the Python filter too: their superinstructions need the opcode in memory.
`

var errSkip = fmt.Errorf("no sample here")

// walk steps forward from the window start to its end, noting each line
// event's time and function.
func (n *benchNav) walk(ctx context.Context) error {
	for {
		t, err := n.b.Now(ctx)
		if err != nil {
			return err
		}
		insn, err := strconv.ParseUint(string(t), 10, 64)
		if err != nil {
			return fmt.Errorf("time %q: %v", t, err)
		}
		p, err := n.call(ctx, "-timelens-where")
		if err != nil {
			return err
		}
		n.events, n.times, n.funcs = append(n.events, insn), append(n.times, t), append(n.funcs, p.Function)
		if _, err := n.call(ctx, "-timelens-step", "step"); err != nil {
			if e := AsError(err); e != nil && e.Code == CodeEdge {
				return nil // the end of the recording
			}
			return err
		}
	}
}

// call runs one gdb-side command and decodes its reply.
func (n *benchNav) call(ctx context.Context, op string, args ...string) (navPos, error) {
	var p navPos
	payload, err := n.b.call(ctx, op, args...)
	if err != nil {
		return p, userError(err)
	}
	err = Decode(payload, &p)
	return p, err
}

// index is the line event at or before instruction insn.
func (n *benchNav) index(insn uint64) int {
	i := sort.Search(len(n.events), func(i int) bool { return n.events[i] > insn })
	return max(0, i-1)
}

func (n *benchNav) now(ctx context.Context) (uint64, history.Time, error) {
	t, err := n.b.Now(ctx)
	if err != nil {
		return 0, "", err
	}
	insn, err := strconv.ParseUint(string(t), 10, 64)
	return insn, t, err
}

// sample runs move from up to benchSamples line events spread over the
// recording and adds its figures to row.
func (n *benchNav) sample(ctx context.Context, row *benchRow, move func(int) (navPos, error)) error {
	stride := max(1, len(n.events)/benchSamples)
	for i := 0; i < len(n.events); i += stride {
		if err := n.b.Goto(ctx, n.times[i]); err != nil {
			return err
		}
		began := time.Now()
		p, err := move(i)
		ms := float64(time.Since(began).Microseconds()) / 1000
		if err == errSkip {
			continue
		}
		if err != nil {
			// The extension refused the move (an edge, no such call, a call
			// that began before the window, no earlier write): counted, not
			// timed. Its own bugs and gdb's failures end the benchmark.
			if e := AsError(err); e != nil && e.Code != CodeInternal {
				row.refused++
				continue
			}
			return fmt.Errorf("%s from event %d: %v", row.name, i, err)
		}
		end, endTime, err := n.now(ctx)
		if err != nil {
			return err
		}
		row.samples++
		row.stops += p.Stops
		row.triggers += p.Triggers
		row.lines += abs(n.index(end) - i)
		row.ms = append(row.ms, ms)
		// gdb's own replay of the same instructions, without stops.
		if err := n.b.Goto(ctx, n.times[i]); err != nil {
			return err
		}
		began = time.Now()
		if err := n.b.Goto(ctx, endTime); err != nil { // already there is no error (Dialect.GotoError)
			return err
		}
		row.span = append(row.span, float64(time.Since(began).Microseconds())/1000)
	}
	return nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
