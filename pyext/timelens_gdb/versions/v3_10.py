"""CPython 3.10: frame objects, f_lasti, the PEP 626 line table.

Sources: Include/cpython/frameobject.h (PyFrameObject, enum _framestate),
Include/cpython/code.h, Include/cpython/pystate.h (tstate->frame),
Python/ceval.c (DISPATCH stores f->f_lasti = INSTR_OFFSET() before every
instruction when not tracing, computed gotos; maybe_call_line_trace: a line
event at instruction i after p when line(i) != -1 and (i < p or line(i) !=
line(p))), Objects/lnotab_notes.txt (co_linetable)."""


class V3_10:
    key = (3, 10)

    # -- where the interpreter keeps a thread's current frame ----------------
    # A field path from PyThreadState; every link but the last is a pointer.
    current_frame = ("frame",)
    # A thread-local holding the running thread's PyThreadState (3.12+).
    tstate_tls = None
    # How a gdb thread is matched to its PyThreadState: the OS thread id
    # (native_thread_id) or the pthread handle (thread_id).
    thread_match = "pthread"
    # The first thread state of an interpreter (PyInterpreterState field path).
    interp_threads_head = "tstate_head"

    # -- frames -----------------------------------------------------------------
    frame_type = ("PyFrameObject", "struct _frame")
    frame_code = "f_code"
    frame_previous = "f_back"
    frame_globals = "f_globals"
    frame_builtins = "f_builtins"
    frame_locals = "f_locals"
    frame_localsplus = "f_localsplus"
    # The field the interpreter stores before each instruction, and what it
    # holds: "index" (an int: the instruction's index) or "pointer" (the
    # address of the instruction's code unit).
    frame_ip = "f_lasti"
    ip_kind = "index"
    # "pointer": the instruction index is the byte distance from code unit 0
    # shifted by CODE_UNIT_SHIFT (a _Py_CODEUNIT is 2 bytes).
    CODE_UNIT_SHIFT = 1
    # A frame is complete (its variables, cells and generator exist) once it
    # is pushed (a frame object), rather than from _co_firsttraceable on.
    frame_complete_when_pushed = True
    # The frame's owner field (None: a frame object, a generator's when f_gen
    # is set), its values, and owners from which frames are interpreter shims.
    frame_owner = None
    owners = {}
    owner_generator = None
    first_shim_owner = None
    # 3.14 wraps f_executable and frame slots in _PyStackRef: a tag in the
    # low bits to clear (None: plain PyObject*).
    stackref_mask = None
    # Where a generator frame says it has started, is suspended or done:
    # ("frame", field) in the frame itself, or ("gen", field) in the generator
    # object that holds the frame at gi_iframe.
    gen_state = ("frame", "f_state")
    gen_link = "f_gen"
    # The frame state (enum _framestate, read from the interpreter) from which
    # a generator's call is over.
    gen_done_state = "FRAME_RETURNED"

    # -- code objects -------------------------------------------------------------
    # "object": co_code is a bytes object; "inline": co_code_adaptive.
    code_bytes = "object"
    # "pep626": (start delta, line delta) byte pairs; "locations": 3.11's
    # location table (Objects/locations.md).
    line_table = "pep626"
    # "pep626": the line delta that means "no line".
    PEP626_NO_LINE = -128
    # Variables: "split" (co_varnames, co_cellvars, co_freevars, co_nlocals)
    # or "kinds" (co_localsplusnames and co_localspluskinds).
    localsplus = "split"
    # The code's qualified name: a field, or None (read from the syntax tree
    # of its source, by first line and name).
    qualname_field = None
    # The first instruction a frame traces (None: 0).
    firsttraceable_field = None
    exception_table = None
    # Opcodes that a generator's code starts with and that trace no line.
    entry_ops = ("GEN_START",)

    # -- line events ----------------------------------------------------------------
    # The rule that turns stores of frame_ip into sys.settrace line events
    # (code.py): "lasti" (3.10), "tracing" (3.11), "monitoring" (3.12+).
    line_rule = "lasti"
    # Instructions that store a position of their own, always or with a nonzero
    # oparg: the store after them starts no instruction (Python/ceval.c,
    # bytecodes.c). RERAISE puts back where the exception was raised, for the
    # traceback; 3.10's YIELD_FROM steps f_lasti back onto itself when the
    # subiterator yields, to run again when the generator resumes.
    restores_position = {"RERAISE": "oparg", "YIELD_FROM": "always"}
    # Superinstructions run two instructions with one store of frame_ip.
    superinstructions = False
    # By opcode name (numbers come from the interpreter):
    # "tracing": instructions that trace no line, and that trace no backward
    # jump to them ("monitoring" marks lines instead, below).
    no_line_ops = ()
    no_backward_ops = ()
    # "monitoring": instructions that never start a line, jump targets that
    # are never marked, previous instructions after which the same line is an
    # event again, and where each jump goes ("forward": next + oparg,
    # "forward+1": one further, past END_FOR/END_SEND; "backward": next - oparg).
    never_line_start = ()
    never_marked_target = ()
    line_again_after = ()
    jumps = {}
    # sys.monitoring's saved opcodes of INSTRUMENTED_LINE instructions, in
    # _PyCoMonitoringData.lines: (header bytes, bytes per entry or None when
    # the header's first byte says).
    monitoring_lines = None

    # -- the exception in flight -----------------------------------------------------
    # Where a thread state holds the exception being raised (Include/cpython/
    # pystate.h): curexc_type, curexc_value (unnormalized where C code raised it:
    # NULL, the one argument or the tuple of arguments) and curexc_traceback;
    # 3.12+: current_exception, the instance (its traceback in the instance).
    exception_state = ("curexc_type", "curexc_value", "curexc_traceback")
    # A traceback entry's frame object (tb_frame): the field of PyFrameObject
    # that points to the interpreter frame holding f_code/f_executable (None:
    # the frame object is that frame, 3.10).
    frame_object_frame = None
    # The modules whose name the traceback of an uncaught exception leaves
    # out of its type's name (Python/pythonrun.c print_exception: builtins;
    # 3.11+ also __main__, as the traceback module does).
    exception_modules_omitted = ("builtins",)

    # -- the interpreter ----------------------------------------------------------------
    # Its module dict (sys.modules): a PyInterpreterState field path.
    interp_modules = "modules"
    # The code object's sys.monitoring data (None: no sys.monitoring).
    code_monitoring_field = None
    # Thread-local bytecode (free-threaded builds only, 3.14+): the frame's
    # index and the code object's copies; a build with the GIL lacks them.
    tlbc_fields = None
    # How to tell this version from the shape of the debug info, where it
    # has no Py_Version (3.11+ have) and the version string is not yet
    # written: (types it lacks, (type, field) it has); None: not needed.
    shape = (("struct _PyInterpreterFrame",), (("PyCodeObject", "co_linetable"),))

    # -- objects --------------------------------------------------------------------
    long_layout = "ob_size"       # sign and digit count in ob_size (3.12: lv_tag)
    # Bits per int digit (PYLONG_BITS_IN_DIGIT) by the size of a digit.
    LONG_DIGIT_BITS = {4: 30, 2: 15}
    # Dict keys: "entries" (3.10: every entry {hash, key, value}; index bytes
    # from dk_size) or "kinds" (3.11+: dk_kind, dk_log2_index_bytes, compact
    # unicode entries {key, value}).
    dict_keys = "entries"
    # Instance attributes: "dictoffset" (3.10: tp_dictoffset), "pre_values"
    # (3.11: values at -4 words, dict at -3), "dorv" (3.12: tagged
    # dict-or-values at -3 words), "inline" (3.13+).
    managed_dict = "dictoffset"
    # Split values' insertion order: "entries" (values[i] belongs to key entry
    # i, in insertion order), "prefix" (3.11, 3.12: order bytes before the
    # values), "suffix" (3.13+: order bytes after them).
    values_order = "entries"
    tpflags_inline_values = None
    # Dict key entries in words: {hash, key, value} (3.11+ also {key, value}
    # for str keys: UNICODE_ENTRY_WORDS); set entries {key, hash}.
    DICT_ENTRY_WORDS = 3
    SET_ENTRY_WORDS = 2
    TPFLAGS_MANAGED_DICT = 1 << 4
    TPFLAGS_HEAPTYPE = 1 << 9
    # Py_TPFLAGS_TYPE_SUBCLASS: the object is a class (its type is type or
    # a subclass of it).
    TPFLAGS_TYPE_SUBCLASS = 1 << 31
    MANAGED_DICT_WORDS = -3
    T_OBJECT_EX = 16
    CO_OPTIMIZED = 0x1
    # A code object's parameters are the first co_argcount (positional-only
    # included) + co_kwonlyargcount names of its variables, then *args and
    # **kwargs when these flags say so (Include/cpython/code.h).
    CO_VARARGS = 0x4
    CO_VARKEYWORDS = 0x8
    CO_GENERATOR_FLAGS = 0x20 | 0x80 | 0x200   # generator, coroutine, async generator
    # Local kinds for "kinds" variables (Include/internal/pycore_code.h).
    CO_FAST_HIDDEN = 0x10
    CO_FAST_LOCAL = 0x20
    CO_FAST_CELL = 0x40
    CO_FAST_FREE = 0x80

    # -- start-up and the recorded window ---------------------------------------------
    # Everything before recording runs live, where no watchpoint may be used (on
    # some machines hardware watchpoints never fire live), so every stop there
    # is a breakpoint on a function's entry or an evaluator label.
    # The function that runs the main script (Python/pythonrun.c).
    run_main = ("_PyRun_SimpleFileObject", "PyRun_SimpleFileExFlags")
    # Without .symtab (a stripped Python) none of run_main may be there; its
    # dynamic symbols stay. Start-up then stops where the exported run_code
    # runs the main script: once the runtime says it is initialized
    # (_PyRuntime field "initialized"), with globals whose __name__ is
    # "__main__" (site's imports, after the flag is set, run their code
    # through run_code too, in their own modules' namespaces). A shared
    # libpython is loaded at main_entry, the exported function main calls
    # (Programs/python.c: across libraries, never inlined), where that
    # condition can be made.
    run_code = "PyEval_EvalCode"
    main_entry = "Py_BytesMain"
    # Where Python calls start: the frame evaluator's entry ("entry": every call
    # and every resumption of a generator enters it, the frame in a register of
    # the x86-64 calling convention), or the RESUME handlers ("resume").
    call_start = "entry"
    entry_function = "_PyEval_EvalFrameDefault"
    entry_frame_register = "$rsi"     # _PyEval_EvalFrameDefault(tstate, f, throwflag)
    # The evaluator labels a call start passes. Each version lists the forms a
    # code object's first run has (RESUME before it is quickened, the
    # instrumented RESUME under sys.monitoring), not the quickened ones: where
    # RESUME quickens (3.11: after 8 runs; 3.13+: at its first run) these see
    # few runs per code object; 3.12 has no quickened RESUME (every run).
    resume_labels = ()
    # How many runs of one code object the call-start breakpoints see, for the
    # bench and the docs: None is every run.
    resume_runs_seen = None
    # The import statement's C entry (Python/import.c): while the main module
    # has not yet run the statement that makes FUNC's function, imports are
    # run over.
    import_function = "PyImport_ImportModuleLevelObject"
