package main

// timelens doctor: which backends can replay Python on this machine, and
// for each one that cannot, what fixes it; then each Python interpreter it
// finds, with its build and whether timelens navigates it with each backend
// that works here (doctor_python.go). Every check really exercises the tool
// (gdb reverse-executes, rr records, a session steps through a program
// under each interpreter) rather than trusting version numbers, and every
// step is bounded in time so that a hanging debugger costs at most its
// step's timeout.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/pyext/interp"
	"go.uber.org/zap"
)

// status is the outcome of one check.
type status string

const (
	statusOK   status = "ok"   // printed ✓
	statusFail status = "fail" // printed ✗
	statusSkip status = "skip" // printed -: not run, or optional and absent
)

func (s status) mark() string {
	switch s {
	case statusOK:
		return "✓"
	case statusFail:
		return "✗"
	}
	return "-"
}

// check is one line of the report.
type check struct {
	// ID is stable, for tools: gdb, gdb-reverse, rr, rr-record, udb.
	ID     string `json:"id"`
	Title  string `json:"title"`
	Status status `json:"status"`
	Detail string `json:"detail"`
	// Fix is the command or package that fixes a failure.
	Fix string `json:"fix,omitempty"`
}

// backendResult says whether one backend can replay Python here.
type backendResult struct {
	Name  string `json:"name"`
	Works bool   `json:"works"`
	// Why it does not work (empty when it works).
	Why string `json:"why,omitempty"`
}

// doctorReport is what doctor prints; --json prints it as is.
type doctorReport struct {
	Checks []check `json:"checks"`
	// Pythons are the interpreters found, each with what it navigates with.
	Pythons  []pythonReport  `json:"pythons"`
	Backends []backendResult `json:"backends"`
	// Working lists the backends that work here.
	Working []string `json:"working"`
	Summary string   `json:"summary"`
	// OK: the exit status is 0 (at least one backend, or the one --backend
	// names, can replay Python here).
	OK   bool       `json:"ok"`
	Host doctorHost `json:"host"`
}

// doctorHost holds what doctor learned about the machine.
type doctorHost struct {
	AMX           bool   `json:"amx"`
	GDB           string `json:"gdb,omitempty"`
	GDBVersion    string `json:"gdbVersion,omitempty"`
	Python        string `json:"python,omitempty"`
	PythonVersion string `json:"pythonVersion,omitempty"`
	RR            string `json:"rr,omitempty"`
	UDB           string `json:"udb,omitempty"`
}

// doctorTimeouts bound each step. The interpreters are asked their
// versions first (Python, all together); then the checks of gdb, rr and UDB
// and the gdb probes of the interpreters (Probe each, a few at a time) run
// in parallel; probes with rr or UDB, where they work, follow their checks.
// Total caps everything: a probe not finished by then is reported so.
type doctorTimeouts struct {
	Version  time.Duration // one `X --version`
	Python   time.Duration // asking the interpreters, all together
	GDBProbe time.Duration // gdb recording and reverse-executing
	RRRecord time.Duration // rr recording /bin/true
	Probe    time.Duration // one session stepping a program under one interpreter
	Total    time.Duration
}

var defaultDoctorTimeouts = doctorTimeouts{
	Version:  5 * time.Second,
	Python:   10 * time.Second,
	GDBProbe: 25 * time.Second,
	RRRecord: 20 * time.Second,
	Probe:    30 * time.Second,
	Total:    50 * time.Second,
}

// doctorTimeoutsForTest lets tests shorten the steps.
var doctorTimeoutsForTest *doctorTimeouts

// sandboxHint is how to run doctor in the project's test root.
const sandboxHint = "scripts/sandbox run -- ./bin/timelens doctor"

type doctor struct {
	opts *Options
	// program is PROGRAM ARGS, whose interpreter doctor examines too.
	program []string
	log     *zap.Logger
	to      doctorTimeouts
	amx     bool
	// defaultPython is the interpreter of a .py PROGRAM when --python is
	// not given; noDefaultPython says why there is none.
	defaultPython   interp.Resolved
	noDefaultPython error
}

func runDoctor(inv *invocation) int {
	d := &doctor{opts: &inv.opts, program: inv.program, log: inv.log, to: defaultDoctorTimeouts, amx: gdbmi.CPUHasAMX()}
	if doctorTimeoutsForTest != nil {
		d.to = *doctorTimeoutsForTest
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.to.Total)
	defer cancel()
	rep := d.run(ctx)
	if !inv.set["backend"] {
		rep.OK = len(rep.Working) > 0
	} else {
		rep.OK = slices.Contains(rep.Working, inv.opts.Backend)
	}
	if inv.opts.JSON {
		enc := json.NewEncoder(inv.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		_ = enc.Encode(rep)
	} else {
		printReport(inv.stdout, rep)
	}
	if !rep.OK {
		return exitFailure
	}
	return exitOK
}

func printReport(w io.Writer, rep doctorReport) {
	for _, c := range rep.Checks {
		line := fmt.Sprintf("%s %s: %s", c.Status.mark(), c.Title, c.Detail)
		if c.Fix != "" {
			line += ". Fix: " + c.Fix
		}
		fmt.Fprintln(w, line)
	}
	for _, p := range rep.Pythons {
		fmt.Fprintln(w, p.line())
	}
	mark := statusFail
	if rep.OK {
		mark = statusOK
	}
	fmt.Fprintf(w, "%s %s\n", mark.mark(), rep.Summary)
}

// run runs every check.
func (d *doctor) run(ctx context.Context) doctorReport {
	rep := doctorReport{Host: doctorHost{AMX: d.amx}}
	pythons := d.findPythons(ctx)
	var noPython *interp.NoPythonError
	if errors.As(d.noDefaultPython, &noPython) {
		rep.Checks = append(rep.Checks, check{ID: "python-default", Title: "default Python", Status: statusFail,
			Detail: "no Python to run a .py PROGRAM with: " + noPython.What,
			Fix:    "install " + interp.SupportedVersions + " (Debian/Ubuntu: apt-get install python3), or name an interpreter with --python PATH"})
	}
	var first *interp.Info // the gdb probe's program
	for _, p := range pythons {
		if p.info != nil {
			first = p.info
			rep.Host.Python, rep.Host.PythonVersion = p.Executable, p.Version
			break
		}
	}

	var (
		wg                      sync.WaitGroup
		gdbChecks, rrChecks     []check
		udbCheck                check
		gdbPath, gdbVer, rrPath string
		udbPath                 string
	)
	wg.Add(4)
	go func() {
		defer wg.Done()
		gdbChecks, gdbPath, gdbVer = d.checkGDB(ctx, first)
	}()
	go func() {
		defer wg.Done()
		rrChecks, rrPath = d.checkRR(ctx)
	}()
	go func() {
		defer wg.Done()
		udbCheck, udbPath = d.checkUDB(ctx)
	}()
	go func() {
		defer wg.Done()
		d.probeAll(ctx, gdbmi.KindGDB, pythons)
	}()
	wg.Wait()
	rep.Host.GDB, rep.Host.GDBVersion, rep.Host.RR, rep.Host.UDB = gdbPath, gdbVer, rrPath, udbPath

	rep.Checks = append(rep.Checks, gdbChecks...)
	rep.Checks = append(rep.Checks, rrChecks...)
	rep.Checks = append(rep.Checks, udbCheck)
	byID := map[string]check{}
	for _, c := range rep.Checks {
		byID[c.ID] = c
	}
	// A backend whose tools work here is the one interpreters are probed
	// with; rr replays through gdb.
	tools := func(name string, needs ...string) backendResult {
		for _, id := range needs {
			if c := byID[id]; c.Status != statusOK {
				why := firstClause(c.Detail)
				if c.ID != name {
					why = c.Title + ": " + why
				}
				return backendResult{Name: name, Why: why}
			}
		}
		return backendResult{Name: name, Works: true}
	}
	rep.Backends = []backendResult{
		tools("gdb", "gdb", "gdb-reverse"),
		tools("rr", "rr", "rr-record", "gdb", "hw-watchpoints"),
		tools("udb", "udb"),
	}
	// The Python lines speak of the backends whose tools work, whether or
	// not some Python navigates with them (each line gives its probe's error).
	toolsWork := slices.Clone(rep.Backends)
	for _, b := range rep.Backends[1:] {
		if b.Works {
			d.probeAll(ctx, gdbmi.Kind(b.Name), pythons)
		}
	}
	for i, b := range rep.Backends {
		if !b.Works {
			continue
		}
		navigable := false
		for _, p := range pythons {
			navigable = navigable || p.navigates(b.Name)
		}
		if !navigable {
			rep.Backends[i] = backendResult{Name: b.Name, Why: "no Python found here navigates with it (see the Python lines)"}
		}
	}
	for _, p := range pythons {
		p.conclude(toolsWork)
		rep.Pythons = append(rep.Pythons, p.pythonReport)
	}

	var why []string
	for _, b := range rep.Backends {
		if b.Works {
			rep.Working = append(rep.Working, b.Name)
		} else {
			why = append(why, b.Name+": "+b.Why)
		}
	}
	if len(rep.Working) > 0 {
		rep.Summary = "backends that can replay Python here: " + strings.Join(rep.Working, ", ")
		if len(why) > 0 {
			rep.Summary += " (not " + strings.Join(why, "; ") + ")"
		}
	} else {
		rep.Summary = "no backend can replay Python here (" + strings.Join(why, "; ") + ")"
	}
	if ctx.Err() != nil {
		rep.Summary += fmt.Sprintf("; doctor stopped at its %s limit", d.to.Total)
	}
	return rep
}

// firstClause shortens a detail to its first clause for the summary.
func firstClause(s string) string {
	if i := strings.Index(s, " ("); i > 0 {
		s = s[:i]
	}
	if i := strings.Index(s, "; "); i > 0 {
		s = s[:i]
	}
	return s
}

// ---- gdb ----

// checkGDB finds gdb and probes reverse execution. It returns the checks,
// gdb's path ("" when missing) and version.
func (d *doctor) checkGDB(ctx context.Context, py *interp.Info) ([]check, string, string) {
	found := check{ID: "gdb", Title: "gdb"}
	probe := check{ID: "gdb-reverse", Title: "gdb reverse execution", Status: statusSkip}
	path, out, err := d.findTool(ctx, &found, &probe, d.opts.GDBPath(), "apt-get install gdb (gdb ≥ 14: Debian trixie or later), or pass --gdb PATH")
	if path == "" {
		return []check{found, probe}, "", ""
	}
	v, ok := gdbmi.ParseVersion(out)
	if err != nil || !ok {
		found.Status, found.Detail = statusFail, fmt.Sprintf("%s --version did not say which gdb it is: %s", path, errText(err, out))
		found.Fix = "apt-get install gdb, or pass --gdb PATH to a GNU gdb"
		probe.Detail = "needs a working gdb"
		return []check{found, probe}, path, ""
	}
	found.Status, found.Detail = statusOK, fmt.Sprintf("%s, %s", path, v.Text)
	var wp check
	done := make(chan struct{})
	go func() {
		defer close(done)
		wp = d.probeWatchpoints(ctx, path)
	}()
	probe = d.probeReverse(ctx, path, v, py)
	<-done
	return []check{found, probe, wp}, path, v.String()
}

// probeWatchpoints says whether hardware watchpoints fire while a program
// runs live here: gdb watches the stack slot that the dynamic loader's first
// instruction-after-next writes (`_start: mov %rsp,%rdi; call _dl_start`
// pushes a return address there) and continues. On some machines (AMD EPYC
// under the PVM hypervisor) gdb accepts the watchpoint, the CPU never
// triggers it and /bin/true runs to its end. timelens does not need them:
// it uses watchpoints only in gdb's record full replay, where record full
// checks each replayed write itself. rr's replay uses the debug registers.
func (d *doctor) probeWatchpoints(ctx context.Context, gdb string) check {
	c := check{ID: "hw-watchpoints", Title: "hardware watchpoints"}
	ctx, cancel := context.WithTimeout(ctx, d.to.GDBProbe)
	defer cancel()
	fail := func(step string, err error) check {
		c.Status, c.Detail = statusSkip, fmt.Sprintf("not probed: %s: %v", step, err)
		return c
	}
	s, err := gdbmi.Start(ctx, gdbmi.Config{GDB: gdb, Program: "/bin/true", Logger: d.log})
	if err != nil {
		return fail("starting gdb", err)
	}
	defer s.Close()
	if _, err := s.ExecConsole(ctx, "starti"); err != nil {
		return fail("starti", err)
	}
	said, err := s.Console(ctx, "watch -l *(long *)($sp - 8)")
	if err != nil {
		return fail("watch", err)
	}
	if !strings.Contains(said, "Hardware watchpoint") {
		c.Status, c.Detail = statusSkip, "gdb sets only software watchpoints here ("+strings.TrimSpace(said)+"); timelens uses watchpoints only in record full replay, where they work either way"
		return c
	}
	ev, err := s.Exec(ctx, "-exec-continue")
	d.log.Debug("watchpoint probe", zap.String("reason", ev.Reason), zap.String("output", ev.Console), zap.Error(err))
	switch {
	case err != nil:
		return fail("continue", err)
	case ev.Reason == "watchpoint-trigger":
		c.Status = statusOK
		c.Detail = "fire while a program runs live (a watched stack slot stopped /bin/true at its first call)"
	case strings.HasPrefix(ev.Reason, "exited"):
		c.Status = statusSkip
		c.Detail = "never fire while a program runs live (gdb accepts them, the CPU does not trigger them: " +
			"seen on AMD EPYC under the PVM hypervisor). timelens does not need them: gdb record full checks " +
			"each replayed write itself, and nothing timelens runs live uses one. rr's replay needs them"
	default:
		return fail("continue", fmt.Errorf("/bin/true stopped (%s)", orDefault(ev.Reason, "no reason given")))
	}
	return c
}

// probeReverse makes gdb record a few thousand instructions of a real
// program and execute them backwards: the way timelens uses gdb. With
// Python available the program is the interpreter itself, stopped at
// Py_BytesMain: its start-up code writes SSE registers at once, which is
// where gdb < 14 fails on CPUs with AMX.
func (d *doctor) probeReverse(ctx context.Context, gdb string, v gdbmi.Version, py *interp.Info) check {
	c := check{ID: "gdb-reverse", Title: "gdb reverse execution"}
	ctx, cancel := context.WithTimeout(ctx, d.to.GDBProbe)
	defer cancel()
	// /bin/true runs about a thousand instructions after __libc_start_main
	// before it exits; 500 of them reach SSE code too.
	prog, args, stopAt, n := "/bin/true", []string(nil), "__libc_start_main", 500
	if py != nil {
		prog, args, stopAt, n = py.Executable, []string{"-c", "pass"}, "Py_BytesMain", 3000
	}
	what := filepath.Base(prog)
	s, err := gdbmi.Start(ctx, gdbmi.Config{GDB: gdb, Program: prog, Args: args, InferiorEnv: gdbmi.DebuggeeEnv(), Logger: d.log})
	if err != nil {
		return d.gdbFailure(c, v, "starting gdb", err, "")
	}
	defer s.Close()
	if err := runTo(ctx, s, stopAt); err != nil {
		return d.gdbFailure(c, v, "running "+what+" to "+stopAt, err, "")
	}
	steps := []struct {
		cmd  string
		exec bool
	}{
		{"record full", false},
		{fmt.Sprintf("stepi %d", n), true},
		// Back over every recorded instruction. "record goto" fails at
		// once with gdb's message where reverse-stepping would never stop
		// (gdb 13 under MI repeats the error forever without *stopped).
		{"record goto begin", false},
		{"record goto end", false},
		{"reverse-stepi 100", true},
		{"info record", false},
	}
	var last string
	for _, st := range steps {
		var text string
		var ev gdbmi.StopEvent
		if st.exec {
			ev, err = s.ExecConsole(ctx, st.cmd)
			text = ev.Console
		} else {
			text, err = s.Console(ctx, st.cmd)
		}
		d.log.Debug("gdb probe", zap.String("command", st.cmd), zap.String("reason", ev.Reason), zap.String("output", text), zap.Error(err))
		if _, failed := gdbDialect.RecordFailure(text); err != nil || failed {
			return d.gdbFailure(c, v, st.cmd, err, text)
		}
		if ev.Reason == "exited-normally" || ev.Reason == "exited" {
			return d.gdbFailure(c, v, st.cmd, errors.New(what+" exited while recording"), text)
		}
		last = text
	}
	cur, high, ok := parseInfoRecord(last)
	if !ok || cur > high {
		detail := strings.TrimSpace(last)
		if ok {
			detail = fmt.Sprintf("after reverse-stepi gdb is at instruction %d of %d recorded", cur, high)
		}
		return d.gdbFailure(c, v, "info record", fmt.Errorf("gdb lost its place in the recording: %s", detail), "")
	}
	c.Status = statusOK
	c.Detail = fmt.Sprintf("record full works: recorded %d instructions of %s from %s, went back over all of them and reverse-stepped", n, what, stopAt)
	return c
}

// runTo runs the program to the first call of function.
func runTo(ctx context.Context, s *gdbmi.Session, function string) error {
	if _, err := s.Console(ctx, "set breakpoint pending on"); err != nil {
		return err
	}
	if _, err := s.Console(ctx, "break "+function); err != nil {
		return err
	}
	ev, err := s.Exec(ctx, "-exec-run")
	if err != nil {
		return err
	}
	if ev.Reason != "breakpoint-hit" {
		return fmt.Errorf("the program did not reach %s (stopped: %s)", function, orDefault(ev.Reason, "no reason given"))
	}
	return nil
}

var reInfoRecord = regexp.MustCompile(`Current instruction number is (\d+)[\s\S]*Highest recorded instruction number is (\d+)`)

// parseInfoRecord reads the current and highest instruction numbers.
func parseInfoRecord(out string) (cur, high uint64, ok bool) {
	m := reInfoRecord.FindStringSubmatch(out)
	if m == nil {
		return 0, 0, false
	}
	cur, err1 := strconv.ParseUint(m[1], 10, 64)
	high, err2 := strconv.ParseUint(m[2], 10, 64)
	return cur, high, err1 == nil && err2 == nil
}

// gdbDialect is gdb's row of the dialect table: what its failures say.
var gdbDialect, _ = gdbmi.DialectFor(gdbmi.KindGDB)

// gdbFailure explains a failed probe step and says what fixes it.
func (d *doctor) gdbFailure(c check, v gdbmi.Version, step string, err error, text string) check {
	c.Status = statusFail
	msg := strings.TrimSpace(text)
	var ce *gdbmi.CommandError
	switch {
	case errors.As(err, &ce):
		msg = strings.TrimSpace(ce.Msg + "\n" + msg)
	case err != nil:
		msg = strings.TrimSpace(err.Error() + "\n" + msg)
	}
	gdbSaid := lastLine(msg)
	f, known := gdbDialect.RecordFailure(msg)
	if known {
		gdbSaid = lineMatching(msg, f.Said)
	}
	var timeout *gdbmi.TimeoutError
	var interrupted *gdbmi.InterruptedError
	switch {
	case f.ID == "xsave" && v.Major < 14 && d.amx:
		c.Detail = fmt.Sprintf("gdb %s cannot reverse-execute on this CPU (AMX: gdb < 14 writes a short XSAVE area; gdb said %q)", v, gdbSaid)
		c.Fix = "install gdb ≥ 14 (Debian trixie or later), or run inside the test root: " + sandboxHint
	case f.ID == "ptrace":
		c.Detail = fmt.Sprintf("gdb %s (%s: %s)", f.Why, step, gdbSaid)
		c.Fix = f.Fix
	case known:
		c.Detail = fmt.Sprintf("gdb %s: record full %s (gdb said %q)", v, f.Why, gdbSaid)
		c.Fix = f.Fix
	case errors.As(err, &timeout) || errors.As(err, &interrupted) || errors.Is(err, context.DeadlineExceeded):
		c.Detail = fmt.Sprintf("gdb did not answer %q within the probe's %s", step, d.to.GDBProbe)
		c.Fix = "check that this gdb runs programs: gdb -batch -ex run /bin/true; timelens doctor --log-level debug shows the exchange"
	case errors.Is(err, gdbmi.ErrExited):
		c.Detail = fmt.Sprintf("gdb died during %q (%s)", step, gdbSaid)
		c.Fix = "install a gdb that works here (gdb ≥ 14: Debian trixie or later); timelens doctor --log-level debug shows the exchange"
	default:
		c.Detail = fmt.Sprintf("%s failed (gdb said %q)", step, gdbSaid)
		c.Fix = "install gdb ≥ 14 (Debian trixie or later); timelens doctor --log-level debug shows the exchange"
	}
	if v.Major < 14 && d.amx && !strings.Contains(c.Detail, "AMX") {
		c.Detail += "; note: gdb < 14 cannot reverse-execute on CPUs with AMX, which this one has"
	}
	return c
}

// ---- rr ----

// checkRR finds rr and records /bin/true with it.
func (d *doctor) checkRR(ctx context.Context) ([]check, string) {
	found := check{ID: "rr", Title: "rr"}
	rec := check{ID: "rr-record", Title: "rr record", Status: statusSkip}
	path, out, err := d.findTool(ctx, &found, &rec, d.opts.RRPath(), "apt-get install rr (recent CPUs need a recent rr: github.com/rr-debugger/rr/releases), or pass --rr PATH")
	if path == "" {
		return []check{found, rec}, ""
	}
	if err != nil {
		found.Status, found.Detail = statusFail, fmt.Sprintf("%s --version failed: %s", path, errText(err, out))
		found.Fix = "reinstall rr (apt-get install rr), or pass --rr PATH"
		rec.Detail = "needs a working rr"
		return []check{found, rec}, path
	}
	ver := firstLine(out)
	found.Status, found.Detail = statusOK, fmt.Sprintf("%s, %s", path, ver)
	return []check{found, d.rrRecord(ctx, path, ver)}, path
}

// rrRecord records /bin/true into a temporary trace directory.
func (d *doctor) rrRecord(ctx context.Context, rr, ver string) check {
	c := check{ID: "rr-record", Title: "rr record", Status: statusFail}
	dir, err := os.MkdirTemp("", "timelens-doctor-rr-")
	if err != nil {
		c.Detail = "cannot make a temporary trace directory: " + err.Error()
		return c
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(ctx, d.to.RRRecord)
	defer cancel()
	cmd := exec.CommandContext(ctx, rr, "record", "/bin/true")
	cmd.Env = append(os.Environ(), "_RR_TRACE_DIR="+dir)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	out := buf.String()
	d.log.Debug("rr record", zap.String("output", out), zap.Error(err))
	if err == nil {
		c.Status, c.Detail = statusOK, "recorded /bin/true"
		return c
	}
	said := rrMessage(out)
	rrDialect, _ := gdbmi.DialectFor(gdbmi.KindRR)
	if f, ok := rrDialect.RecordFailure(out); ok && ctx.Err() == nil {
		c.Detail = fmt.Sprintf("%s %s (rr said %q; kernel.perf_event_paranoid = %s)", ver, f.Why, said, readTrim("/proc/sys/kernel/perf_event_paranoid"))
		c.Fix = f.Fix
		return c
	}
	if ctx.Err() != nil {
		c.Detail = fmt.Sprintf("rr record /bin/true did not finish within %s", d.to.RRRecord)
		c.Fix = "run rr record /bin/true by hand to see where it hangs"
		return c
	}
	c.Detail = fmt.Sprintf("rr record /bin/true failed: %s", errText(err, said))
	c.Fix = "see github.com/rr-debugger/rr/wiki/Will-rr-work-on-my-system"
	return c
}

// rrMessage picks the line of rr's output that says what went wrong.
func rrMessage(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if strings.Contains(l, "rr:") || strings.Contains(l, "FATAL") || strings.Contains(l, "ERROR") || strings.Contains(l, "->") {
			return strings.TrimLeft(l, "[]-> ")
		}
	}
	return lastLine(out)
}

// ---- UDB ----

func (d *doctor) checkUDB(ctx context.Context) (check, string) {
	c := check{ID: "udb", Title: "udb"}
	path, err := exec.LookPath(d.opts.UDBPath())
	if err != nil {
		c.Status = statusSkip
		if d.opts.UDB != "" {
			c.Status = statusFail
		}
		c.Detail = fmt.Sprintf("%s not found; UDB is Undo's commercial time-travel debugger; install it and pass --udb PATH", d.opts.UDBPath())
		return c, ""
	}
	out, err := d.output(ctx, d.to.Version, path, "--version")
	ver := firstLine(out)
	if err != nil || ver == "" {
		ver = "version unknown"
	}
	c.Status = statusOK
	c.Detail = fmt.Sprintf("%s, %s (doctor does not record with UDB: that needs its license)", path, ver)
	return c, path
}

// ---- helpers ----

// findTool looks exe up (on PATH, or as a path) and runs exe --version. A
// missing exe fails found with what installs it, and next needs it.
func (d *doctor) findTool(ctx context.Context, found, next *check, exe, install string) (path, version string, err error) {
	path, err = exec.LookPath(exe)
	if err != nil {
		found.Status, found.Detail, found.Fix = statusFail, exe+" not found", install
		next.Detail = "needs " + found.Title
		return "", "", err
	}
	version, err = d.output(ctx, d.to.Version, path, "--version")
	return path, version, err
}

// output runs argv (no shell) with a timeout and returns stdout and stderr.
func (d *doctor) output(ctx context.Context, timeout time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%s did not answer within %s", filepath.Base(name), timeout)
	}
	d.log.Debug("ran", zap.String("name", name), zap.Strings("args", args), zap.String("output", buf.String()), zap.Error(err))
	return buf.String(), err
}

// errText is err with the last line of out, for a one-line report.
func errText(err error, out string) string {
	l := lastLine(out)
	switch {
	case err == nil:
		return l
	case l == "":
		return err.Error()
	}
	return fmt.Sprintf("%v: %s", err, l)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimSpace(s)
}

// lineMatching returns the line of s that re matches.
func lineMatching(s string, re *regexp.Regexp) string {
	for _, l := range strings.Split(s, "\n") {
		if re.MatchString(l) {
			return strings.TrimSpace(l)
		}
	}
	return lastLine(s)
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}
