package interp

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// Resolved is an interpreter found by name or path and asked what it is.
type Resolved struct {
	// Name is how it was named: "python3", a path.
	Name string
	// Path is where the name led: absolute, maybe a pyenv or asdf shim or
	// a link.
	Path string
	// Info is what the interpreter said about itself. Its Executable is
	// the interpreter a shim runs; a virtual environment's python is
	// itself, so that running it keeps the environment.
	Info Info
	// Via says how it was chosen, for messages: "python3 on PATH",
	// "python3.13 on PATH, python3 being CPython 3.9.2".
	Via string
}

// Real is the interpreter's file, with links resolved (as doctor lists it).
func (r Resolved) Real() string {
	if real, err := filepath.EvalSymlinks(r.Info.Executable); err == nil {
		return real
	}
	return r.Info.Executable
}

// Resolve finds name (a path, or a name on PATH) and asks it what it is
// (Ask, within ctx): a pyenv or asdf shim, a script that execs an
// interpreter, comes back as the interpreter it runs.
func Resolve(ctx context.Context, name string) (Resolved, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return Resolved{Name: name}, err
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	r := Resolved{Name: name, Path: p}
	if r.Info, err = Ask(ctx, p); err != nil {
		return r, err
	}
	if !filepath.IsAbs(r.Info.Executable) {
		return r, fmt.Errorf("%s does not say where its executable is (sys.executable is %q)", p, r.Info.Executable)
	}
	return r, nil
}

// Supported says whether timelens reads the interpreter: CPython 3.10
// to 3.14.
func (i Info) Supported() bool {
	return i.Implementation == "cpython" && i.Major == 3 && i.Minor >= minMinor && i.Minor <= maxMinor
}

// String names the interpreter as messages do: "CPython 3.13.5", "PyPy 3.10.14".
func (i Info) String() string {
	impl := i.Implementation
	switch impl {
	case "cpython":
		impl = "CPython"
	case "pypy":
		impl = "PyPy"
	}
	return impl + " " + i.Version
}

// DefaultName is what a .py program runs under when no interpreter is
// named, before DefaultPython looks further.
const DefaultName = "python3"

// SupportedVersions says which interpreters timelens reads, for messages.
var SupportedVersions = fmt.Sprintf("CPython 3.%d-3.%d", minMinor, maxMinor)

// DefaultPython is the interpreter a .py program runs under when none is
// named (timelens's --python, doctor's "default" mark): python3 on PATH,
// a shim followed to the interpreter it runs, when it is a CPython that
// timelens reads; else the newest of python3.14 … python3.10 on PATH that
// is one. The error says what python3 is and what to do.
func DefaultPython(ctx context.Context) (Resolved, error) {
	first, err := Resolve(ctx, DefaultName)
	if err == nil && first.Info.Supported() {
		first.Via = DefaultName + " on PATH"
		return first, nil
	}
	var python3 string // what python3 is, when it is not one
	switch {
	case errors.Is(err, exec.ErrNotFound):
		python3 = DefaultName + " is not on PATH"
	case err != nil:
		python3 = fmt.Sprintf("%s on PATH (%s) does not run (%s)", DefaultName, first.Path, firstLine(err))
	default:
		python3 = fmt.Sprintf("%s on PATH is %s (%s), which timelens does not read", DefaultName, first.Info, first.Info.Executable)
	}
	for n := maxMinor; n >= minMinor; n-- {
		r, err := Resolve(ctx, fmt.Sprintf("python3.%d", n))
		if err == nil && r.Info.Supported() {
			r.Via = fmt.Sprintf("python3.%d on PATH; %s", n, python3)
			return r, nil
		}
	}
	return Resolved{}, &NoPythonError{What: fmt.Sprintf("%s, and no python3.%d … python3.%d on PATH is %s", python3, maxMinor, minMinor, SupportedVersions)}
}

// NoPythonError means there is no interpreter to run a .py program with.
type NoPythonError struct {
	// What says what python3 and python3.X on PATH are.
	What string
}

func (e *NoPythonError) Error() string {
	return e.What + "; install " + SupportedVersions + " (Debian/Ubuntu: apt-get install python3) or name an interpreter with --python PATH (timelens doctor lists those it finds)"
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
