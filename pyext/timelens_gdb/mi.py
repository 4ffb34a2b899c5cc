"""The GDB/MI commands, each a thin wrapper over one module's function.

Each replies ^done,json="<JSON object>", or ^error,msg="<JSON object>" with
the code, message and fields of a TimelensError (errors.py). A command that
runs the program (a move) is answered ^running by gdb, which drops its
result: -timelens-last-reply fetches it afterwards.

  -timelens-threads
  -timelens-frames    [--thread N]
  -timelens-locals    [--thread N] --depth D [--limit C]
  -timelens-eval      [--thread N] --depth D [--limit C] PATH
  -timelens-render    [--limit C] ADDRESS
  -timelens-snapshot  [--thread N] [--limit C]
  -timelens-last-write [--thread N] --depth D [--limit C] [--max-stops N] PATH
  -timelens-next-write [--thread N] --depth D [--limit C] [--max-stops N] PATH (the forward twin)
  -timelens-sources   FILE (the text each file had when the recording ran, as JSON)
  -timelens-record-window FUNC|--main LIMIT [SECONDS]
  -timelens-step      step|next|finish [--reverse]
  -timelens-step-instruction [--reverse] (one bytecode instruction; the reply adds its offset)
  -timelens-goto-entry
  -timelens-frame-next
  -timelens-call      previous|next FUNC
  -timelens-run-to-line [--reverse] [--condition EXPR] FILE LINE
  -timelens-line-runs [--limit N] [--value-limit C] FILE LINE
  -timelens-condition [--thread N] --depth D [--value] [--limit C] EXPR
  -timelens-children  [--start S] [--count N] [--limit C] ADDRESS | --locals|--globals [--thread N] --depth D ...
  -timelens-where
  -timelens-exception (the exception the program ended with, read at the end of the recorded history; time unchanged)
  -timelens-dialect   JSON (the debugger's facts: gdbmi's Dialect.GDBSide)
  -timelens-nav-stats
  -timelens-baseline-step step|next [--reverse]
  -timelens-walk      start [--event] [--limit C] | next [--max N] [--seconds S]
  -timelens-layout    (where the struct layouts come from, and every source, for the tests)
  -timelens-disassemble [--thread N] [DEPTH] (the frame's bytecode, as dis lists it; DEPTH default 0)
  -timelens-last-reply

LINE is 1-based, as everywhere on this side. DEPTH counts Python frames of the thread, innermost = 0. N is gdb's thread
number (gdb's own MI option: gdb selects the thread before the command runs;
gdb also claims --frame for C frame levels, hence --depth).
"""

import json
import time

import gdb

from . import bytecode, bytestep, children, condition, debugger, exception, frames, lastwrite, layout, moves, runto, source, state, walk, window
from .errors import TimelensError, Unreadable, bad_argument
from .values import DEFAULT_LIMIT, Reader, render, type_label

# The reply of the last command, for -timelens-last-reply (and, for scripts,
# `python print(gdb._timelens_last_reply)`).
LAST = gdb.__dict__.setdefault("_timelens_last_reply", {"reply": None, "error": None})


def parse_args(argv, flags, positional=0, switches=()):
    """--name value options in flags, --switch in switches; (dict, positional)."""
    opts = {}
    pos = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--") and a[2:] in switches:
            opts[a[2:]] = True
            i += 1
        elif a.startswith("--") and a[2:] in flags:
            if i + 1 >= len(argv):
                raise bad_argument("option %s needs a value" % a)
            opts[a[2:]] = argv[i + 1]
            i += 2
        elif a.startswith("--") and not positional:
            known = sorted(set(flags) | set(switches))
            raise bad_argument("unknown option %s (known: %s)" % (a, ", ".join("--" + f for f in known)))
        else:
            pos.append(a)
            i += 1
    if isinstance(positional, int) and len(pos) != positional:
        raise bad_argument("expected %d argument(s), got %d" % (positional, len(pos)))
    return opts, pos


def int_opt(opts, name, default=None):
    if name not in opts:
        if default is None:
            raise bad_argument("option --%s is required" % name)
        return default
    try:
        return int(opts[name], 0)
    except ValueError:
        raise bad_argument("--%s wants a number, got %r" % (name, opts[name]))


def thread_opt(opts):
    if "thread" not in opts:
        return frames.selected_thread()
    num = int_opt(opts, "thread")
    for t in gdb.selected_inferior().threads():
        if t.num == num:
            return t
    raise bad_argument("no gdb thread %d" % num)


def limit_opt(opts):
    return max(int_opt(opts, "limit", DEFAULT_LIMIT), 4)


# -- the commands ----------------------------------------------------------------

def cmd_threads(argv):
    parse_args(argv, ())
    return state.threads()


def cmd_frames(argv):
    opts, _ = parse_args(argv, ("thread",))
    return state.frames_of(thread_opt(opts))


def cmd_locals(argv):
    opts, _ = parse_args(argv, ("thread", "depth", "limit"))
    return state.locals_of(thread_opt(opts), int_opt(opts, "depth"), limit_opt(opts))


def cmd_eval(argv):
    opts, pos = parse_args(argv, ("thread", "depth", "limit"), 1)
    return state.evaluate(thread_opt(opts), int_opt(opts, "depth"), pos[0].strip(), limit_opt(opts))


def cmd_snapshot(argv):
    opts, _ = parse_args(argv, ("thread", "limit"))
    return state.snapshot(thread_opt(opts), limit_opt(opts))


def cmd_render(argv):
    opts, pos = parse_args(argv, ("limit",), 1)
    try:
        addr = int(pos[0], 0)
    except ValueError:
        raise bad_argument("ADDRESS must be a number, got %r" % pos[0])
    r = Reader()
    t0 = time.monotonic()
    s = render(r, addr, limit_opt(opts))
    return {"value": s, "type": type_label(r, addr), "seconds": round(time.monotonic() - t0, 6)}


def cmd_last_write(argv, forward=False):
    opts, pos = parse_args(argv, ("thread", "depth", "limit", "max-stops"), 1)
    return lastwrite.find_write(thread_opt(opts), int_opt(opts, "depth"), pos[0].strip(), forward,
                                int_opt(opts, "max-stops", 1000), limit_opt(opts))


def cmd_next_write(argv):
    return cmd_last_write(argv, forward=True)


def cmd_sources(argv):
    _, pos = parse_args(argv, (), 1)
    return {"files": source.load_sources(pos[0])}


def cmd_record_window(argv):
    if len(argv) not in (2, 3):
        raise bad_argument("usage: -timelens-record-window FUNC|--main LIMIT [SECONDS]")
    try:
        limit = int(argv[1])
        secs = float(argv[2]) if len(argv) == 3 else 600.0
    except ValueError:
        raise bad_argument("LIMIT must be an integer number of instructions")
    return window.record_window(argv[0], limit, secs)


def cmd_step(argv):
    opts, pos = parse_args(argv, (), 1, switches=("reverse",))
    return moves.do_step(pos[0], bool(opts.get("reverse")))


def cmd_step_instruction(argv):
    opts, _ = parse_args(argv, (), 0, switches=("reverse",))
    return bytestep.do_step_instruction(bool(opts.get("reverse")))


def cmd_goto_entry(argv):
    parse_args(argv, ())
    return moves.do_goto_entry()


def cmd_frame_next(argv):
    parse_args(argv, ())
    return moves.do_frame_next()


def cmd_call(argv):
    if len(argv) != 2:
        raise bad_argument("usage: -timelens-call previous|next FUNC")
    return moves.do_call(argv[0], argv[1])


def file_line(pos):
    try:
        return pos[0], int(pos[1], 0)
    except ValueError:
        raise bad_argument("LINE must be a number, got %r" % pos[1])


def cmd_run_to_line(argv):
    opts, pos = parse_args(argv, ("condition",), 2, switches=("reverse",))
    file, line = file_line(pos)
    return runto.run_to_line(file, line, bool(opts.get("reverse")), opts.get("condition"))


def cmd_line_runs(argv):
    opts, pos = parse_args(argv, ("limit", "value-limit"), 2)
    file, line = file_line(pos)
    return runto.line_runs(file, line, int_opt(opts, "limit", 100), max(int_opt(opts, "value-limit", DEFAULT_LIMIT), 4))


def cmd_condition(argv):
    opts, pos = parse_args(argv, ("thread", "depth", "limit"), 1, switches=("value",))
    if opts.get("value"):
        return children.expression(thread_opt(opts), int_opt(opts, "depth"), pos[0], limit_opt(opts))
    return condition.evaluate_at(thread_opt(opts), int_opt(opts, "depth"), pos[0])


def cmd_children(argv):
    opts, pos = parse_args(argv, ("thread", "depth", "start", "count", "limit"), None, switches=("globals", "locals"))
    start, count = int_opt(opts, "start", 0), int_opt(opts, "count", 0)
    if opts.get("globals") or opts.get("locals"):
        if pos:
            raise bad_argument("--locals and --globals take no ADDRESS")
        read = children.frame_globals if opts.get("globals") else children.frame_locals
        return read(thread_opt(opts), int_opt(opts, "depth"), start, count, limit_opt(opts))
    if len(pos) != 1:
        raise bad_argument("usage: -timelens-children [--start S] [--count N] [--limit C] ADDRESS")
    try:
        addr = int(pos[0], 0)
    except ValueError:
        raise bad_argument("ADDRESS must be a number, got %r" % pos[0])
    return children.children(addr, start, count, limit_opt(opts))


def cmd_exception(argv):
    parse_args(argv, ())
    return exception.uncaught()


def cmd_where(argv):
    return frames.position()


def cmd_dialect(argv):
    if len(argv) != 1:
        raise bad_argument("usage: -timelens-dialect JSON (gdbmi's Dialect.GDBSide)")
    try:
        debugger.configure(argv[0])
    except ValueError as e:
        raise bad_argument("-timelens-dialect wants JSON: %s" % e)
    return {"dialect": debugger.kind()}


def cmd_nav_stats(argv):
    return moves.STATS


def cmd_baseline_step(argv):
    opts, pos = parse_args(argv, (), 1, switches=("reverse",))
    return moves.baseline_step(pos[0], bool(opts.get("reverse")))


def cmd_walk(argv):
    if not argv or argv[0] not in ("start", "next"):
        raise bad_argument("usage: -timelens-walk start [--event] [--limit C] | next [--max N] [--seconds S]")
    if argv[0] == "start":
        opts, _ = parse_args(argv[1:], ("limit",), 0, switches=("event",))
        return walk.start(bool(opts.get("event")), limit_opt(opts))
    opts, _ = parse_args(argv[1:], ("max", "seconds"), 0)
    try:
        secs = float(opts.get("seconds", walk.MAX_SECONDS))
    except ValueError:
        raise bad_argument("--seconds wants a number, got %r" % opts["seconds"])
    return walk.walk_on(int_opt(opts, "max", walk.MAX_EVENTS), secs)


def cmd_layout(argv):
    parse_args(argv, ())
    return layout.report()


def cmd_disassemble(argv):
    opts, pos = parse_args(argv, ("thread",), None)
    if len(pos) > 1:
        raise bad_argument("usage: -timelens-disassemble [--thread N] [DEPTH]")
    depth = 0
    if pos:
        try:
            depth = int(pos[0], 0)
        except ValueError:
            raise bad_argument("DEPTH must be a number (0: the innermost frame), got %r" % pos[0])
    return bytecode.disassemble(thread_opt(opts), depth)


COMMANDS = {
    "-timelens-threads": cmd_threads,
    "-timelens-frames": cmd_frames,
    "-timelens-locals": cmd_locals,
    "-timelens-eval": cmd_eval,
    "-timelens-render": cmd_render,
    "-timelens-snapshot": cmd_snapshot,
    "-timelens-last-write": cmd_last_write,
    "-timelens-next-write": cmd_next_write,
    "-timelens-sources": cmd_sources,
    "-timelens-record-window": cmd_record_window,
    "-timelens-step": cmd_step,
    "-timelens-step-instruction": cmd_step_instruction,
    "-timelens-goto-entry": cmd_goto_entry,
    "-timelens-frame-next": cmd_frame_next,
    "-timelens-call": cmd_call,
    "-timelens-run-to-line": cmd_run_to_line,
    "-timelens-line-runs": cmd_line_runs,
    "-timelens-condition": cmd_condition,
    "-timelens-children": cmd_children,
    "-timelens-where": cmd_where,
    "-timelens-exception": cmd_exception,
    "-timelens-dialect": cmd_dialect,
    "-timelens-nav-stats": cmd_nav_stats,
    "-timelens-baseline-step": cmd_baseline_step,
    "-timelens-walk": cmd_walk,
    "-timelens-layout": cmd_layout,
    "-timelens-disassemble": cmd_disassemble,
}


# gdb's words for a process that is gone (it exited, or was killed).
_NO_PROCESS = ("No registers.", "The program is not being run.", "No thread selected.",
               "Cannot access memory at address")


def gdb_refused(e):
    """A gdb error that escaped the command, in the user's words: gdb's own
    text goes in the detail field (logs), never in the message."""
    text = str(e)
    alive = True
    try:
        alive = gdb.selected_inferior().pid != 0
    except gdb.error:
        alive = False
    if not alive or any(text.startswith(w) for w in _NO_PROCESS[:3]):
        return TimelensError("no-process", "the program is not running any more (it exited or was killed); "
                             "start the session again", detail="gdb: " + text)
    return TimelensError("internal", "gdb refused a command timelens sent it (a timelens bug: the log, "
                         "--log-level debug, has gdb's words)", detail="gdb: " + text)


def run(fn, argv):
    """Runs a command: its reply as a dict, or a TimelensError for every failure
    (never a Python traceback)."""
    frames.forget()
    try:
        return fn(list(argv))
    except TimelensError:
        raise
    except Unreadable as e:
        raise TimelensError("unreadable", "%s (is the process at a consistent point?)" % e)
    except gdb.error as e:
        raise gdb_refused(e)
    except Exception as e:  # noqa: BLE001 - a bug of ours: said as "internal" with its type, watchpoints swept
        moves.sweep()
        raise TimelensError("internal", "timelens internal error: %s: %s" % (type(e).__name__, e))


def _invoke(fn):
    def invoke(self, argv):
        LAST["reply"], LAST["error"] = None, None
        debugger.begin_mi_command()
        try:
            reply = {"json": json.dumps(run(fn, argv))}
            LAST["reply"] = reply
            return reply
        except TimelensError as e:
            LAST["error"] = e.to_json()
            raise gdb.GdbError(LAST["error"])
        finally:
            debugger.end_mi_command()
    return invoke


def _last_reply(self, argv):
    # Reading the kept reply must not replace it.
    if LAST["error"] is not None:
        raise gdb.GdbError(LAST["error"])
    if LAST["reply"] is None:
        raise gdb.GdbError(TimelensError("internal", "no reply kept from the previous command").to_json())
    return LAST["reply"]


def register():
    if not hasattr(gdb, "MICommand"):
        raise gdb.GdbError("timelens needs gdb 13 or newer (gdb.MICommand is missing)")
    for name, fn in COMMANDS.items():
        cls = type("TimelensMI" + name.replace("-", "_"), (gdb.MICommand,), {"invoke": _invoke(fn)})
        cls(name)
    type("TimelensMILastReply", (gdb.MICommand,), {"invoke": _last_reply})("-timelens-last-reply")
    CLI()


class CLI(gdb.Command):
    """tl-nav CMD ARGS...: any -timelens-CMD from gdb's command line, printing
    "TLNAV <json>" or "TLNAV-ERROR <json>" (for batch scripts and tests)."""

    def __init__(self):
        super().__init__("tl-nav", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        argv = gdb.string_to_argv(arg)
        fn = COMMANDS.get("-timelens-" + argv[0]) if argv else None
        if fn is None:
            print("TLNAV-ERROR " + bad_argument("usage: tl-nav %s ARGS..." % "|".join(
                sorted(c[len("-timelens-"):] for c in COMMANDS))).to_json())
            return
        try:
            print("TLNAV " + json.dumps(run(fn, argv[1:])))
        except TimelensError as e:
            print("TLNAV-ERROR " + e.to_json())
