package dap_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
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
	"github.com/timelens/timelens/history/historytest"
	"github.com/timelens/timelens/pyext/session"
)

// The sessions below drive `timelens dap`'s server as a debugger UI does,
// over a real gdb recording of testdata/programs/loop.py from main with
// each CPython of the test root, and check every stop against the
// sys.settrace oracle of the same program (historytest: a timeline over
// the settrace trace, whose moves are CONTRACT.md's).

// dapSession is one DAP session and the oracle it is checked against.
type dapSession struct {
	*daptest.Client
	t      *testing.T
	ctx    context.Context
	oracle *history.Timeline
	trace  *historytest.Trace
	prog   string
	// roundTrips holds, per move request, the editor's round trip: the
	// request, its stopped event, stackTrace, scopes and the top frame's
	// variables.
	roundTrips map[string][]time.Duration
}

// launch records prog from main with py through a DAP launch request, up
// to the first stopped event, and opens the oracle of the same run.
func launch(t *testing.T, py, prog string) *dapSession {
	t.Helper()
	gdb := gdbtest.ReverseGDB(t)
	path, _ := filepath.Abs(filepath.Join("..", "testdata", "programs", prog))
	trace, err := historytest.Record(py, path, "main")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	oracle, err := history.New(ctx, trace, history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { oracle.Close() })
	c := daptest.Serve(t, dap.Config{
		Start: func(ctx context.Context, raw json.RawMessage, progress func(string)) (*history.Timeline, error) {
			var a struct {
				Program    string `json:"program"`
				RecordFrom string `json:"recordFrom"`
				Python     string `json:"python"`
			}
			if err := json.Unmarshal(raw, &a); err != nil {
				return nil, err
			}
			return session.Open(ctx, session.Config{Backend: gdbmi.KindGDB, GDB: gdb, Python: a.Python,
				Program: []string{a.Program}, RecordFrom: a.RecordFrom, Progress: progress})
		},
	})
	init := c.Call("initialize", map[string]any{"adapterID": "timelens", "clientID": "test", "linesStartAt1": true,
		"supportsVariablePaging": true}).(*godap.InitializeResponse)
	caps := init.Body
	for name, ok := range map[string]bool{"supportsStepBack": caps.SupportsStepBack,
		"supportsConditionalBreakpoints": caps.SupportsConditionalBreakpoints, "supportsHitConditionalBreakpoints": caps.SupportsHitConditionalBreakpoints,
		"supportsLogPoints": caps.SupportsLogPoints, "supportsGotoTargetsRequest": caps.SupportsGotoTargetsRequest,
		"supportsRestartFrame": caps.SupportsRestartFrame, "supportsEvaluateForHovers": caps.SupportsEvaluateForHovers,
		"supportsSteppingGranularity": caps.SupportsSteppingGranularity, "supportsDisassembleRequest": caps.SupportsDisassembleRequest} {
		if !ok {
			t.Errorf("initialize does not advertise %s", name)
		}
	}
	start := time.Now()
	c.Call("launch", map[string]any{"program": path, "recordFrom": "main", "python": py})
	t.Logf("launch (recording) took %s; it said %q", time.Since(start).Round(time.Millisecond), c.Outputs())
	c.Event("initialized")
	c.Call("configurationDone", nil)
	st := c.Stopped()
	if st.Reason != "entry" {
		t.Errorf("first stop: reason %q, want entry", st.Reason)
	}
	s := &dapSession{Client: c, t: t, ctx: ctx, oracle: oracle, trace: trace, prog: path, roundTrips: map[string][]time.Duration{}}
	s.check("entry")
	return s
}

var hexAddress = regexp.MustCompile(`0x[0-9a-f]+`)

// same compares two renderings; addresses differ between the two runs.
func same(a, b string) bool {
	return hexAddress.ReplaceAllString(a, "0x") == hexAddress.ReplaceAllString(b, "0x")
}

// top reads the stack trace's top frame and its Locals scope as a client
// shows them.
func (s *dapSession) top() (godap.StackFrame, map[string]godap.Variable, int) {
	s.t.Helper()
	st := s.Call("stackTrace", map[string]any{"threadId": 1}).(*godap.StackTraceResponse)
	if len(st.Body.StackFrames) == 0 {
		s.t.Fatal("stackTrace: no frames")
	}
	f := st.Body.StackFrames[0]
	scopes := s.Call("scopes", map[string]any{"frameId": f.Id}).(*godap.ScopesResponse).Body.Scopes
	if len(scopes) != 2 || scopes[0].Name != "Locals" || scopes[1].Name != "Globals" {
		s.t.Fatalf("scopes: %+v, want Locals and Globals", scopes)
	}
	vars := map[string]godap.Variable{}
	for _, v := range s.variables(scopes[0].VariablesReference, 0, 0) {
		vars[v.Name] = v
	}
	return f, vars, scopes[0].VariablesReference
}

func (s *dapSession) variables(ref, start, count int) []godap.Variable {
	s.t.Helper()
	return s.Call("variables", map[string]any{"variablesReference": ref, "start": start, "count": count}).(*godap.VariablesResponse).Body.Variables
}

// check compares where the DAP session is with where the oracle is: the
// top frame's file, line and function, and every variable of its Locals.
func (s *dapSession) check(what string) {
	s.t.Helper()
	want, err := s.oracle.Where(s.ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	f, vars, _ := s.top()
	path := ""
	if f.Source != nil {
		path = f.Source.Path
	}
	if path != want.File || f.Line != want.Line || f.Name != want.Function {
		s.t.Fatalf("%s: at %s:%d %s, settrace says %s:%d %s", what, filepath.Base(path), f.Line, f.Name,
			filepath.Base(want.File), want.Line, want.Function)
	}
	for name, w := range want.Locals {
		if v, ok := vars[name]; !ok || !same(v.Value, w) {
			s.t.Errorf("%s (line %d): %s = %q, settrace says %q", what, want.Line, name, v.Value, w)
		}
	}
	for name, v := range vars {
		if _, ok := want.Locals[name]; !ok {
			s.t.Errorf("%s (line %d): variable %s = %q, which settrace does not see", what, want.Line, name, v.Value)
		}
	}
}

// move sends a move request and makes the same move in the oracle; a move
// the oracle refuses at an edge must stop where it was with that edge's
// reason.
func (s *dapSession) move(command string, m history.Move, args map[string]any) {
	s.t.Helper()
	if args == nil {
		args = map[string]any{}
	}
	args["threadId"] = 1
	if m.Kind() == "finish" {
		s.finish(command, m.Reverse(), args)
		return
	}
	if m.Kind() == "next" {
		s.unambiguous(command, m.Reverse())
	}
	start := time.Now()
	defer func() { s.roundTrips[command] = append(s.roundTrips[command], time.Since(start)) }()
	s.Call(command, args)
	st := s.Stopped()
	_, err := s.oracle.Move(s.ctx, m)
	var edge *history.EdgeError
	switch {
	case errors.As(err, &edge):
		want := map[history.Edge]string{history.Start: "entry", history.End: "end of recording"}[edge.Edge]
		if st.Reason != want {
			s.t.Errorf("%s at the %s of the window: stopped %q (%s), want %q", command, edge.Edge, st.Reason, st.Description, want)
		}
	case err != nil:
		s.t.Fatalf("oracle %s: %v", m, err)
	case st.Reason != "step":
		s.t.Errorf("%s: stopped %q (%s), want step", command, st.Reason, st.Description)
	}
	s.check(fmt.Sprintf("after %s (%s)", command, m))
}

// TestSessionLikeSettrace steps a session with every move the toolbar has,
// forward and back, and compares each stop and the top frame's variables
// with sys.settrace; then the Variables pane's children and paging, a
// stale reference, evaluate, breakpoints with conditions, hit counts and
// log messages both ways, goto to each run of a line and restartFrame.
func TestSessionLikeSettrace(t *testing.T) {
	for _, py := range gdbtest.SuitePythons(t, false) {
		t.Run(py.Label, func(t *testing.T) {
			s := launch(t, py.Path, "loop.py")
			s.walk()
			s.children()
			s.evaluate()
			s.breakpoints()
			s.gotoRuns()
			s.restartFrame()
			s.Call("disconnect", nil)
		})
	}
}

// walk makes a fixed mix of moves that crosses the window's calls (the
// constructor, deposit, the recursion of fib, a comprehension) and back.
func (s *dapSession) walk() {
	type mv struct {
		cmd  string
		m    history.Move
		args map[string]any
	}
	stepIn := mv{"stepIn", history.Step, nil}
	next := mv{"next", history.Next, nil}
	stepOut := mv{"stepOut", history.Finish, nil}
	stepBack := mv{"stepBack", history.ReverseNext, nil}
	backIn := mv{"timelens/reverseStepIn", history.ReverseStep, nil}
	backOut := mv{"timelens/reverseStepOut", history.ReverseFinish, nil}
	// Every stop of this script is a line event of settrace's, or (after
	// a stepOut, a reverse stepOut) a caller's line whose next line event
	// follows (finish checks both): loop.py's lines in the comments.
	script := []mv{
		stepBack,                        // main:20, the window's first line event: refused
		stepIn, stepIn, stepIn, stepOut, // Account.__init__ 3, 4, 5, out to main:20, then 21
		next, next, next, stepIn, stepIn, // main 22, 23, 24; deposit 8, 9
		stepBack, backIn, stepIn, stepIn, stepIn, // deposit 8; main:24; deposit 8, 9, 10
		backOut,                                  // main:24 where deposit was called, then 22
		next, next, next, next, next, next, next, // 23, 24, 22, 23, 24, 22, 23
		stepIn, stepIn, backIn, stepIn, stepIn, stepIn, stepIn, // 24, deposit 8, main:24, deposit 8, 9, 10, main:22
		next, next, next, next, // 23, 24, 22 (the loop ends), 25
		stepIn, stepIn, stepIn, stepIn, stepIn, stepIn, stepIn, stepIn, // fib(4) 14, 16, fib(3) 14, 16, fib(2) 14, 16, fib(1) 14, 15
		stepBack, backIn, backIn, backIn, backIn, backIn, // fib(1):14, fib(2) 16, 14, fib(3) 16, 14, fib(4):16
		stepOut,                                        // main:25, then 26
		next, next, stepBack, stepBack, backIn, backIn, // on to main:28 and back
	}
	defer s.logRoundTrips()
	for _, m := range script {
		var args map[string]any
		if m.args != nil {
			args = map[string]any{}
			for k, v := range m.args {
				args[k] = v
			}
		}
		s.move(m.cmd, m.m, args)
	}
}

// children expands an instance and a list in the Variables pane, pages
// the list, and checks that a reference from before a move is refused.
func (s *dapSession) children() {
	t := s.t
	// To deposit's first line with acct in main holding a list of history.
	if _, err := s.oracle.GotoEdge(s.ctx, history.Start); err != nil {
		t.Fatal(err)
	}
	s.Call("reverseContinue", map[string]any{"threadId": 1})
	if st := s.Stopped(); st.Reason != "entry" {
		t.Fatalf("reverseContinue without breakpoints: stopped %q (%s), want entry at the window's start", st.Reason, st.Description)
	}
	s.check("reverseContinue to the start")
	for range 14 {
		s.move("next", history.Next, nil)
	}
	_, vars, _ := s.top()
	acct, ok := vars["acct"]
	if !ok || acct.VariablesReference == 0 {
		t.Fatalf("acct: %+v, want a variable with children", acct)
	}
	attrs := map[string]godap.Variable{}
	for _, v := range s.variables(acct.VariablesReference, 0, 0) {
		attrs[v.Name] = v
	}
	want, _ := s.oracle.Where(s.ctx)
	for _, name := range []string{"owner", "balance", "history"} {
		v, ok := attrs[name]
		if !ok {
			t.Errorf("acct's children %v lack %s", attrs, name)
			continue
		}
		if !strings.Contains(want.Locals["acct"], name+"="+v.Value) {
			t.Errorf("acct.%s = %q, but settrace renders acct as %s", name, v.Value, want.Locals["acct"])
		}
		if v.EvaluateName != "acct."+name {
			t.Errorf("acct.%s: evaluateName %q", name, v.EvaluateName)
		}
	}
	hist := attrs["history"]
	if hist.IndexedVariables < 2 {
		t.Fatalf("acct.history: %+v, want a list of 2 items or more", hist)
	}
	all := s.variables(hist.VariablesReference, 0, 0)
	page := s.variables(hist.VariablesReference, 1, 1)
	if len(all) != hist.IndexedVariables || len(page) != 1 || page[0].Name != "1" || page[0].Value != all[1].Value {
		t.Errorf("acct.history: all %+v, page [1:2] %+v", all, page)
	}
	// A move makes every reference stale: an error, never another value.
	s.move("next", history.Next, nil)
	r := s.Try("variables", map[string]any{"variablesReference": hist.VariablesReference})
	if r.GetResponse().Success || !strings.Contains(r.GetResponse().Message, "before the last move") {
		t.Errorf("variables of a reference from before a move: success %v, %q", r.GetResponse().Success, r.GetResponse().Message)
	}
}

// evaluate reads expressions of the condition language in the top frame,
// and refuses one that would run code, saying why.
func (s *dapSession) evaluate() {
	t := s.t
	want, _ := s.oracle.Where(s.ctx)
	for expr, ok := range map[string]bool{"total": true, "acct.balance": true, "total + 1": true, "len(acct.history)": true, "acct.history[0]": true} {
		r := s.Try("evaluate", map[string]any{"expression": expr, "context": "watch"})
		if r.GetResponse().Success != ok {
			t.Errorf("evaluate %s: %s", expr, r.GetResponse().Message)
			continue
		}
		got := r.(*godap.EvaluateResponse).Body.Result
		var exp string
		switch expr {
		case "total":
			exp = want.Locals["total"]
		case "total + 1":
			var n int
			fmt.Sscan(want.Locals["total"], &n)
			exp = fmt.Sprint(n + 1)
		case "acct.balance":
			exp = regexp.MustCompile(`balance=(\d+)`).FindStringSubmatch(want.Locals["acct"])[1]
		case "len(acct.history)":
			exp = fmt.Sprint(strings.Count(regexp.MustCompile(`history=\[[^\]]*\]`).FindString(want.Locals["acct"]), ",") + 1)
		case "acct.history[0]":
			exp = "0"
		}
		if got != exp {
			t.Errorf("evaluate %s = %q, settrace's values say %q (acct = %s)", expr, got, exp, want.Locals["acct"])
		}
	}
	r := s.Try("evaluate", map[string]any{"expression": "acct.deposit(5)", "context": "repl"})
	if r.GetResponse().Success || !strings.Contains(r.GetResponse().Message, "not supported") {
		t.Errorf("evaluate of a call: success %v, %q; want a refusal saying a call is not supported", r.GetResponse().Success, r.GetResponse().Message)
	}
}

// setBreakpoints sets the breakpoints of the program's file.
func (s *dapSession) setBreakpoints(bps ...map[string]any) []godap.Breakpoint {
	s.t.Helper()
	if bps == nil {
		bps = []map[string]any{}
	}
	r := s.Call("setBreakpoints", map[string]any{"source": map[string]any{"path": s.prog}, "breakpoints": bps}).(*godap.SetBreakpointsResponse)
	for _, b := range r.Body.Breakpoints {
		if !b.Verified {
			s.t.Errorf("breakpoint %+v not verified", b)
		}
	}
	return r.Body.Breakpoints
}

// cont continues (or reverse-continues) and checks the stop.
func (s *dapSession) cont(forward bool, reason string) godap.StoppedEventBody {
	s.t.Helper()
	cmd := "continue"
	if !forward {
		cmd = "reverseContinue"
	}
	s.Call(cmd, map[string]any{"threadId": 1})
	st := s.Stopped()
	if st.Reason != reason {
		s.t.Fatalf("%s: stopped %q (%s), want %q", cmd, st.Reason, st.Description, reason)
	}
	s.check(cmd)
	return st
}

// breakpoints: a condition both ways, the window's edges, a hit count
// from the window's start, log points.
func (s *dapSession) breakpoints() {
	t := s.t
	const loopLine, depositLine, appendLine = 23, 8, 9 // total += i; self.balance += amount; self.history.append(amount)
	// From the window's start: forward to the hit, on to the end, back.
	s.oracle.GotoEdge(s.ctx, history.Start)
	s.cont(false, "entry")
	s.setBreakpoints(map[string]any{"line": loopLine, "condition": "i == 3"})
	if _, err := s.oracle.RunToLine(s.ctx, s.prog, loopLine, "i == 3", true); err != nil {
		t.Fatal(err)
	}
	st := s.cont(true, "breakpoint")
	if len(st.HitBreakpointIds) != 1 {
		t.Errorf("stopped at a breakpoint: hitBreakpointIds %v", st.HitBreakpointIds)
	}
	if _, err := s.oracle.GotoEdge(s.ctx, history.End); err != nil {
		t.Fatal(err)
	}
	st = s.cont(true, "end of recording")
	if !strings.Contains(st.Description, "end of the recorded window") {
		t.Errorf("at the end: %q", st.Description)
	}
	s.oracle.RunToLine(s.ctx, s.prog, loopLine, "i == 3", false)
	s.cont(false, "breakpoint")
	s.oracle.GotoEdge(s.ctx, history.Start)
	s.cont(false, "entry")

	// The 2nd hit of deposit's append, counted from the window's start,
	// whichever way time goes; and log points, which print and go on.
	s.setBreakpoints(map[string]any{"line": loopLine, "condition": "i == 3"})
	runs, _, err := s.oracle.LineRuns(s.ctx, s.prog, appendLine, 100)
	if err != nil || len(runs) < 3 {
		t.Fatalf("oracle runs of line %d: %v %v", appendLine, runs, err)
	}
	s.Call("setBreakpoints", map[string]any{"source": map[string]any{"path": s.prog}, "breakpoints": []map[string]any{
		{"line": appendLine, "hitCondition": "2"},
		{"line": depositLine, "logMessage": "deposit {amount} into {self.balance}"},
	}})
	s.oracle.Goto(s.ctx, runs[1].Time)
	s.cont(true, "breakpoint")
	logged := s.Outputs()
	want, _ := s.oracle.Where(s.ctx)
	deposits, _, _ := s.oracle.LineRuns(s.ctx, s.prog, depositLine, 100)
	var wantLog []string
	for _, r := range deposits {
		if s.oracle.Compare(r.Time, want.Time) < 0 {
			s.oracle.Goto(s.ctx, r.Time)
			p, _ := s.oracle.Where(s.ctx)
			bal := regexp.MustCompile(`balance=(\d+)`).FindStringSubmatch(p.Locals["self"])[1]
			wantLog = append(wantLog, fmt.Sprintf("deposit %s into %s (loop.py:%d)\n", p.Locals["amount"], bal, depositLine))
		}
	}
	s.oracle.Goto(s.ctx, want.Time)
	if len(wantLog) == 0 || strings.Join(logged, "") != strings.Join(wantLog, "") {
		t.Errorf("log points said %q, settrace's values say %q", logged, wantLog)
	}
	// Back from the end: the same 2nd hit (its log point on the way).
	s.oracle.GotoEdge(s.ctx, history.End)
	s.setBreakpoints(map[string]any{"line": appendLine, "hitCondition": "2"})
	s.cont(true, "end of recording")
	s.oracle.Goto(s.ctx, runs[1].Time)
	s.cont(false, "breakpoint")
	s.setBreakpoints()
}

// gotoRuns jumps to each run of the loop's line, as the editor's "Jump to
// Cursor" picker offers them.
func (s *dapSession) gotoRuns() {
	t := s.t
	const line = 23
	targets := s.Call("gotoTargets", map[string]any{"source": map[string]any{"path": s.prog}, "line": line}).(*godap.GotoTargetsResponse).Body.Targets
	runs, _, err := s.oracle.LineRuns(s.ctx, s.prog, line, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(targets) != len(runs) {
		t.Fatalf("gotoTargets of line %d: %d targets, settrace ran it %d times", line, len(targets), len(runs))
	}
	for i, target := range targets {
		s.Call("goto", map[string]any{"threadId": 1, "targetId": target.Id})
		if st := s.Stopped(); st.Reason != "goto" {
			t.Errorf("goto %s: stopped %q", target.Label, st.Reason)
		}
		s.oracle.Goto(s.ctx, runs[i].Time)
		s.check("goto " + target.Label)
	}
}

// restartFrame goes back to the entry of a call on the stack.
func (s *dapSession) restartFrame() {
	t := s.t
	const line = 9 // deposit's append
	s.setBreakpoints(map[string]any{"line": line})
	s.oracle.RunToLine(s.ctx, s.prog, line, "", true)
	s.cont(true, "breakpoint")
	st := s.Call("stackTrace", map[string]any{"threadId": 1}).(*godap.StackTraceResponse).Body.StackFrames
	if len(st) < 2 {
		t.Fatalf("in deposit: %d frames", len(st))
	}
	s.Call("restartFrame", map[string]any{"frameId": st[0].Id})
	if r := s.Stopped(); r.Reason != "restart" {
		t.Errorf("restartFrame: stopped %q", r.Reason)
	}
	s.oracle.GotoEntry(s.ctx, 0)
	s.check("restartFrame")
	s.setBreakpoints()
}

// index is the oracle's current line event.
func (s *dapSession) index() int {
	now, _ := s.oracle.Now()
	var k int
	fmt.Sscanf(string(now), "t%d", &k)
	return k
}

// finish checks stepOut (timelens.finish) or timelens/reverseStepOut
// (reverseFinish): time stops in the caller on the line of the call, just
// after the call returns, or where it was made, which is between two of
// settrace's line events (testdata/navigate/check.py: ret_caller,
// call_caller). The caller's variables are as its last line event before
// the call has them, or, for an object the call changed, as its next one.
// A next then leads both to the caller's next line event.
func (s *dapSession) finish(command string, reverse bool, args map[string]any) {
	s.t.Helper()
	ev := s.trace.Events
	k := s.index()
	d := ev[k].Depth
	start := k // the first line event of the current call
	for start > 0 && !(ev[start-1].Depth < d) {
		start--
	}
	j := -1 // the caller's next line event after the call returns
	for i := k + 1; i < len(ev); i++ {
		if ev[i].Depth < d {
			j = i
			break
		}
	}
	c := -1 // the caller's line event of the call
	for i := start - 1; i >= 0; i-- {
		if ev[i].Depth == d-1 {
			c = i
			break
		}
	}
	s.Call(command, args)
	st := s.Stopped()
	if (reverse && c < 0) || (!reverse && j < 0) {
		want := map[bool]string{true: "entry", false: "end of recording"}[reverse]
		if st.Reason != want {
			s.t.Errorf("%s from the window's outermost call: stopped %q (%s), want %q", command, st.Reason, st.Description, want)
		}
		s.check(command + " refused")
		return
	}
	if st.Reason != "step" {
		s.t.Errorf("%s: stopped %q (%s), want step", command, st.Reason, st.Description)
	}
	what := fmt.Sprintf("after %s from %s:%d", command, ev[k].Function, ev[k].Line)
	f, vars, _ := s.top()
	want := ev[c]
	if f.Source == nil || f.Source.Path != want.File || f.Line != want.Line || f.Name != want.Function {
		s.t.Fatalf("%s: at %+v:%d %s, settrace's caller is at %s:%d %s", what, f.Source, f.Line, f.Name, filepath.Base(want.File), want.Line, want.Function)
	}
	for name, w := range want.Locals {
		v, ok := vars[name]
		after, sameCall := "", j >= 0 && ev[j].Call == want.Call
		if sameCall {
			after = ev[j].Locals[name]
		}
		if !ok || !(same(v.Value, w) || (sameCall && same(v.Value, after))) {
			s.t.Errorf("%s: %s = %q, settrace says %q before the call and %q after it", what, name, v.Value, w, after)
		}
	}
	if j < 0 || ev[j].Call != want.Call {
		s.t.Fatalf("script error: %s from %s:%d: the caller has no line event after the call", command, ev[k].Function, ev[k].Line)
	}
	s.Call("next", map[string]any{"threadId": 1})
	s.Stopped()
	if _, err := s.oracle.Goto(s.ctx, history.Time(fmt.Sprintf("t%d", j))); err != nil {
		s.t.Fatal(err)
	}
	s.check(what + " and next")
}

// unambiguous fails a script whose next or reverse next leaves the frame:
// that stops in the caller between two line events (timelens.next: "out to
// the caller at a frame's end"), where the trace's next has no event.
func (s *dapSession) unambiguous(command string, reverse bool) {
	s.t.Helper()
	ev := s.trace.Events
	k := s.index()
	dir := 1
	if reverse {
		dir = -1
	}
	for i := k + dir; i >= 0 && i < len(ev); i += dir {
		if ev[i].Depth <= ev[k].Depth {
			if ev[i].Depth < ev[k].Depth {
				s.t.Fatalf("script error: %s at %s:%d leaves its frame; the stop is not a line event", command, ev[k].Function, ev[k].Line)
			}
			return
		}
	}
}

// logRoundTrips logs the median and slowest round trip of each move.
func (s *dapSession) logRoundTrips() {
	for cmd, ds := range s.roundTrips {
		slices.Sort(ds)
		s.t.Logf("%-24s %2d moves: round trip (move, stopped, stackTrace, scopes, variables) median %s, max %s",
			cmd, len(ds), ds[len(ds)/2].Round(100*time.Microsecond), ds[len(ds)-1].Round(100*time.Microsecond))
	}
}

// TestVariablesPageABigList: the Variables pane pages a 100,000-item list
// (indexedVariables, start and count) without reading it whole.
func TestVariablesPageABigList(t *testing.T) {
	gdb := gdbtest.ReverseGDB(t)
	py := gdbtest.Python(t)
	path, _ := filepath.Abs(filepath.Join("testdata", "biglist.py"))
	c := daptest.Serve(t, dap.Config{
		Start: func(ctx context.Context, _ json.RawMessage, progress func(string)) (*history.Timeline, error) {
			return session.Open(ctx, session.Config{Backend: gdbmi.KindGDB, GDB: gdb, Python: py, Program: []string{path}, RecordFrom: "main"})
		},
	})
	c.Call("initialize", map[string]any{"adapterID": "timelens", "supportsVariablePaging": true})
	c.Call("launch", map[string]any{"program": path})
	c.Call("configurationDone", nil)
	c.Stopped()
	frames := c.Call("stackTrace", map[string]any{"threadId": 1}).(*godap.StackTraceResponse).Body.StackFrames
	if frames[0].Line != 7 || frames[0].Name != "main" {
		t.Fatalf("entry: %s:%d, want main:7", frames[0].Name, frames[0].Line)
	}
	scopes := c.Call("scopes", map[string]any{"frameId": frames[0].Id}).(*godap.ScopesResponse).Body.Scopes
	var xs godap.Variable
	for _, v := range c.Call("variables", map[string]any{"variablesReference": scopes[0].VariablesReference}).(*godap.VariablesResponse).Body.Variables {
		if v.Name == "xs" {
			xs = v
		}
	}
	if xs.IndexedVariables != 100000 || !strings.HasPrefix(xs.Value, "[0, 1, 2, ") || !strings.HasSuffix(xs.Value, "…") || len([]rune(xs.Value)) != 120 {
		t.Fatalf("xs: %+v, want 100000 indexed children and the value cut at 120 characters", xs)
	}
	for _, start := range []int{0, 50000, 99990} {
		t0 := time.Now()
		page := c.Call("variables", map[string]any{"variablesReference": xs.VariablesReference, "filter": "indexed", "start": start, "count": 10}).(*godap.VariablesResponse).Body.Variables
		took := time.Since(t0)
		if len(page) != 10 {
			t.Fatalf("page at %d: %d items", start, len(page))
		}
		for i, v := range page {
			if want := fmt.Sprint(start + i); v.Name != want || v.Value != want || v.EvaluateName != "xs["+want+"]" {
				t.Errorf("page at %d, item %d: %+v", start, i, v)
			}
		}
		t.Logf("the page of 10 items at %d took %s", start, took.Round(100*time.Microsecond))
	}
	if named := c.Call("variables", map[string]any{"variablesReference": xs.VariablesReference, "filter": "named"}).(*godap.VariablesResponse).Body.Variables; len(named) != 0 {
		t.Errorf("a list's named children: %+v, want none", named)
	}
	c.Call("disconnect", nil)
}
