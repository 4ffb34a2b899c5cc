package dap_test

import (
	"fmt"
	"path/filepath"
	"regexp"
	"testing"

	godap "github.com/google/go-dap"

	"github.com/timelens/timelens/gdbmi/gdbtest"
)

// TestDisassemblyViewAndInstructionSteps drives what VS Code's Disassembly
// view does over a real recording of loop.py: it takes the top frame's
// instructionPointerReference, asks for the instructions around it (more
// than the code has before it: padding rows), and steps with granularity
// "instruction" into Account("ada")'s __init__ and back, reading the
// current instruction at each stop. Each stop's reference is the address
// of the instruction at instructionOffset 0, on the frame's line; stepping
// back visits the same instructions in reverse and ends at the entry. That
// each instruction is the next one sys.settrace reports is pyext's
// TestStepInstructionLikeSettrace.
func TestDisassemblyViewAndInstructionSteps(t *testing.T) {
	for _, py := range gdbtest.SuitePythons(t, false) {
		t.Run(py.Label, func(t *testing.T) {
			s := launch(t, py.Path, "loop.py")
			s.disassemblyView()
			s.Call("disconnect", nil)
		})
	}
}

// instructionText is what the view shows of an instruction: dis's name,
// argument and its meaning, and a specialized instruction's base name.
var instructionText = regexp.MustCompile(`^[A-Z][A-Z0-9_]*( -?\d+)?( \(.*\))?(  ← [A-Z][A-Z0-9_]*)?$`)

// stop is the top frame at one stop and its current instruction.
type stop struct {
	name, ref, instruction string
	line                   int
}

func (st stop) String() string {
	return fmt.Sprintf("%s:%d %s [%s]", st.name, st.line, st.instruction, st.ref)
}

// current reads the top frame's reference and the instruction it names,
// and checks the view's rows around it.
func (s *dapSession) current(what string) stop {
	s.t.Helper()
	frames := s.Call("stackTrace", map[string]any{"threadId": 1}).(*godap.StackTraceResponse).Body.StackFrames
	if len(frames) == 0 {
		s.t.Fatalf("%s: no frames", what)
	}
	for _, f := range frames {
		if f.InstructionPointerReference == "" {
			s.t.Fatalf("%s: frame %s has no instructionPointerReference", what, f.Name)
		}
	}
	top := frames[0]
	rows := s.Call("disassemble", map[string]any{"memoryReference": top.InstructionPointerReference,
		"instructionOffset": -3, "instructionCount": 7}).(*godap.DisassembleResponse).Body.Instructions
	if len(rows) != 7 {
		s.t.Fatalf("%s: %d rows for 7 asked", what, len(rows))
	}
	cur := rows[3]
	if cur.Address != top.InstructionPointerReference {
		s.t.Errorf("%s: the row at instructionOffset 0 is at %s, the frame's reference is %s", what, cur.Address, top.InstructionPointerReference)
	}
	if !instructionText.MatchString(cur.Instruction) {
		s.t.Errorf("%s: instruction %q does not read like dis", what, cur.Instruction)
	}
	if cur.Line != 0 && cur.Line != top.Line {
		s.t.Errorf("%s: instruction %q on line %d, the frame is at line %d", what, cur.Instruction, cur.Line, top.Line)
	}
	for _, r := range rows {
		if r.Address != "-1" {
			// DAP: the first instruction says where the code is.
			if r.Location == nil || filepath.Base(r.Location.Path) != "loop.py" {
				s.t.Errorf("%s: the first instruction's location is %+v, want loop.py", what, r.Location)
			}
			break
		}
	}
	return stop{name: top.Name, ref: top.InstructionPointerReference, instruction: cur.Instruction, line: top.Line}
}

func (s *dapSession) disassemblyView() {
	t := s.t
	entry := s.current("the entry")
	// The view asks for rows before the code's first instruction too:
	// padding, at address -1, which VS Code skips.
	rows := s.Call("disassemble", map[string]any{"memoryReference": entry.ref, "instructionOffset": -400, "instructionCount": 410}).(*godap.DisassembleResponse).Body.Instructions
	pad := 0
	for pad < len(rows) && rows[pad].Address == "-1" {
		pad++
	}
	if len(rows) != 410 || pad == 0 || pad == len(rows) {
		t.Fatalf("410 rows from 400 before the entry: got %d, %d of them padding", len(rows), pad)
	}
	for _, r := range rows[pad:] {
		if r.Address == "-1" {
			break // past the code's last instruction
		}
		if !instructionText.MatchString(r.Instruction) {
			t.Errorf("main's instruction %q at %s does not read like dis", r.Instruction, r.Address)
		}
	}
	// Forward one instruction at a time into Account.__init__, alternating
	// stepIn and next (both one instruction at this granularity).
	walk := []stop{entry}
	for i := 0; walk[len(walk)-1].name != "Account.__init__"; i++ {
		if i == 80 {
			t.Fatalf("80 instruction steps from main's first line did not enter Account.__init__: %v", walk)
		}
		cmd := []string{"stepIn", "next"}[i%2]
		s.Call(cmd, map[string]any{"threadId": 1, "granularity": "instruction"})
		if st := s.Stopped(); st.Reason != "step" {
			t.Fatalf("%s by instruction after %s: stopped %q (%s)", cmd, walk[len(walk)-1], st.Reason, st.Description)
		}
		st := s.current(fmt.Sprintf("instruction step %d", i+1))
		if st.ref == walk[len(walk)-1].ref && st.name == walk[len(walk)-1].name {
			t.Errorf("instruction step %d stayed at %s", i+1, st)
		}
		walk = append(walk, st)
	}
	t.Logf("%d instructions from main's first line into Account.__init__: %v … %v", len(walk)-1, walk[:min(3, len(walk))], walk[len(walk)-1])
	// And back, through the same instructions.
	for i := len(walk) - 2; i >= 0; i-- {
		s.Call("stepBack", map[string]any{"threadId": 1, "granularity": "instruction"})
		if st := s.Stopped(); st.Reason != "step" {
			t.Fatalf("stepBack by instruction to %s: stopped %q (%s)", walk[i], st.Reason, st.Description)
		}
		if st := s.current(fmt.Sprintf("reverse instruction step to %d", i)); st != walk[i] {
			t.Fatalf("stepBack by instruction from %s: at %s, the forward walk was at %s", walk[i+1], st, walk[i])
		}
	}
	s.Call("stepBack", map[string]any{"threadId": 1, "granularity": "instruction"})
	if st := s.Stopped(); st.Reason != "entry" {
		t.Errorf("stepBack by instruction at the window's start: stopped %q (%s), want entry", st.Reason, st.Description)
	}
	s.check("back at the entry by instructions")
}
