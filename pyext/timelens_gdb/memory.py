"""Reading the debuggee's memory: never by running code in it.

Two ways: the plain readers (u64, i32, ...) read memory as it is now, which
is what a navigation move needs at every stop; Memory caches small blocks
for the length of one command that does not move time (a snapshot, a
rendering), where the same words are read again and again.
"""

import struct

import gdb

from .errors import Unreadable

_BLOCK = 512


def inferior():
    return gdb.selected_inferior()


def read(addr, n):
    """n bytes at addr; gdb.MemoryError when unreadable."""
    if n <= 0:
        return b""
    return bytes(inferior().read_memory(addr, n))


def u64(addr):
    return struct.unpack("<Q", read(addr, 8))[0]


def i64(addr):
    return struct.unpack("<q", read(addr, 8))[0]


def i32(addr):
    return struct.unpack("<i", read(addr, 4))[0]


def u32(addr):
    return struct.unpack("<I", read(addr, 4))[0]


def u8(addr):
    return read(addr, 1)[0]


def i8(addr):
    b = read(addr, 1)[0]
    return b - 256 if b >= 128 else b


class Memory:
    """Reads the inferior's memory, caching small blocks for one command."""

    def __init__(self):
        self.inf = inferior()
        self.blocks = {}

    def read(self, addr, n):
        if n <= 0:
            return b""
        if addr < 4096 or addr + n > 1 << 64:
            raise Unreadable(addr)
        if n > _BLOCK:
            return self._raw(addr, n)
        first = addr - addr % _BLOCK
        last = (addr + n - 1) - (addr + n - 1) % _BLOCK
        if first == last:
            blk = self._block(first)
            if blk is None:
                return self._raw(addr, n)
            off = addr - first
            return blk[off:off + n]
        a = self._block(first)
        b = self._block(last)
        if a is None or b is None:
            return self._raw(addr, n)
        off = addr - first
        return (a + b)[off:off + n]

    def _block(self, base):
        blk = self.blocks.get(base)
        if blk is None and base not in self.blocks:
            try:
                blk = bytes(self.inf.read_memory(base, _BLOCK))
            except (gdb.MemoryError, gdb.error):
                blk = None
            self.blocks[base] = blk
        return blk

    def _raw(self, addr, n):
        try:
            return bytes(self.inf.read_memory(addr, n))
        except (gdb.MemoryError, gdb.error) as e:
            raise Unreadable(addr, str(e))

    def ptr(self, addr):
        return struct.unpack("<Q", self.read(addr, 8))[0]

    def i64(self, addr):
        return struct.unpack("<q", self.read(addr, 8))[0]

    def u32(self, addr):
        return struct.unpack("<I", self.read(addr, 4))[0]

    def i32(self, addr):
        return struct.unpack("<i", self.read(addr, 4))[0]

    def u16(self, addr):
        return struct.unpack("<H", self.read(addr, 2))[0]

    def u8(self, addr):
        return self.read(addr, 1)[0]

    def ptrs(self, addr, n):
        return struct.unpack("<%dQ" % n, self.read(addr, 8 * n)) if n > 0 else ()

    def cstring(self, addr, maxlen=4096):
        out = b""
        while len(out) < maxlen:
            chunk = self.read(addr + len(out), 64)
            z = chunk.find(b"\0")
            if z >= 0:
                out += chunk[:z]
                break
            out += chunk
        return out.decode("utf-8", "replace")
