"""Code objects: names, line tables, bytecode, and which instructions are
sys.settrace line events.

A line event is decided per pair of instructions of one frame: instruction i
starting right after instruction p. The versions have three rules (the
table's line_rule), written here as one formula over a per-code-unit table:

    event(i, p) = ok(i) and (line(i) != lastline(p) or again(p) or (back(i) and i < p))
    lastline(p) = -1 when p <= FT, else line(p)

  * "monitoring" (3.12+, Python/instrumentation.c): ok(i) when i is marked
    (starts a line, is a jump target or an exception handler) and has a line;
    again(p) when p is RESUME or JUMP_BACKWARD; FT = -1; back never.
  * "tracing" (3.11, Python/ceval.c maybe_call_line_trace): ok(i) when i has a
    line, is not RESUME and is at or after _co_firsttraceable; FT =
    _co_firsttraceable; back(i) unless i is SEND; again never.
  * "lasti" (3.10, the same function there): ok(i) when i has a line and is
    not GEN_START; back always; FT = -1; again never.

In every version an instruction may store a position of its own (the table's
restores_position: RERAISE with a nonzero oparg puts back the one where the
exception was raised, for the traceback, before unwinding); the store after
such a p is no instruction start, and no event: restores(p).

The table packs, per code unit k: (line(k) + 1) << 4 | restores << 3 | ok << 2
| back << 1 | again. The same table drives the Python filter (is_event) and
the one gdb evaluates itself (moves.py), as a gdb convenience array.
"""

import gdb

from . import layout, memory, objects, window_state
from .errors import Unreadable


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


def lines_from_locations(t, table, firstlineno, n):
    """Line per code unit from a 3.11+ location table (Objects/locations.md;
    its entry codes are the table's LOCATION_*); -1 = none."""
    lines = [-1] * n
    line = firstlineno
    pos = 0
    unit = 0
    one_line = t.LOCATION_ONE_LINE_0
    while pos < len(table) and unit < n:
        first = table[pos]
        code = (first >> 3) & 15
        length = (first & 7) + 1
        pos += 1
        if code == t.LOCATION_NONE:
            cur = -1
        elif code == t.LOCATION_LONG:
            d, pos = _svarint(table, pos)
            line += d
            cur = line
            _, pos = _varint(table, pos)
            _, pos = _varint(table, pos)
            _, pos = _varint(table, pos)
        elif code == t.LOCATION_NO_COLUMNS:
            d, pos = _svarint(table, pos)
            line += d
            cur = line
        elif one_line <= code <= one_line + 2:
            line += code - one_line
            cur = line
            pos += 2
        else:  # short forms: same line, one byte of columns
            cur = line
            pos += 1
        for k in range(unit, min(n, unit + length)):
            lines[k] = cur
        unit += length
    return lines


def lines_from_pep626(t, table, firstlineno, n):
    """Line per code unit from a 3.10 co_linetable: (byte delta, line delta)
    pairs, line delta t.PEP626_NO_LINE for no line (Objects/lnotab_notes.txt);
    -1 = none."""
    lines = [-1] * n
    line = firstlineno
    end = 0
    for k in range(0, len(table) - 1, 2):
        start = end
        end = start + table[k]
        d = table[k + 1]
        d = d - 256 if d >= 128 else d
        if d == t.PEP626_NO_LINE:
            cur = -1
        else:
            line += d
            cur = line
        for u in range(start // 2, min(n, end // 2)):
            lines[u] = cur
    return lines


def _exc_varint(b, pos):
    # Exception-table varints: 6 bits per byte, bit 6 = continue, big-endian.
    val = b[pos] & 63
    while b[pos] & 64:
        pos += 1
        val = (val << 6) | (b[pos] & 63)
    return val, pos + 1


def pystr(addr, maxchars=4096):
    """A str object's text, its first maxchars characters (objects.str_text);
    None for NULL."""
    if not addr:
        return None
    return objects.str_text(memory, layout.get(), addr, maxchars)[0]


def pybytes(addr):
    """A bytes object's content (objects.bytes_value)."""
    return objects.bytes_value(memory, layout.get(), addr, limit=1 << 28)


def pytuple(addr):
    """A tuple's item addresses (objects.tuple_items)."""
    return objects.tuple_items(memory, layout.get(), addr)


def is_code(addr):
    L = layout.get()
    try:
        return bool(addr) and memory.u64(addr + L.ob_type) == L.code_type
    except gdb.MemoryError:
        return False


class CodeInfo:
    """What reading and navigation need of one code object."""

    _seq = 0

    def __init__(self, addr):
        L = layout.get()
        t = L.t
        self.addr = addr
        self.filename = pystr(memory.u64(addr + L.co_filename))
        self.name = pystr(memory.u64(addr + L.co_name))
        self.firstlineno = memory.i32(addr + L.co_firstlineno)
        self.flags = memory.i32(addr + L.co_flags)
        # Code whose co_filename is <string>, <frozen ...> or another <...> name
        # (the __init__ dataclasses generate, namedtuple's __new__, exec'd code)
        # has no source for the editor to show: moves pass through it like C
        # code, and its writes are placed at the line that called it.
        self.has_source = not (self.filename or "<").startswith("<")
        # How many of the first variables are parameters (positional ones,
        # positional-only included, keyword-only ones, *args, **kwargs).
        self.nparams = (memory.i32(addr + L.co_argcount) + memory.i32(addr + L.co_kwonlyargcount)
                        + bool(self.flags & t.CO_VARARGS) + bool(self.flags & t.CO_VARKEYWORDS))
        if L.co_code is not None:
            code = memory.u64(addr + L.co_code)
            self.n = memory.i64(code + L.ob_size) // 2
            self.base = code + L.bytes_sval
        else:
            self.n = memory.i64(addr + L.ob_size)
            self.base = addr + L.co_code_adaptive
        if self.n < 0 or self.n > 1 << 24:
            raise Unreadable(addr, "bad code object")
        raw = memory.read(self.base, 2 * self.n)
        linetable = pybytes(memory.u64(addr + L.co_linetable))
        decode = lines_from_locations if t.line_table == "locations" else lines_from_pep626
        self.lines = decode(t, linetable, self.firstlineno, self.n)
        if L.co_qualname is not None:
            self.qualname = pystr(memory.u64(addr + L.co_qualname))
        else:
            from .source import qualname
            self.qualname = qualname(self.filename, self.firstlineno, self.name)
        ops, args, starts = self._decode(L, raw)
        self.ops = ops
        self.is_start = [False] * self.n
        for i in starts:
            self.is_start[i] = True
        entry = 0
        while entry < self.n and ops[entry] in L.ops(t.entry_ops):
            entry += 1
        if L.co_firsttraceable is not None:
            self.firsttraceable = memory.i32(addr + L.co_firsttraceable)
        else:
            self.firsttraceable = entry
        self._linetable_ptr = memory.u64(addr + L.co_linetable)
        self.tab, self.ft = self._event_table(L, t, ops, args, starts, entry)
        self._event_starts = None
        # Superinstructions (3.11, 3.12): the first halves, which a quickened
        # code object may have fused with the next instruction.
        self.fusable = None
        if t.superinstructions:
            halves = L.ops(("LOAD_FAST", "STORE_FAST", "LOAD_CONST"))
            self.supers = {k for n, k in L.opcodes.items() if "__" in n and n.split("__")[0] in
                           ("LOAD_FAST", "STORE_FAST", "LOAD_CONST")}
            self.fusable = [i + 1 < self.n and ops[i] in halves and ops[i + 1] in halves for i in range(self.n)]
        CodeInfo._seq += 1
        self.gdbvar = "$tl_t%d" % CodeInfo._seq
        self._gdb_set = False

    def _decode(self, L, raw):
        """Base opcode and argument per code unit, and the instruction starts."""
        n = self.n
        ops = [0] * n
        args = [0] * n
        starts = []
        first_instrumented = min((k for name, k in L.opcodes.items() if name.startswith("INSTRUMENTED_")),
                                 default=256)
        i = 0
        while i < n:
            op = raw[2 * i]
            if op >= first_instrumented:
                op = self._deinstrument(L, i, op)
            op = L.deopt[op]
            ops[i] = op
            args[i] = raw[2 * i + 1]
            starts.append(i)
            i += 1 + L.caches[op]
        return ops, args, starts

    def _deinstrument(self, L, i, op):
        """The original opcode under sys.monitoring (the debuggee itself traces)."""
        t = L.t
        if op == L.op("INSTRUMENTED_LINE") and L.co_monitoring is not None and t.monitoring_lines:
            mon = memory.u64(self.addr + L.co_monitoring)
            lines = memory.u64(mon + L.off("_PyCoMonitoringData", "lines")) if mon else 0
            if lines:
                header, entry = t.monitoring_lines
                if entry is None:
                    entry = memory.u8(lines)
                op = memory.u8(lines + header + entry * i)
        name = L.opnames.get(op, "")
        if name.startswith("INSTRUMENTED_"):
            # INSTRUMENTED_X -> X is not in _PyOpcode_Deopt: map by name.
            op = L.opcodes.get(name[len("INSTRUMENTED_"):], op)
        return op

    def _event_table(self, L, t, ops, args, starts, entry):
        n = self.n
        lines = self.lines
        line_of = [-1] * n  # -1 also for cache units
        for i in starts:
            line_of[i] = lines[i]
        ok = [False] * n
        back = [False] * n
        again = [False] * n
        ft = -1
        if t.line_rule == "monitoring":
            never_start = L.ops(t.never_line_start)
            cur = -1
            for i in starts:
                if i < self.firsttraceable or ops[i] in never_start:
                    continue
                ok[i] = lines[i] != cur and lines[i] >= 0
                cur = lines[i]
            self._mark_jump_targets(L, t, ops, args, ok)
            self._mark_handlers(L, ops, ok)
            again_ops = L.ops(t.line_again_after)
            for i in starts:
                again[i] = ops[i] in again_ops
                ok[i] = ok[i] and lines[i] >= 0 and i >= self.firsttraceable
        elif t.line_rule == "tracing":
            no_line = L.ops(t.no_line_ops)
            no_back = L.ops(t.no_backward_ops)
            ft = self.firsttraceable
            for i in starts:
                ok[i] = i >= ft and lines[i] >= 0 and ops[i] not in no_line
                back[i] = ops[i] not in no_back
        else:  # "lasti"
            for i in starts:
                ok[i] = i >= entry and lines[i] >= 0
                back[i] = True
        # The line a previous instruction p stands for: under "monitoring" only
        # instruction starts have one; the older rules ask the line table, which
        # gives a cache unit its instruction's line (3.11 leaves a caller's
        # prev_instr on CALL's last cache unit while the callee runs).
        field = line_of if t.line_rule == "monitoring" else lines
        when = {L.op(name): w for name, w in t.restores_position.items() if L.op(name) is not None}
        restores = [self.is_start[k] and ops[k] in when and (when[ops[k]] == "always" or args[k] != 0)
                    for k in range(n)]
        tab = [((field[k] + 1) << 4) | (restores[k] << 3) | (ok[k] << 2) | (back[k] << 1) | again[k]
               for k in range(n)]
        return tab, ft

    def _mark_jump_targets(self, L, t, ops, args, marked):
        never = L.ops(t.never_marked_target)
        kinds = {L.op(name): kind for name, kind in t.jumps.items() if L.op(name) is not None}
        ext = L.op("EXTENDED_ARG")
        n = self.n
        i = self.firsttraceable
        while i < n:
            op = ops[i]
            oparg = 0
            while op == ext and i + 1 < n:
                oparg = (oparg << 8) | args[i]
                i += 1
                op = ops[i]
            oparg = (oparg << 8) | args[i]
            i += 1 + L.caches[op]
            kind = kinds.get(op)
            if kind is None:
                continue
            target = {"forward": i + oparg, "forward+1": i + oparg + 1, "backward": i - oparg}[kind]
            if 0 <= target < n and self.is_start[target] and ops[target] not in never:
                marked[target] = True

    def _mark_handlers(self, L, ops, marked):
        if L.co_exceptiontable is None:
            return
        et = pybytes(memory.u64(self.addr + L.co_exceptiontable))
        end_async_for = L.op("END_ASYNC_FOR")
        pos = 0
        while pos < len(et):
            _, pos = _exc_varint(et, pos)
            _, pos = _exc_varint(et, pos)
            handler, pos = _exc_varint(et, pos)
            _, pos = _exc_varint(et, pos)
            if 0 <= handler < self.n and self.is_start[handler] and ops[handler] != end_async_for:
                marked[handler] = True

    # -- positions -----------------------------------------------------------
    def line_at(self, idx):
        """The line of code unit idx; the first line where it has none."""
        if 0 <= idx < self.n:
            ln = self.lines[idx]
            return ln if ln >= 0 else self.firstlineno
        return self.firstlineno

    def line_or_none(self, idx):
        """PyCode_Addr2Line: the line of code unit idx, None where it has none;
        before the first instruction, the first line."""
        if idx < 0:
            return self.firstlineno
        if idx < self.n:
            ln = self.lines[idx]
            return ln if ln >= 0 else None
        return None

    # -- line events -----------------------------------------------------------
    def event_starts(self):
        """(index, line) of each instruction that is a line event when it runs
        from elsewhere (an instruction start with the event bit), in order."""
        if self._event_starts is None:
            self._event_starts = [(k, self.lines[k]) for k in range(self.n) if self.is_start[k] and self.tab[k] & 4]
        return self._event_starts

    def is_event(self, i, p):
        """Instruction i starting right after instruction p (-1: none yet) of the
        same frame is a sys.settrace line event."""
        if not (0 <= i < self.n and -1 <= p < self.n):
            return False
        ti = self.tab[i]
        if not ti & 4 or (p >= 0 and self.tab[p] & 8):
            return False
        tp = self.tab[p] if p > self.ft else 0
        return (ti >> 4) != (tp >> 4) or bool(tp & 1) or bool(ti & 2 and i < p)

    def crossed_event(self, i, p):
        """Like is_event for a forward pair p -> i, counting the instruction a
        superinstruction at p ran without storing its position: the sequence
        was p, p+1, i."""
        return bool(self.crossed(i, p))

    def crossed(self, i, p):
        """The line events (instruction indices) of a forward pair p -> i of
        one frame: [i] or none, or, where a superinstruction at p ran p + 1
        without storing its position, those of p -> p+1 -> i."""
        if self.fusable is not None and 0 <= p < self.n and self.fusable[p] and i == p + 2:
            try:
                fused = memory.u8(self.base + 2 * p) in self.supers
            except gdb.MemoryError:
                fused = False
            if fused:
                return [k for k, q in ((p + 1, p), (i, p + 1)) if self.is_event(k, q)]
        return [i] if self.is_event(i, p) else []

    def ensure_gdb_table(self):
        """The name of a gdb convenience array holding the event table."""
        if not self._gdb_set:
            gdb.execute("set %s = {%s}" % (self.gdbvar, ", ".join(str(x) for x in self.tab)), to_string=True)
            self._gdb_set = True
        return self.gdbvar


_CODES = {}
window_state.on_new_process(_CODES.clear)


def code_info(addr):
    """The CodeInfo of the code object at addr, cached while the object lives."""
    L = layout.get()
    ci = _CODES.get(addr)
    if ci is not None:
        # Guard against a freed and reused code object address.
        try:
            if memory.u64(addr + L.co_linetable) == ci._linetable_ptr and memory.i32(addr + L.co_firstlineno) == ci.firstlineno:
                return ci
        except gdb.MemoryError:
            pass
    ci = CodeInfo(addr)
    if len(_CODES) > 4096:
        _CODES.clear()
    _CODES[addr] = ci
    return ci
