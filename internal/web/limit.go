package web

import (
	"sync"
	"time"
)

// limiter counts failures per key (an e-mail, an IP address) in a sliding
// window, to slow down password guessing.
type limiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	hits   map[string][]time.Time
}

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{max: max, window: window, hits: map[string][]time.Time{}}
}

// blocked reports whether key has reached the limit at now, and when the
// oldest counted failure leaves the window.
func (l *limiter) blocked(key string, now time.Time) (bool, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	hs := l.prune(key, now)
	if len(hs) >= l.max {
		return true, hs[0].Add(l.window)
	}
	return false, time.Time{}
}

// add counts one failure for key at now.
func (l *limiter) add(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hits[key] = append(l.prune(key, now), now)
	if len(l.hits) > 100000 {
		// Bound the memory an attacker with many addresses can take.
		for k := range l.hits {
			delete(l.hits, k)
			if len(l.hits) < 50000 {
				break
			}
		}
	}
}

// reset forgets key's failures (after a successful sign-in).
func (l *limiter) reset(key string) {
	l.mu.Lock()
	delete(l.hits, key)
	l.mu.Unlock()
}

func (l *limiter) prune(key string, now time.Time) []time.Time {
	hs := l.hits[key]
	i := 0
	for i < len(hs) && now.Sub(hs[i]) >= l.window {
		i++
	}
	hs = hs[i:]
	if len(hs) == 0 {
		delete(l.hits, key)
		return nil
	}
	l.hits[key] = hs
	return hs
}
