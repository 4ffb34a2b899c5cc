# Runs in a gdb (any gdb with Python; no process needed) after loading the gdb side:
#   gdb -nx -batch -ex 'python import sys; sys.path.insert(0, "pyext"); import timelens_gdb' \
#       -ex 'python TL_TRANSCRIPTS=[...]; TL_DIALECTS={kind: gdbmi Dialect.GDBSide JSON}' -x dialect_check.py
# The gdb side's debugger layer (timelens_gdb/debugger.py: how it asks the time and goes
# back to it under gdb, rr and UDB) against the debuggers' transcripts: gdb.execute is
# replaced by a player that answers each CLI command with the console text the transcript
# recorded for it, in order, and notes the commands sent. Prints one line per check:
# TLDIALECT ok|FAIL ...
import json
import re

import gdb

from timelens_gdb import debugger, lastwrite
from timelens_gdb.errors import TimelensError


def _transcript_console(path):
    """{command: [console output, ...]} from an MI transcript's -interpreter-exec blocks."""
    out = {}
    cmd = None
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("> "):
            m = re.match(r'> -interpreter-exec console "(.*)"$', line)
            cmd = m.group(1) if m else None
            if cmd is not None:
                out.setdefault(cmd, []).append("")
        elif cmd is not None and line.startswith('~"'):
            out[cmd][-1] += json.loads(line[1:])  # MI C strings: JSON reads these escapes
        elif cmd is not None and line.startswith("^error"):
            out[cmd][-1] = gdb.error(json.loads(line[len('^error,msg='):]))
    return out


class _Player:
    def __init__(self, path):
        self.answers = _transcript_console(path)
        self.sent = []

    def execute(self, command, from_tty=False, to_string=False):
        self.sent.append(command)
        if not self.answers.get(command):
            raise gdb.error("transcript: no answer left for %r" % command)
        a = self.answers[command].pop(0)
        if isinstance(a, Exception):
            raise a
        return a if to_string else None


def _check(name, got, want):
    print("TLDIALECT %s %s: got %r, want %r" % ("ok" if got == want else "FAIL", name, got, want))


def _mi_error(path, command):
    """The message of the ^error (a JSON error object) that answers an MI command in a transcript."""
    lines = open(path, encoding="utf-8").read().split("\n")
    for i, line in enumerate(lines):
        if line == "> " + command and lines[i + 1].startswith("^error,msg="):
            return json.loads(json.loads(lines[i + 1][len("^error,msg="):]))["message"]
    return None


_real = gdb.execute
try:
    for name, path in TL_TRANSCRIPTS:
        p = _Player(path)
        gdb.execute = p.execute
        kind = name.split("-")[0]
        debugger.configure(TL_DIALECTS[kind])
        if name == "rr-checkpoint":
            # A move's start state takes a checkpoint; a refused move goes back with restart.
            st = debugger.record_state(mark=True)
            _check("rr checkpoint at a move's start", (st, st.checkpoint), ((True, (1042, 5123456)), "3"))
            debugger.restore(st)
            _check("rr restore by checkpoint", p.sent[-1:], ["restart 3"])
            debugger.restore(st)
            _check("rr failed restart falls back to the time", p.sent[-3:],
                   ["restart 3", "run 1042", "seek-ticks 5123456"])
            debugger.drop_checkpoints()
            _check("rr checkpoint deleted after the move", (p.sent[-1], debugger._CHECKPOINTS), ("delete checkpoint 3", []))
            ids = [debugger._take_checkpoint() for _ in range(4)]
            _check("rr refused checkpoint (end of the debuggee)", ids, ["4", "5", "6", None])
            st = debugger.State((True, (1042, 5123456)))
            debugger.restore(st)
            _check("rr state without checkpoint goes by time", p.sent[-2:], ["run 1042", "seek-ticks 5123456"])
            debugger.drop_checkpoints()
            _check("rr every checkpoint deleted", ([c for c in p.sent if c.startswith("delete checkpoint")], debugger._CHECKPOINTS),
                   (["delete checkpoint 3", "delete checkpoint 6", "delete checkpoint 5", "delete checkpoint 4"], []))
        elif name == "udb-last":
            p.answers["info time -a"].pop(0)  # the backend's own time query after the search
            found = lastwrite._back_to_write(0x7ffff7a1c2d8)
            _check("udb last finds a change", (found[0], p.sent),
                   ("write", ["info time -a", "last *(unsigned long *) 0x7ffff7a1c2d8", "info time -a"]))
            lastwrite.evaluate = lambda thread, depth, path, **kw: {
                "storage": "local", "slot": "0x7ffff7b0e4a0", "owner": None, "path": "total", "value": "10"}
            try:
                lastwrite.last_write(None, 0, "total")
                _check("udb last refused", "no error", "TimelensError")
            except TimelensError as e:
                _check("udb last refused", (e.code, e.message),
                       ("no-earlier-write", _mi_error(path, "-timelens-last-write --depth 0 total")))
            _check("udb last refused: commands", p.sent[3:],
                   ["info time -a", "last *(unsigned long *) 0x7ffff7b0e4a0", "info time -a"])
        elif name == "rr-56":
            # rr before 5.8 says the current event, N+1, for the completed event N.
            _check("rr 5.6 time", debugger.record_state(), (True, (1042, 5123456)))
        elif kind == "rr":
            st = debugger.record_state()
            _check("rr time", st, (True, (1042, 5123456)))
            _check("rr live", debugger.replaying(), True)
            later = debugger.record_state()
            _check("rr order", st[1] < later[1], True)
            debugger.restore(st)
            _check("rr goto", p.sent[-2:], ["run 1042", "seek-ticks 5123456"])
            _check("rr end signal forward", debugger.end_signal("SIGKILL", False), True)
            _check("rr end signal reverse", debugger.end_signal("SIGKILL", True), False)
            try:
                debugger.restore((True, (1042, 999999999999)))
                _check("rr goto out of range", "no error", "gdb.error")
            except gdb.error as e:
                _check("rr goto out of range", str(e), "No event found matching specified ticks target")
        elif kind == "udb":
            st = debugger.record_state()
            _check("udb time", st, (True, (11571, 0x5555555552df)))
            later = debugger.record_state()
            _check("udb order", st[1] < later[1], True)
            debugger.restore(st)
            _check("udb goto", p.sent[-1:], ["ugo time 11571:0x5555555552df"])
            _check("udb end signal", debugger.end_signal("SIGKILL", False), False)
        else:
            _check("gdb time at the live end", debugger.record_state(), (False, None))
            s3, s2 = debugger.record_state(), debugger.record_state()
            _check("gdb time replaying", (s3, s2), ((True, (3,)), (True, (2,))))
            debugger.restore(s2)
            debugger.restore(s3)
            _check("gdb goto", p.sent[-2:], ["record goto 2", "record goto 3"])
            _check("gdb end signal", debugger.end_signal("SIGKILL", False), False)
finally:
    gdb.execute = _real
    debugger.configure(TL_DIALECTS["gdb"])
