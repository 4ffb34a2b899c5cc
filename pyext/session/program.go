package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/pyext"
	"github.com/timelens/timelens/pyext/interp"
)

// The checks below run before gdb starts, so that a mistake on the command
// line gets a message that names it instead of whatever gdb or CPython say
// later. Paths are passed as argv, never through a shell.

// checkProgram checks PROGRAM ARGS for the gdb backend and returns the
// command to run (pyext.PythonArgv: a .py PROGRAM under python, else the
// default interpreter, interp.DefaultPython), with the executable resolved
// to an absolute path (gdb does not search PATH) and a pyenv or asdf shim
// followed to the interpreter it runs (gdb would record the shim's shell).
// python is how messages name the interpreter: "--python PATH", "the
// default Python PATH (python3 on PATH)", or "" when PROGRAM names what
// runs.
func checkProgram(ctx context.Context, program []string, pythonFlag string) (argv []string, python string, err error) {
	for _, a := range program {
		if strings.ContainsAny(a, " \t\n") {
			return nil, "", fmt.Errorf("PROGRAM ARGS: %q has whitespace, which gdb cannot pass to the program (it runs it without a shell, so that no shell ever reads your arguments, and splits its arguments at whitespace); rename the file, or link it from a path without spaces", a)
		}
	}
	argv = pyext.PythonArgv(program, pythonFlag)
	underPython := len(argv) > len(program) // a .py PROGRAM
	what := "PROGRAM"
	switch {
	case underPython && pythonFlag == "":
		r, err := interp.DefaultPython(ctx)
		if err != nil {
			return nil, "", fmt.Errorf("no Python to run %s: %w", filepath.Base(program[0]), err)
		}
		argv[0] = r.Info.Executable
		python = fmt.Sprintf("the default Python %s (%s)", r.Info.Executable, r.Via)
		what = python
	case underPython:
		what = "--python"
		python = "--python " + pythonFlag
	}
	exe, err := checkExecutable(ctx, argv[0], what)
	if err != nil {
		return nil, python, err
	}
	argv[0] = exe
	script := ""
	if underPython || interp.IsPythonName(exe) {
		if err := checkLayout(exe); err != nil {
			return nil, python, otherPython(err, python)
		}
		script = scriptArg(argv[1:])
	}
	if script == "" {
		return argv, python, nil
	}
	if err := checkScript(script); err != nil {
		return nil, python, err
	}
	if fi, err := os.Stat(script); err == nil && fi.IsDir() {
		return argv, python, nil // a package with __main__.py
	}
	if err := checkSyntax(exe, script); err != nil {
		return nil, python, err
	}
	return argv, python, nil
}

// otherPython adds to a refusal of the interpreter how to choose another
// when timelens chose it.
func otherPython(err error, python string) error {
	if !strings.HasPrefix(python, "the default Python") {
		return err
	}
	return fmt.Errorf("%w (this is %s; name another interpreter with --python PATH, or after --: timelens doctor lists those it finds)", err, python)
}

// checkLayout refuses, before gdb starts, an interpreter timelens does not
// read (not CPython 3.10-3.14) or whose struct layouts it cannot know: no
// debug symbols, and a build that neither CPython's debug offsets nor a
// built-in table describe (interp.LayoutSource). An interpreter that cannot
// be asked is left to the session to refuse.
func checkLayout(python string) error {
	ctx, cancel := context.WithTimeout(context.Background(), askTimeout)
	defer cancel()
	info, err := interp.Ask(ctx, python)
	if err != nil {
		return nil
	}
	if !info.Supported() {
		return fmt.Errorf("%s is %s, which timelens does not read (it reads %s); use another interpreter (timelens doctor lists those it finds and whether each works)", python, info, interp.SupportedVersions)
	}
	b, err := interp.Inspect(python)
	if err != nil {
		return nil
	}
	_, err = interp.LayoutSource(info, b)
	return err
}

// askTimeout bounds asking an interpreter its version and build.
const askTimeout = 20 * time.Second

// scriptArg is the script in a Python command line's arguments: the first
// argument that is not an option; "" for -c and -m, which run no file.
func scriptArg(args []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-W" || a == "-X":
			i++ // its value
		case strings.HasPrefix(a, "-c") || strings.HasPrefix(a, "-m") || a == "-":
			return ""
		case !strings.HasPrefix(a, "-"):
			return a
		}
	}
	return ""
}

// checkExecutable resolves name on PATH and refuses what gdb cannot run:
// a missing file, a script (#!) that is not a Python launcher, a non-ELF
// file. An interpreter's launcher (a pyenv or asdf shim, named like an
// interpreter) is followed to the interpreter it runs (interp.Resolve); a
// script of another name is never run to ask.
func checkExecutable(ctx context.Context, name, what string) (string, error) {
	exe, err := exec.LookPath(name)
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return "", fmt.Errorf("%s %s: not found on PATH; give the path of the Python interpreter, e.g. -- /usr/bin/python3 app.py", what, name)
		}
		return "", fmt.Errorf("%s %s: %v; give the path of an executable Python interpreter, e.g. -- /usr/bin/python3 app.py", what, name, err)
	}
	if abs, err := filepath.Abs(exe); err == nil {
		exe = abs
	}
	head := readHead(exe, 256)
	if bytes.HasPrefix(head, []byte("#!")) && interp.IsPythonName(exe) {
		actx, cancel := context.WithTimeout(ctx, askTimeout)
		r, err := interp.Resolve(actx, exe)
		cancel()
		if err == nil && r.Info.Executable != exe && bytes.HasPrefix(readHead(r.Info.Executable, 4), []byte("\x7fELF")) {
			return r.Info.Executable, nil // a shim: the interpreter it runs
		}
	}
	switch {
	case bytes.HasPrefix(head, []byte("#!")):
		line, _, _ := bytes.Cut(head, []byte("\n"))
		hint := ""
		if strings.Contains(exe, "/shims/") {
			hint = fmt.Sprintf(" (for this shim: $(pyenv which %s) or $(asdf which %s))", filepath.Base(exe), filepath.Base(exe))
		}
		return "", fmt.Errorf("%s %s is a script (%s), not a program gdb can record; name the Python interpreter binary itself%s",
			what, exe, strings.TrimSpace(string(line)), hint)
	case !bytes.HasPrefix(head, []byte("\x7fELF")):
		return "", fmt.Errorf("%s %s is not an executable binary; name the Python interpreter, e.g. -- /usr/bin/python3 app.py", what, exe)
	}
	return exe, nil
}

// checkScript refuses a Python program that is missing, a directory
// without __main__.py, or binary.
func checkScript(script string) error {
	fi, err := os.Stat(script)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("the Python program %s does not exist; check the path after --", script)
	case err != nil:
		return fmt.Errorf("the Python program %s: %w", script, err)
	case fi.IsDir():
		if _, err := os.Stat(filepath.Join(script, "__main__.py")); err == nil {
			return nil
		}
		return fmt.Errorf("the Python program %s is a directory without __main__.py; name the .py file to run", script)
	}
	if bytes.IndexByte(readHead(script, 8192), 0) >= 0 {
		return fmt.Errorf("%s is not Python source (it is a binary file); name the .py file to run after --", script)
	}
	return nil
}

// checkSyntax compiles the script, without running it, in a separate
// interpreter process (never in the debuggee): a syntax error would stop
// the program before any function runs.
func checkSyntax(python, script string) error {
	cmd := exec.Command(python, "-I", "-c", "import sys; compile(open(sys.argv[1], 'rb').read(), sys.argv[1], 'exec')", script)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return nil // the interpreter could not run here; gdb will say why
		}
		msg := strings.TrimSpace(stderr.String())
		lines := strings.Split(msg, "\n")
		// From the File "...", line N of the source error on.
		for i, l := range lines {
			if strings.Contains(l, "File \""+script) || strings.Contains(l, script+"\", line") {
				lines = lines[i:]
				break
			}
		}
		for i := range lines {
			lines[i] = strings.TrimSpace(lines[i])
		}
		return fmt.Errorf("%s does not compile, so no function of it would run: %s; fix it and start again", script, strings.Join(lines, " | "))
	}
	return nil
}

func readHead(path string, n int) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	buf := make([]byte, n)
	k, _ := io.ReadFull(f, buf)
	return buf[:k]
}

// checkGDBCanRecord refuses a gdb older than 14 on a CPU with AMX, where it
// cannot reverse-execute (it writes a short XSAVE area), before a
// recording fails with gdb's own cryptic text. gdbFlag is --gdb's value,
// "" for gdb on PATH.
func checkGDBCanRecord(gdbFlag string) error {
	gdb := gdbFlag
	if gdb == "" {
		gdb = "gdb"
	}
	v, err := gdbmi.GDBVersion(gdb)
	if err != nil || v.Major == 0 || v.Major >= 14 || !gdbmi.CPUHasAMX() {
		return nil // gdb's own start says what is wrong, if anything
	}
	which := "gdb on PATH is gdb " + v.String()
	if gdbFlag != "" {
		which = fmt.Sprintf("--gdb %s is gdb %s", gdbFlag, v)
	}
	return fmt.Errorf("%s, which cannot reverse-execute on this CPU (it has AMX, and gdb < 14 writes a short XSAVE area): install gdb 14 or newer and put it first on PATH or name it with --gdb PATH, or use another backend (--backend rr|udb); timelens doctor shows what works here", which)
}
