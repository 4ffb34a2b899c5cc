package gdbtest

import (
	"debug/elf"
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
// through an absolute RUNPATH) gets its libpython stripped beside it and
// its standard library linked from the original; env is what the copy
// needs in its environment to load that libpython (LD_LIBRARY_PATH, which
// RUNPATH yields to). The copy lives in t's temporary directory.
func StrippedPython(t testing.TB, python string) (exe string, env []string) {
	t.Helper()
	strip, err := exec.LookPath("strip")
	if err != nil {
		SkipOrFail(t, "making a Python without debug info needs strip (binutils)")
	}
	real, err := filepath.EvalSymlinks(python)
	if err != nil {
		SkipOrFail(t, "%s: %v", python, err)
	}
	dir := t.TempDir()
	run := func(in, out string) {
		t.Helper()
		args := []string{"--strip-all", "--remove-section=.note.gnu.build-id", "--remove-section=.gnu_debuglink", "-o", out, in}
		if b, err := exec.Command(strip, args...).CombinedOutput(); err != nil {
			t.Fatalf("strip %s: %v\n%s", in, err, b)
		}
	}
	f, err := elf.Open(real)
	if err != nil {
		t.Fatalf("%s: %v", real, err)
	}
	libs, _ := f.ImportedLibraries()
	f.Close()
	lib := ""
	for _, l := range libs {
		if strings.HasPrefix(l, "libpython3") {
			lib = l
		}
	}
	if lib == "" {
		exe = filepath.Join(dir, filepath.Base(real))
		run(real, exe)
		return exe, nil
	}
	// A shared build: prefix/bin/python3.X and prefix/lib/libpython3.X.so.
	prefix := filepath.Dir(filepath.Dir(real))
	for _, d := range []string{"bin", "lib"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	exe = filepath.Join(dir, "bin", filepath.Base(real))
	run(real, exe)
	run(filepath.Join(prefix, "lib", lib), filepath.Join(dir, "lib", lib))
	entries, _ := os.ReadDir(filepath.Join(prefix, "lib"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "python3") { // the standard library
			if err := os.Symlink(filepath.Join(prefix, "lib", e.Name()), filepath.Join(dir, "lib", e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	return exe, []string{"LD_LIBRARY_PATH=" + filepath.Join(dir, "lib")}
}
