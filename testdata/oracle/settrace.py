"""The ground truth for line-level behaviour: run a program under
sys.settrace and print every 'line' event of the program's own files (with
--from: of every frame inside the window, whatever its file) as one
JSON object per line, with the frame's variables rendered by repr().

    python3 settrace.py [--from FUNC] [--out FILE] PROGRAM [ARGS...]

Each event: {"i", "file", "line", "function" (co_qualname), "depth" (0 for the
outermost traced frame), "call" (an id per call), "locals" {name: repr},
"ids" {name: hex(id(value))} (the object each name holds), "params" (the
code's parameter names), "defline" (the line of its def: a decorated
function's code starts at its first decorator)}.
With --from, events start at the first call of FUNC (bare or qualified
name) and only frames at or inside it count, as timelens's record window.
"""
import ast
import dis
import json
import os
import runpy
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qualnames import qualname  # noqa: E402

MAX = 120


BUILTIN_CONTAINERS = (list, tuple, dict, set, frozenset)


def _render(v, seen):
    """repr(), except that instances of classes without their own __repr__
    render as TypeName(attr=value, ...), as CONTRACT.md says."""
    t = type(v)
    if isinstance(v, BUILTIN_CONTAINERS) and t in BUILTIN_CONTAINERS:
        if id(v) in seen:
            return {list: "[...]", dict: "{...}"}.get(t, "...")
        seen = seen | {id(v)}
        if t is dict:
            return "{" + ", ".join(_render(k, seen) + ": " + _render(x, seen) for k, x in v.items()) + "}"
        items = [_render(x, seen) for x in v]
        if t is list:
            return "[" + ", ".join(items) + "]"
        if t is tuple:
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        if not items:
            return t.__name__ + "()"
        body = "{" + ", ".join(items) + "}"
        return body if t is set else "frozenset(" + body + ")"
    if t.__repr__ is object.__repr__ and t.__module__ != "builtins":
        fields = getattr(v, "__dict__", None)
        if fields is None:
            slots = [s for c in t.__mro__ for s in getattr(c, "__slots__", ())]
            fields = {s: getattr(v, s) for s in slots if hasattr(v, s)}
            if not slots:
                return repr(v)
        if id(v) in seen:
            return t.__name__ + "(...)"
        seen = seen | {id(v)}
        return t.__name__ + "(" + ", ".join(k + "=" + _render(x, seen) for k, x in fields.items()) + ")"
    return repr(v)


def render(v):
    try:
        r = _render(v, frozenset())
    except Exception as e:  # a broken __repr__ must not stop the oracle
        r = "<repr failed: %s>" % type(e).__name__
    if len(r) > MAX:
        r = r[: MAX - 1] + "…"
    return r


STORE_OPS = {"STORE_FAST", "STORE_DEREF", "STORE_NAME", "STORE_GLOBAL", "STORE_FAST_STORE_FAST", "STORE_FAST_LOAD_FAST"}


def stores(code):
    """Line -> names the code object's bytecode stores to, in order."""
    out = {}
    line = None
    for ins in dis.get_instructions(code):
        if hasattr(ins, "positions"):
            line = ins.positions.lineno if ins.positions else None
        elif ins.starts_line is not None:  # 3.10: no positions, lines where they start
            line = ins.starts_line
        if ins.opname not in STORE_OPS:
            continue
        if line is None:
            continue
        names = ins.argval if isinstance(ins.argval, tuple) else (ins.argval,)
        if ins.opname == "STORE_FAST_LOAD_FAST":
            names = names[:1]
        for n in names:
            if n not in out.setdefault(str(line), []):
                out[str(line)].append(n)
    return out


def params(code):
    """The names of code's parameters, without a comprehension's implicit .0."""
    n = code.co_argcount + code.co_kwonlyargcount + bool(code.co_flags & 4) + bool(code.co_flags & 8)
    return [v for v in code.co_varnames[:n] if v.isidentifier()]


_DEFLINES = {}


def defline(code):
    """The line of the def (a lambda: its line) of the function code runs."""
    lines = _DEFLINES.get(code.co_filename)
    if lines is None:
        lines = {}
        try:
            with open(code.co_filename, "rb") as f:
                tree = ast.parse(f.read())
        except (OSError, SyntaxError, ValueError):
            tree = None
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
                lines.setdefault((node.name, first), node.lineno)
        _DEFLINES[code.co_filename] = lines
    return lines.get((code.co_name, code.co_firstlineno), code.co_firstlineno)


def main():
    args = sys.argv[1:]
    start_fn = None
    out = sys.stdout
    while args and args[0].startswith("--"):
        if args[0] == "--from":
            start_fn = args[1]
            args = args[2:]
        elif args[0] == "--out":
            out = open(args[1], "w")
            args = args[2:]
        else:
            sys.exit("settrace.py: unknown option " + args[0])
    if not args:
        sys.exit(__doc__)
    prog = os.path.abspath(args[0])
    files = {prog}
    sys.argv = [prog] + args[1:]
    sys.path.insert(0, os.path.dirname(prog))

    calls = {}  # id(frame) -> call id, for live frames
    state = {"n": 0, "call": 0, "base": None, "on": start_fn is None}


    def depth_of(frame):
        """Frames between frame and the window's base."""
        d, f = 0, frame
        while f is not None and f is not state["base"]:
            f = f.f_back
            d += 1
        return d

    def tracer(frame, event, arg):
        inside = state["base"] not in (None, False) and state["on"]
        if frame.f_code.co_filename not in files and not inside:
            return None
        if event == "call":
            name = qualname(frame)
            if not state["on"] and (name == start_fn or name.rsplit(".", 1)[-1] == start_fn):
                state["on"] = True
                state["base"] = frame
            state["call"] += 1
            calls[id(frame)] = state["call"]
            return tracer
        if event == "return":
            if frame is state["base"]:
                state["on"] = False
                state["base"] = False  # no second window
            return tracer
        if event != "line" or not state["on"]:
            return tracer
        if frame.f_code.co_filename.startswith("<"):
            # Code without a source file (a dataclass's generated __init__, exec'd
            # code) is passed through like C code (CONTRACT.md): no event.
            return tracer
        if state["base"] is not None and state["base"] is not False:
            f, inside = frame, False
            while f is not None:
                if f is state["base"]:
                    inside = True
                    break
                f = f.f_back
            if not inside:
                return tracer
        ev = {
            "i": state["n"],
            "file": frame.f_code.co_filename,
            "line": frame.f_lineno,
            "function": qualname(frame),
            "depth": depth_of(frame) if state["base"] else _outer_depth(frame),
            "call": calls.setdefault(id(frame), 0),
            "locals": {k: render(v) for k, v in frame.f_locals.items()},
            "ids": {k: hex(id(v)) for k, v in frame.f_locals.items()},
            "params": params(frame.f_code),
            "defline": defline(frame.f_code),
            "stores": stores(frame.f_code),
        }
        state["n"] += 1
        out.write(json.dumps(ev, ensure_ascii=False) + "\n")
        return tracer

    def _outer_depth(frame):
        d, f = 0, frame.f_back
        while f is not None:
            if f.f_code.co_filename in files:
                d += 1
            f = f.f_back
        return d

    sys.settrace(tracer)
    try:
        runpy.run_path(prog, run_name="__main__")
    except SystemExit:
        pass
    finally:
        sys.settrace(None)
        out.flush()


if __name__ == "__main__":
    main()
