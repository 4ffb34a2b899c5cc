package lsp

// What the server tells the editor without being asked: where time is after
// each move, and restarts of a lost debugger. Both run on goroutines of
// their own (see the goroutine model in server.go).

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/timelens/timelens/history"
	"github.com/timelens/timelens/srcpath"
)

// moveDone hands the new position to the notifier.
func (s *server) moveDone(p history.Position) {
	path := s.paths.ToEditor(p.File)
	s.mu.Lock()
	s.latest = &p
	if path != "" {
		s.recorded[path] = true
	}
	s.mu.Unlock()
	s.keepRecordedFiles([]string{path})
	select {
	case s.moved <- struct{}{}:
	default: // a wake-up is pending; it will read the latest position
	}
}

// notifier tells the editor where time is after each move: the "now"
// diagnostic, the new current line, and refreshes of hints and lenses. It
// runs on its own goroutine because these are requests to the client,
// answered through the read loop, and because a burst of moves needs only
// one round for the last of them.
func (s *server) notifier(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.moved:
		case <-s.edited:
			s.followEdits(ctx)
			continue
		}
		s.mu.Lock()
		pos, caps := s.latest, s.caps
		s.mu.Unlock()
		if pos != nil {
			s.announce(ctx, *pos, caps)
		}
	}
}

func (s *server) announce(ctx context.Context, pos history.Position, caps clientCaps) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	path := s.paths.ToEditor(pos.File)
	s.missingSource(pos.File, path)
	s.publishNow(ctx, path, pos)
	if caps.showDocument && path != "" {
		line, _, _ := s.editorLine(pos.File, max(pos.Line-1, 0))
		at := protocol.Position{Line: uint32(line)}
		_, err := s.client.ShowDocument(ctx, &protocol.ShowDocumentParams{
			URI: s.uriOf(path), TakeFocus: ptr(false), Selection: &protocol.Range{Start: at, End: at},
		})
		if err != nil {
			s.log.Debug("window/showDocument", zap.Error(err))
		}
	}
	if caps.inlayHintRefresh {
		if err := s.client.InlayHintRefresh(ctx); err != nil {
			s.log.Debug("workspace/inlayHint/refresh", zap.Error(err))
		}
	}
	if caps.codeLensRefresh {
		if err := s.client.CodeLensRefresh(ctx); err != nil {
			s.log.Debug("workspace/codeLens/refresh", zap.Error(err))
		}
	}
}

// publishNow marks the current line with a Hint diagnostic, for editors
// that cannot be asked to refresh inlay hints, and clears the mark from
// the file that had it.
func (s *server) publishNow(ctx context.Context, path string, pos history.Position) {
	s.mu.Lock()
	prev := s.nowFile
	s.nowFile = path
	s.mu.Unlock()
	if prev != "" && prev != path {
		if err := s.client.PublishDiagnostics(ctx, &protocol.PublishDiagnosticsParams{URI: s.uriOf(prev), Diagnostics: []protocol.Diagnostic{}}); err != nil {
			s.log.Debug("publishDiagnostics", zap.Error(err))
		}
	}
	if path == "" {
		return
	}
	// The mark follows the user's edits; a document that no longer matches
	// the recording has none.
	line, exact, matches := max(pos.Line-1, 0), true, true
	rng := protocol.Range{Start: protocol.Position{Line: uint32(line)}, End: protocol.Position{Line: uint32(line)}}
	doc, err := s.document(s.uriOf(path)) // open, else on disk
	if err == nil {
		line, exact, matches = s.nearLine(doc, line)
		if line < doc.lineCount() {
			rng = lineRange(doc, line)
		}
	}
	diags := []protocol.Diagnostic{}
	if matches {
		msg := fmt.Sprintf("⏵ now: %s, time %s", pos.Function, pos.Time)
		if !exact {
			msg += " (this line was edited since the recording ran it)"
		}
		diags = append(diags, protocol.Diagnostic{
			Range:    rng,
			Severity: protocol.DiagnosticSeverityHint,
			Source:   protocol.NewOptional("timelens"),
			Message:  protocol.String(msg),
		})
	} else {
		s.warnReplaced(doc)
	}
	if err := s.client.PublishDiagnostics(ctx, &protocol.PublishDiagnosticsParams{URI: s.uriOf(path), Diagnostics: diags}); err != nil {
		s.log.Debug("publishDiagnostics", zap.Error(err))
	}
}

// onRestart hears the timeline's restarts of a lost debugger. It runs on
// the timeline's goroutine, so it only queues the report for
// restartNotifier.
func (s *server) onRestart(r history.Restart) {
	s.mu.Lock()
	s.restarts = append(s.restarts, r)
	s.mu.Unlock()
	select {
	case s.restartWake <- struct{}{}:
	default:
	}
}

// restartNotifier tells the editor about restarts: $/progress while the
// debugger starts again (re-recording, for gdb), then a warning saying
// what happened and where time is, and a refresh of everything shown; or
// an error when the restart failed.
func (s *server) restartNotifier(ctx context.Context, tl *history.Timeline) {
	var p *progress
	defer func() {
		if p != nil {
			p.finish(ctx.Err())
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.restartWake:
		}
		s.mu.Lock()
		queue := s.restarts
		s.restarts = nil
		s.mu.Unlock()
		for _, r := range queue {
			if !r.Done {
				if p == nil {
					p = newProgress(s, restartToken)
					go p.run(ctx)
				}
				p.update(r.Message(), -1)
				continue
			}
			if p != nil {
				p.finish(r.Err)
				p = nil
			}
			if r.Err != nil {
				s.showMessage(protocol.MessageTypeError, "timelens: "+r.Message())
				continue
			}
			s.showMessage(protocol.MessageTypeWarning, "timelens: "+r.Message())
			if pos, err := tl.Where(ctx); err == nil {
				s.moveDone(pos)
			}
		}
	}
}

// missingSource tells the user, once per file, that time is in a file of
// the recording that this machine does not have at path (the recorded path
// after --substitute-path), unless the editor has it open.
func (s *server) missingSource(recorded, path string) {
	if !filepath.IsAbs(path) {
		return // <string>, <frozen importlib._bootstrap>: code without a file
	}
	s.mu.Lock()
	told, open := s.missing[path], s.docs[path] != nil
	if !told && !open {
		if s.missing == nil {
			s.missing = map[string]bool{}
		}
		s.missing[path] = true
	}
	s.mu.Unlock()
	if told || open {
		return
	}
	if _, err := os.Stat(path); err == nil {
		return
	}
	s.showMessage(protocol.MessageTypeWarning, "timelens: "+srcpath.Missing(recorded, path))
}

func (s *server) showMessage(typ protocol.MessageType, msg string) {
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	if err := s.client.ShowMessage(ctx, &protocol.ShowMessageParams{Type: typ, Message: msg}); err != nil {
		s.log.Debug("window/showMessage", zap.Error(err))
	}
}
