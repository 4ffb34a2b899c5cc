"""The recorded window and the process it belongs to: one owner.

window.py makes the window (record_window, restored); the moves read it.
What it holds belongs to one process: a new process (another pid) gets a
new, empty window, and every cache registered with on_new_process is reset
with it (code objects, where threads keep their frames, a walk begun).

gdb's convenience variables the gdb side uses ($tl_*) are written from
Python here only (set_var); gdb conditions that the moves and the start-up
search hand to gdb update them too (counters, the ip filter's state).
"""

import gdb


class Window:
    """The recorded window of process pid.

    begin: gdb record full's instruction number at the window's first
      position (None: rr and UDB, which record the whole program);
    begin_is_event: that position is a line event (its store is just before
      the recording began);
    function, frame: the function (qualname) and frame ("0x..") there;
    end_pc: the pc at the last recorded instruction (gdb record full);
    end_reason: why recording ended (record_window's window_end);
    post_store_pcs: machine addresses right after a store of a frame's
      position, learned as the moves go (being at one means the current
      instruction's store has just happened)."""

    def __init__(self, pid):
        self.pid = pid
        self.begin = None
        self.begin_is_event = False
        self.function = None
        self.frame = None
        self.end_pc = None
        self.end_reason = None
        self.post_store_pcs = set()

    def after_store(self, pc):
        """pc is right after a store of a frame's position."""
        self.post_store_pcs.add(pc)

    def is_after_store(self, pc):
        return pc in self.post_store_pcs

    def starts_in(self, frame):
        """The window's first position is a line event of frame (an address)."""
        return self.begin_is_event and self.frame == "0x%x" % frame


_HOOKS = []
_CURRENT = [Window(0)]


def on_new_process(reset):
    """Calls reset() (no arguments) whenever the process changes: for a
    cache of facts about one process. Returns reset."""
    _HOOKS.append(reset)
    return reset


def _pid():
    try:
        return gdb.selected_inferior().pid
    except (gdb.error, RuntimeError):
        return 0


def current():
    """The window of the process gdb debugs now: a new one, with every
    registered cache reset, when that is another process than last time.
    Called where a command begins (a move, a window's recording); a stop()
    callback, within a move, uses get()."""
    pid = _pid()
    if pid != _CURRENT[0].pid:
        new_process(pid)
    return _CURRENT[0]


def get():
    """The current window, without looking at the process (within a command
    that called current())."""
    return _CURRENT[0]


def new_process(pid=None):
    """A new process (pid, default: gdb's now): an empty window, every cache reset."""
    _CURRENT[0] = Window(_pid() if pid is None else pid)
    for reset in _HOOKS:
        reset()
    return _CURRENT[0]


# -- gdb convenience variables ---------------------------------------------------

def set_var(name, value):
    """Sets gdb's $name (a $tl_* variable of the gdb side)."""
    gdb.set_convenience_variable(name, value)


def get_var(name):
    """gdb's $name as an int, or None when unset."""
    v = gdb.convenience_variable(name)
    return None if v is None else int(v)
