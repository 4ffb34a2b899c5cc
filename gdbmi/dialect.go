package gdbmi

// The one table of what differs between the three time-travel debuggers:
// how each is started, how it says what time it is, how it moves to a time,
// and how it says "start" or "end of history". Everything here is pure (argv,
// CLI command strings, parsing of console text and stop reasons) so that the
// session code stays the same for all three and this file tests on its own.
//
// Sources, per row (the tests cite the exact files):
//   - gdb: gdb/record-full.c (info_record, record goto) and transcripts
//     captured from gdb 13.1 (host) and gdb 16.3 (trixie root), in
//     testdata/dialect/gdb-*.txt.
//   - rr: github.com/rr-debugger/rr src/ReplayCommand.cc (options, "--"),
//     src/DebuggerExtensionCommand.cc (when, when-ticks, checkpoint),
//     src/launch_debugger.cc (seek-ticks, restart), src/GdbServer.cc
//     (restart_session, synthetic SIGKILL at the end, replaylog:begin at the
//     start), src/test/*.py. rr cannot record on these machines.
//   - UDB: docs.undo.io (TimeNotation.html, LoadingRecordings.html,
//     Commands.html, ConfiguringUDB.html) and github.com/undoio/delve
//     pkg/proc/gdbserial/undo.go (recording file magic). UDB is not
//     obtainable here.
//
// The gdb side (pyext/timelens_gdb/debugger.py), which moves inside the
// debugger, mirrors some columns of each row (the time query, the goto
// commands, rr's end-of-replay SIGKILL, rr's checkpoints, the LastChange
// column: UDB's "last"); pyext/transcript_test.go checks both sides on the
// same transcripts.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Kind names a debugger backend, as the --backend flag spells it.
type Kind string

// The three backends.
const (
	// KindGDB is gdb's own "record full": record a window of a live process.
	KindGDB Kind = "gdb"
	// KindRR is "rr replay" of an rr trace directory.
	KindRR Kind = "rr"
	// KindUDB is Undo's UDB replaying a .undo recording.
	KindUDB Kind = "udb"
)

// Kinds lists every backend, in the order messages name them.
func Kinds() []Kind { return []Kind{KindGDB, KindRR, KindUDB} }

// ErrHistoryUnknownBackend means a backend name is none of Kinds().
var ErrHistoryUnknownBackend = errors.New("unknown backend")

// ErrHistoryNotRecording means a --recording path is neither an rr trace
// directory nor a UDB recording.
var ErrHistoryNotRecording = errors.New("not an rr trace directory or a UDB recording")

// ErrHistoryNoBookmarks means the backend cannot name points in time (gdb's
// record full); callers keep times instead, which every backend can go to.
var ErrHistoryNoBookmarks = errors.New("this backend has no bookmarks; go to a time instead")

// ErrTimeUnparsable means a debugger's answer to a time query was not in the
// form the dialect expects; the *TimeOutputError says which commands and text.
var ErrTimeUnparsable = errors.New("unexpected time output")

// ErrTimeNoRecording means gdb has no recording to report a time in (record
// full was never started, or was stopped).
var ErrTimeNoRecording = errors.New("no recording is active: start recording (record full) before asking for the time")

// ErrTimeInvalid means a time string is not one this backend produces (a
// typo, or a time from another backend's session).
var ErrTimeInvalid = errors.New("invalid time")

// ErrTimeNotInHistory means the debugger has no such time in its history.
var ErrTimeNotInHistory = errors.New("time is outside the recorded history")

// TimeOutputError is ErrTimeUnparsable with what was asked and what came back.
type TimeOutputError struct {
	Kind     Kind
	Commands []string // the CLI commands whose output was read
	Output   string   // their console output, as given
	Why      string   // what was missing
}

func (e *TimeOutputError) Error() string {
	out := e.Output
	if len(out) > 300 {
		out = out[:300] + "…"
	}
	return fmt.Sprintf("%s: %s: output of %q: %s: %q", e.Kind, ErrTimeUnparsable, strings.Join(e.Commands, "; "), e.Why, out)
}

// Unwrap makes errors.Is(err, ErrTimeUnparsable) hold.
func (e *TimeOutputError) Unwrap() error { return ErrTimeUnparsable }

// ParseKind reads a --backend value. The error names the valid ones.
func ParseKind(s string) (Kind, error) {
	k := Kind(strings.ToLower(strings.TrimSpace(s)))
	for _, v := range Kinds() {
		if k == v {
			return k, nil
		}
	}
	return "", fmt.Errorf("%w %q: valid backends are %s", ErrHistoryUnknownBackend, s, kindList())
}

func kindList() string {
	var names []string
	for _, k := range Kinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// undoMagic opens every UDB recording (undoio/delve, pkg/proc/gdbserial/undo.go,
// UndoIsRecording).
var undoMagic = []byte("HD\x10\x00\x00\x00UndoDB recording")

// SavedRecordingManifest names the file that marks a directory made by
// `timelens record --backend gdb`: gdb's saved execution log and this
// manifest (pyext writes and reads it).
const SavedRecordingManifest = "timelens-recording.json"

// ErrRecordingIncomplete means an rr trace directory is still marked
// incomplete: rr record is running, or stopped before it finished.
var ErrRecordingIncomplete = errors.New("the rr trace is incomplete")

// DetectKind is the one rule for what kind a --recording PATH is, which
// picks the default backend (CONTRACT.md). An empty path means gdb (record
// a live program). A directory is a gdb recording when it holds the
// manifest of timelens record (SavedRecordingManifest), an rr trace when it
// holds rr's "version" file (rr src/TraceStream.h, version_path); rr names
// it "incomplete" until the recording ends, which is an error that says
// so. A file is a UDB recording when it starts with UDB's recording magic,
// else when its name ends in .undo, in any case (UDB's own suffix; Undo's
// live-record accepts any name). Anything else is an error wrapping
// ErrHistoryNotRecording that says what was expected.
func DetectKind(recording string) (Kind, error) {
	if recording == "" {
		return KindGDB, nil
	}
	fi, err := os.Stat(recording)
	if err != nil {
		return "", err
	}
	if fi.IsDir() {
		has := func(name string) bool {
			_, err := os.Stat(filepath.Join(recording, name))
			return err == nil
		}
		switch {
		case has(SavedRecordingManifest):
			return KindGDB, nil
		case has("version"):
			return KindRR, nil
		case has("incomplete"):
			return "", fmt.Errorf("%s: %w (rr record is still running, or stopped before it finished): wait for rr record to end, or record again", recording, ErrRecordingIncomplete)
		}
		return "", fmt.Errorf("%s is a directory but %w (it has no rr \"version\" file, nor the %s of timelens record); name the trace directory itself", recording, ErrHistoryNotRecording, SavedRecordingManifest)
	}
	f, err := os.Open(recording)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, len(undoMagic))
	n, _ := io.ReadFull(f, head)
	if bytes.Equal(head[:n], undoMagic) || strings.EqualFold(filepath.Ext(recording), ".undo") {
		return KindUDB, nil
	}
	return "", fmt.Errorf("%s is %w: a UDB recording starts with UDB's header or is named *.undo, and an rr trace or a recording of timelens record is a directory", recording, ErrHistoryNotRecording)
}

// Target is what the debugger is started on.
type Target struct {
	// Program and Args: the program gdb loads (gdb backend only).
	Program string
	Args    []string
	// Recording: the rr trace directory or UDB recording (rr and udb).
	Recording string
	// Debugger: the gdb that rr replay runs (rr's -d); empty for rr's default.
	Debugger string
}

// Time is a point in a backend's history. Raw is the opaque "time" string of
// the LSP contract: it round-trips through ParseTimeString and GotoCommands.
//
//   - gdb: the record-full instruction number, "1234". The live end of the
//     recording is the highest recorded number (gdb reports the position after
//     the last recorded instruction as that number, and "record goto" to it
//     leaves replay); "record goto begin" is 0.
//   - rr: "EVENT:TICKS", the last completed event and the current thread's
//     tick count, "1042:5123456".
//   - udb: "BBCOUNT:0xPC" (UDB's own notation, without commas), or "BBCOUNT"
//     for the start of a basic block, "11571:0x5555555552df".
type Time struct {
	Kind Kind
	Raw  string
}

// String returns Raw.
func (t Time) String() string { return t.Raw }

// IsZero says the time is unknown (no backend produces an empty Raw).
func (t Time) IsZero() bool { return t.Raw == "" }

// TimeReport is what a time query says.
type TimeReport struct {
	// Now is the current time.
	Now Time
	// Last is the latest time in history, when the debugger says (gdb, udb);
	// zero otherwise (rr).
	Last Time
	// Replaying is false when gdb is at the live end of record full, where
	// forward execution records more; true for rr and udb replays, and for
	// gdb anywhere before the end.
	Replaying bool
}

// HistoryEdge classifies a stop: in the middle of history, or at one end.
type HistoryEdge int

// The edges of history.
const (
	// EdgeNone: an ordinary stop.
	EdgeNone HistoryEdge = iota
	// EdgeStart: reverse execution reached the start of history.
	EdgeStart
	// EdgeEnd: forward execution reached the end of history (or the
	// program's exit).
	EdgeEnd
)

func (e HistoryEdge) String() string {
	switch e {
	case EdgeStart:
		return "start of history"
	case EdgeEnd:
		return "end of history"
	}
	return "none"
}

// StopInfo is the part of a *stopped record that says whether history ended:
// StopEvent.Reason, Payload["signal-name"], StopEvent.Console, and the
// direction the command ran.
type StopInfo struct {
	Reason  string
	Signal  string
	Console string
	Reverse bool
}

// Dialect is one row of the table: what a backend needs said differently.
// Get one with DialectFor; the zero value is not usable.
type Dialect struct {
	// Kind is the backend.
	Kind Kind
	// Name is how messages name it.
	Name string
	// DefaultExe is the executable run when --gdb/--rr/--udb is not given.
	DefaultExe string
	// TimeCommands are the CLI commands whose console output, concatenated,
	// ParseTime reads.
	TimeCommands []string
	// StartCommands and EndCommands move to the start / end of history.
	StartCommands, EndCommands []string
	// MovesResume says the goto/start/end commands resume the inferior (gdb
	// answers ^running and later *stopped, so run them as ExecConsole). When
	// false (gdb's record goto) they answer ^done with the new frame on the
	// console and no *stopped.
	MovesResume bool
	// BookmarkCreate, BookmarkGoto and BookmarkDelete are the commands that
	// name a point in time, go to it and forget it, each followed by a space
	// and the bookmark name; empty where the backend has none. rr ignores the
	// name on create and prints the id it chose (see ParseBookmark).
	BookmarkCreate, BookmarkGoto, BookmarkDelete string
	// GotoReplays says GotoCommands replay forward from an earlier point
	// (rr's "run EVENT" + "seek-ticks T"), so that a time returned to again
	// and again is reached faster through a bookmark left there (rr's
	// checkpoint, which "restart N" seeks to directly). UDB's "ugo time"
	// jumps straight to the time: a bookmark is only a name for it there.
	GotoReplays bool
	// Recorder is the executable that records a program for this backend
	// to replay: rr itself, or Undo's live-record (shipped next to udb);
	// empty for gdb, whose window timelens records itself (pyext).
	Recorder string
	// RecordFailures are the known ways recording fails (gdb's record full,
	// or Recorder), read from what the debugger prints, in the order they
	// are looked for.
	RecordFailures []RecordFailure
	// LastChange is the command that goes back to the most recent change of
	// an lvalue, followed by a space and the expression (UDB's "last"); empty
	// where a write watchpoint and reverse-continue do that search (gdb, rr).
	LastChange string

	// NoHistoryReasons are MI stop reasons meaning "no more history in the
	// direction of travel".
	NoHistoryReasons []string
	// NoHistoryText is console text with that meaning, direction-neutral.
	NoHistoryText []string
	// StartText and EndText are console text that names one end.
	StartText, EndText []string
	// EndSignals are signals the backend reports, running forward, when it
	// reaches the end of the recording.
	EndSignals []string
	// GotoNoopErrors are goto error messages that mean "already there".
	GotoNoopErrors []string
	// GotoRangeErrors are goto error messages that mean "no such time".
	GotoRangeErrors []string

	argv       func(exe string, mi []string, t Target) ([]string, error)
	recordArgv func(exe, out string, program []string) []string
	parseTime  func(console string) (TimeReport, error)
	parseRaw   func(raw string) (a, b uint64, canonical string, err error)
	gotoCmds   func(a, b uint64) []string
	bookmarkID *regexp.Regexp
}

// RecordFailure is a known way recording fails.
type RecordFailure struct {
	// ID names it: "xsave", "avx512", "instruction", "syscall", "log",
	// "ptrace" (gdb); "cpu", "paranoid", "counters", "ptrace" (rr);
	// "license" (UDB).
	ID string
	// Said matches what the debugger prints when it fails this way.
	Said *regexp.Regexp
	// Why completes a sentence whose subject is the recorder ("rr does not
	// know this CPU", "record full cannot ..."); Fix says what to do.
	Why, Fix string
}

// RecordFailure reads what the debugger printed: the known recording
// failure it names, if any.
func (d Dialect) RecordFailure(said string) (RecordFailure, bool) {
	for _, f := range d.RecordFailures {
		if f.Said.MatchString(said) {
			return f, true
		}
	}
	return RecordFailure{}, false
}

// dialects is the table.
var dialects = []Dialect{
	{
		Kind:         KindGDB,
		Name:         "gdb record full",
		DefaultExe:   "gdb",
		TimeCommands: []string{"info record"},
		// "record goto begin" lands on instruction 0 and "record goto end"
		// leaves replay at the live end (gdb 16.3 transcripts).
		StartCommands:    []string{"record goto begin"},
		EndCommands:      []string{"record goto end"},
		MovesResume:      false,
		NoHistoryReasons: []string{"no-history"},
		// gdb ≤ 14 prints the first for both directions; gdb 15+ the second,
		// followed by a line naming the direction.
		NoHistoryText:  []string{"No more reverse-execution history.", "Reached end of recorded history; stopping."},
		StartText:      []string{"Backward execution from here not possible."},
		EndText:        []string{"Following forward execution will be added to history."},
		GotoNoopErrors: []string{"Already at target insn."},
		// What gdb prints when record full cannot go on (gdb/record-full.c,
		// i386-tdep.c, amd64-linux-tdep.c), often without failing the command.
		RecordFailures: []RecordFailure{
			{ID: "xsave", Said: regexp.MustCompile(`Couldn't write extended state status`),
				Why: "cannot restore the CPU's extended registers when executing backwards", Fix: "install gdb ≥ 14 (Debian trixie or later)"},
			{ID: "avx512", Said: regexp.MustCompile(`Process record does not support instruction 0x62`),
				Why: "stopped at an AVX-512 instruction in glibc even with GLIBC_TUNABLES set",
				Fix: "start the program with GLIBC_TUNABLES=" + DebuggeeGlibcTunables + " (timelens does for its debuggees; this glibc ignored it: check that it honours glibc.cpu.hwcaps)"},
			{ID: "instruction", Said: regexp.MustCompile(`Process record does not support instruction`),
				Why: "cannot record an instruction the program runs", Fix: "install a newer gdb (≥ 14), whose record full knows more instructions"},
			{ID: "syscall", Said: regexp.MustCompile(`Process record and replay target doesn't support syscall`),
				Why: "cannot record a system call the program makes", Fix: "record a window that does not make it (--record-from a later function), or use --backend rr|udb"},
			{ID: "log", Said: regexp.MustCompile(`Process record: failed to record execution log`),
				Why: "could not record the execution log", Fix: "install gdb ≥ 14 (Debian trixie or later)"},
			{ID: "ptrace", Said: regexp.MustCompile(`ptrace|Operation not permitted`),
				Why: "may not trace processes here", Fix: "allow ptrace: sysctl kernel.yama.ptrace_scope=0, or run the container with --cap-add=SYS_PTRACE"},
		},
		GotoRangeErrors: []string{"Target insn not found."},
		argv:            gdbArgv,
		parseTime:       parseGDBTime,
		parseRaw:        parseGDBRaw,
		gotoCmds: func(n, _ uint64) []string {
			return []string{"record goto " + strconv.FormatUint(n, 10)}
		},
	},
	{
		Kind:         KindRR,
		Name:         "rr replay",
		DefaultExe:   "rr",
		TimeCommands: []string{"when", "when-ticks"},
		// "run N" restarts the replay at the first stop after event N
		// (GdbServer::restart_session); N beyond the trace stops at the
		// debuggee's exit with a synthetic SIGKILL (src/test/run_end.py).
		// A bare "run" would reuse the last "run" arguments, so never send one.
		StartCommands:    []string{"run 1"},
		EndCommands:      []string{"run 9223372036854775807"},
		MovesResume:      true,
		BookmarkCreate:   "checkpoint",
		BookmarkGoto:     "restart",
		BookmarkDelete:   "delete checkpoint",
		GotoReplays:      true,
		NoHistoryReasons: []string{"no-history"},
		NoHistoryText:    []string{"No more reverse-execution history.", "Reached end of recorded history; stopping."},
		StartText:        []string{"Backward execution from here not possible."},
		EndText:          []string{"Following forward execution will be added to history."},
		EndSignals:       []string{"SIGKILL"},
		GotoRangeErrors:  []string{"No event found matching specified ticks target"},
		Recorder:         "rr",
		// rr's messages (src/PerfCounters.cc, src/util.cc) and what fixes
		// each (github.com/rr-debugger/rr/wiki/Will-rr-work-on-my-system).
		RecordFailures: []RecordFailure{
			{ID: "cpu", Said: regexp.MustCompile(`(?i)cpu .*(unknown|not supported|unsupported)|microarchitecture|unsupported cpu`),
				Why: "does not know this CPU", Fix: "install a newer rr (github.com/rr-debugger/rr/releases) or build it from source"},
			{ID: "paranoid", Said: regexp.MustCompile(`perf_event_paranoid`),
				Why: "may not use the hardware performance counters: the kernel keeps them from it (kernel.perf_event_paranoid)", Fix: "sysctl kernel.perf_event_paranoid=1"},
			{ID: "counters", Said: regexp.MustCompile(`(?i)perf_event_open|performance counter|perf event|pmu`),
				Why: "needs the CPU's hardware performance counters and perf_event_open could not open them",
				Fix: "run on bare metal or in a VM that exposes the CPU's performance counters (KVM: -cpu host; VMware: virtualize CPU performance counters; cloud: a bare-metal instance), with kernel.perf_event_paranoid ≤ 1"},
			{ID: "ptrace", Said: regexp.MustCompile(`ptrace`),
				Why: "may not trace processes here", Fix: "allow ptrace: sysctl kernel.yama.ptrace_scope=0, or run the container with --cap-add=SYS_PTRACE --security-opt seccomp=unconfined"},
		},
		argv: rrArgv,
		// rr record -o TRACE-DIR -- PROGRAM ARGS (src/RecordCommand.cc).
		recordArgv: func(rr, out string, program []string) []string {
			return append([]string{rr, "record", "-o", out, "--"}, program...)
		},
		parseTime: parseRRTime,
		parseRaw:  parseRRRaw,
		gotoCmds: func(event, ticks uint64) []string {
			return []string{
				"run " + strconv.FormatUint(event, 10),
				"seek-ticks " + strconv.FormatUint(ticks, 10),
			}
		},
		bookmarkID: regexp.MustCompile(`Checkpoint (\d+) at`),
	},
	{
		Kind:           KindUDB,
		Name:           "UDB",
		DefaultExe:     "udb",
		TimeCommands:   []string{"info time -a"},
		StartCommands:  []string{"ugo start"},
		EndCommands:    []string{"ugo end"},
		MovesResume:    true,
		BookmarkCreate: "ubookmark",
		BookmarkGoto:   "ugo bookmark",
		// "last EXPRESSION" (https://undo.io/?p=11666; github.com/undoio/addons
		// explain/instructions.md): the gdb side's search for the last write.
		LastChange:       "last",
		NoHistoryReasons: []string{"no-history"},
		NoHistoryText:    []string{"No more reverse-execution history.", "Reached end of recorded history; stopping."},
		StartText:        []string{"Backward execution from here not possible.", "The debugged program is at the beginning of recorded history."},
		EndText:          []string{"Have reached end of recorded history.", "Following forward execution will be added to history."},
		Recorder:         "live-record",
		RecordFailures: []RecordFailure{
			{ID: "license", Said: regexp.MustCompile(`(?i)licen[cs]e`), Why: "was refused its license", Fix: "see Undo's licensing documentation"},
		},
		argv: udbArgv,
		// live-record -o FILE.undo -- PROGRAM ARGS: the .undo suffix is how
		// DetectKind knows the file before it reads it.
		recordArgv: func(liveRecord, out string, program []string) []string {
			if !strings.EqualFold(filepath.Ext(out), ".undo") {
				out += ".undo"
			}
			return append([]string{liveRecord, "-o", out, "--"}, program...)
		},
		parseTime: parseUDBTime,
		parseRaw:  parseUDBRaw,
		gotoCmds: func(bb, pc uint64) []string {
			return []string{"ugo time " + udbRaw(bb, pc)}
		},
	},
}

// GDBSide is what the gdb side (pyext/timelens_gdb/debugger.py) needs of a
// row to ask the time, go back to a time and see the end of history while it
// moves inside the debugger: the same commands and patterns ParseTime,
// GotoCommands and BookmarkCommand use here, sent as JSON when the session
// starts, so that no pattern is written twice.
type GDBSide struct {
	Kind         Kind     `json:"kind"`
	TimeCommands []string `json:"time_commands"`
	// Patterns are regular expressions (RE2 syntax, which Python's re reads
	// too) by name: gdb: current, replay, lowest, log; rr: event,
	// event_before_5_8 (the current event, one more than the completed one),
	// ticks; udb: time (bbcount with commas, then 0xPC).
	Patterns map[string]string `json:"patterns"`
	// NoRecording is what the time query says without a recording (gdb).
	NoRecording []string `json:"no_recording,omitempty"`
	// Goto are the commands that go to a time, Python format strings over the
	// time's parts ({0}: instruction, event or bbcount; {1}: ticks or pc);
	// GotoNoPC those of a UDB time without a pc.
	Goto     []string `json:"goto"`
	GotoNoPC []string `json:"goto_no_pc,omitempty"`
	// Start and End go to the ends of history; GotoNoop are goto errors
	// that mean "already there".
	Start    []string `json:"start"`
	End      []string `json:"end"`
	GotoNoop []string `json:"goto_noop,omitempty"`
	// Bookmark commands ({0}: the id) and the pattern that reads a new
	// one's id; nil where the backend has none a move needs (gdb, UDB).
	Bookmark *GDBSideBookmark `json:"bookmark,omitempty"`
	// LastChange is LastChange; EndSignals is EndSignals.
	LastChange string   `json:"last_change,omitempty"`
	EndSignals []string `json:"end_signals,omitempty"`
}

// GDBSideBookmark is GDBSide's bookmark commands: rr's checkpoints.
type GDBSideBookmark struct {
	Create string `json:"create"`
	ID     string `json:"id"`
	Goto   string `json:"goto"`
	Delete string `json:"delete"`
}

// GDBSide returns what the gdb side needs of this row.
func (d Dialect) GDBSide() GDBSide {
	g := GDBSide{Kind: d.Kind, TimeCommands: d.TimeCommands, Start: d.StartCommands, End: d.EndCommands,
		GotoNoop: d.GotoNoopErrors, LastChange: d.LastChange, EndSignals: d.EndSignals}
	switch d.Kind {
	case KindGDB:
		g.Patterns = map[string]string{"current": gdbCurrentRe.String(), "replay": gdbReplayRe.String(),
			"lowest": gdbLowestRe.String(), "highest": gdbHighestRe.String(), "log": gdbLogRe.String()}
		g.NoRecording = gdbNoRecording
		g.Goto = d.gotoCmds(0, 0)
	case KindRR:
		g.Patterns = map[string]string{"event": rrCompletedRe.String(), "event_before_5_8": rrCurrentRe.String(),
			"ticks": rrTickRe.String()}
		g.Goto = d.gotoCmds(0, 1)
	case KindUDB:
		g.Patterns = map[string]string{"time": udbTimeRe.String()}
		g.Goto, g.GotoNoPC = d.gotoCmds(0, 1), d.gotoCmds(0, 0)
	}
	// The goto commands of the time (0, 1) with its parts as placeholders.
	for _, cmds := range []*[]string{&g.Goto, &g.GotoNoPC} {
		for i, c := range *cmds {
			c = strings.Replace(c, "0x1", "0x{1:x}", 1)
			c = strings.Replace(c, " 1", " {1}", 1)
			(*cmds)[i] = strings.Replace(c, " 0", " {0}", 1)
		}
	}
	if d.GotoReplays && d.bookmarkID != nil {
		g.Bookmark = &GDBSideBookmark{Create: d.BookmarkCreate, ID: d.bookmarkID.String(),
			Goto: d.BookmarkGoto + " {0}", Delete: d.BookmarkDelete + " {0}"}
	}
	return g
}

// DialectFor returns the row for k. The error names the valid kinds.
func DialectFor(k Kind) (Dialect, error) {
	for _, d := range dialects {
		if d.Kind == k {
			return d, nil
		}
	}
	return Dialect{}, fmt.Errorf("%w %q: valid backends are %s", ErrHistoryUnknownBackend, string(k), kindList())
}

// Argv is the command line that starts the debugger with GDB/MI on its
// stdin/stdout. exe is the debugger (DefaultExe when empty); mi holds the MI
// flags the session adds ("--nx", "--quiet", "--interpreter=mi2",
// "--tty=/dev/pts/N"). Every path is one argv element: nothing passes
// through a shell.
func (d Dialect) Argv(exe string, mi []string, t Target) ([]string, error) {
	if d.argv == nil {
		return nil, fmt.Errorf("%w %q: valid backends are %s", ErrHistoryUnknownBackend, string(d.Kind), kindList())
	}
	if exe == "" {
		exe = d.DefaultExe
	}
	return d.argv(exe, mi, t)
}

// RecordArgv is the command line that records PROGRAM ARGS into out with
// the backend's own recorder (exe: Recorder when empty). gdb has none: its
// window is recorded by timelens itself.
func (d Dialect) RecordArgv(exe, out string, program []string) ([]string, error) {
	if d.recordArgv == nil {
		return nil, fmt.Errorf("%s has no recorder of its own: timelens records its window (timelens record --backend gdb)", d.Name)
	}
	if exe == "" {
		exe = d.Recorder
	}
	return d.recordArgv(exe, out, program), nil
}

// ParseTime reads the console output of TimeCommands.
func (d Dialect) ParseTime(console string) (TimeReport, error) {
	if d.parseTime == nil {
		return TimeReport{}, fmt.Errorf("%w %q", ErrHistoryUnknownBackend, string(d.Kind))
	}
	return d.parseTime(console)
}

// ParseTimeString checks a time string from the LSP (the "time" field) and
// returns it in canonical form (UDB's commas removed).
func (d Dialect) ParseTimeString(raw string) (Time, error) {
	if d.parseRaw == nil {
		return Time{}, fmt.Errorf("%w %q", ErrHistoryUnknownBackend, string(d.Kind))
	}
	_, _, canon, err := d.parseRaw(strings.TrimSpace(raw))
	if err != nil {
		return Time{}, fmt.Errorf("%w for %s: %q: %v", ErrTimeInvalid, d.Name, raw, err)
	}
	return Time{Kind: d.Kind, Raw: canon}, nil
}

// GotoCommands are the CLI commands, in order, that move to t.
func (d Dialect) GotoCommands(t Time) ([]string, error) {
	if t.Kind != "" && t.Kind != d.Kind {
		return nil, fmt.Errorf("%w for %s: %q is a %s time", ErrTimeInvalid, d.Name, t.Raw, t.Kind)
	}
	if d.parseRaw == nil {
		return nil, fmt.Errorf("%w %q", ErrHistoryUnknownBackend, string(d.Kind))
	}
	a, b, _, err := d.parseRaw(t.Raw)
	if err != nil {
		return nil, fmt.Errorf("%w for %s: %q: %v", ErrTimeInvalid, d.Name, t.Raw, err)
	}
	return d.gotoCmds(a, b), nil
}

// Compare orders two times of this backend: -1, 0 or +1.
func (d Dialect) Compare(x, y Time) (int, error) {
	if d.parseRaw == nil {
		return 0, fmt.Errorf("%w %q", ErrHistoryUnknownBackend, string(d.Kind))
	}
	xa, xb, _, err := d.parseRaw(x.Raw)
	if err != nil {
		return 0, fmt.Errorf("%w for %s: %q: %v", ErrTimeInvalid, d.Name, x.Raw, err)
	}
	ya, yb, _, err := d.parseRaw(y.Raw)
	if err != nil {
		return 0, fmt.Errorf("%w for %s: %q: %v", ErrTimeInvalid, d.Name, y.Raw, err)
	}
	switch {
	case xa < ya || (xa == ya && xb < yb):
		return -1, nil
	case xa == ya && xb == yb:
		return 0, nil
	}
	return 1, nil
}

// Edge says whether a stop is at the start or end of history.
func (d Dialect) Edge(s StopInfo) HistoryEdge {
	directional := func() HistoryEdge {
		if s.Reverse {
			return EdgeStart
		}
		return EdgeEnd
	}
	if containsAny(s.Console, d.StartText) {
		return EdgeStart
	}
	if containsAny(s.Console, d.EndText) {
		return EdgeEnd
	}
	for _, r := range d.NoHistoryReasons {
		if s.Reason == r {
			return directional()
		}
	}
	if strings.HasPrefix(s.Reason, "exited") {
		return EdgeEnd
	}
	if !s.Reverse && s.Reason == "signal-received" {
		for _, sig := range d.EndSignals {
			if s.Signal == sig {
				return EdgeEnd
			}
		}
	}
	if containsAny(s.Console, d.NoHistoryText) {
		return directional()
	}
	return EdgeNone
}

// GotoError reads the error message of a goto command: nil when it means the
// debugger is already at that time, an error wrapping ErrTimeNotInHistory
// when the time is not in history, else the message as an error.
func (d Dialect) GotoError(msg string) error {
	if containsAny(msg, d.GotoNoopErrors) {
		return nil
	}
	if containsAny(msg, d.GotoRangeErrors) {
		return fmt.Errorf("%s: %w: %s", d.Name, ErrTimeNotInHistory, strings.TrimSpace(msg))
	}
	return fmt.Errorf("%s: %s", d.Name, strings.TrimSpace(msg))
}

// BookmarkCommand is the CLI command that creates ("create"), goes to
// ("goto") or deletes ("delete") the bookmark name. It wraps
// ErrHistoryNoBookmarks where the backend cannot.
func (d Dialect) BookmarkCommand(op, name string) (string, error) {
	var prefix string
	switch op {
	case "create":
		prefix = d.BookmarkCreate
		if d.Kind == KindRR {
			// rr chooses the id; the argument is only a label it ignores.
			return prefix, nil
		}
	case "goto":
		prefix = d.BookmarkGoto
	case "delete":
		prefix = d.BookmarkDelete
	default:
		return "", fmt.Errorf("bookmark operation %q: valid operations are create, goto, delete", op)
	}
	if prefix == "" {
		return "", fmt.Errorf("%s: %w (%s)", d.Name, ErrHistoryNoBookmarks, op)
	}
	if name == "" || strings.ContainsAny(name, " \t\r\n\"'\\") {
		return "", fmt.Errorf("bookmark name %q: use letters, digits and punctuation without spaces or quotes", name)
	}
	return prefix + " " + name, nil
}

// ParseBookmark reads the name of a bookmark just created from the console
// output of its create command: the id rr chose, or name itself for UDB.
func (d Dialect) ParseBookmark(console, name string) (string, error) {
	if d.BookmarkCreate == "" {
		return "", fmt.Errorf("%s: %w", d.Name, ErrHistoryNoBookmarks)
	}
	if d.bookmarkID == nil {
		return name, nil
	}
	m := d.bookmarkID.FindStringSubmatch(console)
	if m == nil {
		return "", fmt.Errorf("%s: unexpected output of %q: %q", d.Name, d.BookmarkCreate, console)
	}
	return m[1], nil
}

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if x != "" && strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// notAnOption keeps a path that starts with "-" from being read as a flag.
func notAnOption(p string) string {
	if strings.HasPrefix(p, "-") {
		return "./" + p
	}
	return p
}

// gdbArgv: gdb MI-FLAGS [--args PROGRAM ARGS...], as Start builds by default.
func gdbArgv(exe string, mi []string, t Target) ([]string, error) {
	if t.Recording != "" {
		return nil, fmt.Errorf("gdb record full cannot replay %s: use --backend rr or udb for a recording", t.Recording)
	}
	argv := append([]string{exe}, mi...)
	if t.Program != "" {
		argv = append(argv, "--args", t.Program)
		argv = append(argv, t.Args...)
	}
	return argv, nil
}

// rrArgv: rr replay [--tty TTY | -q] [-d GDB] TRACE -- MI-FLAGS.
// rr replay runs gdb itself; options after "--" go to gdb (ReplayCommand.cc,
// ReplayCommand::run). The debuggee's replayed writes go to rr's stdout, which
// is gdb's MI stream, unless --tty sends them elsewhere (rr ≥ 5.5) or -q drops
// them; so the session's --tty flag becomes rr's.
func rrArgv(exe string, mi []string, t Target) ([]string, error) {
	if t.Recording == "" {
		return nil, errors.New("rr replay needs a trace directory: pass --recording DIR (made by rr record or timelens record)")
	}
	if t.Program != "" {
		return nil, fmt.Errorf("rr replays %s; it cannot also run %s", t.Recording, t.Program)
	}
	argv := []string{exe, "replay"}
	var gdbFlags []string
	tty := ""
	for i := 0; i < len(mi); i++ {
		switch {
		case strings.HasPrefix(mi[i], "--tty="):
			tty = strings.TrimPrefix(mi[i], "--tty=")
		case mi[i] == "--tty" && i+1 < len(mi):
			tty = mi[i+1]
			i++
		default:
			gdbFlags = append(gdbFlags, mi[i])
		}
	}
	if tty != "" {
		argv = append(argv, "--tty", tty)
	} else {
		argv = append(argv, "-q")
	}
	if t.Debugger != "" {
		argv = append(argv, "-d", t.Debugger)
	}
	argv = append(argv, notAnOption(t.Recording), "--")
	return append(argv, gdbFlags...), nil
}

// udbArgv: udb MI-FLAGS RECORDING. UDB takes gdb's options and loads a
// recording named as its last argument (docs.undo.io LoadingRecordings.html).
func udbArgv(exe string, mi []string, t Target) ([]string, error) {
	if t.Recording == "" {
		return nil, errors.New("UDB needs a recording: pass --recording FILE.undo (made by live-record or timelens record)")
	}
	if t.Program != "" {
		return nil, fmt.Errorf("UDB replays %s; it cannot also run %s", t.Recording, t.Program)
	}
	argv := append([]string{exe}, mi...)
	return append(argv, notAnOption(t.Recording)), nil
}

var (
	gdbReplayRe  = regexp.MustCompile(`(?m)^Replay mode:$`)
	gdbRecordRe  = regexp.MustCompile(`(?m)^Record mode:$`)
	gdbCurrentRe = regexp.MustCompile(`Current instruction number is (\d+)\.`)
	gdbHighestRe = regexp.MustCompile(`Highest recorded instruction number is (\d+)\.`)
	gdbLowestRe  = regexp.MustCompile(`Lowest recorded instruction number is (\d+)\.`)
	gdbLogRe     = regexp.MustCompile(`Log contains (\d+) instructions`)
	// gdbNoRecording is what "info record" says without a recording.
	gdbNoRecording = []string{"No recording is currently active.", "target record is not active."}
)

// parseGDBTime reads "info record" under record full (gdb/record-full.c,
// record_full_base_target::info_record).
func parseGDBTime(console string) (TimeReport, error) {
	fail := func(why string) (TimeReport, error) {
		return TimeReport{}, &TimeOutputError{Kind: KindGDB, Commands: []string{"info record"}, Output: console, Why: why}
	}
	for _, no := range gdbNoRecording {
		if strings.Contains(console, no) {
			return TimeReport{}, ErrTimeNoRecording
		}
	}
	// record-core: a log saved by `record save` and restored over its core
	// file (timelens record --backend gdb) reports like record-full.
	if !strings.Contains(console, "record-full") && !strings.Contains(console, "record-core") && !strings.Contains(console, "process record target") {
		return fail("no record-full target named (another record method?)")
	}
	replay := gdbReplayRe.MatchString(console)
	if !replay && !gdbRecordRe.MatchString(console) {
		return fail(`neither "Record mode:" nor "Replay mode:"`)
	}
	t := func(s string) Time { return Time{Kind: KindGDB, Raw: s} }
	highest := "0"
	if m := gdbHighestRe.FindStringSubmatch(console); m != nil {
		highest = m[1]
	} else if !strings.Contains(console, "No instructions have been logged.") {
		return fail("no highest recorded instruction number")
	}
	r := TimeReport{Now: t(highest), Last: t(highest), Replaying: replay}
	if replay {
		m := gdbCurrentRe.FindStringSubmatch(console)
		if m == nil {
			return fail("replay mode without a current instruction number")
		}
		r.Now = t(m[1])
	}
	for _, tm := range []*Time{&r.Now, &r.Last} {
		_, _, canon, err := parseGDBRaw(tm.Raw)
		if err != nil {
			return fail("instruction number " + tm.Raw + " out of range")
		}
		tm.Raw = canon // as ParseTimeString spells it
	}
	return r, nil
}

func parseGDBRaw(raw string) (uint64, uint64, string, error) {
	n, err := strconv.ParseUint(raw, 10, 64)
	if err != nil {
		return 0, 0, "", errors.New("want an instruction number such as 1234")
	}
	return n, 0, strconv.FormatUint(n, 10), nil
}

var (
	rrCompletedRe = regexp.MustCompile(`Completed event: (\d+)`)
	rrCurrentRe   = regexp.MustCompile(`Current event: (\d+)`)
	rrTickRe      = regexp.MustCompile(`Current tick: (\d+)`)
)

// parseRRTime reads "when" and "when-ticks" (rr src/DebuggerExtensionCommand.cc).
// rr ≥ 5.8 prints "Completed event: N"; before, "Current event: N+1" for the
// same point (rr commit 5435bc41). Either way the time keeps the completed
// event, which is what "run N" returns to.
func parseRRTime(console string) (TimeReport, error) {
	fail := func(why string) (TimeReport, error) {
		return TimeReport{}, &TimeOutputError{Kind: KindRR, Commands: []string{"when", "when-ticks"}, Output: console, Why: why}
	}
	var event uint64
	var err error
	if m := rrCompletedRe.FindStringSubmatch(console); m != nil {
		event, err = strconv.ParseUint(m[1], 10, 64)
	} else if m := rrCurrentRe.FindStringSubmatch(console); m != nil {
		event, err = strconv.ParseUint(m[1], 10, 64)
		if event > 0 {
			event--
		}
	} else {
		return fail(`no "Completed event: N" (is this rr replay, outside a diversion?)`)
	}
	if err != nil {
		return fail("event number out of range")
	}
	m := rrTickRe.FindStringSubmatch(console)
	if m == nil {
		return fail(`no "Current tick: N"`)
	}
	ticks, err := strconv.ParseUint(m[1], 10, 64)
	if err != nil {
		return fail("tick count out of range")
	}
	return TimeReport{Now: Time{Kind: KindRR, Raw: rrRaw(event, ticks)}, Replaying: true}, nil
}

func rrRaw(event, ticks uint64) string {
	return strconv.FormatUint(event, 10) + ":" + strconv.FormatUint(ticks, 10)
}

func parseRRRaw(raw string) (uint64, uint64, string, error) {
	e, t, ok := strings.Cut(raw, ":")
	event, err1 := strconv.ParseUint(e, 10, 64)
	ticks, err2 := strconv.ParseUint(t, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, "", errors.New("want EVENT:TICKS such as 1042:5123456")
	}
	return event, ticks, rrRaw(event, ticks), nil
}

var udbTimeRe = regexp.MustCompile(`Current time is: ([0-9,]+)(?::(0x[0-9a-fA-F]+))?(?: \(in recorded range: \[([0-9,]+) - ([0-9,]+)\]\))?`)

// parseUDBTime reads "info time -a" (older UDB: "uinfo time -a"), e.g.
// "Current time is: 11,571:0x5555555552df (in recorded range: [1 - 228,443])"
// (docs.undo.io TimeNotation.html).
func parseUDBTime(console string) (TimeReport, error) {
	m := udbTimeRe.FindStringSubmatch(console)
	if m == nil {
		return TimeReport{}, &TimeOutputError{Kind: KindUDB, Commands: []string{"info time -a"}, Output: console, Why: `no "Current time is: BBCOUNT:0xPC"`}
	}
	raw := m[1]
	if m[2] != "" {
		raw += ":" + m[2]
	}
	_, _, now, err := parseUDBRaw(raw)
	if err != nil {
		return TimeReport{}, &TimeOutputError{Kind: KindUDB, Commands: []string{"info time -a"}, Output: console, Why: err.Error()}
	}
	r := TimeReport{Now: Time{Kind: KindUDB, Raw: now}, Replaying: true}
	if m[4] != "" {
		if _, _, last, err := parseUDBRaw(m[4]); err == nil {
			r.Last = Time{Kind: KindUDB, Raw: last}
		}
	}
	return r, nil
}

func udbRaw(bb, pc uint64) string {
	s := strconv.FormatUint(bb, 10)
	if pc != 0 {
		s += ":0x" + strconv.FormatUint(pc, 16)
	}
	return s
}

// parseUDBRaw accepts BBCOUNT or BBCOUNT:0xPC, with or without commas in the
// bbcount, as UDB does.
func parseUDBRaw(raw string) (uint64, uint64, string, error) {
	bbs, pcs, hasPC := strings.Cut(raw, ":")
	bb, err := strconv.ParseUint(strings.ReplaceAll(bbs, ",", ""), 10, 64)
	if err != nil || bbs == "" || strings.HasPrefix(bbs, ",") {
		return 0, 0, "", errors.New("want BBCOUNT or BBCOUNT:0xPC such as 11571:0x5555555552df")
	}
	var pc uint64
	if hasPC {
		h, ok := strings.CutPrefix(strings.ToLower(pcs), "0x")
		pc, err = strconv.ParseUint(h, 16, 64)
		if !ok || err != nil {
			return 0, 0, "", errors.New("want a program counter in hex after the colon, such as 11571:0x5555555552df")
		}
	}
	return bb, pc, udbRaw(bb, pc), nil
}
