package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestLSPEndToEndEditsWhileDebugging: a real timelens lsp over a copy of
// loop.py. In main's loop the user adds two lines above def main, changes
// `total = 0`, and saves: the file on disk changes too. Stepping on (time
// points read after the save), main's values stay with their code two
// lines down, the changed line has none, and the position names the line
// as the editor has it: the extension still reads the text that ran, not
// the saved file, to know what each line assigns.
func TestLSPEndToEndEditsWhileDebugging(t *testing.T) {
	py := needRecording(t)
	orig, err := os.ReadFile(filepath.Join("..", "..", "testdata", "programs", "loop.py"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "loop.py")
	if err := os.WriteFile(path, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	e := startEditor(t, "lsp", "--backend", "gdb", "--record-from", "main", "--", py, path)
	uri := e.open(path, editorCaps)
	var pos position
	if msg := e.call("workspace/executeCommand", map[string]any{"command": "timelens.where"}, &pos); msg != "" {
		t.Fatal(msg)
	}
	// 20 → 21 → 22 → 23 → 24 → 22: the for line, about to assign i = 1.
	for range 5 {
		pos = e.move("timelens.next")
	}
	if pos.Line != 21 {
		t.Fatalf("five nexts from main's first line: line %d (0-based), want the for line, 21", pos.Line)
	}

	lines := strings.Split(string(orig), "\n")
	lines[20] = "    total = 100"
	edited := strings.Join(slices.Insert(lines, 18, "# added while debugging", ""), "\n")
	e.notify("textDocument/didChange", map[string]any{
		"textDocument":   map[string]any{"uri": uri, "version": 2},
		"contentChanges": []map[string]any{{"text": edited}},
	})
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}

	pos = e.move("timelens.next")
	if pos.Line != 24 || pos.Locals["i"] != "1" {
		t.Fatalf("next after the edit: %+v, want total += i (24 now, 22 as it ran) with i = 1", pos)
	}
	// 1-based lines of the edited text: acct = … (20 as it ran), the for
	// line (22); total = 0 (21) was changed, and total += i has assigned
	// an equal value so far (0 + 0), which hints do not show; acct is shown
	// as it is now, after deposit(0).
	hints := e.lineHints(uri)
	want := map[int]string{
		22: "acct = Account(owner='ada', balance=0, history=[0])",
		24: "i = 0 → 1 (2×)",
	}
	text := strings.Split(edited, "\n")
	for line, label := range want {
		if hints[line] != label {
			t.Errorf("line %d %q: hint %q, want %q", line, text[line-1], hints[line], label)
		}
	}
	for line, label := range hints {
		if _, ok := want[line]; !ok {
			t.Errorf("a hint on line %d %q: %q", line, text[line-1], label)
		}
	}
}
