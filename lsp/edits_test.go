package lsp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/timelens/timelens/history"
	"github.com/timelens/timelens/history/historytest"
)

// The user edits loop.py while the session runs (edits.go, linemap.go):
// values stay with the lines that ran, a changed line loses its values,
// the current line follows its code, and undoing the edits brings
// everything back. Goldens render the hints into the text as the editor
// has it, ▶ marking the line with the current-line lenses.

// change sends one incremental change of document u.
func (s *session) change(u uri.URI, version int32, rng protocol.Range, text string) {
	s.t.Helper()
	s.didChange(u, version, &protocol.TextDocumentContentChangePartial{Range: rng, Text: text})
}

func (s *session) didChange(u uri.URI, version int32, c protocol.TextDocumentContentChangeEvent) {
	s.t.Helper()
	err := s.server.DidChange(s.ctx, &protocol.DidChangeTextDocumentParams{
		TextDocument:   protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: u}, Version: version},
		ContentChanges: []protocol.TextDocumentContentChangeEvent{c},
	})
	if err != nil {
		s.t.Fatal(err)
	}
}

// buffer is an open document as the editor holds it: each edit goes to the
// server, as an incremental change or (full) as the whole text, and to the
// buffer's own copy of the text.
type buffer struct {
	s       *session
	u       uri.URI
	text    string
	version int32
	full    bool
}

func (s *session) openBuffer(path string, full bool) *buffer {
	s.t.Helper()
	u := s.open(path)
	return &buffer{s: s, u: u, text: readFile(s.t, path), version: 1, full: full}
}

func (b *buffer) lines() []string { return strings.Split(b.text, "\n") }

// edit replaces lines [from, to) (0-based) with lines.
func (b *buffer) edit(from, to int, lines ...string) {
	b.s.t.Helper()
	old := b.lines()
	next := slices.Concat(old[:from], lines, old[to:])
	b.version++
	if b.full {
		b.setText(strings.Join(next, "\n"))
		return
	}
	ins := ""
	if len(lines) > 0 {
		ins = strings.Join(lines, "\n") + "\n"
	}
	b.s.change(b.u, b.version, protocol.Range{Start: protocol.Position{Line: uint32(from)}, End: protocol.Position{Line: uint32(to)}}, ins)
	b.text = strings.Join(next, "\n")
}

func (b *buffer) insert(at int, lines ...string) { b.edit(at, at, lines...) }
func (b *buffer) remove(from, to int)            { b.edit(from, to) }

// retype changes the text of one line, as typing on it does: an
// incremental change of the line's characters only.
func (b *buffer) retype(line int, text string) {
	b.s.t.Helper()
	old := b.lines()
	if b.full {
		b.edit(line, line+1, text)
		return
	}
	b.version++
	b.s.change(b.u, b.version, protocol.Range{
		Start: protocol.Position{Line: uint32(line)},
		End:   protocol.Position{Line: uint32(line), Character: utf16Len(old[line])},
	}, text)
	old[line] = text
	b.text = strings.Join(old, "\n")
}

// setText sends the whole text (full sync, an undo back to the file, a
// revert).
func (b *buffer) setText(text string) {
	b.s.t.Helper()
	b.version++
	b.s.didChange(b.u, b.version, &protocol.TextDocumentContentChangeWholeDocument{Text: text})
	b.text = text
}

// render is the text with its hints, and ▶ on the lines that have the
// current line's lenses.
func (b *buffer) render() string {
	b.s.t.Helper()
	now := map[int]bool{}
	for _, l := range b.s.lenses(b.u) {
		if l.Command.Command == cmdReverseStep {
			now[int(l.Range.Start.Line)] = true
		}
	}
	lines := strings.Split(renderHints(b.s.t, b.text, b.s.hints(b.u)), "\n")
	for i, l := range lines {
		mark := "  "
		if now[i] {
			mark = "▶ "
		}
		lines[i] = mark + l
	}
	return strings.Join(lines, "\n")
}

// inMainLoop starts a session at `total += i` with i = 3, in main (loop.py
// lines 19-28): the lines above have values, the current line is 0-based 22.
func inMainLoop(t *testing.T) *session {
	s := newSession(t, sessionOptions{})
	s.initialize(fullCaps())
	s.started()
	s.gotoEvent(s.findEvent(func(ev historytest.Event) bool {
		return ev.Function == "main" && ev.Line == 23 && ev.Locals["i"] == "3"
	}))
	return s
}

// started waits until the session's first position has been announced: a
// move made before that could be announced before it (start.go announces
// the first position after it makes the timeline available).
func (s *session) started() {
	s.t.Helper()
	s.must(cmdWhere)
	if ev := s.editor.expect(s.t, "textDocument/publishDiagnostics loop.py "); !strings.HasSuffix(ev, "⏵ now: main, time t0") {
		s.t.Fatalf("the first mark: %s", ev)
	}
}

func TestEditsHintsFollowTheCode(t *testing.T) {
	type scenario struct {
		name string
		edit func(b *buffer)
	}
	scenarios := []scenario{
		{"two lines inserted above main", func(b *buffer) { b.insert(18, "# The account's run:", "") }},
		{"a line inserted inside main, above the current line", func(b *buffer) { b.insert(20, `    print("hello")`) }},
		{"a line inserted inside main, below the current line", func(b *buffer) { b.insert(24, `    print("after")`) }},
		{"lines inserted below main", func(b *buffer) { b.insert(29, "", "def helper():", "    return 1") }},
		{"a line removed above main", func(b *buffer) { b.remove(16, 17) }},
		{"a line with a value removed inside main", func(b *buffer) { b.remove(20, 21) }},
		{"lines removed below main", func(b *buffer) { b.remove(28, 31) }},
		{"the current line edited", func(b *buffer) { b.retype(22, "        total += i * 2") }},
		{"the loop's line edited", func(b *buffer) { b.retype(21, "    for i in range(6):") }},
	}
	var incremental strings.Builder
	for _, full := range []bool{false, true} {
		s := inMainLoop(t)
		b := s.openBuffer(program("loop.py"), full)
		original, recorded := b.text, b.render()
		var out strings.Builder
		fmt.Fprintf(&out, "== as recorded\n%s\n", recorded)
		for _, sc := range scenarios {
			sc.edit(b)
			fmt.Fprintf(&out, "== %s\n%s\n", sc.name, b.render())
			// Undo: the text is the recorded text again, and so is all
			// that shows.
			b.setText(original)
			if got := b.render(); got != recorded {
				t.Errorf("full=%v: after %s and its undo:\n%s\nwant what was recorded:\n%s", full, sc.name, got, recorded)
			}
		}
		if !full {
			incremental.WriteString(out.String())
		} else if got := out.String(); got != incremental.String() {
			t.Errorf("full sync shows other hints than incremental sync:\n%s\nincremental:\n%s", got, incremental.String())
		}
	}
	golden(t, "edits_main_loop.golden", incremental.String())
}

// TestEditsCurrentLineFollows: the current line, as every feature shows it
// (timelens.where, the next move's position and showDocument, the Hint
// diagnostic, lenses and code actions), follows its code; when the user
// changes it, it stays where its text was, says so, and has no values.
func TestEditsCurrentLineFollows(t *testing.T) {
	s := inMainLoop(t)
	b := s.openBuffer(program("loop.py"), false)
	s.editor.expect(t, "textDocument/publishDiagnostics loop.py 22:⏵ now: main")

	b.insert(0, "# a comment", "# and another")
	s.editor.expect(t, "textDocument/publishDiagnostics loop.py 24:⏵ now: main")
	if p := s.must(cmdWhere); p.Line != 24 || p.Edited {
		t.Fatalf("where after two lines inserted at the top: %+v, want line 24", p)
	}
	acts := s.codeActions(&protocol.CodeActionParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: b.u},
		Range:        protocol.Range{Start: protocol.Position{Line: 24}, End: protocol.Position{Line: 24}},
	})
	if len(acts) == 0 || acts[0].(*protocol.CodeAction).Title != "timelens: ◀ step back" {
		t.Fatalf("code actions on the current line (24 now): %v", acts)
	}

	s.editor.drain()
	if p := s.must(cmdStep); p.Line != 25 || p.Function != "main" {
		t.Fatalf("step: %+v, want acct.deposit(i * 10) at 25", p)
	}
	s.editor.expect(t, "textDocument/publishDiagnostics loop.py 25:⏵ now: main")
	s.editor.expect(t, "window/showDocument loop.py:25")

	// The user rewrites the current line.
	b.retype(25, "        acct.deposit(i * 100)")
	ev := s.editor.expect(t, "textDocument/publishDiagnostics loop.py 25:⏵ now: main")
	if !strings.Contains(ev, "(this line was edited since the recording ran it)") {
		t.Errorf("the mark on an edited current line: %s (backlog %q)", ev, s.editor.backlog)
	}
	if p := s.must(cmdWhere); p.Line != 25 || !p.Edited {
		t.Fatalf("where on the edited line: %+v, want line 25, edited", p)
	}
	if p := s.must(cmdReverseStep); p.Line != 24 || p.Edited || p.Locals["i"] != "3" {
		t.Fatalf("reverseStep from the edited line: %+v, want total += i at 24", p)
	}
	// Removed: the mark goes to the line after.
	b.remove(25, 26)
	if p := s.must(cmdStep); p.Line != 25 || !p.Edited {
		t.Fatalf("step to the line the user removed: %+v, want 25 (the line after), edited", p)
	}
	// Undone: where the recording has it.
	b.setText(readFile(t, program("loop.py")))
	if p := s.must(cmdWhere); p.Line != 23 || p.Edited {
		t.Fatalf("where after the edits were undone: %+v, want 23", p)
	}
	s.editor.waitDiags(t, "loop.py", func(ds []protocol.Diagnostic) bool {
		return len(ds) == 1 && ds[0].Range.Start.Line == 23 && !strings.Contains(fmt.Sprint(ds[0].Message), "edited")
	})
}

// TestEditsCommandLinesFollow: command arguments and hover name lines of
// the editor's text; the server converts them to the recording's lines.
func TestEditsCommandLinesFollow(t *testing.T) {
	s := inMainLoop(t)
	b := s.openBuffer(program("loop.py"), false)
	b.insert(12, "# fib, the slow way", "")
	// fib is now at 0-based 14-17, main at 20-29, `total += i` at 24.

	// Hover on total: its last write is line 25 now (1-based), and the
	// link carries the position as the editor has it.
	h, err := s.hover(b.u, 24, 9)
	if err != nil || h == nil {
		t.Fatalf("hover on total: %v, %v", h, err)
	}
	md := h.Contents.(*protocol.MarkupContent).Value
	if !strings.Contains(md, "at [loop.py:25](") || !strings.Contains(md, "#L25)") {
		t.Errorf("the hover names the line as recorded, not as it is now:\n%s", md)
	}
	if p := s.must(cmdLastWrite, map[string]any{"uri": b.u, "position": map[string]int{"line": 24, "character": 9}}); p.Line != 24 || p.Locals["total"] != "1" {
		t.Fatalf("lastWrite of total: %+v, want line 24 as it ran with i = 2", p)
	}
	// previousCall by a line of fib (as the editor has it), then its entry.
	p := s.must(cmdNextCall, map[string]any{"uri": b.u, "line": 16})
	if p.Function != "fib" || p.Line != 15 {
		t.Fatalf("nextCall of the function at line 16: %+v, want fib at 15", p)
	}
	s.must(cmdStep)
	if p := s.must(cmdGotoEntry, map[string]any{"uri": b.u, "line": 17}); p.Function != "fib" || p.Line != 15 {
		t.Fatalf("gotoEntry of fib by its line 17: %+v", p)
	}
}

// TestEditsLineConversions: the two conversions every handler uses, and
// the message, told once per mismatch, on a server called directly (its
// messages queue up: no notifier sends them).
func TestEditsLineConversions(t *testing.T) {
	s, ctx := directServer(t, recordTrace(t, "loop.py", "main"), -1)
	path := program("loop.py")
	recorded := readFile(t, path)
	u := uri.File(path)
	if err := s.DidOpen(ctx, &protocol.DidOpenTextDocumentParams{TextDocument: protocol.TextDocumentItem{URI: u, Version: 1, Text: recorded}}); err != nil {
		t.Fatal(err)
	}
	setText := func(text string) {
		t.Helper()
		if err := s.DidChange(ctx, &protocol.DidChangeTextDocumentParams{
			TextDocument:   protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: u}, Version: 2},
			ContentChanges: []protocol.TextDocumentContentChangeEvent{&protocol.TextDocumentContentChangeWholeDocument{Text: text}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	hints := func() []protocol.InlayHint {
		t.Helper()
		hs, err := s.InlayHint(ctx, &protocol.InlayHintParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}, Range: protocol.Range{End: protocol.Position{Line: 1 << 20}}})
		if err != nil {
			t.Fatal(err)
		}
		return hs
	}
	setText("# one\n# two\n" + recorded)
	if rec, err := s.recordedLine(u, 24); err != nil || rec != 22 {
		t.Errorf("recordedLine(24) = %d, %v; want 22", rec, err)
	}
	if _, err := s.recordedLine(u, 1); !errors.Is(err, ErrLineEdited) || !strings.Contains(err.Error(), "loop.py:2: the line was edited after the recording ran") {
		t.Errorf("recordedLine of an inserted line: %v", err)
	}
	if now, exact, matches := s.editorLine(path, 22); now != 24 || !exact || !matches {
		t.Errorf("editorLine(22) = %d, %v, %v; want 24, exact", now, exact, matches)
	}

	notices := func() int {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.notices)
	}
	helpers := readFile(t, program("helpers.py"))
	setText(helpers)
	if _, err := s.recordedLine(u, 0); !errors.Is(err, ErrTextReplaced) {
		t.Errorf("recordedLine in another text: %v", err)
	}
	if len(hints()) != 0 || notices() != 1 {
		t.Fatalf("another text: %d notices, want 1", notices())
	}
	setText("# still another\n" + helpers)
	if len(hints()) != 0 || notices() != 1 {
		t.Fatalf("another edit of another text: %d notices, want still 1", notices())
	}
	setText(recorded)
	if len(hints()) == 0 {
		t.Fatal("the recorded text back, but no hints")
	}
	setText("")
	if len(hints()) != 0 || notices() != 2 {
		t.Fatalf("another text after the recorded text came back: %d notices, want 2", notices())
	}
}

// TestEditsRenamedFunction: the user renames fib while inside it; the
// lines that did not change keep their values, and the function is still
// the one the recording ran.
func TestEditsRenamedFunction(t *testing.T) {
	s := newSession(t, sessionOptions{})
	s.initialize(fullCaps())
	s.started()
	b := s.openBuffer(program("loop.py"), false)
	s.gotoEvent(s.findEvent(func(ev historytest.Event) bool { return ev.Function == "fib" && ev.Depth == 2 && ev.Line == 16 }))
	b.retype(12, "def fibonacci(n):")
	if p := s.must(cmdGotoEntry, map[string]any{"uri": b.u, "line": 14}); p.Function != "fib" || p.Line != 13 {
		t.Fatalf("gotoEntry by a line of the renamed function: %+v", p)
	}
	var calls []string
	for _, l := range s.lenses(b.u) {
		if l.Range.Start.Line == 12 && l.Command.Command == cmdNextCall {
			calls = append(calls, string(l.Command.Arguments[0]))
		}
	}
	if !slices.Equal(calls, []string{`{"function":"fib"}`}) {
		t.Errorf("next call lens on the renamed def: %v, want fib's", calls)
	}
}

// TestEditsAnotherText: the editor's text stops being the recorded text
// (a revert to another version, another file's text): no values at all
// and one message, until it matches again.
func TestEditsAnotherText(t *testing.T) {
	s := inMainLoop(t)
	b := s.openBuffer(program("loop.py"), false)
	original := b.text
	if len(s.hints(b.u)) == 0 {
		t.Fatal("no hints to begin with")
	}
	helpers := readFile(t, program("helpers.py"))
	b.setText(helpers)
	if hs := s.hints(b.u); len(hs) != 0 {
		t.Errorf("hints in another text: %v", hs)
	}
	ev := s.editor.expect(t, "window/showMessage 2 timelens: loop.py no longer matches the text the recording ran")
	if !strings.Contains(ev, "so it shows none of the recording's values; undo the changes to see them again") {
		t.Errorf("message: %s", ev)
	}
	if got := b.render(); strings.Contains(got, "▶") {
		t.Errorf("current-line lenses in another text:\n%s", got)
	}
	s.editor.waitDiags(t, "loop.py", func(ds []protocol.Diagnostic) bool { return len(ds) == 0 }) // no mark
	b.setText(original)
	if hs := s.hints(b.u); len(hs) == 0 {
		t.Error("no hints after the text came back")
	}
	s.editor.waitDiags(t, "loop.py", func(ds []protocol.Diagnostic) bool { return len(ds) == 1 && ds[0].Range.Start.Line == 22 })
}

// TestEditsSavedRecordingKeepsTheTextThatRan: a saved recording replayed
// after the file changed on disk (two lines added above main, under another
// directory: --substitute-path). The recording's copy of the text
// (Config.RecordedText) is what ran, so main's values are two lines down.
func TestEditsSavedRecordingKeepsTheTextThatRan(t *testing.T) {
	original := readFile(t, program("loop.py"))
	lines := strings.Split(original, "\n")
	dir := t.TempDir()
	changed := strings.Join(slices.Insert(lines, 18, "# added after the recording", ""), "\n")
	if err := os.WriteFile(dir+"/loop.py", []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	var asked sync.Map
	s := newSession(t, sessionOptions{
		substitute: [][2]string{{strings.TrimSuffix(program("loop.py"), "/loop.py"), dir}},
		recordedText: func(path string) (string, bool) {
			asked.Store(path, true)
			return original, path == program("loop.py")
		},
	})
	s.initialize(fullCaps())
	s.started()
	s.gotoEvent(s.findEvent(func(ev historytest.Event) bool {
		return ev.Function == "main" && ev.Line == 23 && ev.Locals["i"] == "3"
	}))
	b := s.openBuffer(dir+"/loop.py", false)
	got := b.render()
	for _, want := range []string{
		"    for i in range(5):  ⟨i = 0 → 1 → 2 → 3 (4×)⟩",
		"▶         total += i  ⟨total = 1 → 3 (2×)⟩",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in\n%s", want, got)
		}
	}
	if p := s.must(cmdWhere); p.Line != 24 {
		t.Errorf("where: line %d, want 24 (22 as recorded, two lines added above)", p.Line)
	}
	if _, ok := asked.Load(program("loop.py")); !ok {
		t.Error("RecordedText was not asked for the recording's path")
	}
}

// waitDiags waits until the diagnostics of the file named base satisfy ok.
func (e *fakeEditor) waitDiags(t *testing.T, base string, ok func([]protocol.Diagnostic) bool) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		e.mu.Lock()
		ds, seen := e.diags[base]
		e.mu.Unlock()
		if seen && ok(ds) {
			return
		}
		select {
		case ev := <-e.events:
			e.backlog = append(e.backlog, ev)
		case <-timeout:
			t.Fatalf("the diagnostics of %s are %v after 10 s", base, ds)
		}
	}
}

// directServer is a server called without a connection, over a trace at
// its event at (-1: the last), with no editor: what it would send the
// editor queues up.
func directServer(tb testing.TB, tr *historytest.Trace, at int) (*server, context.Context) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	s := newServer(Config{})
	s.ctx = ctx
	tl, err := history.New(ctx, &historytest.Trace{Events: tr.Events}, history.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = tl.Close() })
	if at < 0 {
		at = len(tr.Events) - 1
	}
	if _, err := tl.Goto(ctx, history.Time(fmt.Sprintf("t%d", at))); err != nil {
		tb.Fatal(err)
	}
	s.tl = tl
	close(s.started)
	return s, ctx
}

// TestReadSourceReadsNothingEndless: didOpen reads the file from disk on
// the read loop, so nothing that could never end is read: a file of size
// 0 (procfs makes its content up as it is read; /proc/kmsg blocks) reads
// as empty, a device is refused.
func TestReadSourceReadsNothingEndless(t *testing.T) {
	if fi, err := os.Stat("/proc/self/status"); err != nil || fi.Size() != 0 {
		t.Skip("no procfs here")
	}
	if text, err := readSource("/proc/self/status"); text != "" || err != nil {
		t.Errorf("/proc/self/status: %d bytes, %v; want none", len(text), err)
	}
	if _, err := readSource("/dev/zero"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("/dev/zero: %v", err)
	}
	if text, err := readSource(program("loop.py")); err != nil || !strings.HasPrefix(text, "class Account:") {
		t.Errorf("loop.py: %q, %v", text[:min(len(text), 20)], err)
	}
}
