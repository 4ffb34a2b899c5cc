package dap

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	godap "github.com/google/go-dap"

	"github.com/timelens/timelens/history"
)

// Each move answers its request first, then moves, then sends a stopped
// event where time now is (DAP's order: the client shows "running" in
// between). A move that cannot happen (the window's edge, no such call)
// stops where time was, with the reason in the event's text.

// ack answers a request that has no body.
func (s *server) ack(req *godap.Request) {
	r := s.response(req)
	s.send(&r)
}

// onLineMove is next, stepIn, stepOut, stepBack and the reverse custom
// requests: one move of CONTRACT.md's table.
func (s *server) onLineMove(req *godap.Request, m history.Move) error {
	tl, err := s.timeline()
	if err != nil {
		return err
	}
	s.ack(req)
	pos, err := tl.Move(s.op, m)
	s.afterMove(pos, err, "step", "")
	return nil
}

// afterMove sends the stopped event of a move: at the new position, or,
// when the move failed, where time still is, with why.
func (s *server) afterMove(pos history.Position, err error, reason, description string, hit ...int) {
	if err == nil {
		if s.cfg.Moved != nil {
			s.cfg.Moved(pos)
		}
		s.stopped(pos.Thread, reason, description, hit)
		return
	}
	var edge *history.EdgeError
	switch {
	case errors.As(err, &edge) && edge.Edge == history.Start:
		reason = "entry"
	case errors.As(err, &edge):
		reason = "end of recording"
	case errors.Is(err, history.ErrPaused):
		reason = "pause"
	default:
		reason = "pause"
		s.output("important", "timelens: "+err.Error()+"\n")
	}
	thread := s.lastThread
	if s.tl != nil {
		if p, werr := s.tl.Where(s.op); werr == nil {
			thread = p.Thread
		}
	}
	s.stopped(thread, reason, err.Error(), nil)
}

// onContinue runs to the nearest breakpoint hit or data breakpoint write
// (databreakpoints.go) in the direction asked,
// logging the log points passed on the way; with none, to the window's
// edge, where the stopped event says so. The recording stays navigable:
// never a terminated event.
func (s *server) onContinue(req *godap.Request, forward bool) error {
	tl, err := s.timeline()
	if err != nil {
		return err
	}
	if forward {
		s.send(&godap.ContinueResponse{Response: s.response(req), Body: godap.ContinueResponseBody{AllThreadsContinued: true}})
	} else {
		s.ack(req)
	}
	defer s.endRun()
	defer s.progress(s.beginRun(tl), forward)()
	for logged := 0; ; logged++ {
		hits, at, err := s.nearest(s.op, tl, forward)
		if err == nil && s.pausing() {
			err = errPausedBetween
		}
		if err != nil {
			s.afterMove(history.Position{}, err, "", "")
			return nil
		}
		ws, err := s.nearestWrite(s.op, tl, forward)
		if err != nil {
			s.afterMove(history.Position{}, err, "", "")
			return nil
		}
		if writeFirst(tl, ws, at, forward) {
			s.stopAtWrite(tl, ws, forward)
			return nil
		}
		if len(hits) == 0 {
			if forward && s.stopOnException(tl) {
				return nil
			}
			pos, err := s.toEdge(tl, forward)
			s.afterMove(pos, err, edgeReason(forward), s.edgeText(forward))
			return nil
		}
		pos, err := tl.Goto(s.op, at)
		if err != nil {
			s.afterMove(pos, err, "", "")
			return nil
		}
		var stops []int
		for _, b := range hits {
			if b.logMessage == "" {
				stops = append(stops, b.id)
				continue
			}
			s.output("console", s.logLine(tl, b, pos))
		}
		if len(stops) > 0 || logged >= maxLogStops {
			s.afterMove(pos, nil, "breakpoint", fmt.Sprintf("breakpoint at %s:%d", filepath.Base(pos.File), pos.Line), stops...)
			return nil
		}
	}
}

// maxLogStops bounds the log points one continue passes before it stops
// at the last one (a log point in a hot loop would otherwise log the whole
// window).
const maxLogStops = 1000

func edgeReason(forward bool) string {
	if forward {
		return "end of recording"
	}
	return "entry"
}

// edgeText says which edge a continue reached and why the window ends
// there when it ended early.
func (s *server) edgeText(forward bool) string {
	if !forward {
		return "start of the recorded window: no breakpoint is hit before this point"
	}
	text := "end of the recorded window: no breakpoint is hit after this point"
	if reason := s.tl.EndReason(); reason != "" {
		text += " (the recording ended early: " + reason + ")"
	}
	return text + "; step back or reverse-continue"
}

// toEdge moves to the window's last (forward) or first line event.
func (s *server) toEdge(tl *history.Timeline, forward bool) (history.Position, error) {
	edge := history.Start
	if forward {
		edge = history.End
	}
	return tl.GotoEdge(s.op, edge)
}

// logLine is a log point's message with each {expression} read from
// memory at pos (an expression that cannot be read shows why).
func (s *server) logLine(tl *history.Timeline, b *breakpoint, pos history.Position) string {
	var out strings.Builder
	msg := b.logMessage
	for {
		open := strings.IndexByte(msg, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(msg[open:], '}')
		if end < 0 {
			break
		}
		out.WriteString(msg[:open])
		expr := msg[open+1 : open+end]
		if c, err := tl.Expression(s.op, 0, expr); err == nil {
			out.WriteString(c.Value)
		} else {
			out.WriteString("<" + err.Error() + ">")
		}
		msg = msg[open+end+1:]
	}
	out.WriteString(msg)
	return fmt.Sprintf("%s (%s:%d)\n", out.String(), filepath.Base(pos.File), pos.Line)
}

func (s *server) onGotoTargets(r *godap.GotoTargetsRequest) error {
	tl, err := s.timeline()
	if err != nil {
		return err
	}
	path := r.Arguments.Source.Path
	if path == "" {
		return errors.New("the source has no path: timelens finds runs of lines of files")
	}
	file, line := s.paths.ToRecording(path), r.Arguments.Line
	runs, more, err := tl.LineRuns(s.op, file, line, maxGotoTargets)
	if err != nil {
		return err
	}
	clear(s.targets)
	targets := []godap.GotoTarget{}
	total := fmt.Sprint(len(runs))
	if more {
		total = fmt.Sprintf("more than %d", len(runs))
	}
	for i, run := range runs {
		s.gotoSeq++
		s.targets[s.gotoSeq] = run.Time
		targets = append(targets, godap.GotoTarget{Id: s.gotoSeq, Line: s.clientLine(line),
			Label: fmt.Sprintf("%s: run %d of %s (time %s)%s", run.Function, i+1, total, run.Time, assigned(run.Assigned))})
	}
	s.send(&godap.GotoTargetsResponse{Response: s.response(&r.Request), Body: godap.GotoTargetsResponseBody{Targets: targets}})
	return nil
}

// maxGotoTargets bounds the runs of a line offered as goto targets.
const maxGotoTargets = 500

// assigned is a run's assignments for its label: ", x = 1, y = 2".
func assigned(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, ", %s = %s", n, m[n])
	}
	return b.String()
}

func (s *server) onGoto(r *godap.GotoRequest) error {
	tl, err := s.timeline()
	if err != nil {
		return err
	}
	t, ok := s.targets[r.Arguments.TargetId]
	if !ok {
		return fmt.Errorf("goto target %d is unknown: ask for gotoTargets first", r.Arguments.TargetId)
	}
	s.ack(&r.Request)
	pos, err := tl.Goto(s.op, t)
	s.afterMove(pos, err, "goto", fmt.Sprintf("time %s", t))
	return nil
}

// onRestartFrame goes to the entry of the call of that frame: time moves
// back to its first line event; nothing runs again.
func (s *server) onRestartFrame(r *godap.RestartFrameRequest) error {
	tl, err := s.timeline()
	if err != nil {
		return err
	}
	depth, err := s.depthOf(r.Arguments.FrameId)
	if err != nil {
		return err
	}
	s.ack(&r.Request)
	pos, err := tl.GotoEntry(s.op, depth)
	s.afterMove(pos, err, "restart", "the entry of the call")
	return nil
}
