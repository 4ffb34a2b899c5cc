package pyext

import (
	"context"
	"strconv"

	"github.com/timelens/timelens/history"
)

// DisassembleReply is the reply of -timelens-disassemble: the frame (as
// -timelens-frames describes it, Lasti in bytes as frame.f_lasti) and its
// instructions.
type DisassembleReply struct {
	Frame
	Python       string                `json:"python"`
	Instructions []history.Instruction `json:"instructions"`
}

// Disassemble implements history.Disassembler with -timelens-disassemble.
func (b *Backend) Disassemble(ctx context.Context, depth int) (history.Code, error) {
	payload, err := b.call(ctx, "-timelens-disassemble", strconv.Itoa(depth))
	if err != nil {
		return history.Code{}, userError(err)
	}
	var r DisassembleReply
	if err := Decode(payload, &r); err != nil {
		return history.Code{}, err
	}
	return history.Code{File: r.File, Function: r.Qualname, Depth: r.Depth, Instructions: r.Instructions}, nil
}

var _ history.Disassembler = (*Backend)(nil)

// StepInstruction implements history.InstructionStepper with
// -timelens-step-instruction.
func (b *Backend) StepInstruction(ctx context.Context, forward bool) error {
	name, args := "stepInstruction", []string(nil)
	if !forward {
		name, args = "reverseStepInstruction", []string{"--reverse"}
	}
	return b.navigate(ctx, name, "-timelens-step-instruction", args...)
}

var _ history.InstructionStepper = (*Backend)(nil)
