package dap

import (
	"errors"
	"fmt"
	"strings"

	godap "github.com/google/go-dap"

	"github.com/timelens/timelens/history"
)

// Exception breakpoints: the one filter, "uncaught" (on by default). When
// the recorded window ends because the program ended with an uncaught
// exception, a continue that reaches the end stops with reason "exception"
// at the last run of the line that raised it (the traceback's innermost
// entry), and exceptionInfo describes it, read from memory at the window's
// end. "raised" (stop wherever an exception is raised, both ways) is not
// offered: see the README.

const filterUncaught = "uncaught"

// exceptionFilters is what initialize advertises.
func exceptionFilters() []godap.ExceptionBreakpointsFilter {
	return []godap.ExceptionBreakpointsFilter{{
		Filter: filterUncaught, Label: "Uncaught Exceptions", Default: true,
		Description: "continue stops where the exception the program ended with was raised (the recording ends there)",
	}}
}

// exceptionState is the exception filters the client set (nil: the
// defaults) and the exception of the last stop on one.
type exceptionState struct {
	filters map[string]bool
	at      history.Time // the time of the stop on exc
	exc     *history.Exception
}

func (e *exceptionState) uncaught() bool {
	return e.filters == nil || e.filters[filterUncaught]
}

func (s *server) onSetExceptionBreakpoints(r *godap.SetExceptionBreakpointsRequest) error {
	filters := map[string]bool{}
	names := r.Arguments.Filters
	for _, o := range r.Arguments.FilterOptions {
		names = append(names, o.FilterId)
	}
	for _, f := range names {
		if f != filterUncaught {
			return fmt.Errorf("unknown exception filter %q: timelens offers %q (where the program ended with an uncaught exception)", f, filterUncaught)
		}
		filters[f] = true
	}
	s.excs.filters = filters
	out := []godap.Breakpoint{}
	for range names {
		out = append(out, godap.Breakpoint{Verified: true})
	}
	s.send(&godap.SetExceptionBreakpointsResponse{Response: s.response(&r.Request),
		Body: godap.SetExceptionBreakpointsResponseBody{Breakpoints: out}})
	return nil
}

// stopOnException is a forward continue that found no breakpoint hit: when
// the program ended with an uncaught exception (and the filter is on), it
// goes to the last run of the line that raised it and stops there with
// reason "exception" (true); else it does nothing (false).
func (s *server) stopOnException(tl *history.Timeline) bool {
	if !s.excs.uncaught() {
		return false
	}
	exc, err := tl.UncaughtException(s.op)
	if err != nil {
		s.output("important", "timelens: reading the exception the program ended with: "+err.Error()+"\n")
		return false
	}
	if exc == nil {
		return false
	}
	pos, err := s.toEdge(tl, true)
	if err != nil {
		s.afterMove(pos, err, "", "")
		return true
	}
	if n := len(exc.Traceback); n > 0 {
		raised := exc.Traceback[n-1]
		if pos.File != raised.File || pos.Line != raised.Line {
			// A finally or an except that re-raised ran after the raise:
			// back to the raising line's last run.
			if p, err := tl.RunToLine(s.op, raised.File, raised.Line, "", false); err == nil {
				pos = p
			}
		}
	}
	s.excs.exc, s.excs.at = exc, pos.Time
	s.afterMove(pos, nil, "exception", describe(exc))
	return true
}

// describe is the exception's description as Python's traceback ends.
func describe(exc *history.Exception) string {
	d := exc.Description()
	if exc.CustomStr {
		d += " (its class defines __str__, which timelens does not run: its arguments are shown)"
	}
	return d
}

func (s *server) onExceptionInfo(r *godap.ExceptionInfoRequest) error {
	tl, err := s.timeline()
	if err != nil {
		return err
	}
	now, _ := tl.Now()
	exc := s.excs.exc
	if exc == nil || now != s.excs.at {
		return errors.New("not stopped on an exception: exceptionInfo answers at the stop with reason \"exception\" " +
			"that continue makes where the program ended with an uncaught exception")
	}
	var trace strings.Builder
	trace.WriteString(exc.Text())
	s.send(&godap.ExceptionInfoResponse{Response: s.response(&r.Request), Body: godap.ExceptionInfoResponseBody{
		ExceptionId: exc.Type, Description: describe(exc), BreakMode: "unhandled",
		Details: &godap.ExceptionDetails{Message: exc.Message, TypeName: exc.Type, FullTypeName: exc.Type,
			StackTrace: trace.String()},
	}})
	return nil
}
