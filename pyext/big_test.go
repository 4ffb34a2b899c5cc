package pyext

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/timelens/timelens/gdbmi/gdbtest"
)

// bigSession stops testdata/pyext/big.py at its os.getpid() under gdb and
// returns the session and the module frame's variables by name.
func bigSession(t testing.TB, python string) (*gdbtest.Session, map[string]Variable) {
	m := readerSession(t, python, nil, filepath.Join(testdataDir(t), "big.py"))
	if r := m.Run("-exec-run"); r != "syscall-entry" {
		t.Fatalf("stopped for %q", r)
	}
	// The main thread made the getpid call; the worker waits in an Event.
	fr := readFrames(t, m, python)
	if len(fr.Frames) != 1 || fr.Frames[0].Qualname != "<module>" {
		t.Fatalf("want the module frame alone, got %+v", fr.Frames)
	}
	js, ok := m.Call("-timelens-locals --depth 0")
	if !ok {
		t.Fatalf("-timelens-locals: %s", js)
	}
	var lr LocalsReply
	if err := DecodeString(js, &lr); err != nil {
		t.Fatal(err)
	}
	vars := map[string]Variable{}
	for _, v := range lr.Locals {
		vars[v.Name] = v
	}
	return m, vars
}

// TestRenderBig renders big values truncated, each within 50 ms (measured
// inside gdb), and checks the renderings, the threads list and error replies.
func TestRenderBig(t *testing.T) {
	for _, python := range gdbtest.Pythons(t) {
		python := python
		t.Run(gdbtest.PythonVersion(t, python)+"_"+filepath.Base(python), func(t *testing.T) {
			m, vars := bigSession(t, python)
			want := map[string]string{
				"big_str":  "'" + strings.Repeat("x", 118),
				"big_ucs4": "'" + strings.Repeat("\U0001F600", 118),
				"big_list": "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, ",
				"big_dict": "{0: '0', 1: '1', 2: '2', ",
				"big_set":  "{0, 1, 2, 3, ",
			}
			// Ints over 2000 30-bit digits are not converted to decimal.
			if v := vars["big_int"].Value; v != "<int of 158520 bits>" {
				t.Errorf("big_int = %q, want <int of 158520 bits>", v)
			}
			for name, prefix := range want {
				v, ok := vars[name]
				if !ok {
					t.Fatalf("no variable %s", name)
				}
				if !strings.HasPrefix(v.Value, prefix) || !strings.HasSuffix(v.Value, "…") || utf8.RuneCountInString(v.Value) != 120 {
					t.Errorf("%s = %q: want 120 characters starting %q ending in …", name, v.Value, prefix)
				}
				js, ok := m.Call("-timelens-render " + v.Address)
				if !ok {
					t.Fatalf("-timelens-render %s: %s", v.Address, js)
				}
				var rr RenderReply
				if err := DecodeString(js, &rr); err != nil {
					t.Fatal(err)
				}
				if rr.Value != v.Value {
					t.Errorf("%s: render %q, locals %q", name, rr.Value, v.Value)
				}
				t.Logf("%s: rendered in %.1f ms", name, rr.Seconds*1000)
				if rr.Seconds > 0.050 {
					t.Errorf("%s: rendering took %.1f ms, budget 50 ms", name, rr.Seconds*1000)
				}
			}

			// Threads: the main thread and the worker, both mapped to gdb threads.
			js, ok := m.Call("-timelens-threads")
			if !ok {
				t.Fatalf("-timelens-threads: %s", js)
			}
			var tr ThreadsReply
			if err := DecodeString(js, &tr); err != nil {
				t.Fatal(err)
			}
			if len(tr.Threads) != 2 {
				t.Fatalf("want 2 Python threads, got %+v", tr.Threads)
			}
			for _, th := range tr.Threads {
				if th.GDBThread == nil {
					t.Fatalf("thread %+v has no gdb thread", th)
				}
				if th.Selected {
					continue
				}
				js, ok := m.Call(fmt.Sprintf("-timelens-frames --thread %d", *th.GDBThread))
				if !ok {
					t.Fatalf("-timelens-frames --thread %d: %s", *th.GDBThread, js)
				}
				var fr FramesReply
				if err := DecodeString(js, &fr); err != nil {
					t.Fatal(err)
				}
				if len(fr.Frames) == 0 || !hasFrame(fr.Frames, "worker") {
					t.Errorf("worker thread frames: %+v", fr.Frames)
				}
				js, ok = m.Call(fmt.Sprintf("-timelens-eval --thread %d --depth %d name", *th.GDBThread, depthOf(fr.Frames, "worker")))
				if !ok || !strings.Contains(js, `"value": "'worker'"`) {
					t.Errorf("eval name in worker: %s", js)
				}
			}

			// Errors are MI errors with a message, never a Python traceback.
			for cmd, msg := range map[string]string{
				"-timelens-locals --depth 7":         "no Python frame at depth 7",
				"-timelens-locals":                   "--depth is required",
				"-timelens-eval --depth 0 nosuch":    "name 'nosuch' is not defined",
				"-timelens-eval --depth 0 a-b":       "is not a dotted name",
				"-timelens-locals --depth 0 --bogus": "unknown option --bogus",
			} {
				js, ok := m.Call(cmd)
				if ok || !strings.Contains(js, msg) {
					t.Errorf("%s: want error containing %q, got ok=%v %s", cmd, msg, ok, js)
				}
			}
			// An address that holds no object renders as a marker.
			js, ok = m.Call("-timelens-render 0x10")
			if !ok || !strings.Contains(js, "<unreadable 0x10>") {
				t.Errorf("render of a bad address: %s", js)
			}
		})
	}
}

func hasFrame(frames []Frame, qualname string) bool { return depthOf(frames, qualname) >= 0 }

func depthOf(frames []Frame, qualname string) int {
	for _, f := range frames {
		if f.Qualname == qualname {
			return f.Depth
		}
	}
	return -1
}

// BenchmarkRender measures one -timelens-render round trip through gdb/MI
// for a 100 MB str and a 1,000,000-element list (rendered truncated).
func BenchmarkRender(b *testing.B) {
	python := gdbtest.Pythons(b)[0] // in the roots: the optimized distro build
	m, vars := bigSession(b, python)
	for _, name := range []string{"big_str", "big_list"} {
		addr := vars[name].Address
		b.Run(name, func(b *testing.B) {
			var inside time.Duration
			for i := 0; i < b.N; i++ {
				js, ok := m.Call("-timelens-render " + addr)
				if !ok {
					b.Fatal(js)
				}
				var rr RenderReply
				if err := DecodeString(js, &rr); err != nil {
					b.Fatal(err)
				}
				inside += time.Duration(rr.Seconds * float64(time.Second))
			}
			b.ReportMetric(float64(inside.Microseconds())/float64(b.N)/1000, "ms-in-gdb/op")
		})
	}
}
