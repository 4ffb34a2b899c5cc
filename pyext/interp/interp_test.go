package interp

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/timelens/timelens/gdbmi/gdbtest"
)

// TestInspectPyenvBuilds: the pyenv builds every machine of the project
// carries (built with -g, libpython shared, found through the build's
// RUNPATH) are shared builds whose debug symbols are DWARF in libpython.
func TestInspectPyenvBuilds(t *testing.T) {
	for _, v := range []string{"3.10.13", "3.11.7", "3.12.1", "3.13.0"} {
		minor := strings.Join(strings.Split(v, ".")[:2], ".")
		exe := filepath.Join("/root/.pyenv/versions", v, "bin", "python"+minor)
		if _, err := os.Stat(exe); err != nil {
			gdbtest.SkipOrFail(t, "no pyenv build %s: %v", v, err)
		}
		b, err := Inspect(exe)
		if err != nil {
			t.Fatalf("%s: %v", exe, err)
		}
		lib := filepath.Join("/root/.pyenv/versions", v, "lib", "libpython"+minor+".so.1.0")
		if !b.Shared || b.Libpython != lib || b.Code() != lib || b.DebugSymbols != lib || b.Problem != "" {
			t.Errorf("%s: %+v; want shared, libpython %s with its debug symbols in it", exe, b, lib)
		}
	}
}

// TestInspectDebianPython: Debian's python3.13 (the trixie root's) is a
// static build whose debug symbols python3.13-dbg installs apart, found by
// build id.
func TestInspectDebianPython(t *testing.T) {
	exe := "/usr/bin/python3.13"
	if _, err := os.Stat(filepath.Join(debugRoot, ".build-id")); err != nil {
		gdbtest.SkipOrFail(t, "no Debian python3.13 with its -dbg package here (the trixie root has it): %v", err)
	}
	if _, err := os.Stat(exe); err != nil {
		gdbtest.SkipOrFail(t, "no %s here (the trixie root has it)", exe)
	}
	b, err := Inspect(exe)
	if err != nil {
		t.Fatal(err)
	}
	if b.Shared || b.Libpython != "" || b.Code() != exe {
		t.Errorf("%s: %+v; want a static build", exe, b)
	}
	if !strings.HasPrefix(b.DebugSymbols, filepath.Join(debugRoot, ".build-id")+"/") || !strings.HasSuffix(b.DebugSymbols, ".debug") {
		t.Errorf("%s: debug symbols %q; want the build-id file under %s", exe, b.DebugSymbols, debugRoot)
	}
	t.Logf("%s: %+v", exe, b)
}

// TestInspectWithoutSymbols: an executable built with -g (a pyenv build's
// python3.X: DWARF for its main) has debug symbols in itself; a copy
// stripped of them, of its build id and debug link has none; a script (a
// pyenv shim) is not an ELF file.
func TestInspectWithoutSymbols(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "python3")
	os.WriteFile(script, []byte("#!/usr/bin/env bash\nexec pyenv exec python3 \"$@\"\n"), 0o755)
	if _, err := Inspect(script); !errors.Is(err, ErrNotELF) {
		t.Errorf("a shim script: %v, want %v", err, ErrNotELF)
	}
	exe := "/root/.pyenv/versions/3.12.1/bin/python3.12"
	if _, err := os.Stat(exe); err != nil {
		gdbtest.SkipOrFail(t, "no pyenv build 3.12.1: %v", err)
	}
	if got := debugSymbols(exe); got != exe {
		t.Errorf("debug symbols of %s: %q, want in itself", exe, got)
	}
	strip, err := exec.LookPath("strip")
	if err != nil {
		gdbtest.SkipOrFail(t, "needs strip")
	}
	bare := filepath.Join(dir, "python3.12")
	if out, err := exec.Command(strip, "--strip-debug", "--remove-section=.note.gnu.build-id", "--remove-section=.gnu_debuglink", "-o", bare, exe).CombinedOutput(); err != nil {
		t.Fatalf("strip: %v\n%s", err, out)
	}
	if got := debugSymbols(bare); got != "" {
		t.Errorf("a stripped copy of %s has debug symbols in %q", exe, got)
	}
}

// TestCandidates: --python comes first, then the program's interpreter,
// then PATH and pyenv; a file found twice is listed once.
func TestCandidates(t *testing.T) {
	dir := t.TempDir()
	mk := func(path string) string {
		os.MkdirAll(filepath.Dir(path), 0o755)
		os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755)
		return path
	}
	onPath := mk(filepath.Join(dir, "bin", "python3.12"))
	mk(filepath.Join(dir, "bin", "python3"))
	mk(filepath.Join(dir, "bin", "python3.9"))
	pyenv := mk(filepath.Join(dir, "pyenv", "versions", "3.11.7", "bin", "python3.11"))
	mk(filepath.Join(dir, "pyenv", "versions", "3.8.18", "bin", "python3.8"))
	mk(filepath.Join(dir, "pyenv", "versions", "3.11.7", "bin", "python3.11-config"))
	given := mk(filepath.Join(dir, "opt", "python"))
	t.Setenv("PATH", filepath.Join(dir, "bin"))
	t.Setenv("PYENV_ROOT", filepath.Join(dir, "pyenv"))

	got := Candidates(given, []string{"python3.12", "app.py"})
	want := []Candidate{
		{given, "--python"},
		{onPath, "program"},
		{filepath.Join(dir, "bin", "python3"), "PATH"},
		{pyenv, "pyenv"},
	}
	if len(got) != len(want) {
		t.Fatalf("Candidates = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("candidate %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	// A .py program runs under --python, which is listed once.
	if got := Candidates(given, []string{"app.py"}); got[0] != (Candidate{given, "--python"}) || got[1].Via == "program" {
		t.Errorf("a .py program: %+v", got)
	}
}

// TestAsk: the interpreter says its version and build flags.
func TestAsk(t *testing.T) {
	py := gdbtest.AnyPython(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	i, err := Ask(ctx, py)
	if err != nil || i.Implementation != "cpython" || i.Major != 3 || !strings.HasPrefix(i.Version, "3.") {
		t.Fatalf("Ask(%s) = %+v, %v", py, i, err)
	}
	if _, err := Ask(ctx, "/bin/true"); err == nil || !strings.Contains(err.Error(), "printed nothing") {
		t.Errorf("Ask(/bin/true): %v", err)
	}
}
