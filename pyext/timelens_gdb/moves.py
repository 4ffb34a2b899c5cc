"""Navigation moves: PEP 626 line stepping both ways, entries, calls.

How a line event is found:
  * Every bytecode instruction starts with a store of the frame's position:
    f->f_lasti = INSTR_OFFSET() (3.10), frame->prev_instr = next_instr (3.11,
    3.12), frame->instr_ptr = next_instr (3.13+).
  * Whether instruction i after p of the same frame is a sys.settrace 'line'
    event is code.py's rule, per version.
  * A hardware watchpoint on the current frame's position field applies that
    rule at each store (in a gdb.Breakpoint.stop method, or as a gdb
    expression over a per-code table that gdb evaluates itself); a second
    watchpoint on where the thread keeps its current frame reports frame
    pushes and pops (calls, returns, yields).
  * Forward, a stop is right after the store of the event's instruction.
    Reverse, the store is undone at the stop; one `stepi` redoes it, so both
    directions land on the same machine state.

A move that cannot happen raises a TimelensError (code "edge", "no-call",
"call-ended", ...) and leaves time where it was. A stop() callback that
fails other than on memory not there yet ends its move with code
"stop-failed" and the traceback (Checked).

Every move runs on one engine, Mover (arm_ip, arm_cf, go, land_ip), with
its own acceptance rule (Mover.verdict and the watches it arms): the line
step's here, the run to a line's in runto.Runner. Each move's entry point
is decorated with @move.
"""

import os
import time
import traceback

import gdb

from . import debugger, frames, layout, memory, window_state
from .debugger import resume, stops
from .errors import TimelensError, edge, stop_failed

# Which filter evaluates the per-instruction rule: "python" (a gdb.Breakpoint.stop
# method) or "gdb" (a condition gdb evaluates itself: what an agent-side condition
# in UDB would be). make bench (calls.py, gdb 16.3 record full, CPython 3.13): the
# same triggers (about 7 per line) either way, but a Python callback is the cheaper
# filter; "gdb" hands control to us 3.6x (step) to 16x (next) less often. Versions
# with superinstructions (3.11, 3.12) always use "python": the rule needs the
# opcode in memory at the stop.
FILTER = os.environ.get("TIMELENS_NAV_FILTER", "python")
MAX_STOPS = 1000000
STATS = {"moves": 0, "stops": 0, "internal": 0, "seconds": 0.0}

_PYCOUNT = [0]     # stop() callbacks of this move (count_py_stop)
_LIVE = set()      # every breakpoint/watchpoint a move created, deleted when it ends
_FAILED = []       # a stop() callback's unexpected error in this move (Checked)

_set_var = window_state.set_var
_get_var = window_state.get_var


def count_py_stop(n=1):
    """Counts n stop() callbacks of the current move (its py_stops)."""
    _PYCOUNT[0] += n


def after_store():
    """The pc now is right after a store of a frame's position (the window learns it)."""
    window_state.get().after_store(pc())


def is_after_store():
    """The current instruction's store has just happened (a pc learned by after_store)."""
    return window_state.get().is_after_store(pc())


def pc():
    return int(gdb.parse_and_eval("(unsigned long)$pc"))


def _end_pc():
    """Where the recorded window ends (gdb record full), when the moves must
    watch for it: gdb 17+ replaying forward over a watchpoint whose condition
    (or stop method) declines the stop at the last recorded instruction goes
    on live, recording more, where gdb 16 stopped at the end of the log. So
    from gdb 17 on every filter also accepts that instruction's pc (which
    other times pass through too: a frame pop, often), and the move looks."""
    if debugger.GDB_MAJOR < 17:
        return None
    return window_state.get().end_pc


def at_window_end():
    """Time is at the last instruction gdb recorded (see _end_pc). The end's
    pc alone does not say so: the pop of the main module's frame that ended
    the window runs the same machine code as other frames' pops (a 3.13
    `return None`), so at that pc the instruction number decides."""
    try:
        if not at_end_pc():
            return False
    except gdb.error:
        return False
    st = debugger.record_state()
    if not st[0]:
        return True  # the live end
    low, size = debugger.lowest_instruction(), debugger.log_size()
    return low is None or size is None or st[1][0] >= low + size - 1


def at_end_pc():
    """The pc is the window end's, when the moves watch for it (see _end_pc;
    maybe elsewhere in time: at_window_end)."""
    end = _end_pc()
    return end is not None and pc() == end


def end_guard(condition):
    """A gdb condition that also holds at the window's end's pc (see _end_pc)."""
    end = _end_pc()
    if not condition or end is None:
        return condition
    return "(%s) || $pc == 0x%x" % (condition, end)


def sweep():
    for bp in list(_LIVE):
        if bp.is_valid():
            bp.delete()
    _LIVE.clear()
    del _FAILED[:]


def check_stop_failure(m=None, state=None):
    """Raises the error of a stop() callback that failed during the last
    resume (Checked): the move ends with code "stop-failed", its watchpoints
    gone and, with state, time back where it began."""
    if not _FAILED:
        return
    where, tb = _FAILED[0]
    del _FAILED[:]
    if m is not None:
        m.cleanup()
    sweep()
    if state is not None:
        debugger.restore(state)
    raise stop_failed(where, tb)


def resume_move(cmd, m=None, state=None):
    """One resume of a move whose watchpoints have stop() callbacks; a
    callback's failure ends the move (check_stop_failure)."""
    del _FAILED[:]
    try:
        return resume(cmd)
    finally:
        if _FAILED:
            check_stop_failure(m, state)


class Checked:
    """A watchpoint or breakpoint whose stop() is check(). Memory that is
    not there yet (gdb.MemoryError: a frame half set up, an object being
    built) declines the stop, as check() would; any other error stops, and
    the move that resumed (resume_move, Mover.resume_once) ends with code
    "stop-failed" and the traceback in its detail: a reading bug is said,
    not taken for "no stop here" a million times over."""

    def stop(self):
        try:
            return self.check()
        except gdb.MemoryError:
            return False
        except Exception:  # noqa: BLE001 - any other error ends the move, traceback kept
            _FAILED.append(("%s.stop" % type(self).__name__, traceback.format_exc()))
            return True

    def check(self):
        return True


def move(fn):
    """A move's frame (a decorator): the window of the process now (a new
    process resets it, window_state.current), no watchpoint of an earlier
    failed move left, where the thread keeps its frame read afresh, rr
    checkpoints dropped at the end."""
    def wrapped(*a, **kw):
        window_state.current()
        sweep()
        frames.forget()
        try:
            return fn(*a, **kw)
        finally:
            sweep()
            debugger.drop_checkpoints()
    wrapped.__name__ = fn.__name__
    wrapped.__doc__ = fn.__doc__
    return wrapped


class MoveWatch(gdb.Breakpoint):
    """An internal, silent write watchpoint on the C lvalue expr, which the move
    that made it deletes (or sweep, if the move failed)."""

    def __init__(self, expr, condition=None):
        super().__init__(expr, gdb.BP_WATCHPOINT, gdb.WP_WRITE, internal=True)
        _LIVE.add(self)
        self.silent = True
        condition = end_guard(condition)
        if condition:
            self.condition = condition

    def delete(self):
        _LIVE.discard(self)
        if self.is_valid():
            super().delete()


class GenStateWatch(Checked, MoveWatch):
    """Watch generator frame f's state; stop() accepts a state for which
    want(state) holds, read as memory is at the stop (forward: after the
    store; reverse: before it, the store being undone)."""

    def __init__(self, f, want):
        self.addr = frames.gen_state_addr(f)
        super().__init__("*(signed char *) 0x%x" % self.addr)
        self.want = want
        self.hit = False
        self.count = 0

    def check(self):
        self.count += 1
        if at_window_end():
            return True
        st = memory.i8(self.addr)  # gdb.MemoryError: not there yet, no stop (Checked)
        if self.want(st):
            self.hit = True
            return True
        return False


def gen_created():
    return lambda st: st == frames.frame_state("FRAME_CREATED")


def gen_done():
    done = frames.frame_state(layout.get().t.gen_done_state)
    return lambda st: st >= done


def gdb_ip_watch(f, ci, reverse):
    """Frame f's position watchpoint with the line-event rule as a gdb condition
    over ci's table (code.py): gdb evaluates it without calling Python."""
    t = ci.ensure_gdb_table()
    cf = frames.current_frame_location()
    idx = frames.ip_index_expr(f, ci)
    ok = lambda v: "(%s >= -1 && %s < %d)" % (v, v, ci.n)
    last = lambda p: "(%s <= %d ? 0 : %s[%s])" % (p, ci.ft, t, p)
    ev = lambda i, p: ("(%s >= 0 && (%s[%s] & 4) != 0 && (%s < 0 || (%s[%s] & 8) == 0) && "
                       "((%s[%s] >> 4) != (%s >> 4) || (%s & 1) != 0 || ((%s[%s] & 2) != 0 && %s < %s)))"
                       % (i, t, i, p, t, p, t, i, last(p), last(p), t, i, i, p))
    guard = cf.condition([f])
    if not reverse:
        _set_var("tl_p", frames.ip_index(f, ci))
        cond = ("($tl_n = $tl_n + 1), ($tl_i = %s), ($tl_h = (%s && %s && %s && %s)), ($tl_p = $tl_i), $tl_h"
                % (idx, guard, ok("$tl_i"), ok("$tl_p"), ev("$tl_i", "$tl_p")))
    else:
        cond = ("($tl_n = $tl_n + 1), ($tl_i = %s), ($tl_h = (%s && %s && %s && %s)), ($tl_w = $tl_i), $tl_h"
                % (idx, guard, ok("$tl_w"), ok("$tl_i"), ev("$tl_w", "$tl_i")))
    return MoveWatch(frames.ip_watch_expr(f), cond)


class IPWatchPy(Checked, MoveWatch):
    """Frame f's position watchpoint with the line-event rule in a stop() method.
    Subclasses choose which line events stop (accepts) and which code the
    frame may run (new_code): runto.LineWatch."""

    def __init__(self, f, ci, reverse, skip_first=False):
        super().__init__(frames.ip_watch_expr(f))
        self.f = f
        self.ci = ci
        self.base = frames.code_base(f, ci)
        self.cf = frames.current_frame_location()
        self.reverse = reverse
        # forward: the previous instruction; reverse: the instruction whose store
        # the next trigger undoes (None: skip it, it is the store we are right after).
        self.other = None if skip_first else frames.ip_index(f, ci)

    def check(self):
        count_py_stop()
        if at_window_end():
            return True
        try:
            if frames.code_addr(self.f) != self.ci.addr:
                # The frame was set up again for other code at the same address:
                # a 3.11/3.12 C-level call can leave its new _PyCFrame holding the
                # address of an older frame that the new one reuses, so the move
                # armed this watch before the frame's code was stored.
                ci = frames.code_of(self.f)
                if ci is None:
                    return False
                if not self.new_code(ci):
                    return True
                self.ci = ci
                self.other = -1 if not self.reverse else None
            cur = frames.ip_index(self.f, self.ci)
            if self.cf.read() != self.f:
                self.other = cur
                return False
        except gdb.MemoryError:
            return False
        if self.other is None:
            hit = False
        elif self.reverse:
            hit = self.accepts(self.other, cur)
        else:
            hit = self.accepts(cur, self.other)
        self.other = cur
        if hit:
            _set_var("tl_h", 1)
        return hit

    def accepts(self, i, p):
        """Instruction i run after p (in time order) stops the move: a line event."""
        return self.ci.crossed_event(i, p)

    def new_code(self, ci):
        """The frame now runs code ci (its address reused): watch on (True) or
        stop (False) for the move to decide."""
        return True


class Mover:
    """One navigation move: a loop of (reverse-)continue over two watchpoints,
    one on the position of the frame the move follows (arm_ip) and one on
    where the thread keeps its current frame (arm_cf). This is the engine
    every move runs on; what a stop means is the move's acceptance rule
    (verdict), with which code a frame's position is watched (watched_code,
    ip_watch) and what is reset before each resume (prepare). This class's
    rule is the line step's: any line event of the followed frame, a frame
    change arm_cf wants. runto.Runner's is a run to a line.

    state: where time goes back to when the move fails (begin's), or None."""

    def __init__(self, reverse, state=None):
        self.reverse = reverse
        self.state = state
        self.stops = 0
        self.w_ip = None
        self.w_cf = None
        self.ip_frame = None
        self.cf_want = None
        self.cf_links = None
        self.paused = False  # a rule's stop() saw the client's pause (pause.py)

    def cleanup(self):
        for w in (self.w_ip, self.w_cf):
            if w is not None:
                w.delete()
        self.w_ip = self.w_cf = None

    def arm_ip(self, f, first=False):
        """Watch frame f's position (when the rule watches its code); first: at
        the move's start, where a reverse move skips the store it is right after."""
        if self.w_ip is not None:
            self.w_ip.delete()
            self.w_ip = None
        self.ip_frame = None
        ci = self.watched_code(f)
        if ci is None:
            return
        skip = bool(self.reverse and first and is_after_store())
        self.w_ip = self.ip_watch(f, ci, skip)
        self.ip_frame = f

    def watched_code(self, f):
        """The code of frame f whose position the move watches, or None (the
        frame is passed through): the step's, any code with a source file."""
        ci = frames.code_of(f)
        return ci if ci is not None and ci.has_source else None

    def ip_watch(self, f, ci, skip):
        """The position watchpoint of frame f running ci (skip: the store we
        are right after does not count)."""
        if FILTER == "python" or ci.fusable is not None:
            return IPWatchPy(f, ci, self.reverse, skip)
        if self.reverse:
            # -2: skip the store we are right after (no instruction has that index)
            _set_var("tl_w", -2 if skip else frames.ip_index(f, ci))
        return gdb_ip_watch(f, ci, self.reverse)

    def arm_cf(self, want=None):
        """Watch frame pushes/pops; with want (a frame's `previous`), only the frame's
        own pop (forward) or push (reverse)."""
        if self.w_cf is not None:
            self.w_cf.delete()
        cf = frames.current_frame_location()
        self.cf_links = None
        if want is None:
            self.cf_want = None
            self.w_cf = MoveWatch(cf.expr)
            return
        if not want:
            # No frame under this one (the outermost's pop): a current frame of 0
            # must be this evaluation's, not a _PyCFrame just pushed whose
            # current_frame still holds 0 (3.11, 3.12: CurrentFrame.links).
            self.cf_links = cf.links()
        wants = [want]
        if self.reverse and want and frames.is_shim(want):
            # A frame entered from C: the evaluator links it to its C-stack entry
            # frame but switches the current frame straight from the caller to it,
            # so before the push the current frame is the entry frame's `previous`.
            wants.append(frames.previous(want))
        self.cf_want = set(wants)
        # Conditional frame-change stops are counted in $tl_n like the ip ones.
        self.w_cf = MoveWatch(cf.expr, "($tl_n = $tl_n + 1), (%s)" % cf.condition(wants, same_link=self.cf_links is not None))

    def go(self):
        """Resume until the rule accepts a stop: 'ip', 'cf', 'edge' or 'signal'
        (runto.Runner's rule also 'drop'), or 'paused' (the client's pause)."""
        before = self.snapshot()
        while True:
            if not self.reverse and not debugger.replaying():
                # At the end of the recorded history a forward resume would run the
                # process live (and record more, or let it exit): never do that while
                # navigating.
                return "edge"
            self.prepare()
            ev = self.resume_once()
            if self.paused:
                return "paused"
            if isinstance(ev, gdb.BreakpointEvent):
                what = self.verdict(before)
                if what is None:
                    continue
                return what
            if isinstance(ev, gdb.SignalEvent) and not debugger.end_signal(ev.stop_signal, self.reverse):
                return "signal"
            return "edge"

    def snapshot(self):
        """What verdict compares a stop with: the current frame when go began."""
        return frames.current_frame()

    def prepare(self):
        """Before a resume: the ip watch's verdict cleared."""
        _set_var("tl_h", 0)

    def verdict(self, before):
        """At a watchpoint stop (before: snapshot's, when go began):
        'ip', 'cf', 'edge', or None to resume again.

        Under record full gdb cannot tell which watchpoint fired, and the
        event lists every watchpoint it checked (also at the end of
        history): decide from memory. The ip watchpoint leaves $tl_h = 1
        when it accepted; a frame change shows in the current frame."""
        now = frames.current_frame()
        if self.w_ip is not None and now == self.ip_frame and _get_var("tl_h") == 1:
            return "ip"
        if self.w_cf is not None and now != before and (self.cf_want is None or now in self.cf_want) \
                and frames.current_frame_location().link_in(self.cf_links):
            return "cf"
        if at_end_pc() and not at_window_end():
            return None  # a conditional watch's end guard, at another time: on
        return "edge"

    def resume_once(self):
        """One (reverse-)continue, counted; gdb's stop event (None: no stop event)."""
        stops().last = None
        self.stops += 1
        resume_move("reverse-continue" if self.reverse else "continue", self, self.state)
        return stops().last

    def land_ip(self):
        """At an ip watchpoint stop: make the machine state the forward one."""
        if self.reverse:
            self.cleanup()
            self.stops += 1
            resume("stepi")
        after_store()


def window_start_is_event(state):
    """True when the recording's first position is a line event and we are later."""
    w = window_state.get()
    if not w.begin_is_event:
        return False
    replaying, num = state
    return not (replaying and num is not None and num == w.begin)


def check_replayable(reverse):
    state = debugger.record_state(mark=True)
    if state[0] is None:
        raise TimelensError("not-recording", "no recording: record the window first (-timelens-record-window)")
    if not reverse and not state[0]:
        raise edge(False, "no later line event")
    return state


def finish_reply(m, t0, edge_=None):
    pos = frames.position()
    trig = _get_var("tl_n") or 0
    n_int = trig + _PYCOUNT[0]
    pos.update({"edge": edge_, "stops": m.stops + _PYCOUNT[0], "resumes": m.stops,
                "py_stops": _PYCOUNT[0], "gdb_triggers": trig, "internal_stops": n_int,
                "ms": round((time.time() - t0) * 1000, 1)})
    STATS["moves"] += 1
    STATS["stops"] += m.stops
    STATS["internal"] += n_int
    STATS["seconds"] += time.time() - t0
    return pos


def refuse(m, state, code, message, **fields):
    """Ends a move that cannot happen: its watchpoints gone, time back where it began."""
    m.cleanup()
    debugger.restore(state)
    return TimelensError(code, message, **fields)


def reset_counters():
    """The stop counters of a move: gdb's ($tl_n, which the gdb-side filters
    count their triggers in) and the stop() callbacks'."""
    _set_var("tl_n", 0)
    _PYCOUNT[0] = 0


def begin(reverse):
    """A move's start: its clock, the state a refused move goes back to
    (check_replayable), the stop counters reset."""
    t0 = time.time()
    state = check_replayable(reverse)
    reset_counters()
    return t0, state


def _start(reverse):
    t0, state = begin(reverse)
    return t0, state, Mover(reverse, state)


@move
def do_step(kind, reverse, within=False):
    """A step, next or finish, either way. within (next only): stay within the current
    call, refusing the move when the call ends first instead of going on to the caller."""
    if kind not in ("step", "next", "finish"):
        raise TimelensError("bad-argument", "step kind must be step, next or finish, not %r" % kind)
    t0, state, m = _start(reverse)
    f0 = frames.current_frame()
    if kind != "step":
        # Inside code without a source file (after a last-write search landed
        # there): next and finish are those of the frame the user sees.
        shown = frames.visible_frames(f0)
        if shown:
            f0 = shown[0][0]
    mode = kind
    fprev = frames.previous(f0) if f0 else 0
    gen_end = None
    try:
        if mode == "step":
            m.arm_cf()
            m.arm_ip(f0, first=True)
        elif mode == "next" and frames.is_generator(f0):
            # A generator's or coroutine's call spans its suspensions: next over a
            # yield or an await stays in it, to where it resumes (as pdb's next does);
            # only the end of the call (reverse: its start) leads out to the caller.
            gen_end = GenStateWatch(f0, gen_created() if reverse else gen_done())
            m.arm_ip(f0, first=True)
        elif mode == "next":
            m.arm_cf(fprev)
            m.arm_ip(f0, first=True)
        else:  # finish
            if frames.code_of(f0) is None:
                raise TimelensError("not-found", "no Python frame to finish")
            m.arm_cf(fprev)
        while m.stops < MAX_STOPS:
            what = m.go()
            if gen_end is not None and gen_end.hit:
                # The generator's call ended (reverse: we are just before its first
                # resumption): out to the caller, as at a frame's end.
                count_py_stop(gen_end.count)
                gen_end.delete()
                gen_end = None
                what = "cf"
            if what == "ip":
                m.land_ip()
                return finish_reply(m, t0)
            if what == "cf":
                if within and mode == "next":
                    raise refuse(m, state, "call-ended", "the call returned: it has no later line event (time unchanged)")
                if mode == "finish":
                    top = frames.python_frames()
                    if top and top[0][1].has_source:
                        return finish_reply(m, t0)
                    # Returned to C with no Python frame left: keep going to an event.
                if mode in ("next", "finish"):
                    # The frame ended (or, reverse, began): pdb semantics, continue as step.
                    mode = "step"
                    m.arm_cf()
                m.arm_ip(frames.current_frame())
                continue
            if what == "edge":
                m.cleanup()
                if reverse and kind != "finish" and window_start_is_event(state):
                    # The first position of a recorded window is a line event (its
                    # store is just before the recording began).
                    debugger.goto("begin")
                    return finish_reply(m, t0, edge_="start")
                debugger.restore(state)
                raise edge(reverse, "no %s line event" % ("earlier" if reverse else "later")
                           if kind != "finish" else "the frame does not %s in the recording"
                           % ("begin" if reverse else "return"))
            raise refuse(m, state, "interrupted", "move interrupted (%s); time unchanged" % what)
        raise refuse(m, state, "gave-up", "move gave up after %d stops; time unchanged" % m.stops)
    finally:
        m.cleanup()
        if gen_end is not None:
            count_py_stop(gen_end.count)
            gen_end.delete()


def step_to_first_event(m, t0, state, what):
    """From just before/after a frame push, forward to the next line event (the entry)."""
    m.cleanup()
    m.reverse = False
    m.arm_cf()
    m.arm_ip(frames.current_frame())
    while True:
        w = m.go()
        if w == "ip":
            m.land_ip()
            m.cleanup()
            return finish_reply(m, t0)
        if w == "cf":
            m.arm_ip(frames.current_frame())
            continue
        raise refuse(m, state, "edge", "no line event after the start of %s (time unchanged)" % what, edge="end")


def _began_before_window(m, t0, state, f0):
    """The current call began before the recording: its first line event is the
    window's first position when the window starts in this frame."""
    debugger.restore(state)
    if window_state.get().starts_in(f0):
        debugger.goto("begin")
        return finish_reply(m, t0, edge_="start")
    raise TimelensError("edge", "the current call began before the recorded history", edge="start")


@move
def do_goto_entry():
    """First line event of the current call of the current frame (a generator's or
    coroutine's call began at its first resumption)."""
    f0 = frames.current_frame()
    if frames.code_of(f0) is None:
        raise TimelensError("not-found", "no Python frame")
    t0, state, m = _start(True)
    try:
        if frames.is_generator(f0):
            return _goto_gen_start(m, t0, state, f0)
        m.arm_cf(frames.previous(f0))
        what = m.go()
        m.cleanup()
        if what != "cf":
            return _began_before_window(m, t0, state, f0)
        # Just before the push of the frame: the next line event is the entry.
        return step_to_first_event(m, t0, state, "the call")
    finally:
        m.cleanup()


def _goto_gen_start(m, t0, state, f0):
    """The call of a generator or coroutine spans its resumptions: back to just before
    the first one (the store that ends FRAME_CREATED), then on to its first line event."""
    w = GenStateWatch(f0, gen_created())
    m.stops += 1
    try:
        resume_move("reverse-continue", m, state)
    finally:
        hit, n = w.hit, w.count
        w.delete()
    count_py_stop(n)
    if not hit:
        return _began_before_window(m, t0, state, f0)
    m.reverse = False
    m.arm_ip(f0)
    what = m.go()
    if what == "ip":
        m.land_ip()
        m.cleanup()
        return finish_reply(m, t0)
    raise refuse(m, state, "edge", "no line event after the start of the call (time unchanged)", edge="end")


def do_frame_next():
    """Forward to the next line event of the current frame's call: next, which follows a
    generator or coroutine across its suspensions, except that when the call returns
    first it is an error and time does not change."""
    return do_step("next", False, within=True)


def matches(ci, func):
    return ci is not None and ci.has_source and (ci.qualname == func or ci.name == func)


def creates_generator(f, ci):
    """f is the frame that only creates a generator object (3.11+: a generator
    function's code runs first in a thread-owned frame, RETURN_GENERATOR)."""
    return bool(ci.flags & layout.get().t.CO_GENERATOR_FLAGS) and not frames.is_generator(f)


class CallWatch(Checked, MoveWatch):
    """Current-frame watchpoint whose stop() accepts the start of a call of FUNC."""

    def __init__(self, func, reverse):
        self.cf = frames.current_frame_location()
        super().__init__(self.cf.expr)
        self.func = func
        self.reverse = reverse
        self.last = self.cf.read()
        self.count = 0
        self.matched = False

    def check(self):
        self.count += 1
        if at_window_end():
            return True
        # gdb.MemoryError: the new frame is not there yet, no stop (Checked).
        now = self.cf.read()
        # Forward: the new frame is in memory now. Reverse: the undone store wrote
        # the value seen at the previous stop.
        f = self.last if self.reverse else now
        self.last = now
        ci = frames.code_of(f)
        if not matches(ci, self.func) or creates_generator(f, ci):
            return False
        self.matched = frames.fresh(f, ci)
        return self.matched


def _add_py_stops(r, n):
    """Counts n more stop() callbacks (the call search's) in reply r."""
    for k in ("stops", "py_stops", "internal_stops"):
        r[k] += n


@move
def do_call(direction, func):
    if direction not in ("previous", "next"):
        raise TimelensError("bad-argument", "-timelens-call previous|next FUNC")
    reverse = direction == "previous"
    t0, state, m = _start(reverse)
    start = state[1] if state[0] else None
    internal = 0
    try:
        while True:
            if not reverse and not debugger.replaying():
                matched = False
            else:
                cw = CallWatch(func, reverse)
                m.stops += 1
                try:
                    resume_move("reverse-continue" if reverse else "continue", m, state)
                finally:
                    internal += cw.count
                    matched = cw.matched
                    cw.delete()
            if not matched:
                wf = window_state.get().function
                if reverse and window_state.get().begin_is_event and wf is not None \
                        and (wf == func or wf.rsplit(".", 1)[-1] == func) and window_start_is_event(state):
                    debugger.goto("begin")
                    r = finish_reply(m, t0, edge_="start")
                    _add_py_stops(r, internal)
                    return r
                debugger.restore(state)
                raise TimelensError("no-call", "%s of recorded history: no %s call of %s (time unchanged)"
                                    % ("start" if reverse else "end", direction, func),
                                    function=func, direction=direction)
            # Forward: just after the push. Reverse: just before it. Either way the next
            # line event is the first line of the call.
            push = debugger.record_state()
            r = step_to_first_event(m, t0, state, "the call of %s" % func)
            if reverse and start is not None:
                now = debugger.record_state()[1]
                if now is not None and now >= start:
                    # That was the call we are in (or at): search on before its start.
                    m = Mover(True, state)
                    m.stops = r["resumes"]
                    debugger.restore(push)
                    continue
            _add_py_stops(r, internal)
            return r
    finally:
        m.cleanup()


# The measuring baseline (not for navigation): the article's "stepping bytecodes"
# (a breakpoint in the interpreter's dispatch loop, one debugger stop per bytecode
# instruction; a line step = bytecode steps until the line changes) on a computed-goto
# build, which has no single dispatch point: an unconditional watchpoint on the current
# frame's position stops at every bytecode (every instruction starts with that store),
# and one on the current frame at every frame change (to follow calls, as the dispatch
# breakpoint does); Python decides at each stop.
@move
def baseline_step(kind, reverse):
    """One stop per bytecode of every frame (and per frame change) until the next/
    previous line event (step), or of the same activation (next; pdb's rule when the
    activation ends first, as in do_step). Reply: the position, stops, ms."""
    if kind not in ("step", "next"):
        raise TimelensError("bad-argument", "the baseline steps step or next, not %r" % kind)
    t0 = time.time()
    n = 0
    st = check_replayable(reverse)
    wcf = MoveWatch(frames.current_frame_location().expr)
    wip = None
    f = frames.current_frame()
    f0prev = frames.previous(f) if f else 0
    f0 = f
    mode = kind
    ci = frames.code_of(f)
    prev = frames.ip_index(f, ci) if ci else None
    if reverse and is_after_store():
        prev = None  # skip the store we are right after
    try:
        while True:
            if wip is None and ci is not None:
                wip = MoveWatch(frames.ip_watch_expr(f))
            if not reverse and not debugger.replaying():
                debugger.restore(st)
                raise edge(False, "no later line event")
            stops().last = None
            n += 1
            resume_move("reverse-continue" if reverse else "continue", state=st)
            if not isinstance(stops().last, gdb.BreakpointEvent):
                debugger.restore(st)
                raise edge(reverse, "no %s line event" % ("earlier" if reverse else "later"))
            cur = frames.current_frame()
            if cur != f:
                if wip is not None:
                    wip.delete()
                    wip = None
                if mode == "next" and cur == f0prev:
                    mode = "step"  # the activation ended (forward) or began (reverse)
                f = cur
                ci = frames.code_of(f)
                prev = frames.ip_index(f, ci) if ci else None
                continue
            if ci is None:
                continue
            i = frames.ip_index(f, ci)
            hit = prev is not None and (ci.crossed_event(prev, i) if reverse else ci.crossed_event(i, prev))
            prev = i
            if hit and (mode == "step" or f == f0):
                if reverse:
                    wcf.delete()
                    wip.delete()
                    wip = None
                    n += 1
                    resume("stepi")
                after_store()
                pos = frames.position()
                pos.update({"edge": None, "stops": n, "resumes": n, "py_stops": 0,
                            "gdb_triggers": 0, "internal_stops": 0,
                            "ms": round((time.time() - t0) * 1000, 1)})
                return pos
    finally:
        wcf.delete()
        if wip is not None:
            wip.delete()

