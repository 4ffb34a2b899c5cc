package lsp

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/timelens/timelens/history"
	"github.com/timelens/timelens/history/historytest"
)

// TestCancelRequest speaks the wire itself, to send $/cancelRequest for a
// request id of its choosing: a hover whose Eval the debugger holds is
// cancelled, and answers RequestCancelled without waiting for the debugger.
func TestCancelRequest(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	backend := &testBackend{Trace: recordTrace(t, "loop.py", "main"), hold: make(chan struct{})}
	release := backend.release
	defer release()
	serverSide, clientSide := net.Pipe()
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, serverSide, Config{Start: func(ctx context.Context, _ json.RawMessage, _ func(string, int)) (*history.Timeline, error) {
			return history.New(ctx, backend, history.Options{})
		}})
	}()
	responses := make(chan *jsonrpc2.Response, 16)
	go func() {
		stream := jsonrpc2.NewStream(clientSide)
		for {
			msg, _, err := stream.Read(ctx)
			if err != nil {
				return
			}
			if r, ok := msg.(*jsonrpc2.Response); ok {
				responses <- r
			}
		}
	}()
	send := func(msg string) {
		t.Helper()
		if _, err := fmt.Fprintf(clientSide, "Content-Length: %d\r\n\r\n%s", len(msg), msg); err != nil {
			t.Fatal(err)
		}
	}
	await := func(id string) *jsonrpc2.Response {
		t.Helper()
		select {
		case r := <-responses:
			got := fmt.Sprint(r.ID())
			if got != id {
				t.Fatalf("response to %s, want %s", got, id)
			}
			return r
		case <-time.After(10 * time.Second):
			t.Fatalf("no response to %s in 10 s", id)
			return nil
		}
	}

	send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}`)
	await("1")
	send(`{"jsonrpc":"2.0","method":"initialized","params":{}}`)
	loop := uri.File(program("loop.py"))
	text, _ := json.Marshal(readFile(t, program("loop.py")))
	send(fmt.Sprintf(`{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":%q,"languageId":"python","version":1,"text":%s}}}`, loop, text))
	// Hover on total: main is on the stack, so the server asks the
	// debugger for its value, and the debugger does not answer.
	send(fmt.Sprintf(`{"jsonrpc":"2.0","id":"slow","method":"textDocument/hover","params":{"textDocument":{"uri":%q},"position":{"line":22,"character":9}}}`, loop))
	time.Sleep(50 * time.Millisecond) // let it reach the debugger
	send(`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"slow"}}`)
	r := await("slow")
	if rpcCode(r.Err()) != protocol.CodeRequestCancelled {
		t.Fatalf("cancelled hover answered %v (code %d), want RequestCancelled", r.Err(), rpcCode(r.Err()))
	}
	release()
	send(`{"jsonrpc":"2.0","id":2,"method":"shutdown"}`)
	if r := await("2"); r.Err() != nil {
		t.Fatalf("shutdown: %v", r.Err())
	}
	send(`{"jsonrpc":"2.0","method":"exit"}`)
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

// TestRequestRacingAMove: a hover that started before a step and finished
// after it must not mix the two times: it answers ContentModified, or, if
// it got all its answers before the step, the state before the step.
func TestRequestRacingAMove(t *testing.T) {
	s := newSession(t, sessionOptions{hold: true})
	s.initialize(fullCaps())
	loop := s.open(program("loop.py"))
	at := s.findEvent(func(ev historytest.Event) bool {
		return ev.Function == "main" && ev.Line == 23 && ev.Locals["i"] == "3"
	})
	s.gotoEvent(at)
	type answer struct {
		h   *protocol.Hover
		err error
	}
	hovered := make(chan answer, 1)
	go func() {
		h, err := s.server.Hover(s.ctx, &protocol.HoverParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
			TextDocument: protocol.TextDocumentIdentifier{URI: loop}, Position: protocol.Position{Line: 22, Character: 9},
		}})
		hovered <- answer{h, err}
	}()
	time.Sleep(50 * time.Millisecond) // the hover's Eval holds the debugger
	stepped := make(chan error, 1)
	go func() {
		_, err := s.exec(cmdStep)
		stepped <- err
	}()
	time.Sleep(100 * time.Millisecond) // the step waits for the debugger
	s.backend.release()
	if err := <-stepped; err != nil {
		t.Fatalf("step: %v", err)
	}
	// The hover's last-write query was sent after the step was queued, so
	// normally the step runs in between.
	switch a := <-hovered; {
	case rpcCode(a.err) == protocol.CodeContentModified:
	case a.err == nil && a.h != nil:
		md := a.h.Contents.(*protocol.MarkupContent).Value
		if !strings.Contains(md, "total = 3") || !strings.Contains(md, "Last write: `3`") {
			t.Fatalf("hover mixes two times:\n%s", md)
		}
		t.Log("the hover finished before the step")
	default:
		t.Fatalf("hover across a step: %v (code %d), want ContentModified", a.err, rpcCode(a.err))
	}
}

// TestShutdownCancelsRequestsInFlight: a hover held in the debugger and a
// step queued behind it when the editor shuts the session down both answer
// RequestCancelled, not the debugger's exit that shutdown causes; shutdown
// itself succeeds.
func TestShutdownCancelsRequestsInFlight(t *testing.T) {
	s := newSession(t, sessionOptions{hold: true})
	s.initialize(fullCaps())
	loop := s.open(program("loop.py"))
	s.gotoEvent(s.findEvent(func(ev historytest.Event) bool { return ev.Function == "main" && ev.Line == 23 }))
	answers := make(chan error, 2)
	go func() {
		_, err := s.server.Hover(s.ctx, &protocol.HoverParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
			TextDocument: protocol.TextDocumentIdentifier{URI: loop}, Position: protocol.Position{Line: 22, Character: 9},
		}})
		answers <- err
	}()
	time.Sleep(50 * time.Millisecond) // the hover's Eval holds the debugger
	go func() {
		_, err := s.exec(cmdStep)
		answers <- err
	}()
	time.Sleep(50 * time.Millisecond) // the step waits for the debugger
	if err := s.server.Shutdown(s.ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	for range 2 {
		if err := <-answers; rpcCode(err) != protocol.CodeRequestCancelled {
			t.Errorf("a request in flight at shutdown answered %v (code %d), want RequestCancelled", err, rpcCode(err))
		}
	}
}
