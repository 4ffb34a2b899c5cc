// Command timelens is a time-travel debugger for Python that editors talk to
// over the Language Server Protocol. It drives gdb (record full), rr or
// Undo's UDB over GDB/MI.
//
//	timelens lsp      [flags] [-- PROGRAM ARGS...]
//	timelens dap      [flags] [--listen ADDR] [-- PROGRAM ARGS...]
//	timelens annotate [flags] [--at WHERE] FILE [-- PROGRAM ARGS...]
//	timelens record   [flags] -o PATH -- PROGRAM ARGS...
//	timelens doctor   [flags] [-- PROGRAM ARGS...]
//	timelens version  (or timelens --version)
//
// Run "timelens help COMMAND" for a command's flags.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"go.uber.org/zap"
)

// Exit statuses.
const (
	exitOK = 0
	// exitFailure: the command ran and failed (doctor: no backend works here).
	exitFailure = 1
	// exitUsage: bad command line.
	exitUsage = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// programArgs says whether a command takes PROGRAM ARGS after "--".
type programArgs int

const (
	noProgram programArgs = iota
	optionalProgram
	requiredProgram
)

// command is one subcommand.
type command struct {
	name     string
	summary  string // one line, for the overview and the help
	synopsis string // after "timelens "
	// notes, when set, follow the synopsis in the help.
	notes string
	// examples are command lines with what each does, for the help's
	// Examples section: "# what it does" lines, each before its command.
	examples string
	// file names the one positional argument, if any ("FILE").
	file    string
	program programArgs
	// shared: takes the shared flags, but for those in notShared.
	shared bool
	// notShared are the shared flags the command does not take, each
	// with why (the refusal says it).
	notShared map[string]string
	// options are the command's own flags.
	options func(o *Options) []option
	// check validates what the flags cannot check one by one.
	check func(inv *invocation) error
	run   func(inv *invocation) int
}

// invocation is one parsed command line.
type invocation struct {
	cmd  *command
	opts Options
	// set holds the names of the flags given on the command line.
	set map[string]bool
	// file is the positional argument (annotate's FILE).
	file string
	// program is PROGRAM ARGS, after "--".
	program        []string
	stdout, stderr io.Writer
	log            *zap.Logger
}

// commands in the order the overview lists them.
var commands []*command

// substituteOption is --substitute-path, of the servers and annotate.
func substituteOption(o *Options) option {
	return option{flag: "substitute-path", usage: "map source paths: `FROM=TO`, where FROM is a path prefix as the recording has it and TO the same files' prefix in the editor (repeatable; the first match wins)",
		value: substituteValue{&o.SubstitutePath}}
}

// serverOptions are the flags of the two servers, lsp and dap: source path
// substitution, the hung-debugger timeout and --listen (listenNote ends its
// usage).
func serverOptions(o *Options, listenNote string) []option {
	return []option{substituteOption(o),
		{flag: "timeout", usage: "count the debugger as hung when one request takes longer than `DURATION`: stop it, start it again and return to the same time (default: 30s for a read, 5m for a move)",
			value: durationValue{&o.Timeout}},
		{flag: "listen", usage: "serve one client on TCP `ADDR` instead of stdio; loopback only (127.0.0.1:PORT, [::1]:PORT, localhost:PORT; port 0 picks a free one, printed on stderr)" + listenNote,
			value: listenValue{&o.Listen}}}
}

func init() {
	commands = []*command{
		{
			name:     "lsp",
			summary:  "serve the Language Server Protocol on stdin/stdout",
			synopsis: "lsp [flags] [-- PROGRAM ARGS...]",
			examples: `# Editors start it; on its own, it records app.py when the editor has connected
# (from the first line of the main module, under the default Python: see --python):
timelens lsp -- app.py
# Record from the first call of main(), under a chosen interpreter:
timelens lsp --record-from main --python /usr/bin/python3.13 -- app.py
# Replay a recording made by timelens record:
timelens lsp --recording app.rec`,
			program: optionalProgram,
			shared:  true,
			options: func(o *Options) []option {
				return append(serverOptions(o, ""),
					option{flag: "past-calls", usage: "also hint each function of an open file that is not on the stack with its latest call before now (a finished task, a helper that returned); slower: one search back per function and time",
						value: boolValue{&o.PastCalls}})
			},
			run: runLSP,
		},
		{
			name:     "dap",
			summary:  "serve the Debug Adapter Protocol on stdin/stdout",
			synopsis: "dap [flags] [--listen 127.0.0.1:PORT] [-- PROGRAM ARGS...]",
			notes: "The session opens at the client's launch request: its arguments are program, args and the\n" +
				"shared options in camelCase (recordFrom, recording, python, gdb, ...); a flag given here wins.",
			examples: `# Serve one editor on stdin/stdout (VS Code's launch.json names the program):
timelens dap
# Serve one client on a free loopback port, printed on stderr:
timelens dap --listen 127.0.0.1:0
# Record app.py from the first call of main() whatever the launch request says:
timelens dap --record-from main -- app.py`,
			program: optionalProgram,
			shared:  true,
			options: func(o *Options) []option {
				return serverOptions(o, "; a second client is refused")
			},
			run: runDAP,
		},
		{
			name:     "annotate",
			summary:  "print FILE with the values `lsp` would show inline",
			synopsis: "annotate [flags] [--at WHERE] FILE [-- PROGRAM ARGS...]",
			file:     "FILE",
			examples: `# Record app.py and print it with the values of its first lines:
timelens annotate app.py
# Record from the first call of main() and show the values at the end of the window:
timelens annotate --record-from main --at end app.py
# Show app.py:42 at its first execution, then where total was last written:
timelens annotate --at app.py:42 --last-write total app.py
# A program that takes arguments, run by a chosen interpreter:
timelens annotate app.py -- /usr/bin/python3.13 app.py --verbose input.txt
# A recording made earlier:
timelens annotate --recording app.rec --at end app.py`,
			program: optionalProgram,
			shared:  true,
			options: func(o *Options) []option {
				return []option{
					{flag: "at", usage: "annotate as of time point `WHERE`: a time string from timelens.where, FILE:LINE for its first execution, start or end (the window's first or last line event; default: start)",
						value: nonEmptyValue{&o.At, "a time point"}},
					{flag: "last-write", usage: "then go to the last write of `EXPR` (a name or a chain like obj.attr, seen from the current frame) and annotate again there",
						value: nonEmptyValue{&o.LastWrite, "an expression"}},
					{flag: "past-calls", usage: "also annotate each function of FILE that is not on the stack with its latest call before that time (a finished task, a helper that returned); slower: one search back per function",
						value: boolValue{&o.PastCalls}},
					{flag: "bytecode", usage: "also print the current frame's bytecode under its source lines, as Python's dis names it (specialized instructions by their specialized and base names), the current instruction marked ▶",
						value: boolValue{&o.Bytecode}},
					substituteOption(o),
				}
			},
			check: checkAnnotate,
			run:   runAnnotate,
		},
		{
			name:     "record",
			summary:  "make a recording for later replay",
			synopsis: "record [flags] -o PATH -- PROGRAM ARGS...",
			examples: `# Record app.py from the first call of main() into the directory app.rec:
timelens record --record-from main -o app.rec -- app.py
# ... and replay it later, in an editor or here:
timelens annotate --recording app.rec --at end app.py
# Record the whole program with rr (a trace directory):
timelens record --backend rr -o app.trace -- python3 app.py`,
			program:   requiredProgram,
			shared:    true,
			notShared: map[string]string{"recording": "record writes a new recording to -o PATH; --recording names one to replay (lsp, dap, annotate)"},
			options: func(o *Options) []option {
				return []option{{flag: "o", usage: "write the recording to `PATH`: for gdb a new directory (gdb's saved execution log of the window, which lsp/annotate --recording PATH replay), for rr a trace directory, for UDB a .undo file",
					value: pathValue{&o.Output}}}
			},
			check: checkRecord,
			run:   runRecord,
		},
		{
			name:     "doctor",
			summary:  "say which backends work here, and why not",
			synopsis: "doctor [flags] [-- PROGRAM ARGS...]",
			notes: "doctor also lists each Python interpreter it finds (on PATH, pyenv's, --python, and that of\n" +
				"PROGRAM ARGS given after --) with its version and build, and whether timelens navigates it\n" +
				"with each backend that works here, trying it on a tiny program. It marks the interpreter that\n" +
				"runs a .py PROGRAM when --python is not given. Exit status 0 when a backend (or the one\n" +
				"--backend names) can replay Python here, else 1.",
			examples: `# What works on this machine:
timelens doctor
# Also the interpreter that runs this program (and whether timelens reads it):
timelens doctor -- /usr/bin/python3.13 app.py
# Whether this interpreter works, as JSON:
timelens doctor --python /usr/bin/python3.13 --json`,
			program: optionalProgram,
			shared:  true,
			notShared: map[string]string{
				"recording":    "doctor checks this machine, not a recording",
				"record-from":  "doctor records a tiny program of its own",
				"record-limit": "doctor records a tiny program of its own",
			},
			options: func(o *Options) []option {
				return []option{{flag: "json", usage: "print the report as JSON", value: boolValue{&o.JSON}}}
			},
			run: runDoctor,
		},
		{
			name:     "version",
			summary:  "print the version of timelens",
			synopsis: "version",
			notes:    "timelens --version prints the same.",
			examples: `timelens version
timelens --version`,
			run: runVersion,
		},
	}
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func commandNames() string {
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	return strings.Join(append(names, "help"), ", ")
}

// run is the whole program: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printOverview(stdout)
		return exitOK
	}
	switch args[0] {
	case "--version", "-version":
		if len(args) > 1 {
			fmt.Fprintf(stderr, "timelens %s: takes no arguments; run 'timelens help version'\n", args[0])
			return exitUsage
		}
		args = []string{"version"}
	case "help", "-h", "-help", "--help":
		if len(args) == 1 {
			printOverview(stdout)
			return exitOK
		}
		c := lookup(args[1])
		if c == nil || len(args) > 2 {
			fmt.Fprintf(stderr, "timelens help: unknown command %q (valid: %s); run 'timelens help'\n", strings.Join(args[1:], " "), commandNames())
			return exitUsage
		}
		c.printUsage(stdout)
		return exitOK
	}
	c := lookup(args[0])
	if c == nil {
		fmt.Fprintf(stderr, "timelens: unknown command %q (valid: %s); run 'timelens help'\n", args[0], commandNames())
		return exitUsage
	}
	inv, err := c.parse(args[1:])
	if errors.Is(err, flag.ErrHelp) {
		c.printUsage(stdout)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "timelens %s: %v; run 'timelens help %s'\n", c.name, err, c.name)
		return exitUsage
	}
	inv.stdout, inv.stderr = stdout, stderr
	inv.log = zap.NewNop()
	if c.shared {
		log, closeLog, err := newLogger(&inv.opts, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "timelens %s: %v; run 'timelens help %s'\n", c.name, err, c.name)
			return exitUsage
		}
		defer closeLog()
		inv.log = log.With(zap.String("command", c.name))
	}
	return c.run(inv)
}

// flags returns the command's own flags, then the shared ones it takes.
func (c *command) flags(o *Options) (own, shared []option) {
	if c.options != nil {
		own = c.options(o)
	}
	if c.shared {
		for _, opt := range o.sharedOptions() {
			if _, not := c.notShared[opt.flag]; !not {
				shared = append(shared, opt)
			}
		}
	}
	return own, shared
}

// flagSet is the flag set that parses the command's flags into o: help
// lists the same flags.
func (c *command) flagSet(o *Options) *flag.FlagSet {
	fs := flag.NewFlagSet("timelens "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	own, shared := c.flags(o)
	for _, opt := range append(own, shared...) {
		fs.Var(opt.value, opt.flag, opt.usage)
	}
	return fs
}

// parse reads the command's arguments: flags and the positional argument in
// any order, then, after "--", PROGRAM ARGS.
func (c *command) parse(args []string) (*invocation, error) {
	inv := &invocation{cmd: c, set: map[string]bool{}}
	fs := c.flagSet(&inv.opts)
	before, program, dashdash := splitProgram(fs, args)
	var positional []string
	for rest := before; ; {
		if err := fs.Parse(rest); err != nil {
			return nil, c.flagError(err)
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		positional = append(positional, rest[0])
		rest = rest[1:]
		if len(rest) == 0 {
			break
		}
	}
	fs.Visit(func(f *flag.Flag) { inv.set[f.Name] = true })

	switch {
	case c.file == "" && len(positional) > 0:
		return nil, fmt.Errorf("unexpected argument %q (PROGRAM ARGS go after --: timelens %s)", positional[0], c.synopsis)
	case c.file != "" && len(positional) == 0:
		return nil, fmt.Errorf("missing %s: timelens %s", c.file, c.synopsis)
	case c.file != "" && len(positional) > 1:
		return nil, fmt.Errorf("one %s only, got %q (PROGRAM ARGS go after --)", c.file, positional)
	case c.file != "":
		inv.file = positional[0]
	}
	switch {
	case c.program == noProgram && dashdash:
		return nil, fmt.Errorf("takes no PROGRAM (nothing after --)")
	case c.program == requiredProgram && len(program) == 0:
		return nil, fmt.Errorf("no PROGRAM given: timelens %s", c.synopsis)
	}
	inv.program = program

	if c.check != nil {
		if err := c.check(inv); err != nil {
			return nil, err
		}
	}
	if c.shared {
		if err := inv.opts.Validate(); err != nil {
			return nil, err
		}
	}
	return inv, nil
}

// splitProgram splits args at the first "--" that is not the value of a flag.
func splitProgram(fs *flag.FlagSet, args []string) (before, program []string, dashdash bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return args[:i], args[i+1:], true
		}
		if len(a) < 2 || a[0] != '-' || strings.Contains(a, "=") {
			continue
		}
		f := fs.Lookup(strings.TrimLeft(a, "-"))
		if f == nil {
			continue
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		i++ // the flag's value
	}
	return args, nil, false
}

var (
	reFlagUndefined = regexp.MustCompile(`^flag provided but not defined: -+(.*)$`)
	reFlagNeedsArg  = regexp.MustCompile(`^flag needs an argument: -+(.*)$`)
	reFlagBadValue  = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for (?:flag )?-+([^:]*): (.*)$`)
)

// flagError rewrites the flag package's messages in the form help shows
// flags; a shared flag the command does not take says why.
func (c *command) flagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	msg := err.Error()
	if m := reFlagUndefined.FindStringSubmatch(msg); m != nil {
		name, _, _ := strings.Cut(m[1], "=")
		if why, ok := c.notShared[name]; ok {
			return fmt.Errorf("takes no %s: %s", dashed(name), why)
		}
		return fmt.Errorf("unknown flag %s", dashed(m[1]))
	}
	if m := reFlagNeedsArg.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("flag %s needs a value", dashed(m[1]))
	}
	if m := reFlagBadValue.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("bad value for %s: %s", dashed(m[2]), m[3])
	}
	return err
}

// dashed is how a flag is written in help texts: -o, --backend.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

func printOverview(w io.Writer) {
	fmt.Fprintf(w, `timelens: time-travel debugging of Python in your editor, over LSP.
It drives gdb (record full), rr or Undo's UDB.

Usage:
  timelens COMMAND [flags] [-- PROGRAM ARGS...]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, `  %-9s show this overview, or a command's flags

Run 'timelens help COMMAND' (or 'timelens COMMAND --help') for a command's flags.
Run 'timelens doctor' to see which debuggers work on this machine.
`, "help")
	printExamples(w, overviewExamples)
}

// overviewExamples are the first command lines to try.
const overviewExamples = `# Which debuggers and interpreters work here:
timelens doctor
# Record app.py and print it with the values its lines had:
timelens annotate app.py
# The same from the first call of main(), at the end of the recorded window:
timelens annotate --record-from main --at end app.py
# A command's flags:
timelens help annotate
# The version:
timelens --version`

// printExamples prints the Examples section: comment lines as they are,
// commands indented under them.
func printExamples(w io.Writer, examples string) {
	if examples == "" {
		return
	}
	fmt.Fprintf(w, "\nExamples:\n")
	for _, l := range strings.Split(examples, "\n") {
		if strings.HasPrefix(l, "#") {
			fmt.Fprintf(w, "  %s\n", l)
		} else {
			fmt.Fprintf(w, "    %s\n", l)
		}
	}
}

// printUsage prints the command's help: description, synopsis and flags.
func (c *command) printUsage(w io.Writer) {
	fmt.Fprintf(w, "timelens %s: %s\n\nUsage:\n  timelens %s\n", c.name, c.summary, c.synopsis)
	if c.notes != "" {
		fmt.Fprintf(w, "\n%s\n", c.notes)
	}
	var o Options
	own, shared := c.flags(&o)
	if len(own) > 0 {
		fmt.Fprintf(w, "\nFlags:\n")
		printOptions(w, own)
	}
	switch {
	case len(shared) == 0:
	case c.name == "lsp":
		fmt.Fprintf(w, "\nShared flags (also accepted, in camelCase, as LSP initializationOptions;\na flag given on the command line wins):\n")
	case c.name == "dap":
		fmt.Fprintf(w, "\nShared flags (also accepted, in camelCase, as launch arguments;\na flag given on the command line wins):\n")
	default:
		fmt.Fprintf(w, "\nShared flags:\n")
	}
	if len(shared) > 0 {
		printOptions(w, shared)
	}
	fmt.Fprintf(w, "\n%-*s%s\n", usageColumn, "  -h, --help", "print this help")
	printExamples(w, c.examples)
}

func printOptions(w io.Writer, opts []option) {
	for _, opt := range opts {
		name, usage := flag.UnquoteUsage(&flag.Flag{Name: opt.flag, Usage: opt.usage, Value: opt.value})
		if c, ok := opt.value.(choiceValue); ok && name == "value" {
			name = strings.Join(c.choices, "|")
		}
		left := "  " + dashed(opt.flag)
		if name != "" && name != "value" {
			left += " " + name
		}
		lines := wrap(usage, 80-usageColumn)
		if len(left) >= usageColumn {
			fmt.Fprintln(w, left)
		} else {
			fmt.Fprintf(w, "%-*s%s\n", usageColumn, left, lines[0])
			lines = lines[1:]
		}
		for _, l := range lines {
			fmt.Fprintf(w, "%*s%s\n", usageColumn, "", l)
		}
	}
}

// usageColumn is where flag descriptions start in help texts.
const usageColumn = 24

// wrap breaks text into lines of at most width runes, at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		switch {
		case line == "":
			line = word
		case len([]rune(line))+1+len([]rune(word)) > width:
			lines = append(lines, line)
			line = word
		default:
			line += " " + word
		}
	}
	return append(lines, line)
}

func checkAnnotate(inv *invocation) error {
	fi, err := os.Stat(inv.file)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("FILE %s does not exist; name the Python file to annotate (timelens annotate app.py records it and prints it with its values)", inv.file)
	}
	if err != nil {
		return fmt.Errorf("FILE: %w", err)
	}
	if fi.IsDir() {
		return fmt.Errorf("FILE %s is a directory; name a Python source file", inv.file)
	}
	return nil
}

func checkRecord(inv *invocation) error {
	if inv.opts.Output == "" {
		return errors.New("-o PATH is required (where the recording goes): timelens " + inv.cmd.synopsis)
	}
	return nil
}
