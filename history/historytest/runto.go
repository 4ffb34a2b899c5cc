package historytest

import (
	"context"
	"fmt"
	"strings"

	"github.com/timelens/timelens/history"
)

// RunToLine implements history.LineRunner over the trace. A condition is
// "" or NAME == VALUE, VALUE as the trace renders it (the real conditions
// are evaluated by the debugger backend).
func (t *Trace) RunToLine(_ context.Context, file string, line int, condition string, forward bool) error {
	t.Moves++
	holds := func(Event) bool { return true }
	if condition != "" {
		name, value, ok := strings.Cut(condition, "==")
		if !ok {
			return fmt.Errorf("%w: the trace backend's conditions are NAME == VALUE", history.ErrNotSupported)
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		holds = func(e Event) bool { v, ok := e.Locals[name]; return ok && v == value }
	}
	dir := 1
	if !forward {
		dir = -1
	}
	for k := t.i + dir; k >= 0 && k < len(t.Events); k += dir {
		if e := t.Events[k]; e.File == file && e.Line == line && holds(e) {
			t.i = k
			return nil
		}
	}
	return fmt.Errorf("%w: %s:%d", history.ErrNoRun, file, line)
}

// LineRuns implements history.LineRunner over the trace: what a line
// assigned is read at the next event of the same call.
func (t *Trace) LineRuns(_ context.Context, file string, line, limit int) ([]history.LineRun, bool, error) {
	var runs []history.LineRun
	for k, e := range t.Events {
		if e.File != file || e.Line != line {
			continue
		}
		if len(runs) == limit {
			return runs, true, nil
		}
		r := history.LineRun{Time: timeOf(k), Function: e.Function, Depth: e.Depth, Assigned: map[string]string{}}
		for j := k + 1; j < len(t.Events); j++ {
			if t.Events[j].Call == e.Call {
				for _, name := range e.Stores[line] {
					if v, ok := t.Events[j].Locals[name]; ok {
						r.Assigned[name] = v
					}
				}
				break
			}
		}
		runs = append(runs, r)
	}
	return runs, false, nil
}

var _ history.LineRunner = (*Trace)(nil)
