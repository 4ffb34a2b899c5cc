package pyext

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/history"
	"go.uber.org/zap"
)

// DefaultRecordLimit bounds a gdb recording, in machine instructions: record
// full keeps a log entry per instruction, and this keeps it under 4 GiB.
const DefaultRecordLimit = 10_000_000

// RecordWindowTime bounds the run to the window's start plus the recording.
const RecordWindowTime = 10 * time.Minute

// recordWindowMargin is how much longer than RecordWindowTime the Go side
// waits for -timelens-record-window's reply (see Backend.recordWindow).
const recordWindowMargin = 5 * time.Minute

// Options says what a Backend replays.
type Options struct {
	// Kind is the debugger: gdb (record full), rr or udb.
	Kind gdbmi.Kind
	// Debugger is the debugger executable (default: the dialect's).
	Debugger string
	// GDB is the gdb that rr replay runs (rr only; optional).
	GDB string
	// Python runs Program when it is a .py file (default python3).
	Python string
	// Program and Args: what the gdb backend runs and records.
	Program string
	Args    []string
	// Recording: an rr trace directory or a UDB recording.
	Recording string
	// RecordFrom: the Python function whose first call starts the recorded
	// window (gdb backend); empty for the main module's first line.
	RecordFrom string
	// RecordLimit bounds the recording in machine instructions.
	RecordLimit int
	// Env is added to the recorded program's environment (NAME=VALUE), after
	// the glibc tunables of gdbmi.DebuggeeEnv.
	Env []string
	// Logger receives debug logs.
	Logger *zap.Logger
	// Progress, when set, hears what the backend is doing while it starts.
	Progress func(msg string)
}

// Backend is a history.Backend over one debugger session: it moves with the
// navigation commands of the gdb side (timelens_gdb) and reads state with its readers.
type Backend struct {
	s   *gdbmi.Session
	d   gdbmi.Dialect
	dir string
	log *zap.Logger
	// exe is the program gdb runs (the gdb backend), as an absolute path.
	exe string
	// Window describes the recorded window (gdb backend): why it ended and
	// how long recording took.
	Window map[string]any
	// exc is the exception the program ended with, read once (exception.go).
	exc exceptionCache
	// marks are the bookmarks (rr checkpoints) Goto left at the times it
	// went to last, newest last.
	marks []gotoMark
}

// gotoMark is a bookmark at a time Goto went to.
type gotoMark struct {
	t  history.Time
	id string
}

// maxGotoMarks bounds the checkpoints Goto keeps: each is a forked copy of
// the replayed processes (rr ReplayTimeline::add_explicit_checkpoint).
const maxGotoMarks = 2

// ErrNotPython means the program to record is not something timelens can run
// under CPython.
var ErrNotPython = errors.New("not a Python program")

// Open starts the debugger, loads the Python extension into it and, for the
// gdb backend, records the window; time is then at the window's first line
// event.
func Open(ctx context.Context, o Options) (*Backend, error) {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	progress := o.Progress
	if progress == nil {
		progress = func(string) {}
	}
	if o.Kind == "" {
		k, err := gdbmi.DetectKind(o.Recording)
		if err != nil {
			return nil, err
		}
		o.Kind = k
	}
	d, err := gdbmi.DialectFor(o.Kind)
	if err != nil {
		return nil, err
	}
	target := gdbmi.Target{Recording: o.Recording, Debugger: o.GDB}
	var saved *Manifest
	switch {
	case o.Kind == gdbmi.KindGDB && o.Recording != "":
		// A recording saved by timelens record: gdb loads the executable
		// and then the saved log (restoreWindow).
		if saved, err = ReadManifest(o.Recording); err != nil {
			return nil, err
		}
		target = gdbmi.Target{Program: saved.Python}
	case o.Kind == gdbmi.KindGDB:
		target.Program, target.Args, err = pythonCommand(o)
		if err != nil {
			return nil, err
		}
	}
	exe := o.Debugger
	if exe == "" {
		exe = d.DefaultExe
	}
	dir, err := os.MkdirTemp("", "timelens-pyext-")
	if err != nil {
		return nil, err
	}
	b := &Backend{d: d, dir: dir, log: o.Logger, exe: resolveExe(target.Program)}
	progress(fmt.Sprintf("starting %s", exe))
	b.s, err = gdbmi.Start(ctx, gdbmi.Config{
		Argv:        func(mi []string) ([]string, error) { return d.Argv(exe, mi, target) },
		InferiorEnv: append(gdbmi.DebuggeeEnv(), o.Env...),
		Logger:      o.Logger,
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if o.Kind == gdbmi.KindGDB && len(target.Args) > 0 {
		// gdb escapes --args for a shell, and runs the program without one
		// (startup-with-shell off): set the arguments again, as they are,
		// so that a file named a;b.py reaches Python as a;b.py. gdb splits
		// them at whitespace, which the command line refuses.
		if _, err := b.s.Console(ctx, "set args "+strings.Join(target.Args, " ")); err != nil {
			b.Close()
			return nil, err
		}
	}
	if err := b.load(ctx); err != nil {
		b.Close()
		return nil, err
	}
	if saved != nil {
		if err := b.restoreWindow(ctx, o.Recording, saved, progress); err != nil {
			b.Close()
			return nil, err
		}
		b.keepSources(ctx, o.Recording)
	} else if o.Kind == gdbmi.KindGDB {
		if err := b.recordWindow(ctx, o, progress); err != nil {
			b.Close()
			return nil, err
		}
	}
	return b, nil
}

// keepSources gives the extension the text the recording ran, when the
// recording directory keeps it (SourcesFile): the files may have changed
// since. Without it, lines are read from the files as they are.
func (b *Backend) keepSources(ctx context.Context, dir string) {
	path := filepath.Join(dir, SourcesFile)
	if _, err := os.Stat(path); err != nil {
		return
	}
	if _, err := b.s.MI(ctx, "-timelens-sources", path); err != nil {
		b.log.Warn("reading the sources the recording ran", zap.String("file", path), zap.Error(err))
	}
}

// pythonCommand turns PROGRAM ARGS into the command gdb runs.
func pythonCommand(o Options) (string, []string, error) {
	if o.Program == "" {
		return "", nil, fmt.Errorf("no program to record: give one after -- (timelens lsp -- python3 prog.py), or --recording")
	}
	if strings.HasSuffix(o.Program, ".py") {
		if _, err := os.Stat(o.Program); err != nil {
			return "", nil, fmt.Errorf("%s: %w", o.Program, err)
		}
	}
	argv := PythonArgv(append([]string{o.Program}, o.Args...), o.Python)
	return argv[0], argv[1:], nil
}

// load writes the gdb side into the backend's directory and loads it.
func (b *Backend) load(ctx context.Context) error {
	cmd, err := Install(b.dir)
	if err != nil {
		return err
	}
	if _, err := b.s.Console(ctx, cmd); err != nil {
		return fmt.Errorf("loading timelens into the debugger: %w", err)
	}
	// The gdb side asks the time and goes back to it in the debugger's dialect.
	if _, err := b.s.Console(ctx, DialectCommand(b.d)); err != nil {
		return fmt.Errorf("loading timelens into the debugger: %w", err)
	}
	return nil
}

// call runs one pyext command and returns its reply. A command that ran the
// program is answered ^running by gdb, which drops its result: the result is
// then fetched with -timelens-last-reply, which gdb runs once the command is
// over.
func (b *Backend) call(ctx context.Context, op string, args ...string) (map[string]any, error) {
	res, err := b.s.MI(ctx, op, args...)
	if err != nil {
		return nil, err
	}
	if res.Class == "running" {
		if res, err = b.s.MI(ctx, "-timelens-last-reply"); err != nil {
			return nil, err
		}
	}
	return res.Payload, nil
}

// recordWindow runs the program at full speed to where recording starts and
// records the window.
func (b *Backend) recordWindow(ctx context.Context, o Options, progress func(string)) error {
	if _, err := b.s.ExecConsole(ctx, "starti"); err != nil {
		return fmt.Errorf("starting the program: %w", err)
	}
	from := o.RecordFrom
	if from == "" {
		from = "--main"
	}
	limit := o.RecordLimit
	if limit <= 0 {
		limit = DefaultRecordLimit
	}
	if o.RecordFrom == "" {
		progress("running to the main module's first line and recording")
	} else {
		progress("running to the first call of " + o.RecordFrom + " and recording")
	}
	// Recording runs at 5,000-16,000 instructions a second: far longer than
	// an ordinary command. The gdb side bounds the recording itself
	// (RecordWindowTime); around it come the run to the window's start and,
	// at its end, the return to the start over the whole log, which took
	// over a minute for a window cut by its time limit on a loaded machine
	// (make demo, AMD EPYC under PVM): this wait leaves room for both.
	ctx, cancel := context.WithTimeout(ctx, RecordWindowTime+recordWindowMargin)
	defer cancel()
	payload, err := b.call(ctx, "-timelens-record-window", from, strconv.Itoa(limit), strconv.Itoa(int(RecordWindowTime.Seconds())))
	if err != nil {
		return fmt.Errorf("recording: %w", userError(err))
	}
	var w map[string]any
	if err := Decode(payload, &w); err != nil {
		return err
	}
	b.Window = w
	b.log.Info("recorded window", zap.Any("window", w))
	return nil
}

// Session returns the debugger session (for tests and diagnostics).
func (b *Backend) Session() *gdbmi.Session { return b.s }

// Now implements history.Backend.
func (b *Backend) Now(ctx context.Context) (history.Time, error) {
	var out strings.Builder
	for _, c := range b.d.TimeCommands {
		text, err := b.s.Console(ctx, c)
		if err != nil {
			return "", err
		}
		out.WriteString(text)
	}
	rep, err := b.d.ParseTime(out.String())
	if err != nil {
		return "", err
	}
	return history.Time(rep.Now.Raw), nil
}

// Compare implements history.Backend.
func (b *Backend) Compare(x, y history.Time) int {
	tx, err1 := b.d.ParseTimeString(string(x))
	ty, err2 := b.d.ParseTimeString(string(y))
	if err1 != nil || err2 != nil {
		return strings.Compare(string(x), string(y))
	}
	c, err := b.d.Compare(tx, ty)
	if err != nil {
		return strings.Compare(string(x), string(y))
	}
	return c
}

// Goto implements history.Backend.
//
// Where going to a time replays forward from an earlier point (rr: "run
// EVENT" + "seek-ticks T", Dialect.GotoReplays), Goto leaves a bookmark (an
// rr checkpoint) at the time it went to, and goes to that time again with
// "restart N", which seeks straight to the checkpoint. The times Goto is
// asked for again and again are the ones the Timeline returns to: where a
// history walk, a last-write search or a refused move began. It keeps the
// last maxGotoMarks of them and deletes the older ones. A bookmark command
// that fails is not an error: Goto goes by time instead.
func (b *Backend) Goto(ctx context.Context, t history.Time) error {
	tm, err := b.d.ParseTimeString(string(t))
	if err != nil {
		return err
	}
	cmds, err := b.d.GotoCommands(tm)
	if err != nil {
		return err
	}
	t = history.Time(tm.Raw)
	if b.d.GotoReplays && b.gotoMark(ctx, t) {
		return nil
	}
	for _, c := range cmds {
		if b.d.MovesResume {
			_, err = b.s.ExecConsole(ctx, c)
		} else {
			_, err = b.s.Console(ctx, c)
		}
		var ce *gdbmi.CommandError
		if errors.As(err, &ce) {
			err = b.d.GotoError(ce.Msg)
		}
		if err != nil {
			return fmt.Errorf("going to time %s: %w", t, err)
		}
	}
	if b.d.GotoReplays {
		b.leaveMark(ctx, t)
	}
	return nil
}

// gotoMark goes to t through the bookmark left there, if any; false when
// there is none or it failed (the bookmark is then forgotten).
func (b *Backend) gotoMark(ctx context.Context, t history.Time) bool {
	for i, m := range b.marks {
		if m.t != t {
			continue
		}
		cmd, err := b.d.BookmarkCommand("goto", m.id)
		if err == nil {
			if _, err = b.s.ExecConsole(ctx, cmd); err == nil {
				b.marks = append(append(b.marks[:i:i], b.marks[i+1:]...), m) // newest last
				return true
			}
		}
		b.log.Debug("bookmark failed; going by time", zap.String("time", string(t)), zap.String("bookmark", m.id), zap.Error(err))
		b.marks = append(b.marks[:i], b.marks[i+1:]...)
		b.dropMark(ctx, m.id)
		return false
	}
	return false
}

// leaveMark creates a bookmark at t, now, and deletes the oldest beyond
// maxGotoMarks.
func (b *Backend) leaveMark(ctx context.Context, t history.Time) {
	cmd, err := b.d.BookmarkCommand("create", "timelens")
	if err != nil {
		return
	}
	out, err := b.s.Console(ctx, cmd)
	var id string
	if err == nil {
		id, err = b.d.ParseBookmark(out, "timelens")
	}
	if err != nil {
		// rr refuses at the debuggee's end ("The program is not being run.").
		b.log.Debug("no bookmark left", zap.String("time", string(t)), zap.Error(err))
		return
	}
	b.marks = append(b.marks, gotoMark{t: t, id: id})
	for len(b.marks) > maxGotoMarks {
		old := b.marks[0]
		b.marks = b.marks[1:]
		b.dropMark(ctx, old.id)
	}
}

func (b *Backend) dropMark(ctx context.Context, id string) {
	if cmd, err := b.d.BookmarkCommand("delete", id); err == nil {
		b.s.Console(ctx, cmd)
	}
}

// State implements history.Backend with one -timelens-snapshot round trip.
func (b *Backend) State(ctx context.Context) (*history.Snapshot, error) {
	res, err := b.s.MI(ctx, "-timelens-snapshot")
	if err != nil {
		return nil, err
	}
	var sr SnapshotReply
	if err := Decode(res.Payload, &sr); err != nil {
		return nil, err
	}
	snap := &history.Snapshot{Thread: sr.Thread}
	for _, f := range sr.Frames {
		fr := history.Frame{File: f.File, Function: f.Qualname, FirstLine: f.FirstLineno, Depth: f.Depth,
			Offset: max(2*f.LocalsReply.Frame.Lasti, -1), ID: f.LocalsReply.Frame.Frame, Params: f.Params, DefLine: f.DefLine, Stores: lineKeys(f.Stores)}
		if f.Line != nil {
			fr.Line = *f.Line
		}
		for _, v := range f.Locals {
			fr.Locals = append(fr.Locals, history.Var{Name: v.Name, Value: v.Value, Kind: v.Kind, Address: v.Address})
		}
		snap.Frames = append(snap.Frames, fr)
	}
	return snap, nil
}

// lineKeys turns the gdb side's {"LINE": names} (JSON keys are strings)
// into names by line; nil stays nil (the backend does not know).
func lineKeys(m map[string][]string) map[int][]string {
	if m == nil {
		return nil
	}
	out := make(map[int][]string, len(m))
	for k, names := range m {
		if n, err := strconv.Atoi(k); err == nil {
			out[n] = names
		}
	}
	return out
}

// Eval implements history.Backend.
func (b *Backend) Eval(ctx context.Context, depth int, expr string) (string, error) {
	res, err := b.s.MI(ctx, "-timelens-eval", "--depth", strconv.Itoa(depth), expr)
	if err != nil {
		return "", userError(err)
	}
	var er EvalReply
	if err := Decode(res.Payload, &er); err != nil {
		return "", err
	}
	return er.Value, nil
}

// Move implements history.Backend.
func (b *Backend) Move(ctx context.Context, m history.Move) error {
	args := []string{m.Kind()}
	if m.Reverse() {
		args = append(args, "--reverse")
	}
	return b.navigate(ctx, string(m), "-timelens-step", args...)
}

// GotoEntry implements history.Backend.
func (b *Backend) GotoEntry(ctx context.Context, depth int) error {
	if depth != 0 {
		// The gdb side enters the innermost frame's call; an outer frame's
		// entry is the caller's call found by finishing out first.
		for i := 0; i < depth; i++ {
			if err := b.navigate(ctx, "gotoEntry", "-timelens-step", "finish", "--reverse"); err != nil {
				return err
			}
		}
	}
	return b.navigate(ctx, "gotoEntry", "-timelens-goto-entry")
}

// NextInFrame implements history.FrameWalker: the next line event of the
// current frame's call, following a generator or coroutine across its
// suspensions.
func (b *Backend) NextInFrame(ctx context.Context) error {
	return b.navigate(ctx, "next", "-timelens-frame-next")
}

// Call implements history.Backend.
func (b *Backend) Call(ctx context.Context, function string, forward bool) error {
	dir := "previous"
	if forward {
		dir = "next"
	}
	return b.navigate(ctx, dir+"Call", "-timelens-call", dir, function)
}

// ErrNoEarlierWrite means the search for the last write of a name went back
// to the start of the recorded history without finding one (gdb, rr: the
// watchpoint never triggered; UDB: "last" found no earlier change): the
// value was set before recording started. Record from earlier to see it.
var ErrNoEarlierWrite = errors.New("no earlier write in the recorded history")

// ErrNoLaterWrite means the search for the next write of a name reached the
// end of the recorded history without finding one: the value is kept to the
// end of the recording. The search never runs the program past the end.
var ErrNoLaterWrite = errors.New("no later write in the recorded history")

// LastWrite implements history.Backend.
// It leaves time at the write; the Timeline goes back.
func (b *Backend) LastWrite(ctx context.Context, depth int, expr string) (history.Write, error) {
	return b.write(ctx, "-timelens-last-write", depth, expr)
}

// NextWrite implements history.Backend: the forward twin of LastWrite.
// It leaves time right after the write; the Timeline goes back.
func (b *Backend) NextWrite(ctx context.Context, depth int, expr string) (history.Write, error) {
	return b.write(ctx, "-timelens-next-write", depth, expr)
}

// write runs a write search (op: -timelens-last-write or -timelens-next-write).
func (b *Backend) write(ctx context.Context, op string, depth int, expr string) (history.Write, error) {
	payload, err := b.call(ctx, op, "--depth", strconv.Itoa(depth), expr)
	if err != nil {
		if e := AsError(err); e != nil && e.Code == CodeNoEarlierWrite {
			return history.Write{}, fmt.Errorf("%w: %w", ErrNoEarlierWrite, e)
		}
		if e := AsError(err); e != nil && e.Code == CodeNoLaterWrite {
			return history.Write{}, fmt.Errorf("%w: %w", ErrNoLaterWrite, e)
		}
		return history.Write{}, userError(err)
	}
	var r struct {
		Value    string `json:"value"`
		File     string `json:"file"`
		Line     *int   `json:"line"`
		Function string `json:"function"`
	}
	if err := Decode(payload, &r); err != nil {
		return history.Write{}, err
	}
	now, err := b.Now(ctx)
	if err != nil {
		return history.Write{}, err
	}
	w := history.Write{Time: now, File: r.File, Function: r.Function, Value: r.Value}
	if r.Line != nil {
		w.Line = *r.Line
	}
	return w, nil
}

// navigate runs one navigation command and maps its refusals.
func (b *Backend) navigate(ctx context.Context, move, op string, args ...string) error {
	payload, err := b.call(ctx, op, args...)
	if err != nil {
		return moveError(move, err)
	}
	var reply struct {
		Edge *string `json:"edge"`
	}
	if err := Decode(payload, &reply); err == nil && reply.Edge != nil && *reply.Edge != "" {
		b.log.Debug("move reached an edge", zap.String("move", move), zap.String("edge", *reply.Edge))
	}
	return nil
}

// moveError turns the gdb side's refusals of a move into history's named
// errors, by their codes.
func moveError(move string, err error) error {
	e := AsError(err)
	if e == nil {
		return err
	}
	switch e.Code {
	case CodeEdge:
		edge := history.End
		if e.Field("edge") == "start" {
			edge = history.Start
		}
		return &history.EdgeError{Edge: edge, Move: move}
	case CodeCallEnded:
		return fmt.Errorf("%w: %w", history.ErrCallEnded, e)
	case CodeNoCall, CodeNeverCalled:
		return fmt.Errorf("%w: %w", history.ErrNoSuchCall, e)
	case CodePaused:
		return fmt.Errorf("%w: %w", history.ErrPaused, e)
	}
	return e
}

// userError is the extension's refusal in err, whose message is for the
// user (gdb's framing dropped), with its code; other errors as they are.
func userError(err error) error {
	if e := AsError(err); e != nil {
		return e
	}
	return err
}

// Close implements history.Backend.
func (b *Backend) Close() error {
	var err error
	if b.s != nil {
		err = b.s.Close()
	}
	os.RemoveAll(b.dir)
	return err
}

var (
	_ history.Backend     = (*Backend)(nil)
	_ history.FrameWalker = (*Backend)(nil)
)
