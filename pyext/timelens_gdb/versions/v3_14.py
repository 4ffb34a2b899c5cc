"""CPython 3.14: tagged _PyStackRef, new owner values, POP_ITER.

Sources: Include/internal/pycore_interpframe_structs.h (FRAME_OWNED_BY_
INTERPRETER = 3 is the entry frame, FRAME_OWNED_BY_CSTACK = 4: shims are
owner >= 3), Include/internal/pycore_stackref.h (Py_TAG_BITS), Python/
instrumentation.c (POP_ITER, where FOR_ITER's exit lands, never starts a
line and is never a marked jump target; the line data is
{uint8 bytes_per_entry; uint8 data[]})."""

from .v3_13 import V3_13


class V3_14(V3_13):
    key = (3, 14)
    owners = {0: "thread", 1: "generator", 2: "frame_object", 3: "interpreter", 4: "cstack"}
    stackref_mask = ~0x3
    tlbc_fields = ("tlbc_index", "co_tlbc")
    # co_tlbc is a _PyCodeArray: its size, then the copies' addresses from
    # TLBC_ENTRIES_AT bytes on (Include/internal/pycore_code.h).
    TLBC_ENTRIES_AT = 8
    never_line_start = ("END_ASYNC_FOR", "END_FOR", "END_SEND", "RESUME", "POP_ITER")
    never_marked_target = ("POP_ITER",)
    monitoring_lines = (1, None)
