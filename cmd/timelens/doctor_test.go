package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/gdbmi/gdbtest"
	"github.com/timelens/timelens/pyext/interp"
)

// The doctor tests run `timelens doctor` against the debuggers of the
// machine they run on. On the host (gdb 13, a CPU with AMX) gdb must be
// reported unable to reverse-execute, with the fix; in the test root
// (gdb 16, scripts/sandbox) record full must be reported to work.

// doctorJSON runs `timelens doctor --json ARGS...` and decodes the report.
func doctorJSON(t *testing.T, args ...string) (doctorReport, result, time.Duration) {
	t.Helper()
	start := time.Now()
	r := timelens(t, append([]string{"doctor", "--json"}, args...)...)
	took := time.Since(start)
	var rep doctorReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("doctor --json printed no report (%v): %v", err, r)
	}
	t.Logf("doctor took %s:\n%s", took.Round(time.Millisecond), r.stdout)
	return rep, r, took
}

// python is the report's line for the interpreter exe.
func (rep doctorReport) python(t *testing.T, exe string) pythonReport {
	t.Helper()
	return find(t, "Python "+exe, rep.Pythons, func(p pythonReport) bool { return p.Executable == exe })
}

// check is the report's check id.
func (rep doctorReport) check(t *testing.T, id string) check {
	t.Helper()
	return find(t, "check "+id, rep.Checks, func(c check) bool { return c.ID == id })
}

// find returns the item that matches, or fails the test.
func find[T any](t *testing.T, what string, items []T, match func(T) bool) T {
	t.Helper()
	for _, it := range items {
		if match(it) {
			return it
		}
	}
	t.Fatalf("no %s in %+v", what, items)
	var zero T
	return zero
}

func TestDoctorOnThisMachine(t *testing.T) {
	gdbtest.GDB(t)
	rep, r, took := doctorJSON(t)
	if took > 60*time.Second {
		t.Errorf("doctor took %s; it must finish within 60 s", took)
	}
	if rep.OK != (r.code == 0) || rep.OK != (len(rep.Working) > 0) {
		t.Errorf("exit %d, ok %v, working %q: they must agree", r.code, rep.OK, rep.Working)
	}
	for _, c := range rep.Checks {
		if c.Status == statusFail && c.Fix == "" && c.ID != "udb" {
			t.Errorf("check %s failed without saying what fixes it: %+v", c.ID, c)
		}
	}
	if rep.check(t, "gdb").Status != statusOK {
		t.Fatalf("gdb is on PATH but doctor says %+v", rep.check(t, "gdb"))
	}
	var major, minor int
	if _, err := fmt.Sscanf(rep.Host.GDBVersion, "%d.%d", &major, &minor); err != nil {
		t.Fatalf("gdb version %q: %v", rep.Host.GDBVersion, err)
	}
	reverse := rep.check(t, "gdb-reverse")
	switch {
	case major < 14 && gdbmi.CPUHasAMX():
		if reverse.Status != statusFail ||
			!strings.Contains(reverse.Detail, fmt.Sprintf("gdb %d.%d cannot reverse-execute on this CPU (AMX: gdb < 14 writes a short XSAVE area", major, minor)) ||
			!strings.Contains(reverse.Fix, "install gdb ≥ 14 (Debian trixie or later)") ||
			!strings.Contains(reverse.Fix, "scripts/sandbox run") {
			t.Errorf("gdb %d.%d on a CPU with AMX: doctor says %+v", major, minor, reverse)
		}
		if slices.Contains(rep.Working, "gdb") {
			t.Errorf("the gdb backend cannot work here, yet doctor lists it: %q", rep.Working)
		}
	case major >= 14:
		if reverse.Status != statusOK || !strings.Contains(reverse.Detail, "record full works") {
			t.Errorf("gdb %d.%d: doctor says %+v", major, minor, reverse)
		}
		// The test root's Python navigates: the gdb backend works.
		exe, _ := filepath.EvalSymlinks(gdbtest.Python(t))
		py := rep.python(t, exe)
		if py.Status != statusOK || len(py.Navigates) == 0 || !py.Navigates[0].OK {
			t.Errorf("%s: doctor says %+v", py.Executable, py)
		}
		if !slices.Contains(rep.Working, "gdb") || r.code != 0 {
			t.Errorf("gdb %d.%d and a Python that navigates: the gdb backend should work (exit %d, working %q)", major, minor, r.code, rep.Working)
		}
	default:
		t.Logf("gdb %d.%d on a CPU without AMX: %+v", major, minor, reverse)
	}

	// Whether hardware watchpoints fire here is said, and agrees with the
	// machine: make test runs the root's tests under scripts/no-hw-watchpoints
	// and says so (TIMELENS_HW_WATCHPOINTS=never).
	wp := rep.check(t, "hw-watchpoints")
	switch want := os.Getenv("TIMELENS_HW_WATCHPOINTS"); {
	case want == "never" && (wp.Status != statusSkip || !strings.Contains(wp.Detail, "never fire while a program runs live")):
		t.Errorf("hardware watchpoints never fire here (scripts/no-hw-watchpoints), yet doctor says %+v", wp)
	case want == "fire" && (wp.Status != statusOK || !strings.Contains(wp.Detail, "fire while a program runs live")):
		t.Errorf("hardware watchpoints fire here, yet doctor says %+v", wp)
	case !strings.Contains(wp.Detail, "fire while a program runs live") && !strings.Contains(wp.Detail, "software watchpoints"):
		t.Errorf("hardware watchpoints: %+v", wp)
	}

	// Every Python line says what it is and, for one that does not
	// navigate with a backend that works, why.
	for _, p := range rep.Pythons {
		if p.Status == statusFail && p.Fix == "" {
			t.Errorf("%s does not navigate and doctor says no fix: %+v", p.Executable, p)
		}
		if p.Version != "" && (p.Build == "" || !strings.Contains(p.Detail, "CPython "+p.Version)) {
			t.Errorf("%s: no version or build in %+v", p.Executable, p)
		}
	}

	// The same report as text: one line per check, one per Python, then
	// the summary.
	r = timelens(t, "doctor")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if want := len(rep.Checks) + len(rep.Pythons) + 1; len(lines) != want {
		t.Fatalf("want %d lines, got:\n%s", want, r.stdout)
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, "✓ ") && !strings.HasPrefix(l, "✗ ") && !strings.HasPrefix(l, "- ") {
			t.Errorf("line %d does not start with ✓, ✗ or -: %q", i+1, l)
		}
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, "backend") {
		t.Errorf("last line is not the summary: %q", last)
	}
}

// A Python without debug info is reported with the package that fixes it.
func TestDoctorNamesTheDebugPackage(t *testing.T) {
	gdbtest.GDB(t)
	var tried bool
	for _, py := range []string{"/usr/bin/python3.11", "/usr/bin/python3.12", "/usr/bin/python3.13", "/usr/bin/python3.14"} {
		if _, err := os.Stat(py); err != nil {
			continue
		}
		rep, _, _ := doctorJSON(t, "--python", py, "--rr", "/nonexistent/rr")
		p := rep.python(t, py)
		if p.DebugSymbols != "" {
			t.Logf("%s has debug symbols in %s", py, p.DebugSymbols)
			continue
		}
		tried = true
		v := strings.TrimPrefix(py, "/usr/bin/python")
		if p.Status == statusOK || !strings.Contains(p.Fix, "install python"+v+"-dbg (Debian/Ubuntu) or a build with -g; debuginfod also works") ||
			!strings.Contains(p.Detail, "no debug symbols") || !slices.Contains(p.FoundAs, "--python") {
			t.Errorf("%s without debug info: %+v", py, p)
		}
	}
	if !tried {
		t.Skip("every system Python here has debug info")
	}
}

// A gdb that never answers costs the doctor its step timeouts, no more.
func TestDoctorIsBoundedWhenGDBHangs(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(fakeEnv, "hanging-gdb")
	doctorTimeoutsForTest = &doctorTimeouts{Version: 2 * time.Second, Python: 10 * time.Second,
		Probe: 2 * time.Second, GDBProbe: 2 * time.Second, RRRecord: 2 * time.Second, Total: 30 * time.Second}
	defer func() { doctorTimeoutsForTest = nil }()

	rep, r, took := doctorJSON(t, "--gdb", self, "--rr", "/nonexistent/rr", "--udb", "/nonexistent/udb")
	if took > 25*time.Second {
		t.Errorf("doctor took %s with a hanging gdb", took)
	}
	if r.code != exitFailure {
		t.Errorf("exit %d, want 1", r.code)
	}
	if c := rep.check(t, "gdb"); c.Status != statusOK || !strings.Contains(c.Detail, "GNU gdb (fake) 99.1") {
		t.Errorf("gdb: %+v", c)
	}
	if c := rep.check(t, "gdb-reverse"); c.Status != statusFail || !strings.Contains(c.Detail, "did not answer") || c.Fix == "" {
		t.Errorf("gdb-reverse: %+v", c)
	}
	if c := rep.check(t, "udb"); c.Status != statusFail || !strings.Contains(c.Detail, "UDB is Undo's commercial time-travel debugger; install it and pass --udb PATH") {
		t.Errorf("udb named on the command line but missing: %+v", c)
	}
}

func TestDoctorExplainsRRFailures(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for fake, want := range map[string][]string{
		"rr-no-counters": {"hardware performance counters", "perf_event_open", "kernel.perf_event_paranoid"},
		"rr-unknown-cpu": {"rr version 5.6.0 does not know this CPU", "newer rr"},
	} {
		t.Setenv(fakeEnv, fake)
		d := &doctor{opts: &Options{RR: self}, log: zap.NewNop(), to: defaultDoctorTimeouts}
		checks, _ := d.checkRR(context.Background())
		if checks[0].Status != statusOK {
			t.Errorf("%s: rr: %+v", fake, checks[0])
		}
		c := checks[1]
		text := c.Detail + " " + c.Fix
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: rr record check lacks %q: %+v", fake, w, c)
			}
		}
		if c.Status != statusFail {
			t.Errorf("%s: %+v", fake, c)
		}
	}
}

func TestDoctorExplainsGDBFailures(t *testing.T) {
	v13 := gdbmi.Version{Major: 13, Minor: 1}
	v16 := gdbmi.Version{Major: 16, Minor: 3}
	amx := &doctor{to: defaultDoctorTimeouts, amx: true}
	noAMX := &doctor{to: defaultDoctorTimeouts}
	xsave := &gdbmi.CommandError{Op: "record goto begin", Msg: "Couldn't write extended state status: Bad address."}
	for _, c := range []struct {
		d    *doctor
		v    gdbmi.Version
		err  error
		text string
		want []string
	}{
		{amx, v13, xsave, "", []string{"gdb 13.1 cannot reverse-execute on this CPU (AMX: gdb < 14 writes a short XSAVE area", "install gdb ≥ 14 (Debian trixie or later)", sandboxHint}},
		{noAMX, v13, xsave, "", []string{"cannot restore the CPU's extended registers", "install gdb ≥ 14"}},
		{amx, v16, nil, "Process record does not support instruction 0x62 at address 0x7ffff7e3f0c0.\n",
			[]string{"AVX-512", "GLIBC_TUNABLES=" + gdbmi.DebuggeeGlibcTunables}},
		{amx, v16, &gdbmi.CommandError{Msg: "Process record and replay target doesn't support syscall number 435"}, "", []string{"gdb said"}},
		{noAMX, v16, &gdbmi.CommandError{Msg: "ptrace: Operation not permitted."}, "", []string{"may not trace", "ptrace_scope", "SYS_PTRACE"}},
		{noAMX, v16, &gdbmi.TimeoutError{Op: "-interpreter-exec", After: time.Second, Err: context.DeadlineExceeded}, "", []string{"did not answer"}},
		{amx, v13, &gdbmi.TimeoutError{Op: "-interpreter-exec", After: time.Second, Err: context.DeadlineExceeded}, "", []string{"did not answer", "gdb < 14 cannot reverse-execute on CPUs with AMX"}},
		{noAMX, v16, fmt.Errorf("%w: boom", gdbmi.ErrExited), "", []string{"gdb died"}},
		{noAMX, v16, errors.New("something else"), "", []string{"something else", "install gdb ≥ 14"}},
	} {
		got := c.d.gdbFailure(check{ID: "gdb-reverse"}, c.v, "record goto begin", c.err, c.text)
		text := got.Detail + " " + got.Fix
		if got.Status != statusFail || got.Fix == "" {
			t.Errorf("%v: %+v", c.err, got)
		}
		for _, w := range c.want {
			if !strings.Contains(text, w) {
				t.Errorf("gdb %s, AMX %v, %v %q: lacks %q:\n%s", c.v, c.d.amx, c.err, c.text, w, text)
			}
		}
	}
}

func TestParsers(t *testing.T) {
	for out, want := range map[string]string{
		"GNU gdb (Debian 13.1-3) 13.1\nCopyright (C) 2023":  "13.1",
		"GNU gdb (Debian 16.3-1) 16.3\n":                    "16.3",
		"GNU gdb (GDB) 14.0.50.20230101-git\n":              "14.0",
		"GNU gdb (Ubuntu 12.1-0ubuntu1~22.04.2) 12.1\n":     "12.1",
		"GNU gdb (Fedora Linux) 15.2-4.fc41 (ouch)\nmore\n": "15.2",
	} {
		v, ok := gdbmi.ParseVersion(out)
		if !ok || v.String() != want {
			t.Errorf("gdbmi.ParseVersion(%q) = %v, %v; want %s", out, v, ok, want)
		}
	}
	if _, ok := gdbmi.ParseVersion("UDB 8.1\n"); ok {
		t.Error("UDB's banner parsed as a gdb version")
	}

	info := "Active record target: record-full\nReplay mode:\nLowest recorded instruction number is 1.\nCurrent instruction number is 2900.\nHighest recorded instruction number is 3000.\n"
	if cur, high, ok := parseInfoRecord(info); !ok || cur != 2900 || high != 3000 {
		t.Errorf("parseInfoRecord = %d, %d, %v", cur, high, ok)
	}
	if _, _, ok := parseInfoRecord("No recording is currently active.\n"); ok {
		t.Error("parsed an inactive recording")
	}

	for _, c := range []struct {
		p    interp.Info
		want string
	}{
		{interp.Info{CFlags: "-Wsign-compare -DNDEBUG -g -fwrapv -O3 -Wall"}, "optimized (-O3)"},
		{interp.Info{CFlags: "-g -O2 -O0"}, "not optimized"},
		{interp.Info{CFlags: ""}, "not optimized"},
		{interp.Info{CFlags: "-O2", PyDebug: true}, "debug build (Py_DEBUG)"},
	} {
		if got := c.p.Optimization(); got != c.want {
			t.Errorf("Optimization(%q) = %q, want %q", c.p.CFlags, got, c.want)
		}
	}
}

// The worst case of the step timeouts, run as doctor runs them, stays
// under a minute.
func TestDoctorTimeoutsFitInAMinute(t *testing.T) {
	to := defaultDoctorTimeouts
	const closeGrace = 5 * time.Second // gdbmi.Session.Close at worst
	// The checks and the gdb probes of the interpreters run together after
	// the interpreters are asked; Total stops whatever is left.
	worst := to.Python + max(to.Version+to.GDBProbe+closeGrace, to.Probe+closeGrace, to.Version+to.RRRecord, to.Version)
	if worst > to.Total || to.Total+closeGrace+3*time.Second > 60*time.Second {
		t.Errorf("worst case %s, total %s: doctor could take over a minute", worst, to.Total)
	}
}

// runCmd runs argv and returns what it printed.
func runCmd(t *testing.T, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
		errb.WriteString(err.Error())
	}
	return result{code, out.String(), errb.String()}
}

// The interpreter of PROGRAM ARGS is examined with the others: listed as
// the program's, with its version and build.
func TestDoctorListsTheProgramsPython(t *testing.T) {
	py := gdbtest.AnyPython(t)
	rep, _, _ := doctorJSON(t, "--rr", "/nonexistent/rr", "--", py, "app.py")
	exe, _ := filepath.EvalSymlinks(py) // doctor names the file itself
	p := rep.python(t, exe)
	if !slices.Contains(p.FoundAs, "the program's") || p.Version == "" || (p.Build != "static" && p.Build != "shared") {
		t.Errorf("the program's interpreter %s: %+v", py, p)
	}
}

// A Python whose probe failed with a backend whose tools work says that
// probe's own error; "not probed: no backend works here" is only for a
// machine where no backend's tools work.
func TestDoctorPythonLineShowsItsProbesError(t *testing.T) {
	probeErr := errors.New("recording: main was never called before the program exited")
	newPython := func() *foundPython {
		return &foundPython{pythonReport: pythonReport{Executable: "/usr/bin/python3.13", Version: "3.13.5", Build: "static"},
			info: &interp.Info{Major: 3, Minor: 13}, build: interp.Build{DebugSymbols: "/usr/lib/debug/x.debug"},
			probes: map[string]error{"gdb": probeErr}}
	}
	p := newPython()
	p.conclude([]backendResult{{Name: "gdb", Works: true}, {Name: "rr", Why: "rr not found"}, {Name: "udb", Why: "udb not found"}})
	if p.Status != statusFail || !strings.Contains(p.Detail, "gdb cannot navigate it ("+probeErr.Error()+")") ||
		strings.Contains(p.Detail, "not probed") || p.Fix == "" {
		t.Errorf("a failed probe with a working gdb: %+v", p.pythonReport)
	}
	p = newPython()
	p.probes = map[string]error{}
	p.conclude([]backendResult{{Name: "gdb", Why: "gdb reverse execution: cannot"}, {Name: "rr", Why: "rr not found"}})
	if p.Status != statusSkip || !strings.Contains(p.Detail, "not probed: no backend works here") {
		t.Errorf("no backend's tools work: %+v", p.pythonReport)
	}
}

// TestDoctorSaysWhereTheLayoutComesFrom: each Python's line says where its
// struct layouts come from: its debug info, or, for a copy stripped of it
// (gdbtest.StrippedPython), CPython's debug offsets (3.13+) or the built-in
// table of its version; a stripped debug build is not probed, and its line
// names what is missing and what to install.
func TestDoctorSaysWhereTheLayoutComesFrom(t *testing.T) {
	gdbtest.GDB(t)
	var tried int
	for _, p := range gdbtest.SuitePythons(t, true) {
		if strings.HasPrefix(p.Path, "/root/.pyenv/") {
			continue // interp's tests cover the shared builds; one doctor run per Debian Python is enough here
		}
		tried++
		if tried == 1 {
			rep, _, _ := doctorJSON(t, "--python", p.Path, "--rr", "/nonexistent/rr")
			switch l := rep.python(t, p.Path); {
			case l.DebugSymbols == "" && !gdbtest.Required():
				t.Logf("%s has no debug symbols here (the roots' have)", p.Path)
			case l.Layout != interp.LayoutDebugInfo || !strings.Contains(l.Detail, "layout from debug info"):
				t.Errorf("%s with its debug info: %+v", p.Path, l)
			}
		}
		exe := gdbtest.StrippedPython(t, p.Path)
		rep, _, _ := doctorJSON(t, "--python", exe, "--rr", "/nonexistent/rr")
		l := rep.python(t, exe)
		minor := strings.Join(strings.SplitN(l.Version, ".", 3)[:2], ".")
		want := "built-in table for " + minor
		if minor >= "3.13" {
			want = interp.LayoutDebugOffsets
		}
		switch {
		case p.Debug:
			if l.Layout != "" || l.Status != statusSkip || !strings.Contains(l.Detail, "not probed: it is a debug build") ||
				!strings.Contains(l.Fix, "python"+minor+"-dbg") || slices.ContainsFunc(l.Navigates, func(n navigation) bool { return n.OK || n.Why != "not probed" }) {
				t.Errorf("a stripped debug build %s: %+v", exe, l)
			}
		case l.Layout != want || !strings.Contains(l.Detail, "layout from "+want) || !strings.Contains(l.Detail, "no debug symbols"):
			t.Errorf("stripped %s: %+v; want its layout from %s", exe, l, want)
		}
	}
	if tried == 0 {
		gdbtest.SkipOrFail(t, "no Debian Python in this root")
	}
}
