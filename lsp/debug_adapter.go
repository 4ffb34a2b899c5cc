package lsp

import (
	"context"
	"net"
	"sync"
	"time"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/timelens/timelens/dap"
	"github.com/timelens/timelens/history"
)

// One session for both protocols: timelens.debugAdapter opens a loopback
// Debug Adapter Protocol listener in this process, over this server's
// session (one gdb), and returns its address; the editor's debugger UI
// connects there (as Java's and Scala's language servers hand out theirs).
// A move from the debugger's toolbar moves the hints and lenses; a move
// from a lens or command gives the debugger a stopped event.

// debugAdapterWait is how long the listener waits for its one client.
const debugAdapterWait = time.Minute

// debugAdapterAddr is timelens.debugAdapter's result.
type debugAdapterAddr struct {
	Host string `json:"host"`
	Port int    `json:"port"`
}

// followers are the DAP sessions that hear this server's moves.
type followers struct {
	mu   sync.Mutex
	next int
	fns  map[int]func(history.Position)
}

func (f *followers) add(fn func(history.Position)) func() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fns == nil {
		f.fns = map[int]func(history.Position){}
	}
	f.next++
	id := f.next
	f.fns[id] = fn
	return func() {
		f.mu.Lock()
		delete(f.fns, id)
		f.mu.Unlock()
	}
}

func (f *followers) tell(p history.Position) {
	f.mu.Lock()
	fns := make([]func(history.Position), 0, len(f.fns))
	for _, fn := range f.fns {
		fns = append(fns, fn)
	}
	f.mu.Unlock()
	for _, fn := range fns {
		fn(p)
	}
}

// debugAdapter answers timelens.debugAdapter: {host, port} of a new
// loopback listener that serves one DAP client over this session, for a
// minute or until the client connects.
func debugAdapter(s *server, ctx context.Context, _ []protocol.LSPAny) (any, error) {
	tl, err := s.timeline(ctx)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, errorf("timelens.debugAdapter: cannot listen on the loopback interface: %v", err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	log := s.log.Named("dap")
	s.background(func() {
		conn, err := acceptOne(s.ctx, ln, debugAdapterWait)
		if err != nil {
			log.Warn("no debugger connected", zap.Error(err))
			return
		}
		defer conn.Close()
		log.Info("debugger connected", zap.String("from", conn.RemoteAddr().String()))
		err = dap.Serve(s.ctx, conn, dap.Config{
			Logger: log, Version: s.cfg.Version, Timeline: tl, SubstitutePath: s.cfg.SubstitutePath,
			Moved:  s.moveDone,
			Follow: s.followers.add,
		})
		if err != nil {
			log.Warn("debug adapter session", zap.Error(err))
		}
	})
	return debugAdapterAddr{Host: addr.IP.String(), Port: addr.Port}, nil
}

// acceptOne returns the first connection to ln and closes ln, which then
// refuses every other client; it gives up after wait or when ctx ends.
func acceptOne(ctx context.Context, ln net.Listener, wait time.Duration) (net.Conn, error) {
	defer ln.Close()
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	return ln.Accept()
}
