"""Writes dis/3.X.json: what the bytecode view needs of CPython 3.X's `dis`
that the interpreter's memory does not hold. Run it under that Python:

    python3.X pyext/timelens_gdb/dis/gen.py > pyext/timelens_gdb/dis/3.X.json

For each base opcode that takes an argument, the kind of its argument as
that version's dis.get_instructions decides it (the order of its tests
matters: the first that holds wins), and the tables of names the kinds use.
bytecode.py reads these; the opcode numbers, cache sizes and the
specialized-to-base map come from the process (layout.py).
"""

import dis
import json
import opcode
import sys

v = sys.version_info[:2]
names = [n for n in opcode.opmap if not n.startswith("<")]
spec = set()
for lst in getattr(opcode, "_specializations", {}).values():
    spec.update(lst)
if v >= (3, 12):
    hasarg = {opcode.opname[o] for o in opcode.hasarg}
else:  # 3.10, 3.11: dis tests op >= HAVE_ARGUMENT
    hasarg = {n for n, o in opcode.opmap.items() if o >= opcode.HAVE_ARGUMENT}


def in_(lst, n):
    return opcode.opmap.get(n) in lst


def backward(n):
    """dis's _is_backward_jump: a relative jump whose argument counts back."""
    if v < (3, 13):
        return "JUMP_BACKWARD" in n
    if v == (3, 13):
        return n in ("JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT")
    # 3.14: END_ASYNC_FOR names its SEND "from" a target behind it.
    return n in ("JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT", "END_ASYNC_FOR")


kinds = {}
for n in names:
    if n in spec or n not in hasarg:
        continue
    k = None
    if in_(opcode.hasconst, n):
        k = "const"
    elif in_(opcode.hasname, n):
        if n == "LOAD_GLOBAL" and v >= (3, 11):
            k = "global"
        elif n == "LOAD_ATTR" and v >= (3, 12):
            k = "attr"
        elif n == "LOAD_SUPER_ATTR":
            k = "super_attr"
        else:
            k = "name"
    elif v >= (3, 13) and (in_(opcode.hasjump, n) or in_(getattr(opcode, "hasexc", []), n)):
        k = "jump"
    elif v < (3, 13) and in_(opcode.hasjabs, n):
        k = "jabs"
    elif v < (3, 13) and in_(opcode.hasjrel, n):
        k = "jrel"
    elif v >= (3, 13) and n in ("LOAD_FAST_LOAD_FAST", "LOAD_FAST_BORROW_LOAD_FAST_BORROW",
                                "STORE_FAST_LOAD_FAST", "STORE_FAST_STORE_FAST"):
        k = "local_pair"
    elif v == (3, 10) and in_(opcode.haslocal, n):
        k = "local"
    elif v == (3, 10) and in_(opcode.hascompare, n):
        k = "compare"
    elif v == (3, 10) and in_(opcode.hasfree, n):
        k = "cell"
    elif v >= (3, 11) and (in_(opcode.haslocal, n) or in_(opcode.hasfree, n)):
        k = "local"
    elif in_(opcode.hascompare, n):
        k = "compare"
    elif n == "FORMAT_VALUE":
        k = "format_value"
    elif n == "MAKE_FUNCTION" and v < (3, 13):
        k = "function_flags"
    elif n == "SET_FUNCTION_ATTRIBUTE":
        k = "function_flags"
    elif n == "CONVERT_VALUE":
        k = "convert_value"
    elif n == "BINARY_OP":
        k = "binary_op"
    elif n == "CALL_INTRINSIC_1":
        k = "intrinsic_1"
    elif n == "CALL_INTRINSIC_2":
        k = "intrinsic_2"
    elif n == "LOAD_COMMON_CONSTANT":
        k = "common_constant"
    elif n == "LOAD_SPECIAL":
        k = "special_method"
    elif n == "IS_OP" and v >= (3, 14):
        k = "is_op"
    elif n == "CONTAINS_OP" and v >= (3, 14):
        k = "contains_op"
    if k:
        kinds[n] = k

out = {
    "python": "%d.%d" % v,
    "hasarg": sorted(n for n in hasarg if n in opcode.opmap),
    "kinds": kinds,
    "backward": sorted(n for n in names if backward(n)),
    "jump_style": "label" if v >= (3, 13) else "offset",
    "jrel_skips_caches": v >= (3, 12),
    "null_style": "suffix" if v >= (3, 13) else "prefix",
    "compare_shift": {(3, 10): 0, (3, 11): 0, (3, 12): 4}.get(v, 5),
    "compare_bool": v >= (3, 13),
    "cmp_op": list(opcode.cmp_op),
    "nb_ops": [r for _, r in getattr(opcode, "_nb_ops", [])],
    "intrinsic_1": list(getattr(opcode, "_intrinsic_1_descs", [])),
    "intrinsic_2": list(getattr(opcode, "_intrinsic_2_descs", [])),
    "common_constants": [c.__name__ if isinstance(c, type) else repr(c) for c in getattr(opcode, "_common_constants", [])],
    "special_methods": list(getattr(opcode, "_special_method_names", [])),
    "format_value": [r for _, r in getattr(dis, "FORMAT_VALUE_CONVERTERS", [])],
    "function_flags": list(getattr(dis, "FUNCTION_ATTR_FLAGS", getattr(dis, "MAKE_FUNCTION_FLAGS", ()))),
}
json.dump(out, sys.stdout, indent=1, sort_keys=True)
print()
