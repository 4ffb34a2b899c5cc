package pyext

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/timelens/timelens/gdbmi/gdbtest"
)

// clockProgram reads the clock three ways inside main, the function recorded.
const clockProgram = `import time


def main():
    start = time.monotonic()
    wall = time.time()
    ns = time.perf_counter_ns()
    took = time.monotonic() - start
    return took


main()
`

// TestClockReadInWindow: a program that reads the clock inside the window
// records to its end. On machines whose vDSO clock retries while gdb
// single-steps (AMD EPYC under PVM), one time.monotonic() in record full
// never returned: the window ran into its time limit inside the vDSO. The gdb
// side hides the vDSO at the first instruction (vdso.py), so the reads are
// system calls; a replay then steps over each of them like any line.
func TestClockReadInWindow(t *testing.T) {
	gdbtest.ReverseGDB(t)
	dir := t.TempDir()
	prog := filepath.Join(dir, "clock.py")
	if err := os.WriteFile(prog, []byte(clockProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s := navigatorSession(t, gdbtest.Python(t), prog)
	// 120 s: far more than the few thousand instructions this takes, far less
	// than a recording stuck in the vDSO would run before its time limit.
	res, err := s.MI(ctx, "-timelens-record-window", "main", "200000", "120")
	if err == nil && res.Class == "running" {
		res, err = s.MI(ctx, "-timelens-last-reply")
	}
	if err != nil {
		t.Fatalf("record window: %v", userError(err))
	}
	var w struct {
		Line         int    `json:"line"`
		WindowEnd    string `json:"window_end"`
		Instructions int    `json:"instructions"`
		VDSO         string `json:"vdso"`
	}
	js, _ := res.Payload["json"].(string)
	if err := json.Unmarshal([]byte(js), &w); err != nil {
		t.Fatalf("record window reply %q: %v", js, err)
	}
	t.Logf("window: line %d, %d instructions, ended by %s, vdso %s", w.Line, w.Instructions, w.WindowEnd, w.VDSO)
	if w.VDSO != "hidden" {
		t.Errorf("vdso: %q, want hidden (gdb's record full, stopped at the first instruction)", w.VDSO)
	}
	if w.WindowEnd != "main module returned" {
		t.Fatalf("window ended by %q, want the main module's return", w.WindowEnd)
	}
	// In replay: main's lines one by one, over each clock read, then back.
	want := []int{6, 7, 8, 9}
	for _, line := range want {
		p, err := navCall(ctx, s, "-timelens-step", "next")
		if err != nil {
			t.Fatalf("next to line %d: %v", line, err)
		}
		if p.Line != line {
			t.Fatalf("next: line %d, want %d", p.Line, line)
		}
	}
	for i := len(want) - 2; i >= 0; i-- {
		p, err := navCall(ctx, s, "-timelens-step", "next", "--reverse")
		if err != nil {
			t.Fatalf("reverse next to line %d: %v", want[i], err)
		}
		if p.Line != want[i] {
			t.Fatalf("reverse next: line %d, want %d", p.Line, want[i])
		}
	}
}
