package main

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestListenRefusesNonLoopback: an address another machine could reach is
// refused before anything listens, with the reason and a loopback address
// to use instead.
func TestListenRefusesNonLoopback(t *testing.T) {
	for _, c := range []struct{ addr, want string }{
		{"0.0.0.0:7777", "listens on every interface"},
		{":7777", "listens on every interface"},
		{"[::]:0", "listens on every interface"},
		{"192.168.1.20:7777", "is not a loopback address (192.168.1.20)"},
		{"10.0.0.1:0", "is not a loopback address"},
		{"[2001:db8::1]:0", "is not a loopback address"},
		{"127.0.0.1", "is not HOST:PORT"},
		{"127.0.0.1:http-alt", "is not a number"},
	} {
		usageError(t, []string{"lsp", "--listen", c.addr}, "--listen", c.want)
		if !strings.Contains(c.want, "HOST:PORT") && !strings.Contains(c.want, "number") {
			usageError(t, []string{"lsp", "--listen", c.addr}, "use a loopback address such as 127.0.0.1:")
		}
	}
	// A LAN address of this machine, when it has one.
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
				usageError(t, []string{"lsp", "--listen", net.JoinHostPort(ipn.IP.String(), "0")}, "is not a loopback address")
				break
			}
		}
	}
}

// TestListenServesOneLoopbackClient: `timelens lsp --listen 127.0.0.1:0`
// prints the port it chose, serves an editor that connects there through
// initialize, shutdown and exit, and exits 0.
func TestListenServesOneLoopbackClient(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "localhost:0", "[::1]:0"} {
		t.Run(addr, func(t *testing.T) {
			if addr == "[::1]:0" {
				if ln, err := net.Listen("tcp", addr); err != nil {
					t.Skipf("no IPv6 loopback here: %v", err)
				} else {
					ln.Close()
				}
			}
			errR, errW := io.Pipe()
			code := make(chan int, 1)
			go func() {
				code <- run([]string{"lsp", "--listen", addr}, io.Discard, errW)
				errW.Close()
			}()
			stderr := bufio.NewReader(errR)
			line, err := stderr.ReadString('\n')
			if err != nil {
				t.Fatalf("stderr: %q, %v", line, err)
			}
			bound, ok := strings.CutPrefix(strings.TrimSpace(line), "timelens lsp: listening on ")
			if !ok {
				t.Fatalf("first line on stderr: %q, want the bound address", line)
			}
			host, port, _ := net.SplitHostPort(bound)
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() || port == "0" || port == "" {
				t.Fatalf("bound %q: want a loopback IP and the port chosen for :0", bound)
			}
			go io.Copy(io.Discard, stderr)
			conn, err := net.Dial("tcp", bound)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			e := pipeEditor(t, conn)
			var init struct {
				ServerInfo struct{ Name string } `json:"serverInfo"`
			}
			if msg := e.call("initialize", map[string]any{"capabilities": map[string]any{}}, &init); msg != "" || init.ServerInfo.Name != "timelens" {
				t.Fatalf("initialize over TCP: %q, %+v", msg, init)
			}
			e.notify("initialized", map[string]any{})
			if msg := e.call("shutdown", nil, nil); msg != "" {
				t.Fatal(msg)
			}
			e.notify("exit", nil)
			select {
			case c := <-code:
				if c != 0 {
					t.Fatalf("timelens lsp --listen exited %d after shutdown and exit, want 0", c)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("timelens lsp --listen did not end after exit")
			}
			// One client only: nothing listens any more.
			if c, err := net.Dial("tcp", bound); err == nil {
				c.Close()
				t.Errorf("%s still accepts connections after the session", bound)
			}
		})
	}
}
