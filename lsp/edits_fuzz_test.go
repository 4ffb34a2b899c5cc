package lsp

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

// Fuzz targets of the line maps (linemap.go) and of the server following
// the user's edits (edits.go): random edit sequences of real Python text.

// FuzzLineMap: for a recorded text and any edits of it, every paired line
// has the recorded line's exact text, the pairs are one to one and in
// order, and the recorded text itself maps line for line.
func FuzzLineMap(f *testing.F) {
	for i, text := range pythonSources(f) {
		f.Add(text, []byte{byte(i), 3, 7, 1, 200, 9, 4, 4, 0, 2})
	}
	f.Add(ranText, []byte{0, 2, 1, 3, 0, 0})
	f.Fuzz(func(t *testing.T, recorded string, ops []byte) {
		now := applyOps(recorded, ops)
		m := MapLines(recorded, now)
		rec := newDocument("", "", 0, recorded)
		cur := newDocument("", "", 0, now)
		last := -1
		for i := range rec.lineCount() {
			j, ok := m.Now(i)
			if !ok {
				continue
			}
			if j <= last || j >= cur.lineCount() {
				t.Fatalf("recorded line %d → %d after %d (%d lines now)", i, j, last, cur.lineCount())
			}
			last = j
			if rec.line(i) != cur.line(j) {
				t.Fatalf("recorded line %d %q paired with line %d %q", i, rec.line(i), j, cur.line(j))
			}
			if back, ok := m.Recorded(j); !ok || back != i {
				t.Fatalf("recorded %d → %d → %d, %v", i, j, back, ok)
			}
		}
		if u := MapLines(recorded, recorded); !u.Unchanged() {
			t.Fatalf("the recorded text against itself is not unchanged")
		}
	})
}

// applyOps edits text by a script of bytes: each op takes three bytes
// (what, where, which) and inserts, removes, changes, duplicates or moves
// lines, some of them copies of other lines of the text.
func applyOps(text string, ops []byte) string {
	lines := strings.Split(text, "\n")
	snippets := []string{"", "# note", "    x = 1", "print(x)", "    return b", "    b = g(a,", ")", `"""`, "(", "\t"}
	for k := 0; k+2 < len(ops); k += 3 {
		at := int(ops[k+1]) % (len(lines) + 1)
		which := int(ops[k+2])
		var line string
		if which%2 == 0 && len(lines) > 0 {
			line = lines[which/2%len(lines)] // a copy of a line of the text
		} else {
			line = snippets[which/2%len(snippets)]
		}
		switch ops[k] % 5 {
		case 0:
			lines = slices.Insert(lines, at, line)
		case 1:
			if at < len(lines) {
				lines = slices.Delete(lines, at, min(at+1+which%3, len(lines)))
			}
		case 2:
			if at < len(lines) {
				lines[at] = line
			}
		case 3:
			if at < len(lines) {
				lines[at] += line
			}
		case 4:
			if at < len(lines) { // move a line to another place
				l := lines[at]
				lines = slices.Delete(lines, at, at+1)
				lines = slices.Insert(lines, which%(len(lines)+1), l)
			}
		}
	}
	return strings.Join(lines, "\n")
}

// FuzzEdits: any sequence of edits, sent as incremental or whole-text
// changes, at main's last line of loop.py (every line of main has a
// value): no hint ever lands on a line whose text differs from the
// recorded line whose value it shows, and the recorded text back brings
// back every hint.
func FuzzEdits(f *testing.F) {
	tr := recordTrace(f, "loop.py", "main")
	prog := program("loop.py")
	data, err := os.ReadFile(prog)
	if err != nil {
		f.Fatal(err)
	}
	recorded := string(data)
	f.Add([]byte{0, 18, 3}, uint8(0))
	f.Add([]byte{2, 22, 1, 1, 20, 0, 4, 21, 40}, uint8(1))
	f.Add([]byte{3, 25, 7, 0, 0, 0, 1, 3, 2, 4, 26, 8, 2, 19, 44}, uint8(2))
	f.Add([]byte{1, 0, 200, 1, 0, 200, 1, 0, 200, 1, 0, 200, 1, 0, 200, 1, 0, 200}, uint8(3))
	f.Fuzz(func(t *testing.T, ops []byte, sync uint8) {
		s, ctx := directServer(t, tr, -1)
		u := uri.File(prog)
		if err := s.DidOpen(ctx, &protocol.DidOpenTextDocumentParams{TextDocument: protocol.TextDocumentItem{URI: u, Version: 1, Text: recorded}}); err != nil {
			t.Fatal(err)
		}
		hints := func() []protocol.InlayHint {
			hs, err := s.InlayHint(ctx, &protocol.InlayHintParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}, Range: protocol.Range{End: protocol.Position{Line: 1 << 20}}})
			if err != nil {
				t.Fatal(err)
			}
			return hs
		}
		// The values the recording gives each line, by the line's text.
		recLines := strings.Split(recorded, "\n")
		byText := map[string][]string{}
		before := hints()
		for _, h := range before {
			byText[recLines[h.Position.Line]] = append(byText[recLines[h.Position.Line]], string(h.Label.(protocol.String)))
		}
		text := recorded
		for k := 0; k+2 < len(ops); k += 3 {
			next := applyOps(text, ops[k:k+3])
			var c protocol.TextDocumentContentChangeEvent = &protocol.TextDocumentContentChangeWholeDocument{Text: next}
			if (int(sync)>>(k/3%8))&1 == 1 {
				c = smallestChange(text, next)
			}
			if err := s.DidChange(ctx, &protocol.DidChangeTextDocumentParams{
				TextDocument:   protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: u}, Version: int32(k + 2)},
				ContentChanges: []protocol.TextDocumentContentChangeEvent{c},
			}); err != nil {
				t.Fatal(err)
			}
			text = next
			lines := strings.Split(text, "\n")
			for _, h := range hints() {
				label := string(h.Label.(protocol.String))
				if n := int(h.Position.Line); n >= len(lines) || !slices.Contains(byText[lines[n]], label) {
					t.Fatalf("after %v: hint %q on line %d %q, which the recording has no such value for\ntext:\n%s", ops[:k+3], label, n, lines[min(n, len(lines)-1)], text)
				}
			}
		}
		if err := s.DidChange(ctx, &protocol.DidChangeTextDocumentParams{
			TextDocument:   protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: u}, Version: 1000},
			ContentChanges: []protocol.TextDocumentContentChangeEvent{&protocol.TextDocumentContentChangeWholeDocument{Text: recorded}},
		}); err != nil {
			t.Fatal(err)
		}
		if after, want := hintList(hints()), hintList(before); after != want {
			t.Fatalf("the recorded text back, but not its hints:\n%s\nwant\n%s", after, want)
		}
	})
}

// hintList renders hints as "line:column label" lines.
func hintList(hs []protocol.InlayHint) string {
	var b strings.Builder
	for _, h := range hs {
		fmt.Fprintf(&b, "%d:%d %v\n", h.Position.Line, h.Position.Character, h.Label)
	}
	return b.String()
}

// smallestChange is the incremental change that turns text into next: the
// characters between their common head and tail, replaced (whole UTF-8
// sequences), its range in lines and UTF-16 columns as LSP counts them.
func smallestChange(text, next string) protocol.TextDocumentContentChangeEvent {
	lo := 0
	for lo < len(text) && lo < len(next) && text[lo] == next[lo] {
		lo++
	}
	for lo > 0 && (lo < len(text) && !utf8.RuneStart(text[lo]) || lo < len(next) && !utf8.RuneStart(next[lo])) {
		lo--
	}
	hi := 0
	for hi < len(text)-lo && hi < len(next)-lo && text[len(text)-1-hi] == next[len(next)-1-hi] {
		hi++
	}
	for hi > 0 && !utf8.RuneStart(text[len(text)-hi]) {
		hi--
	}
	at := func(off int) protocol.Position {
		line := strings.Count(text[:off], "\n")
		start := strings.LastIndexByte(text[:off], '\n') + 1
		return protocol.Position{Line: uint32(line), Character: utf16Len(text[start:off])}
	}
	return &protocol.TextDocumentContentChangePartial{
		Range: protocol.Range{Start: at(lo), End: at(len(text) - hi)},
		Text:  next[lo : len(next)-hi],
	}
}
