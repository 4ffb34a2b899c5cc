"""The start-up search as it was before it used breakpoints only: the
baseline of make bench's start-up table (TIMELENS_STARTUP_BASELINE=watchpoints
in gdb's environment), never the way a session starts. It inserts
watchpoints while the program runs live, so it works only on machines whose
hardware watchpoints fire.

  * To the first call of FUNC: where the first run of a code object quickens
    its RESUME in place (3.13+) and FUNC's code objects (at most three) are
    constants of the main script, a 1-byte write watchpoint on each one's
    RESUME; else every call start (RESUME in all its forms, quickened ones
    included; 3.10: the evaluator's entry), filtered in Python.
  * To that frame's first line event: a watchpoint on the frame's position,
    with the line-event rule as its condition.
"""

import gdb

from . import frames, layout, moves, window_state
from .errors import TimelensError

# The quickened forms of RESUME the old search also stopped at.
_QUICKENED = ("TARGET_RESUME_QUICK", "TARGET_RESUME_CHECK")


def to_first_call(search, target, call_start_specs, call_start_class):
    """The frame of FUNC's first call, the old way."""
    import time
    t0 = time.time()
    L = layout.get()
    if L.t.resume_runs_seen == 1 and target.codes and len(target.codes) <= 3:
        f, hits = _run_quickening(search, [frames_code(c) for c in target.codes], target)
    else:
        specs = list(call_start_specs())
        if L.t.call_start != "entry":
            cf = frames.current_frame_location()
            for label in _QUICKENED:
                spec = "%s:%s" % (L.t.entry_function, label)
                try:
                    gdb.decode_line(spec)
                except gdb.error:
                    continue
                specs.append((spec, "(%s)" % cf.expr))
        bps = [call_start_class(spec, fexpr, target) for spec, fexpr in specs]
        try:
            ev = search.run()
        finally:
            hits = sum(b.hits for b in bps)
            f = next((b.f for b in bps if b.f is not None), None)
            for b in bps:
                if b.is_valid():
                    b.delete()
        if not isinstance(ev, gdb.BreakpointEvent) or f is None:
            raise TimelensError("never-called", "%s was never called" % target.label(), function=target.func or "")
    search.hits += hits
    search.phase("to_first_call", t0, hits)
    return f


def frames_code(addr):
    from .code import code_info
    return code_info(addr)


def _run_quickening(search, codes, target):
    wps = []
    hits = 0
    try:
        for c in codes:
            wp = gdb.Breakpoint("*(unsigned char *) 0x%x" % (c.base + 2 * c.firsttraceable),
                                gdb.BP_WATCHPOINT, gdb.WP_WRITE, internal=True)
            wp.silent = True
            wps.append(wp)
        for _ in range(100):
            hits += 1
            ev = search.run()
            if not isinstance(ev, gdb.BreakpointEvent):
                break
            f = frames.current_frame()
            ci = frames.code_of(f)
            if ci is not None and any(ci.addr == c.addr for c in codes):
                return f, hits
    finally:
        for wp in wps:
            if wp.is_valid():
                wp.delete()
    raise TimelensError("never-called", "%s was never called" % target.label(), function=target.func or "")


def to_first_event(search, f):
    """To frame f's first line event with a watchpoint on its position."""
    import time
    t0 = time.time()
    ci = frames.code_of(f)
    window_state.set_var("tl_n", 0)
    w = moves.gdb_ip_watch(f, ci, False)
    try:
        search.run()
    finally:
        w.delete()
    search.counts["first_line_steps"] = window_state.get_var("tl_n") or 0
    search.phase("to_first_line", t0)
