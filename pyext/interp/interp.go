// Package interp finds the CPython interpreters of this machine and says
// what timelens needs to know of each before it debugs one: its version,
// whether its code is in the executable (a static build, as Debian's) or in
// a shared libpython (pyenv, Fedora, many containers), and where the debug
// symbols of that code are (DWARF in the file, or a separate file found by
// build id or debug link, as Debian's python3.X-dbg installs).
//
// Whether timelens can navigate an interpreter is not decided here: only a
// real session says that (session.Probe).
package interp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/timelens/timelens/pyext"
)

// Minor versions of CPython 3 looked for on PATH and in pyenv.
const minMinor, maxMinor = 10, 14

// pythonName matches interpreter names: python, python3, python3.13, python3.13d.
var pythonName = regexp.MustCompile(`^python[0-9.]*[a-z]?$`)

// IsPythonName says whether a file name is an interpreter's (python3.13).
func IsPythonName(name string) bool { return pythonName.MatchString(filepath.Base(name)) }

// Candidate is a place an interpreter may be, and how it was found.
type Candidate struct {
	// Path is the file: absolute, a pyenv shim or a link as found.
	Path string
	// Via says how it was found: "--python", "program", "PATH", "pyenv".
	Via string
}

// Candidates lists the places interpreters may be, in this order: python
// (--python), the program's interpreter (PROGRAM ARGS: the interpreter a
// .py program runs under, or the program itself when it is named like
// one), python3 and python3.10 … python3.14 on PATH, and pyenv's versions
// ($PYENV_ROOT, else ~/.pyenv). A path found twice is listed once.
func Candidates(python string, program []string) []Candidate {
	var out []Candidate
	seen := map[string]bool{}
	add := func(name, via string) {
		if name == "" {
			return
		}
		p, err := exec.LookPath(name)
		if err != nil {
			if !strings.Contains(name, "/") {
				return
			}
			p = name // a path that is not there: say so when asked
		}
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, Candidate{Path: p, Via: via})
		}
	}
	add(python, "--python")
	if len(program) > 0 {
		if argv := pyext.PythonArgv(program, python); IsPythonName(argv[0]) || len(argv) > len(program) {
			add(argv[0], "program")
		}
	}
	add("python3", "PATH")
	for n := minMinor; n <= maxMinor; n++ {
		add(fmt.Sprintf("python3.%d", n), "PATH")
	}
	root := os.Getenv("PYENV_ROOT")
	if root == "" {
		if home, err := os.UserHomeDir(); err == nil {
			root = filepath.Join(home, ".pyenv")
		}
	}
	if root != "" {
		versions, _ := filepath.Glob(filepath.Join(root, "versions", "*", "bin", "python3.*"))
		slices.Sort(versions)
		for _, p := range versions {
			var n int
			if _, err := fmt.Sscanf(filepath.Base(p), "python3.%d", &n); err == nil && n >= minMinor && n <= maxMinor &&
				filepath.Base(p) == fmt.Sprintf("python3.%d", n) {
				add(p, "pyenv")
			}
		}
	}
	return out
}

// Info is what an interpreter says about itself.
type Info struct {
	// Executable is sys.executable: the interpreter itself, where the
	// candidate was a launcher (a pyenv shim).
	Executable     string `json:"executable"`
	Version        string `json:"version"`
	Major          int    `json:"major"`
	Minor          int    `json:"minor"`
	Implementation string `json:"implementation"`
	CFlags         string `json:"cflags"`
	PyDebug        bool   `json:"pydebug"`
	// ABIFlags is sys.abiflags: "t" for a free-threaded build, "d" for a
	// debug build.
	ABIFlags string `json:"abiflags"`
	// GILDisabled says the build is free-threaded (Py_GIL_DISABLED).
	GILDisabled bool `json:"gil_disabled"`
}

// askScript prints Info as JSON.
const askScript = `import json, sys, sysconfig
print(json.dumps({"executable": sys.executable, "version": "%d.%d.%d" % sys.version_info[:3],
 "major": sys.version_info[0], "minor": sys.version_info[1],
 "implementation": sys.implementation.name, "cflags": sysconfig.get_config_var("CFLAGS") or "",
 "pydebug": bool(sysconfig.get_config_var("Py_DEBUG")), "abiflags": getattr(sys, "abiflags", ""),
 "gil_disabled": bool(sysconfig.get_config_var("Py_GIL_DISABLED"))}))`

// Ask runs the interpreter (isolated, -I) to learn its version and build
// flags, within ctx.
func Ask(ctx context.Context, exe string) (Info, error) {
	cmd := exec.CommandContext(ctx, exe, "-I", "-c", askScript)
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	text := strings.TrimSpace(string(out))
	first, _, _ := strings.Cut(text, "\n")
	last := text[strings.LastIndexByte(text, '\n')+1:]
	switch {
	case ctx.Err() != nil:
		return Info{}, fmt.Errorf("%s did not say its version in time", exe)
	case err != nil:
		return Info{}, fmt.Errorf("%s: %v: %s", exe, err, strings.TrimSpace(first))
	}
	var i Info
	if err := json.Unmarshal([]byte(last), &i); err != nil || i.Executable == "" {
		if text == "" {
			return Info{}, fmt.Errorf("%s printed nothing when asked its version; is it a Python interpreter?", exe)
		}
		return Info{}, fmt.Errorf("%s: cannot read what it says about itself: %q", exe, last)
	}
	return i, nil
}

// Optimization says how the interpreter was compiled: "optimized (-O3)",
// "not optimized", "debug build (Py_DEBUG)".
func (i Info) Optimization() string {
	if i.PyDebug {
		return "debug build (Py_DEBUG)"
	}
	level := ""
	for _, f := range strings.Fields(i.CFlags) {
		if strings.HasPrefix(f, "-O") {
			level = f
		}
	}
	if level == "" || level == "-O0" {
		return "not optimized"
	}
	return "optimized (" + level + ")"
}

// ErrNotELF means a file is not an executable timelens can inspect (a
// script, such as a pyenv shim, or another format).
var ErrNotELF = errors.New("not an ELF executable")
