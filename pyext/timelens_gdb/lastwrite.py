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

from . import debugger, frames
from .errors import TimelensError
from .state import evaluate, lookup_attr
from .values import Reader


def _back_to_write(slot):
    """Moves back to the last write (UDB: change) of the 8 bytes at slot.
    Returns (found, what the debugger said)."""
    expr = "*(unsigned long *) 0x%x" % slot
    if debugger.kind() == "udb":
        before = debugger.udb_now()
        try:
            out = gdb.execute("%s %s" % (debugger.UDB_LAST, expr), to_string=True)
        except gdb.error as e:
            out = str(e)
        after = debugger.udb_now()
        # A refused search leaves time where it was (or at the start of history):
        # only an earlier time is a change.
        return before is not None and after is not None and after < before, out
    wp = gdb.Breakpoint(expr, gdb.BP_WATCHPOINT, gdb.WP_WRITE, internal=True)
    try:
        hits = wp.hit_count
        out = gdb.execute("reverse-continue", to_string=True)
        return wp.hit_count > hits, out
    finally:
        wp.delete()


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
        hit, out = _back_to_write(slot)
        n += 1
        if not hit:
            udb = debugger.kind() == "udb"
            if "history" in out or "Reached end" in out or udb:
                said = " (UDB: %s)" % out.strip()[-200:] if udb and out.strip() else ""
                raise TimelensError("no-earlier-write", "no write of %s before now: it was set before "
                                    "recording started%s" % (info["path"], said), path=info["path"])
            raise TimelensError("interrupted", "the search for the last write of %s stopped for another reason: %s"
                                % (info["path"], out.strip()[-200:]))
        if owner:
            r = Reader()
            try:
                found = lookup_attr(r, owner, attr)
            except Exception:
                found = None
            if found and found[1] != slot:
                # A copy into the attribute's new storage: follow it back.
                slot = found[1]
                moved += 1
                continue
        break
    where = frames.python_frames(complete=True)
    if not where:
        raise TimelensError("not-found", "the last write of %s was made outside Python code" % info["path"])
    f, ci = where[0]
    return {
        "path": info["path"], "value": info["value"], "file": ci.filename,
        "line": ci.line_or_none(frames.ip_index(f, ci)),
        "function": ci.qualname, "depth": len(where) - 1, "stops": n, "moved": moved,
    }
