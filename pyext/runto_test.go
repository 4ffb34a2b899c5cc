package pyext

// Tests of run to a line (timelens_gdb/runto.py) and of conditions
// (timelens_gdb/condition.py) against sys.settrace (testdata/navigate/oracle.py
// with --conds: the conditions evaluated by Python itself in each frame), in
// a batch gdb running testdata/navigate/check.py, on every CPython of the
// test root. Run in the root: scripts/root-tests --run 'RunToLine|Condition' ./pyext

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// runtoSpec is testdata/navigate/runto.json: per program, the lines to run
// to and the conditions to try at each.
type runtoSpec map[string]map[string]struct {
	Conditions []string `json:"conditions"`
}

func readRuntoSpec(t *testing.T) map[string]json.RawMessage {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(navDir(t), "runto.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec map[string]json.RawMessage
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	return spec
}

// checkResult is check.py's TLCHECK line, the run-to-line part.
type checkResult struct {
	Forward  []int             `json:"forward"`
	Reverse  []int             `json:"reverse"`
	Runto    map[string][2]int `json:"runto"`
	Failures []map[string]any  `json:"runto_failures"`
	Context  map[string]any    `json:"forward_context"`
}

// runCheck runs check.py on prog with conds evaluated by the oracle, and
// vars saying what to check; stepping must agree with the oracle first.
func runCheck(t *testing.T, gdb, python, prog string, conds []string, vars string) checkResult {
	t.Helper()
	condFile := filepath.Join(t.TempDir(), "conds.json")
	cj, _ := json.Marshal(conds)
	if err := os.WriteFile(condFile, cj, 0o644); err != nil {
		t.Fatal(err)
	}
	var res checkResult
	checkPy(t, gdb, python, prog, fmt.Sprintf("import json; TL_COND_LIST=json.load(open(%q)); %s", condFile, vars), &res,
		"--conds", condFile)
	if len(res.Forward) != 2 || res.Forward[0] != res.Forward[1] || res.Reverse[0] != res.Reverse[1] {
		t.Fatalf("stepping differs from the oracle, so runs cannot be checked: %v", res.Context)
	}
	return res
}

// expectAll fails t for every kind of check that did not always agree.
func expectAll(t *testing.T, what string, res checkResult) {
	t.Helper()
	kinds := make([]string, 0, len(res.Runto))
	for k := range res.Runto {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var summary []string
	for _, k := range kinds {
		c := res.Runto[k]
		summary = append(summary, fmt.Sprintf("%s %d/%d", k, c[0], c[1]))
		if c[0] != c[1] {
			t.Errorf("%s: %s: %d/%d as the oracle", what, k, c[0], c[1])
		}
	}
	t.Logf("%s: %s", what, strings.Join(summary, ", "))
	if len(kinds) == 0 {
		t.Errorf("%s: no checks ran", what)
	}
	for _, f := range res.Failures {
		t.Logf("failure: %v", f)
	}
}

// runtoOn says whether TestRunToLine runs program file on a CPython: the
// root's own (primary) runs every program; the others recursion (calls.py)
// and a generator spanning its yields (gen.py), or every program with
// TIMELENS_RUNTO_ALL=1 (about 2.5 minutes more per CPython on 2 cores).
func runtoOn(primary bool, file string) bool {
	return primary || file == "calls.py" || file == "gen.py" || os.Getenv("TIMELENS_RUNTO_ALL") == "1"
}

// runtoSample is how many line events each run starts from
// (TIMELENS_RUNTO_SAMPLE), by default 4 for the root's own CPython and 2 for
// the others, and how many of each line's conditions are tried (all for the
// root's own CPython, the first for the others); the first and the last line
// event are always among the starts. (On a loaded 2-core machine the others
// took 3 minutes a program with 3 starts and every condition.) Under make
// test (the matrix sampled, gdbtest.Sampled) the root's own CPython starts
// from 3 and tries 3 conditions a line: it was make test's second longest
// test (10 minutes of the trixie root's pyext on 2 cores).
func runtoSample(primary bool) (starts, conds int) {
	starts, conds = 2, 1
	switch {
	case primary && gdbtest.Sampled():
		starts, conds = 3, 3
	case primary:
		starts, conds = 4, 99
	}
	if v, err := strconv.Atoi(os.Getenv("TIMELENS_RUNTO_SAMPLE")); err == nil && v >= 0 {
		starts = v
	}
	return starts, conds
}

// TestRunToLine: from sampled line events of each program (the window's
// first and last among them), runToLine and reverseRunToLine to the lines of
// testdata/navigate/runto.json, with and without their conditions, land
// exactly on the next / previous sys.settrace event at that line where the
// condition holds (or are refused, time unchanged, where there is none);
// lineRuns lists exactly the settrace events of each line, with the values
// the line assigned as Python saw them at the next event of the same call.
// Recursion, generators, coroutines, exceptions, comprehensions, classes and
// module-level loops are among the programs.
func TestRunToLine(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: many runs from many line events")
	}
	gdb := gdbtest.ReverseGDB(t)
	spec := readRuntoSpec(t)
	pys := gdbtest.SuitePythons(t, false)
	for i, py := range pys {
		python := py.Path
		// Trixie's own CPython (the last of its suite) runs every program; the
		// other Pythons, sid's 3.14 too, run those of runtoOn.
		primary := i == len(pys)-1 && py.Suite == "trixie"
		sample, nconds := runtoSample(primary)
		t.Run(py.Label, func(t *testing.T) {
			t.Parallel()
			for _, pr := range navPrograms {
				lines, ok := spec[pr.file]
				if pr.from != "--main" || !ok || !runtoOn(primary, pr.file) {
					continue
				}
				t.Run(pr.file, func(t *testing.T) {
					var s runtoSpec
					if err := json.Unmarshal([]byte(`{"x":`+string(lines)+`}`), &s); err != nil {
						t.Fatal(err)
					}
					var conds []string
					for line, l := range s["x"] {
						if _, err := strconv.Atoi(line); err == nil {
							conds = append(conds, l.Conditions...)
						}
					}
					res := runCheck(t, gdb, python, filepath.Join(navDir(t), pr.file), conds,
						fmt.Sprintf("TL_SAMPLE=%d; TL_RUNTO_CONDS=%d; TL_RUNTO=%q", sample, nconds, string(lines)))
					expectAll(t, pr.file, res)
				})
			}
		})
	}
}

// TestConditionOracle: every condition of testdata/navigate/conds.json at
// every line event of conds.py: a supported one has Python's value where
// Python has one and is undecided where Python raised; an unsupported one
// (it would run code of the program) never has a value and is refused as
// bad-condition where it is evaluated.
func TestConditionOracle(t *testing.T) {
	gdb := gdbtest.ReverseGDB(t)
	raw, err := os.ReadFile(filepath.Join(navDir(t), "conds.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct{ Supported, Unsupported []string }
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	for _, py := range gdbtest.SuitePythons(t, false) {
		python := py.Path
		t.Run(py.Label, func(t *testing.T) {
			t.Parallel()
			res := runCheck(t, gdb, python, filepath.Join(navDir(t), "conds.py"),
				append(append([]string{}, spec.Supported...), spec.Unsupported...), fmt.Sprintf("TL_CONDS=%q", string(raw)))
			expectAll(t, "conds.py", res)
		})
	}
}

// TestConditionErrors: a condition timelens cannot evaluate from memory is
// refused before anything moves, with the code bad-condition and a message
// that names what is not supported and why. No process is needed: this runs
// on the host's gdb too.
func TestConditionErrors(t *testing.T) {
	gdb, _ := gdbtest.GDB(t)
	cases := []struct{ cond, says string }{
		{"foo(1)", "a call of foo is not supported: calling it would run code"},
		{"obj.method() > 1", "a call of obj.method"},
		{"len(a, b)", "len() with 2 arguments"},
		{"[x for x in xs]", "a list comprehension is not supported in a condition"},
		{"{k: 1 for k in d}", "a dict comprehension"},
		{"(x for x in xs)", "a generator expression"},
		{"lambda: 1", "a lambda"},
		{"f'{x}' == 'a'", "an f-string"},
		{"xs[1:2]", "a slice"},
		{"xs[i]", "a subscript by an expression is not supported: subscripts take a constant key or index"},
		{"(y := 3)", "an assignment (:=)"},
		{"a @ b", "the @ operator"},
		{"{'a': 1} == d", "a dict display"},
		{"x ==", "is not a Python expression"},
		{"await x", "await"},
	}
	var script strings.Builder
	script.WriteString("import json\nfrom timelens_gdb import condition\nfrom timelens_gdb.errors import TimelensError\n")
	for _, c := range cases {
		fmt.Fprintf(&script, "try:\n    condition.compile(%q)\n    print('TLCOND ' + json.dumps([%q, 'ok', '']))\n"+
			"except TimelensError as e:\n    print('TLCOND ' + json.dumps([%q, e.code, e.message]))\n", c.cond, c.cond, c.cond)
	}
	for _, ok := range []string{"a.b.c[0]['k'] == -1", "0 < i <= n and not done", "x is None or len(s) > 2", "2 ** n % 7 in (1, 2)", "a if b else c"} {
		fmt.Fprintf(&script, "condition.compile(%q)\nprint('TLCOND ' + json.dumps([%q, 'ok', '']))\n", ok, ok)
	}
	file := filepath.Join(t.TempDir(), "conds.py")
	if err := os.WriteFile(file, []byte(script.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := gdbtest.Batch(ctx, gdb, "-ex", gdbSide(t), "-x", file)
	got := map[string][2]string{}
	for _, l := range gdbtest.Lines(out, "TLCOND ") {
		var r [3]string
		if json.Unmarshal([]byte(l), &r) == nil {
			got[r[0]] = [2]string{r[1], r[2]}
		}
	}
	if len(got) != len(cases)+5 {
		t.Fatalf("%d answers of %d (%v):\n%s", len(got), len(cases)+5, err, out)
	}
	for _, c := range cases {
		if g := got[c.cond]; g[0] != "bad-condition" || !strings.Contains(g[1], c.says) {
			t.Errorf("%q: %s %q, want bad-condition saying %q", c.cond, g[0], g[1], c.says)
		}
	}
}

// TestRunToLineBackend: the Go side of run to a line on a real recording of
// calls.py (the root's own CPython): Backend.RunToLine both ways with a
// condition, a run that finds nothing (history.ErrNoRun, time unchanged),
// a line with no code and a condition that would run code (refused by code
// before moving), and Backend.LineRuns, whose times Goto reaches.
func TestRunToLineBackend(t *testing.T) {
	gdb := gdbtest.ReverseGDB(t)
	python := navPrimary(t)
	prog := filepath.Join(navDir(t), "calls.py")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	b, err := Open(ctx, Options{Kind: gdbmi.KindGDB, Debugger: gdb, Python: python, Program: prog, RecordFrom: "main"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	where := func() (history.Time, navPos) {
		t.Helper()
		now, err := b.Now(ctx)
		if err != nil {
			t.Fatal(err)
		}
		payload, err := b.call(ctx, "-timelens-where")
		var p navPos
		if err == nil {
			err = Decode(payload, &p)
		}
		if err != nil {
			t.Fatal(err)
		}
		return now, p
	}
	// fact(n) runs line 13 for n = 5, 4, 3, 2 in each of main's two calls.
	if err := b.RunToLine(ctx, prog, 13, "n == 3", true); err != nil {
		t.Fatal(err)
	}
	t3, p := where()
	if p.Line != 13 || p.Function != "fact" {
		t.Fatalf("runToLine 13 where n == 3: %+v", p)
	}
	if v, err := b.Eval(ctx, 0, "n"); err != nil || v != "3" {
		t.Fatalf("n at the run: %q %v", v, err)
	}
	// -timelens-condition decides a condition now, in the frame at a depth.
	for cond, want := range map[string]bool{"n == 3": true, "n * 2 > 6 or n is None": false} {
		payload, err := b.call(ctx, "-timelens-condition", "--depth", "0", cond)
		var c struct {
			Holds     bool    `json:"holds"`
			Undecided *string `json:"undecided"`
		}
		if err == nil {
			err = Decode(payload, &c)
		}
		if err != nil || c.Holds != want || c.Undecided != nil {
			t.Errorf("-timelens-condition %q: %+v %v, want %v", cond, c, err, want)
		}
	}
	if err := b.RunToLine(ctx, prog, 13, "", false); err != nil {
		t.Fatal(err)
	}
	if v, _ := b.Eval(ctx, 0, "n"); v != "4" {
		t.Fatalf("reverseRunToLine 13 from n == 3: n = %s", v)
	}
	before, _ := where()
	err = b.RunToLine(ctx, prog, 13, "n > 9", true)
	if !errors.Is(err, history.ErrNoRun) || !strings.Contains(err.Error(), "calls.py:13 where n > 9") {
		t.Fatalf("a run that finds nothing: %v", err)
	}
	if now, _ := where(); now != before {
		t.Fatalf("a refused run moved time: %s -> %s", before, now)
	}
	for _, c := range []struct {
		line int
		cond string
		code Code
	}{{4, "", CodeNoCode}, {400, "", CodeNoCode}, {13, "fact(2) == 2", CodeBadCondition}, {13, "n ==", CodeBadCondition}} {
		err := b.RunToLine(ctx, prog, c.line, c.cond, true)
		if e := AsError(err); e == nil || e.Code != c.code {
			t.Errorf("line %d, condition %q: %v, want code %s", c.line, c.cond, err, c.code)
		}
	}
	runs, more, err := b.LineRuns(ctx, prog, 13, 100)
	if err != nil || more || len(runs) != 8 {
		t.Fatalf("lineRuns of 13: %d runs, more %v, %v", len(runs), more, err)
	}
	if now, _ := where(); now != before {
		t.Fatalf("lineRuns moved time: %s -> %s", before, now)
	}
	if err := b.Goto(ctx, runs[2].Time); err != nil {
		t.Fatal(err)
	}
	if now, p := where(); now != t3 || p.Line != 13 || runs[2].Function != "fact" || runs[2].Depth != p.Depth-1 {
		t.Fatalf("the third run of line 13 is at %s (%+v), want the n == 3 run at %s; run %+v", now, p, t3, runs[2])
	}
	two, more, err := b.LineRuns(ctx, prog, 13, 2)
	if err != nil || !more || len(two) != 2 || two[1].Time != runs[1].Time {
		t.Fatalf("lineRuns limit 2: %+v more %v %v", two, more, err)
	}
	// t = twice(add(1, 2)) assigns t = 6, read at main's next line.
	runs, _, err = b.LineRuns(ctx, prog, 21, 10)
	if err != nil || len(runs) != 2 || runs[0].Assigned["t"] != "6" || runs[0].Function != "main" {
		t.Fatalf("lineRuns of 21: %+v %v", runs, err)
	}
}
