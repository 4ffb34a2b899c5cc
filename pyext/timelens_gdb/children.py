"""What the Debug Adapter's Variables pane and its evaluate request read:
the children of a value (a list's items, a dict's entries, a set's members,
an instance's attributes), a frame's globals, and the value of an expression
of the condition language, each rendered as the hints render it
(values.render), from memory, a page at a time.

  children(addr, start, count, limit)
  frame_locals(thread, depth, start, count, limit)
  frame_globals(thread, depth, start, count, limit)
  expression(thread, depth, text, limit)

Each child is {name, value, type, address, children}: children is how many
children the child has itself (0: a leaf), so that the pane offers to expand
it without reading them.
"""

from . import condition, frames
from .errors import TimelensError, Unreadable
from .state import frame_at, shown_variables
from .values import ELLIPSIS, Reader, render, type_label

MAX_CHILDREN = 1 << 31


def _count(r, addr):
    """How many children addr has: items, entries, members or attributes."""
    L = r.L
    try:
        tp = r.type_of(addr)
        sym = L.type_by_addr.get(tp)
        if sym in ("PyList_Type", "PyTuple_Type"):
            return max(r.ob_size(addr), 0)
        if sym == "PyDict_Type":
            return max(r.mem.i64(addr + L.dict_used), 0)
        if sym in ("PySet_Type", "PyFrozenSet_Type"):
            return max(r.mem.i64(addr + L.set_used), 0)
        if sym is None and r.type_flags(tp) & r.t.TPFLAGS_HEAPTYPE and r.has_instance_storage(tp):
            n = 0
            for _ in r.instance_attrs(addr, tp):
                n += 1
                if n >= 10000:
                    break
            return n
    except Unreadable:
        pass
    return 0


def _entries(r, addr):
    """Yield (name, value address) of addr's children, in the order repr()
    shows them; None when addr has none."""
    L = r.L
    tp = r.type_of(addr)
    sym = L.type_by_addr.get(tp)
    if sym in ("PyList_Type", "PyTuple_Type"):
        n = r.ob_size(addr)
        base = r.mem.ptr(addr + L.list_items) if sym == "PyList_Type" else addr + L.tuple_items
        return n, _Indexed(n, lambda i: (str(i), lambda: r.mem.ptr(base + 8 * i)))
    if sym == "PyDict_Type":
        n = r.mem.i64(addr + L.dict_used)
        return n, ((lambda k=k: render(r, k), lambda v=v: v) for k, v, _ in r.dict_items(addr))
    if sym in ("PySet_Type", "PyFrozenSet_Type"):
        n = r.mem.i64(addr + L.set_used)
        return n, ((str(i), lambda k=k: k) for i, k in enumerate(r.set_items(addr)))
    if sym is None and r.type_flags(tp) & r.t.TPFLAGS_HEAPTYPE and r.has_instance_storage(tp):
        attrs = list(r.instance_attrs(addr, tp))
        return len(attrs), ((name, lambda v=v: v) for name, v, _, _ in attrs)
    return 0, iter(())


class _Indexed:
    """The items of a list or tuple, read by index: a page far into a long
    list does not walk the items before it."""

    def __init__(self, n, item):
        self.n = n
        self.item = item

    def page(self, start, end):
        return (self.item(i) for i in range(start, end))


def _page(r, n, entries, start, count, limit):
    if start < 0 or count < 0:
        raise TimelensError("bad-argument", "start and count must not be negative")
    end = n if count == 0 else min(n, start + count)
    if isinstance(entries, _Indexed):
        entries, skip = entries.page(min(start, end), end), 0
    else:
        skip = start
    out = []
    for i, (name, val) in enumerate(entries, start - skip):
        if i >= end:
            break
        if i < start:
            continue
        if callable(name):
            name = name()
        v = val()
        out.append(child(r, name, v, limit))
    return out


def child(r, name, v, limit):
    return {"name": name, "value": render(r, v, limit), "type": type_label(r, v),
            "address": "0x%x" % v, "children": _count(r, v)}


def children(addr, start, count, limit):
    """-timelens-children: a page of addr's children (count 0: all of them)."""
    r = Reader()
    n, entries = _entries(r, addr)
    return {"address": "0x%x" % addr, "type": type_label(r, addr), "count": n,
            "children": _page(r, n, entries, start, count, limit)}


def frame_locals(thread, depth, start, count, limit):
    """-timelens-children --locals: the variables of the frame at depth, the
    same as the snapshot's (module frames without their dunders)."""
    r = Reader()
    f, ci = frame_at(r, frames.tstate_for_thread(thread), depth)
    items = [(name, lambda v=val: v) for name, val, _slot, _kind, _tagged
             in shown_variables(r, f, ci, module_dunders=False)]
    return {"depth": depth, "count": len(items),
            "children": _page(r, len(items), iter(items), start, count, limit)}


def frame_globals(thread, depth, start, count, limit):
    """-timelens-children --globals: the module globals of the frame at depth,
    without the module's dunders (__name__, __builtins__, ...)."""
    r = Reader()
    f, _ci = frame_at(r, frames.tstate_for_thread(thread), depth)
    d = r.mem.ptr(f + r.L.f_globals)
    items = []
    if d and r.type_of(d) == r.L.addr["PyDict_Type"]:
        for k, v, _ in r.dict_items(d):
            name = r.py_str(k, 200)
            if not (name.startswith("__") and name.endswith("__")):
                items.append((name, lambda v=v: v))
    return {"depth": depth, "count": len(items),
            "children": _page(r, len(items), iter(items), start, count, limit)}


def expression(thread, depth, text, limit):
    """-timelens-condition --value: the value of an expression of the
    condition language in the frame at depth, rendered as the hints render
    it: an object of the program by the renderer, a value computed here
    (x + 1, len(xs), a comparison) by repr()."""
    cond = condition.compile(text)
    r = Reader()
    f, ci = frame_at(r, frames.tstate_for_thread(thread), depth)
    try:
        v = cond.value(f, ci)
    except condition.Miss as e:
        raise TimelensError("not-found", "%s: %s" % (text, e))
    if isinstance(v, condition.Obj):
        out = child(r, text, v.addr, limit)
    else:
        s = repr(v)
        if len(s) > limit:
            s = s[:limit - 1] + ELLIPSIS
        out = {"name": text, "value": s, "type": type(v).__name__, "address": "", "children": 0}
    out["depth"] = depth
    return out
