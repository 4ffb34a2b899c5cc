package lsp

import (
	"context"
	"encoding/json"
	"errors"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/timelens/timelens/history"
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
		tl.OnIndex(s.indexProgress(s.ctx))
		if reason := tl.EndReason(); reason != "" {
			s.showMessage(protocol.MessageTypeWarning, "timelens: the recorded window ends early: "+reason)
		}
		pos, werr := tl.Where(ctx)
		if werr != nil {
			s.log.Warn("reading the first position", zap.Error(werr))
			return
		}
		s.log.Info("recording session ready", zap.String("file", pos.File), zap.Int("line", pos.Line), zap.String("time", string(pos.Time)))
		s.moveDone(pos)
	}
}

// runStart runs Config.Start, a panic in it turned into an error.
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
