package pyext

// The rr and UDB backends on transcripts. Neither debugger runs here (rr needs
// hardware performance counters these machines lack; UDB cannot be obtained),
// so their sessions are played from transcripts WRITTEN BY HAND from rr's
// source and Undo's documentation (testdata/transcripts/*.txt say which files
// and pages), not recorded from a live rr or UDB:
//
//   - TestTranscriptRRBackend, TestTranscriptUDBBackend: a fake debugger (this
//     test binary, re-executed with TIMELENS_FAKE_DEBUGGER=TRANSCRIPT) stands in
//     for rr replay / udb. It expects each command of the transcript in order and
//     answers the recorded reply; anything else is answered with an error that
//     names the command it expected. The Backend under test goes to times, asks
//     the time, and moves through the dialect, and maps the refusals at either end
//     of history to history.EdgeError.
//   - TestTranscriptNavigateDialect: the gdb side's debugger layer (what it sends to
//     ask the time and to go back to it, and which stop means the end of
//     history) in a real gdb, whose gdb.execute is replaced by a player of the
//     same transcripts' console text.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/gdbmi/gdbtest"
	"github.com/timelens/timelens/history"
)

// fakeEnv names the transcript the re-executed test binary plays.
const fakeEnv = "TIMELENS_FAKE_DEBUGGER"

func TestMain(m *testing.M) {
	if path := os.Getenv(fakeEnv); path != "" {
		os.Exit(playTranscript(path, os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

// transcriptStep is one command of a transcript and the lines that answer it.
type transcriptStep struct {
	command string // canonical: op and arguments, unquoted, space-separated
	reply   []string
}

// readTranscript splits a transcript into the banner (before the first
// command) and its steps. Lines starting with "#" are comments.
func readTranscript(path string) (banner []string, steps []transcriptStep, err error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	for _, l := range strings.Split(strings.TrimRight(string(raw), "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "> "):
			steps = append(steps, transcriptStep{command: canonicalMI(strings.TrimPrefix(l, "> "))})
		case len(steps) == 0:
			banner = append(banner, l)
		default:
			steps[len(steps)-1].reply = append(steps[len(steps)-1].reply, l)
		}
	}
	return banner, steps, nil
}

// canonicalMI reads an MI command line as cyrus-and/gdb or a transcript
// writes it (arguments quoted only when needed) into one form.
func canonicalMI(line string) string {
	var out []string
	for line = strings.TrimSpace(line); line != ""; line = strings.TrimSpace(line) {
		if line[0] == '"' {
			if q, err := strconv.QuotedPrefix(line); err == nil {
				s, _ := strconv.Unquote(q)
				out = append(out, s)
				line = line[len(q):]
				continue
			}
		}
		word, rest, _ := strings.Cut(line, " ")
		out = append(out, word)
		line = rest
	}
	return strings.Join(out, " ")
}

// acknowledged are commands the fake answers ^done without a transcript line:
// the session's set-up and the import of timelens from a temporary directory.
func acknowledged(cmd string) bool {
	return strings.HasPrefix(cmd, "-gdb-set ") ||
		strings.HasPrefix(cmd, "-interpreter-exec console set environment ") ||
		strings.HasPrefix(cmd, "-interpreter-exec console python import sys; sys.path.insert(0, ") ||
		strings.HasPrefix(cmd, "-interpreter-exec console python import timelens_gdb.debugger as d; d.configure(")
}

// playTranscript is the fake debugger: reads MI commands ("TOKEN-op args") on
// in and answers them from the transcript at path.
func playTranscript(path string, in *os.File, out *os.File) int {
	banner, steps, err := readTranscript(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	w := bufio.NewWriter(out)
	emit := func(token string, lines []string) {
		for _, l := range lines {
			if strings.HasPrefix(l, "^") {
				l = token + l
			}
			w.WriteString(l + "\n")
		}
		w.Flush()
	}
	emit("", banner)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	next := 0
	for sc.Scan() {
		line := sc.Text()
		i := 0
		for i < len(line) && line[i] >= '0' && line[i] <= '9' {
			i++
		}
		token, cmd := line[:i], canonicalMI(line[i:])
		switch {
		case cmd == "-gdb-exit":
			emit(token, []string{"^exit"})
			return 0
		case acknowledged(cmd):
			emit(token, []string{"^done", "(gdb) "})
		case next < len(steps) && steps[next].command == cmd:
			emit(token, steps[next].reply)
			next++
		default:
			want := "the end of the transcript"
			if next < len(steps) {
				want = strconv.Quote(steps[next].command)
			}
			emit(token, []string{fmt.Sprintf("^error,msg=%s", strconv.Quote(fmt.Sprintf("transcript %s: got %q, expected %s", filepath.Base(path), cmd, want))), "(gdb) "})
		}
	}
	return 0
}

// openFake opens a Backend of kind on the fake debugger playing transcript.
func openFake(t *testing.T, kind gdbmi.Kind, transcript string) *Backend {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path, _ := filepath.Abs(filepath.Join("testdata", "transcripts", transcript))
	t.Setenv(fakeEnv, path)
	rec := filepath.Join(t.TempDir(), "python3-0")
	if kind == gdbmi.KindUDB {
		rec += ".undo"
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := Open(ctx, Options{Kind: kind, Debugger: self, Recording: rec})
	if err != nil {
		t.Fatalf("Open on the %s transcript: %v", kind, err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func wantEdge(t *testing.T, what string, err error, edge history.Edge) {
	t.Helper()
	var e *history.EdgeError
	if !errors.As(err, &e) || e.Edge != edge {
		t.Errorf("%s: %v, want the %s of history", what, err, edge)
	}
}

// TestTranscriptRRBackend: under rr replay the backend asks the time with
// when/when-ticks, goes back to it with run EVENT + seek-ticks TICKS, steps with
// the gdb side, and turns refusals at either end and a time beyond the trace
// into named errors.
func TestTranscriptRRBackend(t *testing.T) {
	b := openFake(t, gdbmi.KindRR, "rr-backend.txt")
	ctx := context.Background()
	start, err := b.Now(ctx)
	if err != nil || start != "1042:5123456" {
		t.Fatalf("Now: %q %v, want 1042:5123456", start, err)
	}
	if err := b.Move(ctx, history.Step); err != nil {
		t.Fatalf("step: %v", err)
	}
	after, err := b.Now(ctx)
	if err != nil || b.Compare(start, after) >= 0 {
		t.Fatalf("after a step the time is %q (%v), not later than %q", after, err, start)
	}
	if err := b.Goto(ctx, start); err != nil {
		t.Fatalf("Goto %s: %v", start, err)
	}
	wantEdge(t, "reverse step at the start", b.Move(ctx, history.ReverseStep), history.Start)
	wantEdge(t, "next at the end", b.Move(ctx, history.Next), history.End)
	err = b.Goto(ctx, "1042:999999999999")
	if !errors.Is(err, gdbmi.ErrTimeNotInHistory) {
		t.Errorf("Goto beyond the trace: %v, want %v", err, gdbmi.ErrTimeNotInHistory)
	}
	if err := b.Goto(ctx, "5123456"); !errors.Is(err, gdbmi.ErrTimeInvalid) {
		t.Errorf("Goto to a gdb time: %v, want %v", err, gdbmi.ErrTimeInvalid)
	}
}

// TestTranscriptRRCheckpoint: under rr, Goto leaves a checkpoint at the time
// it went to and goes back there with "restart N" instead of replaying from
// an earlier event; a failed restart falls back to run + seek-ticks, and a
// third time gone to deletes the oldest checkpoint. The fake debugger answers
// only the commands of rr-checkpoint.txt, in order: a "run" where the
// transcript has "restart" fails the Goto.
func TestTranscriptRRCheckpoint(t *testing.T) {
	b := openFake(t, gdbmi.KindRR, "rr-checkpoint.txt")
	ctx := context.Background()
	start, err := b.Now(ctx)
	if err != nil || start != "1042:5123456" {
		t.Fatalf("Now: %q %v, want 1042:5123456", start, err)
	}
	if err := b.Move(ctx, history.Step); err != nil {
		t.Fatalf("step: %v", err)
	}
	if err := b.Goto(ctx, start); err != nil {
		t.Fatalf("first Goto %s (run, seek-ticks, checkpoint): %v", start, err)
	}
	if err := b.Move(ctx, history.Next); err != nil {
		t.Fatalf("next: %v", err)
	}
	if err := b.Goto(ctx, start); err != nil {
		t.Fatalf("second Goto %s (restart 3): %v", start, err)
	}
	if now, err := b.Now(ctx); err != nil || now != start {
		t.Fatalf("after restart 3 the time is %q (%v), want %q", now, err, start)
	}
	if err := b.Goto(ctx, start); err != nil {
		t.Fatalf("Goto %s after a failed restart: %v, want the time-based fallback", start, err)
	}
	for _, to := range []history.Time{"1043:5200000", "1044:5300000", "1043:5200000"} {
		if err := b.Goto(ctx, to); err != nil {
			t.Fatalf("Goto %s: %v", to, err)
		}
	}
}

// TestTranscriptUDBLastWrite: under UDB the search for the last write is
// Undo's "last" (the gdb side's part is in dialect_check.py); the backend reads
// the time the search found, and a search that found no earlier change is
// ErrNoEarlierWrite.
func TestTranscriptUDBLastWrite(t *testing.T) {
	b := openFake(t, gdbmi.KindUDB, "udb-last.txt")
	ctx := context.Background()
	w, err := b.LastWrite(ctx, 0, "acct.balance")
	if err != nil {
		t.Fatalf("LastWrite acct.balance: %v", err)
	}
	if w.Time != "201290:0x55555578a1e4" || w.Line != 32 || w.Function != "deposit_unlocked" || w.Value != "4" {
		t.Errorf("LastWrite acct.balance = %+v, want 4 at race.py:32 in deposit_unlocked at 201290:0x55555578a1e4", w)
	}
	// The gdb side (dialect_check.py) sends the dialect table's command.
	d, _ := gdbmi.DialectFor(gdbmi.KindUDB)
	raw, err := os.ReadFile(filepath.Join("testdata", "transcripts", "udb-last.txt"))
	if err != nil || d.LastChange == "" || !strings.Contains(string(raw), "> -interpreter-exec console \""+d.LastChange+" *(unsigned long *) 0x") {
		t.Errorf("udb-last.txt does not search with the dialect's LastChange command %q (%v)", d.LastChange, err)
	}
	_, err = b.LastWrite(ctx, 0, "total")
	if !errors.Is(err, ErrNoEarlierWrite) {
		t.Errorf("LastWrite of a name set before recording: %v, want %v", err, ErrNoEarlierWrite)
	} else if !strings.Contains(err.Error(), "no write of total before now") {
		t.Errorf("LastWrite refusal does not name what was searched: %v", err)
	}
}

// TestTranscriptUDBBackend: under UDB the backend asks the time with "info
// time -a" (bbcount with commas), goes to it with "ugo time", and maps
// refusals at either end, also of a call search, to named errors.
func TestTranscriptUDBBackend(t *testing.T) {
	b := openFake(t, gdbmi.KindUDB, "udb-backend.txt")
	ctx := context.Background()
	start, err := b.Now(ctx)
	if err != nil || start != "11571:0x5555555552df" {
		t.Fatalf("Now: %q %v, want 11571:0x5555555552df", start, err)
	}
	wantEdge(t, "reverse step at the start", b.Move(ctx, history.ReverseStep), history.Start)
	if err := b.Move(ctx, history.Finish); err != nil {
		t.Fatalf("finish: %v", err)
	}
	after, err := b.Now(ctx)
	if err != nil || b.Compare(start, after) >= 0 {
		t.Fatalf("after finish the time is %q (%v), not later than %q", after, err, start)
	}
	if err := b.Goto(ctx, "11,571:0x5555555552df"); err != nil {
		t.Fatalf("Goto: %v", err)
	}
	wantEdge(t, "step at the end", b.Move(ctx, history.Step), history.End)
	if err := b.Call(ctx, "add", true); !errors.As(err, new(*history.EdgeError)) && !errors.Is(err, history.ErrNoSuchCall) {
		t.Errorf("next call of add at the end: %v, want a refusal", err)
	}
}

// strconvQuote writes s as a Python string literal (a JSON string literal is one).
func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestTranscriptNavigateDialect runs testdata/transcripts/dialect_check.py in
// a gdb: the gdb side's time query, its way back to a time, and its end-of-
// history signal, for gdb, rr and UDB, against their transcripts.
func TestTranscriptNavigateDialect(t *testing.T) {
	gdb, _ := gdbtest.GDB(t)
	dir, _ := filepath.Abs("testdata/transcripts")
	gdbTranscript, _ := filepath.Abs("../gdbmi/testdata/dialect/gdb16-replay.txt")
	rr56, _ := filepath.Abs("../gdbmi/testdata/dialect/rr56-when.txt")
	list := fmt.Sprintf("[('rr', %q), ('udb', %q), ('gdb', %q), ('rr-checkpoint', %q), ('udb-last', %q), ('rr-56', %q)]",
		filepath.Join(dir, "rr-backend.txt"), filepath.Join(dir, "udb-backend.txt"), gdbTranscript,
		filepath.Join(dir, "rr-checkpoint.txt"), filepath.Join(dir, "udb-last.txt"), rr56)
	// The whole gdb side is loaded, as the backend loads it, with each
	// debugger's facts from gdbmi's dialect table (Dialect.GDBSide).
	dialects := map[string]string{}
	for _, k := range gdbmi.Kinds() {
		d, _ := gdbmi.DialectFor(k)
		spec, _ := json.Marshal(d.GDBSide())
		dialects[string(k)] = string(spec)
	}
	table, _ := json.Marshal(dialects)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := gdbtest.Batch(ctx, gdb, "-ex", gdbSide(t),
		"-ex", "python import json; TL_TRANSCRIPTS="+list+"; TL_DIALECTS=json.loads("+strconvQuote(string(table))+")",
		"-x", filepath.Join(dir, "dialect_check.py"))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	results := gdbtest.Lines(out, "TLDIALECT ")
	for _, r := range results {
		if !strings.HasPrefix(r, "ok ") {
			t.Error(r)
		} else {
			t.Log(r)
		}
	}
	if n := len(results); n < 26 {
		t.Errorf("%d checks ran, want 26:\n%s", n, out)
	}
}
