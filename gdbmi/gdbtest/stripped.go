package gdbtest

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// StrippedPython makes a copy of the interpreter python without debug
// information, as uv's, Docker's and distributions' Pythons without their
// -dbg packages are: `strip --strip-all` (no DWARF, no .symtab: only the
// dynamic symbols stay), without the build id and debug link by which gdb
// would find a separate debug file. A shared build (pyenv's: libpython
// through an absolute RUNPATH) gets its libpython stripped beside it, its
// standard library linked from the original, and its RUNPATH rewritten in
// place to $ORIGIN/../lib, so that the copy needs no environment. The copy
// lives in t's temporary directory.
func StrippedPython(t testing.TB, python string) string {
	t.Helper()
	exe, err := strippedCopy(python, t.TempDir())
	if err != nil {
		SkipOrFail(t, "a copy of %s without debug info: %v", python, err)
	}
	return exe
}

func strippedCopy(python, dir string) (string, error) {
	strip, err := exec.LookPath("strip")
	if err != nil {
		return "", fmt.Errorf("needs strip (binutils): %w", err)
	}
	real, err := filepath.EvalSymlinks(python)
	if err != nil {
		return "", err
	}
	run := func(in, out string) error {
		args := []string{"--strip-all", "--remove-section=.note.gnu.build-id", "--remove-section=.gnu_debuglink", "-o", out, in}
		if b, err := exec.Command(strip, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("strip %s: %v: %s", in, err, b)
		}
		return nil
	}
	f, err := elf.Open(real)
	if err != nil {
		return "", err
	}
	libs, _ := f.ImportedLibraries()
	runpath, _ := f.DynString(elf.DT_RUNPATH)
	f.Close()
	lib := ""
	for _, l := range libs {
		if strings.HasPrefix(l, "libpython3") {
			lib = l
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if lib == "" {
		exe := filepath.Join(dir, filepath.Base(real))
		return exe, run(real, exe)
	}
	// A shared build: prefix/bin/python3.X and prefix/lib/libpython3.X.so.
	prefix := filepath.Dir(filepath.Dir(real))
	for _, d := range []string{"bin", "lib"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return "", err
		}
	}
	exe := filepath.Join(dir, "bin", filepath.Base(real))
	if err := run(real, exe); err != nil {
		return "", err
	}
	if err := run(filepath.Join(prefix, "lib", lib), filepath.Join(dir, "lib", lib)); err != nil {
		return "", err
	}
	if len(runpath) != 1 {
		return "", fmt.Errorf("%s needs %s but has RUNPATH %q, not one directory", real, lib, runpath)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		return "", err
	}
	old := append([]byte(runpath[0]), 0)
	const origin = "$ORIGIN/../lib"
	if bytes.Count(b, old) != 1 || len(runpath[0]) < len(origin) {
		return "", fmt.Errorf("cannot rewrite the RUNPATH %q of %s in place", runpath[0], exe)
	}
	i := bytes.Index(b, old)
	copy(b[i:i+len(old)], append([]byte(origin), make([]byte, len(old)-len(origin))...))
	if err := os.WriteFile(exe, b, 0o755); err != nil {
		return "", err
	}
	entries, _ := os.ReadDir(filepath.Join(prefix, "lib"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "python3") { // the standard library
			if err := os.Symlink(filepath.Join(prefix, "lib", e.Name()), filepath.Join(dir, "lib", e.Name())); err != nil {
				return "", err
			}
		}
	}
	return exe, nil
}
