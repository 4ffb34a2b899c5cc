package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkLSP measures what an editor waits for, against a real gdb and
// CPython (so it runs in the test root: make bench): initialize to the
// first inlay hints, inlay hints at a new time point (right after a step)
// and at a cached one (the same request again), and hover with the last
// write. Each b.N iteration steps once (back and forth across loop.py's
// window) and takes one sample of each; the metrics are medians and p95s in
// milliseconds.
func BenchmarkLSP(b *testing.B) {
	py := needRecording(b)
	path, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "programs", "loop.py"))
	src, _ := os.ReadFile(path)
	lines := strings.Split(string(src), "\n")
	hoverLine := slices.Index(lines, "        total += i")
	uri := "file://" + path
	began := time.Now()
	e := startEditor(b, "lsp", "--backend", "gdb", "--record-from", "main", "--", py, path)
	e.call("initialize", map[string]any{"processId": os.Getpid(), "capabilities": map[string]any{}}, nil)
	e.notify("initialized", map[string]any{})
	e.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": uri, "languageId": "python", "version": 1, "text": string(src)}})
	hintsParams := map[string]any{"textDocument": map[string]any{"uri": uri},
		"range": map[string]any{"start": map[string]int{"line": 0, "character": 0}, "end": map[string]int{"line": len(lines), "character": 0}}}
	var first []any
	e.call("textDocument/inlayHint", hintsParams, &first)
	initToHints := time.Since(began)

	var fresh, cached, hover []time.Duration
	dir := "timelens.step"
	timed := func(into *[]time.Duration, method string, params any) {
		t0 := time.Now()
		if msg := e.call(method, params, nil); msg != "" {
			b.Fatalf("%s: %s", method, msg)
		}
		*into = append(*into, time.Since(t0))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if msg := e.call("workspace/executeCommand", map[string]any{"command": dir}, nil); msg != "" {
			if !strings.Contains(msg, "of the recorded history") {
				b.Fatal(msg)
			}
			if dir == "timelens.step" {
				dir = "timelens.reverseStep"
			} else {
				dir = "timelens.step"
			}
			continue
		}
		timed(&fresh, "textDocument/inlayHint", hintsParams)
		timed(&cached, "textDocument/inlayHint", hintsParams)
		timed(&hover, "textDocument/hover", map[string]any{"textDocument": map[string]any{"uri": uri},
			"position": map[string]int{"line": hoverLine, "character": 9}})
	}
	b.StopTimer()
	b.ReportMetric(ms(initToHints), "ms-initialize-to-hints")
	for _, m := range []struct {
		name string
		d    []time.Duration
	}{{"hints-new", fresh}, {"hints-cached", cached}, {"hover-last-write", hover}} {
		if len(m.d) == 0 {
			continue
		}
		slices.Sort(m.d)
		b.ReportMetric(ms(m.d[len(m.d)/2]), "ms-"+m.name+"-median")
		b.ReportMetric(ms(m.d[len(m.d)*95/100]), "ms-"+m.name+"-p95")
	}
	e.call("shutdown", nil, nil)
	e.notify("exit", nil)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
