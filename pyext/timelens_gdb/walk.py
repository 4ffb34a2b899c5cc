"""The window's line events, walked once for the line index (Go: history.Index).

A walk goes forward from a line event to the end of recorded history and
reports every sys.settrace 'line' event of every frame, in order, each with
the call it belongs to, its line, its depth, and the variables its frame
bound since the previous event of the same call (all of them at the call's
first event in the window), rendered, with their objects' addresses. That is
what inline hints and a line's runs need, so the index answers them without
moving the debugger the user drives: the walk runs in a debugger of its own
over the same recording (a copy of gdb's log, the same rr trace or UDB
recording).

How the events are found is how moves.do_step finds the next one (a
watchpoint on the current frame's position with the line-event rule, one on
where the thread keeps its current frame), but a walk does not stop at an
event: one MI round trip walks many (-timelens-walk next --max N). The frame
watchpoint also tells calls apart (Walk.reconcile): a frame the current frame
went below since the previous event has returned, and another call runs
there now; a generator frame that resumes goes on with the call it began,
across its suspensions, as history's line histories do, unless it began
afresh (frames.fresh: a new generator in the old one's place).

  -timelens-walk start [--event] [--limit C]   the walk begins here (--event: here
                                               is a line event; report it first)
  -timelens-walk next [--max N] [--seconds S]  walk on; at most N events or S seconds

Reply of next: {"calls": [CALL...], "events": [EVENT...], "stores": {file:
{line: [names]}}, "done": bool, "fraction": 0..1 or -1} where CALL is {"id",
"frame", "file", "function", "firstline", "defline", "params", "before"}
(before: the call began before the walk, its entry is not in it) and EVENT is
[time, call id, line, depth, [[name, value or null (unbound), address], ...]].
"""

import time

from . import debugger, frames, moves, state, window_state
from .errors import TimelensError
from .values import DEFAULT_LIMIT, Reader, render

MAX_EVENTS = 500
MAX_SECONDS = 2.0


class _Call:
    """One call in the walk: its id, frame and code, and the address each of
    its variables held at its latest event."""

    __slots__ = ("id", "frame", "code", "vars")

    def __init__(self, cid, frame, code):
        self.id = cid
        self.frame = frame
        self.code = code
        self.vars = {}


class Walk:
    """The state of one walk between its MI commands."""

    def __init__(self, limit):
        self.limit = limit
        self.next_id = 0
        self.live = {}        # frame address -> _Call: the frames on the stack
        self.suspended = {}   # generator frame address -> _Call it goes on with when resumed
        self.depth = 0        # Python frames on the stack, less one
        self.files = set()    # files whose stores were reported
        self.pending = None   # an event to report first (start --event)
        self.tops = []        # (current frame, began afresh) at each frame change since the last event
        self.done = False
        self.begin = self.end = None
        self.calls = []
        self.stores = {}

    # -- calls ---------------------------------------------------------------
    def _new_call(self, f, ci, before):
        r = Reader()
        c = _Call(self.next_id, f, ci.addr)
        self.next_id += 1
        info = {"id": c.id, "frame": "0x%x" % f, "file": ci.filename, "function": ci.qualname,
                "firstline": ci.firstlineno, "before": before}
        facts = state.code_facts(r, ci)
        info["params"], info["defline"] = facts["params"], facts["defline"]
        if ci.filename not in self.files:
            self.files.add(ci.filename)
            self.stores[ci.filename] = facts["stores"]
        self.calls.append(info)
        return c

    def saw_frame_change(self):
        """At a stop of the watchpoint on the current frame: note where it
        points, and whether a frame that is not a live call begins there
        (frames.fresh: a new call, not a generator resuming). On 3.11 and 3.12
        this can be a passing state (a new _PyCFrame's current_frame holds
        what its stack slot held before): the stack is read at the event."""
        f = frames.current_frame()
        fresh = None
        if f and f not in self.live:
            ci = frames.code_of(f)
            fresh = frames.fresh(f, ci) if ci is not None else None
        self.tops.append((f, fresh))

    def reconcile(self, started=None):
        """Bring the model of the stack up to date at a line event, where the
        stack is consistent. A frame of the stack continues its call when it
        ran the same code at the previous event and the current frame did not
        go below it since (it would have returned); a frame that was not on
        the stack is a suspended generator resuming its call, unless it began
        afresh, else a new call. started: at the walk's first event, the frame
        whose call begins there (None: all began before the walk)."""
        chain = frames.python_frames()
        first = self.next_id == 0
        tops = self.tops
        self.tops = []
        outer = set()
        live = {}
        for f, ci in reversed(chain):
            c = self.live.get(f)
            if c is not None and (c.code != ci.addr or any(t in outer for t, _ in tops)):
                c = None  # returned since: the frame holds another call now
            if c is None:
                c = self.suspended.pop(f, None)
                if c is not None and (c.code != ci.addr or any(t == f and fresh for t, fresh in tops)):
                    c = None
            if c is None:
                c = self._new_call(f, ci, before=first and f != started)
            live[f] = c
            outer.add(f)
        for f, c in self.live.items():
            if live.get(f) is not c and frames.is_generator(f):
                self.suspended[f] = c
        self.live = live
        self.depth = len(chain) - 1

    # -- events --------------------------------------------------------------
    def event(self, reconciled=False):
        """The line event at the current position, of the innermost frame."""
        if not reconciled:
            self.reconcile()
        f = frames.current_frame()
        ci = frames.code_of(f)
        c = self.live.get(f)
        if ci is None or c is None:
            raise TimelensError("internal", "walk: the frame at a line event is not on the walk's stack")
        r = Reader()
        changed = []
        seen = set()
        for name, val, _slot, _kind, _tagged in state.shown_variables(r, f, ci, module_dunders=False):
            seen.add(name)
            if c.vars.get(name) != val:
                c.vars[name] = val
                changed.append([name, render(r, val, self.limit), "0x%x" % val])
        for name in [n for n in c.vars if n not in seen]:
            del c.vars[name]
            changed.append([name, None, None])
        return [debugger.time_string(debugger.record_state()), c.id, ci.line_at(frames.ip_index(f, ci)), self.depth, changed]

    def fraction(self):
        """How far the walk is through the window (gdb's instruction numbers), or -1."""
        n = _instruction(debugger.record_state())
        if self.begin is None or self.end is None or n is None or self.end <= self.begin:
            return 1.0 if self.done else -1
        return round(min(max((n - self.begin) / (self.end - self.begin), 0.0), 1.0), 4)

    def batch(self, events):
        out = {"calls": self.calls, "events": events, "stores": self.stores, "done": self.done,
               "fraction": 1.0 if self.done else self.fraction()}
        self.calls, self.stores = [], {}
        return out


_WALK = [None]  # the walk begun (start), of the current process
window_state.on_new_process(lambda: _WALK.__setitem__(0, None))


def start(here_is_event, limit=DEFAULT_LIMIT):
    """Begins a walk at the current position (a line event when here_is_event)."""
    st = debugger.record_state()
    if st[0] is None:
        raise TimelensError("not-recording", "no recording to walk")
    w = Walk(limit)
    if _instruction(st) is not None:
        low = debugger.lowest_instruction()
        size = debugger.log_size()
        w.begin = _instruction(st)
        w.end = (low or 0) + size if size is not None else None
    f = frames.current_frame()
    if not f or frames.code_of(f) is None:
        raise TimelensError("not-found", "no Python frame here: a walk begins at a Python line event")
    started = None
    if here_is_event and window_state.current().starts_in(f):
        started = f  # the window's first event is its first function's first
    w.reconcile(started)
    if here_is_event:
        w.pending = w.event(reconciled=True)
    _WALK[0] = w
    return w.batch([])


def walk_on(max_events=MAX_EVENTS, seconds=MAX_SECONDS):
    """Walks on from where the walk stopped: at most max_events line events or
    about seconds of walking, whichever comes first."""
    w = _WALK[0]
    if w is None:
        raise TimelensError("bad-argument", "no walk begun: -timelens-walk start first")
    events = []
    if w.pending is not None:
        events.append(w.pending)
        w.pending = None
    if w.done:
        return w.batch(events)
    t0 = time.time()
    moves.sweep()
    # The gdb-side filter counts its triggers in $tl_n (moves.gdb_ip_watch).
    moves.reset_counters()
    m = moves.Mover(False)
    try:
        m.arm_cf()
        m.arm_ip(frames.current_frame())
        while len(events) < max_events and time.time() - t0 < seconds:
            what = m.go()
            if what == "ip":
                m.land_ip()
                events.append(w.event())
            elif what == "cf":
                w.saw_frame_change()
                m.arm_ip(frames.current_frame())
            elif what == "edge":
                w.done = True
                break
            else:
                raise TimelensError("interrupted", "walk interrupted (%s)" % what)
    finally:
        m.cleanup()
        moves.sweep()
    return w.batch(events)


def _instruction(st):
    """gdb record full's instruction number of a State, else None (rr, UDB)."""
    return st[1][0] if debugger.kind() == "gdb" and st[1] else None
