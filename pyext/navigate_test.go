package pyext

// Tests of the gdb side's line stepping (timelens_gdb/moves.py) against the sys.settrace oracle, through a real
// gdb that can reverse-execute (gdb >= 14 here, i.e. the test root) and a real
// CPython 3.13 (trixie root) or 3.14 (sid root, TIMELENS_SUITE=sid). Run in the root:
//
//	CGO_ENABLED=0 go test -c -o bin/tests/nav.test ./pyext
//	cd pyext && ../scripts/sandbox run -- env TIMELENS_REQUIRE_DEBUGGER=1 ../bin/tests/nav.test -test.run Navigate -test.v

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/gdbmi/gdbtest"
)

// navPrograms are testdata/navigate's programs, with the window each records from.
var navPrograms = []struct{ file, from string }{
	{"loop.py", "--main"},
	{"calls.py", "--main"},
	{"gen.py", "--main"},
	{"exc.py", "--main"},
	{"comp.py", "--main"},
	{"classes.py", "--main"},
	{"calls.py", "fact"},
	{"classes.py", "Account.deposit"},
	// From main: importing dataclasses is millions of instructions on 3.10.
	// Every position is compared with the oracle's, which has no events in
	// code without a source file: a stop in one is a difference.
	{"generated.py", "main"},
}

// navPrimary is the interpreter of this root's distribution (the last of
// its list), for the tests that need one CPython.
func navPrimary(t testing.TB) string {
	t.Helper()
	pys := gdbtest.SuitePythons(t, false)
	return pys[len(pys)-1].Path
}

func navDir(t testing.TB) string {
	t.Helper()
	d, err := filepath.Abs(filepath.Join("..", "testdata", "navigate"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

type navOracle struct {
	Events [][]any `json:"events"`
}

type navKey struct {
	File     string
	Line     int
	Function string
}

func (k navKey) String() string {
	return fmt.Sprintf("%s:%d %s", filepath.Base(k.File), k.Line, k.Function)
}

// runNavOracle runs oracle.py and returns its line events.
func runNavOracle(t *testing.T, python, prog, from string) []navKey {
	t.Helper()
	out := filepath.Join(t.TempDir(), "oracle.json")
	args := []string{filepath.Join(navDir(t), "oracle.py"), prog, "--out", out}
	if from != "--main" {
		args = append(args, "--func", from)
	}
	cmd := exec.Command(python, args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oracle: %v\n%s", err, b)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var o navOracle
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatal(err)
	}
	keys := make([]navKey, len(o.Events))
	for i, e := range o.Events {
		keys[i] = navKey{File: e[0].(string), Line: int(e[1].(float64)), Function: e[2].(string)}
	}
	return keys
}

type navPos struct {
	File          string  `json:"file"`
	Line          int     `json:"line"`
	Function      string  `json:"function"`
	Depth         int     `json:"depth"`
	Edge          *string `json:"edge"`
	Stops         int     `json:"stops"`
	InternalStops int     `json:"internal_stops"`
	Triggers      int     `json:"gdb_triggers"`
	WindowEnd     string  `json:"window_end"`
	Instructions  int     `json:"instructions"`
}

func (p navPos) key() navKey { return navKey{p.File, p.Line, p.Function} }

// navCall runs one gdb-side MI command and decodes its reply. A command that ran
// the program is answered ^running, and gdb drops its result: it is read back from
// gdb._timelens_last_reply.
func navCall(ctx context.Context, s *gdbtest.Session, op string, args ...string) (navPos, error) {
	var p navPos
	res, err := s.MI(ctx, op, args...)
	if err != nil {
		return p, userError(err) // a refusal, decoded: its code and message
	}
	js, _ := res.Payload["json"].(string)
	if res.Class == "running" || js == "" {
		out, err := s.Console(ctx, "python import json; print('TLREPLY ' + json.dumps(gdb._timelens_last_reply))")
		if err != nil {
			return p, err
		}
		i := strings.Index(out, "TLREPLY ")
		if i < 0 {
			return p, fmt.Errorf("no kept reply in %q", out)
		}
		var kept struct {
			Reply *struct {
				JSON string `json:"json"`
			} `json:"reply"`
			Error *string `json:"error"`
		}
		line := strings.SplitN(out[i+len("TLREPLY "):], "\n", 2)[0]
		if err := json.Unmarshal([]byte(line), &kept); err != nil {
			return p, fmt.Errorf("kept reply %q: %v", line, err)
		}
		if kept.Error != nil {
			return p, AsError(&gdbmi.CommandError{Op: op, Msg: *kept.Error})
		}
		if kept.Reply == nil {
			return p, fmt.Errorf("%s: no reply", op)
		}
		js = kept.Reply.JSON
	}
	err = json.Unmarshal([]byte(js), &p)
	return p, err
}

// isEdge says err is the extension's refusal of a move at that edge of the
// recorded history.
func isEdge(err error, edge string) bool {
	e := AsError(err)
	return e != nil && e.Code == CodeEdge && e.Field("edge") == edge
}

func navPrefix(got, want []navKey) int {
	n := 0
	for n < len(got) && n < len(want) && got[n] == want[n] {
		n++
	}
	return n
}

// TestNavigateStepMatchesSettrace: from the window start, -timelens-step visits exactly
// the oracle's line events to the end, and -timelens-step --reverse visits them
// backwards; moves past either end are refused without moving.
//
// TestNavigateSemantics walks every --main program both ways on every
// interpreter; this test walks the windows that start at a function.
func TestNavigateStepMatchesSettrace(t *testing.T) {
	gdbtest.ReverseGDB(t)
	for _, py := range gdbtest.SuitePythons(t, false) {
		python := py.Path
		t.Run(py.Label, func(t *testing.T) {
			t.Parallel()
			for _, pr := range navPrograms {
				if pr.from == "--main" && os.Getenv("TIMELENS_NAV_MAIN") == "" {
					continue
				}
				navStepWindow(t, python, pr.file, pr.from)
			}
		})
	}
}

// navStepWindow records prog from a function (or --main) and walks the whole window
// both ways, comparing every position with the oracle's line events.
func navStepWindow(t *testing.T, python, file, from string) {
	pr := struct{ file, from string }{file, from}
	{
		t.Run(pr.file+"@"+strings.TrimPrefix(pr.from, "--"), func(t *testing.T) {
			prog := filepath.Join(navDir(t), pr.file)
			want := runNavOracle(t, python, prog, pr.from)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			s := navigatorSession(t, python, prog)
			began := time.Now()
			w, err := navCall(ctx, s, "-timelens-record-window", pr.from, "3000000")
			if err != nil {
				t.Fatalf("record window: %v\n%s", err, s.TTYOutput())
			}
			t.Logf("window: %s, %d instructions, ended by %s, in %v", w.key(), w.Instructions, w.WindowEnd, time.Since(began).Round(time.Millisecond))

			walk := func(reverse bool) ([]navKey, int, time.Duration, error) {
				seq := []navKey{}
				stops := 0
				began := time.Now()
				args := []string{"step"}
				if reverse {
					args = append(args, "--reverse")
				}
				for i := 0; i < 5*len(want)+10; i++ {
					p, err := navCall(ctx, s, "-timelens-step", args...)
					if err != nil {
						return seq, stops, time.Since(began), err
					}
					seq = append(seq, p.key())
					stops += p.Stops
				}
				return seq, stops, time.Since(began), errors.New("too many moves")
			}
			fwd, fstops, ftime, fend := walk(false)
			fwd = append([]navKey{w.key()}, fwd...)
			if !isEdge(fend, "end") {
				t.Errorf("forward walk ended with %v, want the end of recorded history", fend)
			}
			endPos, err := navCall(ctx, s, "-timelens-where")
			if err != nil || endPos.key() != fwd[len(fwd)-1] {
				t.Errorf("a refused move changed the position: %v %v, want %v", endPos.key(), err, fwd[len(fwd)-1])
			}
			rev, rstops, rtime, rend := walk(true)
			if !isEdge(rend, "start") {
				t.Errorf("reverse walk ended with %v, want the start of recorded history", rend)
			}
			rev = append([]navKey{fwd[len(fwd)-1]}, rev...)
			for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
				rev[i], rev[j] = rev[j], rev[i]
			}
			okF, okR := navPrefix(fwd, want), navPrefix(rev, want)
			if len(fwd) != len(want) {
				okF = min(okF, len(want)-1)
			}
			if len(rev) != len(want) {
				okR = min(okR, len(want)-1)
			}
			t.Logf("%s: %d/%d line events forward, %d/%d reverse; %.2f stops/line forward (%v/move), %.2f reverse (%v/move)",
				pr.file, okF, len(want), okR, len(want),
				float64(fstops)/float64(max(1, len(fwd)-1)), ftime/time.Duration(max(1, len(fwd)-1)),
				float64(rstops)/float64(max(1, len(rev)-1)), rtime/time.Duration(max(1, len(rev)-1)))
			if okF != len(want) || len(fwd) != len(want) {
				t.Errorf("forward differs at event %d: got %v, want %v", okF, navAround(fwd, okF), navAround(want, okF))
			}
			if okR != len(want) || len(rev) != len(want) {
				t.Errorf("reverse differs at event %d: got %v, want %v", okR, navAround(rev, okR), navAround(want, okR))
			}
		})
	}
}

func navAround(k []navKey, i int) []navKey {
	lo, hi := max(0, i-2), min(len(k), i+3)
	if lo > hi {
		return nil
	}
	return k[lo:hi]
}

// TestNavigateSemantics runs testdata/navigate/check.py in a batch gdb: next, finish,
// goto-entry and call (both directions) from every line event of each --main program,
// against the oracle's activations.
func TestNavigateSemantics(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: every move from every line event")
	}
	gdb := gdbtest.ReverseGDB(t)
	dir := navDir(t)
	pys := gdbtest.SuitePythons(t, false)
	for i, py := range pys {
		python := py.Path
		// Trixie's own CPython (the last of its suite) moves from more line
		// events; the others, sid's 3.14 too, from fewer (every move kind and
		// the full step walks still run).
		sample := navSample(i == len(pys)-1 && py.Suite == "trixie")
		t.Run(py.Label, func(t *testing.T) {
			t.Parallel()
			for _, pr := range navPrograms {
				if pr.from == "--main" {
					navSemantics(t, gdb, python, dir, pr.file, sample)
				}
			}
		})
	}
}

// navSemantics runs check.py on one --main program under one interpreter.
func navSemantics(t *testing.T, gdb, python, dir, file string, sample int) {
	pr := struct{ file string }{file}
	{
		t.Run(pr.file, func(t *testing.T) {
			var res struct {
				Forward    []int             `json:"forward"`
				Reverse    []int             `json:"reverse"`
				Semantics  map[string][2]int `json:"semantics"`
				Sourceless []any             `json:"sourceless"`
				Failures   []map[string]any  `json:"semantics_failures"`
				Context    map[string]any    `json:"forward_context"`
			}
			checkPy(t, gdb, python, filepath.Join(dir, pr.file), fmt.Sprintf("TL_SEMANTICS=1; TL_SAMPLE=%d", sample), &res)
			t.Logf("%s: step %d/%d forward, %d/%d reverse; %v", pr.file, res.Forward[0], res.Forward[1],
				res.Reverse[0], res.Reverse[1], res.Semantics)
			if res.Forward[0] != res.Forward[1] || res.Reverse[0] != res.Reverse[1] {
				t.Errorf("step differs from the oracle: %v", res.Context)
			}
			if len(res.Sourceless) > 0 {
				t.Errorf("moves stopped in code without a source file: %v", res.Sourceless)
			}
			if len(res.Semantics) == 0 {
				t.Errorf("no semantic checks ran")
			}
			for kind, c := range res.Semantics {
				if c[0] != c[1] {
					t.Errorf("%s: %d/%d as the oracle", kind, c[0], c[1])
				}
			}
			for _, f := range res.Failures {
				t.Logf("failure: %v", f)
			}
		})
	}
}

// checkPy runs testdata/navigate/oracle.py on prog (with oracleArgs), then
// check.py in a batch gdb on the same program under python, with vars (Python
// assignments after TL_ORACLE and TL_TARGET) saying what to check, and decodes
// check.py's TLCHECK result into res.
func checkPy(t *testing.T, gdb, python, prog, vars string, res any, oracleArgs ...string) {
	t.Helper()
	dir := navDir(t)
	out := filepath.Join(t.TempDir(), "oracle.json")
	args := append([]string{filepath.Join(dir, "oracle.py"), prog, "--out", out}, oracleArgs...)
	if b, err := exec.Command(python, args...).CombinedOutput(); err != nil {
		t.Fatalf("oracle: %v\n%s", err, b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	b, err := gdbtest.Batch(ctx, gdb,
		"-ex", gdbSide(t),
		"-ex", fmt.Sprintf("python TL_ORACLE=%q; TL_TARGET=\"--main\"; %s", out, vars),
		"-x", filepath.Join(dir, "check.py"),
		"--args", python, prog)
	found := false
	for _, l := range gdbtest.Lines(b, "TLCHECK ") {
		found = json.Unmarshal([]byte(l), res) == nil
	}
	if !found {
		t.Fatalf("check.py gave no result (%v):\n%s", err, navTail(b, 3000))
	}
}

// navSample is how many line events per program TestNavigateSemantics checks from
// (TIMELENS_NAV_SAMPLE; 0 = every one: minutes per program). make test-all: 20 for
// the root's own CPython and 6 for the others; make test (the interpreter matrix
// sampled, gdbtest.Sampled): 8 and 3, since each sampled line event costs about a
// minute per interpreter on 2 cores and this test is make test's longest (every
// move kind from each, and the full step walks both ways, still run on every
// CPython it takes).
func navSample(primary bool) int {
	if v, err := strconv.Atoi(os.Getenv("TIMELENS_NAV_SAMPLE")); err == nil && v >= 0 {
		return v
	}
	switch {
	case primary && gdbtest.Sampled():
		return 8
	case primary:
		return 20
	case gdbtest.Sampled():
		return 3
	}
	return 6
}

func navTail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestNavigateWindowLimit: a window cut (60000 instructions of about 120000) by the instruction limit keeps its start (gdb
// would otherwise drop the oldest instructions), stepping to its end is refused
// cleanly, and a call that never happens is refused without moving.
func TestNavigateWindowLimit(t *testing.T) {
	gdbtest.ReverseGDB(t)
	python := navPrimary(t)
	prog := filepath.Join(navDir(t), "loop.py")
	want := runNavOracle(t, python, prog, "--main")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s := navigatorSession(t, python, prog)
	w, err := navCall(ctx, s, "-timelens-record-window", "--main", "60000")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(w.WindowEnd, "instruction limit") || w.key() != want[0] {
		t.Fatalf("window %+v, want one cut by the instruction limit starting at %v", w, want[0])
	}
	n := 1
	var last navPos
	for ; n < len(want); n++ {
		p, err := navCall(ctx, s, "-timelens-step", "step")
		if err != nil {
			if !isEdge(err, "end") {
				t.Fatalf("step %d: %v", n, err)
			}
			break
		}
		if p.key() != want[n] {
			t.Fatalf("step %d: %v, want %v", n, p.key(), want[n])
		}
		last = p
	}
	t.Logf("window of %d instructions (%s): %d of the program's %d line events", w.Instructions, w.WindowEnd, n, len(want))
	if n == len(want) || n < 5 {
		t.Fatalf("a 60000-instruction window holds %d of %d line events", n, len(want))
	}
	if _, err := navCall(ctx, s, "-timelens-call", "next", "no_such_function"); !isEdge(err, "end") &&
		(AsError(err) == nil || AsError(err).Code != CodeNoCall) || !strings.Contains(fmt.Sprint(err), "no_such_function") {
		t.Errorf("call next of a function never called: %v, want a refusal naming it", err)
	}
	if p, err := navCall(ctx, s, "-timelens-where"); err != nil || p.key() != last.key() {
		t.Errorf("a refused move moved: at %v (%v), want %v", p.key(), err, last.key())
	}
}
