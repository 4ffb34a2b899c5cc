package interp

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Build is what an interpreter's ELF files say about it.
type Build struct {
	// Executable is the interpreter's file, links resolved.
	Executable string
	// Shared says the interpreter's code is in a shared libpython (the
	// executable needs libpython3.N.so), not in the executable itself.
	Shared bool
	// Libpython is the libpython the executable loads, resolved through its
	// RUNPATH (or RPATH, $ORIGIN expanded), LD_LIBRARY_PATH and the system's
	// library directories; empty for a static build, or when it is not found
	// (Problem says so).
	Libpython string
	// DebugSymbols is where the debug symbols of the interpreter's code are:
	// the code's file itself (DWARF in it), or a separate debug file found by
	// build id (/usr/lib/debug/.build-id/xx/yyyy.debug) or debug link.
	// Empty when there are none.
	DebugSymbols string
	// Problem says what could not be read, if anything.
	Problem string
}

// Code is the file holding the interpreter's code: libpython for a shared
// build, else the executable.
func (b Build) Code() string {
	if b.Shared {
		return b.Libpython
	}
	return b.Executable
}

// libpythonName matches the shared library of a CPython 3 build.
var libpythonName = regexp.MustCompile(`^libpython3\.\d+[a-z]*\.so`)

// debugRoot is where distributions install separate debug files.
var debugRoot = "/usr/lib/debug"

// Inspect reads the interpreter's ELF files: the executable, and the
// libpython it needs, if any. It runs nothing.
func Inspect(exe string) (Build, error) {
	real, err := filepath.EvalSymlinks(exe)
	if err != nil {
		return Build{}, err
	}
	if real, err = filepath.Abs(real); err != nil {
		return Build{}, err
	}
	b := Build{Executable: real}
	f, err := elf.Open(real)
	if err != nil {
		return b, fmt.Errorf("%s: %w (%v)", exe, ErrNotELF, err)
	}
	defer f.Close()
	libs, _ := f.ImportedLibraries()
	for _, lib := range libs {
		if !libpythonName.MatchString(lib) {
			continue
		}
		b.Shared = true
		if b.Libpython = findLibrary(lib, real, f); b.Libpython == "" {
			b.Problem = fmt.Sprintf("%s needs %s, which is in none of its library directories", real, lib)
			return b, nil
		}
		break
	}
	b.DebugSymbols = debugSymbols(b.Code())
	return b, nil
}

// findLibrary finds a DT_NEEDED library as the dynamic loader does, for
// the executable exe: its RPATH when it has no RUNPATH, LD_LIBRARY_PATH,
// its RUNPATH, then the system's directories (ld.so.conf and the defaults).
// ld.so.cache is not read: the directories it caches are those.
func findLibrary(name, exe string, f *elf.File) string {
	origin := filepath.Dir(exe)
	expand := func(list []string) []string {
		var dirs []string
		for _, l := range list {
			for _, d := range filepath.SplitList(l) {
				d = strings.NewReplacer("${ORIGIN}", origin, "$ORIGIN", origin).Replace(d)
				if d != "" {
					dirs = append(dirs, d)
				}
			}
		}
		return dirs
	}
	runpath, _ := f.DynString(elf.DT_RUNPATH)
	var dirs []string
	if len(runpath) == 0 {
		rpath, _ := f.DynString(elf.DT_RPATH)
		dirs = append(dirs, expand(rpath)...)
	}
	dirs = append(dirs, expand([]string{os.Getenv("LD_LIBRARY_PATH")})...)
	dirs = append(dirs, expand(runpath)...)
	dirs = append(dirs, systemLibraryDirs(f.Machine)...)
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			if real, err := filepath.EvalSymlinks(p); err == nil {
				return real
			}
			return p
		}
	}
	return ""
}

// systemLibraryDirs are the directories of /etc/ld.so.conf (and the files
// it includes), then the defaults, multiarch ones first.
func systemLibraryDirs(m elf.Machine) []string {
	var dirs []string
	var read func(path string, depth int)
	read = func(path string, depth int) {
		f, err := os.Open(path)
		if err != nil || depth > 4 {
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line, _, _ := strings.Cut(sc.Text(), "#")
			line = strings.TrimSpace(line)
			switch {
			case line == "":
			case strings.HasPrefix(line, "include "):
				pattern := strings.TrimSpace(strings.TrimPrefix(line, "include "))
				if !filepath.IsAbs(pattern) {
					pattern = filepath.Join(filepath.Dir(path), pattern)
				}
				matches, _ := filepath.Glob(pattern)
				for _, m := range matches {
					read(m, depth+1)
				}
			default:
				dirs = append(dirs, line)
			}
		}
	}
	read("/etc/ld.so.conf", 0)
	triplet := map[elf.Machine]string{elf.EM_X86_64: "x86_64-linux-gnu", elf.EM_AARCH64: "aarch64-linux-gnu", elf.EM_386: "i386-linux-gnu"}[m]
	if triplet != "" {
		dirs = append(dirs, "/lib/"+triplet, "/usr/lib/"+triplet)
	}
	return append(dirs, "/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib")
}

// debugSymbols says where the debug symbols of the ELF file path are: the
// file itself, a separate debug file by build id or by debug link, or "".
func debugSymbols(path string) string {
	f, err := elf.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if hasDWARF(f) {
		return path
	}
	var candidates []string
	if id := buildID(f); id != "" {
		candidates = append(candidates, filepath.Join(debugRoot, ".build-id", id[:2], id[2:]+".debug"))
	}
	if s := f.Section(".gnu_debuglink"); s != nil {
		if data, err := s.Data(); err == nil {
			if name, _, ok := bytes.Cut(data, []byte{0}); ok && len(name) > 0 {
				dir := filepath.Dir(path)
				candidates = append(candidates,
					filepath.Join(dir, string(name)),
					filepath.Join(dir, ".debug", string(name)),
					filepath.Join(debugRoot, dir, string(name)))
			}
		}
	}
	for _, c := range candidates {
		if c == path {
			continue
		}
		if df, err := elf.Open(c); err == nil {
			ok := hasDWARF(df)
			df.Close()
			if ok {
				return c
			}
		}
	}
	return ""
}

// hasDWARF says whether the file carries debug information of its own.
func hasDWARF(f *elf.File) bool {
	for _, name := range []string{".debug_info", ".zdebug_info"} {
		if s := f.Section(name); s != nil && s.Type != elf.SHT_NOBITS && s.Size > 0 {
			return true
		}
	}
	return false
}

// buildID reads the GNU build id note, in hex; "" when there is none.
func buildID(f *elf.File) string {
	for _, s := range f.Sections {
		if s.Type != elf.SHT_NOTE {
			continue
		}
		data, err := s.Data()
		if err != nil {
			continue
		}
		order := f.ByteOrder
		for len(data) >= 12 {
			namesz, descsz, typ := order.Uint32(data), order.Uint32(data[4:]), order.Uint32(data[8:])
			nameEnd := 12 + align4(namesz)
			descEnd := nameEnd + align4(descsz)
			if uint64(len(data)) < descEnd {
				break
			}
			name := data[12 : 12+namesz]
			if typ == ntGNUBuildID && bytes.Equal(bytes.TrimRight(name, "\x00"), []byte("GNU")) && descsz > 1 {
				return hex.EncodeToString(data[nameEnd : nameEnd+uint64(descsz)])
			}
			data = data[descEnd:]
		}
	}
	return ""
}

func align4(n uint32) uint64 { return (uint64(n) + 3) &^ 3 }

// ntGNUBuildID is the type of the GNU build id note (elf.h NT_GNU_BUILD_ID).
const ntGNUBuildID = 3
