// Package srcpath maps source paths between a recording and the editor
// (--substitute-path FROM=TO; substitutePath in LSP options and DAP launch
// arguments): the recording may have been made on another machine, in a
// container, or under a build directory. The language server and the debug
// adapter share it.
package srcpath

import (
	"encoding/json"
	"fmt"
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

// Option reads the substitutePath key of a JSON object of options (LSP
// initializationOptions, DAP launch arguments; where names them in errors):
// a list of {"from", "to"} pairs, in order. None when the key is absent.
func Option(opts json.RawMessage, where string) ([][2]string, error) {
	if len(opts) == 0 || string(opts) == "null" {
		return nil, nil
	}
	var a struct {
		SubstitutePath []struct {
			From string `json:"from"`
			To   string `json:"to"`
		} `json:"substitutePath"`
	}
	if err := json.Unmarshal(opts, &a); err != nil {
		return nil, fmt.Errorf(`%s: substitutePath is a list of {"from": "<the recording's path prefix>", "to": "<the editor's>"}: %v`, where, err)
	}
	var pairs [][2]string
	for _, p := range a.SubstitutePath {
		if p.From == "" || p.To == "" {
			return nil, fmt.Errorf(`%s: each substitutePath entry needs both "from" and "to"`, where)
		}
		pairs = append(pairs, [2]string{p.From, p.To})
	}
	return pairs, nil
}

// Missing says which file of the recording (recorded; path after the
// mapping) this machine does not have, and how to map the recording's
// paths to where the sources are here: the recording may come from a
// container or another machine.
func Missing(recorded, path string) string {
	looked := ""
	if path != recorded {
		looked = fmt.Sprintf(" (mapped to %s)", path)
	}
	dir := filepath.Dir(recorded)
	return fmt.Sprintf("the recording is in %s, which is not on this machine%s; if its sources are elsewhere here, "+
		"map the recording's directory to theirs: --substitute-path %s=/path/to/the/sources, or the option "+
		`substitutePath: [{"from": %q, "to": "/path/to/the/sources"}]`, recorded, looked, dir, dir)
}
