"""What one CPython in one process looks like: its version's table, its struct
layouts (from its debug information), its opcode numbers, cache sizes and
frame states (from the interpreter itself), and the addresses of its type
objects.

The interpreter's code may live in the executable (a static build, Debian's
python3.X) or in libpython3.X.so (a shared build: pyenv, Fedora, many
containers), which is loaded only after the program starts: every symbol is
looked up through gdb, wherever it is, and a Layout is made only once the
process has the interpreter's symbols.
"""

import re
import struct

import gdb

from . import memory
from .errors import TimelensError
from .versions import supported, table

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


def _version_from_interpreter():
    """(major, minor, micro) of the debuggee's CPython, or None.

    Py_Version (3.11+) is a constant; before it, the buffer Py_GetVersion
    fills while the interpreter starts, and failing that the shape of its
    structs: frame objects without _PyInterpreterFrame and a co_linetable are
    3.10's."""
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
    try:
        gdb.lookup_type("struct _PyInterpreterFrame")
        return None
    except gdb.error:
        pass
    try:
        code = gdb.lookup_type("PyCodeObject").strip_typedefs()
        if any(f.name == "co_linetable" for f in code.fields()):
            return (3, 10, 0)
    except gdb.error:
        pass
    return None


class Layout:
    """Everything about one CPython in one process that reading needs."""

    def __init__(self):
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
        self._types = {}
        self._offsets = {}
        self._read_types()
        self._read_interpreter_facts()

    def version_string(self):
        return "%d.%d.%d" % self.version

    # -- types and offsets ------------------------------------------------
    def type(self, name):
        """The debuggee's type, by the names of the table or of CPython."""
        ty = self._types.get(name)
        if ty is None:
            names = {"frame": self.t.frame_type, "runtime": ("_PyRuntimeState", "struct pyruntimestate"),
                     "values": ("PyDictValues", "struct _dictvalues"), "cframe": ("_PyCFrame", "struct _PyCFrame", "CFrame")}
            ty = lookup_type(*names.get(name, (name,)))
            self._types[name] = ty
        return ty

    def off(self, tname, path):
        """Byte offset of field path in type tname (KeyError when missing)."""
        key = (tname, path)
        o = self._offsets.get(key)
        if o is None:
            o = field_bits(self.type(tname), path)[0] // 8
            self._offsets[key] = o
        return o

    def sizeof(self, tname):
        return self.type(tname).strip_typedefs().sizeof

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
        self.f_tlbc = off("frame", "tlbc_index") if self.has_field("frame", "tlbc_index") else None
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
        self.co_tlbc = off("PyCodeObject", "co_tlbc") if self.has_field("PyCodeObject", "co_tlbc") else None
        self.co_monitoring = off("PyCodeObject", "_co_monitoring") if self.has_field("PyCodeObject", "_co_monitoring") else None
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
            b, s, _ = field_bits(self.type("PyASCIIObject"), "state." + name)
            self.str_state_bits[name] = (b, s)
        self.str_state_off = min(b for b, _ in self.str_state_bits.values()) // 8
        self.str_data_any = off("PyUnicodeObject", "data")

    # -- facts the interpreter has --------------------------------------------
    def _read_interpreter_facts(self):
        self.code_type = symbol_address("PyCode_Type")
        self.frame_states = self._enum("enum _framestate")
        self.opcodes = self._opcode_numbers()
        self.opnames = {n: k for k, n in self.opcodes.items()}
        self.caches = self._byte_table("_PyOpcode_Caches", 0)
        deopt = self._byte_table("_PyOpcode_Deopt", None)
        self.deopt = [d or k for k, d in enumerate(deopt)] if deopt else list(range(256))

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

    def op(self, name):
        """The opcode number of name in this interpreter, or None."""
        return self.opcodes.get(name)

    def ops(self, names):
        """The opcode numbers of those names this interpreter has, as a set."""
        return {self.opcodes[n] for n in names if n in self.opcodes}


_CACHE = {}


def get():
    """The Layout of the selected inferior's CPython, made once per process."""
    inf = gdb.selected_inferior()
    if inf.pid == 0:
        raise TimelensError("no-process", "the program is not running")
    lay = _CACHE.get(inf.pid)
    if lay is not None and lay.num == inf.num:
        return lay
    lay = Layout()
    lay.num = inf.num
    _CACHE.clear()
    _CACHE[inf.pid] = lay
    return lay


def forget():
    """Drop the cached Layout (a new process, a restored recording)."""
    _CACHE.clear()
