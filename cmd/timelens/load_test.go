package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/timelens/timelens/history"
	"github.com/timelens/timelens/lsp"
	"github.com/timelens/timelens/pyext/session"
)

// The load test: a real gdb recording a real CPython, served in process
// (so that goroutines and the heap can be counted) over a net.Pipe, while
// one goroutine moves time 100 times and others fire 2,000 inlay hint,
// hover and code lens requests, some of them cancelled. Every request must
// end in a result, RequestCancelled or ContentModified.

const (
	codeRequestCancelled = -32800
	codeContentModified  = -32801
)

// pipeEditor is the e2e test's editor over one end of a net.Pipe.
func pipeEditor(t testing.TB, conn net.Conn) *editor {
	e := &editor{t: t, in: conn, res: map[int]chan rpcMessage{}, notes: map[string][]json.RawMessage{}, done: make(chan struct{})}
	go e.read(bufio.NewReader(conn))
	return e
}

// forget drops the bookkeeping of an answered request, and the
// notifications kept so far, so that the client's memory stays flat.
func (e *editor) forget(id int) {
	e.mu.Lock()
	delete(e.res, id)
	if len(e.notes["workspace/inlayHint/refresh"]) > 100 {
		for k := range e.notes {
			e.notes[k] = e.notes[k][:1]
		}
	}
	e.mu.Unlock()
}

func TestLoadRequestsWhileStepping(t *testing.T) {
	py := needRecording(t)
	path, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "programs", "loop.py"))
	uri := "file://" + path

	runtime.GC()
	goroutinesBefore := runtime.NumGoroutine()

	var peakHeap atomic.Uint64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peakHeap.Load() {
				peakHeap.Store(ms.HeapInuse)
			}
			select {
			case <-stopSampling:
				return
			case <-tick.C:
			}
		}
	}()

	serverSide, clientSide := net.Pipe()
	served := make(chan error, 1)
	go func() {
		served <- lsp.Serve(context.Background(), serverSide, lsp.Config{
			Logger: zap.NewNop(),
			Start: func(ctx context.Context, _ json.RawMessage, progress func(string, int)) (*history.Timeline, error) {
				o := Options{Backend: "gdb", RecordFrom: "main"}
				return session.Open(ctx, o.config([]string{py, path}, zap.NewNop(), nil))
			},
		})
	}()
	e := pipeEditor(t, clientSide)
	caps := map[string]any{
		"workspace": map[string]any{"inlayHint": map[string]any{"refreshSupport": true}, "codeLens": map[string]any{"refreshSupport": true}},
		"window":    map[string]any{"showDocument": map[string]any{"support": true}},
	}
	if msg := e.call("initialize", map[string]any{"capabilities": caps}, nil); msg != "" {
		t.Fatal(msg)
	}
	e.notify("initialized", map[string]any{})
	e.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": uri, "languageId": "python", "version": 1, "text": readText(t, path)}})
	var pos position
	if msg := e.call("workspace/executeCommand", map[string]any{"command": "timelens.where"}, &pos); msg != "" {
		t.Fatal(msg)
	}
	t.Logf("recorded; at %s line %d, time %s", pos.Function, pos.Line+1, pos.Time)

	// The mover: 100 moves, forward until the end of the window, then
	// back, and so on.
	const moves = 100
	moved := make(chan struct{})
	var edges int
	go func() {
		defer close(moved)
		forward := true
		for i := 0; i < moves; i++ {
			cmd := map[bool][2]string{true: {"timelens.step", "timelens.next"}, false: {"timelens.reverseStep", "timelens.reverseNext"}}[forward][i%3/2]
			var p position
			msg := e.call("workspace/executeCommand", map[string]any{"command": cmd}, &p)
			switch {
			case msg == "":
			case strings.Contains(msg, "already at the end") || strings.Contains(msg, "already at the start"):
				edges++
				forward = !forward
			default:
				t.Errorf("move %d (%s): %s", i, cmd, msg)
			}
		}
	}()

	// The readers: 4 goroutines, 2,000 requests in all; every 7th is
	// cancelled right after it is sent.
	const requests, readers = 2000, 4
	var next atomic.Int64
	var mu sync.Mutex
	kinds := map[string]int{}
	var wg sync.WaitGroup
	for r := 0; r < readers; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := int(next.Add(1)) - 1
				if n >= requests {
					return
				}
				var method string
				var params any
				doc := map[string]any{"uri": uri}
				switch n % 3 {
				case 0:
					method = "textDocument/inlayHint"
					params = map[string]any{"textDocument": doc, "range": map[string]any{"start": map[string]int{"line": 0, "character": 0}, "end": map[string]int{"line": 40, "character": 0}}}
				case 1:
					method = "textDocument/hover"
					// total, i, acct, f: names of main.
					at := [][2]int{{22, 9}, {21, 8}, {19, 5}, {24, 4}}[n/3%4]
					params = map[string]any{"textDocument": doc, "position": map[string]int{"line": at[0], "character": at[1]}}
				case 2:
					method = "textDocument/codeLens"
					params = map[string]any{"textDocument": doc}
				}
				id, ch := e.send(method, params)
				if n%7 == 0 {
					e.notify("$/cancelRequest", map[string]any{"id": id})
				}
				var kind string
				select {
				case m := <-ch:
					switch {
					case m.Error == nil:
						kind = "result"
					case m.Error.Code == codeRequestCancelled:
						kind = "cancelled"
					case m.Error.Code == codeContentModified:
						kind = "content modified"
					default:
						kind = "error"
						t.Errorf("%s: error %d %s", method, m.Error.Code, m.Error.Message)
					}
				case <-e.done:
					t.Errorf("%s: the server went away", method)
					return
				case <-time.After(5 * time.Minute):
					t.Errorf("%s (request %d): no answer in 5 minutes", method, n)
					return
				}
				e.forget(id)
				mu.Lock()
				kinds[kind]++
				kinds[method]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	<-moved

	answered := kinds["result"] + kinds["cancelled"] + kinds["content modified"]
	t.Logf("%d requests (%d inlay hint, %d hover, %d code lens): %d results, %d cancelled, %d content modified, %d errors; %d moves, %d edges met",
		requests, kinds["textDocument/inlayHint"], kinds["textDocument/hover"], kinds["textDocument/codeLens"],
		kinds["result"], kinds["cancelled"], kinds["content modified"], kinds["error"], moves, edges)
	if answered != requests {
		t.Errorf("%d of %d requests got a result, RequestCancelled or ContentModified", answered, requests)
	}

	if msg := e.call("shutdown", nil, nil); msg != "" {
		t.Fatal(msg)
	}
	e.notify("exit", nil)
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve after shutdown and exit: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Serve did not return within a minute of exit")
	}
	clientSide.Close()
	<-e.done
	close(stopSampling)
	<-sampled

	// Goroutines end asynchronously (gdb's relay, os/exec's copiers): let
	// them settle before counting.
	goroutinesAfter := runtime.NumGoroutine()
	for i := 0; i < 100 && goroutinesAfter > goroutinesBefore; i++ {
		time.Sleep(100 * time.Millisecond)
		goroutinesAfter = runtime.NumGoroutine()
	}
	t.Logf("goroutines: %d before the session, %d after; peak heap in use %.1f MiB", goroutinesBefore, goroutinesAfter, float64(peakHeap.Load())/(1<<20))
	if goroutinesAfter > goroutinesBefore {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutine leak: %d before, %d after:\n%s", goroutinesBefore, goroutinesAfter, buf[:runtime.Stack(buf, true)])
	}
	if peak := peakHeap.Load(); peak > 512<<20 {
		t.Errorf("peak heap in use %d MiB, want < 512 MiB", peak>>20)
	}
}

func readText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
