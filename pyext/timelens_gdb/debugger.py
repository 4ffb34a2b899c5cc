"""The debugger this runs in: gdb (record full), rr (rr replay) or UDB.

The moves are the same gdb watchpoints and (reverse-)continues in all three;
what differs is how to ask the time, how to go back to a time (a refused
move leaves time where it was), how the end of history shows, and how to
find the last change of a location. Those facts live in one place, the
dialect table of the Go side (gdbmi/dialect.go): the backend sends this
package its row (Dialect.GDBSide, as JSON) right after loading it, and
configure() keeps it. Times here are tuples that compare in time order:
gdb's (instruction,), rr's (event, ticks), UDB's (bbcount, pc).
"""

import json
import os
import re

import gdb

from .errors import TimelensError

_SPEC = {}
_RE = {}


def configure(spec):
    """Take the debugger's facts: the JSON of gdbmi's Dialect.GDBSide (or its dict)."""
    if isinstance(spec, str):
        spec = json.loads(spec)
    if spec.get("kind") not in ("gdb", "rr", "udb"):
        raise TimelensError("bad-argument", "unknown debugger %r: valid ones are gdb, rr, udb" % spec.get("kind"))
    _SPEC.clear()
    _SPEC.update(spec)
    _RE.clear()
    _RE.update({name: re.compile(p) for name, p in spec.get("patterns", {}).items()})


def spec():
    if not _SPEC:
        raise TimelensError("internal", "the gdb side was not told which debugger it runs in (-timelens-dialect)")
    return _SPEC


def kind():
    return spec()["kind"]


def console(command):
    """What a CLI command prints, as text."""
    return _text(gdb.execute(command, to_string=True))


def _text(out):
    """gdb 17+ inside an MI command hands back the MI console records
    (~"Replay mode:\\n") of what a command printed instead of the text."""
    if not out.startswith(('~"', '&"', '@"', '^', '*')):
        return out
    text = []
    for line in out.splitlines():
        if line[:2] in ('~"', '@"') and line.endswith('"'):
            try:
                text.append(json.loads(line[1:]))
            except ValueError:
                text.append(line)
    return "".join(text)


def _search(name, text):
    m = _RE[name].search(text) if name in _RE else None
    return m


# gdb 17+ (gdb 18 in the sid root): when an MI command written in Python resumes
# the program with gdb.execute(..., to_string=True), the "^running" result record
# goes into the captured string and gdb prints no result record at all for the
# command (gdb 16 printed ^running), so the MI client never hears back. The first
# resumption of each MI command therefore runs uncaptured under gdb 17+: gdb prints
# ^running as before (and that command's console output goes to the MI stream).
GDB_MAJOR = int(re.match(r"(\d+)", gdb.VERSION).group(1))
_UNCAPTURED = [False]


def begin_mi_command():
    _UNCAPTURED[0] = GDB_MAJOR >= 17


def end_mi_command():
    _UNCAPTURED[0] = False


def resume(cmd):
    """Run a command that resumes the program (continue, stepi, record goto, ...);
    its console output, or "" when it ran uncaptured (see above). `record goto`
    only repositions the replay (gdb says no ^running for it), so it leaves the
    first real resumption to run uncaptured: a command that went to the
    window's start and then continued (line runs) got no result record."""
    before = check_no_live_watchpoint(cmd) if CHECK_LIVE_WATCHPOINTS else None
    if _UNCAPTURED[0] and cmd.split()[:2] != ["record", "goto"]:
        _UNCAPTURED[0] = False
        gdb.execute(cmd, to_string=False)
        out = ""
    else:
        out = _text(gdb.execute(cmd, to_string=True))
    if before is not None:
        check_stayed_in_replay(cmd, before)
    return out


# -- no watchpoint while the program runs live ----------------------------------------
#
# On some machines (AMD EPYC under the PVM hypervisor) hardware watchpoints are
# accepted and never fire while the process runs live, also while record full
# records; gdb's software watchpoints single-step. So nothing timelens does
# may depend on a watchpoint outside record full replay, where record full
# checks every replayed write itself. The test suite holds the gdb side to it
# (TIMELENS_CHECK_LIVE_WATCHPOINTS=1): every resume that would run the process
# live with a watchpoint inserted is refused, and so is a replay that went on
# live past the end of the log with one (gdb 17+ can).

CHECK_LIVE_WATCHPOINTS = os.environ.get("TIMELENS_CHECK_LIVE_WATCHPOINTS") == "1"
_WATCHPOINT_TYPES = tuple(getattr(gdb, n) for n in ("BP_WATCHPOINT", "BP_HARDWARE_WATCHPOINT",
                                                    "BP_READ_WATCHPOINT", "BP_ACCESS_WATCHPOINT")
                          if hasattr(gdb, n))


def watchpoints():
    """The enabled watchpoints, ours (internal) and any other."""
    return [b for b in gdb.breakpoints() if b.is_valid() and b.enabled and b.type in _WATCHPOINT_TYPES]


def _live_watchpoint_error(cmd, wps, what):
    return TimelensError("internal", "%s with %d watchpoint(s) inserted (%s): watchpoints work only in record "
                         "full replay (on some machines hardware watchpoints never fire live)"
                         % (what, len(wps), ", ".join(b.expression or "?" for b in wps[:3])),
                         command=cmd, invariant="no-live-watchpoint")


def check_no_live_watchpoint(cmd):
    """Before a resume: refuse to run the process live with a watchpoint. Returns
    the log size when a forward resume replays with watchpoints (for
    check_stayed_in_replay), else None."""
    if _SPEC.get("kind") != "gdb" or cmd.startswith(("reverse-", "record ")):
        return None  # rr and UDB only replay; reverse execution and record goto only replay
    wps = watchpoints()
    if not wps:
        return None
    if runs_live():
        raise _live_watchpoint_error(cmd, wps, "`%s` would run the program live" % cmd)
    return log_size()


def check_stayed_in_replay(cmd, size_before):
    """After a forward resume that replayed with watchpoints: it recorded
    nothing new (it did not go on live past the end of the log)."""
    wps = watchpoints()
    size = log_size()
    if wps and size is not None and size > size_before:
        raise _live_watchpoint_error(cmd, wps, "`%s` replayed past the end of the log and ran live "
                                     "(%d more instructions)" % (cmd, size - size_before))


class _Stops:
    """The last stop event gdb reported."""

    def __init__(self):
        self.last = None
        gdb.events.stop.connect(self._on_stop)

    def _on_stop(self, ev):
        self.last = ev


_STOPS = []


def stops():
    if not _STOPS:
        _STOPS.append(_Stops())
    return _STOPS[0]


# -- time --------------------------------------------------------------------------

class State(tuple):
    """(replaying, time) with, under rr, the checkpoint taken there (or None).
    replaying is None without a recording, False at gdb's live end; time is a
    tuple that compares in time order (see the module doc)."""
    checkpoint = None


def _console(commands):
    return "".join(console(c) for c in commands)


def parse_time(out):
    """The time the debugger's answer to its time commands says, or None."""
    k = kind()
    if k == "rr":
        t = _search("ticks", out)
        e = _search("event", out)
        if e:
            event = int(e.group(1))
        else:
            e = _search("event_before_5_8", out)
            if not e:
                return None
            event = max(int(e.group(1)) - 1, 0)
        return (event, int(t.group(1))) if t else None
    if k == "udb":
        m = _search("time", out)
        return (int(m.group(1).replace(",", "")), int(m.group(2) or "0", 16)) if m else None
    m = _search("current", out)
    return (int(m.group(1)),) if m else None


def time_string(st):
    """A State's time as the Go side writes it (gdbmi's canonical forms): gdb's
    instruction number, rr's EVENT:TICKS, UDB's BBCOUNT or BBCOUNT:0xPC."""
    t = st[1]
    if t is None:
        raise TimelensError("internal", "the debugger did not say the time")
    k = kind()
    if k == "gdb":
        return "%d" % t[0]
    if k == "rr":
        return "%d:%d" % t
    return "%d:0x%x" % t if t[1] else "%d" % t[0]


def udb_now():
    """UDB's time as (bbcount, pc), or None."""
    return parse_time(_console(spec()["time_commands"]))


_CHECKPOINTS = []  # rr checkpoints this package created and has not deleted


def _take_checkpoint():
    """The id of a new checkpoint here, or None when the debugger refused one."""
    b = spec().get("bookmark")
    try:
        out = console(b["create"])
    except gdb.error:
        return None
    m = re.search(b["id"], out)
    if not m:
        return None
    _CHECKPOINTS.append(m.group(1))
    return m.group(1)


def drop_checkpoints():
    b = _SPEC.get("bookmark")
    while _CHECKPOINTS:
        cp = _CHECKPOINTS.pop()
        try:
            gdb.execute(b["delete"].format(cp), to_string=True)
        except gdb.error:
            pass  # gone already (rr restarted elsewhere): nothing to free


def record_state(mark=False):
    """The State now. mark: where the debugger goes to a time by replaying from
    an earlier point (rr), also take a checkpoint there for restore (the start
    of a move that may have to come back)."""
    sp = spec()
    out = _console(sp["time_commands"])
    if any(no in out for no in sp.get("no_recording", ())):
        return State((None, None))
    t = parse_time(out)
    if sp["kind"] == "gdb":
        if t is None:
            return State((False, None))  # the live end: no current instruction
        return State((True, t))
    if t is None:
        raise TimelensError("internal", "%s did not say the time (%s): %r"
                            % (sp["kind"], ", ".join(sp["time_commands"]), out.strip()[:200]))
    st = State((True, t))
    if mark and sp.get("bookmark"):
        drop_checkpoints()  # a move that ended without the move wrapper (baseline)
        st.checkpoint = _take_checkpoint()
    return st


def replaying():
    """Forward would replay (True) rather than run the process live."""
    if kind() != "gdb":
        return True  # rr and UDB only replay
    return _search("replay", console("info record")) is not None


def runs_live():
    """gdb: a forward resume from here would run the process live: not
    replaying, or (gdb 17+, whose `record goto end` stays in replay mode)
    replaying at the log's last instruction."""
    if kind() != "gdb":
        return False
    info = console("info record")
    if _search("replay", info) is None:
        return True
    cur, high = _search("current", info), _search("highest", info)
    return bool(cur and high and int(cur.group(1)) >= int(high.group(1)))


def _gdb_number(name):
    m = _search(name, console("info record"))
    return int(m.group(1)) if m else None


def lowest_instruction():
    """gdb: the lowest recorded instruction number."""
    return _gdb_number("lowest")


def log_size():
    """gdb: how many instructions the log holds."""
    return _gdb_number("log")


def goto_commands(where):
    """The CLI commands that go to a time of record_state, or to "begin"/"end"."""
    sp = spec()
    if where == "begin":
        return list(sp["start"])
    if where == "end":
        return list(sp["end"])
    if sp.get("goto_no_pc") and len(where) > 1 and not where[1]:
        return [c.format(*where) for c in sp["goto_no_pc"]]
    return [c.format(*where) for c in sp["goto"]]


def goto(where):
    noop = spec().get("goto_noop", ())
    for c in goto_commands(where):
        try:
            resume(c)
        except gdb.error as e:
            if not any(n in str(e) for n in noop):
                raise


def restore(state):
    """Back to the time of state (a move that cannot happen leaves time unchanged)."""
    replaying_, num = state
    cp = getattr(state, "checkpoint", None)
    if cp is not None:
        try:
            resume(spec()["bookmark"]["goto"].format(cp))
            return
        except gdb.error:
            pass  # the checkpoint is gone or rr refused: go back by time
    if replaying_:
        goto(num)
    elif replaying_ is False:
        goto("end")


def end_signal(signal_name, reverse):
    """A signal stop that means the end of history: rr ends a forward replay with a
    synthetic SIGKILL at the debuggee's exit."""
    return not reverse and signal_name in spec().get("end_signals", ())
