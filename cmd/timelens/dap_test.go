package main

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	godap "github.com/google/go-dap"

	"github.com/timelens/timelens/dap/daptest"
	"github.com/timelens/timelens/gdbmi/gdbtest"
	"github.com/timelens/timelens/history/historytest"
)

// TestDAPListenServesOneClient: `timelens dap --listen 127.0.0.1:0` says
// which port it chose, serves the first client, refuses a second one, and
// refuses a launch whose arguments it does not know with the reason.
func TestDAPListenServesOneClient(t *testing.T) {
	errR, errW := io.Pipe()
	code := make(chan int, 1)
	go func() {
		code <- run([]string{"dap", "--listen", "127.0.0.1:0"}, io.Discard, errW)
		errW.Close()
	}()
	stderr := bufio.NewReader(errR)
	line, err := stderr.ReadString('\n')
	if err != nil {
		t.Fatalf("stderr: %q, %v", line, err)
	}
	bound, ok := strings.CutPrefix(strings.TrimSpace(line), "timelens dap: listening on ")
	if !ok {
		t.Fatalf("first line on stderr: %q, want the bound address", line)
	}
	go io.Copy(io.Discard, stderr)
	conn, err := net.Dial("tcp", bound)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := daptest.New(t, conn)
	caps := c.Call("initialize", map[string]any{"adapterID": "timelens"}).(*godap.InitializeResponse).Body
	if !caps.SupportsStepBack || !caps.SupportsGotoTargetsRequest {
		t.Errorf("initialize: %+v", caps)
	}
	if second, err := net.Dial("tcp", bound); err == nil {
		second.Close()
		t.Errorf("%s accepted a second client", bound)
	}
	for _, bad := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"program": "app.py", "recordFrom": "main", "colour": "blue"}, `unknown option "colour"`},
		{map[string]any{"program": "app.py", "backend": "lldb"}, `"lldb" is not valid`},
		{map[string]any{"type": "timelens", "request": "launch", "name": "x"}, "nothing to debug"},
		{map[string]any{"args": []string{"-v"}}, "args without program"},
	} {
		r := c.Try("launch", bad.args).GetResponse()
		if r.Success || !strings.Contains(r.Message, bad.want) {
			t.Errorf("launch %v: success %v, %q; want a refusal saying %q", bad.args, r.Success, r.Message, bad.want)
		}
	}
	c.Call("disconnect", nil)
	select {
	case n := <-code:
		if n != 0 {
			t.Errorf("timelens dap exited %d after disconnect, want 0", n)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("timelens dap --listen did not end after disconnect")
	}
}

// TestDAPListenRefusesNonLoopback: dap's --listen is loopback only, as lsp's.
func TestDAPListenRefusesNonLoopback(t *testing.T) {
	usageError(t, []string{"dap", "--listen", "0.0.0.0:7777"}, "--listen", "listens on every interface")
	usageError(t, []string{"dap", "--listen", "10.0.0.1:0"}, "--listen", "is not a loopback address")
}

// TestDAPOverStdio is the command an editor starts: `timelens dap` over
// stdio, launched with launch.json's arguments (program, recordFrom and the
// shared options in camelCase), stepping forward and back against a real
// gdb and CPython; each stop is where sys.settrace says.
func TestDAPOverStdio(t *testing.T) {
	gdb := gdbtest.ReverseGDB(t)
	py := gdbtest.Python(t)
	prog, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "programs", "loop.py"))
	trace, err := historytest.Record(py, prog, "main")
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "dap")
	cmd.Env = append(os.Environ(), fakeEnv+"=timelens")
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		in.Close()
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Error("timelens dap did not exit within 30 s of its stdin's closing")
		}
	}()
	c := daptest.New(t, struct {
		io.Reader
		io.Writer
	}{out, in})
	c.Call("initialize", map[string]any{"adapterID": "timelens", "linesStartAt1": true})
	c.Call("launch", map[string]any{"type": "timelens", "request": "launch", "name": "record loop.py",
		"program": prog, "recordFrom": "main", "python": py, "gdb": gdb, "__sessionId": "x"})
	c.Event("initialized")
	c.Call("configurationDone", nil)
	if st := c.Stopped(); st.Reason != "entry" {
		t.Errorf("first stop: %q (%s), want entry", st.Reason, st.Description)
	}
	at := func(i int, what string) {
		t.Helper()
		f := c.Call("stackTrace", map[string]any{"threadId": 1}).(*godap.StackTraceResponse).Body.StackFrames[0]
		ev := trace.Events[i]
		if f.Source == nil || f.Source.Path != ev.File || f.Line != ev.Line || f.Name != ev.Function {
			t.Errorf("%s: at %+v:%d %s, settrace's event %d is %s:%d %s", what, f.Source, f.Line, f.Name, i, ev.File, ev.Line, ev.Function)
		}
	}
	at(0, "entry")
	for i, m := range []struct {
		cmd   string
		event int
	}{{"stepIn", 1}, {"stepIn", 2}, {"stepBack", 1}, {"timelens/reverseStepIn", 0}} {
		c.Call(m.cmd, map[string]any{"threadId": 1})
		if st := c.Stopped(); st.Reason != "step" {
			t.Errorf("move %d (%s): stopped %q (%s)", i, m.cmd, st.Reason, st.Description)
		}
		at(m.event, m.cmd)
	}
	c.Call("disconnect", nil)
}
