package lsp

import (
	"github.com/timelens/timelens/srcpath"
	"path/filepath"

	"go.lsp.dev/uri"
)

// pathMap maps source paths between the recording and the editor
// (Config.SubstitutePath).
type pathMap = srcpath.Map

func newPathMap(pairs [][2]string) pathMap { return srcpath.NewMap(pairs) }

// editorPath is the cleaned file system path of a document URI; documents
// are keyed by it, so that two spellings of one URI meet.
func editorPath(u uri.URI) string {
	if u == "" {
		return ""
	}
	return filepath.Clean(u.FsPath())
}

// uriOf is the URI the editor uses for path: the open document's, or a
// file URI.
func (s *server) uriOf(path string) uri.URI {
	s.mu.Lock()
	d := s.docs[path]
	s.mu.Unlock()
	if d != nil {
		return d.uri
	}
	if path == "" {
		return ""
	}
	return uri.File(path)
}
