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
// command to run (pyext.PythonArgv: a .py PROGRAM under python), with the
// executable resolved to an absolute path (gdb does not search PATH).
func checkProgram(program []string, python string) ([]string, error) {
	for _, a := range program {
		if strings.ContainsAny(a, " \t\n") {
			return nil, fmt.Errorf("PROGRAM ARGS: %q has whitespace, which gdb cannot pass to the program (it runs it without a shell, so that no shell ever reads your arguments, and splits its arguments at whitespace); rename the file, or link it from a path without spaces", a)
		}
	}
	argv := pyext.PythonArgv(program, python)
	underPython := len(argv) > len(program) // a .py PROGRAM, under --python
	what := "PROGRAM"
	if underPython {
		what = "--python"
	}
	exe, err := checkExecutable(argv[0], what)
	if err != nil {
		return nil, err
	}
	argv[0] = exe
	script := ""
	if underPython || interp.IsPythonName(exe) {
		if err := checkLayout(exe); err != nil {
			return nil, err
		}
		script = scriptArg(argv[1:])
	}
	if script == "" {
		return argv, nil
	}
	if err := checkScript(script); err != nil {
		return nil, err
	}
	if fi, err := os.Stat(script); err == nil && fi.IsDir() {
		return argv, nil // a package with __main__.py
	}
	if err := checkSyntax(exe, script); err != nil {
		return nil, err
	}
	return argv, nil
}

// checkLayout refuses, before gdb starts, an interpreter whose struct
// layouts timelens cannot know: no debug symbols, and a build that neither
// CPython's debug offsets nor a built-in table describe (interp.LayoutSource).
// An interpreter that cannot be asked is left to the session to refuse.
func checkLayout(python string) error {
	ctx, cancel := context.WithTimeout(context.Background(), askTimeout)
	defer cancel()
	info, err := interp.Ask(ctx, python)
	if err != nil || info.Implementation != "cpython" {
		return nil
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
// a missing file, a script (#!, such as a pyenv shim), a non-ELF file.
func checkExecutable(name, what string) (string, error) {
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
	switch {
	case bytes.HasPrefix(head, []byte("#!")):
		line, _, _ := bytes.Cut(head, []byte("\n"))
		hint := ""
		if strings.Contains(exe, "/shims/") {
			hint = fmt.Sprintf(" (for this pyenv shim: $(pyenv which %s))", filepath.Base(exe))
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
// recording fails with gdb's own cryptic text.
func checkGDBCanRecord(gdb string) error {
	if gdb == "" {
		gdb = "gdb"
	}
	v, err := gdbmi.GDBVersion(gdb)
	if err != nil || v.Major == 0 || v.Major >= 14 || !gdbmi.CPUHasAMX() {
		return nil // gdb's own start says what is wrong, if anything
	}
	return fmt.Errorf("gdb %s cannot reverse-execute on this CPU (it has AMX, and gdb < 14 writes a short XSAVE area): install gdb 14 or newer and name it with --gdb, or use --backend rr|udb (timelens doctor shows what works here)", v)
}
