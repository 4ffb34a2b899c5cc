package main

import (
	"context"
	"fmt"

	"go.uber.org/zap"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/history"
	"github.com/timelens/timelens/pyext"
)

// openTimeline starts the backend the options name (recording PROGRAM with
// gdb, or replaying a recording with rr or UDB) and returns the timeline at
// the window's first line event.
func openTimeline(ctx context.Context, o Options, program []string, log *zap.Logger, progress func(string)) (*history.Timeline, error) {
	name, err := o.BackendName()
	if err != nil {
		return nil, err
	}
	kind, err := gdbmi.ParseKind(name)
	if err != nil {
		return nil, err
	}
	po := pyext.Options{
		Kind: kind, Python: o.Python, Recording: o.Recording, RecordFrom: o.RecordFrom,
		RecordLimit: int(o.RecordLimit), Logger: log, Progress: progress,
	}
	switch kind {
	case gdbmi.KindGDB:
		po.Debugger = o.GDB
	case gdbmi.KindRR:
		po.Debugger, po.GDB = o.RR, o.GDB
	case gdbmi.KindUDB:
		po.Debugger = o.UDB
	}
	if len(program) > 0 {
		po.Program, po.Args = program[0], program[1:]
	}
	if kind == gdbmi.KindGDB && po.Program == "" {
		return nil, fmt.Errorf("nothing to record: give the program after --, e.g. timelens lsp -- python3 app.py (or --recording PATH with --backend rr|udb)")
	}
	if kind == gdbmi.KindGDB {
		if po.Program != "" {
			prog, python, err := checkProgram(program, po.Python)
			if err != nil {
				return nil, err
			}
			po.Program, po.Args, po.Python = prog[0], prog[1:], python
		}
		if err := checkGDBCanRecord(po.Debugger); err != nil {
			return nil, err
		}
	}
	b, err := pyext.Open(ctx, po)
	if err != nil {
		return nil, explainOpenError(err)
	}
	tl, err := history.New(ctx, b, history.Options{})
	if err != nil {
		b.Close()
		return nil, err
	}
	return tl, nil
}
