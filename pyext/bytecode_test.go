package pyext

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/timelens/timelens/gdbmi/gdbtest"
	"github.com/timelens/timelens/history"
)

// The bytecode view against CPython's own dis, in the same process: at each
// checkpoint of testdata/bytecode/bytecode.py the debugger reads every
// caller frame's instructions from memory (-timelens-disassemble), then the
// program asks dis.get_instructions(code, adaptive=True) about the same
// frames (testdata/bytecode/dis_oracle.py). Both see the code as warm as it
// is: the loops before each checkpoint have made CPython 3.11+ specialize
// it, so the names compared are the specialized ones.

// disOracle is what dis_oracle.py writes at exit.
type disOracle struct {
	Python  string `json:"python"`
	Records []struct {
		Label  string `json:"label"`
		Frames []struct {
			Name         string                `json:"name"`
			File         string                `json:"file"`
			Lasti        int                   `json:"lasti"`
			Instructions []history.Instruction `json:"instructions"`
		} `json:"frames"`
	} `json:"records"`
}

// TestDisassembleLikeDis compares, on every suite Python (and, with
// TIMELENS_STRIPPED=1, on copies without debug info), every instruction of
// every frame at every checkpoint: offset, name in memory and base name,
// argument, what dis says it means, line, jump target label (3.13+), and
// which one is current.
func TestDisassembleLikeDis(t *testing.T) {
	for _, p := range gdbtest.SuitePythons(t, false) {
		t.Run(p.Label, func(t *testing.T) { disassembleLikeDis(t, p.Path) })
	}
}

// TestDisassembleStripped runs the comparison on stripped copies of the
// suite's Pythons: opcode names, cache sizes and the specialized-to-base
// map then come from the built-in tables (layout.py).
func TestDisassembleStripped(t *testing.T) {
	for _, p := range gdbtest.SuitePythons(t, false) {
		t.Run(p.Label, func(t *testing.T) { disassembleLikeDis(t, gdbtest.StrippedPython(t, p.Path)) })
	}
}

func disassembleLikeDis(t *testing.T, python string) {
	dir, err := filepath.Abs(filepath.Join("..", "testdata", "bytecode"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "dis.json")
	m := readerSession(t, python, []string{"TIMELENS_ORACLE_OUT=" + out, "PYTHONHASHSEED=0"}, filepath.Join(dir, "bytecode.py"))
	type stop struct {
		label string
		code  []DisassembleReply // by caller depth: [0] is checkpoint's caller
	}
	var stops []stop
	var slowest time.Duration
	reason := m.Run("-exec-run")
	for strings.HasPrefix(reason, "syscall-") {
		if reason != "syscall-entry" {
			reason = m.Run("-exec-continue")
			continue
		}
		fr := readFrames(t, m, python)
		if len(fr.Frames) > 0 && fr.Frames[0].Qualname == "checkpoint" {
			st := stop{}
			for _, f := range fr.Frames[1:] {
				began := time.Now()
				js, ok := m.Call(fmt.Sprintf("-timelens-disassemble %d", f.Depth))
				slowest = max(slowest, time.Since(began))
				if !ok {
					t.Fatalf("-timelens-disassemble %d: %s", f.Depth, js)
				}
				var r DisassembleReply
				if err := DecodeString(js, &r); err != nil {
					t.Fatal(err)
				}
				st.code = append(st.code, r)
			}
			stops = append(stops, st)
		}
		reason = m.Run("-exec-continue")
	}
	if !strings.HasPrefix(reason, "exited") {
		t.Fatalf("program stopped for %q", reason)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("oracle output: %v", err)
	}
	var o disOracle
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatal(err)
	}
	if len(stops) != len(o.Records) || len(stops) == 0 {
		t.Fatalf("%d checkpoints seen by the debugger, %d recorded by dis", len(stops), len(o.Records))
	}
	var n, specialized, withArgrepr, extended, fails int
	fail := func(format string, args ...any) {
		t.Helper()
		if fails++; fails <= 40 {
			t.Errorf(format, args...)
		}
	}
	for i, rec := range o.Records {
		st := stops[i]
		if len(st.code) != len(rec.Frames) {
			fail("%s: %d frames read, dis saw %d", rec.Label, len(st.code), len(rec.Frames))
			continue
		}
		for d, want := range rec.Frames {
			got := st.code[d]
			where := fmt.Sprintf("%s: frame %d (%s)", rec.Label, d+1, want.Name)
			if got.Name != want.Name || got.Lasti != want.Lasti {
				fail("%s: read %s with f_lasti %d, Python says %s with %d", where, got.Name, got.Lasti, want.Name, want.Lasti)
			}
			if len(got.Instructions) != len(want.Instructions) {
				fail("%s: %d instructions read, dis lists %d", where, len(got.Instructions), len(want.Instructions))
				continue
			}
			current := 0
			for k, w := range want.Instructions {
				g := got.Instructions[k]
				// dis marks the instruction whose code units, caches included,
				// hold f_lasti (the next instruction starts after them).
				w.Current = w.Offset <= want.Lasti && (k+1 == len(want.Instructions) || want.Lasti < want.Instructions[k+1].Offset)
				n++
				if g.Current {
					current++
				}
				if w.Opname != w.BaseOpname {
					specialized++
				}
				if w.Opname == "EXTENDED_ARG" {
					extended++
				}
				if w.Argrepr != "" {
					withArgrepr++
				}
				// A constant renders as the hints render values: bounded, cut
				// with "…" (dis prints its whole repr).
				if cut, ok := strings.CutSuffix(g.Argrepr, "…"); ok && strings.HasPrefix(w.Argrepr, cut) {
					w.Argrepr = g.Argrepr
				}
				if disRow(g) != disRow(w) {
					fail("%s: instruction %d:\n  read: %s\n  dis:  %s", where, k, disRow(g), disRow(w))
				}
			}
			if current != 1 {
				fail("%s: %d instructions marked current, want 1", where, current)
			}
		}
	}
	t.Logf("%s: %d checkpoints, %d instructions agree with dis (%d specialized, %d with an argrepr), %d differ; slowest read %v",
		python, len(stops), n-fails, specialized, withArgrepr, fails, slowest.Round(time.Millisecond))
	if extended == 0 {
		t.Errorf("%s: no EXTENDED_ARG at any checkpoint: wide()'s jump no longer needs one", python)
	}
	if specialized == 0 && !strings.HasPrefix(o.Python, "3.10") {
		t.Errorf("%s: no specialized instruction at any checkpoint: the program no longer warms its code", python)
	}
}

func disRow(i history.Instruction) string {
	arg, line := "-", "-"
	if i.Arg != nil {
		arg = fmt.Sprint(*i.Arg)
	}
	if i.Line != nil {
		line = fmt.Sprint(*i.Line)
	}
	cur := "  "
	if i.Current {
		cur = "->"
	}
	return fmt.Sprintf("%s L%d %4d %-32s (%s) %s %q line %s", cur, i.Label, i.Offset, i.Opname, i.BaseOpname, arg, i.Argrepr, line)
}

// TestDisassembleAtLineEvents records testdata/bytecode/warm.py from main
// (a warming loop, a short-circuit `and`, a comprehension, a generator
// expression in a chained call) and steps through every line event of the
// window; at each, the current frame's instructions agree with dis in a
// sys.settrace run of the same program (testdata/bytecode/trace_oracle.py):
// offsets, base names, arguments, lines, and the current instruction is
// the one holding that event's frame.f_lasti, or on 3.12+ at a loop's head
// reached by a jump back, the jump's target (the traced run reports that
// event from the jump, the untraced frame is at its target). The traced
// run's code does not specialize; the specialized names are
// TestDisassembleLikeDis's.
func TestDisassembleAtLineEvents(t *testing.T) {
	gdbtest.ReverseGDB(t)
	for _, p := range gdbtest.SuitePythons(t, false) {
		t.Run(p.Label, func(t *testing.T) { disassembleAtLineEvents(t, p.Path) })
	}
}

func disassembleAtLineEvents(t *testing.T, python string) {
	dir, err := filepath.Abs(filepath.Join("..", "testdata", "bytecode"))
	if err != nil {
		t.Fatal(err)
	}
	prog := filepath.Join(dir, "warm.py")
	out := filepath.Join(t.TempDir(), "trace.json")
	if b, err := exec.Command(python, filepath.Join(dir, "trace_oracle.py"), prog, "--func", "main", "--out", out).CombinedOutput(); err != nil {
		t.Fatalf("oracle: %v\n%s", err, b)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		Events [][]any            `json:"events"` // [code key, line, f_lasti]
		Codes  map[string][][]any `json:"codes"`  // [offset, opname, arg, line]
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	s := navigatorSession(t, python, prog)
	if _, err := navCall(ctx, s, "-timelens-record-window", "main", "3000000"); err != nil {
		t.Fatalf("record window: %v\n%s", err, s.TTYOutput())
	}
	n, fails, fused := 0, 0, 0
	fail := func(format string, args ...any) {
		t.Helper()
		if fails++; fails <= 30 {
			t.Errorf(format, args...)
		}
	}
	for i, ev := range o.Events {
		key, line, lasti := ev[0].(string), int(ev[1].(float64)), int(ev[3].(float64))
		if i > 0 {
			if _, err := navCall(ctx, s, "-timelens-step", "step"); err != nil {
				t.Fatalf("step to event %d (%s line %d): %v", i, key, line, err)
			}
		}
		js, ok := s.Call("-timelens-disassemble 0")
		if !ok {
			t.Fatalf("event %d: -timelens-disassemble: %s", i, js)
		}
		var r DisassembleReply
		if err := DecodeString(js, &r); err != nil {
			t.Fatal(err)
		}
		where := fmt.Sprintf("event %d (%s line %d)", i, key, line)
		if got := fmt.Sprintf("%s:%d", r.Name, r.FirstLineno); got != key || r.Line == nil || *r.Line != line {
			t.Fatalf("%s: at %s line %v: the walk left the oracle's line events", where, got, r.Line)
		}
		want := o.Codes[key]
		if len(r.Instructions) != len(want) {
			fail("%s: %d instructions read, dis lists %d", where, len(r.Instructions), len(want))
			continue
		}
		// 3.11 and 3.12 run superinstructions where nothing traces: a
		// fused pair (STORE_FAST__LOAD_FAST) runs the line's first
		// instruction as its second half, and the frame is at the next one
		// when its line event is seen (moves.py: CodeInfo.crossed). Traced
		// code runs the halves one by one.
		for k := 1; k+1 < len(want); k++ {
			if int(want[k][0].(float64)) == lasti && strings.Contains(r.Instructions[k-1].Opname, "__") &&
				r.Lasti == int(want[k+1][0].(float64)) {
				lasti = r.Lasti
				fused++
				break
			}
		}
		if r.Lasti != lasti {
			fail("%s: f_lasti %d read, %d in the traced run", where, r.Lasti, lasti)
		}
		for k, w := range want {
			wi := history.Instruction{Offset: int(w[0].(float64)), BaseOpname: w[1].(string)}
			if w[2] != nil {
				a := int(w[2].(float64))
				wi.Arg = &a
			}
			if w[3] != nil {
				l := int(w[3].(float64))
				wi.Line = &l
			}
			wi.Current = wi.Offset <= lasti && (k+1 == len(want) || lasti < int(want[k+1][0].(float64)))
			g := r.Instructions[k]
			g.Opname, g.Argrepr, g.Label = "", "", 0
			n++
			if disRow(g) != disRow(wi) {
				fail("%s: instruction %d:\n  read: %s\n  dis:  %s", where, k, disRow(g), disRow(wi))
			}
		}
	}
	t.Logf("%s: %d line events (%d after a superinstruction ran the line's first instruction), %d instructions agree with dis under sys.settrace, %d differ",
		python, len(o.Events), fused, n-fails, fails)
}
