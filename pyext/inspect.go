package pyext

import (
	"context"
	"strconv"

	"github.com/timelens/timelens/history"
)

// Children implements history.Inspector with -timelens-children.
func (b *Backend) Children(ctx context.Context, address string, start, count int) (history.Page, error) {
	return b.page(ctx, "--start", strconv.Itoa(start), "--count", strconv.Itoa(count), address)
}

// Locals implements history.Inspector with -timelens-children --locals.
func (b *Backend) Locals(ctx context.Context, depth, start, count int) (history.Page, error) {
	return b.page(ctx, "--locals", "--depth", strconv.Itoa(depth), "--start", strconv.Itoa(start), "--count", strconv.Itoa(count))
}

// Globals implements history.Inspector with -timelens-children --globals.
func (b *Backend) Globals(ctx context.Context, depth, start, count int) (history.Page, error) {
	return b.page(ctx, "--globals", "--depth", strconv.Itoa(depth), "--start", strconv.Itoa(start), "--count", strconv.Itoa(count))
}

func (b *Backend) page(ctx context.Context, args ...string) (history.Page, error) {
	payload, err := b.call(ctx, "-timelens-children", args...)
	if err != nil {
		return history.Page{}, userError(err)
	}
	var p history.Page
	if err := Decode(payload, &p); err != nil {
		return history.Page{}, err
	}
	return p, nil
}

// Expression implements history.Inspector with -timelens-condition --value.
func (b *Backend) Expression(ctx context.Context, depth int, expr string) (history.Child, error) {
	payload, err := b.call(ctx, "-timelens-condition", "--value", "--depth", strconv.Itoa(depth), expr)
	if err != nil {
		return history.Child{}, userError(err)
	}
	var c history.Child
	if err := Decode(payload, &c); err != nil {
		return history.Child{}, err
	}
	return c, nil
}

var _ history.Inspector = (*Backend)(nil)
