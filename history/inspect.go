package history

import (
	"context"
	"fmt"
)

// Child is one child of a value (a list's item, a dict's entry, a set's
// member, an instance's attribute), one global of a frame, or the value of
// an expression, rendered as the hints render values.
type Child struct {
	// Name is the index, the key's repr, the attribute's or global's name,
	// or the expression.
	Name  string `json:"name"`
	Value string `json:"value"`
	// Type is the type's name, when readable.
	Type string `json:"type,omitempty"`
	// Address identifies the object at the current time (empty for a value
	// computed by an expression, such as x + 1).
	Address string `json:"address,omitempty"`
	// Children is how many children the value has itself (0: a leaf).
	Children int `json:"children"`
}

// Page is a page of children: Count is how many there are in all.
type Page struct {
	Count    int     `json:"count"`
	Children []Child `json:"children"`
}

// Inspector is an optional Backend capability: what a debugger's Variables
// pane and its evaluate request read, at the current time, from memory.
// Backends without it answer ErrNotSupported.
type Inspector interface {
	// Children reads children [start, start+count) of the object at
	// address (count 0: all).
	Children(ctx context.Context, address string, start, count int) (Page, error)
	// Locals reads the variables of the frame at depth (those of the
	// Snapshot, with how many children each has), paged the same way.
	Locals(ctx context.Context, depth, start, count int) (Page, error)
	// Globals reads the module globals of the frame at depth (dunders
	// left out), paged the same way.
	Globals(ctx context.Context, depth, start, count int) (Page, error)
	// Expression evaluates expr, in the condition language of RunToLine,
	// in the frame at depth.
	Expression(ctx context.Context, depth int, expr string) (Child, error)
}

func inspector(t *Timeline, what string) (Inspector, error) {
	in, ok := t.b.(Inspector)
	if !ok {
		return nil, fmt.Errorf("%s: %w", what, ErrNotSupported)
	}
	return in, nil
}

// Children reads a page of the children of the object at address, now.
// The address must come from the current time point (a Var's or a
// Child's): another time's may hold another object.
func (t *Timeline) Children(ctx context.Context, address string, start, count int) (Page, error) {
	return call(t, ctx, t.opts.ReadTimeout, func(ctx context.Context) (Page, error) {
		in, err := inspector(t, "children")
		if err != nil {
			return Page{}, err
		}
		return in.Children(ctx, address, start, count)
	})
}

// Locals reads a page of the variables of the frame at depth, now.
func (t *Timeline) Locals(ctx context.Context, depth, start, count int) (Page, error) {
	return call(t, ctx, t.opts.ReadTimeout, func(ctx context.Context) (Page, error) {
		in, err := inspector(t, "locals")
		if err != nil {
			return Page{}, err
		}
		return in.Locals(ctx, depth, start, count)
	})
}

// Globals reads a page of the module globals of the frame at depth, now.
func (t *Timeline) Globals(ctx context.Context, depth, start, count int) (Page, error) {
	return call(t, ctx, t.opts.ReadTimeout, func(ctx context.Context) (Page, error) {
		in, err := inspector(t, "globals")
		if err != nil {
			return Page{}, err
		}
		return in.Globals(ctx, depth, start, count)
	})
}

// Expression evaluates expr (the condition language) in the frame at
// depth, now, from memory.
func (t *Timeline) Expression(ctx context.Context, depth int, expr string) (Child, error) {
	return call(t, ctx, t.opts.ReadTimeout, func(ctx context.Context) (Child, error) {
		in, err := inspector(t, "evaluate")
		if err != nil {
			return Child{}, err
		}
		return in.Expression(ctx, depth, expr)
	})
}
