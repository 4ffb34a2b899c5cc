package lsp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/timelens/timelens/history"
)

// The commands of CONTRACT.md. Their names are fixed.
const (
	cmdWhere         = "timelens.where"
	cmdStep          = "timelens.step"
	cmdReverseStep   = "timelens.reverseStep"
	cmdNext          = "timelens.next"
	cmdReverseNext   = "timelens.reverseNext"
	cmdFinish        = "timelens.finish"
	cmdReverseFinish = "timelens.reverseFinish"
	cmdGotoEntry     = "timelens.gotoEntry"
	cmdPreviousCall  = "timelens.previousCall"
	cmdNextCall      = "timelens.nextCall"
	cmdLastWrite     = "timelens.lastWrite"
	cmdNextWrite     = "timelens.nextWrite"
	cmdGoto          = "timelens.goto"

	// Running to a line (runto.go).
	cmdRunToLine        = "timelens.runToLine"
	cmdReverseRunToLine = "timelens.reverseRunToLine"
	cmdLineRuns         = "timelens.lineRuns"

	// A Debug Adapter Protocol port on this session (debug_adapter.go).
	cmdDebugAdapter = "timelens.debugAdapter"

	// The bytecode view and bytecode stepping (bytecode.go).
	cmdDisassemble            = "timelens.disassemble"
	cmdStepInstruction        = "timelens.stepInstruction"
	cmdReverseStepInstruction = "timelens.reverseStepInstruction"
)

// Position is the result of every navigation command and of
// timelens.where, exactly as CONTRACT.md shows it.
type Position struct {
	// Time is the backend's time, valid for timelens.goto.
	Time string `json:"time"`
	// URI of the current frame's file, as the editor names it.
	URI string `json:"uri"`
	// Line is 0-based.
	Line int `json:"line"`
	// Function is the code object's qualified name.
	Function string `json:"function"`
	Thread   int    `json:"thread"`
	// Depth of the current frame: 0 for the outermost frame of the window.
	Depth int `json:"depth"`
	// Locals holds every local, cell and free variable of the current frame,
	// rendered.
	Locals map[string]string `json:"locals"`
	// Edited is true when the user changed or removed the current line in
	// the editor since the recording ran it: Line is where it was.
	Edited bool `json:"edited,omitempty"`
	// Window is the recorded window, when known: its first and last line
	// events' times and, when it ended before the program, why.
	Window *history.Window `json:"window,omitempty"`
}

// command runs one timelens.* command.
type command func(s *server, ctx context.Context, args []protocol.LSPAny) (*Position, error)

const writeShape = `{"uri": "file:///…", "position": {"line": <0-based>, "character": <UTF-16 column>}}`

const callShape = `{"function": "<qualified name, e.g. Class.method>"} or {"uri": "file:///…", "line": <0-based line inside the function>}`

// shapes describes the arguments of each command, for error messages.
var shapes = map[string]string{
	cmdWhere: "no arguments", cmdStep: "no arguments", cmdReverseStep: "no arguments",
	cmdNext: "no arguments", cmdReverseNext: "no arguments", cmdFinish: "no arguments", cmdReverseFinish: "no arguments",
	cmdGotoEntry:    `optional {"uri": "file:///…", "line": <0-based line inside the function>}`,
	cmdPreviousCall: callShape,
	cmdNextCall:     callShape,
	cmdLastWrite:    writeShape,
	cmdNextWrite:    writeShape,
	cmdGoto:         `{"time": "<a time returned by timelens.where>"}`,

	cmdRunToLine:        runShape,
	cmdReverseRunToLine: runShape,
	cmdLineRuns:         `{"uri": "file:///…", "line": <0-based>, "limit": <optional, 1-10000, default 200>}`,
	cmdDebugAdapter:     "no arguments",
	cmdDisassemble:      disassembleShape,

	cmdStepInstruction: "no arguments", cmdReverseStepInstruction: "no arguments",
}

var commands = map[string]command{
	cmdWhere: func(s *server, ctx context.Context, _ []protocol.LSPAny) (*Position, error) {
		tl, err := s.timeline(ctx)
		if err != nil {
			return nil, err
		}
		p, err := tl.Where(ctx)
		if err != nil {
			return nil, err
		}
		pos := s.position(p)
		if w, err := tl.Window(ctx); err == nil {
			pos.Window = &w
		} else if ctx.Err() != nil {
			return nil, err
		}
		return pos, nil
	},
	cmdStep:          lineMove(history.Step),
	cmdReverseStep:   lineMove(history.ReverseStep),
	cmdNext:          lineMove(history.Next),
	cmdReverseNext:   lineMove(history.ReverseNext),
	cmdFinish:        lineMove(history.Finish),
	cmdReverseFinish: lineMove(history.ReverseFinish),
	cmdGotoEntry: func(s *server, ctx context.Context, args []protocol.LSPAny) (*Position, error) {
		var a struct {
			URI  uri.URI `json:"uri"`
			Line *int    `json:"line"`
		}
		if len(args) > 0 && string(args[0]) != "null" {
			if err := decodeArg(cmdGotoEntry, args, &a); err != nil {
				return nil, err
			}
			if (a.URI == "") != (a.Line == nil) {
				return nil, invalidParams(cmdGotoEntry, "give both uri and line, or neither")
			}
		}
		return s.navigate(ctx, func(ctx context.Context, tl *history.Timeline) (history.Position, error) {
			depth := 0
			if a.URI != "" {
				d, fn, err := s.callOnStack(ctx, tl, a.URI, *a.Line)
				if err != nil {
					return history.Position{}, err
				}
				if d < 0 {
					return history.Position{}, fmt.Errorf("no call of %s is on the stack now; use timelens.previousCall or timelens.nextCall to reach one", fn)
				}
				depth = d
			}
			return tl.GotoEntry(ctx, depth)
		})
	},
	cmdPreviousCall: callMove(false),
	cmdNextCall:     callMove(true),
	cmdLastWrite:    writeMove(false),
	cmdNextWrite:    writeMove(true),
	cmdGoto: func(s *server, ctx context.Context, args []protocol.LSPAny) (*Position, error) {
		var a struct {
			Time *string `json:"time"`
		}
		if err := decodeArg(cmdGoto, args, &a); err != nil {
			return nil, err
		}
		if a.Time == nil || *a.Time == "" {
			return nil, invalidParams(cmdGoto, "time is required")
		}
		return s.navigate(ctx, func(ctx context.Context, tl *history.Timeline) (history.Position, error) {
			return tl.Goto(ctx, history.Time(*a.Time))
		})
	},

	cmdRunToLine:        runToLine(true),
	cmdReverseRunToLine: runToLine(false),

	cmdStepInstruction:        instructionMove(true),
	cmdReverseStepInstruction: instructionMove(false),
}

func lineMove(m history.Move) command {
	return func(s *server, ctx context.Context, _ []protocol.LSPAny) (*Position, error) {
		return s.navigate(ctx, func(ctx context.Context, tl *history.Timeline) (history.Position, error) {
			return tl.Move(ctx, m)
		})
	}
}

// writeMove goes to the last (forward: the next) write of the expression at
// a position: timelens.lastWrite and timelens.nextWrite.
func writeMove(forward bool) command {
	name, what := cmdLastWrite, "last write"
	if forward {
		name, what = cmdNextWrite, "next write"
	}
	return func(s *server, ctx context.Context, args []protocol.LSPAny) (*Position, error) {
		var a struct {
			URI      uri.URI            `json:"uri"`
			Position *protocol.Position `json:"position"`
		}
		if err := decodeArg(name, args, &a); err != nil {
			return nil, err
		}
		if a.URI == "" || a.Position == nil {
			return nil, invalidParams(name, "uri and position are required")
		}
		doc, err := s.document(a.URI)
		if err != nil {
			return nil, err
		}
		expr, _, ok := exprAtPosition(doc, *a.Position)
		if !ok {
			return nil, errorf("%s: no name or attribute at %s:%d:%d", name, doc.path, a.Position.Line+1, a.Position.Character+1)
		}
		return s.navigate(ctx, func(ctx context.Context, tl *history.Timeline) (history.Position, error) {
			depth, err := s.frameFor(ctx, tl, doc, int(a.Position.Line))
			if err != nil {
				return history.Position{}, err
			}
			search := tl.LastWrite
			if forward {
				search = tl.NextWrite
			}
			w, err := search(ctx, depth, expr)
			if err != nil {
				return history.Position{}, fmt.Errorf("%s of %s: %w", what, expr, err)
			}
			return tl.Goto(ctx, w.Time)
		})
	}
}

func callMove(forward bool) command {
	name := cmdPreviousCall
	if forward {
		name = cmdNextCall
	}
	return func(s *server, ctx context.Context, args []protocol.LSPAny) (*Position, error) {
		var a struct {
			Function string  `json:"function"`
			URI      uri.URI `json:"uri"`
			Line     *int    `json:"line"`
		}
		if err := decodeArg(name, args, &a); err != nil {
			return nil, err
		}
		fn := a.Function
		switch {
		case fn != "":
		case a.URI != "" && a.Line != nil:
			doc, err := s.document(a.URI)
			if err != nil {
				return nil, err
			}
			fn, _ = s.functionAt(doc, *a.Line)
			if fn == moduleFunction {
				return nil, errorf("%s: line %d of %s is not inside a function", name, *a.Line+1, doc.path)
			}
		default:
			return nil, invalidParams(name, "give function, or uri and line")
		}
		return s.navigate(ctx, func(ctx context.Context, tl *history.Timeline) (history.Position, error) {
			return tl.Call(ctx, fn, forward)
		})
	}
}

// commandNames lists every command, for executeCommandProvider.
func commandNames() []string {
	return []string{cmdWhere, cmdStep, cmdReverseStep, cmdNext, cmdReverseNext, cmdFinish, cmdReverseFinish,
		cmdGotoEntry, cmdPreviousCall, cmdNextCall, cmdLastWrite, cmdNextWrite, cmdGoto, cmdRunToLine, cmdReverseRunToLine, cmdLineRuns,
		cmdDebugAdapter, cmdDisassemble, cmdStepInstruction, cmdReverseStepInstruction}
}

// Commands returns the names of the workspace/executeCommand commands the
// server offers (CONTRACT.md), for editor glue and documentation.
func Commands() []string { return commandNames() }

// query runs one timelens.* command that answers without moving and
// returns something other than a position.
type query func(s *server, ctx context.Context, args []protocol.LSPAny) (any, error)

var queries = map[string]query{
	cmdLineRuns:     lineRuns,
	cmdDebugAdapter: debugAdapter,
	cmdDisassemble:  disassemble,
}

// ExecuteCommand implements protocol.Server.
func (s *server) ExecuteCommand(ctx context.Context, params *protocol.ExecuteCommandParams) (protocol.LSPAny, error) {
	var run query
	if c, ok := commands[params.Command]; ok {
		run = func(s *server, ctx context.Context, args []protocol.LSPAny) (any, error) { return c(s, ctx, args) }
	} else if q, ok := queries[params.Command]; ok {
		run = q
	} else {
		return nil, jsonrpc2.Errorf(jsonrpc2.InvalidParams, "unknown command %q; timelens knows %s", params.Command, strings.Join(commandNames(), ", "))
	}
	pos, err := run(s, ctx, params.Arguments)
	if err != nil {
		var edge *history.EdgeError
		var wire *jsonrpc2.Error
		if !errors.As(err, &edge) && !errors.As(err, &wire) && !errors.Is(err, context.Canceled) {
			err = fmt.Errorf("%s: %w", params.Command, err)
		}
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep <module> and <locals> readable
	if err := enc.Encode(pos); err != nil {
		return nil, err
	}
	return protocol.LSPAny(bytes.TrimSpace(buf.Bytes())), nil
}

// decodeArg reads the first argument of a command into v.
func decodeArg(name string, args []protocol.LSPAny, v any) error {
	if len(args) == 0 || string(args[0]) == "null" {
		return invalidParams(name, "no arguments")
	}
	if err := json.Unmarshal(args[0], v); err != nil {
		return invalidParams(name, err.Error())
	}
	return nil
}

func invalidParams(name, why string) error {
	return jsonrpc2.Errorf(jsonrpc2.InvalidParams, "%s expects %s: %s", name, shapes[name], why)
}

// navigate runs a move. The move runs detached from the request, under
// moveMu so that moves (and what they read first) do not interleave: a
// request cancelled before its move started cancels it, one cancelled later
// answers RequestCancelled while the move completes and the editor is told
// of the new position as after any move.
func (s *server) navigate(ctx context.Context, move func(ctx context.Context, tl *history.Timeline) (history.Position, error)) (*Position, error) {
	tl, err := s.timeline(ctx)
	if err != nil {
		return nil, err
	}
	type outcome struct {
		pos history.Position
		err error
	}
	var abandoned atomic.Bool
	done := make(chan outcome, 1)
	go func() {
		s.moveMu.Lock()
		defer s.moveMu.Unlock()
		if abandoned.Load() {
			done <- outcome{err: context.Canceled}
			return
		}
		pos, err := move(s.ctx, tl)
		if err == nil {
			s.moveDone(pos)
			s.followers.tell(pos)
		}
		done <- outcome{pos, err}
	}()
	select {
	case o := <-done:
		if o.err != nil {
			return nil, o.err
		}
		pos := s.position(o.pos)
		pos.Window = tl.KnownWindow()
		return pos, nil
	case <-ctx.Done():
		abandoned.Store(true)
		return nil, ctx.Err()
	}
}

// position converts a history position for the editor.
func (s *server) position(p history.Position) *Position {
	path := s.paths.ToEditor(p.File)
	locals := p.Locals
	if locals == nil {
		locals = map[string]string{}
	}
	line, exact, _ := s.editorLine(p.File, max(p.Line-1, 0))
	return &Position{
		Time: string(p.Time), URI: string(s.uriOf(path)), Line: line,
		Function: p.Function, Thread: p.Thread, Depth: p.Depth, Locals: locals, Edited: !exact,
	}
}

// callOnStack finds the function containing line of the document and the
// depth of its innermost call on the current stack (-1 when none).
func (s *server) callOnStack(ctx context.Context, tl *history.Timeline, u uri.URI, line int) (int, string, error) {
	doc, err := s.document(u)
	if err != nil {
		return 0, "", err
	}
	snap, err := s.snapshot(ctx, tl)
	if err != nil {
		return 0, "", err
	}
	fn, sc := s.functionAt(doc, line)
	return s.depthOf(snap, doc.path, fn, sc), fn, nil
}

// frameFor is the depth of the frame that shows the variables of line in
// doc: the innermost call of the function containing the line.
func (s *server) frameFor(ctx context.Context, tl *history.Timeline, doc *document, line int) (int, error) {
	snap, err := s.snapshot(ctx, tl)
	if err != nil {
		return 0, err
	}
	fn, sc := s.functionAt(doc, line)
	depth := s.depthOf(snap, doc.path, fn, sc)
	if depth < 0 {
		return 0, fmt.Errorf("no call of %s is on the stack now, so its variables have no value here; move into a call of it first (timelens.nextCall)", fn)
	}
	return depth, nil
}

// depthOf finds the innermost frame of function fn in the file at path;
// when the scanned qualified name and the recorded one differ (decorators,
// code that changed since), a frame of the same bare name whose def line
// (sc.def, a recorded line: functionAt) matches will do.
func (s *server) depthOf(snap *history.Snapshot, path, fn string, sc *scope) int {
	fallback := -1
	for i, f := range snap.Frames {
		if s.paths.ToEditor(f.File) != path {
			continue
		}
		if f.Function == fn {
			return i
		}
		if sc != nil && fallback < 0 && bareName(f.Function) == sc.name && f.FirstLine-1 <= sc.def && sc.def <= f.Line-1 {
			fallback = i
		}
	}
	return fallback
}

func bareName(qualname string) string {
	return qualname[strings.LastIndexByte(qualname, '.')+1:]
}

// exprAtPosition finds the expression at an LSP position of doc.
func exprAtPosition(doc *document, p protocol.Position) (string, protocol.Range, bool) {
	line := doc.line(int(p.Line))
	expr, start, end, ok := doc.python().exprAt(doc, int(p.Line), byteCol(line, p.Character))
	if !ok {
		return "", protocol.Range{}, false
	}
	return expr, protocol.Range{
		Start: protocol.Position{Line: p.Line, Character: utf16Col(line, start)},
		End:   protocol.Position{Line: p.Line, Character: utf16Col(line, end)},
	}, true
}
