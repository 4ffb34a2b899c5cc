package lsp

import (
	"path/filepath"
	"strings"

	"go.lsp.dev/uri"
)

// pathMap maps source paths between the recording and the editor
// (Config.SubstitutePath): the recording may have been made on another
// machine, in a container, or under a build directory.
type pathMap struct {
	pairs [][2]string // {recording prefix, editor prefix}, cleaned
}

func newPathMap(pairs [][2]string) pathMap {
	var m pathMap
	for _, p := range pairs {
		if p[0] == "" || p[1] == "" {
			continue
		}
		m.pairs = append(m.pairs, [2]string{filepath.Clean(p[0]), filepath.Clean(p[1])})
	}
	return m
}

// toEditor maps a path of the recording to the editor's.
func (m pathMap) toEditor(path string) string {
	if path == "" {
		return ""
	}
	path = filepath.Clean(path)
	for _, p := range m.pairs {
		if rest, ok := cutPathPrefix(path, p[0]); ok {
			return filepath.Join(p[1], rest)
		}
	}
	return path
}

// toRecording maps an editor path to the recording's.
func (m pathMap) toRecording(path string) string {
	path = filepath.Clean(path)
	for _, p := range m.pairs {
		if rest, ok := cutPathPrefix(path, p[1]); ok {
			return filepath.Join(p[0], rest)
		}
	}
	return path
}

// cutPathPrefix is strings.CutPrefix at a path boundary: /a/b is a prefix
// of /a/b/c but not of /a/bc.
func cutPathPrefix(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix)
	if !ok || (rest != "" && rest[0] != filepath.Separator && !strings.HasSuffix(prefix, string(filepath.Separator))) {
		return "", false
	}
	return rest, true
}

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
