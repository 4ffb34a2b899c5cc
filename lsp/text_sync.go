package lsp

import (
	"context"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"
)

// The text synchronization notifications run on the read loop, in order:
// features need the editor's text to place hints at line ends (in UTF-16
// columns), to find the expression under the cursor, and to follow the
// code the user edits (edits.go).

// DidOpen implements protocol.Server. The first time a file opens, the
// text the recording ran is kept (edits.go: keepRecorded).
func (s *server) DidOpen(_ context.Context, params *protocol.DidOpenTextDocumentParams) error {
	td := params.TextDocument
	d := newDocument(td.URI, editorPath(td.URI), td.Version, td.Text)
	s.keepRecorded(d.path, &td.Text)
	s.mu.Lock()
	s.docs[d.path] = d
	s.mu.Unlock()
	s.noteEdit(d.path)
	return nil
}

// DidChange implements protocol.Server.
func (s *server) DidChange(_ context.Context, params *protocol.DidChangeTextDocumentParams) error {
	path := editorPath(params.TextDocument.URI)
	if s.change(path, params) {
		s.noteEdit(path)
	}
	return nil
}

// change applies the changes to the open document at path, and reports
// whether it changed.
func (s *server) change(path string, params *protocol.DidChangeTextDocumentParams) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.docs[path]
	if d == nil {
		s.log.Warn("didChange of a document that is not open", zap.String("uri", string(params.TextDocument.URI)))
		return false
	}
	for _, c := range params.ContentChanges {
		next, err := d.apply(params.TextDocument.Version, c)
		if err != nil {
			// Out of sync: keep the last good text rather than guess.
			s.log.Warn("didChange", zap.String("uri", string(d.uri)), zap.Error(err))
			return false
		}
		d = next
	}
	s.docs[path] = d
	return true
}

// DidClose implements protocol.Server.
func (s *server) DidClose(_ context.Context, params *protocol.DidCloseTextDocumentParams) error {
	s.mu.Lock()
	delete(s.docs, editorPath(params.TextDocument.URI))
	s.mu.Unlock()
	return nil
}
