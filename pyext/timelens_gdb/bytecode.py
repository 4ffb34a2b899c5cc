"""The bytecode view: a frame's instructions as CPython's own
dis.get_instructions(code, adaptive=True) lists them, read from memory.

What dis shows comes from two places. The process holds the code as it runs
now: the quickened bytes (3.11+: co_code_adaptive, where specialized
instructions replace their base ones as the program warms up; 3.10: co_code),
the opcode numbers and names, inline cache sizes and the specialized-to-base
map (layout.py: from the interpreter, or its version's built-in table when it
has no debug info), the constants, names and line table of the code object.
What dis itself decides, how an argument reads (a constant's repr, a name,
"NULL + print", "to L3", "bool(<)", "+="), differs per version and lives in
no interpreter's memory: dis/3.X.json, written by dis/gen.py under that
version's Python, says it as data, so that this module has no version
switches.

Instructions are listed as dis lists them by default: inline CACHE entries
skipped, EXTENDED_ARG listed and folded into the argument of the
instruction it extends, offsets in bytes. The instruction a frame is at is
the one whose code units (its caches included) hold the frame's instruction
index, as dis marks --> (3.11 and 3.12 leave a caller's prev_instr on its
CALL's last cache entry while the callee runs).
"""

import json
import os

from . import frames, layout, memory, state
from .code import pytuple
from .errors import TimelensError
from .values import Reader, Renderer

# dis shows a constant's whole repr; a rendering is bounded like any other.
CONST_LIMIT = 120

_DIS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dis")
_TABLES = {}


def dis_table(key):
    """What dis decides in CPython (3, X): dis/3.X.json."""
    t = _TABLES.get(key)
    if t is None:
        try:
            with open(os.path.join(_DIS_DIR, "%d.%d.json" % key)) as f:
                t = json.load(f)
        except FileNotFoundError:
            raise TimelensError("unsupported-python", "no bytecode table for CPython %d.%d (timelens knows 3.10-3.14)"
                                % key, version="%d.%d" % key)
        t["hasarg"] = set(t["hasarg"])
        t["backward"] = set(t["backward"])
        _TABLES[key] = t
    return t


class _Args:
    """The code object's tables an argument indexes: constants, names, and
    the frame's variable names (3.11+: one localsplus array; 3.10: locals,
    then cells, then free variables)."""

    def __init__(self, r, ci):
        self.r = r
        L = r.L
        self.consts = pytuple(memory.u64(ci.addr + L.co_consts))
        self.name_ptrs = pytuple(memory.u64(ci.addr + L.off("PyCodeObject", "co_names")))
        self.var_names, kinds = r.variable_names(ci.addr)
        self.nlocals = sum(1 for k in kinds if k == "local") if r.t.localsplus == "split" else 0
        self._names = {}
        self._consts = {}

    def const(self, i):
        if not 0 <= i < len(self.consts):
            return ""
        if i not in self._consts:
            self._consts[i] = Renderer(self.r, CONST_LIMIT).render(self.consts[i])
        return self._consts[i]

    def name(self, i):
        if not 0 <= i < len(self.name_ptrs):
            return ""
        if i not in self._names:
            self._names[i] = self.r.py_str(self.name_ptrs[i])
        return self._names[i]

    def local(self, i):
        return self.var_names[i] if 0 <= i < len(self.var_names) else ""

    def cell(self, i):
        """3.10: cell and free variables are numbered after the locals."""
        return self.local(self.nlocals + i)


def _pick(table, i):
    return table[i] if 0 <= i < len(table) else ""


def _argrepr(D, kind, name, arg, args, target, labels):
    """The argument's meaning, as dis says it; '' where dis says nothing."""
    if kind == "const":
        return args.const(arg)
    if kind in ("global", "attr", "super_attr"):
        s = args.name(arg // (4 if kind == "super_attr" else 2))
        if arg & 1 and s:
            null = "NULL" if kind == "global" else "NULL|self"
            s = "%s + %s" % (s, null) if D["null_style"] == "suffix" else "%s + %s" % (null, s)
        return s
    if kind == "name":
        return args.name(arg)
    if kind in ("jump", "jrel", "jabs"):
        if D["jump_style"] == "label":
            word = "from" if name == "END_ASYNC_FOR" else "to"
            return "%s L%d" % (word, labels[target]) if target in labels else ""
        return "to %d" % target
    if kind == "local_pair":
        return "%s, %s" % (args.local(arg >> 4), args.local(arg & 15))
    if kind == "local":
        return args.local(arg)
    if kind == "cell":
        return args.cell(arg)
    if kind == "compare":
        s = _pick(D["cmp_op"], arg >> D["compare_shift"])
        return "bool(%s)" % s if D["compare_bool"] and arg & 16 else s
    if kind == "format_value":
        s = _pick(D["format_value"], arg & 3)
        if arg & 4:
            s = (s + ", " if s else "") + "with format"
        return s
    if kind == "function_flags":
        return ", ".join(f for i, f in enumerate(D["function_flags"]) if arg & (1 << i))
    if kind == "convert_value":
        return _pick(("", "str", "repr", "ascii"), arg)
    if kind == "binary_op":
        return _pick(D["nb_ops"], arg)
    if kind in ("intrinsic_1", "intrinsic_2", "common_constant"):
        return _pick(D[{"common_constant": "common_constants"}.get(kind, kind)], arg)
    if kind == "special_method":
        return _pick(D["special_methods"], arg)
    if kind == "is_op":
        return "is not" if arg else "is"
    if kind == "contains_op":
        return "not in" if arg else "in"
    return ""


def _jump_target(D, kind, name, arg, offset, caches):
    """The byte offset a jump goes to (dis's argval), or None."""
    if kind == "jabs":
        return arg * 2
    if kind in ("jrel", "jump"):
        signed = -arg if name in D["backward"] else arg
        return offset + 2 + signed * 2 + (2 * caches if D["jrel_skips_caches"] else 0)
    return None


def instructions(r, f, ci):
    """[{offset, opname, baseOpname, arg, argrepr, line, current, label}] of
    the code frame f runs, in order. label is the number dis (3.13+) gives a
    jump target ("to L3"), 0 for other instructions and before 3.13, where
    dis names targets by offset."""
    L = layout.get()
    D = dis_table(L.key)
    n = ci.n
    raw = memory.read(frames.code_base(f, ci), 2 * n)
    ip = frames.ip_index(f, ci)
    args = _Args(r, ci)
    ext_op = L.op("EXTENDED_ARG")
    first_instrumented = min((k for nm, k in L.opcodes.items() if nm.startswith("INSTRUMENTED_")), default=256)
    decoded = []
    ext = 0
    i = 0
    while i < n:
        op = raw[2 * i]
        name = L.opnames.get(op) or "<%d>" % op
        base = ci._deinstrument(L, i, op) if op >= first_instrumented else op
        base = L.deopt[base]
        base_name = L.opnames.get(base) or name
        caches = L.caches[base]
        if base_name in D["hasarg"]:
            arg = raw[2 * i + 1] | ext
            ext = (arg << 8) if base == ext_op else 0
            if ext >= 1 << 31:
                ext -= 1 << 32
        else:
            arg = None
            ext = 0
        kind = D["kinds"].get(base_name) if arg is not None else None
        target = _jump_target(D, kind, base_name, arg, 2 * i, caches) if kind else None
        line = ci.lines[i] if ci.lines[i] >= 0 else None
        decoded.append((i, name, base_name, arg, kind, target, line, i <= ip <= i + caches))
        i += 1 + caches
    labels = {}
    if D["jump_style"] == "label":
        for t in sorted({d[5] for d in decoded if d[5] is not None}):
            labels[t] = len(labels) + 1
    out = []
    for i, name, base_name, arg, kind, target, line, current in decoded:
        out.append({
            "offset": 2 * i,
            "opname": name,
            "baseOpname": base_name,
            "arg": arg,
            "argrepr": _argrepr(D, kind, base_name, arg, args, target, labels) if kind else "",
            "line": line,
            "current": current,
            "label": labels.get(2 * i, 0),
        })
    return out


def disassemble(thread, depth):
    """The -timelens-disassemble reply: the code of the Python frame at depth
    (0: innermost, among the frames with a source file, as -timelens-frames
    counts them) and its instructions."""
    r = Reader()
    ts = frames.tstate_for_thread(thread)
    f, ci = state.frame_at(r, ts, depth)
    info = state.frame_info(depth, f, ci)
    info["lasti"] = 2 * info["lasti"]
    info["python"] = r.layout.version_string()
    info["instructions"] = instructions(r, f, ci)
    return info
