package session

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/pyext"
	"github.com/timelens/timelens/pyext/interp"
)

// RecorderCommand is the command that records Program into out with the
// backend's own recorder (rr record, Undo's live-record), for the caller to
// run with its own standard streams. A .py Program runs under Python as it
// would under gdb. It fails with what to install when the recorder is
// missing.
func RecorderCommand(ctx context.Context, c Config, out string) (*exec.Cmd, error) {
	kind, err := c.Kind()
	if err != nil {
		return nil, err
	}
	d, err := gdbmi.DialectFor(kind)
	if err != nil {
		return nil, err
	}
	var exe string
	switch kind {
	case gdbmi.KindRR:
		rr := orDefault(c.RR, d.Recorder)
		if exe, err = exec.LookPath(rr); err != nil {
			return nil, fmt.Errorf("rr not found (%s): apt-get install rr (recent CPUs need a recent rr: github.com/rr-debugger/rr/releases), or pass --rr PATH; run 'timelens doctor' to see what works here", rr)
		}
	case gdbmi.KindUDB:
		if exe, err = liveRecordPath(c.UDB, d.Recorder); err != nil {
			return nil, err
		}
	}
	program := pyext.PythonArgv(c.Program, c.Python)
	if len(program) > len(c.Program) && c.Python == "" {
		r, err := interp.DefaultPython(ctx)
		if err != nil {
			return nil, fmt.Errorf("no Python to run %s: %w", filepath.Base(c.Program[0]), err)
		}
		program[0] = r.Info.Executable
	}
	argv, err := d.RecordArgv(exe, out, program)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), gdbmi.DebuggeeEnv()...)
	return cmd, nil
}

// liveRecordPath finds Undo's live-record: next to --udb PATH, else on PATH.
func liveRecordPath(udb, liveRecord string) (string, error) {
	if udb != "" && strings.Contains(udb, "/") {
		p := filepath.Join(filepath.Dir(udb), liveRecord)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		return "", fmt.Errorf("%s not found next to %s: UDB records with Undo's %s, shipped with UDB; check the UDB installation", liveRecord, udb, liveRecord)
	}
	p, err := exec.LookPath(liveRecord)
	if err != nil {
		return "", fmt.Errorf("%s not found on PATH: UDB (Undo's commercial time-travel debugger) records with its %s; install UDB and put it on PATH, or pass --udb PATH, or record with --backend gdb; 'timelens doctor' says which backends work here", liveRecord, liveRecord)
	}
	return p, nil
}

// RecorderError says why the recorder of RecorderCommand failed (err, with
// what it printed), and what to do.
func RecorderError(kind gdbmi.Kind, argv []string, err error, said string) error {
	cmdline := strings.Join(argv, " ")
	d, derr := gdbmi.DialectFor(kind)
	if f, ok := d.RecordFailure(said); derr == nil && ok {
		return fmt.Errorf("%s failed: %s %s (%v); %s — or record with --backend gdb; 'timelens doctor' says more", cmdline, filepath.Base(argv[0]), f.Why, err, f.Fix)
	}
	return fmt.Errorf("%s failed: %v; run 'timelens doctor' to see which backends work here", cmdline, err)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
