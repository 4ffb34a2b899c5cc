package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/timelens/timelens/gdbmi/gdbtest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestAnnotateGolden records loop.py from main with a real gdb and CPython,
// goes to line 28 (main's last line) and compares the annotated source with
// testdata/annotate_loop.golden: the hints rendered into the source text.
//
// It runs again under pyenv's CPython 3.12 (a shared libpython): the same
// program shows the same values.
func TestAnnotateGolden(t *testing.T) {
	py := needRecording(t)
	annotateGolden(t, py)
	t.Run("python3.12-pyenv", func(t *testing.T) { annotateGolden(t, needPython(t, pyenv312)) })
	// Pythons as uv, Docker and distributions ship them: no DWARF, no
	// .symtab, no build id to find a debug file by (the layout from
	// CPython's debug offsets, or the built-in table for 3.12).
	t.Run("stripped", func(t *testing.T) { annotateGolden(t, gdbtest.StrippedPython(t, py)) })
	t.Run("python3.12-pyenv-stripped", func(t *testing.T) {
		annotateGolden(t, gdbtest.StrippedPython(t, needPython(t, pyenv312)))
	})
}

func annotateGolden(t *testing.T, py string) {
	prog, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "programs", "loop.py"))
	r := timelens(t, "annotate", "--record-from", "main", "--at", "loop.py:28", prog, "--", py, prog)
	if r.code != 0 {
		t.Fatal(r)
	}
	// The first line names the time, which depends on the machine.
	_, body, _ := strings.Cut(r.stdout, "\n")
	checkGolden(t, "annotate_loop.golden", body)
	if !strings.Contains(r.stdout, "in main (loop.py:28)") {
		t.Errorf("header: %q", strings.SplitN(r.stdout, "\n", 2)[0])
	}
}

// TestAnnotateClosureCells: closure cells read alike on every CPython of
// the root (issue 21 item 5). cells.py's outer binds count and its
// parameter start, and inc rebinds both through nonlocal, twice. At
// outer's total line, outer's own lines show what they bound (count = 0:
// a name that no longer holds the object its line bound shows it as bound)
// and, with --past-calls, inc's latest call shows the cells as it left
// them (count = 2, start = 25); after outer returned, the same. Every
// interpreter must print testdata/annotate_cells.golden, the 3.10 and 3.11
// frames (cells in their own slots: 3.10 after the locals, 3.11 made by
// MAKE_CELL) as the 3.12+ ones.
func TestAnnotateClosureCells(t *testing.T) {
	needRecording(t)
	prog, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "programs", "cells.py"))
	addr := regexp.MustCompile(`at (time [0-9]+|0x[0-9a-f]+)`)
	for _, py := range gdbtest.SuitePythons(t, false) {
		t.Run(py.Label, func(t *testing.T) {
			var out strings.Builder
			for _, at := range []string{"cells.py:10", "end"} {
				r := timelens(t, "annotate", "--record-from", "main", "--past-calls", "--at", at, prog, "--", py.Path, prog)
				if r.code != 0 {
					t.Fatal(r)
				}
				out.WriteString(addr.ReplaceAllString(r.stdout, "at T"))
			}
			checkGolden(t, "annotate_cells.golden", out.String())
		})
	}
}

// TestRaceDemo is what make demo shows (testdata/annotate_race.golden): race.py's
// assertion fails; with --past-calls both tasks' lines show what they read
// (each read 0, then 1: two lost updates), main's coroutine shows its lines
// from before its await, and the last write of the balance is the unlocked
// task's read-modify-write, made from a stale read, with its whole history
// across its awaits. Times depend on the machine and read T.
func TestRaceDemo(t *testing.T) {
	py := needRecording(t)
	prog, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "race.py"))
	r := timelens(t, "annotate", "--record-from", "main", "--at", "race.py:39", "--last-write", "acct.balance", "--past-calls", prog, "--", py, prog)
	if r.code != 0 {
		t.Fatal(r)
	}
	got := regexp.MustCompile(`at time [0-9]+,`).ReplaceAllString(r.stdout, "at time T,")
	checkGolden(t, "annotate_race.golden", got)
}

// TestAnnotateAtStartAndEnd: --at end is the window's last line event,
// loop.py:28 when recorded from main (main returns there, and the window
// with it), so annotate shows what --at loop.py:28 shows
// (annotate_loop.golden); --at start is main's first line, where nothing
// has run yet. The window ran to the program's end: stderr says nothing of
// its end.
func TestAnnotateAtStartAndEnd(t *testing.T) {
	py := needRecording(t)
	prog, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "programs", "loop.py"))
	want, err := os.ReadFile(filepath.Join("testdata", "annotate_loop.golden"))
	if err != nil {
		t.Fatal(err)
	}
	r := timelens(t, "annotate", "--record-from", "main", "--at", "end", prog, "--", py, prog)
	if r.code != 0 {
		t.Fatal(r)
	}
	if header, body, _ := strings.Cut(r.stdout, "\n"); body != string(want) || !strings.Contains(header, "in main (loop.py:28)") {
		t.Errorf("annotate --at end:\n%s\nwant annotate_loop.golden:\n%s", r.stdout, want)
	}
	if strings.Contains(r.stderr, "ends early") {
		t.Errorf("a window that ran to the end is said to end early: %s", r.stderr)
	}
	r = timelens(t, "annotate", "--record-from", "main", "--at", "start", prog, "--", py, prog)
	if r.code != 0 {
		t.Fatal(r)
	}
	header, body, _ := strings.Cut(r.stdout, "\n")
	if !strings.Contains(header, "in main (loop.py:20)") || strings.Contains(body, "⟨") || !strings.Contains(body, "▶ 20 │") {
		t.Errorf("annotate --at start:\n%s", r.stdout)
	}
}

// TestAnnotateWindowEndedByAThread: the threaded race of the article
// (testdata/threads/race.py), recorded from main, ends where the first
// thread starts: gdb's record full records one thread. annotate --at end
// is at the window's last line event, in threading.py's Thread.start, and
// marks main's line that called it (▷); it says why on stderr.
func TestAnnotateWindowEndedByAThread(t *testing.T) {
	py := needRecording(t)
	prog, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "threads", "race.py"))
	r := timelens(t, "annotate", "--record-from", "main", "--at", "end", prog, "--", py, prog)
	if r.code != 0 {
		t.Fatal(r)
	}
	const why = "timelens: the recorded window ends early: a second thread started at race.py:76: gdb record full records one thread\n"
	if !strings.Contains(r.stderr, why) {
		t.Errorf("stderr does not say why the window ended:\n%s\nwant %q", r.stderr, why)
	}
	header, body, _ := strings.Cut(r.stdout, "\n")
	if !strings.Contains(header, "in Thread.start (threading.py:") || !strings.Contains(body, "▷ 76 │     thread1.start()") {
		t.Errorf("annotate --at end: not in the call of thread1.start():\n%s", r.stdout)
	}
	for _, hint := range []string{"files = count_files()  ⟨files = 1⟩", "⟨thread1 = Thread(_target=<function add_locked at 0x"} {
		if !strings.Contains(body, hint) {
			t.Errorf("annotate --at end lacks %q:\n%s", hint, body)
		}
	}
}

// TestAnnotateBytecode records testdata/bytecode/warm.py from main and
// annotates it at average's return, after its loop has run eight times,
// with --bytecode: the file with its hints, then average's instructions
// under their source lines, specialized where CPython 3.11+ has warmed
// them (each with its base name), the short-circuit `and` as its two
// jumps, the current instruction marked. The instructions differ per
// CPython version: one golden per minor version
// (testdata/annotate_bytecode_3.X.golden), the same with and without debug
// info; pyenv's 3.12 shows dis's offsets where 3.13+ shows labels.
func TestAnnotateBytecode(t *testing.T) {
	py := needRecording(t)
	annotateBytecode(t, py)
	t.Run("stripped", func(t *testing.T) { annotateBytecode(t, gdbtest.StrippedPython(t, py)) })
	if gdbtest.Suite() == "trixie" {
		t.Run("python3.12-pyenv", func(t *testing.T) { annotateBytecode(t, needPython(t, pyenv312)) })
	}
}

func annotateBytecode(t *testing.T, py string) {
	prog, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "bytecode", "warm.py"))
	r := timelens(t, "annotate", "--bytecode", "--record-from", "main", "--at", "warm.py:6", prog, "--", py, prog)
	if r.code != 0 {
		t.Fatal(r)
	}
	header, body, _ := strings.Cut(r.stdout, "\n")
	if !strings.Contains(header, "in average (warm.py:6)") {
		t.Errorf("header: %q", header)
	}
	ver := gdbtest.PythonVersion(t, py)
	checkGolden(t, "annotate_bytecode_"+ver[:strings.LastIndexByte(ver, '.')]+".golden", body)
}
