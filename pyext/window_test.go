package pyext

import "testing"

// TestEndReason: why a window ended, as -timelens-record-window says it,
// in the user's words (window.endReason, annotate's stderr, the editor's
// message).
func TestEndReason(t *testing.T) {
	at := map[string]any{"file": "/src/race.py", "line": 76.0, "function": "main"}
	for _, c := range []struct {
		end  string
		at   map[string]any
		want string
	}{
		{"main module returned", nil, ""},
		{"", nil, ""},
		{"syscall clone3", at, "a second thread started at race.py:76: gdb record full records one thread"},
		{"syscall clone", at, "a second thread started at race.py:76: gdb record full records one thread"},
		{"syscall fork", at, "the program forked at race.py:76: gdb record full follows one process"},
		{"syscall exit_group", at, "the program exited at race.py:76"},
		{"syscall epoll_create1", at, "an event loop was created (epoll_create1) at race.py:76, which gdb record full cannot record: record from a function that runs inside the loop (--record-from)"},
		{"syscall rseq", nil, "the system call rseq, which gdb record full cannot record"},
		{"instruction limit (10000000)", nil, "the recording reached its limit (10000000) of machine instructions (--record-limit)" + slowRecording},
		{"time limit (600s)", at, "the recording reached its time limit (600s) at race.py:76" + slowRecording},
		{"signal SIGSEGV", at, "the program received SIGSEGV at race.py:76"},
		{"stopped", nil, "the recording stopped (stopped)"},
		{"main module returned; the window start was lost (gdb's log limit was reached)", nil, "the window start was lost (gdb's log limit was reached)"},
	} {
		w := map[string]any{"window_end": c.end}
		if c.at != nil {
			w["window_end_at"] = c.at
		}
		if got := EndReason(w); got != c.want {
			t.Errorf("%q: %q, want %q", c.end, got, c.want)
		}
	}
	if got := EndReason(nil); got != "" {
		t.Errorf("no window: %q", got)
	}
}
