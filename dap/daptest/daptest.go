// Package daptest is a debugger UI's side of a DAP session for tests, with
// go-dap's framing: it sends a request, reads up to its response and keeps
// the events that came on the way.
package daptest

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"testing"
	"time"

	godap "github.com/google/go-dap"

	"github.com/timelens/timelens/dap"
)

// Client is a debugger UI's side of one DAP session.
type Client struct {
	t    testing.TB
	conn io.ReadWriter
	r    *bufio.Reader
	seq  int
	// Events holds the events read while waiting for responses, not yet
	// taken by Event or Outputs.
	Events []godap.Message
}

// Serve serves cfg in process over a pipe and connects a client; the
// server must end within 30 s of the test's end.
func Serve(t testing.TB, cfg dap.Config) *Client {
	t.Helper()
	server, conn := net.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- dap.Serve(context.Background(), server, cfg)
		server.Close()
	}()
	t.Cleanup(func() {
		conn.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("the server did not end within 30 s of the client's leaving")
		}
	})
	return New(t, conn)
}

// New is a client over conn, connected to a server.
func New(t testing.TB, conn io.ReadWriter) *Client {
	return &Client{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// deadline bounds one read or write, where conn can say.
func (c *Client) deadline(read bool) {
	type deadliner interface {
		SetReadDeadline(time.Time) error
		SetWriteDeadline(time.Time) error
	}
	if d, ok := c.conn.(deadliner); ok {
		if read {
			d.SetReadDeadline(time.Now().Add(10 * time.Minute))
		} else {
			d.SetWriteDeadline(time.Now().Add(10 * time.Minute))
		}
	}
}

// Send writes a request: command with args (any JSON value).
func (c *Client) Send(command string, args any) int {
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
	c.deadline(false)
	if err := godap.WriteBaseMessage(c.conn, b); err != nil {
		c.t.Fatalf("sending %s: %v", command, err)
	}
	return c.seq
}

// Next reads one message.
func (c *Client) Next() godap.Message {
	c.t.Helper()
	c.deadline(true)
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

// Call sends a request and returns its response, which must succeed.
func (c *Client) Call(command string, args any) godap.ResponseMessage {
	c.t.Helper()
	r := c.Try(command, args)
	if !r.GetResponse().Success {
		c.t.Fatalf("%s %v: %s", command, args, r.GetResponse().Message)
	}
	return r
}

// Try sends a request and returns its response, failed or not.
func (c *Client) Try(command string, args any) godap.ResponseMessage {
	c.t.Helper()
	seq := c.Send(command, args)
	for {
		m := c.Next()
		if r, ok := m.(godap.ResponseMessage); ok && r.GetResponse().RequestSeq == seq {
			return r
		}
		c.Events = append(c.Events, m)
	}
}

// Event waits for the next event named name (taking it from those kept).
func (c *Client) Event(name string) godap.EventMessage {
	c.t.Helper()
	for i, m := range c.Events {
		if e, ok := m.(godap.EventMessage); ok && e.GetEvent().Event == name {
			c.Events = append(c.Events[:i], c.Events[i+1:]...)
			return e
		}
	}
	for {
		m := c.Next()
		if e, ok := m.(godap.EventMessage); ok && e.GetEvent().Event == name {
			return e
		}
		c.Events = append(c.Events, m)
	}
}

// Stopped waits for the stopped event of a move.
func (c *Client) Stopped() godap.StoppedEventBody {
	c.t.Helper()
	return c.Event("stopped").(*godap.StoppedEvent).Body
}

// Outputs takes the output events kept so far, their text.
func (c *Client) Outputs() []string {
	var out []string
	kept := c.Events[:0]
	for _, m := range c.Events {
		if o, ok := m.(*godap.OutputEvent); ok {
			out = append(out, o.Body.Output)
			continue
		}
		kept = append(kept, m)
	}
	c.Events = kept
	return out
}
