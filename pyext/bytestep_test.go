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
)

// Bytecode stepping against sys.settrace with frame.f_trace_opcodes =
// True: testdata/bytecode/warm.py is recorded from main (a warming loop
// with a short-circuit `and`, a call, a comprehension, a generator
// expression a C function consumes, the returns of each), and so is
// steps.py (a generator a for loop drives long enough to specialize, a
// yield from, generators' returns, an exception raised and handled, a
// finally, a with), and
// -timelens-step-instruction walks the window one instruction at a time;
// the instruction it lands on (code and byte offset) after each step is
// the next 'opcode' event of a traced run of the same program
// (trace_oracle.py --opcodes), and stepping back visits the same
// instructions in reverse and lands on the same machine state (record
// instruction number and pc) as the forward step did.
//
// What the traced run sees and the recording cannot, counted in the log,
// never allowed elsewhere (the traced run's code is not quickened, the
// recorded run's is):
//   - 3.11, 3.12: a superinstruction (LOAD_FAST__LOAD_FAST, ...) runs its
//     second half without storing the frame's position, so the step goes
//     from the first half to the instruction after the second;
//   - 3.11: COMPARE_OP_INT_JUMP (_FLOAT_, _STR_) runs the conditional jump
//     that follows the comparison, likewise unstored (also when
//     COMPARE_OP_ADAPTIVE specializes into one: it runs it at once), and a
//     PRECALL specialized for a builtin (PRECALL_NO_KW_LEN, ...) makes the
//     call itself and skips the CALL;
//   - 3.11+: list.append(x) as a statement: PRECALL_NO_KW_LIST_APPEND
//     (3.11, after skipping the CALL) and CALL_LIST_APPEND (3.12+) skip the
//     POP_TOP of the result;
//   - 3.12+: the caller of a generator a FOR_ITER drives resumes, when
//     the generator returns, at the loop's END_FOR (3.13+: and the POP_TOP
//     after it) and runs it; a traced FOR_ITER finds the iterator
//     exhausted and jumps past them;
//   - 3.14: a conditional jump not taken skips the NOT_TAKEN after it
//     (POP_JUMP_IF_TRUE's JUMPBY(flag ? oparg : next is NOT_TAKEN)); the
//     traced run's instrumented jump runs it for its BRANCH_LEFT event.

// stepPos is the reply of -timelens-step-instruction: navPos's fields and
// the instruction's offset, its opcode in memory, and where in the
// recording it is.
type stepPos struct {
	navPos
	Offset *int   `json:"offset"`
	Opname string `json:"opname"`
	Code   string `json:"code"` // co_name:co_firstlineno
	At     any    `json:"at"`
	PC     uint64 `json:"pc"`
}

func (p stepPos) event() opcodeEvent {
	if p.Offset == nil {
		return opcodeEvent{p.Code, -1}
	}
	return opcodeEvent{p.Code, *p.Offset}
}

// maxInstructionSteps bounds a walk (warm.py's window has about 300,
// steps.py's about 650).
const maxInstructionSteps = 5000

func TestStepInstructionLikeSettrace(t *testing.T) {
	gdbtest.ReverseGDB(t)
	for _, p := range gdbtest.SuitePythons(t, false) {
		t.Run(p.Label, func(t *testing.T) { stepInstructionPrograms(t, p.Path, p.Path) })
	}
}

// TestStepInstructionStripped walks stripped copies of the suite's
// Pythons, whose layouts and opcode tables are the built-in ones.
func TestStepInstructionStripped(t *testing.T) {
	gdbtest.ReverseGDB(t)
	for _, p := range gdbtest.SuitePythons(t, false) {
		t.Run(p.Label, func(t *testing.T) { stepInstructionPrograms(t, gdbtest.StrippedPython(t, p.Path), p.Path) })
	}
}

// opcodeEvent is one 'opcode' event: the code ("name:firstlineno") and
// the byte offset of the instruction.
type opcodeEvent struct {
	key    string
	offset int
}

func (e opcodeEvent) String() string { return fmt.Sprintf("%s@%d", e.key, e.offset) }

// stepInstructionPrograms walks warm.py and steps.py (generators a for
// loop drives, a yield from, a return from a generator, an exception
// raised and handled, a finally, a with) with python.
func stepInstructionPrograms(t *testing.T, python, oraclePython string) {
	for _, prog := range []string{"warm.py", "steps.py"} {
		t.Run(prog, func(t *testing.T) { stepInstructionLikeSettrace(t, python, oraclePython, prog) })
	}
}

func stepInstructionLikeSettrace(t *testing.T, python, oraclePython, name string) {
	dir, err := filepath.Abs(filepath.Join("..", "testdata", "bytecode"))
	if err != nil {
		t.Fatal(err)
	}
	prog := filepath.Join(dir, name)
	out := filepath.Join(t.TempDir(), "trace.json")
	if b, err := exec.Command(oraclePython, filepath.Join(dir, "trace_oracle.py"), prog, "--func", "main", "--out", out, "--opcodes").CombinedOutput(); err != nil {
		t.Fatalf("oracle: %v\n%s", err, b)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		Opcodes [][]any            `json:"opcodes"` // [code key, f_lasti]
		Codes   map[string][][]any `json:"codes"`   // [offset, opname, arg, line]
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatal(err)
	}
	want := make([]opcodeEvent, len(o.Opcodes))
	for i, e := range o.Opcodes {
		want[i] = opcodeEvent{e[0].(string), int(e[1].(float64))}
	}
	opname := func(e opcodeEvent) string {
		for _, in := range o.Codes[e.key] {
			if int(in[0].(float64)) == e.offset {
				return in[1].(string)
			}
		}
		return "?"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	s := navigatorSession(t, python, prog)
	if _, err := navCall(ctx, s, "-timelens-record-window", "main", "3000000"); err != nil {
		t.Fatalf("record window: %v\n%s", err, s.TTYOutput())
	}
	// Where the walk stands: the window's first line event's instruction.
	js, ok := s.Call("-timelens-disassemble 0")
	if !ok {
		t.Fatalf("-timelens-disassemble: %s", js)
	}
	var d DisassembleReply
	if err := DecodeString(js, &d); err != nil {
		t.Fatal(err)
	}
	start := opcodeEvent{fmt.Sprintf("%s:%d", d.Name, d.FirstLineno), d.Lasti}
	if len(want) == 0 || want[0] != start {
		t.Fatalf("the window starts at %s, the traced run's first opcode event after main's first line is %v", start, want[:min(1, len(want))])
	}
	// Forward, to the window's end.
	got := []opcodeEvent{start}
	var landed []stepPos
	began := time.Now()
	for len(got) < maxInstructionSteps {
		p, err := stepInstruction(ctx, s, false)
		if isEdge(err, "end") {
			break
		}
		if err != nil {
			t.Fatalf("step %d (after %s): %v", len(got), got[len(got)-1], err)
		}
		if p.Offset == nil {
			t.Fatalf("step %d: no current instruction: %+v", len(got), p)
		}
		got = append(got, p.event())
		landed = append(landed, p)
	}
	forward := time.Since(began)
	// Align with the traced run, allowing only the cases above.
	fused, compareJumps, precalls, appends, notTaken, endFors, fails := 0, 0, 0, 0, 0, 0, 0
	fail := func(format string, args ...any) {
		t.Helper()
		if fails++; fails <= 20 {
			t.Errorf(format, args...)
		}
	}
	// next is the offset of the instruction after e's in dis's listing.
	next := func(e opcodeEvent) int {
		code := o.Codes[e.key]
		for k, in := range code {
			if int(in[0].(float64)) == e.offset && k+1 < len(code) {
				return int(code[k+1][0].(float64))
			}
		}
		return -1
	}
	j := 0
	for i := 0; i < len(got) && j < len(want); i++ {
		if got[i] != want[j] && i > 1 && (opname(got[i]) == "END_FOR" && got[i-1].key != got[i].key ||
			opname(got[i]) == "POP_TOP" && opname(got[i-1]) == "END_FOR" && got[i-2].key != got[i-1].key) {
			// A generator a FOR_ITER drives returned: the recording's
			// caller resumes at the END_FOR (3.13+: and the POP_TOP
			// after it), which a traced FOR_ITER's exhausted jump skips.
			endFors++
			continue
		}
		if got[i] != want[j] && i > 0 {
			// want[j], want[j+1], ... ran inside the instruction at
			// got[i-1], unstored: the cases above, by the instruction's
			// name in memory when the step landed on it.
			name := opnameAt(landed, i-1)
			prev := got[i-1]
			j0 := j
			for k := j0; k < len(want) && k < j0+2 && want[k].key == prev.key && want[k].offset == next(prev); k++ {
				skipped := opname(want[k])
				ok := false
				switch {
				case k == j0 && strings.Contains(name, "__"):
					fused++ // the second half of a superinstruction
					ok = true
				case k == j0 && (strings.HasPrefix(name, "COMPARE_OP_") && strings.HasSuffix(name, "_JUMP") || name == "COMPARE_OP_ADAPTIVE") &&
					strings.HasPrefix(skipped, "POP_JUMP_"):
					// The conditional jump a 3.11 COMPARE_OP_*_JUMP runs; an
					// adaptive COMPARE_OP that specializes into one runs it
					// at once, in the same instruction.
					compareJumps++
					ok = true
				case k == j0 && strings.HasPrefix(name, "POP_JUMP_IF_") && skipped == "NOT_TAKEN":
					// 3.14: a conditional jump not taken skips the NOT_TAKEN
					// after it; only an instrumented one runs it.
					notTaken++
					ok = true
				case k == j0 && strings.HasPrefix(name, "PRECALL") && skipped == "CALL":
					// A 3.11 PRECALL specialized for a builtin (len(x),
					// str(x)) makes the call and skips the CALL.
					precalls++
					ok = true
				case skipped == "POP_TOP" && (k > j0 && strings.HasPrefix(name, "PRECALL") ||
					k == j0 && (name == "CALL" || name == "CALL_LIST_APPEND" || name == "CALL_NO_KW_LIST_APPEND")):
					// list.append(x) as a statement: 3.11's PRECALL_NO_KW_LIST_APPEND
					// and 3.12+'s CALL_LIST_APPEND skip the POP_TOP (an
					// adaptive CALL that specializes into one too).
					appends++
					ok = true
				}
				if !ok {
					break
				}
				prev = want[k]
				j = k + 1
				if j < len(want) && want[j] == got[i] {
					break
				}
			}
		}
		if got[i] != want[j] {
			fail("instruction step %d: at %s (%s, after %s %s), the traced run's next opcode event is %s (%s)", i, got[i], opname(got[i]),
				got[max(i-1, 0)], opnameAt(landed, i-1), want[j], opname(want[j]))
			if fails > 20 {
				break
			}
		}
		j++
	}
	// The window ends where the program is about to exit: at most the
	// main module's last instructions are the traced run's alone.
	unwalked := want[j:]
	for _, w := range unwalked {
		if !strings.HasPrefix(w.key, "<module>:") {
			fail("the walk ended at %s, before the traced run's %s (%s)", got[len(got)-1], w, opname(w))
			break
		}
	}
	// Back to the start, landing where the forward steps landed.
	began = time.Now()
	for i := len(landed) - 2; i >= -1 && fails == 0; i-- {
		p, err := stepInstruction(ctx, s, true)
		if err != nil {
			t.Fatalf("reverse step to %s: %v", got[i+1], err)
		}
		at := p.event()
		if at != got[i+1] {
			t.Fatalf("reverse step from %s: at %s, the forward walk was at %s", got[i+2], at, got[i+1])
		}
		if i >= 0 && (fmt.Sprint(p.At) != fmt.Sprint(landed[i].At) || p.PC != landed[i].PC) {
			t.Fatalf("reverse step to %s: landed at instruction %v pc %#x, the forward step at %v pc %#x", at, p.At, p.PC, landed[i].At, landed[i].PC)
		}
	}
	if _, err := stepInstruction(ctx, s, true); fails == 0 && !isEdge(err, "start") {
		t.Errorf("a reverse step at the window's start: %v, want the start's edge", err)
	}
	t.Logf("%s: %d instruction steps agree with %d opcode events of sys.settrace (unstored in the recording: %d second halves of superinstructions, %d jumps of COMPARE_OP_*_JUMP, %d CALLs a PRECALL made, %d POP_TOPs after list.append, %d NOT_TAKENs skipped; run by the recording only: %d END_FOR (POP_TOP) after a generator's return; %d of the module's after the window), %d differ; forward %v, back %v",
		python, len(got), j, fused, compareJumps, precalls, appends, notTaken, endFors, len(unwalked), fails, forward.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
}

func stepInstruction(ctx context.Context, s *gdbtest.Session, reverse bool) (stepPos, error) {
	args := []string{}
	if reverse {
		args = append(args, "--reverse")
	}
	var p stepPos
	np, err := navCall(ctx, s, "-timelens-step-instruction", args...)
	if err != nil {
		return p, err
	}
	p.navPos = np
	js, ok := s.Call("-timelens-last-reply")
	if !ok {
		return p, fmt.Errorf("-timelens-last-reply: %s", js)
	}
	err = DecodeString(js, &p)
	return p, err
}

// opnameAt is the name in memory of walk step i's instruction (0: the
// window's start, which no step landed on: a superinstruction never
// starts a line).
func opnameAt(landed []stepPos, i int) string {
	if i < 1 {
		return ""
	}
	return landed[i-1].Opname
}
