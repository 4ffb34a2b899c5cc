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

// progressToken names the work-done progress of starting the session.
const progressToken = "timelens/start"

// start runs Config.Start on its own goroutine, reports its progress, and
// publishes the result: the first position, or the error in a message.
func (s *server) start(ctx context.Context, opts json.RawMessage) {
	p := newProgress(s)
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
		pos, werr := tl.Where(ctx)
		if werr != nil {
			s.log.Warn("reading the first position", zap.Error(werr))
			return
		}
		s.log.Info("recording session ready", zap.String("file", pos.File), zap.Int("line", pos.Line), zap.String("time", string(pos.Time)))
		s.moveDone(pos)
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
	s    *server
	mu   sync.Mutex
	msg  string
	pct  int
	done bool
	err  error
	wake chan struct{}
	over chan struct{}
}

func newProgress(s *server) *progress {
	return &progress{s: s, pct: -1, wake: make(chan struct{}, 1), over: make(chan struct{})}
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
	token := protocol.String(progressToken)
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
