package dap

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	godap "github.com/google/go-dap"

	"github.com/timelens/timelens/history"
)

// Data breakpoints (DAP's dataBreakpointInfo and setDataBreakpoints): a
// name or an attribute chain (obj.attr, a.b.c) of a frame. continue stops
// at its next write, reverseContinue at its last one: the engine's write
// searches (history.Timeline.NextWrite and LastWrite), which watch the
// storage in the recording. When line breakpoints are set too, the nearest
// stop either way wins.
//
// A dataId is the expression and the function of its frame, "EXPR@FUNCTION":
// the frame is found again at each continue as the innermost call of that
// function on the stack (a data breakpoint of a call that is not on the
// stack then is passed over, and the output says so).

// dataBreakpoint is one of setDataBreakpoints' breakpoints.
type dataBreakpoint struct {
	id       int
	expr     string
	function string
	// condition and hitCondition are not supported on data breakpoints:
	// set ones are refused (verified false) with the reason.
}

// dataBreakpoints holds the data breakpoints of the session.
type dataBreakpoints struct {
	next int
	set  []*dataBreakpoint
}

// watchable is the expression language of the write searches.
var watchable = regexp.MustCompile(`^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$`)

// onDataBreakpointInfo says whether a variable (of a scope or an object in
// the Variables pane) or an expression (a name or obj.attr, seen from a
// frame) can be watched, and its dataId.
func (s *server) onDataBreakpointInfo(r *godap.DataBreakpointInfoRequest) error {
	tl, err := s.timeline()
	if err != nil {
		return err
	}
	a := r.Arguments
	expr, depth := strings.TrimSpace(a.Name), 0
	if a.VariablesReference != 0 {
		s.current()
		v, ok := s.refs.vars[a.VariablesReference]
		if !ok {
			return fmt.Errorf("variablesReference %d: %w", a.VariablesReference, ErrStale)
		}
		// An object's children are read from the innermost frame (object
		// references do not keep their frame).
		expr, depth = childEval(v, a.Name), v.depth
	} else if a.FrameId != 0 {
		if depth, err = s.depthOf(a.FrameId); err != nil {
			return err
		}
	}
	body := godap.DataBreakpointInfoResponseBody{AccessTypes: []godap.DataBreakpointAccessType{"write"}}
	function, why := "", ""
	switch {
	case expr == "":
		why = "this item cannot be read by name: data breakpoints watch a name or an attribute chain (obj.attr)"
	case !watchable.MatchString(expr):
		why = fmt.Sprintf("%s is not a name or an attribute chain (obj.attr): data breakpoints watch those only", expr)
	default:
		snap, err := tl.Snapshot(s.op)
		if err != nil {
			return err
		}
		if depth >= len(snap.Frames) {
			return fmt.Errorf("no frame at depth %d now: request the stack trace again", depth)
		}
		function = snap.Frames[depth].Function
		if _, err := tl.Eval(s.op, depth, expr); err != nil {
			why = fmt.Sprintf("%s cannot be read in %s now: %v", expr, function, err)
		}
	}
	if why != "" {
		body.Description = why
		s.send(&godap.DataBreakpointInfoResponse{Response: s.response(&r.Request), Body: body})
		return nil
	}
	body.DataId = expr + "@" + function
	body.Description = fmt.Sprintf("%s in %s (stops where it is written)", expr, function)
	s.send(&godap.DataBreakpointInfoResponse{Response: s.response(&r.Request), Body: body})
	return nil
}

// onSetDataBreakpoints replaces the data breakpoints.
func (s *server) onSetDataBreakpoints(r *godap.SetDataBreakpointsRequest) error {
	if _, err := s.timeline(); err != nil {
		return err
	}
	s.dbps.set = nil
	out := []godap.Breakpoint{}
	for _, d := range r.Arguments.Breakpoints {
		s.dbps.next++
		expr, function, ok := strings.Cut(d.DataId, "@")
		b := godap.Breakpoint{Id: s.dbps.next}
		switch {
		case !ok || !watchable.MatchString(expr) || function == "":
			b.Message = fmt.Sprintf("dataId %q is not one dataBreakpointInfo gave (EXPR@FUNCTION)", d.DataId)
		case d.AccessType != "" && d.AccessType != "write":
			b.Message = fmt.Sprintf("only writes can be watched, not %s access", d.AccessType)
		case d.Condition != "" || d.HitCondition != "":
			b.Message = "data breakpoints take no condition or hit count"
		default:
			b.Verified = true
			b.Message = fmt.Sprintf("%s in %s", expr, function)
			s.dbps.set = append(s.dbps.set, &dataBreakpoint{id: b.Id, expr: expr, function: function})
		}
		out = append(out, b)
	}
	s.send(&godap.SetDataBreakpointsResponse{Response: s.response(&r.Request), Body: godap.SetDataBreakpointsResponseBody{Breakpoints: out}})
	return nil
}

// writeStop is where the nearest data breakpoint write is, and what to say.
type writeStop struct {
	at          history.Time
	ids         []int
	description string
	// first is the first breakpoint written there, whose value before the
	// write a backward stop reads on arrival (written: the value written).
	first   *dataBreakpoint
	written string
}

// nearestWrite is the nearest write of any data breakpoint in the direction
// asked: forward its next write, backward its last one; nil when none is
// written that way (or none is set). Time is back where it was.
func (s *server) nearestWrite(ctx context.Context, tl *history.Timeline, forward bool) (*writeStop, error) {
	if len(s.dbps.set) == 0 {
		return nil, nil
	}
	snap, err := tl.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	var best *writeStop
	for _, d := range s.dbps.set {
		depth := -1
		for i, f := range snap.Frames {
			if f.Function == d.function {
				depth = i
				break
			}
		}
		if depth < 0 {
			s.output("console", fmt.Sprintf("timelens: data breakpoint %s is passed over: no call of %s is on the stack here\n", d.expr, d.function))
			continue
		}
		old, _ := tl.Eval(ctx, depth, d.expr)
		var w history.Write
		if forward {
			w, err = tl.NextWrite(ctx, depth, d.expr)
		} else {
			w, err = tl.LastWrite(ctx, depth, d.expr)
		}
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, history.ErrClosed) {
				return nil, err
			}
			s.log.Debug("data breakpoint: no write that way")
			continue
		}
		desc := fmt.Sprintf("%s: %s → %s (written in %s)", d.expr, old, w.Value, w.Function)
		c := 0
		if best != nil {
			c = tl.Compare(w.Time, best.at)
			if !forward {
				c = -c
			}
		}
		switch {
		case best == nil || c < 0:
			best = &writeStop{at: w.Time, ids: []int{d.id}, description: desc, first: d, written: w.Value}
		case c == 0:
			best.ids = append(best.ids, d.id)
			best.description += "; " + desc
		}
	}
	return best, nil
}

// writeFirst says whether the data breakpoint write ws comes before the
// line breakpoint hit at (none: ""), going forward or backward.
func writeFirst(tl *history.Timeline, ws *writeStop, at history.Time, forward bool) bool {
	if ws == nil {
		return false
	}
	if at == "" {
		return true
	}
	c := tl.Compare(ws.at, at)
	if !forward {
		c = -c
	}
	return c <= 0
}

// stopAtWrite goes to a data breakpoint's write and says so. Backward, the
// value before the write is read there: time is at the write, before it
// is done.
func (s *server) stopAtWrite(tl *history.Timeline, ws *writeStop, forward bool) {
	pos, err := tl.Goto(s.op, ws.at)
	desc := ws.description
	if err == nil && !forward {
		old := "?"
		if snap, serr := tl.Snapshot(s.op); serr == nil {
			for i, f := range snap.Frames {
				if f.Function == ws.first.function {
					if v, eerr := tl.Eval(s.op, i, ws.first.expr); eerr == nil {
						old = v
					}
					break
				}
			}
		}
		desc = fmt.Sprintf("%s: %s → %s (written in %s)", ws.first.expr, old, ws.written, pos.Function)
		if len(ws.ids) > 1 {
			desc += fmt.Sprintf(" and %d more data breakpoints", len(ws.ids)-1)
		}
	}
	s.afterMove(pos, err, "data breakpoint", desc, ws.ids...)
}
