"""The decoders of the objects every reader needs, over any memory: str,
bytes, int and tuple.

mem is anything with read(addr, n) -> bytes: the memory module (memory as it
is now: navigation, code objects) or a memory.Memory (its cache for one
command: values.Reader). L is the Layout. Memory that cannot be read raises
gdb.MemoryError (errors.Unreadable is one); an object that makes no sense
raises Unreadable. values.Reader builds the other kinds on these (dict, MRO,
name lookup, members, modules).
"""

import struct

from .errors import Unreadable

# PEP 393: a str's kind is its character width in bytes.
STR_ENCODINGS = {1: "latin-1", 2: "utf-16-le", 4: "utf-32-le"}


def _i64(mem, addr):
    return struct.unpack("<q", mem.read(addr, 8))[0]


def _u64(mem, addr):
    return struct.unpack("<Q", mem.read(addr, 8))[0]


def str_info(mem, L, obj):
    """(length, kind, data address) of a str object."""
    length = _i64(mem, obj + L.str_length)
    state_off = L.str_state_off
    word = struct.unpack("<I", mem.read(obj + state_off, 4))[0]

    def bit(name):
        b, s = L.str_state_bits[name]
        return (word >> (b - state_off * 8)) & ((1 << s) - 1)

    kind, compact, is_ascii = bit("kind"), bit("compact"), bit("ascii")
    if kind not in STR_ENCODINGS or length < 0:
        raise Unreadable(obj, "not a str")
    if compact:
        data = obj + (L.ascii_size if is_ascii else L.compact_size)
    else:
        data = _u64(mem, obj + L.str_data_any)
    return length, kind, data


def str_text(mem, L, obj, maxchars=None):
    """(the first maxchars characters of a str object, its full length)."""
    length, kind, data = str_info(mem, L, obj)
    n = length if maxchars is None else min(length, maxchars)
    return mem.read(data, n * kind).decode(STR_ENCODINGS[kind], "surrogatepass"), length


def bytes_size(mem, L, obj):
    """The length of a bytes object."""
    n = _i64(mem, obj + L.ob_size)
    if n < 0:
        raise Unreadable(obj, "not a bytes object")
    return n


def bytes_value(mem, L, obj, maxlen=None, limit=None):
    """The first maxlen bytes of a bytes object (all without maxlen);
    Unreadable when it is longer than limit."""
    n = bytes_size(mem, L, obj)
    if limit is not None and n > limit:
        raise Unreadable(obj, "not a bytes object")
    return mem.read(obj + L.bytes_sval, n if maxlen is None else min(n, maxlen))


def tuple_items(mem, L, obj, limit=1 << 24):
    """The item addresses of a tuple; Unreadable when it has more than limit."""
    n = _i64(mem, obj + L.ob_size)
    if n < 0 or n > limit:
        raise Unreadable(obj, "not a tuple")
    return struct.unpack("<%dQ" % n, mem.read(obj + L.tuple_items, 8 * n)) if n else ()


def int_value(mem, L, t, obj, max_digits):
    """(value, None) of an int object, or (None, its size in bits) when it has
    more than max_digits digits. Where the sign and the digit count are is the
    table's long_layout: ob_size (3.10, 3.11: signed digit count) or lv_tag
    (3.12+: digit count above LONG_TAG_NDIGITS_SHIFT bits, sign in the low bits
    as 1 - sign)."""
    if t.long_layout == "lv_tag":
        tag = _u64(mem, obj + L.long_tag)
        ndigits = tag >> t.LONG_TAG_NDIGITS_SHIFT
        sign = 1 - (tag & t.LONG_TAG_SIGN_MASK)
    else:
        size = _i64(mem, obj + L.ob_size)
        ndigits = abs(size)
        sign = -1 if size < 0 else (0 if size == 0 else 1)
    if ndigits > max_digits:
        return None, ndigits * L.digit_bits
    raw = mem.read(obj + L.long_digits, ndigits * L.digit_size)
    fmt = "<%d%s" % (ndigits, "I" if L.digit_size == 4 else "H")
    value = 0
    for d in reversed(struct.unpack(fmt, raw)):
        value = (value << L.digit_bits) | d
    if sign < 0:
        value = -value
    return value, None
