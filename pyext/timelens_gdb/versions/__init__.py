"""One table per CPython version: everything that differs between versions.

Struct layouts (field offsets, sizes, bitfields) are not here: they are read
from the debug information of the Python being debugged (layout.py). Nor are
opcode numbers, inline cache sizes, the specialized-to-base opcode map or the
frame-state enum: those are read from the interpreter itself (layout.py,
opcodes by name). What is here is what the interpreter cannot tell: which
field holds a fact, which rule turns instructions into sys.settrace line
events, how objects are laid out in ways DWARF does not describe.

Each version is a class that states what differs from the version before it
(3.11 from 3.10, and so on). Adding 3.15 means one new module with one class
and its tests. Reading code never tests a version number: it asks the table.
"""

from .v3_10 import V3_10
from .v3_11 import V3_11
from .v3_12 import V3_12
from .v3_13 import V3_13
from .v3_14 import V3_14

TABLES = {t.key: t for t in (V3_10, V3_11, V3_12, V3_13, V3_14)}


def supported():
    """The versions there is a table for, as "3.10, 3.11, ..."."""
    return ", ".join("%d.%d" % k for k in sorted(TABLES))


def table(key):
    """The table of version key (major, minor), or None."""
    return TABLES.get(key)


def version_from_shape(has_type, has_field):
    """The key of the version whose table's shape the debug info has
    (has_type(name), has_field(type, path)), or None. Only versions without
    Py_Version state a shape."""
    for key in sorted(TABLES):
        shape = TABLES[key].shape
        if shape is None:
            continue
        lacks, has = shape
        if not any(has_type(n) for n in lacks) and all(has_field(tn, p) for tn, p in has):
            return key
    return None
