// Package lsp serves the Language Server Protocol over one recorded Python
// run: inlay hints with the values and loop histories of the lines that ran,
// code lenses, hover, code actions and the timelens.* commands that move in
// time (CONTRACT.md). It is a thin layer over history.Timeline: each feature
// lives in its own file and turns editor positions into timeline questions.
//
// # Goroutines
//
// Three kinds of goroutine touch a session, and only one of them talks to
// the debugger:
//
//   - The jsonrpc2 read loop (go.lsp.dev/jsonrpc2 runs a handler inline on
//     it unless the handler calls jsonrpc2.Async). It handles, in wire order
//     and without ever waiting on the timeline: initialize, initialized,
//     exit, the text synchronization notifications (so a request always sees
//     the document text the editor sent before it) and $/cancelRequest, which
//     cancels the context of the request it names (server.handle).
//     Every other request is released with jsonrpc2.Async at once and runs
//     on its own goroutine.
//   - Request goroutines. They read the timeline only through its public
//     methods, which hand a job to the timeline's goroutine and wait for the
//     answer or for the request's context, whichever comes first: a
//     cancelled request answers RequestCancelled (-32800) at once even when
//     the debugger is busy. Server-to-client requests (refresh, showDocument,
//     progress) are only ever made from these goroutines or from the
//     notifier, never from the read loop, which must stay free to read their
//     responses.
//   - The history.Timeline's own goroutine, the only one that talks to gdb
//     (or rr, UDB, or a test trace). Jobs run there one at a time, so a move
//     and a read never interleave inside the debugger.
//
// Besides these, the start goroutine runs Config.Start (recording can take
// minutes; session_start.go) and the notifier goroutine tells the editor
// about new positions (refresh requests, window/showDocument, the "now"
// diagnostic), coalescing bursts of moves into one round of messages for
// the latest position. The restart notifier tells the editor when the
// timeline restarts a debugger that died or hung ($/progress, then
// window/showMessage and a refresh); the timeline's goroutine only queues
// those reports for it. Both notifiers are in notify.go, $/progress in
// progress.go.
//
// # Requests while time moves
//
// A read (inlay hints, lenses, hover, code actions) notes the timeline's
// generation (Timeline.Now) before it starts and compares it when it has its
// answer. If a move happened in between, the answer could mix two points in
// time, so the request answers ContentModified (-32801) instead; the editor
// asks again after the refresh that the move triggers. A navigation command
// whose request is cancelled after it reached the debugger still completes
// (interrupting a debugger mid-command costs the session); the editor learns
// the new position through the same refresh.
package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/timelens/timelens/history"
	"github.com/timelens/timelens/srcpath"
)

// Config is what the command line gives the server.
type Config struct {
	// Logger receives structured logs; it must not write to the LSP stream.
	// Nil discards them.
	Logger *zap.Logger
	// Start starts the recording session (launch the debugger, record,
	// replay, ...). The server calls it once, right after initialize, with
	// the client's initializationOptions (nil when absent), and shows
	// progress(msg, pct) in the editor while it runs; pct is 0–100, or
	// negative when unknown. Cancelling ctx (shutdown, exit) asks it to stop.
	Start func(ctx context.Context, initOptions json.RawMessage, progress func(msg string, pct int)) (*history.Timeline, error)
	// SubstitutePath maps source paths of the recording to paths in the
	// editor, like gdb's set substitute-path: each pair is {FROM, TO}, where
	// FROM is a path prefix as the recording has it and TO the prefix the
	// editor uses. The first matching pair wins, in both directions.
	SubstitutePath [][2]string
	// Version is reported in serverInfo.
	Version string
	// PastCalls adds to a document's inlay hints each of its functions that
	// is not on the stack, from its latest call before now
	// (history.Timeline.Hints).
	PastCalls bool
	// RecordedText returns the text of a file (a path as the recording
	// names it) when the recording ran, if the recording keeps a copy. The
	// server compares the editor's text with it (edits.go); without one,
	// with the file as the session first reads it. Nil: no copies.
	RecordedText func(path string) (string, bool)
	// OptionKeys are the initializationOptions keys Start understands.
	// When set, the server tells the user once (window/showMessage,
	// Warning) of any other key the editor sends, listing these; Start
	// still runs, with the options it knows.
	OptionKeys []string
}

// ErrExitWithoutShutdown is returned by Serve when the client sent exit
// without shutdown first; the LSP specification asks the server process to
// exit with status 1 then.
var ErrExitWithoutShutdown = errors.New("the client sent exit without shutdown")

// Serve speaks LSP over conn (stdin/stdout in production) until the client
// sends exit or closes the stream, then closes the timeline, which stops the
// debugger and the debuggee. It returns nil after shutdown and exit.
func Serve(ctx context.Context, conn io.ReadWriteCloser, cfg Config) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := newServer(cfg)
	rpc := jsonrpc2.NewConn(jsonrpc2.NewStream(conn), jsonrpc2.WithCodec(codec{}))
	s.conn = rpc
	s.client = protocol.ClientDispatcher(rpc)
	s.ctx = ctx
	s.background(func() { s.notifier(ctx) })
	rpc.Go(ctx, s.handle(protocol.ServerHandler(s, jsonrpc2.MethodNotFoundHandler)))

	var err error
	select {
	case <-s.exited:
		if !s.wasShutdown() {
			err = ErrExitWithoutShutdown
		}
	case <-rpc.Done():
		err = rpc.Err()
		if err == nil && !s.wasShutdown() {
			err = errors.New("the client closed the connection without shutdown and exit")
		}
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.closeTimeline()
	cancel() // ends requests still waiting, so that Close can drain them
	// jsonrpc2's Close waits for its reader, which a stream that cannot be
	// interrupted holds until the editor closes its end: after exit, the
	// server does not wait for that.
	closed := make(chan error, 1)
	go func() { closed <- rpc.Close() }()
	select {
	case cerr := <-closed:
		if cerr != nil && err == nil && !errors.Is(cerr, io.ErrClosedPipe) {
			s.log.Debug("closing the connection", zap.Error(cerr))
		}
	case <-time.After(time.Second):
		s.log.Debug("the connection's reader is still blocked; leaving it")
	}
	// Start and the notifier end with ctx; a Start that ignores it is not
	// waited for long.
	done := make(chan struct{})
	go func() { s.bg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.log.Warn("the session start did not stop within 10 s of the end of the session")
	}
	s.log.Info("lsp session ended", zap.Error(err))
	return err
}

// background runs fn on a goroutine that Serve waits for.
func (s *server) background(fn func()) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		fn()
	}()
}

// lifecycle is where the session is in initialize … shutdown.
type lifecycle int

const (
	uninitialized lifecycle = iota
	initialized
	shutDown
)

// codeRequestFailed is LSP's RequestFailed (3.17): the request was well
// formed but could not be done; the message says why.
const codeRequestFailed jsonrpc2.Code = -32803

// server implements protocol.Server; the methods of each feature live in
// the file named after it.
type server struct {
	protocol.UnimplementedServer

	cfg    Config
	log    *zap.Logger
	paths  pathMap
	conn   jsonrpc2.Conn
	client protocol.Client
	ctx    context.Context // the session's; ends at exit

	exited   chan struct{}
	exitOnce sync.Once
	bg       sync.WaitGroup // goroutines of the session: start, notifier

	// started is closed when Config.Start has returned; tl and startErr
	// are set before.
	started     chan struct{}
	initialized chan struct{} // closed by the initialized notification
	initOnce    sync.Once

	mu          sync.Mutex
	state       lifecycle
	caps        clientCaps
	inflight    map[string]context.CancelFunc // async requests, by idKey
	docs        map[string]*document          // by editor path
	recorded    map[string]bool               // editor paths of files seen in the recording
	missing     map[string]bool               // editor paths told missing (missingSource)
	tl          *history.Timeline
	startErr    error
	startCancel context.CancelFunc
	closed      bool

	// followers hear the moves of navigation commands (debug_adapter.go).
	followers followers

	// moveMu serializes navigation commands.
	moveMu sync.Mutex

	// The notifier's mailbox: the latest position, and a wake-up.
	latest *history.Position
	moved  chan struct{}
	// nowFile is the editor path that carries the "now" diagnostic.
	nowFile string
	// After edits (edits.go): a wake-up, messages to show, and whether a
	// file of the recording changed.
	edited         chan struct{}
	notices        []string
	editedRecorded bool

	// sources holds the text the recording ran, per file (edits.go).
	sources recordedSources

	// Restarts of the debugger not yet told (restartNotifier).
	restarts    []history.Restart
	restartWake chan struct{}
}

// clientCaps is what the client said it can do, reduced to what we use.
type clientCaps struct {
	inlayHintRefresh   bool
	codeLensRefresh    bool
	showDocument       bool
	workDoneProgress   bool
	codeActionLiterals bool
}

func newServer(cfg Config) *server {
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	return &server{
		cfg:         cfg,
		log:         log,
		paths:       newPathMap(cfg.SubstitutePath),
		exited:      make(chan struct{}),
		started:     make(chan struct{}),
		initialized: make(chan struct{}),
		docs:        map[string]*document{},
		inflight:    map[string]context.CancelFunc{},
		recorded:    map[string]bool{},
		moved:       make(chan struct{}, 1),
		edited:      make(chan struct{}, 1),
		restartWake: make(chan struct{}, 1),
	}
}

// inlineMethods run on the read loop: they are quick, never wait on the
// timeline, and their order matters (a request must see the text of every
// change sent before it).
var inlineMethods = map[string]bool{
	protocol.MethodInitialize:            true,
	protocol.MethodInitialized:           true,
	protocol.MethodExit:                  true,
	protocol.MethodTextDocumentDidOpen:   true,
	protocol.MethodTextDocumentDidChange: true,
	protocol.MethodTextDocumentDidClose:  true,
}

// handle wraps the typed dispatcher: lifecycle checks, $/cancelRequest,
// async release, panics turned into errors, error codes, and a debug log of
// every message.
//
// Cancellation is done here rather than with protocol.CancelHandler: that
// one derives a context from every call's context, including calls handled
// inline, whose contexts jsonrpc2 recycles when the handler returns while
// the derived context may still watch them. Here only requests released
// with Async (never recycled) get a derived context.
func (s *server) handle(next jsonrpc2.Handler) jsonrpc2.Handler {
	return func(ctx context.Context, req *jsonrpc2.Request) (result any, err error) {
		method := strings.Clone(req.Method())
		call := req.IsCall()
		if method == protocol.MethodCancelRequest {
			s.cancelRequest(req.Params())
			return nil, nil
		}
		if rerr := s.admit(method); rerr != nil {
			s.log.Debug("refused", zap.String("method", method), zap.Error(rerr))
			if !call {
				return nil, nil
			}
			return nil, rerr
		}
		if !inlineMethods[method] {
			if call {
				// Registered before Async, so that a $/cancelRequest read
				// right after it finds the request.
				key := idKey(req.ID())
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				s.mu.Lock()
				s.inflight[key] = cancel
				s.mu.Unlock()
				defer func() {
					s.mu.Lock()
					delete(s.inflight, key)
					s.mu.Unlock()
					cancel()
				}()
				if method == protocol.MethodShutdown {
					// The requests still in flight end now, as cancelled:
					// not with the debugger's exit that shutdown causes.
					s.cancelInflight(key)
				}
			}
			jsonrpc2.Async(ctx)
		}
		began := time.Now()
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("panic in handler", zap.String("method", method), zap.Any("panic", r), zap.Stack("stack"))
				err = jsonrpc2.Errorf(jsonrpc2.InternalError, "timelens: internal error in %s: %v (please report it with the log)", method, r)
			}
			if err != nil {
				err = rpcError(err)
			}
			s.log.Debug("handled", zap.String("method", method), zap.Bool("call", call),
				zap.Duration("took", time.Since(began)), zap.Error(err))
			if !call && err != nil {
				// A notification's error would end the connection.
				s.log.Warn("notification failed", zap.String("method", method), zap.Error(err))
				err = nil
			}
		}()
		return next(ctx, req)
	}
}

// idKey names a request id in the inflight map; it owns its bytes (a
// request's id may borrow from the frame it came in).
func idKey(id jsonrpc2.ID) string {
	if n, ok := id.Number(); ok {
		return "n:" + strconv.FormatInt(n, 10)
	}
	str, _ := id.StringValue()
	return "s:" + strings.Clone(str)
}

// cancelRequest honours $/cancelRequest: the request's context ends, and
// it answers RequestCancelled unless it has already answered.
func (s *server) cancelRequest(params jsonrpc2.RawMessage) {
	var p protocol.CancelParams
	if err := protocol.Unmarshal(params, &p); err != nil {
		s.log.Debug("malformed $/cancelRequest", zap.Error(err))
		return
	}
	var key string
	switch id := p.ID.(type) {
	case protocol.Integer:
		key = "n:" + strconv.FormatInt(int64(id), 10)
	case protocol.String:
		key = "s:" + string(id)
	default:
		return
	}
	s.mu.Lock()
	cancel := s.inflight[key]
	s.mu.Unlock()
	if cancel != nil {
		s.log.Debug("cancelled", zap.String("id", key))
		cancel()
	}
}

// cancelInflight cancels every request in flight but the one keyed except.
func (s *server) cancelInflight(except string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key, cancel := range s.inflight {
		if key != except {
			cancel()
		}
	}
}

// admit applies the lifecycle rules of the LSP specification, and moves to
// shutDown at the shutdown request so that later requests see it at once.
func (s *server) admit(method string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case method == protocol.MethodExit:
		return nil
	case s.state == uninitialized && method != protocol.MethodInitialize:
		return jsonrpc2.Errorf(jsonrpc2.ServerNotInitialized, "timelens: %s before initialize; send initialize first", method)
	case s.state != uninitialized && method == protocol.MethodInitialize:
		return jsonrpc2.Errorf(jsonrpc2.InvalidRequest, "timelens: initialize was already sent")
	case s.state == shutDown:
		return jsonrpc2.Errorf(jsonrpc2.InvalidRequest, "timelens: %s after shutdown; only exit is accepted now", method)
	case method == protocol.MethodShutdown:
		s.state = shutDown
	}
	return nil
}

func (s *server) wasShutdown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == shutDown
}

// rpcError gives an error a JSON-RPC code the editor can act on, keeping
// its message, which says what to do next.
func rpcError(err error) error {
	var wire *jsonrpc2.Error
	switch {
	case errors.As(err, &wire):
		return err
	case errors.Is(err, context.Canceled):
		return jsonrpc2.NewError(protocol.CodeRequestCancelled, "request cancelled")
	case errors.Is(err, context.DeadlineExceeded):
		return jsonrpc2.Errorf(codeRequestFailed, "%v (the debugger took too long; try again, or see the log)", err)
	}
	return jsonrpc2.NewError(codeRequestFailed, err.Error())
}

// Initialize implements protocol.Server.
func (s *server) Initialize(_ context.Context, params *protocol.InitializeParams) (*protocol.InitializeResult, error) {
	caps := readClientCaps(&params.Capabilities)
	startCtx, cancel := context.WithCancel(s.ctx)
	s.mu.Lock()
	s.state = initialized
	s.caps = caps
	s.startCancel = cancel
	s.mu.Unlock()
	var opts json.RawMessage
	if len(params.InitializationOptions) > 0 && string(params.InitializationOptions) != "null" {
		opts = append(json.RawMessage(nil), params.InitializationOptions...)
	}
	// substitutePath is the server's own option (the session's Start does
	// not read it): its pairs come after the command line's, which win.
	// Set before the session starts and before any request can read it.
	if more, err := srcpath.Option(opts, "initializationOptions"); err != nil {
		warning := "timelens: " + err.Error() + "; source paths are not mapped by it"
		s.log.Warn("initializationOptions", zap.Error(err))
		s.background(func() { s.afterInitialized(func() { s.showMessage(protocol.MessageTypeWarning, warning) }) })
	} else if len(more) > 0 {
		s.paths = newPathMap(append(slices.Clone(s.cfg.SubstitutePath), more...))
	}
	s.background(func() { s.start(startCtx, opts) })
	known := s.cfg.OptionKeys
	if len(known) > 0 {
		known = append(slices.Clone(known), "substitutePath")
	}
	if warning := unknownOptions(opts, known); warning != "" {
		s.log.Warn("initializationOptions", zap.String("warning", warning))
		s.background(func() { s.afterInitialized(func() { s.showMessage(protocol.MessageTypeWarning, warning) }) })
	}

	sync := protocol.TextDocumentSyncKindIncremental
	var actions protocol.CodeActionProvider = protocol.Boolean(true)
	if caps.codeActionLiterals {
		actions = &protocol.CodeActionOptions{CodeActionKinds: []protocol.CodeActionKind{codeActionKind}}
	}
	result := &protocol.InitializeResult{
		Capabilities: protocol.ServerCapabilities{
			TextDocumentSync: &protocol.TextDocumentSyncOptions{
				OpenClose: ptr(true),
				Change:    &sync,
			},
			InlayHintProvider:      protocol.Boolean(true),
			CodeLensProvider:       &protocol.CodeLensOptions{ResolveProvider: ptr(false)},
			HoverProvider:          protocol.Boolean(true),
			CodeActionProvider:     actions,
			ExecuteCommandProvider: protocol.ExecuteCommandOptions{Commands: commandNames()},
		},
		ServerInfo: protocol.ServerInfo{Name: "timelens"},
	}
	if s.cfg.Version != "" {
		result.ServerInfo.Version = protocol.NewOptional(s.cfg.Version)
	}
	return result, nil
}

func readClientCaps(c *protocol.ClientCapabilities) clientCaps {
	var caps clientCaps
	if w := c.Workspace; w != nil {
		caps.inlayHintRefresh = w.InlayHint != nil && w.InlayHint.RefreshSupport != nil && *w.InlayHint.RefreshSupport
		caps.codeLensRefresh = w.CodeLens != nil && w.CodeLens.RefreshSupport != nil && *w.CodeLens.RefreshSupport
	}
	if w := c.Window; w != nil {
		caps.showDocument = w.ShowDocument != nil && w.ShowDocument.Support
		caps.workDoneProgress = w.WorkDoneProgress != nil && *w.WorkDoneProgress
	}
	if td := c.TextDocument; td != nil && td.CodeAction != nil {
		caps.codeActionLiterals = len(td.CodeAction.CodeActionLiteralSupport.CodeActionKind.ValueSet) > 0
	}
	return caps
}

// Initialized implements protocol.Server.
func (s *server) Initialized(context.Context, *protocol.InitializedParams) error {
	s.initOnce.Do(func() { close(s.initialized) })
	return nil
}

// Shutdown implements protocol.Server: it closes the timeline, which stops
// the debugger and the debuggee. admit has already refused later requests,
// and handle has cancelled those still in flight (they answer
// RequestCancelled).
func (s *server) Shutdown(context.Context) error {
	s.closeTimeline()
	return nil
}

// Exit implements protocol.Server. Serve does the cleanup, off the read
// loop.
func (s *server) Exit(context.Context) error {
	s.exitOnce.Do(func() { close(s.exited) })
	return nil
}

// closeTimeline stops Start if it still runs and closes the timeline if it
// has one; a timeline that Start returns later is closed by start.
func (s *server) closeTimeline() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	tl, cancel := s.tl, s.startCancel
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	if tl != nil {
		if err := tl.Close(); err != nil {
			s.log.Warn("closing the recording session", zap.Error(err))
		}
	}
}

// timeline waits for Config.Start and returns its timeline, or an error
// that says why there is none.
func (s *server) timeline(ctx context.Context) (*history.Timeline, error) {
	select {
	case <-s.started:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.startErr != nil:
		return nil, jsonrpc2.Errorf(codeRequestFailed, "timelens could not start the recording session: %v (see timelens doctor, and the log)", s.startErr)
	case s.closed:
		// The session is shutting down: whatever asked is cancelled.
		return nil, jsonrpc2.NewError(protocol.CodeRequestCancelled, "request cancelled: "+history.ErrClosed.Error())
	}
	return s.tl, nil
}

// readNow runs a read of the timeline and answers ContentModified when time
// moved while it ran, so that no answer mixes two points in time.
func readNow[T any](ctx context.Context, s *server, fn func(tl *history.Timeline) (T, error)) (T, error) {
	var zero T
	tl, err := s.timeline(ctx)
	if err != nil {
		return zero, err
	}
	_, gen := tl.Now()
	v, err := fn(tl)
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		// The session shut down under the request: it is cancelled, whatever
		// the debugger's exit made the request answer.
		return zero, jsonrpc2.NewError(protocol.CodeRequestCancelled, "request cancelled: "+history.ErrClosed.Error())
	}
	if _, after := tl.Now(); after != gen {
		return zero, jsonrpc2.NewError(protocol.CodeContentModified, "time moved while the request ran; ask again")
	}
	return v, err
}

// snapshot returns the current snapshot and remembers which files the
// recording has.
func (s *server) snapshot(ctx context.Context, tl *history.Timeline) (*history.Snapshot, error) {
	snap, err := tl.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	var fresh []string
	s.mu.Lock()
	for _, f := range snap.Frames {
		if path := s.paths.ToEditor(f.File); !s.recorded[path] {
			s.recorded[path] = true
			fresh = append(fresh, path)
		}
	}
	s.mu.Unlock()
	s.keepRecordedFiles(fresh)
	return snap, nil
}

// codec marshals payloads with the protocol package's union-aware codec,
// as protocol.NewServer does (its codec is not exported).
type codec struct{}

func (codec) Marshal(v any) ([]byte, error) {
	switch m := v.(type) {
	case jsonrpc2.RawMessage:
		if m == nil {
			return []byte("null"), nil
		}
		return m, nil
	case *jsonrpc2.RawMessage:
		if m == nil || *m == nil {
			return []byte("null"), nil
		}
		return *m, nil
	}
	return protocol.Marshal(v)
}

func (codec) Unmarshal(data []byte, v any) error {
	if p, ok := v.(*jsonrpc2.RawMessage); ok {
		*p = append(jsonrpc2.RawMessage(nil), data...)
		return nil
	}
	return protocol.Unmarshal(data, v)
}

func ptr[T any](v T) *T { return &v }

// errorf builds a RequestFailed error.
func errorf(format string, args ...any) error {
	return jsonrpc2.NewError(codeRequestFailed, fmt.Sprintf(format, args...))
}
