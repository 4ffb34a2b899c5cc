package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/timelens/timelens/gdbmi/gdbtest"
	"github.com/timelens/timelens/history"
	"github.com/timelens/timelens/pyext/session"
)

// BenchmarkStartup measures the time to a navigable session (issue 20),
// phase by phase, as `timelens lsp` opens one (session.Open, line index
// on): gdb's start (and loading timelens into it), the live phases (to the
// function that runs the main script, to the main module's first line, to
// FUNC's function being made and its first call, to that call's first line
// event: breakpoints only), the recording, the rest (back to the window's
// start, saving a copy for the index) and, in the background, the line
// index. For testdata/race.py from main and every program of
// testdata/programs with and without --record-from main, on each suite
// CPython. Where this machine's hardware watchpoints fire, the same rows
// again with the search as it was before (watchpoints while the program ran
// live: TIMELENS_STARTUP_BASELINE=watchpoints) as the baseline. It writes
// bin/bench/startup.txt (startup-sid.txt in the sid root), which make
// bench prints.
func BenchmarkStartup(b *testing.B) {
	needRecording(b)
	top, _ := filepath.Abs(filepath.Join("..", ".."))
	type program struct{ path, from string }
	progs := []program{{filepath.Join(top, "testdata", "race.py"), "main"}}
	ents, _ := filepath.Glob(filepath.Join(top, "testdata", "programs", "*.py"))
	sort.Strings(ents)
	for _, p := range ents {
		progs = append(progs, program{p, ""}, program{p, "main"})
	}
	baseline := os.Getenv("TIMELENS_HW_WATCHPOINTS") != "never"
	var out strings.Builder
	fmt.Fprintf(&out, "Time to a navigable session (session.Open, as timelens lsp opens one), seconds; gdb record full.\n")
	fmt.Fprintf(&out, "%-14s %-22s %6s %6s %6s %6s %6s %6s %7s %6s %7s %6s %6s %s\n", "python", "program", "from", "gdb",
		"script", "module", "FUNC", "line1", "record", "rest", "total", "live%", "index", "(instructions; live phases' hits)")
	for _, py := range gdbtest.SuitePythons(b, false) {
		for _, pr := range progs {
			for _, base := range []bool{false, true} {
				if base && (!baseline || pr.from == "") {
					continue
				}
				row := startupRow(b, py.Path, pr.path, pr.from, base)
				name := filepath.Base(pr.path)
				from := orDefault(pr.from, "-")
				if base {
					from += " (watchpoints)"
				}
				fmt.Fprintf(&out, "%-14s %-22s %s\n", py.Label, name, row.format(from))
			}
		}
	}
	fmt.Fprintf(&out, "gdb: gdb's start and timelens loaded into it; script: to the function that runs the main script (gdb reads the\n")
	fmt.Fprintf(&out, "  interpreter's symbols here); module: to the main module's first call; FUNC: to FUNC's function being made and\n")
	fmt.Fprintf(&out, "  its first call; line1: to that call's first line event; record: record full; rest: back to the window's start,\n")
	fmt.Fprintf(&out, "  the first position, a copy of the window for the index; total: to a navigable session (the index builds after,\n")
	fmt.Fprintf(&out, "  in the background: index); live%%: the live phases (script..line1) in total.\n")
	if baseline {
		fmt.Fprintf(&out, "(watchpoints): the search before this change, with watchpoints while the program runs live (this machine's fire).\n")
	} else {
		fmt.Fprintf(&out, "No baseline rows: this machine's hardware watchpoints never fire live (TIMELENS_HW_WATCHPOINTS=never).\n")
	}
	fmt.Fprintf(&out, "goals: live phases ≤ 10%% of start-up, and ≤ 2 s on 3.11 and later.\n")
	for _, l := range strings.Split(strings.TrimRight(out.String(), "\n"), "\n") {
		b.Log(l)
	}
	if dir, err := filepath.Abs(filepath.Join("..", "..", "bin", "bench")); err == nil && os.MkdirAll(dir, 0o755) == nil {
		name := "startup.txt"
		if suite := os.Getenv("TIMELENS_SUITE"); suite != "" && suite != "trixie" {
			name = "startup-" + suite + ".txt"
		}
		_ = os.WriteFile(filepath.Join(dir, name), []byte(out.String()), 0o644)
	}
}

// startup is one measured session start.
type startup struct {
	gdb, total, index time.Duration
	window            map[string]any
	err               error
}

func (s startup) phase(name string) float64 {
	p, _ := s.window["phases"].(map[string]any)
	v, _ := p[name].(float64)
	return v
}

func (s startup) format(from string) string {
	if s.err != nil {
		return fmt.Sprintf("%6s  failed: %v", from, s.err)
	}
	script, module := s.phase("to_main_script"), s.phase("to_main_module")
	fn := s.phase("to_function_made") + s.phase("to_first_call")
	line1 := s.phase("to_first_line")
	rec, _ := s.window["record_seconds"].(float64)
	live := script + module + fn + line1
	total := s.total.Seconds()
	rest := total - s.gdb.Seconds() - live - rec
	insns, _ := s.window["instructions"].(float64)
	counts, _ := s.window["counts"].(map[string]any)
	var hits []string
	for _, k := range []string{"to_main_module", "to_function_made", "imports_run_over", "to_first_call", "first_line_steps"} {
		if v, ok := counts[k].(float64); ok {
			hits = append(hits, fmt.Sprintf("%s %d", strings.TrimPrefix(k, "to_"), int(v)))
		}
	}
	index := "-"
	if s.index > 0 {
		index = fmt.Sprintf("%.2f", s.index.Seconds())
	}
	return fmt.Sprintf("%6s %6.2f %6.2f %6.2f %6.2f %6.2f %7.2f %6.2f %7.2f %5.1f%% %6s (%d; %s)", from, s.gdb.Seconds(), script, module,
		fn, line1, rec, rest, total, 100*live/total, index, int(insns), strings.Join(hits, ", "))
}

// startupRow opens one session and measures it; base: with the old search.
func startupRow(b *testing.B, py, prog, from string, base bool) startup {
	if base {
		os.Setenv("TIMELENS_STARTUP_BASELINE", "watchpoints")
		defer os.Unsetenv("TIMELENS_STARTUP_BASELINE")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	var (
		mu      sync.Mutex
		s       startup
		started = time.Now()
		built   = make(chan history.IndexProgress, 1)
	)
	o := Options{Backend: "gdb", RecordFrom: from}
	c := o.config([]string{py, prog}, zap.NewNop(), func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		if strings.HasPrefix(msg, "running to") && s.gdb == 0 {
			s.gdb = time.Since(started)
		}
	})
	c.Index = true
	c.Recorded = func(w map[string]any) {
		mu.Lock()
		s.window = w
		mu.Unlock()
	}
	tl, err := session.Open(ctx, c)
	s.total = time.Since(started)
	if err != nil {
		s.err = err
		return s
	}
	defer tl.Close()
	tl.OnIndex(func(p history.IndexProgress) {
		if p.Done {
			select {
			case built <- p:
			default:
			}
		}
	})
	select {
	case p := <-built:
		if p.Err == nil && !p.Skipped {
			s.index = p.Took
		}
	case <-time.After(10 * time.Minute):
	}
	return s
}
