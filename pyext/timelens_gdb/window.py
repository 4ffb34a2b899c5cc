"""The recorded window (gdb record full): run at full speed to where the user
wants history to begin, record from there, and end where recording must end.

  1. Start-up at full speed to the function that runs the main script (the
     table's run_main; with a shared libpython its breakpoint resolves when the
     library loads).
  2. To the first call of FUNC (co_qualname or bare co_name; generator
     functions: the first resume) or of the main module: breakpoints where every
     call starts (RESUME's handlers, 3.11+; the evaluator's entry, 3.10),
     filtered in Python; or, where the first run of a code object quickens its
     RESUME in place (3.13+) and FUNC's code objects are constants of the main
     module, a 1-byte watchpoint on each, with no stop before.
  3. To that frame's first line event (a few instructions, live).
  4. `record full` until the main module returns, a system call record full
     cannot follow (catchpoints), about LIMIT instructions, or SECONDS elapse;
     then back to the window's start. The reply says why the window ended
     (window_end) and, when early, where the program's own code was then
     (window_end_at: a second thread started by the line that called
     Thread.start()).
"""

import os
import re
import signal
import threading
import time

import gdb

from . import debugger, frames, layout, memory, moves
from .code import code_info, is_code, pystr, pytuple
from .debugger import resume, stops
from .errors import TimelensError

END_SYSCALLS = ("exit_group", "exit", "clone3", "clone", "fork", "vfork", "rseq",
                "epoll_create1", "epoll_create", "execve")
_REFUSED_SYSCALL = re.compile(r"doesn't support syscall number (\d+)")


def syscall_name(number):
    """The name gdb's syscall table gives a system call number, or "number N"."""
    try:
        out = gdb.execute("catch syscall %d" % number, to_string=True)
    except gdb.error:
        return "number %d" % number
    m = re.search(r"Catchpoint (\d+) \(syscall '([a-z_0-9]+)'", out)
    if m:
        gdb.execute("delete %s" % m.group(1), to_string=True)
        return m.group(2)
    m = re.search(r"Catchpoint (\d+)", out)
    if m:
        gdb.execute("delete %s" % m.group(1), to_string=True)
    return "number %d" % number
CHECK_SECONDS = 0.25


def find_codes(code_addr, func, depth=0, out=None):
    """Code objects named func among the constants of a code object, recursively."""
    L = layout.get()
    out = [] if out is None else out
    if depth > 20:
        return out
    consts = memory.u64(code_addr + L.co_consts)
    if not consts:
        return out
    for o in pytuple(consts)[:100000]:
        if is_code(o):
            ci = code_info(o)
            if ci.qualname == func or ci.name == func:
                out.append(ci)
            find_codes(o, func, depth + 1, out)
    return out


def _is_start(f, func):
    """Frame f starts a call of func (None: of the main module's code)."""
    ci = frames.code_of(f)
    if ci is None:
        return False
    if func is None:
        ok = ci.name == "<module>" and not ci.filename.startswith("<")
    else:
        ok = moves.matches(ci, func) and not moves.creates_generator(f, ci)
    return ok and frames.fresh(f, ci)


class CallStart(gdb.Breakpoint):
    """A breakpoint where calls start: stops at the first call of FUNC (or of
    the main module). frame() reads the starting frame at the stop."""

    def __init__(self, spec, func, frame):
        super().__init__(spec, internal=True)
        self.silent = True
        self.func = func
        self.frame = frame
        self.hits = 0
        self.matched = False
        self.f = None

    def stop(self):
        self.hits += 1
        try:
            f = self.frame()
            self.matched = _is_start(f, self.func)
            if self.matched:
                self.f = f
            return self.matched
        except (gdb.MemoryError, gdb.error, TimelensError):
            return False


def _call_start_breakpoints(func):
    t = layout.get().t
    if t.call_start == "entry":
        arg = t.entry_frame_argument
        return [CallStart(t.entry_function, func, lambda: int(gdb.parse_and_eval("(unsigned long)%s" % arg)))]
    out = []
    for label in t.resume_labels:
        spec = "%s:%s" % (t.entry_function, label)
        try:
            gdb.decode_line(spec)
        except gdb.error:
            continue
        out.append(CallStart(spec, func, frames.current_frame))
    if not out:
        raise TimelensError("no-debug-symbols", "none of %s in this CPython's evaluation loop: cannot find where "
                            "calls start (%s)" % (", ".join(t.resume_labels), layout.DEBUG_SYMBOLS_HINT),
                            detail="no label %s" % t.resume_labels[0])
    return out


def _run_filtered(func, target):
    """Run to the first call of func with Python-filtered call-start breakpoints;
    the frame, and how many call starts it took."""
    bps = _call_start_breakpoints(func)
    stops().last = None
    try:
        resume("continue")
    finally:
        hits = sum(b.hits for b in bps)
        found = next((b.f for b in bps if b.matched), None)
        for b in bps:
            if b.is_valid():
                b.delete()
    if not isinstance(stops().last, gdb.BreakpointEvent) or found is None:
        raise TimelensError("never-called", "%s was never called" % (target or "the main module"),
                            function=target or "")
    return found, hits


def _run_quickening(codes, target):
    """Run to the first call of one of codes, watching the byte of each one's
    RESUME: its first run quickens it in place (RESUME -> RESUME_CHECK)."""
    wps = []
    hits = 0
    try:
        for c in codes:
            wp = gdb.Breakpoint("*(unsigned char *) 0x%x" % (c.base + 2 * c.firsttraceable),
                                gdb.BP_WATCHPOINT, gdb.WP_WRITE, internal=True)
            wp.silent = True
            wps.append(wp)
        for _ in range(100):
            stops().last = None
            hits += 1
            resume("continue")
            if not isinstance(stops().last, gdb.BreakpointEvent):
                break
            f = frames.current_frame()
            ci = frames.code_of(f)
            if ci is not None and any(ci.addr == c.addr for c in codes):
                return f, hits
    finally:
        for wp in wps:
            if wp.is_valid():
                wp.delete()
    raise TimelensError("never-called", "%s was never called" % target, function=target)


def _to_run_main():
    """Phase 1: at full speed to the function that runs the main script. With a
    shared libpython the breakpoints are pending until the library loads."""
    t = None
    if layout.has_interpreter():
        try:
            if frames.current_frame() != 0:
                return
        except (gdb.error, TimelensError):
            pass
        t = layout.get().t
    from .versions import TABLES
    names = t.run_main if t is not None else sorted({n for v in TABLES.values() for n in v.run_main})
    bps = []
    for name in names:
        try:
            b = gdb.Breakpoint(name, internal=True, temporary=True)
            b.silent = True
            bps.append(b)
        except (gdb.error, RuntimeError):
            continue
    if not bps:
        raise TimelensError("no-debug-symbols", "none of %s in this CPython: cannot find where the main script "
                            "starts" % ", ".join(names), detail="no function %s" % names[0])
    stops().last = None
    try:
        resume("continue")
    finally:
        for b in bps:
            if b.is_valid():
                b.delete()
    if not isinstance(stops().last, gdb.BreakpointEvent) or not layout.has_interpreter():
        raise TimelensError("never-called", "the program ended before Python ran its main script "
                            "(is it a Python program?)", function="")
    layout.forget()
    frames.forget()


def record_window(target, limit, seconds=600.0):
    t0 = time.time()
    if memory.inferior().pid == 0:
        raise TimelensError("no-process", "no live process: start it first (e.g. starti)")
    if debugger.record_state()[0] is not None:
        raise TimelensError("bad-argument", "already recording")
    func = None if target == "--main" else target
    moves.WINDOW["end_pc"] = None
    n = 0
    gdb.execute("set pagination off", to_string=True)
    gdb.execute("set may-call-functions off", to_string=True)
    gdb.execute("set breakpoint pending on", to_string=True)
    _to_run_main()
    n += 1
    L = layout.get()
    t1 = time.time()
    hits = 0
    if func is None or frames.current_frame() == 0:
        f, h = _run_filtered(None, None)
        hits += h
        n += 1
    if func is not None:
        codes = []
        outer = frames.python_frames()
        if outer and L.t.resume_quickens:
            resume_op = L.op("RESUME")
            codes = [c for c in find_codes(outer[-1][1].addr, func)
                     if c.firsttraceable < c.n and memory.u8(c.base + 2 * c.firsttraceable) == resume_op]
        if codes and len(codes) <= 3:
            f, h = _run_quickening(codes, target)
        else:
            f, h = _run_filtered(func, target)
        hits += h
        n += h
    t_search = time.time() - t1
    # Phase 3: to the first line event of that frame (a few instructions, live).
    ci = frames.code_of(f)
    gdb.set_convenience_variable("tl_n", 0)
    w = moves._gdb_ip_watch(f, ci, False)
    try:
        n += 1
        resume("continue")
    finally:
        w.delete()
    moves.POST_STORE_PCS.add(moves.pc())
    start_pos = frames.position()
    # Phase 4: record.
    gdb.execute("set record full insn-number-max %d" % int(limit), to_string=True)
    gdb.execute("set record full stop-at-limit on", to_string=True)
    gdb.execute("record full", to_string=True)
    cps = []
    for sc in END_SYSCALLS:
        try:
            out = gdb.execute("catch syscall %s" % sc, to_string=True)
            m = re.search(r"Catchpoint (\d+)", out)
            if m:
                cps.append(int(m.group(1)))
        except gdb.error:
            pass
    # End the window when the outermost Python frame (the main module) returns:
    # interpreter finalization is long and of no interest.
    outer = frames.python_frames()[-1][0]
    cf = frames.current_frame_location()
    wend = moves.MoveWatch(cf.expr, cf.condition([frames.previous(outer)], same_link=True))
    # gdb answers its "log full" query itself when not on a terminal (yes: drop the
    # oldest entries), which would lose the window start. So gdb's own limit is a
    # guard well above LIMIT, and the recording is interrupted every CHECK_SECONDS
    # (SIGINT, which gdb keeps from the program) to compare the log size with LIMIT.
    gdb.execute("set record full insn-number-max %d" % (int(limit) + max(200000, int(limit) // 2)), to_string=True)
    pid = memory.inferior().pid
    t2 = time.time()
    out = ""
    interrupts = 0
    while True:
        timer = threading.Timer(CHECK_SECONDS, lambda: os.kill(pid, signal.SIGINT))
        timer.start()
        stops().last = None
        try:
            out = resume("continue")
        except gdb.error as e:
            out = str(e)
        finally:
            timer.cancel()
        ev = stops().last
        if isinstance(ev, gdb.SignalEvent) and ev.stop_signal == "SIGINT":
            interrupts += 1
            size = debugger.log_size()
            if (size is not None and size >= limit) or time.time() - t2 > seconds:
                break
            continue
        break
    ev = stops().last
    main_returned = isinstance(ev, gdb.BreakpointEvent) and wend in ev.breakpoints
    wend.delete()
    for c in cps:
        gdb.execute("delete %d" % c, to_string=True)
    reason = "stopped"
    if isinstance(ev, gdb.SignalEvent) and ev.stop_signal == "SIGINT":
        size = debugger.log_size()
        reason = ("instruction limit (%d)" % limit) if size is not None and size >= limit \
            else "time limit (%gs)" % seconds
    elif isinstance(ev, gdb.SignalEvent):
        reason = "signal " + ev.stop_signal
    elif main_returned:
        reason = "main module returned"
    elif isinstance(ev, gdb.BreakpointEvent):
        m = re.search(r"syscall (\d+ )?'?([a-z_0-9]+)'?", out)
        reason = "syscall " + (m.group(2) if m else "?")
    elif _REFUSED_SYSCALL.search(out):
        # record full refused it before its catchpoint could stop (gdb 16: clone3).
        reason = "syscall " + syscall_name(int(_REFUSED_SYSCALL.search(out).group(1)))
    elif "stopped by user" in out or "limit" in out:
        reason = "instruction limit"
    t_rec = time.time() - t2
    moves.WINDOW["end_pc"] = moves.pc()
    end_at = end_position() if reason != "main module returned" else None
    ninsn = debugger.log_size()
    low = debugger.lowest_instruction()
    debugger.goto("begin")
    pos = frames.position()
    lost = pos["line"] != start_pos["line"] or pos["frame"] != start_pos["frame"]
    moves.WINDOW.update({"begin_is_event": not lost, "function": start_pos["function"],
                         "frame": start_pos["frame"], "begin": debugger.record_state()[1]})
    if not lost:
        moves.POST_STORE_PCS.add(moves.pc())
    else:
        reason += "; the window start was lost (gdb's log limit was reached)"
    pos.update({"window_end": reason, "window_end_at": end_at, "instructions": ninsn, "lowest_instruction": low,
                "resume_hits": hits, "search_seconds": round(t_search, 3),
                "record_seconds": round(t_rec, 3), "interrupts": interrupts,
                "startup_seconds": round(t2 - t0, 3), "stops": n})
    return pos


# A file of Python's own library (or of an installed package): the program's
# line that led there says more to the user.
_LIBRARY = re.compile(r"/lib/python\d+(\.\d+)?t?/|^<")


def end_position():
    """Where Python was when the recording stopped: the innermost frame in
    the program's own files (threading.py's start() is not what the user
    wrote; the line that called it is), else the innermost frame; None
    without one."""
    fs = frames.python_frames()
    for f, ci in fs:
        if not _LIBRARY.search(ci.filename or "<"):
            break
    else:
        if not fs:
            return None
        f, ci = fs[0]
    return {"file": ci.filename, "line": ci.line_at(frames.ip_index(f, ci)), "function": ci.qualname}


def restored(setup):
    """A window restored from a saved recording (record full restore), where
    time is at its start: setup is the JSON of what record_window found
    (function, frame); the first position is a line event."""
    import json
    moves.WINDOW.update(json.loads(setup))
    debugger.goto("end")
    moves.WINDOW["end_pc"] = moves.pc()
    debugger.goto("begin")
    moves.WINDOW["begin_is_event"] = True
    moves.WINDOW["begin"] = debugger.record_state()[1]
    moves.POST_STORE_PCS.add(moves.pc())
