package main

// doctor's Python lines: each interpreter found (pyext/interp: PATH,
// --python, the program's, pyenv's), its version and build, and whether
// timelens navigates it with each backend that works here, found by doing
// it (session.Probe: a tiny program recorded, a step forward and back).

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	"go.uber.org/zap"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/pyext"
	"github.com/timelens/timelens/pyext/interp"
	"github.com/timelens/timelens/pyext/session"
)

// pythonReport is one interpreter of the report.
type pythonReport struct {
	// Executable is the interpreter itself (links and pyenv shims resolved).
	Executable string `json:"executable"`
	// FoundAs says where doctor found it: "python3.13 on PATH", "pyenv",
	// "--python", "the program's".
	FoundAs []string `json:"foundAs"`
	// Version is CPython's, "3.13.5"; empty when it could not be asked.
	Version  string `json:"version,omitempty"`
	Compiled string `json:"compiled,omitempty"`
	// Build is "static" (the interpreter's code in the executable) or
	// "shared" (in Libpython).
	Build     string `json:"build,omitempty"`
	Libpython string `json:"libpython,omitempty"`
	// DebugSymbols is where the debug symbols of the interpreter's code
	// are; empty when there are none.
	DebugSymbols string `json:"debugSymbols,omitempty"`
	// Default, on the interpreter a .py PROGRAM runs under when --python
	// is not given, says why it is that one: "python3 on PATH".
	Default string `json:"default,omitempty"`
	// Layout is where timelens finds its struct layouts: "debug info",
	// "CPython's debug offsets", "built-in table for 3.12"; empty when none
	// describes it (Detail and Fix say why and what to install).
	Layout string `json:"layout,omitempty"`
	// Navigates says, for each backend that works here, whether timelens
	// navigates this interpreter with it.
	Navigates []navigation `json:"navigates"`
	Status    status       `json:"status"`
	Detail    string       `json:"detail"`
	Fix       string       `json:"fix,omitempty"`
}

// navigation is the probe of one interpreter with one backend.
type navigation struct {
	Backend string `json:"backend"`
	OK      bool   `json:"ok"`
	// Code is the refusal's code (pyext.Code: unsupported-python,
	// no-debug-symbols, ...), when the Python extension refused.
	Code string `json:"code,omitempty"`
	Why  string `json:"why,omitempty"`
}

// foundPython is an interpreter being examined.
type foundPython struct {
	pythonReport
	info   *interp.Info
	build  interp.Build
	notRun string // why it is not probed
	// noLayout: no source describes its struct layouts (refused unprobed).
	noLayout *interp.LayoutError

	mu     sync.Mutex
	probes map[string]error // by backend; absent: not probed
}

// navigates says whether the probe with backend succeeded.
func (p *foundPython) navigates(backend string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	err, probed := p.probes[backend]
	return probed && err == nil
}

// findPythons asks every candidate interpreter its version (together,
// within the Python timeout), and reads the ELF files of each one found.
func (d *doctor) findPythons(ctx context.Context) []*foundPython {
	cands := interp.Candidates(d.opts.Python, d.program)
	ctx, cancel := context.WithTimeout(ctx, d.to.Python)
	defer cancel()
	type asked struct {
		r   interp.Resolved
		err error
	}
	answers := make([]asked, len(cands))
	var def asked // the default interpreter of a .py PROGRAM
	var wg sync.WaitGroup
	for i, c := range cands {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i].r, answers[i].err = interp.Resolve(ctx, c.Path)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		def.r, def.err = interp.DefaultPython(ctx)
	}()
	wg.Wait()
	d.defaultPython, d.noDefaultPython = def.r, def.err
	var out []*foundPython
	byExe := map[string]*foundPython{}
	for i, c := range cands {
		how := foundAs(c)
		a := answers[i]
		if a.err != nil {
			d.log.Debug("not an interpreter", zap.String("path", c.Path), zap.Error(a.err))
			if c.Via == "PATH" || c.Via == "pyenv" {
				continue // a shim of a version pyenv does not select, a stray name
			}
			out = append(out, &foundPython{pythonReport: pythonReport{Executable: c.Path, FoundAs: []string{how}},
				notRun: "it does not run: " + a.err.Error()})
			continue
		}
		exe := a.r.Real()
		if p := byExe[exe]; p != nil {
			p.FoundAs = append(p.FoundAs, how)
			continue
		}
		p := &foundPython{pythonReport: pythonReport{Executable: exe, FoundAs: []string{how}, Version: a.r.Info.Version, Compiled: a.r.Info.Optimization()},
			info: &answers[i].r.Info, probes: map[string]error{}}
		info := a.r.Info
		b, err := interp.Inspect(exe)
		switch {
		case err != nil:
			p.notRun = err.Error()
		case info.Implementation != "cpython":
			p.notRun = fmt.Sprintf("it is %s, not CPython", info.Implementation)
		}
		p.build = b
		if err == nil {
			p.Build, p.Libpython, p.DebugSymbols = "static", b.Libpython, b.DebugSymbols
			if b.Shared {
				p.Build = "shared"
			}
			if p.notRun == "" {
				p.Layout, err = interp.LayoutSource(info, b)
				if errors.As(err, &p.noLayout) {
					p.notRun = p.noLayout.Missing
				}
			}
		}
		byExe[exe] = p
		out = append(out, p)
	}
	if def.err == nil {
		if p := byExe[def.r.Real()]; p != nil {
			p.FoundAs = append(p.FoundAs, defaultMark)
			p.Default = def.r.Via
		}
	}
	return out
}

// defaultMark is how doctor marks the interpreter of a .py PROGRAM when
// --python is not given (interp.DefaultPython, as lsp, annotate and record
// choose it).
const defaultMark = "the default for a .py PROGRAM"

func foundAs(c interp.Candidate) string {
	switch c.Via {
	case "PATH":
		return filepath.Base(c.Path) + " on PATH"
	case "program":
		return "the program's"
	}
	return c.Via
}

// probeConcurrency bounds the sessions doctor runs at once.
const probeConcurrency = 3

// probeAll probes every interpreter that can be with the backend, a few
// at a time, each within the Probe timeout.
func (d *doctor) probeAll(ctx context.Context, kind gdbmi.Kind, pythons []*foundPython) {
	sem := make(chan struct{}, probeConcurrency)
	var wg sync.WaitGroup
	for _, p := range pythons {
		if p.info == nil || p.notRun != "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				p.setProbe(kind, fmt.Errorf("not probed: doctor ran out of time (%s)", d.to.Total))
				return
			}
			pctx, cancel := context.WithTimeout(ctx, d.to.Probe)
			defer cancel()
			err := session.Probe(pctx, session.Config{
				Backend: kind, GDB: d.opts.GDB, RR: d.opts.RR, UDB: d.opts.UDB, Python: p.Executable, Logger: d.log,
			})
			if err != nil && pctx.Err() != nil && pyext.AsError(err) == nil {
				err = fmt.Errorf("the probe did not finish within %s (%v)", d.to.Probe, err)
			}
			d.log.Debug("probe", zap.String("python", p.Executable), zap.String("backend", string(kind)), zap.Error(err))
			p.setProbe(kind, err)
		}()
	}
	wg.Wait()
}

func (p *foundPython) setProbe(kind gdbmi.Kind, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.probes[string(kind)] = err
}

// conclude writes the interpreter's line from its build and the probes with
// the backends whose tools work here: a failed probe says its own error, and
// "not probed: no backend works here" means no backend's tools work.
func (p *foundPython) conclude(backends []backendResult) {
	var facts []string
	if p.Version != "" {
		facts = append(facts, "CPython "+p.Version, p.Compiled)
	}
	switch p.Build {
	case "static":
		facts = append(facts, "static (its code in the executable)")
	case "shared":
		facts = append(facts, "shared libpython ("+p.Libpython+")")
	}
	switch {
	case p.Build == "":
	case p.DebugSymbols == "":
		facts = append(facts, "no debug symbols")
	case p.DebugSymbols == p.build.Code() && p.Build == "shared":
		facts = append(facts, "debug symbols in libpython")
	case p.DebugSymbols == p.build.Code():
		facts = append(facts, "debug symbols in the executable")
	default:
		facts = append(facts, "debug symbols in "+p.DebugSymbols)
	}
	if p.Layout != "" {
		facts = append(facts, "layout from "+p.Layout)
	}
	if p.build.Problem != "" {
		facts = append(facts, p.build.Problem)
	}
	var said, works []string
	var refusal *pyext.Error
	p.mu.Lock()
	for _, b := range backends {
		err, probed := p.probes[b.Name]
		if !b.Works && !(probed && err == nil) {
			continue // a backend that does not work here says nothing of this Python
		}
		n := navigation{Backend: b.Name, OK: probed && err == nil}
		switch {
		case !probed:
			n.Why = "not probed"
		case err != nil:
			n.Why = err.Error()
			if e := pyext.AsError(err); e != nil {
				n.Code, n.Why = string(e.Code), e.Message
				refusal = e
			}
		}
		p.Navigates = append(p.Navigates, n)
		switch {
		case n.OK:
			works = append(works, b.Name)
		case n.Code != "":
			said = append(said, fmt.Sprintf("%s cannot navigate it (%s: %s)", b.Name, n.Code, n.Why))
		default:
			said = append(said, fmt.Sprintf("%s cannot navigate it (%s)", b.Name, n.Why))
		}
	}
	p.mu.Unlock()
	switch {
	case p.notRun != "":
		p.Status = statusSkip
		said = append(said, "not probed: "+p.notRun)
	case len(p.Navigates) == 0:
		p.Status = statusSkip
		said = append(said, "not probed: no backend works here")
	case len(works) > 0:
		p.Status = statusOK
		said = append([]string{"navigates with " + strings.Join(works, ", ")}, said...)
	default:
		p.Status = statusFail
	}
	p.Detail = strings.Join(nonEmpty(append([]string{strings.Join(nonEmpty(facts), ", ")}, said...)), "; ")
	p.Fix = p.fix(refusal, len(works) > 0)
}

// fix says what to install for an interpreter timelens cannot navigate.
func (p *foundPython) fix(refusal *pyext.Error, works bool) string {
	refused := func(c pyext.Code) bool { return refusal != nil && refusal.Code == c }
	switch {
	case works:
		return ""
	case p.noLayout != nil:
		return p.noLayout.Install
	case p.info != nil && p.Build != "" && p.DebugSymbols == "":
		return fmt.Sprintf("install python%d.%d-dbg (Debian/Ubuntu) or a build with -g; debuginfod also works", p.info.Major, p.info.Minor)
	case refused(pyext.CodeNoDebugSymbols) && p.DebugSymbols != "":
		// The symbols are there, where this timelens did not find them.
		return fmt.Sprintf("its debug symbols are in %s, where this timelens does not find them: use an interpreter doctor marks ✓, or a timelens that reads them there", p.DebugSymbols)
	case refused(pyext.CodeNoDebugSymbols) && p.info != nil:
		return fmt.Sprintf("install python%d.%d-dbg (Debian/Ubuntu) or a build with -g; debuginfod also works", p.info.Major, p.info.Minor)
	case refused(pyext.CodeUnsupportedPython):
		return "use an interpreter doctor marks ✓, or a timelens that reads CPython " + p.Version
	case p.Status == statusFail:
		return "timelens doctor --log-level debug shows the session that failed"
	}
	return ""
}

func nonEmpty(xs []string) []string {
	var out []string
	for _, x := range xs {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

// pythonLine is the interpreter's line of the text report.
func (p pythonReport) line() string {
	l := fmt.Sprintf("%s python %s (%s): %s", p.Status.mark(), p.Executable, strings.Join(p.FoundAs, ", "), p.Detail)
	if p.Fix != "" {
		l += ". Fix: " + p.Fix
	}
	return l
}
