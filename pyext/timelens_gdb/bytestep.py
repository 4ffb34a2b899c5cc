"""Bytecode stepping both ways: one instruction of the current thread, as
sys.settrace reports 'opcode' events with frame.f_trace_opcodes = True.

The mechanism is the line step's: moves' engine (Mover) with this
module's acceptance rule (InstructionMover), every instruction a stop
instead of the first of a line: every instruction starts with a store of
the frame's position, so a watchpoint on the current frame's position field
sees each one, and a second one on where the thread keeps its current frame
follows calls, returns, yields and resumptions.

Which stores start an instruction. The position field is also written
where no instruction starts: 3.12's inlined calls leave a caller's
prev_instr on its CALL's last cache unit, 3.12's return adds the caller's
return_offset (0 after a CALL), 3.13+ set up a frame with instr_ptr at unit
0 and its first instruction stores the same value again. A store starts an
instruction when it lands on an instruction start (not a cache unit) of
another instruction than the one before it. As sys.settrace sees them: not
RESUME (3.11+ report no 'opcode' event for it, neither at a call's start
nor after a yield), nor what comes before _co_firsttraceable. 3.13+'s
YIELD_VALUE stores the position the generator resumes at (the RESUME after
it), not its own: that store starts the YIELD_VALUE, and the step reports
the YIELD_VALUE as current. 3.10's YIELD_FROM, delegating, steps f_lasti
back one unit to run again at the next resumption, and 3.12's return from a
generator a FOR_ITER or SEND drives adds its return_offset to the caller's
prev_instr (one unit before the END_FOR or END_SEND it resumes at): no
instruction starts there. The rule
reads both values of one store, so it is the same rule both ways: forward
the store is seen after it happened, reverse before (undone), and the
value on the other side is the one seen at the watchpoint's previous stop.

What the traced run sees and we do not, because it does not quicken its
code and the recorded run does: a superinstruction of 3.11 and 3.12
(LOAD_FAST__LOAD_FAST) runs its second half without a store, and 3.11's
COMPARE_OP_INT_JUMP (_FLOAT_, _STR_) the conditional jump after the
comparison, and 3.11's PRECALLs specialized for builtins make the call and
skip the CALL, 3.11's list.append PRECALL and 3.12+'s CALL_LIST_APPEND
skip the POP_TOP after the call, and 3.14's conditional jumps, not taken, skip the
NOT_TAKEN after them (only an instrumented jump runs it), so those
instructions are no stop.

Forward, a stop is right after the store of its instruction. Reverse, the
store is undone at the stop; one `stepi` redoes it, so both directions land
on the same machine state (moves.Mover.land_ip), and a line step can go on
from there.
"""

import gdb

from . import debugger, frames, layout, memory, moves, window_state
from .errors import edge


def _starts(ci):
    """For each code unit of ci, the index of the instruction holding it
    (a cache unit belongs to the instruction before it); kept on ci."""
    s = getattr(ci, "_instr_of", None)
    if s is None:
        s = [0] * ci.n
        cur = 0
        for k in range(ci.n):
            if ci.is_start[k]:
                cur = k
            s[k] = cur
        ci._instr_of = s
    return s


def instruction_of(ci, idx):
    """The instruction (index of its first unit) holding code unit idx; idx
    itself when it is outside the code (-1: before the first)."""
    if 0 <= idx < ci.n:
        return _starts(ci)[idx]
    return idx


def starts_instruction(ci, before, after):
    """A store that changed frame position before -> after (code unit
    indices) begins an instruction that sys.settrace reports (see the
    module doc)."""
    if not _first_traced(ci) <= after < ci.n or not ci.is_start[after] or before == after:
        return False
    if ci.ops[after] == layout.get().op("RESUME"):
        # 3.11+: never an 'opcode' event (a call's first, or after a yield),
        # but 3.13+'s YIELD_VALUE stores the position it resumes at, this
        # RESUME, instead of its own.
        y = _yield_before(ci, after)
        return y is not None and instruction_of(ci, before) != y
    L = layout.get()
    was = instruction_of(ci, before)
    if 0 <= was < ci.n:
        if after == before - 1 and ci.ops[was] == L.op("YIELD_FROM"):
            return False  # 3.10: YIELD_FROM rewinds f_lasti to run again when resumed
        if ci.ops[was] in (L.op("FOR_ITER"), L.op("SEND")) and after + 1 < ci.n and ci.is_start[after + 1] \
                and ci.ops[after + 1] in (L.op("END_FOR"), L.op("END_SEND")):
            return False  # 3.12: a generator's return adds the caller's return_offset
    return was != after


def _yield_before(ci, i):
    """The YIELD_VALUE right before instruction i, or None."""
    L = layout.get()
    return i - 1 if i > 0 and ci.is_start[i - 1] and ci.ops[i - 1] == L.op("YIELD_VALUE") else None


def _first_traced(ci):
    """3.11+: nothing before _co_firsttraceable is traced (COPY_FREE_VARS,
    MAKE_CELL, RETURN_GENERATOR); 3.10 traces from the first instruction
    (its GEN_START too)."""
    return ci.firsttraceable if layout.get().co_firsttraceable is not None else 0


class InstructionWatch(moves.Checked, moves.MoveWatch):
    """Frame f's position watchpoint whose stop() accepts a store that starts
    an instruction (starts_instruction): it reads both values of the store,
    the one now (forward: after the store; reverse: before it, undone) and
    the one seen at its previous stop. skip: the first store met does not
    count (reverse, right after the store that made the current instruction
    current)."""

    def __init__(self, f, ci, reverse, skip=False):
        super().__init__(frames.ip_watch_expr(f))
        self.f = f
        self.ci = ci
        self.reverse = reverse
        self.skip = skip
        self.seen = frames.ip_index(f, ci)

    def check(self):
        moves.count_py_stop()
        if moves.at_window_end():
            return True
        hit = self._stored()  # gdb.MemoryError: not there yet, no stop (Checked)
        if self.skip:
            self.skip = False
            return False
        if hit:
            window_state.set_var("tl_h", 1)
        return hit

    def _stored(self):
        if frames.code_addr(self.f) != self.ci.addr:
            # The frame address now holds another call's frame (3.11, 3.12:
            # set up again before its code was stored): watch that one.
            ci = frames.code_of(self.f)
            if ci is None or not ci.has_source:
                return False
            self.ci = ci
            self.seen = -1 if not self.reverse else frames.ip_index(self.f, ci)
            return not self.reverse and starts_instruction(ci, -1, self.seen)
        now = frames.ip_index(self.f, self.ci)
        before, after = (now, self.seen) if self.reverse else (self.seen, now)
        self.seen = now
        return starts_instruction(self.ci, before, after)


class InstructionMover(moves.Mover):
    """The engine's rule for one bytecode instruction: a store that starts an
    instruction in the followed frame (InstructionWatch); any frame change
    (a call, return, yield or resumption; reverse: undone) moves the watch
    to the frame current then."""

    def ip_watch(self, f, ci, skip):
        return InstructionWatch(f, ci, self.reverse, skip)


@moves.move
def do_step_instruction(reverse):
    """One bytecode instruction forward or back, in any frame of the thread
    with a source file: into a called Python function's first instruction,
    out to the caller's next one, through a generator's resumptions. Reply:
    the position (moves.finish_reply) with the instruction's byte offset."""
    t0, state = moves.begin(reverse)
    m = InstructionMover(reverse, state)
    try:
        m.arm_cf()
        # Reverse: the first store met going back is the one we are right
        # after, which made the current instruction current (arm_ip's first).
        m.arm_ip(frames.current_frame(), first=True)
        while m.stops < moves.MAX_STOPS:
            what = m.go()
            if what == "ip":
                m.land_ip()
                r = moves.finish_reply(m, t0)
                r.update(current_instruction())
                return r
            if what == "cf":
                m.arm_ip(frames.current_frame())
                continue
            if what == "edge":
                break
            raise moves.refuse(m, state, "interrupted", "instruction step interrupted (%s); time unchanged" % what)
        else:
            raise moves.refuse(m, state, "gave-up", "instruction step gave up after %d stops; time unchanged" % m.stops)
        # The edge of the recorded history.
        m.cleanup()
        if reverse and moves.window_start_is_event(state):
            # The window's first position is an instruction's start (its
            # store is just before the recording began).
            debugger.goto("begin")
            r = moves.finish_reply(m, t0, edge_="start")
            r.update(current_instruction())
            return r
        debugger.restore(state)
        raise edge(reverse, "no %s instruction" % ("earlier" if reverse else "later"))
    finally:
        m.cleanup()


def current_instruction():
    """The current frame's instruction: its byte offset (dis's; None without
    a Python frame), its name in memory, its code ("co_name:firstlineno"),
    and where in the recording the step landed (record instruction, pc)."""
    st = debugger.record_state()
    out = {"offset": None, "opname": None, "code": None, "at": st[1], "pc": moves.pc()}
    shown = frames.visible_frames()
    if not shown:
        return out
    f, ci = shown[0]
    i = instruction_of(ci, frames.ip_index(f, ci))
    if 0 <= i < ci.n and ci.ops[i] == layout.get().op("RESUME") and _yield_before(ci, i) is not None:
        i -= 1  # 3.13+: a yield in progress holds its resumption's position
    out["code"] = "%s:%d" % (ci.name, ci.firstlineno)
    if 0 <= i < ci.n:
        out["offset"] = 2 * i
        try:
            op = memory.u8(frames.code_base(f, ci) + 2 * i)
            out["opname"] = layout.get().opnames.get(op, "<%d>" % op)
        except gdb.MemoryError:
            pass
    return out


