package pyext

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/timelens/timelens/gdbmi/gdbtest"
)

// The start-up search (window.py): the recorded window begins at the first
// line event of the first call of --record-from FUNC, never a later one, on
// every CPython, with no watchpoint while the program runs live (the tests
// run with TIMELENS_CHECK_LIVE_WATCHPOINTS=1, and make test runs them under
// scripts/no-hw-watchpoints, where a live watchpoint would never fire).

// startupCase is one --record-from of testdata/startup/startup.py: the
// oracle gives the first line event of FUNC's first call and the arguments
// it had; args names those the test compares (each first call passes 1,
// later ones 2).
type startupCase struct {
	from string
	args []string
	why  string
}

var startupCases = []startupCase{
	{"fresh", []string{"n"}, "after 300 calls of another function (3.10, 3.12: every call starts at a breakpoint)"},
	{"Account.deposit", []string{"n"}, "a method, made in a class body"},
	{"outer.<locals>.inner", []string{"k"}, "made inside another function: imports are not run over"},
	{"gen", []string{"n"}, "a generator: its first resumption, of the second generator made"},
	{"coro", []string{"n"}, "a coroutine driven by send, the second one made"},
	{"key", []string{"n"}, "called from C (sorted's key)"},
	{"setup", []string{"n"}, "not in the main script: searched by name, first called by an import"},
	{"dumps", []string{"obj"}, "json.dumps: by name, in the standard library"},
}

// startupOracle is the settrace oracle's answer (testdata/startup/oracle.py).
type startupOracle struct {
	File     string            `json:"file"`
	Line     int               `json:"line"`
	Function string            `json:"function"`
	Args     map[string]string `json:"args"`
}

func runStartupOracle(t *testing.T, python, prog, from string) *startupOracle {
	t.Helper()
	out, err := exec.Command(python, filepath.Join(filepath.Dir(prog), "oracle.py"), from, prog).Output()
	if err != nil {
		t.Fatalf("oracle for %s: %v", from, err)
	}
	var o *startupOracle
	if err := json.Unmarshal(out, &o); err != nil {
		t.Fatalf("oracle for %s: %v: %s", from, err, out)
	}
	return o
}

func startupProgram(t *testing.T) string {
	t.Helper()
	prog, err := filepath.Abs(filepath.Join("..", "testdata", "startup", "startup.py"))
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// TestRecordFromFirstCall records startup.py from each function on each
// suite CPython: the window's first position is the oracle's first line
// event of FUNC's first call, with the first call's arguments.
func TestRecordFromFirstCall(t *testing.T) {
	gdbtest.ReverseGDB(t)
	prog := startupProgram(t)
	for _, py := range gdbtest.SuitePythons(t, false) {
		t.Run(py.Label, func(t *testing.T) {
			t.Parallel()
			for _, c := range startupCases {
				t.Run(c.from, func(t *testing.T) {
					want := runStartupOracle(t, py.Path, prog, c.from)
					if want == nil {
						t.Fatalf("the oracle says %s never runs", c.from)
					}
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
					defer cancel()
					s := navigatorSession(t, py.Path, prog)
					began := time.Now()
					w, err := startupWindow(ctx, s, c.from)
					if err != nil {
						t.Fatalf("record window from %s (%s): %v\n%s", c.from, c.why, err, s.TTYOutput())
					}
					t.Logf("%s (%s): %s:%d %s in %v, live phases %v, counts %v", c.from, c.why, filepath.Base(w.File), w.Line,
						w.Function, time.Since(began).Round(time.Millisecond), w.Phases, w.Counts)
					bare := func(f string) string { return f[strings.LastIndex(f, ".")+1:] }
					if w.File != want.File || w.Line != want.Line || bare(w.Function) != bare(want.Function) {
						t.Errorf("window starts at %s:%d in %s; the first call's first line event is %s:%d in %s",
							w.File, w.Line, w.Function, want.File, want.Line, want.Function)
					}
					js, ok := s.Call("-timelens-locals --depth 0")
					if !ok {
						t.Fatalf("-timelens-locals: %s", js)
					}
					var lr LocalsReply
					if err := DecodeString(js, &lr); err != nil {
						t.Fatal(err)
					}
					got := map[string]string{}
					for _, v := range lr.Locals {
						got[v.Name] = v.Value
					}
					for _, a := range c.args {
						if got[a] != want.Args[a] {
							t.Errorf("%s = %q at the window's start; the first call had %q (a later call?)", a, got[a], want.Args[a])
						}
					}
				})
			}
		})
	}
}

// startupReply is what -timelens-record-window says of the start-up.
type startupReply struct {
	File      string             `json:"file"`
	Line      int                `json:"line"`
	Function  string             `json:"function"`
	WindowEnd string             `json:"window_end"`
	Phases    map[string]float64 `json:"phases"`
	Counts    map[string]int     `json:"counts"`
}

// startupWindow records a window from FUNC (or --main) of at most 30,000
// machine instructions: these tests look at its start.
func startupWindow(ctx context.Context, s *gdbtest.Session, from string) (startupReply, error) {
	const limit = "30000"
	var w startupReply
	res, err := s.MI(ctx, "-timelens-record-window", from, limit)
	if err != nil {
		return w, userError(err)
	}
	if res.Class == "running" {
		if res, err = s.MI(ctx, "-timelens-last-reply"); err != nil {
			return w, userError(err)
		}
	}
	js, _ := res.Payload["json"].(string)
	return w, json.Unmarshal([]byte(js), &w)
}

// TestRecordFromNeverCalled: a function the program never calls is said so,
// once the program has ended (the search proved it), in words.
func TestRecordFromNeverCalled(t *testing.T) {
	gdbtest.ReverseGDB(t)
	prog := startupProgram(t)
	py := gdbtest.Python(t)
	for _, from := range []string{"never", "no_such_function"} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		s := navigatorSession(t, py, prog)
		_, err := startupWindow(ctx, s, from)
		cancel()
		e := AsError(err)
		if e == nil || e.Code != CodeNeverCalled || !strings.Contains(e.Message, from+" was never called") ||
			!strings.Contains(e.Message, "ran to its end") || e.Field("ended") != "exited" {
			t.Errorf("--record-from %s: %v; want never-called, saying the program ran to its end", from, err)
		}
	}
}

// TestNoWatchpointRunsLive: with TIMELENS_CHECK_LIVE_WATCHPOINTS=1 (the
// suite's), the gdb side refuses to run the program live with a watchpoint
// inserted, before recording and at the live end of a recording; in replay
// the same watchpoint is fine.
func TestNoWatchpointRunsLive(t *testing.T) {
	gdbtest.ReverseGDB(t)
	t.Setenv("TIMELENS_CHECK_LIVE_WATCHPOINTS", "1")
	prog := filepath.Join(navDir(t), "loop.py")
	py := gdbtest.Python(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	refused := func(err error, what string) {
		t.Helper()
		if e := AsError(err); e == nil || e.Code != CodeInternal || !strings.Contains(e.Message, "watchpoint") {
			t.Errorf("%s with a watchpoint: %v; want the live-watchpoint refusal", what, err)
		}
	}
	// Live, before recording: start-up's first resume is refused.
	s := navigatorSession(t, py, prog)
	s.Do("watch -l *(long *)$sp")
	_, err := startupWindow(ctx, s, "--main")
	refused(err, "start-up")

	// A recorded window: in replay a watchpoint is fine (a move, with one on
	// a constant the program never writes); at the live end a forward resume
	// is refused. (The refusal is checked from a console command: it raises
	// before resuming; gdb 17+ loses the result record of a console command
	// that resumes.)
	s = navigatorSession(t, py, prog)
	if _, err := startupWindow(ctx, s, "--main"); err != nil {
		t.Fatalf("record window: %v", err)
	}
	s.Do("watch -l *(long *)&Py_Version")
	if _, err := navCall(ctx, s, "-timelens-step", "step"); err != nil {
		t.Errorf("a step in replay with a watchpoint inserted: %v", err)
	}
	s.Do("record goto end")
	out := s.Do(`python exec("import timelens_gdb.debugger as d\ntry:\n d.resume('continue')\nexcept Exception as e:\n print('REFUSED', e)")`)
	if !strings.Contains(out, "REFUSED") || !strings.Contains(out, "would run the program live") {
		t.Errorf("continue at the live end with a watchpoint: %q; want it refused", out)
	}
}
