package session

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/timelens/timelens/history"
)

// GoTo moves to WHERE as annotate --at takes it: a time string, FILE:LINE
// for that line's first line event from the current time on, or start or
// end: the window's first or last line event.
func GoTo(ctx context.Context, tl *history.Timeline, where string) error {
	switch where {
	case "start":
		_, err := tl.GotoEdge(ctx, history.Start)
		return err
	case "end":
		_, err := tl.GotoEdge(ctx, history.End)
		return err
	}
	file, line, isLine := strings.Cut(where, ":")
	n, err := strconv.Atoi(line)
	if !isLine || err != nil || !strings.HasSuffix(file, ".py") {
		_, err := tl.Goto(ctx, history.Time(where))
		return err
	}
	abs, _ := filepath.Abs(file)
	for {
		p, err := tl.Where(ctx)
		if err != nil {
			return err
		}
		if p.Line == n && (p.File == abs || filepath.Base(p.File) == filepath.Base(file)) {
			return nil
		}
		if _, err := tl.Move(ctx, history.Step); err != nil {
			var edge *history.EdgeError
			if errors.As(err, &edge) {
				return fmt.Errorf("%s never runs in the recorded window", where)
			}
			return err
		}
	}
}
