package lsp

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/timelens/timelens/history"
)

// Bad input from the editor: documents the recording does not have,
// positions outside the text, text that is not valid UTF-8, hovers on
// things that are not values. Each gets an empty answer (no hints, no
// hover), never an error or a crash, and the session goes on.

// atEnd moves to the last event of loop.py's main, where every line of
// main has run.
func atEnd(t *testing.T) *session {
	s := newSession(t, sessionOptions{})
	s.initialize(fullCaps())
	s.gotoEvent(len(s.backend.Events) - 1)
	return s
}

func (s *session) hover(u uri.URI, line, char uint32) (*protocol.Hover, error) {
	return s.server.Hover(s.ctx, &protocol.HoverParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: u}, Position: protocol.Position{Line: line, Character: char},
	}})
}

func (s *session) lenses(u uri.URI) []protocol.CodeLens {
	s.t.Helper()
	ls, err := s.server.CodeLens(s.ctx, &protocol.CodeLensParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}})
	if err != nil {
		s.t.Fatalf("code lenses: %v", err)
	}
	return ls
}

func TestBadInputDocumentNotInTheRecording(t *testing.T) {
	s := atEnd(t)
	other := filepath.Join(t.TempDir(), "other.py")
	if err := os.WriteFile(other, []byte("total = 1\nfor i in range(3):\n    total += i\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	u := s.open(other)
	if hs := s.hints(u); len(hs) != 0 {
		t.Errorf("hints in a file the recording does not have: %v", hs)
	}
	if h, err := s.hover(u, 0, 1); err != nil || h != nil {
		t.Errorf("hover in a file the recording does not have: %v, %v", h, err)
	}
	if ls := s.lenses(u); len(ls) != 0 {
		t.Errorf("lenses in a file the recording does not have: %v", ls)
	}
	// Never opened at all.
	closed := uri.File(filepath.Join(t.TempDir(), "never-opened.py"))
	if hs := s.hints(closed); len(hs) != 0 {
		t.Errorf("hints in a document never opened: %v", hs)
	}
	if h, err := s.hover(closed, 0, 0); err != nil || h != nil {
		t.Errorf("hover in a document never opened: %v, %v", h, err)
	}
	// The recorded file still answers.
	if hs := s.hints(s.open(program("loop.py"))); len(hs) == 0 {
		t.Error("no hints in loop.py after the requests on other files")
	}
}

func TestBadInputPositionsPastTheEnd(t *testing.T) {
	s := atEnd(t)
	loop := s.open(program("loop.py"))
	for _, p := range []protocol.Position{
		{Line: 22, Character: 500}, // past the end of "        total += i"
		{Line: 31, Character: 0},   // the empty line after the last newline
		{Line: 5000, Character: 3}, // past the end of the file
		{Line: 1 << 31, Character: 1 << 31},
	} {
		if h, err := s.hover(loop, p.Line, p.Character); err != nil || h != nil {
			t.Errorf("hover at %d:%d: %v, %v; want no hover", p.Line, p.Character, h, err)
		}
	}
	hs, err := s.server.InlayHint(s.ctx, &protocol.InlayHintParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: loop},
		Range:        protocol.Range{Start: protocol.Position{Line: 4000}, End: protocol.Position{Line: 5000}},
	})
	if err != nil || len(hs) != 0 {
		t.Errorf("hints past the end of the file: %v, %v", hs, err)
	}
	// A range that ends before it starts.
	hs, err = s.server.InlayHint(s.ctx, &protocol.InlayHintParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: loop},
		Range:        protocol.Range{Start: protocol.Position{Line: 30}, End: protocol.Position{Line: 2}},
	})
	if err != nil || len(hs) != 0 {
		t.Errorf("hints in an inverted range: %v, %v", hs, err)
	}
	// lastWrite at a position past the end is refused with a message.
	_, err = s.exec(cmdLastWrite, map[string]any{"uri": loop, "position": map[string]int{"line": 5000, "character": 0}})
	if err == nil || !strings.Contains(err.Error(), "no name or attribute at") {
		t.Errorf("lastWrite past the end: %v", err)
	}
}

// TestBadInputNonUTF8Source: the editor sends text that is not valid
// UTF-8 (a Latin-1 file read as bytes); JSON carries it as U+FFFD. Hints
// still land on the right lines, at character boundaries.
func TestBadInputNonUTF8Source(t *testing.T) {
	s := atEnd(t)
	path := program("loop.py")
	text := strings.Replace(readFile(t, path), `name = "café ☕"`, "name = \"caf\xe9 \xff\xfe\"", 1)
	u := uri.File(path)
	if err := s.server.DidOpen(s.ctx, &protocol.DidOpenTextDocumentParams{TextDocument: protocol.TextDocumentItem{
		URI: u, LanguageID: "python", Version: 1, Text: text,
	}}); err != nil {
		t.Fatal(err)
	}
	hs := s.hints(u)
	if len(hs) == 0 {
		t.Fatal("no hints in a document with invalid UTF-8")
	}
	// What the server has: the text after a JSON round trip.
	wire, _ := json.Marshal(text)
	var got string
	if err := json.Unmarshal(wire, &got); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(got, "\n")
	for _, h := range hs {
		if int(h.Position.Line) >= len(lines) {
			t.Fatalf("hint %v past the last line", h.Position)
		}
		if _, ok := byteOfUTF16(lines[h.Position.Line], int(h.Position.Character)); !ok {
			t.Errorf("hint at %v is not on a character boundary of %q", h.Position, lines[h.Position.Line])
		}
	}
	// Hover on the name of the line with the bad bytes.
	if h, err := s.hover(u, 26, 5); err != nil || h == nil {
		t.Errorf("hover on name in the line with invalid UTF-8: %v, %v", h, err)
	}
}

func TestBadInputHoverOnKeywordOrComment(t *testing.T) {
	s := atEnd(t)
	path := program("loop.py")
	// The editor's text has a comment the recording's file has not; the
	// server reads the editor's text.
	text := strings.Replace(readFile(t, path), "        total += i\n", "        total += i  # total of i so far\n", 1)
	u := uri.File(path)
	if err := s.server.DidOpen(s.ctx, &protocol.DidOpenTextDocumentParams{TextDocument: protocol.TextDocumentItem{
		URI: u, LanguageID: "python", Version: 1, Text: text,
	}}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(text, "\n")
	col := func(line int, sub string, nth int) uint32 {
		i := -1
		for k := 0; k <= nth; k++ {
			j := strings.Index(lines[line][i+1:], sub)
			if j < 0 {
				t.Fatalf("no %q in line %d", sub, line)
			}
			i += 1 + j
		}
		return uint32(i + 1)
	}
	for _, c := range []struct {
		what string
		line int
		sub  string
		nth  int
	}{
		{"the keyword for", 21, "for", 0},
		{"the keyword in", 21, " in ", 0},
		{"the keyword def", 18, "def", 0},
		{"the keyword return", 27, "return", 0},
		{"a word in a comment", 22, "total", 1},
		{"the # of a comment", 22, "#", 0},
		{"a string literal", 19, "ada", 0},
		{"a number", 20, "0", 0},
	} {
		if h, err := s.hover(u, uint32(c.line), col(c.line, c.sub, c.nth)); err != nil || h != nil {
			t.Errorf("hover on %s: %v, %v; want no hover", c.what, h, err)
		}
	}
	// The name before the comment still has one.
	if h, err := s.hover(u, 22, col(22, "total", 0)); err != nil || h == nil {
		t.Errorf("hover on total before the comment: %v, %v", h, err)
	}
}

// evalSpy notes every expression the server asks the backend to evaluate.
type evalSpy struct {
	*testBackend
	mu    sync.Mutex
	exprs []string
}

func (b *evalSpy) Eval(ctx context.Context, depth int, expr string) (string, error) {
	b.mu.Lock()
	b.exprs = append(b.exprs, expr)
	b.mu.Unlock()
	return b.testBackend.Eval(ctx, depth, expr)
}

// TestSecurityHoverNeverCallsAFunction hovers calls and method calls: the
// server asks for names and attribute chains only, never a call, so nothing
// can run in the debuggee (gdb refuses inferior calls besides: gdbmi's
// TestSessionRefusesInferiorCalls).
func TestSecurityHoverNeverCallsAFunction(t *testing.T) {
	var spy *evalSpy
	var s *session
	s = newSession(t, sessionOptions{start: func(ctx context.Context, _ json.RawMessage, _ func(string, int)) (*history.Timeline, error) {
		spy = &evalSpy{testBackend: s.backend}
		return history.New(ctx, spy, history.Options{})
	}})
	s.initialize(fullCaps())
	s.gotoEvent(len(s.backend.Events) - 1)
	loop := s.open(program("loop.py"))
	lines := strings.Split(readFile(t, program("loop.py")), "\n")
	for _, c := range []struct {
		line int
		at   string
	}{
		{24, "fib(4)"}, {24, "(4)"}, {24, "4)"}, {23, "deposit("}, {23, "(i * 10)"}, {19, "Account("}, {25, "range(4)"},
	} {
		col := strings.Index(lines[c.line], c.at)
		if col < 0 {
			t.Fatalf("no %q in line %d", c.at, c.line+1)
		}
		if _, err := s.hover(loop, uint32(c.line), uint32(col)); err != nil {
			t.Errorf("hover on %q: %v", c.at, err)
		}
	}
	spy.mu.Lock()
	defer spy.mu.Unlock()
	if len(spy.exprs) == 0 {
		t.Fatal("no hover reached the backend")
	}
	for _, e := range spy.exprs {
		if strings.ContainsAny(e, "()[] ") {
			t.Errorf("hover asked the backend to evaluate %q, which is not a name or an attribute chain", e)
		}
	}
	t.Logf("expressions evaluated: %q", spy.exprs)
}
