package gdbmi

// DebuggeeGlibcTunables is the GLIBC_TUNABLES value timelens gives the
// programs it records with gdb. gdb's `record full` cannot record AVX-512
// instructions ("Process record does not support instruction 0x62", in
// glibc's memset/memcpy) nor the rseq system call; these tunables make glibc
// pick its SSE2 routines and skip rseq.
const DebuggeeGlibcTunables = "glibc.pthread.rseq=0:glibc.cpu.hwcaps=-AVX512F,-AVX512VL,-AVX512BW,-AVX512DQ,-AVX2,-AVX,-EVEX,-AVX_Fast_Unaligned_Load"

// DebuggeeEnv is the environment timelens adds to a recorded program's.
func DebuggeeEnv() []string {
	return []string{"GLIBC_TUNABLES=" + DebuggeeGlibcTunables}
}
