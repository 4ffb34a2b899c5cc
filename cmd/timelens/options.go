package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/timelens/timelens/gdbmi"
	"github.com/timelens/timelens/pyext"
	"github.com/timelens/timelens/pyext/session"
	"time"
)

// Options are the settings of one timelens run. The shared ones are both
// command-line flags (--record-from) and, under their JSON names
// (recordFrom), LSP initializationOptions; a flag given on the command line
// wins over the same option sent by the editor (see MergeJSON).
//
// Options are kept as given: an empty field means "the default", which the
// accessors (BackendName, GDBPath, ...) work out, so that options merged in
// later still take part in the defaults.
type Options struct {
	// Backend is "gdb", "rr" or "udb"; empty means derived from Recording.
	Backend string `json:"backend,omitempty"`
	// Recording is an rr trace directory, a UDB .undo file or a gdb
	// recording directory (timelens record) to replay.
	Recording string `json:"recording,omitempty"`
	// RecordFrom is the Python function (bare or qualified name) at whose
	// first call the gdb backend starts recording.
	RecordFrom string `json:"recordFrom,omitempty"`
	// RecordLimit bounds the gdb backend's recording, in machine
	// instructions; 0 means the default bound.
	RecordLimit int64 `json:"recordLimit,omitempty"`
	// GDB, RR and UDB are the debugger executables (names or paths).
	GDB string `json:"gdb,omitempty"`
	RR  string `json:"rr,omitempty"`
	UDB string `json:"udb,omitempty"`
	// Python is the interpreter that runs PROGRAM when it is a .py file.
	Python string `json:"python,omitempty"`
	// Log is the file structured logs go to (default: stderr).
	Log string `json:"log,omitempty"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `json:"logLevel,omitempty"`

	// Flags of single subcommands; command line only.

	// At is annotate's --at WHERE: the time point to annotate.
	At string `json:"-"`
	// SubstitutePath maps source paths of the recording to the editor's
	// (lsp's --substitute-path FROM=TO, repeatable): {FROM, TO} pairs.
	SubstitutePath [][2]string `json:"-"`
	// Timeout is lsp's --timeout: how long one debugger request may take
	// before the debugger counts as hung and is restarted (0: the
	// timeline's defaults, 30 s for a read and 5 min for a move).
	Timeout time.Duration `json:"-"`
	// Listen is lsp's --listen ADDR: serve one client on a loopback TCP
	// address instead of stdio.
	Listen string `json:"-"`
	// LastWrite is annotate's --last-write EXPR.
	LastWrite string `json:"-"`
	// PastCalls is --past-calls (lsp, annotate): also the lines of the latest
	// call of each function of the file that is not on the stack.
	PastCalls bool `json:"-"`
	// Bytecode is annotate's --bytecode: also print the current frame's
	// instructions under their source lines.
	Bytecode bool `json:"-"`
	// Output is record's -o PATH: where the recording goes.
	Output string `json:"-"`
	// JSON is doctor's --json: print the report as JSON.
	JSON bool `json:"-"`
}

// Backends lists the valid values of --backend.
var Backends = []string{"gdb", "rr", "udb"}

// LogLevels lists the valid values of --log-level.
var LogLevels = []string{"debug", "info", "warn", "error"}

// option is one flag bound to a field of Options. Its flag.Value checks the
// value, so a bad value is refused the same way on the command line and in
// initializationOptions.
type option struct {
	// flag is the name on the command line, without dashes.
	flag string
	// json is the initializationOptions key; empty for command-line-only flags.
	json string
	// usage is the help text; a word in backquotes names the value.
	usage string
	value flag.Value
}

// sharedOptions are the flags every subcommand but version takes.
func (o *Options) sharedOptions() []option {
	return []option{
		{flag: "backend", json: "backend",
			usage: "the debugger to drive (default: udb for a UDB .undo recording, rr for an rr trace directory, else gdb)",
			value: choiceValue{&o.Backend, Backends, "backends"}},
		{"recording", "recording", "replay the recording at `PATH` (an rr trace directory, a UDB .undo file, or a directory made by timelens record --backend gdb)",
			pathValue{&o.Recording}},
		{"record-from", "recordFrom", "gdb backend: run at full speed to the first call of Python function `FUNC` (bare or qualified name) and record from there (default: the first line of the main module)",
			nonEmptyValue{&o.RecordFrom, "a Python function name"}},
		{"record-limit", "recordLimit", fmt.Sprintf("gdb backend: stop recording after `N` machine instructions (default: %s, which keeps gdb's log under 4 GiB; gdb records some 16,000 a second) and %s after the program started, whichever comes first",
			withUnderscores(pyext.DefaultRecordLimit), minutes(pyext.RecordWindowTime)),
			positiveValue{&o.RecordLimit}},
		{"gdb", "gdb", "run the gdb at `PATH` (default: gdb on PATH)", pathValue{&o.GDB}},
		{"rr", "rr", "run the rr at `PATH` (default: rr on PATH)", pathValue{&o.RR}},
		{"udb", "udb", "run the UDB at `PATH` (default: udb on PATH)", pathValue{&o.UDB}},
		{"python", "python", "run PROGRAM with the interpreter at `PATH` when it is a .py file (default: python3 on PATH, a pyenv or asdf shim followed to the interpreter it runs; when that is not CPython 3.10-3.14, the newest of python3.14 ... python3.10 on PATH; timelens doctor marks the one it is)",
			pathValue{&o.Python}},
		{"log", "log", "write structured logs to `FILE` (default: stderr; never stdout)", pathValue{&o.Log}},
		{"log-level", "logLevel", "`LEVEL` of the logs: debug, info, warn or error (default: info with --log, else warn)",
			choiceValue{&o.LogLevel, LogLevels, "log levels"}},
	}
}

// JSONKeys are the initializationOptions keys, in the order help lists
// their flags.
func (o *Options) JSONKeys() []string {
	var keys []string
	for _, opt := range o.sharedOptions() {
		keys = append(keys, opt.json)
	}
	return keys
}

// withUnderscores writes n as Go and the flags take it: 10_000_000.
func withUnderscores(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "_" + s[i:]
	}
	return s
}

// minutes writes d in whole minutes: "10 minutes".
func minutes(d time.Duration) string {
	return fmt.Sprintf("%d minutes", int(d.Minutes()))
}

// MergeJSON applies LSP initializationOptions (a JSON object whose keys are
// the options' JSON names, such as recordFrom) to o. An option whose flag
// name is in setOnCommandLine (as flag.FlagSet.Visit reports it, such as
// "record-from") keeps its command-line value: a flag given on the command
// line wins. JSON null counts as absent; numbers may also be given as strings.
//
// Values are checked as on the command line. Unknown keys and bad values are
// reported together in the returned error, after every valid known key has
// been applied, so a server can log the error and go on.
func (o *Options) MergeJSON(raw []byte, setOnCommandLine map[string]bool) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return fmt.Errorf("initializationOptions must be a JSON object of timelens options: %w", err)
	}
	byJSON := map[string]option{}
	var known []string
	for _, opt := range o.sharedOptions() {
		byJSON[opt.json] = opt
		known = append(known, opt.json)
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []error
	for _, key := range keys {
		opt, ok := byJSON[key]
		if !ok {
			errs = append(errs, fmt.Errorf("unknown option %q (known: %s)", key, strings.Join(known, ", ")))
			continue
		}
		if setOnCommandLine[opt.flag] {
			continue
		}
		text, present, err := jsonScalar(fields[key])
		if err == nil && present {
			err = opt.value.Set(text)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("option %s: %w", key, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("initializationOptions: %w", errors.Join(errs...))
	}
	return nil
}

// jsonScalar returns a JSON string or number as text; present is false for null.
func jsonScalar(raw json.RawMessage) (text string, present bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", false, err
	}
	switch v := v.(type) {
	case nil:
		return "", false, nil
	case string:
		return v, true, nil
	case json.Number:
		return v.String(), true, nil
	default:
		return "", false, fmt.Errorf("want a string or a number, not %s", raw)
	}
}

// Validate checks the options together (each value was checked when set).
// It does not change o.
func (o *Options) Validate() error { return o.config(nil, nil, nil).Check() }

// config is the session the options describe, running PROGRAM ARGS program.
func (o *Options) config(program []string, log *zap.Logger, progress func(string)) session.Config {
	return session.Config{
		Backend: gdbmi.Kind(o.Backend), Recording: o.Recording,
		RecordFrom: o.RecordFrom, RecordLimit: o.RecordLimit,
		GDB: o.GDB, RR: o.RR, UDB: o.UDB, Python: o.Python,
		Program: program, Timeout: o.Timeout, Logger: log, Progress: progress,
	}
}

// GDBPath is the gdb to run.
func (o *Options) GDBPath() string { return orDefault(o.GDB, "gdb") }

// RRPath is the rr to run.
func (o *Options) RRPath() string { return orDefault(o.RR, "rr") }

// UDBPath is the UDB to run.
func (o *Options) UDBPath() string { return orDefault(o.UDB, "udb") }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// choiceValue is a string that must be one of choices.
type choiceValue struct {
	p       *string
	choices []string
	what    string
}

func (v choiceValue) String() string { return deref(v.p) }

func (v choiceValue) Set(s string) error {
	if !slices.Contains(v.choices, s) {
		return fmt.Errorf("%q is not valid; valid %s are %s", s, v.what, strings.Join(v.choices, ", "))
	}
	*v.p = s
	return nil
}

// pathValue is a file or executable path; it must not be empty.
type pathValue struct{ p *string }

func (v pathValue) String() string { return deref(v.p) }

func (v pathValue) Set(s string) error {
	if s == "" {
		return errors.New("an empty path is not valid")
	}
	*v.p = s
	return nil
}

// nonEmptyValue is a string that must not be empty.
type nonEmptyValue struct {
	p    *string
	what string
}

func (v nonEmptyValue) String() string { return deref(v.p) }

func (v nonEmptyValue) Set(s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("want %s, not an empty string", v.what)
	}
	*v.p = s
	return nil
}

// substituteValue appends FROM=TO pairs.
type substituteValue struct{ p *[][2]string }

func (v substituteValue) String() string {
	if v.p == nil {
		return ""
	}
	var parts []string
	for _, pr := range *v.p {
		parts = append(parts, pr[0]+"="+pr[1])
	}
	return strings.Join(parts, ",")
}

func (v substituteValue) Set(s string) error {
	from, to, ok := strings.Cut(s, "=")
	if !ok || from == "" || to == "" {
		return fmt.Errorf("want FROM=TO (a path prefix of the recording = the same files' prefix in the editor), not %q", s)
	}
	*v.p = append(*v.p, [2]string{filepath.Clean(from), filepath.Clean(to)})
	return nil
}

// listenValue is a TCP address on a loopback interface.
type listenValue struct{ p *string }

func (v listenValue) String() string { return deref(v.p) }

func (v listenValue) Set(s string) error {
	if err := checkLoopback(s); err != nil {
		return err
	}
	*v.p = s
	return nil
}

// checkLoopback refuses a listening address that another machine could
// reach: the server reads files and memory of the recorded process, so it
// serves this machine only. The host must be a loopback IP (127.0.0.0/8,
// ::1) or a name that resolves to loopback addresses only (localhost).
func checkLoopback(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not HOST:PORT (%v); use e.g. 127.0.0.1:7777, or 127.0.0.1:0 for a free port", addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("%q: port %q is not a number from 0 to 65535", addr, port)
	}
	refuse := func(why string) error {
		return fmt.Errorf("%q %s; timelens serves this machine only: use a loopback address such as 127.0.0.1:%s or localhost:%s", addr, why, port, port)
	}
	if host == "" {
		return refuse("listens on every interface")
	}
	var ips []net.IP
	if ip := net.ParseIP(host); ip != nil {
		ips = []net.IP{ip}
	} else if ips, err = net.LookupIP(host); err != nil || len(ips) == 0 {
		return fmt.Errorf("%q: cannot resolve %s (%v); use a loopback address such as 127.0.0.1:%s", addr, host, err, port)
	}
	for _, ip := range ips {
		if ip.IsUnspecified() {
			return refuse("listens on every interface")
		}
		if !ip.IsLoopback() {
			return refuse(fmt.Sprintf("is not a loopback address (%s)", ip))
		}
	}
	return nil
}

// positiveValue is a whole number > 0.
type positiveValue struct{ p *int64 }

func (v positiveValue) String() string {
	if v.p == nil {
		return ""
	}
	return strconv.FormatInt(*v.p, 10)
}

func (v positiveValue) Set(s string) error {
	n, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("%q is not valid; want a whole number of machine instructions > 0", s)
	}
	*v.p = n
	return nil
}

// durationValue is a positive duration (--timeout 10s).
type durationValue struct{ p *time.Duration }

func (v durationValue) String() string {
	if v.p == nil || *v.p == 0 {
		return ""
	}
	return v.p.String()
}

func (v durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return fmt.Errorf("%q is not valid; want a duration > 0 such as 30s or 2m", s)
	}
	*v.p = d
	return nil
}

// boolValue is a flag without a value (--json).
type boolValue struct{ p *bool }

func (v boolValue) String() string {
	if v.p == nil {
		return ""
	}
	return strconv.FormatBool(*v.p)
}

func (v boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("%q is not valid; want true or false", s)
	}
	*v.p = b
	return nil
}

// IsBoolFlag lets the flag be given without a value.
func (v boolValue) IsBoolFlag() bool { return true }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
