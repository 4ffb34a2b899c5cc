"""The evaluation loop's opcode handlers, found without debug info.

With debug info, an opcode's handler is the label TARGET_<NAME> in
_PyEval_EvalFrameDefault. A stripped Python has neither labels nor .symtab,
but it keeps its dynamic symbols (_PyEval_EvalFrameDefault, with its size)
and its section headers, and the computed-goto table of the loop
(`static void *opcode_targets[256]`, one label address per opcode) is in its
writable data: the one run of 256 words that all point into the loop. The
handler of opcode N is then opcode_targets[N], N from the layout's opcode
numbers. A build without computed gotos has no such table (None).
"""

import array
import bisect
import struct

import gdb

from . import memory

SHT_DYNSYM = 11
SHT_PROGBITS = 1
SHF_WRITE = 0x1
SHF_ALLOC = 0x2
SHF_EXECINSTR = 0x4


def _elf_file(addr):
    """The file of the objfile that holds addr: a shared library's, else the
    executable's."""
    ps = gdb.current_progspace()
    return ps.solib_name(addr) or ps.filename


class ElfFile:
    """The section headers and dynamic symbols of an ELF64 little-endian
    file, read from the file itself (not through gdb: stripped files have no
    symbols gdb would give sizes of)."""

    def __init__(self, path):
        with open(path, "rb") as f:
            head = f.read(64)
            if head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
                raise ValueError("%s is not an ELF64 little-endian file" % path)
            shoff, = struct.unpack_from("<Q", head, 0x28)
            shentsize, shnum, _ = struct.unpack_from("<HHH", head, 0x3A)
            f.seek(shoff)
            raw = f.read(shentsize * shnum)
            self.sections = []
            for i in range(shnum):
                name, typ, flags, addr, off, size, link = struct.unpack_from("<IIQQQQI", raw, i * shentsize)
                self.sections.append((typ, flags, addr, off, size, link))
            self.dynsym = {}
            for typ, flags, addr, off, size, link in self.sections:
                if typ != SHT_DYNSYM:
                    continue
                f.seek(off)
                syms = f.read(size)
                _, _, _, stroff, strsize, _ = self.sections[link]
                f.seek(stroff)
                strs = f.read(strsize)
                for j in range(0, len(syms) - 23, 24):
                    st_name, _, _, _, value, sz = struct.unpack_from("<IBBHQQ", syms, j)
                    end = strs.find(b"\0", st_name)
                    self.dynsym[strs[st_name:end].decode("ascii", "replace")] = (value, sz)

    def code(self):
        """(address in the file, size) of the executable sections."""
        return [(addr, size) for typ, flags, addr, _, size, _ in self.sections
                if flags & SHF_ALLOC and flags & SHF_EXECINSTR and size]

    def data(self):
        """(address in the file, size) of the allocated sections with
        contents that are not code (.data, .data.rel.ro, .rodata, ...)."""
        return [(addr, size) for typ, flags, addr, _, size, _ in self.sections
                if typ == SHT_PROGBITS and flags & SHF_ALLOC and not flags & SHF_EXECINSTR and size]


def find_opcode_targets(eval_addr, name="_PyEval_EvalFrameDefault", opcodes=None):
    """The 256 handler addresses of the loop at eval_addr (the run-time
    address of `name`), read from the process; None when the file has no
    such table (no computed gotos) or it cannot be read.

    The table is the one run of 256 words in the file's data (writable, or
    read-only where the compiler saw it never written) that all point into
    its code, most of them into the loop itself: the compiler
    moves rarely run handlers out of it, to a `name.cold` part elsewhere in
    the code (a local symbol, gone with .symtab). Some builds move nearly
    all of the loop there (sid's 3.14: a 1184-byte `name` and handlers such
    as RESUME's in `name.cold`); given the interpreter's opcode numbers
    (opcodes), a table whose unused numbers all hold one address (CPython's
    `_unknown_opcode` label) while its opcodes' handlers are distinct is
    known to be the table too."""
    try:
        elf = ElfFile(_elf_file(eval_addr))
    except (OSError, ValueError, struct.error):
        return None
    sym = elf.dynsym.get(name)
    if sym is None or not sym[1]:
        return None
    bias = eval_addr - sym[0]
    lo, hi = eval_addr, eval_addr + sym[1]
    code = sorted((a + bias, a + bias + n) for a, n in elf.code())
    starts = [a for a, _ in code]
    clo, chi = code[0][0], code[-1][1]

    def in_code(w):
        if not clo <= w < chi:
            return False
        k = bisect.bisect_right(starts, w) - 1
        return w < code[k][1]

    found = []
    for addr, size in elf.data():
        try:
            raw = memory.read(addr + bias, size - size % 8)
        except gdb.MemoryError:
            continue
        words = array.array("Q")
        words.frombytes(raw)
        run = 0
        for i, w in enumerate(words):
            if in_code(w):
                run += 1
                if run >= 256:
                    cand = words[i - 255:i + 1]
                    if sum(1 for x in cand if lo <= x < hi) >= MIN_IN_LOOP or _shaped_like_targets(cand, opcodes):
                        found.append(list(cand))
            else:
                run = 0
    if len(found) != 1:
        return None  # none, or more than one: not knowably the table
    return found[0]


# How many of the 256 handlers must lie in the loop's own range (the rest
# may be in its .cold part): half, which no other table of code pointers has.
MIN_IN_LOOP = 128


# How many opcode numbers must be unused for the shape of the table to say
# that it is the table (3.10 leaves 100 unused, 3.14 29).
MIN_UNUSED = 8


def _shaped_like_targets(cand, opcodes):
    """Whether the 256 words cand have opcode_targets' shape for the opcode
    numbers opcodes: every unused number's entry is one address (the
    `_unknown_opcode` label), which no opcode's handler is, and the opcodes'
    handlers are nearly all distinct (a few opcodes share a handler)."""
    if not opcodes:
        return False
    unused = [cand[k] for k in range(256) if k not in opcodes]
    if len(unused) < MIN_UNUSED or len(set(unused)) != 1:
        return False
    known = [cand[k] for k in opcodes if 0 <= k < 256]
    return unused[0] not in known and len(set(known)) >= 0.9 * len(known)
