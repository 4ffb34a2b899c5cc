"""Qualified names of running code, on every CPython the tests run.

CPython 3.11+ has co_qualname. On 3.10 a code object has only its name: the
qualified name is the __qualname__ of the function made from it (alive while
it runs: a class body's and a comprehension's too) or of the generator or
coroutine running it; a module's code has its name. The sys.settrace oracles
(testdata/oracle/settrace.py, testdata/navigate/oracle.py,
testdata/pyext/oracle.py) name code this way, independently of how timelens
names it (from the source's syntax tree, on 3.10).
"""
import gc

_CACHE = {}


def qualname(frame):
    code = frame.f_code
    q = getattr(code, "co_qualname", None)
    if q is not None:
        return q
    q = _CACHE.get(code)
    if q is None:
        for o in gc.get_referrers(code) + gc.get_referrers(frame):
            if getattr(o, "__code__", None) is code or \
                    getattr(o, "gi_frame", getattr(o, "cr_frame", None)) is frame:
                q = o.__qualname__
                break
        if q is None:
            return code.co_name
        _CACHE[code] = q
    return q
