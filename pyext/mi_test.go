package pyext

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// This file holds a minimal GDB/MI driver for the tests, so pyext's tests do
// not depend on package gdbmi: one command at a time, no tokens.

// requireDebugger reports whether missing debuggers fail the tests instead of
// skipping them (TIMELENS_REQUIRE_DEBUGGER=1, as in the test roots and CI).
func requireDebugger() bool { return os.Getenv("TIMELENS_REQUIRE_DEBUGGER") == "1" }

// skipOrFail skips the test, or fails it when debuggers are required.
func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if requireDebugger() {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// gdbPath finds gdb ≥ 13 (env TIMELENS_GDB, else gdb on PATH).
func gdbPath(t testing.TB) string {
	t.Helper()
	gdb := os.Getenv("TIMELENS_GDB")
	if gdb == "" {
		p, err := exec.LookPath("gdb")
		if err != nil {
			skipOrFail(t, "gdb not found on PATH (set TIMELENS_GDB): %v", err)
		}
		gdb = p
	}
	out, err := exec.Command(gdb, "-nx", "-batch", "-ex", "python print(hasattr(gdb, 'MICommand'))").CombinedOutput()
	if err != nil {
		skipOrFail(t, "%s does not run: %v: %s", gdb, err, out)
	}
	if !strings.Contains(string(out), "True") {
		skipOrFail(t, "%s has no gdb.MICommand: pyext needs gdb ≥ 13 with Python", gdb)
	}
	return gdb
}

// pythons lists the interpreters the value tests read: the project's
// interpreters of this test root, debug builds included (interpreters_test.go).
func pythons(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, p := range suitePythons(t, true) {
		out = append(out, p.Path)
	}
	return out
}

// mi is one gdb process speaking GDB/MI.
type mi struct {
	t      testing.TB
	cmd    *exec.Cmd
	in     io.WriteCloser
	lines  chan string
	ctx    context.Context
	cancel context.CancelFunc
}

// startMI starts gdb on python with args, with pyext loaded and a catchpoint
// on the getpid system call (what oracle.checkpoint makes).
func startMI(t testing.TB, gdb, python string, env []string, args ...string) *mi {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	argv := append([]string{"--interpreter=mi3", "-nx", "-q", "--args", python}, args...)
	cmd := exec.CommandContext(ctx, gdb, argv...)
	cmd.Env = append(os.Environ(), env...)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		cancel()
		skipOrFail(t, "cannot start %s: %v", gdb, err)
	}
	m := &mi{t: t, cmd: cmd, in: in, lines: make(chan string, 1024), ctx: ctx, cancel: cancel}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			m.lines <- sc.Text()
		}
		close(m.lines)
	}()
	t.Cleanup(m.close)
	m.wait("(gdb)")
	load, err := Install(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m.must("-gdb-set may-call-functions off")
	m.must("-gdb-set breakpoint pending on")
	m.must("-gdb-set inferior-tty /dev/null")
	m.must("-interpreter-exec console " + quoteMI(load))
	// A syscall catchpoint needs no symbols and survives inlining of os_getpid.
	m.must("-interpreter-exec console " + quoteMI("catch syscall getpid"))
	return m
}

func (m *mi) close() {
	if m.cmd.Process != nil {
		// Inferior calls stayed refused for the whole session.
		if r := m.send("-gdb-show may-call-functions"); !strings.Contains(r, `value="off"`) {
			m.t.Errorf("may-call-functions is not off at the end of the session: %s", r)
		}
		fmt.Fprintln(m.in, "-gdb-exit")
		done := make(chan struct{})
		go func() { m.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			m.cmd.Process.Kill()
			<-done
		}
	}
	m.cancel()
}

// wait reads lines until one starts with prefix and returns it.
func (m *mi) wait(prefix string) string {
	m.t.Helper()
	for {
		select {
		case line, ok := <-m.lines:
			if !ok {
				m.t.Fatalf("gdb exited while waiting for %q", prefix)
			}
			if strings.HasPrefix(line, prefix) {
				return line
			}
		case <-m.ctx.Done():
			m.t.Fatalf("timeout waiting for %q", prefix)
		}
	}
}

// send runs one MI command and returns its result record (^done…/^error…).
func (m *mi) send(cmd string) string {
	m.t.Helper()
	if _, err := fmt.Fprintln(m.in, cmd); err != nil {
		m.t.Fatalf("write to gdb: %v", err)
	}
	return m.wait("^")
}

func (m *mi) must(cmd string) string {
	m.t.Helper()
	r := m.send(cmd)
	if strings.HasPrefix(r, "^error") {
		m.t.Fatalf("%s: %s", cmd, r)
	}
	return r
}

var stopReason = regexp.MustCompile(`reason="([^"]*)"`)

// run resumes the program (-exec-run or -exec-continue) and returns the stop
// reason (e.g. breakpoint-hit, exited-normally).
func (m *mi) run(cmd string) string {
	m.t.Helper()
	m.must(cmd)
	line := m.wait("*stopped")
	if r := stopReason.FindStringSubmatch(line); r != nil {
		return r[1]
	}
	return line
}

// call runs a -timelens-* command and returns the unquoted json field, or the
// error message with ok false.
func (m *mi) call(cmd string) (string, bool) {
	m.t.Helper()
	r := m.send(cmd)
	if strings.HasPrefix(r, "^error") {
		msg, _ := miField(r, "msg")
		return msg, false
	}
	js, err := miField(r, "json")
	if err != nil {
		m.t.Fatalf("%s: %v in %s", cmd, err, r)
	}
	return js, true
}

// miField extracts and unquotes name="..." from an MI result line.
func miField(line, name string) (string, error) {
	i := strings.Index(line, name+"=\"")
	if i < 0 {
		return "", fmt.Errorf("no field %s", name)
	}
	s, _, err := unquoteMI(line[i+len(name)+1:])
	return s, err
}

// unquoteMI decodes a GDB/MI c-string starting with a quote; it returns the
// string and the rest of the input.
func unquoteMI(s string) (string, string, error) {
	if s == "" || s[0] != '"' {
		return "", s, fmt.Errorf("not a c-string")
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			return b.String(), s[i+1:], nil
		case c == '\\' && i+1 < len(s):
			i++
			switch e := s[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'f':
				b.WriteByte('\f')
			case 'b':
				b.WriteByte('\b')
			case 'v':
				b.WriteByte('\v')
			case 'a':
				b.WriteByte('\a')
			case 'e':
				b.WriteByte(0x1b)
			default:
				if e >= '0' && e <= '7' {
					j := i
					for j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7' {
						j++
					}
					v, _ := strconv.ParseUint(s[i:j], 8, 8)
					b.WriteByte(byte(v))
					i = j - 1
				} else {
					b.WriteByte(e)
				}
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "", fmt.Errorf("unterminated c-string")
}

// quoteMI quotes s as a GDB/MI c-string.
func quoteMI(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// pythonVersion returns "3.13.0"-like for an interpreter.
func pythonVersion(t testing.TB, python string) string {
	t.Helper()
	out, err := exec.Command(python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])").Output()
	if err != nil {
		skipOrFail(t, "%s does not run: %v", python, err)
	}
	return strings.TrimSpace(string(out))
}
