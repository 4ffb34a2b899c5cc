"""Errors of the gdb side, as they cross into Go.

A failure the user should hear about is a TimelensError: a code the Go side
decides on (never the wording), a message for the user, and fields. It
reaches gdb/MI as an ^error whose message is one JSON object:

    {"code": "edge", "message": "start of recorded history: ...", "edge": "start"}

Codes (pyext/errors.go decodes them): edge {edge: start|end}, call-ended,
no-call {function, direction}, never-called {function}, no-earlier-write
{path}, no-later-write {path}, no-debug-symbols {detail}, unsupported-python {version},
not-recording, no-process, bad-argument, not-found, unsupported, unreadable,
interrupted, gave-up, internal, stop-failed {where, detail} (a watchpoint's
or breakpoint's stop() callback failed during a move: detail is the
traceback, for the log); paused (a run to a line the client paused); run to a line (runto.py): no-run {file, line,
direction, condition, runs}, no-code {file, line}, bad-condition {condition,
unsupported}.
"""

import json

import gdb


class TimelensError(Exception):
    """A failure with a code for the Go side and a message for the user."""

    def __init__(self, code, message, **fields):
        Exception.__init__(self, message)
        self.code = code
        self.message = message
        self.fields = fields

    def to_json(self):
        out = {"code": self.code, "message": self.message}
        out.update(self.fields)
        return json.dumps(out)


class Unreadable(gdb.MemoryError):
    """Memory that cannot be read or an object that makes no sense.

    A gdb.MemoryError, so that there is one memory-error type: `except
    gdb.MemoryError` ("this memory is not there yet") catches what gdb
    raises and what the readers raise alike."""

    def __init__(self, addr, why=""):
        gdb.MemoryError.__init__(self, "unreadable memory at 0x%x%s" % (addr, (": " + why) if why else ""))
        self.addr = addr


def bad_argument(message):
    return TimelensError("bad-argument", message)


def stop_failed(where, tb):
    """A move ended by an error in one of its stop() callbacks (where, e.g.
    "LineWatch.stop"), other than memory not there yet: a timelens bug, said
    as what it was; tb (the traceback) goes in the detail field, for the log."""
    last = tb.strip().splitlines()[-1] if tb.strip() else "?"
    return TimelensError("stop-failed", "timelens internal error in %s during the move: %s (time unchanged "
                         "where it could be restored; the log, --log-level debug, has the traceback)"
                         % (where, last), where=where, detail=tb)


def edge(reverse, what):
    """A move refused at the start (reverse) or end of the recorded window."""
    side = "start" if reverse else "end"
    return TimelensError("edge", "%s of recorded history: %s (time unchanged)" % (side, what), edge=side)
