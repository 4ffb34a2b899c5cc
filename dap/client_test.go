package dap_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"testing"
	"time"

	godap "github.com/google/go-dap"

	"github.com/timelens/timelens/dap"
)

// client is a debugger UI's side of one DAP session, with go-dap's framing:
// it sends a request, reads up to its response and keeps the events that
// came on the way.
type client struct {
	t      *testing.T
	conn   net.Conn
	r      *bufio.Reader
	seq    int
	events []godap.Message
	done   chan error
}

// startClient serves cfg in process over a pipe and connects a client.
func startClient(t *testing.T, cfg dap.Config) *client {
	t.Helper()
	server, conn := net.Pipe()
	c := &client{t: t, conn: conn, r: bufio.NewReader(conn), done: make(chan error, 1)}
	go func() {
		c.done <- dap.Serve(context.Background(), server, cfg)
		server.Close()
	}()
	t.Cleanup(func() {
		conn.Close()
		select {
		case err := <-c.done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("the server did not end within 30 s of the client's leaving")
		}
	})
	return c
}

// send writes a request: command with args (any JSON value).
func (c *client) send(command string, args any) int {
	c.t.Helper()
	c.seq++
	m := map[string]any{"seq": c.seq, "type": "request", "command": command}
	if args != nil {
		m["arguments"] = args
	}
	b, err := json.Marshal(m)
	if err != nil {
		c.t.Fatal(err)
	}
	c.conn.SetWriteDeadline(time.Now().Add(5 * time.Minute))
	if err := godap.WriteBaseMessage(c.conn, b); err != nil {
		c.t.Fatalf("sending %s: %v", command, err)
	}
	return c.seq
}

// next reads one message.
func (c *client) next() godap.Message {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Minute))
	data, err := godap.ReadBaseMessage(c.r)
	if err != nil {
		c.t.Fatalf("reading from the server: %v", err)
	}
	var pm godap.ProtocolMessage
	if err := json.Unmarshal(data, &pm); err != nil {
		c.t.Fatalf("bad message %s: %v", data, err)
	}
	if pm.Type == "response" {
		// Custom commands' responses have no type of their own in go-dap.
		var r godap.Response
		json.Unmarshal(data, &r)
		if r.Command == "timelens/reverseStepIn" || r.Command == "timelens/reverseStepOut" {
			return &r
		}
	}
	m, err := godap.DecodeProtocolMessage(data)
	if err != nil {
		c.t.Fatalf("undecodable message %s: %v", data, err)
	}
	return m
}

// call sends a request and returns its response, which must succeed.
func (c *client) call(command string, args any) godap.ResponseMessage {
	c.t.Helper()
	r := c.try(command, args)
	if !r.GetResponse().Success {
		c.t.Fatalf("%s %v: %s", command, args, r.GetResponse().Message)
	}
	return r
}

// try sends a request and returns its response, failed or not.
func (c *client) try(command string, args any) godap.ResponseMessage {
	c.t.Helper()
	seq := c.send(command, args)
	for {
		m := c.next()
		if r, ok := m.(godap.ResponseMessage); ok && r.GetResponse().RequestSeq == seq {
			return r
		}
		c.events = append(c.events, m)
	}
}

// event waits for the next event named name (taking it from those kept).
func (c *client) event(name string) godap.EventMessage {
	c.t.Helper()
	for i, m := range c.events {
		if e, ok := m.(godap.EventMessage); ok && e.GetEvent().Event == name {
			c.events = append(c.events[:i], c.events[i+1:]...)
			return e
		}
	}
	for {
		m := c.next()
		if e, ok := m.(godap.EventMessage); ok && e.GetEvent().Event == name {
			return e
		}
		c.events = append(c.events, m)
	}
}

// stopped waits for the stopped event of a move.
func (c *client) stopped() godap.StoppedEventBody {
	c.t.Helper()
	return c.event("stopped").(*godap.StoppedEvent).Body
}

// outputs takes the output events kept so far, their text.
func (c *client) outputs() []string {
	var out []string
	kept := c.events[:0]
	for _, m := range c.events {
		if o, ok := m.(*godap.OutputEvent); ok {
			out = append(out, o.Body.Output)
			continue
		}
		kept = append(kept, m)
	}
	c.events = kept
	return out
}
