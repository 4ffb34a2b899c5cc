package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/timelens/timelens/history"
	"github.com/timelens/timelens/history/historytest"
)

func TestInitializeOffersEveryCommand(t *testing.T) {
	s := newSession(t, sessionOptions{})
	res := s.initialize(fullCaps())
	c := res.Capabilities
	want := []string{"timelens.where", "timelens.step", "timelens.reverseStep", "timelens.next", "timelens.reverseNext",
		"timelens.finish", "timelens.reverseFinish", "timelens.gotoEntry", "timelens.previousCall", "timelens.nextCall",
		"timelens.lastWrite", "timelens.nextWrite", "timelens.goto", "timelens.runToLine", "timelens.reverseRunToLine", "timelens.lineRuns",
		"timelens.debugAdapter", "timelens.disassemble", "timelens.stepInstruction", "timelens.reverseStepInstruction"}
	if got := c.ExecuteCommandProvider.Commands; !slices.Equal(got, want) {
		t.Errorf("executeCommandProvider.commands = %q, want %q", got, want)
	}
	if c.InlayHintProvider == nil || c.CodeLensProvider == nil || c.HoverProvider == nil || c.CodeActionProvider == nil {
		t.Errorf("missing a provider: %+v", c)
	}
	sync, ok := c.TextDocumentSync.(*protocol.TextDocumentSyncOptions)
	if !ok || sync.Change == nil || *sync.Change != protocol.TextDocumentSyncKindIncremental || sync.OpenClose == nil || !*sync.OpenClose {
		t.Errorf("textDocumentSync = %#v, want open/close and incremental changes", c.TextDocumentSync)
	}
	if res.ServerInfo.Name != "timelens" {
		t.Errorf("serverInfo = %+v", res.ServerInfo)
	}
}

func TestStepThroughTheLoop(t *testing.T) {
	s := newSession(t, sessionOptions{})
	s.initialize(fullCaps())
	loop := s.open(program("loop.py"))

	p := s.must(cmdWhere)
	if p.Line != 19 || p.Function != "main" || p.URI != string(loop) || p.Time != "t0" || p.Thread != 1 {
		t.Fatalf("the session starts at %+v, want main's first line (0-based 19) in %s", p, loop)
	}
	// The first position is announced too.
	s.editor.expect(t, "textDocument/publishDiagnostics loop.py 19:⏵ now: main, time t0")

	type want struct {
		line     int
		function string
		locals   string // a local that must be there, name=value
	}
	steps := []want{
		{2, "Account.__init__", "owner='ada'"},
		{3, "Account.__init__", ""},
		{4, "Account.__init__", ""},
		{20, "main", "acct=Account(owner='ada', balance=0, history=[])"},
		{21, "main", "total=0"},
		{22, "main", ""},
		{23, "main", "i=0"},
		{7, "Account.deposit", "amount=0"},
	}
	for i, w := range steps {
		s.editor.drain()
		p := s.must(cmdStep)
		if p.Line != w.line || p.Function != w.function {
			t.Fatalf("step %d: at %s:%d, want %s:%d", i+1, p.Function, p.Line, w.function, w.line)
		}
		if name, value, ok := strings.Cut(w.locals, "="); ok && p.Locals[name] != value {
			t.Fatalf("step %d: %s = %q, want %q (locals %v)", i+1, name, p.Locals[name], value, p.Locals)
		}
		// After every move the editor is told: the new line is shown, the
		// now marker moves, and hints and lenses are refreshed.
		s.editor.expect(t, "textDocument/publishDiagnostics loop.py")
		s.editor.expect(t, "window/showDocument loop.py:"+itoa(w.line))
		s.editor.expect(t, "workspace/inlayHint/refresh")
		s.editor.expect(t, "workspace/codeLens/refresh")
	}
	if p := s.must(cmdReverseNext); p.Line != 23 || p.Function != "main" {
		t.Fatalf("reverseNext from deposit's first line: %+v", p)
	}
	if p := s.must(cmdNext); p.Line != 21 || p.Function != "main" {
		t.Fatalf("next over acct.deposit(...): %s:%d, want the for line (21)", p.Function, p.Line)
	}
	s.must(cmdStep)
	s.must(cmdStep)
	if p := s.must(cmdStep); p.Function != "Account.deposit" || p.Depth != 1 {
		t.Fatalf("into the second deposit: %+v", p)
	}
	if p := s.must(cmdReverseFinish); p.Function != "main" || p.Line != 23 {
		t.Fatalf("reverseFinish from deposit: %s:%d, want the call in main (23)", p.Function, p.Line)
	}
	s.must(cmdStep)
	if p := s.must(cmdFinish); p.Function != "main" || p.Line != 21 {
		t.Fatalf("finish out of deposit: %s:%d", p.Function, p.Line)
	}
	// main's caller is outside the recorded window.
	if _, err := s.exec(cmdReverseFinish); err == nil || !strings.Contains(err.Error(), "start of the recorded history") {
		t.Fatalf("reverseFinish from main: %v", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestReverseStepAtTheStartIsRefused(t *testing.T) {
	s := newSession(t, sessionOptions{})
	s.initialize(fullCaps())
	s.open(program("loop.py"))
	before := s.must(cmdWhere)
	_, err := s.exec(cmdReverseStep)
	if err == nil || !strings.Contains(err.Error(), "already at the start of the recorded history; move forward instead") {
		t.Fatalf("reverseStep at the start: %v", err)
	}
	if rpcCode(err) != codeRequestFailed {
		t.Errorf("code %d, want RequestFailed", rpcCode(err))
	}
	if after := s.must(cmdWhere); after.Time != before.Time {
		t.Fatalf("a refused move changed time: %s → %s", before.Time, after.Time)
	}
	// No such call, the same way.
	_, err = s.exec(cmdPreviousCall, map[string]string{"function": "fib"})
	if err == nil || !strings.Contains(err.Error(), "timelens.previousCall: no such call") {
		t.Fatalf("previousCall of fib at the start: %v", err)
	}
}

func TestInlayHintsShowLoopHistories(t *testing.T) {
	s := newSession(t, sessionOptions{})
	s.initialize(fullCaps())
	path := program("loop.py")
	loop := s.open(path)
	text, _ := os.ReadFile(path)

	// At the start nothing has run yet.
	if hs := s.hints(loop); len(hs) != 0 {
		t.Fatalf("hints before any line ran: %v", hs)
	}
	// Main's last line event: every line of main has run.
	last := len(s.backend.Events) - 1
	s.gotoEvent(last)
	hs := s.hints(loop)
	golden(t, "loop_main_end.golden", renderHints(t, string(text), hs))
	var forLine string
	for _, h := range hs {
		if h.Position.Line == 21 {
			forLine = string(h.Label.(protocol.String))
		}
	}
	if forLine != "i = 0 → 1 → 2 … → 4 (5×)" {
		t.Errorf("the for line's hint is %q", forLine)
	}

	// Inside the third deposit: deposit's own lines, and main's (the
	// caller) up to the call.
	third := s.findEvent(func(ev historytest.Event) bool {
		return ev.Function == "Account.deposit" && ev.Line == 10 && ev.Locals["amount"] == "20"
	})
	s.gotoEvent(third)
	golden(t, "loop_in_deposit.golden", renderHints(t, string(text), s.hints(loop)))

	// Only the requested range.
	part, err := s.server.InlayHint(s.ctx, &protocol.InlayHintParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: loop},
		Range:        protocol.Range{Start: protocol.Position{Line: 21}, End: protocol.Position{Line: 21, Character: 5}},
	})
	if err != nil || len(part) != 1 || part[0].Position.Line != 21 {
		t.Fatalf("hints of line 22 alone: %v %v", part, err)
	}
}

// TestPastCallsHintReturnedFunctions: with Config.PastCalls, at main's last
// line the helper that returned shows its latest call's values (before = 10,
// after = 30); without it only main's lines do.
func TestPastCallsHintReturnedFunctions(t *testing.T) {
	path := program("helpers.py")
	text, _ := os.ReadFile(path)
	for _, past := range []bool{false, true} {
		s := newSession(t, sessionOptions{prog: "helpers.py", from: "main", pastCalls: past})
		s.initialize(fullCaps())
		doc := s.open(path)
		s.gotoEvent(len(s.backend.Events) - 1)
		name := "helpers_main_end.golden"
		if past {
			name = "helpers_past_calls.golden"
		}
		golden(t, name, renderHints(t, string(text), s.hints(doc)))
	}
}

func TestInlayHintsCountUTF16(t *testing.T) {
	s := newSession(t, sessionOptions{})
	s.initialize(fullCaps())
	loop := s.open(program("loop.py"))
	s.gotoEvent(len(s.backend.Events) - 1)

	at := func(line uint32) (protocol.Position, bool) {
		for _, h := range s.hints(loop) {
			if h.Position.Line == line {
				return h.Position, true
			}
		}
		return protocol.Position{}, false
	}
	// `    name = "café ☕"`: 19 UTF-16 units, 22 bytes.
	if p, ok := at(26); !ok || p.Character != 19 {
		t.Fatalf("hint at %v (%v), want column 19 (UTF-16 units, not bytes)", p, ok)
	}
	// Type a comment with a character outside the BMP (two UTF-16 units)
	// at the end of the line above, as an editor sends it: an incremental
	// change. The hint's line did not change and keeps its hint.
	s.change(loop, 3, protocol.Range{Start: protocol.Position{Line: 25, Character: 40}, End: protocol.Position{Line: 25, Character: 40}}, "  # 🐍")
	if p, ok := at(26); !ok || p.Character != 19 {
		t.Fatalf("after an edit above, the hint is at %v (%v), want column 19", p, ok)
	}
	// The same at the end of the hint's own line: the line changed, so the
	// values the recording has for it no longer describe it.
	s.change(loop, 4, protocol.Range{Start: protocol.Position{Line: 26, Character: 19}, End: protocol.Position{Line: 26, Character: 19}}, "  # 🐍")
	if p, ok := at(26); ok {
		t.Fatalf("the edited line still has a hint, at %v", p)
	}
}

func TestCallersHaveHintsInTheirFiles(t *testing.T) {
	s := newSession(t, sessionOptions{})
	s.initialize(fullCaps())
	loop := s.open(program("loop.py"))
	// fib(4) → fib(3) → fib(2): three calls of fib on the stack; the
	// innermost shows, and main's lines show as the caller's.
	deep := s.findEvent(func(ev historytest.Event) bool { return ev.Function == "fib" && ev.Depth == 3 })
	s.gotoEvent(deep)
	hs := s.hints(loop)
	var lines []uint32
	for _, h := range hs {
		lines = append(lines, h.Position.Line)
	}
	if !slices.Contains(lines, 21) || !slices.Contains(lines, 22) {
		t.Fatalf("main's loop lines are not annotated while main calls fib: %v", lines)
	}
}

func TestHover(t *testing.T) {
	s := newSession(t, sessionOptions{})
	s.initialize(fullCaps())
	path := program("loop.py")
	loop := s.open(path)
	hover := func(line, char uint32) *protocol.Hover {
		t.Helper()
		h, err := s.server.Hover(s.ctx, &protocol.HoverParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
			TextDocument: protocol.TextDocumentIdentifier{URI: loop}, Position: protocol.Position{Line: line, Character: char},
		}})
		if err != nil {
			t.Fatalf("hover %d:%d: %v", line, char, err)
		}
		return h
	}
	text := func(h *protocol.Hover) string {
		if h == nil {
			return "<nil>"
		}
		return h.Contents.(*protocol.MarkupContent).Value
	}
	// In the fourth iteration, before `total += i` runs.
	at := s.findEvent(func(ev historytest.Event) bool {
		return ev.Function == "main" && ev.Line == 23 && ev.Locals["i"] == "3"
	})
	s.gotoEvent(at)

	// `total` in `        total += i` (line 23, 0-based 22).
	h := hover(22, 9)
	md := text(h)
	for _, want := range []string{"total = 3", "Last write: `3` at [loop.py:23]", "in `main`", "time `t", "[⏪ go to last write](command:timelens.lastWrite?",
		"Next write: `6` at [loop.py:23]", "[⏩ go to next write](command:timelens.nextWrite?"} {
		if !strings.Contains(md, want) {
			t.Errorf("hover on total lacks %q:\n%s", want, md)
		}
	}
	if h.Range == nil || h.Range.Start.Character != 8 || h.Range.End.Character != 13 {
		t.Errorf("hover range %+v, want the word total", h.Range)
	}
	// The link runs timelens.lastWrite with the hovered position.
	link := md[strings.Index(md, "command:timelens.lastWrite?")+len("command:timelens.lastWrite?"):]
	link = link[:strings.IndexByte(link, ')')]
	if !strings.Contains(link, "%22position%22%3A%7B%22line%22%3A22%2C%22character%22%3A9%7D") {
		t.Errorf("link arguments %s", link)
	}

	// Keywords, strings, numbers and punctuation have no hover.
	for _, pos := range [][2]uint32{{21, 4}, {26, 13}, {23, 24}, {21, 21}} {
		if h := hover(pos[0], pos[1]); h != nil {
			t.Errorf("hover at %v: %s, want none", pos, text(h))
		}
	}

	// An attribute: the trace backend cannot find attribute writes, so
	// the hover shows the value and says why there is no last write.
	// The editor's copy of the return line reads acct.balance.
	err := s.server.DidChange(s.ctx, &protocol.DidChangeTextDocumentParams{
		TextDocument: protocol.VersionedTextDocumentIdentifier{TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: loop}, Version: 2},
		ContentChanges: []protocol.TextDocumentContentChangeEvent{&protocol.TextDocumentContentChangePartial{
			Range: protocol.Range{Start: protocol.Position{Line: 27, Character: 11}, End: protocol.Position{Line: 27, Character: 35}},
			Text:  "acct.balance",
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	md = text(hover(27, 18)) // on "balance"
	if !strings.Contains(md, "acct.balance = 30") || !strings.Contains(md, "Last write: not available with this backend") {
		t.Errorf("hover on acct.balance:\n%s", md)
	}
	if !strings.Contains(md, "Next write: not available with this backend") || strings.Contains(md, "command:") {
		t.Errorf("a hover without a last or next write has no link:\n%s", md)
	}
	if md := text(hover(27, 12)); !strings.Contains(md, "acct = Account(owner='ada', balance=30") {
		t.Errorf("hover on acct of acct.balance:\n%s", md)
	}

	// The next write's link: time goes to right after this very line wrote
	// total (6), the next line of main; then back.
	before := s.must(cmdWhere)
	if p := s.must(cmdNextWrite, map[string]any{"uri": loop, "position": map[string]int{"line": 22, "character": 9}}); p.Line != 23 || p.Function != "main" || p.Locals["total"] != "6" {
		t.Fatalf("nextWrite of total went to %+v", p)
	}
	if p := s.must(cmdGoto, map[string]any{"time": before.Time}); p.Time != before.Time {
		t.Fatalf("back to %s: %+v", before.Time, p)
	}

	// Follow the link: time goes to the line that last wrote total.
	p := s.must(cmdLastWrite, map[string]any{"uri": loop, "position": map[string]int{"line": 22, "character": 9}})
	if p.Line != 22 || p.Function != "main" || p.Locals["total"] != "1" || p.Time == before.Time {
		t.Fatalf("lastWrite of total went to %+v", p)
	}

	// In deposit, self.balance is evaluated in deposit's frame.
	in := s.findEvent(func(ev historytest.Event) bool { return ev.Function == "Account.deposit" && ev.Line == 9 })
	s.gotoEvent(in)
	if md := text(hover(7, 15)); !strings.Contains(md, "self.balance = 0") {
		t.Errorf("hover on self.balance in deposit:\n%s", md)
	}
}

func TestCodeLensesAndActions(t *testing.T) {
	s := newSession(t, sessionOptions{})
	s.initialize(fullCaps())
	loop := s.open(program("loop.py"))
	lenses, err := s.server.CodeLens(s.ctx, &protocol.CodeLensParams{TextDocument: protocol.TextDocumentIdentifier{URI: loop}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range lenses {
		arg := ""
		if len(l.Command.Arguments) > 0 {
			arg = " " + strings.ReplaceAll(string(l.Command.Arguments[0]), string(loop), "$LOOP")
		}
		got = append(got, itoa(int(l.Range.Start.Line))+": "+l.Command.Title+" → "+l.Command.Command+arg)
	}
	golden(t, "loop_lenses.golden", strings.Join(got, "\n")+"\n")

	// A lens's command runs as given.
	for _, l := range lenses {
		if l.Command.Title == "next call ▶" && strings.Contains(string(l.Command.Arguments[0]), `"fib"`) {
			p := s.must(l.Command.Command, json.RawMessage(l.Command.Arguments[0]))
			if p.Function != "fib" || p.Locals["n"] != "4" {
				t.Fatalf("next call of fib: %+v", p)
			}
		}
	}
	// entry from inside a recursive call goes to the innermost call's entry.
	inner := s.findEvent(func(ev historytest.Event) bool { return ev.Function == "fib" && ev.Depth == 2 && ev.Line == 16 })
	s.gotoEvent(inner)
	if p := s.must(cmdGotoEntry, map[string]any{"uri": loop, "line": 13}); p.Line != 13 || p.Locals["n"] != s.backend.Events[inner].Locals["n"] {
		t.Fatalf("gotoEntry of fib: %+v", p)
	}

	// Code actions offer the same, for the line asked about.
	acts := s.codeActions(&protocol.CodeActionParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: loop},
		Range:        protocol.Range{Start: protocol.Position{Line: 13}, End: protocol.Position{Line: 13}},
	})
	var titles []string
	for _, a := range acts {
		ca := a.(*protocol.CodeAction)
		if ca.Kind == nil || *ca.Kind != "source.timelens" {
			t.Errorf("action %q kind %v", ca.Title, derefKind(ca.Kind))
		}
		titles = append(titles, ca.Title)
	}
	want := []string{"timelens: ◀ step back", "timelens: step ▶", "timelens: ◀ next", "timelens: next ▶", "timelens: ◀ caller", "timelens: finish ▶",
		"timelens: entry of fib", "timelens: ◀ previous call of fib", "timelens: next call of fib ▶",
		"timelens: ◀ run back to here", "timelens: run forward to here ▶"}
	if !slices.Equal(titles, want) {
		t.Errorf("code actions on fib's first line:\n%q\nwant\n%q", titles, want)
	}
	// A client that wants only quick fixes gets none.
	acts = s.codeActions(&protocol.CodeActionParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: loop},
		Context:      protocol.CodeActionContext{Only: []protocol.CodeActionKind{"quickfix"}},
	})
	if len(acts) != 0 {
		t.Errorf("quickfix-only request got %d actions", len(acts))
	}
}

func TestRequestsBeforeInitialize(t *testing.T) {
	s := newSession(t, sessionOptions{})
	_, err := s.exec(cmdWhere)
	if rpcCode(err) != jsonrpc2.ServerNotInitialized {
		t.Fatalf("executeCommand before initialize: %v (code %d), want ServerNotInitialized", err, rpcCode(err))
	}
	s.initialize(fullCaps())
	if _, err := s.server.Initialize(s.ctx, &protocol.InitializeParams{}); rpcCode(err) != jsonrpc2.InvalidRequest {
		t.Fatalf("a second initialize: %v", err)
	}
	s.must(cmdWhere)
}

func TestBadCommands(t *testing.T) {
	s := newSession(t, sessionOptions{})
	s.initialize(fullCaps())
	loop := s.open(program("loop.py"))
	cases := []struct {
		cmd  string
		args []any
		code jsonrpc2.Code
		msg  string
	}{
		{"timelens.fly", nil, jsonrpc2.InvalidParams, `unknown command "timelens.fly"; timelens knows timelens.where, timelens.step,`},
		{cmdGoto, []any{map[string]any{"time": 5}}, jsonrpc2.InvalidParams, `timelens.goto expects {"time": "<a time returned by timelens.where>"}`},
		{cmdGoto, nil, jsonrpc2.InvalidParams, "timelens.goto expects"},
		{cmdGoto, []any{"t3"}, jsonrpc2.InvalidParams, "timelens.goto expects"},
		{cmdNextCall, []any{map[string]any{}}, jsonrpc2.InvalidParams, `timelens.nextCall expects {"function": "<qualified name, e.g. Class.method>"} or {"uri"`},
		{cmdLastWrite, []any{map[string]any{"uri": loop}}, jsonrpc2.InvalidParams, "uri and position are required"},
		{cmdGotoEntry, []any{map[string]any{"uri": loop}}, jsonrpc2.InvalidParams, "give both uri and line"},
		{cmdGoto, []any{map[string]any{"time": "yesterday"}}, codeRequestFailed, `timelens.goto: "yesterday" is not a time of this trace`},
		{cmdLastWrite, []any{map[string]any{"uri": loop, "position": map[string]int{"line": 21, "character": 4}}}, codeRequestFailed, "no name or attribute at"},
		{cmdGotoEntry, []any{map[string]any{"uri": loop, "line": 14}}, codeRequestFailed, "no call of fib is on the stack now"},
		{cmdPreviousCall, []any{map[string]any{"uri": loop, "line": 30}}, codeRequestFailed, "is not inside a function"},
	}
	for _, c := range cases {
		_, err := s.exec(c.cmd, c.args...)
		if rpcCode(err) != c.code || err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s %v: %v (code %d), want code %d and %q", c.cmd, c.args, err, rpcCode(err), c.code, c.msg)
		}
	}
	if p := s.must(cmdWhere); p.Time != "t0" {
		t.Fatalf("refused commands moved time to %s", p.Time)
	}
}

func TestStartProgressAndFailure(t *testing.T) {
	t.Run("progress", func(t *testing.T) {
		release := make(chan struct{})
		var s *session
		s = newSession(t, sessionOptions{start: func(ctx context.Context, _ json.RawMessage, progress func(string, int)) (*history.Timeline, error) {
			progress("recording", 40)
			<-release
			progress("replaying", 90)
			return history.New(ctx, s.backend, history.Options{})
		}})
		s.initialize(fullCaps())
		// Progress begins once the editor has said initialized.
		s.editor.expect(t, "window/workDoneProgress/create timelens/start")
		s.editor.expect(t, "$/progress begin recording 40%")
		close(release)
		s.editor.expect(t, "$/progress end ready")
		s.must(cmdWhere)
	})
	t.Run("failure", func(t *testing.T) {
		s := newSession(t, sessionOptions{start: func(context.Context, json.RawMessage, func(string, int)) (*history.Timeline, error) {
			return nil, errors.New("gdb 13 cannot reverse-execute on CPUs with AMX; install gdb ≥ 14")
		}})
		s.initialize(fullCaps())
		ev := s.editor.expect(t, "window/showMessage")
		if !strings.Contains(ev, "window/showMessage 1 timelens could not start: gdb 13 cannot reverse-execute") {
			t.Errorf("message: %s", ev)
		}
		_, err := s.exec(cmdStep)
		if err == nil || !strings.Contains(err.Error(), "could not start the recording session: gdb 13 cannot") {
			t.Fatalf("step after a failed start: %v", err)
		}
		loop := s.open(program("loop.py"))
		if _, err := s.server.InlayHint(s.ctx, &protocol.InlayHintParams{TextDocument: protocol.TextDocumentIdentifier{URI: loop}}); err == nil {
			t.Fatal("inlay hints after a failed start: no error")
		}
	})
}

func TestInitializationOptionsReachStart(t *testing.T) {
	got := make(chan string, 1)
	var s *session
	s = newSession(t, sessionOptions{start: func(ctx context.Context, opts json.RawMessage, _ func(string, int)) (*history.Timeline, error) {
		got <- string(opts)
		return history.New(ctx, s.backend, history.Options{})
	}})
	_, err := s.server.Initialize(s.ctx, &protocol.InitializeParams{InitializationOptions: protocol.LSPAny(`{"backend":"gdb","recordFrom":"main"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if opts := <-got; opts != `{"backend":"gdb","recordFrom":"main"}` {
		t.Fatalf("Start got %s", opts)
	}
}

func TestSubstitutePath(t *testing.T) {
	// The recording says /work/main/testdata/programs/loop.py; the editor
	// has the program under another directory.
	dir := t.TempDir()
	text, err := os.ReadFile(program("loop.py"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/loop.py", text, 0o644); err != nil {
		t.Fatal(err)
	}
	s := newSession(t, sessionOptions{substitute: [][2]string{{strings.TrimSuffix(program("loop.py"), "/loop.py"), dir}}})
	s.initialize(fullCaps())
	loop := s.open(dir + "/loop.py")
	if p := s.must(cmdWhere); p.URI != string(loop) {
		t.Fatalf("position uri %s, want %s", p.URI, loop)
	}
	s.gotoEvent(len(s.backend.Events) - 1)
	if hs := s.hints(loop); len(hs) == 0 {
		t.Fatal("no hints in the substituted file")
	}
	// The file as the recording names it is not open: no hints there.
	other := s.open(program("loop.py"))
	if hs := s.hints(other); len(hs) != 0 {
		t.Fatalf("hints in a file the recording does not have (after substitution): %v", hs)
	}
}

// TestSubstitutePathInInitializationOptions: the editor's settings give
// the mapping (substitutePath: [{from, to}]), as DAP's launch arguments do;
// it is a known key (no warning); a malformed one is shown to the user.
func TestSubstitutePathInInitializationOptions(t *testing.T) {
	dir := t.TempDir()
	text, err := os.ReadFile(program("loop.py"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/loop.py", text, 0o644); err != nil {
		t.Fatal(err)
	}
	from := strings.TrimSuffix(program("loop.py"), "/loop.py")
	s := newSession(t, sessionOptions{optionKeys: []string{"backend", "recordFrom"}})
	opts, _ := json.Marshal(map[string]any{"recordFrom": "main", "substitutePath": []map[string]string{{"from": from, "to": dir}}})
	if _, err := s.server.Initialize(s.ctx, &protocol.InitializeParams{Capabilities: fullCaps(), InitializationOptions: protocol.LSPAny(opts)}); err != nil {
		t.Fatal(err)
	}
	if err := s.server.Initialized(s.ctx, &protocol.InitializedParams{}); err != nil {
		t.Fatal(err)
	}
	loop := s.open(dir + "/loop.py")
	if p := s.must(cmdWhere); p.URI != string(loop) {
		t.Fatalf("position uri %s, want %s", p.URI, loop)
	}
	s.gotoEvent(len(s.backend.Events) - 1)
	if hs := s.hints(loop); len(hs) == 0 {
		t.Fatal("no hints in the substituted file")
	}
	for _, ev := range append(s.editor.backlog, drain(s.editor.events)...) {
		if strings.HasPrefix(ev, "window/showMessage") {
			t.Errorf("a message for known options: %s", ev)
		}
	}

	bad := newSession(t, sessionOptions{optionKeys: []string{"backend"}})
	if _, err := bad.server.Initialize(bad.ctx, &protocol.InitializeParams{Capabilities: fullCaps(),
		InitializationOptions: protocol.LSPAny(`{"substitutePath": [{"from": "/app"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if err := bad.server.Initialized(bad.ctx, &protocol.InitializedParams{}); err != nil {
		t.Fatal(err)
	}
	ev := bad.editor.expect(t, "window/showMessage")
	if want := `each substitutePath entry needs both "from" and "to"`; !strings.Contains(ev, want) {
		t.Errorf("message %q does not say %q", ev, want)
	}
}

// TestMissingSourceSaysHowToMap: time is in a file this machine does not
// have (the recording came from elsewhere, or the mapping is wrong): the
// user is told once which file, and how to map it.
func TestMissingSourceSaysHowToMap(t *testing.T) {
	dir := strings.TrimSuffix(program("loop.py"), "/loop.py")
	s := newSession(t, sessionOptions{substitute: [][2]string{{dir, "/nonexistent/checkout"}}})
	s.initialize(fullCaps())
	s.must(cmdStep)
	ev := s.editor.expect(t, "window/showMessage")
	for _, want := range []string{program("loop.py") + ", which is not on this machine (mapped to /nonexistent/checkout/loop.py)",
		"--substitute-path " + dir + "=/path/to/the/sources", `substitutePath: [{"from": "` + dir + `"`} {
		if !strings.Contains(ev, want) {
			t.Errorf("message %q does not say %q", ev, want)
		}
	}
	s.must(cmdStep)
	s.must(cmdWhere)
	for _, ev := range append(s.editor.backlog, drain(s.editor.events)...) {
		if strings.HasPrefix(ev, "window/showMessage") {
			t.Errorf("told twice: %s", ev)
		}
	}
}

func TestShutdownThenExit(t *testing.T) {
	s := newSession(t, sessionOptions{})
	s.initialize(fullCaps())
	s.must(cmdStep)
	if err := s.server.Shutdown(s.ctx); err != nil {
		t.Fatal(err)
	}
	if !s.backend.closed.Load() {
		t.Fatal("shutdown did not close the timeline")
	}
	if _, err := s.exec(cmdStep); rpcCode(err) != jsonrpc2.InvalidRequest {
		t.Fatalf("a request after shutdown: %v", err)
	}
	if err := s.server.Exit(s.ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-s.served; err != nil {
		t.Fatalf("Serve after shutdown and exit: %v", err)
	}
	s.served <- nil // for the cleanup
}

func TestExitWithoutShutdown(t *testing.T) {
	s := newSession(t, sessionOptions{})
	s.initialize(fullCaps())
	s.must(cmdWhere)
	if err := s.server.Exit(s.ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-s.served; !errors.Is(err, ErrExitWithoutShutdown) {
		t.Fatalf("Serve after exit alone: %v", err)
	}
	s.served <- nil
	if !s.backend.closed.Load() {
		t.Fatal("exit did not close the timeline")
	}
}

func derefKind(k *protocol.CodeActionKind) string {
	if k == nil {
		return "<nil>"
	}
	return string(*k)
}

// TestUnknownInitializationOptions: an editor configured with a key
// timelens does not know ("recordfrom" for recordFrom) is told so once, as
// a warning that names the key and lists the known ones; the session
// starts all the same, with the options it knows.
func TestUnknownInitializationOptions(t *testing.T) {
	known := []string{"backend", "recording", "recordFrom", "python"}
	got := make(chan string, 1)
	var s *session
	s = newSession(t, sessionOptions{optionKeys: known, start: func(ctx context.Context, opts json.RawMessage, _ func(string, int)) (*history.Timeline, error) {
		got <- string(opts)
		return history.New(ctx, s.backend, history.Options{})
	}})
	_, err := s.server.Initialize(s.ctx, &protocol.InitializeParams{Capabilities: fullCaps(),
		InitializationOptions: protocol.LSPAny(`{"backend":"gdb","recordfrom":"main","colour":"blue"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.server.Initialized(s.ctx, &protocol.InitializedParams{}); err != nil {
		t.Fatal(err)
	}
	ev := s.editor.expect(t, "window/showMessage")
	want := `window/showMessage 2 timelens: ignored unknown initializationOptions keys "colour", "recordfrom"; the known keys are backend, recording, recordFrom, python`
	if !strings.HasPrefix(ev, want) {
		t.Errorf("message:\n%s\nwant it to start with\n%s", ev, want)
	}
	if opts := <-got; !strings.Contains(opts, `"backend":"gdb"`) {
		t.Fatalf("Start got %s", opts)
	}
	if p := s.must(cmdWhere); p.Time == "" {
		t.Fatal("no position after a start with unknown options")
	}
	// Once: nothing more is shown (the other events are the session's).
	s.must(cmdStep)
	for _, ev := range append(s.editor.backlog, drain(s.editor.events)...) {
		if strings.HasPrefix(ev, "window/showMessage") {
			t.Errorf("a second message: %s", ev)
		}
	}
}

// TestKnownInitializationOptionsSayNothing: options that are all known
// give no message.
func TestKnownInitializationOptionsSayNothing(t *testing.T) {
	s := newSession(t, sessionOptions{optionKeys: []string{"backend", "recordFrom"}})
	if _, err := s.server.Initialize(s.ctx, &protocol.InitializeParams{Capabilities: fullCaps(),
		InitializationOptions: protocol.LSPAny(`{"backend":"gdb","recordFrom":"main"}`)}); err != nil {
		t.Fatal(err)
	}
	if err := s.server.Initialized(s.ctx, &protocol.InitializedParams{}); err != nil {
		t.Fatal(err)
	}
	s.must(cmdWhere) // the session has started
	s.must(cmdStep)
	for _, ev := range append(s.editor.backlog, drain(s.editor.events)...) {
		if strings.HasPrefix(ev, "window/showMessage") {
			t.Errorf("a message for known options: %s", ev)
		}
	}
}

// drain returns the events already queued.
func drain(events chan string) []string {
	var out []string
	for {
		select {
		case ev := <-events:
			out = append(out, ev)
		default:
			return out
		}
	}
}
