package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestAnnotateGolden records loop.py from main with a real gdb and CPython,
// goes to line 28 (main's last line) and compares the annotated source with
// testdata/annotate_loop.golden: the hints rendered into the source text.
func TestAnnotateGolden(t *testing.T) {
	py := needRecording(t)
	prog, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "programs", "loop.py"))
	r := timelens(t, "annotate", "--record-from", "main", "--at", "loop.py:28", prog, "--", py, prog)
	if r.code != 0 {
		t.Fatal(r)
	}
	// The first line names the time, which depends on the machine.
	_, body, _ := strings.Cut(r.stdout, "\n")
	golden := filepath.Join("testdata", "annotate_loop.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if body != string(want) {
		t.Errorf("annotate loop.py at line 28:\n%s\nwant:\n%s", body, want)
	}
	if !strings.Contains(r.stdout, "in main (loop.py:28)") {
		t.Errorf("header: %q", strings.SplitN(r.stdout, "\n", 2)[0])
	}
}

// TestRaceDemo is what make demo shows: race.py's assertion fails, and the
// last write of the balance is the unlocked task's read-modify-write, made
// from a stale read.
func TestRaceDemo(t *testing.T) {
	py := needRecording(t)
	prog, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "race.py"))
	r := timelens(t, "annotate", "--record-from", "main", "--at", "race.py:39", "--last-write", "acct.balance", prog, "--", py, prog)
	if r.code != 0 {
		t.Fatal(r)
	}
	for _, want := range []string{
		"race.py at time", "in main (race.py:39)", "▶ 39 │     assert acct.balance == 6",
		"last write of acct.balance: 4, at race.py:32 in deposit_unlocked",
		"    current = 3\n", "▶ 32 │         acct.balance = current + 1",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, r.stdout)
		}
	}
}
