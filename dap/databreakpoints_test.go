package dap_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	godap "github.com/google/go-dap"

	"github.com/timelens/timelens/gdbmi/gdbtest"
	"github.com/timelens/timelens/history"
)

// TestDataBreakpointsLikeSettrace watches `total` of loop.py's main from
// the Variables pane, with a line breakpoint on the loop's deposit line:
// continue stops at each write of total where sys.settrace sees main's
// total bound to another object (the line of the event before), and at
// each run of the breakpoint's line, whichever comes first, up to the end
// of the recording; reverseContinue stops at the same places back to the
// start. Each data breakpoint stop says old → new value.
func TestDataBreakpointsLikeSettrace(t *testing.T) {
	for _, py := range gdbtest.SuitePythons(t, false) {
		t.Run(py.Label, func(t *testing.T) {
			s := launch(t, py.Path, "loop.py")
			s.dataBreakpoints()
			s.Call("disconnect", nil)
		})
	}
}

// wstop is one place continue must stop at: a write of the watched name
// (at event's line, leaving value) or a line breakpoint's run (event).
type wstop struct {
	event int
	write bool
	old   string
	value string
}

func (s *dapSession) dataBreakpoints() {
	t := s.t
	const name, depositLine = "total", 24 // acct.deposit(i * 10)
	tr := s.trace
	call := tr.Events[0].Call
	if tr.Events[0].Function != "main" {
		t.Fatalf("the window starts in %s, not main", tr.Events[0].Function)
	}
	// The oracle: every event of main's call whose line binds total anew,
	// and every run of the deposit line; in time order (a write is made
	// during its event's line, so after that event).
	var stops []wstop
	for k, ev := range tr.Events {
		if ev.Call != call {
			continue
		}
		if ev.Line == depositLine {
			stops = append(stops, wstop{event: k})
		}
		if j, ok := tr.NextWriteEvent(k, name); ok && j == k {
			after := k + 1
			for tr.Events[after].Call != call {
				after++
			}
			stops = append(stops, wstop{event: k, write: true, old: ev.Locals[name], value: tr.Events[after].Locals[name]})
		}
	}
	if n := len(stops); n < 6 {
		t.Fatalf("the oracle has %d stops; the test needs writes and runs", n)
	}

	// The Variables pane of main at the window's start has no total yet:
	// watch it through the expression of the frame instead, one step on.
	s.move("next", history.Next, nil)
	s.move("next", history.Next, nil)
	f, vars, locals := s.top()
	if _, ok := vars[name]; !ok {
		t.Fatalf("no %s in main's Locals at line %d", name, f.Line)
	}
	info := s.Call("dataBreakpointInfo", map[string]any{"variablesReference": locals, "name": name}).(*godap.DataBreakpointInfoResponse)
	if info.Body.DataId == nil || !strings.HasPrefix(fmt.Sprint(info.Body.DataId), name+"@") {
		t.Fatalf("dataBreakpointInfo of %s: %+v", name, info.Body)
	}
	// An expression the searches cannot watch is refused with why.
	bad := s.Call("dataBreakpointInfo", map[string]any{"name": "acct.history[0]", "frameId": f.Id}).(*godap.DataBreakpointInfoResponse)
	if bad.Body.DataId != nil || !strings.Contains(bad.Body.Description, "not a name or an attribute chain") {
		t.Errorf("dataBreakpointInfo of a subscript: %+v", bad.Body)
	}
	set := s.Call("setDataBreakpoints", map[string]any{"breakpoints": []map[string]any{{"dataId": info.Body.DataId, "accessType": "write"}}}).(*godap.SetDataBreakpointsResponse)
	if len(set.Body.Breakpoints) != 1 || !set.Body.Breakpoints[0].Verified {
		t.Fatalf("setDataBreakpoints: %+v", set.Body.Breakpoints)
	}
	dataID := set.Body.Breakpoints[0].Id
	s.setBreakpoints(map[string]any{"line": depositLine})

	// Where we are now: event index 2 of main (after two nexts in main).
	now := 0
	for k, n := 0, 0; k < len(tr.Events); k++ {
		if tr.Events[k].Call == call {
			if n == 2 {
				now = k
				break
			}
			n++
		}
	}
	expect := func(st godap.StoppedEventBody, want wstop, how string) {
		t.Helper()
		ev := tr.Events[want.event]
		top := s.Call("stackTrace", map[string]any{"threadId": 1}).(*godap.StackTraceResponse).Body.StackFrames[0]
		if top.Line != ev.Line || top.Name != ev.Function {
			t.Errorf("%s: stopped at line %d in %s (%s: %s); settrace says line %d in %s (write %v)", how, top.Line, top.Name, st.Reason, st.Description, ev.Line, ev.Function, want.write)
			return
		}
		if want.write {
			desc := fmt.Sprintf("%s: %s → %s", name, want.old, want.value)
			if want.old == "" {
				desc = fmt.Sprintf("→ %s", want.value)
			}
			if st.Reason != "data breakpoint" || !strings.Contains(st.Description, desc) || !slices.Equal(st.HitBreakpointIds, []int{dataID}) {
				t.Errorf("%s: stopped %q (%s) %v at line %d; want a data breakpoint stop saying %q", how, st.Reason, st.Description, st.HitBreakpointIds, top.Line, desc)
			}
			return
		}
		if st.Reason != "breakpoint" {
			t.Errorf("%s: stopped %q (%s) at line %d; want the line breakpoint", how, st.Reason, st.Description, top.Line)
		}
		s.oracle.Goto(s.ctx, history.Time(fmt.Sprintf("t%d", want.event)))
		s.check(how)
	}
	// Forward: every stop after now, in order, then the end.
	var ahead []wstop
	for _, x := range stops {
		if x.event > now || (x.event == now && x.write) {
			ahead = append(ahead, x)
		}
	}
	writes := 0
	for i, want := range ahead {
		s.Call("continue", map[string]any{"threadId": 1})
		st := s.Stopped()
		expect(st, want, fmt.Sprintf("continue %d", i+1))
		if want.write {
			writes++
			if writes == 1 {
				t.Logf("the first data breakpoint stop: %q", st.Description)
			}
		}
	}
	t.Logf("continue: %d stops as settrace says (%d writes of %s, %d runs of line %d); reverseContinue: %d", len(ahead), writes, name, len(ahead)-writes, depositLine, len(stops))
	if writes == 0 || writes == len(ahead) {
		t.Errorf("the oracle's stops ahead mix no writes and runs: %+v", ahead)
	}
	s.Call("continue", map[string]any{"threadId": 1})
	if st := s.Stopped(); st.Reason != "end of recording" {
		t.Errorf("continue after the last stop: %q (%s), want the end of the recording", st.Reason, st.Description)
	}
	// Backward from the end: the same stops in reverse order, back to the
	// first write in the window (total = 0), then the start.
	for i := len(stops) - 1; i >= 0; i-- {
		s.Call("reverseContinue", map[string]any{"threadId": 1})
		expect(s.Stopped(), stops[i], fmt.Sprintf("reverseContinue to stop %d", i+1))
	}
	s.Call("reverseContinue", map[string]any{"threadId": 1})
	if st := s.Stopped(); st.Reason != "entry" {
		t.Errorf("reverseContinue before the first stop: %q (%s), want the start", st.Reason, st.Description)
	}
	s.Call("setDataBreakpoints", map[string]any{"breakpoints": []map[string]any{}})
	s.setBreakpoints()
	s.oracle.GotoEdge(s.ctx, history.Start)
}
