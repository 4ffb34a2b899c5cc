package pyext

import (
	"os"
	"strings"
	"testing"
)

// projectPython is one CPython that every machine of the project has (FACTS.md),
// in the test root that runs it: pyenv's builds (libpython shared, -g -O3,
// computed gotos; /root/.pyenv is bound into the roots) and the distributions'
// (a static interpreter, debug symbols in /usr/lib/debug).
type projectPython struct {
	Label string // how the tests name it
	Path  string
	Suite string // trixie (gdb 16) or sid (gdb 18)
	// Debug builds (python3.Xd) read values like the others; the navigation
	// tests leave them out, as their optimized twins cover the same code.
	Debug bool
}

var projectPythons = []projectPython{
	{Label: "3.10-pyenv", Path: "/root/.pyenv/versions/3.10.13/bin/python3.10", Suite: "trixie"},
	{Label: "3.11-pyenv", Path: "/root/.pyenv/versions/3.11.7/bin/python3.11", Suite: "trixie"},
	{Label: "3.11-bookworm", Path: "/usr/bin/python3.11", Suite: "trixie"},
	{Label: "3.12-pyenv", Path: "/root/.pyenv/versions/3.12.1/bin/python3.12", Suite: "trixie"},
	{Label: "3.13-pyenv", Path: "/root/.pyenv/versions/3.13.0/bin/python3.13", Suite: "trixie"},
	{Label: "3.13-trixie", Path: "/usr/bin/python3.13", Suite: "trixie"},
	{Label: "3.13d-trixie", Path: "/usr/bin/python3.13d", Suite: "trixie", Debug: true},
	{Label: "3.14-sid", Path: "/usr/bin/python3.14", Suite: "sid"},
	{Label: "3.14d-sid", Path: "/usr/bin/python3.14d", Suite: "sid", Debug: true},
}

// suite is the test root these tests run in ($TIMELENS_SUITE, set by
// scripts/root-tests; trixie when unset).
func suite() string {
	if s := os.Getenv("TIMELENS_SUITE"); s != "" {
		return s
	}
	return "trixie"
}

// suitePythons returns the project's interpreters of this test root, or those
// $TIMELENS_PYTHONS lists (comma separated paths). One that is missing is
// skipped with a line saying so, and fails the test where debuggers are
// required (the roots, CI): every machine of the project has them.
func suitePythons(t testing.TB, withDebug bool) []projectPython {
	t.Helper()
	var list []projectPython
	if env := os.Getenv("TIMELENS_PYTHONS"); env != "" {
		for _, p := range strings.Split(env, ",") {
			list = append(list, projectPython{Label: labelOf(p), Path: p, Suite: suite()})
		}
	} else {
		for _, p := range projectPythons {
			if p.Suite == suite() && (withDebug || !p.Debug) {
				list = append(list, p)
			}
		}
	}
	var out []projectPython
	for _, p := range list {
		if _, err := os.Stat(p.Path); err != nil {
			if requireDebugger() {
				t.Errorf("%s: %s is missing, and every machine of the project has it (pyenv builds in /root/.pyenv, Debian's in the %s root)", p.Label, p.Path, p.Suite)
			} else {
				t.Logf("skipped %s: %s is not on this machine", p.Label, p.Path)
			}
			continue
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		skipOrFail(t, "no CPython of the %s root found (set TIMELENS_PYTHONS)", suite())
	}
	return out
}

// labelOf names an interpreter given by path: the project's label when it is
// one of them, else the path.
func labelOf(path string) string {
	for _, p := range projectPythons {
		if p.Path == path {
			return p.Label
		}
	}
	return strings.ReplaceAll(strings.TrimPrefix(path, "/"), "/", "_")
}
