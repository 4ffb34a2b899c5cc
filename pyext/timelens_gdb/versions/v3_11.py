"""CPython 3.11: _PyInterpreterFrame, prev_instr, the location table, quickening.

Sources: Include/internal/pycore_frame.h (_PyInterpreterFrame: f_code,
previous, prev_instr, owner), Include/cpython/pystate.h (tstate->cframe->
current_frame; a C-level call into the interpreter pushes a new _PyCFrame),
Python/ceval.c (TARGET stores frame->prev_instr = next_instr++ at every
instruction start; maybe_call_line_trace: a line event at i after p when
line(i) != -1 and (line(i) != lastline or (i < p and op(i) != SEND)), with
lastline -1 while p <= _co_firsttraceable; RESUME traces no line; tracing
runs de-specialized code, the untraced program runs superinstructions),
Objects/dictobject.c (dk_kind, compact unicode entries), Python/pythonrun.c
(print_exception leaves __main__ out of a type's name), Objects/
typeobject.c (values before the object)."""

from .v3_10 import V3_10


class V3_11(V3_10):
    key = (3, 11)
    current_frame = ("cframe", "current_frame")
    thread_match = "native"
    interp_threads_head = "threads.head"
    frame_type = ("_PyInterpreterFrame", "struct _PyInterpreterFrame")
    frame_previous = "previous"
    frame_object_frame = "f_frame"
    exception_modules_omitted = ("builtins", "__main__")
    frame_localsplus = "localsplus"
    frame_ip = "prev_instr"
    ip_kind = "pointer"
    frame_complete_when_pushed = False
    shape = None
    frame_owner = "owner"
    owners = {0: "thread", 1: "generator", 2: "frame_object"}
    owner_generator = 1
    gen_state = ("gen", "gi_frame_state")
    gen_link = None
    gen_done_state = "FRAME_COMPLETED"
    code_bytes = "inline"
    line_table = "locations"
    # "locations" entry codes (Objects/locations.md): no location, the long
    # form, a line without columns, and the first of the three one-line forms
    # (line delta 0, 1, 2); below it, the short forms (same line).
    LOCATION_NONE = 15
    LOCATION_LONG = 14
    LOCATION_NO_COLUMNS = 13
    LOCATION_ONE_LINE_0 = 10
    localsplus = "kinds"
    qualname_field = "co_qualname"
    firsttraceable_field = "_co_firsttraceable"
    exception_table = "co_exceptiontable"
    entry_ops = ()
    line_rule = "tracing"
    superinstructions = True
    restores_position = {"RERAISE": "oparg"}
    no_line_ops = ("RESUME",)
    no_backward_ops = ("SEND",)
    dict_keys = "kinds"
    managed_dict = "pre_values"
    values_order = "prefix"
    # "prefix": the values pointer is PRE_VALUES_WORDS words before the
    # object; the count of used values is the byte PREFIX_ORDER_SIZE_AT bytes
    # from the values, the order bytes before that.
    PRE_VALUES_WORDS = -4
    PREFIX_ORDER_SIZE_AT = -2
    UNICODE_ENTRY_WORDS = 2
    # Python/pythonrun.c; later patch releases (3.13.18, 3.14 here) name it
    # _PyRun_SimpleFile.
    run_main = ("_PyRun_SimpleFileObject", "_PyRun_SimpleFile")
    call_start = "resume"
    resume_labels = ("TARGET_RESUME",)   # RESUME_QUICK once _PyCode_Warmup quickened it
    resume_runs_seen = 8
