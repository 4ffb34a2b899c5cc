package history

import (
	"context"
	"fmt"
)

// Instruction is one bytecode instruction of a frame's code, as CPython's
// dis.get_instructions(code, adaptive=True) lists it: inline caches
// skipped, EXTENDED_ARG folded into the argument of the instruction it
// extends.
type Instruction struct {
	// Offset is in bytes from the code's start.
	Offset int `json:"offset"`
	// Opname is the instruction in memory now: a specialized name
	// (LOAD_ATTR_INSTANCE_VALUE) once CPython 3.11+ has warmed the code.
	Opname string `json:"opname"`
	// BaseOpname is the instruction the compiler emitted (LOAD_ATTR), what
	// dis shows without adaptive=True.
	BaseOpname string `json:"baseOpname"`
	// Arg is nil for an instruction without an argument.
	Arg *int `json:"arg"`
	// Argrepr is what the argument means, as dis says it: a constant's
	// repr, a name, "to L3", "NULL + print", "+=".
	Argrepr string `json:"argrepr"`
	// Line is the 1-based source line, nil where the instruction has none.
	Line *int `json:"line"`
	// Current marks the instruction the frame is at.
	Current bool `json:"current"`
	// Label is the number of a jump target, as dis (3.13+) names it in
	// another instruction's Argrepr ("to L3"); 0 for other instructions,
	// and before 3.13, where Argrepr names the target's offset.
	Label int `json:"label,omitempty"`
}

// Code is a frame's code and its instructions at the current time.
type Code struct {
	File     string `json:"file"`
	Function string `json:"function"`
	// Depth is the frame's, innermost 0 (Snapshot.Frames' index).
	Depth        int           `json:"depth"`
	Instructions []Instruction `json:"instructions"`
}

// Disassembler is an optional Backend capability: the bytecode of a frame
// at the current time, read from memory. Backends without it answer
// ErrNotSupported.
type Disassembler interface {
	Disassemble(ctx context.Context, depth int) (Code, error)
}

// Disassemble reads the instructions of the frame at depth (0: the
// current frame), now. Time does not change.
func (t *Timeline) Disassemble(ctx context.Context, depth int) (Code, error) {
	return call(t, ctx, t.opts.ReadTimeout, func(ctx context.Context) (Code, error) {
		d, ok := t.b.(Disassembler)
		if !ok {
			return Code{}, fmt.Errorf("disassemble: %w", ErrNotSupported)
		}
		return d.Disassemble(ctx, depth)
	})
}

// InstructionStepper is an optional Backend capability: one bytecode
// instruction of the current thread forward or back, in any frame with a
// source file (into a called function's first instruction, out to the
// caller's next one), as sys.settrace's 'opcode' events with
// frame.f_trace_opcodes = True follow them. At either end of history it
// returns an *EdgeError and time must be as it was. Backends without it
// answer ErrNotSupported.
type InstructionStepper interface {
	StepInstruction(ctx context.Context, forward bool) error
}

// StepInstruction moves one bytecode instruction forward or back (CONTRACT.md:
// timelens.stepInstruction, timelens.reverseStepInstruction).
func (t *Timeline) StepInstruction(ctx context.Context, forward bool) (Position, error) {
	name := "reverseStepInstruction"
	if forward {
		name = "stepInstruction"
	}
	return t.move(ctx, name, func(ctx context.Context) error {
		is, ok := t.b.(InstructionStepper)
		if !ok {
			return fmt.Errorf("%s: %w", name, ErrNotSupported)
		}
		return is.StepInstruction(ctx, forward)
	})
}
