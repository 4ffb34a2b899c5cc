package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// whereWindow is timelens.where's answer with the recorded window.
type whereWindow struct {
	position
	Window *struct {
		Start     string `json:"start"`
		End       string `json:"end"`
		EndReason string `json:"endReason"`
	} `json:"window"`
}

// indexed waits until the server says it indexed the window
// ($/progress timelens/index ends) and returns that message.
func (e *editor) indexed() string {
	e.t.Helper()
	for deadline := time.Now().Add(10 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		e.mu.Lock()
		notes := e.notes["$/progress"]
		e.mu.Unlock()
		for _, raw := range notes {
			var p struct {
				Token string `json:"token"`
				Value struct {
					Kind, Message string
				} `json:"value"`
			}
			if json.Unmarshal(raw, &p) == nil && p.Token == "timelens/index" && p.Value.Kind == "end" {
				return p.Value.Message
			}
		}
	}
	e.t.Fatal("the window was not indexed in 10 minutes")
	return ""
}

// TestLSPParametersOnDefLines drives params.py as an editor: at each call of
// depth_first (timelens.nextCall), its def line shows the parameters that
// call received, n = 3 → 0 as depth = 0 → 3; the decorator's line shows
// nothing, and the wrapper's def line its *args and **kwargs. At the
// window's end (timelens.where's window.end), box's line shows the box as
// it is now, not as it was bound. The same hints come from walks before
// the line index is built and from the index after.
func TestLSPParametersOnDefLines(t *testing.T) {
	e, uri, _ := e2eSession(t, "params.py")
	check := func(when string) {
		t.Helper()
		var start whereWindow
		if msg := e.call("workspace/executeCommand", map[string]any{"command": "timelens.where"}, &start); msg != "" {
			t.Fatal(msg)
		}
		for depth := 0; depth <= 3; depth++ {
			pos := e.call("workspace/executeCommand", map[string]any{"command": "timelens.nextCall", "arguments": []any{map[string]string{"function": "depth_first"}}}, nil)
			if pos != "" {
				t.Fatalf("%s: next call of depth_first: %s", when, pos)
			}
			hints := e.lineHints(uri)
			want := fmt.Sprintf("n = %d, depth = %d", 3-depth, depth)
			if hints[29] != want || hints[28] != "" {
				t.Errorf("%s: call %d of depth_first: def line %q, decorator line %q; want %q", when, depth, hints[29], hints[28], want)
			}
			if depth > 0 {
				if want := fmt.Sprintf("args = (%d, %d), kwargs = {}", 3-depth, depth); hints[9] != want {
					t.Errorf("%s: the wrapper's def line %q, want %q", when, hints[9], want)
				}
			}
		}
		if msg := e.call("workspace/executeCommand", map[string]any{"command": "timelens.goto", "arguments": []any{map[string]string{"time": start.Window.End}}}, nil); msg != "" {
			t.Fatal(msg)
		}
		if got, want := e.lineHints(uri)[36], "box = Box(items=['a', 'a', 42])"; got != want {
			t.Errorf("%s: box's line at the end %q, want %q", when, got, want)
		}
		if msg := e.call("workspace/executeCommand", map[string]any{"command": "timelens.goto", "arguments": []any{map[string]string{"time": start.Window.Start}}}, nil); msg != "" {
			t.Fatal(msg)
		}
	}
	check("walking calls")
	t.Logf("the index: %s", e.indexed())
	check("from the index")
}

// TestLSPWindowEndedByAThread: the article's threaded race, recorded from
// main, ends where the first thread starts. The editor hears why once, and
// timelens.where says it in window.endReason, with the window's first and
// last line events.
func TestLSPWindowEndedByAThread(t *testing.T) {
	py := needRecording(t)
	path, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "threads", "race.py"))
	e := startEditor(t, "lsp", "--backend", "gdb", "--record-from", "main", "--", py, path)
	e.open(path, editorCaps)
	const why = "a second thread started at race.py:76: gdb record full records one thread"
	var w whereWindow
	if msg := e.call("workspace/executeCommand", map[string]any{"command": "timelens.where"}, &w); msg != "" {
		t.Fatal(msg)
	}
	if w.Window == nil || w.Window.EndReason != why || w.Window.Start != w.Time || w.Window.End == "" {
		t.Fatalf("timelens.where at the start: %+v, window %+v; want endReason %q", w.position, w.Window, why)
	}
	var end whereWindow
	if msg := e.call("workspace/executeCommand", map[string]any{"command": "timelens.goto", "arguments": []any{map[string]string{"time": w.Window.End}}}, &end); msg != "" {
		t.Fatal(msg)
	}
	if !strings.HasSuffix(end.URI, "threading.py") || end.Function != "Thread.start" {
		t.Errorf("the window's last line event is %s:%d in %s, want threading.py's Thread.start", end.URI, end.Line+1, end.Function)
	}
	e.indexed()
	e.mu.Lock()
	messages := e.notes["window/showMessage"]
	e.mu.Unlock()
	told := 0
	for _, raw := range messages {
		if strings.Contains(string(raw), why) {
			told++
		}
	}
	if told != 1 {
		t.Errorf("the editor was told why the window ended %d times, want once: %s", told, messages)
	}
}
