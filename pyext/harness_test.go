package pyext

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/gdbmi/gdbtest"
)

// The tests drive gdb through gdbtest, and load the gdb side from this
// directory (timelens_gdb), as Backend.load loads what Install writes out.

// gdbSide is the gdb command that loads the gdb side from the source tree
// and tells it that it runs in gdb (record full).
func gdbSide(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	d, err := gdbmi.DialectFor(gdbmi.KindGDB)
	if err != nil {
		t.Fatal(err)
	}
	return LoadCommand(dir) + "; import timelens_gdb.debugger as d; d.configure(" + strings.TrimPrefix(DialectCommand(d), "python import timelens_gdb.debugger as d; d.configure(")
}

// readerSession starts gdb on python running args (env added to the
// program's environment), with the gdb side loaded and a catchpoint on the
// getpid system call, which the test programs' checkpoint() makes: a
// syscall catchpoint needs no symbols and survives inlining of os_getpid.
func readerSession(t testing.TB, python string, env []string, args ...string) *gdbtest.Session {
	t.Helper()
	s := gdbtest.Start(t, gdbmi.Config{Program: python, Args: args, Env: env, Timeout: 5 * time.Minute})
	s.Do("set breakpoint pending on")
	s.Do(gdbSide(t))
	s.Do("catch syscall getpid")
	return s
}

// navigatorSession starts gdb on python running prog, with the gdb side
// loaded, stopped at the program's first instruction.
func navigatorSession(t testing.TB, python, prog string) *gdbtest.Session {
	t.Helper()
	s := gdbtest.Start(t, gdbmi.Config{Program: python, Args: []string{prog}, InferiorEnv: gdbmi.DebuggeeEnv(), Timeout: 5 * time.Minute})
	s.Do(gdbSide(t))
	s.Run("starti")
	return s
}

// readFrames reads the Python frames at the stop. An interpreter without
// debug symbols (the extension's code no-debug-symbols) skips the test, or
// fails it where debuggers are required.
func readFrames(t testing.TB, s *gdbtest.Session, python string) FramesReply {
	t.Helper()
	js, ok := s.Call("-timelens-frames")
	if !ok {
		if e := AsError(&gdbmi.CommandError{Op: "-timelens-frames", Msg: js}); e.Code == CodeNoDebugSymbols {
			gdbtest.SkipOrFail(t, "%s: %s", python, e.Message)
		}
		t.Fatalf("-timelens-frames: %s", js)
	}
	var fr FramesReply
	if err := DecodeString(js, &fr); err != nil {
		t.Fatal(err)
	}
	return fr
}
