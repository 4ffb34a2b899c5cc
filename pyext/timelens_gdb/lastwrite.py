"""The last write of a name or chain a.b.c before now, and its forward twin,
the next write after now: one search, run either way (find_write).

A watchpoint on the storage of the final link, run backwards (UDB: its
"last" command on that storage) or forwards. Forwards it runs only in the
recorded history: at the end of the log it stops, and never resumes the
program live with the watchpoint inserted (debugger.runs_live). The storage of an attribute can move (a
dict that grew, inline values turned into a dict): where the search stops in
such a copy, the attribute is looked up again at that time and the search
follows it to its older place. The caller reads the time and goes back.

Under UDB the search is Undo's own "last EXPRESSION": it goes back to the most
recent time the value of EXPRESSION changed and, like gdb's reverse watchpoint
stop, lands on the change itself with the old value still in memory (Undo's
addons, explain.py tool_last_value). Unlike a watchpoint it skips a store of
the value the slot already held (x = x): the answer is then the change before it.
"""

import gdb

from . import debugger, frames, layout, moves
from .errors import TimelensError, Unreadable
from .state import evaluate, frame_at, lookup_attr
from .values import DEFAULT_LIMIT, Reader, render


def _back_to_write(slot):
    """Moves back to the last write (UDB: change) of the 8 bytes at slot.
    Returns (what, detail): what is "write" (found: time is at the write),
    "edge" (none: time is at the start of history) or "other" (the debugger
    stopped for another reason, which detail names). The stop event decides,
    not what gdb printed: it prints whatever it likes on the way (source
    files it cannot find, "Run till exit", thread notices)."""
    return _to_write(slot, False)


def _to_write(slot, forward, call_frame=None):
    """_back_to_write either way. Forward, time is right after the write
    (memory holds the new value); "edge" is the end of the recorded history,
    where the search stops rather than run the program live; with
    call_frame (a frame whose own variable slot is), "ended" is the return
    of that call (time is at it)."""
    expr = "*(unsigned long *) 0x%x" % slot
    last = debugger.spec().get("last_change")
    if forward:
        return _forward_to_write(expr, slot, call_frame)
    if last:
        before = debugger.udb_now()
        try:
            out = debugger.resume("%s %s" % (last, expr))
        except gdb.error as e:
            out = str(e)
        after = debugger.udb_now()
        # A refused search leaves time where it was (or at the start of history):
        # only an earlier time is a change.
        if before is not None and after is not None and after < before:
            return "write", ""
        return "edge", out.strip()[-200:]
    wp = gdb.Breakpoint(expr, gdb.BP_WATCHPOINT, gdb.WP_WRITE, internal=True)
    try:
        hits = wp.hit_count
        debugger.stops().last = None
        try:
            debugger.resume("reverse-continue")
        except gdb.error as e:
            return "other", "gdb: %s" % e
        ev = debugger.stops().last
        if wp.hit_count > hits or (isinstance(ev, gdb.BreakpointEvent) and wp in ev.breakpoints):
            return "write", ""
        if isinstance(ev, gdb.SignalEvent):
            return "other", "signal %s" % ev.stop_signal
        if isinstance(ev, gdb.BreakpointEvent):
            return "other", "another breakpoint"
        return "edge", ""
    finally:
        wp.delete()


def _forward_to_write(expr, slot, call_frame=None):
    """The forward half of _to_write: a write watchpoint, continued while the
    recorded history lasts. gdb stops a write watchpoint only on a change of
    value, as backwards; at the end of the log its stop event may still list
    the watchpoint (record full names every watchpoint it checked), so the
    word itself says whether it changed. With call_frame, a second
    watchpoint on the thread's current frame stops where that call returns
    (the current frame becomes its caller): after it, its memory is another
    frame's (3.11+ push the next frame over it, 3.10 frees it)."""
    if debugger.runs_live():
        return "edge", ""
    old = _word(slot)
    wp = gdb.Breakpoint(expr, gdb.BP_WATCHPOINT, gdb.WP_WRITE, internal=True)
    pop, caller = None, None
    try:
        if call_frame:
            caller = frames.previous(call_frame)
            cf = frames.current_frame_location()
            pop = gdb.Breakpoint(cf.expr, gdb.BP_WATCHPOINT, gdb.WP_WRITE, internal=True)
            pop.silent = True
            pop.condition = moves.end_guard(cf.condition([caller], same_link=not caller))
        for _ in range(_MAX_SAME):
            debugger.stops().last = None
            try:
                debugger.resume("continue")
            except gdb.error as e:
                return "other", "gdb: %s" % e
            ev = debugger.stops().last
            if _word(slot) != old:
                return "write", ""
            if pop is not None and frames.current_frame() == caller:
                return "ended", ""
            if isinstance(ev, gdb.SignalEvent) and not debugger.end_signal(ev.stop_signal, False):
                return "other", "signal %s" % ev.stop_signal
            if isinstance(ev, gdb.BreakpointEvent) and wp not in ev.breakpoints and (pop is None or pop not in ev.breakpoints):
                return "other", "another breakpoint"
            if debugger.runs_live() or not isinstance(ev, gdb.BreakpointEvent):
                return "edge", ""
            # A stop on a watchpoint with nothing to see before the end of
            # the log (the word unchanged, the end guard's pc at another
            # time): on, while the history lasts.
        return "other", "%d watchpoint stops without a change" % _MAX_SAME
    finally:
        wp.delete()
        if pop is not None and pop.is_valid():
            pop.delete()


# How many stops without a change of the word a forward search takes.
_MAX_SAME = 100000


def _word(slot):
    """The 8 bytes at slot, or None when they cannot be read."""
    try:
        return int(gdb.parse_and_eval("*(unsigned long *) 0x%x" % slot))
    except gdb.error:
        return None


def _moved(r, owner, attr, slot):
    """The attribute's storage at this time, when it is not slot: the write
    just found copied it there (a dict that grew, inline values turned into a
    dict), and the search goes on from its older place. None when the write
    found is the one: the storage is the same, the attribute does not exist
    yet (its creation), or it is only a class attribute (a dataclass field's
    default) before the instance has its own.

    Where the attribute cannot be found at the write, the write may be a copy
    made half-way through rebuilding the storage: 3.10-3.12's dictresize points
    the dict at its new, still empty, table before it copies the entries into
    it. The attribute is then looked up as it was before the C calls under the
    evaluation loop began (reverse-finish out of them, at most _MAX_UNWIND);
    found there, the search goes on from that earlier time; not found, it is
    the attribute's creation and time goes back to the write."""
    found, before = _lookup(r, owner, attr), None
    if found is None:
        before = debugger.record_state()
        for _ in range(_MAX_UNWIND):
            frame = gdb.selected_frame()
            if frame.older() is None or _in_eval_loop(frame):
                break
            if not _reverse_finish(frame):
                break
            found = _lookup(Reader(), owner, attr)
            if found is not None:
                break
    if found is None or found[1] == slot or found[2] == "class":
        if before is not None:
            debugger.restore(before)
        return None
    return found[1]


# How many C frames a copy's lookup unwinds at most (see _moved), and the
# evaluation loop's C function, where it stops.
_MAX_UNWIND = 8
_EVAL_LOOP = "_PyEval_EvalFrame"


def _reverse_finish(frame):
    """Back to the call of frame's function, in its caller. gdb's
    reverse-finish needs the function's bounds, which a Python without
    .symtab does not give for its static functions (dictresize); there the
    call is found by the write that made it, the push of the return address
    (a watchpoint on the word under the caller's stack pointer, met going
    back). False when neither can go back."""
    try:
        debugger.resume("reverse-finish")
        return True
    except gdb.error:
        if frame.name() is not None or frame.older() is None:
            return False
    try:
        ret = int(frame.older().read_register("rsp")) - 8
    except (gdb.error, ValueError):
        return False
    return _back_to_write(ret)[0] == "write"


def _in_eval_loop(frame):
    """The C frame is the evaluation loop's, by its name or, where gdb names
    no frame (a Python without .symtab), by its pc."""
    name = frame.name()
    if name is not None:
        return name.startswith(_EVAL_LOOP)
    return layout.get().in_eval_loop(frame.pc())


def _lookup(r, owner, attr):
    """lookup_attr, or None when the object cannot be read now."""
    try:
        return lookup_attr(r, owner, attr) or None
    except Exception:  # noqa: BLE001 - an object not readable now (freed, half built): no storage to find
        return None


def last_write(thread, depth, path, max_stops=1000, limit=None):
    """The last write of path (a name or a chain a.b.c seen from the frame at
    depth) before now; time is left at the write."""
    return find_write(thread, depth, path, False, max_stops, limit)


def next_write(thread, depth, path, max_stops=1000, limit=None):
    """The first write of path after now, within the recorded history; time
    is left right after the write."""
    return find_write(thread, depth, path, True, max_stops, limit)


def find_write(thread, depth, path, forward, max_stops=1000, limit=None):
    """The write of path nearest to now, before it or (forward) after it:
    {path, value (the value written), file, line, function, depth (the
    writer's), stops, moved}. Backwards the value is the one path holds now;
    forwards it is read from the storage after the write."""
    info = evaluate(thread, depth, path, **({"limit": limit} if limit else {}))
    if info["storage"] == "builtin":
        raise TimelensError("not-found", "%s is a builtin: the recording never wrote it" % info["path"])
    slot = int(info["slot"], 16)
    owner = int(info["owner"], 16) if info["owner"] else 0
    attr = info["path"].rsplit(".", 1)[-1]
    tagged = info.get("stackref", False)
    start = debugger.record_state() if forward else None
    call_frame = None
    if forward and not owner and info["storage"] in _FRAME_STORAGE:
        call_frame = frame_at(Reader(), frames.tstate_for_thread(thread), depth)[0]
    what_of = "the next write" if forward else "the last write"
    owner_type = Reader().type_of(owner) if owner and forward else 0
    n = 0
    moved = 0
    value = info["value"]
    while True:
        if n >= max_stops:
            raise TimelensError("gave-up", "gave up after %d watchpoint stops looking for %s of %s"
                                % (n, what_of, info["path"]))
        what, detail = _to_write(slot, forward, call_frame)
        n += 1
        if what == "ended":
            raise TimelensError("no-later-write", "no write of %s after now in the recording: its call "
                                "returned first" % info["path"], path=info["path"])
        if what == "edge" and forward and owner and _alive(owner, owner_type):
            # At the end: an attribute whose storage moved since the search
            # began (a dict that grew, an instance attribute created over
            # a class one) was written in its new place.
            found = _lookup(Reader(), owner, attr)
            if found is not None and found[1] != slot:
                earliest, k = _writes_since_move(owner, attr, found[1], start)
                n += k
                if earliest is not None:
                    slot, tagged, moved = found[1], False, moved + 1
                    debugger.restore(earliest)
                    debugger.resume("stepi")
                    break
        if what == "edge":
            said = " (UDB: %s)" % detail if detail else ""
            if forward:
                raise TimelensError("no-later-write", "no write of %s after now in the recording: it keeps "
                                    "its value to the end of the recorded history" % info["path"], path=info["path"])
            raise TimelensError("no-earlier-write", "no write of %s before now: it was set before "
                                "recording started%s" % (info["path"], said), path=info["path"])
        if what == "other":
            raise TimelensError("interrupted", "the search for %s of %s stopped at %s before "
                                "finding one" % (what_of, info["path"], detail))
        if call_frame and frames.current_frame() != call_frame:
            # A frame's own variable is written only by its code running:
            # another frame writing its storage means the call returned
            # (3.10 clears a frame as it goes; 3.11+ push the next frame over it).
            raise TimelensError("no-later-write", "no write of %s after now in the recording: its call "
                                "returned first" % info["path"], path=info["path"])
        if not owner:
            break
        if not forward:
            older = _moved(Reader(), owner, attr, slot)
            if older is not None:
                # A copy into the attribute's new storage: follow it back.
                slot = older
                moved += 1
                continue
            break
        if not _alive(owner, owner_type):
            raise TimelensError("no-later-write", "no write of %s after now in the recording: its object "
                                "was freed first" % info["path"], path=info["path"])
        found = _lookup(Reader(), owner, attr)
        if found is None:
            # A deletion, or a write half-way through rebuilding the storage
            # (see _moved): the attribute is looked up again once the C calls
            # under the evaluation loop have returned.
            at_write = debugger.record_state()
            found = _lookup_after_c(owner, attr)
            if found is None or found[1] == slot:
                debugger.restore(at_write)
                if found is None:
                    value = "(deleted)"
                break
        elif found[1] == slot:
            break
        # The storage moved (a dict that grew) at some time before this stop,
        # which wrote the old place (reused memory, or the move itself).
        # Writes to the new place since the move come first: the earliest of
        # them, else on from here in the new place.
        moved += 1
        slot = found[1]
        tagged = False
        earliest, k = _writes_since_move(owner, attr, slot, start)
        n += k
        if earliest is not None:
            debugger.restore(earliest)
            debugger.resume("stepi")  # right after the write, as forward stops are
            break
    if forward and value != "(deleted)":
        value = _value_at(slot, tagged, limit)
    inner = frames.python_frames(complete=True)
    where = [(f, ci) for f, ci in inner if ci.has_source]
    if not where:
        raise TimelensError("not-found", "%s of %s was made outside Python code" % (what_of, info["path"]))
    f, ci = where[0]
    function = ci.qualname
    if inner and not inner[0][1].has_source:
        # Written by code without a source file (a dataclass's generated
        # __init__): named by its code, placed at the line that called it.
        function = "%s (%s)" % (inner[0][1].qualname, inner[0][1].filename)
    return {
        "path": info["path"], "value": value, "file": ci.filename,
        "line": ci.line_or_none(frames.ip_index(f, ci)),
        "function": function, "depth": len(where) - 1, "stops": n, "moved": moved,
    }


def _alive(owner, tp):
    """The object at owner is still the one the search began with: its type
    is tp and its reference count makes sense. A freed object's first word
    is the allocator's free-list link (an address: bits 32-47 set) or 0.
    The count is the word's low half (3.14 keeps flags in its top 16 bits;
    an immortal object's count is below 2**32 too)."""
    try:
        r = Reader()
        word = r.mem.i64(owner) & 0xFFFFFFFFFFFFFFFF
        return r.type_of(owner) == tp and word & 0xFFFFFFFF != 0 and (word >> 32) & 0xFFFF == 0
    except (gdb.MemoryError, Unreadable):  # unreadable: not the object any more
        return False


def _lookup_after_c(owner, attr):
    """The attribute's storage once the C calls under the evaluation loop
    have returned (finish out of them, at most _MAX_UNWIND, never past the
    end of the log); time is left there. None when it is not found then."""
    found = None
    for _ in range(_MAX_UNWIND):
        frame = gdb.selected_frame()
        if frame.older() is None or _in_eval_loop(frame) or debugger.runs_live():
            break
        try:
            debugger.resume("finish")
        except gdb.error:
            break
        found = _lookup(Reader(), owner, attr)
        if found is not None:
            break
    return found


# The storage kinds that are a frame's own memory (fast locals, and 3.12+'s
# inlined comprehensions' hidden ones).
_FRAME_STORAGE = ("local", "hidden")


def _writes_since_move(owner, attr, slot, start):
    """Forward search, after a move of the attribute's storage to slot was
    seen: walks back over the writes to slot until the copy that moved it
    there (or the search's start). Returns (the State of the earliest write
    after the copy, or None; the watchpoint stops made); time is left
    wherever the walk ended."""
    here = debugger.record_state()
    earliest = None
    k = 0
    while k < _MAX_WALK:
        what, _ = _to_write(slot, False)
        k += 1
        if what != "write":
            break
        st = debugger.record_state()
        if st[1] is None or start[1] is None or st[1] <= start[1]:
            break
        before = _lookup(Reader(), owner, attr)  # memory as it was before this write
        if before is not None and before[1] == slot and before[2] != "class":
            earliest = st  # an update in place: maybe an earlier one
            continue
        if _moved(Reader(), owner, attr, slot) is None:
            earliest = st  # the attribute's creation there: none earlier
        break  # else the copy into slot
    if earliest is None:
        debugger.restore(here)
    return earliest, k


# How many writes to a moved attribute's new place the forward search walks back over.
_MAX_WALK = 1000


def _value_at(slot, tagged, limit):
    """The value the storage at slot holds now, rendered."""
    r = Reader()
    try:
        word = r.mem.ptr(slot)
        obj = r.stackref(word) if tagged else word
        if not obj:
            return "(deleted)"
        return render(r, obj, limit or DEFAULT_LIMIT)
    except Exception as e:  # noqa: BLE001 - an unreadable value is said, not fatal
        return "<unreadable: %s>" % e
