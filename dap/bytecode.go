package dap

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	godap "github.com/google/go-dap"

	"github.com/timelens/timelens/history"
)

// Bytecode in the editor's Disassembly view, and stepping it.
//
// A Python frame has no machine address: its instructionPointerReference
// names its code and the byte offset it is at, as a number a client can
// parse (VS Code reads addresses with BigInt): the code's number, given
// out by this server once per code object and kept for the session, times
// codeStride, plus the offset. Instruction addresses in a disassemble
// response are numbered the same way, so the reference is the address of
// the frame's current instruction (or of a cache unit inside it, which
// 3.11 and 3.12 leave a caller at while its callee runs: the instruction
// holding it is the one at instructionOffset 0).
//
// The instructions are read when the client asks, at the current time,
// from the innermost frame on the stack that runs that code: a reference
// from an earlier stop still reads (the same code, warmer now) while its
// code is on the stack, and says so when it is not.

// codeStride separates codes' addresses: no code object has 16 MiB of
// bytecode.
const codeStride = 1 << 24

// codeKey names one code object of the recording across stops.
type codeKey struct {
	file, function string
	firstLine      int
}

// codes numbers the code objects a client has been given references to.
type codes struct {
	byKey map[codeKey]int
	keys  []codeKey // number n is keys[n-1]
}

func (c *codes) number(k codeKey) int {
	if n, ok := c.byKey[k]; ok {
		return n
	}
	if c.byKey == nil {
		c.byKey = map[codeKey]int{}
	}
	c.keys = append(c.keys, k)
	c.byKey[k] = len(c.keys)
	return len(c.keys)
}

// instructionReference is frame f's instructionPointerReference.
func (s *server) instructionReference(f history.Frame) string {
	n := s.codes.number(codeKey{f.File, f.Function, f.FirstLine})
	return address(n, max(f.Offset, 0))
}

func address(code, offset int) string {
	return "0x" + strconv.FormatInt(int64(code)*codeStride+int64(offset), 16)
}

// ErrBadReference means a disassemble request named a memory reference
// this server did not give out.
var ErrBadReference = errors.New("not an instructionPointerReference of this session: take one from stackTrace")

// instructionRow is one element of a disassemble response; go-dap's
// DisassembledInstruction lacks presentationHint, which marks the rows
// that pad the answer to the count asked for.
type instructionRow struct {
	godap.DisassembledInstruction
	PresentationHint string `json:"presentationHint,omitempty"`
}

// disassembleResponse is godap.DisassembleResponse with instructionRow.
type disassembleResponse struct {
	godap.Response
	Body struct {
		Instructions []instructionRow `json:"instructions"`
	} `json:"body"`
}

func (s *server) onDisassemble(r *godap.DisassembleRequest) error {
	tl, err := s.timeline()
	if err != nil {
		return err
	}
	a := r.Arguments
	raw, err := strconv.ParseInt(strings.TrimPrefix(a.MemoryReference, "0x"), 16, 64)
	if err != nil || raw < codeStride {
		return fmt.Errorf("memory reference %q: %w", a.MemoryReference, ErrBadReference)
	}
	raw += int64(a.Offset)
	n, offset := int(raw/codeStride), int(raw%codeStride)
	if n < 1 || n > len(s.codes.keys) {
		return fmt.Errorf("memory reference %q: %w", a.MemoryReference, ErrBadReference)
	}
	key := s.codes.keys[n-1]
	snap, err := tl.Snapshot(s.op)
	if err != nil {
		return err
	}
	depth := -1
	for d, f := range snap.Frames {
		if f.File == key.file && f.Function == key.function && f.FirstLine == key.firstLine {
			depth = d
			break
		}
	}
	if depth < 0 {
		return fmt.Errorf("no call of %s is on the stack at this time, so its bytecode cannot be read; select a frame of the stack", key.function)
	}
	code, err := tl.Disassemble(s.op, depth)
	if err != nil {
		return err
	}
	// The instruction holding the offset is row 0.
	at := 0
	for i, in := range code.Instructions {
		if in.Offset <= offset {
			at = i
		}
	}
	resp := &disassembleResponse{Response: s.response(&r.Request)}
	rows := make([]instructionRow, 0, max(a.InstructionCount, 0))
	located := false
	for i := range max(a.InstructionCount, 0) {
		k := at + a.InstructionOffset + i
		if k < 0 || k >= len(code.Instructions) {
			// Outside the code: VS Code skips rows at address -1.
			rows = append(rows, instructionRow{DisassembledInstruction: godap.DisassembledInstruction{Address: "-1", Instruction: ""},
				PresentationHint: "invalid"})
			continue
		}
		in := code.Instructions[k]
		row := godap.DisassembledInstruction{Address: address(n, in.Offset), Instruction: instructionText(in)}
		if k == 0 || in.Label != 0 {
			row.Symbol = code.Function
			if in.Label != 0 {
				row.Symbol = fmt.Sprintf("%s L%d", code.Function, in.Label)
			}
		}
		if in.Line != nil {
			row.Line = s.clientLine(*in.Line)
		}
		if !located {
			// DAP: on the first instruction; the rest are in the same file.
			row.Location = s.source(code.File)
			located = true
		}
		rows = append(rows, instructionRow{DisassembledInstruction: row})
	}
	resp.Body.Instructions = rows
	s.send(resp)
	return nil
}

// instructionText is an instruction as dis prints it, "OPNAME arg (argrepr)",
// with the base name after a specialized one (annotate --bytecode's "←").
func instructionText(in history.Instruction) string {
	var b strings.Builder
	b.WriteString(in.Opname)
	if in.Arg != nil {
		fmt.Fprintf(&b, " %d", *in.Arg)
	}
	if in.Argrepr != "" {
		fmt.Fprintf(&b, " (%s)", in.Argrepr)
	}
	if in.BaseOpname != "" && in.BaseOpname != in.Opname {
		b.WriteString("  ← " + in.BaseOpname)
	}
	return b.String()
}

// onInstructionMove is next, stepIn and stepBack with granularity
// "instruction": one bytecode instruction (timelens.stepInstruction,
// timelens.reverseStepInstruction), into calls either way, since a Python
// instruction has no "over".
func (s *server) onInstructionMove(req *godap.Request, forward bool) error {
	tl, err := s.timeline()
	if err != nil {
		return err
	}
	s.ack(req)
	pos, err := tl.StepInstruction(s.op, forward)
	s.afterMove(pos, err, "step", "")
	return nil
}
