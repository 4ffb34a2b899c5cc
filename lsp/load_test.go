package lsp

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/timelens/timelens/history"
)

// TestLoadOverTrace is the fast, in-process variant of cmd/timelens's
// TestLoadRequestsWhileStepping, over a settrace trace instead of gdb: 100
// moves while 2,000 inlay hint, hover and code lens requests come in over
// the wire, every 7th cancelled with $/cancelRequest. Each request ends in
// a result, RequestCancelled or ContentModified; no goroutine outlives
// the session.
func TestLoadOverTrace(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	trace := recordTrace(t, "loop.py", "main")
	runtime.GC()
	before := runtime.NumGoroutine()

	serverSide, clientSide := net.Pipe()
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, serverSide, Config{Start: func(ctx context.Context, _ json.RawMessage, _ func(string, int)) (*history.Timeline, error) {
			return history.New(ctx, &testBackend{Trace: trace}, history.Options{})
		}})
	}()

	var wmu sync.Mutex
	send := func(msg string) {
		wmu.Lock()
		defer wmu.Unlock()
		if _, err := fmt.Fprintf(clientSide, "Content-Length: %d\r\n\r\n%s", len(msg), msg); err != nil {
			t.Error(err)
		}
	}
	var mu sync.Mutex
	waiting := map[int64]chan *jsonrpc2.Response{}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		stream := jsonrpc2.NewStream(clientSide)
		for {
			msg, _, err := stream.Read(ctx)
			if err != nil {
				return
			}
			switch m := msg.(type) {
			case *jsonrpc2.Response:
				n, _ := m.ID().Number()
				mu.Lock()
				ch := waiting[n]
				delete(waiting, n)
				mu.Unlock()
				if ch != nil {
					ch <- m
				}
			case *jsonrpc2.Call: // refresh, showDocument: say yes
				id := m.ID()
				raw := ""
				if n, ok := id.Number(); ok {
					raw = strconv.FormatInt(n, 10)
				} else {
					s, _ := id.StringValue()
					raw = strconv.Quote(s)
				}
				go send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":null}`, raw))
			}
		}
	}()
	var nextID int64
	call := func(method, params string) (int64, chan *jsonrpc2.Response) {
		mu.Lock()
		nextID++
		id := nextID
		ch := make(chan *jsonrpc2.Response, 1)
		waiting[id] = ch
		mu.Unlock()
		send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q,"params":%s}`, id, method, params))
		return id, ch
	}
	await := func(what string, ch chan *jsonrpc2.Response) *jsonrpc2.Response {
		select {
		case r := <-ch:
			return r
		case <-ctx.Done():
			t.Fatalf("%s: no answer", what)
			return nil
		}
	}

	caps := `{"capabilities":{"workspace":{"inlayHint":{"refreshSupport":true},"codeLens":{"refreshSupport":true}}}}`
	if _, ch := call("initialize", caps); await("initialize", ch).Err() != nil {
		t.Fatal("initialize failed")
	}
	send(`{"jsonrpc":"2.0","method":"initialized","params":{}}`)
	loop := uri.File(program("loop.py"))
	text, _ := json.Marshal(readFile(t, program("loop.py")))
	send(fmt.Sprintf(`{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":%q,"languageId":"python","version":1,"text":%s}}}`, loop, text))

	moved := make(chan struct{})
	edges := 0
	go func() {
		defer close(moved)
		forward := true
		for i := 0; i < 100; i++ {
			cmd := map[bool]string{true: cmdStep, false: cmdReverseStep}[forward]
			_, ch := call("workspace/executeCommand", fmt.Sprintf(`{"command":%q}`, cmd))
			if r := await(cmd, ch); r.Err() != nil {
				if rpcCode(r.Err()) != codeRequestFailed {
					t.Errorf("%s: %v", cmd, r.Err())
				}
				edges++
				forward = !forward
			}
		}
	}()

	kinds := map[string]int{}
	var kmu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for n := w; n < 2000; n += 4 {
				var method, params string
				switch n % 3 {
				case 0:
					method = protocol.MethodTextDocumentInlayHint
					params = fmt.Sprintf(`{"textDocument":{"uri":%q},"range":{"start":{"line":0,"character":0},"end":{"line":40,"character":0}}}`, loop)
				case 1:
					method = protocol.MethodTextDocumentHover
					params = fmt.Sprintf(`{"textDocument":{"uri":%q},"position":{"line":22,"character":9}}`, loop)
				default:
					method = protocol.MethodTextDocumentCodeLens
					params = fmt.Sprintf(`{"textDocument":{"uri":%q}}`, loop)
				}
				id, ch := call(method, params)
				if n%7 == 0 {
					send(fmt.Sprintf(`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":%d}}`, id))
				}
				r := await(method, ch)
				kind := "result"
				switch code := rpcCode(r.Err()); {
				case r.Err() == nil:
				case code == protocol.CodeRequestCancelled:
					kind = "cancelled"
				case code == protocol.CodeContentModified:
					kind = "content modified"
				default:
					kind = "error"
					t.Errorf("%s: %v", method, r.Err())
				}
				kmu.Lock()
				kinds[kind]++
				kmu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	<-moved
	t.Logf("2000 requests: %d results, %d cancelled, %d content modified, %d errors; 100 moves, %d edges",
		kinds["result"], kinds["cancelled"], kinds["content modified"], kinds["error"], edges)
	if got := kinds["result"] + kinds["cancelled"] + kinds["content modified"]; got != 2000 {
		t.Errorf("%d of 2000 requests got a result, RequestCancelled or ContentModified", got)
	}

	if _, ch := call("shutdown", "null"); await("shutdown", ch).Err() != nil {
		t.Fatal("shutdown failed")
	}
	send(`{"jsonrpc":"2.0","method":"exit"}`)
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	clientSide.Close()
	<-readDone
	after := runtime.NumGoroutine()
	for i := 0; i < 100 && after > before; i++ {
		time.Sleep(50 * time.Millisecond)
		after = runtime.NumGoroutine()
	}
	t.Logf("goroutines: %d before, %d after", before, after)
	if after > before {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutine leak: %d before, %d after:\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}
