// Package history is the timeline of a recorded Python run: the current
// time, the moves of CONTRACT.md (step, next, finish, their reverses, entry,
// calls, goto, last write), and an immutable Snapshot of the Python state per
// time point, cached. It knows nothing of gdb or of LSP: a Backend moves the
// replay and reads state; the language server reads Snapshots.
package history

import (
	"context"
	"errors"
	"fmt"
)

// Time is a point in the recording as the backend writes it: opaque to
// everything above the backend, and valid for Goto.
type Time string

// Var is one rendered variable.
type Var struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	// Kind is "local", "cell" or "free".
	Kind string `json:"kind,omitempty"`
	// Address identifies the object the variable holds, when the backend
	// knows it: a name that holds the same address at two times holds the
	// same object (mutated, maybe), one whose address changed was bound
	// again.
	Address string `json:"address,omitempty"`
}

// Frame is one Python frame of a snapshot.
type Frame struct {
	// File is the absolute path of the frame's source file.
	File string `json:"file"`
	// Function is the code object's qualified name.
	Function string `json:"function"`
	// Line is the current line, 1-based.
	Line int `json:"line"`
	// FirstLine is the code's first line (co_firstlineno): the def, or the
	// first decorator of a decorated function.
	FirstLine int `json:"firstLine"`
	// Depth is 0 for the innermost frame.
	Depth int `json:"depth"`
	// Offset is the byte offset of the frame's position in its bytecode
	// (frame.f_lasti: the instruction it runs or last started, or a cache
	// unit of it), when the backend knows it; -1 before the first.
	Offset int `json:"offset"`
	// ID identifies the frame while its call runs (the interpreter frame's
	// address; a generator's stays the same across its suspensions), when
	// the backend knows it. Another call may reuse it later.
	ID string `json:"id,omitempty"`
	// Params names the parameters of the frame's code, in order.
	Params []string `json:"params,omitempty"`
	// DefLine is the line of the function's def (a lambda: its line), where
	// its parameters are shown; FirstLine is its first decorator's.
	DefLine int `json:"defLine,omitempty"`
	// Locals holds the frame's locals, cells and free variables, rendered.
	Locals []Var `json:"locals"`
	// Stores maps a line of the frame's code to the variables its bytecode
	// stores to (STORE_FAST, STORE_DEREF, STORE_NAME, ...), when the backend
	// knows them. It lets a line's history show an assignment of an equal
	// value, which comparing values alone cannot see.
	Stores map[int][]string `json:"stores,omitempty"`
}

// Snapshot is the Python state of one thread at one time. It is never
// modified after the timeline hands it out.
type Snapshot struct {
	Time   Time
	Thread int
	// Frames, innermost first.
	Frames []Frame
}

// Top returns the innermost frame, or nil when no Python frame is active.
func (s *Snapshot) Top() *Frame {
	if s == nil || len(s.Frames) == 0 {
		return nil
	}
	return &s.Frames[0]
}

// Position is the result of every move: where the timeline now is.
type Position struct {
	Time     Time              `json:"time"`
	File     string            `json:"file"`
	Line     int               `json:"line"` // 1-based; the LSP layer converts
	Function string            `json:"function"`
	Thread   int               `json:"thread"`
	Depth    int               `json:"depth"`
	Locals   map[string]string `json:"locals"`
}

// Move names a line-level move.
type Move string

// The moves of CONTRACT.md's table.
const (
	Step          Move = "step"
	ReverseStep   Move = "reverseStep"
	Next          Move = "next"
	ReverseNext   Move = "reverseNext"
	Finish        Move = "finish"
	ReverseFinish Move = "reverseFinish"
)

// Moves lists every line-level move.
var Moves = []Move{Step, ReverseStep, Next, ReverseNext, Finish, ReverseFinish}

// Reverse reports whether m goes back in time.
func (m Move) Reverse() bool {
	return m == ReverseStep || m == ReverseNext || m == ReverseFinish
}

// Kind returns the move without its direction: step, next or finish.
func (m Move) Kind() string {
	switch m {
	case Step, ReverseStep:
		return "step"
	case Next, ReverseNext:
		return "next"
	}
	return "finish"
}

// Write is the answer to a last-write or next-write query.
type Write struct {
	Time     Time   `json:"time"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	Function string `json:"function"`
	// Value is the value written, rendered.
	Value string `json:"value"`
}

// Backend moves one replay in time and reads its Python state. A Backend
// is used by one goroutine at a time (the Timeline's).
type Backend interface {
	// Now returns the current time.
	Now(ctx context.Context) (Time, error)
	// State reads the Python state at the current time.
	State(ctx context.Context) (*Snapshot, error)
	// Move makes a line-level move. At either end of history it returns an
	// *EdgeError, and the time must be as it was.
	Move(ctx context.Context, m Move) error
	// GotoEntry moves to the first line event of the current call of the
	// frame at depth.
	GotoEntry(ctx context.Context, depth int) error
	// Call moves to the first line event of the previous (forward=false) or
	// next call of the function with that qualified (or bare) name.
	Call(ctx context.Context, function string, forward bool) error
	// Goto moves to a time returned by Now.
	Goto(ctx context.Context, t Time) error
	// Compare orders two times of this backend: -1, 0 or +1.
	Compare(a, b Time) int
	// Eval renders the value of a name or dotted chain (a.b.c) as seen from
	// the frame at depth, at the current time.
	Eval(ctx context.Context, depth int, expr string) (string, error)
	// LastWrite finds the last write before now of expr (a name or a dotted
	// chain) as seen from the frame at depth.
	LastWrite(ctx context.Context, depth int, expr string) (Write, error)
	// NextWrite finds the first write after now of expr, within the
	// recorded history, as seen from the frame at depth: the forward twin
	// of LastWrite (Write.Value is the value written).
	NextWrite(ctx context.Context, depth int, expr string) (Write, error)
	// Close ends the backend and everything it started.
	Close() error
}

// Edge says which end of history a move ran into.
type Edge string

// The two ends of history.
const (
	Start Edge = "start"
	End   Edge = "end"
)

// EdgeError means a move ran into the start or end of recorded history.
// Time did not change.
type EdgeError struct {
	Edge Edge
	Move string
}

func (e *EdgeError) Error() string {
	if e.Edge == Start {
		return fmt.Sprintf("%s: already at the start of the recorded history; move forward instead", e.Move)
	}
	return fmt.Sprintf("%s: already at the end of the recorded history; move back instead", e.Move)
}

// ErrNoSuchCall means there is no previous or next call of the function.
var ErrNoSuchCall = errors.New("no such call in the recorded history")

// ErrCallEnded means the call being followed returned before another line
// event of its own.
var ErrCallEnded = errors.New("the call returned")

// ErrNoFrame means no Python frame is executing at the current time.
var ErrNoFrame = errors.New("no Python frame at this point of the recording")

// ErrNotSupported is returned by a backend that cannot do what was asked
// (like delve's ErrNotRecorded): the message says which backend can.
var ErrNotSupported = errors.New("not supported by this backend")
