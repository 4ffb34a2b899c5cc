package main

import (
	"github.com/timelens/timelens/pyext/session"

	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/timelens/timelens/lsp"
	"github.com/timelens/timelens/pyext"
)

// The text a recording ran. CPython reads a module's source as it imports
// it, and the recording's line numbers count that text's lines. When the
// file changes later (a line edited, a line added above), annotate and lsp
// compare the file as it is with the text that ran (lsp.MapLines) and show
// each value only on a line that still has its text. A live session reads
// that text from disk as it starts; a saved gdb recording is replayed
// later, when the files may have changed, so timelens record keeps a copy
// in the recording directory (pyext.SourcesFile).

// savedSources is the content of pyext.SourcesFile.
type savedSources struct {
	// Files holds the text of each file when the recording ran, by
	// absolute path.
	Files map[string]string `json:"files"`
}

// Bounds of what record keeps: the script always, the other files of its
// directory while they fit.
const (
	maxSourceFiles = 200
	maxSourceBytes = 8 << 20
)

// readProgramSources reads, before the recording runs them, PROGRAM's
// script and the other .py files of its directory (not below); nil when
// PROGRAM runs no .py file.
func readProgramSources(program []string) map[string]string {
	script := session.Script(program)
	if !strings.HasSuffix(script, ".py") {
		return nil
	}
	abs, err := filepath.Abs(script)
	if err != nil {
		return nil
	}
	beside, _ := filepath.Glob(filepath.Join(filepath.Dir(abs), "*.py"))
	files, total := map[string]string{}, 0
	for _, name := range slices.Concat([]string{abs}, beside) {
		if _, ok := files[name]; ok || len(files) == maxSourceFiles {
			continue
		}
		fi, err := os.Stat(name)
		if err != nil || !fi.Mode().IsRegular() || total+int(fi.Size()) > maxSourceBytes {
			continue
		}
		if data, err := os.ReadFile(name); err == nil {
			files[name] = string(data)
			total += len(data)
		}
	}
	return files
}

// writeSources keeps files in the recording directory dir.
func writeSources(dir string, files map[string]string) error {
	if len(files) == 0 {
		return nil
	}
	data, err := json.Marshal(savedSources{Files: files})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, pyext.SourcesFile), data, 0o644)
}

// recordedSources returns a lookup of the text a file had when the
// recording ran, from the copy in recording (a directory made by timelens
// record); it finds nothing for other recordings, and when recording is
// "" (a live session reads the files as it starts). The copy is read on
// first use.
func recordedSources(recording string) func(path string) (string, bool) {
	var once sync.Once
	var files map[string]string
	return func(path string) (string, bool) {
		once.Do(func() {
			if recording == "" {
				return
			}
			data, err := os.ReadFile(filepath.Join(recording, pyext.SourcesFile))
			if err != nil {
				return
			}
			var saved savedSources
			if json.Unmarshal(data, &saved) == nil {
				files = saved.Files
			}
		})
		text, ok := files[path]
		return text, ok
	}
}

// annotatedFile reads annotate's FILE again once the session has started
// and compares it with the text the recording ran: the recording's copy
// when it keeps one, else src, FILE as annotate read it before the
// recording ran. rec is FILE as the recording names it (--substitute-path).
func annotatedFile(inv *invocation, file, rec, src string) (fileNow, error) {
	now, err := os.ReadFile(file)
	if err != nil {
		return fileNow{}, err
	}
	ran := src
	if saved, ok := recordedSources(inv.opts.Recording)(rec); ok {
		ran = saved
	}
	return compareWithRecording(inv.stderr, rec, ran, string(now)), nil
}

// fileNow is annotate's FILE as it is now, against the text the recording
// ran.
type fileNow struct {
	path  string
	ran   string // the text the recording ran
	text  string // the text now
	lines *lsp.LineMap
}

// compareWithRecording compares file's text now with ran, the text the
// recording ran, and says on stderr when they differ.
func compareWithRecording(stderr io.Writer, path, ran, now string) fileNow {
	m := lsp.MapLines(ran, now)
	kept, of := m.Kept()
	switch {
	case !m.Matches():
		fmt.Fprintf(stderr, "timelens annotate: %s is not the text the recording ran (%d of its %d lines are left), so no values are shown; annotate the file as it was when it ran\n",
			filepath.Base(path), kept, of)
	case !m.Unchanged():
		fmt.Fprintf(stderr, "timelens annotate: %s changed since the recording ran it: values show on the lines that kept their text (%d of %d), none on lines changed or added since\n",
			filepath.Base(path), kept, of)
	}
	return fileNow{path: path, ran: ran, text: now, lines: m}
}

// lineNow converts a line (1-based) of file as the recording ran it to
// the line where it is now, or was (lsp.LineMap.Near), when file is this
// file and still matches the recording; other lines stay as they are.
func (f fileNow) lineNow(file string, line int) int {
	if file != f.path || !f.lines.Matches() || line < 1 {
		return line
	}
	now, _ := f.lines.Near(line - 1)
	return now + 1
}

// recordedAt converts --at FILE:LINE, when FILE is this file, from a line
// of the file now to the line the recording ran; any other WHERE is
// returned as it is.
func (f fileNow) recordedAt(where string) (string, error) {
	name, line, ok := strings.Cut(where, ":")
	n, err := strconv.Atoi(line)
	abs, _ := filepath.Abs(name)
	if !ok || err != nil || (abs != f.path && filepath.Base(name) != filepath.Base(f.path)) {
		return where, nil
	}
	switch rec, ok := f.lines.Recorded(n - 1); {
	case !f.lines.Matches():
		return "", fmt.Errorf("--at %s: %w", where, lsp.ErrTextReplaced)
	case !ok:
		return "", fmt.Errorf("--at %s: %w", where, lsp.ErrLineEdited)
	default:
		return fmt.Sprintf("%s:%d", name, rec+1), nil
	}
}
