"""sys.settrace oracle for the bytecode view in a recorded window.

usage: python3.X trace_oracle.py PROGRAM.py --func NAME --out FILE [--opcodes]

Runs PROGRAM.py as __main__ under sys.settrace and writes, as JSON, from
the first call of NAME (a co_name) on, each 'line' event of a frame whose
code comes from PROGRAM.py: [code key, line, frame.f_lasti, the offset of
the instruction the frame runs next (see at())]; and "codes":
each such code object's instructions, as dis.get_instructions lists them
without adaptive=True: [offset, opname, arg, line].

With --opcodes, frames of PROGRAM.py also trace opcodes
(frame.f_trace_opcodes = True) and "opcodes" lists each 'opcode' event
from the first line event of NAME on: [code key, frame.f_lasti], the
sequence an instruction step walks (bytestep.py).

The recorded run is another process, untraced: CPython specializes its
code there, and tracing keeps this run's code from specializing (3.11
dispatches traced code by its base opcodes, 3.12+ instruments it), so the
names compared are the base ones; the specialized names are compared with
dis in the debugged process itself (dis_oracle.py).
"""

import dis
import json
import os
import sys


def instructions(co):
    lines = {}
    if sys.version_info < (3, 11):
        for start, end, line in co.co_lines():
            for off in range(start, end, 2):
                lines[off] = line
    out = []
    for ins in dis.get_instructions(co):
        if sys.version_info >= (3, 13):
            line = ins.line_number
        elif sys.version_info >= (3, 11):
            line = ins.positions.lineno
        else:
            line = lines.get(ins.offset)
        out.append([ins.offset, ins.opname, ins.arg, line])
    return out


def at(frame):
    """The offset of the instruction the frame is about to run at a line
    event: f_lasti, except where 3.12+ reports the event from a backward
    jump's own callback (Python/legacy_tracing.c sys_trace_jump_func: the
    loop's head line, "always" on a jump back) while f_lasti is still the
    JUMP_BACKWARD; the frame runs the jump's target next, and an untraced
    frame's instruction pointer is there at that point."""
    for ins in dis.get_instructions(frame.f_code):
        if ins.offset == frame.f_lasti:
            if sys.version_info >= (3, 12) and ins.opname.startswith("JUMP_BACKWARD"):
                return ins.argval
            break
    return frame.f_lasti


def main():
    args = sys.argv[1:]
    func = args[args.index("--func") + 1]
    out = args[args.index("--out") + 1]
    prog = os.path.abspath(args[0])
    with open(prog) as f:
        code = compile(f.read(), prog, "exec")
    opcodes = "--opcodes" in args
    events, codes, ops = [], {}, []
    started = False

    def key(co):
        k = "%s:%d" % (co.co_name, co.co_firstlineno)
        if k not in codes:
            codes[k] = instructions(co)
        return k

    def trace(frame, event, arg):
        nonlocal started
        if frame.f_code.co_filename != prog:
            return None
        if event == "call" and frame.f_code.co_name == func:
            started = True
        if opcodes:
            frame.f_trace_opcodes = True
        if event == "line" and started:
            events.append([key(frame.f_code), frame.f_lineno, frame.f_lasti, at(frame)])
        if event == "opcode" and events:
            ops.append([key(frame.f_code), frame.f_lasti])
        return trace

    sys.path.insert(0, os.path.dirname(prog))
    glob = {"__name__": "__main__", "__file__": prog}
    if opcodes:
        # 3.12 turns on sys.monitoring's INSTRUCTION events for sys.settrace
        # only when some frame had f_trace_opcodes set before settrace
        # (Python/legacy_tracing.c: interp->f_opcode_trace_set).
        sys._getframe().f_trace_opcodes = True
    sys.settrace(trace)
    try:
        exec(code, glob)
    finally:
        sys.settrace(None)
    with open(out, "w") as f:
        json.dump({"events": events, "codes": codes, "opcodes": ops}, f)


main()
