package pyext

// BenchmarkRunToLine: runs to a line about 10,000 line events away on one gdb
// record-full recording of testdata/navigate/far.py, both ways, with and
// without a condition, next to stepping there one line event at a time and
// to gdb's own replay of the same instructions. Run by `make bench`
// (scripts/root-tests --bench), which prints bin/bench/runto.txt, or alone:
//
//	scripts/root-tests --bench --run x ./pyext   (all the benchmarks of pyext)
//
// Only the root's own CPython is measured (recording far.py takes minutes;
// sid's 3.14 records 30 times slower and is skipped).

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/gdbmi/gdbtest"
	"github.com/timelens/timelens/history"
)

// runtoCase is one run of the benchmark: from the first line event at
// fromLine (reached from the window's start) to line, either way.
type runtoCase struct {
	name      string
	fromLine  int
	line      int
	condition string
	forward   bool
}

// far.py's lines: work's return 9; spin's first line 13, its loop body
// 15-17, its return 18; calls' first line 22 and return 25; main's 29-31.
var runtoCases = []runtoCase{
	{"other frame, forward", 29, 9, "", true},
	{"other frame, reverse (to the window's start)", 31, 29, "", false},
	{"same frame, forward", 13, 18, "", true},
	{"same frame, reverse", 18, 13, "", false},
	{"condition, forward (2,500 runs)", 13, 17, "i == 2499", true},
	{"condition, reverse (2,500 runs)", 18, 15, "i == 0", false},
	{"condition in 1,000 calls, forward", 22, 9, "i == 999", true},
	{"condition in 1,000 calls, reverse", 25, 9, "i == 0", false},
}

type runtoRow struct {
	runtoCase
	events           int // line events between start and end (the steps it takes)
	runMS, stepMS    float64
	floorMS          float64
	resumes, pyStops int
	landed           string
}

func BenchmarkRunToLine(b *testing.B) {
	gdb := gdbtest.ReverseGDB(b)
	if gdbtest.Suite() == "sid" {
		b.Skip("sid's CPython 3.14 records far.py too slowly (minutes per 100,000 instructions); the trixie root measures it")
	}
	python := navPrimary(b)
	prog := filepath.Join(navDir(b), "far.py")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	began := time.Now()
	be, err := Open(ctx, Options{Kind: gdbmi.KindGDB, Debugger: gdb, Python: python, Program: prog, RecordFrom: "main"})
	if err != nil {
		b.Fatalf("recording %s: %v", prog, err)
	}
	defer be.Close()
	recorded := time.Since(began)
	if end := fmt.Sprint(be.Window["window_end"]); end != "main module returned" {
		b.Fatalf("the recording of far.py ended early (%s, after %v): the machine is too loaded to record it within %v", end, recorded.Round(time.Second), RecordWindowTime)
	}
	start, err := be.Now(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var rows []runtoRow
	for range b.N {
		rows = rows[:0]
		for _, c := range runtoCases {
			r, err := benchRunto(ctx, be, prog, start, c)
			if err != nil {
				b.Fatalf("%s: %v", c.name, err)
			}
			rows = append(rows, r)
		}
	}
	var out strings.Builder
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Fprintf(&out, "Run to a line on one gdb record-full recording of testdata/navigate/far.py (%s, %s): %v instructions, recorded in %v; load average %s\n",
		filepath.Base(python), gdb, be.Window["instructions"], recorded.Round(time.Second), strings.Join(strings.Fields(string(load))[:3], " "))
	fmt.Fprintf(&out, "%-46s %7s %9s %8s %8s %10s %11s %9s %9s %7s\n", "run", "events", "run ms", "resumes", "py stops",
		"µs/event", "step ms", "step ms/ev", "floor ms", "vs step")
	for _, r := range rows {
		fmt.Fprintf(&out, "%-46s %7d %9.0f %8d %8d %10.1f %11.0f %9.2f %9.0f %6.1fx\n", r.name, r.events, r.runMS, r.resumes, r.pyStops,
			1000*r.runMS/float64(max(r.events, 1)), r.stepMS, r.stepMS/float64(max(r.events, 1)), r.floorMS, r.stepMS/r.runMS)
	}
	out.WriteString(runtoLegend)
	for _, l := range strings.Split(strings.TrimRight(out.String(), "\n"), "\n") {
		b.Log(l)
	}
	for _, r := range rows {
		b.ReportMetric(1000*r.runMS/float64(max(r.events, 1)), "µs/event-"+strings.Fields(r.name)[0]+"-"+map[bool]string{true: "fwd", false: "rev"}[r.forward])
	}
	if dir, err := filepath.Abs(filepath.Join("..", "bin", "bench")); err == nil && os.MkdirAll(dir, 0o755) == nil {
		_ = os.WriteFile(filepath.Join(dir, "runto.txt"), []byte(out.String()), 0o644)
	}
}

const runtoLegend = `events: line events between the start and where the run lands (sys.settrace 'line', all frames: the steps
  stepping takes); run ms: timelens.runToLine / reverseRunToLine, one MI round trip; resumes: (reverse-)continues
  and stepi of the run; py stops: watchpoint triggers its Python filters saw; µs/event: run ms per line event skipped;
  step ms: the same distance by timelens.step / reverseStep, one MI round trip each; floor ms: gdb's own "record goto"
  over the same instructions (replay alone, no watchpoint): no run can be faster under gdb record full.
`

// benchRunto measures one case: the run, the replay floor and stepping.
func benchRunto(ctx context.Context, be *Backend, prog string, windowStart history.Time, c runtoCase) (runtoRow, error) {
	r := runtoRow{runtoCase: c}
	if err := be.Goto(ctx, windowStart); err != nil {
		return r, err
	}
	if c.fromLine != 29 { // 29: the window's first line event
		if err := be.RunToLine(ctx, prog, c.fromLine, "", true); err != nil {
			return r, fmt.Errorf("to the start (line %d): %w", c.fromLine, err)
		}
	}
	from, err := be.Now(ctx)
	if err != nil {
		return r, err
	}
	args := []string{}
	if !c.forward {
		args = append(args, "--reverse")
	}
	if c.condition != "" {
		args = append(args, "--condition", c.condition)
	}
	t0 := time.Now()
	payload, err := be.call(ctx, "-timelens-run-to-line", append(args, prog, fmt.Sprint(c.line))...)
	r.runMS = float64(time.Since(t0).Microseconds()) / 1000
	if err != nil {
		return r, userError(err)
	}
	var p struct {
		Function string `json:"function"`
		Line     int    `json:"line"`
		Resumes  int    `json:"resumes"`
		PyStops  int    `json:"py_stops"`
	}
	if err := Decode(payload, &p); err != nil {
		return r, err
	}
	r.resumes, r.pyStops = p.Resumes, p.PyStops
	r.landed = fmt.Sprintf("%s:%d", p.Function, p.Line)
	to, err := be.Now(ctx)
	if err != nil {
		return r, err
	}
	// gdb's own replay of the same instructions.
	if err := be.Goto(ctx, from); err != nil {
		return r, err
	}
	t0 = time.Now()
	if err := be.Goto(ctx, to); err != nil {
		return r, err
	}
	r.floorMS = float64(time.Since(t0).Microseconds()) / 1000
	// Stepping there.
	if err := be.Goto(ctx, from); err != nil {
		return r, err
	}
	move := history.Step
	if !c.forward {
		move = history.ReverseStep
	}
	t0 = time.Now()
	for {
		if err := be.Move(ctx, move); err != nil {
			return r, fmt.Errorf("stepping after %d steps: %w", r.events, err)
		}
		r.events++
		now, err := be.Now(ctx)
		if err != nil {
			return r, err
		}
		if now == to {
			break
		}
		if cmp := be.Compare(now, to); (c.forward && cmp > 0) || (!c.forward && cmp < 0) {
			return r, fmt.Errorf("stepping passed the run's landing (%s) at step %d (%s)", to, r.events, now)
		}
	}
	r.stepMS = float64(time.Since(t0).Microseconds()) / 1000
	return r, nil
}
