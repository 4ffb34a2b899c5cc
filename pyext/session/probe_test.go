package session

import (
	"context"
	"testing"
	"time"

	"github.com/timelens/timelens/gdbmi/gdbtest"
)

// TestProbe: the probe navigates the test root's CPython (a step forward
// and back on a tiny program), and a copy of it stripped of its debug
// information as uv's and Docker's Pythons are (gdbtest.StrippedPython).
func TestProbe(t *testing.T) {
	gdb := gdbtest.ReverseGDB(t)
	py := gdbtest.Python(t)
	for _, p := range []string{py, gdbtest.StrippedPython(t, py)} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		began := time.Now()
		err := Probe(ctx, Config{GDB: gdb, Python: p})
		cancel()
		if err != nil {
			t.Fatalf("probe of %s: %v", p, err)
		}
		t.Logf("%s navigates: probe took %s", p, time.Since(began).Round(time.Millisecond))
	}
}
