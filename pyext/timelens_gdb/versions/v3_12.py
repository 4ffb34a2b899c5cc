"""CPython 3.12: sys.monitoring line events, shim frames, lv_tag ints.

Sources: Include/internal/pycore_frame.h (FRAME_OWNED_BY_CSTACK = 3: the
entry frame a C-level call pushes), Python/instrumentation.c
(initialize_lines: an instruction is marked when it starts a line, is a jump
target or an exception handler; _Py_call_instrumentation_line: an event
when the line differs from the previous instruction's or that one was
RESUME; legacy tracing adds a backward JUMP to the same line), Python/
generated_cases.c.h (INSTRUCTION_START stores frame->prev_instr), Include/
internal/pycore_long.h (lv_tag), Objects/typeobject.c (_PyDictOrValues)."""

from .v3_11 import V3_11


class V3_12(V3_11):
    key = (3, 12)
    tstate_tls = "_Py_tss_tstate"
    owners = {0: "thread", 1: "generator", 2: "frame_object", 3: "cstack"}
    first_shim_owner = 3
    exception_state = ("current_exception",)
    line_rule = "monitoring"
    no_line_ops = ()
    no_backward_ops = ()
    never_line_start = ("END_ASYNC_FOR", "END_FOR", "END_SEND", "RESUME")
    line_again_after = ("RESUME", "JUMP_BACKWARD")
    jumps = {
        "POP_JUMP_IF_FALSE": "forward", "POP_JUMP_IF_TRUE": "forward",
        "POP_JUMP_IF_NONE": "forward", "POP_JUMP_IF_NOT_NONE": "forward",
        "JUMP_FORWARD": "forward",
        "FOR_ITER": "forward+1", "SEND": "forward+1",
        "JUMP_BACKWARD": "backward", "JUMP_BACKWARD_NO_INTERRUPT": "backward",
    }
    monitoring_lines = (0, 2)
    interp_modules = "imports.modules"
    code_monitoring_field = "_co_monitoring"
    long_layout = "lv_tag"
    # lv_tag: the digit count above LONG_TAG_NDIGITS_SHIFT bits, 1 - sign in
    # the bits of LONG_TAG_SIGN_MASK (Include/internal/pycore_long.h).
    LONG_TAG_NDIGITS_SHIFT = 3
    LONG_TAG_SIGN_MASK = 3
    managed_dict = "dorv"
    # Dict-or-values: values are stored as their address - DORV_VALUES_TAG
    # (odd), a dict as its address.
    DORV_VALUES_TAG = 1
    resume_labels = ("TARGET_RESUME", "TARGET_INSTRUMENTED_RESUME")   # never quickened
    resume_runs_seen = None
