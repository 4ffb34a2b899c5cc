package interp

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/timelens/timelens/pyext"
)

// Where the gdb side finds an interpreter's struct layouts (it says the
// same in -timelens-layout): its debug info when it has some, else the
// layout CPython 3.13+ publishes in its own memory (_Py_DebugOffsets), else
// the built-in table of its minor version ("built-in table for 3.12").
const (
	LayoutDebugInfo    = "debug info"
	LayoutDebugOffsets = "CPython's debug offsets"
)

// ErrNoLayout means timelens cannot know an interpreter's struct layouts:
// it has no debug symbols, and it is a build that neither CPython's debug
// offsets nor a built-in table describe (free-threaded, debug, or a
// version timelens has no table for). errors.Is finds it in a *LayoutError.
var ErrNoLayout = errors.New("no struct layout for this Python")

// LayoutError is ErrNoLayout for one interpreter: what it is that timelens
// cannot read without its debug symbols, and what to install.
type LayoutError struct {
	// Python is the interpreter's executable.
	Python string
	// Missing says what is missing: "it is a free-threaded build (…) and
	// has no debug symbols".
	Missing string
	// Install says what to install or use instead.
	Install string
}

func (e *LayoutError) Error() string {
	return fmt.Sprintf("timelens cannot read %s without debug symbols: %s; %s", e.Python, e.Missing, e.Install)
}

// Is makes errors.Is(err, ErrNoLayout) true.
func (e *LayoutError) Is(target error) bool { return target == ErrNoLayout }

// LayoutSource says where the struct layouts of the interpreter i (whose
// ELF files b describes) come from: LayoutDebugInfo, LayoutDebugOffsets or
// "built-in table for 3.X"; a *LayoutError for a build without debug
// symbols that none describes. Only a session says whether the debug
// symbols found are the ones gdb reads; this runs nothing.
func LayoutSource(i Info, b Build) (string, error) {
	if b.DebugSymbols != "" {
		return LayoutDebugInfo, nil
	}
	v := fmt.Sprintf("%d.%d", i.Major, i.Minor)
	e := &LayoutError{Python: b.Executable}
	if e.Python == "" {
		e.Python = i.Executable
	}
	switch {
	case i.GILDisabled || strings.Contains(i.ABIFlags, "t"):
		e.Missing = fmt.Sprintf("it is a free-threaded build (%st: Py_GIL_DISABLED), whose objects neither CPython's debug offsets nor timelens's built-in tables describe", v)
		e.Install = fmt.Sprintf("use a build of %s with the GIL (python%s), or install this build's debug symbols (Debian/Ubuntu: python%s-dbg)", v, v, v)
	case i.PyDebug || strings.Contains(i.ABIFlags, "d"):
		e.Missing = fmt.Sprintf("it is a debug build (Py_DEBUG, python%sd), whose layout is not a release build's", v)
		e.Install = fmt.Sprintf("install its debug symbols (Debian/Ubuntu: python%s-dbg), or use a release build (python%s)", v, v)
	case !slices.Contains(pyext.LayoutTables(), v):
		e.Missing = fmt.Sprintf("timelens has no built-in layout for CPython %s (it has %s)", v, strings.Join(pyext.LayoutTables(), ", "))
		e.Install = fmt.Sprintf("install its debug symbols (Debian/Ubuntu: python%s-dbg; Fedora: python3-debuginfo), or use CPython %s", v, strings.Join(pyext.LayoutTables(), ", "))
	case i.Major == 3 && i.Minor >= 13:
		return LayoutDebugOffsets, nil
	default:
		return "built-in table for " + v, nil
	}
	return "", e
}
