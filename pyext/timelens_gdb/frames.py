"""Python threads and frames, read from memory.

A thread's current frame hangs off its PyThreadState along the table's
current_frame path: tstate->frame (3.10), tstate->cframe->current_frame
(3.11, 3.12: a C-level call into the interpreter pushes a new _PyCFrame, so
the path has two links), tstate->current_frame (3.13+). Frames link to their
caller through `previous` (3.10: f_back); interpreter shims (the entry frame a
C-level call pushes, 3.12+) are skipped.
"""

import gdb

from . import layout, memory, window_state
from .code import code_info, is_code
from .errors import TimelensError
from .threads import thread_states


# -- threads ---------------------------------------------------------------

def _thread_key(thread):
    """What a gdb thread is matched on: its LWP (native ids) or pthread handle."""
    L = layout.get()
    if L.t.thread_match == "native":
        return thread.ptid[1] or thread.ptid[2]
    try:
        return int.from_bytes(bytes(thread.handle()), "little")
    except (gdb.error, AttributeError, TypeError):
        return None


def tstate_key(ts):
    L = layout.get()
    if L.t.thread_match == "native":
        return memory.u64(ts + L.ts_native_id)
    return memory.u64(ts + L.ts_thread_id)


def tstate_for_thread(thread):
    """The PyThreadState address of a gdb thread."""
    L = layout.get()
    key = _thread_key(thread)
    states = list(thread_states(L))
    for _, ts in states:
        if key is not None and tstate_key(ts) == key:
            return ts
    if len(states) == 1 and len(gdb.selected_inferior().threads()) == 1:
        return states[0][1]
    if L.t.tstate_tls and thread == gdb.selected_thread():
        try:
            ts = int(gdb.parse_and_eval("(unsigned long)%s" % L.t.tstate_tls))
            if ts:
                return ts
        except gdb.error:
            pass
    raise TimelensError("not-found", "gdb thread %d (LWP %d) runs no Python code (no thread state)"
                        % (thread.num, thread.ptid[1]))


def selected_thread():
    t = gdb.selected_thread()
    if t is None:
        raise TimelensError("no-process", "no thread selected (is the program running?)")
    return t


class CurrentFrame:
    """Where a thread keeps its current frame: read it, and watch it.

    The path has one or two links (see the module doc); with two, a gdb
    watchpoint on `expr` follows the first link as it changes (gdb watches
    every lvalue of an expression's value chain)."""

    def __init__(self, ts):
        L = layout.get()
        path = L.current_frame_path
        self.ts = ts
        self.first = ts + path[0]
        self.rest = path[1:]
        if not self.rest:
            self.expr = "*(unsigned long *) 0x%x" % self.first
        else:
            self.expr = "*(unsigned long *)(*(unsigned long *) 0x%x + %d)" % (self.first, self.rest[0])

    def read(self):
        a = memory.u64(self.first)
        for off in self.rest:
            if not a:
                return 0
            a = memory.u64(a + off)
        return a

    def condition(self, frames, same_link=False):
        """A gdb condition: the current frame is one of frames. same_link: and
        the first link is one of links() (see there)."""
        cond = " || ".join("%s == 0x%x" % (self.expr, f) for f in frames)
        links = self.links() if same_link else None
        if links:
            cond = "(%s) && (%s)" % (cond, " || ".join("*(unsigned long *) 0x%x == 0x%x" % (self.first, c)
                                                       for c in links))
        return cond

    def links(self):
        """The first links (3.11, 3.12: tstate->cframe) under which a frame of
        this evaluation can be current: the one now or the one it returns to
        (its `previous`). A C-level call into the interpreter pushes a
        _PyCFrame whose current_frame holds stack garbage (often 0) until the
        evaluator stores it, which must not pass for a frame of the outer
        evaluation. None where the path has one link (3.10, 3.13+)."""
        if not self.rest:
            return None
        now = memory.u64(self.first)
        links = [now]
        try:
            links.append(memory.u64(now + layout.get().off("cframe", "previous")))
        except (KeyError, gdb.MemoryError):
            pass
        return links

    def link_in(self, links):
        """The first link now is one of links (None: any)."""
        return links is None or memory.u64(self.first) in links


_CF = {}
window_state.on_new_process(_CF.clear)


def current_frame_location(thread=None):
    """The CurrentFrame of a thread (default: the selected one), cached while
    its thread state stays where it is."""
    thread = thread or selected_thread()
    L = layout.get()
    key = (id(L), thread.num)
    cf = _CF.get(key)
    if cf is not None:
        return cf
    cf = CurrentFrame(tstate_for_thread(thread))
    _CF.clear()
    _CF[key] = cf
    return cf


def forget():
    """Forget where threads keep their frames (a thread state may move)."""
    _CF.clear()


def current_frame():
    return current_frame_location().read()


# -- one frame ------------------------------------------------------------------

def previous(f):
    return memory.u64(f + layout.get().f_previous)


def owner(f):
    L = layout.get()
    return memory.u8(f + L.f_owner) if L.f_owner is not None else None


def is_shim(f):
    """f is an interpreter shim (the C-stack entry frame of the evaluator),
    not a Python function's frame."""
    L = layout.get()
    first = L.t.first_shim_owner
    return first is not None and memory.u8(f + L.f_owner) >= first


def code_addr(f):
    """The address of the code object frame f runs (tag bits cleared)."""
    L = layout.get()
    co = memory.u64(f + L.f_code)
    return co & L.t.stackref_mask if L.t.stackref_mask is not None else co


def code_of(f):
    """The CodeInfo of frame f, or None for shims, frames without code and
    addresses that hold no frame (3.11, 3.12: a _PyCFrame just pushed holds
    stack garbage until the evaluator stores its current frame)."""
    try:
        if not f or is_shim(f):
            return None
        co = code_addr(f)
    except gdb.MemoryError:
        return None
    if not is_code(co):
        return None
    return code_info(co)


def ip_addr(f):
    """The address of the field the interpreter stores before every instruction."""
    return f + layout.get().f_ip


def code_base(f, ci):
    """The address of code unit 0 that frame f executes (3.14's free-threaded
    builds may run a thread-local copy of the bytecode)."""
    L = layout.get()
    if L.f_tlbc is not None and L.co_tlbc is not None:
        idx = memory.i32(f + L.f_tlbc)
        if idx > 0:
            arr = memory.u64(ci.addr + L.co_tlbc)
            if arr:
                return memory.u64(arr + L.t.TLBC_ENTRIES_AT + 8 * idx)
    return ci.base


def ip_of(f, ci, raw):
    """The instruction index a raw value of the frame's ip field stands for."""
    t = layout.get().t
    if t.ip_kind == "index":
        return raw - (1 << 32) if raw >= 1 << 31 else raw   # a C int, read as unsigned
    return (raw - ci.base) >> t.CODE_UNIT_SHIFT


def read_ip(f):
    """The raw value of frame f's ip field (see ip_of)."""
    L = layout.get()
    if L.t.ip_kind == "index":
        return memory.u32(f + L.f_ip)
    return memory.u64(f + L.f_ip)


def ip_index(f, ci):
    """The index of the instruction frame f executes (or last started)."""
    L = layout.get()
    if L.t.ip_kind == "index":
        return memory.i32(f + L.f_ip)
    return (memory.u64(f + L.f_ip) - code_base(f, ci)) >> L.t.CODE_UNIT_SHIFT


def ip_watch_expr(f):
    """A gdb lvalue for the frame's ip field."""
    L = layout.get()
    width = "int" if L.t.ip_kind == "index" else "unsigned long"
    return "*(%s *) 0x%x" % (width, f + L.f_ip)


def ip_index_expr(f, ci):
    """A gdb expression for the instruction index the frame's ip field holds."""
    L = layout.get()
    if L.t.ip_kind == "index":
        return "(long)(*(int *) 0x%x)" % (f + L.f_ip)
    return "((long)(*(unsigned long *) 0x%x) - 0x%x) >> %d" % (f + L.f_ip, ci.base, L.t.CODE_UNIT_SHIFT)


def is_generator(f):
    """f is the frame of a generator, coroutine or async generator."""
    L = layout.get()
    if not f:
        return False
    if L.f_gen is not None:
        return memory.u64(f + L.f_gen) != 0
    return memory.u8(f + L.f_owner) == L.t.owner_generator


def gen_state_addr(f):
    """The address of generator frame f's state byte (created, suspended, ... done)."""
    L = layout.get()
    if L.gen_state_in_frame is not None:
        return f + L.gen_state_in_frame
    return f - L.gen_iframe + L.gen_state


def frame_state(name):
    """The value of a frame state (enum _framestate) of this interpreter."""
    return layout.get().frame_states[name]


def started(f, ci):
    """Frame f has begun its code: its cells and generator exist (a frame being
    set up before _co_firsttraceable shows nothing yet; a 3.10 frame object is
    complete when it is pushed)."""
    if layout.get().t.frame_complete_when_pushed or is_generator(f):
        return True
    return ip_index(f, ci) >= ci.firsttraceable


def fresh(f, ci):
    """f is at the start of a call of ci (not a resumed generator)."""
    return ip_index(f, ci) <= ci.firsttraceable


# -- the stack -------------------------------------------------------------------

def python_frames(f=None, complete=False):
    """[(frame, CodeInfo)] from the innermost Python frame outwards; complete:
    without frames still being set up."""
    out = []
    f = current_frame() if f is None else f
    seen = set()
    while f and f not in seen and len(seen) < 100000:
        seen.add(f)
        ci = code_of(f)
        if ci is not None and (not complete or started(f, ci)):
            out.append((f, ci))
        try:
            f = previous(f)
        except gdb.MemoryError:
            break
    return out


def visible_frames(f=None, complete=False):
    """python_frames without those of code that has no source file (see
    code.has_source): what the user sees of the stack."""
    return [(fr, ci) for fr, ci in python_frames(f, complete) if ci.has_source]


def position():
    """The current position: file, 1-based line, function, depth (frames with
    a source file), frame. Code without a source file is passed through like
    C code: the position is that of the frame that called it."""
    frames = visible_frames()
    if not frames:
        return {"file": None, "line": None, "function": None, "depth": 0, "frame": None}
    f, ci = frames[0]
    return {"file": ci.filename, "line": ci.line_at(ip_index(f, ci)), "function": ci.qualname,
            "depth": len(frames), "frame": "0x%x" % f}
