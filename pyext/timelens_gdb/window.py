"""The recorded window (gdb record full): run at full speed to where the user
wants history to begin, record from there, and end where recording must end.

Everything before recording runs live, and no watchpoint is ever inserted
while the process runs live: on some machines (AMD EPYC under the PVM
hypervisor) hardware watchpoints are accepted and never fire, and gdb's
software watchpoints single-step. Watchpoints work everywhere in record full
replay, which is where the moves use them. So start-up stops only at
breakpoints (machine code), each phase exact:

  1. At full speed to the function that runs the main script (the table's
     run_main; with a shared libpython its breakpoint resolves when the
     library loads).
  2. To the first call of the main module's code, at the breakpoints where
     calls start (the table's RESUME labels, 3.11+; the evaluator's entry,
     3.10), filtered in Python: few hits.
  2b. With --record-from FUNC: to its first call. Its code objects are found
     among the main script's constants (else FUNC is searched by name, in
     any module), and the call-start breakpoints stop where one of them
     starts (gdb's own condition on the starting frame's code; generators
     and coroutines: the first resumption, which is the first run of their
     RESUME). Where RESUME quickens (3.11: after 8 runs, 3.13+: at its first
     run) the labels see few runs per code object; 3.12 and 3.10 see every
     call. So imports are run over (a breakpoint on the import's entry, then
     one where it returns) while the main module has not yet reached the
     statement that makes FUNC's functions: until then none exists, and no
     import can call one. (Not where a loop or a function makes them.)
  3. To that frame's first line event: a few dozen machine instructions,
     nexti by nexti, with the line-event rule applied at each change of the
     frame's position.
  4. `record full` until the main module's evaluation returns (a breakpoint
     where it returns to its C caller), a system call record full cannot
     follow (catchpoints), about LIMIT instructions, or SECONDS elapse; then
     back to the window's start. The reply says why the window ended
     (window_end) and, when early, where the program's own code was then
     (window_end_at: a second thread started by the line that called
     Thread.start()), and how long each live phase took (phases).
"""

import os
import re
import signal
import threading
import time

import gdb

from . import debugger, frames, layout, memory, moves, source, vdso, window_state
from .code import code_info, is_code, pystr, pytuple
from .debugger import resume, stops
from .errors import TimelensError

END_SYSCALLS = ("exit_group", "exit", "clone3", "clone", "fork", "vfork", "rseq",
                "epoll_create1", "epoll_create", "execve")
_REFUSED_SYSCALL = re.compile(r"doesn't support syscall number (\d+)")


def syscall_name(number):
    """The name gdb's syscall table gives a system call number, or "number N"."""
    try:
        out = gdb.execute("catch syscall %d" % number, to_string=True)
    except gdb.error:
        return "number %d" % number
    m = re.search(r"Catchpoint (\d+) \(syscall '([a-z_0-9]+)'", out)
    if m:
        gdb.execute("delete %s" % m.group(1), to_string=True)
        return m.group(2)
    m = re.search(r"Catchpoint (\d+)", out)
    if m:
        gdb.execute("delete %s" % m.group(1), to_string=True)
    return "number %d" % number


CHECK_SECONDS = 0.25
# Phase 3 steps at most this many machine instructions (calls run over) from
# a call's start to its first line event: about 30 (3.11+) to 110 (3.10).
MAX_FIRST_EVENT_STEPS = 20000


# -- finding FUNC in the main script ------------------------------------------------

class Target:
    """What the search for the first call of FUNC (None: of the main module)
    looks for: the code objects named FUNC in the main script (codes, by
    address), else any code object of that name (by name, in any module).
    made_from: the first line of the main module's statement that makes
    every one of FUNC's functions, once (source.made_once_from), or None."""

    def __init__(self, func, codes=(), made_from=None):
        self.func = func
        self.codes = list(codes)
        self.made_from = made_from

    def label(self):
        return self.func or "the main module"

    def matches(self, co):
        """Code object co is one of FUNC's (its address or its name)."""
        if self.codes:
            return co in self.codes
        name, _ = _code_names(co)
        if name != self.func.rsplit(".", 1)[-1]:
            return False
        return moves.matches(code_info(co), self.func)


def _code_names(co):
    """(co_name, co_qualname or None) of a code object, read without decoding it."""
    L = layout.get()
    qual = pystr(memory.u64(co + L.co_qualname)) if L.co_qualname is not None else None
    return pystr(memory.u64(co + L.co_name)), qual


def find_codes(code_addr, func, depth=0, out=None):
    """The addresses of the code objects named func among the constants of a
    code object, recursively."""
    L = layout.get()
    out = [] if out is None else out
    if depth > 20:
        return out
    consts = memory.u64(code_addr + L.co_consts)
    if not consts:
        return out
    bare = func.rsplit(".", 1)[-1]
    for o in pytuple(consts)[:100000]:
        if not is_code(o):
            continue
        name, qual = _code_names(o)
        if name == bare and (qual is None or qual == func or name == func):
            if qual is not None or moves.matches(code_info(o), func):
                out.append(o)
        find_codes(o, func, depth + 1, out)
    return out


def _is_start(f, target):
    """Frame f starts a call of the target (not the creation of a generator,
    not a resumption)."""
    ci = frames.code_of(f)
    if ci is None:
        return False
    if target.func is None:
        ok = ci.name == "<module>" and ci.has_source
    else:
        ok = target.matches(ci.addr) and not moves.creates_generator(f, ci)
    return ok and frames.fresh(f, ci)


# -- live stops: breakpoints only ----------------------------------------------------

def _breakpoint(spec, condition=None):
    """An internal, silent breakpoint (None where spec names nothing here)."""
    try:
        b = gdb.Breakpoint(spec, internal=True)
    except (gdb.error, RuntimeError):
        return None
    if getattr(b, "pending", False):
        b.delete()
        return None
    b.silent = True
    if condition:
        b.condition = condition
    return b


def _delete(bps):
    for b in bps:
        if b is not None and b.is_valid():
            b.delete()


def _call_start_specs():
    """(breakpoint spec, gdb expression of the starting frame) for every place
    where Python calls start: the evaluator's entry (3.10) or its RESUME labels."""
    t = layout.get().t
    if t.call_start == "entry":
        return [("*(unsigned long)&'%s'" % t.entry_function, t.entry_frame_register)]
    cf = frames.current_frame_location()
    out = []
    for label in t.resume_labels:
        spec = "%s:%s" % (t.entry_function, label)
        try:
            gdb.decode_line(spec)
        except gdb.error:
            continue
        out.append((spec, "(%s)" % cf.expr))
    if not out:
        # No labels (no debug info): the handlers' addresses from the loop's
        # computed-goto table in memory, by the layout's opcode numbers.
        L = layout.get()
        targets = L.opcode_targets()
        for label in t.resume_labels if targets else ():
            op = L.op(label[len("TARGET_"):])
            spec = "*0x%x" % targets[op] if op is not None else None
            if spec and spec not in (o[0] for o in out):
                out.append((spec, "(%s)" % cf.expr))
    if not out:
        raise TimelensError("no-debug-symbols", "none of %s in this CPython's evaluation loop, and no table of "
                            "its opcode handlers in memory: cannot find where calls start (%s)"
                            % (", ".join(t.resume_labels), layout.DEBUG_SYMBOLS_HINT),
                            detail="no label %s" % t.resume_labels[0])
    return out


def _frame_code_expr(frame_expr):
    """A gdb expression for the address of the code object that frame_expr runs."""
    L = layout.get()
    code = "*(unsigned long *)((unsigned long)%s + %d)" % (frame_expr, L.f_code)
    if L.t.stackref_mask is not None:
        code = "(%s & 0x%x)" % (code, L.t.stackref_mask & 0xffffffffffffffff)
    return code


class CallStart(moves.Checked, gdb.Breakpoint):
    """A call-start breakpoint for a search by name (or for the main module):
    stop() reads the starting frame and accepts the target's first call."""

    def __init__(self, spec, frame_expr, target):
        super().__init__(spec, internal=True)
        self.silent = True
        self.frame_expr = frame_expr
        self.target = target
        self.hits = 0
        self.f = None

    def check(self):
        self.hits += 1
        # gdb.MemoryError: a frame or code object not there yet, no stop
        # (moves.Checked); any other error ends the search.
        f = int(gdb.parse_and_eval("(unsigned long)%s" % self.frame_expr))
        if self.target.func is not None and not self.target.codes:
            name, _ = _code_names(frames.code_addr(f))
            if name != self.target.func.rsplit(".", 1)[-1]:
                return False
        if _is_start(f, self.target):
            self.f = f
            return True
        return False


class Search:
    """The live part of start-up, with breakpoints only: every resume counted,
    every stop explained, the time of each phase kept for the reply."""

    def __init__(self):
        self.stops = 0
        self.hits = 0
        self.phases = {}
        self.counts = {}

    def phase(self, name, t0, hits=None):
        self.phases[name] = round(time.time() - t0, 3)
        if hits is not None:
            self.counts[name] = hits

    def run(self, cmd="continue"):
        """Resume live; the stop event, or None when the program is gone."""
        stops().last = None
        self.stops += 1
        moves.resume_move(cmd)  # a breakpoint's stop() that failed ends the search
        if not _alive():
            return None
        return stops().last


def _alive():
    try:
        return memory.inferior().pid != 0 and gdb.selected_thread() is not None
    except gdb.error:
        return False


def _ended_before(target, ev):
    """The error for a program that ended (ev None) or stopped before the
    search found the target's call: then the search has proved it was never
    called (ended: "exited", or "signal SIGSEGV", ...)."""
    what = "%s was never called" % target.label()
    if ev is None:
        return TimelensError("never-called", what + ": the program ran to its end without calling it",
                             function=target.func or "", ended="exited")
    if isinstance(ev, gdb.SignalEvent):
        return TimelensError("never-called", "%s: the program received %s first" % (what, ev.stop_signal),
                             function=target.func or "", ended="signal " + ev.stop_signal)
    return TimelensError("internal", "looking for the first call of %s, the program stopped for another reason (%s)"
                         % (target.label(), type(ev).__name__))


def _pending_breakpoint(spec, condition=None):
    """An internal, silent breakpoint that may wait for its library; None
    where gdb refuses it."""
    try:
        b = gdb.Breakpoint(spec, internal=True)
    except (gdb.error, RuntimeError):
        return None
    b.silent = True
    if condition:
        b.condition = condition
    return b


class _MainScriptRun(moves.Checked, gdb.Breakpoint):
    """The table's run_code (PyEval_EvalCode: code, globals, locals in rdi,
    rsi, rdx at its entry) where it runs the main script: once the runtime
    says it is initialized and only for globals whose __name__ is
    "__main__". CPython sets "initialized" before it imports site, and the
    imports run their code through run_code too, so the flag alone would stop
    in site's code; the main script (and runpy's run of `-m`) runs in
    __main__'s namespace."""

    def __init__(self, spec, flag):
        super().__init__(spec, internal=True)
        self.silent = True
        self.flag = flag
        self.hits = 0

    def check(self):
        self.hits += 1
        # gdb.MemoryError: memory not there yet, no stop (moves.Checked).
        if memory.i32(self.flag) == 0:
            return False
        from .values import Reader
        r = Reader()
        globals_ = int(gdb.parse_and_eval("$rsi")) & 0xffffffffffffffff
        found = r.dict_lookup_str(globals_, "__name__") if globals_ else None
        return found is not None and r.str_equals(found[0], "__main__")


def _run_code_breakpoints(run_main):
    """Where start-up stops when none of the run_main breakpoints resolves
    (no .symtab): the table's run_code where it runs the main script
    (_MainScriptRun, versions/v3_10.py); [] where one resolves (start-up goes
    on to it, as with the debug info) or the interpreter cannot say."""
    if any(b.is_valid() and not b.pending for b in run_main):
        return []
    try:
        L = layout.get()
        flag = L.runtime + L.off("runtime", "initialized")
    except (KeyError, TimelensError, gdb.error):
        return []
    try:
        return [_MainScriptRun(L.t.run_code, flag)]
    except (gdb.error, RuntimeError):
        return []


def _to_run_main(search):
    """Phase 1: at full speed to the function that runs the main script. With a
    shared libpython the breakpoints are pending until the library loads."""
    t0 = time.time()
    t = None
    if layout.has_interpreter():
        try:
            if frames.current_frame() != 0:
                return
        except (gdb.error, TimelensError):
            pass
        t = layout.get().t
    from .versions import TABLES
    names = t.run_main if t is not None else sorted({n for v in TABLES.values() for n in v.run_main})
    bps = []
    for name in names:
        try:
            b = gdb.Breakpoint(name, internal=True, temporary=True)
            b.silent = True
            bps.append(b)
        except (gdb.error, RuntimeError):
            continue
    if not bps:
        raise TimelensError("no-debug-symbols", "none of %s in this CPython: cannot find where the main script "
                            "starts" % ", ".join(names), detail="no function %s" % names[0])
    fallback = []
    try:
        if layout.has_interpreter():
            fallback = _run_code_breakpoints(bps)
        else:
            # A shared libpython, not loaded yet: its entry from main first.
            fallback = [b for b in (_pending_breakpoint(n) for n in
                                    sorted({v.main_entry for v in TABLES.values()})) if b is not None]
        ev = search.run()
        while isinstance(ev, gdb.BreakpointEvent) and any(b in ev.breakpoints for b in fallback) \
                and not any(b.is_valid() and b in ev.breakpoints for b in bps):
            if any(b.is_valid() and isinstance(b, _MainScriptRun) for b in fallback if b in ev.breakpoints):
                break  # run_code running the main script
            _delete(fallback)
            # The version is known now: only its own run_main counts (3.10's
            # PyRun_SimpleFileExFlags is exported by later versions too, unused).
            try:
                own = layout.get().t.run_main
                _delete([b for b in bps if b.is_valid() and b.location not in own])
                bps = [b for b in bps if b.is_valid()]
            except TimelensError:
                pass
            fallback = _run_code_breakpoints(bps)  # [] where run_main resolved: on to it
            ev = search.run()
    finally:
        _delete(bps + fallback)
    if not isinstance(ev, gdb.BreakpointEvent) or not layout.has_interpreter():
        raise TimelensError("never-called", "the program ended before Python ran its main script "
                            "(is it a Python program?)", function="")
    layout.forget()
    frames.forget()
    search.phase("to_main_script", t0)


def _to_module(search):
    """Phase 2: to the first call of the main module's code (few call starts:
    only what Python runs between starting the script and running it)."""
    t0 = time.time()
    target = Target(None)
    bps = [CallStart(spec, fexpr, target) for spec, fexpr in _call_start_specs()]
    try:
        ev = search.run()
    finally:
        hits = sum(b.hits for b in bps)
        found = next((b.f for b in bps if b.f is not None), None)
        _delete(bps)
    search.hits += hits
    if not isinstance(ev, gdb.BreakpointEvent) or found is None:
        raise _ended_before(target, ev)
    search.phase("to_main_module", t0, hits)
    return found


def _target(func, module):
    """FUNC's code objects in the main script (the code of the main module's
    frame; None: the outermost Python frame's), or a search by name when it
    has none. (At 3.10's call start the module's frame is not yet current.)"""
    if module is None:
        outer = frames.python_frames()
        module = outer[-1][0] if outer else None
    ci = frames.code_of(module) if module else None
    found = find_codes(ci.addr, func) if ci is not None else []
    if not found:
        return Target(func)
    lines = [source.made_once_from(ci.filename, memory.i32(c + layout.get().co_firstlineno)) for c in found]
    return Target(func, found, None if None in lines else min(lines))


def _to_first_call(search, target, module):
    """Phase 2b: to the first call of FUNC, from the call-start breakpoints:
    by address with gdb's own condition on the starting frame's code, by
    name with a Python filter. While the main module's frame is before the
    statement that makes FUNC's functions (Target.made_from), none exists,
    so no import can call one: imports are run over (a breakpoint on the
    import's entry, then one where it returns, at this stack depth)."""
    t0 = time.time()
    t = layout.get().t
    calls, imp = [], None
    window_state.set_var("tl_calls", 0)
    modci = frames.code_of(module) if module else None
    try:
        for spec, fexpr in _call_start_specs():
            if target.codes:
                cond = "($tl_calls = $tl_calls + 1), (%s)" % " || ".join(
                    "%s == 0x%x" % (_frame_code_expr(fexpr), c) for c in target.codes)
                b = _breakpoint(spec, cond)
            else:
                b = CallStart(spec, fexpr, target)
            if b is not None:
                calls.append((b, fexpr))
        if target.made_from is not None and modci is not None:
            imp = _breakpoint("*(unsigned long)&'%s'" % t.import_function)
        skipped = 0
        while True:
            ev = search.run()
            if not isinstance(ev, gdb.BreakpointEvent):
                raise _ended_before(target, ev)
            if imp is not None and imp in ev.breakpoints:
                if modci.line_at(frames.ip_index(module, modci)) >= target.made_from:
                    _delete([imp])  # FUNC's functions may exist from here on
                    imp = None
                    continue
                # Run over the import: to its return, where the stack pointer is
                # this call's again (a nested import returns to the same place).
                sp = int(gdb.parse_and_eval("(unsigned long)$sp"))
                ret = memory.u64(sp)
                for b, _ in calls:
                    b.enabled = False
                imp.enabled = False
                back = _breakpoint("*0x%x" % ret, "$sp == 0x%x" % (sp + 8))
                try:
                    ev = search.run()
                finally:
                    _delete([back])
                    for b, _ in calls:
                        b.enabled = True
                    imp.enabled = True
                if not isinstance(ev, gdb.BreakpointEvent):
                    raise _ended_before(target, ev)
                skipped += 1
                continue
            hit = [(b, fe) for b, fe in calls if b in ev.breakpoints]
            if not hit:
                raise TimelensError("internal", "stopped at a breakpoint timelens did not set while looking "
                                    "for %s" % target.label())
            b, fexpr = hit[0]
            if isinstance(b, CallStart):
                f = b.f
                break
            f = int(gdb.parse_and_eval("(unsigned long)%s" % fexpr))
            if _is_start(f, target):
                break
    finally:
        _delete([b for b, _ in calls] + [imp])
    hits = sum(b.hits for b, _ in calls if isinstance(b, CallStart))
    hits += window_state.get_var("tl_calls") or 0  # gdb decided those itself
    search.hits += hits
    search.counts["imports_run_over"] = skipped
    search.phase("to_first_call", t0, hits)
    return f


def _step_over(search, arch):
    """One machine instruction, live; a call is run over (a breakpoint where it
    returns, at this stack depth): a pending signal handler or a garbage
    collection the evaluator runs on the way is not stepped through. gdb's own
    nexti would do the same at several times the cost (it unwinds at every
    step). The stop event, or None when the program is gone."""
    pc = moves.pc()
    insn = arch.disassemble(pc)[0]
    if not insn["asm"].lstrip().startswith("call"):
        return search.run("stepi")
    sp = int(gdb.parse_and_eval("(unsigned long)$sp"))
    back = _breakpoint("*0x%x" % (pc + insn["length"]), "$sp == 0x%x" % sp)
    try:
        return search.run()
    finally:
        _delete([back])


def _to_first_event(search, f):
    """Phase 3: from the start of frame f's call to its first line event, live:
    machine instruction by instruction (calls run over, _step_over), applying
    the line-event rule at each change of the frame's position as the ip watch
    does in replay. A few dozen instructions."""
    t0 = time.time()
    ci = frames.code_of(f)
    if ci is None:
        raise TimelensError("internal", "the frame found at the call's start runs no code")
    cf = frames.current_frame_location()
    prev = frames.ip_index(f, ci)
    arch = gdb.selected_frame().architecture()
    for n in range(1, MAX_FIRST_EVENT_STEPS + 1):
        ev = _step_over(search, arch)
        if ev is None:
            raise TimelensError("no-process", "the program ended before the first line of %s ran" % ci.qualname)
        if cf.read() != f:
            continue
        cur = frames.ip_index(f, ci)
        if cur == prev:
            continue
        if ci.crossed_event(cur, prev):
            search.counts["first_line_steps"] = n
            search.phase("to_first_line", t0)
            return
        prev = cur
    raise TimelensError("gave-up", "the first line event of %s was not reached in %d machine instructions"
                        % (ci.qualname, MAX_FIRST_EVENT_STEPS))


def _module_return():
    """(pc, sp) where the main script's evaluation returns to its C caller: the
    caller of the oldest PyEval_EvalCode on the machine stack (run_mod, for
    the script python runs), else of the function that runs the main script
    (the table's run_main). Both places are reached once, when the script
    ends: a breakpoint that record full meets while it records must be (a
    conditional one whose condition fails there, where gdb resumes, leaves
    the log wrong at that instruction; the evaluator's own return address is
    shared by every call from C). None when gdb cannot unwind to either."""
    names = ("PyEval_EvalCode",) + tuple(layout.get().t.run_main)
    ranges = None
    found = {}
    try:
        fr = gdb.newest_frame()
        n = 0
        while fr is not None and n < 10000:
            name = fr.name()
            if name not in names:
                # No .symtab: gdb may name no frame at all; the exported
                # functions' ranges from the file's dynamic symbols (read
                # only then: with debug info every frame has its name).
                ranges = _dynamic_ranges(names) if ranges is None else ranges
                pc = fr.pc() - (0 if fr.type() != gdb.NORMAL_FRAME or fr.newer() is None else 1)
                name = next((k for k, (lo, hi) in ranges.items() if lo <= pc < hi), None)
            if name in names and fr.older() is not None:
                found[name] = fr.older()  # the oldest wins
            fr = fr.older()
            n += 1
        for name in names:
            caller = found.get(name)
            if caller is not None:
                return caller.pc(), int(caller.read_register("rsp"))
        return None
    except (gdb.error, RuntimeError):
        return None
    finally:
        try:
            gdb.newest_frame().select()
        except gdb.error:
            pass


def _dynamic_ranges(names):
    """{name: (start, end)} of those of names that are the file's dynamic
    symbols, at their run-time addresses (a stripped Python keeps them)."""
    from . import evalloop
    out, files = {}, {}
    for name in names:
        addr = layout.symbol_address(name)
        if addr is None:
            continue
        try:
            path = evalloop._elf_file(addr)
            if path not in files:
                files[path] = evalloop.ElfFile(path)
            size = files[path].dynsym.get(name, (0, 0))[1]
        except (OSError, ValueError, RuntimeError):
            continue
        if size:
            out[name] = (addr, addr + size)
    return out


def record_window(target, limit, seconds=600.0):
    """-timelens-record-window: phases 1-3 live (_to_window_start), phase 4
    (_record), then back to the window's start (_back_to_start). target is
    FUNC, or "--main" for the main module's first line."""
    t0 = time.time()
    window = _prepare_to_record()
    clock = vdso.hide()  # before the dynamic loader runs: the program's clock by system calls
    search = Search()
    t_search = _to_window_start(search, None if target == "--main" else target)
    window.after_store(moves.pc())
    start_pos = frames.position()
    n = search.stops
    hits = search.hits
    rec = _record(limit, seconds)
    pos, reason = _back_to_start(window, rec, start_pos)
    pos.update({"window_end": reason, "window_end_at": rec.end_at, "instructions": rec.ninsn,
                "lowest_instruction": rec.low, "resume_hits": hits, "search_seconds": round(t_search, 3),
                "record_seconds": round(rec.seconds, 3), "interrupts": rec.interrupts,
                "startup_seconds": round(rec.t_start - t0, 3), "stops": n,
                "phases": search.phases, "counts": search.counts,
                "module_return": "0x%x" % rec.ret[0] if rec.ret else None, "vdso": clock})
    return pos


def _prepare_to_record():
    """A live process that is not recording yet, and gdb set up for the
    search; the window of this process (window_state: a new process gets a
    new one), its end unknown."""
    if memory.inferior().pid == 0:
        raise TimelensError("no-process", "no live process: start it first (e.g. starti)")
    if debugger.record_state()[0] is not None:
        raise TimelensError("bad-argument", "already recording")
    window = window_state.current()
    window.end_pc = None
    gdb.execute("set pagination off", to_string=True)
    gdb.execute("set may-call-functions off", to_string=True)
    gdb.execute("set breakpoint pending on", to_string=True)
    return window


def _to_window_start(search, func):
    """Phases 1-3, live: to the first line event of FUNC's first call (None:
    of the main module). Returns how long phases 1 and 2 took."""
    _to_run_main(search)
    layout.get()
    # Phase 2: to the main module's first line, then to FUNC's first call.
    f = None
    if func is None or frames.current_frame() == 0:
        f = _to_module(search)
    baseline = os.environ.get("TIMELENS_STARTUP_BASELINE") == "watchpoints"  # make bench's baseline only
    if func is not None:
        tgt = _target(func, f)
        search.counts["function_codes"] = len(tgt.codes)
        if baseline:
            from . import startup_baseline
            f = startup_baseline.to_first_call(search, tgt, _call_start_specs, CallStart)
        else:
            f = _to_first_call(search, tgt, f)
    t_search = sum(search.phases.values())
    # Phase 3: to that frame's first line event (a few instructions, live).
    if baseline:
        from . import startup_baseline
        startup_baseline.to_first_event(search, f)
    else:
        _to_first_event(search, f)
    return t_search


class _Recording:
    """What phase 4 saw: the last stop (ev) and what gdb said (out), the
    module's return (ret: (pc, sp) or None) and whether it was reached, the
    interrupts, why it ended (reason), when recording began (t_start) and
    how long it took (seconds); at the window's end (_back_to_start) where the program was
    (end_at), the log's size and lowest instruction."""

    def __init__(self):
        self.ev = None
        self.out = ""
        self.ret = None
        self.main_returned = False
        self.reason = None
        self.interrupts = 0
        self.t_start = 0.0
        self.seconds = 0.0
        self.end_at = None
        self.ninsn = None
        self.low = None


def _end_catchpoints():
    """Catchpoints on the system calls that end the window (END_SYSCALLS):
    gdb's numbers."""
    cps = []
    for sc in END_SYSCALLS:
        try:
            out = gdb.execute("catch syscall %s" % sc, to_string=True)
            m = re.search(r"Catchpoint (\d+)", out)
            if m:
                cps.append(int(m.group(1)))
        except gdb.error:
            pass  # a name this gdb's syscall table does not have
    return cps


def _record(limit, seconds):
    """Phase 4: `record full` until the main module returns, a system call
    ends the window, about limit instructions or seconds."""
    rec = _Recording()
    gdb.execute("set record full insn-number-max %d" % int(limit), to_string=True)
    gdb.execute("set record full stop-at-limit on", to_string=True)
    gdb.execute("record full", to_string=True)
    cps = _end_catchpoints()
    # End the window when the main module's evaluation returns: interpreter
    # finalization is long and of no interest. A breakpoint where it returns
    # to its C caller, reached once (record full checks breakpoints itself
    # as it records).
    rec.ret = _module_return()
    wend = _breakpoint("*0x%x" % rec.ret[0], "$sp == 0x%x" % rec.ret[1]) if rec.ret else None
    # gdb answers its "log full" query itself when not on a terminal (yes: drop the
    # oldest entries), which would lose the window start. So gdb's own limit is a
    # guard well above LIMIT, and the recording is interrupted every CHECK_SECONDS
    # (SIGINT, which gdb keeps from the program) to compare the log size with LIMIT.
    gdb.execute("set record full insn-number-max %d" % (int(limit) + max(200000, int(limit) // 2)), to_string=True)
    rec.t_start = time.time()
    _record_until(rec, limit, seconds)
    rec.main_returned = isinstance(rec.ev, gdb.BreakpointEvent) and wend is not None and wend in rec.ev.breakpoints
    _delete([wend])
    for c in cps:
        gdb.execute("delete %d" % c, to_string=True)
    rec.reason = _end_reason(rec, limit, seconds)
    rec.seconds = time.time() - rec.t_start
    return rec


def _record_until(rec, limit, seconds):
    """Records (continue) until a stop that is not the CHECK_SECONDS
    interrupt, or the log holds limit instructions, or seconds have passed."""
    pid = memory.inferior().pid
    while True:
        timer = threading.Timer(CHECK_SECONDS, lambda: os.kill(pid, signal.SIGINT))
        timer.start()
        stops().last = None
        try:
            rec.out = resume("continue")
        except gdb.error as e:
            rec.out = str(e)
        finally:
            timer.cancel()
        ev = stops().last
        if isinstance(ev, gdb.SignalEvent) and ev.stop_signal == "SIGINT":
            rec.interrupts += 1
            size = debugger.log_size()
            if (size is not None and size >= limit) or time.time() - rec.t_start > seconds:
                break
            continue
        break
    rec.ev = stops().last


def _end_reason(rec, limit, seconds):
    """Why the recording ended (the reply's window_end), from its last stop."""
    ev, out = rec.ev, rec.out
    if isinstance(ev, gdb.SignalEvent) and ev.stop_signal == "SIGINT":
        size = debugger.log_size()
        return ("instruction limit (%d)" % limit) if size is not None and size >= limit \
            else "time limit (%gs)" % seconds
    if isinstance(ev, gdb.SignalEvent):
        return "signal " + ev.stop_signal
    if rec.main_returned:
        return "main module returned"
    if isinstance(ev, gdb.BreakpointEvent):
        m = re.search(r"syscall (\d+ )?'?([a-z_0-9]+)'?", out)
        return "syscall " + (m.group(2) if m else "?")
    if _REFUSED_SYSCALL.search(out):
        # record full refused it before its catchpoint could stop (gdb 16: clone3).
        return "syscall " + syscall_name(int(_REFUSED_SYSCALL.search(out).group(1)))
    if "stopped by user" in out or "limit" in out:
        return "instruction limit"
    return "stopped"


def _back_to_start(window, rec, start_pos):
    """At the window's end: its end and start go in the window, time goes
    back to the start. Returns (the position there, why the window ended)."""
    window.end_pc = moves.pc()
    rec.end_at = end_position() if rec.reason != "main module returned" else None
    rec.ninsn = debugger.log_size()
    rec.low = debugger.lowest_instruction()
    debugger.goto("begin")
    pos = frames.position()
    lost = pos["line"] != start_pos["line"] or pos["frame"] != start_pos["frame"]
    window.begin_is_event = not lost
    window.function = start_pos["function"]
    window.frame = start_pos["frame"]
    window.begin = debugger.record_state()[1]
    reason = rec.reason
    if not lost:
        window.after_store(moves.pc())
    else:
        reason += "; the window start was lost (gdb's log limit was reached)"
    window.end_reason = reason
    return pos, reason


# A file of Python's own library (or of an installed package): the program's
# line that led there says more to the user.
_LIBRARY = re.compile(r"/lib/python\d+(\.\d+)?t?/|^<")


def end_position():
    """Where Python was when the recording stopped: the innermost frame in
    the program's own files (threading.py's start() is not what the user
    wrote; the line that called it is), else the innermost frame; None
    without one."""
    fs = frames.python_frames()
    for f, ci in fs:
        if not _LIBRARY.search(ci.filename or "<"):
            break
    else:
        if not fs:
            return None
        f, ci = fs[0]
    return {"file": ci.filename, "line": ci.line_at(frames.ip_index(f, ci)), "function": ci.qualname}


def restored(setup):
    """A window restored from a saved recording (record full restore), where
    time is at its start: setup is the JSON of what record_window found
    (function, frame); the first position is a line event."""
    import json
    window = window_state.current()
    fields = json.loads(setup)
    window.function = fields.get("function", window.function)
    window.frame = fields.get("frame", window.frame)
    debugger.goto("end")
    window.end_pc = moves.pc()
    debugger.goto("begin")
    window.begin_is_event = True
    window.begin = debugger.record_state()[1]
    window.after_store(moves.pc())
