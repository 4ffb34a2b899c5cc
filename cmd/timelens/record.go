package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/pyext"
)

// runRecord is `timelens record [flags] -o PATH -- PROGRAM ARGS...`.
//
// gdb: records the window as lsp would (pyext), then saves gdb's execution
// log and a manifest into the directory PATH; `--recording PATH` replays it.
// rr and UDB: runs their recorder (rr record, Undo's live-record) on the
// whole program.
func runRecord(inv *invocation) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	backend, err := inv.opts.BackendName()
	if err != nil {
		fmt.Fprintf(inv.stderr, "timelens record: %v\n", err)
		return exitUsage
	}
	inv.log.Debug("recording", zap.String("backend", backend), zap.Strings("program", inv.program), zap.String("output", inv.opts.Output))
	p := newProgress(inv.stderr)
	defer p.stop()
	switch backend {
	case "gdb":
		err = recordGDB(ctx, inv, p)
	default:
		err = recordExternal(ctx, inv, backend, p)
	}
	if err != nil {
		p.stop()
		fmt.Fprintf(inv.stderr, "timelens record: %v\n", err)
		return exitFailure
	}
	return exitOK
}

func recordGDB(ctx context.Context, inv *invocation, p *progress) error {
	out := inv.opts.Output
	if fi, err := os.Stat(out); err == nil && !fi.IsDir() {
		return fmt.Errorf("%s is a file; -o names a new directory for the recording (gdb's log and a manifest)", out)
	} else if ents, _ := os.ReadDir(out); len(ents) > 0 {
		return fmt.Errorf("%s exists and is not empty; -o names a new directory for the recording", out)
	}
	from := inv.opts.RecordFrom
	if from == "" {
		from = "the main module"
	}
	p.start(fmt.Sprintf("recording %s from %s", filepath.Base(programName(inv.program)), from))
	sources := readProgramSources(inv.program) // as the recording runs them
	po := pyext.Options{
		Kind: gdbmi.KindGDB, Debugger: inv.opts.GDB, Python: inv.opts.Python,
		Program: inv.program[0], Args: inv.program[1:],
		RecordFrom: inv.opts.RecordFrom, RecordLimit: int(inv.opts.RecordLimit),
		Logger: inv.log, Progress: func(msg string) { p.detail(msg) },
	}
	b, err := pyext.Open(ctx, po)
	if err != nil {
		return err
	}
	defer b.Close()
	p.end(fmt.Sprintf("recorded %v instructions (window end: %v)", b.Window["instructions"], b.Window["window_end"]))
	p.line("saving…")
	t0 := time.Now()
	m, err := b.Save(ctx, out, inv.program, inv.opts.RecordFrom)
	if err != nil {
		return err
	}
	if err := writeSources(out, sources); err != nil {
		return fmt.Errorf("keeping the program's sources in %s: %w", out, err)
	}
	size := dirSize(out)
	inv.log.Info("saved recording", zap.Any("manifest", m), zap.Any("seconds", time.Since(t0).Seconds()))
	p.line(fmt.Sprintf("saved %s (%s); replay it with: timelens lsp --recording %s", out, humanSize(size), out))
	return nil
}

// recordExternal runs rr's or UDB's own recorder on PROGRAM ARGS.
func recordExternal(ctx context.Context, inv *invocation, backend string, p *progress) error {
	program := pythonProgram(inv.program, inv.opts.Python)
	var argv []string
	switch backend {
	case "rr":
		exe, err := exec.LookPath(inv.opts.RRPath())
		if err != nil {
			return fmt.Errorf("rr not found (%s): apt-get install rr (recent CPUs need a recent rr: github.com/rr-debugger/rr/releases), or pass --rr PATH; run 'timelens doctor' to see what works here", inv.opts.RRPath())
		}
		argv = rrRecordArgv(exe, inv.opts.Output, program)
	case "udb":
		exe, err := liveRecordPath(inv.opts.UDB)
		if err != nil {
			return err
		}
		argv = udbRecordArgv(exe, inv.opts.Output, program)
	default:
		return fmt.Errorf("--backend %s cannot record", backend)
	}
	p.line(fmt.Sprintf("recording %s with %s", strings.Join(program, " "), filepath.Base(argv[0])))
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), gdbmi.DebuggeeEnv()...)
	var said strings.Builder
	cmd.Stdin, cmd.Stdout = os.Stdin, inv.stdout
	cmd.Stderr = io.MultiWriter(inv.stderr, &said)
	if err := cmd.Run(); err != nil {
		return recorderError(backend, argv, err, said.String())
	}
	p.line(fmt.Sprintf("saved %s (%s); replay it with: timelens lsp --recording %s", inv.opts.Output, humanSize(dirSize(inv.opts.Output)), inv.opts.Output))
	return nil
}

// recorderError says why rr record or live-record failed, and what to do.
func recorderError(backend string, argv []string, err error, out string) error {
	lower := strings.ToLower(out)
	cmdline := strings.Join(argv, " ")
	switch {
	case backend == "rr" && (strings.Contains(lower, "perf_event") || strings.Contains(lower, "performance counter")):
		return fmt.Errorf("%s failed: rr needs the CPU's hardware performance counters and cannot open them here (%v); run on bare metal or a VM exposing them, with kernel.perf_event_paranoid ≤ 1 — or record with --backend gdb; 'timelens doctor' says more", cmdline, err)
	case backend == "rr" && strings.Contains(lower, "cpu"):
		return fmt.Errorf("%s failed: this rr does not support the CPU (%v); install a newer rr — or record with --backend gdb; 'timelens doctor' says more", cmdline, err)
	case backend == "udb" && strings.Contains(lower, "licen"):
		return fmt.Errorf("%s failed: UDB's license was refused (%v); see Undo's licensing docs", cmdline, err)
	}
	return fmt.Errorf("%s failed: %v; run 'timelens doctor' to see which backends work here", cmdline, err)
}

// rrRecordArgv: rr record -o TRACE-DIR -- PROGRAM ARGS.
func rrRecordArgv(rr, out string, program []string) []string {
	return append([]string{rr, "record", "-o", out, "--"}, program...)
}

// udbRecordArgv: live-record -o FILE.undo -- PROGRAM ARGS (Undo's recorder,
// shipped next to udb). The .undo suffix is what --recording recognizes.
func udbRecordArgv(liveRecord, out string, program []string) []string {
	if !strings.EqualFold(filepath.Ext(out), ".undo") {
		out += ".undo"
	}
	return append([]string{liveRecord, "-o", out, "--"}, program...)
}

// liveRecordPath finds Undo's live-record: next to --udb PATH, else on PATH.
func liveRecordPath(udb string) (string, error) {
	if udb != "" && strings.Contains(udb, "/") {
		p := filepath.Join(filepath.Dir(udb), "live-record")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		return "", fmt.Errorf("live-record not found next to %s: UDB records with Undo's live-record, shipped with UDB; check the UDB installation", udb)
	}
	p, err := exec.LookPath("live-record")
	if err != nil {
		return "", fmt.Errorf("live-record not found on PATH: UDB (Undo's commercial time-travel debugger) records with its live-record; install UDB and put it on PATH, or pass --udb PATH, or record with --backend gdb; 'timelens doctor' says which backends work here")
	}
	return p, nil
}

// pythonProgram runs a .py PROGRAM with the interpreter (--python, else python3).
func pythonProgram(program []string, python string) []string {
	if len(program) > 0 && strings.HasSuffix(program[0], ".py") {
		return append([]string{orDefault(python, "python3")}, program...)
	}
	return program
}

// programName is the program being recorded: the script of python3 SCRIPT.
func programName(program []string) string {
	for _, a := range program {
		if strings.HasSuffix(a, ".py") {
			return a
		}
	}
	return program[0]
}

func dirSize(path string) int64 {
	var n int64
	filepath.Walk(path, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// progress reports a long step on stderr: on a terminal, one line redrawn
// every second with the elapsed time and the backend's latest word; else
// only the start and end lines.
type progress struct {
	w    io.Writer
	tty  bool
	mu   sync.Mutex
	what string
	last string
	t0   time.Time
	done chan struct{}
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// start begins a step: "recording loop.py from main…".
func (p *progress) start(what string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.what, p.t0 = what, time.Now()
	if !p.tty {
		fmt.Fprintf(p.w, "timelens: %s…\n", what)
		return
	}
	p.done = make(chan struct{})
	p.redraw()
	go func(done chan struct{}) {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				p.mu.Lock()
				p.redraw()
				p.mu.Unlock()
			}
		}
	}(p.done)
}

func (p *progress) redraw() {
	line := fmt.Sprintf("timelens: %s… %ds", p.what, int(time.Since(p.t0).Seconds()))
	if p.last != "" {
		line += " (" + p.last + ")"
	}
	fmt.Fprintf(p.w, "\r\033[K%s", line)
}

// detail is the backend's latest word, shown on a terminal only.
func (p *progress) detail(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last = msg
	if p.tty && p.done != nil {
		p.redraw()
	}
}

// end closes the step with a result line.
func (p *progress) end(result string) {
	p.stopTicker()
	fmt.Fprintf(p.w, "timelens: %s in %.0fs\n", result, time.Since(p.t0).Seconds())
}

// line prints one line.
func (p *progress) line(msg string) {
	p.stopTicker()
	fmt.Fprintf(p.w, "timelens: %s\n", msg)
}

func (p *progress) stopTicker() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done != nil {
		close(p.done)
		p.done = nil
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func (p *progress) stop() { p.stopTicker() }
