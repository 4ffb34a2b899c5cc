"""CPython 3.13: f_executable, instr_ptr, current_frame in the thread state.

Sources: Include/internal/pycore_frame.h (f_executable, instr_ptr),
Include/cpython/pystate.h (tstate->current_frame: no _PyCFrame any more),
Python/bytecodes.c (RESUME_CHECK: the first run of RESUME quickens it;
no superinstructions that skip an instr_ptr store), Objects/dictobject.c
and typeobject.c (inline values after the object, order bytes after them)."""

from .v3_12 import V3_12


class V3_13(V3_12):
    key = (3, 13)
    current_frame = ("current_frame",)
    frame_code = "f_executable"
    frame_ip = "instr_ptr"
    superinstructions = False
    managed_dict = "inline"
    values_order = "suffix"
    tpflags_inline_values = 1 << 2
    resume_labels = ("TARGET_RESUME", "TARGET_INSTRUMENTED_RESUME")   # RESUME_CHECK after the first run
    resume_runs_seen = 1
