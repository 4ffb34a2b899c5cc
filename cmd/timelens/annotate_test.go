package main

import (
	"flag"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
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
