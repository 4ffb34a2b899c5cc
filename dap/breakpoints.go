package dap

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	godap "github.com/google/go-dap"

	"github.com/timelens/timelens/history"
)

// A breakpoint is a line of a file where continue and reverseContinue stop
// (or, a log point, print and go on), when its condition holds (the
// condition language of run to a line, read from memory) and its hit count
// matches. Hits are counted from the start of the recorded window, so the
// 5th hit is the same line event whichever way time goes.

type breakpoint struct {
	id           int
	file         string // as the recording names it
	line         int    // 1-based
	condition    string
	hit          hitCondition
	hitCondition string
	logMessage   string
	// broken, when set, says why the engine refused the breakpoint (a line
	// without code, a condition that needs code to run); it is skipped.
	broken string
}

// breakpoints holds every file's breakpoints, and the hits of those with
// a hit condition (the recording does not change: they are found once).
type breakpoints struct {
	next   int
	byFile map[string][]*breakpoint
	hits   map[hitsKey][]history.Time
}

type hitsKey struct {
	file, condition string
	line            int
}

// hitCondition is a parsed hitCondition: op N, where op is ==, >=, >, <,
// <= or % (every Nth); a bare N means == N.
type hitCondition struct {
	op string
	n  int
}

func parseHitCondition(text string) (hitCondition, error) {
	t := strings.TrimSpace(text)
	if t == "" {
		return hitCondition{}, nil
	}
	op := "=="
	for _, o := range []string{"==", ">=", "<=", ">", "<", "%", "="} {
		if rest, ok := strings.CutPrefix(t, o); ok {
			op, t = o, strings.TrimSpace(rest)
			break
		}
	}
	if op == "=" {
		op = "=="
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 || (op == "%" && n == 0) {
		return hitCondition{}, fmt.Errorf("hit condition %q: want a count N, or ==N, >=N, >N, <N, <=N or %%N (every Nth hit), counted from the start of the recorded window", text)
	}
	return hitCondition{op, n}, nil
}

// matches reports whether the hit-th hit (1-based) stops.
func (h hitCondition) matches(hit int) bool {
	switch h.op {
	case "":
		return true
	case "==":
		return hit == h.n
	case ">=":
		return hit >= h.n
	case ">":
		return hit > h.n
	case "<":
		return hit < h.n
	case "<=":
		return hit <= h.n
	case "%":
		return hit%h.n == 0
	}
	return false
}

func (s *server) onSetBreakpoints(r *godap.SetBreakpointsRequest) error {
	path := r.Arguments.Source.Path
	if path == "" {
		return errors.New("the source has no path: timelens sets breakpoints on lines of files")
	}
	file := s.paths.ToRecording(path)
	if s.bps.byFile == nil {
		s.bps.byFile = map[string][]*breakpoint{}
		s.bps.hits = map[hitsKey][]history.Time{}
	}
	var set []*breakpoint
	out := []godap.Breakpoint{}
	for _, sb := range r.Arguments.Breakpoints {
		s.bps.next++
		b := &breakpoint{id: s.bps.next, file: file, line: sb.Line, condition: strings.TrimSpace(sb.Condition),
			hitCondition: sb.HitCondition, logMessage: sb.LogMessage}
		h, err := parseHitCondition(sb.HitCondition)
		if err != nil {
			b.broken = err.Error()
		}
		b.hit = h
		set = append(set, b)
		out = append(out, s.dapBreakpoint(b, path))
	}
	s.bps.byFile[file] = set
	s.send(&godap.SetBreakpointsResponse{Response: s.response(&r.Request), Body: godap.SetBreakpointsResponseBody{Breakpoints: out}})
	return nil
}

func (s *server) dapBreakpoint(b *breakpoint, path string) godap.Breakpoint {
	return godap.Breakpoint{Id: b.id, Verified: b.broken == "", Message: b.broken, Line: s.clientLine(b.line),
		Source: &godap.Source{Path: path, Name: path[strings.LastIndexByte(path, '/')+1:]}}
}

// refuse marks b broken, with why, and tells the client.
func (s *server) refuse(b *breakpoint, why string) {
	b.broken = why
	s.output("important", fmt.Sprintf("timelens: breakpoint at %s:%d is skipped: %s\n", b.file, b.line, why))
	s.send(&godap.BreakpointEvent{Event: event("breakpoint"), Body: godap.BreakpointEventBody{
		Reason: "changed", Breakpoint: s.dapBreakpoint(b, s.paths.ToEditor(b.file))}})
}

// nearest finds the breakpoints hit nearest to now in the direction asked,
// and the time of that hit; none when no breakpoint is hit that way. Time
// is back where it was when nearest returns.
func (s *server) nearest(ctx context.Context, tl *history.Timeline, forward bool) ([]*breakpoint, history.Time, error) {
	now, _ := tl.Now()
	var best history.Time
	var hits []*breakpoint
	for _, set := range s.bps.byFile {
		for _, b := range set {
			if b.broken != "" {
				continue
			}
			t, ok, err := s.nextHit(ctx, tl, b, now, forward)
			if err != nil {
				if errors.Is(err, history.ErrPaused) {
					// Back to now (a hit count's search may have moved).
					if cur, _ := tl.Now(); cur != now {
						if _, gerr := tl.Goto(ctx, now); gerr != nil {
							return nil, "", gerr
						}
					}
					return nil, "", err
				}
				if ctx.Err() != nil || errors.Is(err, history.ErrClosed) {
					return nil, "", err
				}
				s.refuse(b, err.Error())
				continue
			}
			if !ok {
				continue
			}
			c := 0
			if best != "" {
				c = tl.Compare(t, best)
				if !forward {
					c = -c
				}
			}
			switch {
			case best == "" || c < 0:
				best, hits = t, []*breakpoint{b}
			case c == 0:
				hits = append(hits, b)
			}
		}
	}
	if cur, _ := tl.Now(); cur != now {
		if _, err := tl.Goto(ctx, now); err != nil {
			return nil, "", err
		}
	}
	return hits, best, nil
}

// nextHit is the time of b's next (or previous) hit from now. Time may be
// left elsewhere: nearest returns to now.
func (s *server) nextHit(ctx context.Context, tl *history.Timeline, b *breakpoint, now history.Time, forward bool) (history.Time, bool, error) {
	if b.hit.op == "" {
		if cur, _ := tl.Now(); cur != now {
			if _, err := tl.Goto(ctx, now); err != nil {
				return "", false, err
			}
		}
		pos, err := tl.RunToLine(ctx, b.file, b.line, b.condition, forward)
		if errors.Is(err, history.ErrNoRun) {
			return "", false, nil
		}
		if err != nil {
			return "", false, err
		}
		return pos.Time, true, nil
	}
	all, err := s.allHits(ctx, tl, b)
	if err != nil {
		return "", false, err
	}
	var found history.Time
	for i, t := range all {
		if !b.hit.matches(i + 1) {
			continue
		}
		c := tl.Compare(t, now)
		if forward && c > 0 {
			return t, true, nil
		}
		if !forward && c < 0 {
			found = t
		}
	}
	return found, found != "", nil
}

// maxHits bounds the hits of a breakpoint with a hit condition that are
// counted (the runs of its line, where its condition holds).
const maxHits = 10000

// allHits lists b's hits in the window, oldest first: the runs of its line
// where its condition holds. Without a condition, the line's runs; with
// one, runs to the line one after the other from the window's start (the
// window's first line event itself is not counted under a condition).
func (s *server) allHits(ctx context.Context, tl *history.Timeline, b *breakpoint) ([]history.Time, error) {
	key := hitsKey{b.file, b.condition, b.line}
	if h, ok := s.bps.hits[key]; ok {
		return h, nil
	}
	var hits []history.Time
	if b.condition == "" {
		runs, _, err := tl.LineRuns(ctx, b.file, b.line, maxHits)
		if err != nil {
			return nil, err
		}
		for _, r := range runs {
			hits = append(hits, r.Time)
		}
	} else {
		if _, err := tl.Goto(ctx, tl.Start()); err != nil {
			return nil, err
		}
		for len(hits) < maxHits {
			pos, err := tl.RunToLine(ctx, b.file, b.line, b.condition, true)
			if errors.Is(err, history.ErrNoRun) {
				break
			}
			if err != nil {
				return nil, err
			}
			hits = append(hits, pos.Time)
		}
	}
	s.bps.hits[key] = hits
	return hits, nil
}
