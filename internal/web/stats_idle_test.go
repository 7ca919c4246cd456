package web

import (
	"testing"
	"time"
)

// TestFiguresRefreshOnlyWhilePagesReadThem checks that the console's
// figures are not recomputed every period while no page reads them, and
// that a page finding them old gets a refresh without waiting for the
// idle period.
func TestFiguresRefreshOnlyWhilePagesReadThem(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.load()
	// A refresh every millisecond while read; every hour once idle.
	c := newStatsCache(e.svc, e.web.log, time.Millisecond, time.Hour).start() // nobody has read them yet
	defer c.close()
	first := c.wait()
	// Give the refresher time to run many periods: it must not.
	time.Sleep(200 * time.Millisecond)
	if n := c.refreshes.Load(); n != 1 {
		t.Fatalf("%d refreshes with no page reading the figures; want the first only", n)
	}
	// A page reads the (now old) figures: a refresh follows at once, and
	// while pages keep reading, more.
	deadline := time.Now().Add(30 * time.Second)
	for c.refreshes.Load() < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("%d refreshes after pages read the figures for 30 s; want them refreshed", c.refreshes.Load())
		}
		if s := c.get(); s == nil {
			t.Fatal("figures gone")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if s := c.get(); !s.taken.After(first.taken) {
		t.Errorf("figures taken %v, not after the first %v", s.taken, first.taken)
	}
}
