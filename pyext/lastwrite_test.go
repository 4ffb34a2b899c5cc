package pyext

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/gdbmi/gdbtest"
)

// TestLastWrite records testdata/programs/writes.py between its two
// os.getppid calls and asks, at the end, who last wrote each expression:
// stores in a hot loop (specialized STORE_ATTR), __slots__, a dataclass
// field, a chain written by a callee, a plain local, and an attribute whose
// storage moved into a dict that grew after the write.
//
// It runs on each CPython of the test root: specialization differs between
// them (3.10 has none; 3.11 and 3.12 store through STORE_ATTR_INSTANCE_VALUE,
// _SLOT and _WITH_HINT with the values before or in the object).
func TestLastWrite(t *testing.T) {
	gdbtest.ReverseGDB(t)
	for _, py := range gdbtest.SuitePythons(t, false) {
		t.Run(py.Label, func(t *testing.T) {
			t.Parallel()
			lastWrites(t, py.Path, strings.HasPrefix(py.Label, "3.10-"))
		})
	}
}

// lastWrites asks for each case's last write; py310 says the CPython is
// 3.10, whose code objects have no qualified name (co_qualname is 3.11's):
// code without a source file, whose qualified name timelens cannot read
// from the source either, goes by its bare name there.
func lastWrites(t *testing.T, py string, py310 bool) {
	prog, lineOf := writesProgram(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s := gdbtest.Start(t, gdbmi.Config{Program: py, Args: []string{prog}, InferiorEnv: gdbmi.DebuggeeEnv()})
	s.Do(gdbSide(t))
	s.Do("set breakpoint pending on") // getppid is libc's, loaded after the start
	s.Do("break getppid")
	s.Run("-exec-run")
	s.Do("record full")
	s.Do("set record full insn-number-max 20000000")
	began := time.Now()
	if reason := s.Run("-exec-continue"); reason != "breakpoint-hit" {
		t.Fatalf("recording to the second getppid: stopped for %q", reason)
	}
	t.Logf("recorded in %s", time.Since(began).Round(time.Millisecond))
	cases := []struct {
		expr, line, function, value string
	}{
		{"c.count", "self.count += 1", "Counter.bump", "40"},
		{"s.x", "s.x = i", "main", "39"},
		{"p.x", "p.x = 7", "main", "7"},
		{"b.inner.y", "b.inner.y = 99", "set_from_callee", "99"},
		{"total", "total = i", "main", "39"},
		// Written in a loop of a callee two frames up.
		{"s.y", "s.y = i", "deeper", "29"},
		{"tag.label", `tag.label = "l%d" % i`, "deeper", "'l29'"},
		// Written only by the __init__ dataclasses generates (code without a
		// source file): named by its code, placed at the line that called it.
		{"tag.hits", `tag = Tag("new")`, "__create_fn__.<locals>.__init__ (<string>)", "0"},
	}
	for _, c := range cases {
		res, err := s.MI(ctx, "-timelens-last-write", "--depth", "0", c.expr)
		if err == nil && res.Class == "running" {
			res, err = s.MI(ctx, "-timelens-last-reply")
		}
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		var r struct {
			Value, File, Function string
			Line                  int
			Stops, Moved          int
		}
		if err := Decode(res.Payload, &r); err != nil {
			t.Fatal(err)
		}
		want := lineOf(c.line)
		if py310 && strings.HasSuffix(c.function, " (<string>)") {
			if i := strings.LastIndex(c.function, "."); i >= 0 {
				c.function = c.function[i+1:]
			}
		}
		if r.Line != want || r.Function != c.function || r.Value != c.value || r.File != prog {
			t.Errorf("%s: last write at %s:%d in %s = %s; want line %d (%s) in %s = %s", c.expr, filepath.Base(r.File), r.Line, r.Function, r.Value, want, c.line, c.function, c.value)
		} else {
			t.Logf("%s: line %d in %s = %s (%d watchpoint stops, storage moved %d times)", c.expr, r.Line, r.Function, r.Value, r.Stops, r.Moved)
		}
		// Back to the end for the next question.
		s.Do("record goto end")
	}
}

// writesProgram is testdata/programs/writes.py's path and a finder of its
// lines by their text (trimmed), which fails the test when none has it.
func writesProgram(t *testing.T) (string, func(text string) int) {
	prog, _ := filepath.Abs(filepath.Join("..", "testdata", "programs", "writes.py"))
	src, _ := os.ReadFile(prog)
	lineOf := func(text string) int {
		for i, l := range strings.Split(string(src), "\n") {
			if strings.TrimSpace(l) == text {
				return i + 1
			}
		}
		t.Fatalf("no line %q in writes.py", text)
		return 0
	}
	return prog, lineOf
}
