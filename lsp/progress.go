package lsp

import (
	"context"
	"sync"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/timelens/timelens/history"
)

// progressToken names the work-done progress of starting the session;
// restartToken that of restarting a lost debugger; indexToken that of
// building the line index.
const (
	progressToken = "timelens/start"
	restartToken  = "timelens/restart"
	indexToken    = "timelens/index"
)

// progress is one work-done progress in the editor ($/progress): the
// session's start (Config.Start's reports), a restart of a lost debugger,
// or the building of the line index.
// It begins only after the initialized notification (the server may not
// send requests before) and coalesces reports that come faster than the
// editor takes them.
type progress struct {
	s     *server
	token protocol.String
	mu    sync.Mutex
	msg   string
	pct   int
	done  bool
	err   error
	end   string // the end's message, when not the default
	wake  chan struct{}
	over  chan struct{}
}

func newProgress(s *server, token string) *progress {
	return &progress{s: s, token: protocol.String(token), pct: -1, wake: make(chan struct{}, 1), over: make(chan struct{})}
}

func (p *progress) update(msg string, pct int) {
	p.mu.Lock()
	p.msg, p.pct = msg, pct
	p.mu.Unlock()
	p.s.log.Debug("start progress", zap.String("msg", msg), zap.Int("pct", pct))
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *progress) finish(err error) { p.finishWith("", err) }

// finishWith ends the progress with msg (default: "ready", or why it
// failed).
func (p *progress) finishWith(msg string, err error) {
	p.mu.Lock()
	p.done, p.err, p.end = true, err, msg
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	<-p.over
}

func (p *progress) run(ctx context.Context) {
	defer close(p.over)
	p.s.mu.Lock()
	supported := p.s.caps.workDoneProgress
	p.s.mu.Unlock()
	if !supported {
		p.drain()
		return
	}
	// Wait for initialized, or for the end of a start that was quicker.
waiting:
	for {
		select {
		case <-p.s.initialized: // already: never mind a pending wake-up
			break waiting
		default:
		}
		select {
		case <-p.s.initialized:
			break waiting
		case <-p.wake:
			if p.state().done {
				return
			}
		case <-ctx.Done():
			return
		}
	}
	token := p.token
	if err := p.s.client.WorkDoneProgressCreate(ctx, &protocol.WorkDoneProgressCreateParams{Token: token}); err != nil {
		p.s.log.Debug("window/workDoneProgress/create", zap.Error(err))
		p.drain()
		return
	}
	st := p.state()
	p.send(ctx, token, &protocol.WorkDoneProgressBegin{Kind: "begin", Title: "timelens", Message: ptr(st.msg), Percentage: percentage(st.pct)})
	for !st.done {
		select {
		case <-p.wake:
		case <-ctx.Done():
			return
		}
		st = p.state()
		if !st.done {
			p.send(ctx, token, &protocol.WorkDoneProgressReport{Kind: "report", Message: ptr(st.msg), Percentage: percentage(st.pct)})
		}
	}
	end := "ready"
	switch {
	case st.end != "":
		end = st.end
	case st.err != nil:
		end = "failed: " + st.err.Error()
	}
	p.send(ctx, token, &protocol.WorkDoneProgressEnd{Kind: "end", Message: ptr(end)})
}

// drain waits for the end without telling the editor.
func (p *progress) drain() {
	for !p.state().done {
		<-p.wake
	}
}

type progressState struct {
	msg  string
	pct  int
	done bool
	err  error
	end  string
}

func (p *progress) state() progressState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return progressState{p.msg, p.pct, p.done, p.err, p.end}
}

func (p *progress) send(ctx context.Context, token protocol.ProgressToken, value any) {
	raw, err := protocol.Marshal(value)
	if err == nil {
		err = p.s.client.Progress(ctx, &protocol.ProgressParams{Token: token, Value: raw})
	}
	if err != nil {
		p.s.log.Debug("$/progress", zap.Error(err))
	}
}

func percentage(pct int) *uint32 {
	if pct < 0 {
		return nil
	}
	return ptr(uint32(min(pct, 100)))
}

// indexProgress shows the building of the line index
// (history.Timeline.OnIndex) as a work-done progress. The timeline calls
// it on its building goroutine, which it must not hold up: the progress
// runs and ends on goroutines of the session.
func (s *server) indexProgress(ctx context.Context) func(history.IndexProgress) {
	var once sync.Once
	p := newProgress(s, indexToken)
	return func(ip history.IndexProgress) {
		once.Do(func() { s.background(func() { p.run(ctx) }) })
		if !ip.Done {
			pct := -1
			if ip.Fraction >= 0 {
				pct = int(ip.Fraction * 100)
			}
			p.update(ip.Message(), pct)
			return
		}
		s.log.Info("line index", zap.String("outcome", ip.Message()))
		s.background(func() { p.finishWith(ip.Message(), ip.Err) })
	}
}
