package interp

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// realPython returns a CPython timelens reads, named python3.X, or skips.
func realPython(t *testing.T) (string, Info) {
	t.Helper()
	for n := maxMinor; n >= minMinor; n-- {
		r, err := Resolve(t.Context(), fmt.Sprintf("python3.%d", n))
		if err == nil && r.Info.Supported() {
			return r.Info.Executable, r.Info
		}
	}
	t.Skip("no python3.10 … python3.14 on PATH")
	return "", Info{}
}

// TestDefaultPythonFollowsAShim: python3 on PATH is a launcher script, as
// pyenv's and asdf's shims are; the default Python is the interpreter it
// runs, which gdb can record.
func TestDefaultPythonFollowsAShim(t *testing.T) {
	py, info := realPython(t)
	dir := t.TempDir()
	shim := filepath.Join(dir, "python3")
	if err := os.WriteFile(shim, []byte("#!/bin/sh\nexec "+py+" \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	r, err := DefaultPython(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if r.Path != shim || r.Info.Executable != py || r.Via != "python3 on PATH" || r.Info.Version != info.Version {
		t.Errorf("default Python behind a shim: %+v; want %s (python3 on PATH)", r, py)
	}
}

// TestDefaultPythonSkipsAnUnreadOne: python3 is not a CPython timelens
// reads (here a launcher of a PyPy-like interpreter that says so); the
// newest python3.X on PATH that is one is the default, and Via says why.
func TestDefaultPythonSkipsAnUnreadOne(t *testing.T) {
	py, info := realPython(t)
	dir := t.TempDir()
	fake := `#!/bin/sh
echo '{"executable": "/opt/pypy/bin/pypy3", "version": "3.10.14", "major": 3, "minor": 10, "implementation": "pypy"}'
`
	if err := os.WriteFile(filepath.Join(dir, "python3"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("python3.%d", info.Minor)
	if err := os.Symlink(py, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	r, err := DefaultPython(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := name + " on PATH; python3 on PATH is PyPy 3.10.14 (/opt/pypy/bin/pypy3), which timelens does not read"; r.Via != want {
		t.Errorf("Via %q, want %q", r.Via, want)
	}
	// Without it, the error says what python3 is and what to do.
	os.Remove(filepath.Join(dir, name))
	_, err = DefaultPython(t.Context())
	if err == nil || !strings.Contains(err.Error(), "python3 on PATH is PyPy 3.10.14") || !strings.Contains(err.Error(), "--python PATH") {
		t.Errorf("no supported Python: %v", err)
	}
}
