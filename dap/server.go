// Package dap is timelens's Debug Adapter Protocol server: the editor's own
// debugger UI (VS Code's Run and Debug, nvim-dap, dape, Zed) over the same
// recorded timeline the language server shows (CONTRACT.md, "The Debug
// Adapter Protocol"). Each request is a thin handler over history.Timeline:
// moves, frames, variables read from memory; nothing runs code in the
// debugged program.
//
// Goroutines: one reads messages from the client (readLoop) and hands each
// request, in order, to one handler goroutine (handleLoop), which answers
// it. Neither talks to gdb: every debugger command runs on the Timeline's own
// goroutine (history.Timeline), to which the handler hands jobs and whose
// answers it waits for. A request that moves answers first, then the
// handler makes the move and sends the `stopped` event, as delve does;
// requests that come meanwhile wait their turn. Writes to the client go
// through send, under a mutex, so events and responses never interleave.
package dap

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	godap "github.com/google/go-dap"
	"go.uber.org/zap"

	"github.com/timelens/timelens/history"
	"github.com/timelens/timelens/srcpath"
)

// Config says how the server opens its session.
type Config struct {
	// Logger receives logs (nil: none). Never the DAP stream.
	Logger *zap.Logger
	// Version is timelens's version, for the output at launch.
	Version string
	// Start opens the recording session that a launch (or attach) request
	// asks for: args are the request's arguments as the client sent them
	// (program, args, and the shared options in camelCase); progress says
	// what is being done (shown as output events).
	Start func(ctx context.Context, args json.RawMessage, progress func(string)) (*history.Timeline, error)
	// Timeline, when set, is a session that is already open (the language
	// server's): launch and attach use it instead of calling Start, and the
	// server does not close it.
	Timeline *history.Timeline
	// Moved, when set, hears each move the DAP client makes (for a language
	// server that shares the session and refreshes its hints).
	Moved func(history.Position)
	// Follow, when set, is called once as the session starts with a
	// function to call after each move made elsewhere (the language
	// server's commands and lenses): the client then gets a stopped event
	// there. The function Follow returns is called when the session ends.
	Follow func(moved func(history.Position)) (unfollow func())
	// SubstitutePath maps source paths of the recording (FROM) to the
	// editor's (TO): the first matching pair wins.
	SubstitutePath [][2]string
}

// The custom requests of CONTRACT.md: reverse step-in and step-out for
// editors that can send them, with {threadId}.
const (
	cmdReverseStepIn  = "timelens/reverseStepIn"
	cmdReverseStepOut = "timelens/reverseStepOut"
)

// ErrNoSession means a request that needs the recording came before a
// launch or attach request opened it.
var ErrNoSession = errors.New("no recording session yet: send a launch request first (program, or recording to replay)")

// ErrStale means a frame id or variablesReference was handed out before
// the last move: the values it named belong to another time point.
var ErrStale = errors.New("this reference is from before the last move (time has changed); request the stack trace and variables again")

// server is one client's session.
type server struct {
	cfg Config
	log *zap.Logger
	ctx context.Context // the server's; ends when Serve returns
	// op is the context of the request being handled (handler goroutine
	// only); the reader cancels it, through opCancel, when the client
	// disconnects, so that a launch or a long move does not hold the
	// disconnect up.
	op       context.Context
	opMu     sync.Mutex
	opCancel context.CancelFunc
	leaving  bool // a disconnect was read (under opMu)
	codec    *godap.Codec
	paths    srcpath.Map
	missing  map[string]bool // editor paths told missing (source)

	// run is the continue in progress, for pause (under opMu; pause.go).
	run runState

	wmu sync.Mutex
	w   *bufio.Writer
	seq int

	// Owned by the handler goroutine.
	tl         *history.Timeline
	ownTL      bool
	configured bool
	clientInit godap.InitializeRequestArguments
	refs       refs
	codes      codes // instruction references' code numbers (bytecode.go)
	bps        breakpoints
	excs       exceptionState  // exception filters and the last stop on one (exceptions.go)
	dbps       dataBreakpoints // databreakpoints.go
	targets    map[int]history.Time
	gotoSeq    int
	lastThread int

	// told is set once the client is told where time is (after
	// configurationDone) and cleared when the session ends: moves made
	// elsewhere are told from then on.
	told atomic.Bool

	// quit is closed by disconnect or terminate: the session is over.
	quit     chan struct{}
	quitOnce sync.Once
}

// Serve speaks DAP over conn until the client disconnects, conn closes or
// ctx ends. It closes the session it opened (never Config.Timeline).
func Serve(ctx context.Context, conn io.ReadWriter, cfg Config) error {
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	codec := godap.NewCodec()
	for _, c := range []string{cmdReverseStepIn, cmdReverseStepOut} {
		_ = codec.RegisterRequest(c, func() godap.Message { return &reverseStepRequest{} },
			func() godap.Message { return &godap.Response{} })
	}
	s := &server{
		cfg: cfg, log: log, ctx: ctx, codec: codec, paths: srcpath.NewMap(cfg.SubstitutePath),
		w: bufio.NewWriter(conn), quit: make(chan struct{}), targets: map[int]history.Time{},
	}
	s.refs.reset(0)
	if cfg.Follow != nil {
		unfollow := cfg.Follow(s.movedElsewhere)
		defer unfollow()
	}
	requests := make(chan godap.Message, 64)
	readErr := make(chan error, 1)
	go func() { readErr <- s.readLoop(bufio.NewReader(conn), requests) }()
	handled := make(chan struct{})
	go func() {
		defer close(handled)
		s.handleLoop(requests)
	}()
	var err error
	select {
	case err = <-readErr:
		// The client is gone: what is in progress stops, the handler
		// drains what was read, then ends.
		cancel()
		<-handled
	case <-handled:
	case <-ctx.Done():
		err = ctx.Err()
	}
	cancel()
	if s.tl != nil && s.ownTL {
		_ = s.tl.Close()
	}
	if errors.Is(err, io.EOF) || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// readLoop reads messages until the stream ends; requests go to the
// handler in order; a message that is not a request, or one it cannot
// decode, is answered with an error here.
func (s *server) readLoop(r *bufio.Reader, out chan<- godap.Message) error {
	defer close(out)
	for {
		data, err := godap.ReadBaseMessage(r)
		if err != nil {
			return err
		}
		msg, err := s.codec.DecodeMessage(data)
		if err != nil {
			s.undecodable(data, err)
			continue
		}
		if _, ok := msg.(godap.RequestMessage); !ok {
			s.log.Debug("ignoring a message that is not a request", zap.ByteString("message", data))
			continue
		}
		s.log.Debug("request", zap.ByteString("message", data))
		if p, ok := msg.(*godap.PauseRequest); ok {
			s.onPause(p) // now: the continue it pauses holds the handler
			continue
		}
		switch msg.(type) {
		case *godap.DisconnectRequest:
			s.interrupt(true)
		case *godap.TerminateRequest:
			s.interrupt(false)
		}
		select {
		case out <- msg:
		case <-s.quit:
			return nil
		}
	}
}

// undecodable answers a request timelens does not know, or whose arguments
// do not decode, with an error response that says so.
func (s *server) undecodable(data []byte, err error) {
	var req godap.Request
	if jerr := json.Unmarshal(data, &req); jerr != nil || req.Type != "request" {
		s.log.Warn("unreadable DAP message", zap.Error(err), zap.ByteString("message", data))
		s.send(&godap.OutputEvent{Event: event("output"), Body: godap.OutputEventBody{
			Category: "important", Output: fmt.Sprintf("timelens: unreadable message from the debugger client: %v\n", err)}})
		return
	}
	var field *godap.DecodeProtocolMessageFieldError
	msg := fmt.Sprintf("%s: the arguments do not decode: %v", req.Command, err)
	if errors.As(err, &field) && field.FieldName == "command" {
		msg = fmt.Sprintf("timelens does not support the %q request", req.Command)
	}
	s.sendError(&req, msg)
}

// handleLoop answers requests one at a time until they stop or the client
// disconnects.
func (s *server) handleLoop(requests <-chan godap.Message) {
	for msg := range requests {
		s.handle(msg)
		select {
		case <-s.quit:
			return
		default:
		}
	}
}

// interrupt cancels the request in progress (a launch that records, a
// long run to a breakpoint); leaving (a disconnect) also refuses the
// requests read before the disconnect that are not handled yet.
func (s *server) interrupt(leaving bool) {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	s.leaving = s.leaving || leaving
	if s.opCancel != nil {
		s.opCancel()
	}
}

// handle answers one request; a panic in a handler is an error response.
func (s *server) handle(msg godap.Message) {
	req := msg.(godap.RequestMessage).GetRequest()
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	s.opMu.Lock()
	s.op, s.opCancel = ctx, cancel
	leaving := s.leaving
	s.opMu.Unlock()
	if leaving && req.Command != "disconnect" {
		s.sendError(req, req.Command+": cancelled: the client is disconnecting")
		return
	}
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("request panicked", zap.String("command", req.Command), zap.Any("panic", r))
			s.sendError(req, fmt.Sprintf("%s: internal error: %v", req.Command, r))
		}
	}()
	if err := s.dispatch(msg); err != nil {
		// A stale reference is the client's race with a move (VS Code
		// asks for an old frame's scopes as the next step starts): an
		// error, but none to put in front of the user.
		s.sendErrorShown(req, fmt.Sprintf("%s: %v", req.Command, err), !errors.Is(err, ErrStale))
	}
}

// dispatch runs the handler of msg. A handler that returns an error has
// sent nothing; one that returns nil has answered.
func (s *server) dispatch(msg godap.Message) error {
	switch r := msg.(type) {
	case *godap.InitializeRequest:
		return s.onInitialize(r)
	case *godap.LaunchRequest:
		return s.onLaunch(&r.Request, r.Arguments)
	case *godap.AttachRequest:
		return s.onLaunch(&r.Request, r.Arguments)
	case *godap.ConfigurationDoneRequest:
		return s.onConfigurationDone(r)
	case *godap.DisconnectRequest:
		return s.onDisconnect(&r.Request)
	case *godap.TerminateRequest:
		return s.onDisconnect(&r.Request)
	case *godap.ThreadsRequest:
		return s.onThreads(r)
	case *godap.StackTraceRequest:
		return s.onStackTrace(r)
	case *godap.ScopesRequest:
		return s.onScopes(r)
	case *godap.VariablesRequest:
		return s.onVariables(r)
	case *godap.EvaluateRequest:
		return s.onEvaluate(r)
	case *godap.SetBreakpointsRequest:
		return s.onSetBreakpoints(r)
	case *godap.DataBreakpointInfoRequest:
		return s.onDataBreakpointInfo(r)
	case *godap.SetDataBreakpointsRequest:
		return s.onSetDataBreakpoints(r)
	case *godap.SetExceptionBreakpointsRequest:
		return s.onSetExceptionBreakpoints(r)
	case *godap.ExceptionInfoRequest:
		return s.onExceptionInfo(r)
	case *godap.NextRequest:
		if r.Arguments.Granularity == "instruction" {
			return s.onInstructionMove(&r.Request, true)
		}
		return s.onLineMove(&r.Request, history.Next)
	case *godap.StepInRequest:
		if r.Arguments.Granularity == "instruction" {
			return s.onInstructionMove(&r.Request, true)
		}
		return s.onLineMove(&r.Request, history.Step)
	case *godap.StepOutRequest:
		return s.onLineMove(&r.Request, history.Finish)
	case *godap.StepBackRequest:
		if r.Arguments.Granularity == "instruction" {
			return s.onInstructionMove(&r.Request, false)
		}
		return s.onLineMove(&r.Request, history.ReverseNext)
	case *reverseStepRequest:
		if r.Command == cmdReverseStepIn {
			return s.onLineMove(&r.Request, history.ReverseStep)
		}
		return s.onLineMove(&r.Request, history.ReverseFinish)
	case *godap.ContinueRequest:
		return s.onContinue(&r.Request, true)
	case *godap.ReverseContinueRequest:
		return s.onContinue(&r.Request, false)
	case *godap.PauseRequest:
		s.onPause(r)
		return nil
	case *godap.GotoTargetsRequest:
		return s.onGotoTargets(r)
	case *godap.GotoRequest:
		return s.onGoto(r)
	case *godap.RestartFrameRequest:
		return s.onRestartFrame(r)
	case *godap.DisassembleRequest:
		return s.onDisassemble(r)
	}
	return fmt.Errorf("timelens does not support the %q request", msg.(godap.RequestMessage).GetRequest().Command)
}

// reverseStepRequest is timelens/reverseStepIn and timelens/reverseStepOut.
type reverseStepRequest struct {
	godap.Request
	Arguments struct {
		ThreadID int `json:"threadId"`
	} `json:"arguments"`
}

// send writes one message to the client.
func (s *server) send(m godap.Message) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.seq++
	switch v := m.(type) {
	case godap.ResponseMessage:
		v.GetResponse().Seq = s.seq
	case godap.EventMessage:
		v.GetEvent().Seq = s.seq
	}
	if err := godap.WriteProtocolMessage(s.w, m); err != nil {
		s.log.Warn("writing to the client", zap.Error(err))
		return
	}
	if err := s.w.Flush(); err != nil {
		s.log.Warn("writing to the client", zap.Error(err))
	}
}

func (s *server) response(req *godap.Request) godap.Response {
	return godap.Response{
		ProtocolMessage: godap.ProtocolMessage{Type: "response"},
		Command:         req.Command, RequestSeq: req.Seq, Success: true,
	}
}

func event(name string) godap.Event {
	return godap.Event{ProtocolMessage: godap.ProtocolMessage{Type: "event"}, Event: name}
}

// sendError answers req with an error response whose message is msg (the
// client shows it to the user).
func (s *server) sendError(req *godap.Request, msg string) { s.sendErrorShown(req, msg, true) }

// sendErrorShown is sendError whose body.error says whether the client
// should show it (showUser).
func (s *server) sendErrorShown(req *godap.Request, msg string, show bool) {
	r := s.response(req)
	r.Success = false
	r.Message = msg
	s.send(&godap.ErrorResponse{Response: r, Body: godap.ErrorResponseBody{
		Error: &godap.ErrorMessage{Id: 1, Format: msg, ShowUser: show}}})
}

// output sends an output event (category console, or important).
func (s *server) output(category, text string) {
	s.send(&godap.OutputEvent{Event: event("output"), Body: godap.OutputEventBody{Category: category, Output: text}})
}

// timeline is the session, or ErrNoSession before launch.
func (s *server) timeline() (*history.Timeline, error) {
	if s.tl == nil {
		return nil, ErrNoSession
	}
	return s.tl, nil
}

func (s *server) end() {
	s.told.Store(false)
	s.quitOnce.Do(func() { close(s.quit) })
}

// movedElsewhere tells the client of a move the language server made: a
// stopped event there (goto: time jumped). It runs on the language server's
// goroutine; send serializes it with the handler's messages, and the
// references of the earlier time point die by the generation check.
func (s *server) movedElsewhere(pos history.Position) {
	if !s.told.Load() {
		return
	}
	s.send(&godap.StoppedEvent{Event: event("stopped"), Body: godap.StoppedEventBody{
		Reason: "goto", Description: "moved in the editor", ThreadId: max(pos.Thread, 1), AllThreadsStopped: true}})
}
