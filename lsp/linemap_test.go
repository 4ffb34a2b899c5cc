package lsp

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"go.lsp.dev/protocol"
)

// The line map alone (linemap.go): which recorded line goes where, on small
// texts whose every line says what happens to it.

const ranText = `def f(x):
    a = x + 1
    b = g(a,
          x)
    return b

def g(p, q):
    return p * q
`

// pairs renders a map as "recorded→now" for each recorded line, "-" for
// none.
func pairs(m *LineMap, n int) string {
	var out []string
	for i := range n {
		if j, ok := m.Now(i); ok {
			out = append(out, fmt.Sprintf("%d→%d", i, j))
		} else {
			out = append(out, fmt.Sprintf("%d→-", i))
		}
	}
	return strings.Join(out, " ")
}

func TestLineMap(t *testing.T) {
	lines := strings.Split(ranText, "\n") // 9: the last is empty
	edit := func(f func(l []string) []string) string {
		return strings.Join(f(slices.Clone(lines)), "\n")
	}
	cases := []struct {
		name, now, want string
	}{
		{"unchanged", ranText, "0→0 1→1 2→2 3→3 4→4 5→5 6→6 7→7 8→8"},
		{"a comment line above everything", "# note\n" + ranText, "0→1 1→2 2→3 3→4 4→5 5→6 6→7 7→8 8→9"},
		{"a line removed above g", edit(func(l []string) []string { return slices.Delete(l, 5, 6) }), "0→0 1→1 2→2 3→3 4→4 5→- 6→5 7→6 8→7"},
		{"a line inserted inside f", edit(func(l []string) []string { return slices.Insert(l, 2, "    print(a)") }), "0→0 1→1 2→3 3→4 4→5 5→6 6→7 7→8 8→9"},
		{"a line changed", edit(func(l []string) []string { l[1] = "    a = x + 2"; return l }), "0→0 1→- 2→2 3→3 4→4 5→5 6→6 7→7 8→8"},
		{"the second line of a statement changed: the whole statement goes", edit(func(l []string) []string { l[3] = "          y)"; return l }), "0→0 1→1 2→- 3→- 4→4 5→5 6→6 7→7 8→8"},
		{"a line inserted inside a statement: the whole statement goes", edit(func(l []string) []string { return slices.Insert(l, 3, "          0,") }), "0→0 1→1 2→- 3→- 4→5 5→6 6→7 7→8 8→9"},
		{"a statement that moved whole keeps its lines", edit(func(l []string) []string { return slices.Insert(l, 2, "", "") }), "0→0 1→1 2→4 3→5 4→6 5→7 6→8 7→9 8→10"},
		{"functions swapped: the longer stays, the other is new", edit(func(l []string) []string {
			return append(append(slices.Clone(l[6:8]), ""), l[0:6]...)
		}), "0→3 1→4 2→5 3→6 4→7 5→- 6→- 7→- 8→8"},
		{"another file", "import os\nprint(os.getcwd())\n", "0→- 1→- 2→- 3→- 4→- 5→- 6→- 7→- 8→-"},
		{"everything removed", "", "0→- 1→- 2→- 3→- 4→- 5→- 6→- 7→- 8→-"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := MapLines(ranText, c.now)
			if got := pairs(m, len(lines)); got != c.want {
				t.Errorf("\ngot  %s\nwant %s", got, c.want)
			}
			nowLines := strings.Split(c.now, "\n")
			for j := range nowLines {
				if i, ok := m.Recorded(j); ok {
					if back, _ := m.Now(i); back != j || lines[i] != nowLines[j] {
						t.Errorf("now %d ↔ recorded %d: %q / %q, back to %d", j, i, nowLines[j], lines[i], back)
					}
				}
			}
		})
	}
}

func TestLineMapMatches(t *testing.T) {
	if m := MapLines(ranText, ranText); !m.Matches() || !m.Unchanged() {
		t.Errorf("the recorded text itself: matches %v, unchanged %v", m.Matches(), m.Unchanged())
	}
	// Half of the non-blank lines left: still the same file.
	half := "def f(x):\n    a = x + 1\n    b = g(a,\n          x)\n"
	if m := MapLines(ranText, half); !m.Matches() || m.Unchanged() {
		t.Errorf("half the text: matches %v, unchanged %v", m.Matches(), m.Unchanged())
	}
	m := MapLines(ranText, "def f(x):\n    return 0\n")
	if m.Matches() {
		t.Error("one line of seven left still matches")
	}
	if kept, of := m.Kept(); kept != 1 || of != 7 {
		t.Errorf("Kept() = %d of %d, want 1 of 7", kept, of)
	}
	if _, ok := m.Now(0); ok {
		t.Error("a text that does not match pairs a line")
	}
}

func TestLineMapNear(t *testing.T) {
	lines := strings.Split(ranText, "\n")
	changed := slices.Clone(lines)
	changed[1] = "    a = x + 2"
	removed := slices.Delete(slices.Clone(lines), 4, 5)
	replaced := slices.Concat(lines[:1], []string{"    pass", "    pass", "    pass", "    pass", "    pass"}, lines[5:])
	for _, c := range []struct {
		name      string
		now       []string
		rec, want int
		exact     bool
	}{
		{"a line that moved", slices.Insert(slices.Clone(lines), 0, "#"), 4, 5, true},
		{"a changed line: where it is", changed, 1, 1, false},
		{"a removed line: the line after it", removed, 4, 4, false},
		{"four lines replaced by five: the same place among them", replaced, 3, 3, false},
		{"past the end", lines, 40, 8, false},
	} {
		m := MapLines(ranText, strings.Join(c.now, "\n"))
		if got, exact := m.Near(c.rec); got != c.want || exact != c.exact {
			t.Errorf("%s: Near(%d) = %d, %v; want %d, %v", c.name, c.rec, got, exact, c.want, c.exact)
		}
	}
}

// bigSource is a Python file of about n lines: loop.py's functions, each
// copy with its own names.
func bigSource(tb testing.TB, n int) string {
	data, err := os.ReadFile(program("loop.py"))
	if err != nil {
		tb.Fatal(err)
	}
	base := string(data)
	var b strings.Builder
	for k := 0; strings.Count(b.String(), "\n") < n; k++ {
		r := strings.NewReplacer("Account", fmt.Sprintf("Account%d", k), "fib", fmt.Sprintf("fib%d", k), "main", fmt.Sprintf("main%d", k))
		b.WriteString(r.Replace(base))
	}
	return b.String()
}

// BenchmarkLineMap: what an edit costs on a 5,000-line file: the new
// document version (what the server did before line maps) and its line map
// against the recorded text. The recorded text is prepared once per
// session and not counted.
//
//	go test -run '^$' -bench LineMap -benchmem ./lsp/
func BenchmarkLineMap(b *testing.B) {
	text := bigSource(b, 5000)
	rec := newRecordedText(text)
	rec.doc.python()
	base := newDocument("file:///big.py", "/big.py", 1, text)
	mid := base.lineCount() / 2
	insert := &protocol.TextDocumentContentChangePartial{
		Range: protocol.Range{Start: protocol.Position{Line: uint32(mid)}, End: protocol.Position{Line: uint32(mid)}},
		Text:  "    # a comment typed in the middle\n",
	}
	typed, err := base.apply(2, insert)
	if err != nil {
		b.Fatal(err)
	}
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i += 100 {
		lines[i] += "  # edited"
	}
	scattered := newDocument("file:///big.py", "/big.py", 2, strings.Join(lines, "\n"))
	other := newDocument("file:///big.py", "/big.py", 2, strings.ReplaceAll(text, "self.", "this."))
	b.Logf("%d lines", base.lineCount())

	b.Run("document version only (before line maps)", func(b *testing.B) {
		for b.Loop() {
			if _, err := base.apply(2, insert); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("one line typed in the middle: version and map", func(b *testing.B) {
		for b.Loop() {
			d, _ := base.apply(2, insert)
			rec.mapDocument(d)
		}
	})
	for _, c := range []struct {
		name string
		doc  *document
	}{
		{"one line typed in the middle: map", typed},
		{"every 100th line changed: map", scattered},
		{"a fifth of the lines changed: map", other},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				rec.mapDocument(c.doc)
			}
		})
	}
	b.Run("recorded text, prepared once per session", func(b *testing.B) {
		for b.Loop() {
			newRecordedText(text).doc.python()
		}
	})
}
