// Package srcpath maps source paths between a recording and the editor
// (--substitute-path FROM=TO; substitutePath in LSP options and DAP launch
// arguments): the recording may have been made on another machine, in a
// container, or under a build directory. The language server and the debug
// adapter share it.
package srcpath

import (
	"path/filepath"
	"strings"
)

// Map maps paths: each pair is {recording prefix, editor prefix}, the first
// match wins. The zero Map maps every path to itself.
type Map struct {
	pairs [][2]string // cleaned
}

// NewMap makes a Map of {FROM, TO} pairs; pairs with an empty side are
// left out.
func NewMap(pairs [][2]string) Map {
	var m Map
	for _, p := range pairs {
		if p[0] == "" || p[1] == "" {
			continue
		}
		m.pairs = append(m.pairs, [2]string{filepath.Clean(p[0]), filepath.Clean(p[1])})
	}
	return m
}

// ToEditor maps a path of the recording to the editor's.
func (m Map) ToEditor(path string) string {
	if path == "" {
		return ""
	}
	path = filepath.Clean(path)
	for _, p := range m.pairs {
		if rest, ok := CutPrefix(path, p[0]); ok {
			return filepath.Join(p[1], rest)
		}
	}
	return path
}

// ToRecording maps an editor path to the recording's.
func (m Map) ToRecording(path string) string {
	path = filepath.Clean(path)
	for _, p := range m.pairs {
		if rest, ok := CutPrefix(path, p[1]); ok {
			return filepath.Join(p[0], rest)
		}
	}
	return path
}

// CutPrefix is strings.CutPrefix at a path boundary: /a/b is a prefix of
// /a/b/c but not of /a/bc.
func CutPrefix(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix)
	if !ok || (rest != "" && rest[0] != filepath.Separator && !strings.HasSuffix(prefix, string(filepath.Separator))) {
		return "", false
	}
	return rest, true
}
