# timelens pyext/navigate.py: PEP 626 line stepping over a CPython process under gdb.
#
# Loaded into gdb with `source pyext/navigate.py` (after the other pyext file, whose
# names it does not need). Defines the MI commands
#
#   -timelens-record-window FUNC|--main LIMIT [SECONDS]
#       From a live process that is not recording (after `starti`, or stopped anywhere):
#       runs at full speed to the first line event of the first call of FUNC (co_qualname
#       or bare co_name; generator functions: the first resume) or of the main module,
#       then records with `record full` until the main module returns, a system call
#       record full cannot follow (catchpoints: exit_group, clone3, clone, fork, vfork,
#       rseq, epoll_create1, execve), about LIMIT instructions, or SECONDS (default 600)
#       elapse; then goes back to the window's start. Reply: the position (below) plus
#       window_end (why it ended), instructions, resume_hits, search_seconds,
#       record_seconds, startup_seconds.
#   -timelens-step step|next|finish [--reverse]
#       step: the next/previous line event (sys.settrace 'line' events, all frames).
#       next: the next/previous line event of the same frame activation (same frame
#         address while it stays on the stack, so recursion and address reuse are
#         safe); when the activation ends first (return, yield, exception), pdb's rule:
#         continue as step (forward: the next line event after it ends; reverse: the
#         last line event before it began).
#       finish: forward, just after the current frame is popped (return, yield or
#         exception), at the caller's current line (not a line event); reverse, just
#         before the push that began the current activation, at the caller's line.
#   -timelens-goto-entry
#       the first line event of the current activation of the current frame (for a
#       generator: of its current resume); edge "start" when the activation began
#       before the recording and the window starts at its first line event.
#   -timelens-call previous|next FUNC
#       the first line event of the previous/next call of FUNC, strictly before/after
#       now (generator resumes are not calls).
#   -timelens-where   the position, no move.
#   -timelens-dialect gdb|rr|udb
#       the debugger this runs in (default gdb): how to ask the time and go back to it.
#   -timelens-baseline-step step|next [--reverse]
#       the per-bytecode baseline make bench compares with (not for navigation).
#
# Position reply (JSON in ^done,json="..."; also kept in gdb._timelens_last_reply for
# commands that ran the program and so were answered ^running):
#   {"file", "line" (1-based), "function" (co_qualname), "depth" (Python frames on the
#    stack, module = 1), "frame" (address), "edge": null | "start" (the move ended on
#    the first position of the recorded window), "stops" (every time gdb stopped the
#    program and handed control to us: "resumes", the (reverse-)continue/stepi commands
#    this move ran, plus "py_stops", gdb.Breakpoint.stop callbacks), "gdb_triggers"
#    (watchpoint triggers whose condition gdb evaluated itself, in its expression
#    language, without handing control to us), "internal_stops" (py_stops +
#    gdb_triggers), "ms"}
# A move that cannot happen raises gdb.GdbError ("timelens: start of recorded history:
# ..." / "timelens: end of recorded history: ..." / "... no previous call of F") and
# leaves time where it was.
#
# It never runs code in the debuggee: everything is read from memory.
#
# How a line event is found (CPython 3.13, optimized computed-goto builds):
#   * Every bytecode instruction starts with `frame->instr_ptr = next_instr`.
#   * sys.settrace 'line' events (3.12+: sys.monitoring LINE + legacy JUMP) happen at
#     instruction i of a frame, previous instruction p of the same frame, iff
#       marked(i) and line(i) >= 0 and (line(p) != line(i) or op(p) in {RESUME, JUMP_BACKWARD})
#     where marked(i) = i starts a line, is a jump target or an exception handler
#     (Python/instrumentation.c initialize_lines, _Py_call_instrumentation_line,
#     Python/legacy_tracing.c sys_trace_jump_func).
#   * A hardware watchpoint on the current frame's instr_ptr carries that rule as a gdb
#     expression (per-code table in a gdb convenience array), so gdb filters the
#     per-instruction stores without calling Python; a second watchpoint on
#     tstate->current_frame reports frame pushes/pops (calls, returns, yields).
#   * Forward, a stop is right after the store of the event's instruction. Reverse, the
#     store is undone at the stop; one `stepi` redoes it, so both directions land on the
#     same machine state.
import json
import re
import signal
import struct
import threading
import time
import os

import gdb


# ---------------------------------------------------------------- version tables

class _V313:
    """CPython 3.13 constants (Include/opcode_ids.h, Include/internal/pycore_frame.h,
    Include/cpython/code.h, Python/instrumentation.c)."""
    version = (3, 13)
    RESUME = 149
    JUMP_BACKWARD = 77
    JUMP_BACKWARD_NO_INTERRUPT = 78
    JUMP_FORWARD = 79
    POP_JUMP = (97, 98, 99, 100)  # IF_FALSE, IF_NONE, IF_NOT_NONE, IF_TRUE
    FOR_ITER = 72
    SEND = 104
    END_FOR = 11
    END_SEND = 12
    END_ASYNC_FOR = 10
    EXTENDED_ARG = 71
    MIN_INSTRUMENTED = 236
    INSTRUMENTED_LINE = 254
    # Python/instrumentation.c initialize_lines: opcodes that never start a line
    # (and do not change the current line for the next instruction).
    NEVER_LINE_START = (10, 11, 12, 149)  # END_ASYNC_FOR, END_FOR, END_SEND, RESUME
    # ... and jump targets that are not marked as line starts either.
    NEVER_JUMP_TARGET_EVENT = ()
    OWNED_BY_THREAD = 0
    OWNED_BY_GENERATOR = 1
    # Owners from this one up are interpreter shims (C-stack entry frames), not
    # Python code (pycore_frame.h; Python/traceback.c tests `owner >= ...`).
    FIRST_SHIM_OWNER = 3
    # _PyInterpreterFrame.f_executable: a plain PyObject* (no tag bits).
    CODE_MASK = ~0
    # _PyCoMonitoringData.lines: an array of {uint8 original_opcode; int8 line_delta}.
    LINES_HEADER = 0
    LINES_ENTRY = 2
    CO_GENERATOR_FLAGS = 0x20 | 0x80 | 0x200  # generator, coroutine, async generator
    CODE_FIELD = "f_executable"
    IP_FIELD = "instr_ptr"
    # Python/pythonrun.c: the function that runs the main script (record-window's
    # start-up breakpoint); the first of these the debuggee has.
    RUN_MAIN = ("_PyRun_SimpleFileObject",)
    CURRENT_FRAME = "_Py_tss_tstate->current_frame"


class _V314(_V313):
    """CPython 3.14 constants: what differs from 3.13 (Include/opcode_ids.h,
    Include/internal/pycore_interpframe_structs.h, pycore_stackref.h, Python/instrumentation.c).
    Unchanged: every instruction still begins with `frame->instr_ptr = next_instr`
    (Python/generated_cases.c.h), FOR_ITER/SEND still jump over END_FOR/END_SEND
    (target = next + oparg + 1), JUMP_BACKWARD_JIT/_NO_JIT and RESUME_CHECK deopt to
    JUMP_BACKWARD/RESUME through _PyOpcode_Deopt (read from the process), the frame
    states, PyGenObject.gi_frame_state/gi_iframe, co_code_adaptive, the line table and
    _co_firsttraceable (read through DWARF)."""
    version = (3, 14)
    RESUME = 128
    JUMP_BACKWARD = 75
    JUMP_BACKWARD_NO_INTERRUPT = 76
    JUMP_FORWARD = 77
    POP_JUMP = (100, 101, 102, 103)  # IF_FALSE, IF_NONE, IF_NOT_NONE, IF_TRUE
    FOR_ITER = 70
    SEND = 106
    END_FOR = 9
    END_SEND = 10
    END_ASYNC_FOR = 68
    EXTENDED_ARG = 69
    POP_ITER = 30
    MIN_INSTRUMENTED = 234  # INSTRUMENTED_END_FOR
    INSTRUMENTED_LINE = 254
    # Python/instrumentation.c initialize_lines: POP_ITER (where FOR_ITER's exit
    # lands, after END_FOR) never starts a line and is never marked as a jump target.
    NEVER_LINE_START = (68, 9, 10, 128, 30)  # END_ASYNC_FOR, END_FOR, END_SEND, RESUME, POP_ITER
    NEVER_JUMP_TARGET_EVENT = (30,)
    # pycore_interpframe_structs.h: FRAME_OWNED_BY_INTERPRETER = 3 is the entry frame of
    # _PyEval_EvalFrameDefault (Python/ceval.c; 3.13 called it FRAME_OWNED_BY_CSTACK = 3),
    # FRAME_OWNED_BY_CSTACK = 4 is assigned nowhere: the shims are still owner >= 3.
    FIRST_SHIM_OWNER = 3
    # f_executable is a _PyStackRef: clear the tag bits (pycore_stackref.h Py_TAG_BITS,
    # as pyext/timelens.py's stackref_mask).
    CODE_MASK = ~0x3
    # _PyCoLineInstrumentationData (pycore_code.h): {uint8 bytes_per_entry; uint8 data[]},
    # entry i at data[i * bytes_per_entry], original opcode first.
    LINES_HEADER = 1
    LINES_ENTRY = None
    # Python/pythonrun.c of the 3.14 builds here names it _PyRun_SimpleFile.
    RUN_MAIN = ("_PyRun_SimpleFileObject", "_PyRun_SimpleFile")


_VERSIONS = {(3, 13): _V313, (3, 14): _V314}


class NavError(gdb.GdbError):
    pass


def _inf():
    return gdb.selected_inferior()


def _read(addr, n):
    if n <= 0:
        return b""
    return bytes(_inf().read_memory(addr, n))


def _u64(addr):
    return struct.unpack("<Q", _read(addr, 8))[0]


def _i64(addr):
    return struct.unpack("<q", _read(addr, 8))[0]


def _i32(addr):
    return struct.unpack("<i", _read(addr, 4))[0]


def _u8(addr):
    return _read(addr, 1)[0]


def _offsets(typename):
    t = gdb.lookup_type(typename)
    return {f.name: f.bitpos // 8 for f in t.fields() if f.name}, t.sizeof


class _Layout:
    """Field offsets read from the debuggee's DWARF, once per session."""

    def __init__(self):
        try:
            ver = int(gdb.parse_and_eval("(long)Py_Version"))
        except gdb.error:
            raise NavError("timelens: no CPython debug symbols in this process (Py_Version unknown)")
        self.hexversion = ver
        key = ((ver >> 24) & 0xFF, (ver >> 16) & 0xFF)
        if key not in _VERSIONS:
            raise NavError("timelens: navigation supports CPython %s, not %d.%d"
                           % (", ".join("%d.%d" % k for k in _VERSIONS), key[0], key[1]))
        self.v = _VERSIONS[key]
        self.frame, _ = _offsets("struct _PyInterpreterFrame")
        self.code, _ = _offsets("PyCodeObject")
        self.ascii, self.ascii_size = _offsets("PyASCIIObject")
        _, self.compact_size = _offsets("PyCompactUnicodeObject")
        self.bytes, _ = _offsets("PyBytesObject")
        self.varobj, _ = _offsets("PyVarObject")
        self.obj, _ = _offsets("PyObject")
        self.deopt = _read(int(gdb.parse_and_eval("(long)&_PyOpcode_Deopt")), 256)
        self.caches = _read(int(gdb.parse_and_eval("(long)&_PyOpcode_Caches")), 256)
        self.code_type = int(gdb.parse_and_eval("(long)&PyCode_Type"))
        tup, _ = _offsets("PyTupleObject")
        self.tuple_items = tup["ob_item"]
        self.cf_addr = None

    def current_frame_addr(self):
        # The address of tstate->current_frame of the selected thread (TLS). A move
        # reads it once: its watchpoints follow that thread (the _move wrapper forgets
        # it between moves, when the selected thread may change); evaluating it takes
        # about 0.08 ms, a tenth of a step's time when asked at every stop.
        if _IN_MOVE[0] and self.cf_addr is not None:
            return self.cf_addr
        self.cf_addr = int(gdb.parse_and_eval("(long)&" + self.v.CURRENT_FRAME))
        return self.cf_addr


_LAYOUT = None


def _layout():
    global _LAYOUT
    if _LAYOUT is None:
        _LAYOUT = _Layout()
    return _LAYOUT


def _pystr(addr):
    L = _layout()
    if not addr:
        return None
    length = _i64(addr + L.ascii["length"])
    state = struct.unpack("<I", _read(addr + L.ascii["state"], 4))[0]
    kind = (state >> 2) & 7
    compact = (state >> 5) & 1
    ascii_ = (state >> 6) & 1
    if not compact:
        return "<non-compact str>"
    data = addr + (L.ascii_size if ascii_ else L.compact_size)
    length = min(length, 4096)
    raw = _read(data, length * kind)
    return raw.decode({1: "latin-1", 2: "utf-16-le", 4: "utf-32-le"}[kind])


def _pybytes(addr):
    L = _layout()
    n = _i64(addr + L.varobj["ob_size"])
    return _read(addr + L.bytes["ob_sval"], n)


# ---------------------------------------------------------------- code objects

def _varint(b, pos):
    r = b[pos] & 63
    shift = 0
    while b[pos] & 64:
        pos += 1
        shift += 6
        r |= (b[pos] & 63) << shift
    return r, pos + 1


def _svarint(b, pos):
    v, pos = _varint(b, pos)
    return (-(v >> 1) if v & 1 else v >> 1), pos


def _decode_lines(table, firstlineno, n):
    """Line per code unit from a 3.11+ co_linetable (Objects/locations.md); -1 = none."""
    lines = [-1] * n
    line = firstlineno
    pos = 0
    unit = 0
    while pos < len(table) and unit < n:
        first = table[pos]
        code = (first >> 3) & 15
        length = (first & 7) + 1
        pos += 1
        if code == 15:
            cur = -1
        elif code == 14:
            d, pos = _svarint(table, pos)
            line += d
            cur = line
            _, pos = _varint(table, pos)
            _, pos = _varint(table, pos)
            _, pos = _varint(table, pos)
        elif code == 13:
            d, pos = _svarint(table, pos)
            line += d
            cur = line
        elif code in (10, 11, 12):
            line += code - 10
            cur = line
            pos += 2
        else:
            cur = line
            pos += 1
        for k in range(unit, min(n, unit + length)):
            lines[k] = cur
        unit += length
    return lines


_OPNAMES = {}


def _opcode_name(op):
    """The debuggee's name of opcode op (_PyOpcode_OpName), or "" for none."""
    names = _OPNAMES.get("by_op")
    if names is None:
        names = []
        for k in range(256):
            try:
                names.append(gdb.parse_and_eval("_PyOpcode_OpName[%d]" % k).string())
            except gdb.error:
                names.append("")
        _OPNAMES["by_op"] = names
    return names[op] if 0 <= op < len(names) else ""


def _opcode_names():
    """name -> opcode in the debuggee."""
    m = _OPNAMES.get("by_name")
    if m is None:
        _opcode_name(0)
        m = {n: k for k, n in enumerate(_OPNAMES["by_op"]) if n}
        _OPNAMES["by_name"] = m
    return m


class CodeInfo:
    """What navigation needs of one code object."""

    _seq = 0

    def __init__(self, addr):
        L = _layout()
        v = L.v
        c = L.code
        self.addr = addr
        self.filename = _pystr(_u64(addr + c["co_filename"]))
        self.name = _pystr(_u64(addr + c["co_name"]))
        self.qualname = _pystr(_u64(addr + c["co_qualname"]))
        self.firstlineno = _i32(addr + c["co_firstlineno"])
        self.flags = _i32(addr + c["co_flags"])
        self.firsttraceable = _i32(addr + c["_co_firsttraceable"])
        self.n = _i64(addr + L.varobj["ob_size"])
        self.base = addr + c["co_code_adaptive"]
        raw = _read(self.base, 2 * self.n)
        linetable = _pybytes(_u64(addr + c["co_linetable"]))
        self.lines = _decode_lines(linetable, self.firstlineno, self.n)
        n = self.n
        ops = [0] * n
        args = [0] * n
        starts = []
        i = 0
        while i < n:
            op = raw[2 * i]
            if op >= v.MIN_INSTRUMENTED:
                op = self._deinstrument(i, op)
            op = L.deopt[op] or op
            ops[i] = op
            args[i] = raw[2 * i + 1]
            starts.append(i)
            i += 1 + L.caches[op]
        self.ops = ops
        self.is_start = [False] * n
        for i in starts:
            self.is_start[i] = True
        marked = [False] * n
        line_of = [-1] * n  # -1 also for cache units (NO_LINE)
        for i in starts:
            line_of[i] = self.lines[i]
        cur = -1
        for i in starts:
            if i < self.firsttraceable:
                continue
            op = ops[i]
            ln = self.lines[i]
            if op in v.NEVER_LINE_START:
                marked[i] = False
            else:
                marked[i] = (ln != cur and ln >= 0)
                cur = ln
        # Jump targets.
        i = self.firsttraceable
        while i < n:
            op = ops[i]
            oparg = 0
            while op == v.EXTENDED_ARG:
                oparg = (oparg << 8) | args[i]
                i += 1
                op = ops[i]
            oparg = (oparg << 8) | args[i]
            i += 1 + L.caches[op]
            if op in v.POP_JUMP or op == v.JUMP_FORWARD:
                target = i + oparg
            elif op in (v.FOR_ITER, v.SEND):
                target = i + oparg + 1
            elif op in (v.JUMP_BACKWARD, v.JUMP_BACKWARD_NO_INTERRUPT):
                target = i - oparg
            else:
                continue
            if 0 <= target < n and self.is_start[target] and ops[target] not in v.NEVER_JUMP_TARGET_EVENT:
                marked[target] = True
        # Exception handlers.
        et = _pybytes(_u64(addr + c["co_exceptiontable"]))
        pos = 0
        while pos < len(et):
            start, pos = self._exc_varint(et, pos)
            size, pos = self._exc_varint(et, pos)
            handler, pos = self._exc_varint(et, pos)
            _, pos = self._exc_varint(et, pos)
            if 0 <= handler < n and self.is_start[handler] and ops[handler] != v.END_ASYNC_FOR:
                marked[handler] = True
        self.marked = marked
        # Table value per code unit: (line+1) << 2 | marked << 1 | special(prev RESUME/JUMP_BACKWARD)
        tab = []
        for i in range(n):
            ln = line_of[i]
            m = 1 if (marked[i] and ln >= 0 and i >= self.firsttraceable) else 0
            sp = 1 if (self.is_start[i] and ops[i] in (v.RESUME, v.JUMP_BACKWARD)) else 0
            tab.append(((ln + 1) << 2) | (m << 1) | sp)
        self.tab = tab
        CodeInfo._seq += 1
        self.gdbvar = "$tl_t%d" % CodeInfo._seq
        self._gdb_set = False

    @staticmethod
    def _exc_varint(b, pos):
        # Exception-table varints: 6 bits per byte, bit 6 = continue, big-endian.
        val = b[pos] & 63
        while b[pos] & 64:
            pos += 1
            val = (val << 6) | (b[pos] & 63)
        return val, pos + 1

    def _deinstrument(self, i, op):
        # The debuggee itself uses sys.monitoring/settrace: recover original opcodes.
        L = _layout()
        v = L.v
        mon = _u64(self.addr + L.code["_co_monitoring"])
        if op == v.INSTRUMENTED_LINE and mon:
            lines = _u64(mon + int(gdb.parse_and_eval("(long)&((_PyCoMonitoringData*)0)->lines")))
            if lines:
                # 3.13: {uint8 original_opcode; int8 line_delta}[]; 3.14: a
                # bytes_per_entry byte, then entries that start with the original opcode.
                entry = v.LINES_ENTRY if v.LINES_ENTRY is not None else _u8(lines)
                op = _u8(lines + v.LINES_HEADER + entry * i)
        if op >= v.MIN_INSTRUMENTED:
            # INSTRUMENTED_X -> X is not in _PyOpcode_Deopt; the line rule only needs
            # RESUME/JUMP_BACKWARD/jumps, whose instrumented forms we map by name, with
            # the debuggee's own opcode names (not those of gdb's Python).
            op = _opcode_names().get(_opcode_name(op).replace("INSTRUMENTED_", ""), op)
        return op

    def index(self, ip):
        return (ip - self.base) >> 1

    def line_at(self, idx):
        if 0 <= idx < self.n:
            ln = self.lines[idx]
            return ln if ln >= 0 else self.firstlineno
        return self.firstlineno

    def is_event(self, i, p):
        if not (0 <= i < self.n and 0 <= p < self.n):
            return False
        ti, tp = self.tab[i], self.tab[p]
        return bool((ti & 2) and (ti >> 2) > 0 and ((ti >> 2) != (tp >> 2) or (tp & 1)))

    def ensure_gdb_table(self):
        if not self._gdb_set:
            gdb.execute("set %s = {%s}" % (self.gdbvar, ", ".join(str(x) for x in self.tab)),
                        to_string=True)
            self._gdb_set = True
        return self.gdbvar


_CODES = {}


def code_info(addr):
    L = _layout()
    key = addr
    ci = _CODES.get(key)
    if ci is not None:
        # Guard against a freed and reused code object address.
        if (_u64(addr + L.code["co_linetable"]) == ci._linetable_ptr
                and _i64(addr + L.varobj["ob_size"]) == ci.n):
            return ci
    ci = CodeInfo(addr)
    ci._linetable_ptr = _u64(addr + L.code["co_linetable"])
    _CODES[key] = ci
    return ci


# ---------------------------------------------------------------- frames

def current_frame():
    return _u64(_layout().current_frame_addr())


def frame_code(f):
    """CodeInfo of a Python frame, or None for C-stack entry frames and non-code frames."""
    L = _layout()
    fo = L.frame
    if not f:
        return None
    if is_shim_frame(f):
        return None
    co = _u64(f + fo[L.v.CODE_FIELD]) & L.v.CODE_MASK
    if not co or _u64(co + L.obj["ob_type"]) != L.code_type:
        return None
    return code_info(co)


def is_shim_frame(f):
    """f is an interpreter shim (the C-stack entry frame of _PyEval_EvalFrameDefault),
    not a Python function's frame."""
    L = _layout()
    return _u8(f + L.frame["owner"]) >= L.v.FIRST_SHIM_OWNER


def frame_ip_addr(f):
    return f + _layout().frame[_layout().v.IP_FIELD]


def frame_ip(f):
    return _u64(frame_ip_addr(f))


def frame_previous(f):
    return _u64(f + _layout().frame["previous"])


# Generator and coroutine frames live inside their object (PyGenObject.gi_iframe; a
# coroutine's and an async generator's have the same layout), so a frame keeps its
# address across every suspension (yield, await) and resumption; gi_frame_state says
# whether it was never run, is suspended, running, or done (Include/internal/pycore_frame.h).
# The states are the same in 3.13 and 3.14 (enum _framestate).
FRAME_CREATED = -3
FRAME_COMPLETED = 1


def _gen_offsets():
    L = _layout()
    if getattr(L, "gen", None) is None:
        L.gen, _ = _offsets("PyGenObject")
    return L.gen


def is_gen_frame(f):
    """f belongs to a generator, coroutine or async generator object."""
    L = _layout()
    return bool(f) and _u8(f + L.frame["owner"]) == L.v.OWNED_BY_GENERATOR


def _gen_state_addr(f):
    g = _gen_offsets()
    return f - g["gi_iframe"] + g["gi_frame_state"]


class _MoveWatch(gdb.Breakpoint):
    """An internal, silent write watchpoint on the C lvalue expr, which the move that
    made it deletes (or _sweep, if the move failed)."""

    def __init__(self, expr):
        super().__init__(expr, gdb.BP_WATCHPOINT, gdb.WP_WRITE, internal=True)
        _LIVE.add(self)
        self.silent = True

    def delete(self):
        _LIVE.discard(self)
        if self.is_valid():
            super().delete()


class _GenStateWatch(_MoveWatch):
    """Watch the gi_frame_state of generator frame f; stop() accepts a state for which
    want(state) holds, read as memory is at the stop (forward: after the store;
    reverse: before it, the store being undone)."""

    def __init__(self, f, want):
        self.addr = _gen_state_addr(f)
        super().__init__("*(signed char *) 0x%x" % self.addr)
        self.want = want
        self.hit = False
        self.count = 0

    def stop(self):
        self.count += 1
        try:
            st = _u8(self.addr)
        except gdb.MemoryError:
            return False
        st = st - 256 if st >= 128 else st
        if self.want(st):
            self.hit = True
            return True
        return False


def python_frames(f=None):
    """(frame, CodeInfo) from the innermost Python frame outwards."""
    out = []
    f = current_frame() if f is None else f
    seen = 0
    while f and seen < 10000:
        ci = frame_code(f)
        if ci is not None:
            out.append((f, ci))
        f = frame_previous(f)
        seen += 1
    return out


def position():
    frames = python_frames()
    if not frames:
        return {"file": None, "line": None, "function": None, "depth": 0, "frame": None}
    f, ci = frames[0]
    return {"file": ci.filename, "line": ci.line_at(ci.index(frame_ip(f))),
            "function": ci.qualname, "depth": len(frames), "frame": "0x%x" % f}


# ---------------------------------------------------------------- gdb plumbing

class _StopTracker:
    def __init__(self):
        self.last = None
        gdb.events.stop.connect(self._on_stop)

    def _on_stop(self, ev):
        self.last = ev


_STOPS = None


def _stops():
    global _STOPS
    if _STOPS is None:
        _STOPS = _StopTracker()
    return _STOPS


# The debugger navigate.py runs in, as gdbmi/dialect.go names it: "gdb" (record full),
# "rr" (rr replay) or "udb" (Undo's UDB). The moves themselves are the same gdb
# watchpoints and (reverse-)continues in all three; what differs is how to ask the time,
# how to go back to a time (a refused move leaves time where it was) and how the end of
# history shows. Set by the Go backend (set_dialect) right after loading this file; kept
# on the gdb module, where timelens.py (loaded into the same gdb) reads it for its search
# of the last write (UDB's "last").
_DIALECT = gdb.__dict__.setdefault("_timelens_dialect", ["gdb"])
_DIALECTS = ("gdb", "rr", "udb")


def set_dialect(kind):
    if kind not in _DIALECTS:
        raise NavError("timelens: unknown debugger %r: valid ones are %s" % (kind, ", ".join(_DIALECTS)))
    _DIALECT[0] = kind


# rr: src/DebuggerExtensionCommand.cc ("when", "when-ticks"), src/launch_debugger.cc
# ("run EVENT" restarts at the first stop after event EVENT; "seek-ticks T").
# UDB: docs.undo.io TimeNotation.html ("info time": "Current time is: 11,571:0x5555555552df
# (in recorded range: [1 - 228,443])"; "ugo time BBCOUNT:0xPC").
_RR_EVENT = re.compile(r"Completed event: (\d+)")
_RR_TICK = re.compile(r"Current tick: (\d+)")
_UDB_TIME = re.compile(r"Current time is: ([0-9,]+)(?::(0x[0-9a-fA-F]+))?")


class _State(tuple):
    """(replaying, time) with, under rr, the checkpoint taken there (or None)."""
    checkpoint = None


# rr checkpoints (src/DebuggerExtensionCommand.cc: "checkpoint" answers "Checkpoint N at
# WHERE", or "The program is not being run." at the debuggee's end; "delete checkpoint N";
# src/launch_debugger.cc: "restart N" = "run cN", GdbServer::restart_session seeks straight
# to the checkpoint's mark). "run EVENT" + "seek-ticks T" replays forward from the nearest
# earlier point rr kept, so a move that may have to come back to where it began (a refused
# move leaves time unchanged) takes a checkpoint first, and every move drops its own when
# it ends (_drop_checkpoints, from the _move wrapper). gdbmi/dialect.go lists the same
# commands (BookmarkCreate, BookmarkGoto, BookmarkDelete) and says which debugger wants it
# (GotoReplays).
_RR_CHECKPOINT = re.compile(r"Checkpoint (\d+) at")
_CHECKPOINTS = []  # ids this module created and has not deleted


def _take_checkpoint():
    """The id of a new rr checkpoint here, or None when rr refused one."""
    try:
        out = gdb.execute("checkpoint", to_string=True)
    except gdb.error:
        return None
    m = _RR_CHECKPOINT.search(out)
    if not m:
        return None
    _CHECKPOINTS.append(m.group(1))
    return m.group(1)


def _drop_checkpoints():
    while _CHECKPOINTS:
        try:
            gdb.execute("delete checkpoint " + _CHECKPOINTS.pop(), to_string=True)
        except gdb.error:
            pass  # gone already (rr restarted elsewhere): nothing to free


def _record_state(mark=False):
    """(replaying, time): replaying is None without a recording, False at gdb's live end;
    time is comparable: gdb's instruction number, rr's (event, ticks), UDB's (bbcount, pc).
    mark: under rr, also take a checkpoint there for _restore (the start of a move)."""
    d = _DIALECT[0]
    if d == "rr":
        out = gdb.execute("when", to_string=True) + gdb.execute("when-ticks", to_string=True)
        e, t = _RR_EVENT.search(out), _RR_TICK.search(out)
        if not e or not t:
            raise NavError("timelens: rr did not say the time (when, when-ticks): %r" % out.strip()[:200])
        st = _State((True, (int(e.group(1)), int(t.group(1)))))
        if mark:
            _drop_checkpoints()  # a move that ended without the _move wrapper (baseline)
            st.checkpoint = _take_checkpoint()
        return st
    if d == "udb":
        out = gdb.execute("info time -a", to_string=True)
        m = _UDB_TIME.search(out)
        if not m:
            raise NavError("timelens: UDB did not say the time (info time -a): %r" % out.strip()[:200])
        return True, (int(m.group(1).replace(",", "")), int(m.group(2) or "0", 16))
    out = gdb.execute("info record", to_string=True)
    if "No recording is currently active" in out or "No record target" in out:
        return None, None
    m = re.search(r"Current instruction number is (\d+)", out)
    if m:
        return True, int(m.group(1))
    return False, None


def _replaying():
    if _DIALECT[0] != "gdb":
        return True  # rr and UDB only replay: forward never runs the process live
    return "Replay mode" in gdb.execute("info record", to_string=True)


def _goto_commands(where):
    """The CLI commands that go to a time of _record_state (or gdb's "begin"/"end")."""
    d = _DIALECT[0]
    if d == "rr":
        return ["run %d" % where[0], "seek-ticks %d" % where[1]]
    if d == "udb":
        return ["ugo time %d:0x%x" % where if where[1] else "ugo time %d" % where[0]]
    return ["record goto %s" % where]


def _goto_insn(where):
    for c in _goto_commands(where):
        try:
            _resume(c)
        except gdb.error as e:
            if "Already at target" not in str(e):
                raise


def _restore(state):
    replaying, num = state
    cp = getattr(state, "checkpoint", None)
    if cp is not None:
        try:
            _resume("restart " + cp)
            return
        except gdb.error:
            pass  # the checkpoint is gone or rr refused: go back by time
    if replaying:
        _goto_insn(num)
    elif replaying is False:
        _goto_insn("end")


def _end_signal(signal_name, reverse):
    """A signal stop that means the end of history: rr ends a forward replay with a
    synthetic SIGKILL at the debuggee's exit (src/GdbServer.cc, src/test/run_end.py)."""
    return not reverse and _DIALECT[0] == "rr" and signal_name == "SIGKILL"


# gdb 17+ (seen with gdb 18 in the sid root): when an MI command written in Python
# resumes the program with gdb.execute(..., to_string=True), the "^running" result
# record goes into the captured string and gdb prints no result record at all for the
# command (gdb 16 printed ^running), so the MI client never hears back. The first
# resumption of each MI command therefore runs uncaptured under gdb 17+: gdb prints
# ^running as before (and that command's console output goes to the MI stream).
_GDB_MAJOR = int(re.match(r"(\d+)", gdb.VERSION).group(1))
_MI_UNCAPTURED = [False]  # the next resumption of this MI command runs uncaptured


def _resume(cmd):
    """Run a command that resumes the program (continue, stepi, record goto, ...);
    its console output, or "" when it ran uncaptured (see above)."""
    if _MI_UNCAPTURED[0]:
        _MI_UNCAPTURED[0] = False
        gdb.execute(cmd, to_string=False)
        return ""
    return gdb.execute(cmd, to_string=True)


def _set_var(name, value):
    gdb.set_convenience_variable(name, value)


def _get_var(name):
    v = gdb.convenience_variable(name)
    return None if v is None else int(v)


_LIVE = set()  # every breakpoint/watchpoint a move created, deleted when it ends


def _sweep():
    for bp in list(_LIVE):
        if bp.is_valid():
            bp.delete()
    _LIVE.clear()


class _Watch:
    """An internal hardware write watchpoint on 8 bytes at addr."""

    def __init__(self, addr, condition=None):
        self.addr = addr
        self.bp = gdb.Breakpoint("*(unsigned long *) 0x%x" % addr, gdb.BP_WATCHPOINT,
                                 gdb.WP_WRITE, internal=True)
        _LIVE.add(self.bp)
        self.bp.silent = True
        if condition:
            self.bp.condition = condition

    def delete(self):
        if self.bp is not None and self.bp.is_valid():
            self.bp.delete()
        _LIVE.discard(self.bp)
        self.bp = None


def _ip_watch(f, ci, reverse):
    """Watch frame f's instr_ptr, stopping only at line events of code ci."""
    t = ci.ensure_gdb_table()
    ipa = frame_ip_addr(f)
    cfa = _layout().current_frame_addr()
    idx = "((long)(*(unsigned long *) 0x%x) - 0x%x) >> 1" % (ipa, ci.base)
    ok = lambda v: "(%s >= 0 && %s < %d)" % (v, v, ci.n)
    ev = lambda i, p: ("((%s[%s] & 2) != 0 && (%s[%s] >> 2) > 0 && ((%s[%s] >> 2) != (%s[%s] >> 2) || (%s[%s] & 1) != 0))"
                       % (t, i, t, i, t, i, t, p, t, p))
    guard = "*(unsigned long *) 0x%x == 0x%x" % (cfa, f)
    if not reverse:
        _set_var("tl_p", ci.index(frame_ip(f)))
        cond = ("($tl_n = $tl_n + 1), ($tl_i = %s), ($tl_h = (%s && %s && %s && %s)), ($tl_p = $tl_i), $tl_h"
                % (idx, guard, ok("$tl_i"), ok("$tl_p"), ev("$tl_i", "$tl_p")))
    else:
        cond = ("($tl_n = $tl_n + 1), ($tl_i = %s), ($tl_h = (%s && %s && %s && %s)), ($tl_w = $tl_i), $tl_h"
                % (idx, guard, ok("$tl_w"), ok("$tl_i"), ev("$tl_w", "$tl_i")))
    return _Watch(ipa, cond)


# Which filter evaluates the per-instruction rule: "python" (a gdb.Breakpoint.stop
# method) or "gdb" (the condition above, evaluated by gdb itself: what an agent-side
# condition in UDB would be). make bench (calls.py, gdb 16.3 record full): the same
# triggers (about 7 per line) either way, but a Python callback is the cheaper filter:
# step 4.5-7.2 ms median with "python", 6.7-11.5 ms with "gdb", 7.0-9.0 ms for the
# per-bytecode baseline; "gdb" hands control to us 3.6x (step) to 16x (next) less often.
FILTER = os.environ.get("TIMELENS_NAV_FILTER", "python")
_PYCOUNT = [0]


class _IPWatchPy(_MoveWatch):
    """Frame f's instr_ptr watchpoint with the line-event rule in a stop() method."""

    def __init__(self, f, ci, reverse, skip_first=False):
        self.ipa = frame_ip_addr(f)
        super().__init__("*(unsigned long *) 0x%x" % self.ipa)
        self.f = f
        self.ci = ci
        self.cfa = _layout().current_frame_addr()
        self.reverse = reverse
        # forward: the previous instruction; reverse: the instruction whose store
        # the next trigger undoes (-1: skip it, it is the store we are right after).
        self.other = -1 if skip_first else ci.index(frame_ip(f))

    @property
    def bp(self):
        return self

    def stop(self):
        _PYCOUNT[0] += 1
        try:
            cur = self.ci.index(_u64(self.ipa))
            if _u64(self.cfa) != self.f:
                self.other = cur
                return False
        except gdb.MemoryError:
            return False
        if self.reverse:
            hit = self.ci.is_event(self.other, cur)
        else:
            hit = self.ci.is_event(cur, self.other)
        self.other = cur
        if hit:
            gdb.set_convenience_variable("tl_h", 1)
        return hit


# Machine addresses right after a store of instr_ptr (learned as we go): being at one
# of them means the current instruction's store has just happened.
_POST_STORE_PCS = set()


def _pc():
    return int(gdb.parse_and_eval("(long)$pc"))


STATS = {"moves": 0, "stops": 0, "internal": 0, "seconds": 0.0}


class Mover:
    """One navigation move: a loop of (reverse-)continue over two watchpoints."""

    def __init__(self, reverse):
        self.reverse = reverse
        self.stops = 0
        self.w_ip = None
        self.w_cf = None
        self.ip_frame = None
        self.cf_want = None

    def cleanup(self):
        for w in (self.w_ip, self.w_cf):
            if w is not None:
                w.delete()
        self.w_ip = self.w_cf = None

    def arm_ip(self, f, first=False):
        if self.w_ip is not None:
            self.w_ip.delete()
            self.w_ip = None
        self.ip_frame = None
        ci = frame_code(f)
        if ci is None:
            return
        skip = bool(self.reverse and first and _pc() in _POST_STORE_PCS)
        if FILTER == "python":
            self.w_ip = _IPWatchPy(f, ci, self.reverse, skip)
            self.ip_frame = f
            return
        if self.reverse:
            if skip:
                _set_var("tl_w", -1)  # skip the store we are right after
            else:
                _set_var("tl_w", ci.index(frame_ip(f)))
        self.w_ip = _ip_watch(f, ci, self.reverse)
        self.ip_frame = f

    def arm_cf(self, want=None):
        """Watch frame pushes/pops; with want (a frame's `previous`), only the frame's
        own pop (forward) or push (reverse)."""
        if self.w_cf is not None:
            self.w_cf.delete()
        cfa = _layout().current_frame_addr()
        if want is None:
            self.cf_want = None
            self.w_cf = _Watch(cfa)
            return
        wants = [want]
        if self.reverse and want and is_shim_frame(want):
            # A frame entered from C: _PyEval_EvalFrameDefault links it to its C-stack
            # entry frame but switches current_frame straight from the caller to it, so
            # before the push current_frame is the entry frame's `previous`.
            wants.append(frame_previous(want))
        self.cf_want = set(wants)
        # Conditional frame-change stops are counted in $tl_n like the ip ones.
        self.w_cf = _Watch(cfa, "($tl_n = $tl_n + 1), (%s)" % " || ".join(
            "*(unsigned long *) 0x%x == 0x%x" % (cfa, w) for w in wants))

    def go(self):
        """Resume once; returns 'ip', 'cf' or 'edge'."""
        if not self.reverse and not _replaying():
            # At the end of the recorded history a forward resume would run the process
            # live (and record more, or let it exit): never do that while navigating.
            return "edge"
        _stops().last = None
        _set_var("tl_h", 0)
        before = current_frame()
        self.stops += 1
        _resume("reverse-continue" if self.reverse else "continue")
        ev = _stops().last
        if isinstance(ev, gdb.BreakpointEvent):
            # Under record full gdb cannot tell which watchpoint fired, and the event
            # lists every watchpoint it checked (also at the end of history): decide
            # from memory. The ip watchpoint's condition leaves $tl_h = 1 when it
            # accepted; a frame change shows in current_frame.
            now = current_frame()
            if self.w_ip is not None and now == self.ip_frame and _get_var("tl_h") == 1:
                return "ip"
            if self.w_cf is not None and now != before and \
                    (self.cf_want is None or now in self.cf_want):
                return "cf"
            return "edge"
        if isinstance(ev, gdb.SignalEvent) and not _end_signal(ev.stop_signal, self.reverse):
            return "signal"
        return "edge"

    def land_ip(self):
        """At an ip watchpoint stop: make the machine state the forward one."""
        if self.reverse:
            self.cleanup()
            self.stops += 1
            _resume("stepi")
        _POST_STORE_PCS.add(_pc())


# Set by -timelens-record-window: the first recorded position is a line event.
_WINDOW = {"begin_is_event": False, "function": None, "name": None}


def _begin_insn():
    out = gdb.execute("info record", to_string=True)
    m = re.search(r"Lowest recorded instruction number is (\d+)", out)
    return int(m.group(1)) if m else None


def _window_start_is_event(state):
    """True when the recording's first position is a line event and we are later."""
    if not _WINDOW["begin_is_event"]:
        return False
    replaying, num = state
    if replaying and num is not None and num == _WINDOW.get("begin_insn"):
        return False
    return True


def _check_replayable(reverse):
    state = _record_state(mark=True)
    if state[0] is None:
        raise NavError("timelens: no recording: use -timelens-record-window first")
    if not reverse and not state[0]:
        raise NavError("timelens: end of recorded history: no later line event")
    return state


def _finish_reply(m, t0, edge=None):
    pos = position()
    trig = _get_var("tl_n") or 0
    n_int = trig + _PYCOUNT[0]
    pos.update({"edge": edge, "stops": m.stops + _PYCOUNT[0], "resumes": m.stops,
                "py_stops": _PYCOUNT[0], "gdb_triggers": trig, "internal_stops": n_int,
                "ms": round((time.time() - t0) * 1000, 1)})
    STATS["moves"] += 1
    STATS["stops"] += m.stops
    STATS["internal"] += n_int
    STATS["seconds"] += time.time() - t0
    return pos


def _edge_error(reverse, what):
    return NavError("timelens: %s of recorded history: %s (time unchanged)"
                    % ("start" if reverse else "end", what))


MAX_STOPS = 1000000


def do_step(kind, reverse, within=False):
    """A step, next or finish, either way. within (next only): stay within the current
    call, refusing the move when the call ends first instead of going on to the caller."""
    if kind not in ("step", "next", "finish"):
        raise NavError("timelens: step kind must be step, next or finish, not %r" % kind)
    t0 = time.time()
    state = _check_replayable(reverse)
    _set_var("tl_n", 0); _PYCOUNT[0] = 0
    m = Mover(reverse)
    f0 = current_frame()
    mode = kind
    fprev = frame_previous(f0) if f0 else 0
    gen_end = None
    try:
        if mode == "step":
            m.arm_cf()
            m.arm_ip(f0, first=True)
        elif mode == "next" and is_gen_frame(f0):
            # A generator's or coroutine's call spans its suspensions: next over a
            # yield or an await stays in it, to where it resumes (as pdb's next does);
            # only the end of the call (reverse: its start) leads out to the caller.
            gen_end = _GenStateWatch(f0, (lambda st: st == FRAME_CREATED) if reverse
                                     else (lambda st: st >= FRAME_COMPLETED))
            m.arm_ip(f0, first=True)
        elif mode == "next":
            m.arm_cf(fprev)
            m.arm_ip(f0, first=True)
        else:  # finish
            if frame_code(f0) is None:
                raise NavError("timelens: no Python frame to finish")
            m.arm_cf(fprev)
        while m.stops < MAX_STOPS:
            what = m.go()
            if gen_end is not None and gen_end.hit:
                # The generator's call ended (reverse: we are just before its first
                # resumption): out to the caller, as at a frame's end.
                _PYCOUNT[0] += gen_end.count
                gen_end.delete()
                gen_end = None
                what = "cf"
            if what == "ip":
                m.land_ip()
                return _finish_reply(m, t0)
            if what == "cf":
                if within and mode == "next":
                    raise _refuse(m, state, "timelens: the call returned: it has no later line event (time unchanged)")
                if mode == "finish":
                    if python_frames():
                        return _finish_reply(m, t0)
                    # Returned to C with no Python frame left: keep going to an event.
                if mode in ("next", "finish"):
                    # The frame ended (or, reverse, began): pdb semantics, continue as step.
                    mode = "step"
                    m.arm_cf()
                m.arm_ip(current_frame())
                continue
            if what == "edge":
                m.cleanup()
                if reverse and kind != "finish" and _window_start_is_event(state):
                    # The first position of a window made by -timelens-record-window is a
                    # line event (its store is just before the recording began).
                    _goto_insn("begin")
                    return _finish_reply(m, t0, edge="start")
                _restore(state)
                raise _edge_error(reverse, "no %s line event" % ("earlier" if reverse else "later")
                                  if kind != "finish" else "the frame does not %s in the recording"
                                  % ("begin" if reverse else "return"))
            raise _refuse(m, state, "timelens: move interrupted (%s); time unchanged" % what)
        raise _refuse(m, state, "timelens: move gave up after %d stops; time unchanged" % m.stops)
    finally:
        m.cleanup()
        if gen_end is not None:
            _PYCOUNT[0] += gen_end.count
            gen_end.delete()


def _step_to_first_event(m, t0, state, what):
    """From just before/after a frame push, forward to the next line event (the entry)."""
    m.cleanup()
    m.reverse = False
    m.arm_cf()
    m.arm_ip(current_frame())
    while True:
        w = m.go()
        if w == "ip":
            m.land_ip()
            m.cleanup()
            return _finish_reply(m, t0)
        if w == "cf":
            m.arm_ip(current_frame())
            continue
        m.cleanup()
        _restore(state)
        raise NavError("timelens: no line event after the start of %s (time unchanged)" % what)


def _refuse(m, state, msg):
    """Ends a move that cannot happen: its watchpoints gone, time back where it began."""
    m.cleanup()
    _restore(state)
    return NavError(msg)


def do_goto_entry():
    """First line event of the current call of the current frame (a generator's or
    coroutine's call began at its first resumption)."""
    t0 = time.time()
    f0 = current_frame()
    if frame_code(f0) is None:
        raise NavError("timelens: no Python frame")
    state = _check_replayable(True)
    _set_var("tl_n", 0); _PYCOUNT[0] = 0
    m = Mover(True)
    if is_gen_frame(f0):
        try:
            return _goto_gen_start(m, t0, state, f0)
        finally:
            m.cleanup()
    try:
        m.arm_cf(frame_previous(f0))
        what = m.go()
        m.cleanup()
        if what != "cf":
            _restore(state)
            if _WINDOW["begin_is_event"] and _WINDOW.get("frame") == "0x%x" % f0:
                # The call began before the recording, whose first position is the
                # call's first line event.
                _goto_insn("begin")
                return _finish_reply(m, t0, edge="start")
            raise NavError("timelens: the current call began before the recorded history")
        # Just before the push of the frame: the next line event is the entry.
        return _step_to_first_event(m, t0, state, "the call")
    finally:
        m.cleanup()


def _goto_gen_start(m, t0, state, f0):
    """The call of a generator or coroutine spans its resumptions: back to just before
    the first one (the store that ends FRAME_CREATED), then on to its first line event."""
    w = _GenStateWatch(f0, lambda st: st == FRAME_CREATED)
    m.stops += 1
    try:
        _resume("reverse-continue")
    finally:
        hit, n = w.hit, w.count
        w.delete()
    _PYCOUNT[0] += n
    if not hit:
        _restore(state)
        if _WINDOW["begin_is_event"] and _WINDOW.get("frame") == "0x%x" % f0:
            _goto_insn("begin")  # the recording begins at the call's first line event
            return _finish_reply(m, t0, edge="start")
        raise NavError("timelens: the current call began before the recorded history")
    m.reverse = False
    m.arm_ip(f0)
    while True:
        what = m.go()
        if what == "ip":
            m.land_ip()
            m.cleanup()
            return _finish_reply(m, t0)
        m.cleanup()
        _restore(state)
        raise NavError("timelens: no line event after the start of the call (time unchanged)")


def do_frame_next():
    """Forward to the next line event of the current frame's call: next, which follows a
    generator or coroutine across its suspensions, except that when the call returns
    first it is an error and time does not change."""
    return do_step("next", False, within=True)


def _matches(ci, func):
    return ci is not None and (ci.qualname == func or ci.name == func)


def _fresh(f, ci):
    """f is at the start of a call of ci (not a resumed generator)."""
    return ci.index(frame_ip(f)) <= ci.firsttraceable


class _CallWatch(_MoveWatch):
    """current_frame watchpoint whose stop() accepts the start of a call of FUNC."""

    def __init__(self, addr, func, reverse):
        super().__init__("*(unsigned long *) 0x%x" % addr)
        self.func = func
        self.reverse = reverse
        self.addr = addr
        self.last = _u64(addr)
        self.count = 0
        self.matched = False

    def stop(self):
        self.count += 1
        now = _u64(self.addr)
        # Forward: the new frame is in memory now. Reverse: the undone store wrote
        # the value seen at the previous stop.
        f = self.last if self.reverse else now
        self.last = now
        try:
            ci = frame_code(f)
            if not _matches(ci, self.func):
                return False
            if ci.flags & _layout().v.CO_GENERATOR_FLAGS and \
                    _u8(f + _layout().frame["owner"]) != _layout().v.OWNED_BY_GENERATOR:
                return False  # the frame that only creates the generator object
            self.matched = _fresh(f, ci)
            return self.matched
        except gdb.MemoryError:
            return False


def _add_py_stops(r, n):
    """Counts n more stop() callbacks (the call search's) in reply r."""
    for k in ("stops", "py_stops", "internal_stops"):
        r[k] += n


def do_call(direction, func):
    if direction not in ("previous", "next"):
        raise NavError("timelens: -timelens-call previous|next FUNC")
    t0 = time.time()
    reverse = direction == "previous"
    state = _check_replayable(reverse)
    start = state[1] if state[0] else None
    _set_var("tl_n", 0); _PYCOUNT[0] = 0
    m = Mover(reverse)
    internal = 0
    try:
        while True:
            if not reverse and not _replaying():
                matched = False
            else:
                cw = _CallWatch(_layout().current_frame_addr(), func, reverse)
                m.stops += 1
                try:
                    _resume("reverse-continue" if reverse else "continue")
                finally:
                    internal += cw.count
                    matched = cw.matched
                    cw.delete()
            if not matched:
                if reverse and _WINDOW["begin_is_event"] and _WINDOW.get("function") is not None \
                        and (_WINDOW["function"] == func or _WINDOW["function"].rsplit(".", 1)[-1] == func) \
                        and _window_start_is_event(state):
                    _goto_insn("begin")
                    r = _finish_reply(m, t0, edge="start")
                    _add_py_stops(r, internal)
                    return r
                _restore(state)
                raise _edge_error(reverse, "no %s call of %s" % (direction, func))
            # Forward: just after the push. Reverse: just before it. Either way the next
            # line event is the first line of the call.
            push = _record_state()
            r = _step_to_first_event(m, t0, state, "the call of %s" % func)
            if reverse and start is not None:
                now = _record_state()[1]
                if now is not None and now >= start:
                    # That was the call we are in (or at): search on before its start.
                    m = Mover(True)
                    m.stops = r["resumes"]
                    _restore(push)
                    continue
            _add_py_stops(r, internal)
            return r
    finally:
        m.cleanup()


_IN_MOVE = [False]  # a move is running: current_frame_addr may reuse its answer


def _move(fn):
    def wrapped(*a, **kw):
        _sweep()
        if _LAYOUT is not None:
            _LAYOUT.cf_addr = None
        _IN_MOVE[0] = True
        try:
            return fn(*a, **kw)
        finally:
            _IN_MOVE[0] = False
            _sweep()
            _drop_checkpoints()
    wrapped.__name__ = fn.__name__
    wrapped.__doc__ = fn.__doc__
    return wrapped


do_step = _move(do_step)
do_goto_entry = _move(do_goto_entry)
do_call = _move(do_call)


# The measuring baseline (not for navigation): the article's "stepping bytecodes"
# (a breakpoint in the interpreter's dispatch loop, one debugger stop per bytecode
# instruction; a line step = bytecode steps until the line changes) on a computed-goto
# build, which has no single dispatch point: an unconditional watchpoint on the current
# frame's instr_ptr stops at every bytecode (every TARGET starts with that store), and
# one on current_frame at every frame change (to follow calls, as the dispatch
# breakpoint does); Python decides at each stop.
def baseline_step(kind, reverse):
    """One stop per bytecode of every frame (and per frame change) until the next/
    previous line event (step), or of the same activation (next; pdb's rule when the
    activation ends first, as in do_step). Reply: the position, stops, ms."""
    if kind not in ("step", "next"):
        raise NavError("timelens: the baseline steps step or next, not %r" % kind)
    t0 = time.time()
    stops = 0
    st = _check_replayable(reverse)
    cfa = _layout().current_frame_addr()
    wcf = _Watch(cfa)
    wip = None
    f = current_frame()
    f0, f0prev = f, frame_previous(f) if f else 0
    mode = kind
    ci = frame_code(f)
    prev = ci.index(frame_ip(f)) if ci else None
    if reverse and _pc() in _POST_STORE_PCS:
        prev = None  # skip the store we are right after
    try:
        while True:
            if wip is None and ci is not None:
                wip = _Watch(frame_ip_addr(f))
            if not reverse and not _replaying():
                _restore(st)
                raise _edge_error(False, "no later line event")
            _stops().last = None
            stops += 1
            _resume("reverse-continue" if reverse else "continue")
            if not isinstance(_stops().last, gdb.BreakpointEvent):
                _restore(st)
                raise _edge_error(reverse, "no %s line event" % ("earlier" if reverse else "later"))
            cur = current_frame()
            if cur != f:
                if wip is not None:
                    wip.delete()
                    wip = None
                if mode == "next" and cur == f0prev:
                    mode = "step"  # the activation ended (forward) or began (reverse)
                f = cur
                ci = frame_code(f)
                prev = ci.index(frame_ip(f)) if ci else None
                continue
            if ci is None:
                continue
            i = ci.index(frame_ip(f))
            hit = prev is not None and (ci.is_event(prev, i) if reverse else ci.is_event(i, prev))
            prev = i
            if hit and (mode == "step" or f == f0):
                if reverse:
                    wcf.delete()
                    wip.delete()
                    wip = None
                    stops += 1
                    _resume("stepi")
                _POST_STORE_PCS.add(_pc())
                pos = position()
                pos.update({"edge": None, "stops": stops, "resumes": stops, "py_stops": 0,
                            "gdb_triggers": 0, "internal_stops": 0,
                            "ms": round((time.time() - t0) * 1000, 1)})
                return pos
    finally:
        wcf.delete()
        if wip is not None:
            wip.delete()


baseline_step = _move(baseline_step)


# ---------------------------------------------------------------- record window

_END_SYSCALLS = ("exit_group", "exit", "clone3", "clone", "fork", "vfork", "rseq",
                 "epoll_create1", "epoll_create", "execve")


def _find_codes(code_addr, func, depth=0, out=None):
    """Code objects named func among the constants of a code object, recursively."""
    L = _layout()
    out = [] if out is None else out
    if depth > 20:
        return out
    consts = _u64(code_addr + L.code["co_consts"])
    if not consts:
        return out
    n = _i64(consts + L.varobj["ob_size"])
    items = consts + L.tuple_items
    for k in range(min(n, 100000)):
        o = _u64(items + 8 * k)
        if o and _u64(o + L.obj["ob_type"]) == L.code_type:
            q = _pystr(_u64(o + L.code["co_qualname"]))
            nm = _pystr(_u64(o + L.code["co_name"]))
            if q == func or nm == func:
                out.append(code_info(o))
            _find_codes(o, func, depth + 1, out)
    return out


class _ResumeBreak(gdb.Breakpoint):
    """Breakpoint on the RESUME handlers: stops at the first call of FUNC (or __main__)."""

    def __init__(self, spec, func):
        super().__init__(spec, internal=True)
        self.silent = True
        self.func = func
        self.hits = 0
        self.matched = False

    def stop(self):
        self.hits += 1
        try:
            f = current_frame()
            ci = frame_code(f)
            if ci is None:
                return False
            if self.func is None:
                ok = ci.name == "<module>" and not ci.filename.startswith("<")
            else:
                ok = _matches(ci, self.func)
            self.matched = ok and _fresh(f, ci)
            return self.matched
        except gdb.MemoryError:
            return False


_CHECK_SECONDS = 0.25


def _log_size():
    m = re.search(r"Log contains (\d+) instructions", gdb.execute("info record", to_string=True))
    return int(m.group(1)) if m else None


def _inferior_pid():
    return _inf().pid


def _run_main_function():
    """The debuggee's function that runs the main script (the version table's RUN_MAIN)."""
    names = _layout().v.RUN_MAIN
    for name in names:
        try:
            gdb.parse_and_eval("(long)&%s" % name)
            return name
        except gdb.error:
            continue
    raise NavError("timelens: none of %s in this CPython: cannot find where the main script starts"
                   % ", ".join(names))


def do_record_window(target, limit, seconds=600.0):
    t0 = time.time()
    if _inferior_pid() == 0:
        raise NavError("timelens: no live process: start it first (e.g. starti)")
    if _record_state()[0] is not None:
        raise NavError("timelens: already recording")
    func = None if target == "--main" else target
    stops = 0
    gdb.execute("set pagination off", to_string=True)
    gdb.execute("set may-call-functions off", to_string=True)
    tmp = []
    try:
        # Phase 1: start-up at full speed to the main script (no Python frames before).
        try:
            started = current_frame() != 0
        except gdb.error:
            started = False
        if not started:
            b = gdb.Breakpoint(_run_main_function(), internal=True, temporary=True)
            b.silent = True
            stops += 1
            _resume("continue")
            if b.is_valid():
                b.delete()
        # Phase 2: the RESUME handlers (every frame start runs RESUME or RESUME_CHECK).
        # First the main module's frame, filtered in Python (a handful of hits) ...
        resume_labels = ["_PyEval_EvalFrameDefault:TARGET_RESUME",
                         "_PyEval_EvalFrameDefault:TARGET_RESUME_CHECK"]
        t1 = time.time()
        hits = 0

        def run_python_filtered(name):
            rb = [_ResumeBreak(spec, name) for spec in resume_labels]
            tmp.extend(rb)
            _stops().last = None
            try:
                _resume("continue")
            finally:
                n = sum(b.hits for b in rb)
                for b in rb:
                    b.delete()
                    tmp.remove(b)
            if not isinstance(_stops().last, gdb.BreakpointEvent) or not any(b.matched for b in rb):
                raise NavError("timelens: %s was never called" % (name or "the main module"))
            return n

        stops += 1
        if current_frame() == 0 or func is None:
            hits += run_python_filtered(None)
        if func is not None:
            # ... then FUNC. When its code objects are constants of the main module
            # (nested at any depth), gdb compares the starting frame's code object
            # with them itself: no Python per frame start.
            codes = []
            outer = python_frames()
            if outer:
                codes = _find_codes(outer[-1][1].addr, func)
            v = _layout().v
            codes = [c for c in codes if c.firsttraceable < c.n and
                     _u8(c.base + 2 * c.firsttraceable) == v.RESUME]
            if codes and len(codes) <= 3:
                # The first execution of a code object's RESUME quickens it in place
                # (RESUME -> RESUME_CHECK, bytecodes.c): a 1-byte hardware watchpoint on
                # that opcode fires exactly at the first call, with no stop before.
                wps = []
                for c in codes:
                    wp = gdb.Breakpoint("*(unsigned char *) 0x%x" % (c.base + 2 * c.firsttraceable),
                                        gdb.BP_WATCHPOINT, gdb.WP_WRITE, internal=True)
                    wp.silent = True
                    wps.append(wp)
                    tmp.append(wp)
                found = False
                try:
                    for _ in range(100):
                        _stops().last = None
                        stops += 1
                        hits += 1
                        _resume("continue")
                        if not isinstance(_stops().last, gdb.BreakpointEvent):
                            break
                        f = current_frame()
                        ci = frame_code(f)
                        if ci is not None and any(ci.addr == c.addr for c in codes):
                            found = True
                            break
                finally:
                    for wp in wps:
                        if wp.is_valid():
                            wp.delete()
                        tmp.remove(wp)
                if not found:
                    raise NavError("timelens: %s was never called" % target)
            else:
                stops += 1
                hits += run_python_filtered(func)
        t_search = time.time() - t1
        # Phase 3: to the first line event of that frame (a few instructions, live).
        f = current_frame()
        ci = frame_code(f)
        _set_var("tl_n", 0); _PYCOUNT[0] = 0
        w = _ip_watch(f, ci, False)
        try:
            stops += 1
            _resume("continue")
        finally:
            w.delete()
        _POST_STORE_PCS.add(_pc())
        start_pos = position()
        # Phase 4: record until the program ends, a syscall record full cannot follow,
        # the instruction limit, or the time bound.
        gdb.execute("set record full insn-number-max %d" % int(limit), to_string=True)
        gdb.execute("set record full stop-at-limit on", to_string=True)
        gdb.execute("record full", to_string=True)
        cps = []
        for sc in _END_SYSCALLS:
            try:
                out = gdb.execute("catch syscall %s" % sc, to_string=True)
                m = re.search(r"Catchpoint (\d+)", out)
                if m:
                    cps.append(int(m.group(1)))
            except gdb.error:
                pass
        # End the window when the outermost Python frame (the main module) returns:
        # interpreter finalization is long and of no interest.
        outer = python_frames()[-1][0]
        wend = _Watch(_layout().current_frame_addr(),
                      "*(unsigned long *) 0x%x == 0x%x" % (_layout().current_frame_addr(),
                                                           frame_previous(outer)))
        # gdb answers its "log full" query itself when not on a terminal (yes: drop the
        # oldest entries), which would lose the window start. So gdb's own limit is a
        # guard well above LIMIT, and the recording is interrupted every CHECK seconds
        # (SIGINT, which gdb keeps from the program) to compare the log size with LIMIT.
        gdb.execute("set record full insn-number-max %d" % (int(limit) + max(200000, int(limit) // 2)),
                    to_string=True)
        pid = _inferior_pid()
        t2 = time.time()
        out = ""
        interrupts = 0
        while True:
            timer = threading.Timer(_CHECK_SECONDS, lambda: os.kill(pid, signal.SIGINT))
            timer.start()
            _stops().last = None
            try:
                out = _resume("continue")
            except gdb.error as e:
                out = str(e)
            finally:
                timer.cancel()
            ev = _stops().last
            if isinstance(ev, gdb.SignalEvent) and ev.stop_signal == "SIGINT":
                interrupts += 1
                n = _log_size()
                if n is not None and n >= limit:
                    break
                if time.time() - t2 > seconds:
                    break
                continue
            break
        ev = _stops().last
        main_returned = isinstance(ev, gdb.BreakpointEvent) and wend.bp in ev.breakpoints
        wend.delete()
        for c in cps:
            gdb.execute("delete %d" % c, to_string=True)
        reason = "stopped"
        if isinstance(ev, gdb.SignalEvent) and ev.stop_signal == "SIGINT":
            n = _log_size()
            reason = ("instruction limit (%d)" % limit) if n is not None and n >= limit \
                else "time limit (%gs)" % seconds
        elif isinstance(ev, gdb.SignalEvent):
            reason = "signal " + ev.stop_signal
        elif main_returned:
            reason = "main module returned"
        elif isinstance(ev, gdb.BreakpointEvent):
            m = re.search(r"syscall (\d+ )?'?([a-z_0-9]+)'?", out)
            reason = "syscall " + (m.group(2) if m else "?")
        elif "stopped by user" in out or "limit" in out:
            reason = "instruction limit"
        t_rec = time.time() - t2
        info = gdb.execute("info record", to_string=True)
        mm = re.search(r"Log contains (\d+) instructions", info)
        ninsn = int(mm.group(1)) if mm else None
        low = re.search(r"Lowest recorded instruction number is (\d+)", info)
        _goto_insn("begin")
        pos = position()
        lost = pos["line"] != start_pos["line"] or pos["frame"] != start_pos["frame"]
        _WINDOW.update({"begin_is_event": not lost, "function": start_pos["function"],
                        "frame": start_pos["frame"], "begin_insn": _record_state()[1]})
        if not lost:
            _POST_STORE_PCS.add(_pc())
        if lost:
            reason += "; the window start was lost (gdb's log limit was reached)"
        pos.update({"window_end": reason, "instructions": ninsn,
                    "lowest_instruction": int(low.group(1)) if low else None,
                    "resume_hits": hits, "search_seconds": round(t_search, 3),
                    "record_seconds": round(t_rec, 3), "interrupts": interrupts,
                    "startup_seconds": round(t2 - t0, 3), "stops": stops})
        return pos
    finally:
        for b in tmp:
            if b.is_valid():
                b.delete()


# ---------------------------------------------------------------- MI commands

# Shared with the reader script (pyext/timelens.py): a command that runs the program is
# answered ^running by gdb's MI, which drops its result; -timelens-last-reply (or
# `python print(gdb._timelens_last_reply)`) fetches it afterwards.
if not hasattr(gdb, "_timelens_last_reply"):
    gdb._timelens_last_reply = {"reply": None, "error": None}
_LAST = gdb._timelens_last_reply


def _reply(obj):
    r = {"json": json.dumps(obj)}
    _LAST["reply"] = r
    return r


def _mi(fn):
    """Runs an MI command body: keeps its reply or error, never leaks a traceback."""
    def invoke(self, argv):
        _LAST["reply"], _LAST["error"] = None, None
        _MI_UNCAPTURED[0] = _GDB_MAJOR >= 17
        try:
            return fn(self, list(argv))
        except gdb.GdbError as e:
            _LAST["error"] = str(e)
            raise
        except Exception as e:
            _sweep()
            _LAST["error"] = "timelens internal error: %s: %s" % (type(e).__name__, e)
            raise gdb.GdbError(_LAST["error"])
        finally:
            _MI_UNCAPTURED[0] = False
    return invoke


class _MIStep(gdb.MICommand):
    def __init__(self):
        super().__init__("-timelens-step")

    @_mi
    def invoke(self, argv):
        args = list(argv)
        reverse = "--reverse" in args
        args = [a for a in args if a != "--reverse"]
        if len(args) != 1:
            raise NavError("usage: -timelens-step step|next|finish [--reverse]")
        return _reply(do_step(args[0], reverse))


class _MIEntry(gdb.MICommand):
    def __init__(self):
        super().__init__("-timelens-goto-entry")

    @_mi
    def invoke(self, argv):
        return _reply(do_goto_entry())


class _MIFrameNext(gdb.MICommand):
    """-timelens-frame-next: the next line event of the current frame's call, across
    its suspensions (history walks of generators and coroutines)."""

    def __init__(self):
        super().__init__("-timelens-frame-next")

    @_mi
    def invoke(self, argv):
        return _reply(do_frame_next())


class _MICall(gdb.MICommand):
    def __init__(self):
        super().__init__("-timelens-call")

    @_mi
    def invoke(self, argv):
        if len(argv) != 2:
            raise NavError("usage: -timelens-call previous|next FUNC")
        return _reply(do_call(argv[0], argv[1]))


class _MIWindow(gdb.MICommand):
    def __init__(self):
        super().__init__("-timelens-record-window")

    @_mi
    def invoke(self, argv):
        if len(argv) not in (2, 3):
            raise NavError("usage: -timelens-record-window FUNC|--main LIMIT [SECONDS]")
        try:
            limit = int(argv[1])
            secs = float(argv[2]) if len(argv) == 3 else 600.0
        except ValueError:
            raise NavError("timelens: LIMIT must be an integer number of instructions")
        return _reply(do_record_window(argv[0], limit, secs))


class _MIWhere(gdb.MICommand):
    def __init__(self):
        super().__init__("-timelens-where")

    @_mi
    def invoke(self, argv):
        return _reply(position())


class _MINavStats(gdb.MICommand):
    def __init__(self):
        super().__init__("-timelens-nav-stats")

    @_mi
    def invoke(self, argv):
        return _reply(STATS)


class _MIDialect(gdb.MICommand):
    """-timelens-dialect gdb|rr|udb: which debugger this is (see set_dialect)."""

    def __init__(self):
        super().__init__("-timelens-dialect")

    @_mi
    def invoke(self, argv):
        if len(argv) != 1:
            raise NavError("usage: -timelens-dialect gdb|rr|udb")
        set_dialect(argv[0])
        return _reply({"dialect": argv[0]})


class _MIBaseline(gdb.MICommand):
    """-timelens-baseline-step step|next [--reverse]: the per-bytecode baseline
    (for make bench; navigation uses -timelens-step)."""

    def __init__(self):
        super().__init__("-timelens-baseline-step")

    @_mi
    def invoke(self, argv):
        args = [a for a in argv if a != "--reverse"]
        if len(args) != 1:
            raise NavError("usage: -timelens-baseline-step step|next [--reverse]")
        return _reply(baseline_step(args[0], "--reverse" in argv))


for _c in (_MIStep, _MIEntry, _MIFrameNext, _MICall, _MIWindow, _MIWhere, _MINavStats, _MIBaseline, _MIDialect):
    _c()


# CLI twins for batch scripts and tests: `tl-nav step step --reverse` prints the JSON.
class _CLI(gdb.Command):
    def __init__(self):
        super().__init__("tl-nav", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        argv = gdb.string_to_argv(arg)
        cmd, rest = argv[0], argv[1:]
        table = {"step": _MIStep, "goto-entry": _MIEntry, "call": _MICall,
                 "record-window": _MIWindow, "where": _MIWhere, "stats": _MINavStats}
        try:
            if cmd == "step":
                r = do_step(rest[0], "--reverse" in rest)
            elif cmd == "goto-entry":
                r = do_goto_entry()
            elif cmd == "frame-next":
                r = do_frame_next()
            elif cmd == "call":
                r = do_call(rest[0], rest[1])
            elif cmd == "record-window":
                r = do_record_window(rest[0], int(rest[1]), float(rest[2]) if len(rest) > 2 else 600.0)
            elif cmd == "where":
                r = position()
            else:
                r = STATS
            print("TLNAV " + json.dumps(r))
        except gdb.GdbError as e:
            print("TLNAV-ERROR " + str(e))


_CLI()
