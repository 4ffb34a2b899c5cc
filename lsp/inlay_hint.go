package lsp

import (
	"context"
	"fmt"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/timelens/timelens/history"
)

// InlayHint implements protocol.Server: at the end of each line that the
// current call of its function has run, the values the line assigned
// (history.Timeline.Hints), and on its def line the call's parameters, for
// the current frame and every caller on the stack whose file is this
// document; with Config.PastCalls, also the document's other functions,
// each from its latest call. Hints follow the user's edits: a line the user
// changed has none (edits.go).
func (s *server) InlayHint(ctx context.Context, params *protocol.InlayHintParams) ([]protocol.InlayHint, error) {
	doc, err := s.document(params.TextDocument.URI)
	if err != nil {
		s.log.Debug("inlay hints", zap.Error(err))
		return []protocol.InlayHint{}, nil
	}
	q := history.HintsQuery{
		Match: func(file string) bool { return s.paths.ToEditor(file) == doc.path },
		Warn:  func(err error) { s.log.Warn("some lines have no hints", zap.Error(err)) },
	}
	if s.cfg.PastCalls {
		q.PastCalls = s.functions(doc)
	}
	return readNow(ctx, s, func(tl *history.Timeline) ([]protocol.InlayHint, error) {
		lines, err := tl.Hints(ctx, q)
		if err != nil {
			return nil, err
		}
		return lineHints(doc, s.hintsNow(doc, lines), params.Range), nil
	})
}

// lineHints turns line hints into LSP hints at line ends, inside rng.
func lineHints(doc *document, lines []history.LineHint, rng protocol.Range) []protocol.InlayHint {
	hints := []protocol.InlayHint{}
	for _, h := range lines {
		n := h.Line - 1
		if n < int(rng.Start.Line) || n > int(rng.End.Line) || n >= doc.lineCount() {
			continue
		}
		tip := fmt.Sprintf("%s, line %d: ran %d× in this call so far", h.Function, h.Line, h.Runs)
		if h.Params {
			tip = fmt.Sprintf("%s: its parameters as this call received them (an object a parameter still holds, as it is now)", h.Function)
		}
		// No Kind: values are neither parameter names nor types, and
		// editors draw kind-less hints in the plainest style.
		hints = append(hints, protocol.InlayHint{
			Position:    doc.lineEnd(n),
			Label:       protocol.String(h.Label),
			PaddingLeft: ptr(true),
			Tooltip:     protocol.String(tip),
		})
	}
	return hints
}
