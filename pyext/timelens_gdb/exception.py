"""The exception a program ended with, read from memory at the end of the
recorded window (never by running code in the program).

When the main module's evaluation returns because an exception was not
caught, the recorded window ends where it returns to its C caller
(window.py); the exception is still in the thread state there, where the
table says (exception_state): curexc_type, curexc_value, curexc_traceback
(3.10, 3.11; the value may be unnormalized: NULL, the one argument, or the
tuple of arguments, when C code raised it) or current_exception (3.12+, the
instance; its traceback in the instance). The traceback entries are
PyTracebackObjects, outermost first, each with its frame object (3.11+: the
interpreter frame it holds, frame_object_frame), the byte offset of the
instruction that raised or passed the exception on (tb_lasti) and its line
(tb_lineno; -1 when computed lazily, 3.12+: then from the code's line table).

The message is what str() of the exception gives for exceptions that keep
BaseException's __str__: "" without arguments, str of the one argument, or
the tuple's repr; KeyError shows its key's repr. An exception class with its
own __str__ in Python code cannot be asked (that would run code): its
arguments are shown, and "custom_str" says so.
"""

import gdb

from . import debugger, frames, layout
from .code import code_info
from .errors import TimelensError
from .values import Reader, render

MAX_ENTRIES = 1000
MESSAGE_LIMIT = 4000


def _type_name(r, tp):
    """The type's name as Python's traceback prints it: module.qualname, the
    module left out for builtins (3.11+: and __main__; the table says)."""
    L = r.L
    if r.is_heap_type(tp):
        qual = r.py_str(r.mem.ptr(tp + L.ht_qualname), 200)
        mod = r.class_module(tp)
        if mod and mod not in r.t.exception_modules_omitted:
            return "%s.%s" % (mod, qual)
        return qual
    name = r.cstring(r.mem.ptr(tp + L.tp_name), 200)
    mod, dot, base = name.rpartition(".")
    return base if dot and mod in r.t.exception_modules_omitted else name


def _bases(r, tp):
    """tp and its bases along tp_base, most derived first (Reader.bases)."""
    return r.bases(tp)


def _exported_type(name):
    """The address of a builtin exception type from its exported pointer
    (PyExc_KeyError), or None."""
    a = layout.symbol_address(name)
    if a is None:
        return None
    try:
        return Reader().mem.ptr(a)
    except gdb.MemoryError:   # errors.Unreadable included: not readable yet
        return None


def _custom_str(r, tp):
    """A class of tp's (up to the first builtin one) defines __str__ in Python."""
    for t in _bases(r, tp):
        if not r.type_flags(t) & r.t.TPFLAGS_HEAPTYPE:
            return False
        d = r.mem.ptr(t + r.L.tp_dict)
        if d and r.dict_lookup_str(d, "__str__"):
            return True
    return False


def _message(r, tp, args):
    """str() of an exception of type tp with argument tuple args (0: none)."""
    items = r.mem.ptrs(args + layout.get().tuple_items, r.ob_size(args)) if args else ()
    if not items:
        return ""
    if len(items) > 1:
        return render(r, args, MESSAGE_LIMIT)
    key_error = _exported_type("PyExc_KeyError")
    if key_error is not None and key_error in _bases(r, tp):
        return render(r, items[0], MESSAGE_LIMIT)
    if r.type_of(items[0]) == r.L.addr.get("PyUnicode_Type"):
        return r.py_str(items[0], MESSAGE_LIMIT)
    return render(r, items[0], MESSAGE_LIMIT)


def _entries(r, tb):
    """[{file, line, name, qualname}] of a traceback chain, outermost first."""
    L = layout.get()
    t = L.t
    out = []
    while tb and len(out) < MAX_ENTRIES:
        fo = r.mem.ptr(tb + L.off("PyTracebackObject", "tb_frame"))
        lasti = r.mem.i32(tb + L.off("PyTracebackObject", "tb_lasti"))
        line = r.mem.i32(tb + L.off("PyTracebackObject", "tb_lineno"))
        f = r.mem.ptr(fo + L.off("PyFrameObject", t.frame_object_frame)) if t.frame_object_frame else fo
        ci = code_info(frames.code_addr(f))
        if line < 0:
            line = ci.line_at(lasti // 2)
        out.append({"file": ci.filename, "line": line, "name": ci.name, "qualname": ci.qualname})
        tb = r.mem.ptr(tb + L.off("PyTracebackObject", "tb_next"))
    return out


def in_flight():
    """The exception the current thread is raising now, or None: {type,
    message, custom_str, traceback: [{file, line, name, qualname}]}."""
    L = layout.get()
    t = L.t
    r = Reader()
    ts = frames.tstate_for_thread(frames.selected_thread())
    args_off = L.off("PyBaseExceptionObject", "args")
    args, one = None, None
    if len(t.exception_state) == 1:
        value = r.mem.ptr(ts + L.off("PyThreadState", t.exception_state[0]))
        if not value:
            return None
        tp = r.type_of(value)
        args = r.mem.ptr(value + args_off)
        tb = r.mem.ptr(value + L.off("PyBaseExceptionObject", "traceback"))
    else:
        tp, value, tb = (r.mem.ptr(ts + L.off("PyThreadState", f)) for f in t.exception_state)
        if not tp:
            return None
        if value and tp in _bases(r, r.type_of(value)):
            args = r.mem.ptr(value + args_off)   # normalized: an instance
        elif value and r.type_of(value) == r.L.addr.get("PyTuple_Type"):
            args = value
        else:
            one = value   # unnormalized: NULL or the one argument
    name = _type_name(r, tp)
    if args is None:
        msg = "" if not one else (r.py_str(one, MESSAGE_LIMIT) if r.type_of(one) == r.L.addr.get("PyUnicode_Type")
                                  else render(r, one, MESSAGE_LIMIT))
    else:
        msg = _message(r, tp, args)
    return {"type": name, "message": msg, "custom_str": _custom_str(r, tp),
            "system_exit": _exported_type("PyExc_SystemExit") in _bases(r, tp),
            "traceback": _entries(r, tb)}


def uncaught():
    """-timelens-exception: the exception in flight at the end of the recorded
    history (where the window ends when the main module returned), or
    {"exception": None}. Time does not change."""
    state = debugger.record_state()
    if state[0] is None:
        raise TimelensError("not-recording", "no recording to read the end of")
    debugger.goto("end")
    try:
        return {"exception": in_flight()}
    finally:
        debugger.restore(state)
