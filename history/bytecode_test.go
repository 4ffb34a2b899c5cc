package history

import "testing"

// TestAnnotateBytecodeGroupsByLine: instructions sit under their source
// line in the order they run from; a line whose instructions come back (a
// loop's header) shows again; an instruction without a line sits under
// "--"; the current instruction and its line are marked; a specialized
// instruction shows its base name; a jump target its label.
func TestAnnotateBytecodeGroupsByLine(t *testing.T) {
	n := func(v int) *int { return &v }
	src := "def f(xs):\n    for x in xs:\n        pass\n"
	code := Code{Function: "f", Instructions: []Instruction{
		{Offset: 0, Opname: "RESUME_CHECK", BaseOpname: "RESUME", Arg: n(0), Line: n(1)},
		{Offset: 2, Opname: "LOAD_FAST", BaseOpname: "LOAD_FAST", Arg: n(0), Argrepr: "xs", Line: n(2)},
		{Offset: 4, Opname: "FOR_ITER_LIST", BaseOpname: "FOR_ITER", Arg: n(3), Argrepr: "to L2", Line: n(2), Label: 1},
		{Offset: 8, Opname: "STORE_FAST", BaseOpname: "STORE_FAST", Arg: n(1), Argrepr: "x", Line: n(2)},
		{Offset: 10, Opname: "JUMP_BACKWARD", BaseOpname: "JUMP_BACKWARD", Arg: n(5), Argrepr: "to L1", Line: n(3), Current: true},
		{Offset: 14, Opname: "END_FOR", BaseOpname: "END_FOR", Line: n(2), Label: 2},
		{Offset: 16, Opname: "RETURN_CONST", BaseOpname: "RETURN_CONST", Arg: n(0), Argrepr: "None"},
	}}
	want := "" +
		"  1 │ def f(xs):\n" +
		"             0  RESUME_CHECK   0  ← RESUME\n" +
		"  2 │     for x in xs:\n" +
		"             2  LOAD_FAST      0 (xs)\n" +
		"     L1:     4  FOR_ITER_LIST  3 (to L2)  ← FOR_ITER\n" +
		"             8  STORE_FAST     1 (x)\n" +
		"▶ 3 │         pass\n" +
		"   ▶        10  JUMP_BACKWARD  5 (to L1)\n" +
		"  2 │     for x in xs:\n" +
		"     L2:    14  END_FOR\n" +
		"  - │ (no line)\n" +
		"            16  RETURN_CONST   0 (None)\n"
	if got := AnnotateBytecode(src, code); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
