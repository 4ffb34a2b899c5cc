package gdbmi

// DebuggeeGlibcTunables is the GLIBC_TUNABLES value timelens gives the
// programs it records with gdb. gdb's `record full` cannot record AVX-512
// instructions ("Process record does not support instruction 0x62", in
// glibc's memset/memcpy) nor the rseq system call; these tunables make glibc
// pick its SSE2 routines and skip rseq.
const DebuggeeGlibcTunables = "glibc.pthread.rseq=0:glibc.cpu.hwcaps=-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX2,-AVX,-EVEX,-AVX_Fast_Unaligned_Load"

// DebuggeeBindNow makes the dynamic linker bind every symbol when it loads
// a library (and at dlopen) instead of at its first call. A lazy binding
// runs _dl_runtime_resolve_xsavec, which saves the vector registers with
// XSAVEC to an area on the stack, and gdb 16's `record full` logs no write
// of that instruction to the area's header (its XSTATE_BV and XCOMP_BV
// words). Replayed, those stack words keep what the binding wrote back to
// their previous logged store, which then seems to have stored it. A
// shared libpython binds its own exported functions through its PLT, and
// their first calls fall inside the recorded window (list_repr's
// Py_ReprEnter, ...): there the bogus words can land on a 3.11/3.12
// _PyCFrame, whose current_frame then reads as 0x8000000000000006, and a
// step from one Python function called from C into the next one called
// from the same C function misses the call. Which words get clobbered
// depends on the stack's layout, so on the program's path and environment,
// not on its debug information.
const DebuggeeBindNow = "LD_BIND_NOW=1"

// DebuggeeEnv is the environment timelens adds to a recorded program's.
func DebuggeeEnv() []string {
	return []string{"GLIBC_TUNABLES=" + DebuggeeGlibcTunables, DebuggeeBindNow}
}
