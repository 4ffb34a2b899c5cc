"""timelens's gdb side: reads CPython 3.10-3.14 out of a stopped or replayed
process and moves through its recorded history, answering GDB/MI commands
with JSON (mi.py lists them).

Rules this package keeps:
  * It never runs code in the debuggee: no inferior calls (gdb runs with
    may-call-functions off); memory is read and decoded with struct.
  * Struct layouts come from the debug information of the Python being
    debugged; what the interpreter itself can say (opcode numbers, cache
    sizes, frame states) is read from it; everything else that differs
    between versions is in versions/, one table per version.
  * Every failure reaches the client as an MI error carrying a code and a
    message for the user (errors.py).

One module per concern: memory (reading), layout (the interpreter's shape),
code (code objects, line tables, line events), frames (threads and frames),
values (objects and their rendering), source (what the source files say),
state (one time point), debugger (gdb, rr or UDB: time and going back),
moves (navigation: one engine, each move its acceptance rule; runto's run
to a line is one), window (records the window), window_state (the window
and the process it belongs to: one owner; caches reset with the process),
lastwrite, threads (interpreters and their thread states), mi (commands).

Load it with `python import sys; sys.path.insert(0, DIR); import timelens_gdb`
where DIR holds this package (pyext.Install writes it out).
"""

from . import mi

mi.register()
