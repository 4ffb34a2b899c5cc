"""Run to a line: the next or previous line event at FILE:LINE in any frame
where a condition holds (condition.py), and every run of a line in the
recorded window.

How, with the moves' tools (moves.py) and a filter that keeps the frames
that cannot reach the line out of it:
  * The line belongs to a few code objects, the targets: those whose
    co_filename is FILE and whose line table has a line-event instruction at
    LINE (code.py's table). Each code object's verdict is worked out once.
  * A watchpoint on where the thread keeps its current frame sees every
    frame change (push, pop, yield, resume). Its stop() reads the new frame's
    code and stops only when it is a target run by a frame whose position is
    not watched yet: in all other frames no watchpoint sees an instruction,
    and a loop of 10,000 line events in another function costs about what
    replaying it costs.
  * In a target frame, the frame's position watch stops at a store that is
    a line event at LINE (the rule of code.py, with the instructions a 3.11/
    3.12 superinstruction runs without a store of their own). A frame whose
    address is reused by a new call (a loop calling the target function) is
    recognised by its position field (a resumed frame finds it as it left
    it) and its watch restarted without a stop.
  * There the condition is read from memory. When it holds, the run lands
    as the moves do (reverse: one stepi redoes the store, so both directions
    end on the same machine state); when not, it goes on.
  * The window's first position is a line event whose store is not in the
    recording (moves.window_start_is_event): a reverse run that reaches the
    start lands there when it is at LINE and the condition holds.

A run that finds nothing is a TimelensError "no-run" and time does not
change; so is a line with no code ("no-code") and a condition timelens cannot
evaluate without running code ("bad-condition").
"""

import os
import time

import gdb

from . import condition, debugger, frames, moves, pause, source, window_state
from .code import code_info, is_code, pytuple
from .errors import TimelensError, bad_argument
from .moves import MoveWatch
from .values import DEFAULT_LIMIT, Reader, render

MAX_LINE_RUNS = 10000


class Target:
    """What a run looks for: line (1-based) of file, where cond (a compiled
    condition, or None) holds."""

    def __init__(self, file, line, cond=None):
        self.file = file
        self.real = os.path.realpath(file)
        self.line = line
        self.cond = cond
        self.files = {}    # co_filename -> it is file
        self.codes = {}    # code address -> (CodeInfo, its target instructions)

    def where(self):
        s = "%s:%d" % (os.path.basename(self.file), self.line)
        return s + (" where %s" % self.cond.text if self.cond is not None else "")

    def same_file(self, name):
        hit = self.files.get(name)
        if hit is None:
            hit = bool(name) and not name.startswith("<") and (
                name == self.file or os.path.realpath(name) == self.real)
            self.files[name] = hit
        return hit

    def indices(self, ci):
        """The instructions of code ci that are line events at the line when
        they run (an empty set for code of other lines or files)."""
        got = self.codes.get(ci.addr)
        if got is not None and got[0] is ci:
            return got[1]
        idx = frozenset()
        if self.same_file(ci.filename):
            idx = frozenset(k for k, ln in ci.event_starts() if ln == self.line)
        if len(self.codes) > 100000:
            self.codes.clear()
        self.codes[ci.addr] = (ci, idx)
        return idx

    def of_frame(self, f):
        """The CodeInfo of frame f when it runs a target, else None."""
        ci = frames.code_of(f)
        return ci if ci is not None and self.indices(ci) else None


class LineWatch(moves.IPWatchPy):
    """Frame f's position watchpoint: accepts a store that is a line event at
    the target's line where the condition holds (moves.IPWatchPy's
    bookkeeping). The condition is read in stop() itself: a run of the line
    where it does not hold costs a watchpoint trigger, not a stop of the move
    (reverse, the store is undone then, but the condition reads no position)."""

    def __init__(self, f, ci, runner, skip_first=False):
        self.runner = runner
        self.target = runner.target
        self.idx = self.target.indices(ci)
        self.hit = False
        self.lost = False
        super().__init__(f, ci, runner.reverse, skip_first)

    def restart(self, ci):
        """Watch from the frame's position now (a fresh call of ci)."""
        self.ci = ci
        self.idx = self.target.indices(ci)
        self.other = frames.ip_index(self.f, ci)

    def continues(self):
        """The watched frame is current again as it was left (a return into it,
        a generator resumed): its position field is as last seen."""
        return frames.code_addr(self.f) == self.ci.addr and frames.ip_index(self.f, self.ci) == self.other

    def new_code(self, ci):
        self.idx = self.target.indices(ci)
        self.lost = not self.idx
        return not self.lost

    def accepts(self, i, p):
        if pause.requested():
            self.runner.paused = True
            self.hit = False
            return True
        hit = any(k in self.idx for k in self.ci.crossed(i, p))
        if hit:
            try:
                hit = self.runner.holds(self.f, self.ci)
            except TimelensError as e:
                self.runner.error = e  # the condition cannot be evaluated at all: stop
        self.hit = hit
        return hit


class FrameWatch(moves.Checked, MoveWatch):
    """Every change of the current frame; stop() accepts a frame that runs a
    target and whose position is not watched yet."""

    def __init__(self, runner):
        self.cf = frames.current_frame_location()
        super().__init__(self.cf.expr)
        self.runner = runner
        self.hit = None      # the frame to watch
        self.drop = False    # the watched frame's address now runs other code

    def check(self):
        moves.count_py_stop()
        if moves.at_window_end():
            return True
        if pause.requested():
            self.runner.paused = True
            return True
        # gdb.MemoryError: the new frame is not there yet, no stop (moves.Checked).
        f = self.cf.read()
        w = self.runner.w_ip
        if w is not None and f == w.f:
            if w.continues():
                return False
            ci = self.runner.target.of_frame(f)
            if ci is not None:
                w.restart(ci)  # a new call at the same address: no stop needed
                return False
            self.drop = True
            return True
        if self.runner.target.of_frame(f) is None:
            return False
        self.hit = f
        return True


class Runner(moves.Mover):
    """One run to the target, either way: a move on the moves' engine
    (moves.Mover: its watches in w_ip and w_cf, its resumes, cleanup and
    landing) whose acceptance rule is the run's: a line event at the
    target's line where the condition holds (LineWatch), in frames that
    run a target (FrameWatch)."""

    def __init__(self, target, reverse, state=None):
        super().__init__(reverse, state)
        self.target = target
        self.undecided = 0   # target events where the condition could not be read
        self.why = None
        self.runs = 0        # target events passed
        self.error = None    # a condition that cannot be evaluated (raised by run)

    def watched_code(self, f):
        """Only frames that run a target are watched."""
        return self.target.of_frame(f)

    def ip_watch(self, f, ci, skip):
        return LineWatch(f, ci, self, skip)

    def prepare(self):
        self.w_cf.hit, self.w_cf.drop = None, False
        if self.w_ip is not None:
            self.w_ip.hit = self.w_ip.lost = False

    def snapshot(self):
        return None  # the rule looks at the watches' verdicts only

    def verdict(self, before):
        """'ip' (a target event), 'cf' (a target frame to watch), 'drop' (the
        watched frame is gone) or 'edge'; never resume again."""
        if moves.at_window_end():
            return "edge"
        if self.w_ip is not None and self.w_ip.lost or self.w_cf.drop:
            return "drop"
        if self.w_ip is not None and self.w_ip.hit:
            return "ip"
        if self.w_cf.hit is not None:
            return "cf"
        return "edge"

    def holds(self, f, ci):
        self.runs += 1
        if self.target.cond is None:
            return True
        ok, why = condition.holds(self.target.cond, f, ci)
        if why is not None:
            self.undecided += 1
            self.why = why
        return ok

    def run(self):
        """To the target; True when there, False when the window ended first
        (time is then at that edge)."""
        self.w_cf = FrameWatch(self)
        self.arm_ip(frames.current_frame(), first=True)
        while self.stops < moves.MAX_STOPS:
            what = self.go()
            if what == "paused":
                raise TimelensError("paused", "run to %s paused at the client's request; time unchanged"
                                    % self.target.where())
            if what == "cf":
                self.arm_ip(self.w_cf.hit)
                continue
            if what == "drop":
                if self.w_ip is not None:
                    self.w_ip.delete()
                    self.w_ip = None
                continue
            if self.error is not None:
                raise self.error
            if what == "ip":
                self.land_ip()
                self.cleanup()
                return True
            if what == "edge":
                self.cleanup()
                return False
            raise TimelensError("interrupted", "run to %s interrupted (%s); time unchanged" % (self.target.where(), what))
        raise TimelensError("gave-up", "run to %s gave up after %d stops; time unchanged"
                            % (self.target.where(), self.stops))

    def at_target_now(self):
        """The current position is a line event at the target where the
        condition holds (for the window's first position)."""
        top = frames.visible_frames(complete=True)
        if not top:
            return False
        f, ci = top[0]
        if frames.ip_index(f, ci) not in self.target.indices(ci):
            return False
        return self.holds(f, ci)


def _no_run(target, reverse, r):
    msg = "no %s line event at %s in the recorded window (time unchanged)" % (
        "earlier" if reverse else "later", target.where())
    if r is not None and r.undecided:
        msg += "; the condition could not be decided at %d of the %d runs of the line passed: %s" % (
            r.undecided, r.runs, r.why)
    return TimelensError("no-run", msg, file=target.file, line=target.line,
                         direction="reverse" if reverse else "forward",
                         condition=target.cond.text if target.cond is not None else None,
                         runs=r.runs if r is not None else 0)


def _reach(target, reverse, state, t0):
    """The run itself: a reply at the target, or a TimelensError with time
    back at state."""
    r = Runner(target, reverse, state)
    try:
        if r.run():
            return moves.finish_reply(r, t0)
        if reverse and moves.window_start_is_event(state):
            debugger.goto("begin")
            if r.at_target_now():
                return moves.finish_reply(r, t0, edge_="start")
    except BaseException:  # any way out, a KeyboardInterrupt too: no watch left, time restored, re-raised
        r.cleanup()
        debugger.restore(state)
        raise
    debugger.restore(state)
    raise _no_run(target, reverse, r)


@moves.move
def run_to_line(file, line, reverse, cond_text=None):
    """-timelens-run-to-line: to the next (previous) line event at file:line
    (1-based) where cond_text holds."""
    cond = condition.compile(cond_text) if cond_text else None
    target = Target(file, line, cond)
    check_line(target)
    try:
        t0, state = moves.begin(reverse)
    except TimelensError as e:
        if e.code == "edge":  # at the window's end (start) already: nothing later (earlier)
            raise _no_run(target, reverse, None)
        raise
    return _reach(target, reverse, state, t0)


# -- every run of a line ----------------------------------------------------------

def _describe(target, names, limit):
    """The run of the line now: its time, function, depth, and the values the
    line assigned (names, the names it binds), read at the next line event of
    the same call (none when the call ends first, as in the inline hints)."""
    st = debugger.record_state()
    top = frames.visible_frames(complete=True)
    f, ci = top[0]
    out = {"time": debugger.time_string(st), "function": ci.qualname, "depth": len(top) - 1, "assigned": {}}
    if not names:
        return out
    try:
        moves.do_step("next", False, within=True)
    except TimelensError:
        debugger.goto(st[1])
        return out
    now = frames.visible_frames(complete=True)
    if now:
        r = Reader()
        g, gci = now[0]
        for name, val, _slot, _kind, _tagged in r.frame_variables(g, gci):
            if name in names and name not in out["assigned"]:
                out["assigned"][name] = render(r, val, limit)
    debugger.goto(st[1])
    return out


@moves.move
def line_runs(file, line, limit, value_limit=DEFAULT_LIMIT):
    """-timelens-line-runs: every line event at file:line in the window, oldest
    first (at most limit), each with its time, function, depth and the values
    the line assigned. Time does not change."""
    if limit < 1 or limit > MAX_LINE_RUNS:
        raise bad_argument("--limit must be between 1 and %d, not %d" % (MAX_LINE_RUNS, limit))
    target = Target(file, line)
    check_line(target)
    t0 = time.time()
    state = debugger.record_state(mark=True)
    if state[0] is None:
        raise TimelensError("not-recording", "no recording: record the window first (-timelens-record-window)")
    names = source.stores(file).get(str(line), [])
    runs = []
    resumes = [0]
    more = False

    def next_run(reverse):
        r = Runner(target, reverse)
        found = r.run()
        resumes[0] += r.stops
        return found

    try:
        window = window_state.get()
        if window.begin is not None:
            # gdb record full: from the window's start, whose first position
            # is a run when it is a line event at the line.
            debugger.goto("begin")
            if window.begin_is_event and Runner(target, False).at_target_now():
                runs.append(_describe(target, names, value_limit))
        else:
            # rr and UDB record the whole program, whose start runs no Python
            # yet: the runs before now, found going back, then on from now.
            earlier = []
            while next_run(True):
                earlier.append(debugger.record_state())
            for st in reversed(earlier[-limit:]):
                debugger.goto(st[1])
                runs.append(_describe(target, names, value_limit))
            debugger.restore(state)
            more = len(earlier) > limit
            if not more and Runner(target, False).at_target_now():  # now is a run too
                if len(runs) == limit:
                    more = True
                else:
                    runs.append(_describe(target, names, value_limit))
        while not more:
            if not next_run(False):
                break
            if len(runs) == limit:
                more = True
                break
            runs.append(_describe(target, names, value_limit))
    finally:
        moves.sweep()
        debugger.restore(state)
    return {"file": file, "line": line, "runs": runs, "more": more, "resumes": resumes[0],
            "ms": round((time.time() - t0) * 1000, 1)}


# -- is there code at the line? ------------------------------------------------------

def check_line(target):
    """Refuses a line that has no code, or a file that is no Python source,
    before time moves. Where the file's code is not loaded now (a module
    imported later, module-level or class-body code that has run), the run
    itself decides."""
    if target.line < 1:
        raise bad_argument("line must be 1 or more, not %d" % target.line)
    codes = loaded_codes(target, modules=False)
    if any(target.indices(ci) for ci in codes):
        return
    codes = loaded_codes(target)
    if any(target.indices(ci) for ci in codes):
        return
    try:
        text = source.text(target.file).splitlines()
    except OSError as e:
        if not codes:
            raise TimelensError("no-code", "%s: no code of this file is loaded now, and it cannot be read: %s"
                                % (target.file, e.strerror or e), file=target.file, line=target.line)
        text = None
    if text is not None:
        if target.line > len(text):
            raise TimelensError("no-code", "line %d is past the end of %s (%d lines)"
                                % (target.line, target.file, len(text)), file=target.file, line=target.line)
        src = text[target.line - 1].strip()
        if not src or src.startswith("#"):
            raise TimelensError("no-code", "line %d of %s is %s: no code runs there"
                                % (target.line, os.path.basename(target.file), "blank" if not src else "a comment"),
                                file=target.file, line=target.line)
        if not codes and not target.file.endswith((".py", ".pyw")):
            raise TimelensError("no-code", "%s is not Python source the program has loaded"
                                % target.file, file=target.file, line=target.line)
    # A code object of the file spans the line but has no line event there.
    spans = [ci for ci in codes if _span(ci)[0] <= target.line <= _span(ci)[1]]
    if spans:
        near = sorted({ln for ci in spans for _k, ln in ci.event_starts() if ln > target.line})
        hint = "; the next line that has one is %d" % near[0] if near else ""
        raise TimelensError("no-code", "line %d of %s has no line event: no instruction starts it (a continuation "
                            "line, `else:`, a decorator or the like)%s" % (
                                target.line, os.path.basename(target.file), hint),
                            file=target.file, line=target.line)


def _span(ci):
    """The first and last line of code ci's line events."""
    lines = [ln for _k, ln in ci.event_starts() if ln > 0]
    return (min(lines), max(lines)) if lines else (0, -1)


def loaded_codes(target, modules=True, limit=20000):
    """The code objects of target's file that exist now: the stack's, those
    of the functions and classes of the modules whose __file__ it is (with
    modules), and the code objects nested in them (co_consts)."""
    from . import layout
    L = layout.get()
    r = Reader()
    seen = set()
    out = []
    todo = []
    for f, ci in frames.python_frames():
        todo.append(ci.addr)
    for mod in r.modules() if modules else ():
        d = r.module_namespace(mod)
        if d and target.same_file(r.module_file(d)):
            todo.extend(r.namespace_codes(d))
    while todo and len(seen) < limit:
        co = todo.pop()
        if co in seen or not is_code(co):
            continue
        seen.add(co)
        try:
            ci = code_info(co)
        except (gdb.MemoryError, TimelensError, IndexError, ValueError):
            # A code object being made or freed reads as garbage (opcodes
            # out of the tables, undecodable names): not one to run to.
            continue
        if target.same_file(ci.filename):
            out.append(ci)
        consts = r.mem.ptr(co + L.co_consts)
        if consts:
            todo.extend(o for o in pytuple(consts)[:10000] if is_code(o))
    return out
