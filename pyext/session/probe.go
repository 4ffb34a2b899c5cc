package session

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/history"
)

// probeProgram is the program Probe records: a call with two lines.
const probeProgram = `def main():
    x = 1
    y = x + 1
    return y


main()
`

// Probe says whether timelens can navigate a program that c.Python runs,
// with c's backend, by doing it: it records a tiny program (gdb: from its
// main function; rr and UDB: with their recorder, then replays it), steps
// forward once and back once, and closes the session. nil means it
// navigates; otherwise the error says why not, with the extension's code
// where it refused (pyext.AsError: unsupported-python, no-debug-symbols, ...).
// c.Program, c.Recording and c.RecordFrom are Probe's own.
func Probe(ctx context.Context, c Config) (err error) {
	dir, err := os.MkdirTemp("", "timelens-probe-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	prog := filepath.Join(dir, "probe.py")
	if err := os.WriteFile(prog, []byte(probeProgram), 0o644); err != nil {
		return err
	}
	c.Program, c.Recording, c.RecordFrom = []string{prog}, "", ""
	kind, err := c.Kind()
	if err != nil {
		return err
	}
	if kind == gdbmi.KindGDB {
		c.RecordFrom = "main"
	} else {
		out := filepath.Join(dir, "recording")
		cmd, err := RecorderCommand(ctx, c, out)
		if err != nil {
			return err
		}
		var said strings.Builder
		cmd.Stdout, cmd.Stderr = &said, &said
		if err := cmd.Run(); err != nil {
			return RecorderError(kind, cmd.Args, err, said.String())
		}
		if kind == gdbmi.KindUDB && !strings.HasSuffix(out, ".undo") {
			out += ".undo" // as RecordArgv names it
		}
		c.Program, c.Recording = nil, out
	}
	tl, err := Open(ctx, c)
	if err != nil {
		return err
	}
	defer tl.Close()
	from, err := tl.Where(ctx)
	if err != nil {
		return err
	}
	if _, err := tl.Move(ctx, history.Step); err != nil {
		return fmt.Errorf("a step from %s:%d: %w", filepath.Base(from.File), from.Line, err)
	}
	back, err := tl.Move(ctx, history.ReverseStep)
	if err != nil {
		return fmt.Errorf("a step back: %w", err)
	}
	if back.Line != from.Line || back.File != from.File {
		return fmt.Errorf("a step forward and back went from line %d to line %d", from.Line, back.Line)
	}
	return nil
}
