"""A pause the debugger client asked for (DAP's pause) during a long run to a
line: while such a run goes on, the Go side creates the file PATH, next to
the extension's own directory, and the run's watchpoint callbacks, which gdb
calls as it replays, look for it (at most every CHECK_SECONDS) and stop the
run, which then leaves time where it was ("paused"). A file and not a signal:
SIGINT would reach gdb's Python as a KeyboardInterrupt anywhere, in the
middle of a cleanup too; the callbacks stop at a point of their choosing."""

import os
import time

PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pause")
CHECK_SECONDS = 0.02
_next = [0.0]


def requested():
    """The client asked for a pause (checked at most every CHECK_SECONDS)."""
    now = time.monotonic()
    if now < _next[0]:
        return False
    _next[0] = now + CHECK_SECONDS
    return os.path.exists(PATH)
