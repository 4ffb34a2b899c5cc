// Package pyext holds timelens's gdb side, a Python package loaded into gdb
// (timelens_gdb/) that reads CPython 3.10–3.14 state out of a stopped or
// replayed process, moves through its recorded history and answers GDB/MI
// commands with JSON; and the Go backend that drives it (Backend).
//
// The gdb side never runs code in the debugged process (gdb runs with
// may-call-functions off): it reads memory and decodes CPython's structures,
// taking struct layouts from the debug info of the Python being debugged,
// what the interpreter itself can say (opcode numbers, cache sizes, frame
// states) from the interpreter, and everything else that differs between
// versions from one table per version (timelens_gdb/versions/). It needs
// gdb ≥ 13 (gdb.MICommand); moving backwards under record full needs gdb ≥ 14
// on CPUs with AMX.
//
// Write it out with Install and load it with the command Install returns;
// timelens_gdb/mi.py lists every command. Among them:
//
//	-timelens-threads                                   Python threads
//	-timelens-frames [--thread N]                       Python frames, innermost first
//	-timelens-locals [--thread N] --depth D [--limit C] locals, cells and free variables of frame D
//	-timelens-eval   [--thread N] --depth D [--limit C] PATH   a.b.c in frame D, with its storage address
//	-timelens-render [--limit C] ADDRESS                render the object at ADDRESS
//	-timelens-snapshot [--thread N] [--limit C]         every frame with its locals, in one reply
//
// Each replies ^done,json="…" with one JSON object (see Reply types below), or
// ^error,msg="…" with a message for the user. --thread is gdb's own MI option
// (gdb selects that thread first); gdb also owns --frame, so the Python frame
// is chosen with --depth, counted over Python frames only, innermost = 0.
package pyext

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/timelens/timelens/gdbmi"
)

//go:embed timelens_gdb/*.py timelens_gdb/versions/*.py timelens_gdb/layouts/*.json timelens_gdb/dis/*.json
var gdbSideFS embed.FS

// Install writes the gdb-side package into dir (as dir/timelens_gdb) and
// returns the gdb command that loads it.
func Install(dir string) (string, error) {
	err := fs.WalkDir(gdbSideFS, "timelens_gdb", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		out := filepath.Join(dir, filepath.FromSlash(path))
		if d.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		b, err := gdbSideFS.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o644)
	})
	if err != nil {
		return "", fmt.Errorf("writing timelens's gdb side into %s: %w", dir, err)
	}
	return LoadCommand(dir), nil
}

// LayoutTables lists the minor versions ("3.10", ...) whose struct layouts
// the gdb side has built in (timelens_gdb/layouts), for Pythons without
// debug info.
func LayoutTables() []string {
	entries, _ := fs.ReadDir(gdbSideFS, "timelens_gdb/layouts")
	var out []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".json"); ok {
			out = append(out, name)
		}
	}
	return out
}

// LoadCommand is the gdb command that loads the gdb-side package found in
// dir/timelens_gdb (the source tree's pyext directory, or one Install wrote).
// DialectCommand then tells it which debugger it runs in.
func LoadCommand(dir string) string {
	return fmt.Sprintf("python import sys; sys.path.insert(0, %q); import timelens_gdb", dir)
}

// DialectCommand is the gdb command that gives the loaded gdb side the facts
// of the debugger it runs in: gdbmi's dialect row (Dialect.GDBSide), so that
// both sides read the debugger's answers with the same patterns.
func DialectCommand(d gdbmi.Dialect) string {
	spec, err := json.Marshal(d.GDBSide())
	if err != nil {
		panic(err) // plain data: cannot fail
	}
	// A JSON string literal is a Python string literal.
	lit, _ := json.Marshal(string(spec))
	return fmt.Sprintf("python import timelens_gdb.debugger as d; d.configure(%s)", lit)
}

// Commands lists the GDB/MI commands the script defines.
var Commands = []string{"-timelens-threads", "-timelens-frames", "-timelens-locals", "-timelens-eval", "-timelens-render", "-timelens-snapshot"}

// Thread is one Python thread state, from -timelens-threads.
type Thread struct {
	TState         string `json:"tstate"`
	Interp         int64  `json:"interp"`
	ID             int64  `json:"id"`
	NativeThreadID int64  `json:"native_thread_id"`
	ThreadID       string `json:"thread_id"`
	GDBThread      *int   `json:"gdb_thread"` // nil when no gdb thread has that LWP
	Selected       bool   `json:"selected"`
	HasFrames      bool   `json:"has_frames"`
}

// ThreadsReply is the reply of -timelens-threads.
type ThreadsReply struct {
	Python  string   `json:"python"`
	Threads []Thread `json:"threads"`
}

// Frame is one Python frame, from -timelens-frames.
type Frame struct {
	Depth       int    `json:"depth"`
	Frame       string `json:"frame"` // _PyInterpreterFrame address
	Code        string `json:"code"`  // code object address
	File        string `json:"file"`
	Name        string `json:"name"`
	Qualname    string `json:"qualname"`
	FirstLineno int    `json:"firstlineno"`
	Line        *int   `json:"line"` // 1-based, as f_lineno; nil where the code has no line
	Lasti       int    `json:"lasti"`
	Owner       string `json:"owner"` // thread, generator, frame_object
}

// FramesReply is the reply of -timelens-frames.
type FramesReply struct {
	Python string  `json:"python"`
	Thread int     `json:"thread"`
	TState string  `json:"tstate"`
	Frames []Frame `json:"frames"`
}

// Variable is one local, cell or free variable, rendered.
type Variable struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"` // local, cell, free, hidden (3.12+ inlined comprehension), dict (f_locals)
	Value   string `json:"value"`
	Type    string `json:"type"`
	Address string `json:"address"` // the object
	Slot    string `json:"slot"`    // where the reference to it is stored
	// StackRef is true when Slot holds a _PyStackRef (3.14 frame slots): a
	// pointer with tag bits in its low 2 bits, not a plain PyObject*.
	StackRef bool `json:"stackref"`
}

// LocalsReply is the reply of -timelens-locals: the frame and its variables.
type LocalsReply struct {
	Frame
	Locals []Variable `json:"locals"`
}

// SnapshotFrame is one frame of -timelens-snapshot: the frame, its
// variables, its code's parameters and def line, and the names each line of
// its file binds (from the syntax tree), keyed by 1-based line.
type SnapshotFrame struct {
	LocalsReply
	CodeFacts
}

// CodeFacts is what the editor needs of a frame's code besides its
// variables (state.py code_facts).
type CodeFacts struct {
	// Params names the code's parameters, in order.
	Params []string `json:"params"`
	// DefLine is the line of its def keyword (a lambda: its line).
	DefLine int                 `json:"defline"`
	Stores  map[string][]string `json:"stores"`
}

// SnapshotReply is the reply of -timelens-snapshot.
type SnapshotReply struct {
	Python string          `json:"python"`
	Thread int             `json:"thread"`
	TState string          `json:"tstate"`
	Frames []SnapshotFrame `json:"frames"`
}

// EvalReply is the reply of -timelens-eval.
type EvalReply struct {
	Path     string  `json:"path"`
	Depth    int     `json:"depth"`
	Value    string  `json:"value"`
	Type     string  `json:"type"`
	Address  string  `json:"address"`
	Slot     string  `json:"slot"`     // the storage of the last link: dict value slot, inline value, __slots__ slot, frame slot or cell
	Storage  string  `json:"storage"`  // local, cell, free, hidden, dict, inline, slot, class, global, builtin
	StackRef bool    `json:"stackref"` // Slot holds a tagged _PyStackRef (3.14 frame slots)
	Owner    *string `json:"owner"`    // object holding the last attribute; nil for a plain name
}

// RenderReply is the reply of -timelens-render.
type RenderReply struct {
	Value   string  `json:"value"`
	Type    string  `json:"type"`
	Seconds float64 `json:"seconds"`
}

// Decode decodes the json field of a -timelens-* reply into v.
func Decode(payload map[string]any, v any) error {
	s, ok := payload["json"].(string)
	if !ok {
		return fmt.Errorf("pyext: reply has no json field: %v", payload)
	}
	return DecodeString(s, v)
}

// DecodeString decodes the (already unquoted) json field of a reply into v.
func DecodeString(s string, v any) error {
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("pyext: bad reply %q: %w", truncate(s, 200), err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
