package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/history"
	"github.com/timelens/timelens/pyext"
)

// openTimeline starts the backend the options name (recording PROGRAM with
// gdb, or replaying a recording with rr or UDB) and returns the timeline at
// the window's first line event. When the debugger dies or hangs later, the
// timeline starts it again the same way (re-recording the window with gdb)
// and returns to the time it was at.
func openTimeline(ctx context.Context, o Options, program []string, log *zap.Logger, progress func(string)) (*history.Timeline, error) {
	name, err := o.BackendName()
	if err != nil {
		return nil, err
	}
	kind, err := gdbmi.ParseKind(name)
	if err != nil {
		return nil, err
	}
	po := pyext.Options{
		Kind: kind, Python: o.Python, Recording: o.Recording, RecordFrom: o.RecordFrom,
		RecordLimit: int(o.RecordLimit), Logger: log,
	}
	switch kind {
	case gdbmi.KindGDB:
		po.Debugger = o.GDB
	case gdbmi.KindRR:
		po.Debugger, po.GDB = o.RR, o.GDB
	case gdbmi.KindUDB:
		po.Debugger = o.UDB
	}
	if len(program) > 0 {
		po.Program, po.Args = program[0], program[1:]
	}
	if kind == gdbmi.KindGDB && po.Program != "" && o.Recording != "" {
		// Editors pass the file they show as PROGRAM: accept the one the
		// recording ran, refuse another.
		if err := sameProgram(o.Recording, program); err != nil {
			return nil, err
		}
		po.Program, po.Args = "", nil
	}
	if kind == gdbmi.KindGDB && po.Program == "" && o.Recording == "" {
		return nil, fmt.Errorf("nothing to record: give the program after --, e.g. timelens lsp -- python3 app.py (or --recording PATH: a recording made by timelens record)")
	}
	if kind == gdbmi.KindGDB {
		if po.Program != "" {
			prog, python, err := checkProgram(program, po.Python)
			if err != nil {
				return nil, err
			}
			po.Program, po.Args, po.Python = prog[0], prog[1:], python
		}
		if o.Recording != "" {
			// A recording of another format says so before anything else.
			if _, err := pyext.ReadManifest(o.Recording); err != nil {
				return nil, err
			}
		}
		if err := checkGDBCanRecord(po.Debugger); err != nil {
			return nil, err
		}
		po.Env = append(po.Env, hashSeedEnv(log)...)
	}
	open := func(ctx context.Context, progress func(string)) (history.Backend, error) {
		po := po
		po.Progress = progress
		b, err := pyext.Open(ctx, po)
		if err != nil {
			return nil, err
		}
		return liveBackend{b}, nil
	}
	b, err := open(ctx, progress)
	if err != nil {
		return nil, explainOpenError(err)
	}
	tl, err := history.New(ctx, b, history.Options{
		ReadTimeout: o.Timeout,
		MoveTimeout: o.Timeout,
		Reopen: func(ctx context.Context) (history.Backend, error) {
			return open(ctx, func(msg string) { log.Info("restarting the debugger: " + msg) })
		},
		LostReason: lostReason(name),
	})
	if err != nil {
		b.Close()
		return nil, err
	}
	tl.OnRestart(func(r history.Restart) {
		switch {
		case !r.Done:
			log.Warn("the debugger was lost; restarting it", zap.String("reason", r.Reason), zap.Int("attempt", r.Attempt))
		case r.Err != nil:
			log.Error("restarting the debugger failed", zap.String("reason", r.Reason), zap.Error(r.Err))
		default:
			log.Warn("restarted the debugger", zap.String("reason", r.Reason), zap.String("time", string(r.At)),
				zap.String("differs", r.Differs), zap.String("shifted", r.Shifted), zap.Duration("took", r.Took))
		}
	})
	return tl, nil
}

// sameProgram checks that program names the script a saved gdb recording
// ran (by file name), so that an editor may pass the file it shows.
func sameProgram(recording string, program []string) error {
	m, err := pyext.ReadManifest(recording)
	if err != nil {
		return err
	}
	script := func(argv []string) string {
		for _, a := range argv {
			if strings.HasSuffix(a, ".py") {
				return filepath.Base(a)
			}
		}
		if len(argv) > 0 {
			return filepath.Base(argv[0])
		}
		return ""
	}
	if got, want := script(program), script(m.Program); got != want {
		return fmt.Errorf("%s is a saved recording of %s, not of %s; it replays without a program (drop PROGRAM after --, or drop --recording to record anew)",
			recording, strings.Join(m.Program, " "), strings.Join(program, " "))
	}
	return nil
}

// hashSeedEnv makes every recording of one session hash strings the same
// way. CPython draws a new hash seed at each start, which changes how many
// instructions dict and set operations take: a re-recorded window (after a
// restart) would put the same time, an instruction count, at another line.
// The seed is drawn once per session, as Python's is per run, and given to
// every recording of it; a PYTHONHASHSEED the user set is left alone (the
// debuggee inherits it).
func hashSeedEnv(log *zap.Logger) []string {
	if _, set := os.LookupEnv("PYTHONHASHSEED"); set {
		return nil
	}
	seed := strconv.FormatUint(uint64(rand.Uint32N(4294967295)+1), 10)
	log.Debug("hash seed of the recorded program", zap.String("PYTHONHASHSEED", seed))
	return []string{"PYTHONHASHSEED=" + seed}
}

// liveBackend tells the timeline at once when the debugger dies, so that
// it restarts it before the next request needs it.
type liveBackend struct{ *pyext.Backend }

// Gone implements history.Liveness.
func (b liveBackend) Gone() <-chan struct{} { return b.Session().Dead() }

// lostReason says, for the timeline, which errors mean the debugger is gone
// and why: it exited (*gdbmi.ExitError, with its status) or stopped
// answering and was killed (*gdbmi.TimeoutError).
func lostReason(debugger string) func(error) string {
	return func(err error) string {
		var te *gdbmi.TimeoutError
		var xe *gdbmi.ExitError
		switch {
		case errors.As(err, &te):
			return fmt.Sprintf("%s did not answer %s within %s (hung) and was stopped", debugger, te.Op, te.After.Round(time.Millisecond))
		case errors.As(err, &xe):
			return fmt.Sprintf("%s exited unexpectedly (%s)", debugger, xe.Status)
		case errors.Is(err, gdbmi.ErrExited):
			return fmt.Sprintf("%s exited unexpectedly (no exit status)", debugger)
		}
		return ""
	}
}
