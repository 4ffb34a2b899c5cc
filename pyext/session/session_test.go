package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/gdbmi/gdbtest"
	"github.com/timelens/timelens/pyext"
	"github.com/timelens/timelens/pyext/interp"
)

// TestSavedRecordingTakesItsOwnProgramOnly: editors pass the file they show
// as PROGRAM; a saved recording accepts its own script and refuses another.
func TestSavedRecordingTakesItsOwnProgramOnly(t *testing.T) {
	dir := t.TempDir()
	data, _ := json.Marshal(pyext.Manifest{Format: pyext.ManifestFormat, Backend: "gdb", Log: pyext.LogFile, Python: "/usr/bin/python3.13",
		Program: []string{"python3.13", "/src/race.py"}})
	os.WriteFile(filepath.Join(dir, pyext.ManifestFile), data, 0o644)
	os.WriteFile(filepath.Join(dir, pyext.LogFile), nil, 0o644)
	if err := sameProgram(dir, []string{"/home/me/race.py"}); err != nil {
		t.Errorf("the recorded script: %v", err)
	}
	err := sameProgram(dir, []string{"python3", "other.py"})
	if err == nil || !strings.Contains(err.Error(), "is a saved recording of python3.13 /src/race.py, not of python3 other.py") {
		t.Errorf("another script: %v", err)
	}
	// Open says so before any debugger starts.
	_, err = Open(context.Background(), Config{Recording: dir, Program: []string{"python3", "other.py"}})
	if err == nil || !strings.Contains(err.Error(), "not of python3 other.py") {
		t.Errorf("Open of a saved recording with another program: %v", err)
	}
}

// TestRecorderCommand: rr and UDB record with their own recorder, a .py
// program under --python as gdb would run it, with the debuggee's glibc
// tunables.
func TestRecorderCommand(t *testing.T) {
	ctx := context.Background()
	self, _ := os.Executable()
	cmd, err := RecorderCommand(ctx, Config{Backend: gdbmi.KindRR, RR: self, Python: "/usr/bin/python3.13", Program: []string{"app.py", "--flag"}}, "trace")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{self, "record", "-o", "trace", "--", "/usr/bin/python3.13", "app.py", "--flag"}; !slices.Equal(cmd.Args, want) {
		t.Errorf("rr: %q, want %q", cmd.Args, want)
	}
	if !slices.Contains(cmd.Env, "GLIBC_TUNABLES="+gdbmi.DebuggeeGlibcTunables) {
		t.Errorf("rr record runs without the debuggee's environment")
	}
	undo := t.TempDir()
	for _, name := range []string{"udb", "live-record"} {
		os.WriteFile(filepath.Join(undo, name), []byte("#!/bin/sh\n"), 0o755)
	}
	cmd, err = RecorderCommand(ctx, Config{Backend: gdbmi.KindUDB, UDB: filepath.Join(undo, "udb"), Program: []string{"./tool", "x"}}, "run")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(undo, "live-record"), "-o", "run.undo", "--", "./tool", "x"}; !slices.Equal(cmd.Args, want) {
		t.Errorf("udb: %q, want %q", cmd.Args, want)
	}
	if _, err := RecorderCommand(ctx, Config{Backend: gdbmi.KindGDB, Program: []string{"app.py"}}, "out"); err == nil {
		t.Error("gdb has no recorder of its own, yet RecorderCommand made one")
	}
	err = RecorderError(gdbmi.KindRR, []string{"rr", "record"}, errors.New("exit status 1"),
		"[FATAL src/PerfCounters.cc:224:start_counter()] rr needs /proc/sys/kernel/perf_event_paranoid <= 1, but it is 2.")
	if !strings.Contains(err.Error(), "rr may not use the hardware performance counters") || !strings.Contains(err.Error(), "sysctl kernel.perf_event_paranoid=1") {
		t.Errorf("rr refused its counters: %v", err)
	}
}

// TestPythonRunsTheProgram: the one rule for a .py PROGRAM, as every
// command applies it.
func TestPythonRunsTheProgram(t *testing.T) {
	for _, c := range []struct {
		program []string
		python  string
		want    []string
	}{
		{[]string{"app.py", "x"}, "/usr/bin/python3.13", []string{"/usr/bin/python3.13", "app.py", "x"}},
		{[]string{"app.py"}, "", []string{"python3", "app.py"}},
		{[]string{"python3.12", "app.py"}, "/usr/bin/python3.13", []string{"python3.12", "app.py"}},
		{[]string{"./tool", "x"}, "", []string{"./tool", "x"}},
	} {
		if got := pyext.PythonArgv(c.program, c.python); !slices.Equal(got, c.want) {
			t.Errorf("PythonArgv(%q, %q) = %q, want %q", c.program, c.python, got, c.want)
		}
	}
	if got := Script([]string{"/usr/bin/python3", "-X", "dev", "/src/app.py", "x.py"}); got != "/src/app.py" {
		t.Errorf("Script: %q", got)
	}
}

// TestLostReason: the timeline learns that the debugger is gone, and why,
// from the errors' types and fields.
func TestLostReason(t *testing.T) {
	why := lostReason("gdb")
	for _, c := range []struct {
		err  error
		want string
	}{
		{&gdbmi.ExitError{Op: "-timelens-step", Status: "signal: killed"}, "gdb exited unexpectedly (signal: killed)"},
		{errors.Join(errors.New("moving"), &gdbmi.ExitError{Status: "exit status 1"}), "gdb exited unexpectedly (exit status 1)"},
		{&gdbmi.TimeoutError{Op: "-timelens-step", After: 5 * time.Second}, "gdb did not answer -timelens-step within 5s (hung) and was stopped"},
		{gdbmi.ErrExited, "gdb exited unexpectedly (no exit status)"},
		{&gdbmi.CommandError{Op: "-timelens-step", Msg: "gdb exited (signal: killed)"}, ""},
	} {
		if got := why(c.err); got != c.want {
			t.Errorf("lostReason(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// TestExplain: refusals met while a session opens are said again with what
// to do, by their codes; the code stays reachable.
func TestExplain(t *testing.T) {
	// As pyext.Open reports a refusal while it records the window.
	refusal := func(msg string) error {
		return fmt.Errorf("recording: %w", pyext.AsError(&gdbmi.CommandError{Op: "-timelens-record-window", Msg: msg}))
	}
	fromFact := Config{RecordFrom: "fact", Program: []string{"fact.py"}}
	fromMain := Config{Program: []string{"/usr/bin/true"}}
	for _, c := range []struct {
		err    error
		cfg    Config
		python string
		code   pyext.Code
		want   string
		not    string // a flag the user did not give
	}{
		{refusal(`{"code": "never-called", "message": "fact was never called", "function": "fact"}`), fromFact, "", pyext.CodeNeverCalled,
			"recording: fact was never called before the program exited; check the --record-from name", ""},
		{refusal(`{"code": "never-called", "message": "the program ended before Python ran its main script (is it a Python program?)", "function": ""}`), fromMain, "", pyext.CodeNeverCalled,
			"recording: the program ended before Python ran its main script; timelens records a Python program: a .py file, or an interpreter and its script after -- (it ran: /usr/bin/true)", "--record-from"},
		{refusal(`{"code": "no-debug-symbols", "message": "no debug symbols", "detail": "No symbol \"_PyRuntime\" in current context"}`), fromFact, "", pyext.CodeNoDebugSymbols,
			`this Python has no debug info (gdb: No symbol "_PyRuntime" in current context), which timelens needs to read its frames; install its debug symbols (Debian: python3.X-dbg)`, ""},
		{refusal(`{"code": "no-debug-symbols", "message": "no debug symbols", "detail": "No symbol \"_PyRuntime\" in current context"}`), fromFact, "the default Python /usr/bin/python3.13 (python3 on PATH)", pyext.CodeNoDebugSymbols,
			`the default Python /usr/bin/python3.13 (python3 on PATH) has no debug info`, ""},
		{refusal(`{"code": "unsupported-python", "message": "timelens reads CPython 3.10 to 3.14, not 3.9", "version": "3.9"}`), fromFact, "", pyext.CodeUnsupportedPython,
			"recording: timelens reads CPython 3.10 to 3.14, not 3.9", ""},
	} {
		err := explain(c.err, c.cfg, c.python)
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("explain(%v) = %q, want it to say %q", c.err, err, c.want)
		}
		if c.not != "" && strings.Contains(err.Error(), c.not) {
			t.Errorf("explain(%v) = %q names %s, which the user did not give", c.err, err, c.not)
		}
		if e := pyext.AsError(err); e == nil || e.Code != c.code {
			t.Errorf("explain(%v) lost the code %s: %v", c.err, c.code, e)
		}
	}
}

// TestUnreadableBuildRefusedBeforeGDB: without its debug info, a Python no
// layout source describes (a debug build) is refused by checkProgram, before
// gdb starts, with what to install; a release build is accepted (its
// layout comes from CPython's debug offsets or a built-in table).
func TestUnreadableBuildRefusedBeforeGDB(t *testing.T) {
	script := filepath.Join(t.TempDir(), "app.py")
	if err := os.WriteFile(script, []byte("print(1)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range gdbtest.SuitePythons(t, true) {
		t.Run(p.Label, func(t *testing.T) {
			exe := gdbtest.StrippedPython(t, p.Path)
			argv, _, err := checkProgram(t.Context(), []string{script}, exe)
			switch {
			case p.Debug && (!errors.Is(err, interp.ErrNoLayout) || !strings.Contains(err.Error(), "debug build") || !strings.Contains(err.Error(), "-dbg")):
				t.Errorf("a stripped debug build %s: %q, %v; want it refused as a debug build, with the -dbg package to install", exe, argv, err)
			case !p.Debug && err != nil:
				t.Errorf("a stripped release build %s: %v", exe, err)
			}
		})
	}
}
