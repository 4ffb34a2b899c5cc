"""The bytecode view's oracle: what CPython's dis says of the stack at
each checkpoint, in this very process.

checkpoint(label) calls os.getpid(); the test's debugger stops on that
system call and reads every caller frame's instructions from memory
(-timelens-disassemble). Then, with TIMELENS_ORACLE_OUT set, checkpoint
records what dis.get_instructions(code, adaptive=True) says of each of
them, with frame.f_lasti: the same code objects, as warm as the debugger
saw them (dis reads the quickened bytes and changes nothing). The records
go to $TIMELENS_ORACLE_OUT as JSON at exit.

The program itself (bytecode.py) does the rest: loops that warm the code
until CPython specializes it, a comprehension, a chained call, a
short-circuit `and`, a closure, an f-string, a jump long enough to need
EXTENDED_ARG.
"""

import atexit
import json
import os
import sys

OUT = os.environ.get("TIMELENS_ORACLE_OUT")
RECORDS = []


def checkpoint(label):
    os.getpid()  # the debugger stops here
    if OUT:
        RECORDS.append({"label": label, "frames": [describe(f) for f in callers(sys._getframe(1))]})
    return label


def callers(f):
    while f is not None:
        yield f
        f = f.f_back


def describe(frame):
    import dis
    co = frame.f_code
    if sys.version_info >= (3, 11):
        adaptive = list(dis.get_instructions(co, adaptive=True))
        base = list(dis.get_instructions(co, adaptive=False))
    else:
        adaptive = base = list(dis.get_instructions(co))
    lines = {}
    if sys.version_info < (3, 11):
        for start, end, line in co.co_lines():
            for off in range(start, end, 2):
                lines[off] = line
    out = []
    for a, b in zip(adaptive, base):
        if sys.version_info >= (3, 13):
            line = a.line_number
        elif sys.version_info >= (3, 11):
            line = a.positions.lineno
        else:
            line = lines.get(a.offset)
        out.append({"offset": a.offset, "opname": a.opname, "baseOpname": b.opname, "arg": a.arg,
                    "argrepr": a.argrepr, "line": line, "label": getattr(a, "label", None) or 0})
    return {"name": co.co_name, "file": co.co_filename, "lasti": frame.f_lasti, "instructions": out}


def write():
    with open(OUT, "w") as f:
        json.dump({"python": sys.version, "records": RECORDS}, f)


if OUT:
    atexit.register(write)
