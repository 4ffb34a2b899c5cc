package pyext

import (
	"context"
	"os"
	"path/filepath"
	"sync"

	"github.com/timelens/timelens/history"
)

// mainReturned is the window_end of a window that ran until the main
// module's evaluation returned (normally, or with an uncaught exception).
const mainReturned = "main module returned"

// exceptionCache holds the exception read at the window's end.
type exceptionCache struct {
	mu   sync.Mutex
	read bool
	exc  *history.Exception
}

// UncaughtException implements history.ExceptionReader with
// -timelens-exception: the exception in flight at the end of a window that
// ended because the main module returned; nil for another end, a normal
// return, or SystemExit (Python prints no traceback for it). Read once.
func (b *Backend) UncaughtException(ctx context.Context) (*history.Exception, error) {
	if reason, _ := b.Window["window_end"].(string); reason != mainReturned {
		return nil, nil
	}
	c := &b.exc
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.read {
		return c.exc, nil
	}
	payload, err := b.call(ctx, "-timelens-exception")
	if err != nil {
		return nil, userError(err) // tried again next time
	}
	var r struct {
		Exception *struct {
			history.Exception
			SystemExit bool `json:"system_exit"`
		} `json:"exception"`
	}
	if err := Decode(payload, &r); err != nil {
		return nil, err
	}
	c.read = true
	if r.Exception != nil && !r.Exception.SystemExit {
		e := r.Exception.Exception
		c.exc = &e
	}
	return c.exc, nil
}

// pauseFile is the file whose presence asks the gdb side's runs to a line
// to stop (timelens_gdb/pause.py: next to the extension's directory).
func (b *Backend) pauseFile() string { return filepath.Join(b.dir, "pause") }

// Pause implements history.Pauser: the file the gdb side's runs to a line
// look for while they replay, created (on) or removed (off). Safe from any
// goroutine: it does not talk to gdb.
func (b *Backend) Pause(on bool) error {
	if !on {
		if err := os.Remove(b.pauseFile()); err != nil && !os.IsNotExist(err) {
			return err
		}
		return nil
	}
	return os.WriteFile(b.pauseFile(), nil, 0o600)
}

var (
	_ history.ExceptionReader = (*Backend)(nil)
	_ history.Pauser          = (*Backend)(nil)
)
