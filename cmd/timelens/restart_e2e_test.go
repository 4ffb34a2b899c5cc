package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/timelens/timelens/history/historytest"
)

// The debugger dies or hangs under a real session: `timelens lsp` over
// stdio, a real gdb recording a real python3.13 running loop.py. The test
// is the editor and the crash: it finds the server's gdb in /proc and
// kills (SIGKILL) or freezes (SIGSTOP) it, then checks that the server is
// still there, said so (window/showMessage), and is at the same point of
// the recording: the position the oracle (sys.settrace) gives for the
// moves made, and a further step lands where the oracle says.

// proc is one process as /proc/PID/stat shows it.
type proc struct {
	pid, ppid int
	comm      string
	state     string
}

func processes(t *testing.T) map[int]proc {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]proc{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		s := string(data)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open {
			continue
		}
		rest := strings.Fields(s[close+1:])
		if len(rest) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(rest[1])
		out[pid] = proc{pid: pid, ppid: ppid, comm: s[open+1 : close], state: rest[0]}
	}
	return out
}

// descendants returns the processes under root whose command is comm.
func descendants(t *testing.T, root int, comm string) []proc {
	t.Helper()
	ps := processes(t)
	var out []proc
	for _, p := range ps {
		if p.comm != comm {
			continue
		}
		for q, ok := ps[p.ppid]; ok; q, ok = ps[q.ppid] {
			if q.pid == root {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(data)
	rest := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(rest) > 0 && rest[0] != "Z" && rest[0] != "X"
}

// crashSession is a session on loop.py with the oracle's line events.
type crashSession struct {
	*editor
	t      *testing.T
	uri    string
	oracle *historytest.Trace
	// idx is the oracle event the session is at.
	idx int
	// seen holds every gdb and python pid the session ran.
	seen map[int]string
	// times maps each time the session was at to its oracle event.
	times map[string]int
}

func newCrashSession(t *testing.T, flags ...string) *crashSession {
	py := needRecording(t)
	path, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "programs", "loop.py"))
	// The server's log says how each restart went; a failing test shows it.
	logFile := filepath.Join(t.TempDir(), "lsp.log")
	t.Cleanup(func() {
		if data, err := os.ReadFile(logFile); err == nil && t.Failed() {
			t.Logf("the server's log:\n%s", data)
		}
	})
	args := append([]string{"lsp", "--backend", "gdb", "--record-from", "main", "--log", logFile, "--log-level", "info"}, flags...)
	e := startEditor(t, append(args, "--", py, path)...)
	uri := e.open(path, editorCaps)
	oracle, err := historytest.Record(py, path, "main")
	if err != nil {
		t.Fatal(err)
	}
	s := &crashSession{editor: e, t: t, uri: uri, oracle: oracle, seen: map[int]string{}, times: map[string]int{}}
	s.times[s.where().Time] = 0 // waits for the recording
	return s
}

// gdb returns the pid of the server's gdb, once it runs: the one that runs
// the program (the gdb that indexes a copy of the window runs none).
func (s *crashSession) gdb(not int) int {
	s.t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		ps := processes(s.t)
		for _, p := range descendants(s.t, s.cmd.Process.Pid, "gdb") {
			runsProgram := false
			for _, c := range ps {
				runsProgram = runsProgram || c.ppid == p.pid
			}
			if p.pid != not && alive(p.pid) && runsProgram {
				s.seen[p.pid] = "gdb"
				for _, c := range processes(s.t) {
					if c.ppid == p.pid {
						s.seen[c.pid] = c.comm
					}
				}
				return p.pid
			}
		}
	}
	s.t.Fatal("the server runs no gdb")
	return 0
}

func (s *crashSession) where() position {
	s.t.Helper()
	var pos position
	if msg := s.call("workspace/executeCommand", map[string]any{"command": "timelens.where"}, &pos); msg != "" {
		s.t.Fatalf("where: %s", msg)
	}
	return pos
}

// check fails unless pos is the oracle's event idx.
func (s *crashSession) check(what string, pos position) {
	s.t.Helper()
	ev := s.oracle.Events[s.idx]
	if pos.Line != ev.Line-1 || pos.Function != ev.Function {
		s.t.Fatalf("%s: at line %d in %s, the oracle says event %d is line %d in %s", what, pos.Line+1, pos.Function, s.idx, ev.Line, ev.Function)
	}
}

// move steps forward or back and checks the result against the oracle.
func (s *crashSession) move(forward bool) position {
	s.t.Helper()
	cmd := "timelens.step"
	if !forward {
		cmd = "timelens.reverseStep"
	}
	var pos position
	if msg := s.call("workspace/executeCommand", map[string]any{"command": cmd}, &pos); msg != "" {
		s.t.Fatalf("%s from event %d: %s", cmd, s.idx, msg)
	}
	if forward {
		s.idx++
	} else {
		s.idx--
	}
	s.check(cmd, pos)
	s.times[pos.Time] = s.idx
	return pos
}

// read asks for what an editor shows after a move: hints and a hover.
func (s *crashSession) read(rng *rand.Rand) {
	s.t.Helper()
	var msg string
	if rng.IntN(2) == 0 {
		msg = s.call("textDocument/inlayHint", map[string]any{"textDocument": map[string]any{"uri": s.uri},
			"range": map[string]any{"start": map[string]int{"line": 0, "character": 0}, "end": map[string]int{"line": 40, "character": 0}}}, nil)
	} else {
		// "total" on line 22 (0-based 21).
		msg = s.call("textDocument/hover", map[string]any{"textDocument": map[string]any{"uri": s.uri},
			"position": map[string]int{"line": 21, "character": 5}}, nil)
	}
	// A read that met a move answers ContentModified; nothing else may fail.
	if msg != "" && !strings.Contains(msg, "time moved") {
		s.t.Fatalf("read at event %d: %s", s.idx, msg)
	}
}

// messages returns the window/showMessage texts so far.
func (s *crashSession) messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, raw := range s.notes["window/showMessage"] {
		var m struct {
			Type    int    `json:"type"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(raw, &m)
		out = append(out, fmt.Sprintf("%d %s", m.Type, m.Message))
	}
	return out
}

// waitMessage waits for the n-th showMessage and returns it.
func (s *crashSession) waitMessage(n int) string {
	s.t.Helper()
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ms := s.messages(); len(ms) >= n {
			return ms[n-1]
		}
	}
	s.t.Fatalf("no window/showMessage after the debugger was lost (messages: %q)", s.messages())
	return ""
}

// noStrays checks that every gdb and python the session ran has ended.
func (s *crashSession) noStrays() {
	s.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var left []string
		for pid, comm := range s.seen {
			if alive(pid) {
				left = append(left, fmt.Sprintf("%s %d", comm, pid))
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			slices.Sort(left)
			s.t.Fatalf("processes left running: %v", left)
		}
	}
}

func (s *crashSession) end() {
	s.t.Helper()
	if msg := s.call("shutdown", nil, nil); msg != "" {
		s.t.Fatal(msg)
	}
	s.notify("exit", nil)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.t.Fatal("the server did not end after exit")
	}
	if err := s.cmd.Wait(); err != nil {
		s.t.Errorf("timelens lsp after shutdown and exit: %v", err)
	}
	s.noStrays()
}

// TestLSPSurvivesGDBKilledAtRandomMoments kills gdb 10 times, each at a
// random moment of a run of steps, hints and hovers (the seed is logged;
// TIMELENS_RESTART_SEED repeats a run). Every step is checked against the
// oracle, before and after each kill.
func TestLSPSurvivesGDBKilledAtRandomMoments(t *testing.T) {
	s := newCrashSession(t)
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("TIMELENS_RESTART_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("seed %d (TIMELENS_RESTART_SEED=%d repeats this run)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	s.check("start", s.where())
	last := len(s.oracle.Events) - 1

	var took []time.Duration
	inFlight, shifts := 0, 0
	gdb := s.gdb(0)
	for round := 1; round <= 10; round++ {
		// A run of requests, on its own goroutine as an editor sends them.
		ops := 3 + rng.IntN(5)
		var wg sync.WaitGroup
		var running atomic.Bool
		running.Store(true)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer running.Store(false)
			for range ops {
				forward := s.idx < last && (s.idx == 0 || rng.IntN(4) > 0)
				s.move(forward)
				s.read(rng)
			}
		}()
		delay := time.Duration(rng.IntN(1500)) * time.Millisecond
		time.Sleep(delay)
		before := len(s.messages())
		killedAt := time.Now()
		inflight := running.Load()
		if inflight {
			inFlight++
		}
		if err := syscall.Kill(gdb, syscall.SIGKILL); err != nil {
			t.Fatalf("round %d: killing gdb %d: %v", round, gdb, err)
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		msg := s.waitMessage(before + 1)
		took = append(took, time.Since(killedAt))
		// 2 is Warning.
		if !strings.HasPrefix(msg, "2 timelens: gdb exited unexpectedly (signal: killed); restarted it and returned to time ") {
			t.Fatalf("round %d: the user was told %q", round, msg)
		}
		// The restart returned to the time of the kill; a move that was
		// in flight then completed.
		pos := s.where()
		s.check(fmt.Sprintf("round %d: where after the restart", round), pos)
		// (A re-recording may number the same place differently; the
		// message then says so.)
		back := strings.Fields(strings.TrimPrefix(msg[strings.Index(msg, "returned to time "):], "returned to time "))[0]
		if _, ok := s.times[back]; !ok && !strings.Contains(msg, " of the old recording is "+back+" in the new one") {
			t.Fatalf("round %d: told %q, but the session was never at time %s", round, msg, back)
		}
		if strings.Contains(msg, "of the old recording") {
			shifts++
		}
		s.times[pos.Time] = s.idx
		// The new gdb is there: a step lands where the oracle says.
		gdb = s.gdb(gdb)
		s.move(s.idx < last)
		t.Logf("round %d: killed after %s (%d requests in flight: %v); back at event %d, time %s, in %s", round, delay, ops, inflight, s.idx, pos.Time, took[len(took)-1].Round(time.Millisecond))
	}
	slices.Sort(took)
	t.Logf("20 kills, %d while requests ran, %d re-recordings numbered the place differently; restart (kill to showMessage): median %s, max %s",
		inFlight, shifts, took[len(took)/2].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))
	s.end()
}

// TestLSPSurvivesAHungGDB freezes gdb (SIGSTOP): the next step gets no
// answer within --timeout, the server kills gdb, starts it again, returns
// to the same time and makes the step; the user is told.
func TestLSPSurvivesAHungGDB(t *testing.T) {
	s := newCrashSession(t, "--timeout", "5s")
	for range 4 {
		s.move(true)
	}
	before := s.where()
	gdb := s.gdb(0)
	if err := syscall.Kill(gdb, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(gdb, syscall.SIGCONT) })
	frozen := time.Now()
	s.move(true) // checked against the oracle: the step was made after the restart
	msg := s.waitMessage(1)
	t.Logf("step with gdb frozen answered after %s; told %q", time.Since(frozen).Round(time.Millisecond), msg)
	for _, want := range []string{"2 timelens: gdb did not answer", "(hung)", "restarted it and returned to time "} {
		if !strings.Contains(msg, want) {
			t.Fatalf("told %q, want it to say %q", msg, want)
		}
	}
	if !strings.Contains(msg, "returned to time "+before.Time+" ") && !strings.Contains(msg, "time "+before.Time+" of the old recording") {
		t.Fatalf("told %q, want it back at time %s", msg, before.Time)
	}
	if alive(gdb) {
		t.Fatalf("the frozen gdb %d still runs", gdb)
	}
	_ = syscall.Kill(gdb, syscall.SIGCONT)
	s.gdb(gdb)
	s.move(false)
	s.end()
}
