package pyext

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/timelens/timelens/gdbmi/gdbtest"
)

// plantReadingBug makes frames.ip_index raise inside a watchpoint's check()
// (a stop() callback) and nowhere else: a reading bug that used to read as
// "no stop here" a million times over, then "gave up".
const plantReadingBug = `python exec("""
import sys
import timelens_gdb.frames as _f
_f._tl_test_orig = getattr(_f, '_tl_test_orig', _f.ip_index)
def _planted(f, ci):
    if sys._getframe(1).f_code.co_name == 'check':
        raise ZeroDivisionError('planted reading bug')
    return _f._tl_test_orig(f, ci)
_f.ip_index = _planted
""")`

const removeReadingBug = `python exec("import timelens_gdb.frames as _f\n_f.ip_index = _f._tl_test_orig")`

// TestStopFailureEndsTheMove: an error inside a stop() callback that is not
// memory not there yet ends the move at once with code stop-failed, the
// callback's name and the traceback, and time where the move began; the
// session goes on.
func TestStopFailureEndsTheMove(t *testing.T) {
	gdbtest.ReverseGDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s := navigatorSession(t, gdbtest.Python(t), filepath.Join(navDir(t), "loop.py"))
	res, err := s.MI(ctx, "-timelens-record-window", "--main", "3000000")
	if err == nil && res.Class == "running" {
		_, err = s.MI(ctx, "-timelens-last-reply")
	}
	if err != nil {
		t.Fatalf("record window: %v", userError(err))
	}
	before, err := navCall(ctx, s, "-timelens-step", "next")
	if err != nil {
		t.Fatalf("next: %v", err)
	}
	for _, args := range [][]string{{"next"}, {"next", "--reverse"}, {"step"}} {
		s.Do(plantReadingBug)
		_, err := navCall(ctx, s, "-timelens-step", args...)
		s.Do(removeReadingBug)
		e := AsError(err)
		if e == nil || e.Code != CodeStopFailed {
			t.Fatalf("%v with a reading bug planted: %v; want code %s", args, err, CodeStopFailed)
		}
		detail, _ := e.Fields["detail"].(string)
		if !strings.Contains(e.Message, "ZeroDivisionError: planted reading bug") || !strings.Contains(detail, "Traceback") {
			t.Errorf("%v: message %q, detail %q; want the error in the message and the traceback in detail", args, e.Message, detail)
		}
		if where, _ := e.Fields["where"].(string); !strings.HasSuffix(where, ".stop") {
			t.Errorf("%v: where %q, want the callback (NAME.stop)", args, where)
		}
		now, err := navCall(ctx, s, "-timelens-where")
		if err != nil {
			t.Fatalf("where after the failed %v: %v", args, err)
		}
		if now.key() != before.key() {
			t.Errorf("after the failed %v: at %v, want where it began, %v", args, now.key(), before.key())
		}
	}
	// The bug removed, the same session moves on.
	if _, err := navCall(ctx, s, "-timelens-step", "next"); err != nil {
		t.Errorf("next after the failures: %v", err)
	}
}
