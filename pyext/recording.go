package pyext

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/history"
)

// A gdb recording made by `timelens record --backend gdb` is a directory
// holding gdb's execution log (`record save`: a core file of the window's
// first moment plus the log of every recorded instruction) and a manifest.
// A new gdb restores it (`target core` + `record full restore`) and replays
// it without a live process.
const (
	// ManifestFile names the manifest inside a recording directory; its
	// presence is what makes a directory a gdb recording (gdbmi.DetectKind).
	ManifestFile = gdbmi.SavedRecordingManifest
	// LogFile names gdb's saved execution log inside a recording directory.
	LogFile = "gdb-record-full.core"
	// ManifestFormat is the version of the manifest and directory layout.
	ManifestFormat = 1
	// SourcesFile names, inside a recording directory, the text of the
	// program's source files when the recording ran ({"files": {path:
	// text}}, written by timelens record): a restore parses those, not the
	// files as they are when it is replayed.
	SourcesFile = "timelens-sources.json"
)

// Manifest describes a saved gdb recording.
type Manifest struct {
	// Format is ManifestFormat when the recording was made.
	Format int `json:"format"`
	// Backend is "gdb".
	Backend string `json:"backend"`
	// Program is the command that was recorded (PROGRAM ARGS).
	Program []string `json:"program"`
	// Python is the absolute path of the executable gdb ran: a restore
	// needs its symbols.
	Python string `json:"python"`
	// RecordFrom is the function whose first call started the window
	// (empty: the main module's first line).
	RecordFrom string `json:"recordFrom,omitempty"`
	// GDBVersion is the version of the gdb that saved the log.
	GDBVersion string `json:"gdbVersion"`
	// FirstTime is the window's first time point.
	FirstTime history.Time `json:"firstTime"`
	// Log is the file name of gdb's log, inside the directory.
	Log string `json:"log"`
	// Window is what the recording reported (why the window ended, its size).
	Window map[string]any `json:"window"`
	// Created is when the recording was saved (UTC, RFC 3339).
	Created string `json:"created"`
}

// ReadManifest reads the manifest of the recording directory dir.
func ReadManifest(dir string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("%s is not a timelens gdb recording (made by timelens record --backend gdb): %w", dir, err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: bad manifest %s: %w", dir, ManifestFile, err)
	}
	if m.Format != ManifestFormat {
		return nil, fmt.Errorf("%s has recording format %d; this timelens reads format %d (record it again with this timelens)", dir, m.Format, ManifestFormat)
	}
	if m.Backend != "gdb" || m.Log == "" || m.Python == "" {
		return nil, fmt.Errorf("%s: manifest %s lacks backend gdb, log or python; record it again", dir, ManifestFile)
	}
	if _, err := os.Stat(filepath.Join(dir, m.Log)); err != nil {
		return nil, fmt.Errorf("%s: gdb's log is missing: %w", dir, err)
	}
	return &m, nil
}

// Save writes the recorded window to dir (which must not exist yet, or be
// empty): gdb's log and the manifest. Time must be at the window's first
// line event, where Open leaves it; it stays there.
func (b *Backend) Save(ctx context.Context, dir string, program []string, recordFrom string) (*Manifest, error) {
	if b.Window == nil {
		return nil, errors.New("nothing recorded to save (only the gdb backend's live recording can be saved)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if ents, _ := os.ReadDir(dir); len(ents) > 0 {
		return nil, fmt.Errorf("%s exists and is not empty; give a new directory to -o", dir)
	}
	abs, err := filepath.Abs(filepath.Join(dir, LogFile))
	if err != nil {
		return nil, err
	}
	first, err := b.Now(ctx)
	if err != nil {
		return nil, err
	}
	ver, err := b.s.Console(ctx, "python print(gdb.VERSION)")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	if _, err := b.s.Console(ctx, "record save "+abs); err != nil {
		return nil, fmt.Errorf("gdb could not save the recording to %s: %w", abs, err)
	}
	m := &Manifest{
		Format: ManifestFormat, Backend: "gdb", Program: program, Python: b.exe,
		RecordFrom: recordFrom, GDBVersion: strings.TrimSpace(ver), FirstTime: first,
		Log: LogFile, Window: b.Window, Created: time.Now().UTC().Format(time.RFC3339),
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), append(data, '\n'), 0o644); err != nil {
		return nil, err
	}
	return m, nil
}

// restoreWindow loads a saved recording into a gdb that was started on the
// recording's executable, and leaves time at the window's first line event.
func (b *Backend) restoreWindow(ctx context.Context, dir string, m *Manifest, progress func(string)) error {
	abs, err := filepath.Abs(filepath.Join(dir, m.Log))
	if err != nil {
		return err
	}
	progress("restoring " + dir)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if _, err := b.s.Console(ctx, "target core "+abs); err != nil {
		return fmt.Errorf("gdb could not load %s as a core file (saved by gdb %s): %w", abs, m.GDBVersion, err)
	}
	if _, err := b.s.Console(ctx, "record full restore "+abs); err != nil {
		return fmt.Errorf("gdb could not restore the execution log of %s (saved by gdb %s): %w", abs, m.GDBVersion, err)
	}
	// The gdb side learns the window's start as -timelens-record-window
	// would have told it: the first position is a line event.
	fn, _ := m.Window["function"].(string)
	frame, _ := m.Window["frame"].(string)
	setup, err := json.Marshal(map[string]any{"begin_is_event": true, "function": fn, "frame": frame})
	if err != nil {
		return err
	}
	py := fmt.Sprintf("python from timelens_gdb import window; window.restored(%q)", string(setup))
	if _, err := b.s.Console(ctx, py); err != nil {
		return fmt.Errorf("setting up the restored window: %w", err)
	}
	b.Window = m.Window
	return nil
}

// resolveExe returns the absolute path of exe, looked up on PATH when it has
// no slash.
func resolveExe(exe string) string {
	if p, err := exec.LookPath(exe); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
		return p
	}
	return exe
}
