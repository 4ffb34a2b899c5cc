package lsp

import (
	"context"
	"fmt"
	"sort"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/timelens/timelens/history"
)

// InlayHint implements protocol.Server: at the end of each line that the
// current call of its function has run, the values the line assigned
// (history.LineRuns.Label), for the current frame and every caller on the
// stack whose file is this document.
func (s *server) InlayHint(ctx context.Context, params *protocol.InlayHintParams) ([]protocol.InlayHint, error) {
	doc, err := s.document(params.TextDocument.URI)
	if err != nil {
		s.log.Debug("inlay hints", zap.Error(err))
		return []protocol.InlayHint{}, nil
	}
	return readNow(ctx, s, func(tl *history.Timeline) ([]protocol.InlayHint, error) {
		snap, err := s.snapshot(ctx, tl)
		if err != nil {
			return nil, err
		}
		hints := []protocol.InlayHint{}
		taken := map[int]bool{} // lines already annotated by an inner frame
		seen := map[string]bool{}
		for depth, f := range snap.Frames {
			if s.paths.toEditor(f.File) != doc.path || seen[f.Function] {
				continue
			}
			// A recursive function shows its innermost call: the one whose
			// lines run now.
			seen[f.Function] = true
			lh, err := tl.Lines(ctx, depth)
			if err != nil {
				if ctx.Err() != nil {
					return nil, err
				}
				s.log.Warn("line history", zap.String("function", f.Function), zap.Int("depth", depth), zap.Error(err))
				continue
			}
			hints = append(hints, lineHints(doc, lh, params.Range, taken)...)
		}
		sort.Slice(hints, func(i, j int) bool { return hints[i].Position.Line < hints[j].Position.Line })
		return hints, nil
	})
}

// lineHints turns the line history of one call into hints at line ends,
// for the lines inside rng that no inner frame has annotated.
func lineHints(doc *document, lh *history.LineHistory, rng protocol.Range, taken map[int]bool) []protocol.InlayHint {
	var hints []protocol.InlayHint
	for line, runs := range lh.Lines {
		n := line - 1
		if n < int(rng.Start.Line) || n > int(rng.End.Line) || n >= doc.lineCount() || taken[n] {
			continue
		}
		label := runs.Label()
		if label == "" {
			continue
		}
		taken[n] = true
		// No Kind: values are neither parameter names nor types, and
		// editors draw kind-less hints in the plainest style.
		hints = append(hints, protocol.InlayHint{
			Position:    doc.lineEnd(n),
			Label:       protocol.String(label),
			PaddingLeft: ptr(true),
			Tooltip:     protocol.String(fmt.Sprintf("%s, line %d: ran %d× in this call so far", lh.Function, line, runs.Runs)),
		})
	}
	return hints
}
