package lsp

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
	"go.uber.org/zap"

	"github.com/timelens/timelens/history"
)

// Following the user's edits: the server keeps, per file, the text the
// recording ran (recordedSources), compares each version of a document with
// it (a LineMap, linemap.go, cached on the document), and converts every
// line that crosses between the timeline and the editor with the two
// functions below: editorLine (recorded to editor: hints, lenses, the "now"
// mark, showDocument, positions, hover) and recordedLine (editor to
// recorded: command arguments that name a line). functionAt finds the
// function around a line of the editor's text as the recording names it.

// ErrLineEdited means a line of the editor's document is not a line the
// recording ran: the user changed it, or added it, since.
var ErrLineEdited = errors.New("the line was edited after the recording ran, so the recording knows nothing of it; undo the edit, or pick a line that did not change")

// ErrTextReplaced means the editor's document no longer matches the text
// the recording ran (another file's text, a revert to another version).
var ErrTextReplaced = errors.New("the document no longer matches the text the recording ran, so timelens shows none of its values; undo the changes (or reopen the file as it was when it ran) to see them again")

// recordedSources holds, per editor path, the text the recording ran: the
// recording's copy (Config.RecordedText), else the file as the session
// first read it (when the editor opened it, or when a frame or a request
// first named it), else the editor's text when the file cannot be read.
// It is kept for the whole session, across didClose.
type recordedSources struct {
	mu     sync.Mutex
	texts  map[string]*recordedSource
	warned map[string]bool // paths told that they no longer match
}

// recordedSource is one file's recorded text, prepared on first use.
type recordedSource struct {
	text string
	once sync.Once
	rec  *recordedText
}

func (r *recordedSource) prepared() *recordedText {
	r.once.Do(func() { r.rec = newRecordedText(r.text) })
	return r.rec
}

// keep makes text path's recorded text unless it has one, and returns the
// one it has.
func (r *recordedSources) keep(path, text string) *recordedSource {
	r.mu.Lock()
	defer r.mu.Unlock()
	if src := r.texts[path]; src != nil {
		return src
	}
	if r.texts == nil {
		r.texts = map[string]*recordedSource{}
	}
	src := &recordedSource{text: text}
	r.texts[path] = src
	return src
}

func (r *recordedSources) has(path string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.texts[path] != nil
}

// warn reports whether path has yet to be told that it no longer matches,
// and notes that it is being told.
func (r *recordedSources) warn(path string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.warned[path] {
		return false
	}
	if r.warned == nil {
		r.warned = map[string]bool{}
	}
	r.warned[path] = true
	return true
}

// matchesAgain forgets that path was told, so that it is told again the
// next time it stops matching.
func (r *recordedSources) matchesAgain(path string) {
	r.mu.Lock()
	delete(r.warned, path)
	r.mu.Unlock()
}

// keepRecorded keeps the text path had when the recording ran, unless it
// has it already: the recording's copy, else the file on disk now (at
// didOpen the editor's text may hold changes not saved yet), else
// fallback when there is one.
func (s *server) keepRecorded(path string, fallback *string) {
	if path == "" || s.sources.has(path) {
		return
	}
	if s.cfg.RecordedText != nil {
		if text, ok := s.cfg.RecordedText(s.paths.ToRecording(path)); ok {
			s.sources.keep(path, text)
			return
		}
	}
	text, err := readSource(path)
	switch {
	case err == nil:
		s.sources.keep(path, text)
	case fallback != nil:
		s.sources.keep(path, *fallback)
	}
}

// keepRecordedFiles keeps the recorded text of files the recording
// has, as soon as the session learns of them: a file the editor opens
// later may have been changed on disk by then.
func (s *server) keepRecordedFiles(paths []string) {
	for _, path := range paths {
		s.keepRecorded(path, nil)
	}
}

// lineMap returns how doc's lines relate to the recorded text of its file,
// computed once per document version.
func (s *server) lineMap(doc *document) *LineMap {
	doc.linesOnce.Do(func() {
		doc.lines = s.sources.keep(doc.path, doc.text).prepared().mapDocument(doc)
		if doc.lines.Matches() {
			s.sources.matchesAgain(doc.path)
		}
	})
	return doc.lines
}

// ranText returns the prepared recorded text of doc's file.
func (s *server) ranText(doc *document) *recordedText {
	return s.sources.keep(doc.path, doc.text).prepared()
}

// editorLine converts line (0-based) of file, a path as the recording
// names it, to the line of the editor's text of that file (the open
// document, else the file on disk). exact is false when the line's text
// changed or went away (line is then where it was, LineMap.Near) and when
// the text no longer matches the recording at all (matches false).
func (s *server) editorLine(file string, line int) (now int, exact, matches bool) {
	path := s.paths.ToEditor(file)
	if path == "" {
		return line, true, true
	}
	doc, err := s.document(s.uriOf(path))
	if err != nil {
		return line, true, true // nothing to compare with: as recorded
	}
	return s.nearLine(doc, line)
}

// nearLine is editorLine for a document at hand.
func (s *server) nearLine(doc *document, line int) (now int, exact, matches bool) {
	m := s.lineMap(doc)
	now, exact = m.Near(line)
	return now, exact, m.Matches()
}

// hintsNow moves the timeline's hints for doc (on recorded lines) to
// their lines in doc, leaving out lines the user changed; when doc no
// longer matches the recording there are none, and the editor is told.
func (s *server) hintsNow(doc *document, hints []history.LineHint) []history.LineHint {
	m := s.lineMap(doc)
	if !m.Matches() && len(hints) > 0 {
		s.warnReplaced(doc)
	}
	return m.MoveHints(hints)
}

// recordedLine converts line (0-based) of the editor's document at u to
// the line of the text the recording ran: ErrTextReplaced when the
// document no longer matches it, ErrLineEdited when the recording never
// ran this line's text there. Every command argument that names a line of
// a document goes through it.
func (s *server) recordedLine(u uri.URI, line int) (int, error) {
	doc, err := s.document(u)
	if err != nil {
		return 0, err
	}
	m := s.lineMap(doc)
	if !m.Matches() {
		return 0, fmt.Errorf("%s: %w", filepath.Base(doc.path), ErrTextReplaced)
	}
	rec, ok := m.Recorded(line)
	if !ok {
		return 0, fmt.Errorf("%s:%d: %w", filepath.Base(doc.path), line+1, ErrLineEdited)
	}
	return rec, nil
}

// functionAt returns the function around line (0-based) of doc as the
// recording names it, and its block in the recorded text (nil when there
// is none): found in the recorded text through the line, or through
// another line of the same block when the user changed or added this one
// (a def renamed since is still the function that ran); a block with no
// line the recording ran is the editor's.
func (s *server) functionAt(doc *document, line int) (string, *scope) {
	m := s.lineMap(doc)
	recordedAt := func(rec int) (string, *scope) {
		src := s.ranText(doc).doc.python()
		return src.functionAt(rec), src.innermost(rec)
	}
	if rec, ok := m.Recorded(line); ok {
		return recordedAt(rec)
	}
	src := doc.python()
	sc := src.innermost(line)
	if sc == nil {
		return src.functionAt(line), nil
	}
	for l := sc.def; l <= sc.end; l++ {
		if rec, ok := m.Recorded(l); ok && src.innermost(l) == sc {
			return recordedAt(rec)
		}
	}
	return sc.qualname, nil
}

// functions returns the qualified names of the defs of doc's file as the
// recording ran it.
func (s *server) functions(doc *document) []string {
	return s.ranText(doc).doc.python().functions()
}

// noteEdit runs on the read loop after a document changed or opened: the
// notifier moves the "now" mark with the text, and asks for lenses again
// when the file is one of the recording's.
func (s *server) noteEdit(path string) {
	s.mu.Lock()
	if s.recorded[path] || path == s.nowFile {
		s.editedRecorded = true
	}
	s.mu.Unlock()
	s.wakeEdits()
}

func (s *server) wakeEdits() {
	select {
	case s.edited <- struct{}{}:
	default: // a wake-up is pending
	}
}

// warnReplaced tells the editor, once until it matches again, that doc
// no longer matches the text the recording ran and shows no values. The
// notifier sends the message.
func (s *server) warnReplaced(doc *document) {
	if !s.sources.warn(doc.path) {
		return
	}
	kept, of := s.lineMap(doc).Kept()
	msg := fmt.Sprintf("timelens: %s no longer matches the text the recording ran (%d of its %d lines are left), so it shows none of the recording's values; undo the changes to see them again",
		filepath.Base(doc.path), kept, of)
	s.log.Info("document no longer matches the recording", zap.String("path", doc.path), zap.Int("kept", kept), zap.Int("of", of))
	s.mu.Lock()
	s.notices = append(s.notices, msg)
	s.mu.Unlock()
	s.wakeEdits()
}

// followEdits runs on the notifier after edits: it sends the pending
// notices, moves the "now" mark to where its line is now, and asks for
// code lenses again (editors ask for inlay hints again by themselves after
// a change).
func (s *server) followEdits(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second) // as announce: an editor that does not answer
	defer cancel()
	s.mu.Lock()
	notices, pos, caps, nowFile, lenses := s.notices, s.latest, s.caps, s.nowFile, s.editedRecorded
	s.notices, s.editedRecorded = nil, false
	s.mu.Unlock()
	for _, msg := range notices {
		s.showMessage(protocol.MessageTypeWarning, msg)
	}
	if pos != nil && nowFile != "" && nowFile == s.paths.ToEditor(pos.File) {
		s.publishNow(ctx, nowFile, *pos)
	}
	if lenses && caps.codeLensRefresh {
		if err := s.client.CodeLensRefresh(ctx); err != nil {
			s.log.Debug("workspace/codeLens/refresh", zap.Error(err))
		}
	}
}
