"""The debugger this runs in: gdb (record full), rr (rr replay) or UDB.

The moves are the same gdb watchpoints and (reverse-)continues in all three;
what differs is how to ask the time, how to go back to a time (a refused
move leaves time where it was), how the end of history shows, and how to
find the last change of a location. The Go backend names the debugger with
-timelens-dialect right after loading this package (gdbmi/dialect.go holds
the same facts for the Go side).

Sources: rr src/DebuggerExtensionCommand.cc ("when": "Completed event: N"
(5.8+) or "Current event: N+1" (before 5.8); "when-ticks"; "checkpoint":
"Checkpoint N at WHERE"; "delete checkpoint N"), src/launch_debugger.cc
("run EVENT" restarts at the first stop after event EVENT; "seek-ticks T";
"restart N" seeks to checkpoint N), src/GdbServer.cc (a forward replay ends
with a synthetic SIGKILL at the debuggee's exit); UDB: docs.undo.io
TimeNotation.html ("info time": "Current time is: 11,571:0x5555555552df (in
recorded range: [1 - 228,443])"; "ugo time BBCOUNT:0xPC"), Undo's "last
EXPRESSION" (the most recent change of a value).
"""

import re

import gdb

from .errors import TimelensError

KINDS = ("gdb", "rr", "udb")
_KIND = ["gdb"]

_RR_EVENT = re.compile(r"Completed event: (\d+)")
_RR_EVENT_OLD = re.compile(r"Current event: (\d+)")
_RR_TICK = re.compile(r"Current tick: (\d+)")
_RR_CHECKPOINT = re.compile(r"Checkpoint (\d+) at")
_UDB_TIME = re.compile(r"Current time is: ([0-9,]+)(?::(0x[0-9a-fA-F]+))?")
_GDB_INSN = re.compile(r"Current instruction number is (\d+)")
_GDB_LOWEST = re.compile(r"Lowest recorded instruction number is (\d+)")
_GDB_LOG = re.compile(r"Log contains (\d+) instructions")

# Undo's command that goes back to the last change of a value.
UDB_LAST = "last"


def set_kind(kind):
    if kind not in KINDS:
        raise TimelensError("bad-argument", "unknown debugger %r: valid ones are %s" % (kind, ", ".join(KINDS)))
    _KIND[0] = kind


def kind():
    return _KIND[0]


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
    its console output, or "" when it ran uncaptured (see above)."""
    if _UNCAPTURED[0]:
        _UNCAPTURED[0] = False
        gdb.execute(cmd, to_string=False)
        return ""
    return gdb.execute(cmd, to_string=True)


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
    replaying is None without a recording, False at gdb's live end; time is
    comparable: gdb's instruction number, rr's (event, ticks), UDB's (bbcount, pc)."""
    checkpoint = None


def rr_time(out):
    """rr's (event, ticks) from the output of `when` and `when-ticks`, or None:
    5.8+ says the completed event N, older versions the current one, N+1."""
    t = _RR_TICK.search(out)
    e = _RR_EVENT.search(out)
    if e:
        event = int(e.group(1))
    else:
        e = _RR_EVENT_OLD.search(out)
        if not e:
            return None
        event = max(int(e.group(1)) - 1, 0)
    return (event, int(t.group(1))) if t else None


def udb_time(out):
    m = _UDB_TIME.search(out)
    return (int(m.group(1).replace(",", "")), int(m.group(2) or "0", 16)) if m else None


def udb_now():
    """UDB's time as (bbcount, pc), or None."""
    return udb_time(gdb.execute("info time -a", to_string=True))


_CHECKPOINTS = []  # rr checkpoints this package created and has not deleted


def _take_checkpoint():
    """The id of a new rr checkpoint here, or None when rr refused one."""
    try:
        out = gdb.execute("checkpoint", to_string=True)
    except gdb.error:
        return None
    m = _RR_CHECKPOINT.search(out)
    if not m:
        return None
    _CHECKPOINTS.append(m.group(1))
    return m.group(1)


def drop_checkpoints():
    while _CHECKPOINTS:
        try:
            gdb.execute("delete checkpoint " + _CHECKPOINTS.pop(), to_string=True)
        except gdb.error:
            pass  # gone already (rr restarted elsewhere): nothing to free


def record_state(mark=False):
    """The State now. mark: under rr, also take a checkpoint there for restore
    (the start of a move that may have to come back)."""
    d = _KIND[0]
    if d == "rr":
        out = gdb.execute("when", to_string=True) + gdb.execute("when-ticks", to_string=True)
        t = rr_time(out)
        if t is None:
            raise TimelensError("internal", "rr did not say the time (when, when-ticks): %r" % out.strip()[:200])
        st = State((True, t))
        if mark:
            drop_checkpoints()  # a move that ended without the move wrapper (baseline)
            st.checkpoint = _take_checkpoint()
        return st
    if d == "udb":
        out = gdb.execute("info time -a", to_string=True)
        t = udb_time(out)
        if t is None:
            raise TimelensError("internal", "UDB did not say the time (info time -a): %r" % out.strip()[:200])
        return State((True, t))
    out = gdb.execute("info record", to_string=True)
    if "No recording is currently active" in out or "No record target" in out:
        return State((None, None))
    m = _GDB_INSN.search(out)
    if m:
        return State((True, int(m.group(1))))
    return State((False, None))


def replaying():
    """Forward would replay (True) rather than run the process live."""
    if _KIND[0] != "gdb":
        return True  # rr and UDB only replay
    return "Replay mode" in gdb.execute("info record", to_string=True)


def info_record(pattern):
    """A number `info record` says (gdb), or None."""
    m = pattern.search(gdb.execute("info record", to_string=True))
    return int(m.group(1)) if m else None


def lowest_instruction():
    return info_record(_GDB_LOWEST)


def log_size():
    return info_record(_GDB_LOG)


def goto_commands(where):
    """The CLI commands that go to a time of record_state (or gdb's "begin"/"end")."""
    d = _KIND[0]
    if d == "rr":
        return ["run %d" % where[0], "seek-ticks %d" % where[1]]
    if d == "udb":
        return ["ugo time %d:0x%x" % where if where[1] else "ugo time %d" % where[0]]
    return ["record goto %s" % where]


def goto(where):
    for c in goto_commands(where):
        try:
            resume(c)
        except gdb.error as e:
            if "Already at target" not in str(e):
                raise


def restore(state):
    """Back to the time of state (a move that cannot happen leaves time unchanged)."""
    replaying_, num = state
    cp = getattr(state, "checkpoint", None)
    if cp is not None:
        try:
            resume("restart " + cp)
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
    return not reverse and _KIND[0] == "rr" and signal_name == "SIGKILL"
