package gdbmi_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/gdbmi/gdbtest"
)

// TestRecordPythonAndReverseContinue records a real CPython between two
// calls of os.getppid (a libc call Python's start-up never makes), then runs
// the recording backwards to its start and forwards to its end. It needs a
// gdb that can reverse-execute here (gdb >= 14 on CPUs with AMX), so it runs
// in the test root.
func TestRecordPythonAndReverseContinue(t *testing.T) {
	gdb := gdbtest.ReverseGDB(t)
	py := gdbtest.AnyPython(t)
	prog := strings.Join([]string{
		"import os",
		"os.getppid()",
		"total = 0",
		"for i in range(50):",
		"    total += i",
		"os.getppid()",
	}, "\n")
	// A file, not -c: gdb re-splits program arguments and newlines do not
	// survive that.
	file := filepath.Join(t.TempDir(), "loop.py")
	if err := os.WriteFile(file, []byte(prog+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := start(t, gdbmi.Config{GDB: gdb, Program: py, Args: []string{file}, InferiorEnv: gdbmi.DebuggeeEnv()})
	ctx := ctxT(t, 5*time.Minute)

	if _, err := s.MI(ctx, "-break-insert", "-f", "getppid"); err != nil {
		t.Fatal(err)
	}
	if ev, err := s.Exec(ctx, "-exec-run"); err != nil || ev.Reason != "breakpoint-hit" {
		t.Fatalf("run to the first getppid: %+v %v\nprogram output: %s", ev, err, s.TTYOutput())
	}
	for _, c := range []string{"record full", "set record full insn-number-max 5000000"} {
		if _, err := s.Console(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	began := time.Now()
	if ev, err := s.Exec(ctx, "-exec-continue"); err != nil || ev.Reason != "breakpoint-hit" {
		t.Fatalf("record to the second getppid: %+v %v", ev, err)
	}
	info, err := s.Console(ctx, "info record")
	if err != nil {
		t.Fatal(err)
	}
	n := regexp.MustCompile(`Log contains (\d+) instructions`).FindStringSubmatch(info)
	if n == nil {
		t.Fatalf("info record while recording:\n%s", info)
	}
	t.Logf("recorded %s instructions in %s", n[1], time.Since(began).Round(time.Millisecond))

	if _, err := s.MI(ctx, "-break-delete"); err != nil {
		t.Fatal(err)
	}
	// gdb 16 says reason "no-history"; gdb 13 gives no reason, only the
	// console text: the dialect reads either.
	d, _ := gdbmi.DialectFor(gdbmi.KindGDB)
	edge := func(ev gdbmi.StopEvent, reverse bool) gdbmi.HistoryEdge {
		return d.Edge(gdbmi.StopInfo{Reason: ev.Reason, Console: ev.Console, Reverse: reverse})
	}
	ev, err := s.Exec(ctx, "-exec-continue", "--reverse")
	if err != nil || edge(ev, true) != gdbmi.EdgeStart {
		t.Fatalf("reverse-continue: %+v %v; want to stop at the start of history", ev, err)
	}
	info, _ = s.Console(ctx, "info record")
	cur := regexp.MustCompile(`Current instruction number is (\d+)`).FindStringSubmatch(info)
	if cur == nil {
		t.Fatalf("after reverse-continue gdb is not replaying:\n%s", info)
	}
	t.Logf("reverse-continue stopped at instruction %s: %q", cur[1], strings.TrimSpace(ev.Console))

	ev, err = s.Exec(ctx, "-exec-continue")
	if err != nil || edge(ev, false) != gdbmi.EdgeEnd {
		t.Fatalf("continue to the end of history: %+v %v", ev, err)
	}
	// And the session still answers ordinary commands.
	if res, err := s.MI(ctx, "-stack-info-depth"); err != nil || res.Payload["depth"] == nil {
		t.Fatalf("-stack-info-depth: %v %v", res.Payload, err)
	}
}
