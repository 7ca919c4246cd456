package outbox

import "github.com/rung-dev/rung/internal/store"

// SweepNext makes the producer's next step compare every subject.
func (p *Producer) SweepNext() { p.marked = false }

// UseStore makes the producer write through st (a store that fails on
// purpose, in tests).
func (p *Producer) UseStore(st store.Store) { p.st = st }
