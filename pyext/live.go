package pyext

import "github.com/timelens/timelens/history"

// Gone is closed when the debugger has exited, so that the timeline
// restarts it at once rather than at the next request.
func (b *Backend) Gone() <-chan struct{} { return b.s.Dead() }

var _ history.Liveness = (*Backend)(nil)
