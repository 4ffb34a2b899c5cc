"""The last write of a name or chain a.b.c before now.

A watchpoint on the storage of the final link, run backwards (UDB: its
"last" command on that storage). The storage of an attribute can move (a
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

from . import debugger, frames, layout
from .errors import TimelensError
from .state import evaluate, lookup_attr
from .values import Reader


def _back_to_write(slot):
    """Moves back to the last write (UDB: change) of the 8 bytes at slot.
    Returns (what, detail): what is "write" (found: time is at the write),
    "edge" (none: time is at the start of history) or "other" (the debugger
    stopped for another reason, which detail names). The stop event decides,
    not what gdb printed: it prints whatever it likes on the way (source
    files it cannot find, "Run till exit", thread notices)."""
    expr = "*(unsigned long *) 0x%x" % slot
    last = debugger.spec().get("last_change")
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
    except Exception:
        return None


def last_write(thread, depth, path, max_stops=1000, limit=None):
    info = evaluate(thread, depth, path, **({"limit": limit} if limit else {}))
    if info["storage"] == "builtin":
        raise TimelensError("not-found", "%s is a builtin: the recording never wrote it" % info["path"])
    slot = int(info["slot"], 16)
    owner = int(info["owner"], 16) if info["owner"] else 0
    attr = info["path"].rsplit(".", 1)[-1]
    n = 0
    moved = 0
    while True:
        if n >= max_stops:
            raise TimelensError("gave-up", "gave up after %d watchpoint stops looking for the last write of %s"
                                % (n, info["path"]))
        what, detail = _back_to_write(slot)
        n += 1
        if what == "edge":
            said = " (UDB: %s)" % detail if detail else ""
            raise TimelensError("no-earlier-write", "no write of %s before now: it was set before "
                                "recording started%s" % (info["path"], said), path=info["path"])
        if what == "other":
            raise TimelensError("interrupted", "the search for the last write of %s stopped at %s before "
                                "finding one" % (info["path"], detail))
        older = _moved(Reader(), owner, attr, slot) if owner else None
        if older is not None:
            # A copy into the attribute's new storage: follow it back.
            slot = older
            moved += 1
            continue
        break
    inner = frames.python_frames(complete=True)
    where = [(f, ci) for f, ci in inner if ci.has_source]
    if not where:
        raise TimelensError("not-found", "the last write of %s was made outside Python code" % info["path"])
    f, ci = where[0]
    function = ci.qualname
    if inner and not inner[0][1].has_source:
        # Written by code without a source file (a dataclass's generated
        # __init__): named by its code, placed at the line that called it.
        function = "%s (%s)" % (inner[0][1].qualname, inner[0][1].filename)
    return {
        "path": info["path"], "value": info["value"], "file": ci.filename,
        "line": ci.line_or_none(frames.ip_index(f, ci)),
        "function": function, "depth": len(where) - 1, "stops": n, "moved": moved,
    }
