package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/timelens/timelens/gdbmi/gdbtest"
)

// TestLSPDisassemble: a real timelens lsp over a real gdb runs to the
// return of average in testdata/bytecode/warm.py (after its loop has run
// eight times) and asks timelens.disassemble for the current frame, then
// for main's frame by a line of main: the instructions as dis names them,
// specialized ones with their base names, lines 0-based as the editor
// counts them, the current instruction where each frame is.
func TestLSPDisassemble(t *testing.T) {
	py := needRecording(t)
	e, uri, pos := atAverageReturn(t)
	type instruction struct {
		Offset     int    `json:"offset"`
		Opname     string `json:"opname"`
		BaseOpname string `json:"baseOpname"`
		Arg        *int   `json:"arg"`
		Argrepr    string `json:"argrepr"`
		Line       *int   `json:"line"`
		Current    bool   `json:"current"`
		Label      int    `json:"label"`
	}
	disassemble := func(args ...any) ([]instruction, string) {
		var out []instruction
		params := map[string]any{"command": "timelens.disassemble"}
		if len(args) > 0 {
			params["arguments"] = args
		}
		msg := e.call("workspace/executeCommand", params, &out)
		return out, msg
	}
	current := func(ins []instruction) instruction {
		t.Helper()
		var cur []instruction
		for _, in := range ins {
			if in.Current {
				cur = append(cur, in)
			}
		}
		if len(cur) != 1 {
			t.Fatalf("%d current instructions in %+v", len(cur), ins)
		}
		return cur[0]
	}

	ins, msg := disassemble()
	if msg != "" {
		t.Fatalf("timelens.disassemble: %s", msg)
	}
	if c := current(ins); c.Line == nil || *c.Line != 5 || !strings.HasPrefix(c.BaseOpname, "LOAD_FAST") || c.Argrepr != "total" {
		t.Errorf("average's current instruction: %+v, want LOAD_FAST total (3.14: LOAD_FAST_BORROW) on line 5 (0-based)", c)
	}
	// 3.13+ names jump targets by label: each label named is an instruction's.
	labels := map[string]bool{}
	for _, in := range ins {
		if in.Label > 0 {
			labels[fmt.Sprintf("to L%d", in.Label)] = true
		}
	}
	for _, in := range ins {
		if strings.HasPrefix(in.Argrepr, "to L") && !labels[in.Argrepr] {
			t.Errorf("%+v jumps to a label no instruction has (%v)", in, labels)
		}
	}
	specialized := 0
	for _, in := range ins {
		if in.Opname != in.BaseOpname {
			specialized++
		}
		if in.Line != nil && (*in.Line < 0 || *in.Line > 5) {
			t.Errorf("instruction %+v: line outside average (0-based 0-5)", in)
		}
	}
	if !strings.HasPrefix(gdbtest.PythonVersion(t, py), "3.10.") && specialized == 0 {
		t.Errorf("no specialized instruction in average after its loop ran 8 times: %+v", ins)
	}

	// main's frame, by one of its lines: its call of average is current.
	ins, msg = disassemble(map[string]any{"uri": uri, "line": 11})
	if msg != "" {
		t.Fatalf("timelens.disassemble main: %s", msg)
	}
	if c := current(ins); c.Line == nil || *c.Line != 11 || !strings.HasPrefix(c.BaseOpname, "CALL") {
		t.Errorf("main's current instruction: %+v, want the call of average on line 11 (0-based)", c)
	}
	if _, msg := disassemble(map[string]any{"uri": uri}); !strings.Contains(msg, "give both uri and line, or neither") {
		t.Errorf("uri without line: %q", msg)
	}
	var now position
	if msg := e.call("workspace/executeCommand", map[string]any{"command": "timelens.where"}, &now); msg != "" || now.Time != pos.Time {
		t.Errorf("timelens.disassemble moved time: %s -> %s (%s)", pos.Time, now.Time, msg)
	}
	e.call("shutdown", nil, nil)
	e.notify("exit", nil)
}

// TestLSPStepInstruction: a real timelens lsp at the return of average in
// warm.py steps one instruction at a time (timelens.stepInstruction) out
// to main, each step's current instruction (timelens.disassemble) the next
// one, the last of average a RETURN_VALUE; reverseStepInstruction goes
// back into average at that RETURN_VALUE, at the time the forward step
// left. What each instruction is, is checked against sys.settrace in pyext
// TestStepInstructionLikeSettrace.
func TestLSPStepInstruction(t *testing.T) {
	e, _, pos := atAverageReturn(t)
	type instruction struct {
		Offset     int    `json:"offset"`
		BaseOpname string `json:"baseOpname"`
		Current    bool   `json:"current"`
	}
	current := func() instruction {
		t.Helper()
		var ins []instruction
		if msg := e.call("workspace/executeCommand", map[string]any{"command": "timelens.disassemble"}, &ins); msg != "" {
			t.Fatalf("timelens.disassemble: %s", msg)
		}
		for _, in := range ins {
			if in.Current {
				return in
			}
		}
		t.Fatalf("no current instruction in %+v", ins)
		return instruction{}
	}
	step := func(cmd string) position {
		t.Helper()
		var p position
		if msg := e.call("workspace/executeCommand", map[string]any{"command": cmd}, &p); msg != "" {
			t.Fatalf("%s: %s", cmd, msg)
		}
		return p
	}
	last, lastPos := current(), pos
	for i := 0; ; i++ {
		if i == 20 {
			t.Fatalf("20 instructions from average's return line did not return to main")
		}
		p := step("timelens.stepInstruction")
		if p.Function == "main" {
			if last.BaseOpname != "RETURN_VALUE" {
				t.Errorf("average's last instruction: %+v, want RETURN_VALUE", last)
			}
			back := step("timelens.reverseStepInstruction")
			if back.Function != "average" || back.Time != lastPos.Time || back.Line != 5 {
				t.Errorf("reverseStepInstruction from main: %s line %d at %s, want average line 5 at %s", back.Function, back.Line, back.Time, lastPos.Time)
			}
			if c := current(); c != last {
				t.Errorf("reverseStepInstruction from main: at %+v, want %+v", c, last)
			}
			break
		}
		c := current()
		if c.Offset <= last.Offset {
			t.Errorf("step %d in average: from %+v to %+v, want a later instruction", i+1, last, c)
		}
		last, lastPos = c, p
	}
	e.call("shutdown", nil, nil)
	e.notify("exit", nil)
}

// atAverageReturn starts a real timelens lsp recording
// testdata/bytecode/warm.py from main and runs to average's return
// (warm.py:6, after its loop has run eight times): the editor, warm.py's
// URI and the position there.
func atAverageReturn(t *testing.T) (*editor, string, position) {
	t.Helper()
	py := needRecording(t)
	path, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "bytecode", "warm.py"))
	e := startEditor(t, "lsp", "--backend", "gdb", "--record-from", "main", "--", py, path)
	uri := e.open(path, editorCaps)
	var pos position
	if msg := e.call("workspace/executeCommand", map[string]any{"command": "timelens.runToLine",
		"arguments": []any{map[string]any{"uri": uri, "line": 5}}}, &pos); msg != "" {
		t.Fatalf("runToLine warm.py:6: %s", msg)
	}
	return e, uri, pos
}
