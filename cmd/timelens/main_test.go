package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/timelens/timelens/pyext"
)

// These tests run the command line in-process through run, the way a user
// types it, and check what comes back on stdout, stderr and the exit status.

// fakeEnv makes this test binary act as a fake tool when a test names it as
// --gdb or --rr (see TestMain).
const fakeEnv = "TIMELENS_TEST_FAKE"

func TestMain(m *testing.M) {
	switch os.Getenv(fakeEnv) {
	case "timelens":
		// The test binary stands in for the timelens binary (the end-to-end
		// tests run where no Go toolchain is, inside the test root).
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	case "hanging-gdb":
		// Answers --version, then never says a word on MI.
		if slices.Contains(os.Args, "--version") {
			fmt.Println("GNU gdb (fake) 99.1")
			os.Exit(0)
		}
		time.Sleep(time.Hour)
		os.Exit(1)
	case "rr-no-counters":
		if slices.Contains(os.Args, "--version") {
			fmt.Println("rr version 5.9.0")
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "[FATAL src/PerfCounters.cc:263:start_counter()] Unable to open performance counter with 'perf_event_open'; are hardware perf events available? See https://github.com/rr-debugger/rr/wiki/Will-rr-work-on-my-system")
		os.Exit(1)
	case "rr-unknown-cpu":
		if slices.Contains(os.Args, "--version") {
			fmt.Println("rr version 5.6.0")
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "[FATAL src/PerfCounters.cc:153:get_cpu_microarch()] CPU 0xc06f0 unknown.")
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// result is one run of the command line.
type result struct {
	code           int
	stdout, stderr string
}

func timelens(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return result{code, out.String(), errb.String()}
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

func TestOverview(t *testing.T) {
	for _, args := range [][]string{nil, {"help"}, {"--help"}, {"-h"}} {
		r := timelens(t, args...)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("timelens %q: %v", args, r)
		}
		for _, c := range commands {
			if !strings.Contains(r.stdout, "  "+c.name+" ") || !strings.Contains(r.stdout, c.summary) {
				t.Errorf("timelens %q: overview does not list %s:\n%s", args, c.name, r.stdout)
			}
		}
		if !strings.Contains(r.stdout, "timelens help COMMAND") {
			t.Errorf("timelens %q: overview does not say how to get a command's help:\n%s", args, r.stdout)
		}
	}
}

func TestHelpOfEveryCommand(t *testing.T) {
	shared := []string{"--backend gdb|rr|udb", "--recording PATH", "--record-from FUNC", "--record-limit N",
		"--gdb PATH", "--rr PATH", "--udb PATH", "--python PATH", "--log FILE", "--log-level LEVEL"}
	own := map[string][]string{
		"annotate": {"--at WHERE"},
		"record":   {"-o PATH"},
		"doctor":   {"--json"},
	}
	// The shared flags that do not apply to a command are not listed.
	notShared := map[string][]string{
		"record": {"--recording"},
		"doctor": {"--recording", "--record-from", "--record-limit"},
	}
	for _, c := range commands {
		for _, args := range [][]string{{c.name, "--help"}, {c.name, "-h"}, {"help", c.name}} {
			r := timelens(t, args...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("timelens %q: %v", args, r)
			}
			want := []string{"timelens " + c.name + ": " + c.summary, "Usage:\n  timelens " + c.synopsis, "-h, --help"}
			want = append(want, own[c.name]...)
			if c.name != "version" {
				for _, f := range shared {
					if !slices.Contains(notShared[c.name], strings.Fields(f)[0]) {
						want = append(want, f)
					}
				}
			}
			for _, w := range want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("timelens %q: help lacks %q:\n%s", args, w, r.stdout)
				}
			}
			if c.name == "version" && strings.Contains(r.stdout, "--backend") {
				t.Errorf("version takes no shared flags:\n%s", r.stdout)
			}
		}
	}
	// The synopses are the contract's (doctor's adds the PROGRAM it takes).
	for name, synopsis := range map[string]string{
		"lsp":      "lsp [flags] [-- PROGRAM ARGS...]",
		"annotate": "annotate [flags] [--at WHERE] FILE [-- PROGRAM ARGS...]",
		"record":   "record [flags] -o PATH -- PROGRAM ARGS...",
		"doctor":   "doctor [flags] [-- PROGRAM ARGS...]",
		"version":  "version",
	} {
		if got := lookup(name).synopsis; got != synopsis {
			t.Errorf("%s synopsis = %q, the contract says %q", name, got, synopsis)
		}
	}
}

// usageError checks a refused command line: exit 2, nothing on stdout, one
// line on stderr that contains every want and points at timelens help.
func usageError(t *testing.T, args []string, want ...string) {
	t.Helper()
	r := timelens(t, args...)
	if r.code != exitUsage || r.stdout != "" {
		t.Fatalf("timelens %q: want exit 2 and no stdout, got %v", args, r)
	}
	if strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("timelens %q: want one line on stderr, got %q", args, r.stderr)
	}
	for _, w := range append(want, "timelens help") {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("timelens %q: stderr %q lacks %q", args, r.stderr, w)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	usageError(t, []string{"debug"}, `unknown command "debug"`, "lsp, dap, annotate, record, doctor, version, help")
	usageError(t, []string{"help", "debug"}, `unknown command "debug"`, "lsp, dap, annotate, record, doctor, version")
	usageError(t, []string{"--backend", "gdb"}, `unknown command "--backend"`)
}

func TestBadFlags(t *testing.T) {
	prog := []string{"--", "python3", "prog.py"}
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"lsp", "--backend", "lldb"}, []string{"timelens lsp:", "--backend", `"lldb"`, "gdb, rr, udb"}},
		{[]string{"doctor", "--backend=GDB"}, []string{"--backend", "gdb, rr, udb"}},
		{[]string{"lsp", "--log-level", "verbose"}, []string{"--log-level", "debug, info, warn, error"}},
		{[]string{"lsp", "--record-limit", "0"}, []string{"--record-limit", "> 0"}},
		{[]string{"lsp", "--record-limit=-5"}, []string{"--record-limit", "> 0"}},
		{[]string{"lsp", "--record-limit", "lots"}, []string{"--record-limit", "> 0"}},
		{[]string{"lsp", "--gdb"}, []string{"--gdb needs a value"}},
		{[]string{"lsp", "--gdb="}, []string{"--gdb", "empty path"}},
		{[]string{"lsp", "--record-from", " "}, []string{"--record-from", "Python function"}},
		{[]string{"lsp", "--frob"}, []string{"unknown flag --frob"}},
		{[]string{"doctor", "-o", "x"}, []string{"unknown flag -o"}},
		{[]string{"version", "--backend", "gdb"}, []string{"unknown flag --backend"}},
		{[]string{"version", "extra"}, []string{`unexpected argument "extra"`}},
		{[]string{"lsp", "prog.py"}, []string{`unexpected argument "prog.py"`, "after --"}},
		{[]string{"version", "--", "python3"}, []string{"takes no PROGRAM"}},
		{[]string{"annotate"}, []string{"missing FILE"}},
		{append([]string{"record"}, prog...), []string{"-o PATH is required"}},
		{[]string{"record", "-o", "out"}, []string{"no PROGRAM given"}},
		{[]string{"record", "-o", "out", "--"}, []string{"no PROGRAM given"}},
		{append([]string{"lsp", "--backend", "rr", "--record-from", "main"}, prog...), []string{"--record-from applies to the gdb backend only"}},
		{append([]string{"lsp", "--backend", "udb", "--record-limit", "10"}, prog...), []string{"--record-limit applies to the gdb backend only"}},
		{[]string{"lsp", "--recording", "/nonexistent/trace"}, []string{"--recording", "no such file"}},
		{[]string{"lsp", "--log", "/nonexistent/dir/timelens.log"}, []string{"--log", "no such file"}},
	}
	for _, c := range cases {
		usageError(t, c.args, c.want...)
	}
}

func TestFlagsAroundFileAndProgram(t *testing.T) {
	file := filepath.Join(t.TempDir(), "prog.py")
	if err := os.WriteFile(file, []byte("x = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inv, err := lookup("annotate").parse([]string{
		"--backend", "gdb", file, "--at=t:42", "--record-limit", "1_000_000", "--log-level", "debug",
		"--", "python3", "prog.py", "--backend", "rr", "--",
	})
	if err != nil {
		t.Fatal(err)
	}
	o := inv.opts
	if o.Backend != "gdb" || o.At != "t:42" || o.RecordLimit != 1_000_000 || o.LogLevel != "debug" || inv.file != file {
		t.Errorf("parsed %+v, file %q", o, inv.file)
	}
	if want := []string{"python3", "prog.py", "--backend", "rr", "--"}; !slices.Equal(inv.program, want) {
		t.Errorf("PROGRAM ARGS = %q, want %q (everything after the first --)", inv.program, want)
	}
	var set []string
	for name := range inv.set {
		set = append(set, name)
	}
	slices.Sort(set)
	if want := []string{"at", "backend", "log-level", "record-limit"}; !slices.Equal(set, want) {
		t.Errorf("set on the command line: %q, want %q", set, want)
	}

	// A "--" that is a flag's value does not end the flags.
	inv, err = lookup("lsp").parse([]string{"--record-from", "--", "--", "prog.py"})
	if err != nil {
		t.Fatal(err)
	}
	if inv.opts.RecordFrom != "--" || !slices.Equal(inv.program, []string{"prog.py"}) {
		t.Errorf("--record-from %q, program %q", inv.opts.RecordFrom, inv.program)
	}
}

func TestBackendFollowsRecording(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string, isDir bool, files ...string) string {
		p := filepath.Join(dir, name)
		if isDir {
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				if err := os.WriteFile(filepath.Join(p, f), []byte("85\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			return p
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	undo := mk("prog.undo", false)
	upperUndo := mk("PROG.UNDO", false)
	trace := mk("python3-0", true, "version", "events", "data")
	recording := mk("python3-1", true, "incomplete")
	gdbCore := mk("gdb_record.1234", false)
	saved := mk("loop.rec", true, pyext.ManifestFile)
	notTrace := mk("empty", true)

	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "gdb"},
		{[]string{"--recording", undo}, "udb"},
		{[]string{"--recording", upperUndo}, "udb"},
		{[]string{"--recording", trace}, "rr"},
		{[]string{"--recording", saved}, "gdb"},
		{[]string{"--backend", "rr"}, "rr"},
		{[]string{"--backend", "udb", "--recording", undo}, "udb"},
	} {
		inv, err := lookup("lsp").parse(c.args)
		if err != nil {
			t.Errorf("lsp %q: %v", c.args, err)
			continue
		}
		if got, err := inv.opts.config(nil, nil, nil).Kind(); string(got) != c.want || err != nil {
			t.Errorf("lsp %q: backend %q, %v; want %q", c.args, got, err, c.want)
		}
	}
	usageError(t, []string{"lsp", "--backend", "gdb", "--recording", undo}, "--backend gdb cannot replay", "a UDB recording", "--backend udb")
	usageError(t, []string{"lsp", "--backend", "udb", "--recording", trace}, "an rr recording", "--backend rr")
	usageError(t, []string{"lsp", "--recording", notTrace}, "not an rr trace")
	// One rule with gdbmi.DetectKind: an rr trace still being written is
	// refused with what to do, and a file that is no recording (gdb's own
	// record save core) is refused before anything starts.
	usageError(t, []string{"lsp", "--recording", recording}, "rr trace is incomplete", "wait for rr record to end")
	usageError(t, []string{"lsp", "--recording", gdbCore}, "not an rr trace directory or a UDB recording", "named *.undo")
}

func TestAnnotateNeedsAnExistingFile(t *testing.T) {
	usageError(t, []string{"annotate", "/nonexistent/prog.py"}, "FILE /nonexistent/prog.py does not exist", "name the Python file to annotate")
	usageError(t, []string{"annotate", t.TempDir()}, "is a directory")
	usageError(t, []string{"annotate", "a.py", "b.py"}, "one FILE only")
}

func TestVersion(t *testing.T) {
	r := timelens(t, "version")
	if r.code != 0 || r.stderr != "" {
		t.Fatal(r)
	}
	if !regexp.MustCompile(`^timelens \S+ \(go1\.\d+[^,)]*(, commit [^)]+)?\)\n$`).MatchString(r.stdout) {
		t.Errorf("version printed %q", r.stdout)
	}
	old := version
	version = "v1.2.3"
	defer func() { version = old }()
	if r := timelens(t, "version"); !strings.HasPrefix(r.stdout, "timelens v1.2.3 (go") {
		t.Errorf("with -X main.version=v1.2.3: %q", r.stdout)
	}
}

func TestLogsGoToTheLogFileNeverStdout(t *testing.T) {
	file := filepath.Join(t.TempDir(), "prog.py")
	if err := os.WriteFile(file, []byte("x = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	record := func(flags ...string) []string {
		// rr is missing: record fails at once, after its first log line.
		return append(append([]string{"record", "--backend", "rr", "--rr", "/nonexistent/rr"}, flags...), "-o", filepath.Join(t.TempDir(), "rec"), "--", "python3", file)
	}
	logFile := filepath.Join(t.TempDir(), "timelens.log")
	r := timelens(t, record("--log", logFile, "--log-level", "debug")...)
	if r.code != exitFailure || r.stdout != "" {
		t.Fatal(r)
	}
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"msg":"recording"`) || !strings.Contains(string(data), `"command":"record"`) {
		t.Errorf("log file holds %q", data)
	}
	// Without --log, debug logs go to stderr.
	r = timelens(t, record("--log-level=debug")...)
	if r.stdout != "" || !strings.Contains(r.stderr, "recording") {
		t.Errorf("debug log without --log: %v", r)
	}
	// The default level is quiet on stderr.
	if r := timelens(t, record()...); strings.Contains(r.stderr, "DEBUG") {
		t.Errorf("debug log at the default level: %v", r)
	}
}

// TestBinary runs the built command once, end to end.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if _, err := os.Stat("main.go"); err != nil {
		t.Skip("builds the package in the working directory; run it with go test")
	}
	exe := filepath.Join(t.TempDir(), "timelens")
	build := runCmd(t, "go", "build", "-ldflags", "-X main.version=v0.0.0-test", "-o", exe, ".")
	if build.code != 0 {
		t.Skipf("cannot build here: %v", build)
	}
	if r := runCmd(t, exe, "version"); r.code != 0 || !strings.HasPrefix(r.stdout, "timelens v0.0.0-test (go") {
		t.Errorf("version: %v", r)
	}
	if r := runCmd(t, exe, "lsp", "--backend", "lldb"); r.code != exitUsage || !strings.Contains(r.stderr, "gdb, rr, udb") {
		t.Errorf("bad backend: %v", r)
	}
	// An editor that goes away without shutdown: exit status 1, as LSP asks.
	if r := runCmd(t, exe, "lsp"); r.code != 1 || !strings.Contains(r.stderr, "without shutdown") {
		t.Errorf("lsp with stdin closed: %v", r)
	}
}
