package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/timelens/timelens/gdbmi/gdbtest"
	"github.com/timelens/timelens/history/historytest"
)

// The end-to-end sessions: `timelens lsp --backend gdb --record-from main --
// python3.13 PROGRAM` over stdio, driven as an editor drives it, against a
// real gdb and a real CPython. They need a gdb that can reverse-execute, so
// they run in the test root.

// editor is a minimal LSP client over a child process's stdio: it answers
// the server's requests and keeps its notifications.
type editor struct {
	t   testing.TB
	cmd *exec.Cmd
	in  io.WriteCloser
	mu  sync.Mutex
	id  int
	res map[int]chan rpcMessage
	// notes holds notifications and server requests, by method.
	notes map[string][]json.RawMessage
	done  chan struct{}
}

type rpcMessage struct {
	ID     *json.RawMessage `json:"id,omitempty"`
	Method string           `json:"method,omitempty"`
	Params json.RawMessage  `json:"params,omitempty"`
	Result json.RawMessage  `json:"result,omitempty"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

func startEditor(t testing.TB, args ...string) *editor {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), fakeEnv+"=timelens")
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	e := &editor{t: t, cmd: cmd, in: in, res: map[int]chan rpcMessage{}, notes: map[string][]json.RawMessage{}, done: make(chan struct{})}
	go e.read(bufio.NewReader(out))
	t.Cleanup(func() {
		in.Close()
		select {
		case <-e.done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
		}
		cmd.Wait()
	})
	return e
}

func (e *editor) write(m map[string]any) {
	m["jsonrpc"] = "2.0"
	data, _ := json.Marshal(m)
	e.mu.Lock()
	defer e.mu.Unlock()
	fmt.Fprintf(e.in, "Content-Length: %d\r\n\r\n%s", len(data), data)
}

func (e *editor) read(r *bufio.Reader) {
	defer close(e.done)
	for {
		n := 0
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSpace(line)
			if line == "" {
				break
			}
			if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
				n, _ = strconv.Atoi(v)
			}
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		var m rpcMessage
		if json.Unmarshal(body, &m) != nil {
			continue
		}
		switch {
		case m.Method != "" && m.ID != nil: // a request from the server
			e.mu.Lock()
			e.notes[m.Method] = append(e.notes[m.Method], m.Params)
			e.mu.Unlock()
			var result any
			if m.Method == "window/showDocument" {
				result = map[string]bool{"success": true}
			}
			e.write(map[string]any{"id": m.ID, "result": result})
		case m.Method != "":
			e.mu.Lock()
			e.notes[m.Method] = append(e.notes[m.Method], m.Params)
			e.mu.Unlock()
		case m.ID != nil:
			var id int
			json.Unmarshal(*m.ID, &id)
			e.mu.Lock()
			ch := e.res[id]
			e.mu.Unlock()
			if ch != nil {
				ch <- m
			}
		}
	}
}

// send sends a request without waiting; the answer comes on the channel.
func (e *editor) send(method string, params any) (int, chan rpcMessage) {
	e.mu.Lock()
	e.id++
	id := e.id
	ch := make(chan rpcMessage, 1)
	e.res[id] = ch
	e.mu.Unlock()
	e.write(map[string]any{"id": id, "method": method, "params": params})
	return id, ch
}

// call sends a request and waits for its answer; it returns the error
// message when the server refused.
func (e *editor) call(method string, params any, out any) string {
	e.t.Helper()
	_, ch := e.send(method, params)
	select {
	case m := <-ch:
		if m.Error != nil {
			return m.Error.Message
		}
		if out != nil {
			if err := json.Unmarshal(m.Result, out); err != nil {
				e.t.Fatalf("%s: %v in %s", method, err, m.Result)
			}
		}
		return ""
	case <-e.done:
		e.t.Fatalf("%s: the server went away", method)
	case <-time.After(5 * time.Minute):
		e.t.Fatalf("%s: no answer in 5 minutes", method)
	}
	return ""
}

func (e *editor) notify(method string, params any) {
	e.write(map[string]any{"method": method, "params": params})
}

func (e *editor) count(method string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.notes[method])
}

// position is the result of the navigation commands.
type position struct {
	Time     string            `json:"time"`
	URI      string            `json:"uri"`
	Line     int               `json:"line"`
	Function string            `json:"function"`
	Locals   map[string]string `json:"locals"`
}

// editorCaps are the capabilities of an editor that the server can ask to
// refresh hints and lenses, to show a document and to show progress.
var editorCaps = map[string]any{
	"workspace": map[string]any{"inlayHint": map[string]any{"refreshSupport": true}, "codeLens": map[string]any{"refreshSupport": true}},
	"window":    map[string]any{"showDocument": map[string]any{"support": true}, "workDoneProgress": true},
}

// open initializes the server as an editor with caps in path's directory
// and opens path; it returns path's URI.
func (e *editor) open(path string, caps map[string]any) string {
	e.t.Helper()
	if msg := e.call("initialize", map[string]any{"processId": os.Getpid(), "rootUri": "file://" + filepath.Dir(path), "capabilities": caps}, nil); msg != "" {
		e.t.Fatal(msg)
	}
	e.notify("initialized", map[string]any{})
	src, err := os.ReadFile(path)
	if err != nil {
		e.t.Fatal(err)
	}
	uri := "file://" + path
	e.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": uri, "languageId": "python", "version": 1, "text": string(src)}})
	return uri
}

// move runs a navigation command and returns the new position.
func (e *editor) move(command string) position {
	e.t.Helper()
	var pos position
	if msg := e.call("workspace/executeCommand", map[string]any{"command": command}, &pos); msg != "" {
		e.t.Fatalf("%s: %s", command, msg)
	}
	return pos
}

// lineHints asks for the inlay hints of the whole document: 1-based line ->
// label.
func (e *editor) lineHints(uri string) map[int]string {
	e.t.Helper()
	var hints []struct {
		Position struct{ Line int }
		Label    string
	}
	if msg := e.call("textDocument/inlayHint", map[string]any{"textDocument": map[string]any{"uri": uri},
		"range": map[string]any{"start": map[string]int{"line": 0, "character": 0}, "end": map[string]int{"line": 100000, "character": 0}}}, &hints); msg != "" {
		e.t.Fatalf("inlay hints: %s", msg)
	}
	shown := map[int]string{}
	for _, h := range hints {
		shown[h.Position.Line+1] = h.Label
	}
	return shown
}

func e2eSession(t *testing.T, prog string, python ...string) (*editor, string, string) {
	t.Helper()
	py := needRecording(t)
	if len(python) > 0 {
		py = python[0]
	}
	path, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "programs", prog))
	e := startEditor(t, "lsp", "--backend", "gdb", "--record-from", "main", "--", py, path)
	uri := e.open(path, editorCaps)
	return e, uri, py
}

// hintValues parses "x = 1, i = 0 → 1 → 2 … → 4 (5×)" into name -> last value.
func hintValues(label string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(label, ", ") {
		name, val, ok := strings.Cut(part, " = ")
		if !ok || !regexp.MustCompile(`^\w+$`).MatchString(name) {
			continue
		}
		if i := strings.LastIndex(val, " → "); i >= 0 {
			val = val[i+len(" → "):]
		}
		val = regexp.MustCompile(` \(\d+×\)$`).ReplaceAllString(val, "")
		out[name] = val
	}
	return out
}

// TestLSPEndToEndStepsWithHints steps through each test program's main in
// a real timelens lsp and checks, at every line event, the position against
// the sys.settrace oracle and that the inlay hints name every local the
// current call assigned, with its current value; then steps back.
func TestLSPEndToEndStepsWithHints(t *testing.T) {
	// writes.py has 259 line events; its hints are checked at every 8th of
	// main's, to keep the suite's time in bounds (every step's position is
	// still checked).
	// loop.py runs a second time under pyenv's CPython 3.12: libpython is a
	// shared library there, loaded after the program starts.
	for _, c := range []struct {
		prog   string
		stride int
		python string
	}{{"loop.py", 1, ""}, {"writes.py", 8, ""}, {"loop.py", 1, pyenv312}} {
		name := c.prog
		if c.python != "" {
			name += "@" + filepath.Base(c.python)
		}
		t.Run(name, func(t *testing.T) {
			var py []string
			if c.python != "" {
				py = append(py, needPython(t, c.python))
			}
			stepWithHints(t, c.prog, c.stride, py...)
		})
	}
}

// pyenv312 is pyenv's CPython 3.12 (shared libpython, debug info), which
// every machine of the project has (FACTS.md).
const pyenv312 = "/root/.pyenv/versions/3.12.1/bin/python3.12"

// needPython returns python when it exists, else skips (or fails, where
// debuggers are required).
func needPython(t testing.TB, python string) string {
	t.Helper()
	if _, err := os.Stat(python); err != nil {
		gdbtest.SkipOrFail(t, "needs %s (every machine of the project has it)", python)
	}
	return python
}

func stepWithHints(t *testing.T, prog string, stride int, python ...string) {
	e, uri, py := e2eSession(t, prog, python...)
	oracle, err := historytest.Record(py, strings.TrimPrefix(uri, "file://"), "main")
	if err != nil {
		t.Fatal(err)
	}
	var pos position
	if msg := e.call("workspace/executeCommand", map[string]any{"command": "timelens.where"}, &pos); msg != "" {
		t.Fatal(msg)
	}
	params := map[string]string{}
	for k := range oracle.Events[0].Locals {
		params[k] = ""
	}
	checked, hinted := 0, 0
	for i, ev := range oracle.Events {
		if pos.Line != ev.Line-1 || pos.Function != ev.Function {
			t.Fatalf("event %d: at line %d %s, settrace says %d %s", i, pos.Line+1, pos.Function, ev.Line, ev.Function)
		}
		if ev.Function == "main" && i > 0 && i%stride == 0 {
			var hints []struct {
				Position struct{ Line int }
				Label    string
			}
			if msg := e.call("textDocument/inlayHint", map[string]any{"textDocument": map[string]any{"uri": uri},
				"range": map[string]any{"start": map[string]int{"line": 0, "character": 0}, "end": map[string]int{"line": 1000, "character": 0}}}, &hints); msg != "" {
				t.Fatalf("inlay hints at event %d: %s", i, msg)
			}
			shown := map[string]string{}
			for _, h := range hints {
				for k, v := range hintValues(h.Label) {
					shown[k] = v
				}
			}
			for name, want := range ev.Locals {
				if _, param := params[name]; param {
					continue
				}
				checked++
				got, ok := shown[name]
				if !ok {
					t.Errorf("event %d (line %d): no hint shows %s (hints %v)", i, ev.Line, name, hints)
					continue
				}
				// A mutable object mutated after its assignment shows as it
				// was assigned; scalars must match exactly.
				if !strings.ContainsAny(want[:1], "[{(") && !strings.Contains(want, "(") && got != want {
					t.Errorf("event %d (line %d): hint %s = %s, settrace says %s", i, ev.Line, name, got, want)
					continue
				}
				hinted++
			}
		}
		if i == len(oracle.Events)-1 {
			break
		}
		if msg := e.call("workspace/executeCommand", map[string]any{"command": "timelens.step"}, &pos); msg != "" {
			t.Fatalf("step after event %d: %s", i, msg)
		}
	}
	t.Logf("%d line events, %d/%d locals of main shown in the hints", len(oracle.Events), hinted, checked)
	if e.count("workspace/inlayHint/refresh") == 0 || e.count("workspace/codeLens/refresh") == 0 || e.count("window/showDocument") == 0 {
		t.Errorf("after moves the server must ask for refreshes and show the line: %d %d %d",
			e.count("workspace/inlayHint/refresh"), e.count("workspace/codeLens/refresh"), e.count("window/showDocument"))
	}
	for i := len(oracle.Events) - 2; i >= len(oracle.Events)-10 && i >= 0; i-- {
		if msg := e.call("workspace/executeCommand", map[string]any{"command": "timelens.reverseStep"}, &pos); msg != "" {
			t.Fatalf("reverse step to event %d: %s", i, msg)
		}
		if ev := oracle.Events[i]; pos.Line != ev.Line-1 || pos.Function != ev.Function {
			t.Fatalf("reverse step to event %d: line %d %s, settrace says %d %s", i, pos.Line+1, pos.Function, ev.Line, ev.Function)
		}
	}
	if msg := e.call("shutdown", nil, nil); msg != "" {
		t.Fatal(msg)
	}
	exitAt := time.Now()
	e.notify("exit", nil)
	select {
	case <-e.done:
		t.Logf("the server ended %s after exit", time.Since(exitAt).Round(time.Millisecond))
	case <-time.After(15 * time.Second):
		e.cmd.Process.Signal(syscall.SIGQUIT) // its goroutines, on stderr
		time.Sleep(time.Second)
		t.Fatal("the server did not end within a minute of exit")
	}
	if err := e.cmd.Wait(); err != nil {
		t.Errorf("timelens lsp after shutdown and exit: %v (want exit status 0)", err)
	}
}

// TestLSPEndToEndHoverNamesTheLastWrite moves to the end of writes.py's
// main and hovers c.count, whose last write is a specialized store in a hot
// loop in another frame.
func TestLSPEndToEndHoverNamesTheLastWrite(t *testing.T) {
	e, uri, _ := e2eSession(t, "writes.py")
	lines, find := lineFinder(t, uri)
	target := find("seen = c.count")
	var pos position
	for n := 0; ; n++ {
		if msg := e.call("workspace/executeCommand", map[string]any{"command": "timelens.next"}, &pos); msg != "" {
			t.Fatalf("next %d: %s", n, msg)
		}
		if pos.Line == target+1 { // seen has been assigned: the line after
			break
		}
		if n > 500 {
			t.Fatal("never reached the end of main")
		}
	}
	col := strings.Index(lines[target], "count")
	var hover struct {
		Contents struct{ Value string }
	}
	if msg := e.call("textDocument/hover", map[string]any{"textDocument": map[string]any{"uri": uri},
		"position": map[string]int{"line": target, "character": col + 1}}, &hover); msg != "" {
		t.Fatal(msg)
	}
	want := fmt.Sprintf("writes.py:%d", find("self.count += 1")+1)
	if !strings.Contains(hover.Contents.Value, "40") || !strings.Contains(hover.Contents.Value, want) || !strings.Contains(hover.Contents.Value, "Counter.bump") {
		t.Fatalf("hover on c.count:\n%s\nwant the value 40 and the last write at %s in Counter.bump", hover.Contents.Value, want)
	}
	t.Logf("hover on c.count:\n%s", hover.Contents.Value)
	e.call("shutdown", nil, nil)
	e.notify("exit", nil)
}

// TestLSPCoroutineSpansItsAwaits: in race.py's main coroutine, next over
// `await asyncio.gather(...)` stays in main, to where it resumes (pdb's
// next), and at the assertion the inlay hints still show what main's lines
// did before the await (acct as it is now: the tasks left its balance at
// 4); gotoEntry goes back to main's first line.
func TestLSPCoroutineSpansItsAwaits(t *testing.T) {
	py := needRecording(t)
	prog, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "race.py"))
	e := startEditor(t, "lsp", "--record-from", "main", "--", py, prog)
	uri := e.open(prog, editorCaps)
	move := e.move
	pos := move("timelens.where")
	if pos.Function != "main" || pos.Line+1 != 36 {
		t.Fatalf("the window starts at %s:%d; want main:36", pos.Function, pos.Line+1)
	}
	var lines []int
	for i := 0; i < 10 && pos.Line+1 != 39; i++ {
		pos = move("timelens.next")
		lines = append(lines, pos.Line+1)
		if pos.Function != "main" {
			t.Fatalf("next left main for %s:%d (lines so far %v)", pos.Function, pos.Line+1, lines)
		}
	}
	if pos.Line+1 != 39 {
		t.Fatalf("next from main:36 visits %v, never the assertion on line 39", lines)
	}
	t.Logf("next from main:36 visits lines %v of main", lines)
	shown := e.lineHints(uri)
	if shown[36] != "acct = Account(balance=4)" || !strings.HasPrefix(shown[37], "lock = Lock(") {
		t.Errorf("hints at the assertion: %v; want main's lines 36 and 37 from before its await", shown)
	}
	// The line index follows the coroutine across its await too.
	t.Logf("the index: %s", e.indexed())
	if again := e.lineHints(uri); !maps.Equal(again, shown) {
		t.Errorf("hints at the assertion from the line index: %v; from walks: %v", again, shown)
	}
	if pos := move("timelens.gotoEntry"); pos.Function != "main" || pos.Line+1 != 36 {
		t.Errorf("gotoEntry from the assertion: %s:%d; want main:36", pos.Function, pos.Line+1)
	}
	e.call("shutdown", nil, nil)
	e.notify("exit", nil)
}

// needRecording skips (or fails, in the test root) unless gdb can record
// and reverse-execute here, and returns the CPython to record.
func needRecording(t testing.TB) string {
	t.Helper()
	gdbtest.ReverseGDB(t)
	return gdbtest.Python(t)
}

// TestLSPEndToEndNextWrite moves to the counting loop of writes.py's main,
// where s.x still holds its first value, hovers s.x (the hover names the
// next write beside the last one) and runs timelens.nextWrite there: time
// goes to the store of the loop's second round (a store of the value s.x
// already holds is no write), and time.
func TestLSPEndToEndNextWrite(t *testing.T) {
	e, uri, _ := e2eSession(t, "writes.py")
	lines, find := lineFinder(t, uri)
	loop, store := find("for i in range(40):"), find("s.x = i")
	var pos position
	for n := 0; pos.Line != loop; n++ {
		if msg := e.call("workspace/executeCommand", map[string]any{"command": "timelens.next"}, &pos); msg != "" {
			t.Fatalf("next %d: %s", n, msg)
		}
		if n > 100 {
			t.Fatal("never reached the counting loop")
		}
	}
	at := map[string]any{"line": store, "character": strings.Index(lines[store], "x")}
	var hover struct {
		Contents struct{ Value string }
	}
	if msg := e.call("textDocument/hover", map[string]any{"textDocument": map[string]any{"uri": uri}, "position": at}, &hover); msg != "" {
		t.Fatal(msg)
	}
	md := hover.Contents.Value
	for _, want := range []string{"s.x = 0", fmt.Sprintf("Next write: `1` at [writes.py:%d]", store+1), "in `main`", "command:timelens.nextWrite?", "command:timelens.lastWrite?"} {
		if !strings.Contains(md, want) {
			t.Errorf("hover on s.x lacks %q:\n%s", want, md)
		}
	}
	t.Logf("hover on s.x:\n%s", md)
	before := pos
	if msg := e.call("workspace/executeCommand", map[string]any{"command": "timelens.nextWrite",
		"arguments": []any{map[string]any{"uri": uri, "position": at}}}, &pos); msg != "" {
		t.Fatalf("nextWrite of s.x: %s", msg)
	}
	if pos.Line != store || pos.Function != "main" || pos.Locals["i"] != "1" {
		t.Errorf("nextWrite of s.x went to %+v, want line %d in main with i = 1", pos, store+1)
	}
	// And back: its last write is before where we began.
	if msg := e.call("workspace/executeCommand", map[string]any{"command": "timelens.goto", "arguments": []any{map[string]any{"time": before.Time}}}, &pos); msg != "" || pos.Line != loop {
		t.Errorf("goto %s: %s, at %+v", before.Time, msg, pos)
	}
	e.call("shutdown", nil, nil)
	e.notify("exit", nil)
}

// lineFinder reads the file at uri: its lines, and a finder of a line by
// its text (trimmed) giving its 0-based number, as LSP positions count; the
// test fails when no line has it.
func lineFinder(t *testing.T, uri string) ([]string, func(text string) int) {
	src, _ := os.ReadFile(strings.TrimPrefix(uri, "file://"))
	lines := strings.Split(string(src), "\n")
	return lines, func(text string) int {
		for i, l := range lines {
			if strings.TrimSpace(l) == text {
				return i
			}
		}
		t.Fatalf("no line %q", text)
		return 0
	}
}
