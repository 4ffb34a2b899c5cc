package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/timelens/timelens/lsp"
)

// TestRecordKeepsTheSourcesThatRan: record reads the script and the .py
// files beside it before the recording runs them, keeps them in the
// recording directory, and annotate/lsp find them there by absolute path.
func TestRecordKeepsTheSourcesThatRan(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	app := write("app.py", "import helper\nhelper.run()\n")
	helper := write("helper.py", "def run():\n    return 1\n")
	write("sub/deep.py", "x = 1\n")
	write("notes.txt", "not Python\n")

	for _, program := range [][]string{{app}, {"/usr/bin/python3", "-X", "dev", app, "--flag"}} {
		files := readProgramSources(program)
		var names []string
		for name := range files {
			names = append(names, filepath.Base(name))
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"app.py", "helper.py"}) || files[helper] != "def run():\n    return 1\n" {
			t.Errorf("%q: kept %q", program, names)
		}
	}
	if files := readProgramSources([]string{"/usr/bin/python3", "-m", "http.server"}); files != nil {
		t.Errorf("python3 -m runs no file, kept %v", files)
	}

	rec := filepath.Join(t.TempDir(), "app.rec")
	if err := os.Mkdir(rec, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writeSources(rec, readProgramSources([]string{app})); err != nil {
		t.Fatal(err)
	}
	write("app.py", "# changed after the recording\nimport helper\nhelper.run()\n")
	lookup := recordedSources(rec)
	if text, ok := lookup(app); !ok || text != "import helper\nhelper.run()\n" {
		t.Errorf("the recording's app.py: %q, %v", text, ok)
	}
	if _, ok := lookup(filepath.Join(dir, "sub/deep.py")); ok {
		t.Error("a file below the script's directory was kept")
	}
	if _, ok := recordedSources("")(app); ok {
		t.Error("a live session found a copy")
	}
	if _, ok := recordedSources(t.TempDir())(app); ok {
		t.Error("a recording without copies found one")
	}
}

// TestAnnotateComparesWithTheTextThatRan: annotate's FILE two lines longer
// than what ran, then with a line changed, then another text.
func TestAnnotateComparesWithTheTextThatRan(t *testing.T) {
	ran := "def main():\n    total = 0\n    for i in range(3):\n        total += i\n    return total\n\nmain()\n"
	lines := strings.Split(ran, "\n")

	var stderr bytes.Buffer
	f := compareWithRecording(&stderr, "/src/app.py", ran, ran)
	if stderr.Len() != 0 || f.lineNow("/src/app.py", 4) != 4 {
		t.Errorf("the text that ran: %q, line 4 → %d", stderr.String(), f.lineNow("/src/app.py", 4))
	}

	now := strings.Join(slices.Concat([]string{"# notes", "# more notes"}, lines), "\n")
	f = compareWithRecording(&stderr, "/src/app.py", ran, now)
	if want := "timelens annotate: app.py changed since the recording ran it: values show on the lines that kept their text (6 of 6), none on lines changed or added since\n"; stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
	if got := f.lineNow("/src/app.py", 4); got != 6 {
		t.Errorf("line 4 as it ran is line %d now, want 6", got)
	}
	if got := f.lineNow("/src/other.py", 4); got != 4 {
		t.Errorf("a line of another file moved to %d", got)
	}
	if at, err := f.recordedAt("app.py:6"); err != nil || at != "app.py:4" {
		t.Errorf("--at app.py:6 → %q, %v; want app.py:4", at, err)
	}
	if at, err := f.recordedAt("other.py:6"); err != nil || at != "other.py:6" {
		t.Errorf("--at other.py:6 → %q, %v", at, err)
	}
	if at, err := f.recordedAt("T1234"); err != nil || at != "T1234" {
		t.Errorf("--at a time → %q, %v", at, err)
	}
	if _, err := f.recordedAt("app.py:1"); !errors.Is(err, lsp.ErrLineEdited) {
		t.Errorf("--at a line added since: %v", err)
	}

	stderr.Reset()
	f = compareWithRecording(&stderr, "/src/app.py", ran, "print('something else')\n")
	if !strings.Contains(stderr.String(), "app.py is not the text the recording ran (0 of its 6 lines are left), so no values are shown") {
		t.Errorf("another text: %q", stderr.String())
	}
	if _, err := f.recordedAt("app.py:1"); !errors.Is(err, lsp.ErrTextReplaced) {
		t.Errorf("--at in another text: %v", err)
	}
}

// TestAnnotateSavedRecordingAfterEdits records a copy of loop.py with a
// real gdb and CPython, edits the copy as a user would (two lines above
// def main, total = 0 changed) and annotates the saved recording at the
// return line as the file has it now (30; 28 when it ran): stderr says the
// file changed, main's values are two lines down, the changed line has
// none (testdata/annotate_loop_edited.golden), and --at the changed line
// is refused.
func TestAnnotateSavedRecordingAfterEdits(t *testing.T) {
	py := needRecording(t)
	orig, err := os.ReadFile(filepath.Join("..", "..", "testdata", "programs", "loop.py"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	prog := filepath.Join(dir, "loop.py")
	if err := os.WriteFile(prog, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "loop.rec")
	if r := timelens(t, "record", "--record-from", "main", "-o", out, "--", py, prog); r.code != 0 {
		t.Fatal(r)
	}
	lines := strings.Split(string(orig), "\n")
	lines[20] = "    total = 100"
	edited := strings.Join(slices.Insert(lines, 18, "# main, with a comment added after the recording", ""), "\n")
	if err := os.WriteFile(prog, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}

	r := timelens(t, "annotate", "--recording", out, "--at", "loop.py:30", prog)
	if r.code != 0 {
		t.Fatal(r)
	}
	if !strings.Contains(r.stderr, "timelens annotate: loop.py changed since the recording ran it: values show on the lines that kept their text (23 of 24)") {
		t.Errorf("stderr does not say the file changed:\n%s", r.stderr)
	}
	head, body, _ := strings.Cut(r.stdout, "\n")
	if !strings.HasSuffix(head, "in main (loop.py:30)") {
		t.Errorf("header: %q", head)
	}
	checkGolden(t, "annotate_loop_edited.golden", body)

	r = timelens(t, "annotate", "--recording", out, "--at", "loop.py:23", prog)
	if r.code == 0 || !strings.Contains(r.stderr, "--at loop.py:23: the line was edited after the recording ran") {
		t.Errorf("--at the changed line: %v", r)
	}
}

// checkGolden compares got with testdata/name, or rewrites it under
// -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs (-update rewrites it); got:\n%s\nwant:\n%s", path, got, want)
	}
}
