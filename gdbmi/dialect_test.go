package gdbmi

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// exchange is one command of a transcript in testdata/dialect and what the
// debugger answered.
type exchange struct {
	cli     string // the CLI command (from -interpreter-exec console "...") or the MI command
	console string // ~ records, unquoted and joined
	errMsg  string // ^error,msg
	stop    *StopInfo
}

var (
	stopReasonRe = regexp.MustCompile(`^\*stopped(?:,reason="([^"]*)")?`)
	stopSignalRe = regexp.MustCompile(`signal-name="([^"]*)"`)
	errorMsgRe   = regexp.MustCompile(`^\^error,msg=(".*")$`)
	consoleCmdRe = regexp.MustCompile(`^-interpreter-exec console (".*")$`)
)

// readTranscript reads a transcript: "#" lines are its header, "> CMD" the
// commands sent, everything else the debugger's MI output, verbatim.
func readTranscript(t *testing.T, name string) []exchange {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "dialect", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []exchange
	var cur *exchange
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "> "):
			cmd := strings.TrimPrefix(line, "> ")
			if m := consoleCmdRe.FindStringSubmatch(cmd); m != nil {
				cmd = unquote(t, m[1])
			}
			out = append(out, exchange{cli: cmd})
			cur = &out[len(out)-1]
		case cur == nil:
			// Start-up output, before the first command.
		case strings.HasPrefix(line, `~"`):
			cur.console += unquote(t, line[1:])
		case strings.HasPrefix(line, "*stopped"):
			s := &StopInfo{Console: cur.console, Reverse: strings.Contains(cur.cli, "reverse")}
			s.Reason = stopReasonRe.FindStringSubmatch(line)[1]
			if m := stopSignalRe.FindStringSubmatch(line); m != nil {
				s.Signal = m[1]
			}
			cur.stop = s
		case errorMsgRe.MatchString(line):
			cur.errMsg = unquote(t, errorMsgRe.FindStringSubmatch(line)[1])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func unquote(t *testing.T, s string) string {
	t.Helper()
	u, err := strconv.Unquote(s)
	if err != nil {
		t.Fatalf("unquoting %s: %v", s, err)
	}
	return u
}

func mustDialect(t *testing.T, k Kind) Dialect {
	t.Helper()
	d, err := DialectFor(k)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// step is what a test expects of one exchange of a transcript, in order.
type step struct {
	cli  string
	time string      // after the time commands ending here: the time ParseTime reads ("" = not a time query)
	last string      // and the last time in history it reports, if any
	edge HistoryEdge // for a stop: how Edge classifies it
	err  error       // ParseTime's error, if any
}

// playSession walks a transcript the way the session would: it feeds the
// console output of the dialect's time commands to ParseTime (concatenating
// consecutive ones, as rr needs "when" then "when-ticks"), classifies every
// stop, and checks each step.
func playSession(t *testing.T, d Dialect, file string, steps []step) {
	t.Helper()
	ex := readTranscript(t, file)
	if len(ex) != len(steps) {
		var got []string
		for _, e := range ex {
			got = append(got, e.cli)
		}
		t.Fatalf("%s has %d commands %q; the test expects %d", file, len(ex), got, len(steps))
	}
	isTime := map[string]bool{"info record": true, "when": true, "when-ticks": true, "info time -a": true, "uinfo time": true}
	var console string
	for i, e := range ex {
		s := steps[i]
		if e.cli != s.cli {
			t.Fatalf("%s: command %d is %q, want %q", file, i, e.cli, s.cli)
		}
		if isTime[e.cli] {
			console += e.console
		} else {
			console = ""
		}
		if s.time != "" || s.err != nil {
			r, err := d.ParseTime(console)
			console = ""
			if s.err != nil {
				if !errors.Is(err, s.err) {
					t.Errorf("%s: %q: ParseTime error %v, want %v", file, e.cli, err, s.err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %q: ParseTime: %v", file, e.cli, err)
			}
			if r.Now.Raw != s.time || r.Now.Kind != d.Kind || r.Last.Raw != s.last {
				t.Errorf("%s: %q: time %+v, want now %q last %q", file, e.cli, r, s.time, s.last)
			}
			// The time goes to the editor and comes back: it must round-trip.
			back, err := d.ParseTimeString(r.Now.Raw)
			if err != nil || back != r.Now {
				t.Errorf("%s: ParseTimeString(%q) = %+v, %v; want %+v", file, r.Now.Raw, back, err, r.Now)
			}
			if _, err := d.GotoCommands(back); err != nil {
				t.Errorf("%s: GotoCommands(%q): %v", file, back.Raw, err)
			}
		}
		if e.stop != nil {
			if got := d.Edge(*e.stop); got != s.edge {
				t.Errorf("%s: %q stopped (reason %q, signal %q): edge %v, want %v", file, e.cli, e.stop.Reason, e.stop.Signal, got, s.edge)
			}
		} else if s.edge != EdgeNone {
			t.Errorf("%s: %q: no *stopped in the transcript, want edge %v", file, e.cli, s.edge)
		}
	}
}

// TestDialectGDB13RecordMode runs against a real gdb 13.1 capture (the host's
// gdb; record mode and record goto, as gdb 13 cannot reverse-step here).
func TestDialectGDB13RecordMode(t *testing.T) {
	d := mustDialect(t, KindGDB)
	playSession(t, d, "gdb13-record.txt", []step{
		{cli: "-gdb-set confirm off"},
		{cli: "starti"},
		{cli: "info record", err: ErrTimeNoRecording},
		{cli: "record full"},
		// "No instructions have been logged." is time 0, the live end.
		{cli: "info record", time: "0", last: "0"},
		{cli: "stepi 5"},
		{cli: "info record", time: "5", last: "5"},
		{cli: "record goto 2"},
		{cli: "info record", time: "2", last: "5"},
		{cli: "record goto end"},
		{cli: "-gdb-exit"},
	})
}

// TestDialectGDB16Replay runs against a real gdb 16.3 capture from the trixie
// root: replay mode, record goto begin/end, and both ends of history.
func TestDialectGDB16Replay(t *testing.T) {
	d := mustDialect(t, KindGDB)
	playSession(t, d, "gdb16-replay.txt", []step{
		{cli: "-gdb-set confirm off"},
		{cli: "-gdb-set pagination off"},
		{cli: "starti"},
		{cli: "record full"},
		{cli: "stepi 5"},
		{cli: "info record", time: "5", last: "5"},
		{cli: "reverse-stepi 2"},
		{cli: "info record", time: "3", last: "5"},
		{cli: "record goto 2"},
		{cli: "info record", time: "2", last: "5"},
		{cli: "record goto begin"},
		// The start of history is instruction 0, below "Lowest recorded
		// instruction number is 1".
		{cli: "info record", time: "0", last: "5"},
		{cli: "-exec-step-instruction --reverse", edge: EdgeStart},
		{cli: "reverse-stepi", edge: EdgeStart},
		{cli: "record goto end"},
		{cli: "info record", time: "5", last: "5"},
		{cli: "record goto 3"},
		{cli: "-exec-continue", edge: EdgeEnd},
		{cli: "info record", time: "5", last: "5"},
		{cli: "record goto 99"},
		{cli: "record goto 0"},
		{cli: "-gdb-exit"},
	})
}

// TestDialectGDB16Edges: a real gdb 16.3 capture of the live end (reverse-stepi
// from it gives highest-1, so the live end is the highest number), goto
// errors, and "record stop".
func TestDialectGDB16Edges(t *testing.T) {
	d := mustDialect(t, KindGDB)
	steps := []step{
		{cli: "-gdb-set confirm off"},
		{cli: "starti"},
		{cli: "info record", err: ErrTimeNoRecording},
		{cli: "record full"},
		{cli: "info record", time: "0", last: "0"},
		{cli: "stepi 5"},
		{cli: "reverse-stepi"},
		{cli: "info record", time: "4", last: "5"},
		{cli: "record goto 2"},
		{cli: "record goto 5"},
		{cli: "info record", time: "5", last: "5"},
		{cli: "record goto 4"},
		{cli: "record goto end"},
		{cli: "record goto end"},
		{cli: "record goto begin"},
		{cli: "record goto begin"},
		{cli: "-exec-step-instruction --reverse", edge: EdgeStart},
		{cli: "record stop"},
		{cli: "info record", err: ErrTimeNoRecording},
		{cli: "-gdb-exit"},
	}
	playSession(t, d, "gdb16-edges.txt", steps)

	// Going to where one already is is a gdb error that means success; a
	// number outside the log is ErrTimeNotInHistory.
	for _, e := range readTranscript(t, "gdb16-edges.txt") {
		if e.errMsg == "" {
			continue
		}
		err := d.GotoError(e.errMsg)
		if e.errMsg == "Already at target insn." && err != nil {
			t.Errorf("GotoError(%q) = %v, want nil", e.errMsg, err)
		}
	}
	for _, e := range readTranscript(t, "gdb16-replay.txt") {
		if e.cli == "record goto 99" {
			if err := d.GotoError(e.errMsg); !errors.Is(err, ErrTimeNotInHistory) {
				t.Errorf("GotoError(%q) = %v, want ErrTimeNotInHistory", e.errMsg, err)
			}
		}
	}
}

// TestDialectGDBGoto: the commands the gdb row produces are the ones the
// captures above ran.
func TestDialectGDBGoto(t *testing.T) {
	d := mustDialect(t, KindGDB)
	got, err := d.GotoCommands(Time{Kind: KindGDB, Raw: "3"})
	if err != nil || !reflect.DeepEqual(got, []string{"record goto 3"}) {
		t.Errorf("GotoCommands(3) = %q, %v", got, err)
	}
	if !reflect.DeepEqual(d.StartCommands, []string{"record goto begin"}) || !reflect.DeepEqual(d.EndCommands, []string{"record goto end"}) {
		t.Errorf("start %q end %q", d.StartCommands, d.EndCommands)
	}
	if d.MovesResume {
		t.Error("record goto answers ^done with no *stopped (gdb16-replay.txt); MovesResume must be false")
	}
	if _, err := d.BookmarkCommand("create", "x"); !errors.Is(err, ErrHistoryNoBookmarks) {
		t.Errorf("gdb bookmark: %v, want ErrHistoryNoBookmarks", err)
	}
}

// TestDialectRRTranscript runs against rr-replay.txt, which was WRITTEN FROM
// rr's source and tests (see its header), not recorded: rr cannot record here.
func TestDialectRRTranscript(t *testing.T) {
	d := mustDialect(t, KindRR)
	playSession(t, d, "rr-replay.txt", []step{
		{cli: "when"},
		{cli: "when-ticks", time: "1042:5123456"},
		{cli: "checkpoint"},
		{cli: "-exec-continue --reverse", edge: EdgeStart},
		{cli: "when"},
		{cli: "when-ticks", time: "306:0"},
		{cli: "run 1042"},
		{cli: "seek-ticks 5123456"},
		{cli: "when"},
		{cli: "when-ticks", time: "1042:5123456"},
		{cli: "run 9223372036854775807", edge: EdgeEnd},
		{cli: "-exec-continue", edge: EdgeEnd},
	})
	// The goto commands for the first time are the ones the transcript ran.
	got, err := d.GotoCommands(Time{Kind: KindRR, Raw: "1042:5123456"})
	if err != nil || !reflect.DeepEqual(got, []string{"run 1042", "seek-ticks 5123456"}) {
		t.Errorf("GotoCommands = %q, %v", got, err)
	}
	if !d.MovesResume {
		t.Error("rr's run/seek-ticks resume the inferior; MovesResume must be true")
	}
	ex := readTranscript(t, "rr-replay.txt")
	id, err := d.ParseBookmark(ex[2].console, "ignored")
	if err != nil || id != "1" {
		t.Errorf("ParseBookmark = %q, %v; want 1", id, err)
	}
	for op, want := range map[string]string{"create": "checkpoint", "goto": "restart 1", "delete": "delete checkpoint 1"} {
		if got, err := d.BookmarkCommand(op, "1"); err != nil || got != want {
			t.Errorf("BookmarkCommand(%s) = %q, %v; want %q", op, got, err, want)
		}
	}
	if err := d.GotoError("No event found matching specified ticks target.\n"); !errors.Is(err, ErrTimeNotInHistory) {
		t.Errorf("seek-ticks past the end: %v, want ErrTimeNotInHistory", err)
	}
}

// TestDialectRROldWhen: rr before 5.8 printed "Current event: N+1" for the
// same point (transcript written from rr's history, not recorded).
func TestDialectRROldWhen(t *testing.T) {
	playSession(t, mustDialect(t, KindRR), "rr56-when.txt", []step{
		{cli: "when"},
		{cli: "when-ticks", time: "1042:5123456"},
	})
}

// TestDialectUDBTranscript runs against udb-replay.txt, which was WRITTEN FROM
// Undo's documentation (see its header), not recorded: UDB is not obtainable
// here.
func TestDialectUDBTranscript(t *testing.T) {
	d := mustDialect(t, KindUDB)
	playSession(t, d, "udb-replay.txt", []step{
		{cli: "info time -a", time: "1:0x7ffff7fe4300", last: "228443"},
		{cli: "ugo time 11571:0x5555555552df"},
		{cli: "info time -a", time: "11571:0x5555555552df", last: "228443"},
		{cli: "ubookmark loop-top"},
		{cli: "-exec-continue", edge: EdgeEnd},
		{cli: "info time -a", time: "228443:0x7ffff7e0a00b", last: "228443"},
		{cli: "ugo bookmark loop-top"},
		{cli: "-exec-continue --reverse", edge: EdgeStart},
		{cli: "uinfo time", time: "9704", last: "231025"},
	})
	got, err := d.GotoCommands(Time{Kind: KindUDB, Raw: "11571:0x5555555552df"})
	if err != nil || !reflect.DeepEqual(got, []string{"ugo time 11571:0x5555555552df"}) {
		t.Errorf("GotoCommands = %q, %v", got, err)
	}
	for op, want := range map[string]string{"create": "ubookmark loop-top", "goto": "ugo bookmark loop-top"} {
		if got, err := d.BookmarkCommand(op, "loop-top"); err != nil || got != want {
			t.Errorf("BookmarkCommand(%s) = %q, %v; want %q", op, got, err, want)
		}
	}
	if !reflect.DeepEqual(d.StartCommands, []string{"ugo start"}) || !reflect.DeepEqual(d.EndCommands, []string{"ugo end"}) {
		t.Errorf("start %q end %q", d.StartCommands, d.EndCommands)
	}
}

// TestDialectTimeStrings: what the editor may send back, per backend.
func TestDialectTimeStrings(t *testing.T) {
	for _, c := range []struct {
		kind      Kind
		raw, want string // want "" means invalid
	}{
		{KindGDB, "0", "0"},
		{KindGDB, "1234", "1234"},
		{KindGDB, " 12 ", "12"},
		{KindGDB, "-1", ""},
		{KindGDB, "1042:5", ""},
		{KindRR, "1042:5123456", "1042:5123456"},
		{KindRR, "1042", ""},
		{KindRR, "a:b", ""},
		{KindUDB, "11,571:0x5555555552DF", "11571:0x5555555552df"},
		{KindUDB, "9704", "9704"},
		{KindUDB, "9704:5555", ""},
		{KindUDB, ",1", ""},
		{KindUDB, "", ""},
	} {
		d := mustDialect(t, c.kind)
		got, err := d.ParseTimeString(c.raw)
		if c.want == "" {
			if !errors.Is(err, ErrTimeInvalid) {
				t.Errorf("%s ParseTimeString(%q) = %+v, %v; want ErrTimeInvalid", c.kind, c.raw, got, err)
			}
			continue
		}
		if err != nil || got.Raw != c.want || got.Kind != c.kind {
			t.Errorf("%s ParseTimeString(%q) = %+v, %v; want %q", c.kind, c.raw, got, err, c.want)
		}
	}
	// A time from another backend is refused, not misread.
	if _, err := mustDialect(t, KindGDB).GotoCommands(Time{Kind: KindRR, Raw: "5"}); !errors.Is(err, ErrTimeInvalid) {
		t.Errorf("gdb goto of an rr time: %v", err)
	}
}

// TestDialectCompare: times are totally ordered within a backend.
func TestDialectCompare(t *testing.T) {
	for _, c := range []struct {
		kind Kind
		a, b string
		want int
	}{
		{KindGDB, "0", "5", -1},
		{KindGDB, "5", "5", 0},
		{KindGDB, "10", "9", 1},
		{KindRR, "1042:10", "1042:9", 1},
		{KindRR, "306:0", "1042:0", -1},
		{KindUDB, "11571:0x10", "11571:0x20", -1},
		{KindUDB, "11571", "11571:0x20", -1},
		{KindUDB, "11572", "11571:0x20", 1},
	} {
		d := mustDialect(t, c.kind)
		got, err := d.Compare(Time{c.kind, c.a}, Time{c.kind, c.b})
		if err != nil || got != c.want {
			t.Errorf("%s Compare(%s, %s) = %d, %v; want %d", c.kind, c.a, c.b, got, err, c.want)
		}
	}
}

// TestDialectUnexpectedTimeOutput: output that is not a time names the
// command whose output was unexpected.
func TestDialectUnexpectedTimeOutput(t *testing.T) {
	for _, c := range []struct {
		kind    Kind
		console string
		cmd     string
	}{
		{KindGDB, "Active record target: record-btrace\nRecording format: Branch Trace Store.\n", "info record"},
		{KindGDB, "Active record target: record-full\nReplay mode:\nLowest recorded instruction number is 1.\n", "info record"},
		{KindGDB, "", "info record"},
		{KindRR, "Completed event: 12\n", "when"},
		{KindRR, "Undefined command: \"when\".  Try \"help\".\n", "when"},
		{KindUDB, "Undefined info command: \"time -a\".  Try \"help info\".\n", "info time -a"},
	} {
		_, err := mustDialect(t, c.kind).ParseTime(c.console)
		var te *TimeOutputError
		if !errors.Is(err, ErrTimeUnparsable) || !errors.As(err, &te) {
			t.Errorf("%s ParseTime(%q) = %v; want a *TimeOutputError", c.kind, c.console, err)
			continue
		}
		if !strings.Contains(err.Error(), c.cmd) || te.Kind != c.kind {
			t.Errorf("%s: error %q does not name %q", c.kind, err, c.cmd)
		}
	}
}

// TestDialectArgv: each backend's command line; paths with spaces stay one
// argument each, and nothing is a shell string.
func TestDialectArgv(t *testing.T) {
	mi := []string{"--nx", "--quiet", "--interpreter=mi2", "--tty=/dev/pts/3"}
	for _, c := range []struct {
		name string
		kind Kind
		exe  string
		t    Target
		want []string
		err  bool
	}{
		{"gdb on a program", KindGDB, "", Target{Program: "/usr/bin/python3", Args: []string{"my prog.py", "--flag", "a b"}},
			[]string{"gdb", "--nx", "--quiet", "--interpreter=mi2", "--tty=/dev/pts/3", "--args", "/usr/bin/python3", "my prog.py", "--flag", "a b"}, false},
		{"gdb with nothing loaded", KindGDB, "/opt/gdb 16/bin/gdb", Target{},
			[]string{"/opt/gdb 16/bin/gdb", "--nx", "--quiet", "--interpreter=mi2", "--tty=/dev/pts/3"}, false},
		{"gdb given a recording", KindGDB, "", Target{Recording: "/tmp/t"}, nil, true},
		{"rr on a trace", KindRR, "", Target{Recording: "/tmp/rr traces/python3-0"},
			[]string{"rr", "replay", "--tty", "/dev/pts/3", "/tmp/rr traces/python3-0", "--", "--nx", "--quiet", "--interpreter=mi2"}, false},
		{"rr with its gdb", KindRR, "/usr/local/bin/rr", Target{Recording: "-odd", Debugger: "/opt/gdb 16/bin/gdb"},
			[]string{"/usr/local/bin/rr", "replay", "--tty", "/dev/pts/3", "-d", "/opt/gdb 16/bin/gdb", "./-odd", "--", "--nx", "--quiet", "--interpreter=mi2"}, false},
		{"rr without a trace", KindRR, "", Target{Program: "python3"}, nil, true},
		{"udb on a recording", KindUDB, "", Target{Recording: "/tmp/udb recordings/py.undo"},
			[]string{"udb", "--nx", "--quiet", "--interpreter=mi2", "--tty=/dev/pts/3", "/tmp/udb recordings/py.undo"}, false},
		{"udb without a recording", KindUDB, "", Target{}, nil, true},
	} {
		got, err := mustDialect(t, c.kind).Argv(c.exe, mi, c.t)
		if c.err {
			if err == nil {
				t.Errorf("%s: Argv = %q, want an error", c.name, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: Argv = %q, %v\nwant %q", c.name, got, err, c.want)
		}
	}
	// Without a tty for the debuggee, rr must not echo its writes into the
	// MI stream: -q.
	got, _ := mustDialect(t, KindRR).Argv("", []string{"--interpreter=mi2"}, Target{Recording: "tr"})
	if want := []string{"rr", "replay", "-q", "tr", "--", "--interpreter=mi2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("rr without tty: %q, want %q", got, want)
	}
}

// TestDialectKinds: parsing names and detecting recordings.
func TestDialectKinds(t *testing.T) {
	for _, s := range []string{"gdb", "rr", "UDB", " udb "} {
		if _, err := ParseKind(s); err != nil {
			t.Errorf("ParseKind(%q): %v", s, err)
		}
	}
	for _, s := range []string{"lldb", ""} {
		_, err := ParseKind(s)
		if !errors.Is(err, ErrHistoryUnknownBackend) || !strings.Contains(err.Error(), "gdb, rr, udb") {
			t.Errorf("ParseKind(%q) = %v; want ErrHistoryUnknownBackend naming gdb, rr, udb", s, err)
		}
	}
	if _, err := DialectFor("lldb"); !errors.Is(err, ErrHistoryUnknownBackend) || !strings.Contains(err.Error(), "gdb, rr, udb") {
		t.Errorf("DialectFor(lldb) = %v", err)
	}
	for _, k := range Kinds() {
		if d := mustDialect(t, k); d.Kind != k || d.DefaultExe == "" || len(d.TimeCommands) == 0 {
			t.Errorf("row %s incomplete: %+v", k, d)
		}
	}

	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("rr trace/version", "85\n")
	write("rr partial/incomplete", "85\n")
	magic := write("rec", string(undoMagic)+"\x00rest")
	named := write("x.undo", "")
	upper := write("X.UNDO", "")
	plain := write("notes.txt", "hello")
	gdbCore := write("gdb_record.1234", "core")
	write("saved/"+SavedRecordingManifest, "{}")
	for _, c := range []struct {
		path string
		want Kind
		err  error // nil: no error; else errors.Is must hold
	}{
		{"", KindGDB, nil},
		{filepath.Join(dir, "rr trace"), KindRR, nil},
		{filepath.Join(dir, "rr partial"), "", ErrRecordingIncomplete},
		{filepath.Join(dir, "saved"), KindGDB, nil},
		{magic, KindUDB, nil},
		{named, KindUDB, nil},
		{upper, KindUDB, nil},
		{plain, "", ErrHistoryNotRecording},
		{gdbCore, "", ErrHistoryNotRecording},
		{dir, "", ErrHistoryNotRecording},
		{filepath.Join(dir, "missing"), "", os.ErrNotExist},
	} {
		got, err := DetectKind(c.path)
		if got != c.want || (c.err == nil) != (err == nil) || c.err != nil && !errors.Is(err, c.err) {
			t.Errorf("DetectKind(%q) = %q, %v; want %q, %v", c.path, got, err, c.want, c.err)
		}
	}
	// The refusals say what to do.
	for path, want := range map[string]string{
		filepath.Join(dir, "rr partial"): "wait for rr record to end, or record again",
		dir:                              "name the trace directory itself",
		plain:                            "named *.undo",
	} {
		if _, err := DetectKind(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("DetectKind(%q): %v, want it to say %q", path, err, want)
		}
	}
}

// TestDialectReturnsAndLastChange: which backends return to a time through a
// checkpoint (rr, whose goto replays from an earlier event; UDB's ugo time
// jumps) and which search the last change of a value with a command of their
// own (UDB's "last"; gdb and rr use a watchpoint and reverse-continue).
func TestDialectReturnsAndLastChange(t *testing.T) {
	want := map[Kind]struct {
		replays bool
		last    string
	}{
		KindGDB: {false, ""},
		KindRR:  {true, ""},
		KindUDB: {false, "last"},
	}
	for _, k := range Kinds() {
		d := mustDialect(t, k)
		if d.GotoReplays != want[k].replays || d.LastChange != want[k].last {
			t.Errorf("%s: GotoReplays %v, LastChange %q; want %v, %q", k, d.GotoReplays, d.LastChange, want[k].replays, want[k].last)
		}
		if d.GotoReplays {
			// Goto leaves a bookmark where it went and returns through it.
			for _, op := range []string{"create", "goto", "delete"} {
				if _, err := d.BookmarkCommand(op, "1"); err != nil {
					t.Errorf("%s replays its gotos but cannot %s a bookmark: %v", k, op, err)
				}
			}
		}
	}
}

// TestDialectRecorders: rr and UDB record with their own recorder (rr
// record, Undo's live-record, whose file gets the .undo suffix DetectKind
// knows it by); gdb has none. Known recording failures, gdb's included, are
// read from what the debuggers print.
func TestDialectRecorders(t *testing.T) {
	prog := []string{"python3", "app.py", "--flag"}
	for _, c := range []struct {
		kind     Kind
		exe, out string
		want     []string
	}{
		{KindRR, "/usr/bin/rr", "trace", []string{"/usr/bin/rr", "record", "-o", "trace", "--", "python3", "app.py", "--flag"}},
		{KindRR, "", "trace", []string{"rr", "record", "-o", "trace", "--", "python3", "app.py", "--flag"}},
		{KindUDB, "/opt/undo/live-record", "run", []string{"/opt/undo/live-record", "-o", "run.undo", "--", "python3", "app.py", "--flag"}},
		{KindUDB, "", "run.UNDO", []string{"live-record", "-o", "run.UNDO", "--", "python3", "app.py", "--flag"}},
	} {
		got, err := mustDialect(t, c.kind).RecordArgv(c.exe, c.out, prog)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s RecordArgv(%q, %q) = %q, %v; want %q", c.kind, c.exe, c.out, got, err, c.want)
		}
	}
	if _, err := mustDialect(t, KindGDB).RecordArgv("", "out", prog); err == nil {
		t.Error("gdb has a recorder of its own")
	}
	for _, c := range []struct {
		kind       Kind
		said, want string
	}{
		{KindRR, "[FATAL src/PerfCounters.cc:153:get_cpu_microarch()] CPU 0xc06f0 unknown.", "cpu"},
		{KindRR, "rr needs /proc/sys/kernel/perf_event_paranoid <= 1, but it is 2.", "paranoid"},
		{KindRR, "Unable to open performance counter with 'perf_event_open'", "counters"},
		{KindRR, "ptrace(PTRACE_SEIZE) failed: Operation not permitted", "ptrace"},
		{KindRR, "Segmentation fault", ""},
		{KindGDB, "Couldn't write extended state status: Bad address.", "xsave"},
		{KindGDB, "Process record does not support instruction 0x62 at address 0x7ffff7e3f0c0.", "avx512"},
		{KindGDB, "Process record does not support instruction 0xc4 at address 0x401000.", "instruction"},
		{KindGDB, "Process record and replay target doesn't support syscall number 435", "syscall"},
		{KindGDB, "ptrace: Operation not permitted.", "ptrace"},
		{KindGDB, "Breakpoint 1, main () at x.c:3", ""},
		{KindUDB, "live-record: license check failed", "license"},
	} {
		if f, _ := mustDialect(t, c.kind).RecordFailure(c.said); f.ID != c.want {
			t.Errorf("%s said %q: failure %q, want %q", c.kind, c.said, f.ID, c.want)
		}
	}
}
