# timelens pyext: reads CPython 3.11-3.14 state out of a stopped (or replayed)
# process and answers GDB/MI commands with JSON.
#
# Rules this file keeps:
#   * It never runs code in the debuggee: no inferior calls, no gdb value
#     casts that need the debuggee. Memory is read with
#     gdb.selected_inferior().read_memory and decoded with struct.
#   * Struct layouts (field offsets, bitfields) come from the debug info of the
#     Python being debugged (gdb.lookup_type); what differs between Python
#     versions beyond layouts (field names, owner values, tag bits, where the
#     dict values of an instance live) is in VERSIONS, one entry per version.
#   * Every error reaches the client as an MI error (gdb.GdbError) with a clear
#     message; a value that cannot be read renders as "<unreadable 0x...>"
#     instead of failing the reply.
#
# Commands (each replies ^done,json="<JSON object>"):
#   -timelens-threads
#   -timelens-frames [--thread N]
#   -timelens-locals [--thread N] --depth DEPTH [--limit CHARS]
#   -timelens-eval   [--thread N] --depth DEPTH [--limit CHARS] PATH
#   -timelens-render [--limit CHARS] ADDRESS
# DEPTH counts Python frames of the thread, innermost = 0. N is gdb's thread
# number; without --thread the selected thread is used. (--thread is gdb's own
# MI option: gdb selects the thread before the command runs. gdb also claims
# --frame for C frame levels, so the Python frame is chosen with --depth.)

import json
import re
import struct
import time

import gdb

# ---------------------------------------------------------------------------
# Version table: everything that differs between CPython versions, other than
# struct layouts, which are read from debug info.
# ---------------------------------------------------------------------------

_COMMON = {
    # Code object local kinds (Include/internal/pycore_code.h).
    "CO_FAST_HIDDEN": 0x10,
    "CO_FAST_LOCAL": 0x20,
    "CO_FAST_CELL": 0x40,
    "CO_FAST_FREE": 0x80,
    "CO_OPTIMIZED": 0x1,
    # Type flags (Include/object.h).
    "TPFLAGS_MANAGED_DICT": 1 << 4,
    "TPFLAGS_HEAPTYPE": 1 << 9,
    # PyMemberDef types for __slots__ (Py_T_OBJECT_EX) and flags.
    "T_OBJECT_EX": 16,
    # Where the managed dict pointer lives, in words before the object.
    "MANAGED_DICT_WORDS": -3,
}

VERSIONS = {
    (3, 11): dict(
        _COMMON,
        frame_code="f_code",            # _PyInterpreterFrame field holding the code object
        frame_func="f_func",
        frame_ip="prev_instr",          # last instruction started
        current_frame=("cframe", "current_frame"),  # tstate -> ... -> frame
        owners={0: "thread", 1: "generator", 2: "frame_object"},
        owner_generator=1,
        owner_first_shim=None,           # owners >= this are C-stack/interpreter shims
        stackref_mask=None,              # None: plain PyObject* fields
        long_layout="ob_size",           # sign and digit count in ob_size
        # managed dict: "pre_values" (3.11: values at -4 words, dict at -3),
        # "dorv" (3.12: tagged dict-or-values at -3 words), "inline" (3.13+).
        managed_dict="pre_values",
        values_order="prefix",           # split values: order bytes before values[0]
        tpflags_inline_values=None,
        tstate_tls=None,                 # 3.11 has no _Py_tss_tstate
    ),
    (3, 12): dict(
        _COMMON,
        frame_code="f_code",
        frame_func="f_funcobj",
        frame_ip="prev_instr",
        current_frame=("cframe", "current_frame"),
        owners={0: "thread", 1: "generator", 2: "frame_object", 3: "cstack"},
        owner_generator=1,
        owner_first_shim=3,
        stackref_mask=None,
        long_layout="lv_tag",
        managed_dict="dorv",
        values_order="prefix",
        tpflags_inline_values=None,
        tstate_tls="_Py_tss_tstate",
    ),
    (3, 13): dict(
        _COMMON,
        frame_code="f_executable",
        frame_func="f_funcobj",
        frame_ip="instr_ptr",            # instruction executing or about to begin
        current_frame=("current_frame",),
        owners={0: "thread", 1: "generator", 2: "frame_object", 3: "cstack"},
        owner_generator=1,
        owner_first_shim=3,
        stackref_mask=None,
        long_layout="lv_tag",
        managed_dict="inline",
        values_order="suffix",           # order bytes after values[capacity]
        tpflags_inline_values=1 << 2,
        tstate_tls="_Py_tss_tstate",
    ),
    (3, 14): dict(
        _COMMON,
        frame_code="f_executable",
        frame_func="f_funcobj",
        frame_ip="instr_ptr",
        current_frame=("current_frame",),
        owners={0: "thread", 1: "generator", 2: "frame_object", 3: "interpreter", 4: "cstack"},
        owner_generator=1,
        owner_first_shim=3,
        stackref_mask=~0x3,              # _PyStackRef.bits: clear the tag bits
        long_layout="lv_tag",
        managed_dict="inline",
        values_order="suffix",
        tpflags_inline_values=1 << 2,
        tstate_tls="_Py_tss_tstate",
    ),
}

DEFAULT_LIMIT = 120     # characters of one rendering, "…" included
DEFAULT_DEPTH = 3       # containers nested deeper render as [...]-like "…"
RENDER_BUDGET_S = 0.25  # wall-clock budget for one rendering
COMMAND_BUDGET_S = 2.0  # wall-clock budget for all renderings of one command
RENDER_MAX_NODES = 20000
ELLIPSIS = "\u2026"
MAX_INT_DIGITS = 2000   # 30-bit digits; larger ints render as <int of N bits>


class TimelensError(Exception):
    """A failure with a message meant for the user."""


class Unreadable(Exception):
    """Memory that cannot be read or an object that makes no sense."""

    def __init__(self, addr, why=""):
        Exception.__init__(self, "unreadable memory at 0x%x%s" % (addr, (": " + why) if why else ""))
        self.addr = addr


class _Full(Exception):
    """The rendering reached its length limit or budget."""


# ---------------------------------------------------------------------------
# Memory
# ---------------------------------------------------------------------------

_BLOCK = 512


class Memory:
    """Reads the inferior's memory, caching small blocks for one command."""

    def __init__(self):
        self.inf = gdb.selected_inferior()
        self.blocks = {}

    def read(self, addr, n):
        if n <= 0:
            return b""
        if addr < 4096 or addr + n > 1 << 64:
            raise Unreadable(addr)
        if n > _BLOCK:
            return self._raw(addr, n)
        first = addr - addr % _BLOCK
        last = (addr + n - 1) - (addr + n - 1) % _BLOCK
        if first == last:
            blk = self._block(first)
            if blk is None:
                return self._raw(addr, n)
            off = addr - first
            return blk[off:off + n]
        a = self._block(first)
        b = self._block(last)
        if a is None or b is None:
            return self._raw(addr, n)
        joined = a + b
        off = addr - first
        return joined[off:off + n]

    def _block(self, base):
        blk = self.blocks.get(base)
        if blk is None and base not in self.blocks:
            try:
                blk = bytes(self.inf.read_memory(base, _BLOCK))
            except (gdb.MemoryError, gdb.error):
                blk = None
            self.blocks[base] = blk
        return blk

    def _raw(self, addr, n):
        try:
            return bytes(self.inf.read_memory(addr, n))
        except (gdb.MemoryError, gdb.error) as e:
            raise Unreadable(addr, str(e))

    def ptr(self, addr):
        return struct.unpack("<Q", self.read(addr, 8))[0]

    def i64(self, addr):
        return struct.unpack("<q", self.read(addr, 8))[0]

    def u32(self, addr):
        return struct.unpack("<I", self.read(addr, 4))[0]

    def i32(self, addr):
        return struct.unpack("<i", self.read(addr, 4))[0]

    def u16(self, addr):
        return struct.unpack("<H", self.read(addr, 2))[0]

    def u8(self, addr):
        return self.read(addr, 1)[0]

    def ptrs(self, addr, n):
        return struct.unpack("<%dQ" % n, self.read(addr, 8 * n)) if n > 0 else ()


# ---------------------------------------------------------------------------
# Layout: offsets from debug info, plus the version entry
# ---------------------------------------------------------------------------

def _lookup_type(*names):
    for name in names:
        try:
            return gdb.lookup_type(name)
        except gdb.error:
            pass
        try:
            return gdb.lookup_type(name.replace("struct ", ""))
        except gdb.error:
            pass
    raise TimelensError("no debug info for %s: install the debug symbols of this Python "
                        "(e.g. python3.X-dbg on Debian)" % names[0])


def _field_bits(t, path):
    """(bit offset, bit size or 0, field type) of a dotted field path in t."""
    t = t.strip_typedefs()
    bits = 0
    ft = None
    size = 0
    for part in path.split("."):
        found = None
        for f in t.fields():
            if f.name == part:
                found = f
                break
        if found is None:
            # Anonymous struct/union members.
            for f in t.fields():
                if f.name is None or f.name == "":
                    try:
                        b, s, ty = _field_bits(f.type, part)
                        found = f
                        bits += f.bitpos + b
                        size = s
                        ft = ty
                        t = ty.strip_typedefs()
                        break
                    except KeyError:
                        pass
            if found is None:
                raise KeyError(path)
            continue
        bits += found.bitpos
        size = found.bitsize
        ft = found.type
        t = ft.strip_typedefs()
    return bits, size, ft


class Layout:
    """Offsets of the fields the reader uses, for one Python in one process."""

    def __init__(self, mem):
        ver = _read_version(mem)
        self.version = ver
        key = (ver >> 24, (ver >> 16) & 0xFF)
        if key not in VERSIONS:
            raise TimelensError("Python %d.%d is not supported (timelens reads 3.11 to 3.14)" % key)
        self.key = key
        self.v = VERSIONS[key]
        self.runtime = _symbol_address("_PyRuntime")
        t = {}
        for name in ("PyObject", "PyVarObject", "PyTypeObject", "PyHeapTypeObject", "PyCodeObject",
                     "PyASCIIObject", "PyCompactUnicodeObject", "PyUnicodeObject", "PyBytesObject",
                     "PyFloatObject", "PyComplexObject", "PyListObject", "PyTupleObject",
                     "PyDictObject", "PyDictKeysObject", "PySetObject", "PyCellObject",
                     "PyFunctionObject", "PyMemberDef", "PyThreadState", "PyInterpreterState",
                     "PyLongObject", "PyGenObject"):
            t[name] = _lookup_type(name)
        t["frame"] = _lookup_type("_PyInterpreterFrame", "struct _PyInterpreterFrame")
        t["runtime"] = _lookup_type("_PyRuntimeState", "struct pyruntimestate")
        t["values"] = _lookup_type("PyDictValues", "struct _dictvalues")
        self.types = t

        def off(tn, path):
            return _field_bits(t[tn], path)[0] // 8

        self.off = off
        self.ob_type = off("PyObject", "ob_type")
        self.ob_size = off("PyVarObject", "ob_size")
        self.tp_name = off("PyTypeObject", "tp_name")
        self.tp_flags = off("PyTypeObject", "tp_flags")
        self.tp_basicsize = off("PyTypeObject", "tp_basicsize")
        self.tp_dictoffset = off("PyTypeObject", "tp_dictoffset")
        self.tp_members = off("PyTypeObject", "tp_members")
        self.tp_base = off("PyTypeObject", "tp_base")
        self.tp_dict = off("PyTypeObject", "tp_dict")
        self.tp_mro = off("PyTypeObject", "tp_mro")
        self.ht_qualname = off("PyHeapTypeObject", "ht_qualname")
        self.ht_cached_keys = off("PyHeapTypeObject", "ht_cached_keys")
        self.member_size = t["PyMemberDef"].strip_typedefs().sizeof
        self.m_name = off("PyMemberDef", "name")
        self.m_type = off("PyMemberDef", "type")
        self.m_offset = off("PyMemberDef", "offset")
        # code objects
        for f in ("co_filename", "co_name", "co_qualname", "co_firstlineno", "co_linetable",
                  "co_localsplusnames", "co_localspluskinds", "co_nlocalsplus", "co_flags",
                  "co_code_adaptive", "_co_firsttraceable"):
            setattr(self, f, off("PyCodeObject", f))
        # frames
        v = self.v
        self.f_code = off("frame", v["frame_code"])
        self.f_previous = off("frame", "previous")
        self.f_globals = off("frame", "f_globals")
        self.f_builtins = off("frame", "f_builtins")
        self.f_locals = off("frame", "f_locals")
        self.f_ip = off("frame", v["frame_ip"])
        self.f_owner = off("frame", "owner")
        self.f_localsplus = off("frame", "localsplus")
        try:
            self.f_tlbc = off("frame", "tlbc_index")
            self.co_tlbc = off("PyCodeObject", "co_tlbc")
        except KeyError:
            self.f_tlbc = None
        # threads and interpreters
        self.rt_interp_head = off("runtime", "interpreters.head")
        self.is_next = off("PyInterpreterState", "next")
        self.is_threads_head = off("PyInterpreterState", "threads.head")
        self.is_id = off("PyInterpreterState", "id")
        self.ts_next = off("PyThreadState", "next")
        self.ts_id = off("PyThreadState", "id")
        self.ts_thread_id = off("PyThreadState", "thread_id")
        self.ts_native_id = off("PyThreadState", "native_thread_id")
        cf = v["current_frame"]
        if len(cf) == 2:
            self.ts_cframe = off("PyThreadState", cf[0])
            cft = _lookup_type("_PyCFrame", "struct _PyCFrame")
            self.cframe_current = _field_bits(cft, cf[1])[0] // 8
        else:
            self.ts_cframe = None
            self.ts_current_frame = off("PyThreadState", cf[0])
        # str
        self.ascii_size = t["PyASCIIObject"].strip_typedefs().sizeof
        self.compact_size = t["PyCompactUnicodeObject"].strip_typedefs().sizeof
        self.str_length = off("PyASCIIObject", "length")
        self.str_state_bits = {}
        for name in ("kind", "compact", "ascii"):
            b, s, _ = _field_bits(t["PyASCIIObject"], "state." + name)
            self.str_state_bits[name] = (b, s)
        self.str_data_any = off("PyUnicodeObject", "data")
        # numbers and containers
        if v["long_layout"] == "lv_tag":
            self.long_tag = off("PyLongObject", "long_value.lv_tag")
            self.long_digits = off("PyLongObject", "long_value.ob_digit")
            digit_t = _field_bits(t["PyLongObject"], "long_value.ob_digit")[2].target()
        else:
            self.long_digits = off("PyLongObject", "ob_digit")
            digit_t = _field_bits(t["PyLongObject"], "ob_digit")[2].target()
        self.digit_size = digit_t.sizeof
        self.digit_bits = 30 if self.digit_size == 4 else 15
        self.float_val = off("PyFloatObject", "ob_fval")
        self.complex_val = off("PyComplexObject", "cval")
        self.bytes_sval = off("PyBytesObject", "ob_sval")
        self.list_items = off("PyListObject", "ob_item")
        self.tuple_items = off("PyTupleObject", "ob_item")
        self.dict_used = off("PyDictObject", "ma_used")
        self.dict_keys = off("PyDictObject", "ma_keys")
        self.dict_values = off("PyDictObject", "ma_values")
        self.dk_log2_size = off("PyDictKeysObject", "dk_log2_size")
        self.dk_log2_index_bytes = off("PyDictKeysObject", "dk_log2_index_bytes")
        self.dk_kind = off("PyDictKeysObject", "dk_kind")
        self.dk_nentries = off("PyDictKeysObject", "dk_nentries")
        self.dk_indices = off("PyDictKeysObject", "dk_indices")
        self.dv_values = off("values", "values")
        if v["values_order"] == "suffix":
            self.dv_capacity = off("values", "capacity")
            self.dv_size = off("values", "size")
            self.dv_valid = off("values", "valid")
        self.set_table = off("PySetObject", "table")
        self.set_mask = off("PySetObject", "mask")
        self.set_used = off("PySetObject", "used")
        self.cell_ref = off("PyCellObject", "ob_ref")
        self.func_qualname = off("PyFunctionObject", "func_qualname")
        self.gen_qualname = _try(lambda: off("PyGenObject", "gi_qualname"))
        # builtin type and singleton addresses
        self.addr = {}
        for sym in ("PyLong_Type", "PyBool_Type", "PyFloat_Type", "PyComplex_Type", "PyUnicode_Type",
                    "PyBytes_Type", "PyList_Type", "PyTuple_Type", "PyDict_Type", "PySet_Type",
                    "PyFrozenSet_Type", "PyRange_Type", "PyCell_Type", "PyCode_Type", "PyType_Type",
                    "PyFunction_Type", "PyModule_Type", "PyCFunction_Type", "PyGen_Type",
                    "PyCoro_Type", "PyAsyncGen_Type", "_PyNone_Type", "PyEllipsis_Type",
                    "_PyNotImplemented_Type", "_Py_TrueStruct", "_PySet_Dummy", "PyMethod_Type",
                    "PyProperty_Type"):
            a = _try(lambda: _symbol_address(sym))
            if a is not None:
                self.addr[sym] = a
        if "_PySet_Dummy" in self.addr:
            # _PySet_Dummy is a pointer variable holding the dummy key.
            self.set_dummy = _try(lambda: mem.ptr(self.addr["_PySet_Dummy"]))
        else:
            self.set_dummy = None
        rt = _try(lambda: _lookup_type("rangeobject"))
        if rt is not None:
            self.range_fields = [_field_bits(rt, f)[0] // 8 for f in ("start", "stop", "step")]
        else:
            self.range_fields = None
        mt = _try(lambda: _lookup_type("PyModuleObject"))
        self.module_name = _field_bits(mt, "md_name")[0] // 8 if mt is not None else None
        self.module_dict = _field_bits(mt, "md_dict")[0] // 8 if mt is not None else None
        cft = _try(lambda: _lookup_type("PyCFunctionObject"))
        if cft is not None:
            self.cfunc_ml = _field_bits(cft, "m_ml")[0] // 8
            self.cfunc_self = _field_bits(cft, "m_self")[0] // 8
        else:
            self.cfunc_ml = None
        self.type_by_addr = {a: s for s, a in self.addr.items()}

    def version_string(self):
        return "%d.%d.%d" % (self.version >> 24, (self.version >> 16) & 0xFF, (self.version >> 8) & 0xFF)


def _try(fn):
    try:
        return fn()
    except (gdb.error, KeyError, TimelensError, Unreadable, AttributeError):
        return None


def _symbol_address(name):
    try:
        return int(gdb.parse_and_eval("(unsigned long)&'%s'" % name))
    except gdb.error:
        return int(gdb.parse_and_eval("(unsigned long)&%s" % name))


def _read_version(mem):
    try:
        addr = _symbol_address("Py_Version")
    except gdb.error:
        raise TimelensError("no CPython found in the debugged process (symbol Py_Version missing; "
                            "timelens needs Python 3.11 or newer)")
    return mem.u32(addr)


_layout_cache = {}


def layout(mem):
    """The Layout for the current inferior, built once per process."""
    inf = gdb.selected_inferior()
    if inf.pid == 0:
        raise TimelensError("the program is not running")
    try:
        rt = _symbol_address("_PyRuntime")
    except gdb.error:
        raise TimelensError("no CPython found in the debugged process (symbol _PyRuntime missing)")
    key = (inf.num, inf.pid, rt)
    lay = _layout_cache.get(key)
    if lay is None:
        _layout_cache.clear()
        lay = Layout(mem)
        _layout_cache[key] = lay
    return lay


# ---------------------------------------------------------------------------
# Reading objects
# ---------------------------------------------------------------------------

class Reader:
    """Decodes CPython objects; one per command (its memory cache is per stop)."""

    def __init__(self):
        self.mem = Memory()
        self.L = layout(self.mem)
        self.v = self.L.v
        self.linetables = {}
        self.deadline = time.monotonic() + COMMAND_BUDGET_S

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
        out = b""
        while len(out) < maxlen:
            chunk = self.mem.read(addr + len(out), 64)
            z = chunk.find(b"\0")
            if z >= 0:
                out += chunk[:z]
                break
            out += chunk
        return out.decode("utf-8", "replace")

    def stackref(self, raw):
        m = self.v["stackref_mask"]
        return raw & m if m is not None else raw

    def ob_size(self, obj):
        return self.mem.i64(obj + self.L.ob_size)

    # -- str ---------------------------------------------------------------
    def str_info(self, obj):
        """(length, kind, data address) of a str object."""
        L = self.L
        length = self.mem.i64(obj + L.str_length)
        state_off = min(b for b, _ in L.str_state_bits.values()) // 8
        word = struct.unpack("<I", self.mem.read(obj + state_off, 4))[0]

        def bit(name):
            b, s = L.str_state_bits[name]
            return (word >> (b - state_off * 8)) & ((1 << s) - 1)

        kind, compact, is_ascii = bit("kind"), bit("compact"), bit("ascii")
        if kind not in (1, 2, 4) or length < 0:
            raise Unreadable(obj, "not a str")
        if compact:
            data = obj + (L.ascii_size if is_ascii else L.compact_size)
        else:
            data = self.mem.ptr(obj + L.str_data_any)
        return length, kind, data

    def read_str(self, obj, maxchars=None):
        """(python str of the first maxchars characters, full length)."""
        length, kind, data = self.str_info(obj)
        n = length if maxchars is None else min(length, maxchars)
        raw = self.mem.read(data, n * kind)
        if kind == 1:
            s = raw.decode("latin-1")
        elif kind == 2:
            s = raw.decode("utf-16-le", "surrogatepass")
        else:
            s = raw.decode("utf-32-le", "surrogatepass")
        return s, length

    def py_str(self, obj, maxchars=4096):
        if obj == 0:
            return None
        return self.read_str(obj, maxchars)[0]

    def str_equals(self, obj, text):
        length, kind, data = self.str_info(obj)
        if length != len(text):
            return False
        return self.read_str(obj)[0] == text

    # -- int -----------------------------------------------------------------
    def read_int(self, obj):
        L = self.L
        if self.v["long_layout"] == "lv_tag":
            tag = self.mem.ptr(obj + L.long_tag)
            ndigits = tag >> 3
            sign = 1 - (tag & 3)
        else:
            size = self.ob_size(obj)
            ndigits = abs(size)
            sign = -1 if size < 0 else (0 if size == 0 else 1)
        if ndigits > MAX_INT_DIGITS:
            return None, ndigits * L.digit_bits
        raw = self.mem.read(obj + L.long_digits, ndigits * L.digit_size)
        fmt = "<%d%s" % (ndigits, "I" if L.digit_size == 4 else "H")
        value = 0
        for d in reversed(struct.unpack(fmt, raw)):
            value = (value << L.digit_bits) | d
        if sign < 0:
            value = -value
        return value, None

    # -- dicts ------------------------------------------------------------------
    def _values_order(self, values, count_hint=None):
        """Indices, in insertion order, of the used entries of split values."""
        if self.v["values_order"] == "suffix":
            cap = self.mem.u8(values + self.L.dv_capacity)
            size = self.mem.u8(values + self.L.dv_size)
            arr = self.mem.read(values + self.L.dv_values + 8 * cap, size)
            return list(arr)
        size = self.mem.u8(values - 2)
        if size == 0:
            return []
        arr = self.mem.read(values - 2 - size, size)
        # order[i] lives at values[-3 - i]
        return [arr[size - 1 - i] for i in range(size)]

    def keys_entries(self, keys):
        """(entries address, entry size, unicode?) of a PyDictKeysObject."""
        L = self.L
        log2_index_bytes = self.mem.u8(keys + L.dk_log2_index_bytes)
        kind = self.mem.u8(keys + L.dk_kind)
        if log2_index_bytes > 40:
            raise Unreadable(keys, "bad dict keys")
        entries = keys + L.dk_indices + (1 << log2_index_bytes)
        unicode = kind != 0
        return entries, (16 if unicode else 24), unicode

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
        for ix in self._values_order(values):
            val = self.mem.ptr(vbase + 8 * ix)
            if val:
                k = self.mem.ptr(entries + ix * esize + (0 if unicode else 8))
                yield k, val, vbase + 8 * ix

    def dict_lookup_str(self, d, name):
        for k, val, slot in self.dict_items(d):
            if self.type_of(k) == self.L.addr["PyUnicode_Type"] and self.str_equals(k, name):
                return val, slot
        return None

    # -- instances ------------------------------------------------------------
    def instance_attrs(self, obj, tp=None):
        """Yield (name, value, slot address, storage kind) of an instance's
        own attributes: __slots__ (base classes first), then its __dict__."""
        L = self.L
        if tp is None:
            tp = self.type_of(obj)
        # __slots__: member descriptors of heap types along tp_base.
        chain = []
        t = tp
        while t and len(chain) < 64:
            chain.append(t)
            t = self.mem.ptr(t + L.tp_base)
        for t in reversed(chain):
            if not self.type_flags(t) & self.v["TPFLAGS_HEAPTYPE"]:
                continue
            m = self.mem.ptr(t + L.tp_members)
            count = 0
            while m and count < 1000:
                name_p = self.mem.ptr(m + L.m_name)
                if not name_p:
                    break
                if self.mem.i32(m + L.m_type) == self.v["T_OBJECT_EX"]:
                    offset = self.mem.i64(m + L.m_offset)
                    val = self.mem.ptr(obj + offset)
                    if val:
                        yield self.cstring(name_p, 256), val, obj + offset, "slot"
                m += L.member_size
                count += 1
        for item in self.instance_dict_items(obj, tp):
            yield item

    def instance_dict_items(self, obj, tp):
        L = self.L
        flags = self.type_flags(tp)
        dict_addr = 0
        if flags & self.v["TPFLAGS_MANAGED_DICT"]:
            md = self.v["managed_dict"]
            if md == "inline":
                iv = self.v["tpflags_inline_values"]
                if flags & iv:
                    values = obj + self.mem.i64(tp + L.tp_basicsize)
                    if self.mem.u8(values + L.dv_valid):
                        keys = self.mem.ptr(tp + L.ht_cached_keys)
                        for k, val, slot in self.split_items(keys, values):
                            yield self.py_str(k), val, slot, "inline"
                        return
                dict_addr = self.mem.ptr(obj + 8 * self.v["MANAGED_DICT_WORDS"])
            elif md == "dorv":
                dorv = self.mem.ptr(obj + 8 * self.v["MANAGED_DICT_WORDS"])
                if dorv & 1:
                    values = dorv + 1
                    keys = self.mem.ptr(tp + L.ht_cached_keys)
                    for k, val, slot in self.split_items(keys, values):
                        yield self.py_str(k), val, slot, "inline"
                    return
                dict_addr = dorv
            else:  # pre_values
                values = self.mem.ptr(obj - 8 * 4)
                if values:
                    keys = self.mem.ptr(tp + L.ht_cached_keys)
                    for k, val, slot in self.split_items(keys, values):
                        yield self.py_str(k), val, slot, "inline"
                    return
                dict_addr = self.mem.ptr(obj + 8 * self.v["MANAGED_DICT_WORDS"])
        else:
            off = self.mem.i64(tp + L.tp_dictoffset)
            if off > 0:
                dict_addr = self.mem.ptr(obj + off)
        if dict_addr:
            for k, val, slot in self.dict_items(dict_addr):
                yield self.py_str(k), val, slot, "dict"

    def has_instance_storage(self, tp):
        flags = self.type_flags(tp)
        if flags & self.v["TPFLAGS_MANAGED_DICT"]:
            return True
        if self.mem.i64(tp + self.L.tp_dictoffset) != 0:
            return True
        t = tp
        n = 0
        while t and n < 64:
            if self.type_flags(t) & self.v["TPFLAGS_HEAPTYPE"]:
                m = self.mem.ptr(t + self.L.tp_members)
                while m and self.mem.ptr(m + self.L.m_name):
                    if self.mem.i32(m + self.L.m_type) == self.v["T_OBJECT_EX"]:
                        return True
                    m += self.L.member_size
            t = self.mem.ptr(t + self.L.tp_base)
            n += 1
        return False

    # -- threads and frames ----------------------------------------------------
    def thread_states(self):
        """Yield (interp id, tstate address) for every thread of every interpreter."""
        L = self.L
        interp = self.mem.ptr(L.runtime + L.rt_interp_head)
        ni = 0
        while interp and ni < 256:
            iid = self.mem.i64(interp + L.is_id)
            ts = self.mem.ptr(interp + L.is_threads_head)
            nt = 0
            while ts and nt < 10000:
                yield iid, ts
                ts = self.mem.ptr(ts + L.ts_next)
                nt += 1
            interp = self.mem.ptr(interp + L.is_next)
            ni += 1

    def tstate_for_thread(self, thread):
        """The PyThreadState address of a gdb thread."""
        lwp = thread.ptid[1] or thread.ptid[2]
        for _, ts in self.thread_states():
            if self.mem.ptr(ts + self.L.ts_native_id) == lwp:
                return ts
        tls = self.v["tstate_tls"]
        if tls and thread == gdb.selected_thread():
            ts = _try(lambda: int(gdb.parse_and_eval("(unsigned long)%s" % tls)))
            if ts:
                return ts
        raise TimelensError("gdb thread %d (LWP %d) runs no Python code (no thread state)" % (thread.num, lwp))

    def current_frame(self, ts):
        L = self.L
        if L.ts_cframe is not None:
            cf = self.mem.ptr(ts + L.ts_cframe)
            return self.mem.ptr(cf + L.cframe_current) if cf else 0
        return self.mem.ptr(ts + L.ts_current_frame)

    def code_start(self, frame, code):
        L = self.L
        if L.f_tlbc is not None:
            idx = self.mem.i32(frame + L.f_tlbc)
            arr = self.mem.ptr(code + L.co_tlbc)
            if arr and idx > 0:
                # _PyCodeArray: Py_ssize_t size; char *entries[];
                return self.mem.ptr(arr + 8 + 8 * idx)
        return code + L.co_code_adaptive

    def python_frames(self, ts):
        """Yield dicts describing the complete Python frames of a thread, innermost first."""
        L = self.L
        v = self.v
        f = self.current_frame(ts)
        depth = 0
        seen = set()
        while f and f not in seen and len(seen) < 100000:
            seen.add(f)
            owner = self.mem.u8(f + L.f_owner)
            nxt = self.mem.ptr(f + L.f_previous)
            shim = v["owner_first_shim"]
            if shim is not None and owner >= shim:
                f = nxt
                continue
            code = self.stackref(self.mem.ptr(f + L.f_code))
            if not code or self.type_of(code) != L.addr["PyCode_Type"]:
                f = nxt
                continue
            start = self.code_start(f, code)
            ip = self.mem.ptr(f + L.f_ip)
            first_traceable = self.mem.i32(code + L._co_firsttraceable)
            if owner != v["owner_generator"] and ip < start + 2 * first_traceable:
                f = nxt  # incomplete: still creating cells or the generator
                continue
            lasti = (ip - start) // 2
            yield {
                "depth": depth,
                "frame": f,
                "code": code,
                "owner": v["owners"].get(owner, str(owner)),
                "lasti": lasti,
            }
            depth += 1
            f = nxt

    def frame_info(self, fr):
        L = self.L
        code = fr["code"]
        first = self.mem.i32(code + L.co_firstlineno)
        return {
            "depth": fr["depth"],
            "frame": "0x%x" % fr["frame"],
            "code": "0x%x" % code,
            "file": self.py_str(self.mem.ptr(code + L.co_filename)),
            "name": self.py_str(self.mem.ptr(code + L.co_name)),
            "qualname": self.py_str(self.mem.ptr(code + L.co_qualname)),
            "firstlineno": first,
            "line": self.line_of(code, fr["lasti"]),
            "lasti": fr["lasti"],
            "owner": fr["owner"],
        }

    # -- line numbers ----------------------------------------------------------
    def linetable(self, code):
        t = self.linetables.get(code)
        if t is None:
            L = self.L
            first = self.mem.i32(code + L.co_firstlineno)
            tbl = self.mem.ptr(code + L.co_linetable)
            n = self.ob_size(tbl)
            if n < 0 or n > 1 << 24:
                raise Unreadable(tbl, "bad line table")
            t = parse_linetable(self.mem.read(tbl + L.bytes_sval, n), first)
            self.linetables[code] = t
        return t

    def line_of(self, code, lasti):
        """PyCode_Addr2Line(code, lasti * 2): the line of code unit lasti, or None."""
        if lasti < 0:
            return self.mem.i32(code + self.L.co_firstlineno)
        for start, end, line in self.linetable(code):
            if start <= lasti < end:
                return line
        return None

    # -- locals ----------------------------------------------------------------
    def frame_variables(self, frame, code):
        """Yield (name, value, slot address, kind, tagged) of a frame's bound variables:
        fast locals, cells and free variables (dereferenced), then the f_locals
        dict of frames that have one (module and class bodies). tagged is
        True when the slot holds a _PyStackRef (3.14 frame slots): the object
        address is the slot's word with the tag bits cleared."""
        L = self.L
        v = self.v
        names = self.mem.ptr(code + L.co_localsplusnames)
        kinds_b = self.mem.ptr(code + L.co_localspluskinds)
        n = self.mem.i32(code + L.co_nlocalsplus)
        flags = self.mem.i32(code + L.co_flags)
        if n < 0 or n > 1 << 20:
            raise Unreadable(code, "bad code object")
        kinds = self.mem.read(kinds_b + L.bytes_sval, n)
        name_ptrs = self.mem.ptrs(names + L.tuple_items, n)
        vals = self.mem.ptrs(frame + L.f_localsplus, n)
        cell_type = L.addr["PyCell_Type"]
        for i in range(n):
            kind = kinds[i]
            val = self.stackref(vals[i])
            slot = frame + L.f_localsplus + 8 * i
            if kind & v["CO_FAST_FREE"] and not flags & v["CO_OPTIMIZED"]:
                continue  # __class__ cell of a class body
            if not val:
                continue
            label = "local"
            tagged = v["stackref_mask"] is not None
            if kind & (v["CO_FAST_CELL"] | v["CO_FAST_FREE"]):
                if self.type_of(val) == cell_type:
                    slot = val + L.cell_ref
                    tagged = False
                    val = self.mem.ptr(slot)
                    if not val:
                        continue
                label = "free" if kind & v["CO_FAST_FREE"] else "cell"
            elif kind & v["CO_FAST_HIDDEN"]:
                label = "hidden"
            yield self.py_str(name_ptrs[i]), val, slot, label, tagged
        if not flags & v["CO_OPTIMIZED"]:
            loc = self.mem.ptr(frame + L.f_locals)
            if loc and self.type_of(loc) == L.addr["PyDict_Type"]:
                for k, val, slot in self.dict_items(loc):
                    yield self.py_str(k), val, slot, "dict", False


def parse_linetable(tbl, firstlineno):
    """Decode a 3.11+ location table (Objects/locations.md) into
    (start code unit, end code unit, line or None) ranges."""
    out = []
    i = 0
    n = len(tbl)
    line = firstlineno
    addr = 0

    def varint(i):
        b = tbl[i]
        i += 1
        val = b & 63
        shift = 0
        while b & 64:
            b = tbl[i]
            i += 1
            shift += 6
            val |= (b & 63) << shift
        return val, i

    def svarint(i):
        u, i = varint(i)
        return (-(u >> 1) if u & 1 else u >> 1), i

    while i < n:
        b = tbl[i]
        i += 1
        code = (b >> 3) & 15
        length = (b & 7) + 1
        if code == 15:
            ln = None
        elif code == 14:
            d, i = svarint(i)
            line += d
            _, i = varint(i)
            _, i = varint(i)
            _, i = varint(i)
            ln = line
        elif code == 13:
            d, i = svarint(i)
            line += d
            ln = line
        elif code >= 10:
            line += code - 10
            i += 2
            ln = line
        else:
            i += 1
            ln = line
        out.append((addr, addr + length, ln))
        addr += length
    return out


# ---------------------------------------------------------------------------
# Rendering (CONTRACT.md "Rendering values")
# ---------------------------------------------------------------------------

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
            self.emit("True" if obj == L.addr.get("_Py_TrueStruct") else "False")
        elif sym == "_PyNone_Type":
            self.emit("None")
        elif sym == "PyFloat_Type":
            self.emit(repr(struct.unpack("<d", r.mem.read(obj + L.float_val, 8))[0]))
        elif sym == "PyComplex_Type":
            re_, im = struct.unpack("<dd", r.mem.read(obj + L.complex_val, 16))
            self.emit(repr(complex(re_, im)))
        elif sym == "PyBytes_Type":
            n = r.ob_size(obj)
            if n < 0:
                raise Unreadable(obj)
            self.emit(repr(r.mem.read(obj + L.bytes_sval, min(n, self.limit + 1))))
        elif sym in ("PyList_Type", "PyTuple_Type"):
            self.sequence(obj, sym, depth)
        elif sym == "PyDict_Type":
            self.dict(obj, depth)
        elif sym in ("PySet_Type", "PyFrozenSet_Type"):
            self.set(obj, sym, depth)
        elif sym == "PyRange_Type" and L.range_fields:
            start, stop, step = (r.read_int(r.mem.ptr(obj + o))[0] for o in L.range_fields)
            self.emit("range(%s, %s)" % (start, stop) if step == 1 else "range(%s, %s, %s)" % (start, stop, step))
        elif sym == "PyEllipsis_Type":
            self.emit("Ellipsis")
        elif sym == "_PyNotImplemented_Type":
            self.emit("NotImplemented")
        elif sym == "PyFunction_Type":
            self.emit("<function %s at 0x%x>" % (r.py_str(r.mem.ptr(obj + L.func_qualname), 200), obj))
        elif sym == "PyType_Type" or (tp and r.type_flags(tp) & (1 << 31)):
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
        elif r.type_flags(tp) & r.v["TPFLAGS_HEAPTYPE"] and r.has_instance_storage(tp):
            self.instance(obj, tp, depth)
        else:
            self.emit("<%s object at 0x%x>" % (r.type_name(tp), obj))

    def class_name(self, tp):
        r = self.r
        L = self.L
        if r.type_flags(tp) & r.v["TPFLAGS_HEAPTYPE"]:
            qual = r.py_str(r.mem.ptr(tp + L.ht_qualname), 200)
            mod = None
            d = r.mem.ptr(tp + L.tp_dict)
            if d:
                found = r.dict_lookup_str(d, "__module__")
                if found and r.type_of(found[0]) == L.addr["PyUnicode_Type"]:
                    mod = r.py_str(found[0], 200)
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
            items = r.mem.ptr(obj + L.list_items) if is_list else obj + L.tuple_items
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
            table = r.mem.ptr(obj + L.set_table)
            mask = r.mem.i64(obj + L.set_mask)
            if mask < 0 or mask > 1 << 40:
                raise Unreadable(obj)
            self.emit(open_)
            first = True
            i = 0
            while i <= mask:
                chunk = min(mask + 1 - i, 64)
                raw = r.mem.read(table + 16 * i, 16 * chunk)
                for j in range(chunk):
                    key = struct.unpack_from("<Q", raw, 16 * j)[0]
                    if key and key != L.set_dummy:
                        if not first:
                            self.emit(", ")
                        first = False
                        self.value(key, depth + 1)
                i += chunk
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

def _parse_args(argv, flags, positional=0):
    """--name value options in flags (a set); returns (dict, positional list)."""
    opts = {}
    pos = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--") and a[2:] in flags:
            if i + 1 >= len(argv):
                raise TimelensError("option %s needs a value" % a)
            opts[a[2:]] = argv[i + 1]
            i += 2
        elif a.startswith("--"):
            raise TimelensError("unknown option %s (known: %s)" % (a, ", ".join("--" + f for f in sorted(flags))))
        else:
            pos.append(a)
            i += 1
    if len(pos) != positional:
        raise TimelensError("expected %d argument(s), got %d" % (positional, len(pos)))
    return opts, pos


def _int_opt(opts, name, default=None):
    if name not in opts:
        if default is None:
            raise TimelensError("option --%s is required" % name)
        return default
    try:
        return int(opts[name], 0)
    except ValueError:
        raise TimelensError("--%s wants a number, got %r" % (name, opts[name]))


def _thread(opts):
    if "thread" not in opts:
        t = gdb.selected_thread()
        if t is None:
            raise TimelensError("no thread selected (is the program running?)")
        return t
    num = _int_opt(opts, "thread")
    for t in gdb.selected_inferior().threads():
        if t.num == num:
            return t
    raise TimelensError("no gdb thread %d" % num)


def _frame_at(reader, ts, depth):
    for fr in reader.python_frames(ts):
        if fr["depth"] == depth:
            return fr
    raise TimelensError("no Python frame at depth %d in this thread" % depth)


def cmd_threads(argv):
    _parse_args(argv, set())
    r = Reader()
    by_lwp = {t.ptid[1]: t.num for t in gdb.selected_inferior().threads()}
    sel = gdb.selected_thread()
    out = []
    for iid, ts in r.thread_states():
        native = r.mem.ptr(ts + r.L.ts_native_id)
        out.append({
            "tstate": "0x%x" % ts,
            "interp": iid,
            "id": r.mem.i64(ts + r.L.ts_id),
            "native_thread_id": native,
            "thread_id": "0x%x" % r.mem.ptr(ts + r.L.ts_thread_id),
            "gdb_thread": by_lwp.get(native),
            "selected": sel is not None and by_lwp.get(native) == sel.num,
            "has_frames": bool(r.current_frame(ts)),
        })
    return {"python": r.L.version_string(), "threads": out}


def cmd_frames(argv):
    opts, _ = _parse_args(argv, {"thread"})
    r = Reader()
    thread = _thread(opts)
    ts = r.tstate_for_thread(thread)
    frames = [r.frame_info(fr) for fr in r.python_frames(ts)]
    return {"python": r.L.version_string(), "thread": thread.num, "tstate": "0x%x" % ts, "frames": frames}


def _variable(reader, name, val, slot, kind, tagged, limit):
    return {
        "stackref": tagged,
        "name": name,
        "kind": kind,
        "value": render(reader, val, limit),
        "type": type_label(reader, val),
        "address": "0x%x" % val,
        "slot": "0x%x" % slot,
    }


def cmd_locals(argv):
    opts, _ = _parse_args(argv, {"thread", "depth", "limit"})
    depth = _int_opt(opts, "depth")
    limit = max(_int_opt(opts, "limit", DEFAULT_LIMIT), 4)
    r = Reader()
    ts = r.tstate_for_thread(_thread(opts))
    fr = _frame_at(r, ts, depth)
    info = r.frame_info(fr)
    out = []
    seen = set()
    for name, val, slot, kind, tagged in r.frame_variables(fr["frame"], fr["code"]):
        if name in seen:
            continue
        seen.add(name)
        out.append(_variable(r, name, val, slot, kind, tagged, limit))
    info["locals"] = out
    return info


_STORES_CACHE = {}
# path -> the text the recording ran, for the files a saved recording keeps
# a copy of (-timelens-sources).
_RAN_TEXT = {}


def _stores(path):
    """Line -> names that line's statement binds, from the syntax tree of
    the text the recording ran: what a line's inline history shows as
    assigned. That text is the recording's copy when it keeps one
    (-timelens-sources), else the file as this session first reads it: a
    file the user saves while debugging keeps the parse whose line numbers
    are the recording's. Parsed with gdb's own Python (no code runs in the
    debuggee); {} when the file cannot be read or parsed by this Python."""
    import ast
    if path in _STORES_CACHE:
        return _STORES_CACHE[path]
    out = {}
    text = _RAN_TEXT.get(path)
    try:
        if text is None:
            with open(path, "rb") as f:
                text = f.read()
        tree = ast.parse(text, path)
    except OSError:
        return {}
    except (SyntaxError, ValueError):
        tree = None

    def bound(target):
        # The names a target binds: `a`, `a, *b`, `(a, [b])`; not the object of
        # `a.x = ...` or `a[i] = ...`, which is changed, not bound.
        if isinstance(target, ast.Name):
            yield target.id
        elif isinstance(target, (ast.Tuple, ast.List)):
            for e in target.elts:
                yield from bound(e)
        elif isinstance(target, ast.Starred):
            yield from bound(target.value)

    def bind(line, target):
        names = out.setdefault(str(line), [])
        for name in bound(target):
            if name not in names:
                names.append(name)

    if tree is not None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for t in node.targets:
                    bind(node.lineno, t)
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                if node.value is not None or isinstance(node, ast.AugAssign):
                    bind(node.lineno, node.target)
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                bind(getattr(node, "lineno", getattr(node.target, "lineno", 0)), node.target)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if item.optional_vars is not None:
                        bind(node.lineno, item.optional_vars)
            elif isinstance(node, ast.NamedExpr):
                bind(node.lineno, node.target)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for a in node.names:
                    out.setdefault(str(node.lineno), []).append((a.asname or a.name).split(".")[0])
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                line = node.decorator_list[0].lineno if node.decorator_list else node.lineno
                out.setdefault(str(line), []).append(node.name)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                out.setdefault(str(node.lineno), []).append(node.name)
    _STORES_CACHE[path] = out
    return out


def cmd_sources(argv):
    """-timelens-sources FILE: FILE (JSON, {"files": {path: text}}) holds the
    text of each file when the recording ran, as a saved recording keeps
    it; _stores parses those texts instead of the files as they are now."""
    _, args = _parse_args(argv, set(), positional=1)
    with open(args[0], encoding="utf-8") as f:
        files = json.load(f).get("files") or {}
    for path, text in files.items():
        _RAN_TEXT[path] = text
        _STORES_CACHE.pop(path, None)
    return {"files": len(files)}


def cmd_snapshot(argv):
    """Every Python frame of a thread with its variables, in one reply: the
    whole state of one time point in one MI round trip. Module frames list
    their globals without dunder names."""
    opts, _ = _parse_args(argv, {"thread", "limit"})
    limit = max(_int_opt(opts, "limit", DEFAULT_LIMIT), 4)
    r = Reader()
    thread = _thread(opts)
    ts = r.tstate_for_thread(thread)
    frames = []
    for fr in r.python_frames(ts):
        info = r.frame_info(fr)
        out, seen = [], set()
        for name, val, slot, kind, tagged in r.frame_variables(fr["frame"], fr["code"]):
            if name in seen or (kind == "dict" and name.startswith("__") and name.endswith("__")):
                continue
            seen.add(name)
            out.append(_variable(r, name, val, slot, kind, tagged, limit))
        info["locals"] = out
        info["stores"] = _stores(info["file"]) if info.get("file") else {}
        frames.append(info)
    return {"python": r.L.version_string(), "thread": thread.num, "tstate": "0x%x" % ts, "frames": frames}


def _lookup_attr(reader, obj, name):
    """(value, slot address, storage) of attribute name of obj, without running code."""
    r = reader
    L = r.L
    tp = r.type_of(obj)
    sym = L.type_by_addr.get(tp)
    if r.type_flags(tp) & (1 << 31) or sym == "PyType_Type":
        mro = r.mem.ptr(obj + L.tp_mro)
        types = r.mem.ptrs(mro + L.tuple_items, r.ob_size(mro)) if mro else (obj,)
        for t in types:
            d = r.mem.ptr(t + L.tp_dict)
            if d:
                found = r.dict_lookup_str(d, name)
                if found:
                    return found[0], found[1], "class"
        return None
    if sym == "PyModule_Type":
        d = r.mem.ptr(obj + L.module_dict)
        found = r.dict_lookup_str(d, name) if d else None
        return (found[0], found[1], "dict") if found else None
    for aname, val, slot, kind in r.instance_attrs(obj, tp):
        if aname == name:
            return val, slot, kind
    # Class attribute (not a descriptor we would have to run).
    mro = r.mem.ptr(tp + L.tp_mro)
    if mro:
        for t in r.mem.ptrs(mro + L.tuple_items, r.ob_size(mro)):
            d = r.mem.ptr(t + L.tp_dict)
            found = r.dict_lookup_str(d, name) if d else None
            if found:
                vt = L.type_by_addr.get(r.type_of(found[0]))
                if vt == "PyProperty_Type":
                    raise TimelensError("%s is a property: evaluating it would run code" % name)
                return found[0], found[1], "class"
    return None


def cmd_eval(argv):
    opts, pos = _parse_args(argv, {"thread", "depth", "limit"}, positional=1)
    depth = _int_opt(opts, "depth")
    limit = max(_int_opt(opts, "limit", DEFAULT_LIMIT), 4)
    path = pos[0].strip()
    parts = path.split(".")
    if not all(p.isidentifier() for p in parts):
        raise TimelensError("%r is not a dotted name like a.b.c" % path)
    r = Reader()
    ts = r.tstate_for_thread(_thread(opts))
    fr = _frame_at(r, ts, depth)
    L = r.L
    found = None
    tagged = False
    for name, val, slot, kind, tg in r.frame_variables(fr["frame"], fr["code"]):
        if name == parts[0]:
            found = (val, slot, kind)
            tagged = tg
            break
    if found is None:
        for where, off in (("global", L.f_globals), ("builtin", L.f_builtins)):
            d = r.mem.ptr(fr["frame"] + off)
            if d and r.type_of(d) == L.addr["PyDict_Type"]:
                hit = r.dict_lookup_str(d, parts[0])
                if hit:
                    found = (hit[0], hit[1], where)
                    break
    if found is None:
        raise TimelensError("name %r is not defined in frame %d" % (parts[0], depth))
    owner = 0
    for i, attr in enumerate(parts[1:], 1):
        owner = found[0]
        hit = _lookup_attr(r, owner, attr)
        if hit is None:
            raise TimelensError("%s has no attribute %r (readable without running code)" % (".".join(parts[:i]), attr))
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


# Under UDB the search for the last write is Undo's own "last EXPRESSION": it goes back to
# the most recent time the value of EXPRESSION changed, and stops on allocations and frees
# of the locations it watches (https://undo.io/?p=11666, "How to Jump to the Last Time a
# Variable Was Changed Using Undo's 'last' Command", which links the docs.undo.io page;
# github.com/undoio/addons explain/explain.py tool_last_value and explain/instructions.md
# "last my_value"). Like gdb's reverse watchpoint stop it lands on the change itself, with
# the old value still in memory (explain.py searches forward afterwards "to position
# ourselves after the change"). Unlike a watchpoint it skips a store of the value the slot
# already held (x = x): the answer is then the change before it. gdb and rr have no such
# command: a hardware watchpoint and reverse-continue do the search. gdbmi/dialect.go
# names the command in its LastChange column; the dialect is navigate.py's (set_dialect),
# shared through the gdb module as gdb._timelens_dialect.
UDB_LAST = "last"
_UDB_TIME = re.compile(r"Current time is: ([0-9,]+)(?::(0x[0-9a-fA-F]+))?")


def _dialect():
    return getattr(gdb, "_timelens_dialect", ["gdb"])[0]


def _udb_now():
    """UDB's time as (bbcount, pc), or None (docs.undo.io TimeNotation.html, "info time")."""
    m = _UDB_TIME.search(gdb.execute("info time -a", to_string=True))
    return (int(m.group(1).replace(",", "")), int(m.group(2) or "0", 16)) if m else None


def _back_to_write(slot):
    """Moves back to the last write (UDB: change) of the 8 bytes at slot.
    Returns (found, what the debugger said)."""
    expr = "*(unsigned long *) 0x%x" % slot
    if _dialect() == "udb":
        before = _udb_now()
        try:
            out = gdb.execute("%s %s" % (UDB_LAST, expr), to_string=True)
        except gdb.error as e:
            out = str(e)
        after = _udb_now()
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


def cmd_last_write(argv):
    """Moves to the last write before now of a name or chain a.b.c seen from
    frame --depth: a watchpoint on the storage of the final link, run
    backwards (UDB: its "last" command on that storage). The storage of an
    attribute can move (a dict that grew, inline values turned into a dict):
    where the search stops in such a copy, the attribute is looked up again
    at that time and the search follows it to its older place. The reply
    says where the write happened; the caller reads the time and goes back."""
    opts, pos = _parse_args(argv, {"thread", "depth", "limit", "max-stops"}, positional=1)
    max_stops = _int_opt(opts, "max-stops", 1000)
    eval_argv = [a for k, v in opts.items() if k != "max-stops" for a in ("--" + k, v)] + pos
    info = cmd_eval(eval_argv)
    if info["storage"] == "builtin":
        raise TimelensError("%s is a builtin: the recording never wrote it" % info["path"])
    slot = int(info["slot"], 16)
    owner = int(info["owner"], 16) if info["owner"] else 0
    attr = info["path"].rsplit(".", 1)[-1]
    stops = 0
    moved = 0
    while True:
        if stops >= max_stops:
            raise TimelensError("gave up after %d watchpoint stops looking for the last write of %s" % (stops, info["path"]))
        hit, out = _back_to_write(slot)
        stops += 1
        if not hit:
            udb = _dialect() == "udb"
            if "history" in out or "Reached end" in out or udb:
                said = " (UDB: %s)" % out.strip()[-200:] if udb and out.strip() else ""
                raise TimelensError("no write of %s before now: it was set before recording started%s"
                                    % (info["path"], said))
            raise TimelensError("the search for the last write of %s stopped for another reason: %s" % (info["path"], out.strip()[-200:]))
        if owner:
            r = Reader()
            found = _try(lambda: _lookup_attr(r, owner, attr))
            if found and found[1] != slot:
                # A copy into the attribute's new storage: follow it back.
                slot = found[1]
                moved += 1
                continue
        break
    r = Reader()
    ts = r.tstate_for_thread(gdb.selected_thread())
    frames = list(r.python_frames(ts))
    if not frames:
        raise TimelensError("the last write of %s was made outside Python code" % info["path"])
    where = r.frame_info(frames[0])
    return {
        "path": info["path"], "value": info["value"], "file": where["file"], "line": where["line"],
        "function": where["qualname"], "depth": len(frames) - 1, "stops": stops, "moved": moved,
    }


def cmd_render(argv):
    opts, pos = _parse_args(argv, {"limit"}, positional=1)
    limit = max(_int_opt(opts, "limit", DEFAULT_LIMIT), 4)
    try:
        addr = int(pos[0], 0)
    except ValueError:
        raise TimelensError("ADDRESS must be a number, got %r" % pos[0])
    r = Reader()
    t0 = time.monotonic()
    s = render(r, addr, limit)
    return {"value": s, "type": type_label(r, addr), "seconds": round(time.monotonic() - t0, 6)}


# The reply of the last command, kept for -timelens-last-reply: when an MI
# command resumes the program (navigation does), gdb answers it with ^running
# and drops the command's own result. It lives on the gdb module so that every
# timelens script loaded into this gdb shares it.
if not hasattr(gdb, "_timelens_last_reply"):
    gdb._timelens_last_reply = {"reply": None, "error": None}
LAST_REPLY = gdb._timelens_last_reply


def _run(fn, argv):
    """Runs a command, turning every failure into gdb.GdbError for an MI error."""
    LAST_REPLY["reply"], LAST_REPLY["error"] = None, None
    try:
        reply = {"json": json.dumps(fn(list(argv)))}
        LAST_REPLY["reply"] = reply
        return reply
    except gdb.GdbError as e:
        LAST_REPLY["error"] = str(e)
        raise
    except TimelensError as e:
        LAST_REPLY["error"] = str(e)
        raise gdb.GdbError(str(e))
    except Unreadable as e:
        LAST_REPLY["error"] = "timelens: %s (is the process at a consistent point?)" % e
        raise gdb.GdbError(LAST_REPLY["error"])
    except Exception as e:  # never let a Python traceback escape into MI
        LAST_REPLY["error"] = "timelens internal error: %s: %s" % (type(e).__name__, e)
        raise gdb.GdbError(LAST_REPLY["error"])


def cmd_last_reply(argv):
    """The result of the previous command, which gdb dropped if it ran the
    program. Raises its error if it failed."""
    reply, error = LAST_REPLY["reply"], LAST_REPLY["error"]
    if error is not None:
        raise TimelensError(error)
    if reply is None:
        raise TimelensError("timelens: no reply kept from the previous command")
    return json.loads(reply["json"])


COMMANDS = {
    "-timelens-threads": cmd_threads,
    "-timelens-frames": cmd_frames,
    "-timelens-locals": cmd_locals,
    "-timelens-eval": cmd_eval,
    "-timelens-render": cmd_render,
    "-timelens-snapshot": cmd_snapshot,
    "-timelens-last-write": cmd_last_write,
    "-timelens-sources": cmd_sources,
}


def _register_last_reply():
    # Not through _run: reading the kept reply must not replace it.
    def invoke(self, argv):
        try:
            return {"json": json.dumps(cmd_last_reply(argv))}
        except TimelensError as e:
            raise gdb.GdbError(str(e))
    type("TimelensMILastReply", (gdb.MICommand,), {"invoke": invoke})("-timelens-last-reply")


def _register():
    if not hasattr(gdb, "MICommand"):
        raise gdb.GdbError("timelens needs gdb 13 or newer (gdb.MICommand is missing)")
    for name, fn in COMMANDS.items():
        cls = type("TimelensMI" + name.replace("-", "_"), (gdb.MICommand,), {
            "invoke": (lambda fn: lambda self, argv: _run(fn, argv))(fn),
        })
        cls(name)
    _register_last_reply()


_register()
