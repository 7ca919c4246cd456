package outbox

import "github.com/rung-dev/rung/internal/store"

// SweepNext makes the producer's next step compare every subject.
func (p *Producer) SweepNext() { p.marked = false }

// UseStore makes the producer write through st (a store that fails on
// purpose, in tests).
func (p *Producer) UseStore(st store.Store) { p.st = st }

// SetReadPart makes a step read n members' states an engine read and
// returns what puts it back.
func SetReadPart(n int) (undo func()) {
	old := readPart
	readPart = n
	return func() { readPart = old }
}
