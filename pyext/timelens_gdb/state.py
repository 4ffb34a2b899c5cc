"""The state of one time point: threads, frames with their variables, the
value and storage of a dotted name. What the editor shows comes from here.
"""

import gdb

from . import frames, layout, source
from .errors import TimelensError
from .threads import thread_states
from .values import DEFAULT_LIMIT, Reader, render, type_label


def frame_list(r, ts):
    """[(depth, frame, CodeInfo)] of a thread's complete Python frames with a
    source file, innermost first."""
    f = frames.CurrentFrame(ts).read()
    return [(d, fr, ci) for d, (fr, ci) in enumerate(frames.visible_frames(f, complete=True))]


def frame_at(r, ts, depth):
    for d, f, ci in frame_list(r, ts):
        if d == depth:
            return f, ci
    raise TimelensError("not-found", "no Python frame at depth %d in this thread" % depth)


def frame_info(depth, f, ci):
    lasti = frames.ip_index(f, ci)
    owner = frames.owner(f)
    if owner is None:
        kind = "generator" if frames.is_generator(f) else "thread"
    else:
        kind = layout.get().t.owners.get(owner, str(owner))
    return {
        "depth": depth,
        "frame": "0x%x" % f,
        "code": "0x%x" % ci.addr,
        "file": ci.filename,
        "name": ci.name,
        "qualname": ci.qualname,
        "firstlineno": ci.firstlineno,
        "line": ci.line_or_none(lasti),
        "lasti": lasti,
        "owner": kind,
    }


def variable(r, name, val, slot, kind, tagged, limit):
    return {
        "stackref": tagged,
        "name": name,
        "kind": kind,
        "value": render(r, val, limit),
        "type": type_label(r, val),
        "address": "0x%x" % val,
        "slot": "0x%x" % slot,
    }


def shown_variables(r, f, ci, module_dunders=True):
    """Yield (name, value, slot, kind, tagged) of frame f's variables
    (Reader.frame_variables), each name once; without module frames' dunder
    globals when module_dunders is False."""
    seen = set()
    for name, val, slot, kind, tagged in r.frame_variables(f, ci):
        if name in seen or (not module_dunders and kind == "dict" and name.startswith("__") and name.endswith("__")):
            continue
        seen.add(name)
        yield name, val, slot, kind, tagged


def frame_locals(r, f, ci, limit, module_dunders=True):
    """The rendered variables of frame f (shown_variables)."""
    return [variable(r, name, val, slot, kind, tagged, limit)
            for name, val, slot, kind, tagged in shown_variables(r, f, ci, module_dunders)]


def threads():
    r = Reader()
    by_lwp = {t.ptid[1]: t.num for t in gdb.selected_inferior().threads()}
    sel = gdb.selected_thread()
    L = r.layout
    out = []
    for iid, ts in thread_states(L):
        native = r.mem.ptr(ts + L.ts_native_id) if L.ts_native_id is not None else None
        gdb_thread = by_lwp.get(native) if native is not None else None
        if gdb_thread is None and L.ts_native_id is None:
            for t in gdb.selected_inferior().threads():
                try:
                    if frames.tstate_for_thread(t) == ts:
                        gdb_thread = t.num
                except TimelensError:
                    pass
        out.append({
            "tstate": "0x%x" % ts,
            "interp": iid,
            "id": r.mem.i64(ts + L.ts_id),
            "native_thread_id": native,
            "thread_id": "0x%x" % r.mem.ptr(ts + L.ts_thread_id),
            "gdb_thread": gdb_thread,
            "selected": sel is not None and gdb_thread == sel.num,
            "has_frames": bool(frames.CurrentFrame(ts).read()),
        })
    return {"python": L.version_string(), "threads": out}


def frames_of(thread):
    r = Reader()
    ts = frames.tstate_for_thread(thread)
    return {"python": r.layout.version_string(), "thread": thread.num, "tstate": "0x%x" % ts,
            "frames": [frame_info(d, f, ci) for d, f, ci in frame_list(r, ts)]}


def locals_of(thread, depth, limit=DEFAULT_LIMIT):
    r = Reader()
    ts = frames.tstate_for_thread(thread)
    f, ci = frame_at(r, ts, depth)
    info = frame_info(depth, f, ci)
    info["locals"] = frame_locals(r, f, ci, limit)
    return info


def parameters(r, ci):
    """The names of the parameters of code ci, in order (co_argcount,
    co_kwonlyargcount, *args, **kwargs: CodeInfo.nparams); without the
    implicit `.0` of a comprehension's code."""
    if not ci.nparams:
        return []
    names, _ = r.variable_names(ci.addr)
    return [n for n in names[:ci.nparams] if n.isidentifier()]


def code_facts(r, ci):
    """What the editor needs of a frame's code besides its variables: the
    names of its parameters and the line of its `def` (a lambda: its line),
    where they are shown; and the names each line of its file binds."""
    known = ci.filename and not ci.filename.startswith("<")
    return {
        "params": parameters(r, ci),
        "defline": source.def_line(ci.filename, ci.firstlineno, ci.name) if known else ci.firstlineno,
        "stores": source.stores(ci.filename) if known else {},
    }


def snapshot(thread, limit=DEFAULT_LIMIT):
    """Every Python frame of a thread with its variables, in one reply: the
    whole state of one time point in one MI round trip. Module frames list
    their globals without dunder names; each frame names its parameters and
    its def line, and says which names each line of its file binds
    (code_facts)."""
    r = Reader()
    ts = frames.tstate_for_thread(thread)
    out = []
    for d, f, ci in frame_list(r, ts):
        info = frame_info(d, f, ci)
        info["locals"] = frame_locals(r, f, ci, limit, module_dunders=False)
        info.update(code_facts(r, ci))
        out.append(info)
    return {"python": r.layout.version_string(), "thread": thread.num, "tstate": "0x%x" % ts, "frames": out}


def lookup_attr(r, obj, name):
    """(value, slot address, storage) of attribute name of obj, without running
    code (Reader.lookup_attr)."""
    return r.lookup_attr(obj, name)


def evaluate(thread, depth, path, limit=DEFAULT_LIMIT):
    """The value of a name or chain a.b.c seen from frame depth, with the
    storage of its final link (where a watchpoint finds its writes)."""
    parts = path.split(".")
    if not all(p.isidentifier() for p in parts):
        raise TimelensError("bad-argument", "%r is not a dotted name like a.b.c" % path)
    r = Reader()
    ts = frames.tstate_for_thread(thread)
    f, ci = frame_at(r, ts, depth)
    hit = r.lookup_name(f, ci, parts[0])
    if hit is None:
        raise TimelensError("not-found", "name %r is not defined in frame %d" % (parts[0], depth))
    found, tagged = hit[:3], hit[3]
    owner = 0
    for i, attr in enumerate(parts[1:], 1):
        owner = found[0]
        hit = r.lookup_attr(owner, attr)
        if hit is None:
            raise TimelensError("not-found", "%s has no attribute %r (readable without running code)"
                                % (".".join(parts[:i]), attr))
        found = hit
        tagged = False
    val, slot, kind = found
    return {
        "path": path,
        "depth": depth,
        "value": render(r, val, limit),
        "type": type_label(r, val),
        "address": "0x%x" % val,
        "slot": "0x%x" % slot,
        "stackref": tagged,
        "storage": kind,
        "owner": "0x%x" % owner if owner else None,
    }
