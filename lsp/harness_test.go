package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/timelens/timelens/history"
	"github.com/timelens/timelens/history/historytest"
)

// The tests drive the server in process, as an editor would: a
// protocol.Client over a net.Pipe, and a Timeline over a trace that a real
// CPython produced under sys.settrace (historytest.Trace). The end-to-end
// sessions against a real gdb are elsewhere.

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// program is the absolute path of a test program.
func program(name string) string {
	p, err := filepath.Abs(filepath.Join("..", "testdata", "programs", name))
	if err != nil {
		panic(err)
	}
	return p
}

var traces sync.Map // "prog\x00from" -> []historytest.Event

// recordTrace runs prog under the settrace oracle once per test binary.
func recordTrace(t testing.TB, prog, from string) *historytest.Trace {
	t.Helper()
	key := prog + "\x00" + from
	if evs, ok := traces.Load(key); ok {
		return &historytest.Trace{Events: evs.([]historytest.Event)}
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 on PATH: the lsp tests replay a sys.settrace trace of a real CPython")
	}
	tr, err := historytest.Record(python, program(prog), from)
	if err != nil {
		t.Fatal(err)
	}
	traces.Store(key, tr.Events)
	return &historytest.Trace{Events: tr.Events}
}

// testBackend is a trace that says when it is closed and can hold Eval
// until released, to keep the debugger busy.
type testBackend struct {
	*historytest.Trace
	closed      atomic.Bool
	hold        chan struct{} // Eval waits for it when not nil
	releaseOnce sync.Once
}

func (b *testBackend) Eval(ctx context.Context, depth int, expr string) (string, error) {
	if b.hold != nil {
		<-b.hold
	}
	if b.closed.Load() {
		// As a command a killed gdb never answered.
		return "", errors.New("gdb exited; restart the session")
	}
	return b.Trace.Eval(ctx, depth, expr)
}

// Close ends the backend; an Eval it holds returns, as the command in
// flight of a debugger that is stopped.
func (b *testBackend) Close() error {
	b.closed.Store(true)
	b.releaseOnce.Do(func() {
		if b.hold != nil {
			close(b.hold)
		}
	})
	return nil
}

// release lets held Evals go.
func (b *testBackend) release() {
	b.releaseOnce.Do(func() {
		if b.hold != nil {
			close(b.hold)
		}
	})
}

// fakeEditor is the client side: it answers the server's requests and
// reports every message it gets as an event.
type fakeEditor struct {
	protocol.UnimplementedClient
	events  chan string
	backlog []string // events seen by expect but not asked for yet

	mu    sync.Mutex
	diags map[string][]protocol.Diagnostic
}

func newFakeEditor() *fakeEditor {
	return &fakeEditor{events: make(chan string, 4096), diags: map[string][]protocol.Diagnostic{}}
}

func (e *fakeEditor) event(format string, args ...any) { e.events <- fmt.Sprintf(format, args...) }

func (e *fakeEditor) InlayHintRefresh(context.Context) error {
	e.event("workspace/inlayHint/refresh")
	return nil
}

func (e *fakeEditor) CodeLensRefresh(context.Context) error {
	e.event("workspace/codeLens/refresh")
	return nil
}

func (e *fakeEditor) ShowDocument(_ context.Context, p *protocol.ShowDocumentParams) (*protocol.ShowDocumentResult, error) {
	e.event("window/showDocument %s:%d", filepath.Base(p.URI.FsPath()), p.Selection.Start.Line)
	return &protocol.ShowDocumentResult{Success: true}, nil
}

func (e *fakeEditor) PublishDiagnostics(_ context.Context, p *protocol.PublishDiagnosticsParams) error {
	e.mu.Lock()
	e.diags[filepath.Base(p.URI.FsPath())] = p.Diagnostics
	e.mu.Unlock()
	var msgs []string
	for _, d := range p.Diagnostics {
		msgs = append(msgs, fmt.Sprintf("%d:%v", d.Range.Start.Line, d.Message))
	}
	e.event("textDocument/publishDiagnostics %s %s", filepath.Base(p.URI.FsPath()), strings.Join(msgs, "; "))
	return nil
}

func (e *fakeEditor) ShowMessage(_ context.Context, p *protocol.ShowMessageParams) error {
	e.event("window/showMessage %d %s", p.Type, p.Message)
	return nil
}

func (e *fakeEditor) WorkDoneProgressCreate(_ context.Context, p *protocol.WorkDoneProgressCreateParams) error {
	e.event("window/workDoneProgress/create %v", p.Token)
	return nil
}

func (e *fakeEditor) Progress(_ context.Context, p *protocol.ProgressParams) error {
	var v struct {
		Kind       string `json:"kind"`
		Message    string `json:"message"`
		Percentage *int   `json:"percentage"`
	}
	_ = json.Unmarshal(p.Value, &v)
	pct := "?"
	if v.Percentage != nil {
		pct = fmt.Sprint(*v.Percentage)
	}
	e.event("$/progress %s %s %s%%", v.Kind, v.Message, pct)
	return nil
}

// expect waits for an event that starts with prefix and returns it. The
// client handles messages concurrently (protocol.NewClient), so events may
// come in any order: the others are kept for later expects.
func (e *fakeEditor) expect(t *testing.T, prefix string) string {
	t.Helper()
	for i, ev := range e.backlog {
		if strings.HasPrefix(ev, prefix) {
			e.backlog = slices.Delete(e.backlog, i, i+1)
			return ev
		}
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-e.events:
			if strings.HasPrefix(ev, prefix) {
				return ev
			}
			e.backlog = append(e.backlog, ev)
		case <-timeout:
			t.Fatalf("no %q from the server in 10 s; got %q", prefix, e.backlog)
		}
	}
}

// drain forgets the events so far.
func (e *fakeEditor) drain() {
	e.backlog = nil
	for {
		select {
		case <-e.events:
		default:
			return
		}
	}
}

// session is one editor connected to one server.
type session struct {
	t       *testing.T
	ctx     context.Context
	server  protocol.Server
	conn    jsonrpc2.Conn
	editor  *fakeEditor
	backend *testBackend
	served  chan error // Serve's result
}

type sessionOptions struct {
	prog, from string
	start      func(ctx context.Context, opts json.RawMessage, progress func(string, int)) (*history.Timeline, error)
	substitute [][2]string
	pastCalls  bool
	logger     *zap.Logger
	hold       bool
	// recordedText is Config.RecordedText.
	recordedText func(path string) (string, bool)
	// optionKeys is Config.OptionKeys.
	optionKeys []string
}

func newSession(t *testing.T, o sessionOptions) *session {
	t.Helper()
	if o.prog == "" {
		o.prog, o.from = "loop.py", "main"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	s := &session{t: t, ctx: ctx, editor: newFakeEditor(), served: make(chan error, 1)}
	s.backend = &testBackend{Trace: recordTrace(t, o.prog, o.from)}
	if o.hold {
		s.backend.hold = make(chan struct{})
	}
	start := o.start
	if start == nil {
		start = func(ctx context.Context, _ json.RawMessage, progress func(string, int)) (*history.Timeline, error) {
			progress("replaying the trace", 50)
			return history.New(ctx, s.backend, history.Options{})
		}
	}
	logger := o.logger
	if logger == nil {
		logger = zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel))
	}
	serverSide, clientSide := net.Pipe()
	go func() {
		s.served <- Serve(context.Background(), serverSide, Config{Logger: logger, Start: start, SubstitutePath: o.substitute, PastCalls: o.pastCalls, RecordedText: o.recordedText, OptionKeys: o.optionKeys})
	}()
	_, conn, server := protocol.NewClient(ctx, s.editor, jsonrpc2.NewStream(clientSide))
	s.server, s.conn = server, conn
	t.Cleanup(func() {
		s.backend.release()
		_ = conn.Close()
		select {
		case <-s.served:
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after the client went away")
		}
	})
	return s
}

// fullCaps is an editor that supports everything the server can use.
func fullCaps() protocol.ClientCapabilities {
	return protocol.ClientCapabilities{
		Workspace: &protocol.WorkspaceClientCapabilities{
			InlayHint: &protocol.InlayHintWorkspaceClientCapabilities{RefreshSupport: ptr(true)},
			CodeLens:  &protocol.CodeLensWorkspaceClientCapabilities{RefreshSupport: ptr(true)},
		},
		Window: &protocol.WindowClientCapabilities{
			WorkDoneProgress: ptr(true),
			ShowDocument:     &protocol.ShowDocumentClientCapabilities{Support: true},
		},
		TextDocument: &protocol.TextDocumentClientCapabilities{
			CodeAction: &protocol.CodeActionClientCapabilities{
				CodeActionLiteralSupport: protocol.ClientCodeActionLiteralOptions{
					CodeActionKind: protocol.ClientCodeActionKindOptions{ValueSet: []protocol.CodeActionKind{"source"}},
				},
			},
		},
	}
}

func (s *session) initialize(caps protocol.ClientCapabilities) *protocol.InitializeResult {
	s.t.Helper()
	res, err := s.server.Initialize(s.ctx, &protocol.InitializeParams{Capabilities: caps})
	if err != nil {
		s.t.Fatalf("initialize: %v", err)
	}
	if err := s.server.Initialized(s.ctx, &protocol.InitializedParams{}); err != nil {
		s.t.Fatal(err)
	}
	return res
}

// open sends didOpen with the file's text from disk.
func (s *session) open(path string) uri.URI {
	s.t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		s.t.Fatal(err)
	}
	u := uri.File(path)
	err = s.server.DidOpen(s.ctx, &protocol.DidOpenTextDocumentParams{TextDocument: protocol.TextDocumentItem{
		URI: u, LanguageID: "python", Version: 1, Text: string(text),
	}})
	if err != nil {
		s.t.Fatal(err)
	}
	return u
}

// exec runs a command and decodes the position it returns.
func (s *session) exec(cmd string, args ...any) (Position, error) {
	var raw []protocol.LSPAny
	for _, a := range args {
		b, err := json.Marshal(a)
		if err != nil {
			s.t.Fatal(err)
		}
		raw = append(raw, b)
	}
	res, err := s.server.ExecuteCommand(s.ctx, &protocol.ExecuteCommandParams{Command: cmd, Arguments: raw})
	if err != nil {
		return Position{}, err
	}
	var p Position
	if err := json.Unmarshal(res, &p); err != nil {
		s.t.Fatalf("%s returned %s: %v", cmd, res, err)
	}
	return p, nil
}

// must runs a command that has to succeed.
func (s *session) must(cmd string, args ...any) Position {
	s.t.Helper()
	p, err := s.exec(cmd, args...)
	if err != nil {
		s.t.Fatalf("%s: %v", cmd, err)
	}
	return p
}

// gotoEvent moves to event i of the trace.
func (s *session) gotoEvent(i int) Position {
	s.t.Helper()
	return s.must(cmdGoto, map[string]string{"time": fmt.Sprintf("t%d", i)})
}

// findEvent returns the index of the first trace event that matches.
func (s *session) findEvent(match func(ev historytest.Event) bool) int {
	s.t.Helper()
	for i, ev := range s.backend.Events {
		if match(ev) {
			return i
		}
	}
	s.t.Fatal("no such event in the trace")
	return -1
}

func (s *session) hints(u uri.URI) []protocol.InlayHint {
	s.t.Helper()
	hs, err := s.server.InlayHint(s.ctx, &protocol.InlayHintParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: u},
		Range:        protocol.Range{End: protocol.Position{Line: 1 << 20}},
	})
	if err != nil {
		s.t.Fatalf("inlay hints: %v", err)
	}
	return hs
}

// rpcCode is the JSON-RPC code of err, or 0.
func rpcCode(err error) jsonrpc2.Code {
	var wire *jsonrpc2.Error
	if errors.As(err, &wire) {
		return wire.Code
	}
	return 0
}

// renderHints writes text with each hint inserted where the editor would
// draw it: "x = 1  ⟨x = 1⟩". Columns are converted from UTF-16 here, on
// their own, so that the server's conversion is checked, not reused.
func renderHints(t *testing.T, text string, hints []protocol.InlayHint) string {
	t.Helper()
	lines := strings.Split(text, "\n")
	sorted := append([]protocol.InlayHint(nil), hints...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i].Position, sorted[j].Position
		return a.Line > b.Line || a.Line == b.Line && a.Character > b.Character
	})
	for _, h := range sorted {
		n := int(h.Position.Line)
		if n >= len(lines) {
			t.Fatalf("hint %v past the last line", h.Position)
		}
		col, ok := byteOfUTF16(lines[n], int(h.Position.Character))
		if !ok {
			t.Fatalf("hint at %d:%d is not on a character boundary of %q", n, h.Position.Character, lines[n])
		}
		label, _ := h.Label.(protocol.String)
		ins := "⟨" + string(label) + "⟩"
		if h.PaddingLeft != nil && *h.PaddingLeft {
			ins = "  " + ins
		}
		lines[n] = lines[n][:col] + ins + lines[n][col:]
	}
	return strings.Join(lines, "\n")
}

func byteOfUTF16(line string, char int) (int, bool) {
	units := 0
	for i, r := range line {
		if units == char {
			return i, true
		}
		if units > char {
			return 0, false
		}
		if r >= 0x10000 {
			units += 2
		} else {
			units++
		}
	}
	return len(line), units == char
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./lsp/ -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (go test ./lsp/ -update rewrites it); got:\n%s", path, got)
	}
}

// codeActions asks for code actions. It decodes the result from its own
// copy: go.lsp.dev/protocol v1.0.1 decodes union results (here
// []CommandOrCodeAction) in place from the connection's read buffer, so
// their strings change when the next message arrives.
func (s *session) codeActions(params *protocol.CodeActionParams) []protocol.CommandOrCodeAction {
	s.t.Helper()
	var raw jsonrpc2.RawMessage
	if _, err := s.conn.Call(s.ctx, protocol.MethodTextDocumentCodeAction, params, &raw); err != nil {
		s.t.Fatalf("code actions: %v", err)
	}
	var acts []protocol.CommandOrCodeAction
	if err := protocol.Unmarshal(raw, &acts); err != nil {
		s.t.Fatalf("code actions %s: %v", raw, err)
	}
	return acts
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
