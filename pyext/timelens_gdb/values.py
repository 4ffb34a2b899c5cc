"""Reading CPython objects and rendering them as repr() would
(CONTRACT.md "Rendering values"), from memory only: bounded in length,
depth and time, safe on corrupt or half-initialized objects (a value that
cannot be read renders as "<unreadable 0x...>").
"""

import struct
import time

import gdb

from . import layout, source
from . import objects as decode
from .code import code_info
from .errors import TimelensError, Unreadable
from .memory import Memory
from .threads import thread_states

DEFAULT_LIMIT = 120     # characters of one rendering, "…" included
DEFAULT_DEPTH = 3       # containers nested deeper render as [...]-like "…"
RENDER_BUDGET_S = 0.25  # wall-clock budget for one rendering
COMMAND_BUDGET_S = 2.0  # wall-clock budget for all renderings of one command
RENDER_MAX_NODES = 20000
ELLIPSIS = "\u2026"
MAX_INT_DIGITS = 2000   # 30-bit digits; larger ints render as <int of N bits>

# The type objects and singletons the renderer recognises by address.
_TYPE_SYMBOLS = ("PyLong_Type", "PyBool_Type", "PyFloat_Type", "PyComplex_Type", "PyUnicode_Type",
                 "PyBytes_Type", "PyList_Type", "PyTuple_Type", "PyDict_Type", "PySet_Type",
                 "PyFrozenSet_Type", "PyRange_Type", "PyCell_Type", "PyCode_Type", "PyType_Type",
                 "PyFunction_Type", "PyModule_Type", "PyCFunction_Type", "PyGen_Type",
                 "PyCoro_Type", "PyAsyncGen_Type", "_PyNone_Type", "PyEllipsis_Type",
                 "_PyNotImplemented_Type", "_Py_TrueStruct", "_PySet_Dummy", "PyMethod_Type",
                 "PyProperty_Type")


class _Full(Exception):
    """The rendering reached its length limit or budget."""


def _optional(fn):
    """fn's offset, or None where the layout source has no such type or field
    (a table: KeyError; the debug info: KeyError for a field, TimelensError
    no-debug-symbols for a type): the renderer then does without it."""
    try:
        return fn()
    except (KeyError, TimelensError):
        return None


class Objects:
    """The object layouts of one Layout, read once: offsets the reader uses and
    the addresses of builtin types."""

    def __init__(self, L):
        # The offsets it reads are layout.OBJECT_* (the schema lists them too).
        off = L.off
        t = L.t
        fields = dict(layout.OBJECT_FIELDS)
        fields.update(layout.OBJECT_DICT_FIELDS[t.dict_keys])
        if t.values_order == "suffix":
            fields.update(layout.OBJECT_SUFFIX_VALUES)
        long_fields = layout.OBJECT_LONG_FIELDS[t.long_layout]
        fields.update({name: ("PyLongObject", path) for name, path in long_fields.items()})
        for name, (tname, path) in fields.items():
            setattr(self, name, off(tname, path))
        if t.dict_keys == "entries":
            self.dv_values = 0  # 3.10's split values are a plain array
        self.member_size = L.sizeof("PyMemberDef")
        self.digit_size = L.sizeof("digit")
        self.digit_bits = t.LONG_DIGIT_BITS[self.digit_size]
        self.gen_qualname = _optional(lambda: off("PyGenObject", "gi_qualname"))
        self.addr = {}
        for sym in _TYPE_SYMBOLS:
            a = layout.symbol_address(sym)
            if a is not None:
                self.addr[sym] = a
        self.set_dummy = None
        if "_PySet_Dummy" in self.addr:
            try:
                self.set_dummy = Memory().ptr(self.addr["_PySet_Dummy"])
            except gdb.MemoryError:
                pass  # not readable yet: sets then show their dummy entries' key too
        self.range_fields = _optional(lambda: [off("rangeobject", f) for f in ("start", "stop", "step")])
        self.module_name = _optional(lambda: off("PyModuleObject", "md_name"))
        self.module_dict = _optional(lambda: off("PyModuleObject", "md_dict"))
        self.cfunc_ml = _optional(lambda: off("PyCFunctionObject", "m_ml"))
        self.cfunc_self = _optional(lambda: off("PyCFunctionObject", "m_self")) if self.cfunc_ml is not None else None
        self.func_code = off("PyFunctionObject", "func_code")
        self.interp_modules = _optional(lambda: off("PyInterpreterState", t.interp_modules))
        self.ts_interp = _optional(lambda: off("PyThreadState", "interp"))
        self.type_by_addr = {a: s for s, a in self.addr.items()}


def objects(L):
    """The Objects of Layout L, made once."""
    o = getattr(L, "_objects", None)
    if o is None:
        o = L._objects = Objects(L)
    return o


class _View:
    """The Layout and its Objects seen as one namespace of offsets."""

    def __init__(self, L, o):
        self._L = L
        self._o = o

    def __getattr__(self, name):
        try:
            return getattr(self._o, name)
        except AttributeError:
            return getattr(self._L, name)


class Reader:
    """Decodes CPython objects; one per command (its memory cache is per stop)."""

    def __init__(self):
        self.mem = Memory()
        lay = layout.get()
        self.layout = lay
        self.L = _View(lay, objects(lay))
        self.t = lay.t
        self.deadline = time.monotonic() + COMMAND_BUDGET_S
        self._variables = {}

    # -- basic object access ------------------------------------------------
    def type_of(self, obj):
        return self.mem.ptr(obj + self.L.ob_type)

    def type_flags(self, tp):
        return self.mem.ptr(tp + self.L.tp_flags)

    def type_name(self, tp):
        name = self.cstring(self.mem.ptr(tp + self.L.tp_name), 200)
        return name.rsplit(".", 1)[-1]

    def is_type(self, tp, sym):
        return self.L.addr.get(sym) == tp

    def cstring(self, addr, maxlen=4096):
        return self.mem.cstring(addr, maxlen)

    def stackref(self, raw):
        m = self.t.stackref_mask
        return raw & m if m is not None else raw

    def ob_size(self, obj):
        return self.mem.i64(obj + self.L.ob_size)

    # -- str, bytes, int, float, tuple: objects.py's decoders -----------------
    def str_info(self, obj):
        """(length, kind, data address) of a str object."""
        return decode.str_info(self.mem, self.L, obj)

    def read_str(self, obj, maxchars=None):
        """(python str of the first maxchars characters, full length)."""
        return decode.str_text(self.mem, self.L, obj, maxchars)

    def py_str(self, obj, maxchars=4096):
        if obj == 0:
            return None
        return self.read_str(obj, maxchars)[0]

    def str_equals(self, obj, text):
        length, kind, data = self.str_info(obj)
        if length != len(text):
            return False
        return self.read_str(obj)[0] == text

    def is_str(self, obj):
        return self.type_of(obj) == self.L.addr["PyUnicode_Type"]

    def bytes_size(self, obj):
        return decode.bytes_size(self.mem, self.L, obj)

    def bytes_value(self, obj, maxlen=None):
        """The first maxlen bytes of a bytes object (all without maxlen)."""
        return decode.bytes_value(self.mem, self.L, obj, maxlen)

    def read_int(self, obj):
        """(value, None), or (None, its size in bits) for an int of more than
        MAX_INT_DIGITS digits."""
        return decode.int_value(self.mem, self.L, self.t, obj, MAX_INT_DIGITS)

    def bool_value(self, obj):
        return obj == self.L.addr.get("_Py_TrueStruct")

    def float_value(self, obj):
        return struct.unpack("<d", self.mem.read(obj + self.L.float_val, 8))[0]

    def complex_value(self, obj):
        re_, im = struct.unpack("<dd", self.mem.read(obj + self.L.complex_val, 16))
        return complex(re_, im)

    def range_value(self, obj):
        """(start, stop, step) of a range object (Objects.range_fields)."""
        return tuple(self.read_int(self.mem.ptr(obj + o))[0] for o in self.L.range_fields)

    def tuple_items(self, obj, limit=1 << 24):
        return decode.tuple_items(self.mem, self.L, obj, limit)

    def sequence_items_base(self, obj, sym):
        """The address of the first item pointer of a list or tuple (sym)."""
        if sym == "PyList_Type":
            return self.mem.ptr(obj + self.L.list_items)
        return obj + self.L.tuple_items

    # -- dicts ------------------------------------------------------------------
    def _values_order(self, values, keys):
        """Indices, in insertion order, of the used entries of split values."""
        if self.t.values_order == "entries":
            # values[i] belongs to entry i, in insertion order.
            n = self.mem.i64(keys + self.L.dk_nentries)
            if n < 0 or n > 1 << 20:
                raise Unreadable(keys, "bad dict keys")
            return range(n)
        if self.t.values_order == "suffix":
            cap = self.mem.u8(values + self.L.dv_capacity)
            size = self.mem.u8(values + self.L.dv_size)
            arr = self.mem.read(values + self.L.dv_values + 8 * cap, size)
            return list(arr)
        # "prefix": the count of used values in the byte PREFIX_ORDER_SIZE_AT
        # before the values, order[i] in the byte at -1 - i from there.
        at = values + self.t.PREFIX_ORDER_SIZE_AT
        size = self.mem.u8(at)
        if size == 0:
            return []
        arr = self.mem.read(at - size, size)
        return [arr[size - 1 - i] for i in range(size)]

    def keys_entries(self, keys):
        """(entries address, entry size, unicode?) of a PyDictKeysObject."""
        L = self.L
        if self.t.dict_keys == "entries":
            # 3.10: indices of 1, 2, 4 or 8 bytes each by dk_size, then
            # {hash, key, value} entries.
            size = self.mem.i64(keys + L.dk_size)
            if size <= 0 or size > 1 << 40:
                raise Unreadable(keys, "bad dict keys")
            width = 1 if size <= 0xff else 2 if size <= 0xffff else 4 if size <= 0xffffffff else 8
            return keys + L.dk_indices + width * size, 8 * self.t.DICT_ENTRY_WORDS, False
        log2_index_bytes = self.mem.u8(keys + L.dk_log2_index_bytes)
        kind = self.mem.u8(keys + L.dk_kind)
        if log2_index_bytes > 40:
            raise Unreadable(keys, "bad dict keys")
        entries = keys + L.dk_indices + (1 << log2_index_bytes)
        unicode = kind != 0
        return entries, 8 * (self.t.UNICODE_ENTRY_WORDS if unicode else self.t.DICT_ENTRY_WORDS), unicode

    def dict_items(self, d):
        """Yield (key, value, value slot address) of a dict in iteration order."""
        L = self.L
        keys = self.mem.ptr(d + L.dict_keys)
        values = self.mem.ptr(d + L.dict_values)
        if values:
            for item in self.split_items(keys, values):
                yield item
            return
        entries, esize, unicode = self.keys_entries(keys)
        n = self.mem.i64(keys + L.dk_nentries)
        if n < 0 or n > 1 << 32:
            raise Unreadable(keys, "bad dict keys")
        koff = 0 if unicode else 8
        i = 0
        while i < n:
            chunk = min(n - i, 64)
            raw = self.mem.read(entries + i * esize, chunk * esize)
            for j in range(chunk):
                base = j * esize
                k, val = struct.unpack_from("<QQ", raw, base + koff)
                if val:
                    yield k, val, entries + (i + j) * esize + koff + 8
            i += chunk

    def split_items(self, keys, values):
        entries, esize, unicode = self.keys_entries(keys)
        vbase = values + self.L.dv_values
        for ix in self._values_order(values, keys):
            val = self.mem.ptr(vbase + 8 * ix)
            if val:
                k = self.mem.ptr(entries + ix * esize + (0 if unicode else 8))
                yield k, val, vbase + 8 * ix

    def set_items(self, s):
        """Yield the keys of a set or frozenset, in table order."""
        L = self.L
        table = self.mem.ptr(s + L.set_table)
        mask = self.mem.i64(s + L.set_mask)
        if mask < 0 or mask > 1 << 40:
            raise Unreadable(s)
        i = 0
        while i <= mask:
            chunk = min(mask + 1 - i, 64)
            esize = 8 * self.t.SET_ENTRY_WORDS
            raw = self.mem.read(table + esize * i, esize * chunk)
            for j in range(chunk):
                key = struct.unpack_from("<Q", raw, esize * j)[0]
                if key and key != L.set_dummy:
                    yield key
            i += chunk

    def dict_lookup_str(self, d, name):
        """(value, value slot address) of the str key name of dict d, or None."""
        for k, val, slot in self.dict_items(d):
            if self.is_str(k) and self.str_equals(k, name):
                return val, slot
        return None

    # -- types: classes, MRO, members -------------------------------------------
    def is_class(self, obj):
        """obj is a type object (its type is type or a subclass of it)."""
        tp = self.type_of(obj)
        return tp == self.L.addr.get("PyType_Type") or bool(
            tp and self.type_flags(tp) & self.t.TPFLAGS_TYPE_SUBCLASS)

    def is_heap_type(self, tp):
        return bool(self.type_flags(tp) & self.t.TPFLAGS_HEAPTYPE)

    def bases(self, tp):
        """tp and its bases along tp_base, most derived first."""
        out = []
        while tp and len(out) < 64:
            out.append(tp)
            tp = self.mem.ptr(tp + self.L.tp_base)
        return out

    def mro(self, tp):
        """The types of tp's __mro__ (tp alone while it has none)."""
        mro = self.mem.ptr(tp + self.L.tp_mro)
        return self.mem.ptrs(mro + self.L.tuple_items, self.ob_size(mro)) if mro else (tp,)

    def lookup_mro(self, tp, name):
        """(value, value slot, defining type) of name in the namespaces of
        tp's MRO, or None."""
        for t in self.mro(tp):
            d = self.mem.ptr(t + self.L.tp_dict)
            found = self.dict_lookup_str(d, name) if d else None
            if found:
                return found[0], found[1], t
        return None

    def class_module(self, tp):
        """The str __module__ of a heap type's namespace, or None."""
        d = self.mem.ptr(tp + self.L.tp_dict)
        if d:
            found = self.dict_lookup_str(d, "__module__")
            if found and self.is_str(found[0]):
                return self.py_str(found[0], 200)
        return None

    def slot_members(self, tp):
        """Yield (name address, offset) of the object members (__slots__,
        T_OBJECT_EX member descriptors) of the heap types along tp_base, base
        classes first."""
        L = self.L
        for t in reversed(self.bases(tp)):
            if not self.is_heap_type(t):
                continue
            m = self.mem.ptr(t + L.tp_members)
            count = 0
            while m and count < 1000:
                name_p = self.mem.ptr(m + L.m_name)
                if not name_p:
                    break
                if self.mem.i32(m + L.m_type) == self.t.T_OBJECT_EX:
                    yield name_p, self.mem.i64(m + L.m_offset)
                m += L.member_size
                count += 1

    # -- instances ------------------------------------------------------------
    def instance_attrs(self, obj, tp=None):
        """Yield (name, value, slot address, storage kind) of an instance's
        own attributes: __slots__ (base classes first), then its __dict__."""
        if tp is None:
            tp = self.type_of(obj)
        for name_p, offset in self.slot_members(tp):
            val = self.mem.ptr(obj + offset)
            if val:
                yield self.cstring(name_p, 256), val, obj + offset, "slot"
        for item in self.instance_dict_items(obj, tp):
            yield item

    def instance_dict_items(self, obj, tp):
        L = self.L
        flags = self.type_flags(tp)
        dict_addr = 0
        md = self.t.managed_dict
        if md != "dictoffset" and flags & self.t.TPFLAGS_MANAGED_DICT:
            if md == "inline":
                iv = self.t.tpflags_inline_values
                if flags & iv:
                    values = obj + self.mem.i64(tp + L.tp_basicsize)
                    if self.mem.u8(values + L.dv_valid):
                        keys = self.mem.ptr(tp + L.ht_cached_keys)
                        for k, val, slot in self.split_items(keys, values):
                            yield self.py_str(k), val, slot, "inline"
                        return
                dict_addr = self.mem.ptr(obj + 8 * self.t.MANAGED_DICT_WORDS)
            elif md == "dorv":
                dorv = self.mem.ptr(obj + 8 * self.t.MANAGED_DICT_WORDS)
                if dorv & self.t.DORV_VALUES_TAG:
                    values = dorv + self.t.DORV_VALUES_TAG   # stored as values - 1
                    keys = self.mem.ptr(tp + L.ht_cached_keys)
                    for k, val, slot in self.split_items(keys, values):
                        yield self.py_str(k), val, slot, "inline"
                    return
                dict_addr = dorv
            else:  # pre_values
                values = self.mem.ptr(obj + 8 * self.t.PRE_VALUES_WORDS)
                if values:
                    keys = self.mem.ptr(tp + L.ht_cached_keys)
                    for k, val, slot in self.split_items(keys, values):
                        yield self.py_str(k), val, slot, "inline"
                    return
                dict_addr = self.mem.ptr(obj + 8 * self.t.MANAGED_DICT_WORDS)
        else:
            off = self.mem.i64(tp + L.tp_dictoffset)
            if off > 0:
                dict_addr = self.mem.ptr(obj + off)
        if dict_addr:
            for k, val, slot in self.dict_items(dict_addr):
                yield self.py_str(k), val, slot, "dict"

    def has_instance_storage(self, tp):
        flags = self.type_flags(tp)
        if self.t.managed_dict != "dictoffset" and flags & self.t.TPFLAGS_MANAGED_DICT:
            return True
        if self.mem.i64(tp + self.L.tp_dictoffset) != 0:
            return True
        return next(self.slot_members(tp), None) is not None

    def lookup_attr(self, obj, name):
        """(value, slot address, storage) of attribute name of obj, without
        running code: a class's along its MRO ("class"), a module's in its
        namespace ("dict"), an instance's own (slot, inline, dict), else its
        class's; None when there is none. A property is refused
        (TimelensError unsupported): reading it would run code."""
        L = self.L
        tp = self.type_of(obj)
        sym = L.type_by_addr.get(tp)
        if self.is_class(obj):
            found = self.lookup_mro(obj, name)
            return (found[0], found[1], "class") if found else None
        if sym == "PyModule_Type":
            d = self.module_namespace(obj)
            found = self.dict_lookup_str(d, name) if d else None
            return (found[0], found[1], "dict") if found else None
        for aname, val, slot, kind in self.instance_attrs(obj, tp):
            if aname == name:
                return val, slot, kind
        # Class attribute (not a descriptor we would have to run).
        found = self.lookup_mro(tp, name)
        if found:
            if L.type_by_addr.get(self.type_of(found[0])) == "PyProperty_Type":
                raise TimelensError("unsupported", "%s is a property: evaluating it would run code" % name)
            return found[0], found[1], "class"
        return None

    # -- names ------------------------------------------------------------------
    def lookup_name(self, frame, ci, name, scopes=("local", "global", "builtin")):
        """(value, slot address, storage, tagged) of a name seen from frame
        (code ci), first found in scopes: its variables ("local": storage is
        the variable's kind, Reader.frame_variables), its globals ("global"),
        its builtins ("builtin"); None when not found."""
        if "local" in scopes:
            hit = self._variable(frame, ci, name)
            if hit is not None:
                return hit
        for where, off in (("global", self.L.f_globals), ("builtin", self.L.f_builtins)):
            if where not in scopes:
                continue
            d = self.mem.ptr(frame + off)
            if d and self.type_of(d) == self.L.addr["PyDict_Type"]:
                hit = self.dict_lookup_str(d, name)
                if hit:
                    return hit[0], hit[1], where, False
        return None

    def _variable(self, frame, ci, name):
        """(value, slot, kind, tagged) of the first variable name of frame, or
        None: frame_variables read once per Reader, as far as a name needs."""
        seen, rest = self._variables.setdefault((frame, ci.addr), ({}, self.frame_variables(frame, ci)))
        while name not in seen:
            item = next(rest, None)
            if item is None:
                return None
            seen.setdefault(item[0], item[1:])
        return seen[name]

    # -- modules and functions ------------------------------------------------------
    def modules(self):
        """The module objects of the interpreter's module dict (sys.modules)."""
        L = self.L
        if L.interp_modules is None or L.ts_interp is None:
            return []
        out = []
        for _iid, ts in thread_states(self.layout):
            interp = self.mem.ptr(ts + L.ts_interp)
            mods = self.mem.ptr(interp + L.interp_modules)
            if mods and self.type_of(mods) == L.addr["PyDict_Type"]:
                for _k, v, _ in self.dict_items(mods):
                    if self.type_of(v) == L.addr.get("PyModule_Type"):
                        out.append(v)
                break
        return out

    def module_namespace(self, mod):
        """A module's namespace dict (md_dict), or 0."""
        return self.mem.ptr(mod + self.L.module_dict) if self.L.module_dict is not None else 0

    def module_file(self, d):
        """The str __file__ of module namespace d, or None."""
        hit = self.dict_lookup_str(d, "__file__")
        if not hit or not self.is_str(hit[0]):
            return None
        return self.py_str(hit[0])

    def function_code(self, fn):
        return self.mem.ptr(fn + self.L.func_code)

    def wrapped_function(self, obj):
        """The function a staticmethod, classmethod or property wraps (its
        first field after the object header: sm_callable, cm_callable,
        prop_get), or None."""
        if self.L.type_by_addr.get(self.type_of(obj)) is not None or \
                self.type_name(self.type_of(obj)) not in ("staticmethod", "classmethod", "property"):
            return None
        fn = self.mem.ptr(obj + self.L.ob_type + 8)
        if fn and self.L.type_by_addr.get(self.type_of(fn)) == "PyFunction_Type":
            return fn
        return None

    def namespace_codes(self, d, seen=None):
        """The code objects of the functions, methods (static and class methods,
        properties' getters) and nested classes of a namespace dict (a
        module's or a class's)."""
        L = self.L
        seen = set() if seen is None else seen
        out = []
        if d in seen or len(seen) > 1000:
            return out
        seen.add(d)
        for _k, v, _ in self.dict_items(d):
            tp = self.type_of(v)
            sym = L.type_by_addr.get(tp)
            if sym == "PyFunction_Type":
                out.append(self.function_code(v))
            elif self.type_flags(tp) & self.t.TPFLAGS_TYPE_SUBCLASS and self.is_heap_type(v):
                cd = self.mem.ptr(v + L.tp_dict)
                if cd:
                    out.extend(self.namespace_codes(cd, seen))
            else:
                fn = self.wrapped_function(v)
                if fn:
                    out.append(self.function_code(fn))
        return out

    # -- frames -----------------------------------------------------------------
    def frame_variables(self, frame, ci):
        """Yield (name, value, slot address, kind, tagged) of a frame's bound
        variables: fast locals, cells and free variables (dereferenced), then
        the f_locals dict of frames that have one (module and class bodies).
        kind: local, cell, free, hidden (a 3.12+ inlined comprehension's), dict.
        tagged is True when the slot holds a _PyStackRef (3.14 frame slots):
        the object address is the slot's word with the tag bits cleared."""
        L = self.L
        t = self.t
        code = ci.addr
        flags = ci.flags
        names, kinds = self.variable_names(code)
        n = len(names)
        vals = self.mem.ptrs(frame + L.f_localsplus, n)
        cell_type = L.addr["PyCell_Type"]
        optimized = flags & t.CO_OPTIMIZED
        for i in range(n):
            kind = kinds[i]
            val = self.stackref(vals[i])
            slot = frame + L.f_localsplus + 8 * i
            if kind == "free" and not optimized:
                continue  # __class__ cell of a class body
            if not val:
                continue
            tagged = t.stackref_mask is not None
            if kind in ("cell", "free"):
                if self.type_of(val) == cell_type:
                    slot = val + L.cell_ref
                    tagged = False
                    val = self.mem.ptr(slot)
                    if not val:
                        continue
            yield names[i], val, slot, kind, tagged
        if not optimized:
            loc = self.mem.ptr(frame + L.f_locals)
            if loc and self.type_of(loc) == L.addr["PyDict_Type"]:
                for k, val, slot in self.dict_items(loc):
                    yield self.py_str(k), val, slot, "dict", False

    def variable_names(self, code):
        """([name], [kind]) of a code object's frame slots, in slot order."""
        L = self.L
        t = self.t
        if t.localsplus == "split":
            # 3.10: locals, then cells, then free variables.
            out_n, out_k = [], []
            for field, kind in ((L.co_varnames, "local"), (L.co_cellvars, "cell"), (L.co_freevars, "free")):
                tup = self.mem.ptr(code + field)
                n = self.ob_size(tup)
                if n < 0 or n > 1 << 20:
                    raise Unreadable(code, "bad code object")
                for p in self.mem.ptrs(tup + L.tuple_items, n):
                    out_n.append(self.py_str(p))
                    out_k.append(kind)
            return out_n, out_k
        n = self.mem.i32(code + L.co_nlocalsplus)
        if n < 0 or n > 1 << 20:
            raise Unreadable(code, "bad code object")
        raw = self.mem.read(self.mem.ptr(code + L.co_localspluskinds) + L.bytes_sval, n)
        name_ptrs = self.mem.ptrs(self.mem.ptr(code + L.co_localsplusnames) + L.tuple_items, n)
        kinds = []
        for k in raw:
            if k & (t.CO_FAST_CELL | t.CO_FAST_FREE):
                kinds.append("free" if k & t.CO_FAST_FREE else "cell")
            elif k & t.CO_FAST_HIDDEN:
                kinds.append("hidden")
            else:
                kinds.append("local")
        return [self.py_str(p) for p in name_ptrs], kinds


class Renderer:
    """Renders one value as repr() would, bounded in length, depth and time.

    The rendering is the prefix of the full rendering: once more than limit
    characters exist it stops reading and the result is cut to limit-1
    characters plus "…". A str or bytes longer than limit is rendered from
    its first limit+1 characters (quote choice from those)."""

    def __init__(self, reader, limit=DEFAULT_LIMIT, depth=DEFAULT_DEPTH, budget=RENDER_BUDGET_S):
        self.r = reader
        self.L = reader.L
        self.limit = limit
        self.max_depth = depth
        self.deadline = min(time.monotonic() + budget, reader.deadline)
        self.nodes = 0
        self.out = []
        self.n = 0
        self.active = set()

    def render(self, obj):
        try:
            self.value(obj, 0)
        except _Full:
            pass
        s = "".join(self.out)
        if len(s) > self.limit or self.cut:
            s = s[:self.limit - 1] + ELLIPSIS
        return s

    cut = False

    def emit(self, s):
        self.out.append(s)
        self.n += len(s)
        if self.n > self.limit:
            raise _Full()

    def value(self, obj, depth):
        self.nodes += 1
        if self.nodes > RENDER_MAX_NODES or (self.nodes % 64 == 0 and time.monotonic() > self.deadline):
            self.cut = True
            raise _Full()
        if obj == 0:
            self.emit("<NULL>")
            return
        try:
            self._value(obj, depth)
        except Unreadable:
            self.emit("<unreadable 0x%x>" % obj)

    def _value(self, obj, depth):
        r = self.r
        L = self.L
        tp = r.type_of(obj)
        sym = L.type_by_addr.get(tp)
        if sym == "PyUnicode_Type":
            s, length = r.read_str(obj, self.limit + 1)
            self.emit(repr(s))
        elif sym == "PyLong_Type":
            value, bits = r.read_int(obj)
            if value is None:
                self.emit("<int of %d bits>" % bits)
            else:
                self.emit(_int_str(value))
        elif sym == "PyBool_Type":
            self.emit(repr(r.bool_value(obj)))
        elif sym == "_PyNone_Type":
            self.emit("None")
        elif sym == "PyFloat_Type":
            self.emit(repr(r.float_value(obj)))
        elif sym == "PyComplex_Type":
            self.emit(repr(r.complex_value(obj)))
        elif sym == "PyBytes_Type":
            self.emit(repr(r.bytes_value(obj, self.limit + 1)))
        elif sym in ("PyList_Type", "PyTuple_Type"):
            self.sequence(obj, sym, depth)
        elif sym == "PyDict_Type":
            self.dict(obj, depth)
        elif sym in ("PySet_Type", "PyFrozenSet_Type"):
            self.set(obj, sym, depth)
        elif sym == "PyRange_Type" and L.range_fields:
            start, stop, step = r.range_value(obj)
            self.emit("range(%s, %s)" % (start, stop) if step == 1 else "range(%s, %s, %s)" % (start, stop, step))
        elif sym == "PyEllipsis_Type":
            self.emit("Ellipsis")
        elif sym == "_PyNotImplemented_Type":
            self.emit("NotImplemented")
        elif sym == "PyFunction_Type":
            self.emit("<function %s at 0x%x>" % (r.py_str(r.mem.ptr(obj + L.func_qualname), 200), obj))
        elif r.is_class(obj):
            self.emit("<class '%s'>" % self.class_name(obj))
        elif sym == "PyModule_Type" and L.module_name is not None:
            name = r.mem.ptr(obj + L.module_name)
            self.emit("<module %s>" % (repr(r.py_str(name, 200)) if name else "?"))
        elif sym == "PyCode_Type":
            self.emit("<code object %s at 0x%x, file %s, line %d>" % (
                r.py_str(r.mem.ptr(obj + L.co_name), 200), obj,
                '"%s"' % r.py_str(r.mem.ptr(obj + L.co_filename), 400),
                r.mem.i32(obj + L.co_firstlineno)))
        elif sym in ("PyGen_Type", "PyCoro_Type", "PyAsyncGen_Type") and L.gen_qualname is not None:
            kind = {"PyGen_Type": "generator", "PyCoro_Type": "coroutine", "PyAsyncGen_Type": "async_generator"}[sym]
            self.emit("<%s object %s at 0x%x>" % (kind, r.py_str(r.mem.ptr(obj + L.gen_qualname), 200), obj))
        elif sym == "PyCFunction_Type" and L.cfunc_ml is not None:
            ml = r.mem.ptr(obj + L.cfunc_ml)
            name = r.cstring(r.mem.ptr(ml), 200) if ml else "?"
            self.emit("<built-in function %s>" % name)
        elif r.is_heap_type(tp) and r.has_instance_storage(tp):
            self.instance(obj, tp, depth)
        else:
            self.emit("<%s object at 0x%x>" % (r.type_name(tp), obj))

    def class_name(self, tp):
        r = self.r
        L = self.L
        if r.is_heap_type(tp):
            qual = r.py_str(r.mem.ptr(tp + L.ht_qualname), 200)
            mod = r.class_module(tp)
            if mod and mod != "builtins":
                return "%s.%s" % (mod, qual)
            return qual
        return r.cstring(r.mem.ptr(tp + L.tp_name), 200)

    def enter(self, obj, depth, open_, close, selfref):
        """Handles recursion and depth; True when the caller should render items."""
        if obj in self.active:
            self.emit(selfref)
            return False
        if depth >= self.max_depth:
            self.emit(open_ + ELLIPSIS + close)
            return False
        return True

    def sequence(self, obj, sym, depth):
        r = self.r
        L = self.L
        n = r.ob_size(obj)
        if n < 0 or n > 1 << 40:
            raise Unreadable(obj)
        is_list = sym == "PyList_Type"
        open_, close = ("[", "]") if is_list else ("(", ")")
        if n == 0:
            self.emit(open_ + close)
            return
        if not self.enter(obj, depth, open_, close, "[...]" if is_list else "(...)"):
            return
        self.active.add(obj)
        try:
            items = r.sequence_items_base(obj, sym)
            self.emit(open_)
            i = 0
            while i < n:
                chunk = min(n - i, 32)
                for j, item in enumerate(r.mem.ptrs(items + 8 * i, chunk)):
                    if i + j:
                        self.emit(", ")
                    self.value(item, depth + 1)
                i += chunk
            if not is_list and n == 1:
                self.emit(",")
            self.emit(close)
        finally:
            self.active.discard(obj)

    def dict(self, obj, depth):
        r = self.r
        if r.mem.i64(obj + self.L.dict_used) == 0:
            self.emit("{}")
            return
        if not self.enter(obj, depth, "{", "}", "{...}"):
            return
        self.active.add(obj)
        try:
            self.emit("{")
            first = True
            for k, val, _ in r.dict_items(obj):
                if not first:
                    self.emit(", ")
                first = False
                self.value(k, depth + 1)
                self.emit(": ")
                self.value(val, depth + 1)
            self.emit("}")
        finally:
            self.active.discard(obj)

    def set(self, obj, sym, depth):
        r = self.r
        L = self.L
        used = r.mem.i64(obj + L.set_used)
        frozen = sym == "PyFrozenSet_Type"
        if used == 0:
            self.emit("frozenset()" if frozen else "set()")
            return
        open_, close = ("frozenset({", "})") if frozen else ("{", "}")
        if not self.enter(obj, depth, open_, close, "%s(...)" % ("frozenset" if frozen else "set")):
            return
        self.active.add(obj)
        try:
            self.emit(open_)
            for i, key in enumerate(r.set_items(obj)):
                if i:
                    self.emit(", ")
                self.value(key, depth + 1)
            self.emit(close)
        finally:
            self.active.discard(obj)

    def instance(self, obj, tp, depth):
        r = self.r
        name = r.type_name(tp)
        attrs = r.instance_attrs(obj, tp)
        first = next(attrs, None)
        if first is None:
            self.emit(name + "()")
            return
        if not self.enter(obj, depth, name + "(", ")", name + "(...)"):
            return
        self.active.add(obj)
        try:
            self.emit(name + "(")
            item = first
            while item is not None:
                if item is not first:
                    self.emit(", ")
                self.emit("%s=" % item[0])
                self.value(item[1], depth + 1)
                item = next(attrs, None)
            self.emit(")")
        finally:
            self.active.discard(obj)


def _int_str(value):
    try:
        return str(value)
    except ValueError:
        # gdb's Python refuses int->str over sys.int_info.str_digits_check_threshold.
        import sys
        old = sys.get_int_max_str_digits()
        sys.set_int_max_str_digits(0)
        try:
            return str(value)
        finally:
            sys.set_int_max_str_digits(old)


def render(reader, obj, limit=DEFAULT_LIMIT):
    return Renderer(reader, limit).render(obj)


def type_label(reader, obj):
    try:
        return reader.type_name(reader.type_of(obj))
    except Unreadable:
        return None


# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------
