"""What one CPython in one process looks like: its version's table, its struct
layouts, its opcode numbers, cache sizes and frame states, and the addresses
of its type objects.

The interpreter's code may live in the executable (a static build, Debian's
python3.X) or in libpython3.X.so (a shared build: pyenv, Fedora, many
containers), which is loaded only after the program starts: every symbol is
looked up through gdb, wherever it is, and a Layout is made only once the
process has the interpreter's symbols.

Struct layouts come from one of three sources, tried in this order:
  1. "debug info": the DWARF of the Python being debugged (gdb's types), as
     distributions' -dbg packages and builds with -g have;
  2. "CPython's debug offsets": 3.13 and later publish their own layout at
     the start of _PyRuntime (_Py_DebugOffsets: cookie "xdebugpy", the
     version, then the offsets of the fields out-of-process debuggers read),
     which a stripped build keeps; the fields it does not cover come from the
     built-in table of its minor version;
  3. "built-in table for 3.X": layouts/3.X.json, one per minor version, for
     x86-64 Linux release builds (a release build's layout is fixed per minor
     version), made from the debug info of the suite's Pythons and checked
     against every suite Python that has debug info (pyext/layout_test.go).
The same tables hold the opcode numbers, inline cache sizes, the
specialized-to-base map and the frame states, which without debug info (no
.symtab, no evaluator labels) cannot be read from the process.

Every field a reader asks for is listed in schema(); a field asked for that
is not listed is kept in Layout.unlisted, which the tests require empty, so
that a table made from the schema has everything the readers use.
"""

import json
import os
import re
import struct

import gdb

from . import memory
from .errors import TimelensError
from .versions import supported, table, version_from_shape

DEBUG_SYMBOLS_HINT = ("install the debug symbols of this Python (Debian/Ubuntu: python3.X-dbg; "
                      "Fedora: python3-debuginfo; pyenv: build with CFLAGS=-g)")


def symbol_address(name):
    """The address of a symbol of the debuggee, or None."""
    for expr in ("(unsigned long)&'%s'" % name, "(unsigned long)&%s" % name):
        try:
            return int(gdb.parse_and_eval(expr))
        except gdb.error:
            continue
    return None


def has_interpreter():
    """The process has the interpreter's symbols (a shared libpython is loaded)."""
    return symbol_address("_PyRuntime") is not None


def lookup_type(*names):
    for name in names:
        for n in (name, name.replace("struct ", "")):
            try:
                return gdb.lookup_type(n)
            except gdb.error:
                pass
    raise TimelensError("no-debug-symbols", "no debug information for %s: %s" % (names[0], DEBUG_SYMBOLS_HINT),
                        detail="no type %s" % names[0])


def field_bits(t, path):
    """(bit offset, bit size or 0, field type) of a dotted field path in type t;
    KeyError when a field is missing."""
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
                if not f.name:
                    try:
                        b, s, ty = field_bits(f.type, part)
                    except KeyError:
                        continue
                    found = f
                    bits += f.bitpos + b
                    size = s
                    ft = ty
                    t = ty.strip_typedefs()
                    break
            if found is None:
                raise KeyError(path)
            continue
        bits += found.bitpos
        size = found.bitsize
        ft = found.type
        t = ft.strip_typedefs()
    return bits, size, ft


def has_dwarf():
    """The interpreter's own debug info is there: it describes the code of
    its evaluation loop (_PyEval_EvalFrameDefault, a dynamic symbol).

    Not "gdb knows type PyObject", nor a debug symbol _PyRuntime: extension
    modules built with -g (a stripped pyenv build keeps its lib-dynload/*.so)
    describe PyObject and declare _PyRuntime without the interpreter's own
    debug info being loaded."""
    addr = symbol_address("_PyEval_EvalFrameDefault")
    if addr is None:
        return False
    try:
        block = gdb.block_for_pc(addr)
    except (gdb.error, RuntimeError):
        return False
    return block is not None and block.function is not None


def _version_from_interpreter():
    """(major, minor, micro) of the debuggee's CPython, or None.

    Py_Version (3.11+) is a constant; before it, the buffer Py_GetVersion
    fills while the interpreter starts, failing that the shape of its
    structs (frame objects without _PyInterpreterFrame and a co_linetable
    are 3.10's), and without debug info the name of the file that holds
    _PyRuntime (libpython3.10.so.1.0, python3.10; micro version unknown: 0)."""
    addr = symbol_address("Py_Version")
    if addr is not None:
        try:
            v = memory.u32(addr)
            return (v >> 24, (v >> 16) & 0xFF, (v >> 8) & 0xFF)
        except gdb.MemoryError:
            pass
    try:
        text = gdb.parse_and_eval("Py_GetVersion::version").string()
        m = re.match(r"(\d+)\.(\d+)\.(\d+)", text)
        if m:
            return tuple(int(x) for x in m.groups())
    except (gdb.error, UnicodeDecodeError):
        pass
    if has_dwarf():
        key = version_from_shape(lambda name: _has_type(name), lambda tname, path: _has_field(tname, path))
        return key + (0,) if key else None
    return _version_from_file_names()


def _has_type(name):
    try:
        gdb.lookup_type(name)
        return True
    except gdb.error:
        return False


def _has_field(tname, path):
    try:
        field_bits(gdb.lookup_type(tname), path)
        return True
    except (gdb.error, KeyError):
        return False


def _version_from_file_names():
    """(3, minor, 0) from the name of the file holding _PyRuntime, or None."""
    names = []
    rt = symbol_address("_PyRuntime")
    if rt is not None:
        try:
            names.append(gdb.execute("info symbol 0x%x" % rt, to_string=True))
        except gdb.error:
            pass
    names.append(gdb.current_progspace().filename or "")
    for text in names:
        m = re.search(r"python3\.(\d+)", text)
        if m:
            return (3, int(m.group(1)), 0)
    return None


# -- the schema: every field, size and bitfield the readers ask for ---------------

# The object readers' offsets (values.Objects), attribute -> (type, field
# path): the ones every version has.
OBJECT_FIELDS = {
    "tp_name": ("PyTypeObject", "tp_name"), "tp_flags": ("PyTypeObject", "tp_flags"),
    "tp_basicsize": ("PyTypeObject", "tp_basicsize"), "tp_dictoffset": ("PyTypeObject", "tp_dictoffset"),
    "tp_members": ("PyTypeObject", "tp_members"), "tp_base": ("PyTypeObject", "tp_base"),
    "tp_dict": ("PyTypeObject", "tp_dict"), "tp_mro": ("PyTypeObject", "tp_mro"),
    "ht_qualname": ("PyHeapTypeObject", "ht_qualname"), "ht_cached_keys": ("PyHeapTypeObject", "ht_cached_keys"),
    "m_name": ("PyMemberDef", "name"), "m_type": ("PyMemberDef", "type"), "m_offset": ("PyMemberDef", "offset"),
    "float_val": ("PyFloatObject", "ob_fval"), "complex_val": ("PyComplexObject", "cval"),
    "list_items": ("PyListObject", "ob_item"), "dict_used": ("PyDictObject", "ma_used"),
    "dict_keys": ("PyDictObject", "ma_keys"), "dict_values": ("PyDictObject", "ma_values"),
    "dk_nentries": ("PyDictKeysObject", "dk_nentries"), "dk_indices": ("PyDictKeysObject", "dk_indices"),
    "set_table": ("PySetObject", "table"), "set_mask": ("PySetObject", "mask"),
    "set_used": ("PySetObject", "used"), "cell_ref": ("PyCellObject", "ob_ref"),
    "func_qualname": ("PyFunctionObject", "func_qualname"),
}
# Where the versions differ (the table says which applies).
OBJECT_LONG_FIELDS = {"lv_tag": {"long_tag": "long_value.lv_tag", "long_digits": "long_value.ob_digit"},
                      "ob_size": {"long_digits": "ob_digit"}}
OBJECT_DICT_FIELDS = {"kinds": {"dk_log2_index_bytes": ("PyDictKeysObject", "dk_log2_index_bytes"),
                                "dk_kind": ("PyDictKeysObject", "dk_kind"), "dv_values": ("values", "values")},
                      "entries": {"dk_size": ("PyDictKeysObject", "dk_size")}}
OBJECT_SUFFIX_VALUES = {"dv_capacity": ("values", "capacity"), "dv_size": ("values", "size"),
                        "dv_valid": ("values", "valid")}


def schema(t):
    """(fields, sizes, bits) that readers may ask of a CPython whose version
    table is t: fields and bits as (type, field path), sizes as type names.
    Type names are CPython's, or the logical names of Layout.type ("frame",
    "runtime", "cframe", "values"); a version lacks some of them."""
    fields = [("PyObject", "ob_type"), ("PyVarObject", "ob_size")]
    for p in (t.frame_code, t.frame_previous, t.frame_ip, "f_globals", "f_builtins", "f_locals",
              t.frame_localsplus, t.frame_owner, t.gen_link, "tlbc_index"):
        if p:
            fields.append(("frame", p))
    where, field = t.gen_state
    fields.append(("frame", field) if where == "frame" else ("PyGenObject", field))
    fields += [("PyGenObject", "gi_iframe"), ("PyGenObject", "gi_qualname")]
    for f in ("co_filename", "co_name", "co_firstlineno", "co_linetable", "co_flags", "co_consts",
              "co_argcount", "co_kwonlyargcount", "co_names", t.qualname_field, t.firsttraceable_field, t.exception_table,
              "co_code_adaptive", "co_code", "co_localsplusnames", "co_localspluskinds", "co_nlocalsplus",
              "co_varnames", "co_cellvars", "co_freevars", "co_nlocals", "co_tlbc", "_co_monitoring"):
        if f:
            fields.append(("PyCodeObject", f))
    fields.append(("_PyCoMonitoringData", "lines"))
    fields += [("runtime", "interpreters.head"), ("runtime", "initialized")]
    for f in ("next", t.interp_threads_head, "id", t.interp_modules):
        fields.append(("PyInterpreterState", f))
    for f in ("next", "id", "thread_id", "native_thread_id", "interp", t.current_frame[0]):
        fields.append(("PyThreadState", f))
    fields += [("cframe", f) for f in t.current_frame[1:]] + [("cframe", "previous")] * (len(t.current_frame) > 1)
    fields += [("PyThreadState", f) for f in t.exception_state]
    fields += [("PyTracebackObject", f) for f in ("tb_next", "tb_frame", "tb_lasti", "tb_lineno")]
    fields += [("PyBaseExceptionObject", f) for f in ("args", "traceback")]
    if t.frame_object_frame:
        fields.append(("PyFrameObject", t.frame_object_frame))
    fields += [("PyBytesObject", "ob_sval"), ("PyTupleObject", "ob_item"), ("PyASCIIObject", "length"),
               ("PyUnicodeObject", "data"), ("PyFunctionObject", "func_code")]
    fields += list(OBJECT_FIELDS.values())
    for group in OBJECT_DICT_FIELDS.values():
        fields += list(group.values())
    fields += list(OBJECT_SUFFIX_VALUES.values())
    for group in OBJECT_LONG_FIELDS.values():
        fields += [("PyLongObject", p) for p in group.values()]
    fields += [("rangeobject", f) for f in ("start", "stop", "step")]
    fields += [("PyModuleObject", "md_name"), ("PyModuleObject", "md_dict"),
               ("PyCFunctionObject", "m_ml"), ("PyCFunctionObject", "m_self")]
    sizes = ["PyASCIIObject", "PyCompactUnicodeObject", "PyMemberDef", "digit"]
    bits = [("PyASCIIObject", "state." + n) for n in ("kind", "compact", "ascii")]
    return list(dict.fromkeys(fields)), sizes, bits


def _key(tname, path):
    return "%s:%s" % (tname, path)


# -- the sources ------------------------------------------------------------------

class DebugInfo:
    """Layouts from the debug info (gdb's types)."""

    name = "debug info"

    def __init__(self, t):
        self.t = t
        self._types = {}

    def type(self, name):
        ty = self._types.get(name)
        if ty is None:
            names = {"frame": self.t.frame_type, "runtime": ("_PyRuntimeState", "struct pyruntimestate"),
                     "values": ("PyDictValues", "struct _dictvalues"), "cframe": ("_PyCFrame", "struct _PyCFrame", "CFrame")}
            ty = lookup_type(*names.get(name, (name,)))
            self._types[name] = ty
        return ty

    def off(self, tname, path):
        return field_bits(self.type(tname), path)[0] // 8

    def bits(self, tname, path):
        b, s, _ = field_bits(self.type(tname), path)
        return b, s

    def sizeof(self, tname):
        return self.type(tname).strip_typedefs().sizeof


class Table:
    """Layouts from a table: a built-in one (layouts/3.X.json), with the
    fields CPython's debug offsets give put over it (3.13+)."""

    def __init__(self, name, data):
        self.name = name
        self.fields = dict(data["fields"])
        self.sizes = dict(data["sizes"])
        self.bits_of = {k: tuple(v) for k, v in data["bits"].items()}

    def type(self, name):
        raise TimelensError("internal", "no gdb type %s: the layout comes from the %s" % (name, self.name))

    def off(self, tname, path):
        try:
            return self.fields[_key(tname, path)]
        except KeyError:
            raise KeyError(path)

    def bits(self, tname, path):
        try:
            return self.bits_of[_key(tname, path)]
        except KeyError:
            raise KeyError(path)

    def sizeof(self, tname):
        try:
            return self.sizes[tname]
        except KeyError:
            raise KeyError(tname)


LAYOUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "layouts")


def builtin_table(key):
    """The built-in layout table of minor version key (3, X), or None."""
    try:
        with open(os.path.join(LAYOUT_DIR, "%d.%d.json" % key)) as f:
            return json.load(f)
    except FileNotFoundError:
        return None


# _Py_DebugOffsets, at the start of _PyRuntime (3.13: Include/internal/
# pycore_runtime.h; 3.14: Include/internal/pycore_debug_offsets.h): after
# char cookie[8], uint64 version (PY_VERSION_HEX) and uint64 free_threaded,
# these sections of uint64 fields, in this order.
DEBUG_OFFSETS = {
    (3, 13): (
        ("runtime_state", ("size", "finalizing", "interpreters_head")),
        ("interpreter_state", ("size", "id", "next", "threads_head", "gc", "imports_modules", "sysdict",
                               "builtins", "ceval_gil", "gil_runtime_state", "gil_runtime_state_enabled",
                               "gil_runtime_state_locked", "gil_runtime_state_holder")),
        ("thread_state", ("size", "prev", "next", "interp", "current_frame", "thread_id", "native_thread_id",
                          "datastack_chunk", "status")),
        ("interpreter_frame", ("size", "previous", "executable", "instr_ptr", "localsplus", "owner")),
        ("code_object", ("size", "filename", "name", "qualname", "linetable", "firstlineno", "argcount",
                         "localsplusnames", "localspluskinds", "co_code_adaptive")),
        ("pyobject", ("size", "ob_type")),
        ("type_object", ("size", "tp_name", "tp_repr", "tp_flags")),
        ("tuple_object", ("size", "ob_item", "ob_size")),
        ("list_object", ("size", "ob_item", "ob_size")),
        ("dict_object", ("size", "ma_keys", "ma_values")),
        ("float_object", ("size", "ob_fval")),
        ("long_object", ("size", "lv_tag", "ob_digit")),
        ("bytes_object", ("size", "ob_size", "ob_sval")),
        ("unicode_object", ("size", "state", "length", "asciiobject_size")),
        ("gc", ("size", "collecting")),
    ),
    (3, 14): (
        ("runtime_state", ("size", "finalizing", "interpreters_head")),
        ("interpreter_state", ("size", "id", "next", "threads_head", "threads_main", "gc", "imports_modules",
                               "sysdict", "builtins", "ceval_gil", "gil_runtime_state",
                               "gil_runtime_state_enabled", "gil_runtime_state_locked",
                               "gil_runtime_state_holder", "code_object_generation", "tlbc_generation")),
        ("thread_state", ("size", "prev", "next", "interp", "current_frame", "thread_id", "native_thread_id",
                          "datastack_chunk", "status")),
        ("interpreter_frame", ("size", "previous", "executable", "instr_ptr", "localsplus", "owner",
                               "stackpointer", "tlbc_index")),
        ("code_object", ("size", "filename", "name", "qualname", "linetable", "firstlineno", "argcount",
                         "localsplusnames", "localspluskinds", "co_code_adaptive", "co_tlbc")),
        ("pyobject", ("size", "ob_type")),
        ("type_object", ("size", "tp_name", "tp_repr", "tp_flags")),
        ("tuple_object", ("size", "ob_item", "ob_size")),
        ("list_object", ("size", "ob_item", "ob_size")),
        ("set_object", ("size", "used", "table", "mask")),
        ("dict_object", ("size", "ma_keys", "ma_values")),
        ("float_object", ("size", "ob_fval")),
        ("long_object", ("size", "lv_tag", "ob_digit")),
        ("bytes_object", ("size", "ob_size", "ob_sval")),
        ("unicode_object", ("size", "state", "length", "asciiobject_size")),
        ("gc", ("size", "collecting")),
        ("gen_object", ("size", "gi_name", "gi_iframe", "gi_frame_state")),
        ("llist_node", ("next", "prev")),
        ("debugger_support", ("eval_breaker", "remote_debugger_support", "remote_debugging_enabled",
                              "debugger_pending_call", "debugger_script_path", "debugger_script_path_size")),
    ),
}
DEBUG_COOKIE = b"xdebugpy"

# Which field of the schema each debug offset is.
FROM_DEBUG_OFFSETS = {
    "runtime_state.interpreters_head": ("runtime", "interpreters.head"),
    "interpreter_state.id": ("PyInterpreterState", "id"),
    "interpreter_state.next": ("PyInterpreterState", "next"),
    "interpreter_state.threads_head": ("PyInterpreterState", "threads.head"),
    "interpreter_state.imports_modules": ("PyInterpreterState", "imports.modules"),
    "thread_state.next": ("PyThreadState", "next"),
    "thread_state.interp": ("PyThreadState", "interp"),
    "thread_state.current_frame": ("PyThreadState", "current_frame"),
    "thread_state.thread_id": ("PyThreadState", "thread_id"),
    "thread_state.native_thread_id": ("PyThreadState", "native_thread_id"),
    "interpreter_frame.previous": ("frame", "previous"),
    "interpreter_frame.executable": ("frame", "f_executable"),
    "interpreter_frame.instr_ptr": ("frame", "instr_ptr"),
    "interpreter_frame.localsplus": ("frame", "localsplus"),
    "interpreter_frame.owner": ("frame", "owner"),
    "interpreter_frame.tlbc_index": ("frame", "tlbc_index"),
    "code_object.filename": ("PyCodeObject", "co_filename"),
    "code_object.name": ("PyCodeObject", "co_name"),
    "code_object.qualname": ("PyCodeObject", "co_qualname"),
    "code_object.linetable": ("PyCodeObject", "co_linetable"),
    "code_object.firstlineno": ("PyCodeObject", "co_firstlineno"),
    "code_object.argcount": ("PyCodeObject", "co_argcount"),
    "code_object.localsplusnames": ("PyCodeObject", "co_localsplusnames"),
    "code_object.localspluskinds": ("PyCodeObject", "co_localspluskinds"),
    "code_object.co_code_adaptive": ("PyCodeObject", "co_code_adaptive"),
    "code_object.co_tlbc": ("PyCodeObject", "co_tlbc"),
    "pyobject.ob_type": ("PyObject", "ob_type"),
    "type_object.tp_name": ("PyTypeObject", "tp_name"),
    "type_object.tp_flags": ("PyTypeObject", "tp_flags"),
    "tuple_object.ob_item": ("PyTupleObject", "ob_item"),
    "tuple_object.ob_size": ("PyVarObject", "ob_size"),
    "list_object.ob_item": ("PyListObject", "ob_item"),
    "set_object.used": ("PySetObject", "used"),
    "set_object.table": ("PySetObject", "table"),
    "set_object.mask": ("PySetObject", "mask"),
    "dict_object.ma_keys": ("PyDictObject", "ma_keys"),
    "dict_object.ma_values": ("PyDictObject", "ma_values"),
    "float_object.ob_fval": ("PyFloatObject", "ob_fval"),
    "long_object.lv_tag": ("PyLongObject", "long_value.lv_tag"),
    "long_object.ob_digit": ("PyLongObject", "long_value.ob_digit"),
    "bytes_object.ob_sval": ("PyBytesObject", "ob_sval"),
    "unicode_object.length": ("PyASCIIObject", "length"),
    "gen_object.gi_iframe": ("PyGenObject", "gi_iframe"),
    "gen_object.gi_frame_state": ("PyGenObject", "gi_frame_state"),
}

# Fields only a free-threaded build has: 0 in the others' debug offsets.
FREE_THREADED_ONLY = ("interpreter_frame.tlbc_index", "code_object.co_tlbc")


def read_debug_offsets(runtime, key):
    """_Py_DebugOffsets at runtime (the address of _PyRuntime) for minor
    version key, as {"section.field": value} with "cookie", "version" and
    "free_threaded"; None where this version publishes none or the cookie is
    not there."""
    sections = DEBUG_OFFSETS.get(key)
    if sections is None:
        return None
    n = 2 + sum(len(fs) for _, fs in sections)
    try:
        raw = memory.read(runtime, 8 + 8 * n)
    except gdb.MemoryError:
        return None
    if raw[:8] != DEBUG_COOKIE:
        return None
    words = struct.unpack("<%dQ" % n, raw[8:])
    out = {"cookie": raw[:8].decode("ascii"), "version": words[0], "free_threaded": words[1]}
    i = 2
    for section, fs in sections:
        for f in fs:
            out[section + "." + f] = words[i]
            i += 1
    return out


def debug_offsets_fields(do):
    """The schema's fields that debug offsets do give: {"type:path": offset},
    and the byte offset of PyASCIIObject's state bits."""
    fields = {}
    for name, (tname, path) in FROM_DEBUG_OFFSETS.items():
        if name in do and not (name in FREE_THREADED_ONLY and do[name] == 0):
            fields[_key(tname, path)] = do[name]
    return fields


def _overlay(data, do):
    """The built-in table data with the fields debug offsets do give put over it."""
    data = dict(data, fields=dict(data["fields"]), sizes=dict(data["sizes"]), bits=dict(data["bits"]))
    data["fields"].update(debug_offsets_fields(do))
    data["sizes"]["PyASCIIObject"] = do["unicode_object.asciiobject_size"]
    # The state bitfield keeps its shape; its byte may move.
    states = [k for k in data["bits"] if k.startswith("PyASCIIObject:state.")]
    if states:
        old = min(data["bits"][k][0] for k in states) // 8
        shift = (do["unicode_object.state"] - old) * 8
        for k in states:
            b, s = data["bits"][k]
            data["bits"][k] = [b + shift, s]
    return data


def _refuse(ver, what, install):
    return TimelensError("unsupported-python", "CPython %d.%d.%d here has no debug info and %s; %s"
                         % (ver + (what, install)), version="%d.%d" % ver[:2])


class Layout:
    """Everything about one CPython in one process that reading needs.

    source: None picks the first that this process has (debug info, else
    CPython's debug offsets over the built-in table, else the built-in
    table); "debug info" or "tables" forces one (the tests compare them)."""

    def __init__(self, source=None):
        if not has_interpreter():
            raise TimelensError("no-debug-symbols", "no CPython found in the debugged process (symbol _PyRuntime "
                                "missing): it is not running Python yet, or %s" % DEBUG_SYMBOLS_HINT,
                                detail="no symbol _PyRuntime")
        ver = _version_from_interpreter()
        if ver is None:
            raise TimelensError("no-debug-symbols", "cannot tell which CPython this is (no Py_Version): "
                                + DEBUG_SYMBOLS_HINT, detail="no Py_Version")
        self.version = ver
        self.key = ver[:2]
        t = table(self.key)
        if t is None:
            raise TimelensError("unsupported-python", "CPython %d.%d is not supported: timelens reads %s"
                                % (self.key + (supported(),)), version="%d.%d" % self.key)
        self.t = t
        self.runtime = symbol_address("_PyRuntime")
        self._offsets = {}
        self.unlisted = set()
        fields, sizes, bits = schema(t)
        self._listed = {("off",) + f for f in fields} | {("sizeof", s) for s in sizes} | {("bits",) + b for b in bits}
        self.facts = None
        if source is None:
            source = "debug info" if has_dwarf() else "tables"
        if source == "debug info":
            self.source = DebugInfo(t)
        else:
            self.source = self._table_source()
        self._read_types()
        self._read_interpreter_facts()

    def _table_source(self):
        """The built-in table of this version, with CPython's debug offsets
        over it where the process has them; refuses builds the tables do
        not describe (debug, free-threaded, unknown versions)."""
        ver = self.version
        if symbol_address("_Py_NegativeRefcount") is not None:
            raise _refuse(ver, "is a debug build (Py_DEBUG), whose layout differs from a release build's",
                          "install its debug symbols (Debian/Ubuntu: python%d.%d-dbg ships them for "
                          "python%d.%dd) or use a release build" % (ver[:2] * 2))
        data = builtin_table(self.key)
        if data is None:
            raise _refuse(ver, "timelens has no built-in layout for %d.%d (it has %s)"
                          % (self.key + (", ".join(sorted(available_tables())),)), DEBUG_SYMBOLS_HINT)
        do = read_debug_offsets(self.runtime, self.key)
        if do is not None and do["free_threaded"]:
            raise _refuse(ver, "is a free-threaded build (Py_GIL_DISABLED, %d.%dt), whose objects the built-in "
                          "layouts do not describe" % self.key,
                          "use a build with the GIL (python%d.%d) or install this one's debug symbols" % self.key)
        if do is not None and (do["version"] >> 16) != (ver[0] << 8 | ver[1]):
            do = None  # not this version's: the cookie matched by chance
        self.debug_offsets = do
        if do is None:
            src = Table("built-in table for %d.%d" % self.key, data)
        else:
            src = Table("CPython's debug offsets", _overlay(data, do))
        self.facts = data
        return src

    def version_string(self):
        return "%d.%d.%d" % self.version

    @property
    def source_name(self):
        """Where the layout comes from: "debug info", "CPython's debug
        offsets", "built-in table for 3.12"."""
        return self.source.name

    # -- types and offsets ------------------------------------------------
    def _ask(self, kind, *key):
        if (kind,) + key not in self._listed:
            self.unlisted.add(":".join((kind,) + key))

    def type(self, name):
        """The debuggee's gdb type, by the names of the table or of CPython
        (debug info only)."""
        return self.source.type(name)

    def off(self, tname, path):
        """Byte offset of field path in type tname (KeyError when missing)."""
        key = (tname, path)
        o = self._offsets.get(key)
        if o is None:
            self._ask("off", tname, path)
            o = self.source.off(tname, path)
            self._offsets[key] = o
        return o

    def bits(self, tname, path):
        """(bit offset, bit size) of a bitfield (KeyError when missing)."""
        self._ask("bits", tname, path)
        return self.source.bits(tname, path)

    def sizeof(self, tname):
        self._ask("sizeof", tname)
        return self.source.sizeof(tname)

    def has_field(self, tname, path):
        try:
            self.off(tname, path)
            return True
        except (KeyError, TimelensError):
            return False

    def _read_types(self):
        t = self.t
        off = self.off
        self.ob_type = off("PyObject", "ob_type")
        self.ob_size = off("PyVarObject", "ob_size")
        # frames
        self.f_code = off("frame", t.frame_code)
        self.f_previous = off("frame", t.frame_previous)
        self.f_ip = off("frame", t.frame_ip)
        self.f_globals = off("frame", "f_globals")
        self.f_builtins = off("frame", "f_builtins")
        self.f_locals = off("frame", "f_locals")
        self.f_localsplus = off("frame", t.frame_localsplus)
        self.f_owner = off("frame", t.frame_owner) if t.frame_owner else None
        self.f_gen = off("frame", t.gen_link) if t.gen_link else None
        tlbc = t.tlbc_fields
        self.f_tlbc = off("frame", tlbc[0]) if tlbc and self.has_field("frame", tlbc[0]) else None
        where, field = t.gen_state
        if where == "frame":
            self.gen_state_in_frame = off("frame", field)
        else:
            self.gen_state_in_frame = None
            self.gen_state = off("PyGenObject", field)
            self.gen_iframe = off("PyGenObject", "gi_iframe")
        # code objects
        for f in ("co_filename", "co_name", "co_firstlineno", "co_linetable", "co_flags", "co_consts",
                  "co_argcount", "co_kwonlyargcount"):
            setattr(self, f, off("PyCodeObject", f))
        self.co_qualname = off("PyCodeObject", t.qualname_field) if t.qualname_field else None
        self.co_firsttraceable = off("PyCodeObject", t.firsttraceable_field) if t.firsttraceable_field else None
        self.co_exceptiontable = off("PyCodeObject", t.exception_table) if t.exception_table else None
        if t.code_bytes == "inline":
            self.co_code_adaptive = off("PyCodeObject", "co_code_adaptive")
            self.co_code = None
        else:
            self.co_code = off("PyCodeObject", "co_code")
        if t.localsplus == "kinds":
            self.co_localsplusnames = off("PyCodeObject", "co_localsplusnames")
            self.co_localspluskinds = off("PyCodeObject", "co_localspluskinds")
            self.co_nlocalsplus = off("PyCodeObject", "co_nlocalsplus")
        else:
            for f in ("co_varnames", "co_cellvars", "co_freevars", "co_nlocals"):
                setattr(self, f, off("PyCodeObject", f))
        self.co_tlbc = off("PyCodeObject", tlbc[1]) if tlbc and self.has_field("PyCodeObject", tlbc[1]) else None
        self.co_monitoring = off("PyCodeObject", t.code_monitoring_field) if t.code_monitoring_field else None
        # threads and interpreters
        self.rt_interp_head = off("runtime", "interpreters.head")
        self.is_next = off("PyInterpreterState", "next")
        self.is_threads_head = off("PyInterpreterState", t.interp_threads_head)
        self.is_id = off("PyInterpreterState", "id")
        self.ts_next = off("PyThreadState", "next")
        self.ts_id = off("PyThreadState", "id")
        self.ts_thread_id = off("PyThreadState", "thread_id")
        self.ts_native_id = off("PyThreadState", "native_thread_id") if t.thread_match == "native" else None
        # tstate -> ... -> current frame: an offset per link (pointer hops between).
        types = ["PyThreadState"] + ["cframe"] * (len(t.current_frame) - 1)
        self.current_frame_path = [off(ty, f) for ty, f in zip(types, t.current_frame)]
        # bytes and tuples (navigation reads code objects through them)
        self.bytes_sval = off("PyBytesObject", "ob_sval")
        self.tuple_items = off("PyTupleObject", "ob_item")
        self.ascii_size = self.sizeof("PyASCIIObject")
        self.compact_size = self.sizeof("PyCompactUnicodeObject")
        self.str_length = off("PyASCIIObject", "length")
        self.str_state_bits = {}
        for name in ("kind", "compact", "ascii"):
            self.str_state_bits[name] = self.bits("PyASCIIObject", "state." + name)
        self.str_state_off = min(b for b, _ in self.str_state_bits.values()) // 8
        self.str_data_any = off("PyUnicodeObject", "data")

    # -- facts the interpreter has --------------------------------------------
    def _read_interpreter_facts(self):
        self.code_type = symbol_address("PyCode_Type")
        if self.facts is not None:
            # Without debug info: no enum types, no .symtab, no labels.
            f = self.facts
            self.frame_states = dict(f["frame_states"])
            self.opcodes = dict(f["opcodes"])
            self.caches = list(f["caches"])
            self.deopt = list(f["deopt"])
        else:
            self.frame_states = self._enum("enum _framestate")
            self.opcodes = self._opcode_numbers()
            self.caches = self._byte_table("_PyOpcode_Caches", 0)
            deopt = self._byte_table("_PyOpcode_Deopt", None)
            self.deopt = [d or k for k, d in enumerate(deopt)] if deopt else list(range(256))
        self.opnames = {n: k for k, n in self.opcodes.items()}

    def _enum(self, name):
        try:
            ty = gdb.lookup_type(name).strip_typedefs()
        except gdb.error:
            raise TimelensError("no-debug-symbols", "no debug information for %s: %s" % (name, DEBUG_SYMBOLS_HINT),
                                detail="no type %s" % name)
        return {f.name: int(f.enumval) for f in ty.fields()}

    def _byte_table(self, name, default):
        addr = symbol_address(name)
        if addr is None:
            return None if default is None else [default] * 256
        return list(memory.read(addr, 256))

    def _opcode_numbers(self):
        """name -> opcode of the debuggee: from _PyOpcode_OpName (3.13+), else
        from the computed-goto table of the evaluation loop, whose entries are
        the addresses of the labels TARGET_<NAME> the debug information names."""
        out = {}
        try:
            names = gdb.parse_and_eval("_PyOpcode_OpName")
            addr = int(names.address)
            n = names.type.strip_typedefs().sizeof // 8
            mem = memory.Memory()
            for k, p in enumerate(struct.unpack("<%dQ" % n, memory.read(addr, 8 * n))):
                name = mem.cstring(p, 64) if p else ""
                if name and not name.startswith("<"):
                    out.setdefault(name, k)
        except (gdb.error, gdb.MemoryError, TypeError, ValueError):
            out = {}  # only in the debug information, not in memory (optimized builds)
        if out:
            return out
        try:
            targets = gdb.parse_and_eval("_PyEval_EvalFrameDefault::opcode_targets")
            fn = gdb.lookup_global_symbol("_PyEval_EvalFrameDefault") or \
                gdb.lookup_symbol("_PyEval_EvalFrameDefault")[0]
            block = gdb.block_for_pc(int(fn.value().address))
            while block is not None and block.function is None:
                block = block.superblock
        except (gdb.error, AttributeError, TypeError):
            targets = block = None
        if block is None:
            raise TimelensError("no-debug-symbols", "cannot read this CPython's opcode numbers (neither "
                                "_PyOpcode_OpName nor the evaluation loop's labels): " + DEBUG_SYMBOLS_HINT,
                                detail="no opcode table")
        labels = {}

        def walk(b, depth=0):
            for s in b:
                if s.addr_class == gdb.SYMBOL_LOC_LABEL and s.name.startswith("TARGET_"):
                    try:
                        v = s.value()  # the label's address, as a void *
                        labels[int(v.address) if v.address is not None else int(v)] = s.name[len("TARGET_"):]
                    except (gdb.error, TypeError):
                        pass
        walk(block)
        for k in range(256):
            name = labels.get(int(targets[k]))
            if name:
                out.setdefault(name, k)
        return out

    def opcode_targets(self):
        """The evaluation loop's handler address of each opcode (its
        computed-goto table, found in memory: evalloop.py), or None."""
        if not hasattr(self, "_targets"):
            from . import evalloop
            ev = symbol_address(self.t.entry_function)
            self._targets = evalloop.find_opcode_targets(ev, self.t.entry_function,
                                                         set(self.opcodes.values())) if ev else None
        return self._targets

    def in_eval_loop(self, pc):
        """pc is in the evaluation loop's code: its entry function's range
        from the file's dynamic symbols, or the span of its opcode handlers
        outside that range (the loop's `.cold` part, which has no symbol
        left in a stripped Python). For frames gdb cannot name (no .symtab);
        False when neither can be read."""
        if not hasattr(self, "_loop_ranges"):
            from . import evalloop
            ranges = []
            ev = symbol_address(self.t.entry_function)
            if ev:
                try:
                    size = evalloop.ElfFile(evalloop._elf_file(ev)).dynsym.get(self.t.entry_function, (0, 0))[1]
                except (OSError, ValueError, RuntimeError, struct.error):
                    size = 0
                if size:
                    ranges.append((ev, ev + size))
                    cold = [a for a in (self.opcode_targets() or ()) if not ev <= a < ev + size]
                    if cold:
                        ranges.append((min(cold), max(cold) + 1))
            self._loop_ranges = ranges
        return any(lo <= pc < hi for lo, hi in self._loop_ranges)

    def op(self, name):
        """The opcode number of name in this interpreter, or None."""
        return self.opcodes.get(name)

    def ops(self, names):
        """The opcode numbers of those names this interpreter has, as a set."""
        return {self.opcodes[n] for n in names if n in self.opcodes}




def available_tables():
    """The minor versions with a built-in table, as "3.10", ..."""
    try:
        return [n[:-5] for n in os.listdir(LAYOUT_DIR) if n.endswith(".json")]
    except FileNotFoundError:
        return []


def dump(L):
    """Everything a table holds, as Layout L has it (made from the debug
    info, this is what layouts/3.X.json is made from): {"python", "fields",
    "sizes", "bits", "frame_states", "opcodes", "caches", "deopt"}."""
    fields, sizes, bits = schema(L.t)
    out = {"python": L.version_string(), "fields": {}, "sizes": {}, "bits": {}}
    for tname, path in fields:
        try:
            out["fields"][_key(tname, path)] = L.source.off(tname, path)
        except (KeyError, TimelensError):
            pass
    for tname in sizes:
        try:
            out["sizes"][tname] = L.source.sizeof(tname)
        except (KeyError, TimelensError):
            pass
    for tname, path in bits:
        try:
            out["bits"][_key(tname, path)] = list(L.source.bits(tname, path))
        except (KeyError, TimelensError):
            pass
    # Pseudo-instructions (numbered from 256: JUMP, SETUP_FINALLY, ...) never
    # reach bytecode; some builds' name tables list them, some do not.
    opcodes = {n: k for n, k in L.opcodes.items() if k < 256}
    out.update(frame_states=L.frame_states, opcodes=opcodes, caches=L.caches, deopt=L.deopt)
    return out


def _debug_offsets_by_type():
    """_PyRuntime.debug_offsets read through the debug info, as
    {"section.field": value} (the tests compare read_debug_offsets with it)."""
    out = {}
    try:
        v = gdb.parse_and_eval("_PyRuntime.debug_offsets")
    except gdb.error:
        return None
    for s in v.type.strip_typedefs().fields():
        if s.name == "cookie":
            out["cookie"] = bytes(int(v["cookie"][i]) & 0xff for i in range(8)).decode("ascii", "replace")
        elif s.type.strip_typedefs().code == gdb.TYPE_CODE_STRUCT:
            for f in s.type.strip_typedefs().fields():
                out[s.name + "." + f.name] = int(v[s.name][f.name])
        else:
            out[s.name] = int(v[s.name])
    return out


def report():
    """The -timelens-layout reply: where the layout of the selected process's
    CPython comes from, and every source it has, for the tests: "debug_info"
    (dump from the debug info), "builtin" (the built-in table of its
    version), "debug_offsets" (read from memory, raw and as schema fields),
    "debug_offsets_by_type" (the same struct read through the debug info),
    "opcode_targets" (the loop's handler table found in memory: evalloop.py),
    "handler_labels" (each opcode's TARGET_ label in the debug info),
    "unlisted" (fields readers asked for that schema() lacks)."""
    L = get()
    out = {"python": L.version_string(), "source": L.source_name, "unlisted": sorted(L.unlisted)}
    if has_dwarf():
        if isinstance(L.source, DebugInfo):
            D = L
        else:
            D = L.__dict__.setdefault("_dwarf_twin", None) or Layout("debug info")
            L._dwarf_twin = D
        out["debug_info"] = dump(D)
        out["unlisted"] = sorted(L.unlisted | D.unlisted)
        out["debug_offsets_by_type"] = _debug_offsets_by_type()
    out["builtin"] = builtin_table(L.key)
    targets = L.opcode_targets()
    out["opcode_targets"] = targets and ["0x%x" % a for a in targets]
    if has_dwarf() and getattr(L, "_labels", None) is not None:
        out["handler_labels"] = L._labels
    elif has_dwarf():
        # Each opcode's handler label, where the debug info has it.
        labels = {}
        for name, op in L.opcodes.items():
            if op >= 256:
                continue
            try:
                sal = gdb.decode_line("%s:TARGET_%s" % (L.t.entry_function, name))[1]
            except gdb.error:
                continue
            if sal:
                labels[name] = {"op": op, "label": "0x%x" % sal[0].pc}
        out["handler_labels"] = L._labels = labels
    do = read_debug_offsets(L.runtime, L.key)
    if do is not None:
        out["debug_offsets"] = {"raw": do, "fields": debug_offsets_fields(do)}
    return out


# Set by the tests: a source for every Layout made (see Layout).
FORCE = None
_CACHE = {}


def get():
    """The Layout of the selected inferior's CPython, made once per process."""
    inf = gdb.selected_inferior()
    if inf.pid == 0:
        raise TimelensError("no-process", "the program is not running")
    lay = _CACHE.get(inf.pid)
    if lay is not None and lay.num == inf.num:
        return lay
    lay = Layout(FORCE)
    lay.num = inf.num
    _CACHE.clear()
    _CACHE[inf.pid] = lay
    return lay


def forget():
    """Drop the cached Layout (a new process, a restored recording)."""
    _CACHE.clear()
