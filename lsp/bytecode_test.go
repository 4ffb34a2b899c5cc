package lsp

import (
	"encoding/json"
	"strings"
	"testing"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// TestDisassembleSaysWhatIsMissing: timelens.disassemble refuses a uri
// without a line, names the function when no call of it is on the stack,
// and says so when the backend cannot read bytecode (the trace these tests
// replay has none; the real session's answers are checked end to end in
// cmd/timelens TestLSPDisassemble and against dis in pyext
// TestDisassembleLikeDis).
func TestDisassembleSaysWhatIsMissing(t *testing.T) {
	s := newSession(t, sessionOptions{})
	s.initialize(fullCaps())
	loop := s.open(program("loop.py"))
	run := func(args ...any) error {
		var raw []protocol.LSPAny
		for _, a := range args {
			b, _ := json.Marshal(a)
			raw = append(raw, b)
		}
		_, err := s.server.ExecuteCommand(s.ctx, &protocol.ExecuteCommandParams{Command: cmdDisassemble, Arguments: raw})
		return err
	}
	if err := run(map[string]any{"uri": loop}); rpcCode(err) != jsonrpc2.InvalidParams || !strings.Contains(err.Error(), "give both uri and line, or neither") {
		t.Errorf("uri without a line: %v", err)
	}
	if err := run(map[string]any{"uri": loop, "line": 13}); err == nil || !strings.Contains(err.Error(), "no call of fib is on the stack now") {
		t.Errorf("a line of fib, which has not run yet: %v", err)
	}
	if err := run(); err == nil || !strings.Contains(err.Error(), "timelens.disassemble: disassemble: not supported by this backend") {
		t.Errorf("a backend without bytecode: %v", err)
	}
}

// TestStepInstructionSaysWhatIsMissing: the instruction moves are commands
// like the line moves, and a backend that cannot step bytecode (the trace
// these tests replay knows lines only) says so; time does not change. The
// real moves are checked against sys.settrace's opcode events in pyext
// TestStepInstructionLikeSettrace.
func TestStepInstructionSaysWhatIsMissing(t *testing.T) {
	s := newSession(t, sessionOptions{})
	s.initialize(fullCaps())
	before := s.must(cmdWhere)
	for _, cmd := range []string{cmdStepInstruction, cmdReverseStepInstruction} {
		_, err := s.exec(cmd)
		if err == nil || !strings.Contains(err.Error(), cmd+": "+strings.TrimPrefix(cmd, "timelens.")+": not supported by this backend") {
			t.Errorf("%s on a backend without bytecode: %v", cmd, err)
		}
	}
	if after := s.must(cmdWhere); after.Time != before.Time {
		t.Errorf("a refused instruction move changed time: %s -> %s", before.Time, after.Time)
	}
}
