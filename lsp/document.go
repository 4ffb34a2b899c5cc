package lsp

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"unicode/utf16"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

// document is the text of one source file as the editor has it, with the
// conversions between LSP positions (0-based line, UTF-16 column) and byte
// offsets. It is immutable: a change makes a new one.
type document struct {
	uri     uri.URI
	path    string // editor path
	version int32
	text    string
	starts  []int // byte offset where each line starts

	srcOnce sync.Once
	src     *pySource

	// The lines of this version against the recorded text (lineMap).
	linesOnce sync.Once
	lines     *LineMap
}

func newDocument(u uri.URI, path string, version int32, text string) *document {
	starts := make([]int, 1, strings.Count(text, "\n")+1)
	for i := 0; ; {
		n := strings.IndexByte(text[i:], '\n')
		if n < 0 {
			break
		}
		i += n + 1
		starts = append(starts, i)
	}
	return &document{uri: u, path: path, version: version, text: text, starts: starts}
}

// python returns what the text says as Python source, scanned on first use.
func (d *document) python() *pySource {
	d.srcOnce.Do(func() { d.src = scanPython(d) })
	return d.src
}

// lineCount is the number of lines (a final newline starts an empty one).
func (d *document) lineCount() int { return len(d.starts) }

// line returns line n (0-based) without its line ending.
func (d *document) line(n int) string {
	if n < 0 || n >= len(d.starts) {
		return ""
	}
	end := len(d.text)
	if n+1 < len(d.starts) {
		end = d.starts[n+1] - 1
	}
	return strings.TrimSuffix(d.text[d.starts[n]:end], "\r")
}

// lineEnd is the position just after the last character of line n.
func (d *document) lineEnd(n int) protocol.Position {
	return protocol.Position{Line: uint32(n), Character: utf16Len(d.line(n))}
}

// offset converts a position to a byte offset in text. A character past
// the end of its line means the end of the line (as the specification
// says); a line past the end is an error.
func (d *document) offset(p protocol.Position) (int, error) {
	n := int(p.Line)
	if n >= len(d.starts) {
		if n == len(d.starts) && p.Character == 0 {
			return len(d.text), nil
		}
		return 0, fmt.Errorf("line %d is past the end of %s (%d lines)", n+1, d.path, len(d.starts))
	}
	return d.starts[n] + byteCol(d.line(n), p.Character), nil
}

// byteCol converts a UTF-16 column of line to a byte column.
func byteCol(line string, char uint32) int {
	var units uint32
	for i, r := range line {
		if units >= char {
			return i
		}
		units += uint32(utf16.RuneLen(r)) // range yields only valid runes or RuneError (1 unit)
	}
	return len(line)
}

// utf16Len is the length of s in UTF-16 code units.
func utf16Len(s string) uint32 {
	var n uint32
	for _, r := range s {
		n += uint32(utf16.RuneLen(r))
	}
	return n
}

// utf16Col converts a byte column of line to a UTF-16 column.
func utf16Col(line string, col int) uint32 {
	return utf16Len(line[:min(col, len(line))])
}

// apply returns the document after one content change.
func (d *document) apply(version int32, change protocol.TextDocumentContentChangeEvent) (*document, error) {
	switch c := change.(type) {
	case *protocol.TextDocumentContentChangeWholeDocument:
		return newDocument(d.uri, d.path, version, c.Text), nil
	case *protocol.TextDocumentContentChangePartial:
		start, err := d.offset(c.Range.Start)
		if err != nil {
			return nil, err
		}
		end, err := d.offset(c.Range.End)
		if err != nil {
			return nil, err
		}
		if end < start {
			return nil, fmt.Errorf("change range ends (%d:%d) before it starts (%d:%d)",
				c.Range.End.Line, c.Range.End.Character, c.Range.Start.Line, c.Range.Start.Character)
		}
		return newDocument(d.uri, d.path, version, d.text[:start]+c.Text+d.text[end:]), nil
	}
	return nil, fmt.Errorf("unknown content change %T", change)
}

// document returns the open document at path, else the file read from
// disk: commands and hovers may name files the editor has not opened.
func (s *server) document(u uri.URI) (*document, error) {
	path := editorPath(u)
	s.mu.Lock()
	d := s.docs[path]
	s.mu.Unlock()
	if d != nil {
		return d, nil
	}
	text, err := readSource(path)
	if err != nil {
		return nil, fmt.Errorf("%s is not open in the editor and cannot be read: %w", u, err)
	}
	s.keepRecorded(path, &text)
	return newDocument(u, path, 0, text), nil
}

// maxSource bounds the source files read from disk.
const maxSource = 64 << 20

// readSource reads a source file from disk. It runs on the read loop at
// didOpen, so it reads nothing that could take forever: a device or a pipe
// (file:///dev/zero), or a file of size 0, which is empty or one the kernel
// makes up as it is read (/proc/kmsg blocks); those read as "" or an error.
func readSource(path string) (string, error) {
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return "", err
	case !fi.Mode().IsRegular():
		return "", fmt.Errorf("not a regular file (%v)", fi.Mode().Type())
	case fi.Size() == 0:
		return "", nil
	case fi.Size() > maxSource:
		return "", fmt.Errorf("%d bytes: too large for a source file", fi.Size())
	}
	data, err := os.ReadFile(path)
	return string(data), err
}
