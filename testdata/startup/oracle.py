"""The settrace oracle of the start-up search: for FUNC (a qualified or bare
name, in any module), the first line event of its first call (a generator's
or coroutine's: of its first resumption), with the arguments it had, as
JSON: {"file", "line", "function", "args": {name: repr}}; null when FUNC
never runs.  python3 oracle.py FUNC PROGRAM"""
import json
import os
import sys

func, prog = sys.argv[1], os.path.abspath(sys.argv[2])
found = []


def tracer(frame, event, arg):
    if found:
        return None
    co = frame.f_code
    if event == "call":
        qual = getattr(co, "co_qualname", None)  # 3.10 has none: its bare name decides
        if qual != func and co.co_name != func and not (qual is None and co.co_name == func.rsplit(".", 1)[-1]):
            return None
        return tracer
    if event == "line":
        nargs = co.co_argcount + co.co_kwonlyargcount
        found.append({"file": co.co_filename, "line": frame.f_lineno,
                      "function": getattr(co, "co_qualname", co.co_name),
                      "args": {k: repr(frame.f_locals[k]) for k in co.co_varnames[:nargs] if k in frame.f_locals}})
        sys.settrace(None)
        return None
    return tracer


sys.path.insert(0, os.path.dirname(prog))
sys.argv = [prog]
sys.settrace(tracer)
try:
    code = compile(open(prog).read(), prog, "exec")
    exec(code, {"__name__": "__main__", "__file__": prog})
finally:
    sys.settrace(None)
print(json.dumps(found[0] if found else None))
