// Package session opens a recorded Python run for timelens's commands:
// it chooses the backend, checks the program before any debugger starts,
// records the window (gdb) or replays a recording (rr, UDB, a saved gdb
// recording), and hands the backend to a history.Timeline with the restart
// policy: a debugger that dies or hangs is started again the same way and
// time returns to where it was.
//
//	tl, err := session.Open(ctx, session.Config{RecordFrom: "main", Program: []string{"python3", "app.py"}})
//
// Record saves a gdb window for later replay; RecorderCommand makes rr's or
// UDB's recorder command; Probe says whether timelens navigates a given
// interpreter with a given backend, by doing it; GoTo moves to a time point
// as annotate --at names it. The command line (cmd/timelens) only turns
// flags into a Config and prints.
package session

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

// Config says what to open. Its fields are the shared options of
// timelens's commands (CONTRACT.md), so the messages name them as flags.
type Config struct {
	// Backend is gdb, rr or udb; empty: the kind of Recording
	// (gdbmi.DetectKind), gdb without one.
	Backend gdbmi.Kind
	// Recording is an rr trace directory, a UDB recording or a directory
	// made by timelens record --backend gdb; empty to record Program.
	Recording string
	// RecordFrom is the Python function whose first call starts the
	// recorded window (gdb); empty for the main module's first line.
	RecordFrom string
	// RecordLimit bounds the gdb recording in machine instructions; 0 for
	// the default bound.
	RecordLimit int64
	// GDB, RR and UDB are the debugger executables; empty for the default.
	GDB, RR, UDB string
	// Python runs Program when it is a .py file; empty for the default
	// (interp.DefaultPython: python3 on PATH, shims followed, else the
	// newest supported python3.X on PATH).
	Python string
	// Program is PROGRAM ARGS: what the gdb backend records.
	Program []string
	// Timeout is how long one request may take before the debugger counts
	// as hung and is restarted; 0 for the timeline's defaults.
	Timeout time.Duration
	// Logger receives logs (nil: none).
	Logger *zap.Logger
	// Progress, when set, hears what is being done while the session starts.
	Progress func(msg string)
	// Recorded, when set, hears what the gdb backend says of the window it
	// recorded (-timelens-record-window's reply: why it ended, how many
	// instructions, how long each start-up phase took), before the session
	// opens on it.
	Recorded func(window map[string]any)
	// Index builds the window's line index in the background once the
	// session has started (history.Timeline.BuildIndex), in a debugger of
	// its own: over a copy of gdb's log of the window (saved before the
	// session starts), or over the same saved recording, rr trace or UDB
	// recording. Inline hints are read from it once it is built.
	Index bool
}

// Kind is the backend to use: Backend when given, which must be able to
// replay Recording; else the kind of Recording; else gdb.
func (c Config) Kind() (gdbmi.Kind, error) {
	detected, err := gdbmi.DetectKind(c.Recording)
	if err != nil {
		return "", fmt.Errorf("--recording: %w", err)
	}
	switch {
	case c.Backend == "":
		return detected, nil
	case c.Recording != "" && c.Backend != detected:
		return "", fmt.Errorf("--backend %s cannot replay %s, which is %s recording (use --backend %s, or leave --backend out)",
			c.Backend, c.Recording, article(detected), detected)
	}
	return gdbmi.ParseKind(string(c.Backend))
}

func article(k gdbmi.Kind) string {
	if k == gdbmi.KindUDB {
		return "a UDB"
	}
	return "an " + string(k)
}

// Check refuses options that do not go together. It opens nothing.
func (c Config) Check() error {
	kind, err := c.Kind()
	if err != nil {
		return err
	}
	if kind == gdbmi.KindGDB && c.Recording != "" && c.RecordFrom != "" {
		return fmt.Errorf("--record-from applies when recording; %s was recorded already (drop --record-from)", c.Recording)
	}
	if kind != gdbmi.KindGDB {
		if c.RecordFrom != "" {
			return fmt.Errorf("--record-from applies to the gdb backend only; the %s backend replays a recording made beforehand (drop --record-from or use --backend gdb)", kind)
		}
		if c.RecordLimit != 0 {
			return fmt.Errorf("--record-limit applies to the gdb backend only (drop it or use --backend gdb)")
		}
	}
	return nil
}

func (c Config) log() *zap.Logger {
	if c.Logger == nil {
		return zap.NewNop()
	}
	return c.Logger
}

// Open starts the backend (recording Program with gdb, or replaying
// Recording) and returns the timeline at the window's first line event.
// When the debugger dies or hangs later, the timeline starts it again the
// same way (re-recording the window with gdb) and returns to its time.
func Open(ctx context.Context, c Config) (*history.Timeline, error) {
	kind, po, python, err := c.backendOptions(ctx)
	if err != nil {
		return nil, explain(err, c, python)
	}
	log := c.log()
	open := func(ctx context.Context, progress func(string)) (history.Backend, error) {
		po := po
		po.Progress = progress
		b, err := pyext.Open(ctx, po)
		if err != nil {
			return nil, explain(err, c, python)
		}
		return b, nil
	}
	b, err := open(ctx, c.Progress)
	if err != nil {
		return nil, err
	}
	if pb, ok := b.(*pyext.Backend); ok && c.Recorded != nil && pb.Window != nil {
		c.Recorded(pb.Window)
	}
	var walker *pyext.Walker
	var noIndex error
	if c.Index {
		// Without an index hints walk each call, as before it is built: a
		// window that cannot be indexed is logged, not an error.
		if walker, err = indexWalker(ctx, c, po, b.(*pyext.Backend)); err != nil {
			if ctx.Err() != nil {
				b.Close()
				return nil, err
			}
			log.Warn("no line index", zap.Error(err))
			walker, noIndex = nil, err
		}
	}
	tl, err := history.New(ctx, b, history.Options{
		ReadTimeout: c.Timeout,
		MoveTimeout: c.Timeout,
		Reopen: func(ctx context.Context) (history.Backend, error) {
			return open(ctx, func(msg string) { log.Info("restarting the debugger: " + msg) })
		},
		LostReason: lostReason(string(kind)),
	})
	if err != nil {
		b.Close()
		if walker != nil {
			walker.Close() // removes its copy of the window
		}
		return nil, err
	}
	tl.OnRestart(logRestart(log))
	if walker != nil {
		tl.OnIndex(logIndex(log))
		tl.BuildIndex(walker)
	} else if noIndex != nil {
		tl.NoIndex(noIndex)
	}
	return tl, nil
}

// MaxIndexedWindow bounds the live gdb windows the line index covers, in
// recorded instructions: saving the window for the index's own gdb blocks
// the session's start for about 10–25 µs per instruction (about 4–10 s at
// this bound). A larger window has no index; hints walk each call.
const MaxIndexedWindow = 400_000

// indexWalker returns the walker that builds the line index over the
// recording b replays. A live gdb window has no file: it is saved first
// (record save), into a directory the walker removes once the index is
// built.
func indexWalker(ctx context.Context, c Config, po pyext.Options, b *pyext.Backend) (*pyext.Walker, error) {
	o := po
	o.Logger = c.log().Named("index")
	if o.Kind != gdbmi.KindGDB || o.Recording != "" {
		return pyext.NewWalker(o, ""), nil
	}
	if n, ok := b.Window["instructions"].(float64); ok && n > MaxIndexedWindow {
		return nil, fmt.Errorf("the window has %.0f instructions, more than the %d the line index saves a copy of (hints walk each call instead)", n, MaxIndexedWindow)
	}
	dir, err := os.MkdirTemp("", "timelens-index-")
	if err != nil {
		return nil, err
	}
	if c.Progress != nil {
		c.Progress("saving a copy of the window for the line index")
	}
	if _, err := b.Save(ctx, dir, c.Program, c.RecordFrom); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("saving a copy of the window for the line index: %w", err)
	}
	o.Recording, o.Program, o.Args, o.RecordFrom = dir, "", nil, ""
	return pyext.NewWalker(o, dir), nil
}

// logIndex logs how the line index's building goes.
func logIndex(log *zap.Logger) func(history.IndexProgress) {
	return func(p history.IndexProgress) {
		switch {
		case !p.Done:
			log.Debug("indexing the window", zap.Int("events", p.Events), zap.Float64("fraction", p.Fraction))
		case errors.Is(p.Err, history.ErrIndexStopped):
			log.Debug("the session ended before the line index was built", zap.Int("events", p.Events))
		case p.Err != nil:
			log.Warn("the line index could not be built; hints walk each call", zap.Error(p.Err), zap.Int("events", p.Events))
		default:
			log.Info("line index built", zap.Int("events", p.Events), zap.Duration("took", p.Took))
		}
	}
}

// Record records Program with gdb as Open would, and saves the window into
// the new directory out: gdb's execution log and a manifest, which Open
// replays as a Recording. recorded, when set, hears the window once it is
// recorded, before it is saved.
func Record(ctx context.Context, c Config, out string, recorded func(window map[string]any)) (*pyext.Manifest, error) {
	if fi, err := os.Stat(out); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("%s is a file; -o names a new directory for the recording (gdb's log and a manifest)", out)
	} else if ents, _ := os.ReadDir(out); len(ents) > 0 {
		return nil, fmt.Errorf("%s exists and is not empty; -o names a new directory for the recording", out)
	}
	if c.Recording != "" {
		return nil, errors.New("Record makes a new recording: leave Config.Recording empty")
	}
	kind, po, python, err := c.backendOptions(ctx)
	if err != nil {
		return nil, explain(err, c, python)
	}
	if kind != gdbmi.KindGDB {
		return nil, fmt.Errorf("the %s backend records with its own recorder (RecorderCommand), not through gdb", kind)
	}
	po.Progress = c.Progress
	b, err := pyext.Open(ctx, po)
	if err != nil {
		return nil, explain(err, c, python)
	}
	defer b.Close()
	if recorded != nil {
		recorded(b.Window)
	}
	return b.Save(ctx, out, c.Program, c.RecordFrom)
}

// backendOptions checks c and says how to open its backend: what runs,
// under which debugger, with which environment; python is how messages
// name the interpreter of a .py PROGRAM (checkProgram).
func (c Config) backendOptions(ctx context.Context) (kind gdbmi.Kind, po pyext.Options, python string, err error) {
	kind, err = c.Kind()
	if err != nil {
		return "", pyext.Options{}, "", err
	}
	if err := c.Check(); err != nil {
		return "", pyext.Options{}, "", err
	}
	po = pyext.Options{
		Kind: kind, Recording: c.Recording, RecordFrom: c.RecordFrom,
		RecordLimit: int(c.RecordLimit), Logger: c.log(),
	}
	switch kind {
	case gdbmi.KindGDB:
		po.Debugger = c.GDB
	case gdbmi.KindRR:
		po.Debugger, po.GDB = c.RR, c.GDB
	case gdbmi.KindUDB:
		po.Debugger = c.UDB
	}
	if kind != gdbmi.KindGDB {
		return kind, po, "", nil
	}
	switch {
	case c.Recording != "":
		// A recording of another format says so before anything else.
		// Editors pass the file they show as PROGRAM: accept the one the
		// recording ran, refuse another.
		if _, err := pyext.ReadManifest(c.Recording); err != nil {
			return "", po, "", err
		}
		if len(c.Program) > 0 {
			if err := sameProgram(c.Recording, c.Program); err != nil {
				return "", po, "", err
			}
		}
	case len(c.Program) == 0:
		return "", po, "", errors.New("nothing to record: give the program after --, e.g. timelens lsp -- python3 app.py (or --recording PATH: a recording made by timelens record)")
	default:
		argv, who, err := checkProgram(ctx, c.Program, c.Python)
		if err != nil {
			return "", po, who, err
		}
		po.Program, po.Args, python = argv[0], argv[1:], who
		c.log().Info("the program to record", zap.Strings("argv", argv), zap.String("python", who))
	}
	if err := checkGDBCanRecord(c.GDB); err != nil {
		return "", po, python, err
	}
	po.Env = append(po.Env, hashSeedEnv(c.log())...)
	return kind, po, python, nil
}

// Script is the Python file a command line runs: its first .py argument,
// else the program itself; "" for none.
func Script(program []string) string {
	for _, a := range program {
		if strings.HasSuffix(a, ".py") {
			return a
		}
	}
	if len(program) > 0 {
		return program[0]
	}
	return ""
}

// sameProgram checks that program names the script a saved gdb recording
// ran (by file name), so that an editor may pass the file it shows.
func sameProgram(recording string, program []string) error {
	m, err := pyext.ReadManifest(recording)
	if err != nil {
		return err
	}
	if got, want := filepath.Base(Script(program)), filepath.Base(Script(m.Program)); got != want {
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

// logRestart logs the timeline's restarts of a lost debugger.
func logRestart(log *zap.Logger) func(history.Restart) {
	return func(r history.Restart) {
		switch {
		case !r.Done:
			log.Warn("the debugger was lost; restarting it", zap.String("reason", r.Reason), zap.Int("attempt", r.Attempt))
		case r.Err != nil:
			log.Error("restarting the debugger failed", zap.String("reason", r.Reason), zap.Error(r.Err))
		default:
			log.Warn("restarted the debugger", zap.String("reason", r.Reason), zap.String("time", string(r.At)),
				zap.String("differs", r.Differs), zap.String("shifted", r.Shifted), zap.Duration("took", r.Took))
		}
	}
}
