"""The program's clock, read by system calls while gdb records.

A process finds the kernel's vDSO (where clock_gettime, gettimeofday, time
and getcpu run without a system call) through the AT_SYSINFO_EHDR entry of
its auxiliary vector. Under some hypervisors (AMD EPYC under PVM, FACTS.md)
the vDSO's clock retries its read for as long as the hypervisor updates the
clock page between two reads, and single-stepping, as `record full` does,
exits to the hypervisor at every instruction: one `time.monotonic()` then
spins for the whole recording (a 60-second window recorded 235,000
instructions inside it and never returned). asyncio reads the clock on every
turn of its loop.

So, for gdb's own recorder, the entry is renamed AT_IGNORE on the process's
stack before the dynamic loader reads it (at `starti`): glibc then makes
the system calls, which `record full` records like any other. This changes
one word of the program's initial stack, the way rr patches the vDSO; it
runs no code in the program. rr and UDB handle the vDSO themselves.
"""

import gdb

from . import debugger, memory

AT_NULL = 0
AT_IGNORE = 1
AT_SYSINFO_EHDR = 33
MAX_WORDS = 1 << 16   # argv + envp + auxv words read at most (a larger stack start is not a fresh one)


def _auxv_from_proc():
    """AT_SYSINFO_EHDR's value from the kernel's copy (/proc/PID/auxv), or None."""
    try:
        with open("/proc/%d/auxv" % memory.inferior().pid, "rb") as f:
            raw = f.read()
    except OSError:
        return None
    for i in range(0, len(raw) - 15, 16):
        typ = int.from_bytes(raw[i:i + 8], "little")
        val = int.from_bytes(raw[i + 8:i + 16], "little")
        if typ == AT_SYSINFO_EHDR:
            return val
        if typ == AT_NULL:
            break
    return None


def _auxv_entry(sp):
    """The stack address of the AT_SYSINFO_EHDR entry of the vector that starts the
    process's stack at SP (argc, argv..., NULL, envp..., NULL, auxv pairs), or None."""
    word = memory.u64
    argc = word(sp)
    if argc > MAX_WORDS:
        return None
    p = sp + 8 * (argc + 2)          # past argc, argv[0..argc-1] and argv's NULL
    for _ in range(MAX_WORDS):       # envp, up to its NULL
        p += 8
        if word(p - 8) == 0:
            break
    else:
        return None
    for _ in range(MAX_WORDS):       # auxv pairs, up to AT_NULL
        typ = word(p)
        if typ == AT_NULL:
            return None
        if typ == AT_SYSINFO_EHDR:
            return p
        p += 16
    return None


def hide():
    """Hide the vDSO from the program stopped at its first instruction (`starti`),
    when gdb's `record full` will record it. Returns what was done, for the log:
    "hidden", or why not ("not gdb", "no vdso", "not at the first instruction")."""
    if debugger.kind() != "gdb":
        return "not gdb"
    want = _auxv_from_proc()
    if want is None:
        return "no vdso"
    try:
        sp = int(gdb.parse_and_eval("$sp"))
        at = _auxv_entry(sp)
        # A fresh process's stack starts with the vector the kernel also keeps in
        # /proc: anywhere else the walk reads something else, and nothing is written.
        if at is None or memory.u64(at + 8) != want:
            return "not at the first instruction"
        memory.inferior().write_memory(at, AT_IGNORE.to_bytes(8, "little"))
    except gdb.MemoryError:
        return "not at the first instruction"
    return "hidden"
