package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"fmt"
	"slices"

	"go.uber.org/zap"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/gdbmi/gdbtest"
	"github.com/timelens/timelens/pyext/interp"
	"github.com/timelens/timelens/pyext/session"
)

// Bad input on the command line and in the program to record: each gets a
// message that says what happened and what to do, and never a hang. The
// checks of PROGRAM run before gdb starts, so most of these run on the host
// too; the ones that need a recording run in the test root.

// elfPython returns a Python interpreter binary (not a pyenv shim).
func elfPython(t *testing.T) string {
	t.Helper()
	var cands []string
	for _, name := range []string{"python3.13", "python3.12", "python3.11", "python3"} {
		cands = append(cands, "/usr/bin/"+name)
		if p, err := exec.LookPath(name); err == nil {
			cands = append(cands, p)
		}
	}
	for _, p := range cands {
		if head, err := os.ReadFile(p); err == nil && bytes.HasPrefix(head, []byte("\x7fELF")) {
			return p
		}
	}
	t.Skip("no Python interpreter binary here")
	return ""
}

// writeProgram writes a file into a new temporary directory.
func writeProgram(t *testing.T, name, text string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	return p
}

// refused runs timelens annotate (which opens the recording exactly as lsp
// does) and checks that it fails with every want on stderr.
func refused(t *testing.T, args []string, want ...string) result {
	t.Helper()
	r := timelens(t, args...)
	if r.code == 0 {
		t.Fatalf("timelens %q succeeded; want a refusal: %v", args, r)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("timelens %q: stderr lacks %q:\n%s", args, w, r.stderr)
		}
	}
	t.Logf("timelens %s\n%s", strings.Join(args, " "), finalLine(r.stderr))
	return r
}

func TestBadInputMissingProgram(t *testing.T) {
	py := elfPython(t)
	file := writeProgram(t, "shown.py", "x = 1\n", 0o644)
	missing := filepath.Join(t.TempDir(), "app.py")
	refused(t, []string{"annotate", file, "--", py, missing}, "the Python program "+missing+" does not exist", "check the path after --")
	refused(t, []string{"annotate", file, "--", "no-such-python3", missing}, "PROGRAM no-such-python3: not found on PATH", "give the path of the Python interpreter")
	dir := t.TempDir()
	refused(t, []string{"annotate", file, "--", py, dir}, "the Python program "+dir+" is a directory without __main__.py", "name the .py file to run")
}

func TestBadInputNotPython(t *testing.T) {
	py := elfPython(t)
	file := writeProgram(t, "shown.py", "x = 1\n", 0o644)
	png := writeProgram(t, "logo.png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 0o644)
	refused(t, []string{"annotate", file, "--", py, png}, png+" is not Python source (it is a binary file)")
	script := writeProgram(t, "run.sh", "#!/bin/sh\nexec python3 app.py\n", 0o755)
	refused(t, []string{"annotate", file, "--", script}, "is a script (#!/bin/sh), not a program gdb can record", "name the Python interpreter binary itself")
	text := writeProgram(t, "notes.txt", "hello\n", 0o755)
	refused(t, []string{"annotate", file, "--", text}, "is not an executable binary")
}

// TestBadInputArgumentWithWhitespace: gdb, which runs the program without
// a shell, splits its arguments at whitespace; such an argument is refused
// with a message instead of recording another command line.
func TestBadInputArgumentWithWhitespace(t *testing.T) {
	py := elfPython(t)
	prog := writeProgram(t, "my app.py", "def main():\n    x = 1\n\nmain()\n", 0o644)
	refused(t, []string{"annotate", prog, "--", py, prog}, "has whitespace, which gdb cannot pass to the program", "rename the file")
}

func TestBadInputSyntaxError(t *testing.T) {
	py := elfPython(t)
	prog := writeProgram(t, "broken.py", "def main(:\n    pass\n\nmain()\n", 0o644)
	refused(t, []string{"annotate", "--record-from", "main", prog, "--", py, prog},
		prog+" does not compile", `line 1`, "SyntaxError", "fix it and start again")
}

func TestBadInputNoGDB(t *testing.T) {
	py := elfPython(t)
	prog := writeProgram(t, "app.py", "def main():\n    x = 1\n\nmain()\n", 0o644)
	refused(t, []string{"annotate", "--gdb", "/nonexistent/gdb", prog, "--", py, prog},
		"--gdb /nonexistent/gdb: not found", "name the executable of gdb 14 or newer", "timelens doctor --gdb PATH")
	// No gdb on PATH, and no --gdb: the message says what was looked for
	// and how to name one.
	t.Setenv("PATH", onlyOnPath(t, map[string]string{"python3": py}))
	r := refused(t, []string{"annotate", prog},
		"gdb is not on PATH: install gdb 14 or newer (Debian/Ubuntu: apt-get install gdb), or name its executable with --gdb PATH", "timelens doctor")
	if strings.Contains(r.stderr, "--python") {
		t.Errorf("names --python, which was not given: %s", r.stderr)
	}
}

// onlyOnPath returns a directory holding links to the given executables,
// by name, to be the whole PATH of a first run on a bare machine.
func onlyOnPath(t *testing.T, links map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestBadInputNoPython: a .py program and no interpreter to run it (no
// python3 on PATH, nor python3.10 … python3.14): the message says so and
// how to choose one, before any debugger starts.
func TestBadInputNoPython(t *testing.T) {
	prog := writeProgram(t, "app.py", "def main():\n    x = 1\n\nmain()\n", 0o644)
	t.Setenv("PATH", onlyOnPath(t, nil))
	refused(t, []string{"annotate", prog},
		"no Python to run app.py: python3 is not on PATH, and no python3.14 … python3.10 on PATH is CPython 3.10-3.14",
		"install CPython 3.10-3.14 (Debian/Ubuntu: apt-get install python3) or name an interpreter with --python PATH", "timelens doctor")
}

// pyenv39 is a CPython timelens does not read (the test root's pyenv has it).
const pyenv39 = "/root/.pyenv/versions/3.9.18/bin/python3.9"

// TestBadInputDefaultPythonTooOld: python3 on PATH is CPython 3.9. With no
// newer python3.X on PATH the message says what python3 is; with one, it is
// the default (doctor marks it so), and a --python 3.9 is refused before gdb
// starts with what to do.
func TestBadInputDefaultPythonTooOld(t *testing.T) {
	old := needPython(t, pyenv39)
	prog := writeProgram(t, "app.py", "def main():\n    x = 1\n\nmain()\n", 0o644)
	refused(t, []string{"annotate", "--python", old, prog},
		old+" is CPython 3.9.18, which timelens does not read (it reads CPython 3.10-3.14)", "use another interpreter", "timelens doctor")
	t.Setenv("PATH", onlyOnPath(t, map[string]string{"python3": old}))
	refused(t, []string{"annotate", prog},
		"no Python to run app.py: python3 on PATH is CPython 3.9.18", "which timelens does not read", "--python PATH")

	py := elfPython(t)
	var n int
	if _, err := fmt.Sscanf(filepath.Base(py), "python3.%d", &n); err != nil {
		t.Skipf("%s is not named python3.X", py)
	}
	t.Setenv("PATH", onlyOnPath(t, map[string]string{"python3": old, filepath.Base(py): py}))
	def, err := interp.DefaultPython(t.Context())
	if err != nil || def.Info.Minor != n || !strings.Contains(def.Via, "python3 on PATH is CPython 3.9.18") {
		t.Fatalf("default Python with python3 = 3.9 and %s on PATH: %+v, %v", filepath.Base(py), def, err)
	}
}

func TestBadInputMissingOrCorruptRecording(t *testing.T) {
	file := writeProgram(t, "shown.py", "x = 1\n", 0o644)
	usageError(t, []string{"annotate", "--recording", "/nonexistent/trace", file}, "--recording", "no such file")
	usageError(t, []string{"annotate", "--recording", t.TempDir(), file}, "not an rr trace", "name the trace directory itself")
	undo := writeProgram(t, "app.undo", "not a recording", 0o644)
	refused(t, []string{"annotate", "--udb", "/nonexistent/udb", "--recording", undo, file},
		"--udb /nonexistent/udb: not found", "name the executable of UDB")
	text := writeProgram(t, "notes.txt", "not a recording", 0o644)
	usageError(t, []string{"annotate", "--recording", text, file}, "is not an rr trace directory or a UDB recording", "an rr trace or a recording of timelens record is a directory")
}

// TestBadInputGDB13OnThisCPU: the host's gdb 13 cannot reverse-execute on
// a CPU with AMX; timelens says so before it records.
func TestBadInputGDB13OnThisCPU(t *testing.T) {
	v, err := gdbmi.GDBVersion("gdb")
	if err != nil || v.Major >= 14 || !gdbmi.CPUHasAMX() {
		t.Skip("needs gdb < 14 on a CPU with AMX (the host, not the test root)")
	}
	py := elfPython(t)
	prog := writeProgram(t, "app.py", "def main():\n    x = 1\n\nmain()\n", 0o644)
	refused(t, []string{"annotate", "--record-from", "main", prog, "--", py, prog},
		"cannot reverse-execute on this CPU", "install gdb 14 or newer", "timelens doctor")
	// The language server gives the same message (as window/showMessage
	// and on every request: see lsp's TestStartProgressAndFailure).
	o := Options{RecordFrom: "main"}
	_, err = session.Open(t.Context(), o.config([]string{py, prog}, zap.NewNop(), nil))
	if err == nil || !strings.Contains(err.Error(), "cannot reverse-execute on this CPU") {
		t.Fatalf("lsp's start: %v", err)
	}
}

// TestBadInputNotAPythonProgram: a program that never runs a Python
// script: the message says what timelens records, and names no flag the
// user did not give.
func TestBadInputNotAPythonProgram(t *testing.T) {
	needRecording(t)
	file := writeProgram(t, "shown.py", "x = 1\n", 0o644)
	r := refused(t, []string{"annotate", file, "--", "/bin/true"},
		"the program ended before Python ran its main script", "timelens records a Python program: a .py file, or an interpreter and its script after --", "(it ran: /bin/true)")
	if strings.Contains(r.stderr, "--record-from") {
		t.Errorf("names --record-from, which was not given: %s", r.stderr)
	}
}

// TestShimIsFollowed: python3 on PATH is a pyenv shim (a script gdb cannot
// record): the default Python is the interpreter it runs, as doctor says,
// and so is a shim given as --python.
func TestShimIsFollowed(t *testing.T) {
	needRecording(t)
	shims := "/root/.pyenv/shims"
	if _, err := os.Stat(filepath.Join(shims, "python3")); err != nil {
		gdbtest.SkipOrFail(t, "needs pyenv's shims in %s (the test root has them)", shims)
	}
	prog, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "programs", "loop.py"))
	t.Setenv("PATH", shims+":/usr/bin:/bin")
	def, err := interp.DefaultPython(t.Context())
	if err != nil || !strings.HasPrefix(def.Info.Executable, "/root/.pyenv/versions/") {
		t.Fatalf("the default Python behind pyenv's shim: %+v, %v", def, err)
	}
	for _, args := range [][]string{
		{"annotate", "--record-from", "main", "--at", "loop.py:28", prog},
		{"annotate", "--python", shims + "/python3", "--record-from", "main", "--at", "loop.py:28", prog},
	} {
		r := timelens(t, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "total = 1 → 3 → 6 → 10") {
			t.Errorf("timelens %q with python3 a pyenv shim: %v", args, r)
		}
	}
	rep, _, _ := doctorJSON(t)
	if p := rep.python(t, def.Real()); !slices.Contains(p.FoundAs, defaultMark) || p.Default != "python3 on PATH" {
		t.Errorf("doctor does not mark %s as the default: %+v", def.Real(), p)
	}
}

// TestBadInputFunctionNeverCalled: the program exits before --record-from
// FUNC runs, or never calls it: timelens stops with a message, no hang.
func TestBadInputFunctionNeverCalled(t *testing.T) {
	py := needRecording(t)
	exits := writeProgram(t, "exits.py", "import sys\n\ndef main():\n    x = 1\n\nsys.exit(0)\nmain()\n", 0o644)
	refused(t, []string{"annotate", "--record-from", "main", exits, "--", py, exits},
		"main was never called before the program exited", "check the --record-from name")
	loop, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "programs", "loop.py"))
	refused(t, []string{"annotate", "--record-from", "no_such_function", loop, "--", py, loop},
		"no_such_function was never called before the program exited", "check the --record-from name")
}

// TestSecurityProgramPathIsNotShellText records a program whose file name
// is shell syntax: it is passed as argv (gdb runs it with
// startup-with-shell off), so it runs as named and nothing is executed.
func TestSecurityProgramPathIsNotShellText(t *testing.T) {
	py := needRecording(t)
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("..", "..", "testdata", "programs", "loop.py"))
	if err != nil {
		t.Fatal(err)
	}
	prog := filepath.Join(dir, "a;touch${IFS}PWNED;$(touch${IFS}PWNED2)`touch${IFS}PWNED3`.py")
	if err := os.WriteFile(prog, src, 0o644); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	r := timelens(t, "annotate", "--record-from", "main", "--at", prog+":28", prog, "--", py, prog)
	if r.code != 0 {
		t.Fatalf("recording %q: %v", prog, r)
	}
	if !strings.Contains(r.stdout, "a;touch${IFS}PWNED;$(touch${IFS}PWNED2)`touch${IFS}PWNED3`.py at time") || !strings.Contains(r.stdout, "total = 1 → 3 → 6 → 10") {
		t.Errorf("annotate of %q:\n%s", prog, r.stdout)
	}
	for _, d := range []string{dir, wd} {
		for _, name := range []string{"PWNED", "PWNED2", "PWNED3"} {
			if _, err := os.Stat(filepath.Join(d, name)); err == nil {
				t.Errorf("%s appeared in %s: the program path went through a shell", name, d)
			}
		}
	}
}

// TestSecurityInfoLogHasNoSourceOrValues runs an editor session (steps,
// hints, hover, last write) and an annotate with info-level log files and
// looks in them for the program's source lines and its values.
func TestSecurityInfoLogHasNoSourceOrValues(t *testing.T) {
	py := needRecording(t)
	loop, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "programs", "loop.py"))
	annotateLog := filepath.Join(t.TempDir(), "annotate.log")
	r := timelens(t, "annotate", "--log", annotateLog, "--log-level", "info", "--record-from", "main", "--at", loop+":28", "--last-write", "total", loop, "--", py, loop)
	if r.code != 0 {
		t.Fatal(r)
	}
	lspLog := filepath.Join(t.TempDir(), "lsp.log")
	e := startEditor(t, "lsp", "--log", lspLog, "--log-level", "info", "--backend", "gdb", "--record-from", "main", "--", py, loop)
	if msg := e.call("initialize", map[string]any{"capabilities": map[string]any{}}, nil); msg != "" {
		t.Fatal(msg)
	}
	e.notify("initialized", map[string]any{})
	uri := "file://" + loop
	src, _ := os.ReadFile(loop)
	e.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": uri, "languageId": "python", "version": 1, "text": string(src)}})
	for i := 0; i < 12; i++ {
		if msg := e.call("workspace/executeCommand", map[string]any{"command": "timelens.next"}, nil); msg != "" {
			t.Fatal(msg)
		}
	}
	var hints []json.RawMessage
	if msg := e.call("textDocument/inlayHint", map[string]any{"textDocument": map[string]any{"uri": uri},
		"range": map[string]any{"start": map[string]int{"line": 0, "character": 0}, "end": map[string]int{"line": 40, "character": 0}}}, &hints); msg != "" || len(hints) == 0 {
		t.Fatalf("hints: %q %d", msg, len(hints))
	}
	var hover json.RawMessage
	if msg := e.call("textDocument/hover", map[string]any{"textDocument": map[string]any{"uri": uri}, "position": map[string]int{"line": 22, "character": 9}}, &hover); msg != "" || !strings.Contains(string(hover), "total") {
		t.Fatalf("hover: %q %s", msg, hover)
	}
	e.call("shutdown", nil, nil)
	e.notify("exit", nil)
	<-e.done
	e.cmd.Wait()
	for _, logFile := range []string{annotateLog, lspLog} {
		data, err := os.ReadFile(logFile)
		if err != nil {
			t.Fatal(err)
		}
		log := string(data)
		if log == "" {
			t.Errorf("%s is empty: the test would not see a leak", logFile)
		}
		for _, secret := range []string{"café", "caf\\u00e9", "Account(owner", "'ada'", "[0, 1, 4, 9]", "total += i", "acct.deposit", "fib(n - 1)", "squares", "\"total\""} {
			if strings.Contains(log, secret) {
				t.Errorf("the info log %s holds %q:\n%s", filepath.Base(logFile), secret, log)
			}
		}
		t.Logf("%s: %d lines at info level, none with source text or values", filepath.Base(logFile), strings.Count(log, "\n"))
	}
}

func finalLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
