package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/timelens/timelens/srcpath"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/timelens/timelens/history"
	"github.com/timelens/timelens/history/historytest"
)

// The editor sends text (any bytes: LSP says UTF-8, editors mid-edit send
// anything), positions in UTF-16 units, and command arguments as JSON.
// These targets hold the conversions and the command decoding to: no
// panic, positions that land inside the text, the named error for bad
// arguments.

// pythonSources are the test programs, as real Python text to start from.
func pythonSources(tb testing.TB) []string {
	tb.Helper()
	var texts []string
	for _, glob := range []string{"../testdata/programs/*.py", "../testdata/navigate/*.py", "../testdata/pyext/*.py", "../testdata/*.py"} {
		files, _ := filepath.Glob(glob)
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil {
				tb.Fatal(err)
			}
			texts = append(texts, string(data))
		}
	}
	if len(texts) == 0 {
		tb.Fatal("no Python sources under ../testdata")
	}
	return texts
}

// FuzzDocument: offsets of any position land on a character boundary
// inside the text, UTF-16 columns convert to byte columns and back, and an
// edit replaces exactly the range it names.
func FuzzDocument(f *testing.F) {
	for i, text := range pythonSources(f) {
		f.Add(text, uint32(i), uint32(4), uint32(i+2), uint32(1), "x = 1\n")
	}
	f.Add("a😀b\r\nc", uint32(0), uint32(2), uint32(1), uint32(0), "é")
	f.Add("\xff\xfe\n\xe2\x82", uint32(1), uint32(1), uint32(1), uint32(9), "")
	f.Add("", uint32(1), uint32(0), uint32(1), uint32(0), "new")
	f.Fuzz(func(t *testing.T, text string, line, char, line2, char2 uint32, insert string) {
		d := newDocument("file:///fuzz.py", "/fuzz.py", 1, text)
		if got, want := d.lineCount(), strings.Count(text, "\n")+1; got != want {
			t.Fatalf("lineCount = %d, want %d", got, want)
		}
		n := int(line) % d.lineCount()
		l := d.line(n)
		if strings.ContainsAny(l, "\n") || !strings.Contains(text, l) {
			t.Fatalf("line %d = %q is not a line of %q", n, l, text)
		}
		if end := d.lineEnd(n); end.Character != utf16Len(l) {
			t.Fatalf("lineEnd(%d) = %v, line %q has %d UTF-16 units", n, end, l, utf16Len(l))
		}
		b := byteCol(l, char)
		if b < 0 || b > len(l) || (b < len(l) && !utf8.RuneStart(l[b]) && utf8.ValidString(l)) {
			t.Fatalf("byteCol(%q, %d) = %d: not a character boundary of the line", l, char, b)
		}
		u := utf16Col(l, b)
		if u < min(char, utf16Len(l)) {
			t.Fatalf("byteCol(%q, %d) = %d goes back to column %d", l, char, b, u)
		}
		if back := byteCol(l, u); back != b {
			t.Fatalf("byte column %d of %q is UTF-16 column %d, which is byte column %d", b, l, u, back)
		}
		start, end := protocol.Position{Line: line, Character: char}, protocol.Position{Line: line2, Character: char2}
		for _, p := range []protocol.Position{start, end} {
			if off, err := d.offset(p); err == nil && (off < 0 || off > len(text)) {
				t.Fatalf("offset(%v) = %d, outside the %d bytes of %q", p, off, len(text), text)
			}
		}
		next, err := d.apply(2, &protocol.TextDocumentContentChangePartial{Range: protocol.Range{Start: start, End: end}, Text: insert})
		if err != nil {
			return
		}
		s, _ := d.offset(start)
		e, _ := d.offset(end)
		if want := text[:s] + insert + text[e:]; next.text != want {
			t.Fatalf("edit %v-%v with %q of %q gives %q, want %q", start, end, insert, text, next.text, want)
		}
		if whole, err := d.apply(3, &protocol.TextDocumentContentChangeWholeDocument{Text: insert}); err != nil || whole.text != insert {
			t.Fatalf("whole-document change gives %q, %v", whole.text, err)
		}
	})
}

// FuzzPySource: the scan of any text (Python or not, UTF-8 or not) gives
// scopes inside the text, and the expression at any position is a dotted
// chain of names that are code, not keywords, found where the cursor is.
func FuzzPySource(f *testing.F) {
	for i, text := range pythonSources(f) {
		f.Add(text, uint32(10+i), uint32(8))
	}
	f.Add("class A:\n  def f(self):\n    return self.x.y\n", uint32(2), uint32(16))
	f.Add("x = f'{a.b}' # c.d\ns = '''\nq.r'''\n", uint32(0), uint32(9))
	f.Add("a.b\\\n.c\nfor\xff.x in \"\x00", uint32(2), uint32(5))
	f.Add("ña.ß̈ = 1", uint32(0), uint32(4))
	f.Fuzz(func(t *testing.T, text string, line, char uint32) {
		d := newDocument("file:///fuzz.py", "/fuzz.py", 1, text)
		p := d.python()
		if len(p.mask) != len(text) {
			t.Fatalf("mask of %d bytes for %d bytes of text", len(p.mask), len(text))
		}
		for _, s := range p.scopes {
			if s.def < 0 || s.def > s.end || s.end >= d.lineCount() || s.name == "" || !strings.HasSuffix(s.qualname, s.name) {
				t.Fatalf("scope %+v in %d lines of %q", s, d.lineCount(), text)
			}
		}
		ln := int(line) % (d.lineCount() + 1)
		if in := p.innermost(ln); in != nil && (in.def > ln || ln > in.end) {
			t.Fatalf("innermost(%d) = %+v does not contain the line", ln, *in)
		}
		if fn := p.functionAt(ln); fn == "" {
			t.Fatalf("functionAt(%d) is empty", ln)
		}
		l := d.line(ln)
		col := int(char) % (len(l) + 1)
		expr, start, end, ok := p.exprAt(d, ln, col)
		if ok {
			if start < 0 || start > col || col >= end || end > len(l) || l[start:end] != expr {
				t.Fatalf("exprAt(%d, %d) of line %q = %q [%d, %d)", ln, col, l, expr, start, end)
			}
			for _, name := range strings.Split(expr, ".") {
				if name == "" || pyKeywords[name] || !isIdentStart(runeAt(name, 0)) {
					t.Fatalf("exprAt(%d, %d) of line %q = %q: %q is not a name", ln, col, l, expr, name)
				}
			}
			for i := start; i < end; i++ {
				if p.mask[d.starts[ln]+i] != codeByte {
					t.Fatalf("exprAt(%d, %d) of line %q = %q reaches into a string or comment", ln, col, l, expr)
				}
			}
		}
		pos := protocol.Position{Line: line, Character: char}
		expr2, rng, ok := exprAtPosition(d, pos)
		if !ok {
			return
		}
		l = d.line(int(line))
		if rng.Start.Line != line || rng.End.Line != line || rng.Start.Character >= rng.End.Character || rng.End.Character > utf16Len(l) || char >= rng.End.Character {
			t.Fatalf("exprAtPosition(%v) of line %q = %q at %v", pos, l, expr2, rng)
		}
		if got := l[byteCol(l, rng.Start.Character):byteCol(l, rng.End.Character)]; got != expr2 {
			t.Fatalf("exprAtPosition(%v) of line %q = %q, but its range holds %q", pos, l, expr2, got)
		}
	})
}

// argCommands take an argument object; a first argument of another JSON
// type is the client's error.
var argCommands = map[string]bool{cmdGotoEntry: true, cmdPreviousCall: true, cmdNextCall: true, cmdLastWrite: true, cmdNextWrite: true, cmdGoto: true}

// FuzzExecuteCommand runs workspace/executeCommand with any arguments, and
// a hover at any position, on a server over a real CPython's settrace trace
// of loop.py, whose editor text is the fuzzed text. Nothing panics, bad
// arguments answer InvalidParams, and a result is a position.
func FuzzExecuteCommand(f *testing.F) {
	prog := program("loop.py")
	tr := recordTrace(f, "loop.py", "main")
	src, err := os.ReadFile(prog)
	if err != nil {
		f.Fatal(err)
	}
	progURI := string(uri.File(prog))
	for i := range commandNames() {
		f.Add(uint8(i), `[]`, string(src), uint32(22), uint32(8))
		f.Add(uint8(i), `[null]`, string(src), uint32(22), uint32(8))
	}
	f.Add(uint8(10), `[{"uri": "`+progURI+`", "position": {"line": 22, "character": 8}}]`, string(src), uint32(22), uint32(8))
	f.Add(uint8(10), `[{"uri": "`+progURI+`", "position": {"line": 4294967295, "character": 4294967295}}]`, string(src), uint32(0), uint32(0))
	f.Add(uint8(8), `[{"uri": "`+progURI+`", "line": 21}]`, string(src), uint32(21), uint32(4))
	f.Add(uint8(9), `[{"function": "main"}]`, string(src), uint32(3), uint32(3))
	f.Add(uint8(7), `[{"uri": "`+progURI+`", "line": -5}]`, string(src), uint32(1), uint32(1))
	f.Add(uint8(11), `[{"time": "t3"}]`, "", uint32(0), uint32(0))
	f.Add(uint8(11), `["t3"]`, "", uint32(0), uint32(0))
	f.Add(uint8(12), `[{"time": 3}]`, "\xff", uint32(0), uint32(0))
	f.Fuzz(func(t *testing.T, which uint8, argsJSON string, text string, line, char uint32) {
		var args []protocol.LSPAny
		if err := json.Unmarshal([]byte(argsJSON), &args); err != nil {
			return // the jsonrpc2 layer only hands over valid JSON
		}
		name := "timelens.unknown"
		if names := commandNames(); int(which) < len(names) {
			name = names[which]
		}
		s, ctx := directServer(t, tr, 0)
		if err := s.DidOpen(ctx, &protocol.DidOpenTextDocumentParams{TextDocument: protocol.TextDocumentItem{
			URI: uri.URI(progURI), LanguageID: "python", Version: 1, Text: text,
		}}); err != nil {
			t.Fatal(err)
		}

		res, err := s.ExecuteCommand(ctx, &protocol.ExecuteCommandParams{Command: name, Arguments: args})
		var wire *jsonrpc2.Error
		badArg := len(args) > 0 && !strings.HasPrefix(strings.TrimSpace(string(args[0])), "{") && strings.TrimSpace(string(args[0])) != "null"
		switch {
		case err == nil && name == cmdDebugAdapter:
			var a debugAdapterAddr
			if jerr := json.Unmarshal(res, &a); jerr != nil || a.Host != "127.0.0.1" || a.Port <= 0 {
				t.Fatalf("%s %s returns %s (%v), want a loopback address", name, argsJSON, res, jerr)
			}
		case err == nil:
			var p Position
			if jerr := json.Unmarshal(res, &p); jerr != nil || p.Line < 0 || p.Time == "" {
				t.Fatalf("%s %s returns %s (%v)", name, argsJSON, res, jerr)
			}
			if badArg && argCommands[name] {
				t.Fatalf("%s accepts argument %s", name, args[0])
			}
		case name == "timelens.unknown" || badArg && argCommands[name] || len(args) == 0 && argCommands[name] && name != cmdGotoEntry:
			if !errors.As(err, &wire) || wire.Code != jsonrpc2.InvalidParams {
				t.Fatalf("%s %s: error %v, want InvalidParams", name, argsJSON, err)
			}
			if !strings.Contains(wire.Message, name) {
				t.Fatalf("%s %s: error %q does not name the command", name, argsJSON, wire.Message)
			}
		}

		if _, err := s.Hover(ctx, &protocol.HoverParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
			TextDocument: protocol.TextDocumentIdentifier{URI: uri.URI(progURI)}, Position: protocol.Position{Line: line, Character: char},
		}}); err != nil && !errors.As(err, &wire) {
			t.Fatalf("hover at %d:%d: %v", line, char, err)
		}
	})
}

// FuzzPathMap: with one --substitute-path pair, a recording path under FROM
// maps to a clean editor path under TO that maps back to it, and the map
// never joins two names into one ("/" to "/src" keeps "/a" as "/src/a").
func FuzzPathMap(f *testing.F) {
	f.Add("/build/app", "/home/me/app", "/build/app/main.py")
	f.Add("/build/app", "/home/me/app", "/build/application.py")
	f.Fuzz(func(t *testing.T, from, to, path string) {
		m := newPathMap([][2]string{{from, to}})
		e := m.ToEditor(path)
		if path == "" {
			if e != "" {
				t.Fatalf("toEditor(\"\") = %q", e)
			}
			return
		}
		if _, under := srcpath.CutPrefix(filepath.Clean(path), filepath.Clean(from)); !under || !filepath.IsAbs(from) || !filepath.IsAbs(to) {
			return // the pairs that matter are absolute prefixes
		}
		if e != filepath.Clean(e) {
			t.Fatalf("{%q, %q}: %q maps to %q, not a clean path", from, to, path, e)
		}
		if _, under := srcpath.CutPrefix(e, filepath.Clean(to)); !under {
			t.Fatalf("{%q, %q}: %q maps to %q, not under %q", from, to, path, e, to)
		}
		if back := m.ToRecording(e); back != filepath.Clean(path) {
			t.Fatalf("{%q, %q}: %q maps to %q, which maps back to %q", from, to, path, e, back)
		}
	})
}

// fuzzMethods are the client messages FuzzServeMessage sends, with whether
// each is a request (a call) or a notification.
var fuzzMethods = []struct {
	name string
	call bool
}{
	{protocol.MethodTextDocumentHover, true},
	{protocol.MethodTextDocumentInlayHint, true},
	{protocol.MethodTextDocumentCodeLens, true},
	{protocol.MethodTextDocumentCodeAction, true},
	{protocol.MethodWorkspaceExecuteCommand, true},
	{protocol.MethodTextDocumentDidOpen, false},
	{protocol.MethodTextDocumentDidChange, false},
	{protocol.MethodTextDocumentDidClose, false},
	{protocol.MethodCancelRequest, false},
	{protocol.MethodInitialize, true},
	{"timelens/unknown", true},
}

// FuzzServeMessage sends one message with any parameters over the wire to
// a served session (after initialize, over loop.py's settrace trace, with
// loop.py open), then a hover: every request gets an answer, and none is
// the internal error a panic in a handler becomes.
func FuzzServeMessage(f *testing.F) {
	prog := program("loop.py")
	tr := recordTrace(f, "loop.py", "main")
	src, err := os.ReadFile(prog)
	if err != nil {
		f.Fatal(err)
	}
	u := string(uri.File(prog))
	doc := `{"textDocument": {"uri": "` + u + `"}`
	f.Add(uint8(0), doc+`, "position": {"line": 22, "character": 8}}`)
	f.Add(uint8(1), doc+`, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 4294967295, "character": 0}}}`)
	f.Add(uint8(2), doc+`}`)
	f.Add(uint8(3), doc+`, "range": {"start": {"line": 22, "character": 0}, "end": {"line": 22, "character": 0}}, "context": {"diagnostics": [], "only": ["source"]}}`)
	f.Add(uint8(4), `{"command": "timelens.lastWrite", "arguments": [{"uri": "`+u+`", "position": {"line": 22, "character": 8}}]}`)
	f.Add(uint8(5), `{"textDocument": {"uri": "`+u+`", "languageId": "python", "version": 2, "text": "def f(:\n\xff"}}`)
	f.Add(uint8(6), `{"textDocument": {"uri": "`+u+`", "version": 2}, "contentChanges": [{"range": {"start": {"line": 22, "character": 4}, "end": {"line": 22, "character": 9}}, "text": "tot"}]}`)
	f.Add(uint8(6), `{"textDocument": {"uri": "`+u+`", "version": 2}, "contentChanges": [{"text": "x"}, {"range": {"start": {"line": 9, "character": 0}, "end": {"line": 0, "character": 0}}, "text": ""}]}`)
	f.Add(uint8(7), doc+`}`)
	f.Add(uint8(8), `{"id": 2}`)
	f.Add(uint8(9), `{"capabilities": {}}`)
	f.Add(uint8(10), `[]`)
	f.Fuzz(func(t *testing.T, which uint8, params string) {
		if !json.Valid([]byte(params)) {
			return // the jsonrpc2 layer refuses the frame before any handler
		}
		m := fuzzMethods[int(which)%len(fuzzMethods)]
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		start := func(ctx context.Context, _ json.RawMessage, _ func(string, int)) (*history.Timeline, error) {
			return history.New(ctx, &historytest.Trace{Events: tr.Events}, history.Options{})
		}
		serverSide, clientSide := net.Pipe()
		served := make(chan error, 1)
		go func() { served <- Serve(ctx, serverSide, Config{Start: start}) }()
		_, conn, server := protocol.NewClient(ctx, newFakeEditor(), jsonrpc2.NewStream(clientSide))
		defer func() {
			_ = conn.Close()
			<-served
		}()
		if _, err := server.Initialize(ctx, &protocol.InitializeParams{}); err != nil {
			t.Fatal(err)
		}
		if err := server.Initialized(ctx, &protocol.InitializedParams{}); err != nil {
			t.Fatal(err)
		}
		if err := server.DidOpen(ctx, &protocol.DidOpenTextDocumentParams{TextDocument: protocol.TextDocumentItem{
			URI: uri.URI(u), LanguageID: "python", Version: 1, Text: string(src)}}); err != nil {
			t.Fatal(err)
		}
		check := func(method string, err error) {
			var wire *jsonrpc2.Error
			if errors.As(err, &wire) && wire.Code == jsonrpc2.InternalError {
				t.Fatalf("%s %s: %v", method, params, err)
			}
		}
		if m.call {
			var res json.RawMessage
			_, err := conn.Call(ctx, m.name, json.RawMessage(params), &res)
			check(m.name, err)
		} else if err := conn.Notify(ctx, m.name, json.RawMessage(params)); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		// The session still answers, with the text as the message left it.
		_, err := server.Hover(ctx, &protocol.HoverParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
			TextDocument: protocol.TextDocumentIdentifier{URI: uri.URI(u)}, Position: protocol.Position{Line: 22, Character: 8}}})
		check("hover after "+m.name, err)
	})
}
