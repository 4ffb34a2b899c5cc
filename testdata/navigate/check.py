# gdb-side oracle comparison, run inside gdb after loading the gdb side (pyext/timelens_gdb):
#   gdb -nx -batch -ex 'python import sys; sys.path.insert(0, "pyext"); import timelens_gdb' \
#       -ex 'py TL_ORACLE="o.json"; TL_TARGET="--main"; TL_SEMANTICS=1; TL_BASELINE=1' \
#       -x testdata/navigate/check.py --args python3.13 PROG.py
# Records a window, steps forward to the end and backward to the start and compares with
# the sys.settrace oracle (oracle.py's JSON); with TL_SEMANTICS also checks next, finish,
# goto-entry and call from every line event; with TL_BASELINE also walks forward with the
# per-bytecode baseline; with TL_RUNTO (a JSON object: line -> {conditions}, runto.json's
# entry for the program; the oracle ran with --conds) runs to those lines both ways from
# sampled line events, with and without the conditions, and lists their runs; with TL_CONDS
# (conds.json) evaluates every condition at every line event. Prints one line: TLCHECK {json}.
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


def _tallier(kinds, fails, key):
    """A function that counts one check of a kind (kinds: kind -> [ok, all])
    and keeps the details of its first four failures in fails (under key)."""
    def tally(kind, ok, detail):
        t = kinds.setdefault(kind, [0, 0])
        t[1] += 1
        if ok:
            t[0] += 1
        elif sum(1 for f in fails if f.get(key) == kind) < 4:
            detail[key] = kind
            fails.append(detail)
    return tally


if globals().get("TL_SEMANTICS") and len(fwd) == len(_want):
    kinds = {}
    fails = []
    _tally = _tallier(kinds, fails, "kind2")

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

# ------------------------------------------------------------ run to a line, line runs
if (globals().get("TL_RUNTO") or globals().get("TL_CONDS")) and len(fwd) == len(_want):
    from timelens_gdb import condition as _condition, frames as _frames, runto as _runto

    _cond_index = {c: i for i, c in enumerate(TL_COND_LIST)}
    _kinds, _fails = {}, []
    _count = _tallier(_kinds, _fails, "kind")

    def _holds(j, cond):
        return cond is None or _ev[j][6][_cond_index[cond]] == 1

    def _runs_of(line):
        return [j for j in range(len(_ev)) if _want[j][0] == _prog and _want[j][1] == line]

    if globals().get("TL_RUNTO"):
        targets = json.loads(TL_RUNTO)
        sample = int(globals().get("TL_SAMPLE", 0) or 0)
        stride = max(1, len(_want) // sample) if sample else 1
        starts = sorted(set(range(0, len(_want), stride)) | {len(_want) - 1})
        for line_s, spec in sorted(targets.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0):
            if not line_s.isdigit():
                continue
            line = int(line_s)
            runs = _runs_of(line)
            conds = spec.get("conditions", [])[:int(globals().get("TL_RUNTO_CONDS", 99))]
            for cond in [None] + conds:
                ok_runs = [j for j in runs if _holds(j, cond)]
                for k in starts:
                    for reverse in (False, True):
                        _goto(fwd_insn[k])
                        try:
                            r = _runto.run_to_line(_prog, line, reverse, cond)
                            err = None
                        except TimelensError as e:
                            r, err = None, "%s: %s" % (e.code, e.message)
                        c = [j for j in ok_runs if (j < k if reverse else j > k)]
                        j = (c[-1] if reverse else c[0]) if c else None
                        got = _insn() if r else None
                        want = fwd_insn[j] if j is not None else None
                        ok = got == want and (r is None) == (j is None) and (err is None or err.startswith("no-run"))
                        if not ok or r is None:
                            ok = ok and _insn() == fwd_insn[k]  # a refused run leaves time unchanged
                        kind = "runto-%s%s" % ("reverse" if reverse else "forward", "-cond" if cond else "")
                        _count(kind, ok, {"line": line, "cond": cond, "k": k, "at": _want[k], "want": j,
                                          "got": r and [_key(r), got], "err": err})
            # lineRuns: every run of the line, oldest first, with what it assigned.
            _goto(fwd_insn[len(_want) // 2])
            try:
                lr = _runto.line_runs(_prog, line, 10000)
                err = None
            except TimelensError as e:
                lr, err = {"runs": []}, "%s: %s" % (e.code, e.message)
            got = [((int(x["time"]),), x["function"], x["depth"]) for x in lr["runs"]]
            want = [(fwd_insn[j], _want[j][2], _ev[j][4] - 1) for j in runs]
            _count("lineRuns", got == want and _insn() == fwd_insn[len(_want) // 2],
                   {"line": line, "got": got[:6], "want": want[:6], "n": [len(got), len(want)], "err": err})
            for x, j in zip(lr["runs"], runs):
                first = _acts[_ev[j][3]].get("first", _ev[j][3])
                nxt = next((i for i in range(j + 1, len(_ev))
                            if _acts[_ev[i][3]].get("first", _ev[i][3]) == first), None)
                for name, value in x["assigned"].items():
                    if nxt is not None and name in _ev[nxt][5]:
                        _count("lineRuns-assigned", value == _ev[nxt][5][name],
                               {"line": line, "j": j, "name": name, "got": value, "want": _ev[nxt][5][name]})
                if nxt is None:
                    _count("lineRuns-call-ended", x["assigned"] == {}, {"line": line, "j": j, "got": x["assigned"]})

    if globals().get("TL_CONDS"):
        spec = json.loads(TL_CONDS)
        compiled = {}
        for text in spec["supported"] + spec["unsupported"]:
            try:
                compiled[text] = _condition.compile(text)
            except TimelensError as e:
                compiled[text] = e
        for text in spec["supported"]:
            _count("cond-compiles", not isinstance(compiled[text], TimelensError), {"cond": text, "err": str(compiled[text])})
        refused = {t: 0 for t in spec["unsupported"]}
        for k in range(len(_want)):
            _goto(fwd_insn[k])
            f, ci = _frames.python_frames(complete=True)[0]
            for text in spec["supported"] + spec["unsupported"]:
                c = compiled[text]
                if isinstance(c, TimelensError):
                    if text in refused:
                        refused[text] += c.code == "bad-condition"
                    continue
                try:
                    ok, why = _condition.holds(c, f, ci)
                    got = None if why is not None else int(ok)
                except TimelensError as e:
                    if text in refused:
                        refused[text] += e.code == "bad-condition"
                        continue
                    got = "%s: %s" % (e.code, e.message)
                if text in refused:
                    _count("cond-unsupported-gives-no-value", got is None,
                           {"cond": text, "k": k, "at": _want[k], "got": got})
                    continue
                want = _ev[k][6][_cond_index[text]]
                _count("cond-eval", got == want, {"cond": text, "k": k, "at": _want[k], "got": got, "want": want})
        for text, n in refused.items():
            _count("cond-unsupported-refused", n > 0, {"cond": text})
    _res["runto"] = _kinds
    if _fails:
        _res["runto_failures"] = _fails

print("TLCHECK " + json.dumps(_res, default=str))
