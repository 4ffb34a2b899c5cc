package interp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/timelens/timelens/gdbmi/gdbtest"
)

// askAndInspect is what doctor and the session learn of an interpreter
// before anything starts.
func askAndInspect(t *testing.T, python string) (Info, Build) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	i, err := Ask(ctx, python)
	if err != nil {
		t.Fatalf("Ask(%s): %v", python, err)
	}
	b, err := Inspect(python)
	if err != nil {
		t.Fatalf("Inspect(%s): %v", python, err)
	}
	return i, b
}

// TestLayoutSource: every suite Python has debug info, where the layouts
// come from; a copy of it stripped of its debug info (StrippedPython) gets
// CPython's debug offsets (3.13+) or the built-in table of its version,
// and a stripped debug build is refused with what to install.
func TestLayoutSource(t *testing.T) {
	for _, p := range gdbtest.SuitePythons(t, true) {
		t.Run(p.Label, func(t *testing.T) {
			i, b := askAndInspect(t, p.Path)
			if b.DebugSymbols == "" {
				gdbtest.SkipOrFail(t, "%s has no debug symbols here (the roots' have)", p.Path)
			}
			if got, err := LayoutSource(i, b); got != LayoutDebugInfo || err != nil {
				t.Errorf("%s with its debug info: %q, %v; want %q", p.Path, got, err, LayoutDebugInfo)
			}
			exe := gdbtest.StrippedPython(t, p.Path)
			i, b = askAndInspect(t, exe)
			if b.DebugSymbols != "" {
				t.Fatalf("the stripped copy %s has debug symbols in %s", exe, b.DebugSymbols)
			}
			got, err := LayoutSource(i, b)
			v := fmt.Sprintf("%d.%d", i.Major, i.Minor)
			switch {
			case p.Debug:
				var le *LayoutError
				if !errors.Is(err, ErrNoLayout) || !errors.As(err, &le) || !strings.Contains(le.Missing, "debug build") ||
					!strings.Contains(le.Install, "python"+v+"-dbg") || !strings.Contains(err.Error(), exe) {
					t.Errorf("a stripped debug build %s: %q, %v; want a LayoutError naming the debug build and python%s-dbg", exe, got, err, v)
				}
			case i.Minor >= 13:
				if got != LayoutDebugOffsets || err != nil {
					t.Errorf("stripped %s: %q, %v; want %q", v, got, err, LayoutDebugOffsets)
				}
			default:
				if want := "built-in table for " + v; got != want || err != nil {
					t.Errorf("stripped %s: %q, %v; want %q", v, got, err, want)
				}
			}
		})
	}
}

// TestLayoutSourceRefusals: builds no source describes without their debug
// symbols (a free-threaded build, a version with no table) are refused with
// what is missing and what to install; their debug symbols are enough.
func TestLayoutSourceRefusals(t *testing.T) {
	bare := Build{Executable: "/opt/py/bin/python3"}
	for _, c := range []struct {
		info          Info
		missing, hint string
	}{
		{Info{Major: 3, Minor: 13, ABIFlags: "t", GILDisabled: true}, "free-threaded build (3.13t", "with the GIL (python3.13)"},
		{Info{Major: 3, Minor: 14, ABIFlags: "td", PyDebug: true, GILDisabled: true}, "free-threaded", "python3.14-dbg"},
		{Info{Major: 3, Minor: 12, ABIFlags: "d", PyDebug: true}, "debug build", "python3.12-dbg"},
		{Info{Major: 3, Minor: 15}, "no built-in layout for CPython 3.15", "python3.15-dbg"},
		{Info{Major: 3, Minor: 9}, "no built-in layout for CPython 3.9", "python3.9-dbg"},
	} {
		got, err := LayoutSource(c.info, bare)
		var le *LayoutError
		if !errors.As(err, &le) || !errors.Is(err, ErrNoLayout) || !strings.Contains(le.Missing, c.missing) ||
			!strings.Contains(le.Install, c.hint) || !strings.Contains(err.Error(), bare.Executable) {
			t.Errorf("%+v without debug symbols: %q, %v; want a LayoutError saying %q and %q", c.info, got, err, c.missing, c.hint)
		}
		withSymbols := bare
		withSymbols.DebugSymbols = "/usr/lib/debug/.build-id/ab/cdef.debug"
		if got, err := LayoutSource(c.info, withSymbols); got != LayoutDebugInfo || err != nil {
			t.Errorf("%+v with debug symbols: %q, %v", c.info, got, err)
		}
	}
}
