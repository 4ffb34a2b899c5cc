package dap_test

import (
	"context"
	"path/filepath"
	"testing"

	godap "github.com/google/go-dap"

	"github.com/timelens/timelens/dap"
	"github.com/timelens/timelens/dap/daptest"
	"github.com/timelens/timelens/gdbmi/gdbtest"
	"github.com/timelens/timelens/history"
	"github.com/timelens/timelens/history/historytest"
)

// bytecodeTrace is the settrace trace with a fixed bytecode for every
// frame: what the disassemble request makes of a backend's instructions,
// without a debugger (the real ones: TestDisassemblyViewAndInstructionSteps).
type bytecodeTrace struct {
	*historytest.Trace
}

func (b bytecodeTrace) Disassemble(ctx context.Context, depth int) (history.Code, error) {
	n := func(v int) *int { return &v }
	snap, err := b.State(ctx)
	if err != nil {
		return history.Code{}, err
	}
	f := snap.Frames[depth]
	return history.Code{File: f.File, Function: f.Function, Depth: depth, Instructions: []history.Instruction{
		{Offset: 0, Opname: "RESUME_CHECK", BaseOpname: "RESUME", Arg: n(0), Line: n(f.FirstLine)},
		{Offset: 2, Opname: "LOAD_FAST", BaseOpname: "LOAD_FAST", Arg: n(0), Argrepr: "x", Line: n(f.FirstLine + 1), Label: 1},
		// 6 is a cache unit of the instruction at 4.
		{Offset: 4, Opname: "BINARY_OP_ADD_INT", BaseOpname: "BINARY_OP", Arg: n(13), Argrepr: "+", Line: n(f.FirstLine + 1)},
		{Offset: 8, Opname: "RETURN_VALUE", BaseOpname: "RETURN_VALUE"},
	}}, nil
}

// TestDisassembleRows: the rows VS Code's Disassembly view gets for a
// frame's instructionPointerReference: instructionOffset counts
// instructions from the one holding the reference (a cache unit's
// reference names its instruction), rows outside the code are padding at
// address -1, the first real row says where the code is, a jump target
// names its label, a specialized instruction its base name.
func TestDisassembleRows(t *testing.T) {
	python := gdbtest.AnyPython(t)
	prog, _ := filepath.Abs(filepath.Join("..", "testdata", "programs", "loop.py"))
	tr, err := historytest.Record(python, prog, "main")
	if err != nil {
		t.Fatal(err)
	}
	tl, err := history.New(context.Background(), bytecodeTrace{tr}, history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tl.Close() })
	c := daptest.Serve(t, dap.Config{Timeline: tl})
	caps := c.Call("initialize", map[string]any{"adapterID": "timelens"}).(*godap.InitializeResponse).Body
	if !caps.SupportsDisassembleRequest || !caps.SupportsSteppingGranularity {
		t.Errorf("initialize: supportsDisassembleRequest %v, supportsSteppingGranularity %v", caps.SupportsDisassembleRequest, caps.SupportsSteppingGranularity)
	}
	c.Call("launch", map[string]any{})
	c.Call("configurationDone", nil)
	c.Stopped()
	frames := c.Call("stackTrace", map[string]any{"threadId": 1}).(*godap.StackTraceResponse).Body.StackFrames
	ref := frames[0].InstructionPointerReference
	if ref != "0x1000000" {
		t.Fatalf("main's reference at offset 0 is %q, want 0x1000000 (code 1, offset 0)", ref)
	}
	rows := func(ref string, offset, from, count int) []godap.DisassembledInstruction {
		t.Helper()
		return c.Call("disassemble", map[string]any{"memoryReference": ref, "offset": offset, "instructionOffset": from,
			"instructionCount": count}).(*godap.DisassembleResponse).Body.Instructions
	}
	got := rows(ref, 0, -2, 7)
	want := []struct{ address, instruction, symbol string }{
		{"-1", "", ""}, {"-1", "", ""},
		{"0x1000000", "RESUME_CHECK 0  ← RESUME", "main"},
		{"0x1000002", "LOAD_FAST 0 (x)", "main L1"},
		{"0x1000004", "BINARY_OP_ADD_INT 13 (+)  ← BINARY_OP", ""},
		{"0x1000008", "RETURN_VALUE", ""},
		{"-1", "", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows for 7 asked: %+v", len(got), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Address != w.address || g.Instruction != w.instruction || g.Symbol != w.symbol {
			t.Errorf("row %d: %s %q %q, want %s %q %q", i, g.Address, g.Instruction, g.Symbol, w.address, w.instruction, w.symbol)
		}
	}
	if got[2].Location == nil || got[2].Location.Path != prog || got[2].Line == 0 || got[3].Location != nil {
		t.Errorf("the first instruction's location %+v line %d, the next's %+v: want %s on the first only", got[2].Location, got[2].Line, got[3].Location, prog)
	}
	if r := rows(ref, 6, 0, 1); len(r) != 1 || r[0].Address != "0x1000004" {
		t.Errorf("a cache unit's reference (offset 6): %+v, want the instruction at 4", r)
	}
	if r := rows("0x1000004", 0, -1, 1); len(r) != 1 || r[0].Address != "0x1000002" {
		t.Errorf("one before the instruction at 4: %+v, want the one at 2", r)
	}
}
