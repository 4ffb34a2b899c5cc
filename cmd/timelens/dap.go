package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/timelens/timelens/dap"
	"github.com/timelens/timelens/history"
	"github.com/timelens/timelens/pyext/session"
)

// runDAP serves the Debug Adapter Protocol on stdin/stdout (or one client
// of --listen). The session opens at the launch request, with its
// arguments under the command line's flags.
func runDAP(inv *invocation) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := dap.Config{
		Logger:         inv.log,
		Version:        version,
		SubstitutePath: inv.opts.SubstitutePath,
		Start: func(ctx context.Context, args json.RawMessage, progress func(string)) (*history.Timeline, error) {
			o, program, err := launchOptions(inv, args)
			if err != nil {
				return nil, err
			}
			return session.Open(ctx, o.config(program, inv.log, progress))
		},
	}
	var conn io.ReadWriteCloser = newStdio(inv.stdout)
	if inv.opts.Listen != "" {
		c, err := acceptOne(ctx, inv)
		if err != nil {
			fmt.Fprintf(inv.stderr, "timelens dap: %v\n", err)
			return 1
		}
		conn = c
	}
	defer conn.Close()
	if err := dap.Serve(ctx, conn, cfg); err != nil {
		fmt.Fprintf(inv.stderr, "timelens dap: %v\n", err)
		return 1
	}
	return 0
}

// launchKeys are the launch arguments that are not shared options: the
// program and what the editor adds for itself.
var launchKeys = map[string]bool{
	"program": true, "args": true, "cwd": true, "substitutePath": true,
	"type": true, "request": true, "name": true, "noDebug": true, "stopOnEntry": true,
	"console": true, "presentation": true, "preLaunchTask": true, "postDebugTask": true,
}

// launchOptions reads a launch request's arguments: program (a .py file or
// an executable, relative to cwd when given), args, and the shared
// options in camelCase, a flag given on the command line winning. Another
// key is refused with the list of known ones.
func launchOptions(inv *invocation, raw json.RawMessage) (Options, []string, error) {
	o := inv.opts
	var a struct {
		Program string   `json:"program"`
		Args    []string `json:"args"`
		Cwd     string   `json:"cwd"`
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		raw = []byte("{}")
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return o, nil, fmt.Errorf("launch arguments: %w (program is a string, args a list of strings)", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return o, nil, fmt.Errorf("launch arguments must be a JSON object: %w", err)
	}
	shared := map[string]json.RawMessage{}
	for k, v := range fields {
		if !launchKeys[k] && !strings.HasPrefix(k, "__") {
			shared[k] = v
		}
	}
	if len(shared) > 0 {
		b, _ := json.Marshal(shared)
		if err := o.MergeJSON(b, inv.set); err != nil {
			return o, nil, fmt.Errorf("launch arguments: %s (also: %s)", unwrapInit(err), strings.Join(sortedKeys(launchKeys), ", "))
		}
	}
	if err := o.Validate(); err != nil {
		return o, nil, err
	}
	program := inv.program
	if a.Program != "" {
		p := a.Program
		if a.Cwd != "" && !filepath.IsAbs(p) {
			p = filepath.Join(a.Cwd, p)
		}
		program = append([]string{p}, a.Args...)
	} else if len(a.Args) > 0 {
		return o, nil, errors.New("launch arguments: args without program; give program (a .py file or an executable)")
	}
	if len(program) == 0 && o.Recording == "" {
		return o, nil, errors.New(`launch arguments: nothing to debug: give "program" (a .py file to record, e.g. {"program": "app.py", "recordFrom": "main"}) or "recording" (one made by timelens record)`)
	}
	return o, program, nil
}

// unwrapInit drops MergeJSON's "initializationOptions: " prefix, which is
// LSP's word.
func unwrapInit(err error) string {
	return strings.TrimPrefix(err.Error(), "initializationOptions: ")
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
