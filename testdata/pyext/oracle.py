"""Oracle for the pyext tests.

A test program calls checkpoint(label) at interesting points. checkpoint first
calls os.getpid(); the test's debugger stops on os_getpid and reads the stack
with pyext at that moment. After the stop, checkpoint records what Python
itself says about every caller frame: code name, line, and each local rendered
by ref_render, a reference implementation of CONTRACT.md "Rendering values"
on live objects (for builtin values it equals repr() whenever the result fits
the limit; ref_render checks that itself). The records are written as JSON to
$TIMELENS_ORACLE_OUT at exit.

The reference runs after the stop on purpose: it touches obj.__dict__, which
materializes instance dicts, and pyext must first see objects as the program
left them.
"""

import atexit
import json
import os
import sys
import types

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "oracle"))
from qualnames import qualname  # noqa: E402

LIMIT = 120
DEPTH = 3
ELLIPSIS = "\u2026"
MAX_INT_DIGITS = 2000  # 30-bit digits, as pyext
HEAPTYPE = 1 << 9

RECORDS = []


class _Full(Exception):
    pass


def _is_heap(t):
    return bool(t.__flags__ & HEAPTYPE)


def _slot_attrs(v):
    chain = []
    t = type(v)
    while t is not None:
        chain.append(t)
        t = t.__base__
    for t in reversed(chain):
        if not _is_heap(t):
            continue
        for name, d in list(vars(t).items()):
            if type(d) is types.MemberDescriptorType and name not in ("__weakref__", "__dict__"):
                try:
                    yield name, d.__get__(v, t)
                except AttributeError:
                    pass


def _has_storage(v):
    t = type(v)
    if t.__dictoffset__ != 0:
        return True
    for _ in _slot_attrs_present(t):
        return True
    return False


def _slot_attrs_present(t):
    while t is not None:
        if _is_heap(t):
            for name, d in vars(t).items():
                if type(d) is types.MemberDescriptorType and name not in ("__weakref__", "__dict__"):
                    yield name
        t = t.__base__


class _Ref:
    def __init__(self, limit):
        self.limit = limit
        self.out = []
        self.n = 0
        self.active = set()

    def emit(self, s):
        self.out.append(s)
        self.n += len(s)
        if self.n > self.limit:
            raise _Full()

    def enter(self, v, depth, open_, close, selfref):
        if id(v) in self.active:
            self.emit(selfref)
            return False
        if depth >= DEPTH:
            self.emit(open_ + ELLIPSIS + close)
            return False
        return True

    def value(self, v, depth):
        t = type(v)
        if t is str:
            self.emit(repr(v[:self.limit + 1]))
        elif t is bool or v is None or v is Ellipsis or v is NotImplemented:
            self.emit(repr(v))
        elif t is int:
            nd = (abs(v).bit_length() + 29) // 30
            if nd > MAX_INT_DIGITS:
                self.emit("<int of %d bits>" % (nd * 30))
            else:
                old = sys.get_int_max_str_digits()
                sys.set_int_max_str_digits(0)
                try:
                    self.emit(str(v))
                finally:
                    sys.set_int_max_str_digits(old)
        elif t is float or t is complex:
            self.emit(repr(v))
        elif t is bytes:
            self.emit(repr(v[:self.limit + 1]))
        elif t is list or t is tuple:
            o, c = ("[", "]") if t is list else ("(", ")")
            if not v:
                self.emit(o + c)
                return
            if not self.enter(v, depth, o, c, "[...]" if t is list else "(...)"):
                return
            self.active.add(id(v))
            self.emit(o)
            for i, x in enumerate(v):
                if i:
                    self.emit(", ")
                self.value(x, depth + 1)
            if t is tuple and len(v) == 1:
                self.emit(",")
            self.emit(c)
            self.active.discard(id(v))
        elif t is dict:
            if not v:
                self.emit("{}")
                return
            if not self.enter(v, depth, "{", "}", "{...}"):
                return
            self.active.add(id(v))
            self.emit("{")
            for i, (k, x) in enumerate(v.items()):
                if i:
                    self.emit(", ")
                self.value(k, depth + 1)
                self.emit(": ")
                self.value(x, depth + 1)
            self.emit("}")
            self.active.discard(id(v))
        elif t is set or t is frozenset:
            frozen = t is frozenset
            if not v:
                self.emit("frozenset()" if frozen else "set()")
                return
            o, c = ("frozenset({", "})") if frozen else ("{", "}")
            if not self.enter(v, depth, o, c, "%s(...)" % t.__name__):
                return
            self.active.add(id(v))
            self.emit(o)
            for i, x in enumerate(v):
                if i:
                    self.emit(", ")
                self.value(x, depth + 1)
            self.emit(c)
            self.active.discard(id(v))
        elif t is range:
            self.emit(repr(v))
        elif t is types.FunctionType:
            self.emit("<function %s at 0x%x>" % (v.__qualname__, id(v)))
        elif isinstance(v, type):
            self.emit(type.__repr__(v))  # not a metaclass's own __repr__
        elif t is types.ModuleType:
            self.emit("<module %r>" % v.__name__)
        elif t is types.CodeType or t in (types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType):
            self.emit(repr(v))
        elif t is types.BuiltinFunctionType:
            self.emit("<built-in function %s>" % v.__name__)
        elif _is_heap(t) and _has_storage(v):
            name = t.__name__
            attrs = list(_slot_attrs(v))
            d = getattr(v, "__dict__", None) if t.__dictoffset__ != 0 else None
            if isinstance(d, dict):
                attrs += list(d.items())
            if not attrs:
                self.emit(name + "()")
                return
            if not self.enter(v, depth, name + "(", ")", name + "(...)"):
                return
            self.active.add(id(v))
            self.emit(name + "(")
            for i, (k, x) in enumerate(attrs):
                if i:
                    self.emit(", ")
                self.emit("%s=" % k)
                self.value(x, depth + 1)
            self.emit(")")
            self.active.discard(id(v))
        else:
            self.emit("<%s object at 0x%x>" % (t.__name__, id(v)))


BUILTIN_TYPES = (int, float, complex, str, bytes, bool, type(None), list, tuple, dict, set, frozenset, range)


def ref_render(v, limit=LIMIT):
    """The reference rendering of v (see module doc)."""
    r = _Ref(limit)
    try:
        r.value(v, 0)
    except _Full:
        pass
    s = "".join(r.out)
    if len(s) > limit:
        s = s[:limit - 1] + ELLIPSIS
    return s


def _is_builtin_tree(v, depth=0, seen=None):
    """True when v and everything in it are builtin values (exact types)."""
    if type(v) not in BUILTIN_TYPES:
        return False
    if seen is None:
        seen = set()
    if id(v) in seen:
        return True
    seen.add(id(v))
    if depth > 50:
        return False
    if type(v) in (list, tuple, set, frozenset):
        return all(_is_builtin_tree(x, depth + 1, seen) for x in v)
    if type(v) is dict:
        return all(_is_builtin_tree(k, depth + 1, seen) and _is_builtin_tree(x, depth + 1, seen) for k, x in v.items())
    return True


def _render_local(v):
    s = ref_render(v)
    builtin = _is_builtin_tree(v)
    if builtin and not s.endswith(ELLIPSIS) and ELLIPSIS not in s:
        # For builtin values within the bounds the contract is repr() itself.
        try:
            if s != repr(v):
                raise AssertionError("reference renderer disagrees with repr: %r vs %r" % (s, repr(v)))
        except ValueError:
            pass  # repr of a huge int
    return {"value": s, "builtin": builtin}


def checkpoint(label):
    os.getpid()  # the debugger stops here and reads the stack
    frames = []
    f = sys._getframe(1)
    while f is not None:
        code = f.f_code
        frames.append({
            "qualname": qualname(f),
            "name": code.co_name,
            "file": code.co_filename,
            "firstlineno": code.co_firstlineno,
            "line": f.f_lineno,
            "locals": {k: _render_local(v) for k, v in list(f.f_locals.items())},
        })
        f = f.f_back
    RECORDS.append({"label": label, "frames": frames})


@atexit.register
def _write():
    path = os.environ.get("TIMELENS_ORACLE_OUT")
    if path:
        with open(path, "w") as fp:
            json.dump({"python": sys.version, "records": RECORDS}, fp)
