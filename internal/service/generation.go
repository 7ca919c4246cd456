package service

import (
	"sync"
	"sync/atomic"

	"github.com/rung-dev/rung/internal/engine"
)

// stateLock guards the engine. Every write lock starts a new generation of
// the derived state, so a reader can tell whether what it computed from the
// engine earlier still holds (the API keeps encoded leaderboard pages by
// generation). Counting in Lock itself means no write path can forget it.
type stateLock struct {
	sync.RWMutex
	gen atomic.Uint64
}

// Lock takes the write lock and starts a new generation before the caller
// changes anything.
func (l *stateLock) Lock() {
	l.RWMutex.Lock()
	l.gen.Add(1)
}

// Generation returns the generation of the derived state: it changes
// whenever the state may have (an event applied, a program, a member, a
// rebuild, the clock moving a window). Something read from the engine under
// generation g is still what the engine would give while Generation
// returns g.
func (s *Service) Generation() uint64 { return s.mu.gen.Load() }

// ReadGeneration is Read that also passes fn the generation of the state it
// reads.
func (s *Service) ReadGeneration(fn func(e *engine.Engine, gen uint64) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return fn(s.eng, s.mu.gen.Load())
}
