package dap_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	godap "github.com/google/go-dap"

	"github.com/timelens/timelens/dap"
	"github.com/timelens/timelens/dap/daptest"
	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/gdbmi/gdbtest"
	"github.com/timelens/timelens/history"
	"github.com/timelens/timelens/pyext/session"
)

// launchRecording launches prog (in testdata) recorded from main with py,
// as a client that reports progress (VS Code does), up to the first stop.
func launchRecording(t *testing.T, py, prog string) (*daptest.Client, string) {
	t.Helper()
	gdb := gdbtest.ReverseGDB(t)
	path, _ := filepath.Abs(filepath.Join("testdata", prog))
	c := daptest.Serve(t, dap.Config{
		Start: func(ctx context.Context, _ json.RawMessage, progress func(string)) (*history.Timeline, error) {
			return session.Open(ctx, session.Config{Backend: gdbmi.KindGDB, GDB: gdb, Python: py, Program: []string{path}, RecordFrom: "main"})
		},
	})
	init := c.Call("initialize", map[string]any{"adapterID": "timelens", "linesStartAt1": true,
		"supportsVariablePaging": true, "supportsProgressReporting": true}).(*godap.InitializeResponse).Body
	if !init.SupportsExceptionInfoRequest {
		t.Error("initialize does not advertise supportsExceptionInfoRequest")
	}
	if len(init.ExceptionBreakpointFilters) != 1 || init.ExceptionBreakpointFilters[0].Filter != "uncaught" || !init.ExceptionBreakpointFilters[0].Default {
		t.Errorf("exception filters %+v, want uncaught, on by default", init.ExceptionBreakpointFilters)
	}
	c.Call("launch", map[string]any{"program": path})
	c.Event("initialized")
	c.Call("setExceptionBreakpoints", map[string]any{"filters": []string{"uncaught"}})
	c.Call("configurationDone", nil)
	if st := c.Stopped(); st.Reason != "entry" {
		t.Fatalf("first stop: %q, want entry", st.Reason)
	}
	return c, path
}

// tracebackLine is one `File "...", line N, in NAME` line of a traceback.
var tracebackLine = regexp.MustCompile(`(?m)^  File "(.*)", line (\d+), in (.*)$`)

// pythonTraceback runs prog with py as a plain Python run: the traceback's
// entries and its last line.
func pythonTraceback(t *testing.T, py, path string) ([]string, string) {
	t.Helper()
	cmd := exec.Command(py, path)
	cmd.Env = append(os.Environ(), "PYTHON_COLORS=0", "NO_COLOR=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil {
		t.Fatalf("%s %s ran without an uncaught exception", py, path)
	}
	return tracebackEntries(stderr.String()), lastLine(stderr.String())
}

func tracebackEntries(text string) []string {
	var out []string
	for _, m := range tracebackLine.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1]+":"+m[2]+" in "+m[3])
	}
	return out
}

func lastLine(text string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	return lines[len(lines)-1]
}

// TestUncaughtException: raises.py ends with a ZeroDivisionError that C
// code raised (3.10 and 3.11 keep it unnormalized), raises_own.py with an
// exception of its own class raised in Python, whose finally ran after the
// raise, raises_key.py with a KeyError (its message is the key's repr) in
// a comprehension (its own frame before 3.12). A continue from the start stops with reason "exception" on the
// line that raised it, and exceptionInfo says what Python's own traceback
// says in a plain run of the program: the type, the message, every entry.
// Before that stop, and after a step back, exceptionInfo is refused with
// why.
func TestUncaughtException(t *testing.T) {
	for _, py := range gdbtest.SuitePythons(t, false) {
		for _, prog := range []string{"raises.py", "raises_own.py", "raises_key.py"} {
			t.Run(py.Label+"/"+prog, func(t *testing.T) { uncaught(t, py.Path, prog) })
		}
	}
}

func uncaught(t *testing.T, py, prog string) {
	path, _ := filepath.Abs(filepath.Join("testdata", prog))
	wantEntries, wantLast := pythonTraceback(t, py, path)
	c, _ := launchRecording(t, py, prog)
	refused(t, c, "exceptionInfo", map[string]any{"threadId": 1}, "not stopped on an exception")

	c.Send("continue", map[string]any{"threadId": 1})
	st := c.Stopped()
	if st.Reason != "exception" || st.Description != wantLast {
		t.Fatalf("continue: stopped %q (%s), want exception (%s)", st.Reason, st.Description, wantLast)
	}
	frames := c.Call("stackTrace", map[string]any{"threadId": 1}).(*godap.StackTraceResponse).Body.StackFrames
	raised := wantEntries[len(wantEntries)-1]
	if got := frames[0].Source.Path + ":" + itoa(frames[0].Line) + " in " + frames[0].Name; got != raised {
		t.Errorf("stopped at %s, want the line that raised it, %s", got, raised)
	}
	info := c.Call("exceptionInfo", map[string]any{"threadId": 1}).(*godap.ExceptionInfoResponse).Body
	wantType, _, _ := strings.Cut(wantLast, ":")
	if info.ExceptionId != wantType || info.Description != wantLast || info.BreakMode != "unhandled" {
		t.Errorf("exceptionInfo: %q, %q, %q; want %q, %q, unhandled", info.ExceptionId, info.Description, info.BreakMode, wantType, wantLast)
	}
	if info.Details == nil {
		t.Fatal("exceptionInfo without details")
	}
	if got := tracebackEntries(info.Details.StackTrace); !slices.Equal(got, wantEntries) {
		t.Errorf("traceback:\n%s\nwant the entries of Python's:\n%s", strings.Join(got, "\n"), strings.Join(wantEntries, "\n"))
	}
	if lastLine(info.Details.StackTrace) != wantLast {
		t.Errorf("traceback ends %q, want %q", lastLine(info.Details.StackTrace), wantLast)
	}
	t.Logf("exceptionInfo: %s\n%s", info.Description, info.Details.StackTrace)

	c.Send("stepBack", map[string]any{"threadId": 1})
	c.Stopped()
	refused(t, c, "exceptionInfo", map[string]any{"threadId": 1}, "not stopped on an exception")

	// With the filter off, continue goes to the window's end.
	c.Call("setExceptionBreakpoints", map[string]any{"filters": []string{}})
	c.Send("continue", map[string]any{"threadId": 1})
	if st := c.Stopped(); st.Reason != "end of recording" {
		t.Errorf("continue with no exception filter: stopped %q (%s), want end of recording", st.Reason, st.Description)
	}
	refused(t, c, "setExceptionBreakpoints", map[string]any{"filters": []string{"raised"}}, `unknown exception filter "raised"`)
	c.Call("disconnect", nil)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestPauseLongReverseContinue: a reverseContinue to a breakpoint whose
// condition never holds scans the whole window. Once the client sees it
// searching (its progress report), a pause stops it with reason "pause"
// where it started, and the stack and variables then read as they did
// there; the next reverseContinue scans again (the pause was taken back)
// to the window's start. A pause with nothing running is answered and
// changes nothing.
func TestPauseLongReverseContinue(t *testing.T) {
	py := gdbtest.Python(t)
	c, path := launchRecording(t, py, "longscan.py")
	c.Send("continue", map[string]any{"threadId": 1})
	if st := c.Stopped(); st.Reason != "end of recording" {
		t.Fatalf("continue: stopped %q (%s), want end of recording", st.Reason, st.Description)
	}
	before := topFrame(t, c)

	c.Call("setBreakpoints", map[string]any{"source": map[string]any{"path": path},
		"breakpoints": []map[string]any{{"line": 6, "condition": "i < 0"}}})
	c.Call("reverseContinue", map[string]any{"threadId": 1})
	c.Event("progressStart") // the search runs
	c.Call("pause", map[string]any{"threadId": 1})
	st := c.Stopped()
	if st.Reason != "pause" || !strings.Contains(st.Description, "paused") {
		t.Fatalf("pause during reverseContinue: stopped %q (%s), want pause", st.Reason, st.Description)
	}
	c.Event("progressEnd")
	if after := topFrame(t, c); after != before {
		t.Errorf("after the pause:\n%s\nwant where the reverseContinue started:\n%s", after, before)
	}

	// Nothing runs: answered, no stop.
	c.Call("pause", map[string]any{"threadId": 1})
	c.Call("threads", nil)
	for _, m := range c.Events {
		if e, ok := m.(*godap.StoppedEvent); ok {
			t.Errorf("a pause with nothing running sent a stopped event: %+v", e.Body)
		}
	}

	c.Send("reverseContinue", map[string]any{"threadId": 1})
	if st := c.Stopped(); st.Reason != "entry" {
		t.Errorf("reverseContinue after the pause: stopped %q (%s), want entry (no hit in the window)", st.Reason, st.Description)
	}
	c.Call("disconnect", nil)
}

// topFrame is the top frame and its locals as the client reads them.
func topFrame(t *testing.T, c *daptest.Client) string {
	t.Helper()
	f := c.Call("stackTrace", map[string]any{"threadId": 1}).(*godap.StackTraceResponse).Body.StackFrames[0]
	scopes := c.Call("scopes", map[string]any{"frameId": f.Id}).(*godap.ScopesResponse).Body.Scopes
	var b strings.Builder
	b.WriteString(f.Name + ":" + itoa(f.Line))
	for _, v := range c.Call("variables", map[string]any{"variablesReference": scopes[0].VariablesReference}).(*godap.VariablesResponse).Body.Variables {
		b.WriteString(" " + v.Name + "=" + v.Value)
	}
	return b.String()
}
