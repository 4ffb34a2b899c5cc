package dap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	godap "github.com/google/go-dap"
	"go.uber.org/zap"

	"github.com/timelens/timelens/srcpath"
)

// capabilities is what initialize advertises: only what works.
func capabilities() godap.Capabilities {
	return godap.Capabilities{
		SupportsConfigurationDoneRequest:  true,
		SupportsStepBack:                  true,
		SupportsConditionalBreakpoints:    true,
		SupportsHitConditionalBreakpoints: true,
		SupportsLogPoints:                 true,
		SupportsGotoTargetsRequest:        true,
		SupportsRestartFrame:              true,
		SupportsEvaluateForHovers:         true,
		SupportsTerminateRequest:          true,
		SupportsSteppingGranularity:       true,
		SupportsDisassembleRequest:        true,
		SupportsExceptionInfoRequest:      true,
		ExceptionBreakpointFilters:        exceptionFilters(),
		SupportsDataBreakpoints:           true,
	}
}

func (s *server) onInitialize(r *godap.InitializeRequest) error {
	s.clientInit = r.Arguments
	s.send(&godap.InitializeResponse{Response: s.response(&r.Request), Body: capabilities()})
	return nil
}

// onLaunch opens the recording session (launch records or replays; attach
// takes the same arguments) and says so with the initialized event; the
// first stopped event follows configurationDone.
func (s *server) onLaunch(req *godap.Request, args json.RawMessage) error {
	if s.tl != nil {
		return errors.New("a recording session is open already; disconnect first to start another")
	}
	more, err := srcpath.Option(args, "launch arguments")
	if err != nil {
		return err
	}
	pairs := append(slices.Clone(s.cfg.SubstitutePath), more...) // the command line's first: they win
	s.paths = srcpath.NewMap(pairs)
	if s.cfg.Timeline != nil {
		s.tl = s.cfg.Timeline
		if unused := recordingChoices(args); len(unused) > 0 {
			s.output("console", fmt.Sprintf("timelens: this debugger joins the language server's session and its recording; "+
				"the launch configuration's %s are not used (stop the language server to record what it says)\n", strings.Join(unused, ", ")))
		}
	} else {
		if s.cfg.Start == nil {
			return errors.New("this server was built without a way to open a session (a bug in the command line)")
		}
		s.output("console", fmt.Sprintf("timelens %s: starting the recording session\n", s.cfg.Version))
		// The session may keep the context it opens with: one of its own,
		// which a disconnect during the launch cancels, and the end of
		// Serve otherwise.
		ctx, cancel := context.WithCancel(s.ctx)
		s.opMu.Lock()
		s.opCancel = cancel
		leaving := s.leaving
		s.opMu.Unlock()
		if leaving {
			cancel()
		}
		tl, err := s.cfg.Start(ctx, args, func(msg string) { s.output("console", "timelens: "+msg+"…\n") })
		if err != nil {
			cancel()
			s.log.Error("starting the recording session", zap.Error(err))
			return err
		}
		s.tl, s.ownTL = tl, true
	}
	if reason := s.tl.EndReason(); reason != "" {
		s.output("important", "timelens: the recorded window ends early: "+reason+"\n")
	}
	s.send(&godap.LaunchResponse{Response: s.response(req)})
	s.send(&godap.InitializedEvent{Event: event("initialized")})
	return nil
}

// recordingChoices are the launch arguments, among those given, that say
// what to record or replay: a session that is open already (the language
// server's) does not use them.
func recordingChoices(args json.RawMessage) []string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(args, &fields) != nil {
		return nil
	}
	var out []string
	for _, k := range []string{"program", "args", "cwd", "recordFrom", "recordLimit", "recording", "python", "backend", "gdb", "rr", "udb"} {
		if _, ok := fields[k]; ok {
			out = append(out, k)
		}
	}
	return out
}

// onConfigurationDone answers, then reports the position the session is
// at: the window's first line event (entry) for a session of its own.
func (s *server) onConfigurationDone(r *godap.ConfigurationDoneRequest) error {
	s.send(&godap.ConfigurationDoneResponse{Response: s.response(&r.Request)})
	if s.configured || s.tl == nil {
		return nil
	}
	s.configured = true
	pos, err := s.tl.Where(s.op)
	if err != nil {
		s.output("important", "timelens: reading the first position: "+err.Error()+"\n")
		return nil
	}
	reason, desc := "entry", "start of the recorded window"
	if s.tl.Compare(pos.Time, s.tl.Start()) != 0 {
		reason, desc = "pause", "where the language server's session is"
	}
	s.stopped(pos.Thread, reason, desc, nil)
	s.told.Store(true)
	return nil
}

// onDisconnect ends the session and the server; terminate ends the
// session only (the client disconnects next).
func (s *server) onDisconnect(req *godap.Request) error {
	if s.tl != nil && s.ownTL {
		_ = s.tl.Close()
	}
	s.tl = nil
	s.told.Store(false)
	if req.Command == "terminate" {
		s.send(&godap.TerminateResponse{Response: s.response(req)})
		s.send(&godap.TerminatedEvent{Event: event("terminated")})
		return nil
	}
	s.send(&godap.DisconnectResponse{Response: s.response(req)})
	s.end()
	return nil
}

// stopped tells the client where time now is.
func (s *server) stopped(thread int, reason, description string, hit []int) {
	if thread <= 0 {
		thread = 1
	}
	s.lastThread = thread
	s.send(&godap.StoppedEvent{Event: event("stopped"), Body: godap.StoppedEventBody{
		Reason: reason, Description: description, Text: description, ThreadId: thread,
		AllThreadsStopped: true, HitBreakpointIds: hit}})
}
