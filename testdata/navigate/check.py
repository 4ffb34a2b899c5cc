# gdb-side oracle comparison, run inside gdb after loading the gdb side (pyext/timelens_gdb):
#   gdb -nx -batch -ex 'python import sys; sys.path.insert(0, "pyext"); import timelens_gdb' \
#       -ex 'py TL_ORACLE="o.json"; TL_TARGET="--main"; TL_SEMANTICS=1; TL_BASELINE=1' \
#       -x testdata/navigate/check.py --args python3.13 PROG.py
# Records a window, steps forward to the end and backward to the start and compares with
# the sys.settrace oracle (oracle.py's JSON); with TL_SEMANTICS also checks next, finish,
# goto-entry and call from every line event; with TL_BASELINE also walks forward with the
# per-bytecode baseline. Prints one line: TLCHECK {json}.
import json, os, time
import gdb

from timelens_gdb import debugger
from timelens_gdb.debugger import record_state as _record_state
from timelens_gdb.errors import TimelensError
from timelens_gdb.frames import position
from timelens_gdb.moves import baseline_step, do_call, do_frame_next, do_goto_entry, do_step
from timelens_gdb.window import record_window as do_record_window

_orc = json.load(open(TL_ORACLE))
_ev = _orc["events"]
_acts = {int(k): v for k, v in _orc["acts"].items()}
_want = [(os.path.realpath(e[0]), e[1], e[2]) for e in _ev]
_prog = _want[0][0] if _want else None
gdb.execute("starti", to_string=True)
_w = do_record_window(TL_TARGET, int(globals().get("TL_LIMIT", 3000000)))
_res = {"program": os.path.basename(_prog or "?"), "target": TL_TARGET, "window": _w}


def _key(p):
    return (os.path.realpath(p["file"]) if p["file"] else None, p["line"], p["function"])


def _insn():
    st = _record_state()
    return st[1] if st[0] else "end"


def _goto(n):
    debugger.goto(n)


def _walk(kind, reverse, first, stepper=None):
    seq, insns = [first], [_insn()]
    stops = internal = 0
    spent = 0.0
    while True:
        t0 = time.time()
        try:
            r = (stepper or do_step)(kind, reverse)
        except (gdb.GdbError, TimelensError) as e:
            err = str(e)
            break
        spent += time.time() - t0
        seq.append(_key(r))
        insns.append(_insn())
        stops += r["stops"]
        internal += r.get("internal_stops", 0)
    return seq, insns, stops, internal, spent, err


def _only_prog(seq):
    return [k for k in seq if k[0] == _prog]


def _prefix_ok(got, want):
    ok = 0
    for a, b in zip(got, want):
        if a != b:
            break
        ok += 1
    return ok


def _report(name, got, want):
    ok = _prefix_ok(got, want)
    _res[name] = [ok if len(got) == len(want) else min(ok, len(want) - 1), len(want)]
    if ok < len(want) or len(got) != len(want):
        _res[name + "_context"] = {"at": ok, "got": got[max(0, ok - 3):ok + 3],
                                   "want": want[max(0, ok - 3):ok + 3], "got_len": len(got)}


fwd, fwd_insn, fs, fi, ft, fe = _walk("step", False, _key(position()))
rev, _, rs, ri, rt, re_ = _walk("step", True, _key(position()))
rev.reverse()
# Code without a source file (<string>, <frozen ...>) is passed through by every move.
_res["sourceless"] = [k for k in fwd + rev if k[0] and os.path.basename(k[0]).startswith("<")][:5]
_report("forward", _only_prog(fwd), _want)
_report("reverse", _only_prog(rev), _want)
n = len(fwd) - 1
_res.update({
    "events": len(_want), "forward_all_files": len(fwd),
    "forward_stops": fs, "forward_internal": fi, "forward_seconds": round(ft, 3),
    "reverse_stops": rs, "reverse_internal": ri, "reverse_seconds": round(rt, 3),
    "forward_end": fe, "reverse_end": re_,
})


# ------------------------------------------------------------ baseline: one stop per bytecode
if globals().get("TL_BASELINE"):
    _goto("begin")
    bseq, _, bs, _, bt, _ = _walk("step", False, _key(position()), baseline_step)
    _report("baseline_forward", _only_prog(bseq), _want)
    _goto(fwd_insn[-1])
    brev, _, brs, _, brt, _ = _walk("step", True, _key(position()), baseline_step)
    brev.reverse()
    _report("baseline_reverse", _only_prog(brev), _want)
    _res.update({"baseline_forward_stops": bs, "baseline_forward_seconds": round(bt, 3),
                 "baseline_reverse_stops": brs, "baseline_reverse_seconds": round(brt, 3)})


# ------------------------------------------------------------ next / finish / entry / call
def _expect_next(k, reverse):
    # next stays in the frame's call: for a generator or coroutine that is the frame
    # across its suspensions (its activations share "first"); out to the caller at the
    # call's end (reverse: before its start).
    a = _ev[k][3]
    act = _acts[a]
    if act.get("gen"):
        first = act["first"]
        acts = sorted(b for b, v in _acts.items() if v.get("first") == first)
        same = lambda j: _acts[_ev[j][3]].get("first") == first
    else:
        acts = [a]
        same = lambda j: _ev[j][3] == a
    rng = range(k - 1, -1, -1) if reverse else range(k + 1, len(_ev))
    for j in rng:
        if same(j):
            return j
    if reverse:
        j = _acts[acts[0]]["call_pos"] - 1
        return j if j >= 0 else None
    end = _acts[acts[-1]]
    if act.get("gen") and not end.get("completed"):
        return None  # suspended for good: no later line event of the call
    j = end["ret_pos"]
    return j if j is not None and j < len(_ev) else None


def _expect_call(k, reverse, func):
    entries = sorted(v["call_pos"] for a, v in _acts.items()
                     if v["fresh"] and v["qualname"] == func and v["call_pos"] < len(_ev)
                     and _ev[v["call_pos"]][3] == a)
    if reverse:
        c = [j for j in entries if j < k]
        return c[-1] if c else None
    c = [j for j in entries if j > k]
    return c[0] if c else None


if globals().get("TL_SEMANTICS") and len(fwd) == len(_want):
    kinds = {}
    fails = []

    def _tally(kind, ok, detail):
        t = kinds.setdefault(kind, [0, 0])
        t[1] += 1
        if ok:
            t[0] += 1
        elif sum(1 for f in fails if f.get("kind2") == kind) < 4:
            detail["kind2"] = kind
            fails.append(detail)

    def _try(fn, *a):
        try:
            return fn(*a), None
        except (gdb.GdbError, TimelensError) as e:
            return None, str(e)
        except gdb.error as e:
            return None, "UNEXPECTED gdb.error: %s" % e

    # TL_SAMPLE=N checks about N evenly spread line events (0: all).
    sample = int(globals().get("TL_SAMPLE", 0) or 0)
    stride = max(1, len(_want) // sample) if sample else 1
    for k in range(0, len(_want), stride):
        a = _ev[k][3]
        act = _acts[a]
        for kind, reverse in (("next", False), ("next", True)):
            _goto(fwd_insn[k])
            r, err = _try(do_step, kind, reverse)
            j = _expect_next(k, reverse)
            got = _insn() if r else None
            want = fwd_insn[j] if j is not None else None
            _tally(kind + ("-reverse" if reverse else ""), got == want and (r is None) == (j is None),
                   {"kind": kind, "reverse": reverse, "k": k, "at": _want[k], "want": j, "got": r and _key(r), "err": err})
        for reverse in (False, True):
            _goto(fwd_insn[k])
            r, err = _try(do_step, "finish", reverse)
            exp = act["call_caller" if reverse else "ret_caller"]
            if not reverse and act["ret_pos"] is None:
                exp = None
            ok = (r is None and exp is None) or (r is not None and exp is not None and
                                                 _key(r) == (os.path.realpath(exp[0]), exp[1], exp[2])
                                                 and r["depth"] == _ev[k][4] - 1)
            _tally("finish" + ("-reverse" if reverse else ""), ok,
                   {"kind": "finish", "reverse": reverse, "k": k, "at": _want[k], "want": exp, "got": r and _key(r), "err": err})
        _goto(fwd_insn[k])
        r, err = _try(do_goto_entry)
        j = _acts[act.get("first", a)]["call_pos"]  # a generator's call began at its first resume
        _tally("goto-entry", r is not None and _insn() == fwd_insn[j],
               {"kind": "entry", "k": k, "at": _want[k], "want": j, "got": r and _key(r), "err": err})
        # frame-next: the next line event of the same frame's call, also after the
        # generator suspends and resumes; none once the call returns.
        _goto(fwd_insn[k])
        r, err = _try(do_frame_next)
        first = act.get("first", a)
        j = next((i for i in range(k + 1, len(_ev)) if _acts[_ev[i][3]].get("first", _ev[i][3]) == first), None)
        got = _insn() if r else None
        want = fwd_insn[j] if j is not None else None
        _tally("frame-next", got == want and (r is None) == (j is None),
               {"kind": "frame-next", "k": k, "at": _want[k], "want": j, "got": r and _key(r), "err": err})
        for direction in ("next", "previous"):
            _goto(fwd_insn[k])
            func = _ev[k][2]
            r, err = _try(do_call, direction, func)
            j = _expect_call(k, direction == "previous", func)
            got = _insn() if r else None
            want = fwd_insn[j] if j is not None else None
            _tally("call-" + direction, got == want and (r is None) == (j is None),
                   {"kind": "call", "dir": direction, "k": k, "at": _want[k], "want": j, "got": r and _key(r), "err": err})
    _res["semantics"] = kinds
    if fails:
        _res["semantics_failures"] = fails
print("TLCHECK " + json.dumps(_res, default=str))
