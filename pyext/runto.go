package pyext

import (
	"context"
	"fmt"
	"strconv"

	"github.com/timelens/timelens/history"
)

// RunToLine implements history.LineRunner with -timelens-run-to-line.
func (b *Backend) RunToLine(ctx context.Context, file string, line int, condition string, forward bool) error {
	move := "runToLine"
	args := []string{}
	if !forward {
		move = "reverseRunToLine"
		args = append(args, "--reverse")
	}
	if condition != "" {
		args = append(args, "--condition", condition)
	}
	args = append(args, file, strconv.Itoa(line))
	err := b.navigate(ctx, move, "-timelens-run-to-line", args...)
	if e := AsError(err); e != nil && e.Code == CodeNoRun {
		return noRun{e}
	}
	return err
}

// noRun is the gdb side's no-run refusal as history.ErrNoRun, in its own
// words ("no later line event at app.py:12 where x > 3 in the recorded
// window (time unchanged)").
type noRun struct{ e *Error }

func (n noRun) Error() string   { return n.e.Message }
func (n noRun) Unwrap() []error { return []error{history.ErrNoRun, n.e} }

// LineRuns implements history.LineRunner with -timelens-line-runs.
func (b *Backend) LineRuns(ctx context.Context, file string, line, limit int) ([]history.LineRun, bool, error) {
	payload, err := b.call(ctx, "-timelens-line-runs", "--limit", strconv.Itoa(limit), file, strconv.Itoa(line))
	if err != nil {
		return nil, false, userError(err)
	}
	var r struct {
		Runs []history.LineRun `json:"runs"`
		More bool              `json:"more"`
	}
	if err := Decode(payload, &r); err != nil {
		return nil, false, err
	}
	for i := range r.Runs {
		t, err := b.d.ParseTimeString(string(r.Runs[i].Time))
		if err != nil {
			return nil, false, fmt.Errorf("run %d of %s:%d: %w", i, file, line, err)
		}
		r.Runs[i].Time = history.Time(t.Raw)
		if r.Runs[i].Assigned == nil {
			r.Runs[i].Assigned = map[string]string{}
		}
	}
	return r.Runs, r.More, nil
}

var _ history.LineRunner = (*Backend)(nil)
