package session

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/timelens/timelens/gdbmi/gdbtest"
	"github.com/timelens/timelens/pyext"
)

// TestProbe: the probe navigates the test root's CPython (a step forward
// and back on a tiny program), and for a copy of it stripped of its debug
// symbols says why not, with the extension's code.
func TestProbe(t *testing.T) {
	gdb := gdbtest.ReverseGDB(t)
	py := gdbtest.Python(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	began := time.Now()
	if err := Probe(ctx, Config{GDB: gdb, Python: py}); err != nil {
		t.Fatalf("probe of %s: %v", py, err)
	}
	t.Logf("%s navigates: probe took %s", py, time.Since(began).Round(time.Millisecond))

	strip, err := exec.LookPath("strip")
	if err != nil {
		gdbtest.SkipOrFail(t, "needs strip")
	}
	bare := filepath.Join(t.TempDir(), filepath.Base(py))
	if out, err := exec.Command(strip, "--strip-debug", "--remove-section=.note.gnu.build-id", "--remove-section=.gnu_debuglink", "-o", bare, py).CombinedOutput(); err != nil {
		t.Fatalf("strip: %v\n%s", err, out)
	}
	began = time.Now()
	err = Probe(ctx, Config{GDB: gdb, Python: bare})
	if e := pyext.AsError(err); e == nil || e.Code != pyext.CodeNoDebugSymbols {
		t.Fatalf("probe of a Python without debug symbols: %v; want the code %s", err, pyext.CodeNoDebugSymbols)
	}
	t.Logf("%s: %v (probe took %s)", bare, err, time.Since(began).Round(time.Millisecond))
}
