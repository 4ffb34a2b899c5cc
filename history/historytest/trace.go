// Package historytest provides a history.Backend that replays a recorded
// sys.settrace trace (testdata/oracle/settrace.py) instead of a debugger.
// It makes tests of the layers above history fast; it never replaces the
// end-to-end tests against a real gdb and a real CPython.
package historytest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/timelens/timelens/history"
)

// Event is one line event of a trace, as settrace.py prints it.
type Event struct {
	I        int               `json:"i"`
	File     string            `json:"file"`
	Line     int               `json:"line"`
	Function string            `json:"function"`
	Depth    int               `json:"depth"`
	Call     int               `json:"call"`
	Locals   map[string]string `json:"locals"`
	// IDs: name -> the id() of the object it holds (its address).
	IDs map[string]string `json:"ids"`
	// Params names the code's parameters; DefLine is its def's line.
	Params  []string `json:"params"`
	DefLine int      `json:"defline"`
	// Stores: line -> names the code object stores to.
	Stores map[int][]string `json:"stores"`
	order  []string
}

// Trace is a Backend over a list of line events. Time "tN" is event N.
type Trace struct {
	Events []Event
	i      int
	// Moves counts the moves made, for tests of caching.
	Moves int
}

// Record runs program under testdata/oracle/settrace.py with python and
// returns its trace. from is the --from function ("" for the whole run).
func Record(python, program, from string) (*Trace, error) {
	args := []string{oraclePath()}
	if from != "" {
		args = append(args, "--from", from)
	}
	args = append(args, program)
	cmd := exec.Command(python, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("settrace oracle on %s: %v: %s", program, err, stderr.String())
	}
	return Parse(out)
}

// oraclePath is testdata/oracle/settrace.py of this checkout.
func oraclePath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "oracle", "settrace.py")
}

// Parse reads a trace in settrace.py's JSON-lines format.
func Parse(data []byte) (*Trace, error) {
	t := &Trace{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var ev Event
		if err := json.Unmarshal(line, &ev); err != nil {
			return nil, fmt.Errorf("trace line %d: %w", len(t.Events)+1, err)
		}
		ev.order = keyOrder(line)
		t.Events = append(t.Events, ev)
	}
	if len(t.Events) == 0 {
		return nil, fmt.Errorf("empty trace")
	}
	return t, sc.Err()
}

// keyOrder recovers the order of the "locals" keys, which a Go map loses.
func keyOrder(line []byte) []string {
	var raw struct {
		Locals json.RawMessage `json:"locals"`
	}
	if json.Unmarshal(line, &raw) != nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw.Locals))
	var keys []string
	depth := 0
	expectKey := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return keys
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' {
				depth++
				expectKey = depth == 1
			} else if v == '}' {
				depth--
			}
		case string:
			if depth == 1 && expectKey {
				keys = append(keys, v)
				expectKey = false
				continue
			}
			if depth == 1 {
				expectKey = true
			}
		}
	}
}

func (t *Trace) vars(ev Event) []history.Var {
	vs := make([]history.Var, 0, len(ev.Locals))
	names := ev.order
	if len(names) != len(ev.Locals) {
		names = names[:0]
		for k := range ev.Locals {
			names = append(names, k)
		}
		sort.Strings(names)
	}
	for _, k := range names {
		vs = append(vs, history.Var{Name: k, Value: ev.Locals[k], Kind: "local", Address: ev.IDs[k]})
	}
	return vs
}

func timeOf(i int) history.Time { return history.Time("t" + strconv.Itoa(i)) }

func indexOf(tm history.Time) (int, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(string(tm), "t"))
	if err != nil || !strings.HasPrefix(string(tm), "t") {
		return 0, fmt.Errorf("%q is not a time of this trace", tm)
	}
	return n, nil
}

// Now implements history.Backend.
func (t *Trace) Now(context.Context) (history.Time, error) { return timeOf(t.i), nil }

// Compare implements history.Backend.
func (t *Trace) Compare(a, b history.Time) int {
	x, _ := indexOf(a)
	y, _ := indexOf(b)
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// stack returns the event index of each frame's current line at event i,
// innermost first.
func (t *Trace) stack(i int) []int {
	st := []int{i}
	d := t.Events[i].Depth
	for k := i - 1; k >= 0 && d > 0; k-- {
		if t.Events[k].Depth == d-1 {
			st = append(st, k)
			d--
		}
	}
	return st
}

// State implements history.Backend. A trace holds the variables of the
// current frame only: a caller's are as they were at its latest event,
// except that an object it shares with the current frame (the same id)
// renders as the current frame sees it now, as a debugger reading memory
// would render it.
func (t *Trace) State(context.Context) (*history.Snapshot, error) {
	s := &history.Snapshot{Time: timeOf(t.i), Thread: 1}
	current := map[string]string{}
	for _, v := range t.vars(t.Events[t.i]) {
		if v.Address != "" {
			current[v.Address] = v.Value
		}
	}
	for depth, k := range t.stack(t.i) {
		ev := t.Events[k]
		vars := t.vars(ev)
		for i, v := range vars {
			if now, ok := current[v.Address]; ok && v.Address != "" {
				vars[i].Value = now
			}
		}
		s.Frames = append(s.Frames, history.Frame{
			File: ev.File, Function: ev.Function, Line: ev.Line, Depth: depth,
			FirstLine: t.firstLine(ev), Locals: vars, Stores: ev.Stores,
			ID: "call" + strconv.Itoa(ev.Call), Params: ev.Params, DefLine: ev.DefLine,
		})
	}
	return s, nil
}

func (t *Trace) firstLine(ev Event) int {
	for _, e := range t.Events {
		if e.Call == ev.Call {
			return e.Line
		}
	}
	return ev.Line
}

// Move implements history.Backend with CONTRACT.md's meanings.
func (t *Trace) Move(_ context.Context, m history.Move) error {
	t.Moves++
	cur := t.Events[t.i]
	dir := 1
	if m.Reverse() {
		dir = -1
	}
	match := func(e Event) bool { return true }
	switch m.Kind() {
	case "next":
		match = func(e Event) bool { return e.Depth <= cur.Depth }
	case "finish":
		match = func(e Event) bool { return e.Depth < cur.Depth }
	}
	for k := t.i + dir; k >= 0 && k < len(t.Events); k += dir {
		if match(t.Events[k]) {
			t.i = k
			return nil
		}
	}
	edge := history.End
	if dir < 0 {
		edge = history.Start
	}
	return &history.EdgeError{Edge: edge, Move: string(m)}
}

// GotoEntry implements history.Backend.
func (t *Trace) GotoEntry(_ context.Context, depth int) error {
	st := t.stack(t.i)
	if depth >= len(st) {
		return history.ErrNoFrame
	}
	call := t.Events[st[depth]].Call
	for k := st[depth]; k >= 0; k-- {
		if t.Events[k].Call == call {
			t.i = k
		}
	}
	return nil
}

// Call implements history.Backend.
func (t *Trace) Call(_ context.Context, fn string, forward bool) error {
	dir := 1
	if !forward {
		dir = -1
	}
	for k := t.i + dir; k >= 0 && k < len(t.Events); k += dir {
		e := t.Events[k]
		first := k == 0 || t.Events[k-1].Call != e.Call && !t.seenBefore(k)
		if first && (e.Function == fn || strings.HasSuffix(e.Function, "."+fn)) {
			t.i = k
			return nil
		}
	}
	return fmt.Errorf("%w: %s", history.ErrNoSuchCall, fn)
}

func (t *Trace) seenBefore(k int) bool {
	for j := k - 1; j >= 0; j-- {
		if t.Events[j].Call == t.Events[k].Call {
			return true
		}
	}
	return false
}

// Goto implements history.Backend.
func (t *Trace) Goto(_ context.Context, tm history.Time) error {
	n, err := indexOf(tm)
	if err != nil {
		return err
	}
	if n < 0 || n >= len(t.Events) {
		return fmt.Errorf("time %s is outside the trace (t0…t%d)", tm, len(t.Events)-1)
	}
	t.i = n
	return nil
}

// LastWrite implements history.Backend for plain names: the event after
// which the name last changed in the current call.
func (t *Trace) LastWrite(_ context.Context, depth int, expr string) (history.Write, error) {
	if strings.Contains(expr, ".") {
		return history.Write{}, fmt.Errorf("%w: attribute chains need a debugger backend", history.ErrNotSupported)
	}
	st := t.stack(t.i)
	if depth >= len(st) {
		return history.Write{}, history.ErrNoFrame
	}
	k := st[depth]
	call := t.Events[k].Call
	val, ok := t.Events[k].Locals[expr]
	if !ok {
		return history.Write{}, fmt.Errorf("%s is not a variable of %s", expr, t.Events[k].Function)
	}
	for j := k - 1; j >= 0; j-- {
		e := t.Events[j]
		if e.Call != call {
			continue
		}
		if v, ok := e.Locals[expr]; !ok || v != val {
			return history.Write{Time: timeOf(j), File: e.File, Line: e.Line, Function: e.Function, Value: val}, nil
		}
	}
	return history.Write{}, fmt.Errorf("no write of %s in the recorded part of this call", expr)
}

// NextWrite implements history.Backend for plain names: the line of the
// current call after which the name next holds another object (its id
// changes: a mutation in place is no write).
func (t *Trace) NextWrite(_ context.Context, depth int, expr string) (history.Write, error) {
	if strings.Contains(expr, ".") {
		return history.Write{}, fmt.Errorf("%w: attribute chains need a debugger backend", history.ErrNotSupported)
	}
	st := t.stack(t.i)
	if depth >= len(st) {
		return history.Write{}, history.ErrNoFrame
	}
	k := st[depth]
	j, ok := t.NextWriteEvent(k, expr)
	if !ok {
		return history.Write{}, fmt.Errorf("no write of %s after now in the recording", expr)
	}
	e, after := t.Events[j], t.nextInCall(j)
	return history.Write{Time: timeOf(after), File: e.File, Line: e.Line, Function: e.Function, Value: t.Events[after].Locals[expr]}, nil
}

// NextWriteEvent is the settrace oracle of the next write: the event of
// call k's frame whose line next binds name to another object (by id()),
// seen from event k. False when the name keeps its object to the end of
// the trace (or of the call).
func (t *Trace) NextWriteEvent(k int, name string) (int, bool) {
	call := t.Events[k].Call
	id := t.Events[k].IDs[name]
	prev := k
	for j := k + 1; j < len(t.Events); j++ {
		e := t.Events[j]
		if e.Call != call {
			continue
		}
		if e.IDs[name] != id {
			return prev, true
		}
		prev = j
	}
	return 0, false
}

// nextInCall is the next event of event j's call after j.
func (t *Trace) nextInCall(j int) int {
	for i := j + 1; i < len(t.Events); i++ {
		if t.Events[i].Call == t.Events[j].Call {
			return i
		}
	}
	return j
}

// Eval implements history.Backend for names and for attributes of
// instances rendered as TypeName(attr=value, ...) one level deep.
func (t *Trace) Eval(_ context.Context, depth int, expr string) (string, error) {
	st := t.stack(t.i)
	if depth >= len(st) {
		return "", history.ErrNoFrame
	}
	ev := t.Events[st[depth]]
	name, attr, chained := strings.Cut(expr, ".")
	v, ok := ev.Locals[name]
	if !ok {
		return "", fmt.Errorf("%s is not a variable of %s", name, ev.Function)
	}
	if !chained {
		return v, nil
	}
	if strings.Contains(attr, ".") {
		return "", fmt.Errorf("%w: chains deeper than one attribute", history.ErrNotSupported)
	}
	// Account(owner='ada', balance=0, history=[]) -> balance -> 0
	if open := strings.IndexByte(v, '('); open > 0 && strings.HasSuffix(v, ")") {
		for _, part := range splitTop(v[open+1 : len(v)-1]) {
			if k, val, ok := strings.Cut(part, "="); ok && strings.TrimSpace(k) == attr {
				return val, nil
			}
		}
	}
	return "", fmt.Errorf("%s has no attribute %s here", name, attr)
}

// splitTop splits "a=1, b=[1, 2]" at top-level commas.
func splitTop(s string) []string {
	var parts []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			depth--
		case c == ',' && depth == 0:
			parts = append(parts, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	return append(parts, strings.TrimSpace(s[start:]))
}

// Close implements history.Backend.
func (t *Trace) Close() error { return nil }

// Walker returns a history.WindowWalker over the trace, as a debugger of
// its own over the same recording would walk it for the line index: its
// calls are the trace's, its frames are named by call (as State names
// them), and each event carries what its call bound since its previous one.
func (t *Trace) Walker() history.WindowWalker { return &traceWalker{t: t} }

type traceWalker struct {
	t      *Trace
	next   int
	seen   map[int]map[string]history.Var // call -> its variables at its latest event
	stores map[string]map[int][]string    // file -> the stores of its code met so far
}

func (w *traceWalker) Begin(_ context.Context, at history.Time) (history.IndexBatch, error) {
	i, err := indexOf(at)
	if err != nil {
		return history.IndexBatch{}, err
	}
	w.next, w.seen, w.stores = i, map[int]map[string]history.Var{}, map[string]map[int][]string{}
	return history.IndexBatch{Fraction: 0}, nil
}

func (w *traceWalker) Next(_ context.Context, max int) (history.IndexBatch, error) {
	var b history.IndexBatch
	b.Stores = map[string]map[int][]string{}
	for ; w.next < len(w.t.Events) && len(b.Events) < max; w.next++ {
		ev := w.t.Events[w.next]
		before, known := w.seen[ev.Call]
		if !known {
			before = map[string]history.Var{}
			w.seen[ev.Call] = before
			b.Calls = append(b.Calls, history.IndexCall{ID: ev.Call, File: ev.File, Function: ev.Function,
				Frame: "call" + strconv.Itoa(ev.Call), FirstLine: w.t.firstLine(ev), DefLine: ev.DefLine, Params: ev.Params})
		}
		// The trace has each code object's stores; the index, each file's.
		lines := b.Stores[ev.File]
		if lines == nil {
			lines = maps.Clone(w.stores[ev.File])
			if lines == nil {
				lines = map[int][]string{}
			}
			b.Stores[ev.File] = lines
		}
		for line, names := range ev.Stores {
			lines[line] = names
		}
		ie := history.IndexEvent{Time: timeOf(w.next), Call: ev.Call, Line: ev.Line, Depth: ev.Depth}
		for _, v := range w.t.vars(ev) {
			if old, ok := before[v.Name]; !ok || old.Address != v.Address {
				ie.Bound = append(ie.Bound, v)
			}
			before[v.Name] = v
		}
		b.Events = append(b.Events, ie)
	}
	for file, lines := range b.Stores {
		w.stores[file] = lines
	}
	b.Done = w.next >= len(w.t.Events)
	b.Fraction = float64(w.next) / float64(len(w.t.Events))
	return b, nil
}

func (w *traceWalker) Close() error { return nil }
