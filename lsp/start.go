package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/timelens/timelens/history"
)

// progressToken names the work-done progress of starting the session;
// restartToken that of restarting a lost debugger.
const (
	progressToken = "timelens/start"
	restartToken  = "timelens/restart"
)

// start runs Config.Start on its own goroutine, reports its progress, and
// publishes the result: the first position, or the error in a message.
func (s *server) start(ctx context.Context, opts json.RawMessage) {
	p := newProgress(s, progressToken)
	go p.run(ctx)
	tl, err := s.runStart(ctx, opts, p.update)
	if err == nil && tl == nil {
		err = errors.New("the session started without a timeline (a bug in the command line)")
	}
	p.finish(err)

	s.mu.Lock()
	closed := s.closed
	if err == nil && !closed {
		s.tl = tl
	} else {
		s.startErr = err
	}
	s.mu.Unlock()
	close(s.started)

	switch {
	case closed && tl != nil:
		// Shutdown came while we were starting.
		_ = tl.Close()
	case err != nil && !closed:
		s.log.Error("starting the recording session", zap.Error(err))
		s.showMessage(protocol.MessageTypeError, "timelens could not start: "+err.Error())
	case err == nil:
		tl.OnRestart(s.onRestart)
		s.background(func() { s.restartNotifier(s.ctx, tl) })
		pos, werr := tl.Where(ctx)
		if werr != nil {
			s.log.Warn("reading the first position", zap.Error(werr))
			return
		}
		s.log.Info("recording session ready", zap.String("file", pos.File), zap.Int("line", pos.Line), zap.String("time", string(pos.Time)))
		s.moveDone(pos)
	}
}

// onRestart hears the timeline's restarts of a lost debugger. It runs on
// the timeline's goroutine, so it only queues the report for
// restartNotifier.
func (s *server) onRestart(r history.Restart) {
	s.mu.Lock()
	s.restarts = append(s.restarts, r)
	s.mu.Unlock()
	select {
	case s.restartWake <- struct{}{}:
	default:
	}
}

// restartNotifier tells the editor about restarts: $/progress while the
// debugger starts again (re-recording, for gdb), then a warning saying
// what happened and where time is, and a refresh of everything shown; or
// an error when the restart failed.
func (s *server) restartNotifier(ctx context.Context, tl *history.Timeline) {
	var p *progress
	defer func() {
		if p != nil {
			p.finish(ctx.Err())
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.restartWake:
		}
		s.mu.Lock()
		queue := s.restarts
		s.restarts = nil
		s.mu.Unlock()
		for _, r := range queue {
			if !r.Done {
				if p == nil {
					p = newProgress(s, restartToken)
					go p.run(ctx)
				}
				p.update(r.Message(), -1)
				continue
			}
			if p != nil {
				p.finish(r.Err)
				p = nil
			}
			if r.Err != nil {
				s.showMessage(protocol.MessageTypeError, "timelens: "+r.Message())
				continue
			}
			s.showMessage(protocol.MessageTypeWarning, "timelens: "+r.Message())
			if pos, err := tl.Where(ctx); err == nil {
				s.moveDone(pos)
			}
		}
	}
}

func (s *server) runStart(ctx context.Context, opts json.RawMessage, progress func(string, int)) (tl *history.Timeline, err error) {
	if s.cfg.Start == nil {
		return nil, errors.New("no recording to replay: the server was built without a Start function")
	}
	defer func() {
		if r := recover(); r != nil {
			err = errorf("starting the session panicked: %v", r)
		}
	}()
	return s.cfg.Start(ctx, opts, progress)
}

func (s *server) showMessage(typ protocol.MessageType, msg string) {
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	if err := s.client.ShowMessage(ctx, &protocol.ShowMessageParams{Type: typ, Message: msg}); err != nil {
		s.log.Debug("window/showMessage", zap.Error(err))
	}
}

// progress forwards Config.Start's reports to the editor as $/progress. It
// begins only after the initialized notification (the server may not send
// requests before) and coalesces reports that come faster than the editor
// takes them.
type progress struct {
	s     *server
	token protocol.String
	mu    sync.Mutex
	msg   string
	pct   int
	done  bool
	err   error
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

func (p *progress) finish(err error) {
	p.mu.Lock()
	p.done, p.err = true, err
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
	if st.err != nil {
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
}

func (p *progress) state() progressState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return progressState{p.msg, p.pct, p.done, p.err}
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
