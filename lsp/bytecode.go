package lsp

import (
	"context"
	"fmt"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/timelens/timelens/history"
)

// The bytecode view (CONTRACT.md): timelens.disassemble lists a frame's
// instructions as CPython's dis names them, with the one the frame is at
// marked. What a line hides (a comprehension, a chained call, a
// short-circuit) shows there. Time does not change.

const disassembleShape = `optional {"uri": "file:///…", "line": <0-based line inside the function>}`

// instruction is one element of timelens.disassemble's result: CONTRACT.md's
// fields, and the base name of a specialized instruction and the label of
// a jump target. Line is the editor's 0-based line (null where the
// instruction has none).
type instruction struct {
	Offset     int    `json:"offset"`
	Opname     string `json:"opname"`
	BaseOpname string `json:"baseOpname"`
	Arg        *int   `json:"arg"`
	Argrepr    string `json:"argrepr"`
	Line       *int   `json:"line"`
	Current    bool   `json:"current"`
	// Label numbers a jump target as dis (3.13+) names it in another
	// instruction's argrepr ("to L3"); absent elsewhere.
	Label int `json:"label,omitempty"`
}

// disassemble answers timelens.disassemble: the instructions of the
// current frame or, given {uri, line}, of the innermost call on the stack
// of the function containing that line.
func disassemble(s *server, ctx context.Context, args []protocol.LSPAny) (any, error) {
	var a struct {
		URI  uri.URI `json:"uri"`
		Line *int    `json:"line"`
	}
	if len(args) > 0 && string(args[0]) != "null" {
		if err := decodeArg(cmdDisassemble, args, &a); err != nil {
			return nil, err
		}
		if (a.URI == "") != (a.Line == nil) {
			return nil, invalidParams(cmdDisassemble, "give both uri and line, or neither")
		}
	}
	tl, err := s.timeline(ctx)
	if err != nil {
		return nil, err
	}
	depth := 0
	if a.URI != "" {
		d, fn, err := s.callOnStack(ctx, tl, a.URI, *a.Line)
		if err != nil {
			return nil, err
		}
		if d < 0 {
			return nil, fmt.Errorf("no call of %s is on the stack now, so it has no frame to disassemble; move into a call of it first (timelens.nextCall)", fn)
		}
		depth = d
	}
	code, err := tl.Disassemble(ctx, depth)
	if err != nil {
		return nil, err
	}
	out := make([]instruction, len(code.Instructions))
	for i, in := range code.Instructions {
		out[i] = instruction{Offset: in.Offset, Opname: in.Opname, BaseOpname: in.BaseOpname, Arg: in.Arg,
			Argrepr: in.Argrepr, Current: in.Current, Label: in.Label}
		if in.Line != nil {
			line, _, _ := s.editorLine(code.File, *in.Line-1)
			out[i].Line = &line
		}
	}
	return out, nil
}

// instructionMove is timelens.stepInstruction (forward) or
// timelens.reverseStepInstruction: one bytecode instruction of the current
// thread, entering calls; the session moves as after a step (hints and
// lenses refresh, the editor shows the line of the new instruction).
func instructionMove(forward bool) command {
	return func(s *server, ctx context.Context, _ []protocol.LSPAny) (*Position, error) {
		return s.navigate(ctx, func(ctx context.Context, tl *history.Timeline) (history.Position, error) {
			return tl.StepInstruction(ctx, forward)
		})
	}
}
