package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

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
	if kind == gdbmi.KindGDB && po.Program != "" && o.Recording != "" {
		// Editors pass the file they show as PROGRAM: accept the one the
		// recording ran, refuse another.
		if err := sameProgram(o.Recording, program); err != nil {
			return nil, err
		}
		po.Program, po.Args = "", nil
	}
	if kind == gdbmi.KindGDB && po.Program == "" && o.Recording == "" {
		return nil, fmt.Errorf("nothing to record: give the program after --, e.g. timelens lsp -- python3 app.py (or --recording PATH: a recording made by timelens record)")
	}
	b, err := pyext.Open(ctx, po)
	if err != nil {
		return nil, err
	}
	tl, err := history.New(ctx, b, history.Options{})
	if err != nil {
		b.Close()
		return nil, err
	}
	return tl, nil
}

// sameProgram checks that program names the script a saved gdb recording
// ran (by file name), so that an editor may pass the file it shows.
func sameProgram(recording string, program []string) error {
	m, err := pyext.ReadManifest(recording)
	if err != nil {
		return err
	}
	script := func(argv []string) string {
		for _, a := range argv {
			if strings.HasSuffix(a, ".py") {
				return filepath.Base(a)
			}
		}
		if len(argv) > 0 {
			return filepath.Base(argv[0])
		}
		return ""
	}
	if got, want := script(program), script(m.Program); got != want {
		return fmt.Errorf("%s is a saved recording of %s, not of %s; it replays without a program (drop PROGRAM after --, or drop --recording to record anew)",
			recording, strings.Join(m.Program, " "), strings.Join(program, " "))
	}
	return nil
}
