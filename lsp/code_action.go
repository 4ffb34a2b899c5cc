package lsp

import (
	"context"
	"strings"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/timelens/timelens/history"
)

// codeActionKind is the kind of every timelens code action: a source
// action, so editors list it with other whole-file actions, with its own
// suffix so that a client can ask for timelens actions alone.
const codeActionKind protocol.CodeActionKind = "source.timelens"

// CodeAction implements protocol.Server: the navigation of the code lenses
// (code_lens.go) that applies to the line of the range's start, for
// editors without code lenses.
func (s *server) CodeAction(ctx context.Context, params *protocol.CodeActionParams) ([]protocol.CommandOrCodeAction, error) {
	if !kindWanted(params.Context.Only) {
		return []protocol.CommandOrCodeAction{}, nil
	}
	doc, err := s.document(params.TextDocument.URI)
	if err != nil {
		s.log.Debug("code action", zap.Error(err))
		return []protocol.CommandOrCodeAction{}, nil
	}
	s.mu.Lock()
	literals := s.caps.codeActionLiterals
	s.mu.Unlock()
	line := int(params.Range.Start.Line)
	return readNow(ctx, s, func(tl *history.Timeline) ([]protocol.CommandOrCodeAction, error) {
		snap, err := s.snapshot(ctx, tl)
		if err != nil {
			return nil, err
		}
		var items []navItem
		for _, g := range s.navigation(doc, snap, line) {
			for _, it := range g.items {
				it.title = actionTitle(it, doc, g)
				items = append(items, it)
			}
		}
		items = append(items, runActions(doc, line)...)
		actions := []protocol.CommandOrCodeAction{}
		for _, it := range items {
			cmd, err := it.command()
			if err != nil {
				s.log.Warn("code action", zap.String("title", it.title), zap.Error(err))
				continue
			}
			cmd.Title = "timelens: " + it.title
			if !literals {
				actions = append(actions, &cmd)
				continue
			}
			actions = append(actions, &protocol.CodeAction{Title: cmd.Title, Kind: ptr(codeActionKind), Command: cmd})
		}
		return actions, nil
	})
}

// actionTitle says what a def's navigation is about, since a code action
// menu, unlike a lens, is not drawn above the def. The function's name goes
// before a trailing arrow: "next call of fib ▶".
func actionTitle(it navItem, doc *document, g navGroup) string {
	if it.cmd == cmdGotoEntry || it.cmd == cmdPreviousCall || it.cmd == cmdNextCall {
		if sc := doc.python().innermost(int(g.rng.Start.Line)); sc != nil {
			title, arrow := strings.CutSuffix(it.title, " ▶")
			if arrow {
				return title + " of " + sc.qualname + " ▶"
			}
			return title + " of " + sc.qualname
		}
	}
	return it.title
}

// kindWanted reports whether a client that asked only for these kinds
// wants ours.
func kindWanted(only []protocol.CodeActionKind) bool {
	if len(only) == 0 {
		return true
	}
	for _, k := range only {
		if k == codeActionKind || strings.HasPrefix(string(codeActionKind), string(k)+".") {
			return true
		}
	}
	return false
}
