package pyext

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/history"
)

// EndReason says in the user's words why a recorded window ended before
// the program did, from what -timelens-record-window replied (Backend.Window,
// kept in a saved recording's manifest): its window_end, and window_end_at,
// where the program's own code was then. "" when the window ran until the
// main module returned, or when w says nothing (rr, UDB).
func EndReason(w map[string]any) string {
	raw, _ := w["window_end"].(string)
	reason, lost, _ := strings.Cut(raw, "; ")
	at := ""
	if p, ok := w["window_end_at"].(map[string]any); ok {
		file, _ := p["file"].(string)
		line, _ := p["line"].(float64)
		if file != "" {
			at = fmt.Sprintf(" at %s:%d", filepath.Base(file), int(line))
		}
	}
	var words string
	switch syscall, isSyscall := strings.CutPrefix(reason, "syscall "); {
	case reason == "" || reason == "main module returned":
		words = ""
	case isSyscall && (syscall == "clone3" || syscall == "clone"):
		words = "a second thread started" + at + ": gdb record full records one thread"
	case isSyscall && (syscall == "fork" || syscall == "vfork"):
		words = "the program forked" + at + ": gdb record full follows one process"
	case isSyscall && syscall == "execve":
		words = "the program replaced itself with another (execve)" + at
	case isSyscall && (syscall == "exit_group" || syscall == "exit"):
		words = "the program exited" + at
	case isSyscall && strings.HasPrefix(syscall, "epoll_create"):
		words = "an event loop was created (" + syscall + ")" + at + ", which gdb record full cannot record: record from a function that runs inside the loop (--record-from)"
	case isSyscall:
		words = "the system call " + syscall + at + ", which gdb record full cannot record"
	case strings.HasPrefix(reason, "instruction limit"):
		words = "the recording reached its " + strings.TrimPrefix(reason, "instruction ") + " of machine instructions (--record-limit)" + at + slowRecording
	case strings.HasPrefix(reason, "time limit"):
		words = "the recording reached its " + reason + at + slowRecording
	case strings.HasPrefix(reason, "signal "):
		words = "the program received " + strings.TrimPrefix(reason, "signal ") + at
	default:
		words = "the recording stopped (" + reason + ")" + at
	}
	if lost != "" {
		if words == "" {
			return lost
		}
		words += "; " + lost
	}
	return words
}

// slowRecording is what a window cut short by a limit says to do next.
const slowRecording = " (gdb record full runs some 16,000 machine instructions a second, and an import such as ctypes or numpy takes millions): " +
	"record from a function nearer to what you are after (--record-from FUNC), which runs the program at full speed up to its first call"

// WindowEndReason implements history.WindowEnd.
func (b *Backend) WindowEndReason() string { return EndReason(b.Window) }

// GotoHistoryEnd implements history.HistoryEnds: the dialect's commands that
// go to the start or the end of the recorded history.
func (b *Backend) GotoHistoryEnd(ctx context.Context, edge history.Edge) error {
	cmds := b.d.EndCommands
	if edge == history.Start {
		cmds = b.d.StartCommands
	}
	if len(cmds) == 0 {
		return fmt.Errorf("%w: %s cannot go to the %s of its history", history.ErrNotSupported, b.d.Name, edge)
	}
	for _, c := range cmds {
		var err error
		if b.d.MovesResume {
			_, err = b.s.ExecConsole(ctx, c)
		} else {
			_, err = b.s.Console(ctx, c)
		}
		var ce *gdbmi.CommandError
		if errors.As(err, &ce) && b.d.GotoError(ce.Msg) == nil {
			err = nil // already there
		}
		if err != nil {
			return fmt.Errorf("going to the %s of the recorded history: %w", edge, err)
		}
	}
	return nil
}

var (
	_ history.WindowEnd   = (*Backend)(nil)
	_ history.HistoryEnds = (*Backend)(nil)
)
