package workload

import (
	"sync"
	"sync/atomic"
	"time"
)

// Budget bounds a run by count and by time: clients take work from it
// before each request and stop when it says none is left. A request already
// sent when time runs out finishes and counts.
type Budget struct {
	limited  bool
	left     atomic.Int64
	deadline time.Time
}

// NewBudget allows count items (0: no limit) until d has passed.
func NewBudget(count int64, d time.Duration) *Budget {
	b := &Budget{limited: count > 0, deadline: time.Now().Add(d)}
	b.left.Store(count)
	return b
}

// Take claims up to n items and returns how many were granted; 0 means
// the run is over.
func (b *Budget) Take(n int) int {
	if !time.Now().Before(b.deadline) {
		return 0
	}
	if !b.limited {
		return n
	}
	after := b.left.Add(-int64(n))
	switch {
	case after >= 0:
		return n
	case after+int64(n) > 0:
		return int(after + int64(n))
	}
	return 0
}

// Drive runs fn on clients goroutines and returns the wall time from the
// start until the last one returned.
func Drive(clients int, fn func(client int)) time.Duration {
	start := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(c)
		}()
	}
	wg.Wait()
	return time.Since(start)
}
