package dap

import (
	"fmt"

	godap "github.com/google/go-dap"
	"go.uber.org/zap"

	"github.com/timelens/timelens/history"
)

// Pause: a continue or reverseContinue scans the recording for the nearest
// breakpoint hit, which over a long window with a condition that rarely
// holds takes seconds. A pause request, read while it runs, is answered at
// once by the reader, which asks the timeline to pause (history.Pause): the
// scan in the debugger stops and leaves time where the continue started,
// and the continue stops there with reason "pause". With nothing running a
// pause is answered and nothing else happens (delve does the same).

// runState is the continue in progress (under opMu).
type runState struct {
	tl      *history.Timeline // nil: none
	pausing bool
	n       int // continues so far, for progress ids
}

// beginRun marks a continue as running, for pause.
func (s *server) beginRun(tl *history.Timeline) int {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	s.run.tl, s.run.pausing = tl, false
	s.run.n++
	return s.run.n
}

// endRun marks it over and takes a pause request back.
func (s *server) endRun() {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	if s.run.pausing && s.run.tl != nil {
		if err := s.run.tl.Pause(false); err != nil {
			s.log.Warn("taking a pause request back", zap.Error(err))
		}
	}
	s.run.tl, s.run.pausing = nil, false
}

// pausing reports that a pause came during the continue in progress.
func (s *server) pausing() bool {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	return s.run.pausing
}

// onPause answers a pause request (the reader calls it as it reads one, so
// that it reaches a continue in progress) and pauses that continue.
func (s *server) onPause(r *godap.PauseRequest) {
	s.send(&godap.PauseResponse{Response: s.response(&r.Request)})
	s.opMu.Lock()
	defer s.opMu.Unlock()
	if s.run.tl == nil || s.run.pausing {
		return
	}
	s.run.pausing = true
	if err := s.run.tl.Pause(true); err != nil {
		s.log.Warn("asking the debugger to pause", zap.Error(err))
	}
}

// errPausedBetween is a pause seen between two steps of a continue.
var errPausedBetween = fmt.Errorf("%w: the search for a breakpoint hit stopped at the client's request; time is where the continue started", history.ErrPaused)

// progress tells a client that reports progress that a continue searches
// (so that it can pause it); the returned function ends the report.
func (s *server) progress(n int, forward bool) func() {
	if !s.clientInit.SupportsProgressReporting {
		return func() {}
	}
	id := fmt.Sprintf("timelens-continue-%d", n)
	title := "Searching backward for a breakpoint hit"
	if forward {
		title = "Searching forward for a breakpoint hit"
	}
	s.send(&godap.ProgressStartEvent{Event: event("progressStart"), Body: godap.ProgressStartEventBody{ProgressId: id, Title: title}})
	return func() {
		s.send(&godap.ProgressEndEvent{Event: event("progressEnd"), Body: godap.ProgressEndEventBody{ProgressId: id}})
	}
}
