"""sys.settrace oracle for timelens navigation tests.

usage: python3.13 oracle.py PROGRAM.py [--func NAME] [--out FILE] [--conds FILE]

Runs PROGRAM.py as __main__ under sys.settrace and writes, as one JSON object,
  "events": the 'line' events [file, line, qualified name, activation, depth] of frames
            whose code comes from PROGRAM.py, starting at the first line event of the
            main module (default) or of the first call of NAME (a bare co_name or a
            co_qualname): what -timelens-step visits from the window start of
            -timelens-record-window (which records from the same point);
  "acts":   per activation (one call, or one resume of a generator): call_pos/ret_pos
            (index of the first line event at/after its 'call'/'return' event), fresh
            (a new call, not a resume), first (the activation that began the frame's
            call: a generator's call spans its resumes), gen (a generator or coroutine
            frame), completed (its return ended the call, not a yield), qualname, name, and the caller's
            [file, line, qualname] at call and at return (null outside PROGRAM.py).
With --conds FILE (a JSON list of Python expressions), each event has two more entries: the
repr of each local whose value is an int, float, str, bool or None, and the value of each
expression evaluated in the frame (eval with its globals and locals): 1, 0, or null where
evaluating it raised (what run-to-line's conditions are checked against).
"""
import dis
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "oracle"))
from qualnames import qualname  # noqa: E402


GEN_FLAGS = 0x20 | 0x80 | 0x200  # CO_GENERATOR, CO_COROUTINE, CO_ASYNC_GENERATOR
YIELD_VALUE = dis.opmap["YIELD_VALUE"]
RESUME = dis.opmap.get("RESUME", -1)  # 3.11+
def suspended(frame):
    """A generator frame's return event is a yield: f_lasti is at the YIELD_VALUE
    or (3.13) already at the RESUME after it, whose oparg says "after a yield,
    yield from or await" (1, 2, 3) rather than "start" (0)."""
    code = frame.f_code.co_code
    op, arg = code[frame.f_lasti], code[frame.f_lasti + 1]
    return op == YIELD_VALUE or (op == RESUME and arg & 3 != 0)


def scalars(frame):
    return {k: repr(v) for k, v in frame.f_locals.items() if type(v) in (int, float, str, bool, type(None))}


def evaluate(cond, frame):
    try:
        return 1 if eval(cond, frame.f_globals, dict(frame.f_locals)) else 0
    except Exception:
        return None


def main():
    args = sys.argv[1:]
    func = None
    if "--func" in args:
        i = args.index("--func")
        func = args[i + 1]
        del args[i:i + 2]
    out = None
    if "--out" in args:
        i = args.index("--out")
        out = args[i + 1]
        del args[i:i + 2]
    conds = None
    if "--conds" in args:
        i = args.index("--conds")
        with open(args[i + 1]) as f:
            conds = [compile(c, "<condition>", "eval") for c in json.load(f)]
        del args[i:i + 2]
    prog = os.path.abspath(args[0])
    with open(prog) as f:
        src = f.read()
    code = compile(src, prog, "exec")
    events = []
    acts = {}      # activation id -> facts (an activation: one call or generator resume)
    frame_act = {}  # id(frame) -> activation id
    seen = []       # frames already started (keeps them alive: ids stay unique)
    seen_ids = set()
    frame_first = {}  # id(frame) -> its first activation (a generator's call spans its resumes)
    started = [func is None]

    def key(frame):
        if frame is None or frame.f_code.co_filename != prog:
            return None
        return [frame.f_code.co_filename, frame.f_lineno, qualname(frame)]

    def depth(frame):
        d = 0
        while frame is not None:
            if frame.f_code.co_filename == prog:
                d += 1
            frame = frame.f_back
        return d

    def tracer(frame, event, arg):
        co = frame.f_code
        if co.co_filename != prog:
            return None
        if event == "call":
            a = len(acts)
            fresh = id(frame) not in seen_ids
            if fresh:
                seen_ids.add(id(frame))
                seen.append(frame)
            if fresh:
                frame_first[id(frame)] = a
            frame_act[id(frame)] = a
            acts[a] = {"call_pos": len(events), "ret_pos": None, "fresh": fresh,
                       "first": frame_first.get(id(frame), a),
                       "gen": bool(co.co_flags & GEN_FLAGS), "completed": None,
                       "qualname": qualname(frame), "name": co.co_name,
                       "call_caller": key(frame.f_back), "ret_caller": None}
        elif event == "line":
            if not started[0] and (qualname(frame) == func or co.co_name == func):
                started[0] = True
            if started[0]:
                events.append([co.co_filename, frame.f_lineno, qualname(frame),
                               frame_act.get(id(frame)), depth(frame)])
                if conds is not None:
                    events[-1] += [scalars(frame), [evaluate(c, frame) for c in conds]]
        elif event == "return":
            a = frame_act.get(id(frame))
            if a is not None:
                acts[a]["ret_pos"] = len(events)
                acts[a]["ret_caller"] = key(frame.f_back)
                # A generator's activation ends at a yield (suspended) or for good.
                acts[a]["completed"] = not (acts[a]["gen"] and suspended(frame))
        return tracer

    g = {"__name__": "__main__", "__file__": prog, "__builtins__": __builtins__}
    sys.argv = [prog]
    sys.settrace(tracer)
    try:
        exec(code, g)
    finally:
        sys.settrace(None)
        if out:
            with open(out, "w") as f:
                json.dump({"events": events, "acts": acts}, f)
        else:
            json.dump(events, sys.stdout)
            sys.stdout.write("\n")


main()
