// Package gdbtest is the one harness for tests that run a real gdb (and a
// real CPython): it finds the debugger and the interpreters, skips a test
// where they are missing here, or fails it where the run requires them
// (TIMELENS_REQUIRE_DEBUGGER=1, as in the test roots and CI), and starts
// sessions whose methods fail the test when gdb refuses what it needed, so
// that a test reads like the session it drives:
//
//	s := gdbtest.Start(t, gdbmi.Config{Program: gdbtest.Python(t), Args: []string{prog}})
//	s.Do("break getppid")
//	if reason := s.Run("-exec-run"); reason != "breakpoint-hit" { ... }
//	js, ok := s.Call("-timelens-frames")
//
// Scripts that drive gdb from inside (a gdb-side Python test) run with
// Batch. Environment: TIMELENS_GDB (the gdb, default gdb on PATH),
// TIMELENS_PYTHON (the CPython to debug), TIMELENS_PYTHONS (a comma
// separated list for the tests that read every version), TIMELENS_SUITE
// (the test root: sid has python3.14).
package gdbtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/timelens/timelens/gdbmi"
)

// Required reports whether missing debuggers fail the tests instead of
// skipping them (TIMELENS_REQUIRE_DEBUGGER=1).
func Required() bool { return os.Getenv("TIMELENS_REQUIRE_DEBUGGER") == "1" }

// SkipOrFail skips t, or fails it where debuggers are required.
func SkipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if Required() {
		t.Fatalf("required debugger missing: "+format, args...)
	}
	t.Skipf(format, args...)
}

// GDB returns the gdb under test, $TIMELENS_GDB or gdb on PATH, and its
// version. It must be gdb 13 or newer: the Python extension's MI commands
// need gdb.MICommand.
func GDB(t testing.TB) (string, gdbmi.Version) {
	t.Helper()
	name := os.Getenv("TIMELENS_GDB")
	if name == "" {
		name = "gdb"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		SkipOrFail(t, "no gdb (set TIMELENS_GDB): %v", err)
	}
	v, err := gdbmi.GDBVersion(path)
	if err != nil {
		SkipOrFail(t, "%v", err)
	}
	if v.Major < 13 {
		SkipOrFail(t, "gdb %s has no gdb.MICommand: the extension needs gdb ≥ 13", v)
	}
	return path, v
}

// ReverseGDB returns a gdb that can reverse-execute here. The tests that
// record and replay run in the test roots (scripts/root-tests sets
// TIMELENS_SUITE), where gdb and the Pythons are the same on every machine.
// On a host they are skipped unless TIMELENS_GDB names the gdb to use: a
// host's gdb differs from machine to machine (Debian 12's gdb 13 cannot
// reverse on the Intel machines with AMX, and can on the AMD ones, where
// the whole navigation suite under it takes far longer than go test's
// default timeout).
func ReverseGDB(t testing.TB) string {
	t.Helper()
	if os.Getenv("TIMELENS_SUITE") == "" && os.Getenv("TIMELENS_GDB") == "" {
		t.Skip("recording tests run in the test root (scripts/root-tests); TIMELENS_GDB=gdb runs them with this host's gdb")
	}
	gdb, v := GDB(t)
	if v.Major < 14 && gdbmi.CPUHasAMX() {
		SkipOrFail(t, "gdb %s cannot reverse-execute on this CPU (AMX); run in the test root (scripts/root-tests)", v)
	}
	return gdb
}

// Python returns the CPython the debugger tests record and navigate:
// $TIMELENS_PYTHON, else the test root's (python3.14 in sid, else
// python3.13), as an absolute path to the interpreter itself.
func Python(t testing.TB) string {
	t.Helper()
	want := os.Getenv("TIMELENS_PYTHON")
	if want == "" {
		want = "python3.13"
		if os.Getenv("TIMELENS_SUITE") == "sid" {
			want = "python3.14"
		}
	}
	py, err := interpreter(want)
	if err != nil {
		SkipOrFail(t, "no %s with debug symbols to record (set TIMELENS_PYTHON; the test roots have it): %v", want, err)
	}
	return py
}

// AnyPython returns a CPython for tests that only need a process to debug:
// $TIMELENS_PYTHON, else python3.13, else python3.
func AnyPython(t testing.TB) string {
	t.Helper()
	for _, name := range []string{os.Getenv("TIMELENS_PYTHON"), "python3.13", "python3"} {
		if name == "" {
			continue
		}
		if py, err := interpreter(name); err == nil {
			return py
		}
	}
	SkipOrFail(t, "no python3 to debug")
	return ""
}

// Interpreter is one CPython that every machine of the project has (FACTS.md),
// in the test root that runs it: pyenv's builds (libpython shared, -g -O3,
// computed gotos; /root/.pyenv is bound into the roots) and the distributions'
// (a static interpreter, debug symbols in /usr/lib/debug).
type Interpreter struct {
	Label string // how the tests name it
	Path  string
	Suite string // the root: trixie (gdb 16) or sid (gdb 18)
	// Debug builds (python3.Xd) read values like the others; the navigation
	// tests leave them out, as their optimized twins run the same code.
	Debug bool
}

// Interpreters are the project's CPythons, each root's own (Debian's) last.
var Interpreters = []Interpreter{
	{Label: "3.10-pyenv", Path: "/root/.pyenv/versions/3.10.13/bin/python3.10", Suite: "trixie"},
	{Label: "3.11-pyenv", Path: "/root/.pyenv/versions/3.11.7/bin/python3.11", Suite: "trixie"},
	{Label: "3.11-bookworm", Path: "/usr/bin/python3.11", Suite: "trixie"},
	{Label: "3.12-pyenv", Path: "/root/.pyenv/versions/3.12.1/bin/python3.12", Suite: "trixie"},
	{Label: "3.13-pyenv", Path: "/root/.pyenv/versions/3.13.0/bin/python3.13", Suite: "trixie"},
	{Label: "3.13d-trixie", Path: "/usr/bin/python3.13d", Suite: "trixie", Debug: true},
	{Label: "3.13-trixie", Path: "/usr/bin/python3.13", Suite: "trixie"},
	{Label: "3.14d-sid", Path: "/usr/bin/python3.14d", Suite: "sid", Debug: true},
	{Label: "3.14-sid", Path: "/usr/bin/python3.14", Suite: "sid"},
}

// Suite is the test root the tests run in ($TIMELENS_SUITE, set by
// scripts/root-tests; trixie when unset).
func Suite() string {
	if s := os.Getenv("TIMELENS_SUITE"); s != "" {
		return s
	}
	return "trixie"
}

// SuitePythons returns the project's interpreters of this test root (debug
// builds with withDebug), or those $TIMELENS_PYTHONS lists (comma separated
// paths). One that is missing is skipped with a line saying so, and fails
// the test where debuggers are required (the roots, CI): every machine of
// the project has them.
func SuitePythons(t testing.TB, withDebug bool) []Interpreter {
	t.Helper()
	var list []Interpreter
	if env := os.Getenv("TIMELENS_PYTHONS"); env != "" {
		for _, p := range strings.Split(env, ",") {
			list = append(list, Interpreter{Label: labelOf(p), Path: p, Suite: Suite()})
		}
	} else {
		for _, p := range Interpreters {
			if p.Suite == Suite() && (withDebug || !p.Debug) {
				list = append(list, p)
			}
		}
		if n, turn, ok := sampleSize(); ok && n < len(list) {
			var left []string
			list, left = Sample(list, n, turn)
			t.Logf("TIMELENS_SAMPLE=%s: %d of this root's interpreters (make test-all runs every one); left out this turn: %s",
				os.Getenv("TIMELENS_SAMPLE"), len(list), strings.Join(left, ", "))
		}
	}
	var out []Interpreter
	for _, p := range list {
		if _, err := os.Stat(p.Path); err != nil {
			if Required() {
				t.Errorf("%s: %s is missing, and every machine of the project has it (pyenv builds in /root/.pyenv, Debian's in the %s root)", p.Label, p.Path, p.Suite)
			} else {
				t.Logf("skipped %s: %s is not on this machine", p.Label, p.Path)
			}
			continue
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		SkipOrFail(t, "no CPython of the %s root found (set TIMELENS_PYTHONS)", Suite())
	}
	if os.Getenv("TIMELENS_STRIPPED") == "1" {
		return strippedSuite(t, out)
	}
	return out
}

var stripped struct {
	sync.Mutex
	dir    string
	copies map[string]string
}

// strippedSuite replaces each release interpreter by a copy stripped of its
// debug info (StrippedPython), made once per test process; debug builds,
// which without debug info timelens refuses, are left out. With
// TIMELENS_STRIPPED=1 every test that takes the suite's Pythons runs on
// Pythons without debug info (issue 21).
func strippedSuite(t testing.TB, list []Interpreter) []Interpreter {
	t.Helper()
	stripped.Lock()
	defer stripped.Unlock()
	if stripped.dir == "" {
		dir, err := os.MkdirTemp("", "timelens-stripped-")
		if err != nil {
			t.Fatal(err)
		}
		stripped.dir, stripped.copies = dir, map[string]string{}
	}
	var out []Interpreter
	for _, p := range list {
		if p.Debug {
			continue
		}
		exe, ok := stripped.copies[p.Path]
		if !ok {
			var err error
			if exe, err = strippedCopy(p.Path, filepath.Join(stripped.dir, p.Label)); err != nil {
				SkipOrFail(t, "a copy of %s without debug info: %v", p.Path, err)
			}
			stripped.copies[p.Path] = exe
		}
		p.Label += "-stripped"
		p.Path = exe
		out = append(out, p)
	}
	return out
}

// sampleSize reads TIMELENS_SAMPLE ("N" or "N:SEED"): how many of a root's
// interpreters the tests that read every version run (make test samples the
// matrix; make test-all runs all of it). Without a seed the sample turns
// with the day (UTC): a day's runs agree, and consecutive days cover every
// interpreter.
func sampleSize() (n int, turn uint64, ok bool) {
	v := os.Getenv("TIMELENS_SAMPLE")
	if v == "" {
		return 0, 0, false
	}
	num, seed, _ := strings.Cut(v, ":")
	if _, err := fmt.Sscan(num, &n); err != nil || n < 1 {
		return 0, 0, false
	}
	if seed == "" {
		return n, uint64(time.Now().Unix() / 86400), true
	}
	h := fnv.New64a()
	h.Write([]byte(seed))
	return n, h.Sum64(), true
}

// Sampled reports whether the run samples the interpreter matrix
// (TIMELENS_SAMPLE set: make test) rather than running all of it (make
// test-all); the slowest oracles also check fewer places then.
func Sampled() bool {
	_, _, ok := sampleSize()
	return ok
}

// Sample keeps n of list: always the root's own (Debian's) interpreter, the
// list's last, and its debug twin when listed, then others in turn: turn t
// takes the next ones after turn t-1's. It returns the kept interpreters, in
// the list's order, and the labels of those left out.
func Sample(list []Interpreter, n int, turn uint64) (kept []Interpreter, left []string) {
	if n >= len(list) {
		return list, nil
	}
	keep := make([]bool, len(list))
	keep[len(list)-1] = true
	count := 1
	var others []int
	for i, p := range list[:len(list)-1] {
		if p.Debug && count < n {
			keep[i] = true
			count++
		} else if !p.Debug {
			others = append(others, i)
		}
	}
	if k := n - count; k > 0 && len(others) > 0 {
		start := int((turn * uint64(k)) % uint64(len(others)))
		for j := 0; j < k && j < len(others); j++ {
			keep[others[(start+j)%len(others)]] = true
		}
	}
	for i, p := range list {
		if keep[i] {
			kept = append(kept, p)
		} else {
			left = append(left, p.Label)
		}
	}
	return kept, left
}

// Pythons lists the paths of the interpreters whose reading the tests check:
// SuitePythons with the debug builds.
func Pythons(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, p := range SuitePythons(t, true) {
		out = append(out, p.Path)
	}
	return out
}

// labelOf names an interpreter given by path: its label when it is one of
// the project's, else the path.
func labelOf(path string) string {
	for _, p := range Interpreters {
		if p.Path == path {
			return p.Label
		}
	}
	return strings.ReplaceAll(strings.TrimPrefix(path, "/"), "/", "_")
}

// PythonVersion is the interpreter's version, "3.13.5".
func PythonVersion(t testing.TB, python string) string {
	t.Helper()
	out, err := exec.Command(python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])").Output()
	if err != nil {
		SkipOrFail(t, "%s does not run: %v", python, err)
	}
	return strings.TrimSpace(string(out))
}

// interpreter finds name on PATH (or as a path) and resolves launcher
// scripts (pyenv shims) to the interpreter gdb can run.
func interpreter(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return "", err
	}
	out, err := exec.Command(path, "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		return "", fmt.Errorf("%s does not run: %w", path, err)
	}
	if real := strings.TrimSpace(string(out)); real != "" {
		return real, nil
	}
	return filepath.Abs(path)
}

// cmdTimeout bounds each command of a Session whose Config has no Timeout.
const cmdTimeout = 5 * time.Minute

// Session is a gdb started for one test. Its methods fail the test when
// gdb refuses; the embedded gdbmi.Session is there for what a test checks
// itself (errors, stops, timeouts).
type Session struct {
	*gdbmi.Session
	t       testing.TB
	timeout time.Duration
}

// Start starts gdb for t (GDB(t) unless cfg names one). Each command of
// the Session's own methods is bounded by cfg.Timeout (default 5 minutes).
// At the end of the test, a gdb still running must still refuse to run
// code in the debuggee (may-call-functions off); then it is closed.
func Start(t testing.TB, cfg gdbmi.Config) *Session {
	t.Helper()
	if cfg.GDB == "" && cfg.Argv == nil {
		cfg.GDB, _ = GDB(t)
	}
	s := &Session{t: t, timeout: cfg.Timeout}
	if s.timeout == 0 {
		s.timeout = cmdTimeout
	}
	ctx, cancel := s.ctx()
	defer cancel()
	gs, err := gdbmi.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("starting gdb: %v", err)
	}
	s.Session = gs
	t.Cleanup(func() {
		if gs.Alive() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if r, err := gs.MI(ctx, "-gdb-show", "may-call-functions"); err == nil && r.Payload["value"] != "off" {
				t.Errorf("may-call-functions is %v at the end of the session; it must stay off", r.Payload["value"])
			}
		}
		_ = gs.Close()
	})
	return s
}

// ctx bounds one command.
func (s *Session) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.timeout)
}

// Do runs a CLI command and returns what it printed.
func (s *Session) Do(command string) string {
	s.t.Helper()
	ctx, cancel := s.ctx()
	defer cancel()
	out, err := s.Console(ctx, command)
	if err != nil {
		s.t.Fatalf("%s: %v", command, err)
	}
	return out
}

// Run runs an execution command (-exec-run, -exec-continue --reverse, a
// CLI command that moves such as "starti") and returns why the program
// stopped (breakpoint-hit, syscall-entry, exited-normally, ...).
func (s *Session) Run(op string, args ...string) string {
	s.t.Helper()
	ctx, cancel := s.ctx()
	defer cancel()
	var ev gdbmi.StopEvent
	var err error
	if strings.HasPrefix(op, "-") {
		ev, err = s.Exec(ctx, op, args...)
	} else {
		ev, err = s.ExecConsole(ctx, strings.Join(append([]string{op}, args...), " "))
	}
	if err != nil {
		s.t.Fatalf("%s: %v\nprogram output: %s", op, err, s.TTYOutput())
	}
	return ev.Reason
}

// MustMI runs an MI command and returns its result's fields.
func (s *Session) MustMI(op string, args ...string) map[string]any {
	s.t.Helper()
	ctx, cancel := s.ctx()
	defer cancel()
	r, err := s.MI(ctx, op, args...)
	if err != nil {
		s.t.Fatalf("%s: %v", op, err)
	}
	return r.Payload
}

// Call runs an MI command written as one line, its words split at spaces
// ("-timelens-locals --depth 0"), and returns its json field; or, with ok
// false, gdb's error message.
func (s *Session) Call(line string) (js string, ok bool) {
	s.t.Helper()
	f := strings.Fields(line)
	ctx, cancel := s.ctx()
	defer cancel()
	r, err := s.MI(ctx, f[0], f[1:]...)
	var ce *gdbmi.CommandError
	switch {
	case errors.As(err, &ce):
		return ce.Msg, false
	case err != nil:
		s.t.Fatalf("%s: %v", line, err)
	}
	js, isJSON := r.Payload["json"].(string)
	if !isJSON {
		s.t.Fatalf("%s: no json in the reply %v", line, r.Payload)
	}
	return js, true
}

// Source loads a script into gdb from its text (written to a temporary
// file named name).
func (s *Session) Source(name, text string) {
	s.t.Helper()
	file := filepath.Join(s.t.TempDir(), name)
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		s.t.Fatal(err)
	}
	s.Do("source " + file)
}

// Batch runs gdb -batch with args (after -nx, full Python tracebacks and
// the debuggee's environment), for a script that drives gdb from inside,
// bounded by ctx, and returns what gdb printed.
func Batch(ctx context.Context, gdb string, args ...string) (string, error) {
	argv := []string{"-nx", "-batch", "-ex", "set python print-stack full"}
	for _, kv := range gdbmi.DebuggeeEnv() {
		argv = append(argv, "-ex", "set environment "+kv)
	}
	out, err := exec.CommandContext(ctx, gdb, append(argv, args...)...).CombinedOutput()
	return string(out), err
}

// Lines returns the rest of each line of out that starts with prefix: the
// results a script prints for its test.
func Lines(out, prefix string) []string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			lines = append(lines, rest)
		}
	}
	return lines
}
