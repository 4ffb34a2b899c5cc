package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/creack/pty"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/pyext"
	"github.com/timelens/timelens/pyext/interp"
)

// TestRecordGDBThenReplay records loop.py from main with a real gdb and
// CPython, saves the window, and replays the saved recording in a new gdb:
// annotate --recording shows exactly what the live session shows (the
// golden of TestAnnotateGolden).
func TestRecordGDBThenReplay(t *testing.T) {
	py := needRecording(t)
	prog, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "programs", "loop.py"))
	out := filepath.Join(t.TempDir(), "loop.rec")

	r := timelens(t, "record", "--record-from", "main", "-o", out, "--", py, prog)
	if r.code != 0 {
		t.Fatal(r)
	}
	for _, want := range []string{"recording loop.py from main", "recorded ", "window end: main module returned", "saving…", "saved " + out} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("record's progress lacks %q:\n%s", want, r.stderr)
		}
	}
	m, err := pyext.ReadManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	if m.Python != py || !slices.Equal(m.Program, []string{py, prog}) || m.RecordFrom != "main" || m.GDBVersion == "" || m.FirstTime == "" {
		t.Errorf("manifest: %+v", m)
	}
	if kind, err := gdbmi.DetectKind(out); kind != gdbmi.KindGDB || err != nil {
		t.Errorf("DetectKind(%s) = %q, %v; want gdb", out, kind, err)
	}

	r = timelens(t, "annotate", "--recording", out, "--at", "loop.py:28", prog)
	if r.code != 0 {
		t.Fatal(r)
	}
	_, body, _ := strings.Cut(r.stdout, "\n")
	want, err := os.ReadFile(filepath.Join("testdata", "annotate_loop.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if body != string(want) {
		t.Errorf("annotate of the saved recording at line 28:\n%s\nwant (as live):\n%s", body, want)
	}
	if !strings.Contains(r.stderr, "restoring "+out) {
		t.Errorf("annotate did not say it restores the recording:\n%s", r.stderr)
	}

	// The sources somewhere else, as on another machine: the recording
	// names /…/testdata/programs/loop.py, the user has the file under
	// another directory and maps it (--substitute-path): the same values.
	elsewhere := t.TempDir()
	text, err := os.ReadFile(prog)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(elsewhere, "loop.py"), text, 0o644); err != nil {
		t.Fatal(err)
	}
	r = timelens(t, "annotate", "--recording", out, "--substitute-path", filepath.Dir(prog)+"="+elsewhere, "--at", "loop.py:28", filepath.Join(elsewhere, "loop.py"))
	if r.code != 0 {
		t.Fatal(r)
	}
	if _, body, _ := strings.Cut(r.stdout, "\n"); body != string(want) {
		t.Errorf("annotate of the sources elsewhere, mapped:\n%s\nwant:\n%s", body, want)
	}

	// The recording is fixed: recording flags are refused, and -o will not
	// overwrite it.
	r = timelens(t, "annotate", "--recording", out, "--record-from", "fib", prog)
	if r.code != exitUsage || !strings.Contains(r.stderr, "was recorded already") {
		t.Errorf("--record-from with a saved recording: %v", r)
	}
	r = timelens(t, "record", "-o", out, "--", py, prog)
	if r.code != exitFailure || !strings.Contains(r.stderr, "exists and is not empty") {
		t.Errorf("record over an existing recording: %v", r)
	}
}

func TestRecordWithoutRRSaysHowToGetIt(t *testing.T) {
	r := timelens(t, "record", "--backend", "rr", "--rr", "/nonexistent/rr", "-o", filepath.Join(t.TempDir(), "trace"), "--", "python3", "app.py")
	if r.code != exitFailure {
		t.Fatalf("want exit %d: %v", exitFailure, r)
	}
	for _, want := range []string{"rr not found", "apt-get install rr", "--rr PATH", "timelens doctor"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}

func TestRecordWithoutUDBSaysWhatIsMissing(t *testing.T) {
	r := timelens(t, "record", "--backend", "udb", "--udb", "/nonexistent/undo/udb", "-o", filepath.Join(t.TempDir(), "run.undo"), "--", "python3", "app.py")
	if r.code != exitFailure || !strings.Contains(r.stderr, "live-record not found next to /nonexistent/undo/udb") {
		t.Errorf("--udb PATH without live-record: %v", r)
	}
	t.Setenv("PATH", t.TempDir())
	r = timelens(t, "record", "--backend", "udb", "-o", filepath.Join(t.TempDir(), "run.undo"), "--", "python3", "app.py")
	for _, want := range []string{"live-record not found on PATH", "install UDB", "--backend gdb", "timelens doctor"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q: %v", want, r)
		}
	}
}

// TestRecordRRWithoutCounters runs rr's recorder where it cannot open the
// performance counters. rr cannot be installed here, so the rr is a script
// that fails as rr 5.9 does in this VM; it also shows the argv rr gets.
func TestRecordRRWithoutCounters(t *testing.T) {
	dir := t.TempDir()
	argvFile := filepath.Join(dir, "argv")
	rr := filepath.Join(dir, "rr")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + argvFile + "\n" +
		"echo '[FATAL src/PerfCounters.cc:224:start_counter()] rr needs /proc/sys/kernel/perf_event_paranoid <= 1, but it is 2.' >&2\nexit 1\n"
	if err := os.WriteFile(rr, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	trace := filepath.Join(dir, "trace")
	r := timelens(t, "record", "--backend", "rr", "--rr", rr, "-o", trace, "--", "app.py", "1")
	if r.code != exitFailure || !strings.Contains(r.stderr, "performance counters") || !strings.Contains(r.stderr, "--backend gdb") {
		t.Errorf("rr without counters: %v", r)
	}
	// A .py PROGRAM runs under the default Python: the interpreter itself,
	// not a pyenv shim, whose shell rr would record too.
	def, err := interp.DefaultPython(t.Context())
	if err != nil {
		t.Skipf("no default Python here: %v", err)
	}
	got, _ := os.ReadFile(argvFile)
	if want := "record\n-o\n" + trace + "\n--\n" + def.Info.Executable + "\napp.py\n1\n"; string(got) != want {
		t.Errorf("rr got argv %q, want %q", got, want)
	}
}

func TestRecordOutputMustBeNew(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o644)
	r := timelens(t, "record", "-o", file, "--", "python3", "app.py")
	if r.code != exitFailure || !strings.Contains(r.stderr, "is a file; -o names a new directory") {
		t.Errorf("-o FILE: %v", r)
	}
}

func TestReadManifestRefusesOtherFormats(t *testing.T) {
	dir := t.TempDir()
	data, _ := json.Marshal(pyext.Manifest{Format: pyext.ManifestFormat + 1, Backend: "gdb", Log: "x", Python: "/usr/bin/python3"})
	os.WriteFile(filepath.Join(dir, pyext.ManifestFile), data, 0o644)
	if _, err := pyext.ReadManifest(dir); err == nil || !strings.Contains(err.Error(), "record it again") {
		t.Errorf("ReadManifest of format %d: %v", pyext.ManifestFormat+1, err)
	}
	r := timelens(t, "annotate", "--recording", dir, "--at", "x:1", "record_test.go")
	if r.code != exitFailure || !strings.Contains(r.stderr, "record it again") {
		t.Errorf("annotate --recording of another format: %v", r)
	}
}

// TestProgressOnATerminal: on a terminal the step's line is redrawn in
// place (with the backend's latest word); elsewhere only start and end
// lines are written.
func TestProgressOnATerminal(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skip("no pty here:", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	p := newProgress(tty)
	if !p.tty {
		t.Fatal("a pty is not seen as a terminal")
	}
	p.start("recording loop.py from main")
	p.detail("starting gdb")
	p.end("recorded 21417 instructions")
	tty.Close()
	screen, _ := io.ReadAll(ptmx)
	for _, want := range []string{"\r\x1b[Ktimelens: recording loop.py from main… 0s", "(starting gdb)", "timelens: recorded 21417 instructions in 0s"} {
		if !strings.Contains(string(screen), want) {
			t.Errorf("terminal got %q, lacks %q", screen, want)
		}
	}

	var buf strings.Builder
	p = newProgress(&buf)
	p.start("recording loop.py from main")
	p.detail("starting gdb")
	p.end("recorded 21417 instructions")
	if got, want := buf.String(), "timelens: recording loop.py from main…\ntimelens: recorded 21417 instructions in 0s\n"; got != want {
		t.Errorf("not a terminal: %q, want %q", got, want)
	}
}

// TestLSPOverASavedRecording: an editor's session over a recording saved
// by timelens record, in a new gdb with no live process: where, next and
// reverse-next move as live, and the inlay hints hold the values read from
// the restored memory.
func TestLSPOverASavedRecording(t *testing.T) {
	py := needRecording(t)
	prog, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "programs", "loop.py"))
	out := filepath.Join(t.TempDir(), "loop.rec")
	if r := timelens(t, "record", "--record-from", "main", "-o", out, "--", py, prog); r.code != 0 {
		t.Fatal(r)
	}

	e := startEditor(t, "lsp", "--recording", out)
	uri := e.open(prog, map[string]any{"workspace": map[string]any{"inlayHint": map[string]any{"refreshSupport": true}}})

	move := e.move
	if pos := move("timelens.where"); pos.Function != "main" || pos.Line+1 != 20 || pos.URI != uri {
		t.Fatalf("the saved window starts at %+v; want main, loop.py:20", pos)
	}
	for range 4 {
		move("timelens.next")
	}
	if pos := move("timelens.where"); pos.Function != "main" || pos.Line+1 != 24 {
		t.Fatalf("4 nexts from line 20 reach %s:%d; want main:24", pos.Function, pos.Line+1)
	}
	shown := e.lineHints(uri)
	for line, want := range map[int]string{20: "acct = Account(owner='ada', balance=0, history=[])", 21: "total = 0", 22: "i = 0"} {
		if shown[line] != want {
			t.Errorf("hint on line %d: %q, want %q (all: %v)", line, shown[line], want, shown)
		}
	}
	if pos := move("timelens.reverseNext"); pos.Line+1 != 23 {
		t.Errorf("reverse next from line 24 reaches line %d; want 23", pos.Line+1)
	}
	e.call("shutdown", nil, nil)
	e.notify("exit", nil)
}
