package lsp

import (
	"context"
	"fmt"
	"strings"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/timelens/timelens/history"
)

// Running to a line (CONTRACT.md): timelens.runToLine and
// timelens.reverseRunToLine move to the next or previous line event at a
// line of a document, in any frame, where an optional condition holds;
// timelens.lineRuns lists every run of a line, for a picker. Code actions
// offer the two runs on any line of code (code_action.go); the editors add
// the condition prompt and the picker (editors/).

// The limits of timelens.lineRuns.
const (
	defaultLineRuns = 200
	maxLineRuns     = 10000
)

const runShape = `{"uri": "file:///…", "line": <0-based>, "condition": "<optional Python expression, e.g. balance < 0>"}`

// runToLine is the command that runs forward or back to a line.
func runToLine(forward bool) command {
	name := cmdReverseRunToLine
	if forward {
		name = cmdRunToLine
	}
	return func(s *server, ctx context.Context, args []protocol.LSPAny) (*Position, error) {
		var a struct {
			URI       uri.URI `json:"uri"`
			Line      *int    `json:"line"`
			Condition string  `json:"condition"`
		}
		if err := decodeArg(name, args, &a); err != nil {
			return nil, err
		}
		file, line, err := s.runTarget(name, a.URI, a.Line)
		if err != nil {
			return nil, err
		}
		cond := strings.TrimSpace(a.Condition)
		return s.navigate(ctx, func(ctx context.Context, tl *history.Timeline) (history.Position, error) {
			return tl.RunToLine(ctx, file, line, cond, forward)
		})
	}
}

// lineRun is one element of timelens.lineRuns' result.
type lineRun struct {
	Time     string            `json:"time"`
	Function string            `json:"function"`
	Depth    int               `json:"depth"`
	Assigned map[string]string `json:"assigned"`
}

// lineRuns answers timelens.lineRuns: [{time, function, depth, assigned}],
// oldest first. Time does not change.
func lineRuns(s *server, ctx context.Context, args []protocol.LSPAny) (any, error) {
	var a struct {
		URI   uri.URI `json:"uri"`
		Line  *int    `json:"line"`
		Limit *int    `json:"limit"`
	}
	if err := decodeArg(cmdLineRuns, args, &a); err != nil {
		return nil, err
	}
	limit := defaultLineRuns
	if a.Limit != nil {
		if *a.Limit < 1 || *a.Limit > maxLineRuns {
			return nil, invalidParams(cmdLineRuns, "limit must be between 1 and 10000")
		}
		limit = *a.Limit
	}
	file, line, err := s.runTarget(cmdLineRuns, a.URI, a.Line)
	if err != nil {
		return nil, err
	}
	tl, err := s.timeline(ctx)
	if err != nil {
		return nil, err
	}
	runs, _, err := tl.LineRuns(ctx, file, line, limit)
	if err != nil {
		return nil, err
	}
	out := make([]lineRun, len(runs))
	for i, r := range runs {
		out[i] = lineRun{Time: string(r.Time), Function: r.Function, Depth: r.Depth, Assigned: r.Assigned}
		if out[i].Assigned == nil {
			out[i].Assigned = map[string]string{}
		}
	}
	return out, nil
}

// runTarget turns a command's uri and 0-based editor line into the
// recording's file and 1-based line.
func (s *server) runTarget(name string, u uri.URI, line *int) (string, int, error) {
	if u == "" || line == nil {
		return "", 0, invalidParams(name, "uri and line are required")
	}
	doc, err := s.document(u)
	if err != nil {
		return "", 0, err
	}
	if *line < 0 || *line >= doc.lineCount() {
		return "", 0, invalidParams(name, fmt.Sprintf("line %d is not a line of %s (0-based; it has %d)", *line, doc.path, doc.lineCount()))
	}
	rec, err := s.recordedLine(u, *line) // the line as the recording ran it (edits.go)
	if err != nil {
		return "", 0, err
	}
	return s.paths.ToRecording(doc.path), rec + 1, nil
}

// runActions are the code actions of a line of doc: run back or forward to
// it (the editors' "Run to Cursor"). Lines with no code get none.
func runActions(doc *document, line int) []navItem {
	text := strings.TrimSpace(doc.line(line))
	if text == "" || strings.HasPrefix(text, "#") || !strings.HasSuffix(doc.path, ".py") {
		return nil
	}
	args := map[string]any{"uri": doc.uri, "line": line}
	return []navItem{
		{title: "◀ run back to here", cmd: cmdReverseRunToLine, args: args},
		{title: "run forward to here ▶", cmd: cmdRunToLine, args: args},
	}
}
