package dap

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	godap "github.com/google/go-dap"

	"github.com/timelens/timelens/history"
	"github.com/timelens/timelens/srcpath"
)

// refKind says what a variablesReference names.
type refKind int

const (
	refLocals  refKind = iota // the variables of the frame at depth
	refGlobals                // the module globals of the frame at depth
	refObject                 // the children of the object at address
)

// ref is what one variablesReference names, at the time point it was made.
type ref struct {
	kind    refKind
	depth   int
	address string
	// typ is the object's type name: list, tuple and the sets have indexed
	// children, the rest named ones.
	typ string
	// eval is the expression that reads the object (its evaluateName), ""
	// when none reads it in the condition language.
	eval string
}

// refs hands out frame ids and variablesReferences for one time point.
// Numbers are never reused: a number from an earlier time point is not in
// the maps any more, so it gets an error (ErrStale), never another value.
type refs struct {
	gen    uint64
	next   int
	vars   map[int]ref
	frames map[int]int // frame id → depth
	depths map[int]int // depth → frame id
}

func (r *refs) reset(gen uint64) {
	r.gen = gen
	r.vars = map[int]ref{}
	r.frames = map[int]int{}
	r.depths = map[int]int{}
}

func (r *refs) add(v ref) int {
	r.next++
	r.vars[r.next] = v
	return r.next
}

func (r *refs) frameID(depth int) int {
	if id, ok := r.depths[depth]; ok {
		return id
	}
	r.next++
	r.frames[r.next] = depth
	r.depths[depth] = r.next
	return r.next
}

// current drops the references of an earlier time point.
func (s *server) current() {
	if s.tl == nil {
		return
	}
	if _, gen := s.tl.Now(); gen != s.refs.gen {
		s.refs.reset(gen)
	}
}

// depthOf is the depth of frame id (0 when the client gives none).
func (s *server) depthOf(frameID int) (int, error) {
	if frameID == 0 {
		return 0, nil
	}
	s.current()
	d, ok := s.refs.frames[frameID]
	if !ok {
		return 0, fmt.Errorf("frame %d: %w", frameID, ErrStale)
	}
	return d, nil
}

func (s *server) onThreads(r *godap.ThreadsRequest) error {
	threads := []godap.Thread{}
	if s.tl != nil {
		snap, err := s.tl.Snapshot(s.op)
		if err != nil {
			return err
		}
		id := max(snap.Thread, 1)
		name := "Python thread"
		if top := snap.Top(); top != nil {
			name = fmt.Sprintf("Python thread %d (%s)", id, top.Function)
		}
		threads = append(threads, godap.Thread{Id: id, Name: name})
	}
	s.send(&godap.ThreadsResponse{Response: s.response(&r.Request), Body: godap.ThreadsResponseBody{Threads: threads}})
	return nil
}

func (s *server) onStackTrace(r *godap.StackTraceRequest) error {
	tl, err := s.timeline()
	if err != nil {
		return err
	}
	snap, err := tl.Snapshot(s.op)
	if err != nil {
		return err
	}
	s.current()
	start := max(r.Arguments.StartFrame, 0)
	end := len(snap.Frames)
	if r.Arguments.Levels > 0 {
		end = min(end, start+r.Arguments.Levels)
	}
	frames := []godap.StackFrame{}
	for d := start; d < end; d++ {
		f := snap.Frames[d]
		sf := godap.StackFrame{Id: s.refs.frameID(d), Name: f.Function, Line: s.clientLine(f.Line), Column: s.clientLine(1)}
		if f.File != "" {
			sf.Source = s.source(f.File)
		}
		if f.Function != "" {
			sf.InstructionPointerReference = s.instructionReference(f)
		}
		frames = append(frames, sf)
	}
	s.send(&godap.StackTraceResponse{Response: s.response(&r.Request), Body: godap.StackTraceResponseBody{
		StackFrames: frames, TotalFrames: len(snap.Frames)}})
	return nil
}

// source is the client's Source for a file of the recording; code without
// a file (<string>, <frozen ...>) has a name only.
func (s *server) source(file string) *godap.Source {
	if strings.HasPrefix(file, "<") {
		return &godap.Source{Name: file, PresentationHint: "deemphasize"}
	}
	path := s.paths.ToEditor(file)
	if filepath.IsAbs(path) && !s.missing[path] {
		if _, err := os.Stat(path); err != nil {
			if s.missing == nil {
				s.missing = map[string]bool{}
			}
			s.missing[path] = true
			s.output("important", "timelens: "+srcpath.Missing(file, path)+"\n")
		}
	}
	return &godap.Source{Name: filepath.Base(path), Path: path}
}

// clientLine is a 1-based line as the client gets it. DAP's lines start
// at 1 unless the client says otherwise; go-dap cannot tell an absent
// linesStartAt1 from false, and every client timelens knows sends true.
func (s *server) clientLine(line int) int { return line }

func (s *server) onScopes(r *godap.ScopesRequest) error {
	if _, err := s.timeline(); err != nil {
		return err
	}
	depth, err := s.depthOf(r.Arguments.FrameId)
	if err != nil {
		return err
	}
	scopes := []godap.Scope{
		{Name: "Locals", PresentationHint: "locals", VariablesReference: s.refs.add(ref{kind: refLocals, depth: depth})},
		{Name: "Globals", VariablesReference: s.refs.add(ref{kind: refGlobals, depth: depth})},
	}
	s.send(&godap.ScopesResponse{Response: s.response(&r.Request), Body: godap.ScopesResponseBody{Scopes: scopes}})
	return nil
}

// indexed reports whether a type's children are numbered (paged by the
// client with filter "indexed") rather than named.
func indexed(typ string) bool {
	switch typ {
	case "list", "tuple", "set", "frozenset":
		return true
	}
	return false
}

func (s *server) onVariables(r *godap.VariablesRequest) error {
	tl, err := s.timeline()
	if err != nil {
		return err
	}
	s.current()
	a := r.Arguments
	v, ok := s.refs.vars[a.VariablesReference]
	if !ok {
		return fmt.Errorf("variablesReference %d: %w", a.VariablesReference, ErrStale)
	}
	vars := []godap.Variable{}
	if (a.Filter == "indexed" && !indexed(v.typ)) || (a.Filter == "named" && indexed(v.typ)) || a.Start < 0 || a.Count < 0 {
		s.send(&godap.VariablesResponse{Response: s.response(&r.Request), Body: godap.VariablesResponseBody{Variables: vars}})
		return nil
	}
	_, gen := tl.Now()
	var page history.Page
	switch v.kind {
	case refLocals:
		page, err = tl.Locals(s.op, v.depth, a.Start, a.Count)
	case refGlobals:
		page, err = tl.Globals(s.op, v.depth, a.Start, a.Count)
	default:
		page, err = tl.Children(s.op, v.address, a.Start, a.Count)
	}
	if err != nil {
		return err
	}
	if err := s.sameTime(gen, "variablesReference", a.VariablesReference); err != nil {
		return err
	}
	for _, c := range page.Children {
		vars = append(vars, s.variable(c, childEval(v, c.Name)))
	}
	s.send(&godap.VariablesResponse{Response: s.response(&r.Request), Body: godap.VariablesResponseBody{Variables: vars}})
	return nil
}

// childEval is the expression that reads child name of the variable v
// names, in the condition language; "" for a set's member, which none
// reads.
func childEval(parent ref, name string) string {
	switch {
	case parent.kind != refObject:
		return name
	case parent.eval == "" || strings.HasPrefix(parent.typ, "set") || parent.typ == "frozenset":
		return ""
	case parent.typ == "list" || parent.typ == "tuple" || parent.typ == "dict":
		return parent.eval + "[" + name + "]"
	}
	return parent.eval + "." + name
}

// variable is a DAP variable for a child, with a reference to its own
// children when it has any.
func (s *server) variable(c history.Child, eval string) godap.Variable {
	v := godap.Variable{Name: c.Name, Value: c.Value, Type: c.Type, EvaluateName: eval}
	if c.Children > 0 && c.Address != "" {
		v.VariablesReference = s.refs.add(ref{kind: refObject, address: c.Address, typ: c.Type, eval: eval})
		if indexed(c.Type) {
			v.IndexedVariables = c.Children
		} else {
			v.NamedVariables = c.Children
		}
	}
	return v
}

// onEvaluate reads an expression of the condition language (names,
// attributes, constant subscripts, comparisons, arithmetic, len()) from
// memory in the frame asked for; anything else is refused with the reason.
func (s *server) onEvaluate(r *godap.EvaluateRequest) error {
	tl, err := s.timeline()
	if err != nil {
		return err
	}
	depth, err := s.depthOf(r.Arguments.FrameId)
	if err != nil {
		return err
	}
	expr := strings.TrimSpace(r.Arguments.Expression)
	if expr == "" {
		return fmt.Errorf("nothing to evaluate")
	}
	_, gen := tl.Now()
	c, err := tl.Expression(s.op, depth, expr)
	if err != nil {
		return err
	}
	if err := s.sameTime(gen, "frame", r.Arguments.FrameId); err != nil {
		return err
	}
	s.current()
	v := s.variable(c, expr)
	s.send(&godap.EvaluateResponse{Response: s.response(&r.Request), Body: godap.EvaluateResponseBody{
		Result: v.Value, Type: v.Type, VariablesReference: v.VariablesReference,
		NamedVariables: v.NamedVariables, IndexedVariables: v.IndexedVariables}})
	return nil
}

// sameTime refuses an answer read while time moved (a move the language
// server made meanwhile, when it shares the session): it may mix two time
// points.
func (s *server) sameTime(gen uint64, what string, id int) error {
	if _, now := s.tl.Now(); now != gen {
		return fmt.Errorf("%s %d: %w", what, id, ErrStale)
	}
	return nil
}
