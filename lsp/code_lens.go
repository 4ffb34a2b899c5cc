package lsp

import (
	"context"
	"encoding/json"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/timelens/timelens/history"
)

// CodeLens implements protocol.Server: time navigation where it applies.
// On the current line: back and forth by step, next and finish. On every
// def of a file of the recording: the entry of the call on the stack (when
// there is one), and the previous and next call.
func (s *server) CodeLens(ctx context.Context, params *protocol.CodeLensParams) ([]protocol.CodeLens, error) {
	doc, err := s.document(params.TextDocument.URI)
	if err != nil {
		s.log.Debug("code lens", zap.Error(err))
		return []protocol.CodeLens{}, nil
	}
	return readNow(ctx, s, func(tl *history.Timeline) ([]protocol.CodeLens, error) {
		snap, err := s.snapshot(ctx, tl)
		if err != nil {
			return nil, err
		}
		lenses := []protocol.CodeLens{}
		for _, g := range s.navigation(doc, snap, -1) {
			for _, it := range g.items {
				cmd, err := it.command()
				if err != nil { // best effort: one bad lens does not hide the others
					s.log.Warn("code lens", zap.String("title", it.title), zap.Error(err))
					continue
				}
				lenses = append(lenses, protocol.CodeLens{Range: g.rng, Command: cmd})
			}
		}
		return lenses, nil
	})
}

// navGroup is navigation offered at one place of a document.
type navGroup struct {
	rng   protocol.Range
	items []navItem
}

// navItem is one navigation: a title and a timelens command.
type navItem struct {
	title string
	cmd   string
	args  any // nil for none
}

func (it navItem) command() (protocol.Command, error) {
	c := protocol.Command{Title: it.title, Command: it.cmd}
	if it.args != nil {
		raw, err := json.Marshal(it.args)
		if err != nil {
			return protocol.Command{}, err
		}
		c.Arguments = []protocol.LSPAny{raw}
	}
	return c, nil
}

// The lenses of the current line, in the order an editor shows them.
var currentLineItems = []navItem{
	{title: "◀ step back", cmd: cmdReverseStep},
	{title: "step ▶", cmd: cmdStep},
	{title: "◀ next", cmd: cmdReverseNext},
	{title: "next ▶", cmd: cmdNext},
	{title: "◀ caller", cmd: cmdReverseFinish},
	{title: "finish ▶", cmd: cmdFinish},
}

// navigation lists what can be done from doc at snap: the current line's
// moves, and the call navigation of every def. With only >= 0, just what
// applies to that line (for code actions).
func (s *server) navigation(doc *document, snap *history.Snapshot, only int) []navGroup {
	var groups []navGroup
	if top := snap.Top(); top != nil && s.paths.ToEditor(top.File) == doc.path {
		if line, _, matches := s.nearLine(doc, top.Line-1); matches && line < doc.lineCount() && (only < 0 || only == line) {
			groups = append(groups, navGroup{rng: lineRange(doc, line), items: currentLineItems})
		}
	}
	s.mu.Lock()
	recorded := s.recorded[doc.path]
	s.mu.Unlock()
	if !recorded {
		return groups
	}
	src := doc.python()
	for _, d := range src.defs() {
		if only >= 0 && (only < d.def || only > d.end) {
			continue
		}
		if only >= 0 && src.innermost(only) != nil && src.innermost(only).def != d.def {
			continue // the code action is about the innermost function only
		}
		var items []navItem
		name, sc := s.functionAt(doc, d.def) // as the recording names it
		if s.depthOf(snap, doc.path, name, sc) >= 0 {
			items = append(items, navItem{title: "entry", cmd: cmdGotoEntry, args: map[string]any{"uri": doc.uri, "line": d.def}})
		}
		fn := map[string]string{"function": name}
		items = append(items,
			navItem{title: "◀ previous call", cmd: cmdPreviousCall, args: fn},
			navItem{title: "next call ▶", cmd: cmdNextCall, args: fn})
		groups = append(groups, navGroup{rng: lineRange(doc, d.def), items: items})
	}
	return groups
}

// lineRange spans the text of a line, from its indentation to its end.
func lineRange(doc *document, line int) protocol.Range {
	text := doc.line(line)
	indent := len(text) - len(trimIndent(text))
	return protocol.Range{
		Start: protocol.Position{Line: uint32(line), Character: utf16Col(text, indent)},
		End:   doc.lineEnd(line),
	}
}
